//! The site's HTTP API for handheld terminals, supervisors and scantrail's
//! own commands. Every route but health, metrics and the OpenAPI document
//! needs `Authorization: Bearer <token>` with a token from the config, and
//! each route names the role it needs (see `crate::auth`): handhelds scan
//! and set the context at their own stations; supervisors change reference
//! data, correct movements and read the journal and reports. The author of
//! a change is always the token's name.

// Helpers return `Result<_, Response>` so a handler can `return` the error
// response as is; its size does not matter on this path.
#![allow(clippy::result_large_err)]

use std::convert::Infallible;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use chrono::Utc;
use futures_util::stream::Stream;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tower_http::timeout::TimeoutLayer;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::catalog::SiteRecords;
use super::context_patch::{ContextPatch, ContextRefused};
use super::correction::Correction;
use super::desk::{Closed, CorrectionError, Desk};
use super::events::Events;
use super::metrics::Metrics;
use super::openapi::{
    BadRequest, BodyChecked, HandheldStation, Refused, RequestTimeout, ShuttingDown,
    SupervisorChecked, TokenChecked,
};
use super::scan_request::ScanRequest;
use super::schemas;
use crate::auth::{Identity, LiveTokens, Role};
use crate::model::Reference;
use crate::model::RefusalCode;
use crate::station::catalog::{
    self, hold_request, release_request, Author, AuthorQuery, CatalogError,
};
use crate::store::Store;
use crate::web::problem::{self, problem, Problem};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub(super) desk: Desk,
    /// Handhelds enrolled from the console, and the codes on offer.
    pub(super) handhelds: Arc<super::handhelds::Handhelds>,
    /// Each station's GS substitute, as its serial scanner's profile has
    /// it (`fnc1_substitute`): a handheld page's default for the station.
    pub(super) substitutes: Arc<std::collections::HashMap<String, u8>>,
    pub(super) store: Arc<Store>,
    pub(super) events: Events,
    pub(super) metrics: Arc<Metrics>,
    pub(super) tokens: LiveTokens,
    pub(super) backups: super::backups::Status,
    /// The alerts raised now, shown by health.
    pub(super) alerts: super::alerts::Alerts,
    /// `[store] memory_mb` in bytes, for `GET /api/v1/store`.
    pub(super) memory_bound: u64,
    /// The site's GLN and `[epcis]`, for EPCIS exports.
    pub(super) epcis: Arc<(Option<String>, crate::epcis::EpcisConfig)>,
}

/// Who a request authenticated as.
type Caller = axum::Extension<Arc<Identity>>;

/// Requests larger than this are refused: a scan is a few hundred bytes, a
/// product file a few megabytes.
const BODY_LIMIT: usize = 16 * 1024 * 1024;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// A photo may be larger than other requests, up to what the decoder takes.
const IMAGE_BODY_LIMIT: usize = (25 << 20) + (1 << 20);

/// The routes of the site API by who may call them, each registered with
/// its `#[utoipa::path]` documentation (`routes!`): the router serves them
/// and `site::openapi` describes them from the same calls.
pub(super) struct Routes {
    /// Health, metrics and the OpenAPI document: no token.
    pub(super) open: OpenApiRouter<AppState>,
    /// What a handheld does; its handlers keep it to its own stations.
    pub(super) handheld: OpenApiRouter<AppState>,
    /// Changes to the record beyond scans, and reading it whole.
    pub(super) supervisor: OpenApiRouter<AppState>,
    /// EPCIS capture: trading partners' tokens only.
    pub(super) partner: OpenApiRouter<AppState>,
}

pub(super) fn routes() -> Routes {
    Routes {
        open: OpenApiRouter::default()
            .routes(routes!(health))
            .routes(routes!(metrics))
            .routes(routes!(openapi))
            // The one-time code is the credential here (`site::handhelds`).
            .routes(routes!(enrol)),
        handheld: OpenApiRouter::default()
            .routes(routes!(scan))
            .routes(routes!(scan_image).layer(DefaultBodyLimit::max(IMAGE_BODY_LIMIT)))
            .routes(routes!(stations))
            .routes(routes!(station_context, set_station_context))
            .routes(routes!(products))
            .routes(routes!(holds))
            .routes(routes!(pick_lists))
            .routes(routes!(station_glance))
            .routes(routes!(me))
            .routes(routes!(events)),
        supervisor: OpenApiRouter::default()
            .routes(routes!(import_products))
            .routes(routes!(add_hold))
            .routes(routes!(release_hold))
            .routes(routes!(import_pick_lists))
            .routes(routes!(journal))
            .routes(routes!(correct))
            .routes(routes!(report))
            .routes(routes!(epcis_events))
            .routes(routes!(expected_receipts))
            .routes(routes!(expected_receipt))
            .routes(routes!(store_stats)),
        partner: OpenApiRouter::default()
            .routes(routes!(epcis_capture, epcis_capture_options))
            .routes(routes!(epcis_capture_job)),
    }
}

/// The site API's OpenAPI document: what `site::openapi` says besides the
/// routes, every route of [`routes`] and the sync link's routes.
pub(super) fn document() -> utoipa::openapi::OpenApi {
    let Routes {
        open,
        handheld,
        supervisor,
        partner,
    } = routes();
    let mut doc = super::openapi::base();
    for part in [
        open.into_openapi(),
        handheld.into_openapi(),
        supervisor.into_openapi(),
        partner.into_openapi(),
        crate::sync::status::routes().into_openapi(),
    ] {
        doc.merge(part);
    }
    doc
}

pub(super) fn router(state: AppState) -> Router {
    let Routes {
        open,
        handheld,
        supervisor,
        partner,
    } = routes();
    let authenticated = handheld
        .route_layer(middleware::from_fn(people_only))
        .merge(supervisor.route_layer(middleware::from_fn(supervisor_only)))
        .merge(partner.route_layer(middleware::from_fn(partner_only)))
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate));
    let (router, _) = open.merge(authenticated).split_for_parts();
    router
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .with_state(state)
}

/// Every error answer of this API: an RFC 7807 problem (see
/// `web::problem`) whose `code` follows from the status.
fn error(status: StatusCode, message: impl Into<String>) -> Response {
    problem(status, problem::code_for(status), message)
}

