//! A movement as a recall lists it: only what the recall counts and
//! shows (id, kind, time, lot, serial, party, quantity, location,
//! documents, what it corrects), and the id already in the text the
//! report writes (`origin:seq`).
//!
//! A range recall at head office reads tens of thousands of movements.
//! Decoded whole, each was a `Movement` of some 600 bytes and eighteen
//! strings (station, operator, the raw scan, its symbology, device and
//! parser, the author...) of which the recall uses none: allocating,
//! walking and freeing them was most of the report's time. So head
//! office's database decodes its stored envelopes straight into this
//! (`Moved::decode`, borrowing what it skips), and any other source turns
//! its movements into it (`From<Movement>`); the recall's tally is
//! written once, over this.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Amount, Party};
use crate::model::{Balance, Documents, Kind, Movement};

/// One movement in a recall: a receipt, dispatch or return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    pub(crate) id: String,
    #[serde(serialize_with = "super::time::rfc3339")]
    pub(crate) time: DateTime<Utc>,
    pub(crate) lot: Option<String>,
    pub(crate) serial: Option<String>,
    /// Supplier (receipts), customer (dispatches, returns).
    pub(crate) party: Option<Party>,
    /// Always positive: how many moved.
    pub(crate) quantity: Amount,
    pub(crate) location: String,
    pub(crate) documents: Documents,
    /// The correction that reversed this movement; it then counts nowhere.
    pub(crate) corrected_by: Option<String>,
}

/// What a recall reads of one movement: its line as the recall would list
/// it, and what decides whether and where it is listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub(crate) kind: Kind,
    pub(crate) seq: u64,
    /// The length of the origin at the start of the line's id.
    origin_len: usize,
    /// For a correction: the id (`origin:seq`) of the movement it corrects.
    pub(crate) corrects: Option<String>,
    /// `corrected_by` not set yet: the recall sets it from the corrections
    /// it reads with the movement.
    pub(crate) line: Line,
}

impl Moved {
    /// The site that recorded the movement.
    pub(crate) fn origin(&self) -> &str {
        &self.line.id[..self.origin_len]
    }

    /// The recall's view of a movement stored in its envelope
    /// (`store::envelope`: V1 without an author, V2 with one), read in
    /// place: the fields the recall does not use are skipped, not
    /// copied. Bytes this cannot read (damaged, or a newer version) are
    /// decoded as a whole `Movement` for its error.
    pub fn decode(entry: &[u8]) -> Result<Moved, crate::store::envelope::EnvelopeError> {
        let read = match postcard::from_bytes::<Envelope>(entry) {
            Ok(Envelope::V1(m)) => m.moved(),
            Ok(Envelope::V2(m)) => m.moved(),
            Err(_) => None,
        };
        match read {
            Some(moved) => Ok(moved),
            None => {
                use crate::store::envelope::Stored as _;
                Movement::decode(entry).map(Moved::from)
            }
        }
    }

    /// The parts every source gives alike; the line's text is set by the
    /// caller, moved or copied in.
    fn new(origin: &str, seq: u64, kind: Kind, time: DateTime<Utc>, quantity: Amount) -> Moved {
        Moved {
            kind,
            seq,
            origin_len: origin.len(),
            corrects: None,
            line: Line {
                id: super::movement_ref_of(origin, seq),
                time,
                lot: None,
                serial: None,
                party: None,
                quantity,
                location: String::new(),
                documents: Documents::default(),
                corrected_by: None,
            },
        }
    }
}

/// What a listed movement moved, made positive: the size of
/// `Amount::of_movement` (a listed kind's sign is its direction).
fn listed((mantissa, scale, unit): (i128, u8, &str)) -> Amount {
    Amount::of(
        Balance {
            mantissa: mantissa.abs(),
            scale,
        },
        unit,
    )
}

