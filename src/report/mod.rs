//! Compliance reports: read-only queries over the store (stock, movements,
//! recall impact, trace, warranty, expiry) and their renderers (table, CSV,
//! JSON). One file per report: a query (validated parameters) runs against
//! the store and returns a plain `Serialize` struct; `render.rs` turns any
//! report into text. The command line (`scantrail report ...`) and the API
//! (`GET /api/v1/reports/...`) both build a [`Request`] from `key=value`
//! pairs ([`Request::from_pairs`]) and call [`run`], so they cannot differ.
//!
//! Every query reads the derived trees across all origins of the store, so
//! the same code serves a site and head office's store of all sites.

pub mod expiry;
pub mod http;
pub mod moved;
pub mod movements;
pub mod range;
pub mod recall;
pub mod render;
pub mod source;
pub mod stock;
mod time;
pub mod trace;
pub mod warranty;

use std::collections::BTreeMap;

use chrono::{NaiveDate, Utc};
use serde::{Serialize, Serializer};

use crate::model::{Balance, Counterparty, Documents, Movement, MovementId};
use crate::station::import::normalise_gtin;
use crate::store::StoreError;
pub use source::Source;

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Malformed input: the user must change the question (HTTP 400).
    #[error("{0}")]
    BadInput(String),
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A product master record could not be decoded (the warranty report reads
    /// it).
    #[error(transparent)]
    Reference(crate::station::records::RecordError),
    /// The storage behind the report cannot be reached now (HTTP 503, to
    /// be retried).
    #[error("{0}")]
    Unavailable(String),
    /// The storage behind the report failed to answer.
    #[error("{0}")]
    Storage(String),
}

pub(crate) type Result<T> = std::result::Result<T, ReportError>;

fn bad<T>(message: impl Into<String>) -> Result<T> {
    Err(ReportError::BadInput(message.into()))
}

/// Declares the reports once, each as `Variant => module::ReportType`
/// (the module's name is the report's name on the command line and in the
/// API): the request and report enums, the names, and the dispatch.
macro_rules! reports {
    ($($variant:ident => $module:ident :: $report:ident),* $(,)?) => {
        /// The report names, as the command line and the API spell them.
        pub const KINDS: [&str; [$(stringify!($module)),*].len()] = [$(stringify!($module)),*];

        /// A validated report request.
        #[derive(Debug, Clone)]
        pub enum Request {
            $(
                #[doc = concat!("The ", stringify!($module), " report's question.")]
                $variant($module::Query),
            )*
        }

        /// A report's result. JSON: an object with `"report": "<kind>"`,
        /// the normalised `query`, `found` (false when nothing matched),
        /// `note` (the sentence saying so, or null) and the report's own
        /// fields.
        #[derive(Debug, Clone, Serialize)]
        #[serde(tag = "report", rename_all = "snake_case")]
        // One per request, moved a few times: its size does not matter,
        // and a recall's (its totals' amounts keep units inline, see
        // `Amount`) is the largest.
        #[allow(clippy::large_enum_variant)]
        pub enum Report {
            $(
                #[doc = concat!("The ", stringify!($module), " report.")]
                $variant($module::$report),
            )*
        }

        impl Report {
            /// Set when the query matched nothing: the sentence to show
            /// instead of an empty table.
            pub fn note(&self) -> Option<&str> {
                match self {
                    $(Report::$variant(r) => r.note.as_deref(),)*
                }
            }
        }

        /// Runs a report against the store.
        pub fn run(store: &dyn Source, request: &Request) -> Result<Report> {
            Ok(match request {
                $(Request::$variant(q) => Report::$variant($module::run(store, q)?),)*
            })
        }

        impl Request {
            /// Builds a request from `key=value` pairs (an HTTP query
            /// string, or the command line's flags). Unknown keys, repeated
            /// single keys and malformed values are refused with a message
            /// saying what to change.
            pub fn from_pairs(kind: &str, pairs: &[(String, String)]) -> Result<Request> {
                let p = Params { pairs };
                Ok(match kind {
                    $(stringify!($module) => Request::$variant($module::Query::from_params(&p)?),)*
                    other => {
                        return bad(format!(
                            "there is no report {other:?}; the reports are {}",
                            KINDS.join(", ")
                        ))
                    }
                })
            }
        }
    };
}

