//! The journal page: the site's movements, newest first, filtered by
//! time, station, lot or serial; a correction (void with a reason) behind
//! a confirmation page; and the state of the last `verify` (run from here,
//! by an admin, since it pauses commits while it reads the whole store),
//! kept in the store so a restart does not forget it.
//!
//! Nothing here decides: movements are read with the store's own queries
//! (the journal by seq, the lot and serial indexes the reports use), a
//! void is the desk's correction (the API's `POST /api/v1/corrections`,
//! the same checks in the same decision loop), and verify is the store's.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use maud::{html, Markup};
use serde::Deserialize;

use super::Pages;
use crate::auth::Role;
use crate::console::{page, Posted, Viewer};
use crate::model::{Movement, MovementId};
use crate::report::{decimal, documents_text, movement_ref};
use crate::site::correction::Correction;
use crate::site::last_verify::{last_verify, save_verify, VerifyRecordError, VerifyRun};
use crate::station::import::{normalise_gtin, GtinError};
use crate::store::{Store, StoreError};

/// Movements shown on one page.
pub const PAGE: usize = 50;
/// The most movements one page reads looking for matches of a station or
/// time filter; the page then offers to look further back.
pub const SCAN_LIMIT: u64 = 20_000;
/// The most movements read from the journal at once.
const CHUNK_MAX: u64 = 1_000;

/// The page's filters, all optional.
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    station: Option<String>,
    #[serde(default)]
    gtin: Option<String>,
    #[serde(default)]
    lot: Option<String>,
    #[serde(default)]
    serial: Option<String>,
    /// Show movements with a seq below this (the next page back).
    #[serde(default)]
    before: Option<u64>,
    #[serde(default)]
    voided: Option<String>,
}

fn blank(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Why the journal page cannot show what its filters ask for; the words go
/// on the page (which answers 400).
#[derive(Debug, thiserror::Error)]
enum SearchError {
    /// A from/to bound that is no date.
    #[error("{value:?} is not a date: give 2026-11-29 or 2026-11-29T14:30 (UTC)")]
    NotADate {
        /// The bound as typed.
        value: String,
    },
    /// A lot or serial without the GTIN it belongs to.
    #[error(
        "give the GTIN with a lot or a serial: the same lot number can belong to two products"
    )]
    NoGtin,
    /// The GTIN typed is refused.
    #[error(transparent)]
    Gtin(#[from] GtinError),
    /// Both a lot and a serial.
    #[error("give a lot or a serial, not both")]
    LotAndSerial,
    /// The journal or an index cannot be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The search's task failed (panicked or was cancelled).
    #[error("the search failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// A date (`2026-11-29`, the whole day) or a date and time, as a bound.
fn bound(v: &str, end: bool) -> Result<DateTime<Utc>, SearchError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M") {
        return Ok(t.and_utc());
    }
    match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        Ok(d) if end => Ok(d.and_hms_opt(23, 59, 59).unwrap_or_default().and_utc()),
        Ok(d) => Ok(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()),
        Err(_) => Err(SearchError::NotADate {
            value: v.to_owned(),
        }),
    }
}

/// What a search found: the movements (newest first) and where to go on.
struct Found {
    movements: Vec<Movement>,
    /// The seq to continue from (older), when there may be more.
    older: Option<u64>,
    /// How far back this page looked (lowest seq read).
    looked_to: Option<u64>,
}

