//! The site's reference data as operations: import products and pick lists,
//! add, list and release holds. The daemon's API and the command line (when
//! no daemon holds the store) both call these, so the ownership rules live
//! in one place: head-office records change only by sync; a site releases
//! its own holds, never a head-office recall.

use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::station::import;
use crate::station::records::{decode, encode};
use crate::station::reference::{
    Change, Hold, HoldKind, HoldScope, Owner, PickList, Product, SerialRange,
};
use crate::store::reference::Reference;
use crate::store::Store;

/// Who is making a change and why, recorded with it.
#[derive(Debug, Clone, Deserialize)]
pub struct Author {
    pub by: String,
    pub why: String,
}

impl Author {
    /// The change record of a reference edit by this author, now.
    pub fn change(&self) -> Change {
        Change {
            by: self.by.clone(),
            at: Utc::now(),
            why: self.why.clone(),
        }
    }
}

fn list<T: serde::de::DeserializeOwned>(store: &Store, r: Reference) -> anyhow::Result<Vec<T>> {
    store
        .reference_list(r)?
        .into_iter()
        .map(|(_, v)| decode(&v).map_err(anyhow::Error::msg))
        .collect()
}

fn get<T: serde::de::DeserializeOwned>(
    store: &Store,
    r: Reference,
    key: &str,
) -> anyhow::Result<Option<T>> {
    store
        .reference_get(r, key.as_bytes())?
        .map(|v| decode(&v).map_err(anyhow::Error::msg))
        .transpose()
}

pub fn products(store: &Store) -> anyhow::Result<Vec<Product>> {
    list(store, Reference::Products)
}

pub fn holds(store: &Store) -> anyhow::Result<Vec<Hold>> {
    list(store, Reference::Holds)
}

pub fn pick_lists(store: &Store) -> anyhow::Result<Vec<PickList>> {
    list(store, Reference::PickLists)
}

/// Imports products from CSV or JSON text; returns how many. A product
/// head office owns is not overwritten.
pub fn import_products(store: &Store, text: &str, author: &Author) -> anyhow::Result<usize> {
    let owner = Owner::Site(store.site().to_owned());
    let products = import::products(text, &owner, &author.change()).map_err(anyhow::Error::msg)?;
    let mut records = Vec::with_capacity(products.len());
    for p in &products {
        if let Some(existing) = get::<Product>(store, Reference::Products, &p.gtin)? {
            if existing.owner == Owner::HeadOffice {
                anyhow::bail!(
                    "GTIN {} belongs to head office's product master; change it there",
                    p.gtin
                );
            }
        }
        records.push((p.gtin.clone().into_bytes(), Some(encode(p))));
    }
    store.reference_put(Reference::Products, records)?;
    tracing::info!(count = products.len(), by = author.by, "products imported");
    Ok(products.len())
}

/// Imports pick lists from CSV or JSON text; returns how many orders.
pub fn import_pick_lists(store: &Store, text: &str, author: &Author) -> anyhow::Result<usize> {
    let owner = Owner::Site(store.site().to_owned());
    let lists = import::pick_lists(text, &owner, &author.change()).map_err(anyhow::Error::msg)?;
    let records = lists
        .iter()
        .map(|l| (l.order.clone().into_bytes(), Some(encode(l))))
        .collect();
    store.reference_put(Reference::PickLists, records)?;
    tracing::info!(count = lists.len(), by = author.by, "pick lists imported");
    Ok(lists.len())
}

/// A new hold or recall as a person or the API gives it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewHold {
    pub id: String,
    #[serde(default)]
    pub kind: HoldKind,
    pub gtin: String,
    #[serde(default)]
    pub lots: Vec<String>,
    #[serde(default)]
    pub serial_from: Option<String>,
    #[serde(default)]
    pub serial_to: Option<String>,
    pub reason: String,
}

/// The query of an import (`?why=`) on the site's and head office's
/// APIs; `by` is read only to be refused: the author is the token's.
#[derive(Debug, Deserialize)]
pub struct AuthorQuery {
    #[serde(default)]
    by: Option<String>,
    #[serde(default)]
    why: Option<String>,
}

impl AuthorQuery {
    /// The change's author, `name` (the caller's token), and why.
    pub fn author(self, name: &str, default_why: &str) -> Result<Author, String> {
        if self.by.is_some() {
            return Err(crate::auth::by_refused(name));
        }
        Ok(Author {
            by: name.to_owned(),
            why: self.why.unwrap_or_else(|| default_why.to_owned()),
        })
    }
}

/// A hold as the site's and head office's APIs receive it. Its author is
/// the caller's token (`author`): a body naming one with `by` is refused.
/// Blank lots and reasons are refused here, before either side stores them.
pub fn hold_request(body: &[u8], author: &str) -> Result<NewHold, String> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("the request body is not JSON: {e}"))?;
    if !value.is_object() {
        return Err("the request body is not a hold: send a JSON object".to_owned());
    }
    if value.get("by").is_some() {
        return Err(crate::auth::by_refused(author));
    }
    let hold: NewHold = serde_json::from_value(value)
        .map_err(|e| format!("the request body is not a hold: {e}"))?;
    if hold.lots.iter().any(|l| l.trim().is_empty()) {
        return Err("`lots` has an empty lot number: list the lots the hold covers".to_owned());
    }
    if hold.reason.trim().is_empty() {
        return Err(
            "`reason` is empty: say why, it is what the operator whose pick is refused reads"
                .to_owned(),
        );
    }
    Ok(hold)
}

pub fn add_hold(store: &Store, new: NewHold, author: &Author) -> anyhow::Result<Hold> {
    if new.id.trim().is_empty() {
        anyhow::bail!("a hold needs an id, e.g. H-2026-017");
    }
    if get::<Hold>(store, Reference::Holds, &new.id)?.is_some() {
        anyhow::bail!(
            "there is already a hold {}: give the new one another id",
            new.id
        );
    }
    let gtin = import::normalise_gtin(&new.gtin).map_err(anyhow::Error::msg)?;
    let scope = match (&new.serial_from, &new.serial_to, new.lots.is_empty()) {
        (None, None, false) => HoldScope::Lots(new.lots),
        (Some(from), Some(to), true) => {
            HoldScope::Serials(SerialRange::new(from, to).map_err(anyhow::Error::msg)?)
        }
        _ => anyhow::bail!(
            "a hold covers either lots, or a serial range from..to, not both and not neither"
        ),
    };
    let hold = Hold {
        id: new.id,
        kind: new.kind,
        gtin,
        scope,
        reason: new.reason,
        owner: Owner::Site(store.site().to_owned()),
        created: author.change(),
        released: None,
    };
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

pub fn release_hold(store: &Store, id: &str, author: &Author) -> anyhow::Result<Hold> {
    let Some(mut hold) = get::<Hold>(store, Reference::Holds, id)? else {
        anyhow::bail!("there is no hold {id}");
    };
    if hold.owner == Owner::HeadOffice {
        anyhow::bail!(
            "{} was issued by head office: only head office can release it",
            hold.label()
        );
    }
    if hold.released.is_some() {
        anyhow::bail!("{} is already released", hold.label());
    }
    hold.released = Some(author.change());
    store.reference_put(
        Reference::Holds,
        vec![(hold.id.clone().into_bytes(), Some(encode(&hold)))],
    )?;
    tracing::info!(hold = hold.id, by = author.by, "hold released");
    Ok(hold)
}
