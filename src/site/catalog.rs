//! The site's reference data as operations: import products and pick lists,
//! add, list and release holds. The daemon's API and the command line (when
//! no daemon holds the store) both call these, so the ownership rules live
//! in one place: head-office records change only by sync; a site releases
//! its own holds, never a head-office recall. The rules a change must
//! follow, shared with head office, are `station::catalog`.

use crate::station::catalog::{self, Author, NewHold};
use crate::station::import;
use crate::station::records::{decode, encode};
use crate::station::reference::{Hold, Owner, PickList, Product};
use crate::store::reference::Reference;
use crate::store::{Store, StoreError};

/// Why a reference operation at the site was not made.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The request breaks a rule; the words say which and what to do.
    #[error("{0}")]
    Invalid(String),
    /// A stored record cannot be read.
    #[error("{0}")]
    Damaged(String),
    /// The store could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<catalog::Invalid> for CatalogError {
    fn from(e: catalog::Invalid) -> CatalogError {
        CatalogError::Invalid(e.0)
    }
}

type Result<T> = std::result::Result<T, CatalogError>;

fn list<T: serde::de::DeserializeOwned>(store: &Store, r: Reference) -> Result<Vec<T>> {
    store
        .reference_list(r)?
        .into_iter()
        .map(|(_, v)| decode(&v).map_err(CatalogError::Damaged))
        .collect()
}

fn get<T: serde::de::DeserializeOwned>(
    store: &Store,
    r: Reference,
    key: &str,
) -> Result<Option<T>> {
    store
        .reference_get(r, key.as_bytes())?
        .map(|v| decode(&v).map_err(CatalogError::Damaged))
        .transpose()
}

/// The product master as this site holds it: head office's records and its own
/// imports.
pub fn products(store: &Store) -> Result<Vec<Product>> {
    list(store, Reference::Products)
}

/// Every hold and recall the site holds, released ones included.
pub fn holds(store: &Store) -> Result<Vec<Hold>> {
    list(store, Reference::Holds)
}

/// Every pick list the site holds.
pub fn pick_lists(store: &Store) -> Result<Vec<PickList>> {
    list(store, Reference::PickLists)
}

/// Imports products from CSV or JSON text; returns how many. A product
/// head office owns is not overwritten.
pub fn import_products(store: &Store, text: &str, author: &Author) -> Result<usize> {
    let owner = Owner::Site(store.site().to_owned());
    let products =
        import::products(text, &owner, &author.change()).map_err(CatalogError::Invalid)?;
    let mut records = Vec::with_capacity(products.len());
    for p in &products {
        if let Some(existing) = get::<Product>(store, Reference::Products, &p.gtin)? {
            if existing.owner == Owner::HeadOffice {
                return Err(CatalogError::Invalid(format!(
                    "GTIN {} belongs to head office's product master; change it there",
                    p.gtin
                )));
            }
        }
        records.push((p.gtin.clone().into_bytes(), Some(encode(p))));
    }
    store.reference_put(Reference::Products, records)?;
    tracing::info!(count = products.len(), by = author.by, "products imported");
    Ok(products.len())
}

/// Imports pick lists from CSV or JSON text; returns how many orders.
pub fn import_pick_lists(store: &Store, text: &str, author: &Author) -> Result<usize> {
    let owner = Owner::Site(store.site().to_owned());
    let lists =
        import::pick_lists(text, &owner, &author.change()).map_err(CatalogError::Invalid)?;
    let records = lists
        .iter()
        .map(|l| (l.order.clone().into_bytes(), Some(encode(l))))
        .collect();
    store.reference_put(Reference::PickLists, records)?;
    tracing::info!(count = lists.len(), by = author.by, "pick lists imported");
    Ok(lists.len())
}

/// Adds one of the site's own holds, authored by `author`; refused when the id
/// is taken or the hold breaks a rule of `station::catalog`.
pub fn add_hold(store: &Store, new: NewHold, author: &Author) -> Result<Hold> {
    let taken = get::<Hold>(store, Reference::Holds, &new.id)?.is_some();
    let owner = Owner::Site(store.site().to_owned());
    let hold = catalog::new_hold(new, owner, author, taken, "H-2026-017")?;
    store.reference_put(
        Reference::Holds,
        vec![(hold.id.clone().into_bytes(), Some(encode(&hold)))],
    )?;
    tracing::info!(
        hold = hold.id,
        gtin = hold.gtin,
        by = author.by,
        "hold added"
    );
    Ok(hold)
}

/// Releases one of the site's own holds, authored by `author`; a head-office
/// recall is released only at head office.
pub fn release_hold(store: &Store, id: &str, author: &Author) -> Result<Hold> {
    let Some(hold) = get::<Hold>(store, Reference::Holds, id)? else {
        return Err(CatalogError::Invalid(format!("there is no hold {id}")));
    };
    if hold.owner == Owner::HeadOffice {
        return Err(CatalogError::Invalid(format!(
            "{} was issued by head office: only head office can release it",
            hold.label()
        )));
    }
    let hold = catalog::release(hold, author)?;
    store.reference_put(
        Reference::Holds,
        vec![(hold.id.clone().into_bytes(), Some(encode(&hold)))],
    )?;
    tracing::info!(hold = hold.id, by = author.by, "hold released");
    Ok(hold)
}
