//! The report pages of the console, for the site and head office alike: a
//! form per report, its result as tables (paged), CSV and JSON downloads,
//! a print layout and, for a recall, a diagram of where the goods went.
//!
//! Nothing here decides a figure: a page builds the same `key=value`
//! pairs as the API, calls [`report::Request::from_pairs`] and
//! [`report::run`], and draws [`render::layout`], the tables of the
//! command line; a download is answered by the API's own handler
//! ([`report::http::handle`]), so its bytes are the API's.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};

use super::page::{self, query_string, Chrome};
use super::{require_viewer, Console, Viewer};
use crate::report::recall::RecallReport;
use crate::report::render;
use crate::report::{self, Amount, Report, ReportError, KINDS};
use crate::store::Store;

/// Rows of one table shown per page.
pub const PAGE_ROWS: usize = 100;

/// What the report pages reach.
#[derive(Clone)]
pub struct Reports {
    pub(crate) console: Arc<Console>,
    /// Runs a report where the movements are: a site's store, or head
    /// office's store or database (`hq::storage::Storage::report_runner`),
    /// the same source the API answers from.
    pub(crate) run: Runner,
}

/// Runs one report (on a blocking thread: it reads the store or waits for
/// the database).
pub type Runner = Arc<dyn Fn(report::Request) -> report::Result<Report> + Send + Sync>;

/// The runner of a site's store.
pub fn store_runner(store: Arc<Store>) -> Runner {
    Arc::new(move |request| report::run(&*store, &request))
}

/// `/reports`, `/reports/{kind}` and `/reports/{kind}/download`, behind
/// sign-in.
pub fn router(reports: Reports) -> Router {
    Router::new()
        .route("/reports", get(index))
        .route("/reports/{kind}", get(page_of))
        .route("/reports/{kind}/download", get(download))
        .route_layer(middleware::from_fn_with_state(
            reports.console.clone(),
            require_viewer,
        ))
        .with_state(reports)
}

/// One field of a report's form.
#[derive(Clone, Copy)]
struct Field {
    name: &'static str,
    label: &'static str,
    hint: &'static str,
    kind: &'static str,
}

const fn field(
    name: &'static str,
    label: &'static str,
    hint: &'static str,
    kind: &'static str,
) -> Field {
    Field {
        name,
        label,
        hint,
        kind,
    }
}

/// Each report's title, what it answers, and its fields (the API's
/// parameter names).
fn form_of(kind: &str) -> (&'static str, &'static str, Vec<Field>) {
    let gtin = field("gtin", "GTIN", "14 digits, e.g. 09506000134352", "text");
    // The movements and the trace of one lot or one serial ask the same.
    let lot_or_serial = vec![
        gtin,
        field("lot", "Lot", "a lot or a serial", "text"),
        field("serial", "Serial", "", "text"),
    ];
    match kind {
        "stock" => (
            "Stock",
            "Lots and serials on hand, by location.",
            vec![
                field("gtin", "GTIN", "empty: every product", "text"),
                field("lot", "Lot", "", "text"),
                field("location", "Location", "", "text"),
                field("expiring_before", "Expiring before", "", "date"),
                field("by", "Show", "all, batch or serial", "text"),
            ],
        ),
        "movements" => (
            "Movements",
            "Every movement of a lot or a serial, in time order.",
            lot_or_serial,
        ),
        "recall" => (
            "Recall",
            "Who supplied, what is still here, which customers have it: by lots, or by a serial range.",
            vec![
                gtin,
                field("lots", "Lots", "separated by spaces or commas", "text"),
                field("from", "Serials from", "or a serial range", "text"),
                field("to", "Serials to", "", "text"),
            ],
        ),
        "trace" => (
            "Trace",
            "The chain from receipt to customer, in words.",
            lot_or_serial,
        ),
        "warranty" => (
            "Warranty",
            "A serial's sale, warranty end and returns.",
            vec![
                gtin,
                field("serial", "Serial", "", "text"),
                field("today", "On", "empty: today", "date"),
            ],
        ),
        _ => (
            "Expiry",
            "Lots in stock expiring within some days, first expiry first.",
            vec![
                field("days", "Within days", "e.g. 30", "number"),
                field("gtin", "GTIN", "empty: every product", "text"),
                field("location", "Location", "", "text"),
                field("today", "From", "empty: today", "date"),
            ],
        ),
    }
}

