//! Expiry: lots in stock expiring within N days of `today` (already expired
//! lots included, with negative days left), first expiry first (FEFO).

use chrono::{Days, NaiveDate};
use serde::Serialize;

use super::{bad, stock, Amount, Params, Result, Source};

/// The expiry report's question: lots expiring within `days` of `today`,
/// optionally of one GTIN or at one location.
#[derive(Debug, Clone, Serialize)]
pub struct Query {
    pub(crate) days: u32,
    pub(crate) gtin: Option<String>,
    pub(crate) location: Option<String>,
    pub(crate) today: NaiveDate,
}

impl Query {
    pub(crate) fn from_params(p: &Params) -> Result<Query> {
        p.only(&["days", "gtin", "location", "today"])?;
        let days = p.req("days", "30")?;
        let Ok(days) = days.parse::<u32>() else {
            return bad(format!(
                "days {days:?} is not a number of days, e.g. days=30"
            ));
        };
        Ok(Query {
            days,
            gtin: p.gtin()?,
            location: p.opt("location")?,
            today: p.today()?,
        })
    }
}

/// One lot at one location, with its expiry and what is on hand.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub(crate) expiry: NaiveDate,
    /// Negative when already expired.
    pub(crate) days_left: i64,
    pub(crate) gtin: String,
    pub(crate) lot: String,
    pub(crate) location: String,
    pub(crate) quantity: Amount,
}

/// Lots in stock expiring within the window, first expiry first (FEFO).
#[derive(Debug, Clone, Serialize)]
pub struct ExpiryReport {
    pub(crate) query: Query,
    pub(crate) found: bool,
    pub(crate) note: Option<String>,
    /// The last expiry date included: today + days.
    pub(crate) until: NaiveDate,
    /// The lots, earliest expiry first.
    pub lots: Vec<Line>,
}

pub(crate) fn run(store: &dyn Source, q: &Query) -> Result<ExpiryReport> {
    let until = q
        .today
        .checked_add_days(Days::new(u64::from(q.days)))
        .unwrap_or(NaiveDate::MAX);
    let on_hand =
        stock::lots_on_hand(store, q.gtin.as_deref(), None, q.location.as_deref(), |e| {
            e.is_some_and(|e| e <= until)
        })?;
    let mut lots: Vec<Line> = on_hand
        .into_iter()
        .filter_map(|l| {
            let expiry = l.expiry?;
            Some(Line {
                expiry,
                days_left: (expiry - q.today).num_days(),
                gtin: l.gtin,
                lot: l.lot,
                location: l.location,
                quantity: l.quantity,
            })
        })
        .collect();
    lots.sort_by(|a, b| {
        (a.expiry, &a.gtin, &a.lot, &a.location).cmp(&(b.expiry, &b.gtin, &b.lot, &b.location))
    });
    let found = !lots.is_empty();
    Ok(ExpiryReport {
        query: q.clone(),
        found,
        note: (!found).then(|| {
            format!(
                "no lots in stock{} expiring by {until} (within {} days of {}) in this store",
                q.gtin
                    .as_ref()
                    .map(|g| format!(" of GTIN {g}"))
                    .unwrap_or_default(),
                q.days,
                q.today
            )
        }),
        until,
        lots,
    })
}
