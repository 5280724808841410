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
}

struct WatchedDir {
    path: PathBuf,
    seen: Option<SystemTime>,
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
        };
        d.sync_files()?;
        Ok(d)
    }

    /// Call after `Db::flush`: returns once the flushed data survives power
    /// loss.
    pub fn sync(&mut self) -> Result<()> {
        self.db_file
            .sync_all()
            .map_err(|e| StoreError::io(self.path.join("db"), "fsync the data file", e))?;
        self.sync_files()
    }

    /// Syncs new blob files and any directory whose entries changed since
    /// the last sync. A `stat` per directory is cheap next to an fsync, and
    /// the directories change rarely (a snapshot, a large value).
    fn sync_files(&mut self) -> Result<()> {
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
