//! A stored movement read in place: the fields a report lists, borrowed
//! from the envelope's bytes, and everything else skipped, not copied.
//!
//! Why: a range recall at head office reads tens of thousands of
//! movements. Decoded whole, each is a `Movement` of some 600 bytes and
//! eighteen owned strings (station, operator, the raw scan, its
//! symbology, device and parser, the author...) that the report never
//! shows; allocating and freeing them was most of its time. The layout is
//! the store's, so its borrowed reading lives here beside `envelope` and
//! `movement_v1`, and a test holds the two together.

use serde::Deserialize;

use crate::model::Kind;

/// What a report reads of a stored movement, borrowed from its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MovementView<'a> {
    /// The site that recorded it.
    pub origin: &'a str,
    /// Its seq in that site's journal.
    pub seq: u64,
    /// Receipt, dispatch, return, correction...
    pub kind: Kind,
    /// The device time as chrono wrote it (RFC 3339); not parsed here.
    pub device_time: &'a str,
    /// Where it happened at the site.
    pub location: &'a str,
    /// The batch/lot, if scanned.
    pub lot: Option<&'a str>,
    /// The serial, if scanned.
    pub serial: Option<&'a str>,
    /// (mantissa, scale, unit), as `Quantity::parts` gives them.
    pub quantity: (i128, u8, &'a str),
    /// `Counterparty`: gln, name.
    pub counterparty: [Option<&'a str>; 2],
    /// `Documents`: purchase order, order, despatch advice, SSCC.
    pub documents: [Option<&'a str>; 4],
    /// `MovementId` of what a correction corrects: origin, seq.
    pub corrects: Option<(&'a str, u64)>,
}

/// Reads a movement's envelope (V1 without an author, V2 with one) in
/// place; `None` for bytes it cannot read (damaged, or a newer version):
/// `Movement::decode` then names the error.
pub fn read(entry: &[u8]) -> Option<MovementView<'_>> {
    match postcard::from_bytes::<Envelope>(entry).ok()? {
        Envelope::V1(m) => Some(m.view()),
        Envelope::V2(m) => Some(m.view()),
    }
}

// The envelope's layout, as `envelope` and `movement_v1` write it:
// postcard is positional, so every field is read in order, a struct as
// the tuple of its fields.

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
    body: Body<'a, Author>,
    _hash: [u8; 32],
}

/// `NewMovement`; V1 has no `author` at the end (`()` reads nothing).
#[derive(Deserialize)]
struct Body<'a, Author> {
    kind: Kind,
    _station: &'a str,
    _operator: &'a str,
    device_time: &'a str,
    location: &'a str,
    _gtin: &'a str,
    #[serde(borrow)]
    lot: Option<&'a str>,
    #[serde(borrow)]
    serial: Option<&'a str>,
    /// A date as text: not parsed, reports that list lines do not show it.
    #[serde(borrow)]
    _expiry: Option<&'a str>,
    #[serde(borrow)]
    quantity: Quantity<'a>,
    #[serde(borrow)]
    counterparty: [Option<&'a str>; 2],
    #[serde(borrow)]
    documents: [Option<&'a str>; 4],
    /// `ScanSource`: raw bytes, symbology, device profile, parser version.
    #[serde(borrow)]
    _scan: (&'a [u8], &'a str, &'a str, &'a str),
    #[serde(borrow)]
    _reason: Option<&'a str>,
    #[serde(borrow)]
    corrects: Option<(&'a str, u64)>,
    _author: Author,
}

#[derive(Deserialize)]
enum Quantity<'a> {
    Units(i64),
    Measure {
        mantissa: i64,
        scale: u8,
        unit: &'a str,
    },
}

impl<'a, A> Stored<'a, A> {
    fn view(self) -> MovementView<'a> {
        let b = self.body;
        MovementView {
            origin: self.origin,
            seq: self.seq,
            kind: b.kind,
            device_time: b.device_time,
            location: b.location,
            lot: b.lot,
            serial: b.serial,
            quantity: match b.quantity {
                Quantity::Units(n) => (i128::from(n), 0, ""),
                Quantity::Measure {
                    mantissa,
                    scale,
                    unit,
                } => (i128::from(mantissa), scale, unit),
            },
            counterparty: b.counterparty,
            documents: b.documents,
            corrects: b.corrects,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::movement::tests_support::sample;
    use crate::model::{Hash, Movement, MovementId, Quantity};
    use crate::store::chain;
    use crate::store::envelope::Stored as _;

    /// Movements of every shape a report reads: kinds, measures,
    /// parties, documents, corrections, an author or none (envelope V1).
    pub(crate) fn movements() -> Vec<Movement> {
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
    pub(crate) fn v1(m: &Movement) -> Vec<u8> {
        assert!(m.body.author.is_empty());
        let mut bytes = m.encode();
        assert_eq!(bytes[0], 1, "V2");
        bytes[0] = 0;
        let author = bytes.len() - 33;
        assert_eq!(bytes[author], 0, "an empty author");
        bytes.remove(author);
        bytes
    }

    /// What the view of `m` must hold: its fields, as `Movement` has them.
    fn expected(m: &Movement) -> (String, Vec<Option<String>>, Option<(String, u64)>) {
        let b = &m.body;
        (
            serde_json::to_value(b.device_time)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned(),
            vec![
                b.lot.clone(),
                b.serial.clone(),
                b.counterparty.gln.clone(),
                b.counterparty.name.clone(),
                b.documents.purchase_order.clone(),
                b.documents.order.clone(),
                b.documents.despatch_advice.clone(),
                b.documents.sscc.clone(),
            ],
            b.corrects.as_ref().map(|c| (c.origin.clone(), c.seq)),
        )
    }

    fn check(view: MovementView<'_>, m: &Movement) {
        let (time, texts, corrects) = expected(m);
        let own = |s: Option<&str>| s.map(str::to_owned);
        assert_eq!(
            (view.origin, view.seq, view.kind),
            (&m.origin[..], m.seq, m.body.kind)
        );
        assert_eq!(view.device_time, time);
        assert_eq!(view.location, m.body.location);
        assert_eq!(view.quantity, m.body.quantity.parts());
        let [gln, name] = view.counterparty;
        let [po, order, advice, sscc] = view.documents;
        let got: Vec<Option<String>> = [view.lot, view.serial, gln, name, po, order, advice, sscc]
            .into_iter()
            .map(own)
            .collect();
        assert_eq!(got, texts);
        assert_eq!(view.corrects.map(|(o, s)| (o.to_owned(), s)), corrects);
    }

    #[test]
    fn the_view_holds_what_the_whole_movement_holds_in_both_envelopes() {
        let mut v1_seen = 0;
        for m in movements() {
            check(read(&m.encode()).expect("V2 reads"), &m);
            if m.body.author.is_empty() {
                let bytes = v1(&m);
                assert_eq!(Movement::decode(&bytes).unwrap(), m, "V1 bytes");
                check(read(&bytes).expect("V1 reads"), &m);
                v1_seen += 1;
            }
        }
        assert!(v1_seen > 5);
    }

    #[test]
    fn damaged_or_newer_entries_are_not_read() {
        let m = movements().remove(0);
        let mut bytes = m.encode();
        bytes.truncate(bytes.len() - 40);
        assert!(read(&bytes).is_none());
        let mut newer = m.encode();
        newer[0] = 2;
        assert!(read(&newer).is_none());
    }
}
