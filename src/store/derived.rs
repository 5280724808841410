//! Derived trees: everything in the store that can be recomputed from the
//! journal (by lot, by serial, serial state, lot balances, lot expiry, by
//! counterparty, by document, by day). One set of functions computes them,
//! used by the committer for each new movement, by `reindex` to rebuild
//! them and by `verify` to check them, so the three can never disagree on
//! what an entry should be.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDate;

use super::blocks;
use super::envelope::Stored;
use super::error::{Result, StoreError};
use super::keys::{self, prefix, Key, KeyReader};
use super::postings;
use super::units;
use crate::model::{balance, serial_state};
use crate::model::{Balance, Kind, Movement, MovementId, SerialState};

/// Index keys of a movement: present exactly when the movement is in the
/// journal. These are the logical entries; the store keeps the entries of
/// one run (all but the seq alike) together as postings (`postings`).
pub fn index_keys(m: &Movement) -> Vec<Vec<u8>> {
    let b = &m.body;
    let mut out = Vec::with_capacity(6);
    if let Some(lot) = &b.lot {
        out.push(
            Key::new(prefix::BY_LOT)
                .str(&b.gtin)
                .str(lot)
                .id(&m.origin, m.seq)
                .into_vec(),
        );
    }
    if let Some(serial) = &b.serial {
        out.push(
            Key::new(prefix::BY_SERIAL)
                .str(&b.gtin)
                .str(serial)
                .id(&m.origin, m.seq)
                .into_vec(),
        );
    }
    if let Some(gln) = &b.counterparty.gln {
        out.push(counterparty_key(b'G', gln).id(&m.origin, m.seq).into_vec());
    }
    if let Some(name) = &b.counterparty.name {
        out.push(counterparty_key(b'N', name).id(&m.origin, m.seq).into_vec());
    }
    let docs = &b.documents;
    for (tag, doc) in [
        (b'P', &docs.purchase_order),
        (b'O', &docs.order),
        (b'D', &docs.despatch_advice),
        (b'S', &docs.sscc),
    ] {
        if let Some(doc) = doc {
            out.push(document_key(tag, doc).id(&m.origin, m.seq).into_vec());
        }
    }
    if let (Kind::Correction, Some(target)) = (b.kind, &b.corrects) {
        out.push(
            keys::corrected_by(&target.origin, target.seq)
                .id(&m.origin, m.seq)
                .into_vec(),
        );
    }
    out.push(
        Key::new(prefix::BY_DAY)
            .date(b.device_time.date_naive())
            .id(&m.origin, m.seq)
            .into_vec(),
    );
    out
}

/// The index keys of a movement that are kept as postings: all but the
/// by-serial one, which its unit's entry holds (`units`).
pub fn posted_keys(m: &Movement) -> impl Iterator<Item = Vec<u8>> {
    index_keys(m)
        .into_iter()
        .filter(|k| k[0] != prefix::BY_SERIAL)
}

/// The (origin, seq) an index key points to, read by the key's layout.
pub fn index_target(key: &[u8]) -> Option<(String, u64)> {
    let mut r = KeyReader::new(key);
    match *key.first()? {
        prefix::BY_LOT | prefix::BY_SERIAL => {
            r.str()?;
            r.str()?;
        }
        prefix::BY_COUNTERPARTY | prefix::BY_DOCUMENT => {
            r.byte()?;
            r.str()?;
        }
        prefix::BY_DAY => r.skip(4)?,
        prefix::CORRECTED_BY => {
            r.str()?;
            r.u64()?;
        }
        _ => return None,
    }
    Some((r.str()?, r.u64()?))
}

/// The movements an index entry (a posting, `postings`) lists, by
/// (origin, seq); none when its key is not an index key.
pub fn index_targets<'a>(key: &[u8], value: &'a [u8]) -> impl Iterator<Item = (String, u64)> + 'a {
    let origin = index_target(key).map(|(origin, _)| origin);
    let seqs = origin.is_some().then(|| postings::seqs(key, value));
    seqs.into_iter()
        .flatten()
        .map(move |seq| (origin.clone().unwrap_or_default(), seq))
}

pub(super) fn counterparty_key(tag: u8, value: &str) -> Key {
    Key::new(prefix::BY_COUNTERPARTY).byte(tag).str(value)
}