reports! {
    Stock => stock::StockReport,
    Movements => movements::MovementsReport,
    Recall => recall::RecallReport,
    Trace => trace::TraceReport,
    Warranty => warranty::WarrantyReport,
    Expiry => expiry::ExpiryReport,
}

/// `key=value` pairs with typed accessors.
pub struct Params<'a> {
    pairs: &'a [(String, String)],
}

impl Params<'_> {
    /// Refuses keys this report does not know.
    fn only(&self, known: &[&str]) -> Result<()> {
        for (k, _) in self.pairs {
            if !known.contains(&k.as_str()) {
                return bad(format!(
                    "unknown parameter {k:?}; this report takes {}",
                    known.join(", ")
                ));
            }
        }
        Ok(())
    }

    fn all(&self, key: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn opt(&self, key: &str) -> Result<Option<String>> {
        let mut values = self.all(key);
        match values.len() {
            0 => Ok(None),
            1 => Ok(values.pop().filter(|v| !v.is_empty())),
            _ => bad(format!("{key} is given more than once")),
        }
    }

    fn req(&self, key: &str, example: &str) -> Result<String> {
        match self.opt(key)? {
            Some(v) => Ok(v),
            None => bad(format!("give {key}, e.g. {key}={example}")),
        }
    }

    fn gtin(&self) -> Result<Option<String>> {
        self.opt("gtin")?
            .map(|g| normalise_gtin(&g).map_err(|e| ReportError::BadInput(e.to_string())))
            .transpose()
    }

    fn req_gtin(&self) -> Result<String> {
        match self.gtin()? {
            Some(g) => Ok(g),
            None => bad("give gtin, e.g. gtin=09506000134352"),
        }
    }

    fn date(&self, key: &str) -> Result<Option<NaiveDate>> {
        self.opt(key)?
            .map(|d| {
                NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|_| {
                    ReportError::BadInput(format!("{key} {d:?} is not a date: write YYYY-MM-DD"))
                })
            })
            .transpose()
    }

    /// `today`, for reports that depend on the date (tests pin it).
    fn today(&self) -> Result<NaiveDate> {
        Ok(self
            .date("today")?
            .unwrap_or_else(|| Utc::now().date_naive()))
    }
}

/// Which item a movements or trace query follows: a lot or a serial.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Item {
    /// Follow one batch/lot of the GTIN.
    Lot(String),
    /// Follow one serialised unit of the GTIN.
    Serial(String),
}

impl Item {
    fn from_params(p: &Params) -> Result<Item> {
        match (p.opt("lot")?, p.opt("serial")?) {
            (Some(lot), None) => Ok(Item::Lot(lot)),
            (None, Some(serial)) => Ok(Item::Serial(serial)),
            _ => bad("give either lot or serial (one of them)"),
        }
    }

    fn movements(&self, store: &dyn Source, gtin: &str) -> Result<Vec<Movement>> {
        match self {
            Item::Lot(l) => store.movements_of_lot(gtin, l),
            Item::Serial(s) => store.movements_of_serial(gtin, s),
        }
    }

    fn describe(&self, gtin: &str) -> String {
        match self {
            Item::Lot(l) => format!("lot {l} of GTIN {gtin}"),
            Item::Serial(s) => format!("serial {s} of GTIN {gtin}"),
        }
    }
}

/// Movements in time order (device time, then origin and seq), so sites'
/// movements interleave as they happened.
pub(crate) fn in_time_order(out: Vec<Movement>) -> Vec<Movement> {
    // A movement is hundreds of bytes: sorting them in place moves each
    // one many times (a serial-range recall sorts tens of thousands), so
    // the indices are sorted and each movement moved once.
    let order = time_order(&out, |m| (m.body.device_time, &m.origin, m.seq));
    let mut slots: Vec<Option<Movement>> = out.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// The positions of `items` in time order, by their (time, origin, seq),
/// for a report that walks them in that order without moving them.
pub(crate) fn time_order<T>(
    items: &[T],
    key: impl for<'a> Fn(&'a T) -> (chrono::DateTime<Utc>, &'a str, u64),
) -> Vec<usize> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| key(&items[a]).cmp(&key(&items[b])));
    order
}

