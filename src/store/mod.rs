//! The journal: the only module that touches sled.
//!
//! A store holds the site's movements (append-only, hash-chained), their
//! derived trees (rebuildable), the rejected-scan log, the outbox position
//! and reference data from head office. Every write goes through one
//! committer thread (`committer.rs`) that makes it durable before it is
//! acknowledged. What is stored (movements, rejections, serial states,
//! balances) is the domain's (`crate::model`); the store keeps the frozen
//! layouts of earlier versions (`movement_v1`, `movement::rejection_v1`)
//! and the envelopes around them.
//!
//! `Store`'s methods by role, each group in its own file:
//! - journal append (here): `commit`, `commit_async`, `reject`,
//!   `reject_async` (`queries.rs`), `failure`;
//! - journal read (here): `origins`, `head`, `movement`, `journal_range`,
//!   `rejected_range`, `by_lot`, `by_serial`, `corrections_of`,
//!   `serial_state`; the station's look-ups in `queries.rs`
//!   (`lot_balances`, `lot_balance_at`, `lot_expiry`, `by_document`) and
//!   the daemon's own records (`save_side_record`, `station_contexts`...);
//! - outbox, a site's sync state (`sync_state.rs`): outbox positions of
//!   both logs, the sync halt;
//! - reference data (`reference.rs`): head office's deltas at a site and
//!   the site's own records; what head office publishes (`published.rs`);
//! - head-office ingest (`ingest.rs`): `ingest_many`, `log_head`,
//!   `received_at`;
//! - restore of a dead site PC's store from head office's copy
//!   (`restore.rs`): `Restoring`, which takes the site's own entries
//!   through ingest's checks and writer;
//! - reports' read view (`report_scan.rs`): every lot balance and serial
//!   state, streamed;
//! - maintenance (here): `verify`, `reindex`, `backup`, `size_on_disk`,
//!   `timing`, `commit_stats`.
//!
//! sled lets one process open a store, so while the daemon runs, other
//! commands reach these same methods through its HTTP API.

pub(crate) mod backup;
pub mod chain;
pub mod committer;
pub mod derived;
mod durable;
pub mod envelope;
pub(crate) mod error;
pub mod ingest;
pub mod keys;
pub(crate) mod movement;
pub(crate) mod movement_v1;
pub(crate) mod published;
pub mod queries;
pub mod reference;
pub(crate) mod reindex;
mod reopen;
pub(crate) mod report_scan;
pub mod restore;
pub mod scan_receipts;
pub(crate) mod sync_state;
mod upgrade;
pub(crate) mod verify;
mod watermark;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use committer::{Committer, Sink};
use envelope::Stored;
pub use error::{Result, StoreError};
pub use movement::OutboxPosition;

use crate::model::{Movement, MovementId, NewMovement, NewRejection, Rejection, SerialState};

/// The layout version of the whole store (trees, keys, envelopes). A store
/// written by a newer scantrail is refused rather than misread; an older
/// one is upgraded by `reindex`.
///
/// 2: the lot-expiry tree; lot balances keyed by origin too.
/// 3: corrections indexed by the movement they correct (`CORRECTED_BY`);
///    a store of schema 2 is upgraded in place when it is opened.
pub const SCHEMA_VERSION: u32 = 3;

/// Batch size cap: large enough that a flush is amortised over many scans,
/// small enough that one batch's latency stays well under a scanner's
/// patience. See BENCHMARKS.md.
pub const DEFAULT_MAX_BATCH: usize = 256;

/// sled's page cache: sled's own default. It does not bound memory: a
/// process writing millions of movements holds several GB more, and a
/// smaller cache made that worse, not better (BENCHMARKS.md, "Memory").
pub const DEFAULT_CACHE_BYTES: u64 = 1 << 30;

pub(crate) mod tree {
    pub const META: &str = "meta";
    pub const JOURNAL: &str = "journal";
    pub const OUTBOX: &str = "outbox";
}

mod meta_key {
    pub const SCHEMA: &[u8] = b"schema";
    pub const SITE: &[u8] = b"site";
    /// Present while a reindex runs: if it is still there at open, the
    /// derived trees are incomplete.
    pub const REINDEXING: &[u8] = b"reindexing";
}

