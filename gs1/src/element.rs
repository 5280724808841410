//! The parsed result: an ordered list of (AI, value) pairs, borrowed from
//! the input where possible, with accessors for what the rest of scantrail
//! uses (GTIN, lot, serial, dates, counts, measures, references, GLNs).

use std::borrow::Cow;

use chrono::{Datelike, NaiveDate};
use smallvec::SmallVec;

use super::dictionary::{same_ai, AiEntry};

/// One AI and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element<'a> {
    /// The AI's dictionary entry.
    pub entry: &'static AiEntry,
    /// Borrowed from the input unless it had to be decoded (escapes,
    /// percent-encoding, a GTIN padded from EAN/UPC).
    pub value: Cow<'a, str>,
    /// Byte offset of the value in the input as given.
    pub offset: usize,
}

impl Element<'_> {
    /// The AI, e.g. `"01"`.
    pub fn ai(&self) -> &'static str {
        self.entry.ai
    }

    /// The AI's data title, e.g. `BATCH/LOT`.
    pub fn title(&self) -> &'static str {
        self.entry.title
    }

    /// The value, decoded.
    pub fn value(&self) -> &str {
        &self.value
    }
}

/// Most scans carry a handful of AIs; up to this many need no heap.
const INLINE_ELEMENTS: usize = 8;

/// A validated GS1 element string: AIs in the order they were read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ElementString<'a> {
    elements: SmallVec<[Element<'a>; INLINE_ELEMENTS]>,
}

/// A variable measure from AIs 310n–369n: `mantissa / 10^decimals` in `unit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measure {
    /// The AI, e.g. `"3103"`.
    pub ai: &'static str,
    /// The value's digits as a number.
    pub mantissa: u64,
    /// How many of those digits are decimals (the AI's last digit).
    pub decimals: u8,
    /// The unit from the AI's title, e.g. `kg`, `m²`, `l`.
    pub unit: &'static str,
    /// What is measured, e.g. `NET WEIGHT`.
    pub quantity: &'static str,
}

impl std::fmt::Display for Measure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scale = 10u64.pow(u32::from(self.decimals));
        let (whole, frac) = (self.mantissa / scale, self.mantissa % scale);
        if self.decimals == 0 {
            write!(f, "{whole} {}", self.unit)
        } else {
            let width = usize::from(self.decimals);
            write!(f, "{whole}.{frac:0width$} {}", self.unit)
        }
    }
}

impl<'a> ElementString<'a> {
    pub(crate) fn push(&mut self, element: Element<'a>) {
        self.elements.push(element);
    }

    /// The elements, in the order read.
    pub fn elements(&self) -> &[Element<'a>] {
        &self.elements
    }

    /// Iterates over the elements in the order read.
    pub fn iter(&self) -> impl Iterator<Item = &Element<'a>> {
        self.elements.iter()
    }

    /// How many elements (repeats included).
    pub fn len(&self) -> usize {
        self.elements.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.elements.is_empty()
    }

    /// The value of the first element with this AI.
    pub fn get(&self, ai: &str) -> Option<&str> {
        self.elements
            .iter()
            .find(|e| same_ai(e.entry.ai, ai))
            .map(|e| e.value())
    }

    /// Copies every borrowed value so the result outlives the input.
    pub fn into_owned(self) -> ElementString<'static> {
        ElementString {
            elements: self
                .elements
                .into_iter()
                .map(|e| Element {
                    entry: e.entry,
                    value: Cow::Owned(e.value.into_owned()),
                    offset: e.offset,
                })
                .collect(),
        }
    }

    /// GTIN (01).
    pub fn gtin(&self) -> Option<&str> {
        self.get("01")
    }

    /// GTIN of contained trade items (02).
    pub fn content_gtin(&self) -> Option<&str> {
        self.get("02")
    }

    /// Serial Shipping Container Code (00).
    pub fn sscc(&self) -> Option<&str> {
        self.get("00")
    }

    /// Batch or lot number (10).
    pub fn lot(&self) -> Option<&str> {
        self.get("10")
    }

    /// Serial number (21).
    pub fn serial(&self) -> Option<&str> {
        self.get("21")
    }

    /// Expiration date (17) under the GS1 century rule relative to `today`;
    /// day 00 means the last day of the month.
    pub fn expiry(&self, today: NaiveDate) -> Option<NaiveDate> {
        self.get("17").and_then(|v| yymmdd_date(v, today))
    }

    /// Best before date (15), as for [`ElementString::expiry`].
    pub fn best_before(&self, today: NaiveDate) -> Option<NaiveDate> {
        self.get("15").and_then(|v| yymmdd_date(v, today))
    }

    /// Production date (11).
    pub fn production_date(&self, today: NaiveDate) -> Option<NaiveDate> {
        self.get("11").and_then(|v| yymmdd_date(v, today))
    }

    /// Variable count (30) or count of trade items (37).
    pub fn count(&self) -> Option<u64> {
        self.get("30")
            .or_else(|| self.get("37"))
            .and_then(|v| v.parse().ok())
    }

    /// The first variable measure (310n–369n).
    pub fn measure(&self) -> Option<Measure> {
        self.measures().next()
    }

    /// Every variable measure (310n–369n) in the order read.
    pub fn measures(&self) -> impl Iterator<Item = Measure> + '_ {
        self.elements
            .iter()
            .filter_map(|e| measure_of(e.entry, e.value()))
    }

    /// Customer's purchase order number (400).
    pub fn order_number(&self) -> Option<&str> {
        self.get("400")
    }

    /// Global Shipment Identification Number (402), on despatch documents.
    pub fn shipment_id(&self) -> Option<&str> {
        self.get("402")
    }

    /// Ship to / deliver to GLN (410).
    pub fn ship_to(&self) -> Option<&str> {
        self.get("410")
    }

    /// Purchased from GLN (412).
    pub fn purchased_from(&self) -> Option<&str> {
        self.get("412")
    }

    /// Physical location GLN (414).
    pub fn location(&self) -> Option<&str> {
        self.get("414")
    }
}

