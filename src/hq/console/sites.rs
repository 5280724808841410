//! The sites overview of head office's console: each site's last seq held
//! here, when it last sent, how far behind its newest movement is, the
//! reference versions it applied and head office's alerts about it; the
//! same figures as `GET /api/v1/sites` and `scantrail hq status`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use maud::html;

use super::Pages;
use crate::console::{page, Viewer};

/// Alerts shown per site; the API lists up to 100.
const ALERTS_SHOWN: usize = 5;

fn seconds(s: i64) -> String {
    match s {
        ..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        _ => format!("{} h", s / 3600),
    }
}

/// `GET /`: every configured site.
pub async fn page(State(pages): State<Pages>, viewer: Viewer) -> Response {
    let sites = match pages.storage.status(pages.configured_sites.clone()).await {
        Ok(s) => s,
        Err(e) => {
            return page::message(
                &pages.console.chrome,
                Some(&viewer),
                StatusCode::SERVICE_UNAVAILABLE,
                "Sites cannot be read",
                &e.to_string(),
            )
        }
    };
    let now = Utc::now();
    let body = html! {
        @if sites.is_empty() {
            p.muted { "No site is configured ([[sites]] of hq.toml)." }
        } @else {
            div.scroll {
                table id="sites" {
                    caption { "Sites" }
                    thead { tr {
                        th scope="col" { "Site" } th.num scope="col" { "Last seq held" }
                        th.num scope="col" { "Rejected scans held" } th scope="col" { "Last contact" }
                        th.num scope="col" { "Backlog" }
                        th scope="col" { "Lag (newest movement)" } th scope="col" { "Reference applied" }
                        th scope="col" { "Alerts" }
                    } }
                    tbody {
                        @for s in &sites {
                            tr data-site=(s.site) {
                                td { (s.site) }
                                td.num { (s.last_seq) }
                                td.num { (s.last_rejected_seq) }
                                td { @match s.last_contact.or(s.last_seen) {
                                    Some(t) => { (t.format("%Y-%m-%d %H:%M:%S UTC")) br; small.muted { (seconds((now - t).num_seconds().max(0))) " ago" } },
                                    None => span.muted { "never" },
                                } }
                                td.num { @match s.backlog {
                                    Some(b) => (b),
                                    None => span.muted title="this site does not report its heads (an older scantrail)" { "unknown" },
                                } }
                                td { (s.lag_seconds.map(seconds).unwrap_or_else(|| "-".into())) }
                                td { "products v" (s.reference.products) ", holds v" (s.reference.holds) ", pick lists v" (s.reference.picklists) }
                                td {
                                    @if s.alerts.is_empty() { span.muted { "none" } }
                                    @else {
                                        ul.alerts {
                                            @for a in s.alerts.iter().rev().take(ALERTS_SHOWN) {
                                                li.warn { (a.at.format("%Y-%m-%d %H:%M")) " " strong { (a.code) } ": " (a.message) }
                                            }
                                        }
                                        @if s.alerts.len() > ALERTS_SHOWN { small.muted { "and " (s.alerts.len() - ALERTS_SHOWN) " older" } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page::shell(&pages.console.chrome, Some(&viewer), "Sites", body).into_response()
}
