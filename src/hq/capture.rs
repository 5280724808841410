//! EPCIS capture at head office: a partner posts its shipping events to
//! `scantrail hq` (which never connects to a site), they are checked by
//! `epcis::capture` against every configured site's GLN, and the expected
//! receipts are kept as reference data for the site named as destination:
//! published records of the kind [`RECEIPTS`], keyed `SITE \0 DESPATCH
//! ADVICE`, which that site pulls with its other reference data
//! (`sync::link::expected`). Jobs are published records too ([`JOBS`],
//! never served to sites), so on PostgreSQL both live in the database,
//! not on the node that answered, and any node answers the job's GET.

use serde_json::Value;

use super::storage::{Storage, StorageError};
use crate::epcis::capture::{self, CaptureError, Job, Limits};
use crate::epcis::expected::ExpectedReceipt;
use crate::sync::protocol::Delta;

/// The published kind of every site's expected receipts.
pub const RECEIPTS: &str = "epcis_expected_receipts";
/// The published kind of capture jobs, by id.
const JOBS: &str = "epcis_capture_jobs";

/// Why a capture at head office was not made.
#[derive(Debug, thiserror::Error)]
pub enum CaptureFailed {
    /// The document is refused; every error with its path.
    #[error("the document is refused whole: {} error(s)", .0.len())]
    Refused(Vec<CaptureError>),
    /// The store or database could not keep it.
    #[error("the capture could not be stored: {0}")]
    Storage(#[from] StorageError),
    /// A stored record that does not read back.
    #[error("a stored capture record is unreadable: {0}")]
    Record(#[from] serde_json::Error),
}

/// The key of `site`'s expected receipt of `despatch_advice`.
fn key(site: &str, despatch_advice: &str) -> Vec<u8> {
    let mut k = site.as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(despatch_advice.as_bytes());
    k
}

/// Checks `doc` from the partner `partner` bound to `party` against the
/// sites `sites` (id, GLN) within `limits`, publishes the expected
/// receipts it adds or changes for their sites and its job; the job.
pub async fn capture(
    storage: &Storage,
    doc: &Value,
    partner: &str,
    party: &str,
    sites: &[(String, String)],
    limits: Limits,
) -> Result<Job, CaptureFailed> {
    let glns: Vec<&str> = sites.iter().map(|(_, gln)| gln.as_str()).collect();
    let checked = capture::check(doc, party, &glns, limits).map_err(CaptureFailed::Refused)?;
    let stored = receipts(storage).await?;
    let applied = capture::apply(checked, stored, doc, partner, party, chrono::Utc::now())
        .map_err(CaptureFailed::Refused)?;
    let mut upserts = Vec::new();
    for r in &applied.changed {
        // check() keeps only receipts addressed to one of `sites`.
        if let Some((site, _)) = sites.iter().find(|(_, gln)| *gln == r.to_gln) {
            upserts.push((key(site, &r.despatch_advice), serde_json::to_vec(r)?));
        }
    }
    let job = applied.job;
    if !upserts.is_empty() {
        storage.publish(RECEIPTS, upserts, Vec::new()).await?;
    }
    storage
        .publish(
            JOBS,
            vec![(
                job.capture_id.clone().into_bytes(),
                serde_json::to_vec(&job)?,
            )],
            Vec::new(),
        )
        .await?;
    tracing::info!(
        capture_id = %job.capture_id,
        partner,
        events = job.event_count,
        despatch_advices = ?job.despatch_advices,
        "EPCIS document captured at head office"
    );
    Ok(job)
}

/// Every site's expected receipts as published now.
async fn receipts(storage: &Storage) -> Result<Vec<ExpectedReceipt>, CaptureFailed> {
    let version = storage.published_version(RECEIPTS).await?;
    let mut out = Vec::new();
    for (_, record) in storage.published_changes(RECEIPTS, 0, version).await? {
        if let Some(bytes) = record {
            out.push(serde_json::from_slice(&bytes)?);
        }
    }
    Ok(out)
}

/// The job `id`, if there is one.
pub async fn job(storage: &Storage, id: &str) -> Result<Option<Job>, CaptureFailed> {
    match storage.published_record(JOBS, id.as_bytes()).await? {
        Some(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
        None => Ok(None),
    }
}

/// `site`'s expected receipts changed after `since`, keyed by despatch
/// advice, with the version they bring the site to.
pub async fn delta_for(storage: &Storage, site: &str, since: u64) -> Result<Delta, StorageError> {
    let version = storage.published_version(RECEIPTS).await?;
    let prefix = key(site, "");
    let mut upserts = Vec::new();
    let mut removals = Vec::new();
    if since < version {
        for (k, record) in storage.published_changes(RECEIPTS, since, version).await? {
            let Some(advice) = k.strip_prefix(prefix.as_slice()) else {
                continue;
            };
            match record {
                Some(bytes) => upserts.push((advice.to_vec(), bytes)),
                None => removals.push(advice.to_vec()),
            }
        }
    }
    Ok(Delta {
        since,
        version: version.max(since),
        upserts,
        removals,
    })
}
