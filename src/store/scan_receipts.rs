//! Receipts of handheld scans by `scan_id`, kept in the store so that a
//! handheld retrying after the daemon restarted gets the first answer, not
//! a second decision (a lot-level receipt decided twice is counted twice).
//!
//! A receipt is written by the committer in the same atomic, durable batch
//! as the movement or rejected scan it answers for, so a scan that was
//! answered has its receipt on disk, and a receipt never names a movement
//! that is not. It holds the device and scan id (the key), the SHA-256 of
//! what made the scan (station, data, operator: a reused id with another
//! body is told apart after a restart too), and the outcome: the movement's
//! id, or the refusal's code and words. Anything else the answer carried
//! (warnings) is kept as the caller's own bytes.

use serde::{Deserialize, Serialize};

use super::keys::{prefix, Key};
use crate::model::MovementId;

/// What the committer writes beside a movement or rejected scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanReceipt {
    /// The device (token name) that owns the scan id.
    pub device: String,
    /// The device's own id of the scan.
    pub scan_id: String,
    /// SHA-256 of what made the scan (see `site::retries::fingerprint`).
    pub body: [u8; 32],
    /// The caller's own extra bytes (the site keeps the answer's warnings).
    pub extra: Vec<u8>,
}

/// How a stored scan was answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// Accepted: the movement recorded for it.
    Accepted(MovementId),
    /// Refused: the refusal's code and the words the operator was told.
    Refused {
        /// The refusal code as the API names it.
        code: String,
        /// What the operator was told.
        words: String,
    },
}

/// A receipt as read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredReceipt {
    /// SHA-256 of what made the scan.
    pub body: [u8; 32],
    /// How it was answered.
    pub outcome: Outcome,
    /// The caller's own extra bytes.
    pub extra: Vec<u8>,
}

/// The one envelope version of a receipt (a leading byte, so a later
/// layout can be told apart).
const VERSION: u8 = 1;

impl StoredReceipt {
    pub(super) fn encode(&self) -> Vec<u8> {
        let mut out = vec![VERSION];
        out.extend(postcard::to_stdvec(self).expect("a receipt always encodes"));
        out
    }

    pub(super) fn decode(bytes: &[u8]) -> Option<StoredReceipt> {
        match bytes.split_first() {
            Some((&VERSION, rest)) => postcard::from_bytes(rest).ok(),
            _ => None,
        }
    }
}

/// The key of a device's scan id.
pub(super) fn key(device: &str, scan_id: &str) -> Vec<u8> {
    Key::new(prefix::SCAN_RECEIPT)
        .str(device)
        .str(scan_id)
        .into_vec()
}

impl ScanReceipt {
    /// The key and value the committer writes for `outcome`.
    pub(super) fn write(self, outcome: Outcome) -> (Vec<u8>, Vec<u8>) {
        let stored = StoredReceipt {
            body: self.body,
            outcome,
            extra: self.extra,
        };
        (key(&self.device, &self.scan_id), stored.encode())
    }
}
