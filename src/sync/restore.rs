//! The site's side of replacing a dead site PC: its logs fetched back from
//! head office's copy (`GET /api/v1/history/{site}/{log}`, with the site's
//! own `[sync]` credential), page by page, into a store being restored
//! (`store::restore::Restoring`), which checks every entry as head office's
//! ingest does. Both logs (movements and rejected scans) end at head
//! office's acknowledgement, which becomes the site's outbox position, so
//! sync goes on from there and the next scan gets the next seq.
//!
//! Starting from a backup, only what is past the backup is fetched, plus
//! the backup's last entry (or head office's last, if the backup goes
//! further): held identical on both sides, it proves the backup's chain is
//! head office's (every entry before it is covered by its hash); held with
//! another hash, the restore is refused.

use std::path::Path;
use std::time::Duration;

use crate::config::Sync as SyncConfig;
use crate::model::Log;
use crate::store::envelope::Head;
use crate::store::ingest::Refusal;
use crate::store::restore::Restoring;
use crate::store::{Store, StoreError};
use crate::sync::protocol::{self, path, History, HistoryError, Problem};

/// Why a restore stopped; nothing was moved into the data directory.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// The `[sync] ca` file cannot be used.
    #[error(transparent)]
    Ca(#[from] super::tls::CaError),
    /// Head office cannot be reached.
    #[error("cannot reach head office at {url}: {cause}")]
    Unreachable {
        /// `[sync] url`.
        url: String,
        /// What the connection found.
        cause: String,
    },
    /// Head office refused the request (a wrong credential, another site's
    /// history, a server error).
    #[error("head office answered HTTP {status}: {detail}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// Head office's words.
        detail: String,
    },
    /// Head office's page cannot be read.
    #[error(transparent)]
    Page(#[from] HistoryError),
    /// Head office sent a page of another site.
    #[error("head office sent site {found}'s history, not {expected}'s")]
    OtherSite {
        /// The site asked for.
        expected: String,
        /// The site the page names.
        found: String,
    },
    /// The backup's chain and head office's differ at `seq`.
    #[error("the backup's {} differ from head office's at seq {seq}: its history is not the one head office holds; restore with `--from-hq` into an empty directory instead", .log.name())]
    Disagrees {
        /// Which log.
        log: Log,
        /// The seq held with two contents.
        seq: u64,
    },
    /// Head office's entries do not form this site's chain.
    #[error("head office's copy of the {} cannot be taken: {refusal}", .log.name())]
    NotAChain {
        /// Which log.
        log: Log,
        /// What the check found.
        refusal: Refusal,
    },
    /// After the restore the chain does not end where head office's does.
    #[error("after the restore the {} end at seq {local} but head office's at seq {remote}", .log.name())]
    Short {
        /// Which log.
        log: Log,
        /// Where the restored store's log ends.
        local: u64,
        /// Where head office's ends.
        remote: u64,
    },
    /// Head office holds nothing of the site: nothing to restore.
    #[error("head office holds no movements and no rejected scans of site {site}: nothing to restore (a new site starts with `scantrail run`; check `[site] id` and `[sync]`)")]
    NothingHeld {
        /// The site asked for.
        site: String,
    },
    /// The restored store fails `verify`.
    #[error("the restored store fails verification: {0}")]
    Verify(String),
    /// The store being restored failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One log after the restore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRestored {
    /// Which log.
    pub log: Log,
    /// Where the backup's log ended (0 without a backup).
    pub from_backup: u64,
    /// Entries fetched from head office and written.
    pub fetched: u64,
    /// Head office's acknowledgement: where its copy ends.
    pub acknowledged: Head,
    /// Where the restored log ends (past `acknowledged` only when a backup
    /// holds entries head office never got: they are sent at the next
    /// sync).
    pub head: Head,
}

/// What a restore did.
pub struct Restored {
    /// The restored store, in place in the data directory.
    pub store: Store,
    /// Movements, then rejected scans.
    pub logs: Vec<LogRestored>,
    /// History rule breaks the restored journal holds (as head office's
    /// copy does): the record is intact, they are to be explained.
    pub violations: usize,
}

/// Head office, as the site's `[sync]` names it and with its credential.
pub struct HeadOffice {
    agent: ureq::Agent,
    url: String,
    credential: Option<String>,
}

/// The most times a page is asked for again after 429 or 503.
const RETRIES: u32 = 10;

impl HeadOffice {
    /// Head office of the site's `[sync]` section.
    pub fn new(sync: &SyncConfig) -> Result<HeadOffice, RestoreError> {
        Ok(HeadOffice {
            agent: super::tls::agent(sync.ca.as_deref(), Duration::from_secs(60))?,
            url: sync.url.trim_end_matches('/').to_owned(),
            credential: sync.credential.clone(),
        })
    }

