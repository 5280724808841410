//! Every 4xx and 5xx answer of the site API and of head office is an RFC 7807
//! problem document (`application/problem+json`):
//!
//! ```json
//! {"type":"about:blank","title":"Bad Request","status":400,
//!  "detail":"the request body is not a scan: ...","code":"bad_request",
//!  "error":"the request body is not a scan: ..."}
//! ```
//!
//! `code` is the stable member for machines (snake_case); `error` repeats
//! `detail` because clients written before RFC 7807 read it. `type` is
//! `about:blank` (the status says what kind of problem it is, `code` which
//! one), so `title` is the status's reason phrase.
//!
//! The one exception is a health answer (503 while the store cannot
//! write): a status report in its own shape, which monitoring reads.
//!
//! Handlers build their errors with [`problem`]; [`layer`] turns whatever
//! else ends in an error — axum's extractor rejections (bad query string,
//! bad path, body too large, bad multipart or JSON), the 404 of an unknown
//! route, 405, the timeout layer's 408 — into the same shape, so no error
//! leaves either server as `text/plain`.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

/// The media type of a problem document.
pub const CONTENT_TYPE: &str = "application/problem+json";

/// An error answer: `detail` (and `error`) is for people and says what to
/// do; `code` is stable for machines.
pub fn problem(status: StatusCode, code: &str, detail: impl Into<String>) -> Response {
    problem_with(status, code, detail, Map::new())
}

/// A problem with extension members of the route's own (e.g. head office's
/// `expected_seq` for a gap).
pub fn problem_with(
    status: StatusCode,
    code: &str,
    detail: impl Into<String>,
    extensions: Map<String, Value>,
) -> Response {
    let detail = detail.into();
    let mut body = extensions;
    body.insert("type".into(), json!("about:blank"));
    body.insert(
        "title".into(),
        json!(status.canonical_reason().unwrap_or("Error")),
    );
    body.insert("status".into(), json!(status.as_u16()));
    body.insert("code".into(), json!(code));
    body.insert("error".into(), json!(detail));
    body.insert("detail".into(), json!(detail));
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
        Value::Object(body).to_string(),
    )
        .into_response()
}

/// The shape of every problem document, for the OpenAPI document
/// (`site::openapi`); the bodies themselves are built by [`problem_with`].
#[derive(utoipa::ToSchema)]
#[schema(
    description = "An RFC 7807 problem document, the body of every 4xx and 5xx answer (but health's 503, a status report). `code` is stable for machines; `error` repeats `detail` for clients written before RFC 7807."
)]
#[allow(dead_code)]
pub struct Problem {
    /// Always `about:blank`: the status says what kind of problem it is, `code` which one.
    #[schema(example = "about:blank")]
    r#type: String,
    /// The status's reason phrase.
    #[schema(example = "Bad Request")]
    title: String,
    #[schema(minimum = 400, maximum = 599)]
    status: u16,
    /// One line saying what went wrong and what to do.
    detail: String,
    /// Stable machine code, e.g. `bad_request`, `unauthorized`, `forbidden`, `not_found`, `method_not_allowed`, `request_timeout`, `conflict`, `scan_id_reused`, `body_too_large`, `unprocessable`, `shutting_down`, `disk_full`.
    #[schema(pattern = "^[a-z][a-z0-9_]*$")]
    code: String,
    /// The same text as `detail`.
    error: String,
}

/// A problem answer in an OpenAPI document: this description, a body of
/// media type [`CONTENT_TYPE`] and schema [`Problem`].
pub fn documented(
    description: &str,
) -> utoipa::openapi::RefOr<utoipa::openapi::response::Response> {
    use utoipa::openapi::{response::ResponseBuilder, ContentBuilder, Ref};
    ResponseBuilder::new()
        .description(description)
        .content(
            CONTENT_TYPE,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
        .into()
}

/// The code of an error that has no more specific one: one per status.
pub fn code_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        406 => "not_acceptable",
        408 => "request_timeout",
        409 => "conflict",
        411 => "length_required",
        413 => "body_too_large",
        414 => "uri_too_long",
        415 => "unsupported_media_type",
        422 => "unprocessable",
        429 => "rate_limited",
        431 => "headers_too_large",
        500 => "internal",
        501 => "not_implemented",
        503 => "unavailable",
        507 => "insufficient_storage",
        504 => "gateway_timeout",
        _ if status.is_client_error() => "client_error",
        _ => "server_error",
    }
}

