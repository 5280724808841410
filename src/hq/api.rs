//! Head office's HTTP API: sites upload batches and pull reference deltas;
//! head office's own people (roles `supervisor` and `admin`) publish
//! reference data, read each site's status and the reports. Every request
//! names its credential (see `crate::auth`); a site's token lets it write
//! only its own origin, read back only its own history (to rebuild a dead
//! site PC's store) and read reference data. The author of a change is
//! the token's name.

use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use super::publish::{self, Published};
use super::sites::Contact;
use super::storage::Storage;
use crate::auth::{Identity, Role, Tokens};
use crate::model::Reference;
use crate::model::{Entries, Kind};
use crate::station::catalog::{self, Author, AuthorQuery, CatalogError};
use crate::station::reference::Hold;
use crate::store::ingest::{Incoming, Refusal};
use crate::sync::heads::{self, SiteHeads};
use crate::sync::protocol::{self, path, reference_from_segment, Ack, Batch, Limits};
use crate::web::problem::{problem, problem_with};

#[derive(Clone)]
pub(super) struct HqState {
    /// The embedded store or PostgreSQL.
    pub(super) storage: Arc<Storage>,
    pub(super) tokens: Arc<Tokens>,
    pub(super) configured_sites: Arc<Vec<String>>,
    pub(super) limits: Limits,
    pub(super) skew_seconds: i64,
    pub(super) limiter: Arc<SiteLimiter>,
    /// The served certificate, for the health route.
    pub certificate: Arc<crate::web::tls::Certificate>,
    /// `HqConfig::epcis_sites` of every site: id, GLN, `[epcis]`.
    pub(super) epcis: Arc<Vec<(String, Option<String>, crate::epcis::EpcisConfig)>>,
    /// What one EPCIS capture may carry (`[epcis] capture_limit`, …).
    pub(super) capture_limits: crate::epcis::capture::Limits,
}

/// Who a request authenticated as.
type Caller = axum::Extension<Arc<Identity>>;

/// A token bucket per site (governor's GCRA): `requests_per_second`,
/// bursts of twice that. Keys are authenticated site names only, so the
/// map stays as small as the list of sites.
pub type SiteLimiter = governor::DefaultKeyedRateLimiter<String>;

/// The limiter for `per_second` requests per site (0 counts as 1).
pub fn site_limiter(per_second: u32) -> SiteLimiter {
    let rate = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
    let burst = rate.saturating_mul(NonZeroU32::MIN.saturating_add(1));
    governor::RateLimiter::keyed(governor::Quota::per_second(rate).allow_burst(burst))
}

/// None if `site`'s request may go; else the whole seconds to wait.
fn retry_after(limiter: &SiteLimiter, site: &str) -> Option<u64> {
    use governor::clock::{Clock, DefaultClock};
    let refused = limiter.check_key(&site.to_owned()).err()?;
    let wait = refused.wait_time_from(DefaultClock::default().now());
    Some(wait.as_secs_f64().ceil().max(1.0) as u64)
}

pub(super) fn router(state: HqState) -> Router {
    let body_max = state.limits.body_max_bytes;
    Router::new()
        .route(path::LIMITS, get(limits))
        .route(path::BATCHES, post(batch))
        .route("/api/v1/reference/{kind}", get(reference))
        .route("/api/v1/history/{site}/{log}", get(history))
        .route(path::SITES, get(sites))
        .route(path::HOLDS, get(holds).post(add_hold))
        .route("/api/v1/holds/{id}/release", post(release_hold))
        .route(path::PRODUCTS, post(import_products))
        .route(path::PICKLISTS, post(import_pick_lists))
        .route("/api/v1/reports/{kind}", get(report))
        .route("/api/v1/epcis/events", get(epcis_events))
        .route(CAPTURE, post(epcis_capture).options(epcis_capture_options))
        .route("/epcis/v2/capture/{capture_id}", get(epcis_capture_job))
        .route(path::EXPECTED_RECEIPTS, get(expected_receipts))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            authenticate,
        ))
        .route("/api/v1/health", get(health))
        // Explicit, so it survives the merge with the console's router
        // (a merged router's default fallback is not wrapped by the layers
        // below, and unknown paths then got a plain-text 404).
        .fallback(|| async {
            problem(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such endpoint of head office",
            )
        })
        .layer(DefaultBodyLimit::max(body_max))
        .layer(axum::middleware::from_fn(crate::web::problem::layer))
        .with_state(state)
}

