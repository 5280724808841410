//! Upgrading a store of an older schema when it is opened. Schemas 2 to 4
//! differ from this one in their derived trees (schema 3 added the
//! corrections index, schema 4 keeps index entries as postings) and in the
//! journal's layout (schema 5 keeps it in blocks of 32 movements), so the
//! upgrade moves the journal's entries into blocks, byte for byte
//! (`journal_to_blocks`), then reindexes in place: the movements, the
//! chains and the rejected log are not changed. Schema 6 keeps the
//! handhelds' scan receipts in a ring of slots (`receipts_to_ring`), and
//! schema 7 keeps serialised units in blocks (`units`), which the reindex
//! builds: a store of schema 5 or 6 needs no move of its journal, only
//! the reindex. The schema is stamped only once
//! the rest is durable, so an upgrade cut short (a crash, a power cut)
//! goes on at the next open: each move from the entries still under the
//! old prefix, the reindex from the start.
//!
//! A large store takes minutes (BENCHMARKS.md, "Journal blocks"): the log
//! says how far it is, and the opener is told (`OpenOptions::on_upgrade`)
//! every `TELL_EVERY`: the daemons extend systemd's start timeout with
//! it, so that the service manager does not kill a daemon busy upgrading,
//! and the commands draw a progress bar on a terminal.

use super::blocks;
use super::error::{Result, StoreError};
use super::keys::{prefix, KeyReader};
use super::scan_receipts::{self, Keep, ScanReceipt, StoredReceipt};
use super::{reindex, SledSink, SCHEMA_VERSION};

/// How often the upgrade logs how far it is, in movements.
const EVERY: u64 = 100_000;

/// How often the opener is told how far the upgrade is: well inside the
/// two minutes each telling buys (`service::extend_start`), often enough
/// for a progress bar.
const TELL_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// How far an upgrade at open is, as the opener is told it
/// (`OpenOptions::on_upgrade`): `done` of `total` movements through `step`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upgrading {
    /// What the upgrade does now, in words.
    pub step: &'static str,
    /// Movements through this step so far.
    pub done: u64,
    /// Movements in the store.
    pub total: u64,
}

/// Moves the journal of a store of schema `from` into blocks, rebuilds its
/// derived trees in this schema's layout and stamps the new schema,
/// durably, before the store is used.
pub(crate) fn run(sink: &mut SledSink, from: u32, told: Option<fn(Upgrading)>) -> Result<()> {
    let path = sink.path.display().to_string();
    let total = movements_held(sink)?;
    tracing::info!(%path, from, to = SCHEMA_VERSION, movements = total, "upgrading the store");
    let told_at = std::cell::Cell::new(None::<std::time::Instant>);
    let tell = |step, done| {
        let due = told_at.get().is_none_or(|at| at.elapsed() >= TELL_EVERY);
        if let (Some(told), true) = (told, due) {
            told_at.set(Some(std::time::Instant::now()));
            told(Upgrading { step, done, total });
        }
    };
    const MOVING: &str = "moving the journal into blocks";
    const REBUILDING: &str = "rebuilding the indexes";
    if from < 5 {
        tell(MOVING, 0);
        journal_to_blocks(sink, &|moved| tell(MOVING, moved))?;
        told_at.set(None);
    }
    let next = std::cell::Cell::new(EVERY);
    let report = reindex::run(sink, &|movements| {
        if movements >= next.get() {
            next.set(movements + EVERY);
            tracing::info!(%path, movements, "upgrading the store: indexes rebuilt so far");
        }
        tell(REBUILDING, movements);
    })?;
    tracing::info!(
        %path,
        movements = report.movements,
        schema = SCHEMA_VERSION,
        "store upgraded"
    );
    Ok(())
}

