//! Reference data head office publishes to its sites (products, holds and
//! recalls, pick lists), versioned per kind so sites pull deltas: every
//! publication bumps the kind's version and stamps the records it changes,
//! and a site asks for every record stamped after the version it has. Each
//! kind has its own tree, `hq.publish.<kind>`, written on the committer
//! thread so a publication is durable with the store's flush and fsync.

use serde::{Deserialize, Serialize};

use super::error::{Result, StoreError};
use super::{SideTree, Store};

const VERSION_KEY: &[u8] = &[0x00];
const RECORD: u8 = 0x01;

/// A record as published: its version and its bytes (None: removed).
#[derive(Serialize, Deserialize)]
struct Stamped {
    version: u64,
    record: Option<Vec<u8>>,
}

/// The records of a kind changed after some version: (key, bytes), bytes
/// `None` for a removal.
pub type Changes = Vec<(Vec<u8>, Option<Vec<u8>>)>;

fn record_key(key: &[u8]) -> Vec<u8> {
    let mut k = vec![RECORD];
    k.extend_from_slice(key);
    k
}

fn read_version(v: Option<sled::IVec>) -> u64 {
    v.and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0)
}

/// What head office publishes to its sites (`Store::published`), per kind
/// and version.
#[derive(Clone, Copy)]
pub struct Published<'a> {
    pub(super) store: &'a Store,
}

/// The sled tree holding a kind's published records.
fn tree_name(kind: &str) -> String {
    format!("hq.publish.{kind}")
}

impl Published<'_> {
    fn tree(&self, kind: &str) -> Result<SideTree> {
        self.store.side_tree(&tree_name(kind))
    }

    fn stamped(&self, kind: &str, bytes: &[u8]) -> Result<Stamped> {
        postcard::from_bytes(bytes).map_err(|e| StoreError::Damaged {
            path: self.store.path().to_owned(),
            detail: format!("a published {kind} record cannot be read ({e})"),
        })
    }

    /// The current version of a kind (0 before anything was published).
    pub fn version(&self, kind: &str) -> Result<u64> {
        let t = self.tree(kind)?;
        Ok(read_version(
            t.get(VERSION_KEY)
                .map_err(self.store.sled_err("read published data"))?,
        ))
    }

    /// Publishes upserts and removals of a kind as one new version, durably;
    /// returns that version.
    pub fn publish(
        &self,
        kind: &str,
        upserts: Vec<(Vec<u8>, Vec<u8>)>,
        removals: Vec<Vec<u8>>,
    ) -> Result<u64> {
        let name = tree_name(kind);
        let path = self.store.path().to_owned();
        // The committer thread serialises publishers with each other and
        // with commits.
        self.store.committer().exclusive(move |sink| {
            let err = |e| StoreError::sled(&path, "publish reference data", e);
            let t = sink.side_tree(&name)?;
            let version = read_version(t.get(VERSION_KEY).map_err(&err)?) + 1;
            let stamp =
                |record| postcard::to_stdvec(&Stamped { version, record }).unwrap_or_default();
            let mut batch = sled::Batch::default();
            for (k, v) in upserts {
                batch.insert(record_key(&k), stamp(Some(v)));
            }
            for k in removals {
                batch.insert(record_key(&k), stamp(None));
            }
            batch.insert(VERSION_KEY, &version.to_be_bytes());
            t.apply_batch(batch).map_err(&err)?;
            sink.make_durable()?;
            Ok(version)
        })
    }

    /// The records of a kind stamped after `since` and up to `version`, in
    /// their latest state.
    pub fn changes(&self, kind: &str, since: u64, version: u64) -> Result<Changes> {
        let t = self.tree(kind)?;
        let mut out = Vec::new();
        for item in t.scan_prefix([RECORD]) {
            let (k, v) = item.map_err(self.store.sled_err("read published data"))?;
            let s = self.stamped(kind, &v)?;
            if s.version > since && s.version <= version {
                out.push((k[1..].to_vec(), s.record));
            }
        }
        Ok(out)
    }

    /// One published record's bytes; `None` when never published or removed.
    pub fn record(&self, kind: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let t = self.tree(kind)?;
        match t
            .get(record_key(key))
            .map_err(self.store.sled_err("read published data"))?
        {
            None => Ok(None),
            Some(v) => Ok(self.stamped(kind, &v)?.record),
        }
    }
}