/// 200 `{"ok": true, "store": "ok", "certificate": {..}}`, with a
/// `warning` when the certificate expires within
/// `web::tls::EXPIRY_WARNING_DAYS`; 503 with `ok` false when the certificate is
/// expired or not yet valid (its `problem`) or the store refuses writes.
async fn health(State(state): State<HqState>) -> Response {
    let c = &state.certificate;
    let mut certificate = json!({
        "subject": c.subject,
        "not_before": c.not_before,
        "not_after": c.not_after,
    });
    let mut ok = match c.check(chrono::Utc::now()) {
        Ok(None) => true,
        Ok(Some(warning)) => {
            certificate["warning"] = json!(warning);
            true
        }
        Err(problem) => {
            certificate["problem"] = json!(problem.to_string());
            false
        }
    };
    // The store's (or database's) failure in plain words; the details are
    // in the log.
    let (key, store) = state.storage.health().await;
    ok &= store == "ok";
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({ "ok": ok, (key): store, "certificate": certificate })),
    )
        .into_response()
}

async fn authenticate(State(state): State<HqState>, mut request: Request, next: Next) -> Response {
    let Some(identity) = state.tokens.identify(request.headers()) else {
        return problem(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "unknown or missing credential: give `Authorization: Bearer TOKEN` with this site's `[sync] credential` or a token of head office's `[[tokens]]`",
        );
    };
    if identity.role == Role::Site {
        let site = &identity.name;
        if let Some(wait) = retry_after(&state.limiter, site) {
            let mut r = problem(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("site {site} sends too many requests"),
            );
            if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return r;
        }
    }
    // A trading partner's token reaches capture only.
    if identity.role == Role::Partner && !request.uri().path().starts_with(CAPTURE) {
        return problem(
            StatusCode::FORBIDDEN,
            "forbidden",
            "a partner's token reaches only EPCIS capture (/epcis/v2/capture)",
        );
    }
    if identity.role != Role::Site {
        request.extensions_mut().insert(identity);
        request.extensions_mut().insert(ReportedHeads(None));
        return next.run(request).await;
    }
    // A site's request is a contact, whatever it asks: a quiet site that
    // only asks for reference data is alive and up to date. A batch that
    // is stored records it with the batch (`Storage::seen`).
    let site = identity.name.clone();
    let heads = request
        .headers()
        .get(heads::HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(SiteHeads::parse);
    let is_batch = request.uri().path() == path::BATCHES;
    request.extensions_mut().insert(identity);
    request.extensions_mut().insert(ReportedHeads(heads));
    let response = next.run(request).await;
    if !(is_batch && response.status().is_success()) {
        state.storage.contacted(&site, heads).await;
    }
    response
}

/// The heads a site's request reported (`sync::heads`), for the batch
/// handler to record with the batch.
#[derive(Clone, Copy)]
struct ReportedHeads(Option<SiteHeads>);

/// A refusal unless the caller has `role` (or above).
fn refuse_unless(identity: &Identity, role: Role) -> Option<Response> {
    if identity.role == Role::Site && role != Role::Site {
        return Some(problem(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "site {} may upload its own movements, read back its own history and read reference data, nothing else",
                identity.name
            ),
        ));
    }
    let message = identity.require(role).err()?;
    Some(problem(
        StatusCode::FORBIDDEN,
        "forbidden",
        message.to_string(),
    ))
}

async fn limits(State(state): State<HqState>) -> Response {
    Json(state.limits.clone()).into_response()
}

