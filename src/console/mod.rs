//! The supervisor console: server-rendered HTML pages for people at a
//! browser, served by the site daemon (`site::console`) and head office
//! (`hq::console`) beside their APIs. This module is what both share:
//! signing in and out, sessions, CSRF tokens, the security headers, the
//! page shell, the embedded assets and the report pages (which call the
//! same report code as the API and the command line).
//!
//! Security, in one place:
//! - people sign in with a name and password from `[[users]]` (argon2
//!   hashes, [`users`]); a session is a random id in a cookie that is
//!   `HttpOnly`, `SameSite=Strict` and `Secure` when served over TLS;
//! - a password is taken over plain HTTP only from loopback (the daemon
//!   serves TLS with `[http] cert`/`key`);
//! - every form carries the session's CSRF token ([`Posted`], [`Upload`]),
//!   and a cross-site POST is refused before any handler runs;
//! - sign-in attempts are rate-limited per client address;
//! - sessions and sign-in attempts are kept in memory, or, at a head office
//!   on PostgreSQL, in its database ([`shared`]), so that every node knows
//!   them;
//! - a strict Content-Security-Policy: scripts and styles only from the
//!   daemon's own embedded files, nothing inline;
//! - every value on a page goes through maud, which escapes it;
//! - the API never reads the session cookie: it takes Bearer tokens only.

// Page helpers return `Result<_, Response>` so a handler can `return` the
// refusal page as is; its size does not matter on this path.
#![allow(clippy::result_large_err)]

pub mod holds;
pub mod page;
pub mod reference;
pub mod reports;
pub mod session;
pub mod shared;
pub mod users;

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use serde::Deserialize;

use crate::auth::{Identity, Role};
pub use page::{Chrome, NavItem};
use session::Sessions;
use shared::{AttemptQuota, SharedSessions};
use users::Users;

/// Sign-in attempts per client address: a burst of this many, then one
/// more every [`LOGIN_REFILL_SECONDS`].
const LOGIN_BURST: u32 = 5;
const LOGIN_REFILL_SECONDS: u64 = 12;

/// The policy of every console page: the daemon's own scripts, styles and
/// images only, no inline script or style, no framing, forms only to
/// itself.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A keyed token bucket (governor's GCRA) per client address.
type LoginLimiter = governor::DefaultKeyedRateLimiter<IpAddr>;

/// Where sessions and sign-in attempts are kept.
enum Keep {
    /// This process's memory: a site, a head office on its embedded store.
    Memory {
        sessions: Sessions,
        limiter: LoginLimiter,
    },
    /// Shared by every node of a head office (its database).
    Shared(Arc<dyn SharedSessions>),
}

/// Why a sign-in cannot go on now.
enum Held {
    /// Too many attempts from the address: wait this many seconds.
    Wait(u64),
    /// The shared keeping cannot be reached.
    Down(String),
}

/// The console's shared state: who may sign in, who is signed in, and how
/// the pages look.
pub struct Console {
    pub(crate) chrome: Chrome,
    /// Replaced whole when the site's configuration is reloaded (SIGHUP).
    users: std::sync::RwLock<Users>,
    keep: Keep,
    /// Whether the daemon serves TLS: cookies are then `Secure` and
    /// passwords are taken from anywhere.
    tls: bool,
}

impl Console {
    pub(crate) fn new(chrome: Chrome, users: Users, tls: bool) -> Console {
        let refill = std::time::Duration::from_secs(LOGIN_REFILL_SECONDS);
        let burst = NonZeroU32::new(LOGIN_BURST).unwrap_or(NonZeroU32::MIN);
        let quota = governor::Quota::with_period(refill)
            .unwrap_or_else(|| governor::Quota::per_minute(NonZeroU32::MIN))
            .allow_burst(burst);
        Console {
            chrome,
            users: std::sync::RwLock::new(users),
            keep: Keep::Memory {
                sessions: Sessions::default(),
                limiter: governor::RateLimiter::keyed(quota),
            },
            tls,
        }
    }

    /// A console whose sessions and sign-in attempts every node of a head
    /// office shares.
    pub(crate) fn shared(
        chrome: Chrome,
        users: Users,
        tls: bool,
        shared: Arc<dyn SharedSessions>,
    ) -> Console {
        Console {
            keep: Keep::Shared(shared),
            ..Console::new(chrome, users, tls)
        }
    }

    /// Whether the daemon serves TLS (the console's own addresses are
    /// then `https://`).
    pub fn tls(&self) -> bool {
        self.tls
    }

