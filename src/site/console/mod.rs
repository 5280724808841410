//! The site's console pages, served by `scantrail run` beside the API:
//! the floor (stations and the live feed), reports, holds and recalls,
//! reference data, the journal, expected receipts and sync. Sign-in, sessions, CSRF and the
//! page shell are `crate::console`'s; every page here calls the same
//! catalog, report and desk code as the API, so a rule is written once.

pub mod floor;
pub mod handhelds;
pub mod journal;
pub mod receipts;
pub mod sync;

use std::sync::Arc;

use axum::extract::FromRef;
use axum::middleware;
use axum::routing::{get, post};
use axum::Router;

use super::api::AppState;
use super::catalog::SiteRecords;
use crate::auth::Role;
use crate::console::{self, Chrome, Console, NavItem};
use crate::station::catalog::{self, Author, CatalogError, NewHold, Records};
use crate::station::reference::{Hold, Owner};

/// What the site's pages reach.
#[derive(Clone)]
pub struct Pages {
    pub(crate) console: Arc<Console>,
    pub(crate) app: AppState,
    pub(crate) stations: Arc<Vec<crate::config::Station>>,
    /// The scanners running now (a reload adds and removes them).
    pub(crate) scanners: super::scanners::Shown,
    pub(crate) floor: Arc<floor::Floor>,
    /// The sync link's status; `None` without `[sync]`.
    pub sync: Option<Arc<std::sync::Mutex<crate::sync::link::Status>>>,
}

impl FromRef<Pages> for Arc<Console> {
    fn from_ref(pages: &Pages) -> Arc<Console> {
        pages.console.clone()
    }
}

/// Runs `f` off the async threads: its error, or the task's failure, in
/// words for the page.
async fn blocking<T: Send + 'static, E: ToString + Send + 'static>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(move || f().map_err(|e| e.to_string()))
        .await
        .unwrap_or_else(|e| Err(e.to_string()))
}

/// The 500 page of a page whose data cannot be read (`title` says which).
fn failed(
    pages: &Pages,
    viewer: &crate::console::Viewer,
    title: &str,
    e: String,
) -> axum::response::Response {
    crate::console::page::message(
        &pages.console.chrome,
        Some(viewer),
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        title,
        &e,
    )
}

/// The site's own holds and reference data, through the catalog on its
/// records (the API's `/api/v1/holds`, `/products` and `/picklists`
/// operations).
#[derive(Clone)]
pub struct SiteBook(pub Arc<crate::store::Store>);

impl console::holds::Book for SiteBook {
    fn list(&self) -> Result<Vec<Hold>, CatalogError> {
        catalog::holds(&SiteRecords(&self.0))
    }
    fn add(&self, new: NewHold, author: &Author) -> Result<Hold, CatalogError> {
        catalog::add_hold(&SiteRecords(&self.0), new, author)
    }
    fn release(&self, id: &str, author: &Author) -> Result<Hold, CatalogError> {
        catalog::release_hold(&SiteRecords(&self.0), id, author)
    }
    fn owner(&self) -> Owner {
        SiteRecords(&self.0).owner()
    }
}

impl console::reference::Shelf for SiteBook {
    type Records<'a> = SiteRecords<'a>;
    fn records(&self) -> SiteRecords<'_> {
        SiteRecords(&self.0)
    }
}

/// The navigation of the site's console.
pub fn chrome(site_name: &str) -> Chrome {
    let item = |href, label, role| NavItem { href, label, role };
    Chrome {
        name: site_name.to_owned(),
        nav: vec![
            item("/", "Floor", Role::Supervisor),
            item("/reports", "Reports", Role::Supervisor),
            item("/holds", "Holds and recalls", Role::Supervisor),
            item("/reference", "Reference data", Role::Supervisor),
            item("/journal", "Journal", Role::Supervisor),
            item("/expected-receipts", "Expected receipts", Role::Supervisor),
            item("/handhelds", "Handhelds", Role::Supervisor),
            item("/sync", "Sync", Role::Supervisor),
        ],
    }
}

/// The console's routes, to merge beside the API's.
pub fn router(pages: Pages) -> Router {
    let signed_in = Router::new()
        .route("/", get(floor::page))
        .route("/floor/stations", get(floor::tiles_fragment))
        .route("/floor/charts", get(floor::charts_fragment))
        .route("/floor/feed", get(floor::feed))
        .route("/journal", get(journal::page))
        .route("/journal/verify", post(journal::verify))
        .route(
            "/journal/void/{seq}",
            get(journal::confirm).post(journal::void),
        )
        .route("/expected-receipts", get(receipts::page))
        .route("/handhelds", get(handhelds::page))
        .route("/handhelds/add", post(handhelds::add))
        .route("/handhelds/revoke", post(handhelds::revoke))
        .route("/sync", get(sync::page))
        .route("/sync/resume", post(sync::resume))
        .route_layer(middleware::from_fn_with_state(
            pages.console.clone(),
            console::require_viewer,
        ));
    let reports = console::reports::router(console::reports::Reports {
        console: pages.console.clone(),
        run: console::reports::store_runner(pages.app.store.clone()),
    });
    let holds = console::holds::router(console::holds::Holds {
        console: pages.console.clone(),
        book: SiteBook(pages.app.store.clone()),
    });
    let reference = console::reference::router(console::reference::References {
        console: pages.console.clone(),
        shelf: SiteBook(pages.app.store.clone()),
    });
    console::routes()
        .merge(signed_in)
        .with_state(pages)
        .merge(reports)
        .merge(holds)
        .merge(reference)
        .layer(middleware::from_fn(console::security_headers))
}
