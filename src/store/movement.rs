//! What the journal records: movements of goods and rejected scans.
//!
//! A `NewMovement` is what the station logic decides; the store stamps it
//! with its origin, seq and hashes on commit and returns the `Movement`.
//! These types are stored inside versioned envelopes (`envelope.rs`): once a
//! version is released its layout never changes, so a new field means a new
//! envelope version, not an edit here.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::chain::Hash;

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
    pub fn id(&self) -> MovementId {
        MovementId {
            origin: self.origin.clone(),
            seq: self.seq,
        }
    }
}

/// A scan that was refused, as the station logic describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRejection {
    /// Stable machine code, e.g. `expired`, `recalled`, `unknown_gtin`.
    pub code: String,
    /// What the operator was told.
    pub words: String,
    pub station: String,
    pub operator: String,
    /// The scan's bytes; only the first `REJECTED_RAW_KEPT` when
    /// `raw_truncated` is set.
    #[serde(with = "raw_bytes")]
    pub raw: Vec<u8>,
    pub time: DateTime<Utc>,
    /// Set when the scan was longer than `REJECTED_RAW_KEPT` bytes: its
    /// whole length and SHA-256. Rejected-log entries written before this
    /// field existed have `None` (envelope V1).
    #[serde(default)]
    pub raw_truncated: Option<Truncated>,
}

/// Bytes of a refused scan kept in the rejected log: enough for any real
/// barcode (a 2D code holds at most about 3 KB), so only garbage is cut,
/// and a hostile client cannot grow the store by megabytes a request.
pub const REJECTED_RAW_KEPT: usize = 4096;

/// What is kept of a refused scan's bytes beyond `REJECTED_RAW_KEPT`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Truncated {
    /// The scan's whole length in bytes.
    pub len: u64,
    /// SHA-256 of the whole scan.
    pub sha256: Hash,
}

impl NewRejection {
    /// Cuts `raw` to `REJECTED_RAW_KEPT` bytes, keeping the whole length
    /// and hash; the store calls it before a rejection is hashed.
    pub fn bound_raw(&mut self) {
        if self.raw.len() <= REJECTED_RAW_KEPT || self.raw_truncated.is_some() {
            return;
        }
        use sha2::Digest;
        self.raw_truncated = Some(Truncated {
            len: self.raw.len() as u64,
            sha256: Hash(sha2::Sha256::digest(&self.raw).into()),
        });
        self.raw.truncate(REJECTED_RAW_KEPT);
        self.raw.shrink_to_fit();
    }
}

/// The layouts of rejected scans before `raw_truncated`, frozen: envelope
/// V1 and sync protocol 1 hold them, and their hashes were computed over
/// this shape.
pub mod rejection_v1 {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Serialize};

    use super::{raw_bytes, Hash, NewRejection, Rejection};

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct RejectionV1 {
        pub origin: String,
        pub seq: u64,
        pub prev_hash: Hash,
        pub body: NewRejectionV1,
        pub hash: Hash,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct NewRejectionV1 {
        pub code: String,
        pub words: String,
        pub station: String,
        pub operator: String,
        #[serde(with = "raw_bytes")]
        pub raw: Vec<u8>,
        pub time: DateTime<Utc>,
    }

    /// The V1 shape borrowed from a current body, for hashing.
    #[derive(Serialize)]
    pub struct BodyV1Ref<'a> {
        code: &'a str,
        words: &'a str,
        station: &'a str,
        operator: &'a str,
        #[serde(serialize_with = "raw_bytes::serialize")]
        raw: &'a [u8],
        time: &'a DateTime<Utc>,
    }

    impl<'a> From<&'a NewRejection> for BodyV1Ref<'a> {
        fn from(b: &'a NewRejection) -> BodyV1Ref<'a> {
            BodyV1Ref {
                code: &b.code,
                words: &b.words,
                station: &b.station,
                operator: &b.operator,
                raw: &b.raw,
                time: &b.time,
            }
        }
    }

    impl From<RejectionV1> for Rejection {
        fn from(r: RejectionV1) -> Rejection {
            let b = r.body;
            Rejection {
                origin: r.origin,
                seq: r.seq,
                prev_hash: r.prev_hash,
                body: NewRejection {
                    code: b.code,
                    words: b.words,
                    station: b.station,
                    operator: b.operator,
                    raw: b.raw,
                    time: b.time,
                    raw_truncated: None,
                },
                hash: r.hash,
            }
        }
    }
}

/// A rejected scan in its own append-only, hash-chained log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    pub origin: String,
    pub seq: u64,
    pub prev_hash: Hash,
    pub body: NewRejection,
    pub hash: Hash,
}

/// Where a serialised item is now, derived from its last movement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SerialState {
    InStock {
        location: String,
        since: DateTime<Utc>,
        by: MovementId,
    },
    Dispatched {
        to: Counterparty,
        at: DateTime<Utc>,
        by: MovementId,
    },
    Returned {
        location: String,
        at: DateTime<Utc>,
        by: MovementId,
    },
    /// The receipt that brought it in was corrected away: it is not here.
    Voided { at: DateTime<Utc>, by: MovementId },
}

/// A lot balance at one location in one unit: an exact decimal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    pub mantissa: i128,
    pub scale: u8,
}

impl Balance {
    pub const ZERO: Balance = Balance {
        mantissa: 0,
        scale: 0,
    };

    /// Adds `mantissa * 10^-scale`, keeping the finer scale. Saturates
    /// rather than panicking: a balance that large is already nonsense and
    /// verify still compares like with like.
    pub fn add(self, mantissa: i128, scale: u8) -> Balance {
        let target = self.scale.max(scale);
        let up =
            |m: i128, from: u8| m.saturating_mul(10i128.saturating_pow(u32::from(target - from)));
        Balance {
            mantissa: up(self.mantissa, self.scale).saturating_add(up(mantissa, scale)),
            scale: target,
        }
    }
}

/// Raw scan bytes: postcard gets them as bytes (the same encoding as a
/// `Vec<u8>`: length then bytes), JSON as hex, so they survive any content.
mod raw_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&hex::encode(v))
        } else {
            s.serialize_bytes(v)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        if d.is_human_readable() {
            let s = String::deserialize(d)?;
            hex::decode(&s).map_err(|_| serde::de::Error::custom("expected hex digits"))
        } else {
            serde_bytes_vec(d)
        }
    }

    fn serde_bytes_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(v)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Vec<u8>, A::Error> {
                let mut out = Vec::new();
                while let Some(b) = seq.next_element()? {
                    out.push(b);
                }
                Ok(out)
            }
        }
        d.deserialize_byte_buf(V)
    }
}

/// The head office acknowledgement the outbox resumes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxPosition {
    pub acked_seq: u64,
    pub acked_hash: Hash,
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
}
