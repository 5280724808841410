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
//! `Store` hands out one handle per role, each in its own file, so a
//! caller names what it does with the store:
//! - [`Journal`] (`journal.rs`): append movements and rejected scans, read
//!   the two hash-chained logs, the handhelds' scan receipts;
//! - [`View`] (`view.rs`, `report_scan.rs`): what the derived trees answer
//!   (indexes by lot, serial and document; serial states; lot balances and
//!   expiries), for the station's rules and the reports;
//! - [`Outbox`] (`sync_state.rs`): a site's sync state;
//! - [`ReferenceData`] (`reference.rs`): head office's deltas at a site
//!   and the site's own reference records;
//! - [`Records`] (`records.rs`): the daemons' small side records;
//! - [`Published`] (`published.rs`): what head office publishes;
//! - [`Ingest`] (`ingest.rs`): head office's ingest of its sites' logs;
//! - restore of a dead site PC's store from head office's copy
//!   (`restore.rs`): `Restoring`, which takes the site's own entries
//!   through ingest's checks and writer;
//! - maintenance, on `Store` itself: `verify`, `reindex`, `backup`,
//!   `copy_files`, `size_on_disk`, `timing`, `commit_stats`, `failure`.
//!
//! sled lets one process open a store, so while the daemon runs, other
//! commands reach these same methods through its HTTP API.

pub(crate) mod backup;
pub mod blocks;
pub mod chain;
pub mod committer;
mod counted;
pub mod derived;
mod durable;
pub mod envelope;
pub(crate) mod error;
pub mod ingest;
mod journal;
pub mod keys;
pub(crate) mod movement;
pub(crate) mod movement_v1;
pub mod movement_view;
mod postings;
pub(crate) mod published;
mod records;
pub mod reference;
pub mod refresh;
pub(crate) mod reindex;
mod reopen;
pub(crate) mod report_scan;
pub mod restore;
pub mod scan_receipts;
pub(crate) mod sync_state;
pub mod units;
mod upgrade;
pub(crate) mod verify;
pub mod view;
mod watermark;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use committer::{Committer, Sink};
use envelope::{EnvelopeError, Stored};
pub use error::{Result, StoreError};
pub use ingest::Ingest;
pub use journal::Journal;
pub use movement::OutboxPosition;
pub use published::Published;
pub use records::Records;
pub use reference::ReferenceData;
pub use sync_state::Outbox;
pub use upgrade::Upgrading;
pub use view::View;

/// The layout version of the whole store (trees, keys, envelopes). A store
/// written by a newer scantrail is refused rather than misread; an older
/// one is upgraded by rebuilding its derived trees (`upgrade`).
///
/// 2: the lot-expiry tree; lot balances keyed by origin too.
/// 3: corrections indexed by the movement they correct (`CORRECTED_BY`).
/// 4: index entries kept as postings, many seqs an entry (`postings`).
/// 5: the journal kept in blocks of 32 movements (`blocks`), a serialised
///    unit's state and by-serial index in one entry (`units`).
/// 6: the handhelds' scan receipts in a ring of slots (`scan_receipts`).
/// 7: serialised units kept in blocks of up to 16 of one GTIN in serial
///    order (`units`), not an entry each.
///
/// A store of schema 2 to 6 is upgraded in place when it is opened
/// (`upgrade`).
pub const SCHEMA_VERSION: u32 = 7;

/// Told how many movements a long walk (`verify_showing`) has read so far.
pub type Progress = Arc<dyn Fn(u64) + Send + Sync>;

/// Batch size cap: large enough that a flush is amortised over many scans,
/// small enough that one batch's latency stays well under a scanner's
/// patience. See BENCHMARKS.md.
pub const DEFAULT_MAX_BATCH: usize = 256;

/// sled's page cache when the opener names none: sled's own default. The
/// site daemon sizes it from `[store] memory_mb` instead. Before index
/// postings (schema 4) a smaller cache made memory worse, not better;
/// now it holds less (BENCHMARKS.md, "Memory" and "Index postings").
pub const DEFAULT_CACHE_BYTES: u64 = 1 << 30;

/// sled's page cache for a command that reads the store once in order (an
/// EPCIS export, `verify`): a larger one only grows the process. At 10
/// million movements `verify` took the same time with it as with the
/// default and 2.6 GiB less (BENCHMARKS.md, "The soak").
pub const ONE_PASS_CACHE_BYTES: u64 = 64 << 20;

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
    /// Told, every second or so, how far an upgrade at open (`upgrade`)
    /// is: the daemons ask the service manager for more start time with
    /// it, the commands draw a progress bar.
    pub on_upgrade: Option<fn(Upgrading)>,
    /// Which handheld scan receipts the committer keeps (the site daemon's
    /// from `[store] memory_mb`).
    pub receipts: scan_receipts::Keep,
    /// When the committer reopens the store (the site daemon's from
    /// `[store] reopen_every`); `None`: never.
    pub refresh: Option<refresh::Refresh>,
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
            on_upgrade: None,
            receipts: scan_receipts::Keep::default(),
            refresh: None,
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