    /// The people with an account now.
    pub fn users(&self) -> Users {
        self.users.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Puts a reloaded configuration's accounts in force and signs out the
    /// people in `signed_out` (whose account was removed or changed:
    /// another role or password); returns how many sessions closed.
    pub fn replace_users(&self, users: Users, signed_out: &[String]) -> usize {
        *self.users.write().unwrap_or_else(|p| p.into_inner()) = users;
        match &self.keep {
            Keep::Memory { sessions, .. } => sessions.close_people(signed_out),
            Keep::Shared(shared) => {
                // Only a site reloads its people, and a site keeps them in
                // memory; should a shared console ever reload, its sessions
                // close in the background.
                let (shared, names) = (shared.clone(), signed_out.to_vec());
                if let Ok(rt) = tokio::runtime::Handle::try_current() {
                    rt.spawn(async move {
                        if let Err(e) = shared.close_people(&names).await {
                            tracing::warn!(
                                error = e,
                                "cannot close the sessions of changed accounts"
                            );
                        }
                    });
                }
                0
            }
        }
    }

    /// The signed-in person of a request, from its session cookie. A
    /// shared session names its person; their account is read from this
    /// node's users, so an account removed here is signed out here.
    async fn viewer(&self, headers: &HeaderMap) -> Option<Viewer> {
        let id = session::cookie_value(headers, session::COOKIE)?;
        let (identity, csrf) = self.find(&id).await?;
        Some(Viewer { identity, csrf })
    }

    async fn find(&self, id: &str) -> Option<(Arc<Identity>, String)> {
        match &self.keep {
            Keep::Memory { sessions, .. } => sessions.find(id),
            Keep::Shared(shared) => match shared.find(crate::auth::digest(id)).await {
                Ok(Some((user, csrf))) => Some((self.users().identity(&user)?, csrf)),
                Ok(None) => None,
                Err(e) => {
                    tracing::warn!(error = e, "cannot read the console's sessions");
                    None
                }
            },
        }
    }

    async fn open_session(&self, identity: &Arc<Identity>) -> Result<String, String> {
        match &self.keep {
            Keep::Memory { sessions, .. } => Ok(sessions.open(identity.clone())),
            Keep::Shared(shared) => {
                let (id, csrf) = (session::random_id(), session::random_id());
                shared
                    .open(crate::auth::digest(&id), &identity.name, &csrf)
                    .await?;
                Ok(id)
            }
        }
    }

    async fn close_session(&self, id: &str) {
        match &self.keep {
            Keep::Memory { sessions, .. } => sessions.close(id),
            Keep::Shared(shared) => {
                if let Err(e) = shared.close(crate::auth::digest(id)).await {
                    tracing::warn!(error = e, "cannot close a console session");
                }
            }
        }
    }

    /// Counts a sign-in attempt from `address`.
    async fn attempt(&self, address: IpAddr) -> Result<(), Held> {
        match &self.keep {
            Keep::Memory { limiter, .. } => {
                if let Err(not_until) = limiter.check_key(&address) {
                    use governor::clock::{Clock, DefaultClock};
                    let wait = not_until.wait_time_from(DefaultClock::default().now());
                    return Err(Held::Wait(wait.as_secs().max(1)));
                }
                limiter.retain_recent();
                Ok(())
            }
            Keep::Shared(shared) => {
                let quota = AttemptQuota {
                    burst: LOGIN_BURST,
                    refill_seconds: LOGIN_REFILL_SECONDS,
                };
                match shared
                    .attempt(&address.to_canonical().to_string(), quota)
                    .await
                {
                    Ok(None) => Ok(()),
                    Ok(Some(wait)) => Err(Held::Wait(wait.max(1))),
                    Err(e) => Err(Held::Down(e)),
                }
            }
        }
    }
}

/// The person signed in, with the session's CSRF token for the forms of
/// the page. Handlers take it as an argument; [`require_viewer`] has put
/// it there.
#[derive(Clone)]
pub struct Viewer {
    pub(crate) identity: Arc<Identity>,
    pub(crate) csrf: String,
}

impl Viewer {
    pub(crate) fn name(&self) -> &str {
        &self.identity.name
    }

    /// A 403 page unless the viewer has `role`.
    pub fn require(&self, chrome: &Chrome, role: Role) -> Result<(), Response> {
        self.identity.require(role).map_err(|_| {
            page::message(
                chrome,
                Some(self),
                StatusCode::FORBIDDEN,
                "Not for your role",
                &format!(
                    "This page needs the {} role; you are signed in as {} ({}).",
                    role.name(),
                    self.identity.name,
                    self.identity.role.name()
                ),
            )
        })
    }

