//! What head office knows of each site beyond its movements, in the
//! database (`sites`, `alerts`): the reference versions it reported, when
//! it was last seen, the device time of its newest entry, its alerts. The
//! same fields the embedded head office keeps in its side tree, shared by
//! every node.

use chrono::{DateTime, Utc};

use super::ingest::head;
use super::{Db, DbResult};
use crate::hq::sites::{lag_seconds, Contact};
use crate::model::Log;
use crate::sync::heads::SiteHeads;
use crate::sync::protocol::{Alert, ReferenceVersions, SiteStatus};

/// Alerts listed per site (the log has them all), as the embedded head
/// office keeps.
const KEPT_ALERTS: i64 = 100;

fn version(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The heads as the columns `site_head` and `site_rejected_head`.
fn head_columns(heads: Option<SiteHeads>) -> (Option<i64>, Option<i64>) {
    match heads {
        Some(h) => (Some(version(h.movements)), Some(version(h.rejections))),
        None => (None, None),
    }
}

impl Db {
    /// A batch of `site` arrived.
    pub async fn seen(&self, site: &str, contact: Contact) -> DbResult<()> {
        let Contact {
            reference,
            at,
            newest_device_time,
            heads,
        } = contact;
        let (head, rejected_head) = head_columns(heads);
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO sites AS s (site_id, products_version, holds_version, picklists_version, last_seen, newest_device_time, last_contact, site_head, site_rejected_head)
                 VALUES ($1, $2, $3, $4, $5, $6, $5, $7, $8)
                 ON CONFLICT (site_id) DO UPDATE SET
                    products_version = excluded.products_version,
                    holds_version = excluded.holds_version,
                    picklists_version = excluded.picklists_version,
                    last_seen = excluded.last_seen,
                    newest_device_time = GREATEST(s.newest_device_time, excluded.newest_device_time),
                    last_contact = excluded.last_contact,
                    site_head = COALESCE(excluded.site_head, s.site_head),
                    site_rejected_head = COALESCE(excluded.site_rejected_head, s.site_rejected_head)",
                &[
                    &site,
                    &version(reference.products),
                    &version(reference.holds),
                    &version(reference.picklists),
                    &at,
                    &newest_device_time,
                    &head,
                    &rejected_head,
                ],
            )
            .await?;
        Ok(())
    }

    /// The site reached head office with something other than a stored
    /// batch (reference data, limits, a refused batch).
    pub async fn contacted(
        &self,
        site: &str,
        at: DateTime<Utc>,
        heads: Option<SiteHeads>,
    ) -> DbResult<()> {
        let (head, rejected_head) = head_columns(heads);
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO sites AS s (site_id, last_contact, site_head, site_rejected_head)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (site_id) DO UPDATE SET
                    last_contact = excluded.last_contact,
                    site_head = COALESCE(excluded.site_head, s.site_head),
                    site_rejected_head = COALESCE(excluded.site_rejected_head, s.site_rejected_head)",
                &[&site, &at, &head, &rejected_head],
            )
            .await?;
        Ok(())
    }

    /// Records an alert about `site`.
    pub async fn alert(&self, site: &str, code: &str, message: &str) -> DbResult<()> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO alerts (site_id, at, code, message) VALUES ($1, $2, $3, $4)",
                &[&site, &Utc::now(), &code, &message],
            )
            .await?;
        Ok(())
    }

    /// Every known site (configured, seen or with entries) with its
    /// position, sorted by name.
    pub async fn status(&self, configured: &[String]) -> DbResult<Vec<SiteStatus>> {
        let client = self.client().await?;
        let mut ids: Vec<String> = configured.to_vec();
        for r in client
            .query(
                "SELECT site_id FROM sites UNION SELECT site_id FROM chain_heads",
                &[],
            )
            .await?
        {
            let id: String = r.get(0);
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids.sort();
        let now = Utc::now();
        let mut out = Vec::with_capacity(ids.len());
        for site in ids {
            let row = client
                .query_opt(
                    "SELECT products_version, holds_version, picklists_version, last_seen, newest_device_time,
                            last_contact, site_head, site_rejected_head
                     FROM sites WHERE site_id = $1",
                    &[&site],
                )
                .await?;
            let (reference, last_seen, newest, last_contact, heads) = match row {
                Some(r) => (
                    ReferenceVersions {
                        products: r.get::<_, i64>(0).max(0) as u64,
                        holds: r.get::<_, i64>(1).max(0) as u64,
                        picklists: r.get::<_, i64>(2).max(0) as u64,
                    },
                    r.get::<_, Option<DateTime<Utc>>>(3),
                    r.get::<_, Option<DateTime<Utc>>>(4),
                    r.get::<_, Option<DateTime<Utc>>>(5),
                    match (r.get::<_, Option<i64>>(6), r.get::<_, Option<i64>>(7)) {
                        (Some(m), Some(j)) => Some(SiteHeads {
                            movements: m.max(0) as u64,
                            rejections: j.max(0) as u64,
                        }),
                        _ => None,
                    },
                ),
                None => (ReferenceVersions::default(), None, None, None, None),
            };
            let mut alerts: Vec<Alert> = client
                .query(
                    "SELECT at, code, message FROM alerts WHERE site_id = $1 ORDER BY id DESC LIMIT $2",
                    &[&site, &KEPT_ALERTS],
                )
                .await?
                .into_iter()
                .map(|r| Alert {
                    at: r.get(0),
                    code: r.get(1),
                    message: r.get(2),
                })
                .collect();
            alerts.reverse();
            let last_seq = head(&client, &site, Log::Movements).await?.seq;
            let last_rejected_seq = head(&client, &site, Log::Rejections).await?.seq;
            let backlog = heads.map(|h| h.backlog(last_seq, last_rejected_seq));
            out.push(SiteStatus {
                last_seq,
                last_rejected_seq,
                last_seen,
                last_contact,
                backlog,
                lag_seconds: lag_seconds(backlog, newest, now),
                reference,
                alerts,
                site,
            });
        }
        Ok(out)
    }
}

impl Db {
    /// Copies a site's record from the embedded head office
    /// (`scantrail hq migrate`): its versions and times, and its alerts
    /// unless the database lists some already (a second run adds none).
    pub async fn restore_site(
        &self,
        site: &str,
        record: &crate::hq::sites::Record,
    ) -> DbResult<()> {
        if let Some(at) = record.last_seen {
            let contact = Contact {
                reference: record.reference,
                at,
                newest_device_time: record.newest_device_time,
                heads: record.heads,
            };
            self.seen(site, contact).await?;
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let held: i64 = tx
            .query_one("SELECT count(*) FROM alerts WHERE site_id = $1", &[&site])
            .await?
            .get(0);
        if held == 0 {
            for a in &record.alerts {
                tx.execute(
                    "INSERT INTO alerts (site_id, at, code, message) VALUES ($1, $2, $3, $4)",
                    &[&site, &a.at, &a.code, &a.message],
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}
