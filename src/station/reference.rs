//! Reference data the station rules consult: the product master, holds and
//! recalls, and pick lists. Each record names its owner (this site or head
//! office) and who changed it, when and why.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::Counterparty;

/// Who may change a record: head-office records arrive by sync and only
/// head office changes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Owner {
    /// The site with this id.
    Site(String),
    /// Head office: the record arrives by sync and only head office changes it.
    HeadOffice,
}

/// Who changed a record, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// Who made the change: the authenticated token's name, at the site or
    /// at head office.
    pub by: String,
    /// When the change was made (the clock of whoever made it).
    pub at: DateTime<Utc>,
    /// Why, as the person gave it (an import's `why`, a hold's reason).
    pub why: String,
}

/// What a product must carry in its barcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Tracking {
    /// No tracking beyond the GTIN.
    #[default]
    None,
    /// Every unit's barcode must carry a batch/lot (AI 10).
    Lot,
    /// Every unit's barcode must carry a serial (AI 21).
    Serial,
    /// Every unit's barcode must carry both a lot and a serial.
    LotAndSerial,
}

impl Tracking {
    /// True when a scan of this product must carry a lot.
    pub fn needs_lot(self) -> bool {
        matches!(self, Tracking::Lot | Tracking::LotAndSerial)
    }

    /// True when a scan of this product must carry a serial: each unit is then
    /// tracked alone.
    pub fn needs_serial(self) -> bool {
        matches!(self, Tracking::Serial | Tracking::LotAndSerial)
    }
}

/// A product of the product master: what the rules need to know about a GTIN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    /// 14 digits, check digit verified.
    pub gtin: String,
    /// The product's name for screens and reports.
    pub description: String,
    /// What its barcodes must carry (lot, serial, both, neither).
    pub tracking: Tracking,
    /// Warranty length from the sale (calendar months): the warranty report
    /// reads it; `None` for no warranty.
    pub warranty_months: Option<u32>,
    /// Shelf life from production, in days, as the master gives it; `None` when
    /// unknown. Kept for reports; the rules read the expiry date itself.
    pub shelf_life_days: Option<u32>,
    /// Whether head office or this site may change the record.
    pub owner: Owner,
    /// Who last changed it, when and why.
    pub change: Change,
}

/// Whether a hold is the site's own quarantine or a recall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum HoldKind {
    /// A site's own quarantine: the site adds and releases it.
    #[default]
    Hold,
    /// A recall, usually from head office: the goods must be found and kept,
    /// wherever they went.
    Recall,
}

/// What a hold covers: lots of a GTIN, or an inclusive range of serials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldScope {
    /// These lots of the GTIN.
    Lots(Vec<String>),
    /// Serials of the GTIN in this range, inclusive.
    Serials(SerialRange),
}

/// A hold or recall: units of a GTIN that may not be dispatched while it is
/// active.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    /// Unique id (e.g. `R-17`), as given when it was issued.
    pub id: String,
    /// Quarantine hold or recall.
    pub kind: HoldKind,
    /// The GTIN it covers, 14 digits.
    pub gtin: String,
    /// Which lots or serials of the GTIN it covers.
    pub scope: HoldScope,
    /// Why, shown to the picker whose scan it refuses.
    pub reason: String,
    /// Head office's (released only there) or this site's.
    pub owner: Owner,
    /// Who issued it, when and why.
    pub created: Change,
    /// Who released it, when and why; `None` while it is active.
    pub released: Option<Change>,
}

impl Hold {
    /// True while the hold is not released: its units may not be dispatched.
    pub fn is_active(&self) -> bool {
        self.released.is_none()
    }

    /// Whether this hold covers an item with this lot and serial.
    pub fn covers(&self, lot: Option<&str>, serial: Option<&str>) -> bool {
        match &self.scope {
            HoldScope::Lots(lots) => lot.is_some_and(|l| lots.iter().any(|h| h == l)),
            HoldScope::Serials(range) => serial.is_some_and(|s| range.contains(s)),
        }
    }

    /// `recall R-17` / `hold H-3`, for the operator's screen.
    pub fn label(&self) -> String {
        match self.kind {
            HoldKind::Hold => format!("hold {}", self.id),
            HoldKind::Recall => format!("recall {}", self.id),
        }
    }
}

/// An inclusive range of serials. When both bounds are all digits the range
/// is numeric (leading zeros ignored, so 99 < 100); otherwise serials
/// compare byte by byte.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawRange")]
pub struct SerialRange {
    from: String,
    to: String,
}

#[derive(Deserialize)]
struct RawRange {
    from: String,
    to: String,
}

