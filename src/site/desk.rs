//! The desk: one task that decides every scan of the site in arrival order,
//! sends accepted movements to the store's group committer, and answers
//! each scan only once its movement (or its rejection) is durable.
//!
//! Deciding in one place is what keeps two scans of the same serial, at two
//! stations a millisecond apart, from both being accepted: each decision
//! sees the movements decided before it, durable or still in flight
//! (`view::Pending`). Committing is pipelined, so throughput comes from the
//! committer's batches, not from waiting scan by scan.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Utc;
use tokio::sync::{mpsc, oneshot};

use super::answer::{Answer, WarningOut};
use super::context_patch::{ContextPatch, ContextRefused};
use super::correction::Correction;
use super::events::{Event, Events};
use super::metrics::Metrics;
use super::retries::{self, Retries, ScanKey};
use super::scan_request::ScanRequest;
use super::view::{Pending, StoreView};
use crate::config::Config;
use crate::model::{Kind, Movement, MovementId, NewMovement, NewRejection, RefusalCode};
use crate::station::{
    self, records, Context, CorrectionRefused, Decision, Mode, Policies, Refusal, ScanInput,
};
use crate::store::scan_receipts::{Outcome, ScanReceipt};
use crate::store::{Store, StoreError};

/// A station as the desk keeps it: configuration and current context.
struct StationState {
    mode: Mode,
    location: String,
    policies: Policies,
    context: Context,
}

enum Job {
    Scan(ScanRequest, oneshot::Sender<Answer>),
    Contexts(oneshot::Sender<Vec<(String, Context)>>),
    PatchContext(
        String,
        ContextPatch,
        oneshot::Sender<Result<Context, ContextRefused>>,
    ),
    Correct(
        Correction,
        oneshot::Sender<Result<Movement, CorrectionError>>,
    ),
    /// A reloaded configuration's policies for a station: scans queued
    /// after it are decided with them.
    Policies(String, Policies, oneshot::Sender<bool>),
    /// A station at a glance, for a handheld's screen.
    Glance(String, oneshot::Sender<Option<super::glance::Glance>>),
}

/// A commit finished: what it was for and how it went.
struct Done {
    ticket: u64,
    station: String,
    scan_key: Option<ScanKey>,
    result: Result<Movement, StoreError>,
    warnings: Vec<WarningOut>,
    reply: Reply,
}

enum Reply {
    Scan(oneshot::Sender<Answer>),
    Correction(oneshot::Sender<Result<Movement, CorrectionError>>),
}

/// The handle every source and request handler holds.
#[derive(Clone)]
pub struct Desk {
    jobs: mpsc::Sender<Job>,
}

/// The desk has stopped (the daemon is shutting down): the request was not
/// decided and nothing was recorded.
#[derive(Debug, thiserror::Error)]
#[error("scantrail is shutting down; the scan was not recorded")]
pub struct Closed;

