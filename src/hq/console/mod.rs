//! Head office's console, served by `scantrail hq` beside its API (HTTPS
//! only): the sites overview, the reports across every site (from its
//! store or its database, as the API answers them), issuing and releasing recalls, and publishing products
//! and pick lists. Sign-in, sessions, CSRF, the report pages, the holds
//! page and the reference data page are `crate::console`'s; the recalls
//! and the imports are the catalog's operations on head office's published
//! records, as `POST /api/v1/holds`, `/products` and `/picklists` make
//! them.

pub mod sites;

use std::sync::Arc;

use axum::middleware;
use axum::routing::get;
use axum::Router;
use tokio::runtime::Handle;

use super::publish::Published;
use super::storage::Storage;
use crate::auth::Role;
use crate::console::holds::{self, Book, Holds};
use crate::console::reference::{self, References, Shelf};
use crate::console::{self, Chrome, Console, NavItem};
use crate::model::Reference;
use crate::station::catalog::{self, Author, CatalogError, NewHold, Records};
use crate::station::reference::{Hold, Owner};

/// Head office's published recalls and reference data, through the
/// catalog (the API's `/api/v1/holds`, `/products` and `/picklists`
/// operations).
#[derive(Clone)]
pub struct HqBook {
    storage: Arc<Storage>,
    handle: Handle,
}

impl HqBook {
    fn records(&self) -> Published<'_> {
        Published::new(&self.storage, self.handle.clone())
    }
}

impl Book for HqBook {
    fn list(&self) -> Result<Vec<Hold>, CatalogError> {
        catalog::holds(&self.records())
    }
    fn add(&self, new: NewHold, author: &Author) -> Result<Hold, CatalogError> {
        catalog::add_hold(&self.records(), new, author)
    }
    fn release(&self, id: &str, author: &Author) -> Result<Hold, CatalogError> {
        catalog::release_hold(&self.records(), id, author)
    }
    fn owner(&self) -> Owner {
        self.records().owner()
    }
}

impl Shelf for HqBook {
    type Records<'a> = Published<'a>;
    fn records(&self) -> Published<'_> {
        HqBook::records(self)
    }
    fn published(&self, r: Reference) -> Result<Option<u64>, CatalogError> {
        self.handle
            .block_on(super::publish::version(&self.storage, r))
            .map(Some)
    }
}

/// What head office's pages reach.
#[derive(Clone)]
pub struct Pages {
    pub(crate) console: Arc<Console>,
    pub(crate) storage: Arc<Storage>,
    pub(crate) configured_sites: Arc<Vec<String>>,
}

impl axum::extract::FromRef<Pages> for Arc<Console> {
    fn from_ref(pages: &Pages) -> Arc<Console> {
        pages.console.clone()
    }
}

/// The navigation of head office's console.
pub fn chrome(name: &str) -> Chrome {
    let item = |href, label, role| NavItem { href, label, role };
    let nav = vec![
        item("/", "Sites", Role::Supervisor),
        item("/reports", "Reports", Role::Supervisor),
        item("/holds", "Recalls", Role::Supervisor),
        item("/reference", "Products and pick lists", Role::Supervisor),
    ];
    Chrome {
        name: name.to_owned(),
        nav,
    }
}

/// The console's routes, to merge beside head office's API. Call within
/// the runtime (the recalls run the storage's work on it).
pub fn router(pages: Pages) -> Router {
    let signed_in =
        Router::new()
            .route("/", get(sites::page))
            .route_layer(middleware::from_fn_with_state(
                pages.console.clone(),
                console::require_viewer,
            ));
    let book = HqBook {
        storage: pages.storage.clone(),
        handle: Handle::current(),
    };
    let recalls = holds::router(Holds {
        console: pages.console.clone(),
        book: book.clone(),
    });
    let reference = reference::router(References {
        console: pages.console.clone(),
        shelf: book,
    });
    let mut router = console::routes()
        .merge(signed_in)
        .with_state(pages.clone())
        .merge(recalls)
        .merge(reference);
    router = router.merge(console::reports::router(console::reports::Reports {
        console: pages.console.clone(),
        run: pages.storage.report_runner(),
    }));
    router.layer(middleware::from_fn(console::security_headers))
}