/// A location as reports show it: by its name at the site that owns it;
/// at head office, whose stock all belongs to sites, as `site/location`,
/// so two sites' `DOCK-1` stay apart.
pub(crate) fn site_location(store: &dyn Source, origin: &str, location: String) -> String {
    if origin == store.site() {
        location
    } else {
        format!("{origin}/{location}")
    }
}

/// Whether a location filter picks a site's location: its name, or
/// `site/name`.
pub(crate) fn location_matches(filter: &str, origin: &str, location: &str) -> bool {
    filter == location
        || filter
            .strip_prefix(origin)
            .and_then(|rest| rest.strip_prefix('/'))
            == Some(location)
}

/// `origin:seq`, the way reports name a movement.
pub fn movement_ref(id: &MovementId) -> String {
    movement_ref_of(&id.origin, id.seq)
}

/// `movement_ref` of an origin and seq: written in place, not through
/// `format!` (a recall names tens of thousands of movements).
pub(crate) fn movement_ref_of(origin: &str, seq: u64) -> String {
    let mut buf = itoa::Buffer::new();
    let seq = buf.format(seq);
    let mut out = String::with_capacity(origin.len() + 1 + seq.len());
    out.push_str(origin);
    out.push(':');
    out.push_str(seq);
    out
}

/// An exact decimal quantity per unit ("" = units). JSON: a string, e.g.
/// `"12"`, `"-3"`, `"1.250 kg"`, or `"12 + 1.250 kg"` for mixed units.
///
/// Units are kept apart from the measured units: nearly every amount a
/// report makes is a count of units, one per listed movement, and a map
/// entry cost an allocation for each (a recall of thousands of movements
/// spent more on its amounts than on reading them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Amount {
    /// The "" unit: counted items.
    units: Option<Balance>,
    /// Every other unit (`kg`...), in unit order; empty for most amounts.
    measures: BTreeMap<String, Balance>,
}

impl Amount {
    fn of(balance: Balance, unit: &str) -> Amount {
        let mut a = Amount::default();
        a.add(balance, unit);
        a
    }

    /// The signed effect of a movement on its lot balance.
    pub fn of_movement(m: &Movement) -> Amount {
        // The delta alone: `derived::balance_delta` also builds the lot
        // balance's store key, an allocation per listed movement.
        let (mantissa, scale) = crate::model::balance::delta(&m.body);
        Amount::of(Balance { mantissa, scale }, unit_of(m))
    }

    fn add(&mut self, balance: Balance, unit: &str) {
        let e = if unit.is_empty() {
            self.units.get_or_insert(Balance::ZERO)
        } else {
            match self.measures.get_mut(unit) {
                Some(e) => e,
                None => self
                    .measures
                    .entry(unit.to_owned())
                    .or_insert(Balance::ZERO),
            }
        };
        *e = e.add(balance.mantissa, balance.scale);
    }

    pub(crate) fn add_amount(&mut self, other: &Amount) {
        for (unit, b) in other.each() {
            self.add(*b, unit);
        }
    }

    /// Each unit's balance in unit order ("" first, as it sorts).
    fn each(&self) -> impl Iterator<Item = (&str, &Balance)> {
        self.units
            .iter()
            .map(|b| ("", b))
            .chain(self.measures.iter().map(|(u, b)| (u.as_str(), b)))
    }

    /// The amount with every unit's balance negated.
    pub fn negate(&self) -> Amount {
        self.map_mantissa(|m| -m)
    }

    /// The amount with every unit's balance made positive.
    pub fn abs(&self) -> Amount {
        self.map_mantissa(|m| m.abs())
    }

