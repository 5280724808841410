//! Reference data head office publishes (products, holds and recalls, pick
//! lists), kept as versioned records so sites pull deltas: every change
//! bumps the kind's version and stamps the changed records with it, and
//! `delta(since)` is every record stamped after `since`, in its latest
//! state. Records are stored already encoded with `station::records::encode`
//! and `Owner::HeadOffice`, exactly the bytes a site's rules read.

use super::storage::{Storage, StorageError};
use crate::station::catalog::{self, Author, NewHold};
use crate::station::import;
use crate::station::records::{decode, encode};
use crate::station::reference::{Hold, Owner};
use crate::store::reference::Reference;
use crate::sync::protocol::{reference_segment, Delta};

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("{0}")]
    Invalid(String),

    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("the published {kind} cannot be read: {detail}")]
    Damaged { kind: &'static str, detail: String },
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
pub async fn version(store: &Storage, r: Reference) -> Result<u64> {
    Ok(store.published_version(reference_segment(r)).await?)
}

/// Publishes upserts and removals as one new version, durably.
pub async fn publish(
    store: &Storage,
    r: Reference,
    upserts: Vec<(Vec<u8>, Vec<u8>)>,
    removals: Vec<Vec<u8>>,
) -> Result<u64> {
    let version = store
        .publish(reference_segment(r), upserts, removals)
        .await?;
    tracing::info!(
        kind = reference_segment(r),
        version,
        "reference data published"
    );
    Ok(version)
}

/// Every record changed after `since`, with the version it brings the site to.
pub async fn delta(store: &Storage, r: Reference, since: u64) -> Result<Delta> {
    let version = version(store, r).await?;
    let mut upserts = Vec::new();
    let mut removals = Vec::new();
    if since < version {
        for (key, record) in store
            .published_changes(reference_segment(r), since, version)
            .await?
        {
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
pub async fn list<T: serde::de::DeserializeOwned>(store: &Storage, r: Reference) -> Result<Vec<T>> {
    delta(store, r, 0)
        .await?
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

async fn get<T: serde::de::DeserializeOwned>(
    store: &Storage,
    r: Reference,
    key: &str,
) -> Result<Option<T>> {
    store
        .published_record(reference_segment(r), key.as_bytes())
        .await?
        .map(|b| decode(&b))
        .transpose()
        .map_err(|detail| PublishError::Damaged {
            kind: reference_segment(r),
            detail,
        })
}

/// Issues a hold or recall for every site.
pub async fn add_hold(store: &Storage, new: NewHold, author: &Author) -> Result<Hold> {
    let taken = get::<Hold>(store, Reference::Holds, &new.id)
        .await?
        .is_some();
    let hold = catalog::new_hold(new, Owner::HeadOffice, author, taken, "R-2026-004")?;
    publish(
        store,
        Reference::Holds,
        vec![(hold.id.clone().into_bytes(), encode(&hold))],
        vec![],
    )
    .await?;
    tracing::info!(
        hold = hold.id,
        gtin = hold.gtin,
        by = author.by,
        "head-office hold issued"
    );
    Ok(hold)
}

/// Releases a head-office hold or recall for every site.
pub async fn release_hold(store: &Storage, id: &str, author: &Author) -> Result<Hold> {
    let Some(hold) = get::<Hold>(store, Reference::Holds, id).await? else {
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
    )
    .await?;
    tracing::info!(hold = hold.id, by = author.by, "head-office hold released");
    Ok(hold)
}

pub async fn import_products(store: &Storage, text: &str, author: &Author) -> Result<usize> {
    let products = import::products(text, &Owner::HeadOffice, &author.change())
        .map_err(PublishError::Invalid)?;
    let records = products
        .iter()
        .map(|p| (p.gtin.clone().into_bytes(), encode(p)))
        .collect();
    publish(store, Reference::Products, records, vec![]).await?;
    Ok(products.len())
}

pub async fn import_pick_lists(store: &Storage, text: &str, author: &Author) -> Result<usize> {
    let lists = import::pick_lists(text, &Owner::HeadOffice, &author.change())
        .map_err(PublishError::Invalid)?;
    let records = lists
        .iter()
        .map(|l| (l.order.clone().into_bytes(), encode(l)))
        .collect();
    publish(store, Reference::PickLists, records, vec![]).await?;
    Ok(lists.len())
}

/// Holds changed after version `since` (a site that sent `since` did not
/// know them).
pub async fn holds_since(store: &Storage, since: u64) -> Result<Vec<Hold>> {
    delta(store, Reference::Holds, since)
        .await?
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
