//! The site daemon's sync routes: `GET /api/v1/sync` (link state, backlog,
//! last acknowledgement) for `scantrail status`, and `POST
//! /api/v1/sync/resume`, the operator's act that lifts a halt once the
//! cause (history refused by head office) is resolved. Admin token only.

use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use super::link::Status;
use crate::auth::{Identity, LiveTokens, Role};
use crate::store::Store;
use crate::web::problem::{code_for, problem};

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

/// The sync routes of the site API, behind an admin check: `GET /api/v1/sync`
/// and `POST /api/v1/sync/resume`.
pub fn router(state: SyncState) -> Router {
    Router::new()
        .route("/api/v1/sync", get(status))
        .route("/api/v1/sync/resume", post(resume))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), admin))
        .with_state(state)
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

/// An RFC 7807 problem (`web::problem`) whose `code` follows from the status.
fn error(status: StatusCode, message: impl Into<String>) -> Response {
    problem(status, code_for(status), message)
}

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