impl Desk {
    /// Starts the desk task. It ends when every `Desk` handle is dropped and
    /// the commits in flight are answered.
    pub fn start(
        store: Arc<Store>,
        config: &Config,
        events: Events,
        metrics: Arc<Metrics>,
    ) -> (Desk, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(4096);
        let saved: HashMap<String, Context> = match store.records().station_contexts() {
            Ok(all) => all
                .into_iter()
                .filter_map(|(id, bytes)| Some((id, records::decode(&bytes).ok()?)))
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "station contexts could not be read; starting with empty ones");
                HashMap::new()
            }
        };
        let stations = config
            .stations
            .iter()
            .map(|s| {
                (
                    s.id.clone(),
                    StationState {
                        mode: s.mode.into(),
                        location: s.location.clone(),
                        policies: s.policies.clone(),
                        context: saved.get(&s.id).cloned().unwrap_or_default(),
                    },
                )
            })
            .collect();
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        let worker = Worker {
            store,
            own_sites: config.site.own_sites.clone(),
            stations,
            pending: Pending::default(),
            next_ticket: 0,
            retries: Retries::default(),
            done_tx,
            events,
            metrics,
        };
        let task = tokio::spawn(worker.run(rx, done_rx));
        (Desk { jobs: tx }, task)
    }

    pub(super) async fn scan(&self, request: ScanRequest) -> Result<Answer, Closed> {
        self.submit(request).await?.await.map_err(|_| Closed)
    }

    /// Queues a scan (decisions follow queue order) and returns where its
    /// answer will arrive.
    pub async fn submit(&self, request: ScanRequest) -> Result<oneshot::Receiver<Answer>, Closed> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Job::Scan(request, tx))
            .await
            .map_err(|_| Closed)?;
        Ok(rx)
    }

    pub(super) async fn contexts(&self) -> Result<Vec<(String, Context)>, Closed> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Job::Contexts(tx))
            .await
            .map_err(|_| Closed)?;
        rx.await.map_err(|_| Closed)
    }

    /// The station `station` at a glance (`None`: no such station), seen
    /// after every scan queued before this call.
    pub(super) async fn glance(
        &self,
        station: String,
    ) -> Result<Option<super::glance::Glance>, Closed> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Job::Glance(station, tx))
            .await
            .map_err(|_| Closed)?;
        rx.await.map_err(|_| Closed)
    }

    pub(super) async fn patch_context(
        &self,
        station: String,
        patch: ContextPatch,
    ) -> Result<Result<Context, ContextRefused>, Closed> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Job::PatchContext(station, patch, tx))
            .await
            .map_err(|_| Closed)?;
        rx.await.map_err(|_| Closed)
    }

    /// Puts new policies in force at `station`, for every scan queued after
    /// this call; `false` if there is no such station.
    pub(super) async fn set_policies(
        &self,
        station: String,
        policies: Policies,
    ) -> Result<bool, Closed> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Job::Policies(station, policies, tx))
            .await
            .map_err(|_| Closed)?;
        rx.await.map_err(|_| Closed)
    }

    pub(super) async fn correct(
        &self,
        correction: Correction,
    ) -> Result<Result<Movement, CorrectionError>, Closed> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Job::Correct(correction, tx))
            .await
            .map_err(|_| Closed)?;
        rx.await.map_err(|_| Closed)
    }
}

/// The correction of `id`, decided against everything recorded and
/// everything still being committed (`pending`), so that no interleaving
/// with a scan of the same unit, or with a second correction, lets both
/// through. The desk calls it in its one decision loop; `scantrail
/// correct` without a daemon with nothing pending.
pub fn decide_correction(
    store: &Store,
    pending: &Pending,
    id: &MovementId,
    reason: &str,
    operator: &str,
    author: &str,
) -> Result<NewMovement, CorrectionError> {
    let original = store
        .journal()
        .movement(&id.origin, id.seq)
        .map_err(|e| CorrectionError::not_saved(&e))?
        .ok_or_else(|| CorrectionError::NoSuchMovement {
            origin: id.origin.clone(),
            seq: id.seq,
        })?;
    let undo = station::correction(&original, reason, operator, author, Utc::now())?;
    let view = StoreView { store, pending };
    let around = view
        .around(&original)
        .map_err(|e| CorrectionError::NotSaved {
            code: RefusalCode::StoreError,
            reason: format!("the journal could not be read: {e}"),
        })?;
    station::check_correction(&original, &undo, &around)?;
    Ok(undo)
}

/// Why no correction was recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CorrectionError {
    /// The journal has no movement with that id (HTTP 404).
    #[error("there is no movement {origin}:{seq} in the journal")]
    NoSuchMovement {
        /// The origin asked for.
        origin: String,
        /// The seq asked for.
        seq: u64,
    },
    /// The rules refuse it: already corrected, moved since, a correction of
    /// a correction (HTTP 422).
    #[error(transparent)]
    Refused(#[from] CorrectionRefused),
    /// The store could not be read or the correction not made durable;
    /// nothing was recorded (HTTP 507 for a full disk, else 503).
    #[error("the correction was not recorded: {reason}")]
    NotSaved {
        /// `disk_full` or `store_error`.
        code: RefusalCode,
        /// What to tell the person who asked.
        reason: String,
    },
}

