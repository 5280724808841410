//! What the station rules may know about the site, read-only. The daemon
//! answers from the store (plus the scans still being committed); the unit
//! tests answer from plain data in memory.

use chrono::NaiveDate;

use super::records::RecordError;
use super::reference::{Hold, PickList, Product};
use crate::model::SerialState;

/// A failure to read the site's state: the scan is refused rather than
/// decided on a guess. The words go into the refusal's reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ViewError {
    /// The store could not be read.
    #[error("{0}")]
    Store(String),
    /// A stored reference record cannot be decoded.
    #[error(transparent)]
    Record(#[from] RecordError),
}

/// What a `View` answers.
pub type ViewResult<T> = Result<T, ViewError>;

/// A lot with stock on hand that can be picked (quarantine excluded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LotStock {
    /// The batch/lot; "" for stock scanned without a lot.
    pub lot: String,
    /// The lot's earliest expiry any of its movements carried, if any did.
    pub expiry: Option<NaiveDate>,
    /// Units on hand across the site's pickable locations.
    pub units: i128,
    /// The same units per location, so a pick can be booked out of the
    /// place the goods are.
    pub locations: Vec<(String, i128)>,
}

impl LotStock {
    /// Where most of this lot is.
    pub fn main_location(&self) -> Option<&str> {
        self.locations
            .iter()
            .filter(|(_, n)| *n > 0)
            .max_by_key(|(_, n)| *n)
            .map(|(l, _)| l.as_str())
    }
}

/// What the station rules may read about the site: products, serial states,
/// stock by lot, holds and pick lists. The daemon's view reads the store plus
/// the movements still being committed; tests use plain data.
pub trait View {
    /// The product master's record of this GTIN, if it knows it.
    fn product(&self, gtin: &str) -> ViewResult<Option<Product>>;
    /// The serial's current state, from its last movement.
    fn serial_state(&self, gtin: &str, serial: &str) -> ViewResult<Option<SerialState>>;
    /// Lots of this GTIN with pickable stock.
    fn lots_on_hand(&self, gtin: &str) -> ViewResult<Vec<LotStock>>;
    /// Holds and recalls of this GTIN that are not released.
    fn active_holds(&self, gtin: &str) -> ViewResult<Vec<Hold>>;
    /// The pick list of this order, if it was imported or published.
    fn pick_list(&self, order: &str) -> ViewResult<Option<PickList>>;
    /// Units of this GTIN already dispatched against the order.
    fn picked_units(&self, order: &str, gtin: &str) -> ViewResult<i128>;
    /// What the supplier said it shipped under this despatch advice (an
    /// EPCIS capture's expected receipt), if it sent it; a view without
    /// captures expects nothing.
    fn expected_despatch(&self, _despatch_advice: &str) -> ViewResult<Option<ExpectedDespatch>> {
        Ok(None)
    }
}

/// A supplier's despatch advice as captured over EPCIS: the serialised
/// items and lots it lists, so a receiving station can tell one that is
/// not on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedDespatch {
    /// The despatch advice's short form for people (`DA-77`).
    pub document: String,
    /// The sending party's PGLN.
    pub from_party: String,
    /// The serialised items listed, as (GTIN, serial).
    pub serials: Vec<(String, String)>,
    /// The lots listed (quantityList), as (GTIN, lot).
    pub lots: Vec<(String, String)>,
}
