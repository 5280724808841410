//! What can go wrong with a store, each case worded so the user knows what
//! to do next. Paths are always named: a site may run several stores
//! (live, backup, restored copy) and the message must say which one.

use std::path::PathBuf;

use super::envelope::EnvelopeError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("there is no store at {path}: check `--data` or `data_dir` in the configuration (the daemon creates the store when it first starts)")]
    NoStore { path: PathBuf },

    #[error("the store at {path} is in use by another process (is `scantrail run` running?): stop it, or ask it through its HTTP API")]
    InUse { path: PathBuf },

    #[error("the store at {path} belongs to site `{found}`, but this configuration is for site `{expected}`: check `--data` and `[site] id`")]
    OtherSite {
        path: PathBuf,
        found: String,
        expected: String,
    },

    #[error("the store at {path} has schema version {found}, but this scantrail reads versions up to {known}: upgrade scantrail")]
    NewerSchema {
        path: PathBuf,
        found: u32,
        known: u32,
    },

    #[error("the store at {path} has schema version {found}, older than this scantrail's {known}: run `scantrail reindex --data {path}` once to upgrade it (the journal is kept as it is; the derived trees are rebuilt)")]
    OlderSchema {
        path: PathBuf,
        found: u32,
        known: u32,
    },

    #[error("{path} is not a scantrail store ({reason}): check the path; if it is one, restore it from a backup")]
    NotAStore { path: PathBuf, reason: String },

    #[error("the store at {path} is damaged ({detail}): run `scantrail verify`, then restore it from a backup")]
    Damaged { path: PathBuf, detail: String },

    #[error("the store at {path}: {source}")]
    Value {
        path: PathBuf,
        #[source]
        source: EnvelopeError,
    },

    #[error("the disk holding {path} is full ({op}: {detail}): free some space; scantrail resumes by itself once there is room, and scans that were not acknowledged were not stored")]
    DiskFull {
        path: PathBuf,
        op: &'static str,
        /// The OS error, as text (the log's, not the operator's).
        detail: String,
    },

    #[error("cannot write to {path} ({op}: {source}): the directory is read-only or not scantrail's to write; fix its permissions or mount")]
    ReadOnly {
        path: PathBuf,
        op: &'static str,
        #[source]
        source: std::io::Error,
    },

    #[error("input/output error on the store at {path} ({op}: {source})")]
    Io {
        path: PathBuf,
        op: &'static str,
        #[source]
        source: std::io::Error,
    },

    #[error("a reindex of the store at {path} was interrupted, so its derived trees are incomplete: run `scantrail reindex`")]
    ReindexInterrupted { path: PathBuf },

    #[error("the store at {path} stopped accepting commits after a failed write ({cause}); scantrail reopens it by itself, from its last durable state, once the cause is fixed")]
    Failed { path: PathBuf, cause: String },

    #[error("the store at {path} is being reopened after a failed write: try again in a moment")]
    Reopening { path: PathBuf },

    #[error("the store at {path} is shut down")]
    Closed { path: PathBuf },

    #[error("the backup destination {path} already holds files: give a new or empty directory")]
    BackupDestination { path: PathBuf },
}

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
    pub fn plain(&self) -> (&'static str, &'static str) {
        match self {
            StoreError::DiskFull { .. } => ("disk_full", "the site's disk is full; tell IT"),
            StoreError::Closed { .. } => (
                "store_error",
                "scantrail is shutting down; scan again in a moment",
            ),
            StoreError::Reopening { .. } => (
                "store_error",
                "scantrail is recovering its store; scan again in a moment",
            ),
            _ => (
                "store_error",
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
