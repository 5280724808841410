//! The check the site daemon runs on its own at start: what was committed
//! since the last intact verify (`verify --since last`), so damage done
//! while the daemon was stopped is named in its log, its alerts
//! (`verify_failed`) and the console before anyone asks.

use std::sync::Arc;

use crate::site::last_verify::{last_verify, save_verify, VerifyRun};
use crate::store::verify::Since;
use crate::store::Store;

/// The incremental verify at start. It reads only durable movements, so
/// scanning goes on while it runs. It becomes the last verify (the
/// console's, the alert's) when it finds damage or when none was recorded;
/// an intact one does not replace a whole verify's record, which says more
/// (the totals, the history rules) and, if it found damage, must stay
/// until a whole verify finds the store intact.
pub async fn run(store: Arc<Store>) {
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
