//! Refused scans as the journal keeps them, in their own hash-chained log,
//! so an auditor sees what was refused and why.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::raw_bytes;
use super::Hash;

/// A scan that was refused, as the station logic describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRejection {
    /// Stable machine code, e.g. `expired`, `recalled`, `unknown_gtin`.
    pub code: String,
    /// What the operator was told.
    pub words: String,
    /// The station where the scan was refused.
    pub station: String,
    /// The operator signed in at the station, as the client said; empty when
    /// nobody was.
    pub operator: String,
    /// The scan's bytes; only the first `REJECTED_RAW_KEPT` when
    /// `raw_truncated` is set.
    #[serde(with = "raw_bytes")]
    pub raw: Vec<u8>,
    /// When the scan was refused (the site's clock).
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

/// A rejected scan in its own append-only, hash-chained log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// The site that refused the scan (`[site] id`).
    pub origin: String,
    /// Position in the origin's rejected-scan log: from 1, gap-free,
    /// independent of the movements' seqs.
    pub seq: u64,
    /// Hash of the origin's previous rejection; zeros for seq 1.
    pub prev_hash: Hash,
    /// What was refused and what the operator was told.
    pub body: NewRejection,
    /// SHA-256 over the canonical encoding of everything above: the chain an
    /// auditor verifies.
    pub hash: Hash,
}