impl CorrectionError {
    fn not_saved(e: &StoreError) -> CorrectionError {
        let (code, reason) = e.plain();
        CorrectionError::NotSaved {
            code,
            reason: reason.to_owned(),
        }
    }
}

/// The receipt the store keeps for a scan sent with a `scan_id`.
fn receipt_of(request: &ScanRequest, extra: Option<Vec<u8>>) -> Option<ScanReceipt> {
    let key = request.key()?;
    Some(ScanReceipt {
        body: retries::fingerprint(&request.station, &request.raw, request.operator.as_deref()),
        device: key.device,
        scan_id: key.scan_id,
        extra: extra.unwrap_or_default(),
    })
}

struct Worker {
    store: Arc<Store>,
    own_sites: Vec<String>,
    stations: HashMap<String, StationState>,
    pending: Pending,
    next_ticket: u64,
    retries: Retries,
    done_tx: mpsc::UnboundedSender<Done>,
    events: Events,
    metrics: Arc<Metrics>,
}

impl Worker {
    /// Sets a station's context and keeps it across restarts; `durable`
    /// for changes people make, not for bookkeeping. A durable change that
    /// cannot be saved is not made (the station keeps its context) and the
    /// error says why; bookkeeping is kept in memory even if its save
    /// fails.
    fn set_context(
        &mut self,
        station: &str,
        context: Context,
        durable: bool,
    ) -> Result<(), StoreError> {
        let bytes = records::encode(&context);
        // A durable save waits for the committer; let tokio move other
        // tasks off this thread meanwhile.
        let saved = tokio::task::block_in_place(|| {
            self.store
                .records()
                .save_station_context(station, &bytes, durable)
        });
        match saved {
            Err(e) if durable => {
                tracing::error!(station, error = %e, "the station context could not be saved; it is unchanged");
                return Err(e);
            }
            Err(e) => {
                tracing::warn!(station, error = %e, "the station's last movement could not be saved");
            }
            Ok(()) => {}
        }
        if let Some(s) = self.stations.get_mut(station) {
            s.context = context;
        }
        Ok(())
    }

    /// Answers a scan the store could not record, in plain words (the
    /// details are logged where the error happened). Not remembered under
    /// the scan id: the handheld may retry.
    fn refuse_unsaved(
        &mut self,
        key: Option<&ScanKey>,
        reply: oneshot::Sender<Answer>,
        e: &StoreError,
    ) {
        let (code, reason) = e.plain();
        self.metrics.rejected(code);
        let answer = Answer::refused(code, reason.to_owned());
        // Not remembered under the scan id: the handheld may retry.
        if let Some(key) = key {
            self.retries.settle(key, &answer, false);
        }
        let _ = reply.send(answer);
    }

    async fn run(mut self, mut jobs: mpsc::Receiver<Job>, mut done: mpsc::UnboundedReceiver<Done>) {
        let mut open = true;
        loop {
            tokio::select! {
                biased;
                Some(d) = done.recv() => self.finish(d),
                job = jobs.recv(), if open => match job {
                    Some(job) => self.handle(job),
                    None => open = false,
                },
                else => break,
            }
            if !open && self.pending.is_empty() {
                break;
            }
        }
        tracing::info!("desk stopped: every decided scan is answered");
    }

