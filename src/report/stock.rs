//! Stock by batch and serial: per GTIN, lot and location the quantity on
//! hand with the lot's expiry; per serial in stock its state and location.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::{bad, location_matches, site_location, Amount, Params, Result, Source};
use crate::model::SerialState;

/// Which part of the stock to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum By {
    /// Lots and serials.
    All,
    /// Lot balances only.
    Batch,
    /// Serials only.
    Serial,
}

/// The stock report's question: optionally one GTIN, lot, location or expiry
/// cut-off, by lot or by serial.
#[derive(Debug, Clone, Serialize)]
pub struct Query {
    pub(crate) gtin: Option<String>,
    pub(crate) lot: Option<String>,
    pub(crate) location: Option<String>,
    /// Only lots (and serials of lots) expiring before this date.
    pub(crate) expiring_before: Option<NaiveDate>,
    pub(crate) by: By,
}

impl Query {
    pub(crate) fn from_params(p: &Params) -> Result<Query> {
        p.only(&["gtin", "lot", "location", "expiring_before", "by"])?;
        let by = match p.opt("by")?.as_deref() {
            None | Some("all") => By::All,
            Some("batch") => By::Batch,
            Some("serial") => By::Serial,
            Some(other) => return bad(format!("by {other:?}: give all, batch or serial")),
        };
        Ok(Query {
            gtin: p.gtin()?,
            lot: p.opt("lot")?,
            location: p.opt("location")?,
            expiring_before: p.date("expiring_before")?,
            by,
        })
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(g) = &self.gtin {
            parts.push(format!("GTIN {g}"));
        }
        if let Some(l) = &self.lot {
            parts.push(format!("lot {l}"));
        }
        if let Some(l) = &self.location {
            parts.push(format!("at {l}"));
        }
        if let Some(d) = &self.expiring_before {
            parts.push(format!("expiring before {d}"));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!(" of {}", parts.join(", "))
        }
    }
}

/// One lot balance on hand at a location, with the lot's earliest expiry.
#[derive(Debug, Clone, Serialize)]
pub struct LotLine {
    /// The product's GTIN, 14 digits.
    pub gtin: String,
    /// "" when the product is not lot-tracked.
    pub lot: String,
    pub(crate) location: String,
    pub(crate) quantity: Amount,
    pub(crate) expiry: Option<NaiveDate>,
}

/// One serialised unit on hand (in stock or returned).
#[derive(Debug, Clone, Serialize)]
pub struct SerialLine {
    pub(crate) gtin: String,
    pub(crate) serial: String,
    /// `in_stock` or `returned`.
    pub(crate) state: &'static str,
    pub(crate) location: String,
    #[serde(serialize_with = "super::time::rfc3339")]
    pub(crate) since: DateTime<Utc>,
    pub(crate) lot: Option<String>,
    pub(crate) expiry: Option<NaiveDate>,
}

/// Stock on hand by batch and by serial.
#[derive(Debug, Clone, Serialize)]
pub struct StockReport {
    pub(crate) query: Query,
    pub(crate) found: bool,
    pub(crate) note: Option<String>,
    /// Lot balances on hand (non-zero), by GTIN, lot, location.
    pub lots: Vec<LotLine>,
    /// Serialised items on hand, by GTIN and serial.
    pub(crate) serials: Vec<SerialLine>,
}

/// Non-zero lot balances matching the filters, with their expiry.
pub(crate) fn lots_on_hand(
    store: &dyn Source,
    gtin: Option<&str>,
    lot: Option<&str>,
    location: Option<&str>,
    mut keep_expiry: impl FnMut(Option<NaiveDate>) -> bool,
) -> Result<Vec<LotLine>> {
    let mut out = Vec::new();
    // Balances come in (gtin, lot, location) order, so the locations of a
    // lot follow each other and share one expiry read.
    let mut last: Option<(String, String, Option<NaiveDate>)> = None;
    for (gtin, b) in store.balances(gtin, lot)? {
        if b.balance.mantissa == 0
            || lot.is_some_and(|l| l != b.lot)
            || location.is_some_and(|l| !location_matches(l, &b.origin, &b.location))
        {
            continue;
        }
        let expiry = match &last {
            _ if b.lot.is_empty() => None,
            Some((g, l, e)) if *g == gtin && *l == b.lot => *e,
            _ => {
                let e = store.lot_expiry(&gtin, &b.lot)?;
                last = Some((gtin.clone(), b.lot.clone(), e));
                e
            }
        };
        if keep_expiry(expiry) {
            out.push(LotLine {
                gtin,
                lot: b.lot,
                location: site_location(store, &b.origin, b.location),
                quantity: Amount::of(b.balance, &b.unit),
                expiry,
            });
        }
    }
    Ok(out)
}

pub(crate) fn run(store: &dyn Source, q: &Query) -> Result<StockReport> {
    let before = q.expiring_before;
    let keep = |e: Option<NaiveDate>| match before {
        Some(d) => e.is_some_and(|e| e < d),
        None => true,
    };
    let lots = if q.by == By::Serial {
        Vec::new()
    } else {
        lots_on_hand(
            store,
            q.gtin.as_deref(),
            q.lot.as_deref(),
            q.location.as_deref(),
            keep,
        )?
    };
    let mut serials = Vec::new();
    if q.by != By::Batch {
        for item in store.serial_states(q.gtin.as_deref()) {
            let (gtin, serial, state) = item?;
            let (name, location, since, by) = match state {
                SerialState::InStock {
                    location,
                    since,
                    by,
                } => ("in_stock", location, since, by),
                SerialState::Returned { location, at, by } => ("returned", location, at, by),
                SerialState::Dispatched { .. } | SerialState::Voided { .. } => continue,
            };
            if q.location
                .as_ref()
                .is_some_and(|l| !location_matches(l, &by.origin, &location))
            {
                continue;
            }
            let (lot, expiry) = match store.movement(&by.origin, by.seq)? {
                Some(m) => (m.body.lot, m.body.expiry),
                None => (None, None),
            };
            if q.lot.is_some() && lot != q.lot {
                continue;
            }
            if !keep(expiry) {
                continue;
            }
            serials.push(SerialLine {
                gtin,
                serial,
                state: name,
                location: site_location(store, &by.origin, location),
                since,
                lot,
                expiry,
            });
        }
    }
    let found = !lots.is_empty() || !serials.is_empty();
    let what = match q.by {
        By::All => "stock",
        By::Batch => "lot stock",
        By::Serial => "serialised stock",
    };
    Ok(StockReport {
        query: q.clone(),
        found,
        note: (!found).then(|| format!("no {what} on hand{} in this store", q.describe())),
        lots,
        serials,
    })
}
