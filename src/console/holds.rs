//! The holds and recalls page, for the site (its own records) and head
//! office (the recalls it publishes) alike: the holds (active, or all
//! with the released ones), a form to add one by a list of lots or a
//! serial range, and a release with a reason. Each hold shows who issued
//! and released it, when and why; at a site, a head-office recall shows
//! that only head office can release it, and has no release button.
//!
//! A form here goes through the API's own path: the fields become the
//! JSON the API takes, read by `catalog::hold_request` /
//! `catalog::release_request`, and the change is made by
//! `catalog::add_hold` / `catalog::release_hold` on the side's records
//! (a [`Book`]), so the rules (an id, lots or a range but not both, a
//! reason, a site never releases head office's recall) are written once.
//! The author is the signed-in person.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use serde::Deserialize;

use std::sync::Arc;

use axum::middleware;
use axum::routing::{get, post};
use axum::Router;

use super::{page, require_viewer, Console, Posted, Viewer};
use crate::station::catalog::{hold_request, release_request, Author, CatalogError, NewHold};
use crate::station::reference::{Change, Hold, HoldKind, HoldScope, Owner};

/// `?show=all` lists released holds too; `added`/`released` say what the
/// last form did.
#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    show: Option<String>,
    #[serde(default)]
    added: Option<String>,
    #[serde(default)]
    released: Option<String>,
}

/// Where one side keeps its holds: the catalog's operations on its
/// records. Called on a blocking thread.
pub trait Book: Clone + Send + Sync + 'static {
    /// Every hold and recall (`catalog::holds`).
    fn list(&self) -> Result<Vec<Hold>, CatalogError>;
    /// `catalog::add_hold`.
    fn add(&self, new: NewHold, author: &Author) -> Result<Hold, CatalogError>;
    /// `catalog::release_hold`.
    fn release(&self, id: &str, author: &Author) -> Result<Hold, CatalogError>;
    /// Who writes here: the site, or head office.
    fn owner(&self) -> Owner;
}

/// What the holds pages reach.
#[derive(Clone)]
pub struct Holds<B> {
    pub(crate) console: Arc<Console>,
    pub(crate) book: B,
}

/// `/holds` and `/holds/{id}/release`, behind sign-in.
pub fn router<B: Book>(holds: Holds<B>) -> Router {
    Router::new()
        .route("/holds", get(page::<B>).post(add::<B>))
        .route("/holds/{id}/release", post(release::<B>))
        .route_layer(middleware::from_fn_with_state(
            holds.console.clone(),
            require_viewer,
        ))
        .with_state(holds)
}

