//! A movement as a recall lists it: only what the recall counts and
//! shows (id, kind, time, lot, serial, party, quantity, location,
//! documents, what it corrects), and the id already in the text the
//! report writes (`origin:seq`).
//!
//! A range recall at head office reads tens of thousands of movements:
//! head office's database reads its stored envelopes in place
//! (`store::movement_view`) into this (`Moved::decode`), and any other
//! source turns its movements into it (`From<Movement>`); the recall's
//! tally is written once, over this.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Amount, Party};
use crate::model::{Balance, Documents, Kind, Movement};
use crate::store::movement_view::{self, MovementView};

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

    /// The recall's view of a movement stored in its envelope, read in
    /// place (`store::movement_view`). Bytes that cannot be read that way
    /// (damaged, or a newer version) are decoded as a whole `Movement`
    /// for its error.
    pub fn decode(entry: &[u8]) -> Result<Moved, crate::store::envelope::EnvelopeError> {
        match movement_view::read(entry).and_then(Moved::viewed) {
            Some(moved) => Ok(moved),
            None => {
                use crate::store::envelope::Stored as _;
                Movement::decode(entry).map(Moved::from)
            }
        }
    }

    /// None when the time is not a time: a damaged entry.
    fn viewed(v: MovementView<'_>) -> Option<Moved> {
        let time = super::time::parse(v.device_time)?;
        let mut moved = Moved::new(v.origin, v.seq, v.kind, time, listed(v.quantity));
        moved.corrects = v
            .corrects
            .map(|(origin, seq)| super::movement_ref_of(origin, seq));
        let own = |s: Option<&str>| s.map(str::to_owned);
        let line = &mut moved.line;
        line.lot = own(v.lot);
        line.serial = own(v.serial);
        let [gln, name] = v.counterparty;
        line.party = (gln.is_some() || name.is_some()).then(|| Party {
            gln: own(gln),
            name: own(name),
        });
        line.location = v.location.to_owned();
        let [purchase_order, order, despatch_advice, sscc] = v.documents;
        line.documents = Documents {
            purchase_order: own(purchase_order),
            order: own(order),
            despatch_advice: own(despatch_advice),
            sscc: own(sscc),
        };
        Some(moved)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::envelope::Stored as _;
    use crate::store::movement_view::tests::{movements, v1};

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
