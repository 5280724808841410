//! The Expected receipts page: what trading partners announced over EPCIS
//! (capture) per despatch advice, and what of it has arrived here: the
//! serials still missing, items received that the advice does not list,
//! and each lot's expected, received, missing and over quantities. The
//! figures are `site::capture::statuses`, the same as
//! `GET /api/v1/expected-receipts`; this page only shows them.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};

use super::{blocking, failed, Pages};
use crate::auth::Role;
use crate::console::{page, Viewer};
use crate::epcis::expected::ExpectedSerial;
use crate::epcis::receipt_progress::LotProgress;
use crate::site::capture::ReceiptStatus;

/// `GET /expected-receipts`.
pub async fn page(State(pages): State<Pages>, viewer: Viewer) -> Response {
    if let Err(r) = viewer.require(&pages.console.chrome, Role::Supervisor) {
        return r;
    }
    let store = pages.app.store.clone();
    let receipts = match blocking(move || crate::site::capture::statuses(&store)).await {
        Ok(r) => r,
        Err(e) => return failed(&pages, &viewer, "Expected receipts cannot be read", e),
    };
    let body = html! {
        @if receipts.is_empty() {
            p.note id="receipts-none" {
                "No partner has sent a despatch advice yet: partners capture their shipping events with POST /epcis/v2/capture (README \"Capture\")."
            }
        }
        @for r in &receipts { (receipt(r)) }
    };
    page::shell(
        &pages.console.chrome,
        Some(&viewer),
        "Expected receipts",
        body,
    )
    .into_response()
}

fn serials(list: &[ExpectedSerial]) -> String {
    list.iter()
        .map(|s| format!("{} {}", s.gtin, s.serial))
        .collect::<Vec<_>>()
        .join(", ")
}

fn amount(q: f64, uom: &Option<String>) -> String {
    match uom {
        Some(u) => format!("{q} {u}"),
        None => format!("{q}"),
    }
}

fn lot_rows(lots: &[LotProgress]) -> Vec<Vec<String>> {
    lots.iter()
        .map(|l| {
            vec![
                l.gtin.clone(),
                l.lot.clone(),
                amount(l.expected, &l.uom),
                amount(l.received, &l.uom),
                amount(l.missing, &l.uom),
                amount(l.over, &l.uom),
            ]
        })
        .collect()
}

fn receipt(r: &ReceiptStatus) -> Markup {
    let e = &r.expected;
    let p = &r.progress;
    let id = format!("receipt-{}", e.document);
    let state = if p.complete {
        "complete: everything announced arrived, and nothing else"
    } else {
        "open"
    };
    let mut rows = vec![
        vec!["From party".to_owned(), e.from_party.clone()],
        vec!["Despatch advice as sent".into(), e.despatch_advice.clone()],
        vec!["State".into(), state.into()],
        vec![
            "Serials received".into(),
            format!("{} of {}", p.serials_received.len(), e.serials.len()),
        ],
        vec!["Still missing".into(), serials(&p.serials_missing)],
        vec![
            "Received, not on the despatch advice".into(),
            serials(&p.serials_not_expected),
        ],
    ];
    if !e.pallets.is_empty() {
        rows.push(vec![
            "Pallets (SSCC, items)".into(),
            e.pallets
                .iter()
                .map(|p| format!("{} ({})", p.sscc, p.children))
                .collect::<Vec<_>>()
                .join(", "),
        ]);
    }
    let headers = ["GTIN", "Lot", "Expected", "Received", "Missing", "Over"];
    html! {
        section id=(id) aria-labelledby=(format!("{id}-h")) {
            h2 id=(format!("{id}-h")) { "Despatch advice " (e.document) }
            (page::table("", &["", ""], &rows))
            @if !p.lots.is_empty() {
                (page::table("Lots", &headers, &lot_rows(&p.lots)))
            }
            @if !p.lots_not_expected.is_empty() {
                (page::table("Lots received, not on the despatch advice", &headers, &lot_rows(&p.lots_not_expected)))
            }
        }
    }
}
