//! Scheduled backups (`[backup]`): the daemon copies its open store into
//! `dir/<time>/` every `every` and keeps the newest `keep` copies, so a
//! site has a recent copy to restore without anyone stopping the daemon
//! for `scantrail backup`.
//!
//! Commits pause (scans wait in the desk's queue; none is lost) only while
//! the store's files are copied as they are (`Store::copy_files`); the copy
//! that is kept is then made from that raw copy by `scantrail backup`, in a
//! process of its own, with commits going on. It is written under a hidden
//! name (`.<time>.partial`, from
//! `.<time>.staging`) and renamed once complete and fsynced, so a
//! copy cut short by a crash or a full disk never looks like a backup; such
//! leftovers are deleted before the next one. Only names this module writes
//! are ever deleted.
//!
//! The outcome of the last backup ([`LastBackup`]: when, ok or the error,
//! where) is kept in a [`Status`] for health (and the alerts), and written
//! to `last-backup.json` in the data directory, where `scantrail doctor`
//! reads it (the data directory is always writable by the daemon, unlike a
//! failing backup directory) and where the daemon finds it again after a
//! restart.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::store::{Store, StoreError};

/// The file in the data directory holding the last backup's outcome.
pub const STATUS_FILE: &str = "last-backup.json";
/// How a backup's directory is named: its start time, UTC, to the
/// millisecond (names sort as times do).
const NAME_FORMAT: &str = "%Y%m%dT%H%M%S%.3fZ";
/// What a backup being written is called until it is complete.
const PARTIAL_SUFFIX: &str = ".partial";
/// The raw copy of the store's files a backup is made from (see
/// `Store::copy_files`).
const STAGING_SUFFIX: &str = ".staging";

/// `[backup]` as the daemon runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// Where the copies go.
    pub dir: PathBuf,
    /// How often.
    pub every: Duration,
    /// How many complete copies are kept.
    pub keep: usize,
}

impl Schedule {
    /// The schedule of `[backup]`, if the configuration has one.
    pub fn of(config: &crate::config::Config) -> Option<Schedule> {
        let backup = config.backup.as_ref()?;
        Some(Schedule {
            dir: backup.dir.clone(),
            every: backup.every.get(),
            keep: backup.keep,
        })
    }
}

/// The outcome of one backup: plain data for health, the doctor and the
/// alerts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastBackup {
    /// When it started (the copy holds every movement acknowledged before).
    pub at: DateTime<Utc>,
    /// Whether a complete copy was written.
    pub ok: bool,
    /// The copy's directory (for a failure, the one it would have had).
    pub path: PathBuf,
    /// Why it failed, in the store's words.
    pub error: Option<String>,
    /// How long it took, copy and clean-up.
    pub seconds: f64,
    /// How long of that commits were paused (scans waited): the raw copy
    /// of the store's files.
    pub paused_seconds: f64,
    /// Entries copied.
    pub entries: u64,
}

/// The last backup's outcome, shared by the backup task and its readers.
#[derive(Clone, Default)]
pub struct Status {
    schedule: Option<Schedule>,
    last: Arc<RwLock<Option<LastBackup>>>,
}

impl Status {
    /// The status of a daemon with this schedule (none: no backups),
    /// starting from the record in `data_dir` if there is one.
    pub fn new(schedule: Option<Schedule>, data_dir: &Path) -> Status {
        let last = schedule
            .as_ref()
            .and_then(|_| read_record(data_dir).ok().flatten());
        Status {
            schedule,
            last: Arc::new(RwLock::new(last)),
        }
    }

    /// The schedule, if backups are configured.
    pub fn schedule(&self) -> Option<&Schedule> {
        self.schedule.as_ref()
    }

