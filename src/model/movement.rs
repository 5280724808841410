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
    /// Goods taken into stock at a receiving dock, from a supplier.
    Receipt,
    /// Goods picked and shipped to a customer against an order.
    Dispatch,
    /// Goods coming back from a customer (into quarantine or stock, by the
    /// station's policy).
    Return,
    /// A stock count change with no partner: the quantity carries its own sign.
    Adjustment,
    /// Undoes exactly one earlier movement (`corrects`), with a reason; the
    /// original is never changed.
    Correction,
    /// Goods shipped to another site of the same company (`own_sites`).
    TransferOut,
    /// Goods received from another site of the same company.
    TransferIn,
}

impl Kind {
    /// +1 when stock arrives, -1 when it leaves, 0 when the quantity itself
    /// carries the sign (adjustments and corrections can go either way).
    pub fn direction(self) -> i8 {
        match self {
            Kind::Receipt | Kind::Return | Kind::TransferIn => 1,
            Kind::Dispatch | Kind::TransferOut => -1,
            Kind::Adjustment | Kind::Correction => 0,
        }
    }

    /// The kind as stored, sent over the API and shown in reports (`receipt`,
    /// `transfer_out`...).
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
    /// A count of units: AI 30 or 37, else 1 for a scan that carries no
    /// quantity.
    Units(i64),
    /// A variable measure (AIs 310n to 369n: net weight, length, volume...),
    /// kept exact.
    Measure {
        /// The digits of the value: 310**3** `001250` is mantissa 1250, scale 3.
        mantissa: i64,
        /// How many of `mantissa`'s digits are decimals: the AI's last digit (3
        /// in 3103).
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
    /// The partner's Global Location Number (13 digits), when the scan or the
    /// station's context named one.
    pub gln: Option<String>,
    /// The partner's name as the context gave it (e.g. a customer of a pick
    /// list), when known.
    pub name: Option<String>,
}

impl Counterparty {
    /// True when neither GLN nor name is known (receipts without a supplier,
    /// adjustments).
    pub fn is_empty(&self) -> bool {
        self.gln.is_none() && self.name.is_none()
    }
}

/// Business documents the movement belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Documents {
    /// The purchase order the goods were received against, as set in the
    /// receiving station's context from a handheld.
    pub purchase_order: Option<String>,
    /// The customer order a pick belongs to: the dispatch station's open order
    /// (AI 400 or a handheld).
    pub order: Option<String>,
    /// The despatch advice the goods arrived with: its GSIN (AI 402).
    pub despatch_advice: Option<String>,
    /// The SSCC (AI 00) of the pallet being unpacked when the scan was made.
    pub sscc: Option<String>,
}

/// The scan exactly as the device sent it and how it was read, so an
/// auditor can re-parse it with a later parser.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ScanSource {
    /// The bytes exactly as the scanner or handheld sent them, GS separators
    /// and AIM prefix included.
    #[serde(with = "raw_bytes")]
    pub raw: Vec<u8>,
    /// AIM symbology identifier, e.g. `]C1`, `]d2`.
    pub symbology: String,
    /// The device profile (`devices/*.toml`) that framed the scan; `http` for a
    /// handheld, `image` for a photo.
    pub device_profile: String,
    /// The scantrail version whose GS1 parser read the scan
    /// (`CARGO_PKG_VERSION`).
    pub parser_version: String,
}

/// A movement as the station logic decides it, before the store gives it
/// its place in the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewMovement {
    /// What happened to the goods; decides the sign of the balance change.
    pub kind: Kind,
    /// The station (`[[stations]] id`) where the scan was made.
    pub station: String,
    /// The operator signed in at the station (or named by the handheld), as the
    /// client said: not authenticated (see `author`); empty when nobody signed
    /// in.
    pub operator: String,
    /// When the device made the scan (the site's clock), not when it was
    /// committed.
    pub device_time: DateTime<Utc>,
    /// The location the goods are at after the movement (or left from): the
    /// station's context location, else the station's own.
    pub location: String,
    /// The product's GTIN, 14 digits (AI 01).
    pub gtin: String,
    /// The batch/lot (AI 10), when the barcode carried one.
    pub lot: Option<String>,
    /// The serial number (AI 21), when the barcode carried one: the unit is
    /// then tracked one by one.
    pub serial: Option<String>,
    /// The expiry date (AI 17), when the barcode carried one.
    pub expiry: Option<NaiveDate>,
    /// How much moved; always positive for receipts and picks, the kind gives
    /// the sign.
    pub quantity: Quantity,
    /// The supplier, customer or other site the goods came from or went to.
    pub counterparty: Counterparty,
    /// The purchase order, customer order, despatch advice and SSCC of the
    /// station's context.
    pub documents: Documents,
    /// The raw scan and how it was read, for auditors.
    pub scan: ScanSource,
    /// Why, for the movements that need one: a correction's reason, a return's
    /// reason (the station's `return_reason`); `None` otherwise.
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
    /// The site that recorded the movement (`[site] id`).
    pub origin: String,
    /// The movement's place in its origin's journal: from 1, gap-free.
    pub seq: u64,
}

/// A committed movement: never updated, never deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Movement {
    /// The site that recorded it (`[site] id`): a head office store holds many
    /// origins.
    pub origin: String,
    /// Per origin, starting at 1, gap-free.
    pub seq: u64,
    /// Hash of the previous movement of this origin; zeros for seq 1.
    pub prev_hash: Hash,
    /// What was decided at the station, exactly as committed.
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

    /// Where this movement sits in the journal: (origin, seq).
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