/// Runs `f` on the book off the async threads.
async fn on_book<B: Book, T: Send + 'static>(
    book: &B,
    f: impl FnOnce(&B) -> Result<T, CatalogError> + Send + 'static,
) -> Result<T, (StatusCode, String)> {
    let book = book.clone();
    match tokio::task::spawn_blocking(move || f(&book)).await {
        Ok(r) => r.map_err(refusal),
        Err(e) => Err((StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
    }
}

/// `GET /holds`.
pub async fn page<B: Book>(
    State(pages): State<Holds<B>>,
    viewer: Viewer,
    Query(q): Query<ListQuery>,
) -> Response {
    let notice = match (&q.added, &q.released) {
        (Some(id), _) => Some(format!(
            "Hold {id} added: its goods are refused at dispatch from now on."
        )),
        (_, Some(id)) => Some(format!("Hold {id} released.")),
        _ => None,
    };
    render(
        &pages,
        &viewer,
        q.show.as_deref() == Some("all"),
        notice,
        None,
        &Blank::default(),
    )
    .await
}

/// What the add form showed when it was sent, to fill it again after a
/// refusal.
#[derive(Default)]
struct Blank {
    id: String,
    kind: String,
    gtin: String,
    lots: String,
    from: String,
    to: String,
    reason: String,
}

async fn render<B: Book>(
    pages: &Holds<B>,
    viewer: &Viewer,
    all: bool,
    notice: Option<String>,
    problem: Option<(StatusCode, String)>,
    form: &Blank,
) -> Response {
    let holds = match on_book(&pages.book, |b| b.list()).await {
        Ok(h) => h,
        Err((status, e)) => {
            let chrome = &pages.console.chrome;
            return page::message(chrome, Some(viewer), status, "Holds cannot be read", &e);
        }
    };
    let here = pages.book.owner();
    let shown: Vec<&Hold> = holds.iter().filter(|h| all || h.is_active()).collect();
    let active = holds.iter().filter(|h| h.is_active()).count();
    let status = problem.as_ref().map(|(s, _)| *s).unwrap_or(StatusCode::OK);
    let body = html! {
        @if let Some(n) = &notice { p.notice role="status" id="holds-notice" { (n) } }
        @if let Some((_, p)) = &problem { p.problem role="alert" id="holds-problem" { (p) } }
        nav.tabs aria-label="Which holds" {
            a href="/holds" aria-current=[(!all).then_some("page")] { "Active (" (active) ")" }
            a href="/holds?show=all" aria-current=[all.then_some("page")] { "All (" (holds.len()) ")" }
        }
        @if shown.is_empty() {
            p.muted id="no-holds" { @if all { "No hold or recall has been issued." } @else { "No active hold or recall: nothing is kept from dispatch." } }
        } @else {
            div.scroll {
                table id="holds" {
                    caption { @if all { "Every hold and recall" } @else { "Active holds and recalls" } }
                    thead { tr {
                        th scope="col" { "Id" } th scope="col" { "Kind" } th scope="col" { "GTIN" }
                        th scope="col" { "Covers" } th scope="col" { "Reason" } th scope="col" { "Issued" }
                        th scope="col" { "Released" }
                    } }
                    tbody {
                        @for h in &shown { (row(viewer, h, &here)) }
                    }
                }
            }
        }
        (add_form(viewer, form))
    };
    (
        status,
        page::shell(
            &pages.console.chrome,
            Some(viewer),
            "Holds and recalls",
            body,
        ),
    )
        .into_response()
}

fn change(c: &Change) -> Markup {
    html! {
        span.who { (c.by) } " · " time datetime=(c.at.to_rfc3339()) { (c.at.format("%Y-%m-%d %H:%M UTC")) }
        br; span.why { (c.why) }
    }
}

fn row(viewer: &Viewer, h: &Hold, here: &Owner) -> Markup {
    let covers = match &h.scope {
        HoldScope::Lots(lots) => format!("lots {}", lots.join(", ")),
        HoldScope::Serials(r) => format!("serials {} to {}", r.from(), r.to()),
    };
    let kind = match h.kind {
        HoldKind::Hold => "hold",
        HoldKind::Recall => "recall",
    };
    let owner = match &h.owner {
        Owner::HeadOffice => "head office".to_owned(),
        o if o == here => "this site".to_owned(),
        Owner::Site(s) => format!("site {s}"),
    };
    html! {
        tr data-hold=(h.id) class=(if h.is_active() { "active" } else { "released" }) {
            td { (h.id) }
            td { (kind) br; small.muted { (owner) } }
            td { (h.gtin) }
            td { (covers) }
            td { (h.reason) }
            td { (change(&h.created)) }
            td {
                @if let Some(r) = &h.released {
                    (change(r))
                } @else if h.owner != *here {
                    p.warn.headoffice { "Issued by head office: only head office can release it." }
                } @else {
                    form.release method="post" action=(format!("/holds/{}/release", page::query_escape(&h.id))) {
                        (viewer.csrf_field())
                        label for=(format!("why-{}", h.id)) { "Why release " (h.id) "?" }
                        input id=(format!("why-{}", h.id)) name="why" required;
                        button type="submit" { "Release" }
                    }
                }
            }
        }
    }
}

fn add_form(viewer: &Viewer, f: &Blank) -> Markup {
    let recall = f.kind == "recall";
    html! {
        section aria-labelledby="add-h" {
            h2 id="add-h" { "Add a hold" }
            p.muted { "Goods it covers are refused at dispatch until it is released. Give either lots or a serial range." }
            form.hold method="post" action="/holds" {
                (viewer.csrf_field())
                div.fields {
                    div { label for="h-id" { "Id" } input id="h-id" name="id" value=(f.id) placeholder="e.g. H-2026-017" required; }
                    div { label for="h-kind" { "Kind" }
                        select id="h-kind" name="kind" {
                            option value="hold" selected[!recall] { "hold (quarantine)" }
                            option value="recall" selected[recall] { "recall" }
                        }
                    }
                    div { label for="h-gtin" { "GTIN" } input id="h-gtin" name="gtin" value=(f.gtin) inputmode="numeric" required; }
                    div { label for="h-lots" { "Lots" } input id="h-lots" name="lots" value=(f.lots) placeholder="separated by spaces or commas"; }
                    div { label for="h-from" { "Serials from" } input id="h-from" name="serial_from" value=(f.from); }
                    div { label for="h-to" { "Serials to" } input id="h-to" name="serial_to" value=(f.to); }
                }
                div.wide { label for="h-reason" { "Reason (the picker whose scan is refused reads it)" }
                input id="h-reason" name="reason" value=(f.reason) required; }
                p { button type="submit" { "Add hold" } }
            }
        }
    }
}

/// A catalog refusal as the page shows it: a broken rule is the person's
/// to fix (400), anything else is ours (500).
fn refusal(e: CatalogError) -> (StatusCode, String) {
    match e {
        CatalogError::Invalid(m) => (StatusCode::BAD_REQUEST, m),
        e => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// `POST /holds`: adds a hold, authored by the signed-in person.
pub async fn add<B: Book>(State(pages): State<Holds<B>>, form: Posted) -> Response {
    let viewer = form.viewer.clone();
    let blank = Blank {
        id: form.text("id"),
        kind: form.text("kind"),
        gtin: form.text("gtin"),
        lots: form.text("lots"),
        from: form.text("serial_from"),
        to: form.text("serial_to"),
        reason: form.text("reason"),
    };
    let kind = if blank.kind == "recall" {
        HoldKind::Recall
    } else {
        HoldKind::Hold
    };
    let asked = NewHold {
        id: blank.id.clone(),
        kind,
        gtin: blank.gtin.clone(),
        lots: blank
            .lots
            .split([' ', ',', ';', '\n'])
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        serial_from: form.get("serial_from"),
        serial_to: form.get("serial_to"),
        reason: blank.reason.clone(),
    };
    // The API's body, read by the API's reader: one set of rules.
    let body = serde_json::to_vec(&asked).unwrap_or_default();
    let result = match hold_request(&body, viewer.name()) {
        Err(e) => Err((StatusCode::BAD_REQUEST, e.0)),
        Ok(hold) => {
            let author = Author {
                by: viewer.name().to_owned(),
                why: hold.reason.clone(),
            };
            on_book(&pages.book, move |b| b.add(hold, &author)).await
        }
    };
    match result {
        Ok(hold) => {
            Redirect::to(&format!("/holds?added={}", page::query_escape(&hold.id))).into_response()
        }
        Err(problem) => render(&pages, &viewer, false, None, Some(problem), &blank).await,
    }
}

/// `POST /holds/{id}/release`: releases a hold with a reason, authored by
/// the signed-in person; head office's recalls are refused by the catalog.
pub async fn release<B: Book>(
    State(pages): State<Holds<B>>,
    Path(id): Path<String>,
    form: Posted,
) -> Response {
    let viewer = form.viewer.clone();
    let body = serde_json::json!({ "why": form.text("why") }).to_string();
    let result = match release_request(body.as_bytes(), viewer.name()) {
        Err(e) => Err((StatusCode::BAD_REQUEST, e.0)),
        Ok(author) => {
            let hold = id.clone();
            on_book(&pages.book, move |b| b.release(&hold, &author)).await
        }
    };
    match result {
        Ok(hold) => Redirect::to(&format!("/holds?released={}", page::query_escape(&hold.id)))
            .into_response(),
        Err(problem) => {
            render(
                &pages,
                &viewer,
                false,
                None,
                Some(problem),
                &Blank::default(),
            )
            .await
        }
    }
}
