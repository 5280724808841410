//! Upkeep the site daemon does on its own, so that a store left alone for
//! months does not grow with what only matters for a while: the receipts
//! of handheld scans (`store::scan_receipts`) past the newest 100,000 and
//! the last seven days are dropped, at start and then every hour.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use crate::store::scan_receipts::KEEP_NEWEST;
use crate::store::Store;

/// How often the upkeep runs.
const EVERY: Duration = Duration::from_secs(3600);

/// Runs the upkeep until the task is aborted.
pub async fn run(store: Arc<Store>) {
    let mut ticks = tokio::time::interval(EVERY);
    loop {
        ticks.tick().await;
        let store = store.clone();
        let pruned = tokio::task::spawn_blocking(move || {
            store.journal().prune_scan_receipts(KEEP_NEWEST, Utc::now())
        })
        .await;
        match pruned {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(receipts = n, "old scan receipts dropped"),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot drop old scan receipts; trying again in an hour")
            }
            Err(e) => tracing::warn!(error = %e, "the scan-receipt upkeep failed"),
        }
    }
}
