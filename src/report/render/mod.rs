//! Renders any report as a table (fitted to 80 columns), CSV (the `csv`
//! crate, one header row, one table per report) or JSON (the report's
//! `Serialize` shape, documented in README.md under "Reports"). Pure: text
//! in, text out, no I/O.

mod columns;
mod table;

use super::{documents_text, recall, Report};
use columns::{csv_header, party, short_party};
pub use table::{fit, Table, WIDTH};

/// Output formats of `scantrail report --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// An 80-column text table for people.
    Table,
    /// CSV with one header row, for spreadsheets and trading partners.
    Csv,
    /// The report's JSON shape, as the API answers.
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

/// A report laid out for people: its summary lines, the note when nothing
/// matched, and its tables with every cell as text. The command line's
/// table and the console's HTML are both drawn from it, so they show the
/// same figures.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Summary lines above the tables.
    pub head: Vec<String>,
    /// The sentence saying nothing matched, instead of the tables.
    pub note: Option<String>,
    /// Whether the query matched anything (else only `head` and `note`).
    pub found: bool,
    /// The tables, in order; an empty table is not shown.
    pub tables: Vec<Table>,
}

/// The report as human-readable text: a few summary lines and tables.
pub fn table(report: &Report) -> String {
    let l = layout(report);
    let mut out = String::new();
    for h in &l.head {
        out.push_str(h);
        out.push('\n');
    }
    if let Some(note) = &l.note {
        out.push_str(note);
        out.push('\n');
    }
    if l.found {
        for t in l.tables.iter().filter(|t| !t.rows.is_empty()) {
            out.push('\n');
            out.push_str(&t.render());
        }
    }
    out
}

/// Which rows of each table to lay out: a page shows a hundred of a
/// recall's ten thousand, and formatting the rest would cost it more than
/// the report itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The first row.
    pub start: usize,
    /// How many rows at most.
    pub len: usize,
}

impl Window {
    /// Every row.
    pub const ALL: Window = Window {
        start: 0,
        len: usize::MAX,
    };

    /// The rows of `rows` inside the window.
    pub fn of<T>(self, rows: &[T]) -> &[T] {
        let start = self.start.min(rows.len());
        &rows[start..start.saturating_add(self.len).min(rows.len())]
    }
}

/// The report's summary lines, note and tables (see [`Layout`]).
pub fn layout(report: &Report) -> Layout {
    layout_window(report, Window::ALL)
}

/// `layout` with only the `window` of each table's rows formatted; each
/// table's `total` still counts them all.
pub fn layout_window(report: &Report, window: Window) -> Layout {
    let mut head: Vec<String> = Vec::new();
    let mut tables: Vec<Table> = Vec::new();
    match report {
        Report::Stock(r) => {
            if !r.lots.is_empty() {
                tables.push(columns::table(
                    format!("Lots on hand ({})", r.lots.len()),
                    &columns::stock_lots(),
                    &r.lots,
                    window,
                ));
            }
            if !r.serials.is_empty() {
                tables.push(columns::table(
                    format!("Serials on hand ({})", r.serials.len()),
                    &columns::stock_serials(),
                    &r.serials,
                    window,
                ));
            }
        }
        Report::Movements(r) => {
            head.push(format!(
                "Movements of {} ({})",
                r.query.item.describe(&r.query.gtin),
                r.movements.len()
            ));
            let mut corrections = Vec::new();
            for m in &r.movements {
                if let Some(c) = &m.corrects {
                    corrections.push(format!(
                        "* {} was reversed by correction {} ({})",
                        c,
                        m.id,
                        m.reason.as_deref().unwrap_or("no reason given")
                    ));
                }
            }
            tables.push(columns::table(
                "",
                &columns::movements(),
                &r.movements,
                window,
            ));
            if !corrections.is_empty() {
                let mut c = Table::new("", &["CORRECTIONS"]);
                c.total = corrections.len();
                c.rows = window
                    .of(&corrections)
                    .iter()
                    .map(|l| vec![l.clone()])
                    .collect();
                tables.push(c);
            }
        }
        Report::Recall(r) => recall_tables(r, window, &mut head, &mut tables),
        Report::Trace(r) => {
            head.push(format!(
                "Trace of {} ({} steps)",
                r.query.item.describe(&r.query.gtin),
                r.steps.len()
            ));
            tables.push(columns::table("", &columns::trace(), &r.steps, window));
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
                tables.push(columns::table(
                    format!("Returns ({})", r.returns.len()),
                    &columns::warranty_returns(),
                    &r.returns,
                    window,
                ));
            }
        }
        Report::Expiry(r) => {
            head.push(format!(
                "Lots in stock expiring by {} ({} days from {}), first expiry first",
                r.until, r.query.days, r.query.today
            ));
            tables.push(columns::table("", &columns::expiry(), &r.lots, window));
        }
    }
    let found = match report {
        Report::Stock(r) => r.found,
        Report::Movements(r) => r.found,
        Report::Recall(r) => r.found,
        Report::Trace(r) => r.found,
        Report::Warranty(r) => r.found,
        Report::Expiry(r) => r.found,
    };
    Layout {
        head,
        note: report.note().map(str::to_owned),
        found,
        tables,
    }
}

