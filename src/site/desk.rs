//! The desk: one task that decides every scan of the site in arrival order,
//! sends accepted movements to the store's group committer, and answers
//! each scan only once its movement (or its rejection) is durable.
//!
//! Deciding in one place is what keeps two scans of the same serial, at two
//! stations a millisecond apart, from both being accepted: each decision
//! sees the movements decided before it, durable or still in flight
//! (`view::Pending`). Committing is pipelined, so throughput comes from the
//! committer's batches, not from waiting scan by scan.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use super::events::{Event, Events};
use super::metrics::Metrics;
use super::view::{Pending, StoreView};
use crate::config::Config;
use crate::station::{
    self, records, Context, Decision, Mode, Policies, Refusal, ScanInput, Warning,
};
use crate::store::movement::{Kind, Movement, MovementId, NewMovement, NewRejection};
use crate::store::Store;

/// One scan for the desk, from a serial scanner or a handheld.
#[derive(Debug, Clone)]
pub struct ScanRequest {
    pub station: String,
    /// Exactly as the device sent it.
    pub raw: Vec<u8>,
    /// What the parser reads (a vendor label ID mapped to AIM); `None` when
    /// it is `raw` itself.
    pub frame: Option<Vec<u8>>,
    pub substitute: Option<u8>,
    /// The device profile, or `http` for handhelds.
    pub device_profile: String,
    /// The port or handheld id, for the event stream.
    pub source: String,
    pub operator: Option<String>,
    /// A handheld's id for this scan: a retry gets the first answer.
    pub scan_id: Option<String>,
    pub time: DateTime<Utc>,
}

/// The desk's answer, as the handheld API returns it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Answer {
    pub accepted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub movement: Option<Movement>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub warnings: Vec<WarningOut>,
    /// A context, command or badge barcode: what it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WarningOut {
    pub code: String,
    pub message: String,
}

impl From<Warning> for WarningOut {
    fn from(w: Warning) -> WarningOut {
        WarningOut {
            code: w.code.to_owned(),
            message: w.message,
        }
    }
}

impl Answer {
    fn refused(code: &str, reason: String) -> Answer {
        Answer {
            accepted: false,
            movement: None,
            code: Some(code.to_owned()),
            reason: Some(reason),
            warnings: Vec::new(),
            message: None,
        }
    }

    fn context(message: String) -> Answer {
        Answer {
            accepted: true,
            movement: None,
            code: None,
            reason: None,
            warnings: Vec::new(),
            message: Some(message),
        }
    }
}

/// A change to a station's context from the API: fields given replace the
/// current ones; `null` clears.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextPatch {
    #[serde(default, with = "patch")]
    pub mode: Option<Option<Mode>>,
    #[serde(default, with = "patch")]
    pub operator: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::object")]
    pub supplier: Option<Option<crate::store::movement::Counterparty>>,
    #[serde(default, with = "patch")]
    pub purchase_order: Option<Option<String>>,
    #[serde(default, with = "patch")]
    pub despatch_advice: Option<Option<String>>,
    #[serde(default, with = "patch")]
    pub sscc: Option<Option<String>>,
    #[serde(default, with = "patch")]
    pub order: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::object")]
    pub customer: Option<Option<crate::store::movement::Counterparty>>,
    #[serde(default, with = "patch")]
    pub return_reason: Option<Option<String>>,
    #[serde(default, with = "patch")]
    pub location: Option<Option<String>>,
}

/// `absent` → None, `null` → Some(None), value → Some(Some(value)).
mod patch {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }

    /// As `deserialize`, for a struct that must come as a JSON object:
    /// serde would also take `[gln, name]`, which the API does not offer.
    pub fn object<'de, D: Deserializer<'de>, T: serde::de::DeserializeOwned>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        let Some(map) = Option::<serde_json::Map<String, serde_json::Value>>::deserialize(d)?
        else {
            return Ok(Some(None));
        };
        serde_json::from_value(serde_json::Value::Object(map))
            .map(|v| Some(Some(v)))
            .map_err(serde::de::Error::custom)
    }
}

impl ContextPatch {
    fn apply(self, c: &mut Context) {
        fn set<T>(field: &mut Option<T>, value: Option<Option<T>>) {
            if let Some(v) = value {
                *field = v;
            }
        }
        set(&mut c.mode, self.mode);
        set(&mut c.operator, self.operator);
        set(&mut c.purchase_order, self.purchase_order);
        set(&mut c.despatch_advice, self.despatch_advice);
        set(&mut c.sscc, self.sscc);
        set(&mut c.order, self.order);
        set(&mut c.return_reason, self.return_reason);
        set(&mut c.location, self.location);
        if let Some(s) = self.supplier {
            c.supplier = s.unwrap_or_default();
        }
        if let Some(s) = self.customer {
            c.customer = s.unwrap_or_default();
        }
    }
}

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
        oneshot::Sender<Result<Context, String>>,
    ),
    Correct(Correction, oneshot::Sender<Result<Movement, String>>),
}

