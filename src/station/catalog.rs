//! Changes to reference data (products, pick lists, holds and recalls), as
//! rules and as operations, shared by the site (its own records) and head
//! office (records it publishes to every site): who authors a change, what
//! a new hold must say, when one may be released, who may change a record.
//! Where the records are kept is the [`Records`] each side passes: the
//! site's reference trees, head office's published versions.

use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::import;
use super::records::{decode, encode, RecordError};
use super::reference::{Change, Hold, HoldKind, HoldScope, Owner, PickList, Product, SerialRange};
use crate::model::Reference;
use crate::store::StoreError;

/// A reference change that breaks a rule, in words for the person who
/// asked (the APIs answer it with 400, the command line prints it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// Why a reference operation, at the site or at head office, was not made.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The request breaks a rule; the words say which and what to do (the
    /// APIs answer 400).
    #[error("{0}")]
    Invalid(String),
    /// A stored record cannot be read.
    #[error("a stored {kind} record cannot be read ({}): the store is damaged; run `scantrail verify`", .source.source)]
    Damaged {
        /// Which reference data: `product`, `hold`, `pick list`.
        kind: &'static str,
        /// What the decoder said.
        source: RecordError,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Head office's storage (its database, when it has one) failed.
    #[error("{message}")]
    Storage {
        /// What failed, in words.
        message: String,
        /// A later try may succeed (the database is down): the API
        /// answers 503 with Retry-After.
        retry: bool,
    },
}

impl From<Invalid> for CatalogError {
    fn from(e: Invalid) -> CatalogError {
        CatalogError::Invalid(e.0)
    }
}

/// A refused import file is a bad request (the APIs answer 400), in the
/// import's own words.
fn invalid(e: import::ImportError) -> CatalogError {
    CatalogError::Invalid(e.to_string())
}

type Result<T, E = CatalogError> = std::result::Result<T, E>;

