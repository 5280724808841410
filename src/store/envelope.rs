//! Versioned postcard envelopes for every stored value.
//!
//! postcard is not self-describing: bytes written by one layout decode as
//! garbage (or fail) under another. So every stored value is wrapped in an
//! enum of versions, and a released variant is never edited: a changed type
//! gets a new variant (`V2`) and the old one keeps a frozen copy of its
//! struct. postcard writes the variant index as the first byte, so a value
//! from a newer scantrail is recognised and refused by name instead of being
//! misread.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::movement::rejection_v1::RejectionV1;
use super::movement::OutboxPosition;
use super::movement_v1::MovementV1;
use crate::model::Hash;
use crate::model::{Balance, Movement, Rejection, SerialState};

/// Why a stored value could not be read back.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnvelopeError {
    /// The value was written by a newer scantrail (a later envelope version):
    /// refused rather than misread.
    #[error("a stored {what} has schema version {found}, but this scantrail reads versions up to {known}: upgrade scantrail")]
    UnknownVersion {
        /// The kind of value, for the message (`movement`, `serial state`...).
        what: &'static str,
        /// The version the value carries.
        found: u32,
        /// The newest version this scantrail reads.
        known: u32,
    },
    /// The bytes do not decode under the version they claim: the store is
    /// damaged.
    #[error("a stored {what} cannot be decoded ({reason}): the store is damaged; run `scantrail verify` and restore from a backup")]
    Damaged {
        /// The kind of value, for the message.
        what: &'static str,
        /// postcard's error, for the log.
        reason: String,
    },
}

/// A type stored inside a versioned envelope.
pub trait Stored: Sized {
    /// The kind of value, as errors name it (`movement`, `lot balance`...).
    const WHAT: &'static str;
    /// The value wrapped in the newest envelope version, as postcard bytes.
    fn encode(&self) -> Vec<u8>;
    /// The value back from bytes of any envelope version this scantrail knows;
    /// a newer version or damaged bytes are an `EnvelopeError`.
    fn decode(bytes: &[u8]) -> Result<Self, EnvelopeError>;
}

/// Declares `$env` (owned, for decoding) and a borrowed twin (for encoding
/// without a clone) with the same variants, hence the same bytes.
macro_rules! envelope {
    ($what:literal, $ty:ty, $env:ident, $env_ref:ident, versions = $n:literal) => {
        #[derive(serde::Deserialize)]
        enum $env {
            V1($ty),
        }

        #[derive(serde::Serialize)]
        enum $env_ref<'a> {
            V1(&'a $ty),
        }

        impl $crate::store::envelope::Stored for $ty {
            const WHAT: &'static str = $what;

            fn encode(&self) -> Vec<u8> {
                // Encoding plain data into a Vec cannot fail.
                postcard::to_stdvec(&$env_ref::V1(self)).unwrap_or_default()
            }

            fn decode(bytes: &[u8]) -> Result<Self, $crate::store::envelope::EnvelopeError> {
                $crate::store::envelope::check_version($what, bytes, $n)?;
                match postcard::from_bytes::<$env>(bytes) {
                    Ok($env::V1(v)) => Ok(v),
                    Err(e) => Err($crate::store::envelope::EnvelopeError::Damaged {
                        what: $what,
                        reason: e.to_string(),
                    }),
                }
            }
        }
    };
}

pub(super) fn check_version(
    what: &'static str,
    bytes: &[u8],
    known: u32,
) -> Result<(), EnvelopeError> {
    match bytes.first() {
        None => Err(EnvelopeError::Damaged {
            what,
            reason: "empty value".into(),
        }),
        // Variant index 0 is V1; an index of 128 or more is a multi-byte
        // varint and certainly newer than us.
        Some(&b) if u32::from(b) >= known => Err(EnvelopeError::UnknownVersion {
            what,
            found: if b < 0x80 { u32::from(b) + 1 } else { 129 },
            known,
        }),
        Some(_) => Ok(()),
    }
}

/// The last entry of an origin's chain: where the next seq starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// The seq of the origin's last entry (0 before the first: the next is 1).
    pub seq: u64,
    /// That entry's hash: the next entry's `prev_hash`.
    pub hash: Hash,
}

/// Declares the envelope of a type whose layout changed once: `$old`
/// (frozen, read only, converted with `Into`) is V1, the type itself V2.
macro_rules! envelope_v2 {
    ($what:literal, $ty:ty, $old:ty, $env:ident, $env_ref:ident) => {
        #[derive(Deserialize)]
        enum $env {
            V1($old),
            V2($ty),
        }

        #[derive(Serialize)]
        enum $env_ref<'a> {
            /// Never written again; here so that V2 keeps its index.
            #[allow(dead_code)]
            V1(()),
            V2(&'a $ty),
        }

        impl Stored for $ty {
            const WHAT: &'static str = $what;

            fn encode(&self) -> Vec<u8> {
                postcard::to_stdvec(&$env_ref::V2(self)).unwrap_or_default()
            }

            fn decode(bytes: &[u8]) -> Result<Self, EnvelopeError> {
                check_version($what, bytes, 2)?;
                match postcard::from_bytes::<$env>(bytes) {
                    Ok($env::V1(v)) => Ok(v.into()),
                    Ok($env::V2(v)) => Ok(v),
                    Err(e) => Err(EnvelopeError::Damaged {
                        what: $what,
                        reason: e.to_string(),
                    }),
                }
            }
        }
    };
}

