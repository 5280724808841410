//! The Handhelds page: the devices enrolled at this site (name, stations,
//! who enrolled them, last seen), "add handheld" (name and stations, then
//! a one-time code as text and as a QR code for the device to open), and
//! revoking a device, refused from its next request on. The rules are
//! `site::handhelds`'; this page only asks and shows.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup, PreEscaped};
use serde::Deserialize;

use super::{blocking, failed, Pages};
use crate::auth::Role;
use crate::console::{page, Posted, Viewer};
use crate::site::handhelds::{Code, Enrolled, CODE_LIFETIME};

/// The path a handheld opens: the scan page.
pub const PAGE: &str = "/handheld/";

/// `GET /handhelds`'s query: the name just revoked, to say so.
#[derive(Deserialize)]
pub struct Shown {
    #[serde(default)]
    revoked: Option<String>,
}

/// `GET /handhelds`.
pub async fn page(
    State(pages): State<Pages>,
    viewer: Viewer,
    axum::extract::Query(q): axum::extract::Query<Shown>,
) -> Response {
    if let Err(r) = viewer.require(&pages.console.chrome, Role::Supervisor) {
        return r;
    }
    let note = q
        .revoked
        .map(|n| format!("Handheld {n} is revoked: its token is refused from now on."));
    listing(&pages, &viewer, note.as_deref(), None, StatusCode::OK).await
}

/// The list and the add form, with a note or a problem above them.
async fn listing(
    pages: &Pages,
    viewer: &Viewer,
    note: Option<&str>,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    let handhelds = pages.app.handhelds.clone();
    let enrolled = match blocking(move || handhelds.list()).await {
        Ok(e) => e,
        Err(e) => return failed(pages, viewer, "Handhelds", e),
    };
    let body = html! {
        @if let Some(n) = note { p.note role="status" id="handhelds-note" { (n) } }
        @if let Some(p) = problem { p.problem role="alert" id="handhelds-problem" { (p) } }
        (table(&enrolled, viewer))
        section aria-labelledby="add-h" {
            h2 id="add-h" { "Add handheld" }
            form method="post" action="/handhelds/add" id="add-handheld" {
                (viewer.csrf_field())
                label for="hh-name" { "Name (the author of its scans)" }
                input id="hh-name" name="name" required maxlength="40" placeholder="hh-dock-1";
                fieldset {
                    legend { "Stations (the first picked is its default)" }
                    @for s in pages.stations.iter() {
                        label.check {
                            input type="checkbox" name="station" value=(s.id);
                            " " (s.id) " (" (format!("{:?}", s.mode).to_lowercase()) ")"
                        }
                    }
                }
                button type="submit" { "Add handheld" }
            }
        }
    };
    (
        status,
        page::shell(&pages.console.chrome, Some(viewer), "Handhelds", body),
    )
        .into_response()
}

fn table(enrolled: &[Enrolled], viewer: &Viewer) -> Markup {
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_else(|| "never".to_owned())
    };
    html! {
        @if enrolled.is_empty() {
            p id="no-handhelds" { "No handheld is enrolled yet." }
        } @else {
            div.scroll { table id="handhelds" {
                caption { "Enrolled handhelds" }
                thead { tr {
                    th scope="col" { "Name" } th scope="col" { "Stations" }
                    th scope="col" { "Enrolled" } th scope="col" { "Last seen" }
                    th scope="col" { "" }
                } }
                tbody { @for e in enrolled { tr {
                    td { (e.name) }
                    td { (e.stations.join(", ")) }
                    td { (when(Some(e.enrolled_at))) " by " (e.enrolled_by) }
                    td { (when(e.last_seen)) }
                    td { form method="post" action="/handhelds/revoke" {
                        (viewer.csrf_field())
                        input type="hidden" name="name" value=(e.name);
                        button type="submit" data-revoke=(e.name) { "Revoke" }
                    } }
                } } }
            } }
        }
    }
}

/// `POST /handhelds/add`: offers a code and shows it.
pub async fn add(State(pages): State<Pages>, headers: HeaderMap, form: Posted) -> Response {
    let viewer = form.viewer.clone();
    if let Err(r) = viewer.require(&pages.console.chrome, Role::Supervisor) {
        return r;
    }
    let known: Vec<String> = pages.stations.iter().map(|s| s.id.clone()).collect();
    let offered = pages.app.handhelds.offer(
        &form.text("name"),
        form.all("station"),
        &known,
        viewer.name(),
    );
    match offered {
        Ok(code) => code_page(&pages, &viewer, &code, &headers),
        Err(e) => {
            listing(
                &pages,
                &viewer,
                None,
                Some(&e.to_string()),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// The code, big, with the QR code of the page's address carrying it.
fn code_page(pages: &Pages, viewer: &Viewer, code: &Code, headers: &HeaderMap) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = if pages.console.tls() { "https" } else { "http" };
    // The code rides in the fragment: never sent to a server or logged.
    let url = format!("{scheme}://{host}{PAGE}#code={}", code.text);
    let qr = qrcode::QrCode::new(url.as_bytes())
        .map(|q| {
            q.render::<qrcode::render::svg::Color>()
                .min_dimensions(240, 240)
                .quiet_zone(true)
                .build()
        })
        .unwrap_or_default();
    let minutes = CODE_LIFETIME.as_secs() / 60;
    let body = html! {
        p { "On the handheld, open " strong { (format!("{scheme}://{host}{PAGE}")) }
            " and type the code, or scan the QR code with its camera. The code works once, within "
            (minutes) " minutes." }
        p.code id="enrol-code" aria-label="Enrolment code" { (code.text) }
        // SVG made by the qrcode crate from our own URL: shapes only.
        div.qr id="enrol-qr" role="img" aria-label="QR code of the enrolment address" { (PreEscaped(qr)) }
        p { "Name " strong { (code.name) } ", stations " strong { (code.stations.join(", ")) } "." }
        p { a href="/handhelds" { "Back to the handhelds" } }
    };
    page::shell(
        &pages.console.chrome,
        Some(viewer),
        &format!("Enrol {}", code.name),
        body,
    )
    .into_response()
}

/// `POST /handhelds/revoke`.
pub async fn revoke(State(pages): State<Pages>, form: Posted) -> Response {
    let viewer = form.viewer.clone();
    if let Err(r) = viewer.require(&pages.console.chrome, Role::Supervisor) {
        return r;
    }
    let name = form.text("name");
    let handhelds = pages.app.handhelds.clone();
    let by = viewer.name().to_owned();
    let gone = name.clone();
    match blocking(move || handhelds.revoke(&gone, &by)).await {
        Ok(()) => Redirect::to(&format!("/handhelds?revoked={}", page::query_escape(&name)))
            .into_response(),
        Err(e) => {
            listing(
                &pages,
                &viewer,
                None,
                Some(&e),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}
