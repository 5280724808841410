//! Look-ups the station rules and the daemon need beyond the journal's own
//! indexes: lot balances of a GTIN, a lot's expiry, movements of a
//! document, and site-local reference records.

use chrono::NaiveDate;

use super::error::{Result, StoreError};
use super::keys;
use super::{derived, Store};
use crate::model::{Balance, MovementId, NewRejection, Rejection};

/// One lot balance: a lot of a GTIN at a location of a site (origin), in
/// a unit ("" = units).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LotBalance {
    /// The batch/lot; "" when the movements carried none.
    pub lot: String,
    /// The site (origin) holding the stock.
    pub origin: String,
    /// The location at that site.
    pub location: String,
    /// The unit of a measured quantity (`kg`...); "" for a count of units.
    pub unit: String,
    /// How much: receipts and returns minus dispatches, corrections applied.
    pub balance: Balance,
}

/// Which document a movement belongs to, as the by-document index tags it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    /// A supplier's purchase order (receiving).
    PurchaseOrder,
    /// A customer order (dispatch).
    Order,
    /// A despatch advice, by its GSIN (AI 402).
    DespatchAdvice,
    /// A pallet or case, by its SSCC (AI 00).
    Sscc,
}

impl Document {
    fn tag(self) -> u8 {
        match self {
            Document::PurchaseOrder => b'P',
            Document::Order => b'O',
            Document::DespatchAdvice => b'D',
            Document::Sscc => b'S',
        }
    }
}

impl Store {
    /// Every lot balance of a GTIN, ordered by lot, origin, location and
    /// unit.
    pub fn lot_balances(&self, gtin: &str) -> Result<Vec<LotBalance>> {
        let mut out = Vec::new();
        self.each_lot_balance(Some(gtin), None, |_, b| {
            out.push(b);
            Ok(())
        })?;
        Ok(out)
    }

    /// One lot balance by its key (`derived::balance_delta`).
    pub fn lot_balance_at(&self, key: &[u8]) -> Result<Option<Balance>> {
        self.read(&self.trees()?.journal, key, "read a lot balance")
    }

    /// The earliest expiry any movement of the lot carried.
    pub fn lot_expiry(&self, gtin: &str, lot: &str) -> Result<Option<NaiveDate>> {
        let key = keys::lot_expiry(gtin, lot);
        self.read(&self.trees()?.journal, &key, "read a lot expiry")
    }

    /// Every movement recorded against a document, by (origin, seq).
    pub fn by_document(&self, document: Document, id: &str) -> Result<Vec<MovementId>> {
        let prefix = derived::document_key(document.tag(), id).into_vec();
        let mut out = Vec::new();
        for item in self.trees()?.journal.scan_prefix(&prefix) {
            let (k, _) = item.map_err(self.sled_err("read the document index"))?;
            if let Some((origin, seq)) = derived::index_target(&k) {
                out.push(MovementId { origin, seq });
            }
        }
        Ok(out)
    }

    /// Records a rejected scan durably, for async callers, with the scan's
    /// receipt in the same batch.
    pub fn reject_async(
        &self,
        r: NewRejection,
        receipt: Option<super::scan_receipts::ScanReceipt>,
    ) -> impl std::future::Future<Output = Result<Rejection>> + Send + 'static {
        let pending = self.committer().submit_rejection(r, receipt);
        let path = self.path().to_owned();
        async move { pending.await.unwrap_or(Err(StoreError::Closed { path })) }
    }
}

/// Station contexts live in their own tree: convenience state for the
/// operators (open order, signed-in operator), not evidence.
const STATIONS_TREE: &str = "stations";

impl Store {
    /// Saves a small keyed record in its own tree `tree`, outside the
    /// journal: convenience state (station contexts, head office's view of
    /// its sites), not evidence. With `durable` it is on disk when this
    /// returns; without, the next commit's flush (sled flushes the whole
    /// database) takes it along.
    pub fn save_side_record(
        &self,
        tree: &str,
        key: &[u8],
        value: &[u8],
        durable: bool,
    ) -> Result<()> {
        let value = value.to_vec();
        self.side_write(tree, key, durable, "save a side record", move |t, k| {
            t.insert(k, value).map(|_| ())
        })
    }

    /// Removes the record `key` of the side tree `tree`; `durable` as for
    /// `save_side_record` (a revoked handheld's record must be gone from
    /// disk before the revocation is confirmed).
    pub fn remove_side_record(&self, tree: &str, key: &[u8], durable: bool) -> Result<()> {
        self.side_write(tree, key, durable, "remove a side record", |t, k| {
            t.remove(k).map(|_| ())
        })
    }

    /// `write` on the side tree `tree` at `key`, made durable through the
    /// committer when `durable`.
    fn side_write(
        &self,
        tree: &str,
        key: &[u8],
        durable: bool,
        op: &'static str,
        write: impl FnOnce(&sled::Tree, Vec<u8>) -> sled::Result<()> + Send + 'static,
    ) -> Result<()> {
        let tree = self
            .db()?
            .open_tree(tree)
            .map_err(self.sled_err("open a side tree"))?;
        let key = key.to_vec();
        if !durable {
            return write(&tree, key).map_err(self.sled_err(op));
        }
        self.committer().exclusive(move |sink| {
            write(&tree, key).map_err(sink.sled_err(op))?;
            sink.make_durable()
        })
    }

    /// Every record of the side tree `tree`, in key order.
    pub fn side_records(&self, tree: &str) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let tree = self
            .db()?
            .open_tree(tree)
            .map_err(self.sled_err("open a side tree"))?;
        let mut out = Vec::new();
        for item in tree.iter() {
            let (k, v) = item.map_err(self.sled_err("read a side tree"))?;
            out.push((k.to_vec(), v.to_vec()));
        }
        Ok(out)
    }

    /// Saves a station's context; `durable` as for `save_side_record` (the
    /// station's last movement is bookkeeping that may ride on the next
    /// commit).
    pub fn save_station_context(&self, station: &str, context: &[u8], durable: bool) -> Result<()> {
        self.save_side_record(STATIONS_TREE, station.as_bytes(), context, durable)
    }

    /// Every station's saved context (station id, encoded context): the daemon
    /// restores them at start.
    pub fn station_contexts(&self) -> Result<Vec<(String, Vec<u8>)>> {
        Ok(self
            .side_records(STATIONS_TREE)?
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
            store.save_station_context("dock-1", b"ctx", true).unwrap();
            assert_eq!(store.station_contexts().unwrap().len(), 1);
        }
        let store = Store::open(dir.path(), OpenOptions::existing(Some("s".into()))).unwrap();
        assert_eq!(
            store.station_contexts().unwrap(),
            vec![("dock-1".to_owned(), b"ctx".to_vec())]
        );
        store.save_side_record("t", b"k", b"v", true).unwrap();
        store.remove_side_record("t", b"k", true).unwrap();
        assert!(store.side_records("t").unwrap().is_empty());
    }
}