/// A change the store could not make durable, so not made: 507 for a
/// full disk, else 503.
fn not_saved(code: RefusalCode, detail: String) -> Response {
    let status = match code {
        RefusalCode::DiskFull => StatusCode::INSUFFICIENT_STORAGE,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    problem(status, code.as_str(), detail)
}

fn closed(_: Closed) -> Response {
    problem(
        StatusCode::SERVICE_UNAVAILABLE,
        "shutting_down",
        "scantrail is shutting down; try again in a moment",
    )
}

fn failed(e: anyhow::Error) -> Response {
    error(StatusCode::UNPROCESSABLE_ENTITY, format!("{e:#}"))
}

async fn authenticate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    match state.tokens.identify(request.headers()) {
        Some(identity) => {
            request.extensions_mut().insert(identity);
            next.run(request).await
        }
        None => error(
            StatusCode::UNAUTHORIZED,
            "missing or unknown token: send `Authorization: Bearer <token>` with a token from the site's configuration",
        ),
    }
}

async fn supervisor_only(caller: Caller, request: Request, next: Next) -> Response {
    match caller.require(Role::Supervisor) {
        Ok(()) => next.run(request).await,
        // The body is already read (`web::server`), so the client gets
        // this answer, not a reset.
        Err(forbidden) => error(StatusCode::FORBIDDEN, forbidden.to_string()),
    }
}

/// The people's routes: a partner's token (capture only) is refused.
async fn people_only(caller: Caller, request: Request, next: Next) -> Response {
    match caller.require(Role::Handheld) {
        Ok(()) => next.run(request).await,
        Err(forbidden) => error(StatusCode::FORBIDDEN, forbidden.to_string()),
    }
}

/// The capture routes: a trading partner's token only.
async fn partner_only(caller: Caller, request: Request, next: Next) -> Response {
    match caller.require(Role::Partner) {
        Ok(()) => next.run(request).await,
        Err(forbidden) => error(StatusCode::FORBIDDEN, forbidden.to_string()),
    }
}

/// A handheld's request for a station not its own.
fn station_check(identity: &Identity, station: &str) -> Result<(), Response> {
    identity
        .may_use_station(station)
        .map_err(|forbidden| error(StatusCode::FORBIDDEN, forbidden.to_string()))
}

async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "no such endpoint; see /api/v1/openapi.json",
    )
}

/// 200 while scans can be recorded; 503 with the store's failure in plain
/// words while commits are refused (a full disk, a failed write), so that
/// monitoring notices before the operators do. With `[backup]`, the last
/// backup's outcome too (a failed backup does not stop scans, so it does
/// not make health 503).
#[utoipa::path(
    get,
    path = "/api/v1/health",
    operation_id = "health",
    summary = "Liveness",
    security(()),
    responses(
        (status = 200, description = "Running, and scans can be recorded", body = schemas::Health),
        (status = 503, description = "The store refuses writes (a full disk, a failed write) until it can reopen; `store` says why in plain words", body = schemas::Health),
    )
)]
async fn health(State(state): State<AppState>) -> Response {
    let (status, mut body) = match state.store.failure() {
        None => (StatusCode::OK, json!({ "status": "ok", "store": "ok" })),
        Some(e) => {
            let (code, reason) = e.plain();
            (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({
                    "status": "failing",
                    "code": code,
                    "store": format!("{reason}; scans are refused until the store can write again, then they resume by themselves"),
                }),
            )
        }
    };
    body["alerts"] = json!(state.alerts.raised());
    if let Some(backup) = state.backups.health() {
        body["backup"] = backup;
    }
    (status, Json(body)).into_response()
}

#[utoipa::path(
    get,
    path = "/api/v1/metrics",
    operation_id = "metrics",
    summary = "Prometheus metrics",
    security(()),
    responses(
        (status = 200, description = "Metrics in the OpenMetrics text format 1.0.0 (Prometheus reads it)", body = String, content_type = "application/openmetrics-text"),
    )
)]
async fn metrics(State(state): State<AppState>) -> Response {
    let store = state.store.clone();
    let size = tokio::task::spawn_blocking(move || store.stats())
        .await
        .ok()
        .and_then(Result::ok);
    (
        [(header::CONTENT_TYPE, super::metrics::CONTENT_TYPE)],
        state.metrics.render(size, state.store.refreshes()),
    )
        .into_response()
}

#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    operation_id = "openapi",
    summary = "This document",
    security(()),
    responses(
        (status = 200, description = "OpenAPI 3.1 document", body = Object),
    )
)]
async fn openapi() -> Response {
    // Built once, on the first request.
    static JSON: LazyLock<String> =
        LazyLock::new(|| document().to_json().expect("an OpenAPI document is JSON"));
    ([(header::CONTENT_TYPE, "application/json")], JSON.as_str()).into_response()
}

/// A scan from a handheld.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ScanRequest)]
struct ScanBody {
    /// The station the scan is for; default: the handheld's station.
    #[serde(default)]
    station: Option<String>,
    /// The barcode data exactly as the scanner read it, AIM symbology identifier included; GS (FNC1) as \u001d.
    #[schema(min_length = 1)]
    data: String,
    #[serde(default)]
    operator: Option<String>,
    /// The handheld's id for this scan: a retry with the same id gets the first answer, never a second movement.
    #[serde(default)]
    scan_id: Option<String>,
    /// The one ASCII character the device sends instead of GS (FNC1), e.g. `^` or `|`, when its keyboard output cannot send GS; the GS1 parser reads it as GS where GS1 allows a separator.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 1)]
    gs_substitute: Option<String>,
}

