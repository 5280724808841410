//! Reference data from head office (holds first, then products and pick
//! lists, then the expected receipts when announced): each delta since this site's watermark is checked (every record
//! decodes and is head office's) and applied atomically, or not at all.

use std::io::Read as _;

use super::failure::Failure;
use super::Link;
use crate::model::Reference;
use crate::station::records::{self, RecordError};
use crate::station::reference::{Hold, Owner, PickList, Product};
use crate::sync::protocol::{path, reference_segment, Delta, ReferenceVersions};

impl Link {
    pub(super) fn pull_reference(&mut self) -> Result<(), Failure> {
        // Holds first: a recall matters more than a product's description.
        const ORDER: [Reference; 3] = [Reference::Holds, Reference::Products, Reference::PickLists];
        while let Some(&r) = ORDER.get(self.reference_pulled) {
            self.pull_one(r)?;
            self.reference_pulled += 1;
        }
        // Then the expected receipts captured at head office for this
        // site, when it announced new ones.
        self.pull_expected()?;
        self.reference_pulled = 0;
        Ok(())
    }

    /// One kind's delta since this site's watermark, checked and applied.
    fn pull_one(&mut self, r: Reference) -> Result<(), Failure> {
        let since = self.store.reference().watermark(r)?;
        let url = format!(
            "{}{}/{}",
            self.settings.url,
            path::REFERENCE,
            reference_segment(r)
        );
        let response = self.call(
            self.request("GET", &url).query("since", &since.to_string()),
            None,
        )?;
        if let Some(v) = response
            .header(crate::sync::protocol::EXPECTED_VERSION_HEADER)
            .and_then(|v| v.parse().ok())
        {
            self.expected_announced = v;
        }
        let delta = read_delta(response, "a reference delta")?;
        if delta.version <= since {
            return Ok(());
        }
        if let Err(e) = check_records(r, &delta) {
            // Not applied: the site keeps its last good reference data.
            return Err(Failure::Halt(format!(
                "head office sent {} data this site cannot use: {e}",
                reference_segment(r)
            )));
        }
        let n = delta.upserts.len() + delta.removals.len();
        if self
            .store
            .reference()
            .apply(r, delta.version, delta.upserts, delta.removals)?
        {
            tracing::info!(
                kind = reference_segment(r),
                version = delta.version,
                records = n,
                "head-office reference data applied"
            );
        }
        Ok(())
    }

    pub(super) fn reference_versions(&self) -> ReferenceVersions {
        let v = |r| self.store.reference().watermark(r).unwrap_or(0);
        ReferenceVersions {
            products: v(Reference::Products),
            holds: v(Reference::Holds),
            picklists: v(Reference::PickLists),
        }
    }
}

/// Head office's answer as a delta (at most 64 MiB); `what` names it in
/// the error.
pub(super) fn read_delta(response: ureq::Response, what: &str) -> Result<Delta, Failure> {
    let mut bytes = Vec::new();
    response
        .into_reader()
        .take(64 << 20)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::Retry {
            message: format!("reading {what}: {e}"),
            retry_after: None,
        })?;
    Delta::decode(&bytes).map_err(|e| Failure::Retry {
        message: e.to_string(),
        retry_after: None,
    })
}

/// Why a delta from head office is not applied: one of its records, named
/// by key, is not head office's reference data.
#[derive(Debug, thiserror::Error)]
enum UnusableRecord {
    /// The record does not decode as its kind.
    #[error("record {key}: {source}")]
    Undecodable {
        /// The record's key (GTIN, hold id or order), as text.
        key: String,
        /// What decoding found.
        source: RecordError,
    },
    /// The record is a site's, which head office never publishes.
    #[error("record {key} is not owned by head office")]
    NotHeadOffice {
        /// The record's key, as text.
        key: String,
    },
}

/// Every record of a delta must decode as its kind and be head office's.
fn check_records(r: Reference, delta: &Delta) -> Result<(), UnusableRecord> {
    for (key, bytes) in &delta.upserts {
        let key = || String::from_utf8_lossy(key).into_owned();
        let owner = match r {
            Reference::Products => records::decode::<Product>(bytes).map(|p| p.owner),
            Reference::Holds => records::decode::<Hold>(bytes).map(|h| h.owner),
            Reference::PickLists => records::decode::<PickList>(bytes).map(|l| l.owner),
        }
        .map_err(|source| UnusableRecord::Undecodable { key: key(), source })?;
        if owner != Owner::HeadOffice {
            return Err(UnusableRecord::NotHeadOffice { key: key() });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delta(upserts: Vec<(Vec<u8>, Vec<u8>)>) -> Delta {
        Delta {
            since: 0,
            version: 1,
            upserts,
            removals: Vec::new(),
        }
    }

    #[test]
    fn records_that_do_not_decode_are_refused_and_named() {
        let e = check_records(
            Reference::Holds,
            &delta(vec![(b"H-1".to_vec(), b"junk".to_vec())]),
        )
        .unwrap_err();
        assert!(
            matches!(&e, UnusableRecord::Undecodable { key, .. } if key == "H-1"),
            "{e}"
        );
        assert!(check_records(Reference::Products, &delta(Vec::new())).is_ok());
    }

    #[test]
    fn a_site_owned_record_from_head_office_is_refused_by_key() {
        let product = |owner| Product {
            gtin: "09506000134352".into(),
            description: "Insulin pen".into(),
            tracking: Default::default(),
            warranty_months: None,
            shelf_life_days: None,
            owner,
            change: crate::station::reference::Change {
                by: "hq".into(),
                at: chrono::Utc::now(),
                why: "import".into(),
            },
        };
        let upsert = |owner| (b"09506000134352".to_vec(), records::encode(&product(owner)));
        let e = check_records(
            Reference::Products,
            &delta(vec![upsert(Owner::Site("north".into()))]),
        )
        .unwrap_err();
        assert!(
            matches!(&e, UnusableRecord::NotHeadOffice { key } if key == "09506000134352"),
            "{e}"
        );
        assert!(
            check_records(Reference::Products, &delta(vec![upsert(Owner::HeadOffice)])).is_ok()
        );
    }
}
