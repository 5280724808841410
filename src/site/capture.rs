//! EPCIS capture at the site: a partner's document checked by
//! `epcis::capture`, its expected receipts and the capture job's result
//! kept in the store's side records, so `GET /epcis/v2/capture/{id}` and
//! the receiving desk find them after a restart. Only accepted documents
//! make a job: a refused one is answered with its errors and leaves
//! nothing behind. An error declaration withdraws what its event added.
//! What of an expected receipt has arrived is read here from the journal
//! (the movements received under its despatch advice) and compared by
//! `epcis::receipt_progress`.

use serde::Serialize;
use serde_json::Value;

use crate::epcis::capture::{self, CaptureError, Job, Limits};
use crate::epcis::expected::ExpectedReceipt;
use crate::epcis::receipt_progress::{self, Progress, Received};
use crate::model::Kind;
use crate::store::view::Document;
use crate::store::Store;

/// The side tree of capture jobs, by job id.
const JOBS: &str = "epcis_capture_jobs";
/// The side tree of expected receipts, by despatch advice.
const EXPECTED: &str = "expected_receipts";
/// The side tree of expected receipts captured at head office for this
/// site, as the sync link pulls them.
const FROM_HQ: &str = crate::sync::link::expected::TREE;

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
    let checked =
        capture::check(doc, party, &[site_gln], limits).map_err(CaptureFailed::Refused)?;
    // Everything is read and decided before anything is written, so a
    // refusal found late leaves nothing.
    let stored = local_receipts(store)?;
    let applied = capture::apply(checked, stored, doc, partner, party, chrono::Utc::now())
        .map_err(CaptureFailed::Refused)?;
    for receipt in &applied.changed {
        put(store, EXPECTED, &receipt.despatch_advice, receipt, false)?;
    }
    let job = applied.job;
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

/// The expected receipt of `despatch_advice`, if a partner sent one (to
/// this site, or to head office for this site).
pub fn expected(
    store: &Store,
    despatch_advice: &str,
) -> Result<Option<ExpectedReceipt>, CaptureFailed> {
    let local: Option<ExpectedReceipt> = fetch(store, EXPECTED, despatch_advice)?;
    let relayed: Option<ExpectedReceipt> = fetch(store, FROM_HQ, despatch_advice)?;
    Ok(match (local, relayed) {
        (Some(mut l), Some(r)) if l.from_party == r.from_party => {
            l.merge(r);
            Some(l)
        }
        (Some(l), _) => Some(l),
        (None, r) => r,
    })
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

/// Every expected receipt, by despatch advice: those captured here and
/// those captured at head office for this site (pulled with the reference
/// data, `sync::link::expected`), one per despatch advice.
pub fn expected_receipts(store: &Store) -> Result<Vec<ExpectedReceipt>, CaptureFailed> {
    let mut all = local_receipts(store)?;
    for r in list(store, FROM_HQ)? {
        match all
            .iter_mut()
            .find(|l| l.despatch_advice == r.despatch_advice && l.from_party == r.from_party)
        {
            Some(l) => l.merge(r),
            None => all.push(r),
        }
    }
    Ok(all)
}

/// The expected receipts captured at this site.
fn local_receipts(store: &Store) -> Result<Vec<ExpectedReceipt>, CaptureFailed> {
    list(store, EXPECTED)
}

/// Every record of the side tree `tree`.
fn list(store: &Store, tree: &str) -> Result<Vec<ExpectedReceipt>, CaptureFailed> {
    store
        .records()
        .list(tree)?
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
