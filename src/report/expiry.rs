//! Expiry: lots in stock expiring within N days of `today` (already expired
//! lots included, with negative days left), first expiry first (FEFO).

use chrono::{Days, NaiveDate};
use serde::Serialize;

use super::{bad, stock, Amount, Params, Result, Source};

#[derive(Debug, Clone, Serialize)]
pub struct Query {
    pub days: u32,
    pub gtin: Option<String>,
    pub location: Option<String>,
    pub today: NaiveDate,
}

impl Query {
    pub(super) fn from_params(p: &Params) -> Result<Query> {
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

#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub expiry: NaiveDate,
    /// Negative when already expired.
    pub days_left: i64,
    pub gtin: String,
    pub lot: String,
    pub location: String,
    pub quantity: Amount,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExpiryReport {
    pub query: Query,
    pub found: bool,
    pub note: Option<String>,
    /// The last expiry date included: today + days.
    pub until: NaiveDate,
    pub lots: Vec<Line>,
}

pub fn run(store: &dyn Source, q: &Query) -> Result<ExpiryReport> {
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
