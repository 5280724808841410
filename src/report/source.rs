//! What the reports read, as one small interface: the embedded store
//! (a site's, or head office's of every site) implements it over its
//! derived trees, head office's PostgreSQL over SQL (`hq::postgres::
//! reports`). The reports' own code (what to count, in which order, the
//! words of a note) is written once above it, so both answer with the
//! same JSON, byte for byte.

use chrono::NaiveDate;

use super::moved::Moved;
use super::{ReportError, Result};
use crate::model::Reference;
use crate::model::{Movement, SerialState};
use crate::store::view::LotBalance;
use crate::store::Store;

/// A run of `range::scan`: positions in the serials it found.
pub type Run = std::ops::Range<usize>;

/// Serial states in (GTIN, serial) byte order: (gtin, serial, state).
pub type SerialStates<'a> = Box<dyn Iterator<Item = Result<(String, String, SerialState)>> + 'a>;

/// The reads a report makes.
pub trait Source {
    /// The store's own origin: a location of another origin is shown as
    /// `origin/location` (`super::site_location`).
    fn site(&self) -> &str;
    /// Every movement of a lot of a GTIN, in any order.
    fn movements_of_lot(&self, gtin: &str, lot: &str) -> Result<Vec<Movement>>;
    /// Every movement of a serial of a GTIN, in any order.
    fn movements_of_serial(&self, gtin: &str, serial: &str) -> Result<Vec<Movement>>;
    /// Every movement of some serials of a GTIN, in any order (a range
    /// recall's thousands; a store reads them in one pass where it can).
    fn movements_of_serials(&self, gtin: &str, serials: &[String]) -> Result<Vec<Movement>> {
        let mut out = Vec::new();
        for serial in serials {
            out.extend(self.movements_of_serial(gtin, serial)?);
        }
        Ok(out)
    }
    /// Every movement of a lot of a GTIN as a recall lists it, in any
    /// order.
    fn recall_lot(&self, gtin: &str, lot: &str) -> Result<Vec<Moved>> {
        let movements = self.movements_of_lot(gtin, lot)?;
        Ok(movements.into_iter().map(Moved::from).collect())
    }
    /// Every movement of a range's serials of a GTIN as a recall lists
    /// it, in any order: `serials` in the order `range::scan` found them,
    /// `runs` its runs (`serials[run]` stand side by side in the serial
    /// index), for a store that reads by key range.
    fn recall_serials(&self, gtin: &str, serials: &[String], runs: &[Run]) -> Result<Vec<Moved>> {
        let _ = runs;
        let movements = self.movements_of_serials(gtin, serials)?;
        Ok(movements.into_iter().map(Moved::from).collect())
    }
    /// One movement.
    fn movement(&self, origin: &str, seq: u64) -> Result<Option<Movement>>;
    /// Lot balances of every GTIN, one GTIN or one lot of a GTIN, in
    /// (GTIN, lot, origin, location, unit) byte order, as (gtin, balance).
    fn balances(&self, gtin: Option<&str>, lot: Option<&str>) -> Result<Vec<(String, LotBalance)>>;
    /// The earliest expiry any movement of the lot carried.
    fn lot_expiry(&self, gtin: &str, lot: &str) -> Result<Option<NaiveDate>>;
    /// Serial states of every GTIN or of one.
    fn serial_states(&self, gtin: Option<&str>) -> SerialStates<'_>;
    /// Serial states of a GTIN from serial `from` on (byte order).
    fn serial_states_from(&self, gtin: &str, from: &str) -> SerialStates<'_>;
    /// Where a serialised item is now.
    fn serial_state(&self, gtin: &str, serial: &str) -> Result<Option<SerialState>>;
    /// The product master's record of a GTIN (`station::records` bytes).
    fn product(&self, gtin: &str) -> Result<Option<Vec<u8>>>;
}

fn load(store: &Store, ids: Vec<crate::model::MovementId>) -> Result<Vec<Movement>> {
    Ok(store.journal().movements(&ids)?)
}

impl Source for Store {
    fn site(&self) -> &str {
        Store::site(self)
    }

    fn movements_of_lot(&self, gtin: &str, lot: &str) -> Result<Vec<Movement>> {
        load(self, self.view().by_lot(gtin, lot)?)
    }

    fn movements_of_serial(&self, gtin: &str, serial: &str) -> Result<Vec<Movement>> {
        load(self, self.view().by_serial(gtin, serial)?)
    }

    fn movements_of_serials(&self, gtin: &str, serials: &[String]) -> Result<Vec<Movement>> {
        let mut ids = self.view().by_serials(gtin, serials)?;
        // In journal order: neighbouring entries share sled's pages.
        ids.sort_by(|a, b| (&a.origin, a.seq).cmp(&(&b.origin, b.seq)));
        load(self, ids)
    }

    fn movement(&self, origin: &str, seq: u64) -> Result<Option<Movement>> {
        Ok(self.journal().movement(origin, seq)?)
    }

    fn balances(&self, gtin: Option<&str>, lot: Option<&str>) -> Result<Vec<(String, LotBalance)>> {
        let mut out = Vec::new();
        self.view().each_lot_balance(gtin, lot, |gtin, b| {
            out.push((gtin, b));
            Ok(())
        })?;
        Ok(out)
    }

    fn lot_expiry(&self, gtin: &str, lot: &str) -> Result<Option<NaiveDate>> {
        Ok(self.view().lot_expiry(gtin, lot)?)
    }

    fn serial_states(&self, gtin: Option<&str>) -> SerialStates<'_> {
        Box::new(
            self.view()
                .serial_states(gtin)
                .map(|r| r.map_err(ReportError::from)),
        )
    }

    fn serial_states_from(&self, gtin: &str, from: &str) -> SerialStates<'_> {
        Box::new(
            self.view()
                .serial_states_from(gtin, from)
                .map(|r| r.map_err(ReportError::from)),
        )
    }

    fn serial_state(&self, gtin: &str, serial: &str) -> Result<Option<SerialState>> {
        Ok(self.view().serial_state(gtin, serial)?)
    }

    /// A site's product master, as its rules read it.
    fn product(&self, gtin: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.reference().get(Reference::Products, gtin.as_bytes())?)
    }
}
