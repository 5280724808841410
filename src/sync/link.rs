//! The site's link to head office: one thread that, in a loop, first pulls
//! reference deltas (so a recall issued while the site was offline is
//! applied before anything else when it reconnects, and every ~2 s while
//! online), then uploads the journal and the rejected-scan log from head
//! office's acknowledged watermark, one batch in flight, in seq order.
//!
//! The watermark moves only from head office's answer (the highest
//! contiguous seq it holds and that entry's hash, checked against the local
//! chain). After any failure the next batch starts again at watermark+1:
//! head office absorbs what it already holds. Blocking HTTP (ureq, rustls)
//! on a thread of its own keeps the retry logic plain sequential code.

use std::io::Read as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::backoff::Backoff;
use super::protocol::{
    path, reference_segment, Ack, Batch, Delta, Entries, Limits, Problem, ReferenceVersions,
    POSTCARD, PROTOCOL_VERSION,
};
use crate::station::records;
use crate::station::reference::{Hold, Owner, PickList, Product};
use crate::store::chain::Hash;
use crate::store::ingest::Log;
use crate::store::reference::Reference;
use crate::store::sync_state::Halt;
use crate::store::{OutboxPosition, Store};

/// The link's settings, from `[sync]`.
#[derive(Debug, Clone)]
pub struct Settings {
    pub url: String,
    pub credential: Option<String>,
    pub batch_max: usize,
    pub batch_bytes: usize,
    pub ca: Option<std::path::PathBuf>,
    pub interval: Duration,
    pub reference_poll: Duration,
    pub backoff_max: Duration,
    /// Per request.
    pub timeout: Duration,
}

impl Settings {
    pub fn from_config(s: &crate::config::Sync) -> Settings {
        Settings {
            url: s.url.trim_end_matches('/').to_owned(),
            credential: s.credential.clone(),
            batch_max: s.batch_max.unwrap_or(2_000).max(1),
            batch_bytes: s.batch_bytes.unwrap_or(4 << 20).max(4096),
            ca: s.ca.clone(),
            interval: Duration::from_millis(s.interval_ms.unwrap_or(500)),
            reference_poll: Duration::from_millis(s.reference_poll_ms.unwrap_or(2_000)),
            backoff_max: Duration::from_millis(s.backoff_max_ms.unwrap_or(30_000)),
            timeout: Duration::from_secs(30),
        }
    }
}

/// Where the link stands, for `scantrail status` and the site API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum State {
    Starting,
    Online,
    Offline {
        since: DateTime<Utc>,
        error: String,
    },
    /// Head office refused the credential (401/403): fix `[sync] credential`.
    CredentialRefused {
        error: String,
    },
    /// Stopped until an operator acts (`scantrail sync resume`).
    Halted {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub link: State,
    pub url: String,
    pub backlog: u64,
    pub rejected_backlog: u64,
    pub acked_seq: u64,
    pub acked_hash: Option<Hash>,
    pub last_ack_at: Option<DateTime<Utc>>,
    pub reference: ReferenceVersions,
    /// Head office's flags on the last batches (skew, stale recall list).
    pub flags: Vec<String>,
}

