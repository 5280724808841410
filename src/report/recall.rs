//! Recall impact, by batch (one or more lots of a GTIN) or by serial range:
//! what was received (from whom, when, on which documents), what is still
//! in stock (where), what was dispatched (to whom, when, how many, on which
//! documents), what came back, and the customers to notify with counts.
//!
//! Figures count movements that stand: a movement reversed by a correction
//! is listed with `corrected_by` set and left out of every total.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::moved::Moved;
use super::range::{self, Cursor};
use super::source::SerialStates;
use super::{
    bad, movement_ref, site_location, stock, time_order, Amount, Params, Party, ReportError,
    Result, Source,
};
use crate::model::{Documents, Kind, SerialState};
use crate::station::reference::SerialRange;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Scope {
    Lots(Vec<String>),
    Serials { from: String, to: String },
}

/// The recall report's question: a GTIN and one or more lots, or a serial range
/// `from`..`to`.
#[derive(Debug, Clone, Serialize)]
pub struct Query {
    pub(crate) gtin: String,
    pub(crate) scope: Scope,
    #[serde(skip)]
    range: Option<SerialRange>,
}

impl Query {
    pub(crate) fn from_params(p: &Params) -> Result<Query> {
        p.only(&["gtin", "lot", "from", "to"])?;
        let gtin = p.req_gtin()?;
        let mut lots = p.all("lot");
        lots.retain(|l| !l.is_empty());
        lots.dedup();
        match (lots.is_empty(), p.opt("from")?, p.opt("to")?) {
            (false, None, None) => Ok(Query {
                gtin,
                scope: Scope::Lots(lots),
                range: None,
            }),
            (true, Some(from), Some(to)) => {
                let range = SerialRange::new(&from, &to)
                    .map_err(|e| ReportError::BadInput(e.to_string()))?;
                Ok(Query {
                    gtin,
                    scope: Scope::Serials { from, to },
                    range: Some(range),
                })
            }
            _ => bad("give one or more lot=..., or a serial range from=...&to=... (not both)"),
        }
    }
}

/// One movement in a recall: a receipt, dispatch or return (`moved`
/// builds it).
pub use super::moved::Line;

#[derive(Debug, Clone, Serialize)]
pub(crate) struct StockLine {
    pub(crate) lot: String,
    pub(crate) location: String,
    pub(crate) quantity: Amount,
}

/// One serial of a recalled range: where it is, or which customer has it.
#[derive(Debug, Clone, Serialize)]
pub struct SerialLine {
    pub(crate) serial: String,
    /// `in_stock`, `dispatched` or `returned`.
    pub(crate) state: &'static str,
    pub(crate) location: Option<String>,
    pub(crate) customer: Option<Party>,
    #[serde(serialize_with = "super::time::rfc3339")]
    pub(crate) since: DateTime<Utc>,
    /// The movement that set the state.
    pub(crate) by: String,
}

/// A customer to notify.
#[derive(Debug, Clone, Serialize)]
pub struct Customer {
    pub(crate) customer: Party,
    /// Dispatch movements (batch) or serials (serial range) sent to them.
    pub(crate) dispatches: u64,
    pub(crate) dispatched: Amount,
    pub(crate) returned: Amount,
    /// Dispatched minus returned: what they still hold.
    pub(crate) outstanding: Amount,
    #[serde(serialize_with = "super::time::rfc3339")]
    pub(crate) first_dispatch: DateTime<Utc>,
    #[serde(serialize_with = "super::time::rfc3339")]
    pub(crate) last_dispatch: DateTime<Utc>,
    /// Orders and despatch advices of the dispatches.
    pub(crate) documents: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Totals {
    pub(crate) received: Amount,
    pub(crate) in_stock: Amount,
    pub(crate) dispatched: Amount,
    pub(crate) returned: Amount,
    pub(crate) customers: usize,
}

/// Recall impact: what was received, what is in stock where, what went to which
/// customer and came back, and who to notify.
#[derive(Debug, Clone, Serialize)]
pub struct RecallReport {
    pub(crate) query: Query,
    pub(crate) found: bool,
    pub(crate) note: Option<String>,
    /// Lots asked for that this store has no movement of.
    pub(crate) unknown_lots: Vec<String>,
    pub(crate) totals: Totals,
    pub(crate) received: Vec<Line>,
    pub(crate) in_stock: Vec<StockLine>,
    /// Dispatches of the recalled goods that stand (not corrected away), oldest
    /// first.
    pub dispatched: Vec<Line>,
    pub(crate) returned: Vec<Line>,
    /// Serial range only: every serial of the range the store knows.
    pub serials: Vec<SerialLine>,
    /// The customers to notify, with what they received and still hold.
    pub customers: Vec<Customer>,
}

pub(crate) fn run(store: &dyn Source, q: &Query) -> Result<RecallReport> {
    match (&q.scope, &q.range) {
        (Scope::Lots(lots), _) => by_lots(store, q, lots),
        (Scope::Serials { .. }, Some(range)) => by_serials(store, q, range),
        _ => bad("a serial recall needs a valid range"),
    }
}

#[derive(Default)]
struct Customers(BTreeMap<Party, Customer>);

impl Customers {
    fn dispatch(&mut self, party: &Party, at: DateTime<Utc>, amount: &Amount, docs: &Documents) {
        // Cloned only for a customer not met before.
        if !self.0.contains_key(party) {
            self.0.insert(
                party.clone(),
                Customer {
                    customer: party.clone(),
                    dispatches: 0,
                    dispatched: Amount::default(),
                    returned: Amount::default(),
                    outstanding: Amount::default(),
                    first_dispatch: at,
                    last_dispatch: at,
                    documents: Vec::new(),
                },
            );
        }
        let Some(c) = self.0.get_mut(party) else {
            return;
        };
        c.dispatches += 1;
        c.dispatched.add_amount(amount);
        c.first_dispatch = c.first_dispatch.min(at);
        c.last_dispatch = c.last_dispatch.max(at);
        for d in [&docs.order, &docs.despatch_advice].into_iter().flatten() {
            if !c.documents.contains(d) {
                c.documents.push(d.clone());
            }
        }
    }