    /// The last backup's outcome, if one was made.
    pub fn last(&self) -> Option<LastBackup> {
        self.last.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set(&self, last: LastBackup) {
        *self.last.write().unwrap_or_else(|p| p.into_inner()) = Some(last);
    }

    /// What health shows: `None` without `[backup]`.
    pub fn health(&self) -> Option<serde_json::Value> {
        let schedule = self.schedule.as_ref()?;
        Some(serde_json::json!({
            "dir": schedule.dir,
            "every_seconds": schedule.every.as_secs(),
            "keep": schedule.keep,
            "last": self.last(),
        }))
    }
}

/// How old the last backup may get before backups count as stopped:
/// twice `every` (one run missed).
pub const LATE_FACTOR: u32 = 2;

/// What is wrong with the scheduled backups: the one rule `scantrail
/// doctor` and the `backup_failed` alert both judge by.
#[derive(Debug, Clone, PartialEq)]
pub enum Trouble {
    /// The last backup failed.
    Failed {
        /// When it started.
        at: DateTime<Utc>,
        /// Why, in the store's words.
        error: String,
    },
    /// The last backup is older than [`LATE_FACTOR`] times `every`.
    Late {
        /// When it started.
        at: DateTime<Utc>,
        /// How old it is.
        age: chrono::Duration,
        /// `[backup] every`.
        every: Duration,
    },
}

impl Trouble {
    /// The trouble with `last` at `now` under `every`; `None` while the
    /// last backup succeeded and is recent.
    pub fn of(last: &LastBackup, every: Duration, now: DateTime<Utc>) -> Option<Trouble> {
        if !last.ok {
            return Some(Trouble::Failed {
                at: last.at,
                error: last
                    .error
                    .clone()
                    .unwrap_or_else(|| "no reason recorded".to_owned()),
            });
        }
        let age = now.signed_duration_since(last.at);
        let late = chrono::Duration::from_std(every * LATE_FACTOR).unwrap_or(chrono::Duration::MAX);
        (age > late).then_some(Trouble::Late {
            at: last.at,
            age,
            every,
        })
    }

    /// What to do about it, for backups into `dir` every `every`.
    pub fn fix(&self, dir: &Path, every: Duration) -> String {
        let (dir, every) = (dir.display(), crate::duration::age_std(every));
        match self {
            Trouble::Failed { .. } => format!(
                "make {dir} writable by the service's user with room for a copy of the store (`sudo install -d -o scantrail -g scantrail {dir}`; under systemd also list it in ReadWritePaths=); the daemon tries again every {every}"
            ),
            Trouble::Late { .. } => "backups have stopped: check that the daemon runs (`systemctl status scantrail`) and why its log says no `backup written` (`journalctl -u scantrail | grep backup`)".to_owned(),
        }
    }
}

impl std::fmt::Display for Trouble {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let when = |at: &DateTime<Utc>| at.format("%Y-%m-%d %H:%M UTC").to_string();
        match self {
            Trouble::Failed { at, error } => write!(f, "last backup {} failed: {error}", when(at)),
            Trouble::Late { at, age, every } => write!(
                f,
                "last backup {} is {} old, more than twice `every` ({})",
                when(at),
                crate::duration::age(*age),
                crate::duration::age_std(*every)
            ),
        }
    }
}

/// Why the last backup's record cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The file is there but cannot be read.
    #[error("{} cannot be read: {source}", path.display())]
    Read {
        /// The record's file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The file holds no record (cut short, edited by hand).
    #[error("{} cannot be read: {source}", path.display())]
    Parse {
        /// The record's file.
        path: PathBuf,
        /// Where its JSON is wrong.
        source: serde_json::Error,
    },
}

/// Reads the last backup's record from `data_dir`: `None` when there is
/// none yet.
pub fn read_record(data_dir: &Path) -> Result<Option<LastBackup>, RecordError> {
    let path = data_dir.join(STATUS_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| RecordError::Parse { path, source }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(RecordError::Read { path, source }),
    }
}

/// Writes the record beside the store, replacing the old one whole.
fn write_record(data_dir: &Path, last: &LastBackup) -> std::io::Result<()> {
    let path = data_dir.join(STATUS_FILE);
    let temp = data_dir.join(format!("{STATUS_FILE}.new"));
    let bytes = serde_json::to_vec_pretty(last).map_err(std::io::Error::other)?;
    std::fs::write(&temp, bytes)?;
    std::fs::File::open(&temp)?.sync_all()?;
    std::fs::rename(&temp, &path)
}

