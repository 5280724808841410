//! A page of a site's log as head office's database holds it, for the site
//! to rebuild its store from (`GET /api/v1/history/...`): each entry is
//! decoded from its `entry` column, the envelope the site's bytes were
//! kept in, so it hashes exactly as the site recorded it.

use super::ingest::{head, table};
use super::{Db, DbError, DbResult};
use crate::model::{Entries, Log, Movement, Rejection};
use crate::store::envelope::{Head, Stored};

fn decoded<T: Stored>(entry: &[u8]) -> DbResult<T> {
    T::decode(entry).map_err(|e| DbError::Damaged(e.to_string()))
}

impl Db {
    /// Up to `limit` entries of `site`'s `log` from seq `from`, never past
    /// its chain head, with that head.
    pub async fn history(
        &self,
        site: &str,
        log: Log,
        from: u64,
        limit: usize,
    ) -> DbResult<(Head, Entries)> {
        let client = self.client().await?;
        // The head first: every entry up to it was committed with it, so
        // the page below is complete up to where it stops.
        let head = head(&client, site, log).await?;
        let from = from.max(1);
        let to = head
            .seq
            .min(from.saturating_add(limit as u64).saturating_sub(1));
        let seq = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let rows = if from > to {
            Vec::new()
        } else {
            let sql = format!(
                "SELECT entry FROM {} WHERE site_id = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq",
                table(log)
            );
            client.query(&sql, &[&site, &seq(from), &seq(to)]).await?
        };
        let entries = match log {
            Log::Movements => Entries::Movements(
                rows.iter()
                    .map(|r| decoded::<Movement>(r.get(0)))
                    .collect::<DbResult<_>>()?,
            ),
            Log::Rejections => Entries::Rejections(
                rows.iter()
                    .map(|r| decoded::<Rejection>(r.get(0)))
                    .collect::<DbResult<_>>()?,
            ),
        };
        Ok((head, entries))
    }
}