/// How to open a store.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Create the store if there is none (the daemon, `dev-append`); every
    /// reading command leaves this off so a wrong path is reported, not
    /// silently turned into an empty store.
    pub create: bool,
    /// The site this process serves: a store of another site is refused.
    /// `None` accepts the site stamped in the store (reading a backup).
    pub site: Option<String>,
    /// The most scans the committer takes into one atomic write and one durable
    /// flush (see `DEFAULT_MAX_BATCH`).
    pub max_batch: usize,
    /// sled's page cache, in bytes (see `DEFAULT_CACHE_BYTES`).
    pub cache_bytes: u64,
    /// Only `reindex` opens a store whose last reindex was interrupted, or
    /// one of an older schema: rebuilding the derived trees cures both.
    pub for_reindex: bool,
}

impl OpenOptions {
    /// Opens a store that must already exist; `site` as in `OpenOptions::site`.
    pub fn existing(site: Option<String>) -> OpenOptions {
        OpenOptions {
            create: false,
            site,
            max_batch: DEFAULT_MAX_BATCH,
            cache_bytes: DEFAULT_CACHE_BYTES,
            for_reindex: false,
        }
    }

    /// Opens the store of `site`, creating it (stamped with `site`) if there is
    /// none: the daemon and head office at start.
    pub fn create(site: String) -> OpenOptions {
        OpenOptions {
            create: true,
            ..OpenOptions::existing(Some(site))
        }
    }
}

/// The handles on one opening of sled. They are cheap to clone, and every
/// clone keeps that opening (and sled's lock on its files) alive: the
/// store can only be reopened once all of them are dropped.
#[derive(Clone)]
pub(crate) struct Trees {
    pub(crate) db: sled::Db,
    pub(crate) meta: sled::Tree,
    pub(crate) journal: sled::Tree,
    pub(crate) outbox: sled::Tree,
}

/// The readers' handles, shared by `Store` and the committer's sink: empty
/// while the committer reopens the store after a failed write.
type Slot = Arc<RwLock<Option<Trees>>>;

/// Where the store's own chains (movements, rejected scans) end on disk:
/// the last batch made durable, set by the committer after its fsyncs.
/// sled shows a batch to readers as soon as it is applied, before the
/// flush and fsyncs that make it durable, and a batch whose write failed
/// until the store is reopened. Reads that leave the process (the sync
/// uploader, `GET /journal`) must not see those: head office would hold a
/// movement that a power cut then takes from the site, and the site would
/// give its seq to another. So the journal's reads of the store's own
/// origin stop here.
#[derive(Debug, Clone, Copy)]
struct DurableHeads {
    movements: envelope::Head,
    rejections: envelope::Head,
}

type Durable = Arc<RwLock<DurableHeads>>;

/// sled behind the committer: the trees, and the fsyncs that make a flush
/// durable.
pub struct SledSink {
    pub(crate) path: PathBuf,
    /// `None` only between dropping a failed opening and a new one.
    trees: Option<Trees>,
    slot: Slot,
    cache_bytes: u64,
    durability: durable::Durability,
    watermark: Option<watermark::Writer>,
    timing: Arc<Timing>,
    durable: Durable,
}

/// Where a batch's time goes on the committer thread: applying the batch
/// in sled's memory, sled's flush (the log write), our fsyncs. Nanoseconds,
/// summed since open; read by the benchmarks.
#[derive(Debug, Default)]
pub struct Timing {
    apply: std::sync::atomic::AtomicU64,
    flush: std::sync::atomic::AtomicU64,
    fsync: std::sync::atomic::AtomicU64,
}

impl Timing {
    fn add(
        &self,
        counter: &std::sync::atomic::AtomicU64,
        since: std::time::Instant,
    ) -> std::time::Instant {
        let now = std::time::Instant::now();
        counter.fetch_add(
            (now - since).as_nanos() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
        now
    }

    /// (apply, flush, fsync) in seconds.
    pub fn seconds(&self) -> (f64, f64, f64) {
        let s = |c: &std::sync::atomic::AtomicU64| {
            c.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1e9
        };
        (s(&self.apply), s(&self.flush), s(&self.fsync))
    }
}

impl SledSink {
    fn trees(&self) -> Result<&Trees> {
        self.trees.as_ref().ok_or_else(|| StoreError::Reopening {
            path: self.path.clone(),
        })
    }