/// A side tree read or written outside the committer thread, with the
/// opening it belongs to: a reopening (`reopen::refresh`) waits until no
/// one holds an opening, so sled is never closed under this tree.
pub(crate) struct SideTree {
    tree: sled::Tree,
    _opening: Arc<Trees>,
}

impl std::ops::Deref for SideTree {
    type Target = sled::Tree;

    fn deref(&self) -> &sled::Tree {
        &self.tree
    }
}

/// The readers' handles, shared by `Store` and the committer's sink: empty
/// while the committer reopens the store after a failed write. Readers
/// hold a clone of the `Arc` while they read, so the committer can tell
/// whether anyone still reads from an opening before it refreshes it
/// (`reopen::refresh`).
type Slot = Arc<RwLock<Option<Arc<Trees>>>>;

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

    /// The side tree `name` of the committer's own opening, for writes run
    /// on the committer thread (`Committer::exclusive`).
    pub(crate) fn side_tree(&self, name: &str) -> Result<sled::Tree> {
        self.db()?
            .open_tree(name)
            .map_err(self.sled_err("open a side tree"))
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

    fn last_under(&self, run: &[u8]) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        postings::last(self.journal()?, run).map_err(self.sled_err("read an index posting"))
    }

    fn last_between(&self, low: &[u8], high: &[u8]) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        units::last_between(self.journal()?, low, high)
            .map_err(self.sled_err("read a block of units"))
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

    fn refresh(&mut self, hold: std::time::Duration) -> Result<bool> {
        reopen::refresh(self, hold)
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
        let slot: Slot = Arc::new(RwLock::new(Some(Arc::new(trees.clone()))));
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
        } else if schema < SCHEMA_VERSION && !options.for_reindex {
            upgrade::run(&mut sink, schema, options.on_upgrade)?;
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
        let committer = Committer::start(
            sink,
            site.clone(),
            path.to_owned(),
            options.max_batch,
            options.receipts,
            options.refresh,
        )?;
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
        // Schemas 2 to 5 are upgraded in place by `open` (`upgrade`);
        // older stores need `reindex`.
        if found < 2 && !options.for_reindex {
            return Err(StoreError::OlderSchema {
                path: path.to_owned(),
                found,
                known: SCHEMA_VERSION,
            });
        }
        // An upgrade cut short is simply run again: it rebuilds every
        // derived tree from the journal whatever it finds.
        if !options.for_reindex
            && found == SCHEMA_VERSION
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

    /// Appending to and reading the hash-chained logs.
    pub fn journal(&self) -> Journal<'_> {
        Journal { store: self }
    }

    /// What the derived trees answer: the station's rules' and the
    /// reports' read view.
    pub fn view(&self) -> View<'_> {
        View { store: self }
    }

    /// A site's sync state.
    pub fn outbox(&self) -> Outbox<'_> {
        Outbox { store: self }
    }

    /// Reference data at a site.
    pub fn reference(&self) -> ReferenceData<'_> {
        ReferenceData { store: self }
    }

    /// The daemons' side records.
    pub fn records(&self) -> Records<'_> {
        Records { store: self }
    }

    /// What head office publishes to its sites.
    pub fn published(&self) -> Published<'_> {
        Published { store: self }
    }

    /// Head office's ingest of its sites' logs.
    pub fn ingest(&self) -> Ingest<'_> {
        Ingest { store: self }
    }

    /// Time spent per phase of the commit path since open.
    pub fn timing(&self) -> &Timing {
        &self.timing
    }

    /// Fresh openings since the store was opened (`refresh`).
    pub fn refreshes(&self) -> u64 {
        self.committer
            .stats
            .refreshes
            .load(std::sync::atomic::Ordering::Relaxed)
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
        T::decode(bytes).map_err(self.value_err())
    }

    fn value_err(&self) -> impl Fn(EnvelopeError) -> StoreError + '_ {
        move |source| StoreError::Value {
            path: self.path.clone(),
            source,
        }
    }

    fn sled_err(&self, op: &'static str) -> impl Fn(sled::Error) -> StoreError + '_ {
        move |e| StoreError::sled(&self.path, op, e)
    }

    /// A journal block whose lengths run past its end, from `seq` on.
    fn cut_short(&self, origin: &str, seq: u64) -> StoreError {
        StoreError::Damaged {
            path: self.path.clone(),
            detail: format!("the journal block holding {origin} seq {seq} is cut short there (run `scantrail verify`)"),
        }
    }

    /// Checks every origin's hash chain and every derived tree against the
    /// journal, with commits paused. An intact store's chain heads become
    /// the verified point `verify_since` starts from.
    pub fn verify(&self) -> Result<verify::Report> {
        self.verify_showing(Arc::new(|_| {}))
    }

    /// `verify`, telling `progress` how many movements it has read.
    pub fn verify_showing(&self, progress: Progress) -> Result<verify::Report> {
        let path = self.path.clone();
        self.committer
            .exclusive(move |sink| guard(&path, "verify", || verify::run(sink, progress.as_ref())))
    }

    /// The incremental verify (`verify::run_since`): each chain from the
    /// verified point (or seq `n`) to its head, while commits go on.
    pub fn verify_since(
        &self,
        since: verify::Since,
        progress: &dyn Fn(u64),
    ) -> Result<verify::Report> {
        guard(&self.path, "verify", || {
            verify::run_since(self, since, progress)
        })
    }

    /// Where the last intact verify left each chain, if one ever ran.
    pub fn verified_point(&self) -> Result<Option<verify::Checkpoint>> {
        verify::checkpoint(
            &self.trees()?.meta,
            &self.sled_err("read the verified point"),
        )
    }

    /// Rebuilds every derived tree from the journal, with commits paused.
    pub fn reindex(&self) -> Result<reindex::Report> {
        self.reindex_showing(Arc::new(|_| {}))
    }

    /// `reindex`, telling `progress` how many movements it has replayed.
    pub fn reindex_showing(&self, progress: Progress) -> Result<reindex::Report> {
        let path = self.path.clone();
        self.committer.exclusive(move |sink| {
            guard(&path, "reindex", || reindex::run(sink, progress.as_ref()))
        })
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

    /// What the store holds and takes on disk.
    pub fn stats(&self) -> Result<Stats> {
        let journal = self.journal();
        let mut rejections = 0;
        for origin in journal.rejected_origins()? {
            rejections += journal
                .log_head(&origin, crate::model::Log::Rejections)?
                .seq;
        }
        Ok(Stats {
            movements: journal.movements_held()?,
            rejections,
            bytes_on_disk: self.size_on_disk()?,
        })
    }

    /// What each logical tree of the journal holds: entries and the bytes
    /// of their keys and values, by key prefix (what a movement costs, for
    /// the store's layout work; `scantrail-dev store-anatomy`). Reads every
    /// entry.
    pub fn anatomy(&self) -> Result<Vec<Part>> {
        let trees = self.trees()?;
        let mut parts: Vec<Part> = Vec::new();
        for item in trees.journal.iter() {
            let (k, v) = item.map_err(self.sled_err("read the journal tree"))?;
            let prefix = k.first().copied().unwrap_or(0);
            if parts.last().map(|p| p.prefix) != Some(prefix) {
                parts.push(Part {
                    prefix,
                    name: keys::prefix::name(prefix),
                    entries: 0,
                    key_bytes: 0,
                    value_bytes: 0,
                });
            }
            if let Some(part) = parts.last_mut() {
                part.entries += 1;
                part.key_bytes += k.len() as u64;
                part.value_bytes += v.len() as u64;
            }
        }
        Ok(parts)
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
    /// reopens the store after a failed write. Keep the `Arc` for as long
    /// as anything read from it (an iterator) is in use.
    fn trees(&self) -> Result<Arc<Trees>> {
        let slot = self
            .trees
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        slot.clone().ok_or_else(|| StoreError::Reopening {
            path: self.path.clone(),
        })
    }

    /// The side tree `name` (records, reference and published data), held
    /// with its opening for as long as the returned value lives.
    pub(crate) fn side_tree(&self, name: &str) -> Result<SideTree> {
        let opening = self.trees()?;
        let tree = opening
            .db
            .open_tree(name)
            .map_err(self.sled_err("open a side tree"))?;
        Ok(SideTree {
            tree,
            _opening: opening,
        })
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

/// What a store holds and what it takes on disk (`Store::stats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stats {
    /// Movements of every origin.
    pub movements: u64,
    /// Rejected scans of every origin.
    pub rejections: u64,
    /// sled's files, as sled counts them (what `du` shows).
    pub bytes_on_disk: u64,
}

/// One logical tree's share of the journal tree (`Store::anatomy`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Its key prefix.
    pub prefix: u8,
    /// Its name.
    pub name: &'static str,
    /// How many entries.
    pub entries: u64,
    /// The bytes of their keys.
    pub key_bytes: u64,
    /// The bytes of their values.
    pub value_bytes: u64,
}

/// Shared ownership for servers and worker pools.
pub type SharedStore = Arc<Store>;

#[cfg(test)]
mod tests;
