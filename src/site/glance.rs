//! What a handheld shows of its station at a glance: the station's mode,
//! location and context (operator, order and customer, supplier and
//! despatch advice) and, on a pick, each line of the order's pick list with
//! what is still to pick. The desk answers it in its decision loop, over
//! the same view (store plus scans still being committed) its next
//! decision will read, so the count on the screen is the rules' count.

use serde::Serialize;

use super::view::StoreView;
use crate::station::progress::{pick_progress, PickProgress};
use crate::station::{Context, Mode};

/// A station as a handheld's screen shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Glance {
    /// The station's id.
    pub station: String,
    /// Receive, dispatch or return.
    pub mode: Mode,
    /// Where its goods go to or come from.
    pub location: String,
    /// Its context now.
    pub context: Context,
    /// The open order's pick list with what is left of each line; `None`
    /// without an order or without a pick list for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pick: Option<PickProgress>,
    /// Why the pick list could not be read, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pick_error: Option<String>,
}

/// The glance at `station`, whose mode, location and context the desk
/// holds, over `view`.
pub(super) fn glance(
    station: &str,
    mode: Mode,
    location: &str,
    context: &Context,
    view: &StoreView<'_>,
) -> Glance {
    let (pick, pick_error) = match context.order.as_deref() {
        Some(order) => match pick_progress(view, order) {
            Ok(p) => (p, None),
            Err(e) => (None, Some(e.to_string())),
        },
        None => (None, None),
    };
    Glance {
        station: station.to_owned(),
        mode,
        location: location.to_owned(),
        context: context.clone(),
        pick,
        pick_error,
    }
}
