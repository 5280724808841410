//! Reading the product master and pick lists from the files head office or
//! an ERP exports: CSV with a header row, or JSON. Every error names the
//! file's line (CSV) or entry (JSON) and the field.

use std::fmt;

use serde::Deserialize;

use super::reference::{Change, Owner, PickLine, PickList, Product, Tracking};
use crate::gs1;
use crate::model::Counterparty;

/// Why a GTIN as someone wrote it is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GtinError {
    /// Not 8, 12, 13 or 14 digits.
    #[error("{text:?} is not a GTIN: give 8, 12, 13 or 14 digits")]
    NotAGtin {
        /// The text, trimmed.
        text: String,
    },
    /// The right shape, but GS1's check of AI (01) refuses it (a wrong
    /// check digit, most often).
    #[error("GTIN {text} {problem}")]
    Invalid {
        /// The GTIN as written, trimmed.
        text: String,
        /// What GS1's check found, e.g. a wrong check digit.
        problem: gs1::lint::Problem,
    },
    /// GS1's check of AI (01) failed for another reason.
    #[error("GTIN {text} is not valid: {source}")]
    Refused {
        /// The GTIN as written, trimmed.
        text: String,
        /// What the GS1 engine said.
        source: gs1::Gs1Error,
    },
}

/// A GTIN as people write it (8, 12, 13 or 14 digits), checked and padded
/// to the 14 digits of AI (01).
pub fn normalise_gtin(text: &str) -> Result<String, GtinError> {
    let text = text.trim();
    if !matches!(text.len(), 8 | 12 | 13 | 14) || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(GtinError::NotAGtin {
            text: text.to_owned(),
        });
    }
    let padded = format!("{text:0>14}");
    gs1::check_value("01", &padded).map_err(|e| match e.kind {
        gs1::ErrorKind::Invalid { problem, .. } => GtinError::Invalid {
            text: text.to_owned(),
            problem,
        },
        _ => GtinError::Refused {
            text: text.to_owned(),
            source: e,
        },
    })?;
    Ok(padded)
}

/// Where in an imported file something is: a CSV line or a JSON entry,
/// counted from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A line of a CSV file (the header is line 1).
    Line(u64),
    /// An element of a JSON array.
    Entry(usize),
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Line(n) => write!(f, "line {n}"),
            Place::Entry(n) => write!(f, "entry {n}"),
        }
    }
}

