//! `scantrail hq migrate --from DIR --to postgres://...`: copies an
//! embedded head-office store (head office stopped) into PostgreSQL. Every
//! site's movements and rejected scans go through PostgreSQL ingest, batch
//! by batch with the time head office first received them, so each entry's
//! hash and link is checked on the way exactly as a site's upload is; what
//! the database already holds must be identical (a second run absorbs it
//! all as duplicates and changes nothing). Published reference data keeps
//! its versions (sites' watermarks stay valid), and each site's record and
//! alerts come along.

use std::path::Path;

use chrono::{DateTime, Utc};

use super::postgres::{Db, DbError};
use super::sites::Sites;
use crate::model::Reference;
use crate::model::{Entries, Log};
use crate::store::ingest::{Incoming, Refusal};
use crate::store::{OpenOptions, Store, StoreError};
use crate::sync::protocol::reference_segment;

/// Entries per ingest transaction.
const BATCH: usize = 5_000;

/// Why a migration stopped.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// The embedded store cannot be opened or read.
    #[error("cannot read the embedded store at {path}: {source}")]
    Store {
        /// The store's folder.
        path: String,
        /// What the store said.
        #[source]
        source: StoreError,
    },
    /// The database refused or is unreachable.
    #[error(transparent)]
    Database(#[from] DbError),
    /// The database holds something else for a site: nothing of that
    /// batch was written.
    #[error("site {site}'s {log} differ between the store and the database: {refusal}")]
    Differs {
        /// The site whose entries differ.
        site: String,
        /// "movements" or "rejected scans".
        log: &'static str,
        /// Where and how they differ.
        refusal: Refusal,
    },
    /// Head office published to the database after an earlier migration.
    #[error("the database already has published {kind} version {held}, beyond the store's {ours}: it was published to after a migration; not overwritten")]
    PublishedAhead {
        /// Products, holds or pick lists.
        kind: &'static str,
        /// The database's version.
        held: u64,
        /// The store's version.
        ours: u64,
    },
}

/// What a migration copied.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Copied {
    /// Sites found in the store.
    pub sites: usize,
    /// Movements written to the database by this run.
    pub movements_new: usize,
    /// Movements the database already held (an earlier run's), checked equal.
    pub movements_held: usize,
    /// Rejected scans written by this run.
    pub rejections_new: usize,
    /// Rejected scans the database already held, checked equal.
    pub rejections_held: usize,
    /// Published reference records (products, holds, pick lists) copied.
    pub published: usize,
}

/// Copies the store at `from` into the database at `to`.
pub async fn migrate(from: &Path, to: &str, hq_id: &str) -> Result<Copied, MigrateError> {
    let store_err = |source| MigrateError::Store {
        path: from.display().to_string(),
        source,
    };
    let store =
        std::sync::Arc::new(Store::open(from, OpenOptions::existing(None)).map_err(store_err)?);
    let db = Db::open(to, 2, hq_id).await?;
    let mut copied = Copied::default();
    let mut origins = store.journal().origins().map_err(store_err)?;
    for o in store.journal().rejected_origins().map_err(store_err)? {
        if !origins.contains(&o) {
            origins.push(o);
        }
    }
    origins.retain(|o| o != store.site());
    origins.sort();
    for origin in &origins {
        for log in [Log::Movements, Log::Rejections] {
            let (new, held) = copy_log(&store, &db, origin, log).await?;
            match log {
                Log::Movements => {
                    copied.movements_new += new;
                    copied.movements_held += held;
                }
                Log::Rejections => {
                    copied.rejections_new += new;
                    copied.rejections_held += held;
                }
            }
        }
        tracing::info!(site = origin, "site copied");
    }
    copied.sites = origins.len();
    for r in Reference::ALL {
        copied.published += copy_published(&store, &db, reference_segment(r)).await?;
    }
    let sites = Sites::open(store.clone()).map_err(|source| MigrateError::Store {
        path: from.display().to_string(),
        source,
    })?;
    for (site, record) in sites.records() {
        db.restore_site(&site, &record).await?;
    }
    Ok(copied)
}

/// One log of one site, in batches that each keep their receive time.
async fn copy_log(
    store: &Store,
    db: &Db,
    origin: &str,
    log: Log,
) -> Result<(usize, usize), MigrateError> {
    let store_err = |source| MigrateError::Store {
        path: store.path().display().to_string(),
        source,
    };
    let (mut new, mut held) = (0, 0);
    let mut next = 1;
    loop {
        let entries = match log {
            Log::Movements => Entries::Movements(
                store
                    .journal()
                    .range(origin, next, BATCH)
                    .map_err(store_err)?,
            ),
            Log::Rejections => Entries::Rejections(
                store
                    .journal()
                    .rejected_range(origin, next, BATCH)
                    .map_err(store_err)?,
            ),
        };
        let Some((first, last)) = entries.span() else {
            break;
        };
        // Split where the receive time changes: each part is ingested
        // with the time head office first got it.
        let mut parts: Vec<(DateTime<Utc>, Entries)> = Vec::new();
        let mut start = first;
        let mut current = received(store, origin, log, first)?;
        for seq in first + 1..=last {
            let at = received(store, origin, log, seq)?;
            if at != current {
                parts.push((current, slice(&entries, start - first, seq - first)));
                start = seq;
                current = at;
            }
        }
        parts.push((current, slice(&entries, start - first, last + 1 - first)));
        for (received_at, entries) in parts {
            let incoming = Incoming {
                origin: origin.to_owned(),
                entries,
                received_at,
            };
            match db.ingest(&incoming).await? {
                Ok(i) => {
                    new += i.new;
                    held += i.duplicates;
                }
                Err(refusal) => {
                    return Err(MigrateError::Differs {
                        site: origin.to_owned(),
                        log: log.name(),
                        refusal,
                    })
                }
            }
        }
        next = last + 1;
    }
    Ok((new, held))
}

fn received(
    store: &Store,
    origin: &str,
    log: Log,
    seq: u64,
) -> Result<DateTime<Utc>, MigrateError> {
    Ok(store
        .ingest()
        .received_at(origin, log, seq)
        .map_err(|source| MigrateError::Store {
            path: store.path().display().to_string(),
            source,
        })?
        .unwrap_or_else(Utc::now))
}

fn slice(entries: &Entries, from: u64, to: u64) -> Entries {
    let (from, to) = (from as usize, to as usize);
    match entries {
        Entries::Movements(v) => Entries::Movements(v[from..to].to_vec()),
        Entries::Rejections(v) => Entries::Rejections(v[from..to].to_vec()),
    }
}

/// A published kind with its versions: each version's records as they
/// stand, stamped with that version.
async fn copy_published(store: &Store, db: &Db, kind: &'static str) -> Result<usize, MigrateError> {
    let store_err = |source| MigrateError::Store {
        path: store.path().display().to_string(),
        source,
    };
    let ours = store.published().version(kind).map_err(store_err)?;
    let held = db.published_version(kind).await?;
    if held == ours {
        return Ok(0);
    }
    if held > ours {
        return Err(MigrateError::PublishedAhead { kind, held, ours });
    }
    let mut stamped = Vec::new();
    for version in 1..=ours {
        for (key, record) in store
            .published()
            .changes(kind, version - 1, version)
            .map_err(store_err)?
        {
            stamped.push((key, version, record));
        }
    }
    let n = stamped.len();
    db.restore_published(kind, ours, stamped).await?;
    Ok(n)
}