    /// The hidden field every form of the page carries.
    pub fn csrf_field(&self) -> Markup {
        html! { input type="hidden" name="csrf" value=(self.csrf); }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Viewer, Response> {
        parts.extensions.get::<Viewer>().cloned().ok_or_else(|| {
            // Only a route outside `require_viewer` gets here: a bug.
            (StatusCode::INTERNAL_SERVER_ERROR, "no signed-in person").into_response()
        })
    }
}

/// The routes every console has: sign in and out, and the assets. Pages
/// go behind [`require_viewer`].
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<Console>: FromRef<S>,
{
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/assets/console.css", get(page::css))
        .route("/assets/console.js", get(page::js))
}

/// Middleware for the console's pages: a request without a session goes
/// to the sign-in page; a handheld's session gets a page saying the
/// console is not for its role; a cross-site POST is refused. The viewer
/// is put in the request for the handler.
pub async fn require_viewer(
    State(console): State<Arc<Console>>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(refused) = cross_site(&console.chrome, request.method(), request.headers()) {
        return refused;
    }
    let Some(viewer) = console.viewer(request.headers()).await else {
        let back = request
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let back = if request.method() == Method::GET {
            back
        } else {
            "/"
        };
        return Redirect::to(&format!("/login?next={}", page::query_escape(back))).into_response();
    };
    if !viewer.identity.role.covers(Role::Supervisor) {
        return page::message(
            &console.chrome,
            Some(&viewer),
            StatusCode::FORBIDDEN,
            "The console is not for your role",
            &format!(
                "You are signed in as {} with the {} role. The console is for supervisors and admins; a handheld's work is done on the handheld. Ask an admin if you need more.",
                viewer.identity.name,
                viewer.identity.role.name()
            ),
        );
    }
    request.extensions_mut().insert(viewer);
    next.run(request).await
}

/// A POST sent from another site (the browser says so in `Sec-Fetch-Site`
/// or `Origin`) is refused, whatever else it carries.
fn cross_site(chrome: &Chrome, method: &Method, headers: &HeaderMap) -> Option<Response> {
    if method == Method::GET || method == Method::HEAD {
        return None;
    }
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if matches!(fetch_site, Some(s) if s != "same-origin" && s != "none") {
        return Some(page::message(
            chrome,
            None,
            StatusCode::FORBIDDEN,
            "Refused",
            "This form was sent from another web site; open the console and send it from there.",
        ));
    }
    None
}

/// Security headers of every console answer (pages, assets, redirects).
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    harden(response.headers_mut(), CSP, "no-store");
    response
}

/// The console's security headers with the policy `csp`, and `cache` as
/// the `Cache-Control` of an answer that sets none (the handheld page
/// shares them with its own policy).
pub fn harden(h: &mut HeaderMap, csp: &'static str, cache: &'static str) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    }
}

#[derive(Deserialize)]
struct NextQuery {
    #[serde(default)]
    next: Option<String>,
}

/// Where to go after signing in: a path of this site, never another one.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n,
        _ => "/",
    }
}

/// Why a password may not be sent from `peer`, if it may not: over plain
/// HTTP only loopback is trusted not to be overheard.
pub fn password_refused(tls: bool, peer: Option<IpAddr>) -> Option<&'static str> {
    if tls {
        return None;
    }
    match peer.map(|ip| ip.to_canonical()) {
        Some(ip) if ip.is_loopback() => None,
        _ => Some("Passwords are not taken over plain HTTP from another machine: anyone on the network could read them. Ask IT to give the daemon a certificate ([http] cert and key) and open the console with https://, or sign in on the machine the daemon runs on."),
    }
}

fn peer(parts: &axum::http::Extensions) -> Option<IpAddr> {
    parts
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip())
}

async fn login_page(
    State(console): State<Arc<Console>>,
    Query(q): Query<NextQuery>,
    request: Request,
) -> Response {
    if console.viewer(request.headers()).await.is_some() {
        return Redirect::to(safe_next(q.next.as_deref())).into_response();
    }
    let refused = password_refused(console.tls, peer(request.extensions()));
    login_form(&console, q.next.as_deref(), None, refused, StatusCode::OK)
}