pub(super) fn document_key(tag: u8, value: &str) -> Key {
    Key::new(prefix::BY_DOCUMENT).byte(tag).str(value)
}

/// The change a movement makes to one lot balance: (key, mantissa, scale).
pub fn balance_delta(m: &Movement) -> (Vec<u8>, i128, u8) {
    let b = &m.body;
    let (mantissa, scale) = balance::delta(b);
    let lot = b.lot.as_deref().unwrap_or("");
    let key = keys::lot_balance(&b.gtin, lot, &m.origin, &b.location, b.quantity.unit());
    (key, mantissa, scale)
}

/// The movement a correction of a serialised item corrects: its serial
/// state depends on what is undone.
pub fn corrected_id(m: &Movement) -> Option<&MovementId> {
    let b = &m.body;
    if b.kind != Kind::Correction || b.serial.is_none() {
        return None;
    }
    b.corrects.as_ref()
}

/// The movement `m` corrects, read from the journal tree; `None` when `m`
/// is no correction of a serialised item or the original cannot be read
/// (verify reports unreadable movements on their own).
pub fn read_corrected(journal: &sled::Tree, m: &Movement) -> Option<Movement> {
    let id = corrected_id(m)?;
    let bytes = blocks::read(journal, &id.origin, id.seq).ok()??;
    Movement::decode(&bytes).ok()
}

/// The serial state of one unit from all its movements: the state that
/// supersedes the others, as `Aggregates::add` would leave it. Verify
/// walks the units with it one by one, so its memory does not grow with the
/// serials.
pub fn unit_state(journal: &sled::Tree, movements: &[Movement]) -> Option<SerialState> {
    let mut state = None;
    for m in movements {
        let corrected = read_corrected(journal, m);
        keep_latest(&mut state, serial_state::after(m, corrected.as_ref()));
    }
    state
}

/// Replaces `current` with `new` when `new` supersedes it.
fn keep_latest(current: &mut Option<SerialState>, new: Option<SerialState>) {
    match (current.as_ref(), new) {
        (Some(old), Some(new)) if !serial_state::supersedes(&new, old) => {}
        (_, Some(new)) => *current = Some(new),
        (_, None) => {}
    }
}

/// The lot-expiry entry a movement contributes to: its lot and expiry.
pub(super) fn lot_expiry(m: &Movement) -> Option<(Vec<u8>, NaiveDate)> {
    let b = &m.body;
    match (&b.lot, b.expiry) {
        (Some(lot), Some(expiry)) if !lot.is_empty() => {
            Some((keys::lot_expiry(&b.gtin, lot), expiry))
        }
        _ => None,
    }
}

/// A lot's earliest expiry: labels of one lot should agree, and when they
/// do not, the earliest is what FEFO and the expiry check must assume. A
/// minimum does not depend on the order movements arrive in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Earliest {
    /// What the store holds, when `add_over` read it: unchanged values are
    /// not written again.
    stored: Option<NaiveDate>,
    pub(super) date: NaiveDate,
}

/// Balances, serialised units (state and movements, `units`) and lot
/// expiries accumulated over many movements, in memory.
#[derive(Default)]
pub struct Aggregates {
    pub(super) balances: HashMap<Vec<u8>, Balance>,
    pub(super) units: units::Changes,
    pub(super) expiries: HashMap<Vec<u8>, Earliest>,
}

impl Aggregates {
    /// Adds a movement; `corrected` is the movement it corrects, if any
    /// (see `corrected_id`).
    pub fn add(&mut self, m: &Movement, corrected: Option<&Movement>) {
        self.add_lots(m);
        let b = &m.body;
        let Some(serial) = &b.serial else { return };
        let unit = self.units.unit_mut(&b.gtin, serial);
        unit.push(&m.origin, m.seq);
        keep_latest(&mut unit.state, serial_state::after(m, corrected));
    }

    /// Adds a movement's lot balance and lot expiry.
    fn add_lots(&mut self, m: &Movement) {
        let (key, mantissa, scale) = balance_delta(m);
        let entry = self.balances.entry(key).or_insert(Balance::ZERO);
        *entry = entry.add(mantissa, scale);
        if let Some((key, date)) = lot_expiry(m) {
            self.expiries
                .entry(key)
                .and_modify(|e| e.date = e.date.min(date))
                .or_insert(Earliest { stored: None, date });
        }
    }

