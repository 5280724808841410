//! Closing the gap in sled 0.34's durability.
//!
//! `Db::flush` writes the log with `sync_file_range` on Linux (sled issue
//! #1452). That pushes the data pages to the device but neither the file's
//! metadata (the log grows by writing past its end, so a lost size means
//! lost records) nor the device's volatile write cache. A power cut after
//! a "durable" flush could therefore lose acknowledged scans. After every
//! flush we `fsync` the `db` file, which journals its size and issues the
//! cache flush. sled also never syncs the files it creates (blobs for large
//! values, snapshots) nor the directories holding them, so when those
//! directories changed we sync the new blob files and the directories too.
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
use std::time::SystemTime;

use super::error::{Result, StoreError};

pub struct Durability {
    path: PathBuf,
    db_file: File,
    dirs: Vec<WatchedDir>,
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

struct WatchedDir {
    path: PathBuf,
    seen: Option<SystemTime>,
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
            dirs: vec![
                WatchedDir {
                    path: path.to_owned(),
                    seen: None,
                },
                WatchedDir {
                    path: path.join("blobs"),
                    seen: None,
                },
            ],
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

    /// Syncs new blob files and any directory whose entries changed since
    /// the last sync. A `stat` per directory is cheap next to an fsync, and
    /// the directories change rarely (a snapshot, a large value).
    fn sync_files(&mut self) -> Result<()> {
        if self.skip.dirs {
            return Ok(());
        }
        for i in 0..self.dirs.len() {
            let dir = &self.dirs[i].path;
            let modified = match std::fs::metadata(dir).and_then(|m| m.modified()) {
                Ok(t) => Some(t),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(StoreError::io(dir, "inspect the store directory", e)),
            };
            if modified == self.dirs[i].seen {
                continue;
            }
            let dir = dir.clone();
            if i == 1 {
                self.sync_new_blobs(&dir)?;
            }
            File::open(&dir)
                .and_then(|f| f.sync_all())
                .map_err(|e| StoreError::io(&dir, "fsync the store directory", e))?;
            self.dirs[i].seen = modified;
        }
        Ok(())
    }

    fn sync_new_blobs(&mut self, dir: &Path) -> Result<()> {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| StoreError::io(dir, "list the blob directory", e))?;
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
