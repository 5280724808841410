//! The station rules' view of the site: the store, plus the movements
//! decided but not yet durable, so that two scans of the same serial in
//! quick succession are decided one after the other, never both accepted.

use crate::model::Reference;
use crate::model::{
    balance, serial_state, Balance, Kind, Movement, NewMovement, Quantity, SerialState,
};
use crate::station::context::QUARANTINE;
use crate::station::reference::{Hold, PickList, Product};
use crate::station::{
    records, ExpectedDespatch, LotStock, Surroundings, View, ViewError, ViewResult,
};
use crate::store::derived;
use crate::store::view::Document;
use crate::store::Store;

/// Movements decided and sent to the committer, not yet acknowledged.
#[derive(Default)]
pub struct Pending {
    movements: Vec<(u64, NewMovement)>,
}

impl Pending {
    pub(super) fn add(&mut self, ticket: u64, movement: NewMovement) {
        self.movements.push((ticket, movement));
    }

    pub(super) fn remove(&mut self, ticket: u64) {
        self.movements.retain(|(t, _)| *t != ticket);
    }

    pub(super) fn is_empty(&self) -> bool {
        self.movements.is_empty()
    }

    fn iter(&self) -> impl Iterator<Item = &NewMovement> {
        self.movements.iter().map(|(_, m)| m)
    }
}

pub(super) struct StoreView<'a> {
    pub(super) store: &'a Store,
    pub(super) pending: &'a Pending,
}

fn err(e: impl std::fmt::Display) -> ViewError {
    ViewError::Store(e.to_string())
}

fn record<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> ViewResult<T> {
    records::decode(bytes).map_err(ViewError::Record)
}

fn units(q: &Quantity) -> i128 {
    match q {
        Quantity::Units(n) => i128::from(*n),
        Quantity::Measure { .. } => 0,
    }
}

/// A movement's effect on pickable units: + in, - out, signed for
/// corrections and adjustments.
fn unit_delta(m: &NewMovement) -> i128 {
    balance::signed(m.kind, units(&m.quantity))
}

impl StoreView<'_> {
    /// A movement still being committed, as the journal will hold it but
    /// for its seq (0) and hashes.
    fn pending_movement(&self, body: &NewMovement) -> Movement {
        Movement::uncommitted(self.store.site(), body.clone())
    }

    /// The movement `m` corrects, when it is a correction.
    fn corrected(&self, m: &Movement) -> ViewResult<Option<Movement>> {
        match (&m.body.kind, &m.body.corrects) {
            (Kind::Correction, Some(id)) => self
                .store
                .journal()
                .movement(&id.origin, id.seq)
                .map_err(err),
            _ => Ok(None),
        }
    }

    /// What a correction of `original` is checked against: its other
    /// corrections, its unit's history and its lot balance, each with the
    /// movements still being committed.
    pub fn around(&self, original: &Movement) -> ViewResult<Surroundings> {
        let b = &original.body;
        let target = original.id();
        let mut corrections = self
            .store
            .view()
            .corrections_of(&target.origin, target.seq)
            .map_err(err)?;
        let pending: Vec<Movement> = self
            .pending
            .iter()
            .filter(|m| m.gtin == b.gtin)
            .map(|m| self.pending_movement(m))
            .collect();
        corrections.extend(
            pending
                .iter()
                .filter(|m| m.body.corrects.as_ref() == Some(&target))
                .map(Movement::id),
        );
        let mut serial_history = Vec::new();
        if let Some(serial) = &b.serial {
            for id in self.store.view().by_serial(&b.gtin, serial).map_err(err)? {
                if let Some(m) = self
                    .store
                    .journal()
                    .movement(&id.origin, id.seq)
                    .map_err(err)?
                {
                    serial_history.push(m);
                }
            }
            serial_history.extend(
                pending
                    .iter()
                    .filter(|m| m.body.serial.as_deref() == Some(serial))
                    .cloned(),
            );
        }
        let (key, _, _) = derived::balance_delta(original);
        let mut balance = self
            .store
            .view()
            .lot_balance_at(&key)
            .map_err(err)?
            .unwrap_or(Balance::ZERO);
        for m in &pending {
            let (k, mantissa, scale) = derived::balance_delta(m);
            if k == key {
                balance = balance.add(mantissa, scale);
            }
        }
        Ok(Surroundings {
            corrections,
            serial_history,
            balance,
        })
    }
}

