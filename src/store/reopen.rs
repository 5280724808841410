//! Reopening the store in place after a failed durable write (a full disk,
//! an I/O error), so that commits resume once the cause is gone without a
//! restart.
//!
//! The failed opening is not written to again: sled may hold part of the
//! failed batch in memory. Every handle on it is dropped (the readers'
//! first, then the committer's), which also releases sled's lock on its
//! files, and sled is opened again from what is on disk. If a failed batch
//! reached the disk after all (the write went through, its flush or fsync
//! did not), it is taken out again: its requesters were told it failed, so
//! it must not be in the journal, and its seqs are given to the next
//! commits instead. A reader still holding a handle on the old opening
//! keeps it alive; the open then fails as "in use" and is retried later.
//!
//! sled cannot open on a disk that is still full, and readers have no
//! handles between dropping the old opening and a new one. So a probe file
//! is written and synced first: while that fails, the old opening stays,
//! and reports and the desk's view keep reading from it.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::blocks;
use super::committer::Sink;
use super::durable::Durability;
use super::envelope::{Head, Stored};
use super::error::{Result, StoreError};
use super::{keys, reindex, watermark, SledSink, Trees};

/// The room a reopen needs: sled's open writes a new log segment (512 KiB
/// by default); twice that leaves room for the first batches.
const PROBE_BYTES: usize = 1 << 20;

/// Reopens the store after a failed durable write, as the module comment
/// says, resuming from the heads acknowledged before it.
pub(super) fn run(
    sink: &mut SledSink,
    origin: &str,
    movements: Head,
    rejections: Head,
) -> Result<()> {
    probe(&sink.path)?;
    *sink.slot.write().unwrap_or_else(|p| p.into_inner()) = None;
    let trees = close_and_open(sink)?;
    if let Err(e) = roll_back(sink, origin, movements, rejections) {
        sink.trees = None;
        return Err(e);
    }
    if sink.watermark.is_none() {
        sink.watermark = watermark::Writer::open(&sink.path).ok();
    }
    // The watermark names what was acknowledged: the heads given.
    sink.acknowledged(origin, movements, rejections);
    *sink.slot.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(trees));
    Ok(())
}

/// Closes and reopens sled between two batches, to have it write a
/// snapshot, which bounds what the next opening replays (`refresh`). It
/// runs only when no reader holds the opening, and holds the slot while
/// it reopens: readers arriving meanwhile wait rather than fail. With
/// `hold`, it holds the slot for up to that long first, so that readers in
/// a tight loop cannot keep it off for ever; not always, as a reader that
/// takes the slot again while holding the opening (a report does, for
/// each row) then waits for it until it gives up. `Ok(false)`: not now, as
/// a reader holds the opening or the disk has no room for the new one. An
/// error leaves the store closed: the committer then reopens it as after
/// a failed write.
pub(super) fn refresh(sink: &mut SledSink, hold: Duration) -> Result<bool> {
    let slot = sink.slot.clone();
    let mut readers = slot.write().unwrap_or_else(|p| p.into_inner());
    let start = Instant::now();
    while readers.as_ref().is_some_and(|t| Arc::strong_count(t) > 1) {
        if start.elapsed() >= hold {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    if probe(&sink.path).is_err() {
        return Ok(false);
    }
    *readers = None;
    let trees = close_and_open(sink)?;
    // The new snapshot's name is durable once the directory is synced.
    sink.make_durable()?;
    *readers = Some(Arc::new(trees));
    Ok(true)
}

/// Drops the committer's handles on the opening (the caller has emptied
/// the readers' slot), which releases sled's lock on its files, hands the
/// memory freed back to the system, and opens sled again from what is on
/// disk.
fn close_and_open(sink: &mut SledSink) -> Result<Trees> {
    sink.trees = None;
    crate::memory::give_back();
    let trees = Trees::open(&sink.path, sink.cache_bytes)?;
    sink.trees = Some(trees.clone());
    sink.durability = Durability::new(&sink.path)?;
    Ok(trees)
}

/// Removes entries past the acknowledged heads: a failed batch that
/// reached the disk. Entries missing before them are left for the
/// committer's check, which refuses the store as damaged.
fn roll_back(sink: &mut SledSink, origin: &str, movements: Head, rejections: Head) -> Result<()> {
    let journal = sink.journal()?.clone();
    let mut batch = sled::Batch::default();
    let mut removed = 0;
    for (head_key, acked) in [
        (keys::head(origin), movements),
        (keys::rejected_head(origin), rejections),
    ] {
        let on_disk = match journal
            .get(&head_key)
            .map_err(sink.sled_err("read a chain head"))?
        {
            Some(v) => Head::decode(&v).map_err(|source| StoreError::Value {
                path: sink.path.clone(),
                source,
            })?,
            None => continue,
        };
        if on_disk.seq <= acked.seq {
            continue;
        }
        removed += on_disk.seq - acked.seq;
        if head_key == keys::head(origin) {
            roll_back_blocks(sink, &journal, origin, acked.seq, on_disk.seq, &mut batch)?;
        } else {
            for seq in acked.seq + 1..=on_disk.seq {
                batch.remove(keys::rejected(origin, seq));
            }
        }
        if acked.seq == 0 {
            batch.remove(head_key);
        } else {
            batch.insert(head_key, acked.encode());
        }
    }
    if removed == 0 {
        return Ok(());
    }
    tracing::warn!(
        origin,
        entries = removed,
        seq = movements.seq,
        "a failed batch reached the disk after all; taking it out again"
    );
    journal
        .apply_batch(batch)
        .map_err(sink.sled_err("take out a failed batch"))?;
    sink.make_durable()?;
    // Its derived entries (balances, serial states, indexes) go with it.
    reindex::run(sink, &|_| {}).map(|_| ())
}

/// Cuts an origin's journal blocks back to end at `acked`: the block
/// holding the next seq keeps the movements before it, the later blocks go.
fn roll_back_blocks(
    sink: &SledSink,
    journal: &sled::Tree,
    origin: &str,
    acked: u64,
    on_disk: u64,
    batch: &mut sled::Batch,
) -> Result<()> {
    let next = acked + 1;
    let key = keys::journal(origin, next);
    if next != blocks::first(next) {
        if let Some(block) = journal
            .get(&key)
            .map_err(sink.sled_err("read the journal"))?
        {
            let end = blocks::spans(&block, blocks::first(next))
                .map_while(|s| s.ok())
                .take_while(|(seq, _)| *seq < next)
                .last()
                .map_or(0, |(_, span)| span.end);
            batch.insert(key, &block[..end]);
        }
    } else {
        batch.remove(key);
    }
    let mut first = blocks::first(next) + blocks::MOVEMENTS;
    while first <= on_disk {
        batch.remove(keys::journal(origin, first));
        first += blocks::MOVEMENTS;
    }
    Ok(())
}

/// Writes, syncs and removes a file of `PROBE_BYTES` in the store's
/// directory: an error means there is no room (or no disk) yet.
fn probe(dir: &Path) -> Result<()> {
    let path = dir.join("reopen.probe");
    let written = std::fs::File::create(&path).and_then(|mut f| {
        f.write_all(&vec![0; PROBE_BYTES])?;
        f.sync_all()
    });
    let _ = std::fs::remove_file(&path);
    written.map_err(|e| StoreError::io(dir, "write a probe file before reopening the store", e))
}