    fn handle(&mut self, job: Job) {
        match job {
            Job::Scan(request, reply) => self.scan(request, reply),
            Job::Contexts(reply) => {
                let mut all: Vec<(String, Context)> = self
                    .stations
                    .iter()
                    .map(|(id, s)| (id.clone(), s.context.clone()))
                    .collect();
                all.sort_by(|a, b| a.0.cmp(&b.0));
                let _ = reply.send(all);
            }
            Job::Glance(station, reply) => {
                let view = StoreView {
                    store: &self.store,
                    pending: &self.pending,
                };
                let seen = self.stations.get(&station).map(|s| {
                    super::glance::glance(&station, s.mode, &s.location, &s.context, &view)
                });
                let _ = reply.send(seen);
            }
            Job::PatchContext(station, patch, reply) => {
                let result = match self.stations.get(&station) {
                    Some(s) => {
                        let mut context = s.context.clone();
                        patch.apply(&mut context);
                        match self.set_context(&station, context.clone(), true) {
                            Ok(()) => {
                                tracing::info!(station, "station context changed");
                                Ok(context)
                            }
                            Err(e) => {
                                let (code, reason) = e.plain();
                                Err(ContextRefused::NotSaved { code, reason })
                            }
                        }
                    }
                    None => Err(ContextRefused::NoStation(station.clone())),
                };
                let _ = reply.send(result);
            }
            Job::Policies(station, policies, reply) => {
                let found = match self.stations.get_mut(&station) {
                    Some(s) => {
                        s.policies = policies;
                        true
                    }
                    None => false,
                };
                let _ = reply.send(found);
            }
            Job::Correct(c, reply) => {
                let origin = c
                    .origin
                    .clone()
                    .unwrap_or_else(|| self.store.site().to_owned());
                let id = MovementId { origin, seq: c.seq };
                let operator = c.operator.as_deref().unwrap_or("");
                match self.correction_for(&id, &c.reason, operator, &c.author) {
                    Ok(movement) => {
                        let station = movement.station.clone();
                        self.commit(
                            station,
                            None,
                            None,
                            movement,
                            Vec::new(),
                            Reply::Correction(reply),
                        );
                    }
                    Err(e) => {
                        let _ = reply.send(Err(e));
                    }
                }
            }
        }
    }

    fn correction_for(
        &self,
        id: &MovementId,
        reason: &str,
        operator: &str,
        author: &str,
    ) -> Result<NewMovement, CorrectionError> {
        decide_correction(&self.store, &self.pending, id, reason, operator, author)
    }

