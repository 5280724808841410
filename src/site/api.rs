//! The site's HTTP API for handheld terminals, supervisors and scantrail's
//! own commands. Every route but health, metrics and the OpenAPI document
//! needs `Authorization: Bearer <token>` with a token from the config.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use futures_util::stream::Stream;
use serde::Deserialize;
use serde_json::json;
use tower_http::timeout::TimeoutLayer;

use super::catalog::{self, Author, NewHold};
use super::desk::{Closed, ContextPatch, Correction, Desk, ScanRequest};
use super::events::Events;
use super::metrics::Metrics;
use crate::store::Store;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub desk: Desk,
    pub store: Arc<Store>,
    pub events: Events,
    pub metrics: Arc<Metrics>,
    /// token → (device id, its default station; none for the admin token).
    pub tokens: Arc<HashMap<String, (String, Option<String>)>>,
}

/// The device a request authenticated as.
#[derive(Clone)]
struct Device {
    id: String,
    station: Option<String>,
}

/// Requests larger than this are refused: a scan is a few hundred bytes, a
/// product file a few megabytes.
const BODY_LIMIT: usize = 16 * 1024 * 1024;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

pub fn router(state: AppState) -> Router {
    let authenticated = Router::new()
        .route("/api/v1/scans", post(scan))
        .route("/api/v1/stations", get(stations))
        .route(
            "/api/v1/stations/{id}/context",
            get(station_context).put(set_station_context),
        )
        .route("/api/v1/products", get(products).post(import_products))
        .route("/api/v1/holds", get(holds).post(add_hold))
        .route("/api/v1/holds/{id}/release", post(release_hold))
        .route("/api/v1/picklists", get(pick_lists).post(import_pick_lists))
        .route("/api/v1/journal", get(journal))
        .route("/api/v1/corrections", post(correct))
        .route("/api/v1/events", get(events))
        .route("/api/v1/reports/{kind}", get(report))
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate));
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/metrics", get(metrics))
        .route("/api/v1/openapi.json", get(openapi))
        .merge(authenticated)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .with_state(state)
}

/// A JSON error: `{"error": "..."}` with the status.
fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

fn closed(_: Closed) -> Response {
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "scantrail is shutting down; try again in a moment",
    )
}

fn failed(e: anyhow::Error) -> Response {
    error(StatusCode::UNPROCESSABLE_ENTITY, format!("{e:#}"))
}

async fn authenticate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match token.and_then(|t| state.tokens.get(t.trim())) {
        Some((id, station)) => {
            request.extensions_mut().insert(Device {
                id: id.clone(),
                station: station.clone(),
            });
            next.run(request).await
        }
        None => error(
            StatusCode::UNAUTHORIZED,
            "missing or unknown token: send `Authorization: Bearer <token>` with a token from the site's configuration",
        ),
    }
}

async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "no such endpoint; see /api/v1/openapi.json",
    )
}

async fn health() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("openapi.json"),
    )
        .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScanBody {
    #[serde(default)]
    station: Option<String>,
    data: String,
    #[serde(default)]
    operator: Option<String>,
    #[serde(default)]
    scan_id: Option<String>,
}

async fn scan(
    State(state): State<AppState>,
    axum::Extension(device): axum::Extension<Device>,
    body: Result<Json<ScanBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(body) => body,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("the request body is not a scan: {e}"),
            )
        }
    };
    let Some(station) = body.station.or(device.station) else {
        return error(
            StatusCode::BAD_REQUEST,
            "say which `station` the scan is for",
        );
    };
    if body.data.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "`data` is empty: send the barcode data as the scanner read it",
        );
    }
    let request = ScanRequest {
        station,
        raw: body.data.into_bytes(),
        frame: None,
        substitute: None,
        device_profile: "http".to_owned(),
        source: device.id,
        operator: body.operator,
        scan_id: body.scan_id,
        time: Utc::now(),
    };
    match state.desk.scan(request).await {
        Ok(answer) => Json(answer).into_response(),
        Err(e) => closed(e),
    }
}

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

async fn station_context(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match state.desk.contexts().await {
        Ok(all) => match all.into_iter().find(|(s, _)| *s == id) {
            Some((_, context)) => Json(context).into_response(),
            None => error(StatusCode::NOT_FOUND, format!("there is no station {id:?}")),
        },
        Err(e) => closed(e),
    }
}

async fn set_station_context(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Result<Json<ContextPatch>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(patch) = match body {
        Ok(b) => b,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("the request body is not a context: {e}"),
            )
        }
    };
    match state.desk.patch_context(id, patch).await {
        Ok(Ok(context)) => Json(context).into_response(),
        Ok(Err(e)) => error(StatusCode::NOT_FOUND, e),
        Err(e) => closed(e),
    }
}

/// Runs store work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> Result<T, Response> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(failed(e)),
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