    pub(crate) fn db(&self) -> Result<&sled::Db> {
        Ok(&self.trees()?.db)
    }

    pub(crate) fn meta(&self) -> Result<&sled::Tree> {
        Ok(&self.trees()?.meta)
    }

    pub(crate) fn journal(&self) -> Result<&sled::Tree> {
        Ok(&self.trees()?.journal)
    }

    pub(crate) fn outbox(&self) -> Result<&sled::Tree> {
        Ok(&self.trees()?.outbox)
    }

    pub(crate) fn make_durable(&mut self) -> Result<()> {
        let t = std::time::Instant::now();
        self.db()?
            .flush()
            .map_err(|e| StoreError::sled(&self.path, "flush", e))?;
        let t = self.timing.add(&self.timing.flush, t);
        self.durability.sync()?;
        self.timing.add(&self.timing.fsync, t);
        Ok(())
    }

    pub(crate) fn sled_err(&self, op: &'static str) -> impl Fn(sled::Error) -> StoreError + '_ {
        move |e| StoreError::sled(&self.path, op, e)
    }
}

impl Sink for SledSink {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self
            .journal()?
            .get(key)
            .map_err(self.sled_err("read"))?
            .map(|v| v.to_vec()))
    }

    fn write_durably(&mut self, writes: Vec<(Vec<u8>, Vec<u8>)>) -> Result<()> {
        let t = std::time::Instant::now();
        let mut batch = sled::Batch::default();
        for (k, v) in writes {
            batch.insert(k, v);
        }
        self.journal()?
            .apply_batch(batch)
            .map_err(self.sled_err("write a batch"))?;
        self.timing.add(&self.timing.apply, t);
        self.make_durable()
    }

    fn acknowledged(
        &mut self,
        origin: &str,
        movements: envelope::Head,
        rejections: envelope::Head,
    ) {
        *self.durable.write().unwrap_or_else(|p| p.into_inner()) = DurableHeads {
            movements,
            rejections,
        };
        let w = watermark::Watermark {
            origin: origin.to_owned(),
            movements,
            rejections,
        };
        if let Some(writer) = &self.watermark {
            // The batch is durable already: a failed watermark only weakens
            // the truncation check, so say so and go on.
            if let Err(e) = writer.write(&w) {
                tracing::warn!(path = %writer.path().display(), error = %e, "cannot write the acknowledged watermark");
                self.watermark = None;
            }
        }
    }

    fn reopen(
        &mut self,
        origin: &str,
        movements: envelope::Head,
        rejections: envelope::Head,
    ) -> Result<()> {
        reopen::run(self, origin, movements, rejections)
    }
}

/// An open store. Share it between threads with `Arc<Store>` (or by
/// reference): every method takes `&self`.
pub struct Store {
    path: PathBuf,
    site: String,
    trees: Slot,
    committer: Committer<SledSink>,
    timing: Arc<Timing>,
    durable: Durable,
}

/// sled's own checks `expect` in places; a damaged file must still give a
/// message, not a crash. The default panic hook would print a backtrace-ish
/// "panicked at" line before our clear error, so while sled runs here the
/// hook only logs at debug level.
fn guard<T>(path: &Path, op: &'static str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| tracing::debug!(%info, "sled panicked")));
    let outcome = catch_unwind(AssertUnwindSafe(f));
    std::panic::set_hook(previous);
    match outcome {
        Ok(r) => r,
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "sled panicked".to_owned());
            Err(StoreError::Damaged {
                path: path.to_owned(),
                detail: format!("{op}: sled failed with \"{what}\""),
            })
        }
    }
}

