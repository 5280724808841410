//! `backup DEST`: a consistent copy of the whole store.
//!
//! It runs on the committer thread, so commits wait while it copies and the
//! copy holds every acknowledged movement up to one point and nothing half
//! committed. Every sled tree (meta, journal with its derived entries and
//! rejected log, outbox, reference data) is copied key by key into a fresh
//! store at DEST, which is then flushed and fsynced like a commit. sled's
//! own `export`/`import` would do the copy too, but they panic on I/O
//! errors (a full backup disk is ordinary) and this way every error names
//! its path. The copy is an ordinary store: restore by pointing `--data`
//! (or `data_dir`) at it.

use std::path::{Path, PathBuf};

use super::durable::Durability;
use super::error::{Result, StoreError};
use super::SledSink;

const CHUNK: usize = 10_000;

#[derive(Debug, Default)]
pub struct Report {
    pub dest: PathBuf,
    pub trees: usize,
    pub entries: u64,
}

pub(crate) fn run(sink: &mut SledSink, dest: &Path) -> Result<Report> {
    let non_empty = match std::fs::read_dir(dest) {
        Ok(mut entries) => entries.next().is_some(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(StoreError::io(dest, "inspect the backup destination", e)),
    };
    if non_empty {
        return Err(StoreError::BackupDestination {
            path: dest.to_owned(),
        });
    }
    std::fs::create_dir_all(dest)
        .map_err(|e| StoreError::io(dest, "create the backup directory", e))?;
    let out_err = |op| move |e| StoreError::sled(dest, op, e);
    let out = sled::Config::new()
        .path(dest)
        .flush_every_ms(None)
        .open()
        .map_err(out_err("create the backup store"))?;

    let mut report = Report {
        dest: dest.to_owned(),
        ..Report::default()
    };
    for name in sink.db()?.tree_names() {
        let from = sink
            .db()?
            .open_tree(&name)
            .map_err(sink.sled_err("open a tree to back up"))?;
        let to = out
            .open_tree(&name)
            .map_err(out_err("create a tree in the backup"))?;
        report.trees += 1;
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for item in from.iter() {
            let (k, v) = item.map_err(sink.sled_err("read for the backup"))?;
            batch.insert(k, v);
            n += 1;
            report.entries += 1;
            if n == CHUNK {
                to.apply_batch(std::mem::take(&mut batch))
                    .map_err(out_err("write the backup"))?;
                n = 0;
            }
        }
        to.apply_batch(batch).map_err(out_err("write the backup"))?;
    }
    out.flush().map_err(out_err("flush the backup"))?;
    Durability::new(dest)?.sync()?;
    drop(out);
    tracing::info!(dest = %dest.display(), entries = report.entries, "backup written");
    Ok(report)
}