/// The form's fields as the report's parameters: blanks left out, the
/// recall's `lots` split into `lot=` pairs, the page's own keys apart.
/// Returns the parameters and the page asked for (`None`: all rows).
fn parameters(kind: &str, query: Vec<(String, String)>) -> (Vec<(String, String)>, Option<usize>) {
    let mut pairs = Vec::new();
    let mut page = Some(1);
    for (k, v) in query {
        let v = v.trim().to_owned();
        match k.as_str() {
            "page" if v == "all" => page = None,
            "page" => page = Some(v.parse().unwrap_or(1).max(1)),
            "lots" if kind == "recall" => pairs.extend(
                v.split([' ', ',', ';', '\n'])
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| ("lot".to_owned(), l.trim().to_owned())),
            ),
            "format" => {}
            _ if v.is_empty() => {}
            _ => pairs.push((k, v)),
        }
    }
    (pairs, page)
}

/// What a form field shows: the value asked for (the recall's lots joined).
fn value_of(name: &str, pairs: &[(String, String)]) -> String {
    if name == "lots" {
        return pairs
            .iter()
            .filter(|(k, _)| k == "lot")
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
            .join(" ");
    }
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn tabs(current: Option<&str>) -> Markup {
    html! {
        nav.tabs aria-label="Reports" {
            @for k in KINDS {
                @let (title, _, _) = form_of(k);
                @if current == Some(k) {
                    a href=(format!("/reports/{k}")) aria-current="page" { (title) }
                } @else {
                    a href=(format!("/reports/{k}")) { (title) }
                }
            }
        }
    }
}

fn form(kind: &str, pairs: &[(String, String)]) -> Markup {
    let (_, what, fields) = form_of(kind);
    html! {
        p.muted.intro { (what) }
        form.report method="get" action=(format!("/reports/{kind}")) {
            div.fields {
                @for f in &fields {
                    div {
                        label for=(format!("f-{}", f.name)) { (f.label) }
                        input id=(format!("f-{}", f.name)) name=(f.name) type=(f.kind)
                            value=(value_of(f.name, pairs)) placeholder=(f.hint)
                            aria-describedby=(format!("h-{}", f.name));
                        @if !f.hint.is_empty() { div.muted id=(format!("h-{}", f.name)) { small { (f.hint) } } }
                    }
                }
                div.actions { button type="submit" { "Show" } }
            }
        }
    }
}

async fn index(State(r): State<Reports>, viewer: Viewer) -> Response {
    let body = html! {
        (tabs(None))
        p { "Choose a report. Each answers from this store with the same figures as "
            code { "scantrail report" } " and the API, and downloads as CSV or JSON." }
        ul {
            @for k in KINDS {
                @let (title, what, _) = form_of(k);
                li { a href=(format!("/reports/{k}")) { (title) } ": " (what) }
            }
        }
    };
    page::shell(&r.console.chrome, Some(&viewer), "Reports", body).into_response()
}

async fn page_of(
    State(r): State<Reports>,
    viewer: Viewer,
    Path(kind): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    if !KINDS.contains(&kind.as_str()) {
        return page::message(
            &r.console.chrome,
            Some(&viewer),
            StatusCode::NOT_FOUND,
            "No such report",
            &format!(
                "There is no report {kind:?}; the reports are {}.",
                KINDS.join(", ")
            ),
        );
    }
    let (title, _, _) = form_of(&kind);
    let asked = !query.is_empty();
    let (pairs, page_no) = parameters(&kind, query);
    let mut status = StatusCode::OK;
    let result = if asked {
        match run(&r.run, &kind, &pairs).await {
            Ok(report) => results(&r.console.chrome, &viewer, &kind, &pairs, page_no, &report),
            Err((code, message)) => {
                status = code;
                html! { p.problem role="alert" id="report-problem" { (message) } }
            }
        }
    } else {
        html! {}
    };
    let body = html! {
        (tabs(Some(&kind)))
        (form(&kind, &pairs))
        section id="result" aria-live="polite" { (result) }
    };
    (
        status,
        page::shell(&r.console.chrome, Some(&viewer), title, body),
    )
        .into_response()
}

/// Runs a report off the async threads; a malformed question is a 400
/// with the report's own words.
async fn run(
    runner: &Runner,
    kind: &str,
    pairs: &[(String, String)],
) -> Result<Report, (StatusCode, String)> {
    let request = report::Request::from_pairs(kind, pairs)
        .map_err(|e| (StatusCode::BAD_REQUEST, e.to_string()))?;
    let runner = runner.clone();
    match tokio::task::spawn_blocking(move || runner(request)).await {
        Ok(Ok(report)) => Ok(report),
        Ok(Err(ReportError::BadInput(e))) => Err((StatusCode::BAD_REQUEST, e)),
        Ok(Err(e)) => Err((StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
        Err(e) => Err((
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the report failed: {e}"),
        )),
    }
}

fn results(
    chrome: &Chrome,
    viewer: &Viewer,
    kind: &str,
    pairs: &[(String, String)],
    page_no: Option<usize>,
    report: &Report,
) -> Markup {
    // Only the page's rows are formatted (a recall of 10,000 serials has
    // 10,000 rows, a page shows a hundred).
    let window = match page_no {
        None => render::Window::ALL,
        Some(p) => render::Window {
            start: (p - 1).saturating_mul(PAGE_ROWS),
            len: PAGE_ROWS,
        },
    };
    let layout = render::layout_window(report, window);
    let q = query_string(pairs);
    let biggest = layout.tables.iter().map(|t| t.total).max().unwrap_or(0);
    let pages = biggest.div_ceil(PAGE_ROWS).max(1);
    html! {
        div.printonly {
            p { (chrome.name) ": " (form_of(kind).0) " report, printed "
                (chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")) " by " (viewer.name()) }
        }
        div.downloads {
            a.button.secondary href=(format!("/reports/{kind}/download?{q}&format=csv")) download { "Download CSV" }
            a.button.secondary href=(format!("/reports/{kind}/download?{q}&format=json")) download { "Download JSON" }
            @if kind == "recall" {
                button.secondary type="button" data-print { "Print" }
            }
        }
        @for h in &layout.head {
            p.head { (h) }
        }
        @if let Some(note) = &layout.note {
            p.notice role="status" { (note) }
        }
        @if let Report::Recall(r) = report {
            @if r.found { (recall_diagram(r)) }
        }
        @if layout.found {
            @if let Some(p) = page_no.filter(|_| pages > 1) {
                (pager(kind, &q, p, pages, biggest))
            }
            @for t in layout.tables.iter().filter(|t| t.total > 0) {
                (page::table(&t.title, &t.headers, &t.rows))
            }
        }
    }
}

fn pager(kind: &str, q: &str, page_no: usize, pages: usize, rows: usize) -> Markup {
    let link = |p: String| format!("/reports/{kind}?{q}&page={p}");
    html! {
        nav.pager aria-label="Pages" {
            @if page_no > 1 { a href=(link((page_no - 1).to_string())) { "Previous" } }
            span { "Page " (page_no) " of " (pages) " (" (rows) " rows in the largest table, " (PAGE_ROWS) " a page)" }
            @if page_no < pages { a href=(link((page_no + 1).to_string())) { "Next" } }
            a href=(link("all".into())) { "All rows (for printing)" }
        }
    }
}

/// `GET /reports/{kind}/download?...&format=csv|json`: the API's answer to
/// the same question, as a file.
async fn download(
    State(r): State<Reports>,
    Path(kind): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let format = query
        .iter()
        .find(|(k, _)| k == "format")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| "json".into());
    let (mut pairs, _) = parameters(&kind, query);
    pairs.push(("format".into(), format.clone()));
    let runner = r.run.clone();
    let mut response =
        report::http::handle_with(kind.clone(), pairs, move |request| runner(request)).await;
    if response.status().is_success() {
        let name = format!("attachment; filename=\"{kind}.{format}\"");
        if let Ok(v) = HeaderValue::from_str(&name) {
            response
                .headers_mut()
                .insert(header::CONTENT_DISPOSITION, v);
        }
    }
    response
}

/// Where a recall's goods went, as a picture: suppliers on the left, this
/// store in the middle (in stock, of which in quarantine), customers on
/// the right, with the quantities from the report's own lines.
fn recall_diagram(r: &RecallReport) -> Markup {
    use std::collections::BTreeMap;
    let mut suppliers: BTreeMap<String, Amount> = BTreeMap::new();
    for l in r.received.iter().filter(|l| l.corrected_by.is_none()) {
        suppliers
            .entry(party_name(l.party.as_ref()))
            .or_default()
            .add_amount(&l.quantity);
    }
    let (mut quarantine, mut stock) = (Amount::default(), Amount::default());
    for s in &r.in_stock {
        let in_quarantine = s
            .location
            .rsplit('/')
            .next()
            .is_some_and(|l| l == crate::station::context::QUARANTINE);
        if in_quarantine {
            quarantine.add_amount(&s.quantity);
        } else {
            stock.add_amount(&s.quantity);
        }
    }
    const MAX: usize = 8;
    let suppliers: Vec<(String, String)> = suppliers
        .into_iter()
        .map(|(n, a)| (n, a.to_string()))
        .collect();
    let customers: Vec<(String, String)> = r
        .customers
        .iter()
        .map(|c| {
            (
                party_name(Some(&c.customer)),
                format!("{} dispatched, {} still held", c.dispatched, c.outstanding),
            )
        })
        .collect();
    let rows = suppliers
        .len()
        .min(MAX)
        .max(customers.len().min(MAX))
        .max(1);
    let (w, box_h, gap) = (900.0, 44.0, 12.0);
    let h = (rows as f64) * (box_h + gap) + 40.0;
    let y_of = |i: usize, n: usize| {
        let n = n.clamp(1, MAX) as f64;
        let top = (h - n * (box_h + gap)) / 2.0;
        top + i as f64 * (box_h + gap)
    };
    let mid_y = h / 2.0 - 40.0;
    let label = format!(
        "Recall diagram: {} supplier(s) sent {}; this store holds {} ({} in quarantine); {} customer(s) received {}",
        suppliers.len(),
        r.totals.received,
        r.totals.in_stock,
        quarantine,
        r.customers.len(),
        r.totals.dispatched
    );
    html! {
        figure.diagram {
            svg viewBox=(format!("0 0 {w} {h}")) role="img" aria-label=(label) {
                @for (i, (name, qty)) in suppliers.iter().take(MAX).enumerate() {
                    @let y = y_of(i, suppliers.len());
                    rect x="0" y=(y) width="250" height=(box_h) rx="6" fill="#ddf4ff" stroke="#0969da" {}
                    text x="8" y=(y + 18.0) { (clip(name, 34)) }
                    text x="8" y=(y + 36.0) { "received " (qty) }
                    line x1="250" y1=(y + box_h / 2.0) x2="325" y2=(mid_y + 40.0) stroke="#0969da" stroke-width="2" {}
                }
                @if suppliers.len() > MAX {
                    text x="8" y=(h - 4.0) { "and " (suppliers.len() - MAX) " more suppliers" }
                }
                rect x="325" y=(mid_y) width="250" height="80" rx="6" fill="#fff8c5" stroke="#9a6700" {}
                text x="333" y=(mid_y + 20.0) { "this store" }
                text x="333" y=(mid_y + 40.0) { "in stock " (stock) }
                text x="333" y=(mid_y + 58.0) { "in quarantine " (quarantine) }
                text x="333" y=(mid_y + 76.0) { "returned " (r.totals.returned) }
                @for (i, (name, qty)) in customers.iter().take(MAX).enumerate() {
                    @let y = y_of(i, customers.len());
                    line x1="575" y1=(mid_y + 40.0) x2="650" y2=(y + box_h / 2.0) stroke="#cf222e" stroke-width="2" {}
                    rect x="650" y=(y) width="250" height=(box_h) rx="6" fill="#ffebe9" stroke="#cf222e" {}
                    text x="658" y=(y + 18.0) { (clip(name, 34)) }
                    text x="658" y=(y + 36.0) { (qty) }
                }
                @if customers.len() > MAX {
                    text x="658" y=(h - 4.0) { "and " (customers.len() - MAX) " more customers (table below)" }
                }
                @if customers.is_empty() {
                    text x="658" y=(mid_y + 40.0) { "no customer received any" }
                }
            }
            figcaption { (label) }
        }
    }
}

fn party_name(p: Option<&report::Party>) -> String {
    match p {
        Some(report::Party { name: Some(n), .. }) => n.clone(),
        Some(report::Party { gln: Some(g), .. }) => format!("GLN {g}"),
        _ => "unknown".to_owned(),
    }
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        text.chars().take(max - 1).collect::<String>() + "…"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_become_the_apis_parameters() {
        let q = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        let (pairs, page) = parameters(
            "recall",
            q(&[
                ("gtin", "09506000134352"),
                ("lots", "L1, L2 L3"),
                ("from", ""),
                ("page", "3"),
            ]),
        );
        assert_eq!(
            pairs,
            q(&[
                ("gtin", "09506000134352"),
                ("lot", "L1"),
                ("lot", "L2"),
                ("lot", "L3")
            ])
        );
        assert_eq!(page, Some(3));
        assert_eq!(value_of("lots", &pairs), "L1 L2 L3");
        let (_, page) = parameters("stock", q(&[("page", "all")]));
        assert_eq!(page, None);
    }
}