    fn returned(&mut self, party: &Party, amount: &Amount) {
        if let Some(c) = self.0.get_mut(party) {
            c.returned.add_amount(amount);
        }
    }

    fn finish(self) -> Vec<Customer> {
        let mut out: Vec<Customer> = self
            .0
            .into_values()
            .map(|mut c| {
                c.outstanding = c.dispatched.clone();
                c.outstanding.add_amount(&c.returned.negate());
                c.documents.sort();
                c
            })
            .collect();
        // Most dispatches first: who to call first.
        out.sort_by(|a, b| {
            b.dispatches
                .cmp(&a.dispatches)
                .then_with(|| a.customer.cmp(&b.customer))
        });
        out
    }
}

/// What a recall counts from the movements it touches, in time order:
/// totals, the movement lists, and every customer who got a unit (also
/// one who returned it). Corrected movements are listed, counted nowhere.
struct Tally {
    totals: Totals,
    received: Vec<Line>,
    dispatched: Vec<Line>,
    returned: Vec<Line>,
    customers: Customers,
}

fn tally(movements: Vec<Moved>) -> Tally {
    // By the corrected movement's id text, borrowed: no id is formatted
    // or cloned to look it up.
    let corrected: HashMap<&str, &str> = movements
        .iter()
        .filter_map(|m| Some((m.corrects.as_deref()?, m.line.id.as_str())))
        .collect();
    // Walked in time order where they lie, then taken apart in that order:
    // each line is moved once, out of its movement.
    let order = time_order(&movements, |m| (m.line.time, m.origin(), m.seq));
    let mut totals = Totals::default();
    let mut customers = Customers::default();
    let mut lines = Vec::with_capacity(movements.len());
    for i in order {
        let (m, line) = (&movements[i], &movements[i].line);
        let list = match m.kind {
            Kind::Receipt | Kind::TransferIn => List::Received,
            Kind::Dispatch | Kind::TransferOut => List::Dispatched,
            Kind::Return => List::Returned,
            Kind::Adjustment | Kind::Correction => continue,
        };
        let corrected_by = corrected.get(line.id.as_str()).map(|c| (*c).to_owned());
        if corrected_by.is_none() {
            let quantity = &line.quantity;
            match list {
                List::Received => totals.received.add_amount(quantity),
                List::Dispatched => {
                    totals.dispatched.add_amount(quantity);
                    if let Some(p) = &line.party {
                        customers.dispatch(p, line.time, quantity, &line.documents);
                    }
                }
                List::Returned => {
                    totals.returned.add_amount(quantity);
                    if let Some(p) = &line.party {
                        customers.returned(p, quantity);
                    }
                }
            }
        }
        lines.push((i, list, corrected_by));
    }
    drop(corrected);
    let mut slots: Vec<Option<Moved>> = movements.into_iter().map(Some).collect();
    let (mut received, mut dispatched, mut returned) = (Vec::new(), Vec::new(), Vec::new());
    for (i, list, corrected_by) in lines {
        let Some(m) = slots[i].take() else { continue };
        let line = Line {
            corrected_by,
            ..m.line
        };
        match list {
            List::Received => received.push(line),
            List::Dispatched => dispatched.push(line),
            List::Returned => returned.push(line),
        }
    }
    Tally {
        totals,
        received,
        dispatched,
        returned,
        customers,
    }
}

/// Which of a recall's lists a movement is listed in.
#[derive(Clone, Copy)]
enum List {
    Received,
    Dispatched,
    Returned,
}

fn by_lots(store: &dyn Source, q: &Query, lots: &[String]) -> Result<RecallReport> {
    let mut all = Vec::new();
    let mut unknown = Vec::new();
    for lot in lots {
        let found = store.recall_lot(&q.gtin, lot)?;
        if found.is_empty() {
            unknown.push(lot.clone());
        }
        all.extend(found);
    }
    let found = !all.is_empty();
    let Tally {
        mut totals,
        received,
        dispatched,
        returned,
        customers,
    } = tally(all);
    let mut in_stock = Vec::new();
    for lot in lots {
        for line in stock::lots_on_hand(store, Some(&q.gtin), Some(lot), None, |_| true)? {
            totals.in_stock.add_amount(&line.quantity);
            in_stock.push(StockLine {
                lot: line.lot,
                location: line.location,
                quantity: line.quantity,
            });
        }
    }
    let customers = customers.finish();
    totals.customers = customers.len();
    let note = if !found {
        Some(format!(
            "no movements of lot {} of GTIN {} in this store: nothing here is affected",
            lots.join(", "),
            q.gtin
        ))
    } else if !unknown.is_empty() {
        Some(format!(
            "no movements of lot {} of GTIN {} in this store; the figures cover the other lots",
            unknown.join(", "),
            q.gtin
        ))
    } else {
        None
    };
    Ok(RecallReport {
        query: q.clone(),
        found,
        note,
        unknown_lots: unknown,
        totals,
        received,
        in_stock,
        dispatched,
        returned,
        serials: Vec::new(),
        customers,
    })
}

/// The serial-state index of one GTIN as a range cursor.
struct States<'a> {
    store: &'a dyn Source,
    gtin: &'a str,
    iter: Option<SerialStates<'a>>,
}

