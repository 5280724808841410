//! Upkeep the site daemon does on its own, so that a store left alone for
//! months does not grow with what only matters for a while: the receipts
//! of handheld scans (`store::scan_receipts`) past the newest 100,000 and
//! the last seven days, or past the share of `[store] memory_mb` they may
//! take, are dropped, at start and then every minute (a site scanning flat
//! out writes 150,000 a minute). At start
//! it also checks what was committed since the last intact verify (`verify
//! --since last`), so damage done while the daemon was stopped is named
//! in its log, its alerts (`verify_failed`) and the console before anyone
//! asks.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use crate::site::last_verify::{last_verify, save_verify, VerifyRun};
use crate::store::scan_receipts::{Keep, Tally};
use crate::store::verify::Since;
use crate::store::Store;

/// How often the upkeep runs.
const EVERY: Duration = Duration::from_secs(60);

/// Runs the upkeep until the task is aborted, keeping the receipts `keep`
/// says.
pub async fn run(store: Arc<Store>, keep: Keep) {
    verify_since_last(store.clone()).await;
    let mut ticks = tokio::time::interval(EVERY);
    let mut tally = Tally::default();
    loop {
        ticks.tick().await;
        let store = store.clone();
        let pruned = tokio::task::spawn_blocking(move || {
            let pruned = store
                .journal()
                .prune_scan_receipts(keep, &mut tally, Utc::now());
            (pruned, tally)
        })
        .await;
        let pruned = match pruned {
            Ok((pruned, counted)) => {
                tally = counted;
                pruned
            }
            Err(e) => {
                // The count went with the task: the next run counts again.
                tally = Tally::default();
                tracing::warn!(error = %e, "the scan-receipt upkeep failed");
                continue;
            }
        };
        match pruned {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                receipts = n,
                held = tally.held(),
                most = keep.most,
                "old scan receipts dropped"
            ),
            Err(e) => {
                // Some batches may have gone: count again rather than guess.
                tally = Tally::default();
                tracing::warn!(error = %e, "cannot drop old scan receipts; trying again in a minute")
            }
        }
    }
}

/// The incremental verify at start. It reads only durable movements, so
/// scanning goes on while it runs. It becomes the last verify (the
/// console's, the alert's) when it finds damage or when none was recorded;
/// an intact one does not replace a whole verify's record, which says more
/// (the totals, the history rules) and, if it found damage, must stay
/// until a whole verify finds the store intact.
async fn verify_since_last(store: Arc<Store>) {
    let checked = tokio::task::spawn_blocking(move || {
        let report = store.verify_since(Since::Checkpoint, &|_| {});
        let intact = report.as_ref().is_ok_and(|r| r.is_ok());
        let recorded = matches!(last_verify(&store), Ok(Some(_)));
        if !intact || !recorded {
            let outcome = report.as_ref().map_err(|e| e as &dyn std::fmt::Display);
            let run =
                VerifyRun::of_incremental(outcome, Since::Checkpoint, "the daemon at start".into());
            if let Err(e) = save_verify(&store, &run) {
                tracing::warn!(error = %e, "cannot record the verify at start");
            }
        }
        report
    })
    .await;
    match checked {
        Ok(Ok(r)) if r.is_ok() => tracing::info!(
            movements = r.movements,
            "verified what was committed since the last verified point"
        ),
        Ok(Ok(r)) => tracing::error!(
            problems = r.problem_count,
            first_bad = ?r.first_bad(),
            "the store failed its verify at start: see the problems on the console's Journal page; `scantrail reindex` mends derived entries, a broken chain needs a backup (README, \"The journal\")"
        ),
        Ok(Err(e)) => tracing::warn!(error = %e, "cannot verify the store at start"),
        Err(e) => tracing::warn!(error = %e, "the verify at start failed"),
    }
}
