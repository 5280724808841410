//! Ordered scans of the derived trees for reports (`crate::report`): every
//! lot balance of the store, and serial states from a given serial on.
//! Read-only; they see every origin of the store, so head office's store of
//! all sites is read the same way.

use super::error::{Result, StoreError};
use super::keys::{prefix, Key, KeyReader};
use super::units::{self, Found, Unit};
use super::view::{LotBalance, View};
use super::{Store, Trees};
use crate::model::SerialState;
use std::sync::Arc;

/// Serial states in key order (GTIN, then serial in byte order).
pub struct SerialStates<'a> {
    store: &'a Store,
    /// The trees could not be had (the store is being reopened): the
    /// first item is that error.
    scan: Result<units::Scan, Option<StoreError>>,
    /// The opening `scan` reads, held so that the committer does not
    /// refresh it under a report (`reopen::refresh`).
    _opening: Option<Arc<Trees>>,
}

impl Iterator for SerialStates<'_> {
    /// (gtin, serial, state)
    type Item = Result<(String, String, SerialState)>;

    fn next(&mut self) -> Option<Self::Item> {
        let scan = match &mut self.scan {
            Ok(scan) => scan,
            Err(e) => return e.take().map(Err),
        };
        for found in scan {
            return Some(match found {
                // A unit none of whose movements set a state has none to
                // report.
                Ok(Found::Unit(_, _, Unit { state: None, .. })) => continue,
                Ok(Found::Unit(gtin, serial, unit)) => Ok((gtin, serial, unit.state?)),
                Ok(Found::Damaged(_, why)) => Err(self
                    .store
                    .damaged_key(&format!("a block of serial units: {why}"))),
                Err(e) => Err(StoreError::sled(&self.store.path, "read serial states", e)),
            });
        }
        None
    }
}

impl Store {
    pub(super) fn damaged_key(&self, detail: &str) -> StoreError {
        StoreError::Damaged {
            path: self.path.clone(),
            detail: detail.to_owned(),
        }
    }
}

impl<'a> View<'a> {
    /// Every lot balance, of all GTINs, one GTIN or one lot of a GTIN, in
    /// key order (GTIN, lot, origin, location, unit), as (gtin, balance).
    pub fn each_lot_balance(
        &self,
        gtin: Option<&str>,
        lot: Option<&str>,
        mut f: impl FnMut(String, LotBalance) -> Result<()>,
    ) -> Result<()> {
        let prefix = match (gtin, lot) {
            (Some(g), Some(l)) => Key::new(prefix::LOT_BALANCE).str(g).str(l).into_vec(),
            (Some(g), None) => Key::new(prefix::LOT_BALANCE).str(g).into_vec(),
            (None, _) => vec![prefix::LOT_BALANCE],
        };
        for item in self.store.trees()?.journal.scan_prefix(&prefix) {
            let (k, v) = item.map_err(self.store.sled_err("read lot balances"))?;
            let mut r = KeyReader::new(&k);
            let Some((gtin, lot, origin, location, unit)) =
                (|| Some((r.str()?, r.str()?, r.str()?, r.str()?, r.str()?)))()
            else {
                return Err(self.store.damaged_key("a lot balance key cannot be read"));
            };
            f(
                gtin,
                LotBalance {
                    lot,
                    origin,
                    location,
                    unit,
                    balance: self.store.value(&v)?,
                },
            )?;
        }
        Ok(())
    }

    /// Serial states of every GTIN (`None`) or of one GTIN.
    pub fn serial_states(&self, gtin: Option<&str>) -> SerialStates<'a> {
        let (scan, opening) = match self.store.trees() {
            Ok(t) => (Ok(units::Scan::all(&t.journal, gtin)), Some(t)),
            Err(e) => (Err(Some(e)), None),
        };
        SerialStates {
            store: self.store,
            scan,
            _opening: opening,
        }
    }

    /// Serial states of one GTIN whose serial is `from` or after it in byte
    /// order: the cursor a serial-range report seeks with.
    pub fn serial_states_from(&self, gtin: &str, from: &str) -> SerialStates<'a> {
        let opened = self.store.trees().and_then(|t| {
            let scan = units::Scan::from(&t.journal, gtin, from)
                .map_err(self.store.sled_err("read serial states"))?;
            Ok((scan, t))
        });
        let (scan, opening) = match opened {
            Ok((scan, t)) => (Ok(scan), Some(t)),
            Err(e) => (Err(Some(e)), None),
        };
        SerialStates {
            store: self.store,
            scan,
            _opening: opening,
        }
    }
}
