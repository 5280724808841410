//! What the journal records: movements of goods.
//!
//! A `NewMovement` is what the station logic decides; the store stamps it
//! with its origin, seq and hashes on commit and returns the `Movement`.
//! These types are stored inside the store's versioned envelopes
//! (`store::envelope`) and sent to head office: once a layout is released it
//! never changes, so a new field means a new envelope version (and a frozen
//! copy of the old layout in the store), not an edit here.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::raw_bytes;
use super::Hash;

/// Why stock moved. The sign of a movement's effect on a lot balance follows
/// from its kind (see `Kind::direction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Receipt,
    Dispatch,
    Return,
    Adjustment,
    Correction,
    TransferOut,
    TransferIn,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::Receipt,
        Kind::Dispatch,
        Kind::Return,
        Kind::Adjustment,
        Kind::Correction,
        Kind::TransferOut,
        Kind::TransferIn,
    ];

    /// +1 when stock arrives, -1 when it leaves, 0 when the quantity itself
    /// carries the sign (adjustments and corrections can go either way).
    pub fn direction(self) -> i8 {
        match self {
            Kind::Receipt | Kind::Return | Kind::TransferIn => 1,
            Kind::Dispatch | Kind::TransferOut => -1,
            Kind::Adjustment | Kind::Correction => 0,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Receipt => "receipt",
            Kind::Dispatch => "dispatch",
            Kind::Return => "return",
            Kind::Adjustment => "adjustment",
            Kind::Correction => "correction",
            Kind::TransferOut => "transfer_out",
            Kind::TransferIn => "transfer_in",
        }
    }
}

/// How much moved: a count of units (AI 30/37), or a measure from AIs such
/// as 310n (net weight, kg) kept as an exact decimal, never a float.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    Units(i64),
    Measure {
        /// The digits of the value: 310**3** `001250` is mantissa 1250, scale 3.
        mantissa: i64,
        scale: u8,
        /// The unit as the AI defines it, e.g. `kg`, `m`, `l`.
        unit: String,
    },
}

impl Quantity {
    /// (mantissa, scale, unit): a count is (n, 0, "").
    pub fn parts(&self) -> (i128, u8, &str) {
        match self {
            Quantity::Units(n) => (i128::from(*n), 0, ""),
            Quantity::Measure {
                mantissa,
                scale,
                unit,
            } => (i128::from(*mantissa), *scale, unit.as_str()),
        }
    }

    /// The unit a balance of this quantity is kept in: "" for a count.
    pub fn unit(&self) -> &str {
        self.parts().2
    }
}

/// Who the goods came from or went to.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Counterparty {
    pub gln: Option<String>,
    pub name: Option<String>,
}

impl Counterparty {
    pub fn is_empty(&self) -> bool {
        self.gln.is_none() && self.name.is_none()
    }
}

/// Business documents the movement belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Documents {
    pub purchase_order: Option<String>,
    pub order: Option<String>,
    pub despatch_advice: Option<String>,
    pub sscc: Option<String>,
}

/// The scan exactly as the device sent it and how it was read, so an
/// auditor can re-parse it with a later parser.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ScanSource {
    #[serde(with = "raw_bytes")]
    pub raw: Vec<u8>,
    /// AIM symbology identifier, e.g. `]C1`, `]d2`.
    pub symbology: String,
    pub device_profile: String,
    pub parser_version: String,
}

/// A movement as the station logic decides it, before the store gives it
/// its place in the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewMovement {
    pub kind: Kind,
    pub station: String,
    pub operator: String,
    pub device_time: DateTime<Utc>,
    pub location: String,
    pub gtin: String,
    pub lot: Option<String>,
    pub serial: Option<String>,
    pub expiry: Option<NaiveDate>,
    pub quantity: Quantity,
    pub counterparty: Counterparty,
    pub documents: Documents,
    pub scan: ScanSource,
    pub reason: Option<String>,
    /// For a correction: the movement it corrects.
    pub corrects: Option<MovementId>,
    /// Who recorded it, as scantrail authenticated them: the token's name
    /// of a handheld or person, the port of a serial scanner,
    /// `local:LOGIN` for a command run on the site machine without the
    /// daemon. Never what a client claims (that is `operator`). Empty for
    /// movements recorded before scantrail kept authors (envelope V1).
    pub author: String,
}

/// Where a movement sits in the journal: its origin site and its seq there.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MovementId {
    pub origin: String,
    pub seq: u64,
}

/// A committed movement: never updated, never deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Movement {
    pub origin: String,
    /// Per origin, starting at 1, gap-free.
    pub seq: u64,
    /// Hash of the previous movement of this origin; zeros for seq 1.
    pub prev_hash: Hash,
    pub body: NewMovement,
    /// SHA-256 over the canonical encoding of everything above.
    pub hash: Hash,
}

impl Movement {
    /// A movement decided but not yet in the journal: its origin, seq 0
    /// (which no committed movement has) and zero hashes. The desk checks
    /// what is still being committed through it like anything recorded.
    pub fn uncommitted(origin: &str, body: NewMovement) -> Movement {
        Movement {
            origin: origin.to_owned(),
            seq: 0,
            prev_hash: Hash::GENESIS,
            body,
            hash: Hash::GENESIS,
        }
    }

    pub fn id(&self) -> MovementId {
        MovementId {
            origin: self.origin.clone(),
            seq: self.seq,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;
    use chrono::TimeZone;

    /// A plausible movement for unit tests; `n` varies serial and time.
    pub fn sample(n: u64) -> NewMovement {
        NewMovement {
            kind: Kind::Receipt,
            station: "dock-1".into(),
            operator: "op7".into(),
            device_time: Utc.timestamp_opt(1_780_000_000 + n as i64, 0).unwrap(),
            location: "A-01".into(),
            gtin: "09506000134352".into(),
            lot: Some("LOT42".into()),
            serial: Some(format!("S{n:06}")),
            expiry: NaiveDate::from_ymd_opt(2027, 3, 31),
            quantity: Quantity::Units(1),
            counterparty: Counterparty {
                gln: Some("9506000000019".into()),
                name: None,
            },
            documents: Documents {
                purchase_order: Some("PO-1".into()),
                ..Documents::default()
            },
            scan: ScanSource {
                raw: b"]C101095060001343521727033110LOT42\x1d21S000001".to_vec(),
                symbology: "]C1".into(),
                device_profile: "generic".into(),
                parser_version: "0.1.0".into(),
            },
            reason: None,
            corrects: None,
            author: "hh-test".into(),
        }
    }

    /// `body` as origin `north` committed it at `seq`, hashes left zero.
    pub fn committed(seq: u64, body: NewMovement) -> Movement {
        Movement {
            origin: "north".into(),
            seq,
            prev_hash: Hash::GENESIS,
            body,
            hash: Hash::GENESIS,
        }
    }
}