    fn map_mantissa(&self, f: impl Fn(i128) -> i128) -> Amount {
        let map = |b: &Balance| Balance {
            mantissa: f(b.mantissa),
            scale: b.scale,
        };
        Amount {
            units: self.units.as_ref().map(map),
            measures: self
                .measures
                .iter()
                .map(|(unit, b)| (unit.clone(), map(b)))
                .collect(),
        }
    }
}

fn unit_of(m: &Movement) -> &str {
    match &m.body.quantity {
        crate::model::Quantity::Units(_) => "",
        crate::model::Quantity::Measure { unit, .. } => unit,
    }
}

/// An exact decimal: mantissa 1250 at scale 3 is "1.250".
pub fn decimal(b: Balance) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = write_decimal(&mut out, b);
    out
}

/// `decimal`, written where it goes: reports write one per listed
/// movement, and a String for each was an allocation apiece.
fn write_decimal(w: &mut impl std::fmt::Write, b: Balance) -> std::fmt::Result {
    let mut buf = itoa::Buffer::new();
    let digits = buf.format(b.mantissa.unsigned_abs());
    let scale = usize::from(b.scale);
    if b.mantissa < 0 {
        w.write_char('-')?;
    }
    if scale == 0 {
        return w.write_str(digits);
    }
    if digits.len() > scale {
        let (int, frac) = digits.split_at(digits.len() - scale);
        w.write_str(int)?;
        w.write_char('.')?;
        return w.write_str(frac);
    }
    // Fewer digits than places: "0." and the zeros before them.
    w.write_str("0.")?;
    for _ in digits.len()..scale {
        w.write_char('0')?;
    }
    w.write_str(digits)
}

impl std::fmt::Display for Amount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::fmt::Write as _;
        let mut none = true;
        for (u, b) in self.each().filter(|(_, b)| b.mantissa != 0) {
            if !none {
                f.write_str(" + ")?;
            }
            none = false;
            write_decimal(f, *b)?;
            if !u.is_empty() {
                f.write_char(' ')?;
                f.write_str(u)?;
            }
        }
        if none {
            f.write_str("0")?;
        }
        Ok(())
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        // Whole, then once through the serialiser: `collect_str` sends
        // each piece through JSON escaping on its own.
        let mut text = SmallText::default();
        match std::fmt::write(&mut text, format_args!("{self}")) {
            Ok(()) => s.serialize_str(text.as_str()),
            Err(_) => s.collect_str(self),
        }
    }
}

/// Short text on the stack: an amount as JSON writes it. Longer text
/// (an amount of many units) does not fit and is written piece by piece.
struct SmallText {
    buf: [u8; 64],
    len: usize,
}

impl Default for SmallText {
    fn default() -> SmallText {
        SmallText {
            buf: [0; 64],
            len: 0,
        }
    }
}

impl SmallText {
    fn as_str(&self) -> &str {
        // Only whole `str`s are copied in.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

impl std::fmt::Write for SmallText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let slot = self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// A trading partner: GLN and name as recorded.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Party {
    pub(crate) gln: Option<String>,
    pub(crate) name: Option<String>,
}

impl Party {
    fn of(c: &Counterparty) -> Option<Party> {
        (!c.is_empty()).then(|| Party {
            gln: c.gln.clone(),
            name: c.name.clone(),
        })
    }

    /// `of`, taking the counterparty's text rather than copying it.
    fn taken(c: Counterparty) -> Option<Party> {
        (!c.is_empty()).then_some(Party {
            gln: c.gln,
            name: c.name,
        })
    }
}

impl std::fmt::Display for Party {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.name, &self.gln) {
            (Some(n), Some(g)) => write!(f, "{n} ({g})"),
            (Some(n), None) => f.write_str(n),
            (None, Some(g)) => f.write_str(g),
            (None, None) => f.write_str("-"),
        }
    }
}

/// The documents of a movement as one short text: `PO-1 DA-7 O-3`.
pub fn documents_text(d: &Documents) -> String {
    [&d.purchase_order, &d.order, &d.despatch_advice, &d.sscc]
        .into_iter()
        .flatten()
        .cloned()
        .collect::<Vec<_>>()
        .join(" ")
}

