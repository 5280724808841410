//! The thin layer that looks: where the running daemon already knows each
//! fact the alerts judge — the data directory's disk, the store's own
//! failure, each scanner source's counters, the sync link's status and the
//! outbox, the served certificate read at start, head office's health,
//! the console's last verify, the last scheduled backup, the process's memory — gathered into a [`Snapshot`]. It judges
//! nothing.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::watch::{BackupSeen, ScannerSeen, Snapshot, SyncSeen, VerifySeen};
use crate::store::Store;
use crate::sync::link::{State as LinkState, Status};
use crate::web::tls::Certificate;

/// Where the facts are.
#[derive(Clone)]
pub struct Sources {
    /// The site's store.
    pub store: Arc<Store>,
    /// Its data directory, whose disk is watched.
    pub data_dir: PathBuf,
    /// The scanners running now: those a reload (SIGHUP) adds appear,
    /// those it removes are gone (their raised alert resolves).
    pub scanners: crate::site::scanners::Shown,
    /// The sync link's status; `None` without `[sync]`.
    pub sync: Option<Arc<Mutex<Status>>>,
    /// The served certificate, as read at start; `None` without HTTPS.
    pub certificate: Option<Certificate>,
    /// The scheduled backups' schedule and last outcome.
    pub backups: crate::site::backups::Status,
    /// Head office's certificate end, from its health; `None` without
    /// `[sync]`.
    pub hq: Option<Arc<HqCertificate>>,
    /// `[store] memory_mb`, in bytes.
    pub memory_bound: u64,
}

/// How long head office's certificate end is taken as read.
const HQ_CERTIFICATE_REREAD: Duration = Duration::from_secs(3600);

/// Head office's certificate end, read from its health at most once an
/// hour: it changes only when head office renews its certificate, weeks
/// inside the alert's limit, and a head office out of reach would cost a
/// connect timeout at every sample. The last end read stays known while
/// head office cannot be reached.
pub struct HqCertificate {
    agent: ureq::Agent,
    url: String,
    last: Mutex<Option<(Instant, Option<DateTime<Utc>>)>>,
}

impl HqCertificate {
    /// Reads head office at `url` (its base URL) through `agent`, which
    /// trusts it.
    pub fn new(agent: ureq::Agent, url: String) -> HqCertificate {
        HqCertificate {
            agent,
            url,
            last: Mutex::new(None),
        }
    }

    fn not_after(&self) -> Option<DateTime<Utc>> {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, seen)) = *last {
            if at.elapsed() < HQ_CERTIFICATE_REREAD {
                return seen;
            }
        }
        let read = crate::sync::hq_health::read(&self.agent, &self.url).and_then(|c| c.not_after);
        let seen = read.or(last.and_then(|(_, seen)| seen));
        *last = Some((Instant::now(), seen));
        seen
    }
}

impl Sources {
    /// What is true now. Reads the store: call it off the async threads.
    pub fn snapshot(&self, at: DateTime<Utc>) -> Snapshot {
        Snapshot {
            at,
            disk: crate::disk::space(&self.data_dir)
                .ok()
                .map(|space| (self.data_dir.clone(), space)),
            store_failure: self.store.failure().map(|e| e.plain().1.to_owned()),
            scanners: self
                .scanners
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .map(|s| ScannerSeen {
                    port: s.port.clone(),
                    station: s.station.clone(),
                    connected: s.connected(),
                })
                .collect(),
            sync: self.sync.as_ref().map(|status| self.sync_seen(status)),
            certificate: self.certificate.clone(),
            hq_certificate: self.hq.as_ref().and_then(|hq| hq.not_after()),
            verify: crate::site::last_verify::last_verify(&self.store)
                .ok()
                .flatten()
                .map(|run| VerifySeen {
                    at: run.at,
                    ok: run.ok,
                    summary: run.summary,
                }),
            backup: self.backups.schedule().map(|schedule| BackupSeen {
                dir: schedule.dir.clone(),
                every: schedule.every,
                last: self.backups.last(),
            }),
            memory: crate::memory::resident_bytes().map(|r| (r, self.memory_bound)),
        }
    }

    fn sync_seen(&self, status: &Mutex<Status>) -> SyncSeen {
        // The outbox as the store holds it now, as `GET /api/v1/sync` shows it.
        let now = Status::now(status, &self.store);
        let mut stopped = match now.link {
            LinkState::Halted { reason } => Some(format!("halted: {reason}")),
            LinkState::CredentialRefused { error } => Some(format!(
                "head office refused this site's credential ({error}): fix `[sync] credential`"
            )),
            _ => None,
        };
        // A halt kept in the store from before a restart stops the link
        // before it reports anything.
        if stopped.is_none() {
            if let Ok(Some(halt)) = self.store.outbox().halt() {
                stopped = Some(format!("halted: {}", halt.reason));
            }
        }
        let oldest_unacked = if now.backlog > 0 {
            self.store
                .journal()
                .movement(self.store.site(), now.acked_seq + 1)
                .ok()
                .flatten()
                .map(|m| m.body.device_time)
        } else {
            None
        };
        SyncSeen {
            stopped,
            oldest_unacked,
            backlog: now.backlog,
        }
    }
}
