//! Reference data head office publishes (products, holds and recalls, pick
//! lists), kept as versioned records so sites pull deltas: every change
//! bumps the kind's version and stamps the changed records with it, and
//! `delta(since)` is every record stamped after `since`, in its latest
//! state. Records are stored already encoded with `station::records::encode`
//! and `Owner::HeadOffice`, exactly the bytes a site's rules read.

use crate::station::catalog::{self, Author, NewHold};
use crate::station::import;
use crate::station::records::{decode, encode};
use crate::station::reference::{Hold, Owner};
use crate::store::reference::Reference;
use crate::store::Store;
use crate::sync::protocol::{reference_segment, Delta};

/// Why head office did not publish a change of reference data.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The change breaks a rule (a hold without a reason, an unknown GTIN...):
    /// a 400 with these words.
    #[error("{0}")]
    Invalid(String),

    /// The store could not be read or written.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// A record head office published before cannot be decoded.
    #[error("the published {kind} cannot be read: {detail}")]
    Damaged {
        /// The reference kind (`products`, `holds`, `picklists`).
        kind: &'static str,
        /// What failed to decode.
        detail: String,
    },
}

/// A rule a change breaks is a request to fix (HTTP 400), like any other
/// invalid input.
impl From<catalog::Invalid> for PublishError {
    fn from(e: catalog::Invalid) -> PublishError {
        PublishError::Invalid(e.0)
    }
}

type Result<T> = std::result::Result<T, PublishError>;

/// The current version of a kind (0 before anything was published).
pub fn version(store: &Store, r: Reference) -> Result<u64> {
    Ok(store.published_version(reference_segment(r))?)
}

/// Publishes upserts and removals as one new version, durably.
pub fn publish(
    store: &Store,
    r: Reference,
    upserts: Vec<(Vec<u8>, Vec<u8>)>,
    removals: Vec<Vec<u8>>,
) -> Result<u64> {
    let version = store.publish(reference_segment(r), upserts, removals)?;
    tracing::info!(
        kind = reference_segment(r),
        version,
        "reference data published"
    );
    Ok(version)
}

/// Every record changed after `since`, with the version it brings the site to.
pub fn delta(store: &Store, r: Reference, since: u64) -> Result<Delta> {
    let version = version(store, r)?;
    let mut upserts = Vec::new();
    let mut removals = Vec::new();
    if since < version {
        for (key, record) in store.published_changes(reference_segment(r), since, version)? {
            match record {
                Some(bytes) => upserts.push((key, bytes)),
                None => removals.push(key),
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

/// The current records of a kind, decoded.
pub fn list<T: serde::de::DeserializeOwned>(store: &Store, r: Reference) -> Result<Vec<T>> {
    delta(store, r, 0)?
        .upserts
        .into_iter()
        .map(|(_, v)| {
            decode(&v).map_err(|detail| PublishError::Damaged {
                kind: reference_segment(r),
                detail,
            })
        })
        .collect()
}

fn get<T: serde::de::DeserializeOwned>(
    store: &Store,
    r: Reference,
    key: &str,
) -> Result<Option<T>> {
    store
        .published_record(reference_segment(r), key.as_bytes())?
        .map(|b| decode(&b))
        .transpose()
        .map_err(|detail| PublishError::Damaged {
            kind: reference_segment(r),
            detail,
        })
}

/// Issues a hold or recall for every site.
pub fn add_hold(store: &Store, new: NewHold, author: &Author) -> Result<Hold> {
    let taken = get::<Hold>(store, Reference::Holds, &new.id)?.is_some();
    let hold = catalog::new_hold(new, Owner::HeadOffice, author, taken, "R-2026-004")?;
    publish(
        store,
        Reference::Holds,
        vec![(hold.id.clone().into_bytes(), encode(&hold))],
        vec![],
    )?;
    tracing::info!(
        hold = hold.id,
        gtin = hold.gtin,
        by = author.by,
        "head-office hold issued"
    );
    Ok(hold)
}

/// Releases a head-office hold or recall for every site.
pub fn release_hold(store: &Store, id: &str, author: &Author) -> Result<Hold> {
    let Some(hold) = get::<Hold>(store, Reference::Holds, id)? else {
        return Err(PublishError::Invalid(format!(
            "there is no head-office hold {id}"
        )));
    };
    let hold = catalog::release(hold, author)?;
    publish(
        store,
        Reference::Holds,
        vec![(hold.id.clone().into_bytes(), encode(&hold))],
        vec![],
    )?;
    tracing::info!(hold = hold.id, by = author.by, "head-office hold released");
    Ok(hold)
}

pub(super) fn import_products(store: &Store, text: &str, author: &Author) -> Result<usize> {
    let products = import::products(text, &Owner::HeadOffice, &author.change())
        .map_err(PublishError::Invalid)?;
    let records = products
        .iter()
        .map(|p| (p.gtin.clone().into_bytes(), encode(p)))
        .collect();
    publish(store, Reference::Products, records, vec![])?;
    Ok(products.len())
}

pub(super) fn import_pick_lists(store: &Store, text: &str, author: &Author) -> Result<usize> {
    let lists = import::pick_lists(text, &Owner::HeadOffice, &author.change())
        .map_err(PublishError::Invalid)?;
    let records = lists
        .iter()
        .map(|l| (l.order.clone().into_bytes(), encode(l)))
        .collect();
    publish(store, Reference::PickLists, records, vec![])?;
    Ok(lists.len())
}

/// Holds changed after version `since` (a site that sent `since` did not
/// know them).
pub fn holds_since(store: &Store, since: u64) -> Result<Vec<Hold>> {
    delta(store, Reference::Holds, since)?
        .upserts
        .into_iter()
        .map(|(_, v)| {
            decode(&v).map_err(|detail| PublishError::Damaged {
                kind: "holds",
                detail,
            })
        })
        .collect()
}
