//! Rebuilding a site's store from head office's copy of its logs
//! (`scantrail restore --from-hq`, or `restore BACKUP --catch-up-from-hq`),
//! for a site PC that died: a store that started over at seq 1, or a
//! backup older than head office's last acknowledgement, would give seqs
//! head office already holds to other scans, and head office would refuse
//! them (422) and halt sync.
//!
//! Entries enter the store the one way head office's do: `ingest`'s
//! checks (content against hash, each link, consecutive seqs, an entry
//! already held identical to what is sent) and its writer (journal entry,
//! index entries, balances and serial states, chain head), so the derived
//! trees come out exactly as the committer made them. What differs from
//! head office: the origin is the store's own, and no receipt records.
//!
//! The store is built in a staging directory inside the data directory and
//! moved into place only once it is complete and verified; meanwhile a
//! marker file makes `Store::open` refuse the directory, so an interrupted
//! restore leaves no half store that a daemon would continue numbering
//! from (the next restore clears it). A data directory that holds anything
//! else is never touched.
//!
//! While a store is being restored nothing else may commit to it: the
//! committer's own idea of where the chains end is not told about the
//! restored entries, so `Restoring` offers no commit, and `finish` closes
//! the store and opens it afresh.

use std::path::{Path, PathBuf};

use chrono::Utc;

use super::committer::Sink;
use super::envelope::Head;
use super::error::{Result, StoreError};
use super::ingest::{self, Incoming, Ingested, Refusal};
use super::{has_store, OpenOptions, OutboxPosition, SledSink, Store};
use crate::model::{Entries, Log};

/// A store being rebuilt in its staging directory. Dropped without
/// `finish`, the staging directory and the marker are removed again.
pub struct Restoring {
    store: Option<Store>,
    staging: PathBuf,
    dest: PathBuf,
    /// Set once `finish` starts moving files into place: from then on a
    /// failure keeps the marker, so the half-moved store is refused at
    /// open and cleared by the next restore.
    moving: bool,
}

/// The file that marks a data directory while a restore builds a store in
/// it: `Store::open` refuses a directory that holds it, so a daemon started
/// meanwhile (or after a restore was cut short) never numbers scans on a
/// missing or half-moved store.
const MARKER: &str = "scantrail-restoring";

/// Where the store is built, inside the data directory: beside the data
/// directory would need write access to its parent (`/var/lib`), which the
/// `scantrail` user has not.
const STAGING: &str = ".restoring";

/// The staging directory of a restore into `dest`.
fn staging_dir(dest: &Path) -> PathBuf {
    dest.join(STAGING)
}

/// Whether `dest` holds what an unfinished restore left (its marker).
pub(super) fn unfinished(dest: &Path) -> bool {
    dest.join(MARKER).exists()
}

/// Refuses a destination that holds anything but what an unfinished
/// restore left (its marker says so): restore never overwrites history,
/// and a directory with other files in it is no place for a store. Reads
/// only: for a caller that wants the refusal before anything else.
pub fn check_destination(dest: &Path) -> Result<()> {
    let mut entries = match std::fs::read_dir(dest) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StoreError::io(dest, "inspect the data directory", e)),
    };
    if entries.next().is_some() && !unfinished(dest) {
        return Err(StoreError::RestoreDestination {
            path: dest.to_owned(),
        });
    }
    Ok(())
}

/// `check_destination`, then a missing destination is created and what an
/// unfinished restore left is removed.
fn prepare_destination(dest: &Path) -> Result<()> {
    check_destination(dest)?;
    if !dest.exists() {
        return super::durable::create_store_dir(dest);
    }
    if !unfinished(dest) {
        return Ok(());
    }
    let err = |e| StoreError::io(dest, "remove what an unfinished restore left", e);
    for entry in std::fs::read_dir(dest).map_err(err)? {
        let p = entry.map_err(err)?.path();
        if p.is_dir() {
            std::fs::remove_dir_all(&p).map_err(err)?;
        } else {
            std::fs::remove_file(&p).map_err(err)?;
        }
    }
    tracing::info!(path = %dest.display(), "removed what an unfinished restore left");
    Ok(())
}

