//! Upgrading a store of an older schema when it is opened. Schemas 2 to 4
//! differ from this one in their derived trees (schema 3 added the
//! corrections index, schema 4 keeps index entries as postings) and in the
//! journal's layout (schema 5 keeps it in blocks of 32 movements), so the
//! upgrade moves the journal's entries into blocks, byte for byte
//! (`journal_to_blocks`), then reindexes in place: the movements, the
//! chains and the rejected log are not changed. The schema is stamped only
//! once the rebuild is durable, so an upgrade cut short (a crash, a power
//! cut) goes on at the next open: the move from the entries still under
//! the old prefix, the reindex from the start.
//!
//! A large store takes minutes (a million movements: 2 min removing the
//! old layout's entries, 50 s rebuilding, here): the log says how far it
//! is, and the opener is told (`OpenOptions::on_upgrade`) at least every
//! `TELL_EVERY`: the daemons extend systemd's start timeout with it, so
//! that the service manager does not kill a daemon busy upgrading.

use super::blocks;
use super::error::{Result, StoreError};
use super::keys::{prefix, KeyReader};
use super::{reindex, SledSink, SCHEMA_VERSION};

/// How often the upgrade logs how far it is, in movements.
const EVERY: u64 = 100_000;

/// How often the opener is told the upgrade goes on: well inside the two
/// minutes each telling buys (`service::extend_start`).
const TELL_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Rebuilds the derived trees of a store of schema `from` in this schema's
/// layout and stamps the new schema, durably, before the store is used.
pub(crate) fn run(sink: &mut SledSink, from: u32, told: Option<fn()>) -> Result<()> {
    let path = sink.path.display().to_string();
    tracing::info!(%path, from, to = SCHEMA_VERSION, "upgrading the store: rebuilding its indexes");
    let tell = || {
        if let Some(told) = told {
            told()
        }
    };
    tell();
    let told_at = std::cell::Cell::new(std::time::Instant::now());
    let next = std::cell::Cell::new(EVERY);
    let report = reindex::run(sink, &|movements| {
        if movements >= next.get() {
            next.set(movements + EVERY);
            tracing::info!(%path, movements, "upgrading the store");
        }
        if told_at.get().elapsed() >= TELL_EVERY {
            told_at.set(std::time::Instant::now());
            tell();
        }
    })?;
    tracing::info!(
        %path,
        movements = report.movements,
        schema = SCHEMA_VERSION,
        "store upgraded"
    );
    Ok(())
}

/// Movements moved per sled batch by `journal_to_blocks`.
const MOVE_CHUNK: u64 = 16 * 1024;

/// Moves a journal of one entry a movement (schemas 2 to 4, under
/// `JOURNAL_V4`) into blocks (`blocks`), the envelopes byte for byte;
/// returns how many movements it moved. `progress` is told 0 now and
/// then: it goes on, nothing replayed yet. Each sled batch moves whole blocks
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
            // Nothing replayed yet: the caller hears only that it goes on.
            progress(0);
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
