//! `reindex`: rebuilds every derived tree from the journal, for when a
//! derived tree is damaged or its layout changes (which is how a store of
//! an older schema is upgraded). The journal, the seq counters and the
//! rejected log are never touched. A marker in `meta` stays set while it
//! runs, so an interrupted reindex is noticed at the next open instead of
//! leaving silently incomplete trees. The one change it makes to the
//! journal is to move an older schema's entries into blocks first
//! (`upgrade::journal_to_blocks`), keeping every movement byte for byte;
//! it also moves an older schema's scan receipts into their ring
//! (`upgrade::receipts_to_ring`).

use super::blocks;
use super::derived::{self, Aggregates};
use super::envelope::Stored;
use super::error::{Result, StoreError};
use super::keys::{prefix, KeyReader};
use super::postings;
use super::units;
use super::{meta_key, SledSink, SCHEMA_VERSION};
use crate::model::Movement;

/// Entries per batch: bounds memory on large stores.
const CHUNK: usize = 20_000;

#[derive(Debug, Default)]
pub struct Report {
    pub movements: u64,
    pub removed: u64,
    pub written: u64,
}

/// Rebuilds the derived trees; `progress` is told the movements replayed
/// so far (0 while the old entries are being removed).
pub(crate) fn run(sink: &mut SledSink, progress: &dyn Fn(u64)) -> Result<Report> {
    let mut report = Report::default();
    tracing::info!(path = %sink.path.display(), "reindex started");
    sink.meta()?
        .insert(meta_key::REINDEXING, &b"1"[..])
        .map_err(sink.sled_err("mark the reindex"))?;
    sink.make_durable()?;

    // (Nothing replayed yet while it runs: the caller hears it goes on.)
    super::upgrade::journal_to_blocks(sink, &|_| progress(0))?;
    super::upgrade::receipts_to_ring(sink, &|| progress(0))?;
    let tree = sink.journal()?.clone();
    let write = |batch: sled::Batch| {
        tree.apply_batch(batch)
            .map_err(sink.sled_err("rebuild a derived tree"))
    };

    for (p, _) in prefix::DERIVED {
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for item in tree.scan_prefix([p]) {
            let (k, _) = item.map_err(sink.sled_err("read a derived tree"))?;
            batch.remove(k);
            n += 1;
            report.removed += 1;
            if n == CHUNK {
                write(std::mem::take(&mut batch))?;
                n = 0;
                // Nothing replayed yet, but the caller hears it goes on
                // (an upgrade at a daemon's start keeps systemd waiting).
                progress(0);
            }
        }
        write(batch)?;
    }

    let get = |k: &[u8]| {
        Ok(tree
            .get(k)
            .map_err(sink.sled_err("read a derived entry"))?
            .map(|v| v.to_vec()))
    };
    let mut agg = Aggregates::default();
    let mut appender = postings::Appender::default();
    let mut batch = sled::Batch::default();
    let mut n = 0;
    for item in super::counted::scan_prefix(&tree, [prefix::JOURNAL]) {
        let (k, v) = item.map_err(sink.sled_err("read the journal"))?;
        let origin = KeyReader::new(&k).str().unwrap_or_default();
        let unreadable = |seq: u64, why: String| {
            StoreError::Damaged {
            path: sink.path.clone(),
            detail: format!(
                "movement {origin} seq {seq} cannot be read ({why}), so its derived entries cannot be rebuilt"
            ),
        }
        };
        for entry in blocks::entries(&v, blocks::first_of(&k).unwrap_or(0)) {
            let (seq, bytes) =
                entry.map_err(|seq| unreadable(seq, "its journal block is cut short".into()))?;
            let m = Movement::decode(bytes).map_err(|e| unreadable(seq, e.to_string()))?;
            report.movements += 1;
            if report.movements % 4096 == 0 {
                progress(report.movements);
            }
            for key in derived::posted_keys(&m) {
                appender.add(key, |run| {
                    postings::last(&tree, run).map_err(sink.sled_err("read an index posting"))
                })?;
                n += 1;
            }
            let corrected = derived::read_corrected(&tree, &m);
            let last_between = |low: &[u8], high: &[u8]| {
                units::last_between(&tree, low, high)
                    .map_err(sink.sled_err("read a block of units"))
            };
            agg.add_over(&m, corrected.as_ref(), get, last_between, &sink.path)?;
            n += 1;
            // Postings and aggregates go out with the chunk; a later
            // movement of theirs reads them back from the tree.
            if n >= CHUNK {
                for (k, v) in std::mem::take(&mut appender).into_entries() {
                    batch.insert(k, v);
                    report.written += 1;
                }
                for (k, v) in std::mem::take(&mut agg).into_entries() {
                    batch.insert(k, v);
                    report.written += 1;
                }
                write(std::mem::take(&mut batch))?;
                n = 0;
            }
        }
    }
    for (k, v) in appender.into_entries().chain(agg.into_entries()) {
        batch.insert(k, v);
        report.written += 1;
    }
    write(batch)?;

    // The derived trees now have this schema's layout.
    sink.meta()?
        .insert(meta_key::SCHEMA, &SCHEMA_VERSION.to_be_bytes())
        .map_err(sink.sled_err("write the schema version"))?;
    sink.meta()?
        .remove(meta_key::REINDEXING)
        .map_err(sink.sled_err("clear the reindex mark"))?;
    sink.make_durable()?;
    tracing::info!(
        movements = report.movements,
        entries = report.written,
        "reindex finished"
    );
    Ok(report)
}
