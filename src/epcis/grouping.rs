//! Which movements make one event. By movement: each its own (lossless;
//! a correction names exactly one event). By document: the movements a
//! station records for one despatch, receipt or order, which partners
//! (US DSCSA) expect as one event per shipment. A station works one
//! context at a time, so its group is complete when the station records
//! a movement of another document (or the export ends); memory stays at
//! one open group per station, each at most `MAX_GROUP` movements.

use super::settings::GroupBy;
use crate::model::{Counterparty, Documents, Kind, Movement};

/// The most movements one grouped event carries; a larger document is
/// split into several events.
pub const MAX_GROUP: usize = 10_000;

/// What the export writes next.
#[derive(Debug, PartialEq)]
pub enum Unit {
    /// Movements of one kind, station, counterparty and documents, in
    /// journal order: one ObjectEvent (and their pallets' aggregations).
    Group(Vec<Movement>),
    /// A correction: the event of the movement it corrects, declared
    /// wrong.
    Correction(Box<Movement>),
}

/// What movements of one event share.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    origin: String,
    kind: Kind,
    station: String,
    counterparty: Counterparty,
    documents: Documents,
}

impl Key {
    fn of(m: &Movement) -> Key {
        Key {
            origin: m.origin.clone(),
            kind: m.body.kind,
            station: m.body.station.clone(),
            counterparty: m.body.counterparty.clone(),
            // Pallets of one despatch are one shipment.
            documents: Documents {
                sscc: None,
                ..m.body.documents.clone()
            },
        }
    }

    fn names_a_document(&self) -> bool {
        let d = &self.documents;
        d.purchase_order.is_some() || d.order.is_some() || d.despatch_advice.is_some()
    }
}

/// Turns movements in journal order into units, as they come.
#[derive(Debug)]
pub struct Grouper {
    by: GroupBy,
    /// The open group of each station, in the order they were opened.
    open: Vec<(Key, Vec<Movement>)>,
}

impl Grouper {
    /// A grouper for `by`.
    pub fn new(by: GroupBy) -> Grouper {
        Grouper {
            by,
            open: Vec::new(),
        }
    }

    /// Takes the next movement; returns the units it completes, in the
    /// order to write them.
    pub fn push(&mut self, m: Movement) -> Vec<Unit> {
        if m.body.kind == Kind::Correction {
            // The groups open now are written first, so a declaration
            // follows the event it declares wrong.
            let mut out = self.finish();
            out.push(Unit::Correction(Box::new(m)));
            return out;
        }
        let key = Key::of(&m);
        if self.by == GroupBy::Movement || !key.names_a_document() {
            return vec![Unit::Group(vec![m])];
        }
        let mut out = Vec::new();
        let same_station =
            |(k, _): &(Key, Vec<Movement>)| k.origin == key.origin && k.station == key.station;
        if let Some(i) = self.open.iter().position(same_station) {
            if self.open[i].0 == key && self.open[i].1.len() < MAX_GROUP {
                self.open[i].1.push(m);
                return out;
            }
            out.push(Unit::Group(self.open.remove(i).1));
        }
        self.open.push((key, vec![m]));
        out
    }

    /// The groups still open, when the movements end.
    pub fn finish(&mut self) -> Vec<Unit> {
        self.open
            .drain(..)
            .map(|(_, group)| Unit::Group(group))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::movement::tests_support::{committed, sample};

    fn at(seq: u64, station: &str, po: &str) -> Movement {
        let mut b = sample(seq);
        b.station = station.into();
        b.documents.purchase_order = Some(po.into());
        committed(seq, b)
    }

    fn seqs(units: &[Unit]) -> Vec<Vec<u64>> {
        units
            .iter()
            .map(|u| match u {
                Unit::Group(g) => g.iter().map(|m| m.seq).collect(),
                Unit::Correction(m) => vec![1000 + m.seq],
            })
            .collect()
    }

    #[test]
    fn by_movement_each_is_its_own() {
        let mut g = Grouper::new(GroupBy::Movement);
        assert_eq!(seqs(&g.push(at(1, "d1", "PO-1"))), vec![vec![1]]);
        assert_eq!(seqs(&g.push(at(2, "d1", "PO-1"))), vec![vec![2]]);
        assert!(g.finish().is_empty());
    }

    #[test]
    fn by_document_a_station_s_group_closes_when_its_document_changes() {
        let mut g = Grouper::new(GroupBy::Document);
        let mut out = Vec::new();
        out.extend(g.push(at(1, "d1", "PO-1")));
        out.extend(g.push(at(2, "d2", "PO-9")));
        out.extend(g.push(at(3, "d1", "PO-1")));
        assert!(out.is_empty(), "nothing complete yet");
        out.extend(g.push(at(4, "d1", "PO-2")));
        assert_eq!(seqs(&out), vec![vec![1, 3]]);
        let mut c = sample(5);
        c.kind = Kind::Correction;
        let rest = g.push(committed(5, c));
        assert_eq!(seqs(&rest), vec![vec![2], vec![4], vec![1005]]);
    }
}
