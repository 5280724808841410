//! A serialised item's history as a sequence of states, and which
//! movements may follow which.
//!
//! One unit can only be here or not: it is received (or transferred in)
//! when it is not here, dispatched (or transferred out) when it is, and
//! returned when it was dispatched. A correction undoes a movement, so it
//! may only undo the unit's latest movement that still counts: voiding a
//! receipt after the unit was dispatched would erase a customer from every
//! recall. The desk refuses what breaks these rules; `verify` reports
//! stored histories that break them (older scantrails let some through).

use std::collections::HashMap;

use crate::model::{Counterparty, Kind, Movement, MovementId};

/// Why a movement cannot follow the unit's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// Received while already here.
    AlreadyHere {
        /// The movement that brought it here and still counts.
        since: Box<Movement>,
    },
    /// Dispatched, transferred out or returned from a state that does not
    /// allow it (`expected` says what it needed).
    NotHere {
        /// What the unit needed to be, for the message (`in stock`,
        /// `dispatched`, `named by the correction`).
        expected: &'static str,
    },
    /// A correction of a movement after which the unit moved again.
    MovedSince {
        /// The movement the correction names.
        target: MovementId,
        /// The unit's first movement after it that still counts.
        later: Box<Movement>,
    },
    /// A correction of a movement that was already corrected.
    AlreadyCorrected {
        /// The movement the correction names.
        target: MovementId,
        /// The earlier correction that already undid it.
        by: MovementId,
    },
    /// A correction of a movement that is not in this unit's history.
    UnknownTarget {
        /// The movement the correction names.
        target: MovementId,
    },
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Violation::AlreadyHere { since } => {
                write!(f, "received while already here since {}", describe(since))
            }
            Violation::NotHere { expected } => write!(f, "the unit was not {expected}"),
            Violation::MovedSince { target, later } => write!(
                f,
                "it corrects {}:{} but the unit has moved since: {}",
                target.origin,
                target.seq,
                describe(later)
            ),
            Violation::AlreadyCorrected { target, by } => write!(
                f,
                "{}:{} was already corrected by {}:{}",
                target.origin, target.seq, by.origin, by.seq
            ),
            Violation::UnknownTarget { target } => write!(
                f,
                "it corrects {}:{}, which is not a movement of this unit",
                target.origin, target.seq
            ),
        }
    }
}

/// Where the unit is after its history so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whereabouts {
    /// Never received, or its receipt was corrected away.
    Absent,
    /// Received, transferred in or returned, and not gone since.
    Here,
    /// Dispatched or transferred out.
    Gone,
}

/// One unit's movements that still count, oldest first.
#[derive(Debug, Default, Clone)]
pub struct SerialHistory {
    effective: Vec<Movement>,
    corrected: HashMap<MovementId, MovementId>,
}

impl SerialHistory {
    /// The history of these movements, in the order they happened.
    /// Violations in them are ignored here; `apply` reports them.
    pub fn of<'a>(movements: impl IntoIterator<Item = &'a Movement>) -> SerialHistory {
        let mut h = SerialHistory::default();
        for m in movements {
            let _ = h.apply(m);
        }
        h
    }

    pub(super) fn whereabouts(&self) -> Whereabouts {
        match self.effective.last().map(|m| m.body.kind) {
            None => Whereabouts::Absent,
            Some(Kind::Dispatch | Kind::TransferOut) => Whereabouts::Gone,
            Some(_) => Whereabouts::Here,
        }
    }

    /// Whether `m` may follow this history. Nothing changes.
    pub fn check(&self, m: &Movement) -> Result<(), Violation> {
        let b = &m.body;
        let here = self.whereabouts();
        match b.kind {
            Kind::Adjustment => Ok(()),
            Kind::Receipt | Kind::TransferIn if here == Whereabouts::Here => {
                Err(Violation::AlreadyHere {
                    since: Box::new(self.effective.last().cloned().unwrap_or_else(|| m.clone())),
                })
            }
            Kind::Receipt | Kind::TransferIn => Ok(()),
            Kind::Dispatch | Kind::TransferOut if here != Whereabouts::Here => {
                Err(Violation::NotHere {
                    expected: "in stock",
                })
            }
            Kind::Dispatch | Kind::TransferOut => Ok(()),
            Kind::Return if here != Whereabouts::Gone => Err(Violation::NotHere {
                expected: "dispatched",
            }),
            Kind::Return => Ok(()),
            Kind::Correction => {
                let Some(target) = &b.corrects else {
                    return Err(Violation::NotHere {
                        expected: "named by the correction",
                    });
                };
                if let Some(by) = self.corrected.get(target) {
                    return Err(Violation::AlreadyCorrected {
                        target: target.clone(),
                        by: by.clone(),
                    });
                }
                match self.effective.iter().rposition(|e| e.id() == *target) {
                    Some(i) if i + 1 == self.effective.len() => Ok(()),
                    Some(_) => Err(Violation::MovedSince {
                        target: target.clone(),
                        later: Box::new(
                            self.effective.last().cloned().unwrap_or_else(|| m.clone()),
                        ),
                    }),
                    None => Err(Violation::UnknownTarget {
                        target: target.clone(),
                    }),
                }
            }
        }
    }

    /// Adds `m` to the history, even when it breaks the rules (stored
    /// history is what happened): the violation is returned for reporting.
    pub fn apply(&mut self, m: &Movement) -> Result<(), Violation> {
        let verdict = self.check(m);
        let b = &m.body;
        match b.kind {
            Kind::Adjustment => {}
            Kind::Correction => {
                if let Some(target) = &b.corrects {
                    if let Some(i) = self.effective.iter().rposition(|e| e.id() == *target) {
                        self.effective.remove(i);
                    }
                    self.corrected
                        .entry(target.clone())
                        .or_insert_with(|| m.id());
                }
            }
            _ => self.effective.push(m.clone()),
        }
        verdict
    }
}