/// Reads a JSON body whatever its content type says: handheld firmware
/// and `curl -d` are not always careful about the header.
/// Every body is a JSON object (serde alone would also take an array of
/// the fields' values).
fn json_body<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> Result<T, Response> {
    let bad = |e: String| {
        error(
            StatusCode::BAD_REQUEST,
            format!("the request body is not {what}: {e}"),
        )
    };
    match serde_json::from_slice(body).map_err(|e| bad(e.to_string()))? {
        object @ serde_json::Value::Object(_) => {
            serde_json::from_value(object).map_err(|e| bad(e.to_string()))
        }
        _ => Err(bad("send a JSON object".to_owned())),
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/scans",
    operation_id = "scan",
    summary = "Submit a scan from a handheld",
    description = "Decided in arrival order with every other scan of the site; answered once durable. A refusal is a 200 with `accepted: false`.",
    request_body = ScanBody,
    responses(
        (status = 200, description = "The decision", body = super::answer::Answer),
        TokenChecked,
        BodyChecked,
        (status = 403, response = HandheldStation),
        (status = 409, description = "The `scan_id` was already used by this handheld for another scan (code `scan_id_reused`).", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = ShuttingDown),
    )
)]
async fn scan(
    State(state): State<AppState>,
    axum::Extension(identity): Caller,
    body: axum::body::Bytes,
) -> Response {
    let body: ScanBody = match json_body(&body, "a scan") {
        Ok(body) => body,
        Err(e) => return e,
    };
    let default = identity.default_station().map(str::to_owned);
    let Some(station) = body.station.or(default) else {
        return error(
            StatusCode::BAD_REQUEST,
            "say which `station` the scan is for",
        );
    };
    if let Err(e) = station_check(&identity, &station) {
        return e;
    }
    if body.data.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "`data` is empty: send the barcode data as the scanner read it",
        );
    }
    let substitute = match body.gs_substitute.as_deref() {
        None | Some("") => None,
        Some(s) if s.len() == 1 && s.is_ascii() && s != "\u{1d}" => Some(s.as_bytes()[0]),
        Some(s) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("`gs_substitute` is {s:?}: give one ASCII character such as \"^\" or \"|\", or leave it out"),
            )
        }
    };
    let request = ScanRequest {
        station,
        raw: body.data.into_bytes(),
        frame: None,
        substitute,
        device_profile: "http".to_owned(),
        source: identity.name.clone(),
        operator: body.operator,
        scan_id: body.scan_id,
        time: Utc::now(),
    };
    match state.desk.scan(request).await {
        // An id reused for another scan is the client's mistake, not a
        // station's refusal: 409, so it is not mistaken for a bad read.
        Ok(answer) if answer.code == Some(super::retries::REUSED) => problem(
            StatusCode::CONFLICT,
            super::retries::REUSED.as_str(),
            answer.reason.unwrap_or_default(),
        ),
        Ok(answer) => Json(answer).into_response(),
        Err(e) => closed(e),
    }
}

/// `POST /api/v1/scans/image`: a photo of a label (multipart form with
/// `station`, `image`, optional `operator`); every barcode in it goes
/// through the station rules exactly like a scan from a serial scanner.
#[utoipa::path(
    post,
    path = "/api/v1/scans/image",
    operation_id = "scanImage",
    summary = "Submit a photo of a label",
    description = "Every barcode found in the PNG or JPEG image goes through the station rules exactly like a scan from a serial scanner, in the order found. Images up to 25 MiB and 40 megapixels.",
    request_body(content = inline(schemas::ImageForm), content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "One decision per barcode", body = inline(ImageAnswers)),
        TokenChecked,
        BodyChecked,
        (status = 403, response = HandheldStation),
        (status = 422, description = "Not a PNG/JPEG, damaged, too large, or no barcode found.", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn scan_image(
    State(state): State<AppState>,
    axum::Extension(identity): Caller,
    mut form: axum::extract::Multipart,
) -> Response {
    let default = identity.default_station().map(str::to_owned);
    let (mut station, mut operator, mut image) = (default, None, None);
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("the form is malformed: {e}"),
                )
            }
        };
        let name = field.name().unwrap_or("").to_owned();
        let bytes = match field.bytes().await {
            Ok(b) => b,
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("the form field {name:?} could not be read: {e}"),
                )
            }
        };
        match name.as_str() {
            "station" => station = Some(String::from_utf8_lossy(&bytes).into_owned()),
            "operator" => operator = Some(String::from_utf8_lossy(&bytes).into_owned()),
            "image" => image = Some(bytes),
            other => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("unknown form field {other:?}: send `station`, `image` and optionally `operator`"),
                )
            }
        }
    }
    let Some(station) = station else {
        return error(
            StatusCode::BAD_REQUEST,
            "say which `station` the photo is for",
        );
    };
    if let Err(e) = station_check(&identity, &station) {
        return e;
    }
    let Some(image) = image else {
        return error(StatusCode::BAD_REQUEST, "the form has no `image` field");
    };
    let decoded = tokio::task::spawn_blocking(move || {
        crate::scan::image::decode(
            &image,
            &crate::scan::image::Limits::default(),
            crate::gs1::dictionary::separator_follows,
        )
    })
    .await;
    let barcodes = match decoded {
        Ok(Ok(barcodes)) => barcodes,
        Ok(Err(e)) => return error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
        Err(e) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("decoding failed: {e}"),
            )
        }
    };
    let mut answers = Vec::with_capacity(barcodes.len());
    for barcode in barcodes {
        let request = ScanRequest {
            station: station.clone(),
            raw: barcode.frame.clone(),
            frame: None,
            substitute: None,
            device_profile: "image".to_owned(),
            source: identity.name.clone(),
            operator: operator.clone(),
            scan_id: None,
            time: Utc::now(),
        };
        match state.desk.scan(request).await {
            Ok(answer) => answers.push(ImageBarcode {
                data: crate::scan::escape(&barcode.frame),
                format: barcode.format,
                answer,
            }),
            Err(e) => return closed(e),
        }
    }
    Json(ImageAnswers { barcodes: answers }).into_response()
}