/// Opens sled, waiting briefly if the lock is still held: sled's helper
/// threads of a store just closed in this process (or a command that just
/// exited) can hold it for a moment. A store really in use is reported
/// after about a second.
fn open_sled(path: &Path, cache_bytes: u64) -> Result<sled::Db> {
    let mut attempt = 0;
    loop {
        let opened = guard(path, "open", || {
            sled::Config::new()
                .path(path)
                // We flush after every batch ourselves; sled's timer flush
                // would only compete with the committer for the log.
                .flush_every_ms(None)
                .cache_capacity(cache_bytes)
                .open()
                .map_err(|e| StoreError::sled(path, "open", e))
        });
        match opened {
            Err(StoreError::InUse { .. }) if attempt < 10 => {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            other => return other,
        }
    }
}

fn has_store(path: &Path) -> bool {
    path.join("db").is_file() || path.join("conf").is_file()
}

impl Store {
    /// Opens (or with `options.create`, creates) the store at `path`.
    pub fn open(path: &Path, options: OpenOptions) -> Result<Store> {
        guard(path, "open", || Self::open_unguarded(path, options))
    }

    fn open_unguarded(path: &Path, options: OpenOptions) -> Result<Store> {
        if restore::unfinished(path) {
            return Err(StoreError::RestoreUnfinished {
                path: path.to_owned(),
            });
        }
        let exists = has_store(path);
        if !exists && !options.create {
            return Err(StoreError::NoStore {
                path: path.to_owned(),
            });
        }
        if !exists {
            durable::create_store_dir(path)?;
        }
        let trees = Trees::open(path, options.cache_bytes)?;
        let (site, schema) = Self::check_meta(path, &trees.meta, &trees.journal, &options)?;
        Self::check_watermark(path, &site, &trees.journal)?;
        let watermark = watermark::Writer::open(path)
            .map_err(|e| StoreError::io(path, "open the watermark file", e))?;
        let durability = durable::Durability::new(path)?;
        let timing = Arc::new(Timing::default());
        let slot: Slot = Arc::new(RwLock::new(Some(trees.clone())));
        let genesis = envelope::Head {
            seq: 0,
            hash: crate::model::Hash::GENESIS,
        };
        let durable: Durable = Arc::new(RwLock::new(DurableHeads {
            movements: genesis,
            rejections: genesis,
        }));
        let mut sink = SledSink {
            path: path.to_owned(),
            trees: Some(trees),
            slot: slot.clone(),
            cache_bytes: options.cache_bytes,
            durability,
            watermark: Some(watermark),
            timing: timing.clone(),
            durable: durable.clone(),
        };
        // What sled recovered may be only in the page cache (a process
        // killed between a batch's write and its fsync): made durable here,
        // it is what the chains' durable heads start from.
        sink.make_durable()?;
        if !exists {
            tracing::info!(path = %path.display(), site = %site, "store created");
        } else if schema == 2 && !options.for_reindex {
            upgrade::index_corrections(&mut sink)?;
        } else {
            tracing::debug!(path = %path.display(), site = %site, "store opened");
        }
        *durable.write().unwrap_or_else(|p| p.into_inner()) = DurableHeads {
            movements: Self::stored_head(path, &sink.journal()?.clone(), keys::head(&site))?,
            rejections: Self::stored_head(
                path,
                &sink.journal()?.clone(),
                keys::rejected_head(&site),
            )?,
        };
        let committer = Committer::start(sink, site.clone(), path.to_owned(), options.max_batch)?;
        Ok(Store {
            path: path.to_owned(),
            site,
            trees: slot,
            committer,
            timing,
            durable,
        })
    }

    /// A chain head as sled holds it (0 when none).
    fn stored_head(path: &Path, journal: &sled::Tree, key: Vec<u8>) -> Result<envelope::Head> {
        match journal
            .get(key)
            .map_err(|e| StoreError::sled(path, "read a chain head", e))?
        {
            Some(v) => envelope::Head::decode(&v).map_err(|source| StoreError::Value {
                path: path.to_owned(),
                source,
            }),
            None => Ok(envelope::Head {
                seq: 0,
                hash: crate::model::Hash::GENESIS,
            }),
        }
    }

    /// The durable heads of the store's own chains, or `None` for another
    /// origin (head office's ingested sites: ingest answers a site only
    /// once its batch is durable).
    fn durable_heads(&self, origin: &str) -> Option<DurableHeads> {
        (origin == self.site).then(|| *self.durable.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// The highest seq of `origin`'s movements that reads may show.
    fn readable_movements(&self, origin: &str) -> u64 {
        self.durable_heads(origin)
            .map_or(u64::MAX, |h| h.movements.seq)
    }

    /// Checks (or, for a new store, writes) the schema version and site.
    fn check_meta(
        path: &Path,
        meta: &sled::Tree,
        journal: &sled::Tree,
        options: &OpenOptions,
    ) -> Result<(String, u32)> {
        let err = |op| move |e| StoreError::sled(path, op, e);
        let schema = meta
            .get(meta_key::SCHEMA)
            .map_err(err("read the schema version"))?;
        let Some(schema) = schema else {
            // A sled directory without our meta: either our creation was
            // cut short before anything was committed, or a foreign store.
            let empty = journal.is_empty();
            return match (&options.site, options.create && empty) {
                (Some(site), true) => {
                    meta.insert(meta_key::SCHEMA, &SCHEMA_VERSION.to_be_bytes())
                        .map_err(err("write the schema version"))?;
                    meta.insert(meta_key::SITE, site.as_bytes())
                        .map_err(err("write the site id"))?;
                    Ok((site.clone(), SCHEMA_VERSION))
                }
                _ => Err(StoreError::NotAStore {
                    path: path.to_owned(),
                    reason: "it has no schema version".into(),
                }),
            };
        };
        let found = <[u8; 4]>::try_from(schema.as_ref())
            .map(u32::from_be_bytes)
            .map_err(|_| StoreError::Damaged {
                path: path.to_owned(),
                detail: "the schema version is not 4 bytes".into(),
            })?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path: path.to_owned(),
                found,
                known: SCHEMA_VERSION,
            });
        }
        let stored_site = meta
            .get(meta_key::SITE)
            .map_err(err("read the site id"))?
            .and_then(|v| String::from_utf8(v.to_vec()).ok())
            .ok_or_else(|| StoreError::Damaged {
                path: path.to_owned(),
                detail: "the site id is missing".into(),
            })?;
        if let Some(expected) = &options.site {
            if *expected != stored_site {
                return Err(StoreError::OtherSite {
                    path: path.to_owned(),
                    found: stored_site,
                    expected: expected.clone(),
                });
            }
        }
        // Schema 2 lacks only the corrections index, which `open` adds in
        // place; older stores need their derived trees rebuilt.
        if found < 2 && !options.for_reindex {
            return Err(StoreError::OlderSchema {
                path: path.to_owned(),
                found,
                known: SCHEMA_VERSION,
            });
        }
        if !options.for_reindex
            && meta
                .contains_key(meta_key::REINDEXING)
                .map_err(err("read the meta tree"))?
        {
            return Err(StoreError::ReindexInterrupted {
                path: path.to_owned(),
            });
        }
        Ok((stored_site, found))
    }

    /// Refuses a store whose journal ends before the last acknowledged
    /// movement: sled dropped part of its log (see `watermark.rs`).
    fn check_watermark(path: &Path, site: &str, journal: &sled::Tree) -> Result<()> {
        let w = match watermark::read(path) {
            Ok(Some(w)) if w.origin == site => w,
            Ok(_) => return Ok(()),
            Err(reason) => {
                tracing::warn!(path = %path.display(), %reason, "the acknowledged watermark is unreadable; it is rewritten at the next commit");
                return Ok(());
            }
        };
        let head = |key: Vec<u8>| Self::stored_head(path, journal, key);
        for (what, stored, acked) in [
            ("movements", head(keys::head(site))?, w.movements),
            (
                "rejected scans",
                head(keys::rejected_head(site))?,
                w.rejections,
            ),
        ] {
            let lost =
                stored.seq < acked.seq || (stored.seq == acked.seq && stored.hash != acked.hash);
            if lost {
                return Err(StoreError::Damaged {
                    path: path.to_owned(),
                    detail: format!(
                        "its {what} end at seq {} but seq {} was acknowledged: sled lost part of its log",
                        stored.seq, acked.seq
                    ),
                });
            }
        }
        Ok(())
    }

    /// The store's directory, as opened: every error message names it.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The site this store belongs to (its movements' origin).
    pub fn site(&self) -> &str {
        &self.site
    }

    /// Commits a movement and returns it with its origin, seq and hashes,
    /// once it is durable. Blocks; call from any number of threads, but
    /// not from an async task (tokio's `blocking_recv` panics there): use
    /// `commit_async`, or `spawn_blocking`.
    pub fn commit(&self, m: NewMovement) -> Result<Movement> {
        self.committer
            .submit(m)
            .blocking_recv()
            .unwrap_or_else(|_| Err(self.committer.closed()))
    }

    /// `commit` for async callers: the future resolves once durable.
    pub fn commit_async(
        &self,
        m: NewMovement,
    ) -> impl std::future::Future<Output = Result<Movement>> + Send + 'static {
        let pending = self.committer.submit(m);
        let path = self.path.clone();
        async move { pending.await.unwrap_or(Err(StoreError::Closed { path })) }
    }

    /// `commit_async` with the scan's receipt written in the same durable
    /// batch (`scan_receipts`).
    pub fn commit_with_receipt(
        &self,
        m: NewMovement,
        receipt: Option<scan_receipts::ScanReceipt>,
    ) -> impl std::future::Future<Output = Result<Movement>> + Send + 'static {
        let pending = self.committer.submit_with_receipt(m, receipt);
        let path = self.path.clone();
        async move { pending.await.unwrap_or(Err(StoreError::Closed { path })) }
    }

    /// How `device`'s scan `scan_id` was answered, if a receipt was
    /// written for it. An unreadable receipt counts as none (the scan is
    /// then decided again, as before receipts were kept).
    pub fn scan_receipt(
        &self,
        device: &str,
        scan_id: &str,
    ) -> Result<Option<scan_receipts::StoredReceipt>> {
        let bytes = self
            .trees()?
            .journal
            .get(scan_receipts::key(device, scan_id))
            .map_err(self.sled_err("read a scan receipt"))?;
        Ok(bytes.and_then(|b| scan_receipts::StoredReceipt::decode(&b)))
    }

    /// Drops the receipts older than `scan_receipts::KEEP_DAYS` before
    /// `now` that are not among the newest `keep_newest`; returns how many.
    /// Not made durable on its own: a receipt that a crash brings back is
    /// only kept a little longer.
    pub fn prune_scan_receipts(
        &self,
        keep_newest: usize,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<usize> {
        let journal = &self.trees()?.journal;
        let order = [keys::prefix::SCAN_RECEIPT_ORDER];
        let before = scan_receipts::prune_before(now);
        let mut batch = sled::Batch::default();
        let mut pruned = 0;
        // Newest first: past the newest `keep_newest`, every receipt older
        // than the cut-off goes, in one pass over the order entries.
        for k in journal.scan_prefix(order).keys().rev().skip(keep_newest) {
            let k = k.map_err(self.sled_err("read the scan receipts' order"))?;
            let Some((at, receipt)) = scan_receipts::read_order_key(&k) else {
                continue;
            };
            if at >= before {
                continue;
            }
            batch.remove(receipt);
            batch.remove(k);
            pruned += 1;
        }
        if pruned > 0 {
            journal
                .apply_batch(batch)
                .map_err(self.sled_err("prune scan receipts"))?;
        }
        Ok(pruned)
    }

    /// Records a rejected scan in its own hash-chained log.
    pub fn reject(&self, r: NewRejection) -> Result<Rejection> {
        self.committer
            .submit_rejection(r, None)
            .blocking_recv()
            .unwrap_or_else(|_| Err(self.committer.closed()))
    }

    /// Time spent per phase of the commit path since open.
    pub fn timing(&self) -> &Timing {
        &self.timing
    }

    /// Movements and batches committed since open (benchmarks, logs).
    pub fn commit_stats(&self) -> (u64, u64) {
        let s = &self.committer.stats;
        (
            s.movements.load(std::sync::atomic::Ordering::Relaxed),
            s.batches.load(std::sync::atomic::Ordering::Relaxed),
        )
    }

    /// The value stored under `key` in `tree`, decoded.
    fn read<T: Stored>(
        &self,
        tree: &sled::Tree,
        key: &[u8],
        op: &'static str,
    ) -> Result<Option<T>> {
        match tree.get(key).map_err(self.sled_err(op))? {
            Some(v) => self.value(&v).map(Some),
            None => Ok(None),
        }
    }

    fn value<T: Stored>(&self, bytes: &[u8]) -> Result<T> {
        T::decode(bytes).map_err(|source| StoreError::Value {
            path: self.path.clone(),
            source,
        })
    }

    fn sled_err(&self, op: &'static str) -> impl Fn(sled::Error) -> StoreError + '_ {
        move |e| StoreError::sled(&self.path, op, e)
    }

    /// The origins with movements in this store (one at a site, all sites
    /// at head office).
    pub fn origins(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for item in self.trees()?.journal.scan_prefix([keys::prefix::HEAD]) {
            let (k, _) = item.map_err(self.sled_err("read the chain heads"))?;
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
            .trees()?
            .journal
            .scan_prefix([keys::prefix::REJECTED_HEAD])
        {
            let (k, _) = item.map_err(self.sled_err("read the chain heads"))?;
            if let Some(origin) = keys::KeyReader::new(&k).str() {
                out.push(origin);
            }
        }
        Ok(out)
    }

    /// Up to `limit` movements of `origin` with seq >= `from_seq`, in seq
    /// order: the page a sync upload or an HTTP client asks for. Of the
    /// store's own origin, durable movements only (see `DurableHeads`).
    pub fn journal_range(
        &self,
        origin: &str,
        from_seq: u64,
        limit: usize,
    ) -> Result<Vec<Movement>> {
        let last = self.readable_movements(origin);
        if from_seq > last {
            return Ok(Vec::new());
        }
        let start = keys::journal(origin, from_seq);
        let end = keys::journal(origin, last);
        let prefix = keys::journal_origin(origin);
        let mut out = Vec::new();
        for item in self.trees()?.journal.range(start..=end) {
            if out.len() >= limit {
                break;
            }
            let (k, v) = item.map_err(self.sled_err("read the journal"))?;
            if !k.starts_with(&prefix) {
                break;
            }
            out.push(self.value(&v)?);
        }
        Ok(out)
    }

    /// The movement (origin, seq), if committed (and of the store's own
    /// origin, durable).
    pub fn movement(&self, origin: &str, seq: u64) -> Result<Option<Movement>> {
        if seq > self.readable_movements(origin) {
            return Ok(None);
        }
        self.read(
            &self.trees()?.journal,
            &keys::journal(origin, seq),
            "read the journal",
        )
    }

    /// The last committed seq and hash of `origin` (0 when none); of the
    /// store's own origin, the last durable one.
    pub fn head(&self, origin: &str) -> Result<envelope::Head> {
        if let Some(h) = self.durable_heads(origin) {
            return Ok(h.movements);
        }
        Ok(self
            .read(
                &self.trees()?.journal,
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
        for item in self.trees()?.journal.range(start..=end) {
            if out.len() >= limit {
                break;
            }
            let (k, v) = item.map_err(self.sled_err("read the rejected log"))?;
            if !k.starts_with(&prefix) {
                break;
            }
            out.push(self.value(&v)?);
        }
        Ok(out)
    }

    fn ids_under(&self, prefix: Vec<u8>) -> Result<Vec<MovementId>> {
        let mut out = Vec::new();
        for item in self.trees()?.journal.scan_prefix(&prefix) {
            let (k, _) = item.map_err(self.sled_err("read an index"))?;
            if let Some((origin, seq)) = derived::index_target(&k) {
                out.push(MovementId { origin, seq });
            }
        }
        Ok(out)
    }

    /// Every movement of a lot, by (origin, seq).
    pub fn by_lot(&self, gtin: &str, lot: &str) -> Result<Vec<MovementId>> {
        self.ids_under(keys::lot_range(gtin, lot))
    }

    /// The corrections recorded against a movement: at most one, unless
    /// the store holds history from before that rule (verify reports it).
    pub fn corrections_of(&self, origin: &str, seq: u64) -> Result<Vec<MovementId>> {
        self.ids_under(keys::corrected_by(origin, seq).into_vec())
    }

    /// Every movement of a serialised item, by (origin, seq).
    pub fn by_serial(&self, gtin: &str, serial: &str) -> Result<Vec<MovementId>> {
        self.ids_under(keys::serial_range(gtin, serial))
    }

    /// Every movement of the given serials of a GTIN, by (origin, seq): one
    /// scan of the serial index from the first of them to the last (in
    /// key order), not one look-up per serial, which costs more than the
    /// scan for the thousands of serials a range recall names.
    pub fn by_serials(&self, gtin: &str, serials: &[String]) -> Result<Vec<MovementId>> {
        let (Some(first), Some(last)) = (serials.iter().min(), serials.iter().max()) else {
            return Ok(Vec::new());
        };
        let wanted: std::collections::HashSet<&str> = serials.iter().map(String::as_str).collect();
        let start = keys::serial_range(gtin, first);
        // Just past every key of the last serial: its encoding ends 00 01.
        let mut end = keys::serial_range(gtin, last);
        if let Some(b) = end.last_mut() {
            *b += 1;
        }
        let mut out = Vec::new();
        for item in self.trees()?.journal.range(start..end) {
            let (k, _) = item.map_err(self.sled_err("read an index"))?;
            let mut r = keys::KeyReader::new(&k);
            let serial = r.str().and_then(|_gtin| r.str());
            if !serial.is_some_and(|s| wanted.contains(s.as_str())) {
                continue;
            }
            if let Some((origin, seq)) = derived::index_target(&k) {
                out.push(MovementId { origin, seq });
            }
        }
        Ok(out)
    }

    /// Where a serialised unit (GTIN + serial) is now, as the serial-state tree
    /// holds it; `None` for a serial never recorded.
    pub fn serial_state(&self, gtin: &str, serial: &str) -> Result<Option<SerialState>> {
        let key = keys::serial_state(gtin, serial);
        self.read(&self.trees()?.journal, &key, "read a serial state")
    }

    /// Checks every origin's hash chain and every derived tree against the
    /// journal, with commits paused.
    pub fn verify(&self) -> Result<verify::Report> {
        let path = self.path.clone();
        self.committer
            .exclusive(move |sink| guard(&path, "verify", || verify::run(sink)))
    }

    /// Rebuilds every derived tree from the journal, with commits paused.
    pub fn reindex(&self) -> Result<reindex::Report> {
        let path = self.path.clone();
        self.committer
            .exclusive(move |sink| guard(&path, "reindex", || reindex::run(sink)))
    }

    /// Writes a consistent copy of the store to `dest`, with commits paused.
    pub fn backup(&self, dest: &Path) -> Result<backup::Report> {
        let dest = dest.to_owned();
        self.committer
            .exclusive(move |sink| backup::run(sink, &dest))
    }

    /// The first half of a backup of a store in use: copies the store's
    /// files as they are into `staging` (a new directory) with commits
    /// paused only for that file copy (seconds per GB), not for a key by
    /// key copy. Opened as a store (`scantrail backup --data STAGING DEST`),
    /// the copy is recovered as after a stop and checked against the
    /// acknowledged watermark, so it holds every movement acknowledged
    /// before the call. Errors are [`StoreError::BackupWrite`]: they do not
    /// stop commits. Returns how long commits were paused.
    pub fn copy_files(&self, staging: &Path) -> Result<std::time::Duration> {
        let to = staging.to_owned();
        self.committer
            .exclusive(move |sink| backup::copy_files(sink, &to))
    }

    /// Disk space of the store, as sled counts it.
    pub fn size_on_disk(&self) -> Result<u64> {
        self.trees()?
            .db
            .size_on_disk()
            .map_err(self.sled_err("measure the store"))
    }

    fn committer(&self) -> &Committer<SledSink> {
        &self.committer
    }

    /// The current handles for reading; a clear error while the committer
    /// reopens the store after a failed write.
    fn trees(&self) -> Result<Trees> {
        let slot = self
            .trees
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        slot.clone().ok_or_else(|| StoreError::Reopening {
            path: self.path.clone(),
        })
    }

    fn db(&self) -> Result<sled::Db> {
        Ok(self.trees()?.db)
    }

    /// `None` while commits are accepted; otherwise why they are not (a
    /// full disk, a failed write) while the committer retries reopening
    /// the store.
    pub fn failure(&self) -> Option<StoreError> {
        self.committer.failure()
    }
}

impl Trees {
    fn open(path: &Path, cache_bytes: u64) -> Result<Trees> {
        let db = open_sled(path, cache_bytes)?;
        let open = |name: &str, op| {
            db.open_tree(name)
                .map_err(|e| StoreError::sled(path, op, e))
        };
        let meta = open(tree::META, "open the meta tree")?;
        let journal = open(tree::JOURNAL, "open the journal tree")?;
        let outbox = open(tree::OUTBOX, "open the outbox tree")?;
        reference::open_trees(&db, path)?;
        Ok(Trees {
            db,
            meta,
            journal,
            outbox,
        })
    }
}

/// Shared ownership for servers and worker pools.
pub type SharedStore = Arc<Store>;

#[cfg(test)]
mod tests;
