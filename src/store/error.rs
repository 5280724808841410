//! What can go wrong with a store, each case worded so the user knows what
//! to do next. Paths are always named: a site may run several stores
//! (live, backup, restored copy) and the message must say which one.

use std::path::PathBuf;

use super::envelope::EnvelopeError;
use crate::model::RefusalCode;

/// What can go wrong opening, reading or writing a store; every message names
/// the store's path and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Nothing at `path` looks like a store, and the caller did not ask to
    /// create one.
    #[error("there is no store at {path}: check `--data` or `data_dir` in the configuration (the daemon creates the store when it first starts)")]
    NoStore {
        /// The directory that was opened.
        path: PathBuf,
    },

    /// Another process (usually the daemon) holds sled's lock on the store.
    #[error("the store at {path} is in use by another process (is `scantrail run` running?): stop it, or ask it through its HTTP API")]
    InUse {
        /// The directory that was opened.
        path: PathBuf,
    },

    /// The store is stamped with another site's id than the configuration's.
    #[error("the store at {path} belongs to site `{found}`, but this configuration is for site `{expected}`: check `--data` and `[site] id`")]
    OtherSite {
        /// The directory that was opened.
        path: PathBuf,
        /// The site id stamped in the store.
        found: String,
        /// The site id the configuration says this process serves.
        expected: String,
    },

    /// The store's layout is newer than this scantrail understands.
    #[error("the store at {path} has schema version {found}, but this scantrail reads versions up to {known}: upgrade scantrail")]
    NewerSchema {
        /// The directory that was opened.
        path: PathBuf,
        /// The schema version stamped in the store.
        found: u32,
        /// The newest schema version this scantrail reads (`SCHEMA_VERSION`).
        known: u32,
    },

    /// The store's layout is older and needs `scantrail reindex` before use.
    #[error("the store at {path} has schema version {found}, older than this scantrail's {known}: run `scantrail reindex --data {path}` once to upgrade it (every movement is kept byte for byte; the derived trees are rebuilt)")]
    OlderSchema {
        /// The directory that was opened.
        path: PathBuf,
        /// The schema version stamped in the store.
        found: u32,
        /// This scantrail's schema version (`SCHEMA_VERSION`).
        known: u32,
    },

    /// sled opened the directory, but it holds no scantrail metadata (or
    /// unreadable metadata).
    #[error("{path} is not a scantrail store ({reason}): check the path; if it is one, restore it from a backup")]
    NotAStore {
        /// The directory that was opened.
        path: PathBuf,
        /// What was missing or wrong.
        reason: String,
    },

    /// sled or the store's own checks found the files inconsistent: restore
    /// from a backup.
    #[error("the store at {path} is damaged ({detail}): run `scantrail verify`, then restore it from a backup")]
    Damaged {
        /// The store's directory.
        path: PathBuf,
        /// What was found, for the log and the operator.
        detail: String,
    },

    /// A stored value could not be decoded (see `EnvelopeError`).
    #[error("the store at {path}: {source}")]
    Value {
        /// The store's directory.
        path: PathBuf,
        /// Which value and why.
        #[source]
        source: EnvelopeError,
    },

    /// A write failed because the disk is full; nothing unacknowledged was
    /// stored, and commits resume once there is room.
    #[error("the disk holding {path} is full ({op}: {detail}): free some space; scantrail resumes by itself once there is room, and scans that were not acknowledged were not stored")]
    DiskFull {
        /// The store's directory.
        path: PathBuf,
        /// What was being done (`write a batch`, `flush`...).
        op: &'static str,
        /// The OS error, as text (the log's, not the operator's).
        detail: String,
    },

    /// A write failed because the directory or its files may not be written.
    #[error("cannot write to {path} ({op}: {source}): the directory is read-only or not scantrail's to write; fix its permissions or mount")]
    ReadOnly {
        /// The store's directory.
        path: PathBuf,
        /// What was being done.
        op: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },

    /// Any other I/O error on the store's files.
    #[error("input/output error on the store at {path} ({op}: {source})")]
    Io {
        /// The store's directory.
        path: PathBuf,
        /// What was being done.
        op: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },

    /// The last `reindex` stopped half-way (its marker is still in the store):
    /// the derived trees cannot be trusted until it is run again.
    #[error("a reindex of the store at {path} was interrupted, so its derived trees are incomplete: run `scantrail reindex`")]
    ReindexInterrupted {
        /// The store's directory.
        path: PathBuf,
    },

    /// The committer stopped after a write failed; it reopens the store from
    /// its last durable state by itself once the cause is fixed.
    #[error("the store at {path} stopped accepting commits after a failed write ({cause}); scantrail reopens it by itself, from its last durable state, once the cause is fixed")]
    Failed {
        /// The store's directory.
        path: PathBuf,
        /// The first error, as text.
        cause: String,
    },

    /// A read arrived while the committer reopens the store after a failed
    /// write.
    #[error("the store at {path} is being reopened after a failed write: try again in a moment")]
    Reopening {
        /// The store's directory.
        path: PathBuf,
    },

    /// The store was shut down (the daemon is stopping); nothing more is
    /// accepted.
    #[error("the store at {path} is shut down")]
    Closed {
        /// The store's directory.
        path: PathBuf,
    },

    /// `backup` refuses a destination that already holds files, so it never
    /// mixes two stores.
    #[error("the backup destination {path} already holds files: give a new or empty directory")]
    BackupDestination {
        /// The destination given.
        path: PathBuf,
    },

    /// Writing a backup failed on the backup's side (its disk is full, its
    /// directory not writable): the store itself is untouched and goes on
    /// taking commits.
    #[error("cannot write the backup at {path}: {source}")]
    BackupWrite {
        /// The backup's directory.
        path: PathBuf,
        /// What went wrong there, as the store would say it of itself.
        #[source]
        source: Box<StoreError>,
    },
    /// A restore's data directory holds files already: restore never
    /// overwrites a store, whatever it holds.
    #[error("the data directory {path} is not empty: restore never overwrites history; move it aside (keep it) or give an empty directory")]
    RestoreDestination {
        /// The data directory given.
        path: PathBuf,
    },
    /// `scantrail restore` is building a store in this directory, or was cut
    /// short: there is no store to open yet.
    #[error("{path} holds a restore that has not finished (`scantrail-restoring`): wait for `scantrail restore` to end, or run it again if it was interrupted")]
    RestoreUnfinished {
        /// The data directory.
        path: PathBuf,
    },
}

