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

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;

use super::chain::{self, Hash};
use super::derived;
use super::envelope::{Head, Stored};
use super::error::{Result, StoreError};
use super::keys;
use super::movement::{Movement, NewMovement, NewRejection, Rejection};
use super::reply::{self, Pending, Reply};

/// Where the committer's writes go.
pub trait Sink: Send + 'static {
    /// A value as last made durable (reads of balances and serial states).
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// Writes every pair in one atomic unit and returns once it is durable.
    fn write_durably(&mut self, writes: Vec<(Vec<u8>, Vec<u8>)>) -> Result<()>;
    /// Told after each durable batch where the chains now end.
    fn acknowledged(&mut self, _origin: &str, _movements: Head, _rejections: Head) {}
}

/// Work run on the committer thread between batches, with exclusive access
/// to the sink: verify, reindex and backup see no commit half-way.
pub type Exclusive<S> = Box<dyn FnOnce(&mut S) + Send>;

enum Request<S> {
    Movement(Box<NewMovement>, Reply<Result<Movement>>),
    Rejection(Box<NewRejection>, Reply<Result<Rejection>>),
    Exclusive(Exclusive<S>),
}

/// Counters for benchmarks and logs.
#[derive(Default, Debug)]
pub struct Stats {
    pub batches: AtomicU64,
    pub movements: AtomicU64,
}

/// The requesters' handle; cheap to share between threads.
pub struct Committer<S> {
    tx: Option<mpsc::Sender<Request<S>>>,
    thread: Option<std::thread::JoinHandle<()>>,
    path: PathBuf,
    pub stats: Arc<Stats>,
}

impl<S: Sink> Committer<S> {
    /// Starts the committer thread for the store of `origin`.
    pub fn start(sink: S, origin: String, path: PathBuf, max_batch: usize) -> Result<Committer<S>> {
        let head = read_head(&sink, &keys::head(&origin), &path)?;
        let rejected_head = read_head(&sink, &keys::rejected_head(&origin), &path)?;
        let stats = Arc::new(Stats::default());
        let (tx, rx) = mpsc::channel();
        let mut worker = Worker {
            sink,
            origin,
            path: path.clone(),
            head,
            rejected_head,
            max_batch: max_batch.max(1),
            failed: None,
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
    pub fn submit(&self, m: NewMovement) -> Pending<Result<Movement>> {
        let (reply, pending) = reply::channel();
        self.send(Request::Movement(Box::new(m), reply));
        pending
    }

    pub fn submit_rejection(&self, r: NewRejection) -> Pending<Result<Rejection>> {
        let (reply, pending) = reply::channel();
        self.send(Request::Rejection(Box::new(r), reply));
        pending
    }

    /// Runs `work` on the committer thread between two batches.
    pub fn exclusive<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut S) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (reply, pending) = reply::channel();
        self.send(Request::Exclusive(Box::new(move |sink: &mut S| {
            reply.send(work(sink))
        })));
        pending.wait().unwrap_or_else(|| Err(self.closed()))
    }

    pub fn closed(&self) -> StoreError {
        StoreError::Closed {
            path: self.path.clone(),
        }
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
    /// Set after a failed durable write: sled may hold part of it in memory,
    /// so seqs cannot be reused safely until a restart recovers from disk.
    failed: Option<String>,
    stats: Arc<Stats>,
    replier: Option<mpsc::Sender<Vec<Answer>>>,
}

enum Answer {
    Movement(Reply<Result<Movement>>, Box<Movement>),
    Rejection(Reply<Result<Rejection>>, Box<Rejection>),
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
        while let Ok(first) = rx.recv() {
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
                        work(&mut self.sink);
                    }
                    other => commits.push(other),
                }
            }
            self.commit(commits);
        }
    }

    fn commit(&mut self, requests: Vec<Request<S>>) {
        if requests.is_empty() {
            return;
        }
        if let Some(cause) = &self.failed {
            let e = StoreError::Failed {
                path: self.path.clone(),
                cause: cause.clone(),
            };
            for r in requests {
                answer_error(r, &e, &self.path);
            }
            return;
        }
        let mut plan = Plan {
            writes: Vec::with_capacity(requests.len() * 10),
            derived: derived::Aggregates::default(),
            head: self.head,
            rejected_head: self.rejected_head,
        };
        let mut answers = Vec::with_capacity(requests.len());
        let mut planned = Ok(());
        let mut requests = requests.into_iter();
        for r in requests.by_ref() {
            match r {
                Request::Movement(new, reply) => {
                    match plan.movement(&self.sink, &self.origin, *new, &self.path) {
                        Ok(m) => answers.push(Answer::Movement(reply, Box::new(m))),
                        Err(e) => {
                            reply.send(Err(e.to_failed(&self.path)));
                            planned = Err(e);
                            break;
                        }
                    }
                }
                Request::Rejection(new, reply) => {
                    answers.push(Answer::Rejection(
                        reply,
                        Box::new(plan.rejection(&self.origin, *new)),
                    ));
                }
                // `run` takes exclusive requests out before calling `commit`.
                Request::Exclusive(_) => {}
            }
        }
        let result = planned.and_then(|()| {
            let n = answers.len();
            let writes = plan.finish(&self.origin);
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
                // reached sled's memory, so stop until a restart.
                if matches!(e, StoreError::Value { .. }) {
                    tracing::error!(origin = %self.origin, error = %e, "batch refused");
                } else {
                    tracing::error!(origin = %self.origin, seq = self.head.seq, error = %e, "durable write failed; refusing further commits");
                    self.failed = Some(e.to_string());
                }
                for a in answers {
                    match a {
                        Answer::Movement(reply, _) => reply.send(Err(e.to_failed(&self.path))),
                        Answer::Rejection(reply, _) => reply.send(Err(e.to_failed(&self.path))),
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
            Answer::Movement(reply, m) => reply.send(Ok(*m)),
            Answer::Rejection(reply, r) => reply.send(Ok(*r)),
        }
    }
}

fn answer_error<S>(r: Request<S>, e: &StoreError, path: &std::path::Path) {
    match r {
        Request::Movement(_, reply) => reply.send(Err(e.to_failed(path))),
        Request::Rejection(_, reply) => reply.send(Err(e.to_failed(path))),
        Request::Exclusive(_) => {}
    }
}

/// One batch being assembled: all its writes, and the balances and serial
/// states it changed (read once, updated in memory, written once).
struct Plan {
    writes: Vec<(Vec<u8>, Vec<u8>)>,
    derived: derived::Aggregates,
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
        let corrected = match derived::corrected_key(&m) {
            Some(k) => sink
                .get(&k)?
                .map(|bytes| Movement::decode(&bytes))
                .transpose()
                .map_err(|source| StoreError::Value {
                    path: path.to_owned(),
                    source,
                })?,
            None => None,
        };
        self.derived
            .add_over(&m, corrected.as_ref(), |k| sink.get(k), path)?;
        self.writes.push((keys::journal(origin, seq), m.encode()));
        for k in derived::index_keys(&m) {
            self.writes.push((k, Vec::new()));
        }
        self.head = Head { seq, hash };
        Ok(m)
    }

    fn rejection(&mut self, origin: &str, body: NewRejection) -> Rejection {
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

    fn finish(&mut self, origin: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut writes = std::mem::take(&mut self.writes);
        writes.extend(std::mem::take(&mut self.derived).into_entries());
        writes.push((keys::head(origin), self.head.encode()));
        if self.rejected_head.seq > 0 {
            writes.push((keys::rejected_head(origin), self.rejected_head.encode()));
        }
        writes
    }
}
