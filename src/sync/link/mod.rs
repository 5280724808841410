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

mod ack;
pub mod expected;
mod failure;
mod http;
mod reference;
mod settings;
mod state;
mod upload;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::backoff::Backoff;
use super::protocol::{path, Limits, PROTOCOL_VERSION};
use crate::model::Log;
use crate::store::Store;
use failure::Failure;
pub use settings::Settings;
pub use state::{State, Status};
use upload::Prepared;

/// The running link: its status, and a switch to stop it.
pub struct Handle {
    /// Where the link stands now, updated by the link thread and read by `GET
    /// /api/v1/sync`.
    pub status: Arc<Mutex<Status>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Handle {
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

/// Why the link did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The `[sync] ca` file cannot be used.
    #[error(transparent)]
    Ca(#[from] super::tls::CaError),
    /// The OS refused the link's thread.
    #[error("cannot start the sync link's thread: {0}")]
    Thread(#[from] std::io::Error),
}

/// Starts the link thread.
pub fn start(store: Arc<Store>, settings: Settings) -> Result<Handle, StartError> {
    let agent = super::tls::agent(settings.ca.as_deref(), settings.timeout)?;
    let status = Arc::new(Mutex::new(Status::starting(settings.url.clone())));
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
        reference_pulled: 0,
        expected_announced: 0,
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
    /// Kinds of reference data already pulled in this poll, so that a
    /// retry goes on from the next (under a tight rate limit, starting
    /// over each time would never get past the first requests).
    reference_pulled: usize,
    /// The version of the expected receipts head office announced with
    /// the last reference delta (`protocol::EXPECTED_VERSION_HEADER`):
    /// they are pulled only when it is newer than this site's, so a poll
    /// costs no request more.
    expected_announced: u64,
}

fn log_index(log: Log) -> usize {
    match log {
        Log::Movements => 0,
        Log::Rejections => 1,
    }
}

impl Link {
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
            match self.store.outbox().halt() {
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
}