impl Cursor for States<'_> {
    type Item = SerialState;

    fn seek(&mut self, from: &str) -> Result<()> {
        self.iter = Some(self.store.serial_states_from(self.gtin, from));
        Ok(())
    }

    fn next(&mut self) -> Result<Option<(String, SerialState)>> {
        match self.iter.as_mut().and_then(Iterator::next) {
            Some(item) => {
                let (_, serial, state) = item?;
                Ok(Some((serial, state)))
            }
            None => Ok(None),
        }
    }
}

fn by_serials(store: &dyn Source, q: &Query, range: &SerialRange) -> Result<RecallReport> {
    let mut cursor = States {
        store,
        gtin: &q.gtin,
        iter: None,
    };
    let mut found = Vec::new();
    let runs = range::scan(range, &mut cursor, |serial, state| {
        found.push((serial, state))
    })?;
    // Who got which unit, on which documents, and what came in: from each
    // serial's movements, counted as a batch recall counts them, so a
    // customer who got a unit and returned it is named too.
    let serials: Vec<String> = found.iter().map(|(s, _)| s.clone()).collect();
    let all = store.recall_serials(&q.gtin, &serials, &runs)?;
    found.sort_by(|a, b| range::serial_order(range, &a.0, &b.0));
    let Tally {
        mut totals,
        received,
        dispatched,
        returned,
        customers,
    } = tally(all);
    // In stock: from the units' states (where each one is now).
    totals.in_stock = Amount::default();
    let one = Amount::of(
        crate::model::Balance {
            mantissa: 1,
            scale: 0,
        },
        "",
    );
    let serials: Vec<SerialLine> = found
        .into_iter()
        .map(|(serial, state)| match state {
            SerialState::InStock {
                location,
                since,
                by,
            } => {
                totals.in_stock.add_amount(&one);
                SerialLine {
                    serial,
                    state: "in_stock",
                    location: Some(site_location(store, &by.origin, location)),
                    customer: None,
                    since,
                    by: movement_ref(&by),
                }
            }
            SerialState::Returned { location, at, by } => {
                totals.in_stock.add_amount(&one);
                SerialLine {
                    serial,
                    state: "returned",
                    location: Some(site_location(store, &by.origin, location)),
                    customer: None,
                    since: at,
                    by: movement_ref(&by),
                }
            }
            // Recorded in error and corrected away: listed, counted nowhere.
            SerialState::Voided { at, by } => SerialLine {
                serial,
                state: "voided",
                location: None,
                customer: None,
                since: at,
                by: movement_ref(&by),
            },
            SerialState::Dispatched { to, at, by } => SerialLine {
                serial,
                state: "dispatched",
                location: None,
                customer: Party::of(&to),
                since: at,
                by: movement_ref(&by),
            },
        })
        .collect();
    let customers = customers.finish();
    totals.customers = customers.len();
    let found = !serials.is_empty();
    Ok(RecallReport {
        query: q.clone(),
        found,
        note: (!found).then(|| {
            format!(
                "no serial of GTIN {} between {} and {} in this store: nothing here is affected",
                q.gtin,
                range.from(),
                range.to()
            )
        }),
        unknown_lots: Vec::new(),
        totals,
        received,
        in_stock: Vec::new(),
        dispatched,
        returned,
        serials,
        customers,
    })
}
