//! The alerts' rules, pure: what the daemon saw at one moment (a
//! [`Snapshot`]) and the alerts already raised (a [`Board`]) become the
//! changes to announce — each alert raised once when its condition starts
//! (or has lasted long enough), kept quietly while it lasts, and resolved
//! once when it ends. Nothing here reads the system, so every case is
//! tested over hand-made snapshots.
//!
//! Adding a condition (as `backup_failed` was) is one [`Kind`], one
//! field of [`Snapshot`], one arm in [`findings`] and one in
//! [`resolved_words`].

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::disk::{size, Space};
use utoipa::ToSchema;

use crate::duration::{age, age_std};
use crate::site::backups::{LastBackup, Trouble};
use crate::web::tls::Certificate;

/// What kind of trouble an alert is about (its `alert` in the webhook's
/// JSON).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The data directory's disk is nearly full.
    DiskLow,
    /// The store refuses writes (a full disk, a failing one): scans are
    /// refused.
    StoreFailing,
    /// A configured scanner's port has been closed for too long.
    ScannerGone,
    /// Sync stopped until someone acts: halted (head office refused the
    /// history) or the site's credential refused.
    SyncHalted,
    /// The oldest movement head office has not acknowledged is too old.
    SyncBacklogOld,
    /// The served certificate ends soon, or has ended.
    CertificateExpiring,
    /// Head office's certificate ends soon: then every site stops syncing.
    HqCertificateExpiring,
    /// The last verify of the store found it damaged.
    VerifyFailed,
    /// The last scheduled backup failed, or is older than twice `[backup]
    /// every` (the doctor's rule, `backups::Trouble`).
    BackupFailed,
    /// The daemon's resident memory is over `[store] memory_mb`.
    MemoryHigh,
}

impl Kind {
    /// The name in the webhook's JSON, the health route and the log.
    pub fn name(self) -> &'static str {
        match self {
            Kind::DiskLow => "disk_low",
            Kind::StoreFailing => "store_failing",
            Kind::ScannerGone => "scanner_gone",
            Kind::SyncHalted => "sync_halted",
            Kind::SyncBacklogOld => "sync_backlog_old",
            Kind::CertificateExpiring => "certificate_expiring",
            Kind::HqCertificateExpiring => "hq_certificate_expiring",
            Kind::VerifyFailed => "verify_failed",
            Kind::BackupFailed => "backup_failed",
            Kind::MemoryHigh => "memory_high",
        }
    }
}

/// One alert: its kind and what it is about (a scanner's port; empty for
/// the site-wide kinds).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Key {
    /// The kind.
    pub kind: Kind,
    /// What it is about, or empty.
    pub subject: String,
}

/// What the daemon saw at one moment.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// When.
    pub at: DateTime<Utc>,
    /// The data directory and its disk's space; `None` when it cannot be
    /// read.
    pub disk: Option<(PathBuf, Space)>,
    /// Why the store refuses writes, in words; `None` while it writes.
    pub store_failure: Option<String>,
    /// Each configured scanner.
    pub scanners: Vec<ScannerSeen>,
    /// The link to head office; `None` without `[sync]`.
    pub sync: Option<SyncSeen>,
    /// The served certificate; `None` without HTTPS.
    pub certificate: Option<Certificate>,
    /// The end of head office's certificate, as its health says; `None`
    /// without `[sync]` or while head office does not answer.
    pub hq_certificate: Option<DateTime<Utc>>,
    /// The last verify recorded; `None` before the first.
    pub verify: Option<VerifySeen>,
    /// The scheduled backups; `None` without `[backup]`.
    pub backup: Option<BackupSeen>,
    /// The daemon's resident memory and `[store] memory_mb`, in bytes;
    /// `None` when it cannot be read.
    pub memory: Option<(u64, u64)>,
}

/// A configured scanner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannerSeen {
    /// Its port as configured.
    pub port: String,
    /// The station it feeds.
    pub station: String,
    /// Whether its port is open.
    pub connected: bool,
}

