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
use crate::auth::{Identity, Role, Tokens};
use crate::store::Store;

#[derive(Clone)]
pub struct SyncState {
    pub store: Arc<Store>,
    /// None when `[sync]` is not configured.
    pub status: Option<Arc<Mutex<Status>>>,
    pub tokens: Arc<Tokens>,
}

pub fn router(state: SyncState) -> Router {
    Router::new()
        .route("/api/v1/sync", get(status))
        .route("/api/v1/sync/resume", post(resume))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), admin))
        .with_state(state)
}

async fn admin(State(state): State<SyncState>, mut request: Request, next: Next) -> Response {
    let Some(identity) = state.tokens.identify(request.headers()) else {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "missing or unknown token: the sync routes need a token of the admin role (`[[tokens]]` of the site's configuration)"})),
        )
            .into_response();
    };
    match identity.require(Role::Admin) {
        Ok(()) => {
            request.extensions_mut().insert(identity);
            next.run(request).await
        }
        Err(message) => (StatusCode::FORBIDDEN, Json(json!({ "error": message }))).into_response(),
    }
}

async fn status(State(state): State<SyncState>) -> Response {
    match &state.status {
        Some(s) => Json(s.lock().unwrap_or_else(|p| p.into_inner()).clone()).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "this site has no [sync] section: it does not sync"})),
        )
            .into_response(),
    }
}

async fn resume(
    State(state): State<SyncState>,
    axum::Extension(identity): axum::Extension<Arc<Identity>>,
) -> Response {
    let store = state.store.clone();
    match tokio::task::spawn_blocking(move || store.set_sync_halt(None)).await {
        Ok(Ok(())) => {
            tracing::info!(by = identity.name, "sync halt lifted by an operator");
            Json(json!({"resumed": true})).into_response()
        }
        Ok(Err(e)) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": e.to_string()})),
        )
            .into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": e.to_string()})),
        )
            .into_response(),
    }
}
