//! Reference data head office publishes (products, holds and recalls, pick
//! lists), kept as versioned records so sites pull deltas: every change
//! bumps the kind's version and stamps the changed records with it, and
//! `delta(since)` is every record stamped after `since`, in its latest
//! state. Records are stored already encoded with `station::records::encode`
//! and `Owner::HeadOffice`, exactly the bytes a site's rules read. The
//! operations on them (import, add and release a hold) are
//! `station::catalog`'s, on [`Published`], in the embedded store or in
//! head office's database alike.

use tokio::runtime::Handle;

use super::storage::{Storage, StorageError};
use crate::model::Reference;
use crate::station::catalog::{self, CatalogError, Records};
use crate::station::reference::{Hold, Owner};
use crate::sync::protocol::{reference_segment, Delta};

type Result<T> = std::result::Result<T, CatalogError>;

/// A storage failure as the catalog's operations report it: `retry` when
/// the database is down (the API answers 503 with Retry-After).
impl From<StorageError> for CatalogError {
    fn from(e: StorageError) -> CatalogError {
        CatalogError::Storage {
            retry: e.is_unavailable(),
            message: e.to_string(),
        }
    }
}

/// Head office's published reference data, written as head office. The
/// catalog's operations are synchronous: they run on a blocking thread,
/// which waits here for the storage's answers.
pub struct Published<'a> {
    storage: &'a Storage,
    handle: Handle,
}

impl<'a> Published<'a> {
    /// The published data of `storage`; `handle` is the runtime the
    /// storage's work runs on (call from a blocking thread).
    pub fn new(storage: &'a Storage, handle: Handle) -> Published<'a> {
        Published { storage, handle }
    }
}

impl Records for Published<'_> {
    fn owner(&self) -> Owner {
        Owner::HeadOffice
    }

    fn get(&self, r: Reference, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self
            .handle
            .block_on(self.storage.published_record(reference_segment(r), key))?)
    }

    fn all(&self, r: Reference) -> Result<Vec<Vec<u8>>> {
        Ok(values(self.handle.block_on(delta(self.storage, r, 0))?))
    }

    fn put(&self, r: Reference, records: Vec<(Vec<u8>, Vec<u8>)>) -> Result<()> {
        let version =
            self.handle
                .block_on(self.storage.publish(reference_segment(r), records, vec![]))?;
        tracing::info!(
            kind = reference_segment(r),
            version,
            "reference data published"
        );
        Ok(())
    }
}

/// The current version of a kind (0 before anything was published).
pub async fn version(storage: &Storage, r: Reference) -> Result<u64> {
    Ok(storage.published_version(reference_segment(r)).await?)
}

/// Every record changed after `since`, with the version it brings the site to.
pub async fn delta(storage: &Storage, r: Reference, since: u64) -> Result<Delta> {
    let version = version(storage, r).await?;
    let mut upserts = Vec::new();
    let mut removals = Vec::new();
    if since < version {
        for (key, record) in storage
            .published_changes(reference_segment(r), since, version)
            .await?
        {
            match record {
                Some(bytes) => upserts.push((key, bytes)),
                None => removals.push(key),
            }
        }
    }
    Ok(Delta {
        since,
        version: version.max(since),
        upserts,
        removals,
    })
}

/// Holds changed after version `since` (a site that sent `since` did not
/// know them).
pub async fn holds_since(storage: &Storage, since: u64) -> Result<Vec<Hold>> {
    values(delta(storage, Reference::Holds, since).await?)
        .iter()
        .map(|bytes| catalog::decode_record(Reference::Holds, bytes))
        .collect()
}

fn values(delta: Delta) -> Vec<Vec<u8>> {
    delta.upserts.into_iter().map(|(_, v)| v).collect()
}
