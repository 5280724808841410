//! The handheld page, `/handheld/`: what a picker or a dock operator sees
//! on a handheld's browser, served by the daemon so a new device needs no
//! app. One always-focused field takes what the built-in scanner types
//! (DataWedge's and Honeywell's keystroke output), each scan is posted to
//! the same `POST /api/v1/scans` as any handheld's, with a `scan_id` made
//! on the device, and its answer is shown big, with a sound and, on a
//! refusal, a vibration. Scans made offline wait in IndexedDB, shown as
//! not yet checked, and are sent in order when the link returns; the
//! daemon decides each once by its `scan_id`. A service worker keeps the
//! page itself available offline.
//!
//! The page is static: it holds no data and needs no sign-in to load. The
//! device's token (from enrolment, `site::handhelds`) stays in the
//! browser's localStorage and goes with every API request as a Bearer
//! token, so the API checks it like any other. The HTML, script, style
//! and worker are embedded in the binary (no build step), and the page's
//! policy allows scripts and styles from the daemon only, nothing inline;
//! everything a scan brings is put on the page as text.

use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup, DOCTYPE};

const JS: &str = include_str!("assets/handheld.js");
const CSS: &str = include_str!("assets/handheld.css");
const WORKER: &str = include_str!("assets/sw.js");

/// The page's policy: the console's, plus its own service worker.
pub const CSP: &str = "default-src 'none'; script-src 'self'; worker-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; manifest-src 'self'";

/// The page's routes: the page, its script, style and service worker.
pub fn router() -> Router {
    Router::new()
        .route(
            "/handheld",
            get(|| async { Redirect::permanent("/handheld/") }),
        )
        .route("/handheld/", get(page))
        .route(
            "/handheld/app.js",
            get(|| asset("text/javascript; charset=utf-8", JS)),
        )
        .route(
            "/handheld/app.css",
            get(|| asset("text/css; charset=utf-8", CSS)),
        )
        .route(
            "/handheld/sw.js",
            get(|| asset("text/javascript; charset=utf-8", WORKER)),
        )
        .layer(middleware::from_fn(headers))
}

/// Revalidated on every load (the service worker serves the copy it kept
/// when the daemon cannot be reached).
async fn asset(kind: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn headers(request: axum::extract::Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    crate::console::harden(response.headers_mut(), CSP, "no-cache");
    response
}

async fn page() -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        shell().into_string(),
    )
        .into_response()
}

/// The page: enrolment, or the scan screen; the script shows one.
fn shell() -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1, maximum-scale=1";
                meta name="theme-color" content="#000000";
                title { "scantrail handheld" }
                link rel="stylesheet" href="/handheld/app.css";
                script src="/handheld/app.js" defer {}
            }
            body {
                div id="net" role="status" aria-live="polite" hidden {}
                section id="enrol" hidden {
                    h1 { "Enrol this handheld" }
                    p { "Type the code a supervisor got from the console (Handhelds, Add handheld), or open the QR code's address." }
                    form id="enrol-form" {
                        label for="enrol-input" { "Code" }
                        input id="enrol-input" name="code" autocomplete="off" autocapitalize="characters" spellcheck="false" required placeholder="ABCDE-FGHJK";
                        button type="submit" { "Enrol" }
                    }
                    p.problem id="enrol-problem" role="alert" hidden {}
                }
                section id="app" hidden {
                    header id="bar" {
                        span id="who" {}
                        label for="station" class="sr" { "Station" }
                        select id="station" {}
                    }
                    div id="result" class="idle" role="status" aria-live="assertive" {
                        div id="mark" aria-hidden="true" { "…" }
                        div id="verdict" { "Ready to scan" }
                        dl id="detail" {}
                    }
                    form id="scan-form" {
                        label for="scan" { "Scan" }
                        input id="scan" name="scan" autocomplete="off" autocapitalize="off" autocorrect="off" spellcheck="false" enterkeyhint="send";
                        div.buttons {
                            button type="submit" id="send" { "Send" }
                            button type="button" id="camera" { "Camera" }
                        }
                        input id="photo" type="file" accept="image/*" capture="environment" hidden;
                    }
                    section id="glance" aria-labelledby="glance-h" {
                        h2 id="glance-h" { "Station" }
                        dl id="context" {}
                        table id="pick" hidden {
                            caption id="pick-caption" {}
                            thead { tr { th scope="col" { "Product" } th scope="col" { "Lots" } th scope="col" { "To pick" } } }
                            tbody {}
                        }
                    }
                    section aria-labelledby="scans-h" {
                        h2 id="scans-h" { "Last scans" }
                        ol id="scans" {}
                    }
                    details id="settings" {
                        summary { "Settings" }
                        label for="suffix" { "The scanner ends a scan with" }
                        select id="suffix" {
                            option value="Enter" { "Enter" }
                            option value="Tab" { "Tab" }
                        }
                        label for="gs" { "The scanner sends GS (FNC1) as" }
                        select id="gs" {
                            option value="auto" { "As the station's scanner profile says" }
                            option value="" { "GS itself (control character)" }
                            option value="^" { "^" }
                            option value="|" { "|" }
                            option value="~" { "~" }
                        }
                        button type="button" id="forget" { "Forget this handheld" }
                    }
                }
            }
        }
    }
}