async fn batch(
    State(state): State<HqState>,
    axum::Extension(identity): Caller,
    axum::Extension(ReportedHeads(heads)): axum::Extension<ReportedHeads>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if identity.role != Role::Site {
        return problem(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "only a site uploads batches; the token `{}` is head office's {}",
                identity.name,
                identity.role.name()
            ),
        );
    }
    let site = identity.name.clone();
    if let Some(enc) = headers.get(header::CONTENT_ENCODING) {
        if enc.as_bytes() != b"identity" {
            return problem(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported",
                "compressed bodies are not accepted: send the postcard batch as it is",
            );
        }
    }
    let batch = match Batch::decode(&body) {
        Ok(b) => b,
        Err(e) => return problem(StatusCode::BAD_REQUEST, "bad_request", e.to_string()),
    };
    if batch.site != site {
        state
            .storage
            .alert(
                &site,
                "forbidden",
                format!("tried to upload movements of site {}", batch.site),
            )
            .await;
        return problem(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "this credential is site {site}'s; it cannot write site {}'s movements",
                batch.site
            ),
        );
    }
    if batch.entries.len() > state.limits.batch_max {
        return problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("at most {} entries per batch", state.limits.batch_max),
        );
    }
    if batch
        .entries
        .span()
        .is_some_and(|s| s != (batch.first_seq, batch.last_seq))
    {
        return problem(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "first_seq and last_seq do not match the entries",
        );
    }
    let log = batch.entries.log();
    let received_at = Utc::now();
    let skew = (batch.sent_at - received_at).num_seconds();
    let mut flags = Vec::new();
    if skew.abs() > state.skew_seconds {
        let msg = format!("the site's clock is {skew} s off head office's");
        state.storage.alert(&site, "clock_skew", msg.clone()).await;
        flags.push(msg);
    }
    let newest_device_time = match &batch.entries {
        Entries::Movements(v) => v.iter().map(|m| m.body.device_time).max(),
        Entries::Rejections(v) => v.iter().map(|r| r.body.time).max(),
    };
    if let Some(t) = newest_device_time {
        let ahead = (t - received_at).num_seconds();
        if ahead > state.skew_seconds {
            let msg = format!("a device time is {ahead} s ahead of head office's clock");
            state.storage.alert(&site, "clock_skew", msg.clone()).await;
            flags.push(msg);
        }
    }
    let stale_check = match &batch.entries {
        Entries::Movements(v) => v
            .iter()
            .filter(|m| m.body.kind == Kind::Dispatch)
            .map(|m| {
                (
                    m.seq,
                    m.body.gtin.clone(),
                    m.body.lot.clone(),
                    m.body.serial.clone(),
                )
            })
            .collect::<Vec<_>>(),
        Entries::Rejections(_) => Vec::new(),
    };
    let reference = batch.reference;
    let outcome = state
        .storage
        .ingest(Incoming {
            origin: site.clone(),
            entries: batch.entries,
            received_at,
        })
        .await;
    let ingested = match outcome {
        Err(e) => {
            tracing::warn!(site, error = %e, "a batch could not be stored");
            return e.response("store the batch");
        }
        Ok(Err(refusal)) => return refused(&state, &site, refusal).await,
        Ok(Ok(i)) => i,
    };
    state
        .storage
        .seen(
            &site,
            Contact {
                reference,
                at: received_at,
                newest_device_time,
                heads,
            },
        )
        .await;
    if ingested.new > 0 && !stale_check.is_empty() {
        flags.extend(stale_picks(&state, &site, reference.holds, &stale_check).await);
    }
    for msg in &ingested.corrected_again {
        state
            .storage
            .alert(&site, "corrected_twice", msg.clone())
            .await;
        flags.push(msg.clone());
    }
    tracing::debug!(
        site,
        log = log.name(),
        seq = ingested.head.seq,
        new = ingested.new,
        duplicates = ingested.duplicates,
        "batch ingested"
    );
    Json(Ack {
        log,
        acked_seq: ingested.head.seq,
        acked_hash: ingested.head.hash,
        received_at,
        new: ingested.new,
        duplicates: ingested.duplicates,
        flags,
    })
    .into_response()
}

type PickRef = (u64, String, Option<String>, Option<String>);

