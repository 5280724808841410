//! Renders any report as a table (fitted to 80 columns), CSV (the `csv`
//! crate, one header row, one table per report) or JSON (the report's
//! `Serialize` shape, documented in README.md under "Reports"). Pure: text
//! in, text out, no I/O.

use super::{documents_text, recall, Report};

/// Output formats of `scantrail report --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

impl Format {
    /// As `--format` and the API's `format=` spell it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }
}

/// Width tables are fitted to.
pub const WIDTH: usize = 80;
const GAP: usize = 2;

/// A titled table of text cells.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub title: String,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
    /// Columns that are never shortened (ids, dates).
    pub fixed: Vec<usize>,
}

fn len(s: &str) -> usize {
    s.chars().count()
}

/// Column widths that fit `max` characters with two spaces between
/// columns: the widest column gives way first, none below 4 characters;
/// `fixed` columns (ids, dates) never shrink.
pub fn fit(natural: &[usize], max: usize, fixed: &[usize]) -> Vec<usize> {
    let mut w = natural.to_vec();
    let gaps = GAP * w.len().saturating_sub(1);
    while w.iter().sum::<usize>() + gaps > max {
        let Some((i, &widest)) = w
            .iter()
            .enumerate()
            .filter(|(i, _)| !fixed.contains(i))
            .max_by_key(|(_, &v)| v)
        else {
            break;
        };
        if widest <= 4 {
            break;
        }
        w[i] = widest - 1;
    }
    w
}

