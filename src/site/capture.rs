//! EPCIS capture at the site: a partner's document checked by
//! `epcis::capture`, its expected receipts and the capture job's result
//! kept in the store's side records, so `GET /epcis/v2/capture/{id}` and
//! the receiving desk find them after a restart. Only accepted documents
//! make a job: a refused one is answered with its errors and leaves
//! nothing behind. An error declaration withdraws what its event added.
//! What of an expected receipt has arrived is read here from the journal
//! (the movements received under its despatch advice) and compared by
//! `epcis::receipt_progress`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::epcis::capture::{self, CaptureError, ErrorKind, ExpectedReceipt, Limits, Note};
use crate::epcis::receipt_progress::{self, Progress, Received};
use crate::model::Kind;
use crate::store::view::Document;
use crate::store::Store;

/// The side tree of capture jobs, by job id.
const JOBS: &str = "epcis_capture_jobs";
/// The side tree of expected receipts, by despatch advice.
const EXPECTED: &str = "expected_receipts";

/// A capture job's result, as `GET /epcis/v2/capture/{id}` answers it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    /// The job's id, the last part of its `Location`.
    pub capture_id: String,
    /// Whether every event was captured (a refused document makes no job).
    pub success: bool,
    /// Done: capture is checked and stored before the answer.
    pub running: bool,
    /// How many events were captured.
    pub event_count: usize,
    /// The despatch advices now expected.
    pub despatch_advices: Vec<String>,
    /// Errors (none for a job: refused documents make none).
    pub errors: Vec<String>,
    /// Events accepted and ignored, each with its path and why.
    #[serde(default)]
    pub ignored: Vec<Note>,
    /// The eventIDs whose error declarations withdrew what they added.
    #[serde(default)]
    pub withdrawn: Vec<String>,
    /// The partner that captured it.
    pub captured_by: String,
    /// When (UTC, RFC 3339).
    pub captured_at: String,
}