// Movements: V1 had no author (`movement_v1`).
envelope_v2!(
    "movement",
    Movement,
    MovementV1,
    MovementEnvelope,
    MovementEnvelopeRef
);
// Rejected scans: V1 before a long scan was cut to its first
// `REJECTED_RAW_KEPT` bytes (`raw_truncated`).
envelope_v2!(
    "rejected scan",
    Rejection,
    RejectionV1,
    RejectionEnvelope,
    RejectionEnvelopeRef
);
envelope!(
    "serial state",
    SerialState,
    SerialStateEnvelope,
    SerialStateEnvelopeRef,
    versions = 1
);
envelope!(
    "lot balance",
    Balance,
    BalanceEnvelope,
    BalanceEnvelopeRef,
    versions = 1
);
envelope!(
    "lot expiry",
    NaiveDate,
    LotExpiryEnvelope,
    LotExpiryEnvelopeRef,
    versions = 1
);
envelope!(
    "outbox position",
    OutboxPosition,
    OutboxEnvelope,
    OutboxEnvelopeRef,
    versions = 1
);
envelope!(
    "chain head",
    Head,
    HeadEnvelope,
    HeadEnvelopeRef,
    versions = 1
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::movement::tests_support::sample;
    use crate::store::chain;

    fn movement() -> Movement {
        let body = sample(3);
        let hash = chain::movement_hash("north", 1, &Hash::GENESIS, &body);
        Movement {
            origin: "north".into(),
            seq: 1,
            prev_hash: Hash::GENESIS,
            body,
            hash,
        }
    }

    #[test]
    fn movement_round_trips() {
        let m = movement();
        let bytes = m.encode();
        assert_eq!(bytes[0], 1, "V2 is variant 1");
        assert_eq!(Movement::decode(&bytes).unwrap(), m);
    }

    /// `sample(3)` as scantrail wrote it before movements had authors
    /// (envelope V1), byte for byte.
    const V1_MOVEMENT: &str = "00056e6f7274680100000000000000000000000000000000000000000000000000000000000000000006646f636b2d31036f703714323032362d30352d32385432303a32363a34335a04412d30310e303935303630303031333433353201054c4f543432010753303030303033010a323032372d30332d33310002010d39353036303030303030303139000104504f2d310000002c5d433130313039353036303030313334333532313732373033333131304c4f5434321d323153303030303031035d43310767656e6572696305302e312e30000009efe8ad194222294f894ca58a8ab06fc022cc2df27ad79d7d97141e1c53d51a";

    #[test]
    fn a_movement_recorded_before_authors_reads_and_keeps_its_hash() {
        let bytes = hex::decode(V1_MOVEMENT).unwrap();
        let m = Movement::decode(&bytes).unwrap();
        assert_eq!(m.body.author, "");
        let mut expected = movement();
        expected.body.author = String::new();
        expected.hash = m.hash;
        assert_eq!(m, expected);
        assert_eq!(chain::recompute(&m), m.hash, "the V1 hash still verifies");
        // Naming an author changes the hash: it is part of the record.
        let mut authored = m.clone();
        authored.body.author = "hh-1".into();
        assert_ne!(chain::recompute(&authored), m.hash);
    }

    #[test]
    fn raw_bytes_are_plain_postcard_bytes_and_hex_in_json() {
        let m = movement();
        let bytes = m.encode();
        let raw = &m.body.scan.raw;
        let mut expected = vec![raw.len() as u8];
        expected.extend_from_slice(raw);
        assert!(bytes.windows(expected.len()).any(|w| w == expected));
        let json = serde_json::to_string(&m).unwrap();
        assert!(json.contains("\"raw\":\"5d4331"), "{json}");
        assert!(json.contains("\"kind\":\"receipt\""), "{json}");
        let back: Movement = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn other_values_round_trip() {
        let b = Balance {
            mantissa: -1250,
            scale: 3,
        };
        assert_eq!(Balance::decode(&b.encode()).unwrap(), b);
        let h = Head {
            seq: 9,
            hash: Hash([7; 32]),
        };
        assert_eq!(Head::decode(&h.encode()).unwrap(), h);
    }

    #[test]
    fn unknown_version_is_refused_by_name() {
        let mut bytes = movement().encode();
        bytes[0] = 2; // V3, which this build does not know
        let e = Movement::decode(&bytes).unwrap_err();
        assert_eq!(
            e,
            EnvelopeError::UnknownVersion {
                what: "movement",
                found: 3,
                known: 2
            }
        );
        assert!(e.to_string().contains("upgrade scantrail"));
    }

    #[test]
    fn truncated_value_is_damaged_not_a_panic() {
        let bytes = movement().encode();
        for cut in 0..bytes.len() {
            assert!(Movement::decode(&bytes[..cut]).is_err());
        }
    }
}
