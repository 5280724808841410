//! Expected receipts captured at head office for this site (a partner
//! posted its EPCIS shipping events to `scantrail hq`, naming this site as
//! destination): pulled with the reference data, after it, as a delta
//! since this site's version, only when head office announced a newer
//! version on its reference answers (so a quiet poll costs no request),
//! the site asking and head office never connecting. The records are EPCIS capture's JSON (`epcis::capture`'s
//! `ExpectedReceipt`), kept as they come in the side tree [`TREE`] by
//! despatch advice; `site::capture` reads them beside its own.

use super::failure::Failure;
use super::Link;
use crate::sync::protocol::path;

/// The side tree the pulled expected receipts are kept in, by despatch
/// advice.
pub const TREE: &str = "expected_receipts_hq";
/// The side tree holding the version pulled (key [`VERSION`]).
const VERSION_TREE: &str = "expected_receipts_hq_version";
const VERSION: &[u8] = b"version";

impl Link {
    /// Head office's expected receipts for this site changed since the
    /// version this site has, applied, when head office announced a newer
    /// version with the reference data. A head office without EPCIS
    /// capture (404) has none.
    pub(super) fn pull_expected(&mut self) -> Result<(), Failure> {
        let records = self.store.records();
        let since = records
            .get(VERSION_TREE, VERSION)?
            .and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok())
            .map(u64::from_be_bytes)
            .unwrap_or(0);
        if self.expected_announced <= since {
            return Ok(());
        }
        let url = format!("{}{}", self.settings.url, path::EXPECTED_RECEIPTS);
        let request = self.request("GET", &url).query("since", &since.to_string());
        let response = match request.call() {
            Err(ureq::Error::Status(404, _)) => return Ok(()),
            other => self.call_result(other)?,
        };
        let delta = super::reference::read_delta(response, "head office's expected receipts")?;
        if delta.version <= since {
            return Ok(());
        }
        let n = delta.upserts.len() + delta.removals.len();
        // Each record, then the version: a failure half-way pulls the
        // same delta again, which writes the same records.
        for (key, value) in delta.upserts {
            records.save(TREE, &key, &value, false)?;
        }
        for key in delta.removals {
            records.remove(TREE, &key, false)?;
        }
        records.save(VERSION_TREE, VERSION, &delta.version.to_be_bytes(), true)?;
        tracing::info!(
            version = delta.version,
            records = n,
            "expected receipts from head office applied"
        );
        Ok(())
    }
}
