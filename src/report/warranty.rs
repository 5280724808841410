//! Warranty look-up for a serial: when it was sold (its latest dispatch
//! that stands), to whom, the warranty end from the product master's
//! `warranty_months` (calendar months, clamped to the month's end: sold on
//! 31 January with 1 month, it ends on 28 or 29 February), whether it is in
//! warranty on `today`, and its return history.

use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::Serialize;

use super::{
    corrected_ids, in_time_order, movement_ref, Params, Party, ReportError, Result, Source,
};
use crate::model::{Kind, SerialState};
use crate::station::records::decode;
use crate::station::reference::Product;

/// The warranty report's question: a GTIN, a serial and the day to judge on
/// (`today`, default today).
#[derive(Debug, Clone, Serialize)]
pub struct Query {
    pub(crate) gtin: String,
    pub(crate) serial: String,
    pub(crate) today: NaiveDate,
}

impl Query {
    pub(crate) fn from_params(p: &Params) -> Result<Query> {
        p.only(&["gtin", "serial", "today"])?;
        Ok(Query {
            gtin: p.req_gtin()?,
            serial: p.req("serial", "SN0001")?,
            today: p.today()?,
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Sale {
    pub(crate) id: String,
    pub(crate) date: NaiveDate,
    pub(crate) customer: Option<Party>,
    pub(crate) order: Option<String>,
    pub(crate) despatch_advice: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct ReturnLine {
    pub(crate) id: String,
    #[serde(serialize_with = "super::time::rfc3339")]
    pub(crate) time: DateTime<Utc>,
    pub(crate) from: Option<Party>,
    pub(crate) location: String,
    pub(crate) reason: Option<String>,
}

/// Whether a serial is in warranty: when and to whom it was sold, its warranty
/// end, its returns.
#[derive(Debug, Clone, Serialize)]
pub struct WarrantyReport {
    pub(crate) query: Query,
    pub(crate) found: bool,
    pub(crate) note: Option<String>,
    pub(crate) description: Option<String>,
    /// `in_stock`, `dispatched` or `returned`.
    pub(crate) state: Option<&'static str>,
    pub(crate) sale: Option<Sale>,
    pub(crate) warranty_months: Option<u32>,
    pub(crate) warranty_end: Option<NaiveDate>,
    /// Sold, with a warranty, and `today` is on or before its end.
    pub(crate) in_warranty: bool,
    pub(crate) returns: Vec<ReturnLine>,
}

/// The last day of the warranty: `months` calendar months after the sale,
/// clamped to the end of a shorter month.
pub fn warranty_end(sale: NaiveDate, months: u32) -> Option<NaiveDate> {
    sale.checked_add_months(Months::new(months))
}

pub(crate) fn run(store: &dyn Source, q: &Query) -> Result<WarrantyReport> {
    let movements = in_time_order(store.movements_of_serial(&q.gtin, &q.serial)?);
    let product: Option<Product> = store
        .product(&q.gtin)?
        .map(|v| decode(&v).map_err(ReportError::Reference))
        .transpose()?;
    let corrected = corrected_ids(&movements);
    let sale = movements
        .iter()
        .rev()
        .find(|m| m.body.kind == Kind::Dispatch && !corrected.contains(&m.id()))
        .map(|m| Sale {
            id: movement_ref(&m.id()),
            date: m.body.device_time.date_naive(),
            customer: Party::of(&m.body.counterparty),
            order: m.body.documents.order.clone(),
            despatch_advice: m.body.documents.despatch_advice.clone(),
        });
    let returns = movements
        .iter()
        .filter(|m| m.body.kind == Kind::Return && !corrected.contains(&m.id()))
        .map(|m| ReturnLine {
            id: movement_ref(&m.id()),
            time: m.body.device_time,
            from: Party::of(&m.body.counterparty),
            location: m.body.location.clone(),
            reason: m.body.reason.clone(),
        })
        .collect();
    let state = store.serial_state(&q.gtin, &q.serial)?.map(|s| match s {
        SerialState::InStock { .. } => "in_stock",
        SerialState::Dispatched { .. } => "dispatched",
        SerialState::Returned { .. } => "returned",
        SerialState::Voided { .. } => "voided",
    });
    let months = product.as_ref().and_then(|p| p.warranty_months);
    let end = match (&sale, months) {
        (Some(s), Some(m)) => warranty_end(s.date, m),
        _ => None,
    };
    let found = !movements.is_empty();
    let note = if !found {
        Some(format!(
            "no movements of serial {} of GTIN {} in this store",
            q.serial, q.gtin
        ))
    } else if sale.is_none() {
        Some(format!(
            "serial {} of GTIN {} was never sold (dispatched) from this store",
            q.serial, q.gtin
        ))
    } else if months.is_none() {
        Some(format!(
            "the product master has no warranty months for GTIN {}",
            q.gtin
        ))
    } else {
        None
    };
    Ok(WarrantyReport {
        query: q.clone(),
        found,
        note,
        description: product.map(|p| p.description),
        state,
        sale,
        warranty_months: months,
        warranty_end: end,
        in_warranty: end.is_some_and(|e| q.today <= e),
        returns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warranty_months_are_calendar_months_clamped_to_month_end() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(warranty_end(d(2026, 1, 31), 1), Some(d(2026, 2, 28)));
        assert_eq!(warranty_end(d(2027, 11, 30), 3), Some(d(2028, 2, 29)));
        assert_eq!(warranty_end(d(2026, 3, 15), 24), Some(d(2028, 3, 15)));
    }
}
