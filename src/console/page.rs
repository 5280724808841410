//! The page shell every console page shares (header, navigation, sign-out,
//! the main landmark), message pages, and the embedded stylesheet and
//! script: one file each, in the binary, served by the daemon, so the
//! console needs no build step and no other server.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

use super::Viewer;
use crate::auth::Role;

const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");

/// One link of the navigation, shown to those with `role`.
#[derive(Debug, Clone)]
pub struct NavItem {
    pub(crate) href: &'static str,
    pub(crate) label: &'static str,
    pub(crate) role: Role,
}

/// What frames every page of one daemon's console.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// The site's or head office's name, in the header and the title.
    pub name: String,
    pub(crate) nav: Vec<NavItem>,
}

/// A whole page: `title` as its heading, `main` below it.
pub fn shell(chrome: &Chrome, viewer: Option<&Viewer>, title: &str, main: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (chrome.name) }
                link rel="stylesheet" href="/assets/console.css";
                script src="/assets/console.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    span.brand { "scantrail · " (chrome.name) }
                    @if let Some(v) = viewer {
                        nav aria-label="Main" {
                            ul {
                                @for item in chrome.nav.iter().filter(|i| v.identity.role.covers(i.role)) {
                                    li { a href=(item.href) { (item.label) } }
                                }
                            }
                        }
                        form.signout method="post" action="/logout" {
                            (v.csrf_field())
                            span.who { (v.name()) " (" (v.identity.role.name()) ")" }
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main id="main" tabindex="-1" {
                    h1 { (title) }
                    (main)
                }
            }
        }
    }
}

/// A page that only says something (a refusal, an error).
pub fn message(
    chrome: &Chrome,
    viewer: Option<&Viewer>,
    status: StatusCode,
    title: &str,
    text: &str,
) -> Response {
    let role = if status.is_client_error() || status.is_server_error() {
        "alert"
    } else {
        "status"
    };
    (
        status,
        shell(
            chrome,
            viewer,
            title,
            html! { p.problem role=(role) { (text) } },
        ),
    )
        .into_response()
}

/// `text` for a URL's query string.
pub fn query_escape(text: &str) -> String {
    utf8_percent_encode(text, NON_ALPHANUMERIC).to_string()
}

/// A query string of `pairs` (`a=1&b=2`), each escaped.
pub fn query_string(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", query_escape(k), query_escape(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub(crate) async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        CSS,
    )
        .into_response()
}

pub(crate) async fn js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        JS,
    )
        .into_response()
}

/// A table of rows of text with a caption, every cell escaped.
pub fn table(caption: &str, headers: &[&str], rows: &[Vec<String>]) -> Markup {
    html! {
        div.scroll {
            table {
                @if !caption.is_empty() { caption { (caption) } }
                thead { tr { @for h in headers { th scope="col" { (h) } } } }
                tbody {
                    @for row in rows {
                        tr { @for cell in row { td { (cell) } } }
                    }
                }
            }
        }
    }
}
