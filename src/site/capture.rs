//! EPCIS capture at the site: a partner's document checked by
//! `epcis::capture`, its expected receipts and the capture job's result
//! kept in the store's side records, so `GET /epcis/v2/capture/{id}` and
//! the receiving desk find them after a restart. Only accepted documents
//! make a job: a refused one is answered with its errors and leaves
//! nothing behind.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::epcis::capture::{self, CaptureError, ExpectedReceipt};
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
/// `site_gln`, stores its expected receipts (merged with those of the
/// same despatch advice) and its job, durably; the job.
pub fn capture(
    store: &Store,
    doc: &Value,
    partner: &str,
    party: &str,
    site_gln: &str,
) -> Result<Job, CaptureFailed> {
    let receipts = capture::check(doc, party, site_gln).map_err(CaptureFailed::Refused)?;
    let mut event_count = 0;
    let mut despatch_advices = Vec::new();
    for mut receipt in receipts {
        event_count += receipt.event_ids.len().max(1);
        if let Some(known) = expected(store, &receipt.despatch_advice)? {
            if known.from_party == receipt.from_party {
                let mut merged = known;
                merged.merge(receipt);
                receipt = merged;
            }
        }
        put(store, EXPECTED, &receipt.despatch_advice, &receipt, false)?;
        despatch_advices.push(receipt.despatch_advice);
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
        captured_by: partner.to_owned(),
        captured_at: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    };
    // Durable: the job is answered as accepted only once on disk, and
    // the sled flush takes the expected receipts along.
    put(store, JOBS, &job.capture_id, &job, true)?;
    Ok(job)
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
