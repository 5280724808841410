//! Group commit: one committer thread owns every write to the journal.
//!
//! Requesters (station threads, HTTP handlers, async tasks) queue their
//! movement and wait. The committer takes whatever is queued (up to
//! `max_batch`), stamps each movement with its seq and hashes, computes its
//! derived entries, writes the whole batch as one atomic unit, makes it
//! durable with one flush, and only then answers each requester. One flush
//! costs about the same for 1 or 200 movements, so throughput grows with
//! load while each scan is still acknowledged only once its own data is on
//! disk. A single writer also means the seq counter and the lot balances
//! need no locks and no retries.
//!
//! The committer is generic over `Sink` so that the benchmark can run the
//! very same batching and the same entries against SQLite.
//!
//! A failed durable write (a full disk, an I/O error) stops commits: the
//! sink may hold part of the failed batch in memory, so its seqs cannot be
//! reused on it. Every request is then refused at once with the cause, and
//! the committer reopens the sink from disk, with backoff, until it works;
//! it then carries on from the chain heads it had acknowledged, which the
//! reopen makes sure are exactly the heads on disk.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::blocks;
use super::chain;
use super::derived;
use super::envelope::{Head, Stored};
use super::error::{Result, StoreError};
use super::keys;
use super::postings;
use super::refresh::{Refresh, Schedule};
use super::scan_receipts::{self, Keep, Outcome, ScanReceipt};
use crate::model::Hash;
use crate::model::{Movement, NewMovement, NewRejection, Rejection};
use tokio::sync::oneshot;

/// Where the committer's writes go.
pub trait Sink: Send + 'static {
    /// A value as last made durable (reads of balances and serial states).
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// The last entry whose key starts with `run` (the index posting
    /// new seqs of that run are appended to, `store::postings`).
    fn last_under(&self, run: &[u8]) -> Result<Option<(Vec<u8>, Vec<u8>)>>;
    /// The last entry whose key is between `low` and `high`, both
    /// included (the block of serial units a unit is in, `store::units`).
    fn last_between(&self, low: &[u8], high: &[u8]) -> Result<Option<(Vec<u8>, Vec<u8>)>>;
    /// Writes every pair in one atomic unit and returns once it is durable.
    fn write_durably(&mut self, writes: Vec<(Vec<u8>, Vec<u8>)>) -> Result<()>;
    /// Told after each durable batch where the chains now end.
    fn acknowledged(&mut self, _origin: &str, _movements: Head, _rejections: Head) {}
    /// After a failed write: drops everything the sink holds in memory and
    /// opens it again from disk, so that its chains of `origin` end at the
    /// acknowledged heads given (a failed batch that reached the disk after
    /// all is taken out again: its requesters were told it failed).
    fn reopen(&mut self, _origin: &str, _movements: Head, _rejections: Head) -> Result<()> {
        Err(StoreError::Failed {
            path: PathBuf::new(),
            cause: "this store cannot be reopened in place".into(),
        })
    }
    /// Closes and reopens the sink between two batches, so that what the
    /// next opening replays stays bounded (`store::refresh`), holding its
    /// readers off for up to `hold` first; `Ok(false)` when it cannot now.
    /// An error leaves it to be reopened as after a failed write.
    fn refresh(&mut self, _hold: Duration) -> Result<bool> {
        Ok(false)
    }
}

/// Work run on the committer thread between batches, with exclusive access
/// to the sink: verify, reindex and backup see no commit half-way. It
/// returns the I/O error it met, if any: a failed write stops commits as a
/// failed batch does.
pub type Exclusive<S> = Box<dyn FnOnce(&mut S) -> Option<StoreError> + Send>;

/// Why commits are refused, if they are; shared with the requesters so
/// that health checks and refused requests can say why.
#[derive(Default)]
pub struct Health {
    failure: Mutex<Option<StoreError>>,
}

impl Health {
    /// A copy of the failure, if commits are refused.
    pub fn failure(&self) -> Option<StoreError> {
        let failure = self.failure.lock().unwrap_or_else(|p| p.into_inner());
        failure.as_ref().map(|e| e.to_failed(&PathBuf::new()))
    }