/// "the dispatch of 2026-11-29 to City Pharmacy (seq 12)": a movement in
/// words, to name it in a refusal.
pub fn describe(m: &Movement) -> String {
    let b = &m.body;
    let party = |c: &Counterparty| c.name.clone().or_else(|| c.gln.clone());
    let (what, link) = match b.kind {
        Kind::Receipt => ("receipt", "from"),
        Kind::TransferIn => ("transfer in", "from"),
        Kind::Dispatch => ("dispatch", "to"),
        Kind::TransferOut => ("transfer out", "to"),
        Kind::Return => ("return", "from"),
        Kind::Adjustment => ("adjustment", "for"),
        Kind::Correction => ("correction", "for"),
    };
    let mut out = format!("the {what} of {}", b.device_time.date_naive());
    if let Some(p) = party(&b.counterparty) {
        out.push_str(&format!(" {link} {p}"));
    }
    if m.seq == 0 {
        out.push_str(" (being recorded now)");
    } else {
        out.push_str(&format!(" (seq {})", m.seq));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::movement::tests_support::{committed, sample};

    fn m(seq: u64, kind: Kind, corrects: Option<u64>) -> Movement {
        let mut body = sample(seq);
        body.kind = kind;
        body.serial = Some("S1".into());
        body.counterparty.name = Some("City Pharmacy".into());
        body.corrects = corrects.map(|seq| MovementId {
            origin: "north".into(),
            seq,
        });
        committed(seq, body)
    }

    #[test]
    fn a_receipt_cannot_be_voided_once_the_unit_was_dispatched() {
        let h = SerialHistory::of(&[m(1, Kind::Receipt, None), m(2, Kind::Dispatch, None)]);
        let e = h.check(&m(3, Kind::Correction, Some(1))).unwrap_err();
        assert!(
            matches!(&e, Violation::MovedSince { later, .. } if later.seq == 2),
            "{e:?}"
        );
        assert!(e.to_string().contains("dispatch of"), "{e}");
        assert!(e.to_string().contains("to City Pharmacy (seq 2)"), "{e}");
        // Undo the dispatch first, then the receipt: allowed, in that order.
        let mut h = h;
        h.apply(&m(3, Kind::Correction, Some(2))).unwrap();
        assert_eq!(h.whereabouts(), Whereabouts::Here);
        h.apply(&m(4, Kind::Correction, Some(1))).unwrap();
        assert_eq!(h.whereabouts(), Whereabouts::Absent);
    }

    #[test]
    fn a_movement_is_corrected_at_most_once() {
        let mut h = SerialHistory::of(&[m(1, Kind::Receipt, None)]);
        h.apply(&m(2, Kind::Correction, Some(1))).unwrap();
        let e = h.apply(&m(3, Kind::Correction, Some(1))).unwrap_err();
        assert!(
            matches!(&e, Violation::AlreadyCorrected { by, .. } if by.seq == 2),
            "{e:?}"
        );
        let e = h.check(&m(4, Kind::Correction, Some(2))).unwrap_err();
        assert!(matches!(e, Violation::UnknownTarget { .. }), "{e:?}");
    }

    #[test]
    fn states_follow_in_a_valid_order_only() {
        let mut h = SerialHistory::default();
        assert!(
            h.apply(&m(1, Kind::Dispatch, None)).is_err(),
            "not in stock"
        );
        let mut h2 = SerialHistory::default();
        h2.apply(&m(1, Kind::Receipt, None)).unwrap();
        assert!(matches!(
            h2.apply(&m(2, Kind::Receipt, None)),
            Err(Violation::AlreadyHere { .. })
        ));
        assert!(
            h2.apply(&m(3, Kind::Return, None)).is_err(),
            "never dispatched"
        );
        h.apply(&m(4, Kind::Receipt, None)).ok();
        h2 = SerialHistory::of(&[m(1, Kind::Receipt, None), m(2, Kind::Dispatch, None)]);
        h2.apply(&m(3, Kind::Return, None)).unwrap();
        h2.apply(&m(4, Kind::Dispatch, None)).unwrap();
        h2.apply(&m(5, Kind::Adjustment, None)).unwrap();
        assert_eq!(h2.whereabouts(), Whereabouts::Gone);
    }
}