/// Copies the closed store `from` into the new directory `to`, every file
/// and directory synced.
fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir(to).map_err(|e| StoreError::io(to, "create the staging directory", e))?;
    let entries =
        std::fs::read_dir(from).map_err(|e| StoreError::io(from, "read the backup", e))?;
    for entry in entries {
        let entry = entry.map_err(|e| StoreError::io(from, "read the backup", e))?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let kind = entry
            .file_type()
            .map_err(|e| StoreError::io(&src, "read the backup", e))?;
        if kind.is_dir() {
            copy_dir(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst)
                .and_then(|_| std::fs::File::open(&dst)?.sync_all())
                .map_err(|e| StoreError::io(&dst, "copy the backup", e))?;
        }
    }
    sync_dir(to)
}

fn sync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| StoreError::io(dir, "fsync the directory holding the store", e))
}

impl Restoring {
    /// Starts a restore of `site`'s store into `dest`, which must be missing
    /// or empty (or hold what an unfinished restore left): from nothing, or
    /// from a copy of `backup` (a store of the same site, only read).
    pub fn begin(dest: &Path, site: &str, backup: Option<&Path>) -> Result<Restoring> {
        prepare_destination(dest)?;
        let marker = dest.join(MARKER);
        std::fs::write(
            &marker,
            "scantrail restore is building this site's store in .restoring/; it is moved here when complete. Run `scantrail restore` again if it was interrupted.\n",
        )
        .and_then(|()| std::fs::File::open(&marker)?.sync_all())
        .map_err(|e| StoreError::io(&marker, "mark the data directory", e))?;
        sync_dir(dest)?;
        let staging = staging_dir(dest);
        let mut restoring = Restoring {
            store: None,
            staging: staging.clone(),
            dest: dest.to_owned(),
            moving: false,
        };
        let store = match backup {
            Some(backup) => {
                // Copied file by file and opened only as the copy: sled
                // writes to a store it opens, and the backup stays as it
                // was (a backup of another site is refused at that open).
                if !has_store(backup) {
                    return Err(StoreError::NoStore {
                        path: backup.to_owned(),
                    });
                }
                copy_dir(backup, &staging)?;
                Store::open(&staging, OpenOptions::existing(Some(site.to_owned())))?
            }
            None => Store::open(&staging, OpenOptions::create(site.to_owned()))?,
        };
        tracing::info!(dest = %dest.display(), backup = ?backup, "restore started");
        restoring.store = Some(store);
        Ok(restoring)
    }

    fn store(&self) -> &Store {
        // Only `finish` and drop take it, both consuming `self`.
        self.store
            .as_ref()
            .expect("the store of a restore in progress")
    }

    /// Where the store's own `log` ends now.
    pub fn head(&self, log: Log) -> Result<Head> {
        let store = self.store();
        store.journal().log_head(store.site(), log)
    }

    /// Takes a run of the site's own `entries` as head office holds them:
    /// checked and written as ingest does, durably. Entries already held
    /// must be identical (`Refusal::Conflict` otherwise: the store's history
    /// and head office's differ).
    pub fn take(&self, entries: Entries) -> Result<std::result::Result<Ingested, Refusal>> {
        let site = self.store().site().to_owned();
        let incoming = Incoming {
            origin: site.clone(),
            entries,
            received_at: Utc::now(),
        };
        self.store()
            .committer()
            .exclusive(move |sink: &mut SledSink| {
                let mut answers = ingest::ingest_in(
                    sink,
                    std::slice::from_ref(&incoming),
                    ingest::Destination::RestoredSite,
                )?;
                let answer = answers.pop().ok_or_else(|| StoreError::Damaged {
                    path: sink.path.clone(),
                    detail: "a restored batch got no answer".into(),
                })?;
                if answer.is_ok() {
                    // Reads of the store's own chains, and the watermark
                    // that guards against a truncated log, follow the
                    // restored heads.
                    let heads = (
                        head_of(sink, &site, Log::Movements)?,
                        head_of(sink, &site, Log::Rejections)?,
                    );
                    sink.acknowledged(&site, heads.0, heads.1);
                }
                Ok(answer)
            })
    }

    /// `verify` of the store as restored so far.
    pub fn verify(&self) -> Result<super::verify::Report> {
        self.store().verify()
    }

    /// Records head office's acknowledgement of `log` at `head`, durably:
    /// sync resumes from there.
    pub fn set_acknowledged(&self, log: Log, head: Head) -> Result<()> {
        let position = OutboxPosition {
            acked_seq: head.seq,
            acked_hash: head.hash,
        };
        match log {
            Log::Movements => self.store().outbox().set_position(position),
            Log::Rejections => self.store().outbox().set_rejected_position(position),
        }
    }