/// Why a capture was not made.
#[derive(Debug, thiserror::Error)]
pub enum CaptureFailed {
    /// The document is refused; every error with its path.
    #[error("the document is refused whole: {} error(s)", .0.len())]
    Refused(Vec<CaptureError>),
    /// The store could not keep it.
    #[error("the capture could not be stored: {0}")]
    Store(#[from] crate::store::StoreError),
    /// A stored record that does not read back.
    #[error("a stored capture record is unreadable: {0}")]
    Record(#[from] serde_json::Error),
}

/// Checks `doc` from the partner `partner` bound to `party` for the site
/// `site_gln` within `limits`, stores its expected receipts (merged with
/// those of the same despatch advice), withdraws what its error
/// declarations name, and stores its job, durably; the job.
pub fn capture(
    store: &Store,
    doc: &Value,
    partner: &str,
    party: &str,
    site_gln: &str,
    limits: Limits,
) -> Result<Job, CaptureFailed> {
    let checked = capture::check(doc, party, site_gln, limits).map_err(CaptureFailed::Refused)?;
    let mut ignored = checked.notes;
    // Everything is read and decided before anything is written, so a
    // refusal found late leaves nothing.
    let mut changed: Vec<ExpectedReceipt> = Vec::new();
    let mut refused = Vec::new();
    let mut despatch_advices = Vec::new();
    let mut event_count = 0;
    for receipt in checked.receipts {
        event_count += receipt.events.len();
        despatch_advices.push(receipt.despatch_advice.clone());
        match expected(store, &receipt.despatch_advice)? {
            Some(known) if known.from_party != receipt.from_party => refused.push(CaptureError {
                path: "/epcisBody/eventList".into(),
                message: format!(
                    "despatch advice {} was captured from party {}: a partner adds only to its own despatch advices",
                    receipt.despatch_advice, known.from_party
                ),
                kind: ErrorKind::NotYourParty,
            }),
            Some(mut known) => {
                known.merge(receipt);
                changed.push(known);
            }
            None => changed.push(receipt),
        }
    }
    let mut withdrawn = Vec::new();
    if !checked.withdrawals.is_empty() {
        let mut stored = expected_receipts(store)?;
        for w in checked.withdrawals {
            let in_changed = changed
                .iter_mut()
                .find(|r| r.event_ids.contains(&w.event_id));
            let target = match in_changed {
                Some(r) => Some(r),
                None => match stored
                    .iter()
                    .position(|r| r.event_ids.contains(&w.event_id))
                {
                    Some(k) => {
                        changed.push(stored.swap_remove(k));
                        changed.last_mut()
                    }
                    None => None,
                },
            };
            match target {
                Some(r) if r.from_party != party => refused.push(CaptureError {
                    path: format!("{}/eventID", w.path),
                    message: format!(
                        "event {} was captured from party {}: a partner withdraws only its own events",
                        w.event_id, r.from_party
                    ),
                    kind: ErrorKind::NotYourParty,
                }),
                Some(r) => {
                    r.withdraw(&w.event_id);
                    event_count += 1;
                    withdrawn.push(w.event_id);
                }
                None => ignored.push(Note {
                    path: w.path,
                    reason: format!(
                        "the errorDeclaration names event {}, which was not captured here: ignored",
                        w.event_id
                    ),
                }),
            }
        }
    }
    if !refused.is_empty() {
        return Err(CaptureFailed::Refused(refused));
    }
    for receipt in &changed {
        put(store, EXPECTED, &receipt.despatch_advice, receipt, false)?;
    }
    let now = chrono::Utc::now();
    let mut id = Sha256::new();
    id.update(partner.as_bytes());
    id.update(now.timestamp_nanos_opt().unwrap_or_default().to_be_bytes());
    id.update(doc.to_string().as_bytes());
    let job = Job {
        capture_id: hex::encode(&id.finalize()[..8]),
        success: true,
        running: false,
        event_count,
        despatch_advices,
        errors: Vec::new(),
        ignored,
        withdrawn,
        captured_by: partner.to_owned(),
        captured_at: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    };
    // Durable: the job is answered as accepted only once on disk, and
    // the sled flush takes the expected receipts along.
    put(store, JOBS, &job.capture_id, &job, true)?;
    tracing::info!(
        capture_id = %job.capture_id,
        partner,
        events = job.event_count,
        despatch_advices = ?job.despatch_advices,
        ignored = job.ignored.len(),
        withdrawn = job.withdrawn.len(),
        "EPCIS document captured"
    );
    Ok(job)
}

/// An expected receipt with what of it arrived here, as the API and the
/// console show it.
#[derive(Debug, Clone, Serialize)]
pub struct ReceiptStatus {
    /// What the partner announced.
    #[serde(flatten)]
    pub expected: ExpectedReceipt,
    /// What arrived, what is missing, what was not announced.
    pub progress: Progress,
}

/// Every expected receipt with its progress.
pub fn statuses(store: &Store) -> Result<Vec<ReceiptStatus>, CaptureFailed> {
    expected_receipts(store)?
        .into_iter()
        .map(|r| status(store, r))
        .collect()
}

/// The expected receipt whose despatch advice is `document` (as captured,
/// or its short form) with its progress.
pub fn status_of(store: &Store, document: &str) -> Result<Option<ReceiptStatus>, CaptureFailed> {
    expected_for_station(store, document)?
        .map(|r| status(store, r))
        .transpose()
}

/// `expected` against the receipts this site recorded under its despatch
/// advice (by its short form, as a station's context names it, or whole);
/// a corrected receipt does not count.
fn status(store: &Store, expected: ExpectedReceipt) -> Result<ReceiptStatus, CaptureFailed> {
    let mut ids = store
        .view()
        .by_document(Document::DespatchAdvice, &expected.document)?;
    if expected.despatch_advice != expected.document {
        ids.extend(
            store
                .view()
                .by_document(Document::DespatchAdvice, &expected.despatch_advice)?,
        );
    }
    ids.sort();
    ids.dedup();
    let mut received = Vec::new();
    for id in ids {
        if id.origin != store.site() {
            continue;
        }
        let Some(m) = store.journal().movement(&id.origin, id.seq)? else {
            continue;
        };
        if !matches!(m.body.kind, Kind::Receipt | Kind::TransferIn)
            || !store.view().corrections_of(&id.origin, id.seq)?.is_empty()
        {
            continue;
        }
        let (mantissa, scale, unit) = m.body.quantity.parts();
        received.push(Received {
            gtin: m.body.gtin.clone(),
            serial: m.body.serial.clone(),
            lot: m.body.lot.clone(),
            quantity: mantissa as f64 / 10f64.powi(i32::from(scale)),
            uom: crate::epcis::vocabulary::unit_code(unit).map(str::to_owned),
        });
    }
    let progress = receipt_progress::progress(&expected, &received);
    Ok(ReceiptStatus { expected, progress })
}

/// The job `id`, if there is one.
pub fn job(store: &Store, id: &str) -> Result<Option<Job>, CaptureFailed> {
    fetch(store, JOBS, id)
}

/// The expected receipt of `despatch_advice`, if a partner sent one.
pub fn expected(
    store: &Store,
    despatch_advice: &str,
) -> Result<Option<ExpectedReceipt>, CaptureFailed> {
    fetch(store, EXPECTED, despatch_advice)
}

/// The expected receipt a receiving station's despatch advice refers to:
/// as captured (`https://id.gs1.org/402/GSIN` when the station scanned the
/// GSIN, since that is how despatch advices are exported), else the one
/// whose short form (`DA-77`) it is.
pub fn expected_for_station(
    store: &Store,
    despatch_advice: &str,
) -> Result<Option<ExpectedReceipt>, CaptureFailed> {
    for key in [
        despatch_advice.to_owned(),
        format!("https://id.gs1.org/402/{despatch_advice}"),
    ] {
        if let Some(found) = expected(store, &key)? {
            return Ok(Some(found));
        }
    }
    Ok(expected_receipts(store)?
        .into_iter()
        .find(|r| r.document == despatch_advice))
}

/// Every expected receipt, by despatch advice.
pub fn expected_receipts(store: &Store) -> Result<Vec<ExpectedReceipt>, CaptureFailed> {
    store
        .records()
        .list(EXPECTED)?
        .into_iter()
        .map(|(_, v)| serde_json::from_slice(&v).map_err(CaptureFailed::from))
        .collect()
}

/// Saves `value` as JSON at `key` of the side tree `tree`.
fn put<T: Serialize>(
    store: &Store,
    tree: &str,
    key: &str,
    value: &T,
    durable: bool,
) -> Result<(), CaptureFailed> {
    let bytes = serde_json::to_vec(value)?;
    Ok(store
        .records()
        .save(tree, key.as_bytes(), &bytes, durable)?)
}

/// The JSON record at `key` of the side tree `tree`, if there is one.
fn fetch<T: serde::de::DeserializeOwned>(
    store: &Store,
    tree: &str,
    key: &str,
) -> Result<Option<T>, CaptureFailed> {
    match store.records().get(tree, key.as_bytes())? {
        Some(v) => Ok(Some(serde_json::from_slice(&v)?)),
        None => Ok(None),
    }
}