    fn scan(&mut self, request: ScanRequest, reply: oneshot::Sender<Answer>) {
        let key = request.key();
        let reply = match &key {
            Some(key) => {
                let body = retries::fingerprint(
                    &request.station,
                    &request.raw,
                    request.operator.as_deref(),
                );
                let Some(reply) = self.retries.arrive(key, body, reply) else {
                    return;
                };
                // Not answered since this daemon started: answered before
                // a restart, if the store has its receipt.
                if let Some(answer) = self.stored_answer(key, &body) {
                    self.answer(Some(key), reply, answer);
                    return;
                }
                reply
            }
            None => reply,
        };
        let Some(state) = self.stations.get(&request.station) else {
            let answer = Answer::refused(
                RefusalCode::UnknownStation,
                format!(
                    "there is no station {:?} in the configuration",
                    request.station
                ),
            );
            self.answer(key.as_ref(), reply, answer);
            return;
        };
        let started = std::time::Instant::now();
        let station = station::Station {
            id: &request.station,
            mode: state.mode,
            location: &state.location,
            policies: &state.policies,
            own_sites: &self.own_sites,
        };
        let input = ScanInput {
            raw: &request.raw,
            frame: request.frame.as_deref().unwrap_or(&request.raw),
            substitute: request.substitute,
            device_profile: &request.device_profile,
            operator: request.operator.as_deref(),
            author: &request.source,
            time: request.time,
        };
        let view = StoreView {
            store: &self.store,
            pending: &self.pending,
        };
        let decision = station::decide(&station, &state.context, &input, &view);
        self.metrics.decided(started.elapsed());
        match decision {
            Decision::Accept { movement, warnings } => {
                let warnings: Vec<WarningOut> =
                    warnings.into_iter().map(WarningOut::from).collect();
                let receipt = receipt_of(&request, serde_json::to_vec(&warnings).ok());
                self.commit(
                    request.station,
                    key,
                    receipt,
                    *movement,
                    warnings,
                    Reply::Scan(reply),
                );
            }
            Decision::SetContext { context, message } => {
                if let Err(e) = self.set_context(&request.station, context, true) {
                    self.refuse_unsaved(key.as_ref(), reply, &e);
                    return;
                }
                tracing::info!(
                    station = request.station,
                    message,
                    "station context changed"
                );
                self.events.send(Event::context(&request, &message));
                self.answer(key.as_ref(), reply, Answer::context(message));
            }
            Decision::Void { context } => {
                let last = self.stations[&request.station]
                    .context
                    .last_movement
                    .clone();
                if let Err(e) = self.set_context(&request.station, context, true) {
                    self.refuse_unsaved(key.as_ref(), reply, &e);
                    return;
                }
                let operator = request
                    .operator
                    .clone()
                    .or_else(|| self.stations[&request.station].context.operator.clone())
                    .unwrap_or_default();
                let void = |id| {
                    self.correction_for(&id, "voided at the station", &operator, &request.source)
                };
                match last.map(void) {
                    Some(Ok(movement)) => {
                        let receipt = receipt_of(&request, None);
                        self.commit(
                            request.station,
                            key,
                            receipt,
                            movement,
                            Vec::new(),
                            Reply::Scan(reply),
                        )
                    }
                    Some(Err(e)) => self.reject(
                        request,
                        reply,
                        Refusal {
                            code: RefusalCode::VoidFailed,
                            reason: e.to_string(),
                        },
                    ),
                    None => self.reject(
                        request,
                        reply,
                        Refusal {
                            code: RefusalCode::NothingToVoid,
                            reason: "this station has no scan to void".to_owned(),
                        },
                    ),
                }
            }
            Decision::Reject(refusal) => self.reject(request, reply, refusal),
        }
    }

    /// Records the refusal durably, then answers.
    fn reject(&mut self, request: ScanRequest, reply: oneshot::Sender<Answer>, refusal: Refusal) {
        tracing::info!(
            station = request.station,
            code = refusal.code.as_str(),
            reason = refusal.reason,
            "scan refused"
        );
        self.metrics.rejected(refusal.code);
        self.events.send(Event::refused(&request, &refusal));
        let operator = request
            .operator
            .clone()
            .or_else(|| {
                self.stations
                    .get(&request.station)
                    .and_then(|s| s.context.operator.clone())
            })
            .unwrap_or_default();
        let rejection = NewRejection {
            code: refusal.code.as_str().to_owned(),
            words: refusal.reason.clone(),
            station: request.station.clone(),
            operator,
            raw: request.raw.clone(),
            time: request.time,
            raw_truncated: None,
        };
        let durable = self
            .store
            .journal()
            .reject_async(rejection, receipt_of(&request, None));
        let answer = Answer::refused(refusal.code, refusal.reason);
        let (tx, rx) = oneshot::channel();
        self.answer(request.key().as_ref(), tx, answer);
        tokio::spawn(async move {
            let answer = rx.await;
            if let Err(e) = durable.await {
                tracing::error!(error = %e, "a rejected scan could not be recorded");
            }
            if let Ok(answer) = answer {
                let _ = reply.send(answer);
            }
        });
    }

    fn commit(
        &mut self,
        station: String,
        scan_key: Option<ScanKey>,
        receipt: Option<ScanReceipt>,
        movement: NewMovement,
        warnings: Vec<WarningOut>,
        reply: Reply,
    ) {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.pending.add(ticket, movement.clone());
        let durable = self.store.journal().commit_with_receipt(movement, receipt);
        let done = self.done_tx.clone();
        let started = std::time::Instant::now();
        let metrics = self.metrics.clone();
        tokio::spawn(async move {
            let result = durable.await;
            metrics.committed(started.elapsed());
            let _ = done.send(Done {
                ticket,
                station,
                scan_key,
                result,
                warnings,
                reply,
            });
        });
    }