/// Why two bounds make no serial range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SerialRangeError {
    /// A bound is empty.
    #[error("a serial range needs both bounds: give FROM and TO, e.g. 1000 and 1999")]
    MissingBound,
    /// One bound is all digits and the other is not, so they do not compare.
    #[error("the serial range {from}..{to} mixes a numeric and a non-numeric bound: give two numbers or two serials of the same kind")]
    MixedKinds {
        /// The first bound.
        from: String,
        /// The last bound.
        to: String,
    },
    /// The first bound is greater than the second.
    #[error("the serial range {from}..{to} is reversed: the first bound must not be greater than the second")]
    Reversed {
        /// The first bound.
        from: String,
        /// The last bound.
        to: String,
    },
}

impl TryFrom<RawRange> for SerialRange {
    type Error = SerialRangeError;

    fn try_from(raw: RawRange) -> Result<SerialRange, SerialRangeError> {
        SerialRange::new(&raw.from, &raw.to)
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Compares two digit strings as numbers of any length.
fn compare_numeric(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

impl SerialRange {
    /// A range from `from` to `to`, both included. Refused when the bounds
    /// are reversed or of mixed kinds (one all digits, one not).
    pub fn new(from: &str, to: &str) -> Result<SerialRange, SerialRangeError> {
        if from.is_empty() || to.is_empty() {
            return Err(SerialRangeError::MissingBound);
        }
        let bounds = || (from.to_owned(), to.to_owned());
        let order = match (all_digits(from), all_digits(to)) {
            (true, true) => compare_numeric(from, to),
            (false, false) => from.as_bytes().cmp(to.as_bytes()),
            _ => {
                let (from, to) = bounds();
                return Err(SerialRangeError::MixedKinds { from, to });
            }
        };
        if order == Ordering::Greater {
            let (from, to) = bounds();
            return Err(SerialRangeError::Reversed { from, to });
        }
        Ok(SerialRange {
            from: from.to_owned(),
            to: to.to_owned(),
        })
    }

    /// The first serial of the range.
    pub fn from(&self) -> &str {
        &self.from
    }

    /// The last serial of the range.
    pub fn to(&self) -> &str {
        &self.to
    }

    /// True when the bounds are all digits: serials compare as numbers, leading
    /// zeros ignored.
    pub fn is_numeric(&self) -> bool {
        all_digits(&self.from)
    }

    /// Whether `serial` falls in the range: as a number when the range is
    /// numeric (a non-numeric serial never does), byte by byte otherwise.
    pub fn contains(&self, serial: &str) -> bool {
        if self.is_numeric() {
            all_digits(serial)
                && compare_numeric(&self.from, serial) != Ordering::Greater
                && compare_numeric(serial, &self.to) != Ordering::Greater
        } else {
            self.from.as_bytes() <= serial.as_bytes() && serial.as_bytes() <= self.to.as_bytes()
        }
    }
}

/// One line of a pick list: how many of a GTIN, optionally from given lots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickLine {
    pub(super) gtin: String,
    /// How many units of the GTIN the order needs.
    pub quantity: u64,
    #[serde(default)]
    pub(super) lots: Vec<String>,
}

/// An order to pick at dispatch: which GTINs, how many, from which lots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickList {
    /// The order number, as a dispatch station's context (AI 400) names it.
    pub order: String,
    /// The customer the goods go to: each pick's counterparty.
    pub customer: Counterparty,
    /// The lines to pick.
    pub lines: Vec<PickLine>,
    /// Head office's (changed only there) or this site's.
    pub owner: Owner,
    /// Who last changed it, when and why.
    pub change: Change,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_ranges_ignore_leading_zeros_and_compare_as_numbers() {
        let r = SerialRange::new("99", "0100").unwrap();
        assert!(r.contains("99") && r.contains("100") && r.contains("0000100"));
        assert!(!r.contains("98") && !r.contains("101") && !r.contains("9A"));
        assert!(matches!(
            SerialRange::new("100", "99"),
            Err(SerialRangeError::Reversed { .. })
        ));
    }

    #[test]
    fn other_ranges_compare_byte_by_byte() {
        let r = SerialRange::new("AB100", "AB199").unwrap();
        assert!(r.contains("AB150"));
        assert!(!r.contains("AB1") && !r.contains("AB1999"));
        assert!(SerialRange::new("B", "A").is_err());
    }

    #[test]
    fn mixed_bounds_are_refused() {
        let e = SerialRange::new("100", "A100").unwrap_err();
        assert!(matches!(e, SerialRangeError::MixedKinds { .. }), "{e}");
        assert!(e.to_string().contains("100..A100"), "{e}");
        assert_eq!(
            SerialRange::new("", "9"),
            Err(SerialRangeError::MissingBound)
        );
    }
}
