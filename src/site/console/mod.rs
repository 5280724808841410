//! The site's console pages, served by `scantrail run` beside the API:
//! the floor (stations and the live feed), reports, holds and recalls,
//! reference data, the journal and sync. Sign-in, sessions, CSRF and the
//! page shell are `crate::console`'s; every page here calls the same
//! catalog, report and desk code as the API, so a rule is written once.

pub mod floor;

use std::sync::Arc;

use axum::extract::FromRef;
use axum::middleware;
use axum::routing::get;
use axum::Router;

use super::api::AppState;
use crate::auth::Role;
use crate::console::{self, Chrome, Console, NavItem};
use crate::scan::serial::SourceStats;

/// A scanner of `[[scanners]]` and its counters (connected or not).
#[derive(Clone)]
pub struct ScannerState {
    pub station: String,
    pub port: String,
    pub stats: Arc<SourceStats>,
}

impl ScannerState {
    /// Whether the scanner's port is open now.
    pub fn connected(&self) -> bool {
        use std::sync::atomic::Ordering;
        self.stats.connects.load(Ordering::Relaxed) > self.stats.disconnects.load(Ordering::Relaxed)
    }
}

/// What the site's pages reach.
#[derive(Clone)]
pub struct Pages {
    pub console: Arc<Console>,
    pub app: AppState,
    pub stations: Arc<Vec<crate::config::Station>>,
    pub scanners: Arc<Vec<ScannerState>>,
    pub floor: Arc<floor::Floor>,
}

impl FromRef<Pages> for Arc<Console> {
    fn from_ref(pages: &Pages) -> Arc<Console> {
        pages.console.clone()
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
        .route_layer(middleware::from_fn_with_state(
            pages.console.clone(),
            console::require_viewer,
        ));
    let reports = console::reports::router(console::reports::Reports {
        console: pages.console.clone(),
        store: pages.app.store.clone(),
    });
    console::routes()
        .merge(signed_in)
        .with_state(pages)
        .merge(reports)
        .layer(middleware::from_fn(console::security_headers))
}
