//! Head office's database as a journal an EPCIS export reads
//! (`epcis::Journal`), so `GET /api/v1/epcis/events` on PostgreSQL writes
//! the document the embedded store would: the same pages of each site's
//! movements in seq order (decoded from their `entry`, the site's own
//! bytes), up to the site's chain head. The export runs on a blocking
//! thread; each page is one query, run on the server's runtime.

use tokio::runtime::Handle;

use super::ingest::head;
use super::{Db, DbError, DbResult};
use crate::epcis::{EpcisError, Journal};
use crate::model::{Entries, Log, Movement, MovementId};

/// A database read by an export on a blocking thread of `runtime`.
pub struct PgJournal {
    db: Db,
    runtime: Handle,
}

impl PgJournal {
    /// Reads `db` through `runtime` (the server's: the export calls from
    /// one of its blocking threads, never from a task).
    pub fn new(db: Db, runtime: Handle) -> PgJournal {
        PgJournal { db, runtime }
    }

    fn run<T>(
        &self,
        f: impl std::future::Future<Output = DbResult<T>>,
    ) -> crate::epcis::error::Result<T> {
        self.runtime
            .block_on(f)
            .map_err(|e: DbError| EpcisError::Journal(e.to_string()))
    }
}

impl Journal for PgJournal {
    fn range(
        &self,
        origin: &str,
        from: u64,
        limit: usize,
    ) -> crate::epcis::error::Result<Vec<Movement>> {
        self.run(async {
            match self
                .db
                .history(origin, Log::Movements, from, limit)
                .await?
                .1
            {
                Entries::Movements(m) => Ok(m),
                Entries::Rejections(_) => Ok(Vec::new()),
            }
        })
    }

    fn movement(&self, origin: &str, seq: u64) -> crate::epcis::error::Result<Option<Movement>> {
        let page = self.range(origin, seq, 1)?;
        Ok(page.into_iter().find(|m| m.seq == seq))
    }

    fn corrections_of(
        &self,
        origin: &str,
        seq: u64,
    ) -> crate::epcis::error::Result<Vec<MovementId>> {
        self.run(async {
            let client = self.db.client().await?;
            // Up to the chain head, as every other read of a site's log.
            let last = head(&client, origin, Log::Movements).await?.seq;
            let rows = client
                .query(
                    "SELECT site_id, seq FROM movements WHERE kind = 'correction' \
                     AND corrects_site = $1 AND corrects_seq = $2 ORDER BY site_id, seq",
                    &[&origin, &i64::try_from(seq).unwrap_or(i64::MAX)],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| MovementId {
                    origin: r.get::<_, String>(0),
                    seq: u64::try_from(r.get::<_, i64>(1)).unwrap_or(0),
                })
                .filter(|id| id.origin != origin || id.seq <= last)
                .collect())
        })
    }
}