/// One movement as reports show it.
#[derive(Debug, Clone, Serialize)]
pub struct MovementRow {
    /// `origin:seq`
    pub id: String,
    kind: &'static str,
    #[serde(serialize_with = "time::rfc3339")]
    time: chrono::DateTime<Utc>,
    station: String,
    operator: String,
    location: String,
    lot: Option<String>,
    serial: Option<String>,
    /// Signed effect on stock: `"100"` received, `"-5"` dispatched.
    pub quantity: Amount,
    counterparty: Option<Party>,
    documents: Documents,
    reason: Option<String>,
    /// For a correction: the movement it corrects.
    pub corrects: Option<String>,
    /// The corrections that reverse this movement (empty when none).
    pub corrected_by: Vec<String>,
}

impl MovementRow {
    fn of(m: &Movement) -> MovementRow {
        let b = &m.body;
        MovementRow {
            id: movement_ref(&m.id()),
            kind: b.kind.name(),
            time: b.device_time,
            station: b.station.clone(),
            operator: b.operator.clone(),
            location: b.location.clone(),
            lot: b.lot.clone(),
            serial: b.serial.clone(),
            quantity: Amount::of_movement(m),
            counterparty: Party::of(&b.counterparty),
            documents: b.documents.clone(),
            reason: b.reason.clone(),
            corrects: b.corrects.as_ref().map(movement_ref),
            corrected_by: Vec::new(),
        }
    }

    /// Rows for movements in order, each marked with the corrections among
    /// them that reverse it.
    pub fn all(movements: &[Movement]) -> Vec<MovementRow> {
        let mut rows: Vec<MovementRow> = movements.iter().map(MovementRow::of).collect();
        let index: std::collections::HashMap<String, usize> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.clone(), i))
            .collect();
        for i in 0..rows.len() {
            if let Some(target) = rows[i].corrects.clone() {
                if let Some(&t) = index.get(&target) {
                    let by = rows[i].id.clone();
                    rows[t].corrected_by.push(by);
                }
            }
        }
        rows
    }
}