/// Runs backups on `schedule` until the task is aborted: the first when
/// the newest complete copy is `every` old (at once when there is none),
/// then every `every`.
pub async fn run(store: Arc<Store>, data_dir: PathBuf, status: Status) {
    let Some(schedule) = status.schedule().cloned() else {
        return;
    };
    let newest = complete_backups(&schedule.dir)
        .ok()
        .and_then(|b| b.last().map(|(at, _)| *at));
    let due_in = newest
        .and_then(|at| {
            (at + schedule.every)
                .signed_duration_since(Utc::now())
                .to_std()
                .ok()
        })
        .unwrap_or_default();
    let mut next = tokio::time::Instant::now() + due_in;
    loop {
        tokio::time::sleep_until(next).await;
        let started = tokio::time::Instant::now();
        let (store, this) = (store.clone(), schedule.clone());
        let Ok(last) = tokio::task::spawn_blocking(move || once(&store, &this)).await else {
            // The blocking task panicked; it has logged. Try again later.
            next = started + schedule.every;
            continue;
        };
        if let Err(e) = write_record(&data_dir, &last) {
            tracing::warn!(error = %e, file = STATUS_FILE, "cannot record the last backup's outcome in the data directory");
        }
        status.set(last);
        next = (started + schedule.every).max(tokio::time::Instant::now());
    }
}

/// Makes one backup now and deletes the copies past `keep`; logs one line.
pub fn once(store: &Store, schedule: &Schedule) -> LastBackup {
    let at = Utc::now();
    let name = at.format(NAME_FORMAT).to_string();
    let path = schedule.dir.join(&name);
    let clock = Instant::now();
    let outcome = write(store, &schedule.dir, &name);
    let seconds = clock.elapsed().as_secs_f64();
    match outcome {
        Ok((entries, paused)) => {
            let paused_seconds = paused.as_secs_f64();
            let deleted = prune(&schedule.dir, schedule.keep);
            let (deleted, prune_error) = match deleted {
                Ok(n) => (n, None),
                Err(e) => (0, Some(e.to_string())),
            };
            tracing::info!(
                path = %path.display(),
                entries,
                seconds,
                paused_seconds,
                deleted,
                prune_error,
                "backup written"
            );
            LastBackup {
                at,
                ok: true,
                path,
                error: None,
                seconds,
                paused_seconds,
                entries,
            }
        }
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, seconds, "backup failed; scanning goes on, the next attempt is in `every`");
            LastBackup {
                at,
                ok: false,
                path,
                error: Some(e.to_string()),
                seconds,
                paused_seconds: 0.0,
                entries: 0,
            }
        }
    }
}

/// Why a scheduled backup was not made. None of these stops commits.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// Copying the store's files, or the backup directory itself.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// `scantrail backup` of the staging copy failed (its last words).
    #[error("`scantrail backup` of the copy into {dest} failed: {detail}")]
    Copy {
        /// The backup being written.
        dest: PathBuf,
        /// What it said, or why it could not run.
        detail: String,
    },
}

/// Copies the store's files into `dir/.name.staging` (commits paused), has
/// `scantrail backup` copy that into `dir/.name.partial` key by key, then
/// renames it to `dir/name` and fsyncs `dir`, so the name appears only once
/// the copy is whole and durable. Returns the entries copied and how long
/// commits were paused.
fn write(store: &Store, dir: &Path, name: &str) -> Result<(u64, Duration), BackupError> {
    let on_dir = |op| {
        move |e| StoreError::BackupWrite {
            path: dir.to_owned(),
            source: Box::new(StoreError::io(dir, op, e)),
        }
    };
    std::fs::create_dir_all(dir).map_err(on_dir("create the backup directory"))?;
    remove_partials(dir).map_err(on_dir("delete an incomplete backup"))?;
    let partial = dir.join(format!(".{name}{PARTIAL_SUFFIX}"));
    let staging = dir.join(format!(".{name}{STAGING_SUFFIX}"));
    let copied = store
        .copy_files(&staging)
        .map_err(BackupError::from)
        .and_then(|paused| Ok((scantrail_backup(&staging, &partial)?, paused)));
    let _ = std::fs::remove_dir_all(&staging);
    let (entries, paused) = match copied {
        Ok(done) => done,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&partial);
            return Err(e);
        }
    };
    std::fs::rename(&partial, dir.join(name)).map_err(on_dir("rename the complete backup"))?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(on_dir("fsync the backup directory"))?;
    Ok((entries, paused))
}

