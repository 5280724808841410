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
use crate::sync::heads::SiteHeads;
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
    /// When it last reached head office with any request.
    #[serde(default)]
    pub last_contact: Option<DateTime<Utc>>,
    /// Its heads as it reported them then.
    #[serde(default)]
    pub heads: Option<SiteHeads>,
    /// Its latest alerts, oldest first (at most `KEPT_ALERTS`).
    pub alerts: Vec<Alert>,
}

/// What a batch tells head office about its site besides its entries:
/// one value, so that each storage's `seen` takes the same thing.
#[derive(Debug, Clone, Copy)]
pub struct Contact {
    /// The reference-data versions the site reported.
    pub reference: ReferenceVersions,
    /// When the batch arrived.
    pub at: DateTime<Utc>,
    /// The device time of the batch's newest entry.
    pub newest_device_time: Option<DateTime<Utc>>,
    /// The site's heads, when it sent them.
    pub heads: Option<SiteHeads>,
}

/// The lag to show: only while the site is behind (or might be, when it
/// does not report its heads); a quiet site that has sent everything has
/// none, however old its newest movement.
pub fn lag_seconds(
    backlog: Option<u64>,
    newest_device_time: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<i64> {
    if backlog == Some(0) {
        return None;
    }
    newest_device_time.map(|t| (now - t).num_seconds())
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
        for (k, v) in store.records().list(TREE)? {
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
                .records()
                .save(TREE, site.as_bytes(), &bytes, false);
        }
    }

    /// A batch arrived.
    pub fn seen(&self, site: &str, contact: Contact) {
        self.update(site, |r| {
            r.reference = contact.reference;
            r.last_seen = Some(contact.at);
            r.last_contact = Some(contact.at);
            if contact.heads.is_some() {
                r.heads = contact.heads;
            }
            if let Some(t) = contact.newest_device_time {
                r.newest_device_time = Some(r.newest_device_time.map_or(t, |o| o.max(t)));
            }
        });
    }

    /// The site reached head office with something other than a batch
    /// that was stored (reference data, limits, a refused batch).
    pub fn contacted(&self, site: &str, at: DateTime<Utc>, heads: Option<SiteHeads>) {
        self.update(site, |r| {
            r.last_contact = Some(at);
            if heads.is_some() {
                r.heads = heads;
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
                let last_seq = store.journal().log_head(&site, Log::Movements)?.seq;
                let last_rejected_seq = store.journal().log_head(&site, Log::Rejections)?.seq;
                let backlog = r.heads.map(|h| h.backlog(last_seq, last_rejected_seq));
                Ok(SiteStatus {
                    last_seq,
                    last_rejected_seq,
                    last_seen: r.last_seen,
                    last_contact: r.last_contact,
                    backlog,
                    lag_seconds: lag_seconds(backlog, r.newest_device_time, now),
                    reference: r.reference,
                    alerts: r.alerts,
                    site,
                })
            })
            .collect()
    }
}