/// A YYMMDD date under the GS1 century rule (General Specifications 7.12):
/// the year is the one within 49 years back and 50 ahead of `today`'s.
/// DD = 00 stands for the last day of the month.
pub fn yymmdd_date(value: &str, today: NaiveDate) -> Option<NaiveDate> {
    let digits = value.as_bytes();
    if digits.len() != 6 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = |i: usize| i32::from(digits[i] - b'0') * 10 + i32::from(digits[i + 1] - b'0');
    let (yy, month, day) = (n(0), n(2) as u32, n(4) as u32);
    let current = today.year();
    let century = current - current.rem_euclid(100);
    let diff = yy - current.rem_euclid(100);
    let year = if diff >= 51 {
        century - 100 + yy
    } else if diff <= -50 {
        century + 100 + yy
    } else {
        century + yy
    };
    if day == 0 {
        let first_of_next = if month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(year, month + 1, 1)
        };
        return first_of_next
            .and_then(|d| d.pred_opt())
            .filter(|_| (1..=12).contains(&month));
    }
    NaiveDate::from_ymd_opt(year, month, day)
}

fn measure_of(entry: &'static AiEntry, value: &str) -> Option<Measure> {
    let ai = entry.ai.as_bytes();
    if ai.len() != 4 || !matches!(&ai[..2], b"31" | b"32" | b"33" | b"34" | b"35" | b"36") {
        return None;
    }
    let decimals = ai[3] - b'0';
    let (quantity, unit) = split_measure_title(entry.title);
    Some(Measure {
        ai: entry.ai,
        mantissa: value.parse().ok()?,
        decimals,
        unit,
        quantity,
    })
}

/// `NET WEIGHT (kg)` → (`NET WEIGHT`, `kg`); `VOLUME (qt (US)), log` →
/// (`VOLUME`, `qt (US)`); `KG PER m²` → (`KG PER m²`, `kg/m²`).
fn split_measure_title(title: &'static str) -> (&'static str, &'static str) {
    match title.find('(') {
        Some(open) => {
            let rest = &title[open + 1..];
            let close = rest.rfind(')').unwrap_or(rest.len());
            (title[..open].trim_end(), &rest[..close])
        }
        None if title == "KG PER m²" => (title, "kg/m²"),
        None => (title, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn century_rule() {
        let today = day(2026, 11, 27);
        assert_eq!(yymmdd_date("251231", today), Some(day(2025, 12, 31)));
        assert_eq!(yymmdd_date("760101", today), Some(day(2076, 1, 1)));
        assert_eq!(yymmdd_date("770101", today), Some(day(1977, 1, 1)));
        assert_eq!(yymmdd_date("240200", today), Some(day(2024, 2, 29)));
        assert_eq!(yymmdd_date("250200", today), Some(day(2025, 2, 28)));
        assert_eq!(yymmdd_date("251200", today), Some(day(2025, 12, 31)));
        assert_eq!(yymmdd_date("251300", today), None);
        assert_eq!(yymmdd_date("250230", today), None);
        let late = day(2090, 1, 1);
        assert_eq!(yymmdd_date("300101", late), Some(day(2130, 1, 1)));
    }

    #[test]
    fn measure_units_come_from_the_titles() {
        assert_eq!(split_measure_title("NET WEIGHT (kg)"), ("NET WEIGHT", "kg"));
        assert_eq!(
            split_measure_title("VOLUME (qt (US)), log"),
            ("VOLUME", "qt (US)")
        );
        assert_eq!(split_measure_title("KG PER m²"), ("KG PER m²", "kg/m²"));
    }
}