/// Why an imported product master or pick-list file is refused: what is
/// wrong, where (line or entry), and what to give instead.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Nothing in the file: the wrong file, or a failed export.
    #[error("the file is empty: give CSV with the header line `{header}`, or a JSON array")]
    Empty {
        /// The CSV header line this kind of file has.
        header: &'static str,
    },
    /// The file looks like JSON and is not the array expected.
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The CSV header line cannot be read.
    #[error("line 1: {0}")]
    Header(#[source] csv::Error),
    /// The CSV header lacks a column every row needs.
    #[error("line 1: the header has no column `{column}`: give the header line `{header}`")]
    MissingColumn {
        /// The column that is missing.
        column: &'static str,
        /// The CSV header line this kind of file has.
        header: &'static str,
    },
    /// A CSV row cannot be read (csv's words name the line).
    #[error("{0}")]
    Csv(#[source] csv::Error),
    /// A CSV row's fields are not what the header promises.
    #[error("{at}: {source}")]
    Row {
        /// The row.
        at: Place,
        /// What csv found.
        source: csv::Error,
    },
    /// A row's GTIN is refused.
    #[error("{at}: {source}")]
    Gtin {
        /// The row or entry.
        at: Place,
        /// Why the GTIN is refused.
        source: GtinError,
    },
    /// A pick list without its order number.
    #[error("a pick list has an empty order number")]
    EmptyOrder,
    /// A pick-list line of nothing.
    #[error("order {order}: GTIN {gtin} has quantity 0")]
    ZeroQuantity {
        /// The order.
        order: String,
        /// The line's GTIN.
        gtin: String,
    },
    /// A quantity larger than anything shows (quantities are int64 in the
    /// API and the reports).
    #[error("order {order}: GTIN {gtin} has quantity {quantity}, more than any order holds")]
    TooLarge {
        /// The order.
        order: String,
        /// The line's GTIN.
        gtin: String,
        /// The quantity given.
        quantity: u64,
    },
}

/// The GTIN of the row or entry `at`, normalised.
fn gtin_at(text: &str, at: Place) -> Result<String, ImportError> {
    normalise_gtin(text).map_err(|source| ImportError::Gtin { at, source })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductRow {
    gtin: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    tracking: Option<Tracking>,
    #[serde(default)]
    warranty_months: Option<u32>,
    #[serde(default)]
    shelf_life_days: Option<u32>,
}

/// Products from CSV (`gtin,description,tracking,warranty_months,shelf_life_days`)
/// or a JSON array of objects with the same fields.
pub fn products(text: &str, owner: &Owner, change: &Change) -> Result<Vec<Product>, ImportError> {
    const HEADER: &str = "gtin,description,tracking,warranty_months,shelf_life_days";
    not_empty(text, HEADER)?;
    let rows: Vec<(Place, ProductRow)> = rows(text, &["gtin"], HEADER)?;
    rows.into_iter()
        .map(|(at, row)| {
            Ok(Product {
                gtin: gtin_at(&row.gtin, at)?,
                description: row.description,
                tracking: row.tracking.unwrap_or_default(),
                warranty_months: row.warranty_months,
                shelf_life_days: row.shelf_life_days,
                owner: owner.clone(),
                change: change.clone(),
            })
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PickRow {
    order: String,
    #[serde(default)]
    customer_gln: Option<String>,
    #[serde(default)]
    customer_name: Option<String>,
    gtin: String,
    quantity: u64,
    /// Allocated lots, separated by `;`.
    #[serde(default)]
    lots: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PickListJson {
    order: String,
    #[serde(default, deserialize_with = "object")]
    customer: Counterparty,
    lines: Vec<PickLine>,
}

/// Pick lists from CSV (one row per line:
/// `order,customer_gln,customer_name,gtin,quantity,lots`) or a JSON array of
/// `{order, customer: {gln, name}, lines: [{gtin, quantity, lots}]}`.
pub fn pick_lists(
    text: &str,
    owner: &Owner,
    change: &Change,
) -> Result<Vec<PickList>, ImportError> {
    const HEADER: &str = "order,customer_gln,customer_name,gtin,quantity,lots";
    not_empty(text, HEADER)?;
    let mut lists: Vec<PickList> = Vec::new();
    if looks_like_json(text) {
        let parsed: Vec<PickListJson> = serde_json::from_str(text)?;
        for (i, list) in parsed.into_iter().enumerate() {
            let mut lines = Vec::new();
            for line in list.lines {
                let gtin = gtin_at(&line.gtin, Place::Entry(i + 1))?;
                lines.push(PickLine { gtin, ..line });
            }
            lists.push(PickList {
                order: list.order,
                customer: list.customer,
                lines,
                owner: owner.clone(),
                change: change.clone(),
            });
        }
    } else {
        let rows: Vec<(Place, PickRow)> = rows(text, &["order", "gtin", "quantity"], HEADER)?;
        for (at, row) in rows {
            let gtin = gtin_at(&row.gtin, at)?;
            let line = PickLine {
                gtin,
                quantity: row.quantity,
                lots: row
                    .lots
                    .unwrap_or_default()
                    .split(';')
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned)
                    .collect(),
            };
            match lists.iter_mut().find(|l| l.order == row.order) {
                Some(list) => list.lines.push(line),
                None => lists.push(PickList {
                    order: row.order,
                    customer: Counterparty {
                        gln: row.customer_gln.filter(|g| !g.is_empty()),
                        name: row.customer_name.filter(|n| !n.is_empty()),
                    },
                    lines: vec![line],
                    owner: owner.clone(),
                    change: change.clone(),
                }),
            }
        }
    }
    for list in &lists {
        if list.order.trim().is_empty() {
            return Err(ImportError::EmptyOrder);
        }
        if let Some(line) = list.lines.iter().find(|l| l.quantity == 0) {
            return Err(ImportError::ZeroQuantity {
                order: list.order.clone(),
                gtin: line.gtin.clone(),
            });
        }
        // Quantities are int64 wherever they are shown (API, reports).
        if let Some(line) = list.lines.iter().find(|l| l.quantity > i64::MAX as u64) {
            return Err(ImportError::TooLarge {
                order: list.order.clone(),
                gtin: line.gtin.clone(),
                quantity: line.quantity,
            });
        }
    }
    Ok(lists)
}

/// An empty file is a mistake (the wrong file, a failed export), not a
/// request to import nothing.
fn not_empty(text: &str, header: &'static str) -> Result<(), ImportError> {
    if text.trim().is_empty() {
        return Err(ImportError::Empty { header });
    }
    Ok(())
}

/// JSON is an array; an object is JSON too, refused as not an array
/// rather than read as a CSV header.
fn looks_like_json(text: &str) -> bool {
    text.trim_start().starts_with(['[', '{'])
}

/// A struct that must come as a JSON object: serde would also take an
/// array of its fields' values.
fn object<'de, D: serde::Deserializer<'de>, T: serde::de::DeserializeOwned>(
    d: D,
) -> Result<T, D::Error> {
    let map = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
    serde_json::from_value(serde_json::Value::Object(map)).map_err(serde::de::Error::custom)
}

/// Rows of a CSV file or JSON array, each with where it came from. A CSV
/// header without the `required` columns is refused even when no row
/// follows: it is another file, not an empty one.
fn rows<T: for<'de> Deserialize<'de>>(
    text: &str,
    required: &[&'static str],
    header: &'static str,
) -> Result<Vec<(Place, T)>, ImportError> {
    if looks_like_json(text) {
        let rows: Vec<T> = serde_json::from_str(text)?;
        return Ok(rows
            .into_iter()
            .enumerate()
            .map(|(i, r)| (Place::Entry(i + 1), r))
            .collect());
    }
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader.headers().map_err(ImportError::Header)?.clone();
    if let Some(missing) = required.iter().find(|c| !headers.iter().any(|h| h == **c)) {
        return Err(ImportError::MissingColumn {
            column: missing,
            header,
        });
    }
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(ImportError::Csv)?;
        let at = Place::Line(record.position().map_or(0, |p| p.line()));
        let row: T = record
            .deserialize(Some(&headers))
            .map_err(|source| ImportError::Row { at, source })?;
        out.push((at, row));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn an_empty_file_is_refused_naming_the_header() {
        let (owner, change) = who();
        let e = products(" \n", &owner, &change).unwrap_err().to_string();
        assert!(e.contains("empty") && e.contains("gtin,description"), "{e}");
        let e = pick_lists("", &owner, &change).unwrap_err().to_string();
        assert!(
            e.contains("empty") && e.contains("order,customer_gln"),
            "{e}"
        );
        let e = products("AAA", &owner, &change).unwrap_err().to_string();
        assert!(e.contains("line 1") && e.contains("`gtin`"), "{e}");
        let e = pick_lists("order,gtin\n", &owner, &change)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`quantity`"), "{e}");
        // A header alone is a file with nothing in it: that is fine.
        assert!(products("gtin,description\n", &owner, &change)
            .unwrap()
            .is_empty());
    }

    fn who() -> (Owner, Change) {
        (
            Owner::Site("s".into()),
            Change {
                by: "t".into(),
                at: Utc::now(),
                why: "import".into(),
            },
        )
    }

    #[test]
    fn products_from_csv_and_json() {
        let (o, c) = who();
        let csv = "gtin,description,tracking,warranty_months,shelf_life_days\n\
                   09506000134352,Insulin pen,lot_and_serial,24,\n\
                   9506000134369,Saline,lot,,365\n";
        let p = products(csv, &o, &c).unwrap();
        assert_eq!(p[1].gtin, "09506000134369");
        assert_eq!(p[0].tracking, Tracking::LotAndSerial);
        assert_eq!(p[1].shelf_life_days, Some(365));
        let json = r#"[{"gtin":"09506000134352","description":"Pen","tracking":"serial"}]"#;
        assert_eq!(
            products(json, &o, &c).unwrap()[0].tracking,
            Tracking::Serial
        );
    }

    #[test]
    fn bad_rows_name_the_line_and_the_problem() {
        let (o, c) = who();
        let e = products("gtin,description\n09506000134353,x\n", &o, &c)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("line 2: GTIN 09506000134353 has a wrong check digit"),
            "{e}"
        );
        let e = products(
            "gtin,description,tracking\n09506000134352,x,sometimes\n",
            &o,
            &c,
        )
        .unwrap_err();
        assert!(
            matches!(
                e,
                ImportError::Row {
                    at: Place::Line(2),
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn pick_lists_group_csv_rows_by_order() {
        let (o, c) = who();
        let csv = "order,customer_gln,customer_name,gtin,quantity,lots\n\
                   O-1,9506000000046,City Pharmacy,09506000134352,2,\n\
                   O-1,9506000000046,City Pharmacy,09506000134369,5,L1;L2\n\
                   O-2,,Clinic,09506000134369,1,\n";
        let lists = pick_lists(csv, &o, &c).unwrap();
        assert_eq!(lists.len(), 2);
        assert_eq!(lists[0].lines[1].lots, vec!["L1", "L2"]);
        assert_eq!(lists[0].customer.name.as_deref(), Some("City Pharmacy"));
        assert_eq!(lists[1].customer.gln, None);
        let e = pick_lists("order,gtin,quantity\nO-3,09506000134352,0\n", &o, &c).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("order O-3: GTIN 09506000134352 has quantity 0"),
            "{e}"
        );
    }
}