/// Middleware (`axum::middleware::from_fn(problem::layer)`, outermost)
/// that rewrites every 4xx/5xx answer that is not yet a problem document.
/// The detail is the original body's `error` member or text, else a
/// sentence naming the method and path.
pub async fn layer(request: Request, next: Next) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || is_problem(&response)
        || is_page(&response)
    {
        return response;
    }
    let (parts, body) = response.into_parts();
    // Framework errors are a line of text; an error body past this is not
    // one of ours and is summarised instead.
    let bytes = axum::body::to_bytes(body, 16 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).trim().to_owned();
    let json = serde_json::from_str::<Value>(&text).ok();
    // A JSON answer without `error` is a status report with a shape of its
    // own (health's 503), which monitoring reads: left as it is.
    if json
        .as_ref()
        .is_some_and(|v| v.is_object() && v.get("error").is_none())
    {
        return Response::from_parts(parts, Body::from(bytes));
    }
    let detail = json
        .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
        .or_else(|| (!text.is_empty()).then(|| hint(status, &text)))
        .unwrap_or_else(|| fallback_detail(status, &method, &path));
    let mut rewritten = problem(status, code_for(status), detail);
    // Keep what the original said beside its body (`Allow`, `Retry-After`).
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rewritten.headers_mut().append(name.clone(), value.clone());
        }
    }
    rewritten
}

/// The console's pages say their errors in HTML, for people.
fn is_page(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

fn is_problem(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(CONTENT_TYPE))
}

/// A framework's message with what to do about it.
fn hint(status: StatusCode, text: &str) -> String {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => {
            format!("{text}: the request body is larger than this route accepts")
        }
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => {
            format!("{text}; see /api/v1/openapi.json for what this route takes")
        }
        _ => text.to_owned(),
    }
}

/// For errors that came without a body.
fn fallback_detail(status: StatusCode, method: &Method, path: &str) -> String {
    match status {
        StatusCode::NOT_FOUND => format!("no such endpoint: {path}"),
        // axum adds `Allow` outside this layer, so it cannot be quoted.
        StatusCode::METHOD_NOT_ALLOWED => {
            format!("{path} does not take {method}: the `Allow` header lists what it takes")
        }
        StatusCode::REQUEST_TIMEOUT => {
            format!("{method} {path} took too long and was abandoned; send it again")
        }
        _ => format!(
            "{method} {path} failed: {}",
            status.canonical_reason().unwrap_or("error")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use axum::Router;
    use std::time::Duration;

    /// Errors made outside the handlers, as the layer rewrites them, through
    /// the real server on loopback.
    #[tokio::test(flavor = "multi_thread")]
    async fn the_layer_rewrites_timeouts_plain_text_and_json_errors() {
        let router = Router::new()
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "late"
                }),
            )
            .route(
                "/plain",
                get(|| async { (StatusCode::BAD_REQUEST, "plain words") }),
            )
            .route(
                "/json",
                get(|| async { (StatusCode::CONFLICT, axum::Json(json!({"error": "taken"}))) }),
            )
            .layer(tower_http::timeout::TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                Duration::from_millis(100),
            ))
            .layer(axum::middleware::from_fn(layer));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let settings = crate::web::server::Settings {
            header_read_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(5),
            max_connections: 8,
        };
        tokio::spawn(crate::web::server::serve(
            listener,
            None,
            router,
            settings,
            std::future::pending(),
        ));
        let answers = tokio::task::spawn_blocking(move || {
            ["/slow", "/plain", "/json", "/nowhere"].map(|path| {
                let response = match ureq::get(&format!("{base}{path}")).call() {
                    Ok(r) | Err(ureq::Error::Status(_, r)) => r,
                    Err(e) => panic!("{path}: {e}"),
                };
                let content_type = response.content_type().to_owned();
                let body: Value = response.into_json().unwrap();
                (content_type, body)
            })
        })
        .await
        .unwrap();
        let expected = [
            (408, "request_timeout", "took too long"),
            (400, "bad_request", "plain words"),
            (409, "conflict", "taken"),
            (404, "not_found", "/nowhere"),
        ];
        for ((content_type, body), (status, code, words)) in answers.iter().zip(expected) {
            assert_eq!(content_type, CONTENT_TYPE, "{body}");
            assert_eq!(body["status"], status, "{body}");
            assert_eq!(body["code"], code, "{body}");
            assert!(body["detail"].as_str().unwrap().contains(words), "{body}");
            assert_eq!(body["error"], body["detail"], "{body}");
        }
    }

    #[tokio::test]
    async fn a_problem_has_every_member_and_the_old_error() {
        let r = problem(StatusCode::FORBIDDEN, "forbidden", "not yours");
        assert_eq!(r.status(), 403);
        assert_eq!(r.headers()[header::CONTENT_TYPE], CONTENT_TYPE);
        let body = axum::body::to_bytes(r.into_body(), 1024).await.unwrap();
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v,
            json!({"type":"about:blank","title":"Forbidden","status":403,
                   "detail":"not yours","error":"not yours","code":"forbidden"})
        );
    }
}
