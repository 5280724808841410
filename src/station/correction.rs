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
use crate::store::movement::{
    Balance, Kind, Movement, MovementId, NewMovement, Quantity, ScanSource,
};

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
) -> Result<NewMovement, String> {
    if reason.trim().is_empty() {
        return Err("a correction needs a reason".to_owned());
    }
    let b = &original.body;
    if b.kind == Kind::Correction {
        return Err(format!(
            "movement {}:{} is itself a correction and cannot be corrected; record the movement again if it was right",
            original.origin, original.seq
        ));
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

/// Whether `undo` (built by `correction`) may be recorded: the reason in
/// words when not.
pub fn check_correction(
    original: &Movement,
    undo: &NewMovement,
    around: &Surroundings,
) -> Result<(), String> {
    let id = format!("{}:{}", original.origin, original.seq);
    if let Some(by) = around.corrections.first() {
        return Err(if by.seq == 0 {
            format!("movement {id} is being corrected right now; it can be corrected only once")
        } else {
            format!(
                "movement {id} was already corrected by {}:{}; a movement can be corrected only once",
                by.origin, by.seq
            )
        });
    }
    if original.body.serial.is_some() {
        let history = SerialHistory::of(&around.serial_history);
        let candidate = Movement {
            origin: String::new(),
            seq: 0,
            prev_hash: original.prev_hash,
            body: undo.clone(),
            hash: original.hash,
        };
        match history.check(&candidate) {
            Ok(()) => {}
            Err(Violation::MovedSince { later, .. }) => {
                return Err(format!(
                    "serial {} has moved since movement {id}: void {} first",
                    original.body.serial.as_deref().unwrap_or_default(),
                    describe(&later)
                ))
            }
            Err(v) => return Err(format!("movement {id} cannot be corrected: {v}")),
        }
    }
    let (mantissa, scale, unit) = undo.quantity.parts();
    let after = around.balance.add(mantissa, scale);
    if mantissa < 0 && after.mantissa < 0 {
        let b = &original.body;
        return Err(format!(
            "correcting movement {id} would take {} of GTIN {} below zero at {} ({} on hand{}): correct what left since first",
            b.lot.as_deref().map_or("the stock".to_owned(), |l| format!("lot {l}")),
            b.gtin,
            b.location,
            decimal(around.balance),
            if unit.is_empty() { String::new() } else { format!(" {unit}") }
        ));
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