/// The running link: its status, and a switch to stop it.
pub struct Handle {
    pub status: Arc<Mutex<Status>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Handle {
    pub fn status(&self) -> Status {
        self.status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Stops the link after its current request.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// What went wrong with one request, and what to do about it.
#[derive(Debug, thiserror::Error)]
enum Failure {
    /// Network error, 5xx, 429: retry after a backoff.
    #[error("{message}")]
    Retry {
        message: String,
        retry_after: Option<Duration>,
    },
    #[error("head office says the batch is too large")]
    TooLarge,
    #[error("head office expects seq {expected} next")]
    Rewind { expected: u64 },
    #[error("{0}")]
    Credential(String),
    /// Stop until an operator acts.
    #[error("{0}")]
    Halt(String),
    #[error("the local store failed: {0}")]
    Store(#[from] crate::store::StoreError),
}

/// Starts the link thread.
pub fn start(store: Arc<Store>, settings: Settings) -> anyhow::Result<Handle> {
    let agent = super::tls::agent(settings.ca.as_deref(), settings.timeout)?;
    let status = Arc::new(Mutex::new(Status {
        link: State::Starting,
        url: settings.url.clone(),
        backlog: 0,
        rejected_backlog: 0,
        acked_seq: 0,
        acked_hash: None,
        last_ack_at: None,
        reference: ReferenceVersions::default(),
        flags: Vec::new(),
    }));
    let stop = Arc::new(AtomicBool::new(false));
    let mut link = Link {
        backoff: Backoff::new(Duration::from_millis(200), settings.backoff_max),
        batch_limit: settings.batch_max,
        successes: 0,
        server_batch_max: None,
        cursor: [None, None],
        prefetched: None,
        store,
        agent,
        settings,
        status: status.clone(),
        stop: stop.clone(),
        next_reference: Instant::now(),
    };
    let thread = std::thread::Builder::new()
        .name("sync-link".into())
        .spawn(move || link.run())?;
    Ok(Handle {
        status,
        stop,
        thread: Some(thread),
    })
}

struct Link {
    store: Arc<Store>,
    agent: ureq::Agent,
    settings: Settings,
    status: Arc<Mutex<Status>>,
    stop: Arc<AtomicBool>,
    backoff: Backoff,
    /// Entries per batch now (halved on 413).
    batch_limit: usize,
    successes: u32,
    server_batch_max: Option<usize>,
    /// Next seq to send per log (movements, rejections); None: watermark+1.
    cursor: [Option<u64>; 2],
    /// The next batch, read while the previous one was in flight.
    prefetched: Option<Prepared>,
    next_reference: Instant,
}

fn log_index(log: Log) -> usize {
    match log {
        Log::Movements => 0,
        Log::Rejections => 1,
    }
}

impl Link {
    fn set_state(&self, state: State) {
        let mut s = self.status.lock().unwrap_or_else(|p| p.into_inner());
        if std::mem::discriminant(&s.link) != std::mem::discriminant(&state) {
            match &state {
                State::Online => {
                    tracing::info!(url = %self.settings.url, backlog = s.backlog, rejected_backlog = s.rejected_backlog, "link to head office is up")
                }
                State::Offline { since, error } => {
                    tracing::warn!(url = %self.settings.url, %since, backlog = s.backlog, %error, "link to head office is down; scans go on and are sent when it is back")
                }
                State::CredentialRefused { error } => {
                    tracing::error!(url = %self.settings.url, %error, "head office refused this site's credential: fix `[sync] credential` (and head office's `[[sites]]` entry), then restart")
                }
                State::Halted { reason } => {
                    tracing::error!(url = %self.settings.url, %reason, "sync halted until an operator acts (`scantrail sync resume` once resolved)")
                }
                State::Starting => {}
            }
            s.link = state;
        } else if let (State::Offline { since, .. }, State::Offline { error, .. }) =
            (&s.link, &state)
        {
            // Same state, keep its start; refresh the reason quietly.
            s.link = State::Offline {
                since: *since,
                error: error.clone(),
            };
        }
    }

    fn sleep(&self, d: Duration) {
        let until = Instant::now() + d;
        while !self.stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            if now >= until {
                break;
            }
            std::thread::sleep((until - now).min(Duration::from_millis(100)));
        }
    }

    fn run(&mut self) {
        while !self.stop.load(Ordering::Relaxed) {
            match self.store.sync_halt() {
                Ok(Some(h)) => {
                    self.set_state(State::Halted { reason: h.reason });
                    self.refresh_backlog();
                    self.sleep(Duration::from_secs(1));
                    continue;
                }
                Ok(None) => {
                    if matches!(self.status().link, State::Halted { .. }) {
                        tracing::info!(
                            "sync halt lifted; resuming from the acknowledged watermark"
                        );
                        self.cursor = [None, None];
                        self.set_state(State::Starting);
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the sync state");
                    self.sleep(Duration::from_secs(1));
                    continue;
                }
            }
            match self.round() {
                Ok(busy) => {
                    self.backoff.reset();
                    self.set_state(State::Online);
                    if !busy {
                        let until_reference = self
                            .next_reference
                            .saturating_duration_since(Instant::now());
                        self.sleep(self.settings.interval.min(until_reference));
                    }
                }
                Err(f) => self.failed(f),
            }
        }
    }

    fn status(&self) -> Status {
        self.status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn failed(&mut self, f: Failure) {
        // No reset of the reference poll here: after an outage longer than
        // the poll interval the poll is overdue, so the first round after
        // reconnecting pulls reference data before it uploads anything;
        // forcing it after every blip would only add requests that can
        // fail in turn.
        match f {
            Failure::Retry {
                message,
                retry_after,
            } => {
                let since = match self.status().link {
                    State::Offline { since, .. } => since,
                    _ => Utc::now(),
                };
                self.refresh_backlog();
                self.set_state(State::Offline {
                    since,
                    error: message,
                });
                // Resend from the watermark.
                self.cursor = [None, None];
                let wait = self.backoff.next(retry_after);
                tracing::debug!(
                    wait_ms = wait.as_millis() as u64,
                    attempt = self.backoff.attempts(),
                    "retrying"
                );
                self.sleep(wait);
            }
            Failure::TooLarge if self.batch_limit == 1 => {
                self.failed(Failure::Halt(
                    "head office refuses even a single movement as too large: raise its `body_max_bytes`".into(),
                ));
            }
            Failure::TooLarge => {
                // Head office may have restarted with other limits.
                self.server_batch_max = None;
                self.batch_limit = (self.batch_limit / 2).max(1);
                tracing::warn!(
                    batch_limit = self.batch_limit,
                    "head office found the batch too large; halving it"
                );
            }
            Failure::Rewind { expected } => {
                tracing::warn!(expected, "head office expects an earlier seq; rewinding");
                // Which log was rewound is set by the caller in `cursor`.
                let _ = expected;
            }
            Failure::Credential(error) => {
                self.set_state(State::CredentialRefused { error });
                self.sleep(Duration::from_secs(300));
            }
            Failure::Halt(reason) => {
                let halt = Halt {
                    at: Utc::now(),
                    reason: reason.clone(),
                };
                if let Err(e) = self.store.set_sync_halt(Some(halt)) {
                    tracing::error!(error = %e, "cannot record the sync halt");
                }
                self.set_state(State::Halted { reason });
            }
            Failure::Store(e) => {
                tracing::error!(error = %e, "sync cannot read the local store");
                self.sleep(Duration::from_secs(5));
            }
        }
    }

    fn refresh_backlog(&self) {
        let site = self.store.site().to_owned();
        let head = self.store.head(&site).map(|h| h.seq).unwrap_or(0);
        let rhead = self
            .store
            .log_head(&site, Log::Rejections)
            .map(|h| h.seq)
            .unwrap_or(0);
        let acked = self.store.outbox_position().ok().flatten();
        let racked = self.store.rejected_outbox_position().ok().flatten();
        let reference = self.reference_versions();
        let mut s = self.status.lock().unwrap_or_else(|p| p.into_inner());
        s.backlog = head.saturating_sub(acked.as_ref().map_or(0, |a| a.acked_seq));
        s.rejected_backlog = rhead.saturating_sub(racked.map_or(0, |a| a.acked_seq));
        s.acked_seq = acked.as_ref().map_or(0, |a| a.acked_seq);
        s.acked_hash = acked.map(|a| a.acked_hash);
        s.reference = reference;
    }

    fn reference_versions(&self) -> ReferenceVersions {
        let v = |r| self.store.reference_watermark(r).unwrap_or(0);
        ReferenceVersions {
            products: v(Reference::Products),
            holds: v(Reference::Holds),
            picklists: v(Reference::PickLists),
        }
    }

    /// One round: reference data if due, then a batch of each log. Returns
    /// whether there is more to send right away.
    fn round(&mut self) -> Result<bool, Failure> {
        if self.server_batch_max.is_none() {
            let limits: Limits = self.get_json(path::LIMITS)?;
            // A newer head office reads this site's batches too.
            if limits.protocol < PROTOCOL_VERSION {
                return Err(Failure::Halt(format!(
                    "head office speaks sync protocol {}, this site {PROTOCOL_VERSION}: upgrade head office's scantrail first",
                    limits.protocol
                )));
            }
            self.server_batch_max = Some(limits.batch_max);
            self.settings.batch_bytes = self
                .settings
                .batch_bytes
                .min(limits.body_max_bytes.saturating_sub(1024).max(1024));
        }
        if Instant::now() >= self.next_reference {
            self.pull_reference()?;
            self.next_reference = Instant::now() + self.settings.reference_poll;
        }
        let full_m = self.upload(Log::Movements)?;
        let full_r = self.upload(Log::Rejections)?;
        self.refresh_backlog();
        Ok(full_m || full_r)
    }

    fn pull_reference(&mut self) -> Result<(), Failure> {
        // Holds first: a recall matters more than a product's description.
        for r in [Reference::Holds, Reference::Products, Reference::PickLists] {
            let since = self.store.reference_watermark(r)?;
            let url = format!(
                "{}{}/{}",
                self.settings.url,
                path::REFERENCE,
                reference_segment(r)
            );
            let response = self.call(
                self.request("GET", &url).query("since", &since.to_string()),
                None,
            )?;
            let mut bytes = Vec::new();
            response
                .into_reader()
                .take(64 << 20)
                .read_to_end(&mut bytes)
                .map_err(|e| Failure::Retry {
                    message: format!("reading a reference delta: {e}"),
                    retry_after: None,
                })?;
            let delta = Delta::decode(&bytes).map_err(|e| Failure::Retry {
                message: e,
                retry_after: None,
            })?;
            if delta.version <= since {
                continue;
            }
            if let Err(e) = check_records(r, &delta) {
                // Not applied: the site keeps its last good reference data.
                return Err(Failure::Halt(format!(
                    "head office sent {} data this site cannot use: {e}",
                    reference_segment(r)
                )));
            }
            let n = delta.upserts.len() + delta.removals.len();
            if self
                .store
                .reference_apply(r, delta.version, delta.upserts, delta.removals)?
            {
                tracing::info!(
                    kind = reference_segment(r),
                    version = delta.version,
                    records = n,
                    "head-office reference data applied"
                );
            }
        }
        Ok(())
    }

    fn request(&self, method: &str, url: &str) -> ureq::Request {
        let r = self.agent.request(method, url);
        match &self.settings.credential {
            Some(t) => r.set("Authorization", &format!("Bearer {t}")),
            None => r,
        }
    }

    fn get_json<T: serde::de::DeserializeOwned>(&self, p: &str) -> Result<T, Failure> {
        let url = format!("{}{p}", self.settings.url);
        let response = self.call(self.request("GET", &url), None)?;
        response.into_json().map_err(|e| Failure::Retry {
            message: format!("head office's answer to {p} cannot be read: {e}"),
            retry_after: None,
        })
    }

    /// Sends a request and sorts its failures.
    fn call(&self, request: ureq::Request, body: Option<&[u8]>) -> Result<ureq::Response, Failure> {
        let result = match body {
            Some(b) => request.set("Content-Type", POSTCARD).send_bytes(b),
            None => request.call(),
        };
        match result {
            Ok(r) => Ok(r),
            Err(ureq::Error::Transport(t)) => Err(Failure::Retry {
                message: format!("cannot reach head office: {t}"),
                retry_after: None,
            }),
            Err(ureq::Error::Status(code, response)) => {
                let retry_after = response
                    .header("Retry-After")
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                let text = response.into_string().unwrap_or_default();
                let problem: Option<Problem> = serde_json::from_str(&text).ok();
                let message = problem
                    .as_ref()
                    .map(|p| p.error.clone())
                    .unwrap_or_else(|| text.chars().take(200).collect());
                Err(match code {
                    401 | 403 => Failure::Credential(format!("HTTP {code}: {message}")),
                    409 => match problem.and_then(|p| p.expected_seq) {
                        Some(expected) => Failure::Rewind { expected },
                        None => {
                            Failure::Halt(format!("HTTP 409 without an expected seq: {message}"))
                        }
                    },
                    413 => Failure::TooLarge,
                    408 | 429 | 500..=599 => Failure::Retry {
                        message: format!("head office answered HTTP {code}: {message}"),
                        retry_after,
                    },
                    422 => Failure::Halt(format!(
                        "head office refused this site's history (HTTP 422): {message}"
                    )),
                    _ => Failure::Halt(format!("head office answered HTTP {code}: {message}")),
                })
            }
        }
    }

    /// Sends the next batch of one log, if any. Returns whether it was full.
    fn upload(&mut self, log: Log) -> Result<bool, Failure> {
        let site = self.store.site().to_owned();
        let acked = match log {
            Log::Movements => self.store.outbox_position()?,
            Log::Rejections => self.store.rejected_outbox_position()?,
        };
        let acked_seq = acked.as_ref().map_or(0, |a| a.acked_seq);
        let from = self.cursor[log_index(log)].unwrap_or(acked_seq + 1);
        let limit = self
            .batch_limit
            .min(self.server_batch_max.unwrap_or(usize::MAX))
            .max(1);
        let reference = self.reference_versions();
        let prepared = match self.prefetched.take() {
            Some(p) if p.log == log && p.from == from && p.limit == limit => p,
            _ => prepare(
                &self.store,
                log,
                from,
                limit,
                self.settings.batch_bytes,
                reference,
            )?,
        };
        let Some(body) = &prepared.body else {
            return Ok(false);
        };
        let url = format!("{}{}", self.settings.url, path::BATCHES);
        // While head office works on this batch, read and encode the next
        // one (still one batch in flight: it is sent only after this ack).
        let next_from = prepared.last_seq + 1;
        let budget = self.settings.batch_bytes;
        let store = self.store.clone();
        let (result, next) = std::thread::scope(|scope| {
            let next = (prepared.count >= limit).then(|| {
                scope.spawn(move || prepare(&store, log, next_from, limit, budget, reference))
            });
            let result = self.call(self.request("POST", &url), Some(body));
            (result, next.and_then(|h| h.join().ok()))
        });
        let response = match result {
            Err(Failure::Rewind { expected }) => {
                self.cursor[log_index(log)] = Some(expected.max(1));
                return Err(Failure::Rewind { expected });
            }
            other => other?,
        };
        let ack: Ack = response.into_json().map_err(|e| Failure::Retry {
            message: format!("head office's acknowledgement cannot be read: {e}"),
            retry_after: None,
        })?;
        self.accept_ack(log, &site, ack)?;
        if let Some(Ok(next)) = next {
            self.prefetched = Some(next);
        }
        // After a 413 the batch grows back, one doubling per 16 successes.
        self.successes = self.successes.wrapping_add(1);
        if self.batch_limit < self.settings.batch_max && self.successes.is_multiple_of(16) {
            self.batch_limit = (self.batch_limit * 2).min(self.settings.batch_max);
        }
        Ok(prepared.count >= limit)
    }

    /// Checks head office's acknowledgement against the local chain and
    /// moves the watermark to it.
    fn accept_ack(&mut self, log: Log, site: &str, ack: Ack) -> Result<(), Failure> {
        if ack.log != log {
            return Err(Failure::Retry {
                message: "head office acknowledged the other log".into(),
                retry_after: None,
            });
        }
        let local = match (log, ack.acked_seq) {
            (_, 0) => Some(Hash::GENESIS),
            (Log::Movements, seq) => self.store.movement(site, seq)?.map(|m| m.hash),
            (Log::Rejections, seq) => self
                .store
                .rejected_range(site, seq, 1)?
                .into_iter()
                .find(|r| r.seq == seq)
                .map(|r| r.hash),
        };
        match local {
            Some(h) if h == ack.acked_hash => {}
            Some(_) => {
                return Err(Failure::Halt(format!(
                    "head office holds {} seq {} with another hash than this site: the histories differ",
                    log.name(),
                    ack.acked_seq
                )))
            }
            None => {
                return Err(Failure::Halt(format!(
                    "head office acknowledges {} up to seq {}, beyond what this site holds: was the store restored from an old backup?",
                    log.name(),
                    ack.acked_seq
                )))
            }
        }
        let position = OutboxPosition {
            acked_seq: ack.acked_seq,
            acked_hash: ack.acked_hash,
        };
        match log {
            Log::Movements => self.store.set_outbox_position(position)?,
            Log::Rejections => self.store.set_rejected_outbox_position(position)?,
        }
        self.cursor[log_index(log)] = None;
        let mut s = self.status.lock().unwrap_or_else(|p| p.into_inner());
        s.last_ack_at = Some(Utc::now());
        if !ack.flags.is_empty() {
            for f in &ack.flags {
                tracing::warn!(flag = %f, "head office flagged a batch");
            }
            s.flags.extend(ack.flags);
            let excess = s.flags.len().saturating_sub(50);
            s.flags.drain(..excess);
        }
        Ok(())
    }
}

/// A batch read and encoded, ready to send.
struct Prepared {
    log: Log,
    from: u64,
    limit: usize,
    last_seq: u64,
    count: usize,
    /// None: nothing to send.
    body: Option<Vec<u8>>,
}

/// Reads up to `limit` entries of `log` from seq `from` and encodes them
/// as one batch of at most `budget` bytes (fewer entries if it is larger).
fn prepare(
    store: &Store,
    log: Log,
    from: u64,
    limit: usize,
    budget: usize,
    reference: ReferenceVersions,
) -> Result<Prepared, Failure> {
    let site = store.site().to_owned();
    let mut entries = match log {
        Log::Movements => Entries::Movements(store.journal_range(&site, from, limit)?),
        Log::Rejections => Entries::Rejections(store.rejected_range(&site, from, limit)?),
    };
    loop {
        let Some((first_seq, last_seq)) = entries.span() else {
            return Ok(Prepared {
                log,
                from,
                limit,
                last_seq: from.saturating_sub(1),
                count: 0,
                body: None,
            });
        };
        let count = entries.len();
        let batch = Batch {
            protocol: PROTOCOL_VERSION,
            site: site.clone(),
            first_seq,
            last_seq,
            sent_at: Utc::now(),
            reference,
            entries,
        };
        let body = batch.encode();
        if body.len() <= budget || count == 1 {
            return Ok(Prepared {
                log,
                from,
                limit,
                last_seq,
                count,
                body: Some(body),
            });
        }
        // Too big: keep the share of entries that fits, and encode again.
        let keep =
            ((count as u128 * budget as u128 / body.len() as u128) as usize).clamp(1, count - 1);
        entries = batch.entries;
        match &mut entries {
            Entries::Movements(v) => v.truncate(keep),
            Entries::Rejections(v) => v.truncate(keep),
        }
    }
}

/// Every record of a delta must decode as its kind and be head office's.
fn check_records(r: Reference, delta: &Delta) -> Result<(), String> {
    for (key, bytes) in &delta.upserts {
        let owner = match r {
            Reference::Products => records::decode::<Product>(bytes)?.owner,
            Reference::Holds => records::decode::<Hold>(bytes)?.owner,
            Reference::PickLists => records::decode::<PickList>(bytes)?.owner,
        };
        if owner != Owner::HeadOffice {
            return Err(format!(
                "record {} is not owned by head office",
                String::from_utf8_lossy(key)
            ));
        }
    }
    Ok(())
}