/// `scantrail correct` and the API: reverse a movement, with a reason.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Correction {
    #[serde(default)]
    pub origin: Option<String>,
    pub seq: u64,
    pub reason: String,
    #[serde(default)]
    pub operator: Option<String>,
}

/// A commit finished: what it was for and how it went.
struct Done {
    ticket: u64,
    station: String,
    scan_id: Option<String>,
    result: Result<Movement, String>,
    warnings: Vec<WarningOut>,
    reply: Reply,
}

enum Reply {
    Scan(oneshot::Sender<Answer>),
    Correction(oneshot::Sender<Result<Movement, String>>),
}

/// How many handheld answers are remembered for retries.
const REMEMBERED_SCAN_IDS: usize = 100_000;

/// The handle every source and request handler holds.
#[derive(Clone)]
pub struct Desk {
    jobs: mpsc::Sender<Job>,
}

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
        let saved: HashMap<String, Context> = match store.station_contexts() {
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
            answered: HashMap::new(),
            answered_order: VecDeque::new(),
            waiting: HashMap::new(),
            done_tx,
            events,
            metrics,
        };
        let task = tokio::spawn(worker.run(rx, done_rx));
        (Desk { jobs: tx }, task)
    }

    pub async fn scan(&self, request: ScanRequest) -> Result<Answer, Closed> {
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

    pub async fn contexts(&self) -> Result<Vec<(String, Context)>, Closed> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Job::Contexts(tx))
            .await
            .map_err(|_| Closed)?;
        rx.await.map_err(|_| Closed)
    }

    pub async fn patch_context(
        &self,
        station: String,
        patch: ContextPatch,
    ) -> Result<Result<Context, String>, Closed> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Job::PatchContext(station, patch, tx))
            .await
            .map_err(|_| Closed)?;
        rx.await.map_err(|_| Closed)
    }

    pub async fn correct(
        &self,
        correction: Correction,
    ) -> Result<Result<Movement, String>, Closed> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Job::Correct(correction, tx))
            .await
            .map_err(|_| Closed)?;
        rx.await.map_err(|_| Closed)
    }
}

struct Worker {
    store: Arc<Store>,
    own_sites: Vec<String>,
    stations: HashMap<String, StationState>,
    pending: Pending,
    next_ticket: u64,
    answered: HashMap<String, Answer>,
    answered_order: VecDeque<String>,
    /// Retries of a scan whose first answer is not known yet.
    waiting: HashMap<String, Vec<oneshot::Sender<Answer>>>,
    done_tx: mpsc::UnboundedSender<Done>,
    events: Events,
    metrics: Arc<Metrics>,
}

