//! Trace: for a lot or serial, the chain from receipt (supplier, date,
//! document) to customer (date, document), with returns and corrections.
//! A correction is listed directly under the movement it corrects, and the
//! corrected movement names its correction.

use serde::Serialize;

use super::{documents_text, in_time_order, MovementRow, Party, Result, Source};
use crate::model::{Kind, Movement};

/// The same question as the movements report: a lot or a serial of a GTIN.
pub use super::movements::Query;

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Step {
    /// What happened, in words: `received from Acme (9506000000022) on PO-1`.
    pub(crate) summary: String,
    /// True for a correction listed under the movement it corrects.
    pub(crate) is_correction: bool,
    pub(crate) movement: MovementRow,
}

/// A lot's or serial's way from receipt to customer, with returns and each
/// correction under the movement it corrects.
#[derive(Debug, Clone, Serialize)]
pub struct TraceReport {
    pub(crate) query: Query,
    pub(crate) found: bool,
    pub(crate) note: Option<String>,
    pub(crate) steps: Vec<Step>,
}

fn party(m: &Movement) -> String {
    Party::of(&m.body.counterparty)
        .map(|p| p.to_string())
        .unwrap_or_else(|| "(unknown)".into())
}

fn summary(m: &Movement, row: &MovementRow) -> String {
    let docs = documents_text(&m.body.documents);
    let on = if docs.is_empty() {
        String::new()
    } else {
        format!(" on {docs}")
    };
    let what = match m.body.kind {
        Kind::Receipt => format!("received {} from {}", row.quantity, party(m)),
        Kind::TransferIn => format!("transferred in {} from {}", row.quantity, party(m)),
        Kind::Dispatch => format!("dispatched {} to {}", row.quantity.negate(), party(m)),
        Kind::TransferOut => format!("transferred {} to {}", row.quantity.negate(), party(m)),
        Kind::Return => format!("returned {} by {}", row.quantity, party(m)),
        Kind::Adjustment => format!("adjusted by {}", row.quantity),
        Kind::Correction => format!(
            "correction of {} ({}): {}",
            row.corrects.as_deref().unwrap_or("?"),
            row.quantity,
            m.body.reason.as_deref().unwrap_or("no reason given")
        ),
    };
    let mut s = format!("{what}{on} at {}", m.body.location);
    if !row.corrected_by.is_empty() {
        s.push_str(&format!(" [corrected by {}]", row.corrected_by.join(", ")));
    }
    s
}

pub(crate) fn run(store: &dyn Source, q: &Query) -> Result<TraceReport> {
    let movements = in_time_order(q.item.movements(store, &q.gtin)?);
    let rows = MovementRow::all(&movements);
    let pairs: Vec<(&Movement, MovementRow)> = movements.iter().zip(rows).collect();
    // Corrections whose target is in the chain go right under it; the
    // others (the target is not of this item) stay in time order.
    let targets: std::collections::HashSet<&str> =
        pairs.iter().map(|(_, r)| r.id.as_str()).collect();
    let placed_under = |r: &MovementRow| r.corrects.as_deref().is_some_and(|t| targets.contains(t));
    let mut under: std::collections::HashMap<&str, Vec<usize>> = std::collections::HashMap::new();
    for (i, (_, r)) in pairs.iter().enumerate() {
        if let Some(t) = r.corrects.as_deref().filter(|_| placed_under(r)) {
            under.entry(t).or_default().push(i);
        }
    }
    let mut steps = Vec::with_capacity(pairs.len());
    for (m, row) in &pairs {
        if placed_under(row) {
            continue;
        }
        steps.push(Step {
            summary: summary(m, row),
            is_correction: false,
            movement: row.clone(),
        });
        for &i in under.get(row.id.as_str()).into_iter().flatten() {
            let (cm, crow) = &pairs[i];
            steps.push(Step {
                summary: summary(cm, crow),
                is_correction: true,
                movement: crow.clone(),
            });
        }
    }
    let found = !steps.is_empty();
    Ok(TraceReport {
        query: q.clone(),
        found,
        note: (!found)
            .then(|| format!("no movements of {} in this store", q.item.describe(&q.gtin))),
        steps,
    })
}
