//! The record of the last `verify` (when, by whom, what it said), kept in
//! the store so a restart does not forget it: the console's Journal page
//! and `scantrail verify` write it, the page shows it, the doctor and the
//! alerts (`verify_failed`) read it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::store::verify::{Report, Since};
use crate::store::{Store, StoreError};

/// The last `verify` run from the console: when, by whom, and what it
/// said. Kept in the store's side tree [`VERIFY_TREE`] (convenience state
/// for the page, not evidence), so it survives a restart.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VerifyRun {
    pub(crate) at: DateTime<Utc>,
    pub(crate) by: String,
    pub(crate) ok: bool,
    pub(crate) clean: bool,
    pub(crate) summary: String,
    pub(crate) problems: Vec<String>,
}

impl VerifyRun {
    /// The record of a verify run by `by` that ended with `outcome`.
    pub fn of(
        outcome: Result<&crate::store::verify::Report, &dyn std::fmt::Display>,
        by: String,
    ) -> VerifyRun {
        match outcome {
            Ok(r) => VerifyRun {
                at: Utc::now(),
                by,
                ok: r.is_ok(),
                clean: r.is_clean(),
                summary: format!(
                    "{} movements, {} index entries, {} rejected scans checked",
                    r.movements, r.index_entries, r.rejections
                ),
                problems: r
                    .problems
                    .iter()
                    .chain(r.violations.iter())
                    .map(|p| p.to_string())
                    .collect(),
            },
            Err(e) => VerifyRun {
                at: Utc::now(),
                by,
                ok: false,
                clean: false,
                summary: format!("verify failed: {e}"),
                problems: Vec::new(),
            },
        }
    }
}

impl VerifyRun {
    /// The record of an incremental verify (`Store::verify_since`) from
    /// `since`: what it checked, and that the totals were not.
    pub fn of_incremental(
        outcome: Result<&Report, &dyn std::fmt::Display>,
        since: Since,
        by: String,
    ) -> VerifyRun {
        let mut run = VerifyRun::of(outcome, by);
        if let Ok(r) = outcome {
            run.summary = incremental_summary(since, r);
        }
        run
    }
}

/// What an incremental verify checked, in words.
pub fn incremental_summary(since: Since, r: &Report) -> String {
    let from = match since {
        Since::Checkpoint => "the verified point".to_owned(),
        Since::Seq(n) => format!("seq {n}"),
    };
    format!(
        "incremental from {from}: {} movements, {} index entries checked (chains and index entries; run `scantrail verify` for the derived totals and the history rules)",
        r.movements, r.index_entries
    )
}

/// The side tree holding the console's last verify, under [`VERIFY_KEY`].
pub const VERIFY_TREE: &str = "console";
const VERIFY_KEY: &[u8] = b"last_verify";

/// Why the record of the last verify cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum VerifyRecordError {
    /// The side tree cannot be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored record is not a [`VerifyRun`].
    #[error("the record of the last verify cannot be read ({0}); run verify again to replace it")]
    Damaged(serde_json::Error),
    /// The run cannot be encoded (not expected of plain data).
    #[error("the outcome of verify cannot be encoded: {0}")]
    Encode(serde_json::Error),
}

/// The last verify run from the console, if any was recorded (also read
/// by `scantrail doctor`).
pub fn last_verify(store: &Store) -> Result<Option<VerifyRun>, VerifyRecordError> {
    let records = store.records().list(VERIFY_TREE)?;
    match records.iter().find(|(k, _)| k.as_slice() == VERIFY_KEY) {
        None => Ok(None),
        Some((_, v)) => serde_json::from_slice(v)
            .map(Some)
            .map_err(VerifyRecordError::Damaged),
    }
}

/// Records `run` as the last verify, durably.
pub fn save_verify(store: &Store, run: &VerifyRun) -> Result<(), VerifyRecordError> {
    let bytes = serde_json::to_vec(run).map_err(VerifyRecordError::Encode)?;
    Ok(store
        .records()
        .save(VERIFY_TREE, VERIFY_KEY, &bytes, true)?)
}
