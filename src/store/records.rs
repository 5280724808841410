//! Small keyed records the daemons keep beside the journal, each kind in
//! its own sled tree: convenience state that a lost write would only make
//! a little stale, never evidence.

use super::error::Result;
use super::Store;

/// Station contexts live in their own tree: convenience state for the
/// operators (open order, signed-in operator), not evidence.
const STATIONS_TREE: &str = "stations";

/// The daemon's own keyed records outside the journal (`Store::records`):
/// station contexts, head office's view of its sites, the last verify,
/// raised alerts. Convenience state, not evidence.
#[derive(Clone, Copy)]
pub struct Records<'a> {
    pub(super) store: &'a Store,
}

impl Records<'_> {
    /// Saves a small keyed record in its own tree `tree`, outside the
    /// journal: convenience state (station contexts, head office's view of
    /// its sites), not evidence. With `durable` it is on disk when this
    /// returns; without, the next commit's flush (sled flushes the whole
    /// database) takes it along.
    pub fn save(&self, tree: &str, key: &[u8], value: &[u8], durable: bool) -> Result<()> {
        let value = value.to_vec();
        self.write(tree, key, durable, "save a side record", move |t, k| {
            t.insert(k, value).map(|_| ())
        })
    }

    /// Removes the record `key` of the side tree `tree`; `durable` as for
    /// `save` (a revoked handheld's record must be gone from disk before
    /// the revocation is confirmed).
    pub fn remove(&self, tree: &str, key: &[u8], durable: bool) -> Result<()> {
        self.write(tree, key, durable, "remove a side record", |t, k| {
            t.remove(k).map(|_| ())
        })
    }

    /// `write` on the side tree `tree` at `key`, made durable through the
    /// committer when `durable`.
    fn write(
        &self,
        tree: &str,
        key: &[u8],
        durable: bool,
        op: &'static str,
        write: impl FnOnce(&sled::Tree, Vec<u8>) -> sled::Result<()> + Send + 'static,
    ) -> Result<()> {
        let key = key.to_vec();
        if !durable {
            let tree = self.store.side_tree(tree)?;
            return write(&tree, key).map_err(self.store.sled_err(op));
        }
        let tree = tree.to_owned();
        self.store.committer().exclusive(move |sink| {
            let tree = sink.side_tree(&tree)?;
            write(&tree, key).map_err(sink.sled_err(op))?;
            sink.make_durable()
        })
    }

    /// The record `key` of the side tree `tree`, if there is one.
    pub fn get(&self, tree: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let tree = self.store.side_tree(tree)?;
        let value = tree
            .get(key)
            .map_err(self.store.sled_err("read a side tree"))?;
        Ok(value.map(|v| v.to_vec()))
    }

    /// Every record of the side tree `tree`, in key order.
    pub fn list(&self, tree: &str) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let tree = self.store.side_tree(tree)?;
        let mut out = Vec::new();
        for item in tree.iter() {
            let (k, v) = item.map_err(self.store.sled_err("read a side tree"))?;
            out.push((k.to_vec(), v.to_vec()));
        }
        Ok(out)
    }

    /// Saves a station's context; `durable` as for `save` (the
    /// station's last movement is bookkeeping that may ride on the next
    /// commit).
    pub fn save_station_context(&self, station: &str, context: &[u8], durable: bool) -> Result<()> {
        self.save(STATIONS_TREE, station.as_bytes(), context, durable)
    }

    /// Every station's saved context (station id, encoded context): the daemon
    /// restores them at start.
    pub fn station_contexts(&self) -> Result<Vec<(String, Vec<u8>)>> {
        Ok(self
            .list(STATIONS_TREE)?
            .into_iter()
            .map(|(k, v)| (String::from_utf8_lossy(&k).into_owned(), v))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use crate::store::{OpenOptions, Store};

    #[test]
    fn station_contexts_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path(), OpenOptions::create("s".into())).unwrap();
            store
                .records()
                .save_station_context("dock-1", b"ctx", true)
                .unwrap();
            assert_eq!(store.records().station_contexts().unwrap().len(), 1);
        }
        let store = Store::open(dir.path(), OpenOptions::existing(Some("s".into()))).unwrap();
        assert_eq!(
            store.records().station_contexts().unwrap(),
            vec![("dock-1".to_owned(), b"ctx".to_vec())]
        );
        let records = store.records();
        records.save("t", b"k", b"v", true).unwrap();
        assert_eq!(records.get("t", b"k").unwrap(), Some(b"v".to_vec()));
        records.remove("t", b"k", true).unwrap();
        assert_eq!(records.get("t", b"k").unwrap(), None);
        assert!(records.list("t").unwrap().is_empty());
    }
}
