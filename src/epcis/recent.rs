//! What a grouped export has walked past, kept so that finding a
//! correction's group (`export::group_of`: the grouping replayed from just
//! after the previous correction) costs a few dozen movements, not a walk
//! back through the journal and a re-read of what was just read: the seq
//! of every correction in scope (8 bytes each), and the last movements
//! themselves. Looking back page by page and re-reading from the store for
//! every correction was most of a grouped export's time (BENCHMARKS.md,
//! "EPCIS export").

use std::collections::VecDeque;

use super::error::Result;
use super::holds::HoldRecord;
use super::journal::Journal;
use crate::model::{Kind, Movement, MovementId};

/// A journal that answers from the movements the export walked past last,
/// and from the store behind it for the rest.
pub struct Recent<'a, J: ?Sized> {
    store: &'a J,
    /// The origin whose journal the export walks.
    origin: &'a str,
    capacity: usize,
    /// In seq order, the last `capacity` movements in scope (one origin's:
    /// an export makes one `Recent` per origin).
    movements: VecDeque<Movement>,
    /// The seqs of every correction in scope walked past, in order.
    corrections: Vec<u64>,
}

impl<'a, J: Journal + ?Sized> Recent<'a, J> {
    /// Keeps up to `capacity` movements of the walk through `origin`'s
    /// journal (none: every read goes to `store`).
    pub fn new(store: &'a J, origin: &'a str, capacity: usize) -> Recent<'a, J> {
        Recent {
            store,
            origin,
            capacity,
            movements: VecDeque::with_capacity(capacity),
            corrections: Vec::new(),
        }
    }

    /// Notes the next movement in scope the export walks past (in seq
    /// order, every one from where the walk starts).
    pub fn push(&mut self, m: &Movement) {
        if self.capacity == 0 {
            return;
        }
        if m.body.kind == Kind::Correction {
            self.corrections.push(m.seq);
        }
        if self.movements.len() == self.capacity {
            self.movements.pop_front();
        }
        self.movements.push_back(m.clone());
    }

    /// Whether the export walks `origin`'s journal, and so knows its
    /// corrections (`correction_before`).
    pub fn walks(&self, origin: &str) -> bool {
        self.capacity > 0 && self.origin == origin
    }

    /// The last correction in scope before `seq`, of those walked past.
    pub fn correction_before(&self, seq: u64) -> Option<u64> {
        let i = self.corrections.partition_point(|&c| c < seq);
        i.checked_sub(1).map(|i| self.corrections[i])
    }

    /// Where the kept movements from seq `from` on start, when they cover
    /// it: nothing in scope at or after `from` is missing from them.
    fn start_of(&self, origin: &str, from: u64) -> Option<usize> {
        let first = self.movements.front()?;
        let last = self.movements.back()?;
        if self.origin != origin || from < first.seq || from > last.seq {
            return None;
        }
        Some(self.movements.partition_point(|m| m.seq < from))
    }
}

impl<J: Journal + ?Sized> Journal for Recent<'_, J> {
    fn range(&self, origin: &str, from: u64, limit: usize) -> Result<Vec<Movement>> {
        match self.start_of(origin, from) {
            Some(i) => Ok(self.movements.range(i..).take(limit).cloned().collect()),
            None => self.store.range(origin, from, limit),
        }
    }

    fn movement(&self, origin: &str, seq: u64) -> Result<Option<Movement>> {
        if let Some(i) = self.start_of(origin, seq) {
            if let Some(m) = self.movements.get(i).filter(|m| m.seq == seq) {
                return Ok(Some(m.clone()));
            }
        }
        self.store.movement(origin, seq)
    }

    fn corrections_of(&self, origin: &str, seq: u64) -> Result<Vec<MovementId>> {
        self.store.corrections_of(origin, seq)
    }

    fn holds(&self, origin: &str) -> Result<Vec<HoldRecord>> {
        self.store.holds(origin)
    }
}