/// `GET /api/v1/stations/{id}/glance`: what a handheld shows of its
/// station (`site::glance`).
#[utoipa::path(
    get,
    path = "/api/v1/stations/{id}/glance",
    operation_id = "stationGlance",
    summary = "A station at a glance (the handheld page's context and pick-list progress)",
    params(("id" = String, Path, description = "The station's id")),
    responses(
        (status = 200, description = "The station", body = schemas::Glance),
        TokenChecked,
        (status = 403, response = HandheldStation),
        (status = 404, description = "No such station.", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = ShuttingDown),
    )
)]
async fn station_glance(
    State(state): State<AppState>,
    axum::Extension(identity): Caller,
    Path(id): Path<String>,
) -> Response {
    if let Err(e) = station_check(&identity, &id) {
        return e;
    }
    match state.desk.glance(id.clone()).await {
        Ok(Some(glance)) => {
            let mut body = json!(glance);
            if let Some(&b) = state.substitutes.get(&id) {
                body["gs_substitute"] = json!(char::from(b).to_string());
            }
            Json(body).into_response()
        }
        Ok(None) => error(StatusCode::NOT_FOUND, format!("there is no station {id:?}")),
        Err(e) => closed(e),
    }
}

/// Who a token is.
#[derive(Serialize, ToSchema)]
struct Me {
    /// The author of its changes.
    name: String,
    /// `handheld`, `supervisor` or `admin`.
    role: &'static str,
    /// A handheld's stations, its default first.
    stations: Vec<String>,
}

/// `GET /api/v1/handhelds/me`: who the token is, for a handheld's page
/// to show its name and stations (and to learn it was revoked: 401).
#[utoipa::path(
    get,
    path = "/api/v1/handhelds/me",
    operation_id = "whoAmI",
    summary = "Who the token is (name, role, stations)",
    responses(
        (status = 200, description = "The caller", body = Me),
        TokenChecked,
    )
)]
async fn me(axum::Extension(identity): Caller) -> Response {
    Json(Me {
        name: identity.name.clone(),
        role: identity.role.name(),
        stations: identity.stations.clone(),
    })
    .into_response()
}

/// A one-time enrolment code.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct EnrolBody {
    /// The code as the console shows it (`ABCDE-FGHJK`); case, spaces and dashes do not matter.
    code: String,
}

/// `POST /api/v1/handhelds/enrol`: a one-time code from the console
/// traded for the device's own token.
#[utoipa::path(
    post,
    path = "/api/v1/handhelds/enrol",
    operation_id = "enrolHandheld",
    summary = "Trade a one-time enrolment code from the console for the device's own handheld token",
    description = "The code is the credential: no token. Codes work once, within 10 minutes; trades are rate-limited per client address.",
    security(()),
    request_body = EnrolBody,
    responses(
        (status = 200, description = "Enrolled", body = super::handhelds::Granted),
        BodyChecked,
        (status = 403, description = "The code is wrong, used, or older than 10 minutes.", body = Problem, content_type = "application/problem+json"),
        (status = 408, response = RequestTimeout),
        (status = 409, description = "The name was taken since the code was offered.", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many codes tried from this address.", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The enrolment could not be saved.", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn enrol(State(state): State<AppState>, request: Request) -> Response {
    use super::handhelds::EnrolError;
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|axum::extract::ConnectInfo(a)| a.ip().to_canonical())
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    let body = match axum::body::to_bytes(request.into_body(), 4096).await {
        Ok(b) => b,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("the request body could not be read: {e}"),
            )
        }
    };
    let body: EnrolBody = match json_body(&body, "an enrolment") {
        Ok(b) => b,
        Err(e) => return e,
    };
    let handhelds = state.handhelds.clone();
    let traded = tokio::task::spawn_blocking(move || handhelds.trade(&body.code, peer)).await;
    match traded {
        Ok(Ok(granted)) => Json(granted).into_response(),
        Ok(Err(e @ EnrolError::UnknownCode)) => error(StatusCode::FORBIDDEN, e.to_string()),
        Ok(Err(e @ EnrolError::TooMany(_))) => error(StatusCode::TOO_MANY_REQUESTS, e.to_string()),
        Ok(Err(e @ EnrolError::NameTaken(_))) => error(StatusCode::CONFLICT, e.to_string()),
        Ok(Err(e)) => error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the enrolment failed: {e}"),
        ),
    }
}

/// The answers to a photo: one per barcode found.
#[derive(Serialize, ToSchema)]
struct ImageAnswers {
    #[schema(inline)]
    barcodes: Vec<ImageBarcode>,
}

/// One barcode of a photo and its answer.
#[derive(Serialize, ToSchema)]
struct ImageBarcode {
    #[schema(example = "Data Matrix")]
    format: String,
    /// The frame as a scanner would send it, GS shown as <GS>.
    data: String,
    answer: super::answer::Answer,
}

#[utoipa::path(
    get,
    path = "/api/v1/stations",
    operation_id = "stations",
    summary = "Every station and its context",
    responses(
        (status = 200, description = "Stations", body = Vec<schemas::Station>),
        TokenChecked,
        (status = 503, response = ShuttingDown),
    )
)]
async fn stations(State(state): State<AppState>) -> Response {
    match state.desk.contexts().await {
        Ok(all) => Json(
            all.into_iter()
                .map(|(id, context)| json!({ "id": id, "context": context }))
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(e) => closed(e),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/stations/{id}/context",
    operation_id = "stationContext",
    summary = "A station's context",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The context", body = schemas::Context),
        TokenChecked,
        (status = 400, response = BadRequest),
        (status = 403, response = HandheldStation),
        (status = 404, description = "No such station.", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = ShuttingDown),
    )
)]
async fn station_context(
    State(state): State<AppState>,
    axum::Extension(identity): Caller,
    Path(id): Path<String>,
) -> Response {
    if let Err(e) = station_check(&identity, &id) {
        return e;
    }
    match state.desk.contexts().await {
        Ok(all) => match all.into_iter().find(|(s, _)| *s == id) {
            Some((_, context)) => Json(context).into_response(),
            None => error(StatusCode::NOT_FOUND, format!("there is no station {id:?}")),
        },
        Err(e) => closed(e),
    }
}

