//! Reference data from head office (products, holds/recalls, pick lists),
//! each in its own tree with a version watermark. A delta and its new
//! watermark are applied in one atomic batch, so a site never holds half a
//! delta and always knows which `since=v` to ask for next. The record
//! types and their envelopes belong to the sync issue; here they are bytes.

use std::path::Path;

use super::error::{Result, StoreError};
use super::{SideTree, Store};
use crate::model::Reference;

/// The tree a kind of reference data is kept in at a site.
pub(super) fn tree_name(r: Reference) -> &'static str {
    match r {
        Reference::Products => "ref.products",
        Reference::Holds => "ref.holds",
        Reference::PickLists => "ref.picklists",
    }
}

/// The watermark sits before every record key.
const WATERMARK: &[u8] = &[0x00];
const RECORD: u8 = 0x01;

pub(crate) fn record_key(key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(key.len() + 1);
    k.push(RECORD);
    k.extend_from_slice(key);
    k
}

pub(crate) fn open_trees(db: &sled::Db, path: &Path) -> Result<()> {
    for r in Reference::ALL {
        db.open_tree(tree_name(r))
            .map_err(|e| StoreError::sled(path, "open a reference tree", e))?;
    }
    Ok(())
}

/// Reference data at a site (`Store::reference`): head office's deltas
/// applied under their version watermark, and the site's own records.
#[derive(Clone, Copy)]
pub struct ReferenceData<'a> {
    pub(super) store: &'a Store,
}

impl ReferenceData<'_> {
    fn tree(&self, r: Reference) -> Result<SideTree> {
        self.store.side_tree(tree_name(r))
    }

    /// The version of the last delta applied (0 before the first).
    pub fn watermark(&self, r: Reference) -> Result<u64> {
        let tree = self.tree(r)?;
        let v = tree
            .get(WATERMARK)
            .map_err(|e| StoreError::sled(self.store.path(), "read a reference watermark", e))?;
        match v {
            None => Ok(0),
            Some(v) => <[u8; 8]>::try_from(v.as_ref())
                .map(u64::from_be_bytes)
                .map_err(|_| StoreError::Damaged {
                    path: self.store.path().to_owned(),
                    detail: format!("the watermark of {} is not 8 bytes", tree_name(r)),
                }),
        }
    }

    /// The record stored under `key` (encoded by `station::records`), if any.
    pub fn get(&self, r: Reference, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let tree = self.tree(r)?;
        Ok(tree
            .get(record_key(key))
            .map_err(|e| StoreError::sled(self.store.path(), "read reference data", e))?
            .map(|v| v.to_vec()))
    }

    /// Applies a delta up to `version` atomically and durably. Returns false
    /// (and changes nothing) if this version was already applied, so a
    /// repeated download is harmless.
    pub fn apply(
        &self,
        r: Reference,
        version: u64,
        upserts: Vec<(Vec<u8>, Vec<u8>)>,
        removals: Vec<Vec<u8>>,
    ) -> Result<bool> {
        if version <= self.watermark(r)? {
            return Ok(false);
        }
        self.store.committer().exclusive(move |sink| {
            let tree = sink.side_tree(tree_name(r))?;
            let mut batch = sled::Batch::default();
            for k in removals {
                batch.remove(record_key(&k));
            }
            for (k, v) in upserts {
                batch.insert(record_key(&k), v);
            }
            batch.insert(WATERMARK, &version.to_be_bytes());
            tree.apply_batch(batch)
                .map_err(sink.sled_err("apply reference data"))?;
            sink.make_durable()?;
            tracing::info!(tree = tree_name(r), version, "reference data applied");
            Ok(true)
        })
    }

    /// Writes (or with `None` removes) reference records this site owns,
    /// atomically and durably. Unlike `apply` it leaves the
    /// version watermark alone: that counts head office's deltas only.
    pub fn put(&self, r: Reference, records: Vec<(Vec<u8>, Option<Vec<u8>>)>) -> Result<()> {
        self.store.committer().exclusive(move |sink| {
            let tree = sink.side_tree(tree_name(r))?;
            let mut batch = sled::Batch::default();
            for (key, value) in records {
                let key = record_key(&key);
                match value {
                    Some(v) => batch.insert(key, v),
                    None => batch.remove(key),
                }
            }
            tree.apply_batch(batch)
                .map_err(sink.sled_err("write reference data"))?;
            sink.make_durable()
        })
    }

    /// Every record of a reference tree, ordered by key.
    pub fn list(&self, r: Reference) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let tree = self.tree(r)?;
        let mut out = Vec::new();
        for item in tree.scan_prefix(record_key(b"")) {
            let (k, v) = item.map_err(self.store.sled_err("read reference data"))?;
            out.push((k[1..].to_vec(), v.to_vec()));
        }
        Ok(out)
    }
}