/// The link to head office.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncSeen {
    /// Why sync is stopped until someone acts, in words; `None` while it
    /// runs (online or retrying).
    pub stopped: Option<String>,
    /// When the oldest movement head office has not acknowledged was
    /// scanned; `None` when it has them all.
    pub oldest_unacked: Option<DateTime<Utc>>,
    /// Movements head office has not acknowledged.
    pub backlog: u64,
}

/// The last verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifySeen {
    /// When it ran.
    pub at: DateTime<Utc>,
    /// Whether the store was intact.
    pub ok: bool,
    /// What it said.
    pub summary: String,
}

/// The scheduled backups.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupSeen {
    /// `[backup] dir`.
    pub dir: PathBuf,
    /// `[backup] every`.
    pub every: Duration,
    /// The last backup's outcome; `None` before the first.
    pub last: Option<LastBackup>,
}

/// The limits of `[alerts]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Low below this percentage free.
    pub disk_free_percent: u8,
    /// ... or below this many bytes free.
    pub disk_free_bytes: u64,
    /// A scanner is gone after this long closed.
    pub scanner_gone_after: Duration,
    /// Sync is behind once its oldest unacknowledged movement is this old.
    pub backlog_older_than: Duration,
    /// A certificate is expiring this many days before its end.
    pub certificate_days: i64,
}

impl Limits {
    /// The limits `[alerts]` sets.
    pub fn of(config: &crate::config::Alerts) -> Limits {
        Limits {
            disk_free_percent: config.disk_free_below_percent,
            disk_free_bytes: config.disk_free_below_mb.saturating_mul(1 << 20),
            scanner_gone_after: config.scanner_gone_after.get(),
            backlog_older_than: config.sync_backlog_older_than.get(),
            certificate_days: i64::from(config.certificate_days),
        }
    }
}

/// A raised alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Active {
    /// Since when (the moment it was raised).
    pub since: DateTime<Utc>,
    /// What is wrong and what to do, as last seen.
    pub message: String,
}

/// The alerts raised and not yet resolved, and the conditions seen but
/// not yet lasting long enough to raise (a scanner closed for a moment).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Board {
    /// Raised, by key.
    #[serde(with = "as_list")]
    pub active: BTreeMap<Key, Active>,
    /// Seen since, not yet raised.
    #[serde(skip)]
    pub pending: BTreeMap<Key, DateTime<Utc>>,
}

/// JSON maps take only text as keys: the raised alerts are kept as a list
/// of pairs.
mod as_list {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serializer};

    use super::{Active, Key};

    pub fn serialize<S: Serializer>(map: &BTreeMap<Key, Active>, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(map.iter())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<Key, Active>, D::Error> {
        Ok(Vec::<(Key, Active)>::deserialize(d)?.into_iter().collect())
    }
}

/// Raised or resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// The condition began (or has lasted long enough).
    Raised,
    /// The condition ended.
    Resolved,
}

/// One change to announce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// Which alert.
    pub key: Key,
    /// Raised or resolved.
    pub change: Change,
    /// In words, with the fix for a raise.
    pub message: String,
    /// When it was seen.
    pub at: DateTime<Utc>,
}

/// A condition that holds now: raised once it has held for `after`.
struct Finding {
    key: Key,
    after: Duration,
    message: String,
}

fn site_wide(kind: Kind, message: String) -> Finding {
    Finding {
        key: Key {
            kind,
            subject: String::new(),
        },
        after: Duration::ZERO,
        message,
    }
}