    fn finish(&mut self, done: Done) {
        self.pending.remove(done.ticket);
        match (done.result, done.reply) {
            (Ok(movement), Reply::Scan(reply)) => {
                tracing::info!(
                    station = done.station,
                    seq = movement.seq,
                    gtin = movement.body.gtin,
                    kind = movement.body.kind.name(),
                    "movement recorded"
                );
                self.metrics.accepted();
                if let Some(s) = self.stations.get(&done.station) {
                    let mut context = s.context.clone();
                    // A void is not itself voidable: a second `CMD:VOID`
                    // finds nothing to void.
                    context.last_movement =
                        (movement.body.kind != Kind::Correction).then(|| movement.id());
                    // Bookkeeping: kept in memory even if unsaved.
                    let _ = self.set_context(&done.station, context, false);
                }
                self.events
                    .send(Event::accepted(&done.station, &movement, &done.warnings));
                let answer = Answer {
                    accepted: true,
                    movement: Some(movement),
                    code: None,
                    reason: None,
                    warnings: done.warnings,
                    message: None,
                };
                self.answer(done.scan_key.as_ref(), reply, answer);
            }
            (Ok(movement), Reply::Correction(reply)) => {
                tracing::info!(seq = movement.seq, corrects = ?movement.body.corrects, "correction recorded");
                self.events
                    .send(Event::accepted(&done.station, &movement, &[]));
                let _ = reply.send(Ok(movement));
            }
            (Err(e), Reply::Scan(reply)) => {
                tracing::error!(
                    station = done.station,
                    error = %e,
                    "a movement could not be recorded"
                );
                self.refuse_unsaved(done.scan_key.as_ref(), reply, &e);
            }
            (Err(e), Reply::Correction(reply)) => {
                tracing::error!(error = %e, "a correction could not be recorded");
                let _ = reply.send(Err(CorrectionError::not_saved(&e)));
            }
        }
    }

    /// Answers a scan, remembering the answer under its scan id.
    /// The answer a scan id got before this daemon started, from its
    /// receipt in the store: the same movement, or the same refusal; or
    /// `scan_id_reused` for another scan under the id. `None` when there
    /// is no receipt (or it cannot be read: the scan is decided again, and
    /// the station rules refuse a duplicate serial).
    fn stored_answer(&self, key: &ScanKey, body: &[u8; 32]) -> Option<Answer> {
        let stored = match self.store.journal().scan_receipt(&key.device, &key.scan_id) {
            Ok(stored) => stored?,
            Err(e) => {
                tracing::warn!(device = key.device, scan_id = key.scan_id, error = %e, "a scan receipt could not be read; deciding the scan again");
                return None;
            }
        };
        if &stored.body != body {
            return Some(retries::reused(key));
        }
        match stored.outcome {
            Outcome::Accepted(id) => {
                let movement = self.store.journal().movement(&id.origin, id.seq).ok()??;
                Some(Answer {
                    accepted: true,
                    movement: Some(movement),
                    code: None,
                    reason: None,
                    warnings: serde_json::from_slice(&stored.extra).unwrap_or_default(),
                    message: None,
                })
            }
            Outcome::Refused { code, words } => {
                Some(Answer::refused(RefusalCode::from_name(&code)?, words))
            }
        }
    }

