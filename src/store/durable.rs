//! Closing the gap in sled 0.34's durability.
//!
//! `Db::flush` writes the log with `sync_file_range` on Linux (sled issue
//! #1452). That pushes the data pages to the device but neither the file's
//! metadata (the log grows by writing past its end, so a lost size means
//! lost records) nor the device's volatile write cache. A power cut after
//! a "durable" flush could therefore lose acknowledged scans. After every
//! flush we `fsync` the `db` file, which journals its size and issues the
//! cache flush. sled also never syncs the files it creates (blobs for large
//! values, snapshots) nor the directories holding them, so we sync the new
//! blob files and both directories (the store's and `blobs`) after every
//! flush too. Every time, not only when a directory's mtime moved: mtime
//! ticks at the kernel's coarse clock (4 ms on ext4), so a file that sled
//! created or renamed within the tick of the last check left it unchanged
//! and its name was never synced (found by reading the code; the round
//! that shows it is in `tests/power_cut.rs`). That is two more fsyncs per
//! batch, of directories with nothing new most of the time (the cost:
//! BENCHMARKS.md, "Power cut").
//! sled writes its `conf` file once, when it creates a store, and never
//! syncs it: torn by a power cut (its bytes kept, its checksum not), it
//! makes sled refuse the whole store as corrupt. So opening a store syncs
//! it too (found by `tests/power_cut.rs`, with a cut that keeps part of
//! the unsynced writes).
//! A new store's own directory needs the same: its name is durable only
//! once the directory holding it is synced, so `create_store_dir` syncs
//! the parent of every directory it creates (without it a power cut after
//! the first commits took the whole store with it; found by
//! `tests/power_cut.rs`).
//! A kill of the process alone loses nothing either way (the page cache
//! survives); this is for power loss and kernel crashes.

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};

use super::error::{Result, StoreError};

pub struct Durability {
    path: PathBuf,
    db_file: File,
    /// The store's directory and its `blobs`, synced after every flush.
    dirs: [PathBuf; 2],
    synced_blobs: HashSet<PathBuf>,
    skip: Skip,
}

/// A switch for tests only: `SCANTRAIL_TEST_SKIP_FSYNC=file` skips the
/// fsync of sled's data file after its flush, `=dirs` the fsyncs of the
/// store's directories, so that `tests/power_cut.rs` can show that it sees
/// the loss. It is read in debug builds only: release builds, which
/// `cargo install` makes, compile it out, so the installed binary cannot be
/// told to skip an fsync. (A cargo feature would need a second build of
/// scantrail in every test run, and could be switched on in an install;
/// the daemon that the tests start is the debug build as it is.)
#[derive(Debug, Default, Clone, Copy)]
struct Skip {
    file: bool,
    dirs: bool,
}

impl Skip {
    #[cfg(debug_assertions)]
    fn from_env() -> Skip {
        let v = std::env::var("SCANTRAIL_TEST_SKIP_FSYNC").unwrap_or_default();
        let skip = Skip {
            file: v.split(',').any(|w| w == "file"),
            dirs: v.split(',').any(|w| w == "dirs"),
        };
        if skip.file || skip.dirs {
            tracing::warn!(skip = %v, "SCANTRAIL_TEST_SKIP_FSYNC is set: commits are acknowledged without being durable (a switch of debug builds, for tests)");
        }
        skip
    }

    #[cfg(not(debug_assertions))]
    fn from_env() -> Skip {
        Skip::default()
    }
}

/// Creates the directory of a new store (and any missing parents) and
/// fsyncs each directory that gained an entry: the parent of every
/// directory created, and the store directory's parent even if it existed
/// (someone may have just made it for us).
pub fn create_store_dir(path: &Path) -> Result<()> {
    let mut gained = Vec::new();
    let mut at = path;
    loop {
        let parent = match at.parent() {
            Some(p) if p.as_os_str().is_empty() => Path::new("."),
            Some(p) => p,
            None => break,
        };
        if gained.is_empty() || !at.exists() {
            gained.push(parent.to_owned());
        }
        if parent.exists() {
            break;
        }
        at = parent;
    }
    std::fs::create_dir_all(path)
        .map_err(|e| StoreError::io(path, "create the store directory", e))?;
    for dir in gained.iter().rev() {
        File::open(dir)
            .and_then(|f| f.sync_all())
            .map_err(|e| StoreError::io(dir, "fsync the directory holding the store", e))?;
    }
    Ok(())
}

impl Durability {
    pub fn new(path: &Path) -> Result<Durability> {
        let db_path = path.join("db");
        let db_file = File::open(&db_path)
            .map_err(|e| StoreError::io(&db_path, "open the data file for fsync", e))?;
        let mut d = Durability {
            path: path.to_owned(),
            db_file,
            dirs: [path.to_owned(), path.join("blobs")],
            synced_blobs: HashSet::new(),
            skip: Skip::from_env(),
        };
        let conf = path.join("conf");
        match File::open(&conf).and_then(|f| f.sync_all()) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(StoreError::io(&conf, "fsync sled's configuration file", e)),
        }
        d.sync_files()?;
        Ok(d)
    }

    /// Call after `Db::flush`: returns once the flushed data survives power
    /// loss.
    pub fn sync(&mut self) -> Result<()> {
        if !self.skip.file {
            self.db_file
                .sync_all()
                .map_err(|e| StoreError::io(self.path.join("db"), "fsync the data file", e))?;
        }
        self.sync_files()
    }

    /// Syncs new blob files and both directories. A directory whose
    /// entries did not change costs little to sync; one whose change went
    /// unsynced costs the files named in it.
    fn sync_files(&mut self) -> Result<()> {
        if self.skip.dirs {
            return Ok(());
        }
        for i in 0..self.dirs.len() {
            let dir = self.dirs[i].clone();
            if i == 1 {
                self.sync_new_blobs(&dir)?;
            }
            match File::open(&dir).and_then(|f| f.sync_all()) {
                Ok(()) => {}
                // sled makes `blobs` only when it needs it.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(StoreError::io(&dir, "fsync the store directory", e)),
            }
        }
        Ok(())
    }

    fn sync_new_blobs(&mut self, dir: &Path) -> Result<()> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(StoreError::io(dir, "list the blob directory", e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| StoreError::io(dir, "list the blob directory", e))?;
            let p = entry.path();
            if self.synced_blobs.contains(&p) {
                continue;
            }
            match File::open(&p).and_then(|f| f.sync_all()) {
                Ok(()) => {
                    self.synced_blobs.insert(p);
                }
                // sled removes blobs it no longer needs.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(StoreError::io(&p, "fsync a blob file", e)),
            }
        }
        Ok(())
    }
}
