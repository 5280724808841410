//! Each report's columns, defined once for both the table and the CSV: a
//! column names its header and cell in the table, in the CSV, or in both.
//! The CSV is the fuller of the two (whole timestamps, GLN and name apart,
//! every document); the table is fitted to 80 columns and shows a few in
//! its own order, which `at` gives.

use chrono::{DateTime, Utc};

use super::super::{documents_text, expiry, recall, stock, trace, warranty, MovementRow, Party};
use super::table::Table;
use super::Window;

/// A cell from a row.
type Cell<T> = fn(&T) -> String;

/// One column of rows of `T`.
pub(crate) struct Column<T> {
    /// Its place among the table's columns, header and cell; None when
    /// only the CSV has it.
    table: Option<(u8, &'static str, Cell<T>)>,
    /// Its CSV header and cell; None when only the table has it.
    csv: Option<(&'static str, Cell<T>)>,
}

impl<T> Column<T> {
    /// The same cell in both.
    fn both(at: u8, header: &'static str, name: &'static str, cell: Cell<T>) -> Column<T> {
        Column {
            table: Some((at, header, cell)),
            csv: Some((name, cell)),
        }
    }

    /// The same column, written differently in each.
    fn each(
        at: u8,
        header: &'static str,
        table: Cell<T>,
        name: &'static str,
        csv: Cell<T>,
    ) -> Column<T> {
        Column {
            table: Some((at, header, table)),
            csv: Some((name, csv)),
        }
    }

    fn table(at: u8, header: &'static str, cell: Cell<T>) -> Column<T> {
        Column {
            table: Some((at, header, cell)),
            csv: None,
        }
    }

    fn csv(name: &'static str, cell: Cell<T>) -> Column<T> {
        Column {
            table: None,
            csv: Some((name, cell)),
        }
    }
}

/// A titled table of the `window` of `rows` with the table's columns of
/// `columns`.
pub(crate) fn table<T>(
    title: impl Into<String>,
    columns: &[Column<T>],
    rows: &[T],
    window: Window,
) -> Table {
    let mut shown: Vec<&(u8, &'static str, Cell<T>)> =
        columns.iter().filter_map(|c| c.table.as_ref()).collect();
    shown.sort_by_key(|(at, _, _)| *at);
    let headers: Vec<&'static str> = shown.iter().map(|(_, h, _)| *h).collect();
    let mut t = Table::new(title, &headers);
    t.total = rows.len();
    t.rows = window
        .of(rows)
        .iter()
        .map(|r| shown.iter().map(|(_, _, cell)| cell(r)).collect())
        .collect();
    t
}

/// The CSV header of `columns`.
pub(crate) fn csv_header<T>(columns: &[Column<T>]) -> Vec<&'static str> {
    columns
        .iter()
        .filter_map(|c| c.csv.map(|(name, _)| name))
        .collect()
}

/// The CSV rows of `rows`.
pub(crate) fn csv_rows<T>(columns: &[Column<T>], rows: &[T]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| {
            columns
                .iter()
                .filter_map(|c| c.csv.map(|(_, cell)| cell(r)))
                .collect()
        })
        .collect()
}

pub(crate) fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(|v| v.to_string()).unwrap_or_default()
}

/// The name alone when there is one: tables are narrow.
pub(crate) fn short_party(p: &Option<Party>) -> String {
    p.as_ref()
        .and_then(|p| p.name.clone().or_else(|| p.gln.clone()))
        .unwrap_or_default()
}

/// The whole party: name and GLN.
pub(crate) fn party(p: &Option<Party>) -> String {
    p.as_ref().map(|p| p.to_string()).unwrap_or_default()
}

pub(crate) fn gln(p: &Option<Party>) -> String {
    p.as_ref().and_then(|p| p.gln.clone()).unwrap_or_default()
}

pub(crate) fn name(p: &Option<Party>) -> String {
    p.as_ref().and_then(|p| p.name.clone()).unwrap_or_default()
}

