//! Where a serialised item is, and how each movement moves it: the one
//! transition the committer, reindex, verify, head office's ingest and the
//! desk (for movements still being committed) all apply.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Counterparty, Kind, Movement, MovementId};

/// Where a serialised item is now, derived from its last movement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SerialState {
    /// In stock: received or transferred in (or its dispatch was corrected
    /// away).
    InStock {
        /// The location the receipt or transfer put it at.
        location: String,
        /// When it arrived (the movement's device time).
        since: DateTime<Utc>,
        /// The movement that put it in stock.
        by: MovementId,
    },
    /// Shipped to a customer or another site.
    Dispatched {
        /// The customer or site it went to.
        to: Counterparty,
        /// When it was shipped.
        at: DateTime<Utc>,
        /// The dispatch or transfer out.
        by: MovementId,
    },
    /// Back from a customer, at a location (quarantine or stock).
    Returned {
        /// Where the return put it.
        location: String,
        /// When it came back.
        at: DateTime<Utc>,
        /// The return movement.
        by: MovementId,
    },
    /// The receipt that brought it in was corrected away: it is not here.
    Voided {
        /// When the correction was made.
        at: DateTime<Utc>,
        /// The correction that voided the receipt.
        by: MovementId,
    },
}

/// The serial state a movement would set, if it has a serial and its kind
/// moves serialised stock. A correction undoes the movement it corrects
/// (`corrected`, which the caller reads): a voided
/// receipt leaves the item not here, a voided dispatch puts it back in
/// stock, a voided return sends it back to the customer. Adjustments leave
/// the state alone.
pub fn after(m: &Movement, corrected: Option<&Movement>) -> Option<SerialState> {
    let b = &m.body;
    b.serial.as_ref()?;
    let by = m.id();
    let state = match b.kind {
        Kind::Receipt | Kind::TransferIn => SerialState::InStock {
            location: b.location.clone(),
            since: b.device_time,
            by,
        },
        Kind::Return => SerialState::Returned {
            location: b.location.clone(),
            at: b.device_time,
            by,
        },
        Kind::Dispatch | Kind::TransferOut => SerialState::Dispatched {
            to: b.counterparty.clone(),
            at: b.device_time,
            by,
        },
        Kind::Correction => {
            let original = &corrected?.body;
            match original.kind {
                Kind::Receipt | Kind::TransferIn => SerialState::Voided {
                    at: b.device_time,
                    by,
                },
                Kind::Dispatch | Kind::TransferOut => SerialState::InStock {
                    location: original.location.clone(),
                    since: b.device_time,
                    by,
                },
                Kind::Return => SerialState::Dispatched {
                    to: original.counterparty.clone(),
                    at: b.device_time,
                    by,
                },
                Kind::Adjustment | Kind::Correction => return None,
            }
        }
        Kind::Adjustment => return None,
    };
    Some(state)
}

fn state_order(s: &SerialState) -> (chrono::DateTime<chrono::Utc>, &MovementId) {
    match s {
        SerialState::InStock { since, by, .. } => (*since, by),
        SerialState::Dispatched { at, by, .. }
        | SerialState::Returned { at, by, .. }
        | SerialState::Voided { at, by } => (*at, by),
    }
}

/// Whether `new` replaces `old`: the latest device time wins, ties broken
/// by (origin, seq), so the result does not depend on the order movements
/// of several origins arrive in (head office) or are replayed (reindex).
pub fn supersedes(new: &SerialState, old: &SerialState) -> bool {
    state_order(new) > state_order(old)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::movement::tests_support::{committed, sample};

    fn at(seq: u64, kind: Kind, location: &str) -> Movement {
        let mut body = sample(seq);
        body.kind = kind;
        body.location = location.into();
        committed(seq, body)
    }

    fn correcting(seq: u64, original: &Movement) -> Movement {
        let mut m = at(seq, Kind::Correction, "elsewhere");
        m.body.corrects = Some(original.id());
        m
    }

    #[test]
    fn a_correction_undoes_what_it_corrects() {
        let receipt = at(1, Kind::Receipt, "A-01");
        let voided = after(&correcting(2, &receipt), Some(&receipt));
        assert!(
            matches!(voided, Some(SerialState::Voided { .. })),
            "{voided:?}"
        );

        let dispatch = at(3, Kind::Dispatch, "A-02");
        match after(&correcting(4, &dispatch), Some(&dispatch)) {
            Some(SerialState::InStock { location, by, .. }) => {
                assert_eq!(location, "A-02", "back where it was dispatched from");
                assert_eq!(by.seq, 4);
            }
            other => panic!("{other:?}"),
        }

        let ret = at(5, Kind::Return, "Q");
        let back = after(&correcting(6, &ret), Some(&ret));
        assert!(
            matches!(back, Some(SerialState::Dispatched { .. })),
            "{back:?}"
        );

        // Unknown original, an adjustment, or no serial: no state change.
        assert_eq!(after(&correcting(7, &receipt), None), None);
        assert_eq!(after(&at(8, Kind::Adjustment, "A-01"), None), None);
        let mut unserialised = at(9, Kind::Receipt, "A-01");
        unserialised.body.serial = None;
        assert_eq!(after(&unserialised, None), None);
    }

    #[test]
    fn the_latest_device_time_wins_then_origin_and_seq() {
        let early = after(&at(2, Kind::Receipt, "A"), None).unwrap();
        let late = after(&at(1, Kind::Dispatch, "A"), None).unwrap();
        // sample(n) sets the device time from n: seq 2 is later than seq 1.
        assert!(supersedes(&early, &late));
        assert!(!supersedes(&late, &early));
        assert!(
            !supersedes(&early, &early),
            "a state does not replace itself"
        );
    }
}