    fn set(&self, failure: Option<StoreError>) {
        *self.failure.lock().unwrap_or_else(|p| p.into_inner()) = failure;
    }
}

/// The first retry after a failure, and the longest wait between two.
const FIRST_RETRY: Duration = Duration::from_millis(250);
const LONGEST_RETRY: Duration = Duration::from_secs(5);

enum Request<S> {
    Movement(
        Box<NewMovement>,
        Option<ScanReceipt>,
        oneshot::Sender<Result<Movement>>,
    ),
    Rejection(
        Box<NewRejection>,
        Option<ScanReceipt>,
        oneshot::Sender<Result<Rejection>>,
    ),
    Exclusive(Exclusive<S>),
}

/// Counters for benchmarks and logs.
#[derive(Default, Debug)]
pub struct Stats {
    /// Batches committed since the store was opened (one durable flush each).
    pub batches: AtomicU64,
    /// Movements committed since the store was opened, across all batches.
    pub movements: AtomicU64,
    /// Reopenings of the store when due (`store::refresh`).
    pub refreshes: AtomicU64,
}

/// The requesters' handle; cheap to share between threads.
pub struct Committer<S> {
    tx: Option<mpsc::Sender<Request<S>>>,
    thread: Option<std::thread::JoinHandle<()>>,
    path: PathBuf,
    /// The counters of what this committer wrote, shared with whoever reads
    /// them.
    pub stats: Arc<Stats>,
    health: Arc<Health>,
}

impl<S: Sink> Committer<S> {
    /// Starts the committer thread for the store of `origin`, keeping the
    /// handhelds' scan receipts `keep` says, and reopening the sink when
    /// `refresh` says.
    pub fn start(
        sink: S,
        origin: String,
        path: PathBuf,
        max_batch: usize,
        keep: Keep,
        refresh: Option<Refresh>,
    ) -> Result<Committer<S>> {
        let head = read_head(&sink, &keys::head(&origin), &path)?;
        let rejected_head = read_head(&sink, &keys::rejected_head(&origin), &path)?;
        let stats = Arc::new(Stats::default());
        let health = Arc::new(Health::default());
        let (tx, rx) = mpsc::channel();
        let mut worker = Worker {
            sink,
            origin,
            path: path.clone(),
            head,
            rejected_head,
            max_batch: max_batch.max(1),
            keep,
            health: health.clone(),
            retry: None,
            schedule: refresh.map(Schedule::new),
            stats: stats.clone(),
            replier: None,
        };
        let thread = std::thread::Builder::new()
            .name("store-committer".into())
            .spawn(move || worker.run(rx))
            .map_err(|e| StoreError::io(&path, "start the committer thread", e))?;
        Ok(Committer {
            tx: Some(tx),
            thread: Some(thread),
            path,
            stats,
            health,
        })
    }

    fn send(&self, request: Request<S>) {
        // A send only fails if the thread is gone; the dropped reply then
        // tells the requester.
        if let Some(tx) = &self.tx {
            let _ = tx.send(request);
        }
    }

    /// Queues a movement; the answer arrives once it is durable.
    pub fn submit(&self, m: NewMovement) -> oneshot::Receiver<Result<Movement>> {
        self.submit_with_receipt(m, None)
    }

    /// `submit`, writing `receipt` in the same durable batch.
    pub(super) fn submit_with_receipt(
        &self,
        m: NewMovement,
        receipt: Option<ScanReceipt>,
    ) -> oneshot::Receiver<Result<Movement>> {
        let (reply, pending) = oneshot::channel();
        self.send(Request::Movement(Box::new(m), receipt, reply));
        pending
    }

    pub(super) fn submit_rejection(
        &self,
        r: NewRejection,
        receipt: Option<ScanReceipt>,
    ) -> oneshot::Receiver<Result<Rejection>> {
        let (reply, pending) = oneshot::channel();
        self.send(Request::Rejection(Box::new(r), receipt, reply));
        pending
    }