#[utoipa::path(
    put,
    path = "/api/v1/stations/{id}/context",
    operation_id = "setStationContext",
    summary = "Change a station's context",
    params(("id" = String, Path)),
    request_body = ContextPatch,
    responses(
        (status = 200, description = "The context after the change", body = schemas::Context),
        TokenChecked,
        BodyChecked,
        (status = 403, response = HandheldStation),
        (status = 404, description = "No such station.", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "scantrail is shutting down, or the store cannot save the change (`code` `store_error`); the context is unchanged.", body = Problem, content_type = "application/problem+json"),
        (status = 507, description = "The site's disk is full (`code` `disk_full`): the change was not saved, so not made.", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn set_station_context(
    State(state): State<AppState>,
    axum::Extension(identity): Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    if let Err(e) = station_check(&identity, &id) {
        return e;
    }
    let patch: ContextPatch = match json_body(&body, "a context") {
        Ok(v) => v,
        Err(e) => return e,
    };
    match state.desk.patch_context(id, patch).await {
        Ok(Ok(context)) => Json(context).into_response(),
        Ok(Err(e @ ContextRefused::NoStation(_))) => error(StatusCode::NOT_FOUND, e.to_string()),
        // Not saved, so not changed: 507 for a full disk, else 503.
        Ok(Err(ContextRefused::NotSaved { code, reason })) => {
            not_saved(code, format!("the context was not changed: {reason}"))
        }
        Err(e) => closed(e),
    }
}

/// Runs store work off the async threads.
async fn blocking<T: Send + 'static, E: Into<anyhow::Error> + Send + 'static>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, Response> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(failed(e.into())),
        Err(e) => Err(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the request failed: {e}"),
        )),
    }
}

fn respond<T: serde::Serialize>(r: Result<T, Response>) -> Response {
    match r {
        Ok(v) => Json(v).into_response(),
        Err(e) => e,
    }
}

/// Runs a reference operation on the site's own records off the async
/// threads.
async fn on_records<T: serde::Serialize + Send + 'static>(
    state: AppState,
    f: impl FnOnce(SiteRecords<'_>) -> Result<T, CatalogError> + Send + 'static,
) -> Response {
    respond(blocking(move || f(SiteRecords(&state.store))).await)
}

#[utoipa::path(
    get,
    path = "/api/v1/products",
    operation_id = "products",
    summary = "The product master",
    responses(
        (status = 200, description = "Products by GTIN", body = Vec<schemas::Product>),
        TokenChecked,
        (status = 422, response = Refused),
    )
)]
async fn products(State(state): State<AppState>) -> Response {
    on_records(state, |r| catalog::products(&r)).await
}

#[utoipa::path(
    get,
    path = "/api/v1/holds",
    operation_id = "holds",
    summary = "Holds and recalls, active and released",
    responses(
        (status = 200, description = "Holds by id", body = Vec<schemas::Hold>),
        TokenChecked,
        (status = 422, response = Refused),
    )
)]
async fn holds(State(state): State<AppState>) -> Response {
    on_records(state, |r| catalog::holds(&r)).await
}

#[utoipa::path(
    get,
    path = "/api/v1/picklists",
    operation_id = "pickLists",
    summary = "Pick lists",
    responses(
        (status = 200, description = "Pick lists by order", body = Vec<schemas::PickList>),
        TokenChecked,
        (status = 422, response = Refused),
    )
)]
async fn pick_lists(State(state): State<AppState>) -> Response {
    on_records(state, |r| catalog::pick_lists(&r)).await
}

#[utoipa::path(
    post,
    path = "/api/v1/products",
    operation_id = "importProducts",
    summary = "Import products",
    description = "CSV columns: gtin,description,tracking,warranty_months,shelf_life_days. All or nothing: an error names the line (CSV) or entry (JSON). Head-office products are not overwritten. The author recorded is the token's name; a `by` parameter is refused (400).",
    params(ImportQuery),
    request_body(
        description = "Products as CSV with a header row, or as a JSON array.",
        content(
            (schemas::Csv = "text/csv"),
            (Vec<schemas::ImportedProduct> = "application/json"),
            (schemas::Csv = "text/plain"),
        )
    ),
    responses(
        (status = 200, description = "How many were imported", body = schemas::Imported),
        SupervisorChecked,
        BodyChecked,
        (status = 422, response = Refused),
    )
)]
async fn import_products(
    state: State<AppState>,
    caller: Caller,
    q: Query<AuthorQuery>,
    body: String,
) -> Response {
    import(state, caller, q, body, Reference::Products).await
}

#[utoipa::path(
    post,
    path = "/api/v1/picklists",
    operation_id = "importPickLists",
    summary = "Import pick lists",
    description = "CSV: one row per line, columns order,customer_gln,customer_name,gtin,quantity,lots (lots separated by `;`); JSON: [{order, customer: {gln, name}, lines: [{gtin, quantity, lots}]}]. An order imported again replaces the earlier one. The author recorded is the token's name; a `by` parameter is refused (400).",
    params(ImportQuery),
    request_body(
        description = "Pick lists as CSV with a header row, or as a JSON array.",
        content(
            (schemas::Csv = "text/csv"),
            (Vec<schemas::ImportedPickList> = "application/json"),
            (schemas::Csv = "text/plain"),
        )
    ),
    responses(
        (status = 200, description = "How many orders were imported", body = schemas::Imported),
        SupervisorChecked,
        BodyChecked,
        (status = 422, response = Refused),
    )
)]
async fn import_pick_lists(
    state: State<AppState>,
    caller: Caller,
    q: Query<AuthorQuery>,
    body: String,
) -> Response {
    import(state, caller, q, body, Reference::PickLists).await
}

/// An import of products or pick lists, authored by the caller.
async fn import(
    State(state): State<AppState>,
    axum::Extension(identity): Caller,
    Query(q): Query<AuthorQuery>,
    body: String,
    kind: Reference,
) -> Response {
    let why = match kind {
        Reference::PickLists => "pick list import",
        _ => "product import",
    };
    let author = match q.author(&identity.name, why) {
        Ok(author) => author,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.0),
    };
    on_records(state, move |r| {
        catalog::import(&r, kind, &body, &author).map(|n| json!({ "imported": n }))
    })
    .await
}

