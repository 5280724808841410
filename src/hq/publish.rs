//! Reference data head office publishes (products, holds and recalls, pick
//! lists), kept as versioned records so sites pull deltas: every change
//! bumps the kind's version and stamps the changed records with it, and
//! `delta(since)` is every record stamped after `since`, in its latest
//! state. Records are stored already encoded with `station::records::encode`
//! and `Owner::HeadOffice`, exactly the bytes a site's rules read. The
//! operations on them (import, add and release a hold) are
//! `station::catalog`'s, on [`Published`].

use crate::station::catalog::{self, CatalogError, Records};
use crate::station::reference::{Hold, Owner};
use crate::store::reference::Reference;
use crate::store::{Store, StoreError};
use crate::sync::protocol::{reference_segment, Delta};

type Result<T> = std::result::Result<T, CatalogError>;

/// Head office's published reference data, written as head office.
#[derive(Clone, Copy)]
pub struct Published<'a>(pub &'a Store);

impl Records for Published<'_> {
    fn owner(&self) -> Owner {
        Owner::HeadOffice
    }

    fn get(&self, r: Reference, key: &[u8]) -> std::result::Result<Option<Vec<u8>>, StoreError> {
        self.0.published_record(reference_segment(r), key)
    }

    fn all(&self, r: Reference) -> std::result::Result<Vec<Vec<u8>>, StoreError> {
        Ok(values(delta(self.0, r, 0)?))
    }

    fn put(
        &self,
        r: Reference,
        records: Vec<(Vec<u8>, Vec<u8>)>,
    ) -> std::result::Result<(), StoreError> {
        let version = self.0.publish(reference_segment(r), records, vec![])?;
        tracing::info!(
            kind = reference_segment(r),
            version,
            "reference data published"
        );
        Ok(())
    }
}

/// The current version of a kind (0 before anything was published).
pub fn version(store: &Store, r: Reference) -> std::result::Result<u64, StoreError> {
    store.published_version(reference_segment(r))
}

/// Every record changed after `since`, with the version it brings the site to.
pub fn delta(store: &Store, r: Reference, since: u64) -> std::result::Result<Delta, StoreError> {
    let version = version(store, r)?;
    let mut upserts = Vec::new();
    let mut removals = Vec::new();
    if since < version {
        for (key, record) in store.published_changes(reference_segment(r), since, version)? {
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
pub fn holds_since(store: &Store, since: u64) -> Result<Vec<Hold>> {
    values(delta(store, Reference::Holds, since)?)
        .iter()
        .map(|bytes| catalog::decode_record(Reference::Holds, bytes))
        .collect()
}

fn values(delta: Delta) -> Vec<Vec<u8>> {
    delta.upserts.into_iter().map(|(_, v)| v).collect()
}