impl View for StoreView<'_> {
    fn expected_despatch(&self, despatch_advice: &str) -> ViewResult<Option<ExpectedDespatch>> {
        let found =
            super::capture::expected_for_station(self.store, despatch_advice).map_err(err)?;
        Ok(found.map(|r| ExpectedDespatch {
            document: r.document,
            from_party: r.from_party,
            serials: r.serials.into_iter().map(|s| (s.gtin, s.serial)).collect(),
            lots: r.lots.into_iter().map(|l| (l.gtin, l.lot)).collect(),
        }))
    }

    fn product(&self, gtin: &str) -> ViewResult<Option<Product>> {
        self.store
            .reference()
            .get(Reference::Products, gtin.as_bytes())
            .map_err(err)?
            .map(|bytes| record(&bytes))
            .transpose()
    }

    /// The stored state, carried through every movement still being
    /// committed by the same transition the committer applies: a pending
    /// void or dispatch counts before it is durable.
    fn serial_state(&self, gtin: &str, serial: &str) -> ViewResult<Option<SerialState>> {
        let mut state = self.store.view().serial_state(gtin, serial).map_err(err)?;
        for m in self.pending.iter() {
            if m.gtin != gtin || m.serial.as_deref() != Some(serial) {
                continue;
            }
            let m = self.pending_movement(m);
            let corrected = self.corrected(&m)?;
            if let Some(s) = serial_state::after(&m, corrected.as_ref()) {
                state = Some(s);
            }
        }
        Ok(state)
    }

    fn lots_on_hand(&self, gtin: &str) -> ViewResult<Vec<LotStock>> {
        let mut lots: Vec<LotStock> = Vec::new();
        let mut add = |lot: &str, location: &str, n: i128| {
            let index = match lots.iter().position(|l| l.lot == lot) {
                Some(i) => i,
                None => {
                    lots.push(LotStock {
                        lot: lot.to_owned(),
                        expiry: None,
                        units: 0,
                        locations: Vec::new(),
                    });
                    lots.len() - 1
                }
            };
            let l = &mut lots[index];
            l.units += n;
            match l.locations.iter_mut().find(|(at, _)| at == location) {
                Some((_, units)) => *units += n,
                None => l.locations.push((location.to_owned(), n)),
            }
        };
        for b in self.store.view().lot_balances(gtin).map_err(err)? {
            if b.unit.is_empty() && b.location != QUARANTINE && !b.lot.is_empty() {
                add(&b.lot, &b.location, b.balance.mantissa);
            }
        }
        for m in self.pending.iter().filter(|m| m.gtin == gtin) {
            if let (Some(lot), false) = (&m.lot, m.location == QUARANTINE) {
                add(lot, &m.location, unit_delta(m));
            }
        }
        for l in &mut lots {
            // The earliest of what is stored and what is being committed,
            // as the store's lot-expiry entry will be.
            let pending = self
                .pending
                .iter()
                .filter(|m| m.gtin == gtin && m.lot.as_deref() == Some(&l.lot))
                .filter_map(|m| m.expiry);
            let stored = self.store.view().lot_expiry(gtin, &l.lot).map_err(err)?;
            l.expiry = stored.into_iter().chain(pending).min();
        }
        Ok(lots)
    }

    fn active_holds(&self, gtin: &str) -> ViewResult<Vec<Hold>> {
        let mut out = Vec::new();
        for (_, bytes) in self.store.reference().list(Reference::Holds).map_err(err)? {
            let hold: Hold = record(&bytes)?;
            if hold.gtin == gtin && hold.is_active() {
                out.push(hold);
            }
        }
        Ok(out)
    }

    fn pick_list(&self, order: &str) -> ViewResult<Option<PickList>> {
        self.store
            .reference()
            .get(Reference::PickLists, order.as_bytes())
            .map_err(err)?
            .map(|bytes| record(&bytes))
            .transpose()
    }

    fn picked_units(&self, order: &str, gtin: &str) -> ViewResult<i128> {
        let mut picked = 0;
        for id in self
            .store
            .view()
            .by_document(Document::Order, order)
            .map_err(err)?
        {
            if let Some(m) = self
                .store
                .journal()
                .movement(&id.origin, id.seq)
                .map_err(err)?
            {
                if m.body.gtin == gtin {
                    picked -= unit_delta(&m.body);
                }
            }
        }
        for m in self.pending.iter() {
            if m.gtin == gtin && m.documents.order.as_deref() == Some(order) {
                picked -= unit_delta(m);
            }
        }
        Ok(picked)
    }
}