#[utoipa::path(
    post,
    path = "/api/v1/holds",
    operation_id = "addHold",
    summary = "Add one of the site's own holds",
    request_body = schemas::NewHold,
    responses(
        (status = 200, description = "The hold", body = schemas::Hold),
        SupervisorChecked,
        BodyChecked,
        (status = 422, response = Refused),
    )
)]
async fn add_hold(
    State(state): State<AppState>,
    axum::Extension(identity): Caller,
    body: axum::body::Bytes,
) -> Response {
    let hold = match hold_request(&body, &identity.name) {
        Ok(hold) => hold,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.0),
    };
    let author = Author {
        by: identity.name.clone(),
        why: hold.reason.clone(),
    };
    on_records(state, move |r| catalog::add_hold(&r, hold, &author)).await
}

#[utoipa::path(
    post,
    path = "/api/v1/holds/{id}/release",
    operation_id = "releaseHold",
    summary = "Release one of the site's own holds",
    description = "Refused (422) for an unknown or already released hold, and for a head-office hold or recall.",
    params(("id" = String, Path)),
    request_body = schemas::Release,
    responses(
        (status = 200, description = "The released hold", body = schemas::Hold),
        SupervisorChecked,
        BodyChecked,
        (status = 422, response = Refused),
    )
)]
async fn release_hold(
    State(state): State<AppState>,
    axum::Extension(identity): Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let author = match release_request(&body, &identity.name) {
        Ok(author) => author,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.0),
    };
    on_records(state, move |r| catalog::release_hold(&r, &id, &author)).await
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct JournalQuery {
    /// Default: this site.
    #[serde(default)]
    origin: Option<String>,
    /// The first seq returned.
    #[serde(default = "one")]
    #[param(minimum = 1, maximum = 9223372036854775807_u64, format = Int64, default = 1)]
    since: u64,
    /// At most 10000.
    #[serde(default = "page")]
    #[param(minimum = 1, maximum = 10000, default = 1000)]
    limit: usize,
}

/// The query of an import, as documented: `crate::station::catalog::AuthorQuery`
/// reads it (and refuses a `by`).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct ImportQuery {
    /// Why; recorded with every record.
    why: Option<String>,
}

fn one() -> u64 {
    1
}

fn page() -> usize {
    1000
}

/// Seqs are int64 in the API (and far below that in any store).
const MAX_SEQ: u64 = i64::MAX as u64;
const MAX_PAGE: usize = 10_000;

#[utoipa::path(
    get,
    path = "/api/v1/journal",
    operation_id = "journal",
    summary = "Movements of one origin in seq order",
    description = "Page with `since` = last seq + 1 until a page is shorter than `limit`.",
    params(JournalQuery),
    responses(
        (status = 200, description = "Movements", body = Vec<schemas::Movement>),
        SupervisorChecked,
        (status = 400, response = BadRequest),
        (status = 422, response = Refused),
    )
)]
async fn journal(State(state): State<AppState>, Query(q): Query<JournalQuery>) -> Response {
    if !(1..=MAX_SEQ).contains(&q.since) {
        return error(
            StatusCode::BAD_REQUEST,
            format!("`since` is {}: give a seq from 1 to {MAX_SEQ}", q.since),
        );
    }
    if !(1..=MAX_PAGE).contains(&q.limit) {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "`limit` is {}: give 1 to {MAX_PAGE} movements per page",
                q.limit
            ),
        );
    }
    respond(
        blocking(move || {
            let origin = q.origin.unwrap_or_else(|| state.store.site().to_owned());
            state.store.journal().range(&origin, q.since, q.limit)
        })
        .await,
    )
}