/// Every condition that holds in `seen`.
fn findings(seen: &Snapshot, limits: &Limits) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some((path, space)) = &seen.disk {
        if space.free < limits.disk_free_bytes
            || space.free_percent() < f64::from(limits.disk_free_percent)
        {
            out.push(site_wide(Kind::DiskLow, format!(
                "the disk of the data directory {} has {} free ({:.1} %; the alert is under {} or {} %): free space on it or move `data_dir` to a larger disk before the store refuses scans",
                path.display(), size(space.free), space.free_percent(), size(limits.disk_free_bytes), limits.disk_free_percent
            )));
        }
    }
    if let Some(reason) = &seen.store_failure {
        out.push(site_wide(Kind::StoreFailing, format!(
            "the store refuses writes, so every scan is refused: {reason}; `scantrail doctor` names the cause, scans resume by themselves once the store can write again"
        )));
    }
    for scanner in seen.scanners.iter().filter(|s| !s.connected) {
        out.push(Finding {
            key: Key { kind: Kind::ScannerGone, subject: scanner.port.clone() },
            after: limits.scanner_gone_after,
            message: format!(
                "scanner {} (station {}) has been gone for over {}: check its cable and power, or that /dev names it as configured (`scantrail doctor`)",
                scanner.port, scanner.station, age_std(limits.scanner_gone_after)
            ),
        });
    }
    if let Some(sync) = &seen.sync {
        if let Some(reason) = &sync.stopped {
            out.push(site_wide(Kind::SyncHalted, format!(
                "sync to head office has stopped and waits for someone: {reason}; scans go on and wait in the outbox (the console's Sync page says what to do)"
            )));
        }
        if let Some(oldest) = sync.oldest_unacked {
            let waited = seen.at - oldest;
            if waited
                .to_std()
                .is_ok_and(|w| w >= limits.backlog_older_than)
            {
                out.push(site_wide(Kind::SyncBacklogOld, format!(
                    "head office has not had this site's movements for {}: {} wait in the outbox; check the network to head office and the console's Sync page",
                    age(waited), sync.backlog
                )));
            }
        }
    }
    if let Some(certificate) = &seen.certificate {
        let words = match certificate.check_within(seen.at, limits.certificate_days) {
            Ok(words) => words,
            Err(invalid) => Some(invalid.to_string()),
        };
        if let Some(words) = words {
            out.push(site_wide(Kind::CertificateExpiring, words));
        }
    }
    if let Some(end) = seen.hq_certificate {
        let left = end - seen.at;
        if left < chrono::Duration::days(limits.certificate_days) {
            out.push(site_wide(Kind::HqCertificateExpiring, format!(
                "head office's certificate ends on {} (in {} days): renew it at head office before then, or every site stops syncing",
                end.format("%Y-%m-%d %H:%M UTC"), left.num_days().max(0)
            )));
        }
    }
    if let Some(run) = seen.verify.as_ref().filter(|run| !run.ok) {
        out.push(site_wide(Kind::VerifyFailed, format!(
            "the verify of {} found the store damaged: {}; see its problems on the console's Journal page: if only derived trees are wrong run `scantrail reindex`, if a chain is broken restore from a backup",
            run.at.format("%Y-%m-%d %H:%M UTC"), run.summary
        )));
    }
    if let Some(backup) = &seen.backup {
        let trouble = backup
            .last
            .as_ref()
            .and_then(|last| Trouble::of(last, backup.every, seen.at));
        if let Some(trouble) = trouble {
            out.push(site_wide(
                Kind::BackupFailed,
                format!("{trouble}: {}", trouble.fix(&backup.dir, backup.every)),
            ));
        }
    }
    if let Some((resident, bound)) = seen.memory {
        if resident > bound {
            out.push(site_wide(Kind::MemoryHigh, format!(
                "the daemon holds {} of memory, over `[store] memory_mb` ({}): what sled holds grows slowly with the store (a few bytes a movement; README, \"How big a machine\"): raise the bound to what the machine can give (`[store] memory_mb`, then `systemctl restart scantrail`), or give the site a machine with more memory",
                size(resident), size(bound)
            )));
        }
    }
    out
}

