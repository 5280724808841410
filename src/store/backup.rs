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
//!
//! An error on the copy's side is a [`StoreError::BackupWrite`], not the
//! I/O error it wraps: the committer stops commits after an I/O error of
//! the store's own, and a full or read-only backup disk must not stop
//! scanning.
//!
//! The daemon's scheduled backups (`site::backups`) cannot pause commits
//! that long: they copy the store's files as they are (`copy_files`, a
//! file copy with commits paused) and run `scantrail backup` on that copy.

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
    copy(sink, dest).map_err(|e| match e {
        Copy::Source(e) => e,
        Copy::Dest(e) => StoreError::BackupWrite {
            path: dest.to_owned(),
            source: Box::new(e),
        },
    })
}

/// Which side of the copy failed.
enum Copy {
    /// Reading the store.
    Source(StoreError),
    /// Writing the backup.
    Dest(StoreError),
}

fn copy(sink: &mut SledSink, dest: &Path) -> std::result::Result<Report, Copy> {
    let non_empty = match std::fs::read_dir(dest) {
        Ok(mut entries) => entries.next().is_some(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => {
            return Err(Copy::Dest(StoreError::io(
                dest,
                "inspect the backup destination",
                e,
            )))
        }
    };
    if non_empty {
        return Err(Copy::Source(StoreError::BackupDestination {
            path: dest.to_owned(),
        }));
    }
    std::fs::create_dir_all(dest)
        .map_err(|e| Copy::Dest(StoreError::io(dest, "create the backup directory", e)))?;
    let out_err = |op| move |e| Copy::Dest(StoreError::sled(dest, op, e));
    let in_err = |op| {
        let map = sink.sled_err(op);
        move |e| Copy::Source(map(e))
    };
    let out = sled::Config::new()
        .path(dest)
        .flush_every_ms(None)
        .open()
        .map_err(out_err("create the backup store"))?;

    let mut report = Report {
        dest: dest.to_owned(),
        ..Report::default()
    };
    let db = sink.db().map_err(Copy::Source)?;
    for name in db.tree_names() {
        let from = db
            .open_tree(&name)
            .map_err(in_err("open a tree to back up"))?;
        let to = out
            .open_tree(&name)
            .map_err(out_err("create a tree in the backup"))?;
        report.trees += 1;
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for item in from.iter() {
            let (k, v) = item.map_err(in_err("read for the backup"))?;
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
    Durability::new(dest)
        .and_then(|mut d| d.sync())
        .map_err(Copy::Dest)?;
    drop(out);
    Ok(report)
}

/// Copies the store's files as they are into `staging` (a new directory):
/// run on the committer thread after a flush, so no commit is half-way and
/// sled writes nothing meanwhile. sled's files (`conf`, `db`, `blobs/`, the
/// finished `snap.*`) and the acknowledged watermark are copied; a snapshot
/// sled is still generating is not (sled recovers without it). Every error
/// is a [`StoreError::BackupWrite`]: the store itself is only read.
pub(crate) fn copy_files(sink: &mut SledSink, staging: &Path) -> Result<std::time::Duration> {
    let clock = std::time::Instant::now();
    sink.db()?
        .flush()
        .map_err(sink.sled_err("flush before a backup"))?;
    let source = sink.path.clone();
    let wrap = |op| {
        move |e| StoreError::BackupWrite {
            path: staging.to_owned(),
            source: Box::new(StoreError::io(staging, op, e)),
        }
    };
    std::fs::create_dir(staging).map_err(wrap("create the staging directory"))?;
    for entry in std::fs::read_dir(&source).map_err(wrap("list the store's files"))? {
        let entry = entry.map_err(wrap("list the store's files"))?;
        let name = entry.file_name();
        let text = name.to_string_lossy();
        let wanted = matches!(
            &*text,
            "conf" | "db" | "blobs" | super::watermark::FILE_NAME
        ) || (text.starts_with("snap.") && !text.ends_with(".generating"));
        if !wanted {
            continue;
        }
        let to = staging.join(&name);
        let copied = if text == "blobs" {
            copy_dir(&entry.path(), &to)
        } else {
            std::fs::copy(entry.path(), &to).map(|_| ())
        };
        match copied {
            Ok(()) => {}
            // An old snapshot sled removed just now: the newer one is
            // copied, or sled recovers from its log alone.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && text.starts_with("snap.") => {}
            Err(e) => return Err(wrap("copy the store's files")(e)),
        }
    }
    Ok(clock.elapsed())
}

/// Copies a directory of files (sled's `blobs/`).
fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        std::fs::copy(entry.path(), to.join(entry.file_name()))?;
    }
    Ok(())
}