/// Picks made while the site had not yet applied a hold head office had
/// already issued: flagged, never refused (the scan is a fact).
async fn stale_picks(
    state: &HqState,
    site: &str,
    site_version: u64,
    picks: &[PickRef],
) -> Vec<String> {
    let current = publish::version(&state.storage, Reference::Holds)
        .await
        .unwrap_or(0);
    if site_version >= current {
        return Vec::new();
    }
    let holds: Vec<Hold> = publish::holds_since(&state.storage, site_version)
        .await
        .unwrap_or_default();
    let mut flags = Vec::new();
    for (seq, gtin, lot, serial) in picks {
        for h in holds.iter().filter(|h| h.is_active() && &h.gtin == gtin) {
            if h.covers(lot.as_deref(), serial.as_deref()) {
                let msg = format!(
                    "seq {seq}: picked against a stale recall list (the site had holds version {site_version}; {} covers it)",
                    h.label()
                );
                state.storage.alert(site, "stale_recall", msg.clone()).await;
                flags.push(msg);
            }
        }
    }
    flags
}

async fn refused(state: &HqState, site: &str, refusal: Refusal) -> Response {
    let (status, code) = match &refusal {
        Refusal::Gap { .. } => (StatusCode::CONFLICT, "gap"),
        Refusal::Conflict { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "conflict"),
        Refusal::BadHash { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "bad_hash"),
        Refusal::BrokenLink { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "broken_link"),
        Refusal::NotConsecutive { .. } => (StatusCode::BAD_REQUEST, "bad_request"),
        Refusal::WrongOrigin { .. } => (StatusCode::FORBIDDEN, "wrong_origin"),
    };
    if status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::FORBIDDEN {
        state.storage.alert(site, code, refusal.to_string()).await;
    }
    let (expected_seq, seq) = match &refusal {
        Refusal::Gap { expected, .. } => (Some(*expected), None),
        Refusal::Conflict { seq, .. }
        | Refusal::BadHash { seq }
        | Refusal::BrokenLink { seq }
        | Refusal::NotConsecutive { seq }
        | Refusal::WrongOrigin { seq, .. } => (None, Some(*seq)),
    };
    let mut members = serde_json::Map::new();
    if let Some(v) = expected_seq {
        members.insert("expected_seq".into(), v.into());
    }
    if let Some(v) = seq {
        members.insert("seq".into(), v.into());
    }
    problem_with(status, code, refusal.to_string(), members)
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    from: u64,
    limit: Option<usize>,
}

/// A page of head office's copy of a site's log, for that site only (its
/// own sync credential): what `scantrail restore` rebuilds a dead site PC's
/// store from. At most `batch_max` entries a page.
async fn history(
    State(state): State<HqState>,
    axum::Extension(identity): Caller,
    Path((site, log)): Path<(String, String)>,
    Query(page): Query<Page>,
) -> Response {
    if identity.role != Role::Site || identity.name != site {
        if identity.role == Role::Site {
            state
                .storage
                .alert(
                    &identity.name,
                    "forbidden",
                    format!("asked for site {site}'s history"),
                )
                .await;
        }
        return problem(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "a site's history is served to that site's own credential only; `{}` is not site {site}'s",
                identity.name
            ),
        );
    }
    let Some(log) = protocol::log_from_segment(&log) else {
        return problem(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no log called {log:?}: movements or rejections"),
        );
    };
    let limit = page
        .limit
        .unwrap_or(state.limits.batch_max)
        .clamp(1, state.limits.batch_max);
    match state.storage.history(&site, log, page.from, limit).await {
        Ok((head, entries)) => {
            tracing::debug!(
                site,
                log = log.name(),
                from = page.from,
                entries = entries.len(),
                head = head.seq,
                "site history served"
            );
            let body = protocol::History {
                protocol: protocol::PROTOCOL_VERSION,
                site,
                head_seq: head.seq,
                head_hash: head.hash,
                entries,
            };
            ([(header::CONTENT_TYPE, protocol::POSTCARD)], body.encode()).into_response()
        }
        Err(e) => e.response("read the site's history"),
    }
}

#[derive(Deserialize)]
struct Since {
    #[serde(default)]
    since: u64,
}

