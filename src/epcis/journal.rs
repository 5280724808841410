//! Where an export reads movements from: a site's store, head office's
//! embedded store, or head office's PostgreSQL database (implemented in
//! `hq::postgres::epcis`, the only code that speaks to it). The export
//! needs three things of a journal: a page of an origin's movements in
//! seq order, one movement, and the corrections recorded against one;
//! and of a site's own store, its holds and recalls.

use super::error::{EpcisError, Result};
use super::holds::HoldRecord;
use crate::model::{Movement, MovementId, Reference};
use crate::station::reference::{Hold, HoldKind, HoldScope};
use crate::store::Store;

/// A journal an export reads, page by page.
pub trait Journal {
    /// Up to `limit` movements of `origin` with seq >= `from`, in seq order.
    fn range(&self, origin: &str, from: u64, limit: usize) -> Result<Vec<Movement>>;
    /// The movement (`origin`, `seq`), if recorded.
    fn movement(&self, origin: &str, seq: u64) -> Result<Option<Movement>>;
    /// The corrections recorded against (`origin`, `seq`).
    fn corrections_of(&self, origin: &str, seq: u64) -> Result<Vec<MovementId>>;
    /// The holds and recalls that site `origin` records, released ones
    /// too; none where they are not kept (head office).
    fn holds(&self, _origin: &str) -> Result<Vec<HoldRecord>> {
        Ok(Vec::new())
    }
}

impl Journal for Store {
    fn range(&self, origin: &str, from: u64, limit: usize) -> Result<Vec<Movement>> {
        Ok(self.journal().range(origin, from, limit)?)
    }

    fn movement(&self, origin: &str, seq: u64) -> Result<Option<Movement>> {
        Ok(self.journal().movement(origin, seq)?)
    }

    fn corrections_of(&self, origin: &str, seq: u64) -> Result<Vec<MovementId>> {
        Ok(self.view().corrections_of(origin, seq)?)
    }

    /// A site's store holds its own holds and those head office sent; a
    /// head office's store holds its sites' journals only.
    fn holds(&self, origin: &str) -> Result<Vec<HoldRecord>> {
        if origin != self.site() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for (_, bytes) in self.reference().list(Reference::Holds)? {
            let hold: Hold = crate::station::catalog::decode_record(Reference::Holds, &bytes)
                .map_err(|e| EpcisError::Journal(e.to_string()))?;
            out.push(HoldRecord {
                id: hold.id,
                recall: hold.kind == HoldKind::Recall,
                gtin: hold.gtin,
                lots: match hold.scope {
                    HoldScope::Lots(lots) => lots,
                    HoldScope::Serials(_) => Vec::new(),
                },
                placed: hold.created.at,
                released: hold.released.map(|r| r.at),
            });
        }
        Ok(out)
    }
}

/// A shared journal (head office's store behind an `Arc`) is read as
/// the journal itself.
impl<J: Journal + ?Sized> Journal for std::sync::Arc<J> {
    fn range(&self, origin: &str, from: u64, limit: usize) -> Result<Vec<Movement>> {
        (**self).range(origin, from, limit)
    }

    fn movement(&self, origin: &str, seq: u64) -> Result<Option<Movement>> {
        (**self).movement(origin, seq)
    }

    fn corrections_of(&self, origin: &str, seq: u64) -> Result<Vec<MovementId>> {
        (**self).corrections_of(origin, seq)
    }

    fn holds(&self, origin: &str) -> Result<Vec<HoldRecord>> {
        (**self).holds(origin)
    }
}