fn search(store: &Store, f: &Filters) -> Result<Found, SearchError> {
    let from = blank(&f.from).map(|v| bound(v, false)).transpose()?;
    let to = blank(&f.to).map(|v| bound(v, true)).transpose()?;
    let station = blank(&f.station);
    let keep = |m: &Movement| {
        station.is_none_or(|s| m.body.station == s)
            && from.is_none_or(|t| m.body.device_time >= t)
            && to.is_none_or(|t| m.body.device_time <= t)
    };
    let site = store.site().to_owned();
    if let (Some(lot), None) | (None, Some(lot)) = (blank(&f.lot), blank(&f.serial)) {
        let serial = blank(&f.serial).is_some();
        let gtin = blank(&f.gtin).ok_or(SearchError::NoGtin)?;
        let gtin = normalise_gtin(gtin)?;
        let ids = if serial {
            store.view().by_serial(&gtin, lot)
        } else {
            store.view().by_lot(&gtin, lot)
        }?;
        let mut movements = read(store, &ids)?;
        movements.retain(|m| keep(m) && f.before.is_none_or(|b| m.seq < b));
        movements.sort_by_key(|m| std::cmp::Reverse(m.seq));
        let older = (movements.len() > PAGE).then(|| movements[PAGE - 1].seq);
        movements.truncate(PAGE);
        return Ok(Found {
            movements,
            older,
            looked_to: None,
        });
    }
    if blank(&f.lot).is_some() && blank(&f.serial).is_some() {
        return Err(SearchError::LotAndSerial);
    }
    let head = store.journal().head(&site)?.seq;
    let mut top = f.before.map_or(head, |b| b.saturating_sub(1)).min(head);
    let floor = top.saturating_sub(SCAN_LIMIT);
    let mut movements = Vec::new();
    let mut oldest = None;
    // The first read is one page (all the unfiltered page needs); each
    // further read doubles, up to [`CHUNK_MAX`], while a filter skips most.
    let mut chunk_len = PAGE as u64;
    'chunks: while top > floor && movements.len() < PAGE {
        let start = top.saturating_sub(chunk_len - 1).max(floor + 1);
        chunk_len = (chunk_len * 2).min(CHUNK_MAX);
        let mut chunk = store
            .journal()
            .range(&site, start, (top - start + 1) as usize)?;
        chunk.reverse();
        for m in chunk {
            let seq = m.seq;
            oldest = Some(m.body.device_time);
            if keep(&m) {
                movements.push(m);
            }
            top = seq.saturating_sub(1);
            if movements.len() >= PAGE {
                break 'chunks;
            }
        }
        top = top.min(start.saturating_sub(1));
        // Movements are in time order by seq (near enough: device time),
        // so once past `from` nothing older can match.
        if from.is_some_and(|t| oldest.is_some_and(|o| o < t)) {
            top = 0;
            break;
        }
    }
    Ok(Found {
        older: (top > 0).then_some(top + 1),
        looked_to: Some(top + 1),
        movements,
    })
}

fn read(store: &Store, ids: &[MovementId]) -> Result<Vec<Movement>, StoreError> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(m) = store.journal().movement(&id.origin, id.seq)? {
            out.push(m);
        }
    }
    Ok(out)
}

fn quantity(m: &Movement) -> String {
    let (mantissa, scale, unit) = m.body.quantity.parts();
    let n = decimal(crate::model::Balance { mantissa, scale });
    if unit.is_empty() {
        n
    } else {
        format!("{n} {unit}")
    }
}

fn party(m: &Movement) -> String {
    let c = &m.body.counterparty;
    match (&c.name, &c.gln) {
        (Some(n), Some(g)) => format!("{n} ({g})"),
        (Some(n), None) => n.clone(),
        (None, Some(g)) => g.clone(),
        _ => String::new(),
    }
}

/// `GET /journal`.
pub async fn page(
    State(pages): State<Pages>,
    viewer: Viewer,
    Query(f): Query<Filters>,
) -> Response {
    let store = pages.app.store.clone();
    let (found, last, f) =
        tokio::task::spawn_blocking(move || (search(&store, &f), last_verify(&store), f))
            .await
            .unwrap_or_else(|e| (Err(SearchError::from(e)), Ok(None), Filters::default()));
    let stations: Vec<&str> = pages.stations.iter().map(|s| s.id.as_str()).collect();
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let status = if found.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let body = html! {
        @if let Some(v) = &f.voided {
            p.notice role="status" id="journal-notice" { "Movement " (v) " voided." }
        }
        (verify_box(&viewer, last.as_ref().map(Option::as_ref)))
        form.report method="get" action="/journal" {
            div.fields {
                div { label for="j-from" { "From (UTC)" } input id="j-from" name="from" type="date" value=(value(&f.from)); }
                div { label for="j-to" { "To (UTC)" } input id="j-to" name="to" type="date" value=(value(&f.to)); }
                div { label for="j-station" { "Station" }
                    select id="j-station" name="station" {
                        option value="" { "all stations" }
                        @for s in &stations {
                            option value=(s) selected[f.station.as_deref() == Some(*s)] { (s) }
                        }
                    }
                }
                div { label for="j-gtin" { "GTIN" } input id="j-gtin" name="gtin" value=(value(&f.gtin)) placeholder="with a lot or serial"; }
                div { label for="j-lot" { "Lot" } input id="j-lot" name="lot" value=(value(&f.lot)); }
                div { label for="j-serial" { "Serial" } input id="j-serial" name="serial" value=(value(&f.serial)); }
                div.actions { button type="submit" { "Show" } }
            }
        }
        @match &found {
            Err(e) => p.problem role="alert" id="journal-problem" { (e) },
            Ok(found) => (movements(&f, found))
        }
    };
    (
        status,
        page::shell(&pages.console.chrome, Some(&viewer), "Journal", body),
    )
        .into_response()
}