async fn reference(
    State(state): State<HqState>,
    Path(kind): Path<String>,
    Query(q): Query<Since>,
) -> Response {
    let Some(r) = reference_from_segment(&kind) else {
        return problem(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no reference data called {kind:?}: products, holds or picklists"),
        );
    };
    // Announces the expected receipts' version (EPCIS capture), so sites
    // ask for them only when they changed; 0 when it cannot be read.
    let expected = state
        .storage
        .published_version(super::capture::RECEIPTS)
        .await
        .unwrap_or(0);
    match publish::delta(&state.storage, r, q.since).await {
        Ok(delta) => (
            [
                (header::CONTENT_TYPE, protocol::POSTCARD.to_owned()),
                (
                    header::HeaderName::from_static(protocol::EXPECTED_VERSION_HEADER),
                    expected.to_string(),
                ),
            ],
            delta.encode(),
        )
            .into_response(),
        Err(e) => catalog_error(e),
    }
}

fn catalog_error(e: CatalogError) -> Response {
    match e {
        CatalogError::Invalid(m) => problem(StatusCode::BAD_REQUEST, "bad_request", m),
        CatalogError::Storage { message, retry } => {
            let mut r = problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message);
            if retry {
                r.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(super::postgres::RETRY_AFTER_SECONDS),
                );
            }
            r
        }
        other => problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            other.to_string(),
        ),
    }
}

/// Runs a reference operation on head office's published records off the
/// async threads (it waits for the database there, when there is one).
async fn on_published<T: serde::Serialize + Send + 'static>(
    state: HqState,
    f: impl FnOnce(Published<'_>) -> Result<T, CatalogError> + Send + 'static,
) -> Response {
    let handle = tokio::runtime::Handle::current();
    match tokio::task::spawn_blocking(move || f(Published::new(&state.storage, handle))).await {
        Ok(Ok(v)) => Json(v).into_response(),
        Ok(Err(e)) => catalog_error(e),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()),
    }
}

/// The site's compliance reports over every site's movements (admin only):
/// recall impact across sites, trace across a transfer.
async fn report(
    State(state): State<HqState>,
    axum::Extension(identity): Caller,
    axum::extract::Path(kind): axum::extract::Path<String>,
    axum::extract::Query(pairs): axum::extract::Query<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = refuse_unless(&identity, Role::Supervisor) {
        return r;
    }
    state.storage.report(kind, pairs).await
}

/// Every site's journal (or `site=ID`'s) as one EPCIS 2.0 document,
/// streamed; supervisors and admins only, as the reports. From the
/// embedded store or the PostgreSQL database alike.
async fn epcis_events(
    State(state): State<HqState>,
    axum::Extension(identity): Caller,
    axum::extract::Query(pairs): axum::extract::Query<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = refuse_unless(&identity, Role::Supervisor) {
        return r;
    }
    let request = match crate::epcis::Request::from_pairs(&pairs) {
        Ok(r) => r,
        Err(e) => return problem(StatusCode::BAD_REQUEST, "bad_request", e.to_string()),
    };
    // The embedded store, or the database read page by page from the
    // export's blocking thread through this runtime.
    let journal: Box<dyn crate::epcis::Journal + Send + Sync> = match &*state.storage {
        Storage::Embedded { store, .. } => Box::new(store.clone()),
        Storage::Postgres(db) => Box::new(super::postgres::epcis::PgJournal::new(
            db.clone(),
            tokio::runtime::Handle::current(),
        )),
    };
    let mut sites = Vec::new();
    for (id, gln, config) in state.epcis.iter() {
        if request.site.as_ref().is_some_and(|only| only != id) {
            continue;
        }
        match request.settings(gln.as_deref(), config) {
            Ok(s) => sites.push((id.clone(), s)),
            Err(e) => {
                return problem(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "unprocessable",
                    format!("site {id}: {e} ([[sites]] gln, time_zone of hq.toml)"),
                )
            }
        }
    }
    if sites.is_empty() {
        return problem(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such site: {}", request.site.unwrap_or_default()),
        );
    }
    let body = crate::web::stream::blocking_body(move |out| {
        crate::epcis::export(&*journal, &sites, &request.range, out, chrono::Utc::now()).map(|_| ())
    });
    (
        [(header::CONTENT_TYPE, crate::epcis::writer::MEDIA_TYPE)],
        body,
    )
        .into_response()
}