/// The movements a store holds: its chain heads' seqs.
fn movements_held(sink: &SledSink) -> Result<u64> {
    let mut total = 0;
    for item in sink.journal()?.scan_prefix([prefix::HEAD]) {
        let (_, v) = item.map_err(sink.sled_err("read the chain heads"))?;
        if let Ok(head) = <super::envelope::Head as super::envelope::Stored>::decode(&v) {
            total += head.seq;
        }
    }
    Ok(total)
}

/// Movements moved per sled batch by `journal_to_blocks`.
const MOVE_CHUNK: u64 = 16 * 1024;

/// Moves a journal of one entry a movement (schemas 2 to 4, under
/// `JOURNAL_V4`) into blocks (`blocks`), the envelopes byte for byte;
/// returns how many movements it moved, telling `progress` how many so
/// far. Each sled batch moves whole blocks
/// (inserts them and removes their old entries), so a move cut short
/// resumes at the next open from the entries still under the old prefix.
/// A movement missing inside a block would shift the ones after it, so the
/// move is refused, before anything is written, naming it.
pub(super) fn journal_to_blocks(sink: &SledSink, progress: &dyn Fn(u64)) -> Result<u64> {
    let tree = sink.journal()?.clone();
    let old = [prefix::JOURNAL_V4];
    let read = sink.sled_err("read the journal of the older schema");
    let id = |k: &[u8]| {
        let mut r = KeyReader::new(k);
        match (r.str(), r.u64()) {
            (Some(origin), Some(seq)) => Ok((origin, seq)),
            _ => Err(StoreError::Damaged {
                path: sink.path.clone(),
                detail: format!("a journal key cannot be read: {k:?}"),
            }),
        }
    };
    // The check: inside a block, every seq follows the one before it.
    let mut last: Option<(String, u64)> = None;
    for k in tree.scan_prefix(old).keys() {
        let (origin, seq) = id(&k.map_err(&read)?)?;
        let follows = matches!(&last, Some((o, s)) if *o == origin && s + 1 == seq);
        if seq != blocks::first(seq) && !follows {
            return Err(StoreError::Damaged {
                path: sink.path.clone(),
                detail: format!(
                    "movement {origin} seq {} is missing from the journal, so the journal cannot be moved to this version's layout; restore the store from a backup or from head office (`scantrail restore`)",
                    seq - 1
                ),
            });
        }
        last = Some((origin, seq));
    }
    let Some(_) = last else { return Ok(0) };
    tracing::info!(path = %sink.path.display(), "moving the journal into blocks of 32 movements");
    let mut moved = 0;
    let mut pending = 0;
    let mut appender = blocks::Appender::default();
    let mut batch = sled::Batch::default();
    for item in tree.scan_prefix(old) {
        let (k, v) = item.map_err(&read)?;
        let (origin, seq) = id(&k)?;
        appender.add(&origin, seq, &v, |_| Ok(None), &sink.path)?;
        batch.remove(k);
        moved += 1;
        pending += 1;
        // Cut only after a block's last seq: a batch moves whole blocks.
        if pending >= MOVE_CHUNK && seq == blocks::first(seq) + blocks::MOVEMENTS - 1 {
            for (k, v) in std::mem::take(&mut appender).into_entries() {
                batch.insert(k, v);
            }
            tree.apply_batch(std::mem::take(&mut batch))
                .map_err(sink.sled_err("move the journal into blocks"))?;
            pending = 0;
            progress(moved);
            if moved % (32 * MOVE_CHUNK) < MOVE_CHUNK {
                tracing::info!(path = %sink.path.display(), movements = moved, "moving the journal into blocks");
            }
        }
    }
    for (k, v) in appender.into_entries() {
        batch.insert(k, v);
    }
    tree.apply_batch(batch)
        .map_err(sink.sled_err("move the journal into blocks"))?;
    tracing::info!(path = %sink.path.display(), movements = moved, "journal moved into blocks");
    Ok(moved)
}

/// Receipts moved per sled batch by `receipts_to_ring`.
const RECEIPT_CHUNK: u64 = 16 * 1024;