fn cell(s: &str, width: usize) -> String {
    if len(s) <= width {
        format!("{s:<width$}")
    } else {
        let cut: String = s.chars().take(width.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

impl Table {
    fn new(title: impl Into<String>, headers: &[&'static str]) -> Table {
        Table {
            title: title.into(),
            headers: headers.to_vec(),
            rows: Vec::new(),
            fixed: headers
                .iter()
                .enumerate()
                .filter(|(_, h)| {
                    matches!(
                        **h,
                        "ID" | "TIME" | "DATE" | "KIND" | "EXPIRY" | "SINCE" | "LAST" | "BY"
                    )
                })
                .map(|(i, _)| i)
                .collect(),
        }
    }

    /// The table as text, no line longer than `WIDTH`.
    pub fn render(&self) -> String {
        let natural: Vec<usize> = self
            .headers
            .iter()
            .enumerate()
            .map(|(i, h)| {
                self.rows
                    .iter()
                    .map(|r| r.get(i).map_or(0, |c| len(c)))
                    .chain([len(h)])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let widths = fit(&natural, WIDTH, &self.fixed);
        let line = |cells: &mut dyn Iterator<Item = &str>| -> String {
            let parts: Vec<String> = cells.zip(&widths).map(|(c, &w)| cell(c, w)).collect();
            parts.join(&" ".repeat(GAP)).trim_end().to_owned()
        };
        let mut out = String::new();
        if !self.title.is_empty() {
            out.push_str(&self.title);
            out.push('\n');
        }
        out.push_str(&line(&mut self.headers.iter().copied()));
        out.push('\n');
        for r in &self.rows {
            out.push_str(&line(&mut r.iter().map(String::as_str)));
            out.push('\n');
        }
        out
    }
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(|v| v.to_string()).unwrap_or_default()
}

/// The name alone when there is one: tables are narrow.
fn short_party(p: &Option<super::Party>) -> String {
    p.as_ref()
        .and_then(|p| p.name.clone().or_else(|| p.gln.clone()))
        .unwrap_or_default()
}

fn party(p: &Option<super::Party>) -> String {
    p.as_ref().map(|p| p.to_string()).unwrap_or_default()
}

/// The report as human-readable text: a few summary lines and tables.
pub fn table(report: &Report) -> String {
    let mut head: Vec<String> = Vec::new();
    let mut tables: Vec<Table> = Vec::new();
    match report {
        Report::Stock(r) => {
            if !r.lots.is_empty() {
                let mut t = Table::new(
                    format!("Lots on hand ({})", r.lots.len()),
                    &["GTIN", "LOT", "LOCATION", "QUANTITY", "EXPIRY"],
                );
                for l in &r.lots {
                    t.rows.push(vec![
                        l.gtin.clone(),
                        l.lot.clone(),
                        l.location.clone(),
                        l.quantity.to_string(),
                        opt(&l.expiry),
                    ]);
                }
                tables.push(t);
            }
            if !r.serials.is_empty() {
                let mut t = Table::new(
                    format!("Serials on hand ({})", r.serials.len()),
                    &["GTIN", "SERIAL", "STATE", "LOCATION", "SINCE", "LOT"],
                );
                for s in &r.serials {
                    t.rows.push(vec![
                        s.gtin.clone(),
                        s.serial.clone(),
                        s.state.to_owned(),
                        s.location.clone(),
                        s.since.format("%Y-%m-%d").to_string(),
                        opt(&s.lot),
                    ]);
                }
                tables.push(t);
            }
        }
        Report::Movements(r) => {
            head.push(format!(
                "Movements of {} ({})",
                r.query.item.describe(&r.query.gtin),
                r.movements.len()
            ));
            let mut t = Table::new("", &["DATE", "ID", "KIND", "QTY", "AT", "PARTY", "DOCS"]);
            let mut corrections = Vec::new();
            for m in &r.movements {
                let kind = if m.corrected_by.is_empty() {
                    m.kind.to_owned()
                } else {
                    format!("{}*", m.kind)
                };
                if let Some(c) = &m.corrects {
                    corrections.push(format!(
                        "* {} was reversed by correction {} ({})",
                        c,
                        m.id,
                        m.reason.as_deref().unwrap_or("no reason given")
                    ));
                }
                t.rows.push(vec![
                    m.time.format("%Y-%m-%d").to_string(),
                    m.id.clone(),
                    kind,
                    m.quantity.to_string(),
                    m.location.clone(),
                    short_party(&m.counterparty),
                    documents_text(&m.documents),
                ]);
            }
            tables.push(t);
            if !corrections.is_empty() {
                let mut c = Table::new("", &["CORRECTIONS"]);
                c.rows = corrections.into_iter().map(|l| vec![l]).collect();
                tables.push(c);
            }
        }
        Report::Recall(r) => recall_tables(r, &mut head, &mut tables),
        Report::Trace(r) => {
            head.push(format!(
                "Trace of {} ({} steps)",
                r.query.item.describe(&r.query.gtin),
                r.steps.len()
            ));
            let mut t = Table::new("", &["TIME", "ID", "WHAT"]);
            for s in &r.steps {
                let what = if s.is_correction {
                    format!("  ↳ {}", s.summary)
                } else {
                    s.summary.clone()
                };
                t.rows.push(vec![
                    s.movement.time.format("%Y-%m-%d %H:%M").to_string(),
                    s.movement.id.clone(),
                    what,
                ]);
            }
            tables.push(t);
        }
        Report::Warranty(r) => {
            let q = &r.query;
            head.push(format!(
                "Serial {} of GTIN {}{}",
                q.serial,
                q.gtin,
                r.description
                    .as_ref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            ));
            if r.found {
                head.push(format!("state:          {}", r.state.unwrap_or("unknown")));
            }
            if let Some(s) = &r.sale {
                head.push(format!("sold:           {} ({})", s.date, s.id));
                head.push(format!("customer:       {}", party(&s.customer)));
                let docs: Vec<&str> = [&s.order, &s.despatch_advice]
                    .into_iter()
                    .flatten()
                    .map(String::as_str)
                    .collect();
                if !docs.is_empty() {
                    head.push(format!("documents:      {}", docs.join(" ")));
                }
            }
            if let Some(m) = r.warranty_months {
                head.push(format!("warranty:       {m} months"));
            }
            if let Some(end) = r.warranty_end {
                head.push(format!("warranty end:   {end}"));
                head.push(format!(
                    "in warranty:    {} (on {})",
                    if r.in_warranty { "yes" } else { "no" },
                    q.today
                ));
            }
            if !r.returns.is_empty() {
                let mut t = Table::new(
                    format!("Returns ({})", r.returns.len()),
                    &["TIME", "ID", "FROM", "LOCATION", "REASON"],
                );
                for x in &r.returns {
                    t.rows.push(vec![
                        x.time.format("%Y-%m-%d %H:%M").to_string(),
                        x.id.clone(),
                        party(&x.from),
                        x.location.clone(),
                        opt(&x.reason),
                    ]);
                }
                tables.push(t);
            }
        }
        Report::Expiry(r) => {
            head.push(format!(
                "Lots in stock expiring by {} ({} days from {}), first expiry first",
                r.until, r.query.days, r.query.today
            ));
            let mut t = Table::new(
                "",
                &["EXPIRY", "DAYS", "GTIN", "LOT", "LOCATION", "QUANTITY"],
            );
            for l in &r.lots {
                t.rows.push(vec![
                    l.expiry.to_string(),
                    l.days_left.to_string(),
                    l.gtin.clone(),
                    l.lot.clone(),
                    l.location.clone(),
                    l.quantity.to_string(),
                ]);
            }
            tables.push(t);
        }
    }
    let mut out = String::new();
    for h in &head {
        out.push_str(h);
        out.push('\n');
    }
    if let Some(note) = report.note() {
        out.push_str(note);
        out.push('\n');
    }
    let found = match report {
        Report::Stock(r) => r.found,
        Report::Movements(r) => r.found,
        Report::Recall(r) => r.found,
        Report::Trace(r) => r.found,
        Report::Warranty(r) => r.found,
        Report::Expiry(r) => r.found,
    };
    if found {
        for t in tables.iter().filter(|t| !t.rows.is_empty()) {
            out.push('\n');
            out.push_str(&t.render());
        }
    }
    out
}

fn recall_tables(r: &recall::RecallReport, head: &mut Vec<String>, tables: &mut Vec<Table>) {
    let what = match &r.query.scope {
        recall::Scope::Lots(lots) => format!("lot {}", lots.join(", ")),
        recall::Scope::Serials { from, to } => format!("serials {from} to {to}"),
    };
    head.push(format!("Recall impact: {what} of GTIN {}", r.query.gtin));
    if r.found {
        let t = &r.totals;
        head.push(format!(
            "received {}, in stock {}, dispatched {}, returned {}; {} customer(s) to notify",
            t.received, t.in_stock, t.dispatched, t.returned, t.customers
        ));
    }
    let several_lots = matches!(&r.query.scope, recall::Scope::Lots(l) if l.len() > 1);
    if [&r.received, &r.dispatched, &r.returned]
        .iter()
        .any(|l| l.iter().any(|l| l.corrected_by.is_some()))
    {
        head.push(
            "(quantities in brackets were reversed by a correction and count nowhere)".into(),
        );
    }
    let lines = |title: &str, lines: &[recall::Line], who: &'static str| {
        let headers: &[&'static str] = if several_lots {
            &["TIME", "ID", "LOT", "QTY", who, "DOCS"]
        } else {
            &["TIME", "ID", "QTY", who, "DOCS"]
        };
        let mut t = Table::new(format!("{title} ({})", lines.len()), headers);
        for l in lines {
            let qty = match &l.corrected_by {
                Some(_) => format!("({})", l.quantity),
                None => l.quantity.to_string(),
            };
            let mut row = vec![l.time.format("%Y-%m-%d").to_string(), l.id.clone()];
            if several_lots {
                row.push(l.lot.clone().unwrap_or_default());
            }
            row.push(qty);
            row.push(short_party(&l.party));
            row.push(documents_text(&l.documents));
            t.rows.push(row);
        }
        t
    };
    tables.push(lines("Received", &r.received, "SUPPLIER"));
    let mut s = Table::new(
        format!("In stock ({})", r.in_stock.len()),
        &["LOT", "LOCATION", "QUANTITY"],
    );
    for l in &r.in_stock {
        s.rows.push(vec![
            l.lot.clone(),
            l.location.clone(),
            l.quantity.to_string(),
        ]);
    }
    tables.push(s);
    tables.push(lines("Dispatched", &r.dispatched, "CUSTOMER"));
    tables.push(lines("Returned", &r.returned, "FROM"));
    let mut s = Table::new(
        format!("Serials ({})", r.serials.len()),
        &["SERIAL", "STATE", "LOCATION/CUSTOMER", "SINCE", "BY"],
    );
    for l in &r.serials {
        s.rows.push(vec![
            l.serial.clone(),
            l.state.to_owned(),
            l.location.clone().unwrap_or_else(|| party(&l.customer)),
            l.since.format("%Y-%m-%d").to_string(),
            l.by.clone(),
        ]);
    }
    tables.push(s);
    tables.push(customers_table(&r.customers));
}

fn customers_table(customers: &[recall::Customer]) -> Table {
    let mut t = Table::new(
        format!("Customers to notify ({})", customers.len()),
        &[
            "CUSTOMER",
            "N",
            "DISPATCHED",
            "RETURNED",
            "HOLDS",
            "LAST",
            "DOCS",
        ],
    );
    for c in customers {
        t.rows.push(vec![
            c.customer.to_string(),
            c.dispatches.to_string(),
            c.dispatched.to_string(),
            c.returned.to_string(),
            c.outstanding.to_string(),
            c.last_dispatch.format("%Y-%m-%d").to_string(),
            c.documents.join(" "),
        ]);
    }
    t
}

fn csv_rows(headers: &[&str], rows: Vec<Vec<String>>) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(headers)?;
    for r in rows {
        w.write_record(&r)?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The report's main table as CSV. Recall: the customers to notify (the
/// file to hand to customer service); stock: lots then serials, one row
/// each; every other report: one row per line of its table.
pub fn csv(report: &Report) -> Result<String, csv::Error> {
    let t =
        |v: &chrono::DateTime<chrono::Utc>| v.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let gln = |p: &Option<super::Party>| p.as_ref().and_then(|p| p.gln.clone()).unwrap_or_default();
    let name =
        |p: &Option<super::Party>| p.as_ref().and_then(|p| p.name.clone()).unwrap_or_default();
    match report {
        Report::Stock(r) => {
            let mut rows = Vec::new();
            for l in &r.lots {
                rows.push(vec![
                    "lot".into(),
                    l.gtin.clone(),
                    l.lot.clone(),
                    String::new(),
                    l.location.clone(),
                    l.quantity.to_string(),
                    opt(&l.expiry),
                    "in_stock".into(),
                    String::new(),
                ]);
            }
            for s in &r.serials {
                rows.push(vec![
                    "serial".into(),
                    s.gtin.clone(),
                    opt(&s.lot),
                    s.serial.clone(),
                    s.location.clone(),
                    "1".into(),
                    opt(&s.expiry),
                    s.state.into(),
                    t(&s.since),
                ]);
            }
            csv_rows(
                &[
                    "type", "gtin", "lot", "serial", "location", "quantity", "expiry", "state",
                    "since",
                ],
                rows,
            )
        }
        Report::Movements(r) => csv_rows(
            &[
                "id",
                "time",
                "kind",
                "quantity",
                "location",
                "station",
                "operator",
                "lot",
                "serial",
                "counterparty_gln",
                "counterparty_name",
                "purchase_order",
                "order",
                "despatch_advice",
                "sscc",
                "reason",
                "corrects",
                "corrected_by",
            ],
            r.movements
                .iter()
                .map(|m| {
                    vec![
                        m.id.clone(),
                        t(&m.time),
                        m.kind.into(),
                        m.quantity.to_string(),
                        m.location.clone(),
                        m.station.clone(),
                        m.operator.clone(),
                        opt(&m.lot),
                        opt(&m.serial),
                        gln(&m.counterparty),
                        name(&m.counterparty),
                        opt(&m.documents.purchase_order),
                        opt(&m.documents.order),
                        opt(&m.documents.despatch_advice),
                        opt(&m.documents.sscc),
                        opt(&m.reason),
                        opt(&m.corrects),
                        m.corrected_by.join(" "),
                    ]
                })
                .collect(),
        ),
        Report::Recall(r) => csv_rows(
            &[
                "customer_gln",
                "customer_name",
                "dispatches",
                "dispatched",
                "returned",
                "outstanding",
                "first_dispatch",
                "last_dispatch",
                "documents",
            ],
            r.customers
                .iter()
                .map(|c| {
                    vec![
                        c.customer.gln.clone().unwrap_or_default(),
                        c.customer.name.clone().unwrap_or_default(),
                        c.dispatches.to_string(),
                        c.dispatched.to_string(),
                        c.returned.to_string(),
                        c.outstanding.to_string(),
                        t(&c.first_dispatch),
                        t(&c.last_dispatch),
                        c.documents.join(" "),
                    ]
                })
                .collect(),
        ),
        Report::Trace(r) => csv_rows(
            &[
                "time",
                "id",
                "kind",
                "quantity",
                "is_correction",
                "corrects",
                "corrected_by",
                "summary",
            ],
            r.steps
                .iter()
                .map(|s| {
                    vec![
                        t(&s.movement.time),
                        s.movement.id.clone(),
                        s.movement.kind.into(),
                        s.movement.quantity.to_string(),
                        s.is_correction.to_string(),
                        opt(&s.movement.corrects),
                        s.movement.corrected_by.join(" "),
                        s.summary.clone(),
                    ]
                })
                .collect(),
        ),
        Report::Warranty(r) => {
            let sale = r.sale.as_ref();
            let rows = if r.found {
                vec![vec![
                    r.query.gtin.clone(),
                    r.query.serial.clone(),
                    r.state.unwrap_or_default().into(),
                    sale.map(|s| s.date.to_string()).unwrap_or_default(),
                    sale.map(|s| gln(&s.customer)).unwrap_or_default(),
                    sale.map(|s| name(&s.customer)).unwrap_or_default(),
                    opt(&r.warranty_months),
                    opt(&r.warranty_end),
                    r.in_warranty.to_string(),
                    r.returns.len().to_string(),
                ]]
            } else {
                Vec::new()
            };
            csv_rows(
                &[
                    "gtin",
                    "serial",
                    "state",
                    "sale_date",
                    "customer_gln",
                    "customer_name",
                    "warranty_months",
                    "warranty_end",
                    "in_warranty",
                    "returns",
                ],
                rows,
            )
        }
        Report::Expiry(r) => csv_rows(
            &["expiry", "days_left", "gtin", "lot", "location", "quantity"],
            r.lots
                .iter()
                .map(|l| {
                    vec![
                        l.expiry.to_string(),
                        l.days_left.to_string(),
                        l.gtin.clone(),
                        l.lot.clone(),
                        l.location.clone(),
                        l.quantity.to_string(),
                    ]
                })
                .collect(),
        ),
    }
}

/// The report as JSON (one object, pretty-printed, newline-terminated).
pub fn json(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report)
        .unwrap_or_else(|e| format!("{{\"error\":\"the report cannot be written as JSON: {e}\"}}"));
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_shrinks_the_widest_column_to_80() {
        let w = fit(&[10, 60, 30], WIDTH, &[]);
        assert_eq!(w.iter().sum::<usize>() + 4, 80);
        assert_eq!(w, vec![10, 36, 30]);
        assert_eq!(fit(&[10, 50, 50], WIDTH, &[]), vec![10, 33, 33]);
        assert_eq!(fit(&[10, 50, 50], WIDTH, &[1]), vec![10, 50, 16]);
        assert_eq!(fit(&[3, 4], WIDTH, &[]), vec![3, 4]);
    }

    #[test]
    fn tables_are_aligned_and_never_wider_than_80() {
        let mut t = Table::new("T", &["A", "LONG"]);
        t.rows.push(vec!["x".into(), "y".repeat(200)]);
        t.rows.push(vec!["xyz".into(), "short".into()]);
        let text = t.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "T");
        assert_eq!(lines[1], "A    LONG");
        assert!(lines[2].starts_with("x    yyy") && lines[2].ends_with('…'));
        assert_eq!(lines[3], "xyz  short");
        assert!(lines.iter().all(|l| l.chars().count() <= WIDTH));
    }

    fn expiry_report(lots: usize) -> Report {
        use crate::model::Balance;
        use crate::report::expiry::{ExpiryReport, Line, Query};
        use crate::report::Amount;
        let d = |m, d| chrono::NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        let line = Line {
            expiry: d(3, 15),
            days_left: 14,
            gtin: "09506000134352".into(),
            lot: "L,2".into(),
            location: "A-03".into(),
            quantity: Amount::of(
                Balance {
                    mantissa: 1250,
                    scale: 3,
                },
                "kg",
            ),
        };
        Report::Expiry(ExpiryReport {
            query: Query {
                days: 30,
                gtin: None,
                location: None,
                today: d(3, 1),
            },
            found: lots > 0,
            note: (lots == 0).then(|| "no lots in stock expiring by 2026-03-31".into()),
            until: d(3, 31),
            lots: vec![line; lots],
        })
    }

    #[test]
    fn a_report_renders_as_table_csv_and_json() {
        let r = expiry_report(1);
        assert_eq!(
            table(&r),
            "Lots in stock expiring by 2026-03-31 (30 days from 2026-03-01), first expiry first\n\n\
             EXPIRY      DAYS  GTIN            LOT  LOCATION  QUANTITY\n\
             2026-03-15  14    09506000134352  L,2  A-03      1.250 kg\n"
        );
        assert_eq!(
            csv(&r).unwrap(),
            "expiry,days_left,gtin,lot,location,quantity\n2026-03-15,14,09506000134352,\"L,2\",A-03,1.250 kg\n"
        );
        let v: serde_json::Value = serde_json::from_str(&json(&r)).unwrap();
        assert_eq!(v["report"], "expiry");
        assert_eq!(v["lots"][0]["quantity"], "1.250 kg");
        assert_eq!(v["query"]["today"], "2026-03-01");
    }

    #[test]
    fn nothing_found_is_said_not_shown_as_an_empty_table() {
        let text = table(&expiry_report(0));
        assert!(
            text.ends_with("no lots in stock expiring by 2026-03-31\n"),
            "{text}"
        );
        assert!(!text.contains("EXPIRY"), "{text}");
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let s = csv_rows(&["a", "b"], vec![vec!["x,y".into(), "\"q\"".into()]]).unwrap();
        assert_eq!(s, "a,b\n\"x,y\",\"\"\"q\"\"\"\n");
    }
}
