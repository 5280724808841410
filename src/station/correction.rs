//! Corrections: the movement that reverses a recorded one, and the rules
//! that keep history consistent when one is recorded. The journal is never
//! edited; a mistake is undone by a new movement that names it.
//!
//! A correction may not leave a history that could not have happened: a
//! movement is corrected at most once, a unit's receipt is not voided
//! after the unit moved on (the later movement is corrected first, last
//! one first), and no lot goes below zero at a location. Otherwise a
//! recall could miss the customer who got the unit.

use chrono::{DateTime, Utc};

use crate::model::serial_history::{describe, SerialHistory, Violation};
use crate::model::{Balance, Kind, Movement, MovementId, NewMovement, Quantity, ScanSource};

/// Why a correction is not recorded, in words for the person who asked.
/// Movements are named `origin:seq`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CorrectionRefused {
    /// The request gave no reason (or only spaces).
    #[error("a correction needs a reason")]
    NoReason,
    /// The movement named is itself a correction: an undo is never undone.
    #[error("movement {id} is itself a correction and cannot be corrected; record the movement again if it was right")]
    OfACorrection {
        /// The movement named, `origin:seq`.
        id: String,
    },
    /// Another correction of the same movement is being committed right now.
    #[error("movement {id} is being corrected right now; it can be corrected only once")]
    BeingCorrected {
        /// The movement named, `origin:seq`.
        id: String,
    },
    /// The movement was corrected before.
    #[error("movement {id} was already corrected by {by}; a movement can be corrected only once")]
    AlreadyCorrected {
        /// The movement named, `origin:seq`.
        id: String,
        /// The correction that already undid it, `origin:seq`.
        by: String,
    },
    /// The unit moved after the movement: the later one is voided first.
    #[error("serial {serial} has moved since movement {id}: void {later} first")]
    MovedSince {
        /// The serialised unit concerned.
        serial: String,
        /// The movement named, `origin:seq`.
        id: String,
        /// The unit's later movement to correct first, `origin:seq`.
        later: String,
    },
    /// Any other break of the unit's history (`serial_history::Violation`).
    #[error("movement {id} cannot be corrected: {violation}")]
    History {
        /// The movement named, `origin:seq`.
        id: String,
        /// The rule it would break, in words.
        violation: String,
    },
    /// `what` is the lot (or stock) and GTIN, `on_hand` the balance with
    /// its unit.
    #[error("correcting movement {id} would take {what} below zero at {location} ({on_hand} on hand): correct what left since first")]
    BelowZero {
        /// The movement named, `origin:seq`.
        id: String,
        /// The lot (or the stock of a GTIN without lot) and its GTIN, in words.
        what: String,
        /// The location whose balance would go negative.
        location: String,
        /// The balance there now, with its unit.
        on_hand: String,
    },
}

/// The movement that reverses `original`: same item and place, opposite
/// effect on stock, naming what it corrects and why. Refused without a
/// reason, and for a correction: undoing an undo would hide what happened;
/// the movement it corrects is corrected again instead, or a new scan made.
pub fn correction(
    original: &Movement,
    reason: &str,
    operator: &str,
    author: &str,
    time: DateTime<Utc>,
) -> Result<NewMovement, CorrectionRefused> {
    if reason.trim().is_empty() {
        return Err(CorrectionRefused::NoReason);
    }
    let b = &original.body;
    if b.kind == Kind::Correction {
        return Err(CorrectionRefused::OfACorrection {
            id: format!("{}:{}", original.origin, original.seq),
        });
    }
    let sign = -i64::from(b.kind.direction());
    let quantity = match &b.quantity {
        Quantity::Units(n) => Quantity::Units(n.saturating_mul(sign)),
        Quantity::Measure {
            mantissa,
            scale,
            unit,
        } => Quantity::Measure {
            mantissa: mantissa.saturating_mul(sign),
            scale: *scale,
            unit: unit.clone(),
        },
    };
    Ok(NewMovement {
        kind: Kind::Correction,
        station: b.station.clone(),
        operator: operator.to_owned(),
        device_time: time,
        location: b.location.clone(),
        gtin: b.gtin.clone(),
        lot: b.lot.clone(),
        serial: b.serial.clone(),
        expiry: b.expiry,
        quantity,
        counterparty: b.counterparty.clone(),
        documents: b.documents.clone(),
        scan: ScanSource::default(),
        reason: Some(reason.to_owned()),
        corrects: Some(original.id()),
        author: author.to_owned(),
    })
}

/// What a correction is checked against, gathered by the caller from the
/// store and the movements still being committed.
#[derive(Debug)]
pub struct Surroundings {
    /// Corrections of the same movement, recorded or being recorded (seq 0).
    pub corrections: Vec<MovementId>,
    /// For a serialised item, its movements oldest first, those being
    /// recorded last with seq 0.
    pub serial_history: Vec<Movement>,
    /// The balance the correction changes (the original's lot, location
    /// and unit), including movements being recorded.
    pub balance: Balance,
}

/// Whether `undo` (built by `correction`) may be recorded, and why not.
pub fn check_correction(
    original: &Movement,
    undo: &NewMovement,
    around: &Surroundings,
) -> Result<(), CorrectionRefused> {
    let id = format!("{}:{}", original.origin, original.seq);
    if let Some(by) = around.corrections.first() {
        return Err(if by.seq == 0 {
            CorrectionRefused::BeingCorrected { id }
        } else {
            CorrectionRefused::AlreadyCorrected {
                id,
                by: format!("{}:{}", by.origin, by.seq),
            }
        });
    }
    if original.body.serial.is_some() {
        let history = SerialHistory::of(&around.serial_history);
        let candidate = Movement::uncommitted(&original.origin, undo.clone());
        match history.check(&candidate) {
            Ok(()) => {}
            Err(Violation::MovedSince { later, .. }) => {
                return Err(CorrectionRefused::MovedSince {
                    serial: original.body.serial.clone().unwrap_or_default(),
                    id,
                    later: describe(&later),
                })
            }
            Err(v) => {
                return Err(CorrectionRefused::History {
                    id,
                    violation: v.to_string(),
                })
            }
        }
    }
    let (mantissa, scale, unit) = undo.quantity.parts();
    let after = around.balance.add(mantissa, scale);
    if mantissa < 0 && after.mantissa < 0 {
        let b = &original.body;
        let lot = b
            .lot
            .as_deref()
            .map_or("the stock".to_owned(), |l| format!("lot {l}"));
        let unit = if unit.is_empty() {
            String::new()
        } else {
            format!(" {unit}")
        };
        return Err(CorrectionRefused::BelowZero {
            id,
            what: format!("{lot} of GTIN {}", b.gtin),
            location: b.location.clone(),
            on_hand: format!("{}{unit}", decimal(around.balance)),
        });
    }
    Ok(())
}

fn decimal(b: Balance) -> String {
    if b.scale == 0 {
        return b.mantissa.to_string();
    }
    let div = 10i128.pow(u32::from(b.scale));
    format!(
        "{}{}.{:0width$}",
        if b.mantissa < 0 { "-" } else { "" },
        (b.mantissa / div).abs(),
        (b.mantissa % div).abs(),
        width = usize::from(b.scale)
    )
}
