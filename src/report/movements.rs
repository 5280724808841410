//! Movements by batch or serial: every movement of a lot or a serial, in
//! time order, with kind, time, station, operator, counterparty and
//! documents; corrections name what they correct and corrected movements
//! name their corrections.

use serde::Serialize;

use super::{in_time_order, Item, MovementRow, Params, Result, Source};

/// The movements report's question: a GTIN and one lot or serial.
#[derive(Debug, Clone, Serialize)]
pub struct Query {
    pub(crate) gtin: String,
    #[serde(flatten)]
    pub(crate) item: Item,
}

impl Query {
    pub(crate) fn from_params(p: &Params) -> Result<Query> {
        p.only(&["gtin", "lot", "serial"])?;
        Ok(Query {
            gtin: p.req_gtin()?,
            item: Item::from_params(p)?,
        })
    }
}

/// Every movement of a lot or a serial, in time order.
#[derive(Debug, Clone, Serialize)]
pub struct MovementsReport {
    pub(crate) query: Query,
    pub(crate) found: bool,
    pub(crate) note: Option<String>,
    pub(crate) movements: Vec<MovementRow>,
}

pub(crate) fn run(store: &dyn Source, q: &Query) -> Result<MovementsReport> {
    let movements = in_time_order(q.item.movements(store, &q.gtin)?);
    let found = !movements.is_empty();
    Ok(MovementsReport {
        query: q.clone(),
        found,
        note: (!found)
            .then(|| format!("no movements of {} in this store", q.item.describe(&q.gtin))),
        movements: MovementRow::all(&movements),
    })
}
