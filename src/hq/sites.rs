//! What head office knows about each site beyond its movements: the
//! reference versions it last reported, when it was last seen, the device
//! time of its newest movement (for lag) and its alerts (conflicts, clock
//! skew, picks against a stale recall list). Kept in memory and mirrored
//! to a side tree of the store so alerts survive a restart.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::Log;
use crate::store::{Store, StoreError};
use crate::sync::protocol::{Alert, ReferenceVersions, SiteStatus};

const TREE: &str = "hq.sites";
/// Alerts kept per site; older ones are dropped (the log has them all).
const KEPT_ALERTS: usize = 100;

/// What head office keeps of one site.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Record {
    /// The reference-data versions the site last pulled.
    pub reference: ReferenceVersions,
    /// When the site last reached head office.
    pub last_seen: Option<DateTime<Utc>>,
    /// The device time of the newest movement it sent (for lag).
    pub newest_device_time: Option<DateTime<Utc>>,
    /// Its latest alerts, oldest first (at most `KEPT_ALERTS`).
    pub alerts: Vec<Alert>,
}

/// Every site's record, kept in memory and saved to the embedded store.
pub struct Sites {
    store: Arc<Store>,
    records: Mutex<HashMap<String, Record>>,
}

impl Sites {
    /// The records saved in `store`.
    pub fn open(store: Arc<Store>) -> Result<Sites, StoreError> {
        let mut records = HashMap::new();
        for (k, v) in store.side_records(TREE)? {
            if let (Ok(site), Ok(r)) = (String::from_utf8(k), serde_json::from_slice::<Record>(&v))
            {
                records.insert(site, r);
            }
        }
        Ok(Sites {
            store,
            records: Mutex::new(records),
        })
    }

    /// Every site's record, by site (for `scantrail hq migrate`).
    pub fn records(&self) -> Vec<(String, Record)> {
        let records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<(String, Record)> = records
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    fn update(&self, site: &str, f: impl FnOnce(&mut Record)) {
        let mut records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        let r = records.entry(site.to_owned()).or_default();
        f(r);
        if let Ok(bytes) = serde_json::to_vec(r) {
            // Made durable with the next ingest's flush; an alert lost to a
            // crash is still in the log.
            let _ = self
                .store
                .save_side_record(TREE, site.as_bytes(), &bytes, false);
        }
    }

    /// A batch arrived.
    pub fn seen(
        &self,
        site: &str,
        reference: ReferenceVersions,
        at: DateTime<Utc>,
        newest_device_time: Option<DateTime<Utc>>,
    ) {
        self.update(site, |r| {
            r.reference = reference;
            r.last_seen = Some(at);
            if let Some(t) = newest_device_time {
                r.newest_device_time = Some(r.newest_device_time.map_or(t, |o| o.max(t)));
            }
        });
    }

    pub(super) fn alert(&self, site: &str, code: &str, message: String) {
        tracing::warn!(site, code, %message, "site alert");
        let alert = Alert {
            at: Utc::now(),
            code: code.to_owned(),
            message,
        };
        self.update(site, |r| {
            r.alerts.push(alert);
            let excess = r.alerts.len().saturating_sub(KEPT_ALERTS);
            r.alerts.drain(..excess);
        });
    }

    /// Every known site (configured or seen) with its position.
    pub fn status(
        &self,
        store: &Store,
        configured: &[String],
    ) -> Result<Vec<SiteStatus>, StoreError> {
        let records = self
            .records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let mut ids: Vec<String> = configured.to_vec();
        for id in records.keys() {
            if !ids.contains(id) {
                ids.push(id.clone());
            }
        }
        ids.sort();
        let now = Utc::now();
        ids.into_iter()
            .map(|site| {
                let r = records.get(&site).cloned().unwrap_or_default();
                Ok(SiteStatus {
                    last_seq: store.log_head(&site, Log::Movements)?.seq,
                    last_rejected_seq: store.log_head(&site, Log::Rejections)?.seq,
                    last_seen: r.last_seen,
                    lag_seconds: r.newest_device_time.map(|t| (now - t).num_seconds()),
                    reference: r.reference,
                    alerts: r.alerts,
                    site,
                })
            })
            .collect()
    }
}