fn movements(f: &Filters, found: &Found) -> Markup {
    let mut next: Vec<(String, String)> = [
        ("from", &f.from),
        ("to", &f.to),
        ("station", &f.station),
        ("gtin", &f.gtin),
        ("lot", &f.lot),
        ("serial", &f.serial),
    ]
    .iter()
    .filter_map(|(k, v)| blank(v).map(|v| (k.to_string(), v.to_owned())))
    .collect();
    if let Some(o) = found.older {
        next.push(("before".into(), o.to_string()));
    }
    html! {
        @if found.movements.is_empty() {
            p.muted id="journal-empty" { "No movement matches." }
        } @else {
            div.scroll {
                table id="journal" {
                    caption { "Movements, newest first" }
                    thead { tr {
                        th scope="col" { "Seq" } th scope="col" { "Time (UTC)" } th scope="col" { "Station" }
                        th scope="col" { "Kind" } th scope="col" { "GTIN" } th scope="col" { "Lot" }
                        th scope="col" { "Serial" } th.num scope="col" { "Qty" } th scope="col" { "At" }
                        th scope="col" { "Party" } th scope="col" { "Documents" } th scope="col" { "By" }
                        th scope="col" { "" }
                    } }
                    tbody {
                        @for m in &found.movements {
                            tr data-seq=(m.seq) {
                                td { (m.seq) }
                                td { (m.body.device_time.format("%Y-%m-%d %H:%M:%S")) }
                                td { (m.body.station) }
                                td { (m.body.kind.name())
                                    @if let Some(c) = &m.body.corrects { br; small { "voids " (movement_ref(c)) } }
                                    @if let Some(r) = &m.body.reason { br; small.muted { (r) } }
                                }
                                td { (m.body.gtin) }
                                td { (m.body.lot.clone().unwrap_or_default()) }
                                td { (m.body.serial.clone().unwrap_or_default()) }
                                td.num { (quantity(m)) }
                                td { (m.body.location) }
                                td { (party(m)) }
                                td { (documents_text(&m.body.documents)) }
                                td { (m.body.author) @if !m.body.operator.is_empty() && m.body.operator != m.body.author { br; small.muted { "operator " (m.body.operator) } } }
                                td { @if m.body.corrects.is_none() {
                                    a.button.secondary href=(format!("/journal/void/{}", m.seq)) { "Void…" }
                                } }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(to) = found.looked_to {
            @if found.movements.len() < PAGE && found.older.is_some() {
                p.muted { "Looked back to seq " (to) "." }
            }
        }
        @if found.older.is_some() {
            nav.pager aria-label="Pages" {
                a href=(format!("/journal?{}", page::query_string(&next))) { "Older movements" }
            }
        }
    }
}

fn verify_box(viewer: &Viewer, last: Result<Option<&VerifyRun>, &VerifyRecordError>) -> Markup {
    html! {
        section.verify aria-labelledby="verify-h" id="verify" {
            h2 id="verify-h" { "Last verify" }
            @match last {
                Err(e) => p.problem id="verify-state" { (e) },
                Ok(None) => p.muted id="verify-state" { "Never run from the console (" code { "scantrail verify" } " needs the daemon stopped)." },
                Ok(Some(v)) => div id="verify-state" class=(if v.clean { "notice" } else if v.ok { "warn" } else { "problem" }) {
                    p { @if v.clean { "Intact: " } @else if v.ok { "Intact, but history breaks the rules: " } @else { "DAMAGED: " }
                        (v.summary) " — run by " (v.by) " at " (v.at.format("%Y-%m-%d %H:%M:%S UTC")) }
                    @if !v.problems.is_empty() { ul { @for p in &v.problems { li { (p) } } } }
                }
            }
            @if viewer.identity.role.covers(Role::Admin) {
                form method="post" action="/journal/verify" {
                    (viewer.csrf_field())
                    button.secondary type="submit" { "Run verify now" }
                    " " small.muted { "Scans wait while it reads the whole store." }
                }
            }
        }
    }
}

/// `POST /journal/verify` (admin): runs the store's verify and keeps its
/// outcome for the page.
pub async fn verify(State(pages): State<Pages>, form: Posted) -> Response {
    if let Err(r) = form.viewer.require(&pages.console.chrome, Role::Admin) {
        return r;
    }
    let store = pages.app.store.clone();
    let report = super::blocking(move || store.verify()).await;
    let by = form.viewer.name().to_owned();
    let run = VerifyRun::of(report.as_ref().map_err(|e| e as &dyn std::fmt::Display), by);
    tracing::info!(
        by = run.by,
        ok = run.ok,
        clean = run.clean,
        "verify run from the console"
    );
    let store = pages.app.store.clone();
    if let Err(e) = super::blocking(move || save_verify(&store, &run)).await {
        return page::message(
            &pages.console.chrome,
            Some(&form.viewer),
            StatusCode::INTERNAL_SERVER_ERROR,
            "Verify ran, but its outcome was not recorded",
            &e,
        );
    }
    Redirect::to("/journal#verify").into_response()
}

/// `GET /journal/void/{seq}`: the confirmation step: the movement in full
/// and a form asking why.
pub async fn confirm(State(pages): State<Pages>, viewer: Viewer, Path(seq): Path<u64>) -> Response {
    confirm_page(&pages, &viewer, seq, None, "").await
}

async fn confirm_page(
    pages: &Pages,
    viewer: &Viewer,
    seq: u64,
    problem: Option<String>,
    reason: &str,
) -> Response {
    let store = pages.app.store.clone();
    let site = store.site().to_owned();
    let m = super::blocking(move || store.journal().movement(&site, seq)).await;
    let (status, title, text) = match m {
        Ok(Some(m)) => return confirm_form(pages, viewer, &m, problem, reason),
        Ok(None) => (
            StatusCode::NOT_FOUND,
            "No such movement",
            format!("This site's journal has no movement {seq}."),
        ),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, "Journal unreadable", e),
    };
    page::message(&pages.console.chrome, Some(viewer), status, title, &text)
}

/// The confirmation page of a void of `m`.
fn confirm_form(
    pages: &Pages,
    viewer: &Viewer,
    m: &Movement,
    problem: Option<String>,
    reason: &str,
) -> Response {
    let seq = m.seq;
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let rows = vec![
        vec!["Seq".to_owned(), m.seq.to_string()],
        vec![
            "Time (UTC)".into(),
            m.body.device_time.format("%Y-%m-%d %H:%M:%S").to_string(),
        ],
        vec!["Kind".into(), m.body.kind.name().to_owned()],
        vec!["Station".into(), m.body.station.clone()],
        vec!["GTIN".into(), m.body.gtin.clone()],
        vec!["Lot".into(), m.body.lot.clone().unwrap_or_default()],
        vec!["Serial".into(), m.body.serial.clone().unwrap_or_default()],
        vec!["Quantity".into(), quantity(m)],
        vec!["Location".into(), m.body.location.clone()],
        vec!["Party".into(), party(m)],
        vec!["Recorded by".into(), m.body.author.clone()],
    ];
    let body = html! {
        @if let Some(p) = &problem { p.problem role="alert" id="void-problem" { (p) } }
        p.warn { "Voiding records a correction that reverses this movement; the movement itself stays in the journal. It cannot be undone by voiding the correction." }
        (page::table("The movement", &["", ""], &rows))
        form.void method="post" action=(format!("/journal/void/{seq}")) {
            (viewer.csrf_field())
            div.wide {
                label for="v-reason" { "Why is it voided? (kept with the correction)" }
                input id="v-reason" name="reason" value=(reason) required;
            }
            p {
                button.danger type="submit" id="void-confirm" { "Void movement " (seq) }
                " " a href="/journal" { "Cancel" }
            }
        }
    };
    (
        status,
        page::shell(
            &pages.console.chrome,
            Some(viewer),
            &format!("Void movement {seq}?"),
            body,
        ),
    )
        .into_response()
}

/// `POST /journal/void/{seq}`: the desk's correction of the movement,
/// authored by the signed-in person.
pub async fn void(State(pages): State<Pages>, Path(seq): Path<u64>, form: Posted) -> Response {
    let viewer = form.viewer.clone();
    let reason = form.text("reason");
    let correction = Correction {
        origin: None,
        seq,
        reason: reason.clone(),
        operator: Some(viewer.name().to_owned()),
        author: viewer.name().to_owned(),
    };
    match pages.app.desk.correct(correction).await {
        Ok(Ok(_)) => Redirect::to(&format!("/journal?voided={seq}")).into_response(),
        Ok(Err(e)) => confirm_page(&pages, &viewer, seq, Some(e.to_string()), &reason).await,
        Err(_) => page::message(
            &pages.console.chrome,
            Some(&viewer),
            StatusCode::SERVICE_UNAVAILABLE,
            "Shutting down",
            "scantrail is shutting down; try again in a moment.",
        ),
    }
}