/// What a resolve says: the condition's end, in words.
fn resolved_words(key: &Key, seen: &Snapshot) -> String {
    match key.kind {
        Kind::DiskLow => match &seen.disk {
            Some((path, space)) => format!(
                "the disk of the data directory {} has {} free again ({:.1} %)",
                path.display(),
                size(space.free),
                space.free_percent()
            ),
            None => "the data directory's free space cannot be read any more".to_owned(),
        },
        Kind::StoreFailing => "the store writes again: scans are taken".to_owned(),
        Kind::ScannerGone => match seen.scanners.iter().find(|s| s.port == key.subject) {
            Some(s) => format!(
                "scanner {} (station {}) is connected again",
                s.port, s.station
            ),
            None => format!("scanner {} is no longer configured", key.subject),
        },
        Kind::SyncHalted if seen.sync.is_none() => "sync is no longer configured".to_owned(),
        Kind::SyncHalted => "sync to head office runs again".to_owned(),
        Kind::SyncBacklogOld => match &seen.sync {
            Some(s) if s.backlog == 0 => {
                "head office has every movement of this site again".to_owned()
            }
            Some(s) => format!(
                "head office is catching up: {} movements wait, none older than the limit",
                s.backlog
            ),
            None => "sync is no longer configured".to_owned(),
        },
        Kind::CertificateExpiring => match &seen.certificate {
            Some(c) => format!(
                "the served certificate {} is valid until {}",
                c.path.display(),
                c.not_after.format("%Y-%m-%d")
            ),
            None => "the site no longer serves HTTPS".to_owned(),
        },
        Kind::HqCertificateExpiring => match seen.hq_certificate {
            Some(end) => format!(
                "head office's certificate is valid until {}",
                end.format("%Y-%m-%d")
            ),
            None if seen.sync.is_none() => "sync is no longer configured".to_owned(),
            None => "head office's certificate is no longer reported as ending soon".to_owned(),
        },
        Kind::VerifyFailed => match &seen.verify {
            Some(run) => format!(
                "the verify of {} found the store intact: {}",
                run.at.format("%Y-%m-%d %H:%M UTC"),
                run.summary
            ),
            None => "no failed verify is recorded any more".to_owned(),
        },
        Kind::BackupFailed => match seen.backup.as_ref().and_then(|b| b.last.as_ref()) {
            Some(last) if last.ok => format!(
                "the backup of {} succeeded: {}",
                last.at.format("%Y-%m-%d %H:%M UTC"),
                last.path.display()
            ),
            _ if seen.backup.is_none() => "backups are no longer scheduled".to_owned(),
            _ => "no failed backup is recorded any more".to_owned(),
        },
        Kind::MemoryHigh => match seen.memory {
            Some((resident, bound)) => format!(
                "the daemon holds {} of memory, within `[store] memory_mb` ({})",
                size(resident),
                size(bound)
            ),
            None => "the daemon's memory cannot be read any more".to_owned(),
        },
    }
}