/// Where one side keeps its reference records, raw (encoded with
/// `station::records::encode`): the site in its reference trees, head
/// office in its published versions. The operations of this module are
/// the same on both.
pub trait Records {
    /// Who owns what this side writes: the site, or head office.
    fn owner(&self) -> Owner;
    /// The record of `r` under `key`.
    fn get(&self, r: Reference, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// Every record of `r`, in key order.
    fn all(&self, r: Reference) -> Result<Vec<Vec<u8>>>;
    /// Writes `records` (key, encoded record) of `r` durably, as one change.
    fn put(&self, r: Reference, records: Vec<(Vec<u8>, Vec<u8>)>) -> Result<()>;
}

/// The current records of a kind, decoded.
pub fn list<T: serde::de::DeserializeOwned>(
    records: &impl Records,
    r: Reference,
) -> Result<Vec<T>> {
    records
        .all(r)?
        .iter()
        .map(|bytes| decode_record(r, bytes))
        .collect()
}

/// A stored record of `r`, decoded.
pub fn decode_record<T: serde::de::DeserializeOwned>(r: Reference, bytes: &[u8]) -> Result<T> {
    decode(bytes).map_err(|source| CatalogError::Damaged {
        kind: match r {
            Reference::Products => "product",
            Reference::Holds => "hold",
            Reference::PickLists => "pick list",
        },
        source,
    })
}

fn get<T: serde::de::DeserializeOwned>(
    records: &impl Records,
    r: Reference,
    key: &str,
) -> Result<Option<T>> {
    records
        .get(r, key.as_bytes())?
        .map(|bytes| decode_record(r, &bytes))
        .transpose()
}

/// The product master.
pub fn products(records: &impl Records) -> Result<Vec<Product>> {
    list(records, Reference::Products)
}

/// Every hold and recall, released ones too.
pub fn holds(records: &impl Records) -> Result<Vec<Hold>> {
    list(records, Reference::Holds)
}

/// The pick lists.
pub fn pick_lists(records: &impl Records) -> Result<Vec<PickList>> {
    list(records, Reference::PickLists)
}

/// Imports products from CSV or JSON text; returns how many. At a site, a
/// product head office owns is not overwritten.
pub fn import_products(records: &impl Records, text: &str, author: &Author) -> Result<usize> {
    let owner = records.owner();
    let products = import::products(text, &owner, &author.change()).map_err(invalid)?;
    let mut changed = Vec::with_capacity(products.len());
    for p in &products {
        if owner != Owner::HeadOffice {
            if let Some(existing) = get::<Product>(records, Reference::Products, &p.gtin)? {
                if existing.owner == Owner::HeadOffice {
                    return Err(CatalogError::Invalid(format!(
                        "GTIN {} belongs to head office's product master; change it there",
                        p.gtin
                    )));
                }
            }
        }
        changed.push((p.gtin.clone().into_bytes(), encode(p)));
    }
    records.put(Reference::Products, changed)?;
    tracing::info!(count = products.len(), by = author.by, owner = ?owner, "products imported");
    Ok(products.len())
}

/// Imports pick lists from CSV or JSON text; returns how many orders.
pub fn import_pick_lists(records: &impl Records, text: &str, author: &Author) -> Result<usize> {
    let owner = records.owner();
    let lists = import::pick_lists(text, &owner, &author.change()).map_err(invalid)?;
    let changed = lists
        .iter()
        .map(|l| (l.order.clone().into_bytes(), encode(l)))
        .collect();
    records.put(Reference::PickLists, changed)?;
    tracing::info!(count = lists.len(), by = author.by, owner = ?owner, "pick lists imported");
    Ok(lists.len())
}

/// Imports products or pick lists (`r`) from CSV or JSON text; returns how
/// many.
pub fn import(records: &impl Records, r: Reference, text: &str, author: &Author) -> Result<usize> {
    match r {
        Reference::Products => import_products(records, text, author),
        Reference::PickLists => import_pick_lists(records, text, author),
        Reference::Holds => Err(CatalogError::Invalid(
            "holds are added one by one, not imported".to_owned(),
        )),
    }
}

/// Adds a hold or recall, owned by this side (head office's reach every
/// site).
pub fn add_hold(records: &impl Records, new: NewHold, author: &Author) -> Result<Hold> {
    let owner = records.owner();
    let taken = get::<Hold>(records, Reference::Holds, &new.id)?.is_some();
    let example_id = match owner {
        Owner::HeadOffice => "R-2026-004",
        Owner::Site(_) => "H-2026-017",
    };
    let hold = new_hold(new, owner, author, taken, example_id)?;
    put_hold(records, &hold)?;
    tracing::info!(
        hold = hold.id,
        gtin = hold.gtin,
        by = author.by,
        owner = ?hold.owner,
        "hold added"
    );
    Ok(hold)
}

/// Releases a hold or recall; a site releases only its own, never one of
/// head office's.
pub fn release_hold(records: &impl Records, id: &str, author: &Author) -> Result<Hold> {
    let owner = records.owner();
    let Some(hold) = get::<Hold>(records, Reference::Holds, id)? else {
        return Err(CatalogError::Invalid(match owner {
            Owner::HeadOffice => format!("there is no head-office hold {id}"),
            Owner::Site(_) => format!("there is no hold {id}"),
        }));
    };
    if hold.owner == Owner::HeadOffice && owner != Owner::HeadOffice {
        return Err(CatalogError::Invalid(format!(
            "{} was issued by head office: only head office can release it",
            hold.label()
        )));
    }
    let hold = release(hold, author)?;
    put_hold(records, &hold)?;
    tracing::info!(hold = hold.id, by = author.by, owner = ?hold.owner, "hold released");
    Ok(hold)
}

fn put_hold(records: &impl Records, hold: &Hold) -> Result<()> {
    let record = (hold.id.clone().into_bytes(), encode(hold));
    records.put(Reference::Holds, vec![record])
}

/// Who is making a change and why, recorded with it.
#[derive(Debug, Clone, Deserialize)]
pub struct Author {
    /// Who makes the change: the authenticated token's name, never a field the
    /// client fills in.
    pub by: String,
    /// Why, as the person gave it; required for holds and their release.
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

/// A new hold or recall as a person or the API gives it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewHold {
    /// The hold's id, unique among holds (e.g. `R-17`, `H-3`).
    pub id: String,
    /// A site's own quarantine (`hold`, the default) or a `recall`.
    #[serde(default)]
    pub kind: HoldKind,
    /// The GTIN it covers: 8, 12, 13 or 14 digits, kept as 14.
    pub gtin: String,
    /// The lots it covers; give either lots or a serial range, not both.
    #[serde(default)]
    pub lots: Vec<String>,
    /// The first serial of the range it covers, inclusive.
    #[serde(default)]
    pub serial_from: Option<String>,
    /// The last serial of the range it covers, inclusive.
    #[serde(default)]
    pub serial_to: Option<String>,
    /// Why the goods may not be dispatched: shown to the picker whose scan is
    /// refused.
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
    pub fn author(self, name: &str, default_why: &str) -> Result<Author, Invalid> {
        if self.by.is_some() {
            return Err(Invalid(crate::auth::by_refused(name)));
        }
        Ok(Author {
            by: name.to_owned(),
            why: self.why.unwrap_or_else(|| default_why.to_owned()),
        })
    }
}

/// A JSON object of type `T` from a request body; `what` names it in the
/// error (`a hold`, ``a release (say `why`)``). The author is the caller's
/// token (`author`): a body naming one with `by` is refused.
fn request<T: serde::de::DeserializeOwned>(
    body: &[u8],
    author: &str,
    what: &str,
) -> Result<T, Invalid> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| Invalid(format!("the request body is not JSON: {e}")))?;
    if !value.is_object() {
        return Err(Invalid(format!(
            "the request body is not {what}: send a JSON object"
        )));
    }
    if value.get("by").is_some() {
        return Err(Invalid(crate::auth::by_refused(author)));
    }
    serde_json::from_value(value)
        .map_err(|e| Invalid(format!("the request body is not {what}: {e}")))
}

