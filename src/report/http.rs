//! `GET /api/v1/reports/{kind}?key=value...`: the same requests and JSON
//! as `scantrail report <kind> --format json` (`format=csv` gives the CSV).
//! Malformed input is a 400 problem (`application/problem+json`, with
//! `error`), an unknown report a 404; a query that matches nothing is a 200 with `found: false` and a
//! `note`.

use std::sync::Arc;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::render::{self, Format};
use super::{ReportError, Request, KINDS};
use crate::store::Store;
use crate::web::problem::{code_for, problem};

/// An RFC 7807 problem (`web::problem`) whose `code` follows from the status.
fn error(status: StatusCode, message: String) -> Response {
    problem(status, code_for(status), message)
}

/// The report `kind` of the store, answered as the query's `format` asks.
pub async fn handle(store: Arc<Store>, kind: String, pairs: Vec<(String, String)>) -> Response {
    handle_with(kind, pairs, move |request| super::run(&*store, &request)).await
}

/// The report `kind`, run by `run` on a blocking thread: head office gives
/// its own source (its store of every site, or its database).
pub async fn handle_with(
    kind: String,
    mut pairs: Vec<(String, String)>,
    run: impl FnOnce(Request) -> super::Result<super::Report> + Send + 'static,
) -> Response {
    let format = match pairs.iter().position(|(k, _)| k == "format") {
        Some(i) => match pairs.remove(i).1.as_str() {
            "json" => Format::Json,
            "csv" => Format::Csv,
            "table" => Format::Table,
            other => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("format {other:?}: give json, csv or table"),
                )
            }
        },
        None => Format::Json,
    };
    if !KINDS.contains(&kind.as_str()) {
        return error(
            StatusCode::NOT_FOUND,
            format!(
                "there is no report {kind:?}; the reports are {}",
                KINDS.join(", ")
            ),
        );
    }
    let request = match Request::from_pairs(&kind, &pairs) {
        Ok(r) => r,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.to_string()),
    };
    // The answer is written on the blocking thread too: a serial-range
    // recall's JSON runs to megabytes, too long to hold a runtime thread.
    let outcome =
        tokio::task::spawn_blocking(move || run(request).map(|r| answer(format, &r))).await;
    match outcome {
        Ok(Ok(response)) => response,
        Ok(Err(ReportError::BadInput(e))) => error(StatusCode::BAD_REQUEST, e),
        Ok(Err(ReportError::Unavailable(e))) => {
            let mut r = error(StatusCode::SERVICE_UNAVAILABLE, e);
            r.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
            r
        }
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the report failed: {e}"),
        ),
    }
}

/// A report in the format asked for.
fn answer(format: Format, report: &super::Report) -> Response {
    match format {
        Format::Json => match serde_json::to_vec(report) {
            Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
            Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        },
        Format::Csv => match render::csv(report) {
            Ok(text) => ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], text).into_response(),
            Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        },
        Format::Table => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            render::table(report),
        )
            .into_response(),
    }
}
