//! One synthetic movement per number: what `scantrail-dev dev-append`
//! commits, and what the store and sync benchmarks build their chains
//! from, so their figures compare.

use chrono::{TimeZone, Utc};

use crate::store::{Counterparty, Documents, Kind, NewMovement, Quantity, ScanSource};

/// A plausible movement: the receipt of a unit with a unique serial, in
/// 1000 lots over 50 GTINs, with a counterparty and a PO. Only receipts:
/// a dispatch of a unit never received is a history `verify` reports.
pub fn synthetic_movement(n: u64) -> NewMovement {
    let gtin = format!("0950600013{:04}", n % 50);
    let lot = format!("L{:05}", n % 1000);
    let serial = format!("SN{n:010}");
    let raw = format!("]C101{gtin}10{lot}\u{1d}21{serial}");
    NewMovement {
        kind: Kind::Receipt,
        station: format!("dock-{}", n % 4),
        operator: format!("op{}", n % 17),
        device_time: Utc
            .timestamp_opt(1_780_000_000 + (n as i64 % 10_000_000), 0)
            .single()
            .unwrap_or_default(),
        location: format!("A-{:02}", n % 40),
        gtin,
        lot: Some(lot),
        serial: Some(serial),
        expiry: chrono::NaiveDate::from_ymd_opt(2027, 1 + (n % 12) as u32, 1),
        quantity: Quantity::Units(1),
        counterparty: Counterparty {
            gln: Some(format!("95060000{:05}", n % 300)),
            name: None,
        },
        documents: Documents {
            purchase_order: Some(format!("PO-{}", n / 100)),
            ..Documents::default()
        },
        scan: ScanSource {
            raw: raw.into_bytes(),
            symbology: "]C1".into(),
            device_profile: "generic-hid".into(),
            parser_version: env!("CARGO_PKG_VERSION").into(),
        },
        reason: None,
        corrects: None,
        author: "dev-append".into(),
    }
}