impl From<Movement> for Moved {
    fn from(m: Movement) -> Moved {
        let b = m.body;
        let quantity = listed(b.quantity.parts());
        let mut moved = Moved::new(&m.origin, m.seq, b.kind, b.device_time, quantity);
        moved.corrects = b.corrects.map(|c| super::movement_ref(&c));
        // The text moved in, not copied.
        let line = &mut moved.line;
        line.lot = b.lot;
        line.serial = b.serial;
        line.party = Party::taken(b.counterparty);
        line.location = b.location;
        line.documents = b.documents;
        moved
    }
}

impl<'a, A> Stored<'a, A> {
    /// None when the time is not a time: a damaged entry.
    fn moved(self) -> Option<Moved> {
        let b = self.body;
        let time = super::time::parse(b.device_time)?;
        let quantity = listed(b.quantity.parts());
        let mut moved = Moved::new(self.origin, self.seq, b.kind, time, quantity);
        moved.corrects = b
            .corrects
            .map(|(origin, seq)| super::movement_ref_of(origin, seq));
        let own = |s: Option<&str>| s.map(str::to_owned);
        let line = &mut moved.line;
        line.lot = own(b.lot);
        line.serial = own(b.serial);
        let [gln, name] = b.counterparty;
        line.party = (gln.is_some() || name.is_some()).then(|| Party {
            gln: own(gln),
            name: own(name),
        });
        line.location = b.location.to_owned();
        let [purchase_order, order, despatch_advice, sscc] = b.documents;
        line.documents = Documents {
            purchase_order: own(purchase_order),
            order: own(order),
            despatch_advice: own(despatch_advice),
            sscc: own(sscc),
        };
        Some(moved)
    }
}

// The envelope's layout, as `store::envelope` and `store::movement_v1`
// write it: postcard is positional, so every field is read in order, a
// struct as the tuple of its fields; what the recall does not keep is
// borrowed text, never copied. A test holds the two together.

#[derive(Deserialize)]
enum Envelope<'a> {
    #[serde(borrow)]
    V1(Stored<'a, ()>),
    #[serde(borrow)]
    V2(Stored<'a, &'a str>),
}

#[derive(Deserialize)]
struct Stored<'a, Author> {
    origin: &'a str,
    seq: u64,
    _prev_hash: [u8; 32],
    #[serde(borrow)]
    body: BodyView<'a, Author>,
    _hash: [u8; 32],
}

