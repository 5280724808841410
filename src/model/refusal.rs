//! Why a scan was refused: a stable code for machines (the handheld API,
//! the event stream, the rejected-scan log, metrics) and words for the
//! screen. The codes are an API contract: a variant's serialised name is
//! what clients match on, so a name never changes once released; a new
//! reason is a new variant.

use serde::{Deserialize, Serialize};

/// A refusal (or, for a policy set to warn, a warning) code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalCode {
    /// The barcode could not be parsed as GS1.
    Unreadable,
    /// A GS1 barcode without a GTIN (AI 01).
    NoGtin,
    /// Not a GS1 barcode and not a command.
    NotGs1,
    /// The station's view of the store could not be read.
    StoreUnavailable,
    /// A GTIN not in the product master.
    UnknownGtin,
    /// The lot is past its expiry date.
    Expired,
    /// The serial is already in stock.
    DuplicateSerial,
    /// Dispatch without an order in the station's context.
    NoOrder,
    /// No stock of the lot to take from.
    NoLotStock,
    /// The lot or item is on hold (recall, quarantine).
    OnHold,
    /// The item is not on the order's pick list.
    NotOnOrder,
    /// The pick list asks for another lot.
    WrongBatch,
    /// Received: a serial the supplier's captured despatch advice
    /// (EPCIS expected receipt) does not list; a warning.
    NotOnDespatchAdvice,
    /// More than the order asks for.
    QuantityExceeded,
    /// A lot that expires later than one still on hand (first expiry,
    /// first out).
    Fefo,
    /// A return of something never dispatched.
    NotDispatched,
    /// A return without a reason in the station's context.
    NoReturnReason,
    /// The product is serialised but the barcode has no serial.
    MissingSerial,
    /// The product is tracked by lot but the barcode has no lot.
    MissingLot,
    /// The serialised item has already left.
    AlreadyDispatched,
    /// The item is in quarantine.
    Quarantined,
    /// The serialised item is not in stock here.
    NotInStock,
    /// A badge barcode without an operator name.
    BadBadge,
    /// A command barcode scantrail does not know.
    UnknownCommand,
    /// `CMD:VOID` with no scan to void at the station.
    NothingToVoid,
    /// `CMD:VOID` whose correction breaks a rule.
    VoidFailed,
    /// A scan for a station that is not configured.
    UnknownStation,
    /// A scan id reused by its device for a different scan.
    ScanIdReused,
    /// The site's disk is full: nothing can be recorded.
    DiskFull,
    /// The store cannot record scans right now.
    StoreError,
}

impl RefusalCode {
    /// Every code, for documentation and tests.
    pub const ALL: [RefusalCode; 30] = [
        RefusalCode::Unreadable,
        RefusalCode::NoGtin,
        RefusalCode::NotGs1,
        RefusalCode::StoreUnavailable,
        RefusalCode::UnknownGtin,
        RefusalCode::Expired,
        RefusalCode::DuplicateSerial,
        RefusalCode::NoOrder,
        RefusalCode::NoLotStock,
        RefusalCode::OnHold,
        RefusalCode::NotOnOrder,
        RefusalCode::WrongBatch,
        RefusalCode::QuantityExceeded,
        RefusalCode::Fefo,
        RefusalCode::NotDispatched,
        RefusalCode::NoReturnReason,
        RefusalCode::MissingSerial,
        RefusalCode::MissingLot,
        RefusalCode::AlreadyDispatched,
        RefusalCode::Quarantined,
        RefusalCode::NotInStock,
        RefusalCode::BadBadge,
        RefusalCode::UnknownCommand,
        RefusalCode::NothingToVoid,
        RefusalCode::VoidFailed,
        RefusalCode::UnknownStation,
        RefusalCode::ScanIdReused,
        RefusalCode::DiskFull,
        RefusalCode::StoreError,
        RefusalCode::NotOnDespatchAdvice,
    ];

    /// The code as clients see it (its serialised name).
    /// The code named `name` (as `as_str` gives it), if there is one.
    pub fn from_name(name: &str) -> Option<RefusalCode> {
        RefusalCode::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// The code's name in the API and the rejected-scan log.
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalCode::Unreadable => "unreadable",
            RefusalCode::NoGtin => "no_gtin",
            RefusalCode::NotGs1 => "not_gs1",
            RefusalCode::StoreUnavailable => "store_unavailable",
            RefusalCode::UnknownGtin => "unknown_gtin",
            RefusalCode::Expired => "expired",
            RefusalCode::DuplicateSerial => "duplicate_serial",
            RefusalCode::NoOrder => "no_order",
            RefusalCode::NoLotStock => "no_lot_stock",
            RefusalCode::OnHold => "on_hold",
            RefusalCode::NotOnOrder => "not_on_order",
            RefusalCode::WrongBatch => "wrong_batch",
            RefusalCode::NotOnDespatchAdvice => "not_on_despatch_advice",
            RefusalCode::QuantityExceeded => "quantity_exceeded",
            RefusalCode::Fefo => "fefo",
            RefusalCode::NotDispatched => "not_dispatched",
            RefusalCode::NoReturnReason => "no_return_reason",
            RefusalCode::MissingSerial => "missing_serial",
            RefusalCode::MissingLot => "missing_lot",
            RefusalCode::AlreadyDispatched => "already_dispatched",
            RefusalCode::Quarantined => "quarantined",
            RefusalCode::NotInStock => "not_in_stock",
            RefusalCode::BadBadge => "bad_badge",
            RefusalCode::UnknownCommand => "unknown_command",
            RefusalCode::NothingToVoid => "nothing_to_void",
            RefusalCode::VoidFailed => "void_failed",
            RefusalCode::UnknownStation => "unknown_station",
            RefusalCode::ScanIdReused => "scan_id_reused",
            RefusalCode::DiskFull => "disk_full",
            RefusalCode::StoreError => "store_error",
        }
    }
}

impl std::fmt::Display for RefusalCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for RefusalCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_serialised_name_is_the_code_and_codes_are_distinct() {
        let mut seen = std::collections::HashSet::new();
        for code in RefusalCode::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            let back: RefusalCode = serde_json::from_str(&json).unwrap();
            assert_eq!(back, code);
            assert!(seen.insert(code.as_str()), "{code} twice");
        }
        // The codes clients already match on keep their spelling.
        for known in [
            "expired",
            "store_error",
            "disk_full",
            "scan_id_reused",
            "fefo",
        ] {
            assert!(seen.contains(known), "{known}");
        }
    }
}
