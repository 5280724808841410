//! The site daemon's sync routes: `GET /api/v1/sync` (link state, backlog,
//! last acknowledgement) for `scantrail status`, and `POST
//! /api/v1/sync/resume`, the operator's act that lifts a halt once the
//! cause (history refused by head office) is resolved. Admin token only.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::json;
use utoipa::openapi::RefOr;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::link::Status;
use crate::auth::{Identity, LiveTokens, Role};
use crate::store::Store;
use crate::web::problem::{code_for, documented, problem, Problem};

/// What the sync routes need: the store (outbox positions, the halt), the
/// link's status and the tokens that say who is admin.
#[derive(Clone)]
pub struct SyncState {
    /// The site's store: the outbox positions and the halt are read and lifted
    /// there.
    pub store: Arc<Store>,
    /// None when `[sync]` is not configured.
    pub status: Option<Arc<Mutex<Status>>>,
    /// The configured tokens (as reloaded): both routes need role `admin`.
    pub tokens: LiveTokens,
}

/// The sync routes with their documentation (`routes!`), before the
/// admin check: the site's OpenAPI document (`site::openapi`) describes
/// them from the same calls.
pub fn routes() -> OpenApiRouter<SyncState> {
    OpenApiRouter::default()
        .routes(routes!(status))
        .routes(routes!(resume))
}

/// The sync routes of the site API, behind an admin check: `GET /api/v1/sync`
/// and `POST /api/v1/sync/resume`.
pub fn router(state: SyncState) -> Router {
    let (router, _) = routes()
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), admin))
        .split_for_parts();
    router.with_state(state)
}

async fn admin(State(state): State<SyncState>, mut request: Request, next: Next) -> Response {
    let Some(identity) = state.tokens.identify(request.headers()) else {
        return error(
            StatusCode::UNAUTHORIZED,
            "missing or unknown token: the sync routes need a token of the admin role (`[[tokens]]` of the site's configuration)",
        );
    };
    match identity.require(Role::Admin) {
        Ok(()) => {
            request.extensions_mut().insert(identity);
            next.run(request).await
        }
        Err(forbidden) => error(StatusCode::FORBIDDEN, forbidden.to_string()),
    }
}

/// The answers of the admin check (`admin`), for both routes' documentation.
struct AdminChecked;

impl utoipa::IntoResponses for AdminChecked {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        BTreeMap::from([
            (
                "401".to_owned(),
                documented("Missing or unknown bearer token."),
            ),
            (
                "403".to_owned(),
                documented("The token's role is below admin."),
            ),
        ])
    }
}

/// An RFC 7807 problem (`web::problem`) whose `code` follows from the status.
fn error(status: StatusCode, message: impl Into<String>) -> Response {
    problem(status, code_for(status), message)
}

#[utoipa::path(
    get,
    path = "/api/v1/sync",
    operation_id = "syncStatus",
    summary = "The link to head office",
    description = "Only when the site has a `[sync]` section: link state (online, offline since, halted), backlog of movements and rejected scans, last acknowledgement (seq and hash), reference versions.",
    responses(
        (status = 200, description = "Link status", body = Object),
        AdminChecked,
        (status = 404, description = "This site has no `[sync]` section: it does not sync.", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn status(State(state): State<SyncState>) -> Response {
    let Some(shared) = state.status.clone() else {
        return error(
            StatusCode::NOT_FOUND,
            "this site has no [sync] section: it does not sync",
        );
    };
    match tokio::task::spawn_blocking(move || Status::now(&shared, &state.store)).await {
        Ok(status) => Json(status).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/sync/resume",
    operation_id = "syncResume",
    summary = "Lift a halt of the sync",
    description = "After head office refused history (422), sync halts until an operator has resolved it and resumes it here (or `scantrail sync resume`).",
    responses(
        (status = 200, description = "Resumed", body = Object),
        AdminChecked,
    )
)]
async fn resume(
    State(state): State<SyncState>,
    axum::Extension(identity): axum::Extension<Arc<Identity>>,
) -> Response {
    let store = state.store.clone();
    match tokio::task::spawn_blocking(move || store.outbox().set_halt(None)).await {
        Ok(Ok(())) => {
            tracing::info!(by = identity.name, "sync halt lifted by an operator");
            Json(json!({"resumed": true})).into_response()
        }
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}