fn recall_tables(
    r: &recall::RecallReport,
    window: Window,
    head: &mut Vec<String>,
    tables: &mut Vec<Table>,
) {
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
        t.total = lines.len();
        for l in window.of(lines) {
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
    tables.push(columns::table(
        format!("In stock ({})", r.in_stock.len()),
        &columns::recall_stock(),
        &r.in_stock,
        window,
    ));
    tables.push(lines("Dispatched", &r.dispatched, "CUSTOMER"));
    tables.push(lines("Returned", &r.returned, "FROM"));
    tables.push(columns::table(
        format!("Serials ({})", r.serials.len()),
        &columns::recall_serials(),
        &r.serials,
        window,
    ));
    tables.push(columns::table(
        format!("Customers to notify ({})", r.customers.len()),
        &columns::recall_customers(),
        &r.customers,
        window,
    ));
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

/// `rows` as CSV with the CSV's columns of `columns`.
fn csv_of<T>(columns: &[columns::Column<T>], rows: &[T]) -> Result<String, csv::Error> {
    csv_rows(&csv_header(columns), columns::csv_rows(columns, rows))
}

/// The report's main table as CSV. Recall: the customers to notify (the
/// file to hand to customer service); stock: lots then serials, one row
/// each; every other report: one row per line of its table.
pub fn csv(report: &Report) -> Result<String, csv::Error> {
    match report {
        Report::Stock(r) => {
            let mut all = columns::csv_rows(&columns::stock_lots(), &r.lots);
            all.extend(columns::csv_rows(&columns::stock_serials(), &r.serials));
            csv_rows(&csv_header(&columns::stock_lots()), all)
        }
        Report::Movements(r) => csv_of(&columns::movements(), &r.movements),
        Report::Recall(r) => csv_of(&columns::recall_customers(), &r.customers),
        Report::Trace(r) => csv_of(&columns::trace(), &r.steps),
        // One row: the serial's warranty; none when it is unknown.
        Report::Warranty(r) => csv_of(
            &columns::warranty(),
            if r.found {
                std::slice::from_ref(r)
            } else {
                &[]
            },
        ),
        Report::Expiry(r) => csv_of(&columns::expiry(), &r.lots),
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
    fn a_window_lays_out_its_rows_and_counts_them_all() {
        let w = |start, len| Window { start, len };
        let rows = [1, 2, 3, 4, 5];
        assert_eq!(w(1, 2).of(&rows), &[2, 3]);
        assert_eq!(w(4, 100).of(&rows), &[5]);
        assert!(w(9, 1).of(&rows).is_empty());
        assert_eq!(Window::ALL.of(&rows).len(), 5);
        assert_eq!(w(3, usize::MAX).of(&rows), &[4, 5]);

        let report = expiry_report(250);
        let all = layout(&report);
        let page = layout_window(&report, w(200, 100));
        assert_eq!((all.tables[0].total, all.tables[0].rows.len()), (250, 250));
        assert_eq!((page.tables[0].total, page.tables[0].rows.len()), (250, 50));
        assert_eq!(page.tables[0].rows[..], all.tables[0].rows[200..]);
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