/// `NewMovement`; V1 has no `author` at the end (`()` reads nothing).
#[derive(Deserialize)]
struct BodyView<'a, Author> {
    kind: Kind,
    _station: &'a str,
    _operator: &'a str,
    /// Read by `time::parse`, as chrono would, faster.
    device_time: &'a str,
    location: &'a str,
    _gtin: &'a str,
    #[serde(borrow)]
    lot: Option<&'a str>,
    #[serde(borrow)]
    serial: Option<&'a str>,
    /// A date as text: not parsed, the recall does not show it.
    #[serde(borrow)]
    _expiry: Option<&'a str>,
    #[serde(borrow)]
    quantity: QuantityView<'a>,
    /// `Counterparty`: gln, name.
    #[serde(borrow)]
    counterparty: [Option<&'a str>; 2],
    /// `Documents`: purchase order, order, despatch advice, SSCC.
    #[serde(borrow)]
    documents: [Option<&'a str>; 4],
    /// `ScanSource`: raw bytes, symbology, device profile, parser version.
    #[serde(borrow)]
    _scan: (&'a [u8], &'a str, &'a str, &'a str),
    #[serde(borrow)]
    _reason: Option<&'a str>,
    /// `MovementId`: origin, seq.
    #[serde(borrow)]
    corrects: Option<(&'a str, u64)>,
    _author: Author,
}

#[derive(Deserialize)]
enum QuantityView<'a> {
    Units(i64),
    Measure {
        mantissa: i64,
        scale: u8,
        unit: &'a str,
    },
}

impl QuantityView<'_> {
    fn parts(&self) -> (i128, u8, &str) {
        match self {
            QuantityView::Units(n) => (i128::from(*n), 0, ""),
            QuantityView::Measure {
                mantissa,
                scale,
                unit,
            } => (i128::from(*mantissa), *scale, unit),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::movement::tests_support::sample;
    use crate::model::{Hash, MovementId, Quantity};
    use crate::store::chain;
    use crate::store::envelope::Stored as _;

    /// Movements of every shape the recall reads: kinds, measures,
    /// parties, documents, corrections, an author or none (envelope V1).
    fn movements() -> Vec<Movement> {
        let mut out = Vec::new();
        for n in 1..=24u64 {
            let mut body = sample(n);
            body.kind = [
                Kind::Receipt,
                Kind::Dispatch,
                Kind::Return,
                Kind::Correction,
                Kind::TransferIn,
                Kind::TransferOut,
                Kind::Adjustment,
            ][n as usize % 7];
            if n % 3 == 0 {
                body.quantity = Quantity::Measure {
                    mantissa: -1250 * n as i64,
                    scale: 3,
                    unit: "kg".into(),
                };
            } else {
                body.quantity = Quantity::Units(n as i64 - 12);
            }
            body.counterparty.gln = (n % 2 == 0).then(|| "9506000000022".into());
            body.counterparty.name = (n % 5 == 0).then(|| "Acme \"Pharma\" \u{e9}".into());
            body.documents.order = (n % 4 == 0).then(|| format!("O-{n}"));
            body.documents.sscc = (n % 6 == 0).then(|| "395060000000000017".into());
            body.lot = (n % 7 != 0).then(|| format!("L{n}"));
            body.serial = (n % 2 == 1).then(|| format!("{n:06}"));
            body.expiry = None;
            body.reason = (n % 3 == 1).then(|| "scanned in error".into());
            body.corrects = (body.kind == Kind::Correction).then(|| MovementId {
                origin: "south".into(),
                seq: n * 1000,
            });
            body.author = if n % 2 == 0 {
                String::new()
            } else {
                format!("handheld-{n}")
            };
            body.device_time += chrono::Duration::nanoseconds(n as i64 * 123_456_789);
            let hash = chain::movement_hash("north", n, &Hash::GENESIS, &body);
            out.push(Movement {
                origin: "north".into(),
                seq: n,
                prev_hash: Hash([n as u8; 32]),
                body,
                hash,
            });
        }
        out
    }

    /// The same movement in envelope V1: V2's bytes without the author
    /// (an empty one is a single 0 before the 32 bytes of the hash).
    fn v1(m: &Movement) -> Vec<u8> {
        assert!(m.body.author.is_empty());
        let mut bytes = m.encode();
        assert_eq!(bytes[0], 1, "V2");
        bytes[0] = 0;
        let author = bytes.len() - 33;
        assert_eq!(bytes[author], 0, "an empty author");
        bytes.remove(author);
        bytes
    }

    #[test]
    fn decoding_in_place_reads_what_the_whole_movement_gives() {
        let mut v1_seen = 0;
        for m in movements() {
            let whole = Moved::from(m.clone());
            assert_eq!(Moved::decode(&m.encode()).unwrap(), whole, "{m:?}");
            assert_eq!(whole.origin(), "north");
            assert_eq!(whole.line.id, crate::report::movement_ref(&m.id()));
            if m.body.author.is_empty() {
                let bytes = v1(&m);
                assert_eq!(Movement::decode(&bytes).unwrap(), m, "V1 bytes");
                assert_eq!(Moved::decode(&bytes).unwrap(), whole, "V1: {m:?}");
                v1_seen += 1;
            }
        }
        assert!(v1_seen > 5);
    }

    #[test]
    fn damaged_or_newer_entries_fail_as_a_whole_movement_does() {
        let m = movements().remove(0);
        let mut bytes = m.encode();
        bytes.truncate(bytes.len() - 40);
        assert_eq!(
            Moved::decode(&bytes).unwrap_err(),
            Movement::decode(&bytes).unwrap_err()
        );
        let mut newer = m.encode();
        newer[0] = 2;
        let e = Moved::decode(&newer).unwrap_err();
        assert_eq!(e, Movement::decode(&newer).unwrap_err());
        assert!(e.to_string().contains("upgrade scantrail"), "{e}");
    }
}