/// A hold as the site's and head office's APIs receive it. Its author is
/// the caller's token (`author`): a body naming one with `by` is refused.
/// Blank lots and reasons are refused here, before either side stores them.
pub fn hold_request(body: &[u8], author: &str) -> Result<NewHold, Invalid> {
    let hold: NewHold = request(body, author, "a hold")?;
    if hold.lots.iter().any(|l| l.trim().is_empty()) {
        return Err(Invalid(
            "`lots` has an empty lot number: list the lots the hold covers".to_owned(),
        ));
    }
    if hold.reason.trim().is_empty() {
        return Err(Invalid(
            "`reason` is empty: say why, it is what the operator whose pick is refused reads"
                .to_owned(),
        ));
    }
    Ok(hold)
}

/// The body of a release (`{"why": ...}`), as the site's and head office's
/// APIs receive it: the author of the release is the caller (`author`).
pub fn release_request(body: &[u8], author: &str) -> Result<Author, Invalid> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ReleaseBody {
        why: String,
    }
    let body: ReleaseBody = request(body, author, "a release (say `why`)")?;
    Ok(Author {
        by: author.to_owned(),
        why: body.why,
    })
}

/// The hold `new` asks for, owned by `owner`, if it is well formed.
/// `taken` says whether its id is already used; `example_id` is shown when
/// the id is missing (sites and head office number holds differently).
pub fn new_hold(
    new: NewHold,
    owner: Owner,
    author: &Author,
    taken: bool,
    example_id: &str,
) -> Result<Hold, Invalid> {
    if new.id.trim().is_empty() {
        return Err(Invalid(format!("a hold needs an id, e.g. {example_id}")));
    }
    if taken {
        return Err(Invalid(format!(
            "there is already a hold {}: give the new one another id",
            new.id
        )));
    }
    let gtin = import::normalise_gtin(&new.gtin).map_err(|e| Invalid(e.to_string()))?;
    let scope =
        match (&new.serial_from, &new.serial_to, new.lots.is_empty()) {
            (None, None, false) => HoldScope::Lots(new.lots),
            (Some(from), Some(to), true) => {
                HoldScope::Serials(SerialRange::new(from, to).map_err(|e| Invalid(e.to_string()))?)
            }
            _ => return Err(Invalid(
                "a hold covers either lots, or a serial range from..to, not both and not neither"
                    .into(),
            )),
        };
    Ok(Hold {
        id: new.id,
        kind: new.kind,
        gtin,
        scope,
        reason: new.reason,
        owner,
        created: author.change(),
        released: None,
    })
}

/// `hold` released by `author`, unless it already is.
pub fn release(mut hold: Hold, author: &Author) -> Result<Hold, Invalid> {
    if hold.released.is_some() {
        return Err(Invalid(format!("{} is already released", hold.label())));
    }
    hold.released = Some(author.change());
    Ok(hold)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(lots: &[&str], serials: Option<(&str, &str)>) -> NewHold {
        NewHold {
            id: "H-1".into(),
            kind: HoldKind::default(),
            gtin: "09506000134352".into(),
            lots: lots.iter().map(|l| l.to_string()).collect(),
            serial_from: serials.map(|s| s.0.to_owned()),
            serial_to: serials.map(|s| s.1.to_owned()),
            reason: "damp".into(),
        }
    }

    fn author() -> Author {
        Author {
            by: "qa".into(),
            why: "test".into(),
        }
    }

    #[test]
    fn a_hold_covers_lots_or_serials_and_is_released_once() {
        let hold = new_hold(
            asked(&["L1"], None),
            Owner::HeadOffice,
            &author(),
            false,
            "R-1",
        )
        .expect("a lot hold");
        assert_eq!(hold.owner, Owner::HeadOffice);
        for bad in [asked(&[], None), asked(&["L1"], Some(("S1", "S9")))] {
            let e = new_hold(bad, Owner::HeadOffice, &author(), false, "R-1").unwrap_err();
            assert!(e.0.contains("not both and not neither"), "{e}");
        }
        let e = new_hold(
            asked(&["L1"], None),
            Owner::HeadOffice,
            &author(),
            true,
            "R-1",
        )
        .unwrap_err();
        assert!(e.0.contains("already a hold H-1"), "{e}");
        let mut no_id = asked(&["L1"], None);
        no_id.id = " ".into();
        let e = new_hold(no_id, Owner::HeadOffice, &author(), false, "R-2026-004").unwrap_err();
        assert!(e.0.contains("R-2026-004"), "{e}");

        let released = release(hold, &author()).expect("first release");
        assert!(released.released.is_some());
        let e = release(released, &author()).unwrap_err();
        assert!(e.0.contains("already released"), "{e}");
    }
}
