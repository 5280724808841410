//! How far an order's pick has got, line by line, for a picker's screen
//! (the handheld page counts the lines down as scans are accepted): the
//! pick list and the units already picked, read through the same
//! [`View`] the rules decide with, so the count on the screen and the
//! `quantity_exceeded` refusal cannot disagree.

use serde::Serialize;

use super::reference::PickList;
use super::view::{View, ViewResult};
use crate::model::Counterparty;

/// One line of a pick list and what is left of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineProgress {
    /// The GTIN to pick.
    pub gtin: String,
    /// The product's name, when the product master knows the GTIN.
    pub description: Option<String>,
    /// The lots allocated to the line; empty for any lot.
    pub lots: Vec<String>,
    /// Units the order needs.
    pub quantity: u64,
    /// Units picked so far (returns and corrections counted back).
    pub picked: i128,
    /// Units still to pick, never below zero.
    pub remaining: i128,
}

/// An order's pick list with each line's progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PickProgress {
    /// The order number.
    pub order: String,
    /// Who the goods go to.
    pub customer: Counterparty,
    /// The lines, in the pick list's order.
    pub lines: Vec<LineProgress>,
}

/// The progress of `order`'s pick; `None` when there is no pick list for it.
pub fn pick_progress(view: &impl View, order: &str) -> ViewResult<Option<PickProgress>> {
    let Some(PickList {
        order,
        customer,
        lines,
        ..
    }) = view.pick_list(order)?
    else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        let picked = view.picked_units(&order, &line.gtin)?;
        let description = view.product(&line.gtin)?.map(|p| p.description);
        out.push(LineProgress {
            remaining: (i128::from(line.quantity) - picked).max(0),
            gtin: line.gtin,
            description,
            lots: line.lots,
            quantity: line.quantity,
            picked,
        });
    }
    Ok(Some(PickProgress {
        order,
        customer,
        lines: out,
    }))
}
