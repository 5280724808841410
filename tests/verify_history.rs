//! `scantrail verify`'s history checks, on stores holding histories that
//! an older scantrail let through (written here straight into the store,
//! past the desk's rules): each is reported with its seq and verify exits
//! 2, while an intact store with a sound history exits 0.

#[allow(dead_code)]
mod support;

use chrono::{Duration, TimeZone, Utc};
use scantrail::model::{
    Counterparty, Documents, Kind, MovementId, NewMovement, Quantity, ScanSource,
};
use scantrail::store::{OpenOptions, Store};

const SITE: &str = "history-site";

fn movement(n: i64, kind: Kind, serial: Option<&str>, units: i64) -> NewMovement {
    NewMovement {
        kind,
        station: "dock-1".into(),
        operator: "ann".into(),
        device_time: Utc.with_ymd_and_hms(2026, 11, 29, 8, 0, 0).unwrap() + Duration::minutes(n),
        location: "DOCK-1".into(),
        gtin: "09506000134352".into(),
        lot: Some("L1".into()),
        serial: serial.map(str::to_owned),
        expiry: None,
        quantity: Quantity::Units(units),
        counterparty: Counterparty {
            gln: None,
            name: (kind == Kind::Dispatch).then(|| "City Pharmacy".to_owned()),
        },
        documents: Documents::default(),
        scan: ScanSource::default(),
        reason: None,
        corrects: None,
        author: "older-scantrail".into(),
    }
}

fn correction_of(n: i64, original: &NewMovement, seq: u64) -> NewMovement {
    let mut c = original.clone();
    c.kind = Kind::Correction;
    c.device_time = original.device_time + Duration::minutes(n);
    c.quantity = match original.kind.direction() {
        1 => Quantity::Units(-1),
        _ => Quantity::Units(1),
    };
    c.reason = Some("older scantrail let it through".into());
    c.corrects = Some(MovementId {
        origin: SITE.into(),
        seq,
    });
    c
}

/// Commits the movements in order, closes the store, runs verify.
fn verify_history(movements: &[NewMovement]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path(), OpenOptions::create(SITE.into())).unwrap();
        for m in movements {
            store.journal().commit(m.clone()).unwrap();
        }
    }
    support::daemon::verify(dir.path())
}

#[test]
fn a_sound_history_verifies_clean() {
    let receipt = movement(0, Kind::Receipt, Some("RV1"), 1);
    let dispatch = movement(1, Kind::Dispatch, Some("RV1"), 1);
    let (code, out) = verify_history(&[
        receipt.clone(),
        dispatch.clone(),
        correction_of(2, &dispatch, 2),
        correction_of(3, &receipt, 1),
    ]);
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("history:"), "{out}");
}

#[test]
fn a_receipt_voided_after_its_unit_was_dispatched_is_reported_with_its_seq() {
    let receipt = movement(0, Kind::Receipt, Some("RV3"), 1);
    let (code, out) = verify_history(&[
        receipt.clone(),
        movement(1, Kind::Dispatch, Some("RV3"), 1),
        correction_of(2, &receipt, 1),
    ]);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains(&format!("history: origin {SITE} seq 3: serial RV3")),
        "{out}"
    );
    assert!(out.contains("moved since"), "{out}");
    assert!(
        out.contains("dispatch of 2026-11-29 to City Pharmacy (seq 2)"),
        "{out}"
    );
    assert!(out.contains("the record is intact"), "{out}");
}

#[test]
fn a_unit_dispatched_after_its_receipt_was_voided_is_reported() {
    let receipt = movement(0, Kind::Receipt, Some("RV4"), 1);
    let (code, out) = verify_history(&[
        receipt.clone(),
        correction_of(1, &receipt, 1),
        movement(2, Kind::Dispatch, Some("RV4"), 1),
    ]);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains(&format!("origin {SITE} seq 3: serial RV4")),
        "{out}"
    );
    assert!(out.contains("not in stock"), "{out}");
    // The lot's balance went below zero at the same movement.
    assert!(
        out.contains("this dispatch takes 09506000134352 / L1"),
        "{out}"
    );
}

#[test]
fn a_movement_corrected_twice_and_a_negative_balance_are_reported() {
    let receipt = movement(0, Kind::Receipt, None, 1);
    let (code, out) = verify_history(&[
        receipt.clone(),
        correction_of(1, &receipt, 1),
        correction_of(2, &receipt, 1),
    ]);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains(&format!(
            "history: origin {SITE} seq 3: corrects {SITE}:1 again, already corrected by {SITE}:2"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "history: origin {SITE} seq 3: this correction takes"
        )),
        "{out}"
    );
    assert!(out.contains("below zero"), "{out}");
}