    fn answer(&mut self, key: Option<&ScanKey>, reply: oneshot::Sender<Answer>, answer: Answer) {
        if let Some(key) = key {
            self.retries.settle(key, &answer, true);
        }
        let _ = reply.send(answer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::movement::tests_support::sample;
    use crate::station::View;
    use crate::store::OpenOptions;

    fn store(dir: &std::path::Path) -> Store {
        Store::open(dir, OpenOptions::create("north".into())).unwrap()
    }

    fn dispatch_of(receipt: &Movement) -> NewMovement {
        let mut d = receipt.body.clone();
        d.kind = Kind::Dispatch;
        d.counterparty.name = Some("City Pharmacy".into());
        d
    }

    /// The desk's decision on a correction of `north:seq`.
    /// The desk's decision on a correction of `north:seq`; a refusal must
    /// be the rules' (not a missing movement or the store's), in words.
    fn void(store: &Store, pending: &Pending, seq: u64) -> Result<NewMovement, String> {
        let id = MovementId {
            origin: "north".into(),
            seq,
        };
        decide_correction(store, pending, &id, "scanned in error", "ann", "hh-1").map_err(|e| {
            assert!(matches!(e, CorrectionError::Refused(_)), "{e:?}");
            e.to_string()
        })
    }

    #[test]
    fn a_void_decided_while_the_dispatch_is_still_being_committed_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());
        let receipt = store.journal().commit(sample(1)).unwrap();
        let mut pending = Pending::default();
        // Decided, sent to the committer, not durable yet.
        pending.add(0, dispatch_of(&receipt));
        let e = void(&store, &pending, 1).unwrap_err();
        assert!(e.contains("has moved since"), "{e}");
        assert!(e.contains("dispatch of"), "{e}");
        assert!(e.contains("City Pharmacy (being recorded now)"), "{e}");
        // Once durable, the refusal names it by seq.
        store.journal().commit(dispatch_of(&receipt)).unwrap();
        let e = void(&store, &Pending::default(), 1).unwrap_err();
        assert!(e.contains("void the dispatch of"), "{e}");
        assert!(e.contains("(seq 2)"), "{e}");
        // Undo in reverse order: the dispatch, then the receipt.
        let undo = void(&store, &Pending::default(), 2).unwrap();
        store.journal().commit(undo).unwrap();
        void(&store, &Pending::default(), 1).unwrap();
    }

    #[test]
    fn a_dispatch_decided_while_a_void_is_pending_sees_the_unit_gone() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());
        store.journal().commit(sample(1)).unwrap();
        let undo = void(&store, &Pending::default(), 1).unwrap();
        let mut pending = Pending::default();
        pending.add(0, undo);
        let view = StoreView {
            store: &store,
            pending: &pending,
        };
        let serial = sample(1).serial.unwrap();
        let state = view.serial_state(&sample(1).gtin, &serial).unwrap();
        assert!(
            matches!(state, Some(crate::model::SerialState::Voided { .. })),
            "{state:?}"
        );
    }

    #[test]
    fn a_movement_is_corrected_at_most_once_recorded_or_pending() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());
        let mut lot_only = sample(1);
        lot_only.serial = None;
        store.journal().commit(lot_only.clone()).unwrap();
        store.journal().commit(lot_only).unwrap();
        let undo = void(&store, &Pending::default(), 1).unwrap();
        let mut pending = Pending::default();
        pending.add(0, undo.clone());
        let e = void(&store, &pending, 1).unwrap_err();
        assert!(e.contains("being corrected right now"), "{e}");
        let recorded = store.journal().commit(undo).unwrap();
        let e = void(&store, &Pending::default(), 1).unwrap_err();
        assert!(
            e.contains(&format!("already corrected by north:{}", recorded.seq)),
            "{e}"
        );
    }

    #[test]
    fn a_correction_may_not_take_a_lot_below_zero() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());
        let mut receipt = sample(1);
        receipt.serial = None;
        receipt.quantity = crate::model::Quantity::Units(5);
        let r = store.journal().commit(receipt).unwrap();
        let mut out = dispatch_of(&r);
        out.quantity = crate::model::Quantity::Units(3);
        let mut pending = Pending::default();
        pending.add(0, out.clone());
        let e = void(&store, &pending, 1).unwrap_err();
        assert!(e.contains("below zero at A-01 (2 on hand)"), "{e}");
        store.journal().commit(out).unwrap();
        let e = void(&store, &Pending::default(), 1).unwrap_err();
        assert!(e.contains("lot LOT42"), "{e}");
    }
}