    /// Adds a movement on top of what is stored: the first time a balance,
    /// unit or lot expiry is touched, its stored value (through `read`, and
    /// for a unit's block `last_between`, `units::Changes::load`) is the
    /// starting point. The committer and head office's
    /// ingest build their batches this way; reindex and verify start from
    /// nothing with `add`.
    pub fn add_over(
        &mut self,
        m: &Movement,
        corrected: Option<&Movement>,
        read: impl Fn(&[u8]) -> Result<Option<Vec<u8>>>,
        last_between: impl Fn(&[u8], &[u8]) -> Result<Option<(Vec<u8>, Vec<u8>)>>,
        path: &Path,
    ) -> Result<()> {
        let decode_err = |source| StoreError::Value {
            path: path.to_owned(),
            source,
        };
        let (key, _, _) = balance_delta(m);
        if let Entry::Vacant(slot) = self.balances.entry(key) {
            let stored = match read(slot.key())? {
                Some(bytes) => Balance::decode(&bytes).map_err(decode_err)?,
                None => Balance::ZERO,
            };
            slot.insert(stored);
        }
        if let Some(serial) = &m.body.serial {
            self.units
                .load(&m.body.gtin, serial, last_between, decode_err)?;
        }
        if let Some((key, _)) = lot_expiry(m) {
            if let Entry::Vacant(slot) = self.expiries.entry(key) {
                if let Some(bytes) = read(slot.key())? {
                    let date = NaiveDate::decode(&bytes).map_err(decode_err)?;
                    slot.insert(Earliest {
                        stored: Some(date),
                        date,
                    });
                }
            }
        }
        self.add(m, corrected);
        Ok(())
    }

    /// The (key, value) pairs to store, consuming the aggregates.
    pub fn into_entries(self) -> impl Iterator<Item = (Vec<u8>, Vec<u8>)> {
        self.balances
            .into_iter()
            .map(|(k, v)| (k, v.encode()))
            .chain(self.units.into_entries())
            .chain(
                self.expiries
                    .into_iter()
                    .filter(|(_, e)| e.stored != Some(e.date))
                    .map(|(k, e)| (k, e.date.encode())),
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::movement::tests_support::{committed, sample};

    fn at(seq: u64, kind: Kind) -> Movement {
        let mut body = sample(seq);
        body.kind = kind;
        body.serial = Some("S1".into());
        committed(seq, body)
    }

    #[test]
    fn index_keys_point_back_to_their_movement() {
        let m = at(7, Kind::Receipt);
        let keys = index_keys(&m);
        assert_eq!(keys.len(), 5, "lot, serial, gln, PO, day");
        for k in keys {
            assert_eq!(index_target(&k), Some(("north".into(), 7)), "{k:?}");
        }
        let mut undo = at(9, Kind::Correction);
        undo.body.corrects = Some(MovementId {
            origin: "north".into(),
            seq: 7,
        });
        let keys = index_keys(&undo);
        let by = keys
            .iter()
            .find(|k| k[0] == prefix::CORRECTED_BY)
            .expect("a correction is indexed by what it corrects");
        assert!(by.starts_with(&crate::store::keys::corrected_by("north", 7).into_vec()));
        for k in keys {
            assert_eq!(index_target(&k), Some(("north".into(), 9)), "{k:?}");
        }
    }

    #[test]
    fn balances_follow_kind_and_state_the_latest_movement() {
        let mut agg = Aggregates::default();
        let receipt = at(1, Kind::Receipt);
        let dispatch = at(2, Kind::Dispatch);
        // Replay order must not matter.
        agg.add(&dispatch, None);
        agg.add(&receipt, None);
        let (key, _, _) = balance_delta(&receipt);
        assert_eq!(agg.balances[&key], Balance::ZERO);
        let (_, _, unit) = agg.units.iter().next().unwrap();
        assert!(
            matches!(unit.state, Some(SerialState::Dispatched { .. })),
            "{unit:?}"
        );
        assert_eq!(unit.movements, [("north".to_owned(), vec![1, 2])]);
    }
}
