//! Look-ups the station rules and the daemon need beyond the journal's own
//! indexes: lot balances of a GTIN, a lot's expiry, movements of a
//! document, and site-local reference records.

use chrono::NaiveDate;

use super::error::Result;
use super::keys;
use super::units::{self, Found, Unit};
use super::{derived, Store};
use crate::model::{Balance, MovementId, SerialState};

/// One lot balance: a lot of a GTIN at a location of a site (origin), in
/// a unit ("" = units).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LotBalance {
    /// The batch/lot; "" when the movements carried none.
    pub lot: String,
    /// The site (origin) holding the stock.
    pub origin: String,
    /// The location at that site.
    pub location: String,
    /// The unit of a measured quantity (`kg`...); "" for a count of units.
    pub unit: String,
    /// How much: receipts and returns minus dispatches, corrections applied.
    pub balance: Balance,
}

/// Which document a movement belongs to, as the by-document index tags it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    /// A supplier's purchase order (receiving).
    PurchaseOrder,
    /// A customer order (dispatch).
    Order,
    /// A despatch advice, by its GSIN (AI 402).
    DespatchAdvice,
    /// A pallet or case, by its SSCC (AI 00).
    Sscc,
}

impl Document {
    fn tag(self) -> u8 {
        match self {
            Document::PurchaseOrder => b'P',
            Document::Order => b'O',
            Document::DespatchAdvice => b'D',
            Document::Sscc => b'S',
        }
    }
}

/// What the derived trees answer (`Store::view`): the indexes by lot,
/// serial and document, serial states, lot balances and expiries. The
/// station's rules and the reports read the store through it; it never
/// writes.
#[derive(Clone, Copy)]
pub struct View<'a> {
    pub(super) store: &'a Store,
}

impl<'a> View<'a> {
    fn ids_under(&self, prefix: Vec<u8>) -> Result<Vec<MovementId>> {
        let mut out = Vec::new();
        for item in self.store.trees()?.journal.scan_prefix(&prefix) {
            let (k, v) = item.map_err(self.store.sled_err("read an index"))?;
            out.extend(
                derived::index_targets(&k, &v).map(|(origin, seq)| MovementId { origin, seq }),
            );
        }
        Ok(out)
    }

    /// Every movement of a lot, by (origin, seq).
    pub fn by_lot(&self, gtin: &str, lot: &str) -> Result<Vec<MovementId>> {
        self.ids_under(keys::lot_range(gtin, lot))
    }

    /// The corrections recorded against a movement: at most one, unless
    /// the store holds history from before that rule (verify reports it).
    pub fn corrections_of(&self, origin: &str, seq: u64) -> Result<Vec<MovementId>> {
        self.ids_under(keys::corrected_by(origin, seq).into_vec())
    }

    /// Every movement of a serialised item, by (origin, seq).
    pub fn by_serial(&self, gtin: &str, serial: &str) -> Result<Vec<MovementId>> {
        Ok(self
            .unit(gtin, serial)?
            .map(|u| u.ids().collect())
            .unwrap_or_default())
    }

    /// What the store keeps of a serialised unit (`units`), if anything.
    fn unit(&self, gtin: &str, serial: &str) -> Result<Option<Unit>> {
        units::read(&self.store.trees()?.journal, gtin, serial)
            .map_err(self.store.sled_err("read a serial unit"))?
            .transpose()
            .map_err(self.store.value_err())
    }

    /// Every movement of the given serials of a GTIN, by (origin, seq): one
    /// scan of the unit blocks from the first of them to the last (in
    /// serial order), not one look-up per serial, which costs more than
    /// the scan for the thousands of serials a range recall names.
    pub fn by_serials(&self, gtin: &str, serials: &[String]) -> Result<Vec<MovementId>> {
        let (Some(first), Some(last)) = (serials.iter().min(), serials.iter().max()) else {
            return Ok(Vec::new());
        };
        let wanted: std::collections::HashSet<&str> = serials.iter().map(String::as_str).collect();
        let read = self.store.sled_err("read the serial units");
        let mut out = Vec::new();
        for found in units::Scan::from(&self.store.trees()?.journal, gtin, first).map_err(&read)? {
            match found.map_err(&read)? {
                Found::Unit(_, serial, _) if serial > *last => break,
                Found::Unit(_, serial, unit) if wanted.contains(serial.as_str()) => {
                    out.extend(unit.ids())
                }
                Found::Unit(..) => {}
                Found::Damaged(_, why) => {
                    return Err(self
                        .store
                        .damaged_key(&format!("a block of serial units: {why}")))
                }
            }
        }
        Ok(out)
    }

    /// Where a serialised unit (GTIN + serial) is now, as the serial-state tree
    /// holds it; `None` for a serial never recorded.
    pub fn serial_state(&self, gtin: &str, serial: &str) -> Result<Option<SerialState>> {
        Ok(self.unit(gtin, serial)?.and_then(|u| u.state))
    }

    /// Every lot balance of a GTIN, ordered by lot, origin, location and
    /// unit.
    pub fn lot_balances(&self, gtin: &str) -> Result<Vec<LotBalance>> {
        let mut out = Vec::new();
        self.each_lot_balance(Some(gtin), None, |_, b| {
            out.push(b);
            Ok(())
        })?;
        Ok(out)
    }

    /// One lot balance by its key (`derived::balance_delta`).
    pub fn lot_balance_at(&self, key: &[u8]) -> Result<Option<Balance>> {
        self.store
            .read(&self.store.trees()?.journal, key, "read a lot balance")
    }

    /// The earliest expiry any movement of the lot carried.
    pub fn lot_expiry(&self, gtin: &str, lot: &str) -> Result<Option<NaiveDate>> {
        let key = keys::lot_expiry(gtin, lot);
        self.store
            .read(&self.store.trees()?.journal, &key, "read a lot expiry")
    }

    /// Every movement recorded against a document, by (origin, seq).
    pub fn by_document(&self, document: Document, id: &str) -> Result<Vec<MovementId>> {
        self.ids_under(derived::document_key(document.tag(), id).into_vec())
    }
}