#[utoipa::path(
    post,
    path = "/api/v1/corrections",
    operation_id = "correct",
    summary = "Reverse a movement",
    description = "Records a correction movement naming the one it reverses and why, in order with the scans.",
    request_body = Correction,
    responses(
        (status = 200, description = "The correction movement", body = schemas::Movement),
        SupervisorChecked,
        BodyChecked,
        (status = 404, description = "There is no movement with that origin and seq in the journal.", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = Refused),
        (status = 503, description = "scantrail is shutting down, or its store cannot record right now; nothing was recorded; try again in a moment.", body = Problem, content_type = "application/problem+json"),
        (status = 507, description = "The site's disk is full; nothing was recorded (tell IT).", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn correct(
    State(state): State<AppState>,
    axum::Extension(identity): Caller,
    body: axum::body::Bytes,
) -> Response {
    let mut c: Correction = match json_body(&body, "a correction") {
        Ok(v) => v,
        Err(e) => return e,
    };
    // The author is the token's; `operator` is who the client says was
    // signed in, and the token's name when it says nothing.
    c.author = identity.name.clone();
    c.operator.get_or_insert_with(|| identity.name.clone());
    match state.desk.correct(c).await {
        Ok(Ok(movement)) => Json(movement).into_response(),
        Ok(Err(e @ CorrectionError::NoSuchMovement { .. })) => {
            error(StatusCode::NOT_FOUND, e.to_string())
        }
        Ok(Err(e @ CorrectionError::Refused(_))) => {
            error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
        }
        Ok(Err(CorrectionError::NotSaved { code, reason })) => {
            not_saved(code, format!("the correction was not recorded: {reason}"))
        }
        Err(e) => closed(e),
    }
}

/// Compliance reports; see `crate::report::http`.
#[utoipa::path(
    get,
    path = "/api/v1/reports/{kind}",
    operation_id = "report",
    summary = "A compliance report",
    description = "The same reports as `scantrail report`, over every origin of the store. Parameters are the command's flags without dashes (e.g. `gtin`, `lot`, `from`, `to`, `serial`, `location`, `expiring_before`, `days`, `today`); see README \"Reports\". A query that matches nothing answers 200 with a report saying so.",
    params(("kind" = inline(schemas::ReportKind), Path), schemas::ReportQuery),
    responses(
        (status = 200, description = "The report", content(
            (Object = "application/json"),
            (String = "text/csv"),
            (String = "text/plain"),
        )),
        SupervisorChecked,
        (status = 400, description = "Malformed input: an invalid GTIN check digit, a reversed or mixed serial range, an unknown parameter.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report.", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn report(
    State(state): State<AppState>,
    Path(kind): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    crate::report::http::handle(state.store, kind, pairs).await
}

/// The journal as an EPCIS 2.0 document, streamed as it is read
/// (`crate::epcis`); supervisors and admins only, as the reports.
#[utoipa::path(
    get,
    path = "/api/v1/epcis/events",
    operation_id = "epcisEvents",
    summary = "The journal as an EPCIS 2.0 JSON-LD document",
    description = "One ObjectEvent per movement (or per despatch/receipt document with `group_by=document`), AggregationEvents for SSCC pallets, error declarations for corrections; streamed as it is read. Parameters: `since` (seq), `from` and `to` (YYYY-MM-DD, the site's time zone), `group_by` (`movement`|`document`), `event_id` (`uuid`|`hash`: the CBV 2.0 event hash), `format` (`dl`|`urn`, URNs need `[epcis] company_prefix_length` or `company_prefixes`). See README \"EPCIS\".",
    params(
        ("since" = Option<u64>, Query, description = "The first seq exported."),
        ("from" = Option<String>, Query, description = "First day (YYYY-MM-DD, the site's time zone)."),
        ("to" = Option<String>, Query, description = "Last day, included."),
        ("group_by" = Option<String>, Query, description = "`movement` (default) or `document`."),
        ("event_id" = Option<String>, Query, description = "`uuid` (default) or `hash`."),
        ("format" = Option<String>, Query, description = "`dl` (default) or `urn`."),
    ),
    responses(
        (status = 200, description = "An EPCISDocument", content((Object = "application/ld+json"))),
        SupervisorChecked,
        (status = 400, description = "A malformed or unknown parameter.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The site's configuration cannot make EPCIS (no `[site] gln`, a bad `[epcis]` setting, URNs without a company prefix length).", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn epcis_events(
    State(state): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let request = match crate::epcis::Request::from_pairs(&pairs) {
        Ok(r) => r,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let (gln, config) = &*state.epcis;
    let settings = match request.settings(gln.as_deref(), config) {
        Ok(s) => s,
        Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    };
    let store = state.store.clone();
    let body = crate::web::stream::blocking_body(move |out| {
        let sites = [(store.site().to_owned(), settings)];
        crate::epcis::export(&store, &sites, &request.range, out, chrono::Utc::now()).map(|_| ())
    });
    (
        [(header::CONTENT_TYPE, crate::epcis::writer::MEDIA_TYPE)],
        body,
    )
        .into_response()
}

/// Server-sent events; a handheld hears only its own stations'.
#[utoipa::path(
    get,
    path = "/api/v1/events",
    operation_id = "events",
    summary = "Live decisions as server-sent events",
    description = "Events `accepted`, `refused` and `context` carry an Event as JSON data; `lagged` carries the number of events a slow listener missed. Keep-alive comments are sent.",
    responses(
        (status = 200, description = "An endless event stream", body = String, content_type = "text/event-stream"),
        TokenChecked,
    ),
    // The schema of each event's data (an OpenAPI response has no place
    // for it; `Event` is registered by `site::openapi`).
    extensions(("x-event-data" = json!({"$ref": "#/components/schemas/Event"})))
)]
async fn events(
    State(state): State<AppState>,
    axum::Extension(identity): Caller,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let receiver = state.events.subscribe();
    let stream = futures_util::stream::unfold(receiver, move |mut rx| {
        let identity = identity.clone();
        async move {
            let sse = loop {
                match rx.recv().await {
                    Ok(event) if identity.may_use_station(&event.station).is_err() => continue,
                    Ok(event) => {
                        break SseEvent::default()
                            .event(event.kind)
                            .json_data(&event)
                            .unwrap_or_else(|_| {
                                SseEvent::default().comment("unserialisable event")
                            })
                    }
                    // A slow listener is told how many events it missed.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        break SseEvent::default().event("lagged").data(n.to_string())
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                }
            };
            Some((Ok(sse), rx))
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// EPCIS 2.0 capture (REST binding): a partner's shipping events become
/// expected receipts, checked whole; a refused document leaves nothing.
#[utoipa::path(
    post,
    path = "/epcis/v2/capture",
    operation_id = "epcisCapture",
    summary = "Capture a trading partner's EPCIS 2.0 document",
    description = "For a `partner` token bound to one party (PGLN). ObjectEvents with bizStep `shipping`, the partner's own party as owning-party source, this site (its GLN as party or location) as destination and a `desadv` business transaction become expected receipts by despatch advice; packing AggregationEvents fill the pallets they name; an `errorDeclaration` withdraws what its event added; other well-formed events are accepted and listed as `ignored` in the job. Identifiers may be GS1 Digital Link URIs or EPC URNs. A refused document answers a problem whose `errors` give each error's JSON pointer (`path`), `message` and `kind`. See README \"Capture\".",
    request_body(content = Object, content_type = "application/ld+json", description = "An EPCISDocument (JSON-LD)"),
    responses(
        (status = 202, description = "Captured; `Location` names the job", body = Object, headers(("Location" = String, description = "/epcis/v2/capture/{id}"))),
        (status = 400, description = "Not JSON, or not a document this site captures: `errors` with JSON paths.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No token or an unknown one.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a partner's token, or an event whose source is another party: `errors` with JSON paths.", body = Problem, content_type = "application/problem+json"),
        (status = 408, response = RequestTimeout),
        (status = 413, description = "More events or bytes than the capture limits `OPTIONS` announces: `capture_limit_exceeded`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An event not addressed to this site, or a site without `[site] gln`.", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn epcis_capture(
    State(state): State<AppState>,
    axum::Extension(identity): Caller,
    body: axum::body::Bytes,
) -> Response {
    let Some(site_gln) = state.epcis.0.clone() else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "this site has no GLN, so nothing is addressed to it: add `[site] gln`",
        );
    };
    let Some(party) = identity.party.clone() else {
        return error(StatusCode::FORBIDDEN, "this token is bound to no party");
    };
    let limits = capture_limits(&state);
    if let Some(detail) = crate::epcis::capture::too_many_bytes(body.len(), limits) {
        return problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            "capture_limit_exceeded",
            detail,
        );
    }
    let doc: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(doc) => doc,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("the body is not JSON: {e}"),
            )
        }
    };
    let store = state.store.clone();
    let partner = identity.name.clone();
    let done = tokio::task::spawn_blocking(move || {
        super::capture::capture(&store, &doc, &partner, &party, &site_gln, limits)
    })
    .await;
    match done {
        Ok(Ok(job)) => (
            StatusCode::ACCEPTED,
            [(
                header::LOCATION,
                format!("/epcis/v2/capture/{}", job.capture_id),
            )],
            Json(job),
        )
            .into_response(),
        Ok(Err(super::capture::CaptureFailed::Refused(errors))) => refused_capture(&errors),
        Ok(Err(e)) => error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the request failed: {e}"),
        ),
    }
}

/// The capture limits this site announces and enforces.
fn capture_limits(state: &AppState) -> crate::epcis::capture::Limits {
    // `[epcis]` was checked at load, so the default is never used for a
    // bad setting.
    crate::epcis::capture::Limits::new(&state.epcis.1).unwrap_or_default()
}

/// EPCIS 2.0 REST binding's discovery of the capture interface: the
/// versions served and the capture limits, as headers.
#[utoipa::path(
    options,
    path = "/epcis/v2/capture",
    operation_id = "epcisCaptureOptions",
    summary = "The capture interface's versions and limits",
    description = "EPCIS 2.0 REST binding: `GS1-EPCIS-Version`, `GS1-CBV-Version`, `GS1-EPCIS-Capture-Limit` (events per document, `[epcis] capture_limit`), `GS1-EPCIS-Capture-File-Size-Limit` (bytes, `[epcis] capture_file_size_limit`) and `GS1-Capture-Error-Behaviour` (`rollback`: a refused document leaves nothing).",
    responses(
        (status = 204, description = "The headers say it", headers(
            ("GS1-EPCIS-Version" = String, description = "2.0.0"),
            ("GS1-CBV-Version" = String, description = "2.0.0"),
            ("GS1-EPCIS-Capture-Limit" = usize, description = "Events per document"),
            ("GS1-EPCIS-Capture-File-Size-Limit" = usize, description = "Bytes per document"),
            ("GS1-Capture-Error-Behaviour" = String, description = "rollback"),
        )),
        TokenChecked,
        (status = 403, description = "Not a partner's token.", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn epcis_capture_options(State(state): State<AppState>) -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    for (name, value) in crate::epcis::capture::options_headers(capture_limits(&state)) {
        if let Ok(v) = header::HeaderValue::from_str(&value) {
            r.headers_mut()
                .insert(header::HeaderName::from_static(name), v);
        }
    }
    r
}

/// A refused capture as a problem listing each error.
fn refused_capture(errors: &[crate::epcis::capture::CaptureError]) -> Response {
    let (status, code, detail) = crate::epcis::capture::refusal(errors);
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut extensions = serde_json::Map::new();
    extensions.insert("errors".into(), json!(errors));
    problem::problem_with(status, code, detail, extensions)
}

/// A capture job's result; a partner sees only its own jobs.
#[utoipa::path(
    get,
    path = "/epcis/v2/capture/{capture_id}",
    operation_id = "epcisCaptureJob",
    summary = "A capture job's result",
    params(("capture_id" = String, Path, description = "The id `Location` gave.")),
    responses(
        (status = 200, description = "The job: success, eventCount, errors", body = Object),
        TokenChecked,
        (status = 403, description = "Not a partner's token.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job of this partner.", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn epcis_capture_job(
    State(state): State<AppState>,
    axum::Extension(identity): Caller,
    Path(capture_id): Path<String>,
) -> Response {
    let store = state.store.clone();
    let found = blocking(move || super::capture::job(&store, &capture_id)).await;
    match found {
        Ok(Some(job)) if job.captured_by == identity.name => Json(job).into_response(),
        Ok(_) => error(
            StatusCode::NOT_FOUND,
            "no capture job of this partner has that id",
        ),
        Err(e) => e,
    }
}

/// The store's figures for whoever looks after the machine.
#[utoipa::path(
    get,
    path = "/api/v1/store",
    operation_id = "storeStats",
    summary = "What the store holds, its size on disk and in memory against the bound, and the last verify",
    responses(
        (status = 200, description = "The store's figures", body = super::store_stats::StoreStats),
        SupervisorChecked,
        (status = 422, response = Refused),
    )
)]
async fn store_stats(State(state): State<AppState>) -> Response {
    let store = state.store.clone();
    let bound = state.memory_bound;
    respond(
        blocking(move || {
            super::store_stats::StoreStats::read(&store, bound, crate::memory::resident_bytes())
        })
        .await,
    )
}

/// What partners said they shipped here, by despatch advice.
#[utoipa::path(
    get,
    path = "/api/v1/expected-receipts",
    operation_id = "expectedReceipts",
    summary = "Expected receipts captured from partners' EPCIS shipping events",
    responses(
        (status = 200, description = "Each despatch advice with its sending party, GTINs, serials, lots and pallets, and `progress`: the serials received, missing and not expected, and each lot's expected, received, missing and over quantities", body = Vec<Object>),
        SupervisorChecked,
        (status = 422, response = Refused),
    )
)]
async fn expected_receipts(State(state): State<AppState>) -> Response {
    let store = state.store.clone();
    respond(blocking(move || super::capture::statuses(&store)).await)
}

/// One expected receipt and what of it is still missing.
#[utoipa::path(
    get,
    path = "/api/v1/expected-receipts/{document}",
    operation_id = "expectedReceipt",
    summary = "One expected receipt with what of it arrived and what is still missing",
    params(("document" = String, Path, description = "The despatch advice as a station's context names it (`DA-77`, a GSIN) or as captured, percent-encoded.")),
    responses(
        (status = 200, description = "The receipt and its `progress`", body = Object),
        SupervisorChecked,
        (status = 404, description = "No partner sent that despatch advice.", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn expected_receipt(State(state): State<AppState>, Path(document): Path<String>) -> Response {
    let store = state.store.clone();
    let wanted = document.clone();
    match blocking(move || super::capture::status_of(&store, &wanted)).await {
        Ok(Some(status)) => Json(status).into_response(),
        Ok(None) => error(
            StatusCode::NOT_FOUND,
            format!("no partner sent despatch advice {document:?}: GET /api/v1/expected-receipts lists those captured"),
        ),
        Err(e) => e,
    }
}