    /// Runs `work` on the committer thread between two batches.
    pub fn exclusive<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut S) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (reply, pending) = oneshot::channel();
        let path = self.path.clone();
        self.send(Request::Exclusive(Box::new(move |sink: &mut S| {
            let result = work(sink);
            let failure = match &result {
                Err(
                    e @ (StoreError::DiskFull { .. }
                    | StoreError::Io { .. }
                    | StoreError::ReadOnly { .. }),
                ) => Some(e.to_failed(&path)),
                _ => None,
            };
            // A requester that stopped waiting needs no answer.
            let _ = reply.send(result);
            failure
        })));
        // Work is dropped unrun while commits are refused.
        pending
            .blocking_recv()
            .unwrap_or_else(|_| Err(self.closed()))
    }

    /// Why a request went unanswered: the store's failure if commits are
    /// refused, else the committer is gone.
    pub fn closed(&self) -> StoreError {
        self.failure().unwrap_or_else(|| StoreError::Closed {
            path: self.path.clone(),
        })
    }

    /// `None` while commits are accepted, else why not.
    pub fn failure(&self) -> Option<StoreError> {
        self.health.failure().map(|e| e.to_failed(&self.path))
    }
}

impl<S> Drop for Committer<S> {
    fn drop(&mut self) {
        // Closing the queue ends the thread once it has answered everything
        // already queued.
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Movement (origin, seq) as the sink holds it, if it does.
pub(super) fn read_movement<S: Sink + ?Sized>(
    sink: &S,
    origin: &str,
    seq: u64,
    path: &std::path::Path,
) -> Result<Option<Movement>> {
    let Some(block) = sink.get(&keys::journal(origin, seq))? else {
        return Ok(None);
    };
    blocks::find(&block, seq)
        .map(Movement::decode)
        .transpose()
        .map_err(|source| StoreError::Value {
            path: path.to_owned(),
            source,
        })
}

fn read_head<S: Sink>(sink: &S, key: &[u8], path: &std::path::Path) -> Result<Head> {
    match sink.get(key)? {
        None => Ok(Head {
            seq: 0,
            hash: Hash::GENESIS,
        }),
        Some(bytes) => Head::decode(&bytes).map_err(|source| StoreError::Value {
            path: path.to_owned(),
            source,
        }),
    }
}

struct Worker<S> {
    sink: S,
    origin: String,
    path: PathBuf,
    head: Head,
    rejected_head: Head,
    max_batch: usize,
    keep: Keep,
    /// Set after a failed durable write: the sink may hold part of it in
    /// memory, so nothing is committed until it is reopened from disk.
    health: Arc<Health>,
    /// While failed: when to try reopening next, and the wait after that.
    retry: Option<(Instant, Duration)>,
    /// When to refresh the sink's opening, if ever.
    schedule: Option<Schedule>,
    stats: Arc<Stats>,
    replier: Option<mpsc::Sender<Vec<Answer>>>,
}

enum Answer {
    Movement(oneshot::Sender<Result<Movement>>, Box<Movement>),
    Rejection(oneshot::Sender<Result<Rejection>>, Box<Rejection>),
}

impl<S: Sink> Worker<S> {
    fn run(&mut self, rx: mpsc::Receiver<Request<S>>) {
        let (replier, answers) = mpsc::channel::<Vec<Answer>>();
        let replier_thread = std::thread::Builder::new()
            .name("store-replier".into())
            .spawn(move || answers.into_iter().for_each(deliver))
            .ok();
        // Without the thread (it could not start) every batch is answered
        // inline; the sender must not outlive `serve` either way, or the
        // join below would wait forever.
        if replier_thread.is_some() {
            self.replier = Some(replier);
        } else {
            drop(replier);
        }
        self.serve(rx);
        // Every answer handed over is delivered before the store is gone.
        self.replier = None;
        if let Some(t) = replier_thread {
            let _ = t.join();
        }
    }

    fn serve(&mut self, rx: mpsc::Receiver<Request<S>>) {
        let mut batch = Vec::with_capacity(self.max_batch);
        loop {
            // While failed, wait for the next try at reopening; while a
            // fresh opening is due, for a quiet moment; otherwise for work.
            let wait = match self.retry {
                Some((at, _)) => Some(at.saturating_duration_since(Instant::now())),
                None => self.schedule.as_ref().and_then(Schedule::quiet),
            };
            let first = match wait {
                None => rx.recv().map_err(|_| ()),
                Some(wait) => match rx.recv_timeout(wait) {
                    Ok(r) => Ok(r),
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        if self.retry.is_some() {
                            self.reopen();
                        } else {
                            self.refresh();
                        }
                        continue;
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => Err(()),
                },
            };
            let Ok(first) = first else { break };
            batch.push(first);
            while batch.len() < self.max_batch {
                match rx.try_recv() {
                    Ok(r) => batch.push(r),
                    Err(_) => break,
                }
            }
            // Commits queued before an exclusive request go first; the ones
            // after it wait for it.
            let mut commits = Vec::with_capacity(batch.len());
            for request in batch.drain(..) {
                match request {
                    Request::Exclusive(work) => {
                        self.commit(std::mem::take(&mut commits));
                        // Refused (dropped unrun) while failed: the work
                        // could see or write a half-failed store.
                        if self.retry.is_none() {
                            if let Some(e) = work(&mut self.sink) {
                                self.fail(e);
                            }
                        }
                    }
                    other => commits.push(other),
                }
            }
            self.commit(commits);
            if matches!(self.retry, Some((at, _)) if at <= Instant::now()) {
                self.reopen();
            } else if self.schedule.as_ref().is_some_and(Schedule::overdue) {
                self.refresh();
            }
        }
    }

    /// Closes and reopens the sink when due (`store::refresh`), if it can now.
    fn refresh(&mut self) {
        let Some(schedule) = &mut self.schedule else {
            return;
        };
        if self.retry.is_some() {
            return;
        }
        let since_open = schedule.since_open();
        let before = crate::memory::resident_bytes().unwrap_or(0);
        let started = Instant::now();
        match self.sink.refresh(schedule.hold()) {
            Ok(false) => schedule.put_off(),
            Ok(true) => {
                schedule.opened();
                self.stats.refreshes.fetch_add(1, Ordering::Relaxed);
                tracing::info!(
                    origin = %self.origin,
                    seq = self.head.seq,
                    since_open,
                    took_ms = started.elapsed().as_millis() as u64,
                    resident_mb_before = before >> 20,
                    "store reopened to bound what its next opening replays"
                );
            }
            // The reopening after the failure restarts the schedule.
            Err(e) => self.fail(e),
        }
    }

    /// Stops commits after a failed write, until a reopen works.
    fn fail(&mut self, e: StoreError) {
        tracing::error!(origin = %self.origin, seq = self.head.seq, error = %e, "durable write failed; refusing commits until the store is reopened");
        self.health.set(Some(e.to_failed(&self.path)));
        self.retry = Some((Instant::now() + FIRST_RETRY, FIRST_RETRY));
    }

    /// One attempt at reopening the sink from disk; on success commits
    /// resume from the heads acknowledged before the failure.
    fn reopen(&mut self) {
        let Some((_, wait)) = self.retry else { return };
        let first = wait == FIRST_RETRY;
        if first {
            tracing::info!(origin = %self.origin, "reopening the store after the failed write");
        }
        let reopened = self
            .sink
            .reopen(&self.origin, self.head, self.rejected_head)
            .and_then(|()| {
                let heads = (
                    read_head(&self.sink, &keys::head(&self.origin), &self.path)?,
                    read_head(&self.sink, &keys::rejected_head(&self.origin), &self.path)?,
                );
                if heads != (self.head, self.rejected_head) {
                    return Err(StoreError::Damaged {
                        path: self.path.clone(),
                        detail: format!(
                            "after reopening, its movements end at seq {} but seq {} was acknowledged",
                            heads.0.seq, self.head.seq
                        ),
                    });
                }
                Ok(())
            });
        match reopened {
            Ok(()) => {
                tracing::info!(origin = %self.origin, seq = self.head.seq, "store reopened; commits resume");
                self.health.set(None);
                self.retry = None;
                if let Some(schedule) = &mut self.schedule {
                    schedule.opened();
                }
            }
            Err(e) => {
                if first {
                    tracing::warn!(origin = %self.origin, error = %e, "the store cannot be reopened yet; retrying with backoff");
                } else {
                    tracing::debug!(origin = %self.origin, error = %e, "the store cannot be reopened yet");
                }
                // A full disk stays the reason people are told.
                if !matches!(e, StoreError::Reopening { .. } | StoreError::InUse { .. }) {
                    self.health.set(Some(e.to_failed(&self.path)));
                }
                let next = (wait * 2).min(LONGEST_RETRY);
                self.retry = Some((Instant::now() + next, next));
            }
        }
    }

    fn commit(&mut self, requests: Vec<Request<S>>) {
        if requests.is_empty() {
            return;
        }
        if let Some(e) = self.health.failure() {
            let e = e.to_failed(&self.path);
            for r in requests {
                answer_error(r, &e, &self.path);
            }
            return;
        }
        let mut plan = Plan {
            writes: Vec::with_capacity(requests.len() * 10),
            derived: derived::Aggregates::default(),
            blocks: blocks::Appender::default(),
            postings: postings::Appender::default(),
            receipts: scan_receipts::Appender::default(),
            head: self.head,
            rejected_head: self.rejected_head,
        };
        let mut answers = Vec::with_capacity(requests.len());
        let mut planned = Ok(());
        let mut requests = requests.into_iter();
        for r in requests.by_ref() {
            match r {
                Request::Movement(new, receipt, reply) => {
                    let planned_movement =
                        plan.movement(&self.sink, &self.origin, *new, &self.path);
                    let receipted = planned_movement.and_then(|m| match receipt {
                        Some(receipt) => {
                            let accepted = Outcome::Accepted(m.id());
                            plan.receipts
                                .add(receipt, accepted, chrono::Utc::now(), |k| self.sink.get(k))
                                .map(|()| m)
                        }
                        None => Ok(m),
                    });
                    match receipted {
                        Ok(m) => answers.push(Answer::Movement(reply, Box::new(m))),
                        Err(e) => {
                            let _ = reply.send(Err(e.to_failed(&self.path)));
                            planned = Err(e);
                            break;
                        }
                    }
                }
                Request::Rejection(new, receipt, reply) => {
                    let r = plan.rejection(&self.origin, *new);
                    if let Some(receipt) = receipt {
                        let refused = Outcome::Refused {
                            code: r.body.code.clone(),
                            words: r.body.words.clone(),
                        };
                        let added = plan
                            .receipts
                            .add(receipt, refused, chrono::Utc::now(), |k| self.sink.get(k));
                        if let Err(e) = added {
                            let _ = reply.send(Err(e.to_failed(&self.path)));
                            planned = Err(e);
                            break;
                        }
                    }
                    answers.push(Answer::Rejection(reply, Box::new(r)));
                }
                // `run` takes exclusive requests out before calling `commit`.
                Request::Exclusive(_) => {}
            }
        }
        let result = planned.and_then(|()| {
            let n = answers.len();
            let writes = plan.finish(&self.origin, self.keep);
            self.sink.write_durably(writes).map(|()| n)
        });
        match result {
            Ok(n) => {
                self.head = plan.head;
                self.rejected_head = plan.rejected_head;
                self.sink
                    .acknowledged(&self.origin, self.head, self.rejected_head);
                self.stats.batches.fetch_add(1, Ordering::Relaxed);
                self.stats.movements.fetch_add(n as u64, Ordering::Relaxed);
                if let Some(schedule) = &mut self.schedule {
                    schedule.committed(n as u64);
                }
                tracing::debug!(origin = %self.origin, seq = self.head.seq, batch = n, "batch durable");
                // Waking a requester is a futex syscall and a context
                // switch, a fifth of the committer's time under load
                // (perf). Big batches are answered from a second thread
                // while this one starts the next batch; a lone scan is
                // answered here, without the extra hop.
                match &self.replier {
                    Some(replier) if answers.len() > INLINE_REPLIES => {
                        if let Err(mpsc::SendError(answers)) = replier.send(answers) {
                            deliver(answers);
                        }
                    }
                    _ => deliver(answers),
                }
            }
            Err(e) => {
                // Planning errors write nothing; a failed write may have
                // reached sled's memory, so stop until a reopen.
                if matches!(e, StoreError::Value { .. }) {
                    tracing::error!(origin = %self.origin, error = %e, "batch refused");
                } else {
                    self.fail(e.to_failed(&self.path));
                }
                for a in answers {
                    match a {
                        Answer::Movement(reply, _) => {
                            let _ = reply.send(Err(e.to_failed(&self.path)));
                        }
                        Answer::Rejection(reply, _) => {
                            let _ = reply.send(Err(e.to_failed(&self.path)));
                        }
                    }
                }
                for r in requests {
                    answer_error(r, &e, &self.path);
                }
            }
        }
    }
}

/// Batches of at most this many are answered on the committer thread.
const INLINE_REPLIES: usize = 2;

fn deliver(answers: Vec<Answer>) {
    for a in answers {
        match a {
            Answer::Movement(reply, m) => {
                let _ = reply.send(Ok(*m));
            }
            Answer::Rejection(reply, r) => {
                let _ = reply.send(Ok(*r));
            }
        }
    }
}

fn answer_error<S>(r: Request<S>, e: &StoreError, path: &std::path::Path) {
    match r {
        Request::Movement(_, _, reply) => {
            let _ = reply.send(Err(e.to_failed(path)));
        }
        Request::Rejection(_, _, reply) => {
            let _ = reply.send(Err(e.to_failed(path)));
        }
        Request::Exclusive(_) => {}
    }
}

/// One batch being assembled: all its writes, and the balances and serial
/// states it changed (read once, updated in memory, written once).
struct Plan {
    writes: Vec<(Vec<u8>, Vec<u8>)>,
    derived: derived::Aggregates,
    blocks: blocks::Appender,
    postings: postings::Appender,
    receipts: scan_receipts::Appender,
    head: Head,
    rejected_head: Head,
}

impl Plan {
    fn movement<S: Sink>(
        &mut self,
        sink: &S,
        origin: &str,
        body: NewMovement,
        path: &std::path::Path,
    ) -> Result<Movement> {
        let seq = self.head.seq + 1;
        let prev_hash = self.head.hash;
        let hash = chain::movement_hash(origin, seq, &prev_hash, &body);
        let m = Movement {
            origin: origin.to_owned(),
            seq,
            prev_hash,
            body,
            hash,
        };
        let corrected = match derived::corrected_id(&m) {
            Some(id) => read_movement(sink, &id.origin, id.seq, path)?,
            None => None,
        };
        self.derived.add_over(
            &m,
            corrected.as_ref(),
            |k| sink.get(k),
            |low, high| sink.last_between(low, high),
            path,
        )?;
        self.blocks
            .add(origin, seq, &m.encode(), |k| sink.get(k), path)?;
        for k in derived::posted_keys(&m) {
            self.postings.add(k, |run| sink.last_under(run))?;
        }
        self.head = Head { seq, hash };
        Ok(m)
    }

    fn rejection(&mut self, origin: &str, mut body: NewRejection) -> Rejection {
        body.bound_raw();
        let seq = self.rejected_head.seq + 1;
        let prev_hash = self.rejected_head.hash;
        let hash = chain::rejection_hash(origin, seq, &prev_hash, &body);
        let r = Rejection {
            origin: origin.to_owned(),
            seq,
            prev_hash,
            body,
            hash,
        };
        self.writes.push((keys::rejected(origin, seq), r.encode()));
        self.rejected_head = Head { seq, hash };
        r
    }

    fn finish(&mut self, origin: &str, keep: Keep) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut writes = std::mem::take(&mut self.writes);
        writes.extend(std::mem::take(&mut self.receipts).into_entries(keep, chrono::Utc::now()));
        writes.extend(std::mem::take(&mut self.blocks).into_entries());
        writes.extend(std::mem::take(&mut self.derived).into_entries());
        writes.extend(std::mem::take(&mut self.postings).into_entries());
        writes.push((keys::head(origin), self.head.encode()));
        if self.rejected_head.seq > 0 {
            writes.push((keys::rejected_head(origin), self.rejected_head.encode()));
        }
        writes
    }
}