/// Moves the scan receipts of schema 5 (an entry each, and an order entry
/// by the time it was written) into the ring of schema 6
/// (`scan_receipts`), oldest first so that the newest-kept rule counts
/// them in order; `progress` is told after each batch. Each sled batch
/// moves a chunk (writes their slots and the ring, removes their old
/// entries), so a move cut short goes on at the next open. The receipts
/// `Keep::default` no longer keeps are dropped on the way, as the ring
/// does; an unreadable one is dropped too (its retry is decided again).
/// Receipts without an order entry (one early release wrote them) go last,
/// as written in 1970: kept only while among the newest. Returns how many
/// moved.
pub(super) fn receipts_to_ring(sink: &SledSink, progress: &dyn Fn()) -> Result<u64> {
    let tree = sink.journal()?.clone();
    let read = sink.sled_err("read the scan receipts of the older schema");
    let get = |k: &[u8]| tree.get(k).map(|v| v.map(|v| v.to_vec())).map_err(&read);
    let mut receipts = scan_receipts::Appender::default();
    let mut batch = sled::Batch::default();
    let (mut moved, mut dropped, mut pending) = (0u64, 0u64, 0u64);
    let flush = |receipts: &mut scan_receipts::Appender, batch: &mut sled::Batch| {
        let now = chrono::Utc::now();
        for (k, v) in std::mem::take(receipts).into_entries(Keep::default(), now) {
            batch.insert(k, v);
        }
        progress();
        tree.apply_batch(std::mem::take(batch))
            .map_err(sink.sled_err("move the scan receipts into their ring"))
    };
    let mut add = |receipt_key: &[u8], v: &[u8], at, receipts: &mut scan_receipts::Appender| {
        let stored = StoredReceipt::decode_v5(v);
        let who = scan_receipts::read_v5_key(receipt_key);
        let (
            Some(StoredReceipt {
                body,
                outcome,
                extra,
            }),
            Some((device, scan_id)),
        ) = (stored, who)
        else {
            dropped += 1;
            return Ok(());
        };
        moved += 1;
        let receipt = ScanReceipt {
            device,
            scan_id,
            body,
            extra,
        };
        receipts.add(receipt, outcome, at, get)
    };
    for k in tree.scan_prefix([prefix::SCAN_RECEIPT_ORDER_V5]).keys() {
        let k = k.map_err(&read)?;
        batch.remove(k.clone());
        let Some((ns, receipt_key)) = scan_receipts::read_v5_order_key(&k) else {
            continue;
        };
        // An order entry whose receipt is gone was pruned half-way.
        let Some(v) = tree.get(&receipt_key).map_err(&read)? else {
            continue;
        };
        batch.remove(receipt_key.clone());
        let at = chrono::DateTime::from_timestamp_nanos(ns as i64);
        add(&receipt_key, &v, at, &mut receipts)?;
        pending += 1;
        if pending >= RECEIPT_CHUNK {
            flush(&mut receipts, &mut batch)?;
            pending = 0;
        }
    }
    // The batch must be applied before the rest are read: the receipts
    // moved above are still under the old prefix until it is.
    flush(&mut receipts, &mut batch)?;
    pending = 0;
    for item in tree.scan_prefix([prefix::SCAN_RECEIPT_V5]) {
        let (k, v) = item.map_err(&read)?;
        batch.remove(k.clone());
        add(&k, &v, chrono::DateTime::UNIX_EPOCH, &mut receipts)?;
        pending += 1;
        if pending >= RECEIPT_CHUNK {
            flush(&mut receipts, &mut batch)?;
            pending = 0;
        }
    }
    flush(&mut receipts, &mut batch)?;
    if moved + dropped > 0 {
        tracing::info!(path = %sink.path.display(), receipts = moved, unreadable = dropped, "scan receipts moved into their ring");
    }
    Ok(moved)
}