async fn sites(State(state): State<HqState>, axum::Extension(identity): Caller) -> Response {
    if let Some(r) = refuse_unless(&identity, Role::Supervisor) {
        return r;
    }
    match state.storage.status(state.configured_sites.clone()).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.response("read the sites' status"),
    }
}

async fn holds(State(state): State<HqState>, axum::Extension(identity): Caller) -> Response {
    if let Some(r) = refuse_unless(&identity, Role::Supervisor) {
        return r;
    }
    on_published(state, |p| catalog::holds(&p)).await
}

async fn add_hold(
    State(state): State<HqState>,
    axum::Extension(identity): Caller,
    body: axum::body::Bytes,
) -> Response {
    if let Some(r) = refuse_unless(&identity, Role::Supervisor) {
        return r;
    }
    let hold = match catalog::hold_request(&body, &identity.name) {
        Ok(hold) => hold,
        Err(e) => return problem(StatusCode::BAD_REQUEST, "bad_request", e.0),
    };
    let author = Author {
        by: identity.name.clone(),
        why: hold.reason.clone(),
    };
    on_published(state, move |p| catalog::add_hold(&p, hold, &author)).await
}

async fn release_hold(
    State(state): State<HqState>,
    axum::Extension(identity): Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    if let Some(r) = refuse_unless(&identity, Role::Supervisor) {
        return r;
    }
    let author = match catalog::release_request(&body, &identity.name) {
        Ok(author) => author,
        Err(e) => return problem(StatusCode::BAD_REQUEST, "bad_request", e.0),
    };
    on_published(state, move |p| catalog::release_hold(&p, &id, &author)).await
}

async fn import_products(
    state: State<HqState>,
    caller: Caller,
    q: Query<AuthorQuery>,
    body: String,
) -> Response {
    import(state, caller, q, body, Reference::Products).await
}

async fn import_pick_lists(
    state: State<HqState>,
    caller: Caller,
    q: Query<AuthorQuery>,
    body: String,
) -> Response {
    import(state, caller, q, body, Reference::PickLists).await
}

/// An import of products or pick lists for every site, authored by the
/// caller.
async fn import(
    State(state): State<HqState>,
    axum::Extension(identity): Caller,
    Query(q): Query<AuthorQuery>,
    body: String,
    kind: Reference,
) -> Response {
    if let Some(r) = refuse_unless(&identity, Role::Supervisor) {
        return r;
    }
    let why = match kind {
        Reference::PickLists => "pick lists",
        _ => "product master",
    };
    let author = match q.author(&identity.name, why) {
        Ok(author) => author,
        Err(e) => return problem(StatusCode::BAD_REQUEST, "bad_request", e.0),
    };
    on_published(state, move |p| {
        catalog::import(&p, kind, &body, &author).map(|n| json!({ "imported": n }))
    })
    .await
}

/// EPCIS capture's route (REST binding), for partners.
const CAPTURE: &str = "/epcis/v2/capture";

/// The caller's party, when it is a partner.
fn partner_party(identity: &Identity) -> Option<String> {
    match (&identity.role, &identity.party) {
        (Role::Partner, Some(party)) => Some(party.clone()),
        _ => None,
    }
}

/// The 403 of a capture route called without a partner's token.
fn not_a_partner() -> Response {
    problem(
        StatusCode::FORBIDDEN,
        "forbidden",
        "EPCIS capture takes a partner's token (role partner, bound to its party)",
    )
}

/// `OPTIONS /epcis/v2/capture`: the versions and the capture limits.
async fn epcis_capture_options(
    State(state): State<HqState>,
    axum::Extension(identity): Caller,
) -> Response {
    if partner_party(&identity).is_none() {
        return not_a_partner();
    }
    let mut r = StatusCode::NO_CONTENT.into_response();
    for (name, value) in crate::epcis::capture::options_headers(state.capture_limits) {
        if let Ok(v) = HeaderValue::from_str(&value) {
            r.headers_mut()
                .insert(header::HeaderName::from_static(name), v);
        }
    }
    r
}

