//! What the IT person asks of a store left alone for months: how much it
//! holds, what that takes on disk and in memory against `[store]
//! memory_mb`, and when it was last verified. `GET /api/v1/store` and
//! `scantrail store stats` say it in the same words.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::store::{Store, StoreError};

/// The store's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StoreStats {
    /// Movements held, every origin.
    pub movements: u64,
    /// Rejected scans held, every origin.
    pub rejections: u64,
    /// sled's files, as sled counts them.
    pub bytes_on_disk: u64,
    /// Bytes on disk per movement (none for an empty store).
    pub bytes_per_movement: Option<u64>,
    /// `[store] memory_mb`, in bytes.
    pub memory_bound_bytes: u64,
    /// The daemon's resident memory; none when no daemon runs (the
    /// command read the store itself).
    pub resident_bytes: Option<u64>,
    /// The last verify run (by the console, the command, or the daemon
    /// at start), if any.
    pub last_verify: Option<LastVerify>,
}

/// The last verify, in brief.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LastVerify {
    /// When it ran.
    #[schema(value_type = String, format = DateTime)]
    pub at: DateTime<Utc>,
    /// Who ran it.
    pub by: String,
    /// Whether it found the store intact.
    pub ok: bool,
    /// What it checked or found, in words.
    pub summary: String,
}

impl StoreStats {
    /// Reads the figures of `store`; `resident` is the daemon's memory when
    /// a daemon holds the store.
    pub fn read(
        store: &Store,
        memory_bound_bytes: u64,
        resident_bytes: Option<u64>,
    ) -> Result<StoreStats, StoreError> {
        let stats = store.stats()?;
        // A damaged record is the verify page's to explain; here it is
        // just not shown.
        let last_verify = super::last_verify::last_verify(store)
            .ok()
            .flatten()
            .map(|run| LastVerify {
                at: run.at,
                by: run.by,
                ok: run.ok,
                summary: run.summary,
            });
        Ok(StoreStats {
            movements: stats.movements,
            rejections: stats.rejections,
            bytes_on_disk: stats.bytes_on_disk,
            bytes_per_movement: stats.bytes_on_disk.checked_div(stats.movements),
            memory_bound_bytes,
            resident_bytes,
            last_verify,
        })
    }

    /// The figures as lines for a person.
    pub fn to_text(&self) -> String {
        let mib = |b: u64| format!("{:.0} MiB", b as f64 / f64::from(1 << 20));
        let mut out = String::new();
        out.push_str(&format!("movements        {}\n", self.movements));
        out.push_str(&format!("rejected scans   {}\n", self.rejections));
        out.push_str(&format!(
            "on disk          {}{}\n",
            mib(self.bytes_on_disk),
            self.bytes_per_movement
                .map(|b| format!(", {b} bytes per movement"))
                .unwrap_or_default()
        ));
        out.push_str(&format!(
            "memory           {}\n",
            match self.resident_bytes {
                Some(r) => format!(
                    "{} of the {} bound (the running daemon)",
                    mib(r),
                    mib(self.memory_bound_bytes)
                ),
                None => format!(
                    "bound {} (no daemon runs: its use is not known)",
                    mib(self.memory_bound_bytes)
                ),
            }
        ));
        out.push_str(&format!(
            "last verify      {}\n",
            match &self.last_verify {
                Some(v) => format!(
                    "{} by {}: {} ({})",
                    v.at.format("%Y-%m-%d %H:%M UTC"),
                    v.by,
                    if v.ok { "intact" } else { "PROBLEMS FOUND" },
                    v.summary
                ),
                None => "never (run `scantrail verify`)".to_owned(),
            }
        ));
        out
    }
}