/// The board after `seen`, and the changes to announce: a condition held
/// long enough and not yet raised is raised; a raised one that no longer
/// holds is resolved; one still held stays, its message refreshed, with
/// nothing announced.
pub fn evaluate(board: &Board, seen: &Snapshot, limits: &Limits) -> (Board, Vec<Transition>) {
    let mut next = Board::default();
    let mut changes = Vec::new();
    for finding in findings(seen, limits) {
        if let Some(active) = board.active.get(&finding.key) {
            next.active.insert(
                finding.key,
                Active {
                    since: active.since,
                    message: finding.message,
                },
            );
            continue;
        }
        let first = board.pending.get(&finding.key).copied().unwrap_or(seen.at);
        let held = (seen.at - first).to_std().unwrap_or(Duration::ZERO);
        if held < finding.after {
            next.pending.insert(finding.key, first);
            continue;
        }
        changes.push(Transition {
            key: finding.key.clone(),
            change: Change::Raised,
            message: finding.message.clone(),
            at: seen.at,
        });
        next.active.insert(
            finding.key,
            Active {
                since: seen.at,
                message: finding.message,
            },
        );
    }
    for key in board.active.keys() {
        if !next.active.contains_key(key) {
            changes.push(Transition {
                key: key.clone(),
                change: Change::Resolved,
                message: resolved_words(key, seen),
                at: seen.at,
            });
        }
    }
    (next, changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    fn limits() -> Limits {
        Limits {
            disk_free_percent: 5,
            disk_free_bytes: 1 << 30,
            scanner_gone_after: Duration::from_secs(600),
            backlog_older_than: Duration::from_secs(4 * 3600),
            certificate_days: 30,
        }
    }

    /// A site where all is well at `t`.
    fn fine(t: i64) -> Snapshot {
        Snapshot {
            at: at(t),
            disk: Some((
                PathBuf::from("/var/lib/scantrail"),
                Space {
                    free: 50 << 30,
                    total: 100 << 30,
                },
            )),
            store_failure: None,
            scanners: vec![ScannerSeen {
                port: "/dev/ttyACM0".into(),
                station: "dock-1".into(),
                connected: true,
            }],
            sync: Some(SyncSeen {
                stopped: None,
                oldest_unacked: None,
                backlog: 0,
            }),
            certificate: Some(Certificate {
                path: PathBuf::from("/etc/scantrail/site.pem"),
                subject: "CN=site".into(),
                not_before: at(-86_400),
                not_after: at(365 * 86_400),
            }),
            hq_certificate: Some(at(400 * 86_400)),
            verify: Some(VerifySeen {
                at: at(-3600),
                ok: true,
                summary: "12 movements checked".into(),
            }),
            backup: Some(BackupSeen {
                dir: PathBuf::from("/var/backups/scantrail"),
                every: Duration::from_secs(86_400),
                last: Some(backup_at(-3600, true)),
            }),
            memory: Some((300 << 20, 512 << 20)),
        }
    }

    /// A scheduled backup started at `t`.
    fn backup_at(t: i64, ok: bool) -> LastBackup {
        LastBackup {
            at: at(t),
            ok,
            path: PathBuf::from(format!("/var/backups/scantrail/{t}")),
            error: (!ok).then(|| "No space left on device".to_owned()),
            seconds: 1.0,
            paused_seconds: 0.1,
            entries: 12,
        }
    }

    /// Runs `snapshots` in order from an empty board; every change, with
    /// the board at the end.
    fn run(snapshots: &[Snapshot]) -> (Board, Vec<Transition>) {
        let mut board = Board::default();
        let mut all = Vec::new();
        for s in snapshots {
            let (next, changes) = evaluate(&board, s, &limits());
            board = next;
            all.extend(changes);
        }
        (board, all)
    }

    fn names(changes: &[Transition]) -> Vec<String> {
        changes
            .iter()
            .map(|t| {
                format!(
                    "{} {:?} @{}",
                    t.key.kind.name(),
                    t.change,
                    t.at.timestamp() - 1_800_000_000
                )
            })
            .collect()
    }

    /// Each condition: raised once at its first sight while it lasts over
    /// three samples, resolved once when it ends, quiet afterwards.
    fn raised_once_resolved_once(kind: Kind, bad: impl Fn(&mut Snapshot)) -> Vec<Transition> {
        let mut snapshots: Vec<Snapshot> = (0..5).map(|i| fine(i * 60)).collect();
        for s in &mut snapshots[1..4] {
            bad(s);
        }
        snapshots.push(fine(300));
        let (board, changes) = run(&snapshots);
        assert_eq!(
            names(&changes),
            [
                format!("{} Raised @60", kind.name()),
                format!("{} Resolved @240", kind.name())
            ]
        );
        assert!(board.active.is_empty() && board.pending.is_empty());
        changes
    }

    #[test]
    fn memory_over_the_bound_is_raised_once_and_resolved_once() {
        let c = raised_once_resolved_once(Kind::MemoryHigh, |s| {
            s.memory = Some((700 << 20, 512 << 20));
        });
        assert!(
            c[0].message.contains("700 MiB") && c[0].message.contains("512 MiB"),
            "{}",
            c[0].message
        );
        assert!(c[1].message.contains("within"), "{}", c[1].message);
    }

    #[test]
    fn a_site_where_all_is_well_raises_nothing() {
        let (board, changes) = run(&[fine(0), fine(60), fine(120)]);
        assert!(changes.is_empty(), "{changes:?}");
        assert_eq!(board, Board::default());
    }

    #[test]
    fn a_low_disk_by_bytes_or_by_percentage_is_raised_once_and_resolved_once() {
        let c = raised_once_resolved_once(Kind::DiskLow, |s| {
            s.disk.as_mut().unwrap().1.free = 500 << 20;
        });
        assert!(
            c[0].message.contains("500 MiB free") && c[0].message.contains("free space on it"),
            "{}",
            c[0].message
        );
        assert!(
            c[1].message.contains("50.0 GiB free again"),
            "{}",
            c[1].message
        );
        // 4 GiB of a 100 GiB disk is above the bytes limit but under 5 %.
        raised_once_resolved_once(Kind::DiskLow, |s| {
            s.disk.as_mut().unwrap().1.free = 4 << 30;
        });
    }

    #[test]
    fn a_failing_store_is_raised_with_its_reason() {
        let c = raised_once_resolved_once(Kind::StoreFailing, |s| {
            s.store_failure = Some("the site's disk is full; tell IT".into());
        });
        assert!(c[0].message.contains("disk is full"), "{}", c[0].message);
    }

    #[test]
    fn a_scanner_is_gone_only_after_its_limit_and_back_once_it_reconnects() {
        let gone = |t: i64| {
            let mut s = fine(t);
            s.scanners[0].connected = false;
            s
        };
        // Closed at 0; the limit is 10 minutes: raised at the first sample
        // at or past 600 s, not before, not again.
        let (board, changes) = run(&[
            fine(-60),
            gone(0),
            gone(300),
            gone(599),
            gone(600),
            gone(900),
            gone(1200),
            fine(1260),
            fine(1320),
        ]);
        assert_eq!(
            names(&changes),
            ["scanner_gone Raised @600", "scanner_gone Resolved @1260"]
        );
        assert_eq!(changes[0].key.subject, "/dev/ttyACM0");
        assert!(
            changes[0]
                .message
                .contains("scanner /dev/ttyACM0 (station dock-1) has been gone for over 10 min"),
            "{}",
            changes[0].message
        );
        assert_eq!(
            changes[1].message,
            "scanner /dev/ttyACM0 (station dock-1) is connected again"
        );
        assert_eq!(board, Board::default());
    }

    #[test]
    fn a_scanner_back_before_its_limit_raises_nothing_and_its_clock_restarts() {
        let gone = |t: i64| {
            let mut s = fine(t);
            s.scanners[0].connected = false;
            s
        };
        let (_, changes) = run(&[gone(0), gone(500), fine(560), gone(620), gone(1200)]);
        assert!(changes.is_empty(), "{:?}", names(&changes));
        let (_, changes) = run(&[gone(0), gone(500), fine(560), gone(620), gone(1220)]);
        assert_eq!(names(&changes), ["scanner_gone Raised @1220"]);
    }

    #[test]
    fn two_scanners_are_two_alerts() {
        let both = |t: i64, first: bool, second: bool| {
            let mut s = fine(t);
            s.scanners[0].connected = first;
            s.scanners.push(ScannerSeen {
                port: "/dev/ttyACM1".into(),
                station: "dock-2".into(),
                connected: second,
            });
            s
        };
        let (board, changes) = run(&[
            both(0, false, false),
            both(600, false, false),
            both(660, true, false),
        ]);
        assert_eq!(
            names(&changes),
            [
                "scanner_gone Raised @600",
                "scanner_gone Raised @600",
                "scanner_gone Resolved @660"
            ]
        );
        assert_eq!(changes[2].key.subject, "/dev/ttyACM0");
        assert_eq!(board.active.len(), 1);
    }

    #[test]
    fn a_scanner_taken_out_of_the_configuration_is_resolved_saying_so() {
        let mut gone = fine(0);
        gone.scanners[0].connected = false;
        let mut later = gone.clone();
        later.at = at(600);
        let mut removed = fine(660);
        removed.scanners.clear();
        let (_, changes) = run(&[gone, later, removed]);
        assert_eq!(
            changes[1].message,
            "scanner /dev/ttyACM0 is no longer configured"
        );
    }

    #[test]
    fn a_halted_sync_is_raised_with_its_reason() {
        let c = raised_once_resolved_once(Kind::SyncHalted, |s| {
            s.sync.as_mut().unwrap().stopped =
                Some("head office refused this site's history".into());
        });
        assert!(c[0].message.contains("refused this site's history"));
        assert_eq!(c[1].message, "sync to head office runs again");
    }

    #[test]
    fn a_backlog_is_raised_once_its_oldest_movement_passes_the_limit() {
        let behind = |t: i64, backlog: u64| {
            let mut s = fine(t);
            let sync = s.sync.as_mut().unwrap();
            sync.oldest_unacked = Some(at(0));
            sync.backlog = backlog;
            s
        };
        let (_, changes) = run(&[
            behind(60, 3),
            behind(4 * 3600 - 1, 40),
            behind(4 * 3600, 41),
            behind(5 * 3600, 90),
            fine(5 * 3600 + 60),
        ]);
        assert_eq!(
            names(&changes),
            [
                "sync_backlog_old Raised @14400",
                "sync_backlog_old Resolved @18060"
            ]
        );
        assert!(
            changes[0].message.contains("for 4 h: 41 wait"),
            "{}",
            changes[0].message
        );
        assert_eq!(
            changes[1].message,
            "head office has every movement of this site again"
        );
    }

    #[test]
    fn a_certificate_is_expiring_within_its_days_and_an_expired_one_too() {
        let c = raised_once_resolved_once(Kind::CertificateExpiring, |s| {
            s.certificate.as_mut().unwrap().not_after = s.at + chrono::Duration::days(20);
        });
        assert!(
            c[0].message.contains("(in 20 days): renew it"),
            "{}",
            c[0].message
        );
        let c = raised_once_resolved_once(Kind::CertificateExpiring, |s| {
            s.certificate.as_mut().unwrap().not_after = at(-10);
        });
        assert!(c[0].message.contains("expired on"), "{}", c[0].message);
        // 40 days left: fine with 30 days, expiring with 60.
        let mut s = fine(0);
        s.certificate.as_mut().unwrap().not_after = at(40 * 86_400);
        assert!(evaluate(&Board::default(), &s, &limits()).1.is_empty());
        let sixty = Limits {
            certificate_days: 60,
            ..limits()
        };
        assert_eq!(evaluate(&Board::default(), &s, &sixty).1.len(), 1);
    }

    #[test]
    fn head_office_s_certificate_ending_soon_is_raised_until_it_is_renewed() {
        let c = raised_once_resolved_once(Kind::HqCertificateExpiring, |s| {
            s.hq_certificate = Some(s.at + chrono::Duration::days(12));
        });
        assert!(
            c[0].message
                .contains("(in 12 days): renew it at head office")
                && c[0].message.contains("every site stops syncing"),
            "{}",
            c[0].message
        );
        assert!(c[1].message.contains("valid until"), "{}", c[1].message);
    }

    #[test]
    fn a_failed_verify_is_raised_until_a_later_one_passes() {
        let c = raised_once_resolved_once(Kind::VerifyFailed, |s| {
            s.verify = Some(VerifySeen {
                at: at(30),
                ok: false,
                summary: "1 problem: chain broken at seq 7".into(),
            });
        });
        assert!(
            c[0].message.contains("chain broken at seq 7")
                && c[0].message.contains("restore from a backup")
        );
        assert!(
            c[1].message.contains("found the store intact"),
            "{}",
            c[1].message
        );
    }

    #[test]
    fn a_flapping_condition_is_announced_at_each_change_and_never_twice_in_a_row() {
        let low = |t: i64| {
            let mut s = fine(t);
            s.disk.as_mut().unwrap().1.free = 100 << 20;
            s
        };
        let (_, changes) = run(&[
            low(0),
            fine(60),
            low(120),
            low(180),
            fine(240),
            fine(300),
            low(360),
        ]);
        assert_eq!(
            names(&changes),
            [
                "disk_low Raised @0",
                "disk_low Resolved @60",
                "disk_low Raised @120",
                "disk_low Resolved @240",
                "disk_low Raised @360"
            ]
        );
        for pair in changes.windows(2) {
            assert_ne!(pair[0].change, pair[1].change);
        }
    }

    #[test]
    fn a_lasting_alert_keeps_its_start_and_shows_its_latest_message() {
        let low = |t: i64, mib: u64| {
            let mut s = fine(t);
            s.disk.as_mut().unwrap().1.free = mib << 20;
            s
        };
        let (board, changes) = run(&[low(0, 900), low(60, 800)]);
        assert_eq!(changes.len(), 1);
        let active = board.active.values().next().unwrap();
        assert_eq!(active.since, at(0));
        assert!(active.message.contains("800 MiB"), "{}", active.message);
    }

    #[test]
    fn a_board_kept_across_a_restart_resolves_what_ended_meanwhile_and_raises_nothing_again() {
        let mut bad = fine(0);
        bad.disk.as_mut().unwrap().1.free = 100 << 20;
        bad.store_failure = Some("disk full".into());
        let (board, _) = run(&[bad.clone()]);
        let kept: Board = serde_json::from_str(&serde_json::to_string(&board).unwrap()).unwrap();
        let mut after = fine(600);
        after.disk = bad.disk.clone();
        let (next, changes) = evaluate(&kept, &after, &limits());
        assert_eq!(names(&changes), ["store_failing Resolved @600"]);
        assert_eq!(next.active.len(), 1);
    }

    #[test]
    fn nothing_known_raises_nothing() {
        let s = Snapshot {
            at: at(0),
            disk: None,
            store_failure: None,
            scanners: vec![],
            sync: None,
            certificate: None,
            hq_certificate: None,
            verify: None,
            backup: None,
            memory: None,
        };
        assert!(evaluate(&Board::default(), &s, &limits()).1.is_empty());
    }

    #[test]
    fn a_failed_backup_is_raised_with_its_error_and_resolved_when_one_succeeds() {
        let c = raised_once_resolved_once(Kind::BackupFailed, |s| {
            s.backup.as_mut().unwrap().last =
                Some(backup_at(s.at.timestamp() - 1_800_000_000, false));
        });
        assert!(
            c[0].message.contains("failed: No space left on device")
                && c[0]
                    .message
                    .contains("make /var/backups/scantrail writable"),
            "{}",
            c[0].message
        );
        assert!(c[1].message.contains("succeeded"), "{}", c[1].message);
    }

    #[test]
    fn a_backup_older_than_twice_every_is_raised_as_stopped() {
        let with_last = |t: i64, last: i64| {
            let mut s = fine(t);
            s.backup.as_mut().unwrap().last = Some(backup_at(last, true));
            s
        };
        // Daily backups: 47 h old is late but not stopped; 49 h is stopped.
        let (board, changes) = run(&[with_last(0, -47 * 3600), with_last(7200, -47 * 3600)]);
        assert_eq!(names(&changes), ["backup_failed Raised @7200"]);
        assert!(
            changes[0]
                .message
                .contains("49 h old, more than twice `every` (24 h)"),
            "{}",
            changes[0].message
        );
        // The next backup resolves it.
        let (_, changes) = evaluate(&board, &with_last(7260, 7230), &limits());
        assert_eq!(names(&changes), ["backup_failed Resolved @7260"]);
    }

    #[test]
    fn no_backup_yet_or_none_scheduled_raises_nothing_and_unscheduling_resolves() {
        let mut none_yet = fine(0);
        none_yet.backup.as_mut().unwrap().last = None;
        assert!(evaluate(&Board::default(), &none_yet, &limits())
            .1
            .is_empty());
        let mut failed = fine(60);
        failed.backup.as_mut().unwrap().last = Some(backup_at(30, false));
        let mut unscheduled = fine(120);
        unscheduled.backup = None;
        let (_, changes) = run(&[failed, unscheduled]);
        assert_eq!(
            names(&changes),
            ["backup_failed Raised @60", "backup_failed Resolved @120"]
        );
        assert!(changes[1].message.contains("no longer scheduled"));
    }
}