/// Runs `scantrail backup --data STAGING DEST` (this same program) and
/// returns the entries it copied. A process of its own: sled keeps the
/// memory it takes for writing the copy (hundreds of MB for 100,000
/// movements) until the process ends, which the daemon does not.
fn scantrail_backup(staging: &Path, dest: &Path) -> Result<u64, BackupError> {
    let failed = |detail: String| BackupError::Copy {
        dest: dest.to_owned(),
        detail,
    };
    let program = std::env::current_exe().map_err(|e| failed(e.to_string()))?;
    // No configuration file there: the copy's own site is accepted.
    let no_config = staging.join("no-configuration.toml");
    let out = std::process::Command::new(program)
        .arg("backup")
        .arg("--config")
        .arg(&no_config)
        .arg("--data")
        .arg(staging)
        .arg(dest)
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| failed(e.to_string()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
        return Err(failed(
            last.map_or_else(|| out.status.to_string(), str::to_owned),
        ));
    }
    // "backed up N entries in T trees to DEST"
    Ok(stdout
        .split_whitespace()
        .nth(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0))
}

/// Deletes what an interrupted backup left (`.<time>.partial`,
/// `.<time>.staging`).
fn remove_partials(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        let partial = name
            .strip_prefix('.')
            .and_then(|n| {
                n.strip_suffix(PARTIAL_SUFFIX)
                    .or_else(|| n.strip_suffix(STAGING_SUFFIX))
            })
            .is_some_and(|n| parse_name(n).is_some());
        if partial {
            std::fs::remove_dir_all(dir.join(&*name))?;
        }
    }
    Ok(())
}

/// The complete backups in `dir`, oldest first, by the time in their name.
pub fn complete_backups(dir: &Path) -> std::io::Result<Vec<(DateTime<Utc>, PathBuf)>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if let Some(at) = parse_name(&entry.file_name().to_string_lossy()) {
            found.push((at, entry.path()));
        }
    }
    found.sort();
    Ok(found)
}

/// Deletes the complete backups past the newest `keep`; returns how many.
fn prune(dir: &Path, keep: usize) -> std::io::Result<usize> {
    let backups = complete_backups(dir)?;
    let old = backups.len().saturating_sub(keep);
    for (_, path) in &backups[..old] {
        std::fs::remove_dir_all(path)?;
    }
    Ok(old)
}

/// The time a backup's directory name stands for; `None` for any other
/// name (never deleted).
fn parse_name(name: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(name, NAME_FORMAT)
        .ok()
        .map(|t| t.and_utc())
        // Only names this module writes: the format must give them back.
        .filter(|t| t.format(NAME_FORMAT).to_string() == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_written_here_count_as_backups() {
        let at = DateTime::parse_from_rfc3339("2026-11-30T01:45:12.123Z")
            .unwrap()
            .with_timezone(&Utc);
        let name = at.format(NAME_FORMAT).to_string();
        assert_eq!(name, "20261130T014512.123Z");
        assert_eq!(parse_name(&name), Some(at));
        for other in ["notes", "20261130T014512Z", "20261130T014512.123Z.old", ""] {
            assert_eq!(parse_name(other), None, "{other}");
        }
    }

    #[test]
    fn pruning_keeps_the_newest_and_leaves_other_files_alone() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "20261130T010000.000Z",
            "20261130T020000.000Z",
            "20261130T030000.000Z",
            "keep-me",
        ] {
            std::fs::create_dir(dir.path().join(name)).unwrap();
        }
        std::fs::create_dir(dir.path().join(".20261130T040000.000Z.partial")).unwrap();
        std::fs::create_dir(dir.path().join(".20261130T040000.000Z.staging")).unwrap();
        assert_eq!(prune(dir.path(), 2).unwrap(), 1);
        remove_partials(dir.path()).unwrap();
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            ["20261130T020000.000Z", "20261130T030000.000Z", "keep-me"]
        );
    }
}