/// The ids of movements reversed by a correction among `movements`.
pub(crate) fn corrected_ids(movements: &[Movement]) -> std::collections::HashSet<MovementId> {
    movements
        .iter()
        .filter_map(|m| m.body.corrects.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::movement::tests_support::sample;
    use crate::model::Hash;
    use crate::store::chain;
    use crate::store::{OpenOptions, Store};

    /// `n` receipts of one site at its `A-01`, serials prefixed by the site.
    fn receipts(origin: &str, n: u64) -> Vec<Movement> {
        let mut prev = Hash::GENESIS;
        (1..=n)
            .map(|seq| {
                let mut body = sample(seq);
                body.serial = Some(format!("{origin}-{seq}"));
                let hash = chain::movement_hash(origin, seq, &prev, &body);
                let prev_hash = std::mem::replace(&mut prev, hash);
                Movement {
                    origin: origin.into(),
                    seq,
                    prev_hash,
                    body,
                    hash,
                }
            })
            .collect()
    }

    #[test]
    fn head_office_keeps_two_sites_locations_of_one_name_apart() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), OpenOptions::create("hq".into())).unwrap();
        for (origin, n) in [("north", 3), ("south", 2)] {
            store
                .ingest()
                .one(origin, receipts(origin, n))
                .unwrap()
                .unwrap();
        }
        assert!(store.verify().unwrap().is_ok());
        let stock = |location: Option<&str>| {
            let q = stock::Query {
                gtin: None,
                lot: None,
                location: location.map(str::to_owned),
                expiring_before: None,
                by: stock::By::All,
            };
            let r = stock::run(&store, &q).unwrap();
            let lots: Vec<(String, String)> = r
                .lots
                .iter()
                .map(|l| (l.location.clone(), l.quantity.to_string()))
                .collect();
            (lots, r.serials.len())
        };
        let both = vec![
            ("north/A-01".to_owned(), "3".to_owned()),
            ("south/A-01".to_owned(), "2".to_owned()),
        ];
        assert_eq!(stock(None), (both.clone(), 5));
        assert_eq!(
            stock(Some("A-01")),
            (both, 5),
            "the bare name matches every site's"
        );
        assert_eq!(
            stock(Some("south/A-01")),
            (vec![("south/A-01".to_owned(), "2".to_owned())], 2)
        );
    }

    #[test]
    fn amounts_print_exactly_and_join_units() {
        let mut a = Amount::of(
            Balance {
                mantissa: 12,
                scale: 0,
            },
            "",
        );
        assert_eq!(a.to_string(), "12");
        a.add(
            Balance {
                mantissa: 1250,
                scale: 3,
            },
            "kg",
        );
        assert_eq!(a.to_string(), "12 + 1.250 kg");
        assert_eq!(a.negate().to_string(), "-12 + -1.250 kg");
        assert_eq!(Amount::default().to_string(), "0");
        assert_eq!(
            decimal(Balance {
                mantissa: 5,
                scale: 2
            }),
            "0.05"
        );
    }

    /// `decimal` as it was written before it wrote in place: the text
    /// every report's JSON already holds.
    fn padded_decimal(b: Balance) -> String {
        let digits = b.mantissa.unsigned_abs().to_string();
        let scale = usize::from(b.scale);
        let sign = if b.mantissa < 0 { "-" } else { "" };
        if scale == 0 {
            return format!("{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int, frac) = padded.split_at(padded.len() - scale);
        format!("{sign}{int}.{frac}")
    }

    #[test]
    fn decimals_and_amounts_read_as_before_written_in_place() {
        let mantissas = [
            0,
            1,
            -1,
            5,
            -5,
            9,
            10,
            99,
            100,
            1250,
            -1250,
            123_456_789,
            i128::from(i64::MAX),
            i128::MAX,
            i128::MIN,
            -i128::MAX,
        ];
        for mantissa in mantissas {
            for scale in [0, 1, 2, 3, 6, 9, 38, 39, 40, 60, 255] {
                let b = Balance { mantissa, scale };
                assert_eq!(decimal(b), padded_decimal(b), "{mantissa} at {scale}");
            }
        }
        // Amounts: units first, zero balances left out, "0" when all are,
        // and a text too long for the stack buffer written all the same.
        let mut a = Amount::default();
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"0\"");
        a.add(
            Balance {
                mantissa: 0,
                scale: 0,
            },
            "",
        );
        assert_eq!(a.to_string(), "0");
        a.add(
            Balance {
                mantissa: -1250,
                scale: 3,
            },
            "kg",
        );
        a.add(
            Balance {
                mantissa: 7,
                scale: 0,
            },
            "",
        );
        a.add(
            Balance {
                mantissa: 5,
                scale: 1,
            },
            "g",
        );
        assert_eq!(a.to_string(), "7 + 0.5 g + -1.250 kg");
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            "\"7 + 0.5 g + -1.250 kg\""
        );
        a.add(
            Balance {
                mantissa: i128::MAX,
                scale: 60,
            },
            "very long unit name",
        );
        let text = a.to_string();
        assert!(text.len() > 64, "{text}");
        assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{text}\""));
        assert_eq!(a.abs().negate().abs(), a.abs());
        assert_ne!(Amount::of(Balance::ZERO, ""), Amount::default());
    }

    #[test]
    fn params_refuse_bad_input() {
        let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        let e = Request::from_pairs(
            "movements",
            &pairs(&[("gtin", "09506000134353"), ("lot", "A")]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("check digit"), "{e}");
        let e = Request::from_pairs("stock", &pairs(&[("colour", "red")])).unwrap_err();
        assert!(e.to_string().contains("unknown parameter"), "{e}");
        let e = Request::from_pairs("nope", &[]).unwrap_err();
        assert!(e.to_string().contains("no report"), "{e}");
        let e = Request::from_pairs(
            "recall",
            &pairs(&[("gtin", "09506000134352"), ("from", "100"), ("to", "99")]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("reversed"), "{e}");
    }
}