impl Worker {
    /// Sets a station's context and keeps it across restarts; `durable`
    /// for changes people make, not for bookkeeping.
    fn set_context(&mut self, station: &str, context: Context, durable: bool) {
        let bytes = records::encode(&context);
        // A durable save waits for the committer; let tokio move other
        // tasks off this thread meanwhile.
        let saved = tokio::task::block_in_place(|| {
            self.store.save_station_context(station, &bytes, durable)
        });
        if let Err(e) = saved {
            tracing::warn!(station, error = %e, "the station context could not be saved");
        }
        if let Some(s) = self.stations.get_mut(station) {
            s.context = context;
        }
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
            Job::PatchContext(station, patch, reply) => {
                let result = match self.stations.get(&station) {
                    Some(s) => {
                        let mut context = s.context.clone();
                        patch.apply(&mut context);
                        tracing::info!(station, "station context changed");
                        self.set_context(&station, context.clone(), true);
                        Ok(context)
                    }
                    None => Err(format!(
                        "there is no station {station:?} in the configuration"
                    )),
                };
                let _ = reply.send(result);
            }
            Job::Correct(c, reply) => {
                let origin = c
                    .origin
                    .clone()
                    .unwrap_or_else(|| self.store.site().to_owned());
                let id = MovementId { origin, seq: c.seq };
                match self.correction_for(&id, &c.reason, c.operator.as_deref().unwrap_or("")) {
                    Ok(movement) => {
                        let station = movement.station.clone();
                        self.commit(
                            station,
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
    ) -> Result<NewMovement, String> {
        let original = self
            .store
            .movement(&id.origin, id.seq)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| {
                format!(
                    "there is no movement {}:{} in the journal",
                    id.origin, id.seq
                )
            })?;
        station::correction(&original, reason, operator, Utc::now())
    }

    fn scan(&mut self, request: ScanRequest, reply: oneshot::Sender<Answer>) {
        if let Some(id) = &request.scan_id {
            if let Some(answer) = self.answered.get(id) {
                let _ = reply.send(answer.clone());
                return;
            }
            if let Some(waiters) = self.waiting.get_mut(id) {
                waiters.push(reply);
                return;
            }
            self.waiting.insert(id.clone(), Vec::new());
        }
        let Some(state) = self.stations.get(&request.station) else {
            let answer = Answer::refused(
                "unknown_station",
                format!(
                    "there is no station {:?} in the configuration",
                    request.station
                ),
            );
            self.answer(request.scan_id.as_deref(), reply, answer);
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
                let warnings = warnings.into_iter().map(WarningOut::from).collect();
                self.commit(
                    request.station,
                    request.scan_id,
                    movement,
                    warnings,
                    Reply::Scan(reply),
                );
            }
            Decision::SetContext { context, message } => {
                tracing::info!(
                    station = request.station,
                    message,
                    "station context changed"
                );
                self.set_context(&request.station, context, true);
                self.events.send(Event::context(&request, &message));
                self.answer(request.scan_id.as_deref(), reply, Answer::context(message));
            }
            Decision::Void { context } => {
                let last = self.stations[&request.station]
                    .context
                    .last_movement
                    .clone();
                self.set_context(&request.station, context, true);
                let operator = request
                    .operator
                    .clone()
                    .or_else(|| self.stations[&request.station].context.operator.clone())
                    .unwrap_or_default();
                match last.map(|id| self.correction_for(&id, "voided at the station", &operator)) {
                    Some(Ok(movement)) => self.commit(
                        request.station,
                        request.scan_id,
                        movement,
                        Vec::new(),
                        Reply::Scan(reply),
                    ),
                    Some(Err(e)) => self.reject(
                        request,
                        reply,
                        Refusal {
                            code: "void_failed",
                            reason: e,
                        },
                    ),
                    None => self.reject(
                        request,
                        reply,
                        Refusal {
                            code: "nothing_to_void",
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
            code = refusal.code,
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
            code: refusal.code.to_owned(),
            words: refusal.reason.clone(),
            station: request.station.clone(),
            operator,
            raw: request.raw.clone(),
            time: request.time,
        };
        let durable = self.store.reject_async(rejection);
        let answer = Answer::refused(refusal.code, refusal.reason);
        let (tx, rx) = oneshot::channel();
        self.answer(request.scan_id.as_deref(), tx, answer);
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
        scan_id: Option<String>,
        movement: NewMovement,
        warnings: Vec<WarningOut>,
        reply: Reply,
    ) {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.pending.add(ticket, movement.clone());
        let durable = self.store.commit_async(movement);
        let done = self.done_tx.clone();
        let started = std::time::Instant::now();
        let metrics = self.metrics.clone();
        tokio::spawn(async move {
            let result = durable.await.map_err(|e| e.to_string());
            metrics.committed(started.elapsed());
            let _ = done.send(Done {
                ticket,
                station,
                scan_id,
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
                    self.set_context(&done.station, context, false);
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
                self.answer(done.scan_id.as_deref(), reply, answer);
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
                    error = e,
                    "a movement could not be recorded"
                );
                self.metrics.rejected("store_error");
                // Not remembered under the scan id: the handheld may retry.
                if let Some(id) = &done.scan_id {
                    for w in self.waiting.remove(id).unwrap_or_default() {
                        let _ = w.send(Answer::refused("store_error", e.clone()));
                    }
                }
                let _ = reply.send(Answer::refused(
                    "store_error",
                    format!("the scan could not be recorded ({e}); scan again"),
                ));
            }
            (Err(e), Reply::Correction(reply)) => {
                let _ = reply.send(Err(e));
            }
        }
    }

    /// Answers a scan, remembering the answer under its scan id.
    fn answer(&mut self, scan_id: Option<&str>, reply: oneshot::Sender<Answer>, answer: Answer) {
        if let Some(id) = scan_id {
            for w in self.waiting.remove(id).unwrap_or_default() {
                let _ = w.send(answer.clone());
            }
            if self.answered_order.len() >= REMEMBERED_SCAN_IDS {
                if let Some(old) = self.answered_order.pop_front() {
                    self.answered.remove(&old);
                }
            }
            self.answered_order.push_back(id.to_owned());
            self.answered.insert(id.to_owned(), answer.clone());
        }
        let _ = reply.send(answer);
    }
}
