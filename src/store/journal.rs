//! The journal's role handle: appending movements and rejected scans
//! (through the committer, acknowledged once durable), reading the two
//! hash-chained logs back in seq order, and the handhelds' scan receipts
//! written with them. The sync uploader, the desk, `GET /journal` and
//! head office's reads of its sites' chains hold a `Journal`.

use super::envelope::{self, Head};
use super::error::{Result, StoreError};
use super::{blocks, keys, scan_receipts, Store};
use crate::model::{Hash, Log, Movement, MovementId, NewMovement, NewRejection, Rejection};

/// Appends to and reads the hash-chained logs: `Store::journal`.
#[derive(Clone, Copy)]
pub struct Journal<'a> {
    pub(super) store: &'a Store,
}

impl<'a> Journal<'a> {
    /// Commits a movement and returns it with its origin, seq and hashes,
    /// once it is durable. Blocks; call from any number of threads, but
    /// not from an async task (tokio's `blocking_recv` panics there): use
    /// `commit_async`, or `spawn_blocking`.
    pub fn commit(&self, m: NewMovement) -> Result<Movement> {
        self.store
            .committer
            .submit(m)
            .blocking_recv()
            .unwrap_or_else(|_| Err(self.store.committer.closed()))
    }

    /// `commit` for async callers: the future resolves once durable.
    pub fn commit_async(
        &self,
        m: NewMovement,
    ) -> impl std::future::Future<Output = Result<Movement>> + Send + 'static {
        let pending = self.store.committer.submit(m);
        let path = self.store.path.clone();
        async move { pending.await.unwrap_or(Err(StoreError::Closed { path })) }
    }

    /// `commit_async` with the scan's receipt written in the same durable
    /// batch (`scan_receipts`).
    pub fn commit_with_receipt(
        &self,
        m: NewMovement,
        receipt: Option<scan_receipts::ScanReceipt>,
    ) -> impl std::future::Future<Output = Result<Movement>> + Send + 'static {
        let pending = self.store.committer.submit_with_receipt(m, receipt);
        let path = self.store.path.clone();
        async move { pending.await.unwrap_or(Err(StoreError::Closed { path })) }
    }

    /// Records a rejected scan in its own hash-chained log.
    pub fn reject(&self, r: NewRejection) -> Result<Rejection> {
        self.store
            .committer
            .submit_rejection(r, None)
            .blocking_recv()
            .unwrap_or_else(|_| Err(self.store.committer.closed()))
    }

    /// How `device`'s scan `scan_id` was answered, if a receipt was
    /// written for it. An unreadable receipt counts as none (the scan is
    /// then decided again, as before receipts were kept).
    pub fn scan_receipt(
        &self,
        device: &str,
        scan_id: &str,
    ) -> Result<Option<scan_receipts::StoredReceipt>> {
        let journal = &self.store.trees()?.journal;
        let read = self.store.sled_err("read a scan receipt");
        let ring = journal.get(scan_receipts::ring_key()).map_err(&read)?;
        let Some(ring) = scan_receipts::Ring::read(ring.as_deref()) else {
            return Ok(None);
        };
        let slot = journal.get(ring.slot_key(device, scan_id)).map_err(&read)?;
        Ok(slot.and_then(|slot| scan_receipts::find(&slot, device, scan_id)))
    }

    /// The origins with movements in this store (one at a site, all sites
    /// at head office).
    pub fn origins(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for item in self
            .store
            .trees()?
            .journal
            .scan_prefix([keys::prefix::HEAD])
        {
            let (k, _) = item.map_err(self.store.sled_err("read the chain heads"))?;
            if let Some(origin) = keys::KeyReader::new(&k).str() {
                out.push(origin);
            }
        }
        Ok(out)
    }

    /// The origins with rejected scans in this store.
    pub fn rejected_origins(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for item in self
            .store
            .trees()?
            .journal
            .scan_prefix([keys::prefix::REJECTED_HEAD])
        {
            let (k, _) = item.map_err(self.store.sled_err("read the chain heads"))?;
            if let Some(origin) = keys::KeyReader::new(&k).str() {
                out.push(origin);
            }
        }
        Ok(out)
    }

    /// Up to `limit` movements of `origin` with seq >= `from_seq`, in seq
    /// order: the page a sync upload or an HTTP client asks for. Of the
    /// store's own origin, durable movements only (see `DurableHeads`).
    pub fn range(&self, origin: &str, from_seq: u64, limit: usize) -> Result<Vec<Movement>> {
        let last = self.store.readable_movements(origin);
        if from_seq > last {
            return Ok(Vec::new());
        }
        let start = keys::journal(origin, from_seq);
        let end = keys::journal(origin, last);
        let prefix = keys::journal_origin(origin);
        let mut out = Vec::new();
        'blocks: for item in super::counted::range(&self.store.trees()?.journal, start..=end) {
            let (k, v) = item.map_err(self.store.sled_err("read the journal"))?;
            if !k.starts_with(&prefix) {
                break;
            }
            for entry in blocks::entries(&v, blocks::first_of(&k).unwrap_or(0)) {
                let (seq, bytes) = entry.map_err(|seq| self.store.cut_short(origin, seq))?;
                if seq < from_seq {
                    continue;
                }
                if seq > last || out.len() >= limit {
                    break 'blocks;
                }
                out.push(self.store.value(bytes)?);
            }
        }
        Ok(out)
    }

    /// The movement (origin, seq), if committed (and of the store's own
    /// origin, durable).
    pub fn movement(&self, origin: &str, seq: u64) -> Result<Option<Movement>> {
        if seq > self.store.readable_movements(origin) {
            return Ok(None);
        }
        let journal = &self.store.trees()?.journal;
        match blocks::read(journal, origin, seq).map_err(self.store.sled_err("read the journal"))? {
            Some(bytes) => self.store.value(&bytes).map(Some),
            None => Ok(None),
        }
    }

    /// The movements `ids` name that are committed (of the store's own
    /// origin, durable), in the order given: a report's lot or serials.
    /// Ids next to each other in one block read it once.
    pub fn movements(&self, ids: &[MovementId]) -> Result<Vec<Movement>> {
        let journal = &self.store.trees()?.journal;
        let mut block: Option<(Vec<u8>, Option<sled::IVec>)> = None;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if id.seq > self.store.readable_movements(&id.origin) {
                continue;
            }
            let key = keys::journal(&id.origin, id.seq);
            if block.as_ref().map(|(k, _)| k) != Some(&key) {
                let value = journal
                    .get(&key)
                    .map_err(self.store.sled_err("read the journal"))?;
                block = Some((key, value));
            }
            if let Some(bytes) = block
                .as_ref()
                .and_then(|(_, v)| blocks::find(v.as_ref()?, id.seq))
            {
                out.push(self.store.value(bytes)?);
            }
        }
        Ok(out)
    }

    /// The last committed seq and hash of `origin` (0 when none); of the
    /// store's own origin, the last durable one.
    pub fn head(&self, origin: &str) -> Result<envelope::Head> {
        if let Some(h) = self.store.durable_heads(origin) {
            return Ok(h.movements);
        }
        Ok(self
            .store
            .read(
                &self.store.trees()?.journal,
                &keys::head(origin),
                "read a chain head",
            )?
            .unwrap_or(envelope::Head {
                seq: 0,
                hash: crate::model::Hash::GENESIS,
            }))
    }

    /// Up to `limit` rejected scans of `origin` with seq >= `from_seq` (of
    /// the store's own origin, durable ones only).
    pub fn rejected_range(
        &self,
        origin: &str,
        from_seq: u64,
        limit: usize,
    ) -> Result<Vec<Rejection>> {
        let last = self
            .store
            .durable_heads(origin)
            .map_or(u64::MAX, |h| h.rejections.seq);
        if from_seq > last {
            return Ok(Vec::new());
        }
        let start = keys::rejected(origin, from_seq);
        let end = keys::rejected(origin, last);
        let prefix = keys::Key::new(keys::prefix::REJECTED)
            .str(origin)
            .into_vec();
        let mut out = Vec::new();
        for item in self.store.trees()?.journal.range(start..=end) {
            if out.len() >= limit {
                break;
            }
            let (k, v) = item.map_err(self.store.sled_err("read the rejected log"))?;
            if !k.starts_with(&prefix) {
                break;
            }
            out.push(self.store.value(&v)?);
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
        let pending = self.store.committer().submit_rejection(r, receipt);
        let path = self.store.path().to_owned();
        async move { pending.await.unwrap_or(Err(StoreError::Closed { path })) }
    }

    /// The last entry held of `origin`'s log (0 when none).
    pub fn log_head(&self, origin: &str, log: Log) -> Result<Head> {
        match log {
            Log::Movements => self.head(origin),
            Log::Rejections => {
                match self
                    .store
                    .trees()?
                    .journal
                    .get(keys::rejected_head(origin))
                    .map_err(|e| StoreError::sled(self.store.path(), "read a chain head", e))?
                {
                    Some(v) => self.store.value(&v),
                    None => Ok(Head {
                        seq: 0,
                        hash: Hash::GENESIS,
                    }),
                }
            }
        }
    }

    /// How many movements the store holds: every origin's head.
    pub fn movements_held(&self) -> Result<u64> {
        let mut total = 0;
        for origin in self.origins()? {
            total += self.head(&origin)?.seq;
        }
        Ok(total)
    }
}