    /// Head office's base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// One page of `site`'s `log` from seq `from` (head office's page size).
    pub fn page(&self, site: &str, log: Log, from: u64) -> Result<History, RestoreError> {
        let url = format!(
            "{}{}/{site}/{}?from={from}",
            self.url,
            path::HISTORY,
            protocol::log_segment(log)
        );
        let mut attempt = 0;
        loop {
            let mut request = self.agent.get(&url);
            if let Some(t) = &self.credential {
                request = request.set("Authorization", &format!("Bearer {t}"));
            }
            match request.call() {
                Ok(r) => {
                    let mut body = Vec::new();
                    std::io::Read::read_to_end(&mut r.into_reader(), &mut body).map_err(|e| {
                        RestoreError::Unreachable {
                            url: self.url.clone(),
                            cause: e.to_string(),
                        }
                    })?;
                    let page = History::decode(&body)?;
                    if page.site != site {
                        return Err(RestoreError::OtherSite {
                            expected: site.to_owned(),
                            found: page.site,
                        });
                    }
                    return Ok(page);
                }
                Err(ureq::Error::Status(status, r)) => {
                    let wait = r
                        .header("Retry-After")
                        .and_then(|v| v.trim().parse::<u64>().ok());
                    let text = r.into_string().unwrap_or_default();
                    match wait {
                        Some(s) if matches!(status, 429 | 503) && attempt < RETRIES => {
                            attempt += 1;
                            tracing::info!(
                                status,
                                wait_s = s,
                                "head office asks to wait; asking again"
                            );
                            std::thread::sleep(Duration::from_secs(s.min(30)));
                        }
                        _ => {
                            let detail = serde_json::from_str::<Problem>(&text)
                                .map(|p| p.error)
                                .unwrap_or_else(|_| text.chars().take(200).collect());
                            return Err(RestoreError::Refused { status, detail });
                        }
                    }
                }
                Err(ureq::Error::Transport(t)) => {
                    return Err(RestoreError::Unreachable {
                        url: self.url.clone(),
                        cause: t.to_string(),
                    })
                }
            }
        }
    }
}

/// Rebuilds the store of `site` in `dest` (missing or empty) from head
/// office's copy, starting from `backup` if given, checks it, and moves it
/// into place. On any error nothing is left in `dest`.
pub fn restore(
    dest: &Path,
    site: &str,
    backup: Option<&Path>,
    hq: &HeadOffice,
) -> Result<Restored, RestoreError> {
    // A data directory that holds a store is refused first, whatever head
    // office says; then head office is reached before anything is written
    // (an empty page, past every seq): a wrong credential or an unreachable
    // server leaves no trace.
    crate::store::restore::check_destination(dest)?;
    hq.page(site, Log::Movements, u64::MAX)?;
    let restoring = Restoring::begin(dest, site, backup)?;
    let mut logs = Vec::new();
    for log in [Log::Movements, Log::Rejections] {
        logs.push(catch_up(&restoring, hq, site, log)?);
    }
    if backup.is_none() && logs.iter().all(|l| l.head.seq == 0) {
        return Err(RestoreError::NothingHeld {
            site: site.to_owned(),
        });
    }
    let report = restoring.verify()?;
    if !report.is_ok() {
        return Err(RestoreError::Verify(
            report
                .problems
                .first()
                .map(ToString::to_string)
                .unwrap_or_else(|| format!("{} problems", report.problem_count)),
        ));
    }
    let violations = report.violation_count;
    let store = restoring.finish()?;
    Ok(Restored {
        store,
        logs,
        violations,
    })
}

/// Brings one log of the store being restored up to head office's copy
/// and sets the outbox position to head office's acknowledgement.
fn catch_up(
    restoring: &Restoring,
    hq: &HeadOffice,
    site: &str,
    log: Log,
) -> Result<LogRestored, RestoreError> {
    let local = restoring.head(log)?;
    // The backup's last entry is asked for again: held identical, it shows
    // the chains agree.
    let mut page = hq.page(site, log, local.seq.max(1))?;
    let remote = Head {
        seq: page.head_seq,
        hash: page.head_hash,
    };
    if local.seq > remote.seq && remote.seq > 0 {
        // The backup goes further than head office: compare at head
        // office's last entry instead.
        page = hq.page(site, log, remote.seq)?;
    }
    let mut fetched = 0;
    while let Some((_, last)) = page.entries.span() {
        // Head office reads the next page while this one is written (as
        // the uploader prepares its next batch while one is in flight).
        let more = last < remote.seq;
        let (taken, next) = std::thread::scope(|scope| {
            let next = more.then(|| scope.spawn(|| hq.page(site, log, last + 1)));
            let taken = restoring.take(page.entries);
            (taken, next.map(|h| h.join()))
        });
        match taken? {
            Ok(t) => fetched += t.new as u64,
            Err(Refusal::Conflict { seq, .. }) => return Err(RestoreError::Disagrees { log, seq }),
            Err(refusal) => return Err(RestoreError::NotAChain { log, refusal }),
        }
        page = match next {
            None => break,
            Some(Ok(next)) => next?,
            Some(Err(_)) => {
                return Err(RestoreError::Unreachable {
                    url: hq.url.clone(),
                    cause: "the thread reading the next page failed".into(),
                })
            }
        };
    }
    let head = restoring.head(log)?;
    if head.seq < remote.seq || (head.seq == remote.seq && head.hash != remote.hash) {
        return Err(RestoreError::Short {
            log,
            local: head.seq,
            remote: remote.seq,
        });
    }
    restoring.set_acknowledged(log, remote)?;
    tracing::info!(
        site,
        log = log.name(),
        acknowledged = remote.seq,
        head = head.seq,
        fetched,
        "log restored from head office"
    );
    Ok(LogRestored {
        log,
        from_backup: local.seq,
        fetched,
        acknowledged: remote,
        head,
    })
}