    /// Closes the rebuilt store, moves it into place (durably) and opens it
    /// there afresh, for checking.
    pub fn finish(mut self) -> Result<Store> {
        let site = self.store().site().to_owned();
        drop(self.store.take());
        self.moving = true;
        let (staging, dest) = (self.staging.clone(), self.dest.clone());
        let err = |e| StoreError::io(&dest, "move the restored store into place", e);
        // Until the marker goes, the store is refused at open: a crash
        // half-way leaves a directory the next restore clears.
        for entry in std::fs::read_dir(&staging).map_err(err)? {
            let name = entry.map_err(err)?.file_name();
            std::fs::rename(staging.join(&name), dest.join(&name)).map_err(err)?;
        }
        sync_dir(&dest)?;
        std::fs::remove_dir(&staging).map_err(err)?;
        std::fs::remove_file(dest.join(MARKER)).map_err(err)?;
        sync_dir(&dest)?;
        tracing::info!(path = %dest.display(), "restored store moved into place");
        Store::open(&dest, OpenOptions::existing(Some(site)))
    }
}

fn head_of(sink: &SledSink, site: &str, log: Log) -> Result<Head> {
    Store::stored_head(&sink.path, sink.journal()?, ingest::head_key(site, log))
}

impl Drop for Restoring {
    fn drop(&mut self) {
        drop(self.store.take());
        if self.moving {
            return;
        }
        let removed = match std::fs::remove_dir_all(&self.staging) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
        .and_then(|()| std::fs::remove_file(self.dest.join(MARKER)));
        match removed {
            Ok(()) => {
                tracing::info!(path = %self.dest.display(), "restore abandoned; nothing was moved into place")
            }
            Err(e) => {
                tracing::warn!(path = %self.dest.display(), error = %e, "cannot clear what the abandoned restore left; the next restore does")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::movement::tests_support::sample;
    use crate::model::{Kind, MovementId, NewRejection, Quantity};

    /// Every key and value of the store's journal tree (the chains, the
    /// rejected log and every derived tree).
    fn dump(store: &Store) -> Vec<(Vec<u8>, Vec<u8>)> {
        store
            .trees()
            .unwrap()
            .journal
            .iter()
            .map(|kv| {
                let (k, v) = kv.unwrap();
                (k.to_vec(), v.to_vec())
            })
            .collect()
    }

    /// A site's store with receipts, dispatches, a correction and rejected
    /// scans, committed as the daemon does.
    fn site(dir: &Path) -> Store {
        let store = Store::open(dir, OpenOptions::create("north".into())).unwrap();
        for n in 1..=6 {
            store.journal().commit(sample(n)).unwrap();
        }
        for n in 1..=3 {
            let mut b = sample(n);
            b.kind = Kind::Dispatch;
            b.quantity = Quantity::Units(-1);
            store.journal().commit(b).unwrap();
        }
        let mut c = sample(2);
        c.kind = Kind::Correction;
        c.corrects = Some(MovementId {
            origin: "north".into(),
            seq: 8,
        });
        c.reason = Some("wrong box".into());
        store.journal().commit(c).unwrap();
        for code in ["expired", "unreadable"] {
            store
                .journal()
                .reject(NewRejection {
                    code: code.into(),
                    words: code.into(),
                    station: "dock-1".into(),
                    operator: "op1".into(),
                    raw: b"]C1...".to_vec(),
                    time: Utc::now(),
                    raw_truncated: None,
                })
                .unwrap();
        }
        store
    }

    #[test]
    fn a_restored_store_holds_exactly_what_the_committer_wrote() {
        let tmp = tempfile::tempdir().unwrap();
        let original = site(&tmp.path().join("dead"));
        // An empty directory made for the new store gives way to it.
        let dest = tmp.path().join("data");
        std::fs::create_dir(&dest).unwrap();
        let restoring = Restoring::begin(&dest, "north", None).unwrap();
        // In pages, as they come from head office.
        for from in [1, 5, 9] {
            let page = original.journal().range("north", from, 4).unwrap();
            let taken = restoring.take(Entries::Movements(page)).unwrap().unwrap();
            assert!(taken.new > 0);
        }
        let rejected = original.journal().rejected_range("north", 1, 10).unwrap();
        restoring
            .take(Entries::Rejections(rejected))
            .unwrap()
            .unwrap();
        // Meanwhile the data directory is refused, not opened as a new store.
        let refused = Store::open(&dest, OpenOptions::create("north".into()));
        assert!(
            matches!(refused, Err(StoreError::RestoreUnfinished { .. })),
            "{:?}",
            refused.err()
        );
        let restored = restoring.finish().unwrap();
        assert!(!staging_dir(&dest).exists());
        assert_eq!(dump(&restored), dump(&original));
        assert!(restored.verify().unwrap().is_ok());
        // Numbering resumes after the restored head.
        let next = restored.journal().commit(sample(99)).unwrap();
        assert_eq!(next.seq, 11);
        assert_eq!(
            next.prev_hash,
            original.journal().head("north").unwrap().hash
        );
    }

    #[test]
    fn other_history_is_refused_and_nothing_is_left_in_place() {
        let tmp = tempfile::tempdir().unwrap();
        let original = site(&tmp.path().join("dead"));
        let dest = tmp.path().join("data");
        let restoring = Restoring::begin(&dest, "north", None).unwrap();
        let mut page = original.journal().range("north", 1, 10).unwrap();
        restoring
            .take(Entries::Movements(page[..3].to_vec()))
            .unwrap()
            .unwrap();
        // The same seqs with other content: a conflict, nothing written.
        page[2].body.operator.push('x');
        page[2].hash = super::super::chain::recompute(&page[2]);
        let refused = restoring.take(Entries::Movements(page.clone())).unwrap();
        assert!(
            matches!(refused, Err(Refusal::Conflict { seq: 3, .. })),
            "{refused:?}"
        );
        assert_eq!(restoring.head(Log::Movements).unwrap().seq, 3);
        drop(restoring);
        let empty = std::fs::read_dir(&dest).unwrap().next().is_none();
        assert!(empty, "an abandoned restore leaves nothing in place");
    }

    #[test]
    fn what_an_interrupted_restore_left_is_refused_at_open_and_cleared_by_the_next() {
        let tmp = tempfile::tempdir().unwrap();
        let original = site(&tmp.path().join("dead"));
        let dest = tmp.path().join("data");
        let restoring = Restoring::begin(&dest, "north", None).unwrap();
        let page = original.journal().range("north", 1, 4).unwrap();
        restoring.take(Entries::Movements(page)).unwrap().unwrap();
        // Killed here: nothing of `Drop` runs.
        std::mem::forget(restoring);
        let refused = Store::open(&dest, OpenOptions::create("north".into()));
        assert!(matches!(refused, Err(StoreError::RestoreUnfinished { .. })));
        let restoring = Restoring::begin(&dest, "north", None).unwrap();
        assert_eq!(restoring.head(Log::Movements).unwrap().seq, 0);
        let page = original.journal().range("north", 1, 100).unwrap();
        restoring.take(Entries::Movements(page)).unwrap().unwrap();
        let restored = restoring.finish().unwrap();
        assert_eq!(
            restored.journal().head("north").unwrap(),
            original.journal().head("north").unwrap()
        );
    }

    #[test]
    fn a_backup_of_another_site_is_refused_and_leaves_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let backup = tmp.path().join("backup");
        drop(site(&backup));
        let dest = tmp.path().join("data");
        let e = Restoring::begin(&dest, "south", Some(&backup))
            .err()
            .unwrap();
        assert!(matches!(e, StoreError::OtherSite { .. }), "{e}");
        let left = std::fs::read_dir(&dest).unwrap().count();
        assert_eq!(left, 0, "nothing is left in the data directory");
    }

    #[test]
    fn a_data_directory_that_holds_anything_is_never_touched() {
        let tmp = tempfile::tempdir().unwrap();
        let dest = tmp.path().join("data");
        drop(site(&dest));
        let before = std::fs::read(dest.join("db")).unwrap();
        let e = Restoring::begin(&dest, "north", None).err().unwrap();
        assert!(matches!(e, StoreError::RestoreDestination { .. }), "{e}");
        assert!(e.to_string().contains("never overwrites"), "{e}");
        assert_eq!(std::fs::read(dest.join("db")).unwrap(), before);
        let other = tmp.path().join("other");
        std::fs::create_dir(&other).unwrap();
        std::fs::write(other.join("notes.txt"), "keep").unwrap();
        assert!(Restoring::begin(&other, "north", None).is_err());
        assert_eq!(
            std::fs::read_to_string(other.join("notes.txt")).unwrap(),
            "keep"
        );
    }
}