async fn products(State(state): State<AppState>) -> Response {
    respond(blocking(move || catalog::products(&state.store)).await)
}

async fn holds(State(state): State<AppState>) -> Response {
    respond(blocking(move || catalog::holds(&state.store)).await)
}

async fn pick_lists(State(state): State<AppState>) -> Response {
    respond(blocking(move || catalog::pick_lists(&state.store)).await)
}

#[derive(Deserialize)]
struct AuthorQuery {
    #[serde(default)]
    by: Option<String>,
    #[serde(default)]
    why: Option<String>,
}

impl AuthorQuery {
    fn author(self, device: &Device, default_why: &str) -> Author {
        Author {
            by: self.by.unwrap_or_else(|| device.id.clone()),
            why: self.why.unwrap_or_else(|| default_why.to_owned()),
        }
    }
}

async fn import_products(
    State(state): State<AppState>,
    axum::Extension(device): axum::Extension<Device>,
    Query(q): Query<AuthorQuery>,
    body: String,
) -> Response {
    let author = q.author(&device, "product import");
    respond(
        blocking(move || catalog::import_products(&state.store, &body, &author))
            .await
            .map(|n| json!({ "imported": n })),
    )
}

async fn import_pick_lists(
    State(state): State<AppState>,
    axum::Extension(device): axum::Extension<Device>,
    Query(q): Query<AuthorQuery>,
    body: String,
) -> Response {
    let author = q.author(&device, "pick list import");
    respond(
        blocking(move || catalog::import_pick_lists(&state.store, &body, &author))
            .await
            .map(|n| json!({ "imported": n })),
    )
}

async fn add_hold(
    State(state): State<AppState>,
    axum::Extension(device): axum::Extension<Device>,
    body: Result<Json<serde_json::Value>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let value = match body {
        Ok(Json(v)) => v,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("the request body is not JSON: {e}"),
            )
        }
    };
    let (hold, by): (NewHold, Option<String>) = {
        let mut v = value;
        let by = v
            .as_object_mut()
            .and_then(|o| o.remove("by"))
            .and_then(|b| b.as_str().map(str::to_owned));
        match serde_json::from_value(v) {
            Ok(h) => (h, by),
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("the request body is not a hold: {e}"),
                )
            }
        }
    };
    let author = Author {
        by: by.unwrap_or(device.id),
        why: hold.reason.clone(),
    };
    respond(blocking(move || catalog::add_hold(&state.store, hold, &author)).await)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReleaseBody {
    #[serde(default)]
    by: Option<String>,
    why: String,
}

async fn release_hold(
    State(state): State<AppState>,
    axum::Extension(device): axum::Extension<Device>,
    Path(id): Path<String>,
    body: Result<Json<ReleaseBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(b) => b,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("say `why` the hold is released: {e}"),
            )
        }
    };
    let author = Author {
        by: body.by.unwrap_or(device.id),
        why: body.why,
    };
    respond(blocking(move || catalog::release_hold(&state.store, &id, &author)).await)
}

#[derive(Deserialize)]
struct JournalQuery {
    #[serde(default)]
    origin: Option<String>,
    #[serde(default = "one")]
    since: u64,
    #[serde(default = "page")]
    limit: usize,
}

fn one() -> u64 {
    1
}

fn page() -> usize {
    1000
}

async fn journal(State(state): State<AppState>, Query(q): Query<JournalQuery>) -> Response {
    respond(
        blocking(move || {
            let origin = q.origin.unwrap_or_else(|| state.store.site().to_owned());
            Ok(state
                .store
                .journal_range(&origin, q.since, q.limit.min(10_000))?)
        })
        .await,
    )
}

async fn correct(
    State(state): State<AppState>,
    axum::Extension(device): axum::Extension<Device>,
    body: Result<Json<Correction>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(mut c) = match body {
        Ok(b) => b,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("the request body is not a correction: {e}"),
            )
        }
    };
    c.operator.get_or_insert(device.id);
    match state.desk.correct(c).await {
        Ok(Ok(movement)) => Json(movement).into_response(),
        Ok(Err(e)) => error(StatusCode::UNPROCESSABLE_ENTITY, e),
        Err(e) => closed(e),
    }
}

/// Compliance reports; see `crate::report::http`.
async fn report(
    State(state): State<AppState>,
    Path(kind): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    crate::report::http::handle(state.store, kind, pairs).await
}

async fn events(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let receiver = state.events.subscribe();
    let stream = futures_util::stream::unfold(receiver, |mut rx| async move {
        let sse = match rx.recv().await {
            Ok(event) => SseEvent::default()
                .event(event.kind)
                .json_data(&event)
                .unwrap_or_else(|_| SseEvent::default().comment("unserialisable event")),
            // A slow listener is told how many events it missed.
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                SseEvent::default().event("lagged").data(n.to_string())
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
        };
        Some((Ok(sse), rx))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