/// The sign-in form with a fresh login token (double-submit: the same
/// value in a cookie and in the form, so another site cannot sign a
/// browser in to an account of its choosing).
fn login_form(
    console: &Console,
    next: Option<&str>,
    problem: Option<&str>,
    refused: Option<&str>,
    status: StatusCode,
) -> Response {
    let token = session::random_id();
    let next = safe_next(next);
    let body = html! {
        @if let Some(r) = refused {
            p.problem role="alert" { (r) }
        }
        @if let Some(p) = problem {
            p.problem role="alert" id="login-problem" { (p) }
        }
        form.login method="post" action="/login" {
            input type="hidden" name="csrf" value=(token);
            input type="hidden" name="next" value=(next);
            label for="user" { "User name" }
            input id="user" name="user" autocomplete="username" required autofocus;
            label for="password" { "Password" }
            input id="password" name="password" type="password" autocomplete="current-password" required;
            button type="submit" { "Sign in" }
        }
    };
    let mut response =
        (status, page::shell(&console.chrome, None, "Sign in", body)).into_response();
    let cookie = session::login_cookie(&token, console.tls);
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    user: String,
    #[serde(default)]
    password: String,
}

async fn login(State(console): State<Arc<Console>>, request: Request) -> Response {
    let peer_ip = peer(request.extensions());
    let headers = request.headers().clone();
    if let Some(refused) = cross_site(&console.chrome, &Method::POST, &headers) {
        return refused;
    }
    let form = match axum::extract::Form::<LoginForm>::from_request(request, &()).await {
        Ok(axum::extract::Form(f)) => f,
        Err(e) => {
            return page::message(
                &console.chrome,
                None,
                StatusCode::BAD_REQUEST,
                "Sign-in form not understood",
                &e.body_text(),
            )
        }
    };
    let next = form.next.as_deref();
    if let Some(refused) = password_refused(console.tls, peer_ip) {
        tracing::warn!(peer = ?peer_ip, "console sign-in over plain HTTP from another machine refused");
        return login_form(&console, next, None, Some(refused), StatusCode::FORBIDDEN);
    }
    let expected = session::cookie_value(&headers, session::LOGIN_COOKIE);
    if !expected.is_some_and(|e| session::same_token(&e, &form.csrf)) {
        return login_form(
            &console,
            next,
            Some("The sign-in form had expired. Please sign in again."),
            None,
            StatusCode::FORBIDDEN,
        );
    }
    let key = peer_ip.unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    match console.attempt(key).await {
        Ok(()) => {}
        Err(Held::Wait(wait)) => {
            tracing::warn!(peer = %key, user = form.user, "console sign-in rate-limited");
            let mut r = login_form(
                &console,
                next,
                Some(&format!(
                    "Too many sign-in attempts from this address. Wait {wait} seconds and try again."
                )),
                None,
                StatusCode::TOO_MANY_REQUESTS,
            );
            if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return r;
        }
        Err(Held::Down(e)) => return unavailable(&console, next, &e),
    }
    let users = console.users();
    let (name, password) = (form.user.clone(), form.password);
    let who = tokio::task::spawn_blocking(move || users.verify(&name, &password))
        .await
        .ok()
        .flatten();
    let Some(identity) = who else {
        tracing::warn!(peer = ?peer_ip, user = form.user, "console sign-in failed");
        return login_form(
            &console,
            next,
            Some("Wrong user name or password."),
            None,
            StatusCode::UNAUTHORIZED,
        );
    };
    let id = match console.open_session(&identity).await {
        Ok(id) => id,
        Err(e) => return unavailable(&console, next, &e),
    };
    tracing::info!(user = identity.name, role = identity.role.name(), peer = ?peer_ip, "signed in to the console");
    let mut response = Redirect::to(safe_next(next)).into_response();
    for cookie in [
        session::session_cookie(&id, console.tls),
        session::login_cookie_removal(console.tls),
    ] {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

/// The sign-in form again, 503 with Retry-After: head office's database,
/// where its sessions are kept, cannot be reached.
fn unavailable(console: &Console, next: Option<&str>, why: &str) -> Response {
    tracing::warn!(
        error = why,
        "console sign-in: the sessions' database cannot be reached"
    );
    let mut r = login_form(
        console,
        next,
        Some("Head office's database cannot be reached, so nobody can sign in just now. Try again in a minute."),
        None,
        StatusCode::SERVICE_UNAVAILABLE,
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    r
}

async fn logout(State(console): State<Arc<Console>>, request: Request) -> Response {
    let headers = request.headers().clone();
    if let Some(refused) = cross_site(&console.chrome, &Method::POST, &headers) {
        return refused;
    }
    let form = axum::extract::Form::<LoginForm>::from_request(request, &())
        .await
        .map(|axum::extract::Form(f)| f.csrf)
        .unwrap_or_default();
    if let Some(id) = session::cookie_value(&headers, session::COOKIE) {
        if let Some((identity, csrf)) = console.find(&id).await {
            if !session::same_token(&csrf, &form) {
                return page::message(
                    &console.chrome,
                    None,
                    StatusCode::FORBIDDEN,
                    "Refused",
                    "The form had no valid token; reload the page and try again.",
                );
            }
            console.close_session(&id).await;
            tracing::info!(user = identity.name, "signed out of the console");
        }
    }
    let mut response = Redirect::to("/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&session::session_cookie_removal(console.tls)) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// A console form sent with POST, its CSRF token checked against the
/// session's: the other fields, by name.
pub struct Posted {
    pub(crate) viewer: Viewer,
    fields: Vec<(String, String)>,
}

impl Posted {
    /// The field's value, trimmed; empty when absent.
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default()
    }

    /// The field's value, trimmed; `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<String> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// Every value given for a repeated field.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect()
    }
}

/// The 403 of a form without the session's token.
fn csrf_refused() -> Response {
    (
        StatusCode::FORBIDDEN,
        html! {
            (maud::DOCTYPE)
            html lang="en" { head { title { "Refused" } } body {
                h1 { "Refused" }
                p { "The form had no valid token (it may be from an older page, or from another site). Go back, reload the page and send it again." }
            } }
        },
    )
        .into_response()
}

/// The signed-in person sending a form ([`require_viewer`] put them there).
fn posting_viewer(request: &Request) -> Result<Viewer, Response> {
    request
        .extensions()
        .get::<Viewer>()
        .cloned()
        .ok_or_else(csrf_refused)
}

/// Refuses a form whose token is not the session's.
fn check_token(viewer: &Viewer, token: Option<String>) -> Result<(), Response> {
    if token.is_some_and(|t| session::same_token(&viewer.csrf, &t)) {
        Ok(())
    } else {
        Err(csrf_refused())
    }
}

impl<S: Send + Sync> FromRequest<S> for Posted {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Posted, Response> {
        let viewer = posting_viewer(&request)?;
        let axum::extract::Form(mut fields) =
            axum::extract::Form::<Vec<(String, String)>>::from_request(request, state)
                .await
                .map_err(|e| (StatusCode::BAD_REQUEST, e.body_text()).into_response())?;
        let token = fields
            .iter()
            .position(|(k, _)| k == "csrf")
            .map(|i| fields.remove(i).1);
        check_token(&viewer, token)?;
        Ok(Posted { viewer, fields })
    }
}

/// A console form sent as `multipart/form-data` (a file upload), its
/// CSRF token checked: the text fields and the files, by name.
pub struct Upload {
    pub(crate) viewer: Viewer,
    pub(crate) fields: Vec<(String, Vec<u8>)>,
}

impl Upload {
    /// The field's bytes as text (lossy UTF-8), trimmed of nothing.
    pub fn text(&self, name: &str) -> Option<String> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    }
}

impl<S: Send + Sync> FromRequest<S> for Upload {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Upload, Response> {
        let viewer = posting_viewer(&request)?;
        let mut form = axum::extract::Multipart::from_request(request, state)
            .await
            .map_err(|e| (StatusCode::BAD_REQUEST, e.body_text()).into_response())?;
        let mut fields = Vec::new();
        loop {
            match form.next_field().await {
                Ok(Some(field)) => {
                    let name = field.name().unwrap_or("").to_owned();
                    let bytes = field
                        .bytes()
                        .await
                        .map_err(|e| (StatusCode::BAD_REQUEST, e.body_text()).into_response())?;
                    fields.push((name, bytes.to_vec()));
                }
                Ok(None) => break,
                Err(e) => return Err((StatusCode::BAD_REQUEST, e.body_text()).into_response()),
            }
        }
        let token = fields
            .iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned());
        check_token(&viewer, token)?;
        Ok(Upload { viewer, fields })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_over_plain_http_only_from_loopback() {
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        let lo6: IpAddr = "::1".parse().unwrap();
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        let lan: IpAddr = "192.168.1.20".parse().unwrap();
        for ip in [lo, lo6, mapped] {
            assert_eq!(password_refused(false, Some(ip)), None, "{ip}");
        }
        assert!(password_refused(false, Some(lan)).is_some());
        assert!(password_refused(false, None).is_some());
        assert_eq!(password_refused(true, Some(lan)), None);
    }

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/holds?x=1")), "/holds?x=1");
        for bad in [
            "//evil.example/",
            "https://evil.example/",
            "/\\evil",
            "holds",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