/// `POST /epcis/v2/capture` at head office: a partner's shipping events
/// for any configured site (by its GLN) become that site's expected
/// receipts, published for it to pull.
async fn epcis_capture(
    State(state): State<HqState>,
    axum::Extension(identity): Caller,
    body: axum::body::Bytes,
) -> Response {
    let Some(party) = partner_party(&identity) else {
        return not_a_partner();
    };
    if let Some(detail) = crate::epcis::capture::too_many_bytes(body.len(), state.capture_limits) {
        return problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            "capture_limit_exceeded",
            detail,
        );
    }
    let sites: Vec<(String, String)> = state
        .epcis
        .iter()
        .filter_map(|(id, gln, _)| Some((id.clone(), gln.clone()?)))
        .collect();
    if sites.is_empty() {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprocessable",
            "no site of head office has a GLN, so nothing is addressed to one: add `gln` to its [[sites]] entry",
        );
    }
    let doc: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(doc) => doc,
        Err(e) => {
            return problem(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("the body is not JSON: {e}"),
            )
        }
    };
    let done = super::capture::capture(
        &state.storage,
        &doc,
        &identity.name,
        &party,
        &sites,
        state.capture_limits,
    )
    .await;
    match done {
        Ok(job) => (
            StatusCode::ACCEPTED,
            [(header::LOCATION, format!("{CAPTURE}/{}", job.capture_id))],
            Json(job),
        )
            .into_response(),
        Err(super::capture::CaptureFailed::Refused(errors)) => {
            let (status, code, detail) = crate::epcis::capture::refusal(&errors);
            let mut extensions = serde_json::Map::new();
            extensions.insert("errors".into(), json!(errors));
            problem_with(
                StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
                code,
                detail,
                extensions,
            )
        }
        Err(super::capture::CaptureFailed::Storage(e)) => e.response("capture an EPCIS document"),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()),
    }
}

/// A capture job's result; a partner sees only its own jobs.
async fn epcis_capture_job(
    State(state): State<HqState>,
    axum::Extension(identity): Caller,
    Path(capture_id): Path<String>,
) -> Response {
    if partner_party(&identity).is_none() {
        return not_a_partner();
    }
    match super::capture::job(&state.storage, &capture_id).await {
        Ok(Some(job)) if job.captured_by == identity.name => Json(job).into_response(),
        Ok(_) => problem(
            StatusCode::NOT_FOUND,
            "not_found",
            "no capture job of this partner has that id",
        ),
        Err(super::capture::CaptureFailed::Storage(e)) => e.response("read a capture job"),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()),
    }
}

/// `GET /api/v1/sync/expected-receipts?since=v`: the asking site's
/// expected receipts captured here, as a delta (sites only).
async fn expected_receipts(
    State(state): State<HqState>,
    axum::Extension(identity): Caller,
    Query(q): Query<Since>,
) -> Response {
    if identity.role != Role::Site {
        return problem(
            StatusCode::FORBIDDEN,
            "forbidden",
            "a site's own credential pulls its expected receipts",
        );
    }
    match super::capture::delta_for(&state.storage, &identity.name, q.since).await {
        Ok(delta) => ([(header::CONTENT_TYPE, protocol::POSTCARD)], delta.encode()).into_response(),
        Err(e) => e.response("read the expected receipts"),
    }
}

#[cfg(test)]
mod limiter_tests {
    use super::*;

    #[test]
    fn a_site_gets_a_burst_of_twice_its_rate_then_waits_and_others_are_apart() {
        let limiter = site_limiter(3);
        for i in 0..6 {
            assert_eq!(retry_after(&limiter, "north"), None, "request {i}");
        }
        assert_eq!(retry_after(&limiter, "north"), Some(1));
        assert_eq!(retry_after(&limiter, "south"), None);
        std::thread::sleep(std::time::Duration::from_millis(400));
        assert_eq!(retry_after(&limiter, "north"), None);
        assert_eq!(retry_after(&limiter, "north"), Some(1));
    }

    #[test]
    fn a_rate_of_zero_counts_as_one() {
        let limiter = site_limiter(0);
        assert_eq!(retry_after(&limiter, "north"), None);
        assert_eq!(retry_after(&limiter, "north"), None);
        assert_eq!(retry_after(&limiter, "north"), Some(1));
    }
}