/// A time as the CSV writes it: RFC 3339 to the second, UTC.
pub(crate) fn time(v: &DateTime<Utc>) -> String {
    v.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn date(v: &DateTime<Utc>) -> String {
    v.format("%Y-%m-%d").to_string()
}

fn minute(v: &DateTime<Utc>) -> String {
    v.format("%Y-%m-%d %H:%M").to_string()
}

/// Stock's lots; the CSV lists lots and serials in one file, so lots and
/// serials have the same CSV columns (a test checks it).
pub(crate) fn stock_lots() -> [Column<stock::LotLine>; 9] {
    [
        Column::csv("type", |_| "lot".into()),
        Column::both(0, "GTIN", "gtin", |l| l.gtin.clone()),
        Column::both(1, "LOT", "lot", |l| l.lot.clone()),
        Column::csv("serial", |_| String::new()),
        Column::both(2, "LOCATION", "location", |l| l.location.clone()),
        Column::both(3, "QUANTITY", "quantity", |l| l.quantity.to_string()),
        Column::both(4, "EXPIRY", "expiry", |l| opt(&l.expiry)),
        Column::csv("state", |_| "in_stock".into()),
        Column::csv("since", |_| String::new()),
    ]
}

pub(crate) fn stock_serials() -> [Column<stock::SerialLine>; 9] {
    [
        Column::csv("type", |_| "serial".into()),
        Column::both(0, "GTIN", "gtin", |s| s.gtin.clone()),
        Column::both(5, "LOT", "lot", |s| opt(&s.lot)),
        Column::both(1, "SERIAL", "serial", |s| s.serial.clone()),
        Column::both(3, "LOCATION", "location", |s| s.location.clone()),
        Column::csv("quantity", |_| "1".into()),
        Column::csv("expiry", |s| opt(&s.expiry)),
        Column::both(2, "STATE", "state", |s| s.state.to_owned()),
        Column::each(4, "SINCE", |s| date(&s.since), "since", |s| time(&s.since)),
    ]
}

pub(crate) fn movements() -> [Column<MovementRow>; 20] {
    [
        Column::both(1, "ID", "id", |m| m.id.clone()),
        Column::each(0, "DATE", |m| date(&m.time), "time", |m| time(&m.time)),
        Column::each(
            2,
            "KIND",
            |m| {
                if m.corrected_by.is_empty() {
                    m.kind.to_owned()
                } else {
                    format!("{}*", m.kind)
                }
            },
            "kind",
            |m| m.kind.into(),
        ),
        Column::both(3, "QTY", "quantity", |m| m.quantity.to_string()),
        // Where the goods were, and beside it where the scan was made (a
        // dispatch scanned at dispatch-1 of goods at DOCK-1): an auditor
        // needs both.
        Column::both(4, "AT", "location", |m| m.location.clone()),
        Column::both(5, "STATION", "station", |m| m.station.clone()),
        Column::csv("operator", |m| m.operator.clone()),
        Column::csv("lot", |m| opt(&m.lot)),
        Column::csv("serial", |m| opt(&m.serial)),
        Column::table(6, "PARTY", |m| short_party(&m.counterparty)),
        Column::csv("counterparty_gln", |m| gln(&m.counterparty)),
        Column::csv("counterparty_name", |m| name(&m.counterparty)),
        Column::table(7, "DOCS", |m| documents_text(&m.documents)),
        Column::csv("purchase_order", |m| opt(&m.documents.purchase_order)),
        Column::csv("order", |m| opt(&m.documents.order)),
        Column::csv("despatch_advice", |m| opt(&m.documents.despatch_advice)),
        Column::csv("sscc", |m| opt(&m.documents.sscc)),
        Column::csv("reason", |m| opt(&m.reason)),
        Column::csv("corrects", |m| opt(&m.corrects)),
        Column::csv("corrected_by", |m| m.corrected_by.join(" ")),
    ]
}

pub(crate) fn trace() -> [Column<trace::Step>; 8] {
    [
        Column::each(
            0,
            "TIME",
            |s| minute(&s.movement.time),
            "time",
            |s| time(&s.movement.time),
        ),
        Column::both(1, "ID", "id", |s| s.movement.id.clone()),
        Column::csv("kind", |s| s.movement.kind.into()),
        Column::csv("quantity", |s| s.movement.quantity.to_string()),
        Column::csv("is_correction", |s| s.is_correction.to_string()),
        Column::csv("corrects", |s| opt(&s.movement.corrects)),
        Column::csv("corrected_by", |s| s.movement.corrected_by.join(" ")),
        Column::each(
            2,
            "WHAT",
            |s| {
                if s.is_correction {
                    format!("  ↳ {}", s.summary)
                } else {
                    s.summary.clone()
                }
            },
            "summary",
            |s| s.summary.clone(),
        ),
    ]
}

/// Recall's customers to notify: the CSV is the file to hand to customer
/// service.
pub(crate) fn recall_customers() -> [Column<recall::Customer>; 10] {
    [
        Column::table(0, "CUSTOMER", |c| c.customer.to_string()),
        Column::csv("customer_gln", |c| {
            c.customer.gln.clone().unwrap_or_default()
        }),
        Column::csv("customer_name", |c| {
            c.customer.name.clone().unwrap_or_default()
        }),
        Column::both(1, "N", "dispatches", |c| c.dispatches.to_string()),
        Column::both(2, "DISPATCHED", "dispatched", |c| c.dispatched.to_string()),
        Column::both(3, "RETURNED", "returned", |c| c.returned.to_string()),
        Column::both(4, "OUTSTANDING", "outstanding", |c| {
            c.outstanding.to_string()
        }),
        Column::csv("first_dispatch", |c| time(&c.first_dispatch)),
        Column::each(
            5,
            "LAST",
            |c| date(&c.last_dispatch),
            "last_dispatch",
            |c| time(&c.last_dispatch),
        ),
        Column::both(6, "DOCS", "documents", |c| c.documents.join(" ")),
    ]
}

/// Recall's lots in stock (table only).
pub(crate) fn recall_stock() -> [Column<recall::StockLine>; 3] {
    [
        Column::table(0, "LOT", |l| l.lot.clone()),
        Column::table(1, "LOCATION", |l| l.location.clone()),
        Column::table(2, "QUANTITY", |l| l.quantity.to_string()),
    ]
}

/// Recall's serials, where each is now (table only).
pub(crate) fn recall_serials() -> [Column<recall::SerialLine>; 5] {
    [
        Column::table(0, "SERIAL", |l| l.serial.clone()),
        Column::table(1, "STATE", |l| l.state.to_owned()),
        Column::table(2, "LOCATION/CUSTOMER", |l| {
            l.location.clone().unwrap_or_else(|| party(&l.customer))
        }),
        Column::table(3, "SINCE", |l| date(&l.since)),
        Column::table(4, "BY", |l| l.by.clone()),
    ]
}

/// A serial's returns (table only).
pub(crate) fn warranty_returns() -> [Column<warranty::ReturnLine>; 5] {
    [
        Column::table(0, "TIME", |x| minute(&x.time)),
        Column::table(1, "ID", |x| x.id.clone()),
        Column::table(2, "FROM", |x| party(&x.from)),
        Column::table(3, "LOCATION", |x| x.location.clone()),
        Column::table(4, "REASON", |x| opt(&x.reason)),
    ]
}

pub(crate) fn expiry() -> [Column<expiry::Line>; 6] {
    [
        Column::both(0, "EXPIRY", "expiry", |l| l.expiry.to_string()),
        Column::both(1, "DAYS", "days_left", |l| l.days_left.to_string()),
        Column::both(2, "GTIN", "gtin", |l| l.gtin.clone()),
        Column::both(3, "LOT", "lot", |l| l.lot.clone()),
        Column::both(4, "LOCATION", "location", |l| l.location.clone()),
        Column::both(5, "QUANTITY", "quantity", |l| l.quantity.to_string()),
    ]
}

/// Warranty's CSV: one row for the serial (its table is a few lines of
/// text and the returns).
pub(crate) fn warranty() -> [Column<warranty::WarrantyReport>; 10] {
    [
        Column::csv("gtin", |r| r.query.gtin.clone()),
        Column::csv("serial", |r| r.query.serial.clone()),
        Column::csv("state", |r| r.state.unwrap_or_default().into()),
        Column::csv("sale_date", |r| opt(&r.sale.as_ref().map(|s| s.date))),
        Column::csv("customer_gln", |r| {
            r.sale
                .as_ref()
                .map(|s| gln(&s.customer))
                .unwrap_or_default()
        }),
        Column::csv("customer_name", |r| {
            r.sale
                .as_ref()
                .map(|s| name(&s.customer))
                .unwrap_or_default()
        }),
        Column::csv("warranty_months", |r| opt(&r.warranty_months)),
        Column::csv("warranty_end", |r| opt(&r.warranty_end)),
        Column::csv("in_warranty", |r| r.in_warranty.to_string()),
        Column::csv("returns", |r| r.returns.len().to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stock_lots_and_serials_share_the_csv_columns() {
        assert_eq!(csv_header(&stock_lots()), csv_header(&stock_serials()));
    }

    #[test]
    fn recall_serials_and_warranty_returns_read_as_before() {
        let at = DateTime::parse_from_rfc3339("2026-03-01T09:05:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let customer = Some(Party {
            gln: Some("9506000000046".into()),
            name: Some("City Pharmacy".into()),
        });
        let serials = [recall::SerialLine {
            serial: "S1".into(),
            state: "dispatched",
            location: None,
            customer: customer.clone(),
            since: at,
            by: "north/7".into(),
        }];
        assert_eq!(
            table("Serials (1)", &recall_serials(), &serials, Window::ALL).render(),
            "Serials (1)\n\
             SERIAL  STATE       LOCATION/CUSTOMER              SINCE       BY\n\
             S1      dispatched  City Pharmacy (9506000000046)  2026-03-01  north/7\n"
        );
        let returns = [warranty::ReturnLine {
            id: "north/9".into(),
            time: at,
            from: customer,
            location: "Q-1".into(),
            reason: None,
        }];
        assert_eq!(
            table("", &warranty_returns(), &returns, Window::ALL).render(),
            "TIME              ID       FROM                           LOCATION  REASON\n\
             2026-03-01 09:05  north/9  City Pharmacy (9506000000046)  Q-1\n"
        );
    }

    #[test]
    fn a_recalls_customers_table_says_what_they_still_hold() {
        let headers: Vec<&str> = recall_customers()
            .iter()
            .filter_map(|c| c.table.map(|t| t.1))
            .collect();
        // Was "HOLDS", which read as holds (quarantine) rather than units
        // still at the customer.
        assert!(headers.contains(&"OUTSTANDING"), "{headers:?}");
        assert!(!headers.contains(&"HOLDS"), "{headers:?}");
    }

    #[test]
    fn the_movements_table_shows_the_station_beside_the_location() {
        let mut headers: Vec<(u8, &str)> = movements()
            .iter()
            .filter_map(|c| c.table.map(|t| (t.0, t.1)))
            .collect();
        headers.sort_unstable();
        let names: Vec<&str> = headers.iter().map(|h| h.1).collect();
        let at = names.iter().position(|n| *n == "AT").expect("AT");
        assert_eq!(names.get(at + 1), Some(&"STATION"), "{names:?}");
    }

    #[test]
    fn table_positions_are_distinct_and_dense() {
        fn positions<T>(columns: &[Column<T>]) -> Vec<u8> {
            let mut at: Vec<u8> = columns
                .iter()
                .filter_map(|c| c.table.map(|t| t.0))
                .collect();
            at.sort_unstable();
            at
        }
        for at in [
            positions(&stock_lots()),
            positions(&stock_serials()),
            positions(&movements()),
            positions(&trace()),
            positions(&recall_customers()),
            positions(&expiry()),
            positions(&recall_stock()),
            positions(&recall_serials()),
            positions(&warranty_returns()),
        ] {
            assert_eq!(at, (0..at.len() as u8).collect::<Vec<_>>());
        }
    }
}
