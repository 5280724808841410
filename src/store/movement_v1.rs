//! Movements as envelope V1 and sync protocol 1 laid them out, before a
//! movement named its author. Frozen: stores and sites of earlier
//! scantrails still hold and send this layout, and a movement without an
//! author still hashes as this layout, so every chain recorded before
//! authors existed keeps verifying.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::chain::Hash;
use super::movement::{
    Counterparty, Documents, Kind, Movement, MovementId, NewMovement, Quantity, ScanSource,
};

/// A stored or sent movement of layout V1.
#[derive(Debug, Clone, Deserialize)]
pub struct MovementV1 {
    origin: String,
    seq: u64,
    prev_hash: Hash,
    body: NewMovementV1,
    hash: Hash,
}

#[derive(Debug, Clone, Deserialize)]
struct NewMovementV1 {
    kind: Kind,
    station: String,
    operator: String,
    device_time: DateTime<Utc>,
    location: String,
    gtin: String,
    lot: Option<String>,
    serial: Option<String>,
    expiry: Option<NaiveDate>,
    quantity: Quantity,
    counterparty: Counterparty,
    documents: Documents,
    scan: ScanSource,
    reason: Option<String>,
    corrects: Option<MovementId>,
}

impl From<MovementV1> for Movement {
    fn from(m: MovementV1) -> Movement {
        let b = m.body;
        Movement {
            origin: m.origin,
            seq: m.seq,
            prev_hash: m.prev_hash,
            body: NewMovement {
                kind: b.kind,
                station: b.station,
                operator: b.operator,
                device_time: b.device_time,
                location: b.location,
                gtin: b.gtin,
                lot: b.lot,
                serial: b.serial,
                expiry: b.expiry,
                quantity: b.quantity,
                counterparty: b.counterparty,
                documents: b.documents,
                scan: b.scan,
                reason: b.reason,
                corrects: b.corrects,
                author: String::new(),
            },
            hash: m.hash,
        }
    }
}

/// A body in the V1 layout, borrowed: what a movement without an author
/// hashes as (the same bytes postcard wrote for V1).
#[derive(Serialize)]
pub struct NewMovementV1Ref<'a> {
    kind: &'a Kind,
    station: &'a str,
    operator: &'a str,
    device_time: &'a DateTime<Utc>,
    location: &'a str,
    gtin: &'a str,
    lot: &'a Option<String>,
    serial: &'a Option<String>,
    expiry: &'a Option<NaiveDate>,
    quantity: &'a Quantity,
    counterparty: &'a Counterparty,
    documents: &'a Documents,
    scan: &'a ScanSource,
    reason: &'a Option<String>,
    corrects: &'a Option<MovementId>,
}

impl<'a> From<&'a NewMovement> for NewMovementV1Ref<'a> {
    fn from(b: &'a NewMovement) -> Self {
        NewMovementV1Ref {
            kind: &b.kind,
            station: &b.station,
            operator: &b.operator,
            device_time: &b.device_time,
            location: &b.location,
            gtin: &b.gtin,
            lot: &b.lot,
            serial: &b.serial,
            expiry: &b.expiry,
            quantity: &b.quantity,
            counterparty: &b.counterparty,
            documents: &b.documents,
            scan: &b.scan,
            reason: &b.reason,
            corrects: &b.corrects,
        }
    }
}
