//! Unit entries: one sled entry per serialised unit (GTIN + serial) holds
//! both where the unit is now (its serial state) and every movement of it
//! (the by-serial index), under the serial-state key.
//!
//! Why: at a site that serialises every unit, each scan is a new serial,
//! and each new serial cost two entries scattered over the tree (its
//! by-serial posting and its state). sled 0.34.7 keeps bytes resident for
//! every entry it has ever paged out, so these two were most of what the
//! daemon's memory grew by per scan once the journal was in blocks
//! (BENCHMARKS.md, "The soak"); one entry a unit halves it.
//!
//! The by-serial index keeps its logical keys (`derived::index_keys`:
//! gtin, serial, origin, seq under `BY_SERIAL`), which verify tallies and
//! looks up as for every other index; they are stored here, not as
//! postings. A unit's entry grows by a few bytes per movement of it and is
//! rewritten with each: fine for the handful of movements a unit has, a
//! cost for a serial scanned thousands of times (a returnable crate
//! labelled with (21) rather than a GRAI).

use serde::{Deserialize, Serialize};

use super::keys::{prefix, Key, KeyReader};
use crate::model::{MovementId, SerialState};

/// What the store keeps of one serialised unit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    /// Where the unit is now (`model::serial_state`); `None` while no
    /// movement of it sets one.
    pub state: Option<SerialState>,
    /// Its movements: per origin, their seqs in increasing order.
    pub movements: Vec<(String, Vec<u64>)>,
}

impl Unit {
    /// Records movement (origin, seq) of the unit.
    pub fn push(&mut self, origin: &str, seq: u64) {
        match self.movements.iter_mut().find(|(o, _)| o == origin) {
            Some((_, seqs)) => {
                if let Err(at) = seqs.binary_search(&seq) {
                    seqs.insert(at, seq);
                }
            }
            None => self.movements.push((origin.to_owned(), vec![seq])),
        }
    }

    /// Its movements by (origin, seq), in (origin, seq) order of entry.
    pub fn ids(&self) -> impl Iterator<Item = MovementId> + '_ {
        self.movements.iter().flat_map(|(origin, seqs)| {
            seqs.iter().map(move |&seq| MovementId {
                origin: origin.clone(),
                seq,
            })
        })
    }

    /// Whether it lists movement (origin, seq).
    pub fn has(&self, origin: &str, seq: u64) -> bool {
        self.movements
            .iter()
            .any(|(o, seqs)| o == origin && seqs.binary_search(&seq).is_ok())
    }
}

/// The by-serial logical keys a unit entry stands for (see the top).
pub(super) fn logical_keys(key: &[u8], unit: &Unit) -> Vec<Vec<u8>> {
    let mut r = KeyReader::new(key);
    let (Some(gtin), Some(serial)) = (r.str(), r.str()) else {
        return Vec::new();
    };
    unit.ids()
        .map(|id| {
            Key::new(prefix::BY_SERIAL)
                .str(&gtin)
                .str(&serial)
                .id(&id.origin, id.seq)
                .into_vec()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unit_lists_each_movement_once_in_seq_order_per_origin() {
        let mut u = Unit::default();
        for (o, s) in [("north", 7), ("south", 2), ("north", 3), ("north", 7)] {
            u.push(o, s);
        }
        let ids: Vec<(String, u64)> = u.ids().map(|i| (i.origin, i.seq)).collect();
        assert_eq!(
            ids,
            [
                ("north".into(), 3),
                ("north".into(), 7),
                ("south".into(), 2)
            ]
        );
        assert!(u.has("south", 2) && !u.has("south", 3));
    }

    #[test]
    fn logical_keys_are_the_by_serial_index_keys() {
        let mut u = Unit::default();
        u.push("north", 9);
        let key = super::super::keys::serial_state("0950", "S1");
        let want = Key::new(prefix::BY_SERIAL)
            .str("0950")
            .str("S1")
            .id("north", 9)
            .into_vec();
        assert_eq!(logical_keys(&key, &u), vec![want]);
    }
}