/// A store operation's outcome; the error is a `StoreError` unless said
/// otherwise.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    /// Classifies an I/O error: a full disk and a read-only directory need
    /// different actions from the user.
    pub fn io(path: impl Into<PathBuf>, op: &'static str, source: std::io::Error) -> StoreError {
        use std::io::ErrorKind;
        let path = path.into();
        // sled hands out copies of an I/O error that keep its kind but not
        // its OS code, so both are looked at.
        match (source.raw_os_error(), source.kind()) {
            (Some(28) | Some(122), _) | (_, ErrorKind::StorageFull | ErrorKind::QuotaExceeded) => {
                StoreError::DiskFull {
                    path,
                    op,
                    detail: source.to_string(),
                }
            }
            (Some(13) | Some(1) | Some(30), _)
            | (_, ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem) => {
                StoreError::ReadOnly { path, op, source }
            }
            _ => StoreError::Io { path, op, source },
        }
    }

    /// Maps sled's error for the store at `path`.
    pub fn sled(path: impl Into<PathBuf>, op: &'static str, e: sled::Error) -> StoreError {
        let path = path.into();
        match e {
            sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
                StoreError::InUse { path }
            }
            sled::Error::Io(io) => StoreError::io(path, op, io),
            sled::Error::Corruption { at, .. } => StoreError::Damaged {
                path,
                detail: format!("sled found corrupt data at {at:?} while trying to {op}"),
            },
            sled::Error::Unsupported(why) | sled::Error::ReportableBug(why) => {
                StoreError::Damaged {
                    path,
                    detail: format!("{op}: {why}"),
                }
            }
            sled::Error::CollectionNotFound(name) => StoreError::NotAStore {
                path,
                reason: format!("tree {:?} is missing", String::from_utf8_lossy(&name)),
            },
        }
    }

    /// What a person at a scanner or handheld is told, with a stable code:
    /// the details (OS error, path) are for the log, not for them.
    pub fn plain(&self) -> (RefusalCode, &'static str) {
        match self {
            StoreError::DiskFull { .. } => {
                (RefusalCode::DiskFull, "the site's disk is full; tell IT")
            }
            StoreError::Closed { .. } => (
                RefusalCode::StoreError,
                "scantrail is shutting down; scan again in a moment",
            ),
            StoreError::Reopening { .. } => (
                RefusalCode::StoreError,
                "scantrail is recovering its store; scan again in a moment",
            ),
            _ => (
                RefusalCode::StoreError,
                "the site's store cannot record scans right now; tell IT",
            ),
        }
    }

    /// A short form for answering each requester of a failed batch (the
    /// error itself is not `Clone`). A full disk stays a full disk, so the
    /// answers can say so plainly.
    pub fn to_failed(&self, path: &std::path::Path) -> StoreError {
        match self {
            StoreError::DiskFull { path, op, detail } => StoreError::DiskFull {
                path: path.clone(),
                op,
                detail: detail.clone(),
            },
            StoreError::Failed { path, cause } => StoreError::Failed {
                path: path.clone(),
                cause: cause.clone(),
            },
            other => StoreError::Failed {
                path: path.to_owned(),
                cause: other.to_string(),
            },
        }
    }
}
