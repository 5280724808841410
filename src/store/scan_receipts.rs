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
//!
//! Receipts are kept for the last `KEEP_NEWEST` scans or `KEEP_DAYS` days,
//! whichever keeps more (a handheld retries within seconds; a week covers
//! one that was switched off over a holiday), but never more than
//! `RECEIPTS_PER_MB` for each MiB of `[store] memory_mb`: every receipt is
//! two sled entries, and sled keeps a little of every entry in memory, so
//! a week of a site scanning flat out (a billion receipts at 2,500 scans a
//! second) would hold the daemon's memory to nothing (BENCHMARKS.md, "The
//! soak"). Beside each receipt an order entry keyed by the time it was
//! written lets `Journal::prune_scan_receipts` drop the oldest. Receipts
//! written before order entries existed are never pruned (there are few:
//! one release wrote them).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::keys::{prefix, Key, KeyReader};
use crate::model::MovementId;

/// Receipts always kept, however old: the newest this many.
pub const KEEP_NEWEST: u64 = 100_000;
/// Receipts kept, however many (up to the memory's share): those of the
/// last this many days.
pub const KEEP_DAYS: i64 = 7;
/// The most receipts kept for each MiB of `[store] memory_mb`: 1,048,576 at
/// the default 512 MiB, a week of a site scanning 1.7 times a second round
/// the clock. Each costs ~60 bytes of the daemon's memory once sled has
/// opened the store (two entries at ~29 bytes: BENCHMARKS.md, "The soak"),
/// so they take at most about an eighth of the bound.
pub const RECEIPTS_PER_MB: u64 = 2_048;

/// Which receipts `Journal::prune_scan_receipts` keeps: the newest
/// `newest`, and those of the last `days` days, but no more than `most` in
/// all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keep {
    /// The newest this many are kept, however old.
    pub newest: u64,
    /// Those of the last this many days are kept, up to `most`.
    pub days: i64,
    /// Never more than this many.
    pub most: u64,
}

impl Keep {
    /// The rule for a daemon held to `memory_mb` MiB.
    pub fn within(memory_mb: u64) -> Keep {
        Keep {
            newest: KEEP_NEWEST,
            days: KEEP_DAYS,
            most: memory_mb.saturating_mul(RECEIPTS_PER_MB).max(KEEP_NEWEST),
        }
    }
}

/// How many receipts the store holds, as the upkeep counted them: all the
/// order entries at its first run, then only those written since, so a
/// run that prunes nothing reads only the new ones. Kept by the caller
/// between runs; lost with the process, it is counted again at the next
/// start. A receipt written with a clock set back behind the last one
/// counted goes uncounted (it is pruned with the oldest all the same).
#[derive(Debug, Default)]
pub struct Tally {
    pub(super) held: u64,
    pub(super) counted_to: Option<Vec<u8>>,
}

impl Tally {
    /// The receipts held after the last run.
    pub fn held(&self) -> u64 {
        self.held
    }
}

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

/// The order entry of a receipt written at `at`.
fn order_key(at: DateTime<Utc>, device: &str, scan_id: &str) -> Vec<u8> {
    let ns = at.timestamp_nanos_opt().unwrap_or(i64::MAX).max(0) as u64;
    Key::new(prefix::SCAN_RECEIPT_ORDER)
        .u64(ns)
        .str(device)
        .str(scan_id)
        .into_vec()
}

/// Where order entries of receipts written at `ns` (ns since 1970) and
/// later begin.
pub(super) fn order_prefix(ns: u64) -> Vec<u8> {
    Key::new(prefix::SCAN_RECEIPT_ORDER).u64(ns).into_vec()
}

/// An order entry's time and the key of its receipt; `None` for a key
/// that is not one.
pub(super) fn read_order_key(k: &[u8]) -> Option<(u64, Vec<u8>)> {
    let mut r = KeyReader::new(k);
    let ns = r.u64()?;
    let device = r.str()?;
    let scan_id = r.str()?;
    Some((ns, key(&device, &scan_id)))
}

/// The time before which a receipt may be pruned, `days` before `now`, in
/// ns as order keys hold it.
pub(super) fn prune_before(now: DateTime<Utc>, days: i64) -> u64 {
    let t = now - chrono::Duration::days(days);
    t.timestamp_nanos_opt().unwrap_or(0).max(0) as u64
}

impl ScanReceipt {
    /// The writes the committer makes for `outcome` at `at`: the receipt
    /// and its order entry.
    pub(super) fn write(self, outcome: Outcome, at: DateTime<Utc>) -> [(Vec<u8>, Vec<u8>); 2] {
        let order = order_key(at, &self.device, &self.scan_id);
        let stored = StoredReceipt {
            body: self.body,
            outcome,
            extra: self.extra,
        };
        [
            (key(&self.device, &self.scan_id), stored.encode()),
            (order, Vec::new()),
        ]
    }
}
