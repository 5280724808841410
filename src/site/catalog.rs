//! The site's own reference records (its reference trees) as the
//! [`Records`] that `station::catalog`'s operations read and write: the
//! daemon's API and the command line (when no daemon holds the store) both
//! pass it, so the ownership rules live in one place: head-office records
//! change only by sync; a site releases its own holds, never a head-office
//! recall.

use crate::model::Reference;
use crate::station::catalog::{CatalogError, Records};
use crate::station::reference::Owner;
use crate::store::Store;

/// The site's reference trees, written as the site.
#[derive(Clone, Copy)]
pub struct SiteRecords<'a>(pub &'a Store);

impl Records for SiteRecords<'_> {
    fn owner(&self) -> Owner {
        Owner::Site(self.0.site().to_owned())
    }

    fn get(&self, r: Reference, key: &[u8]) -> Result<Option<Vec<u8>>, CatalogError> {
        Ok(self.0.reference().get(r, key)?)
    }

    fn all(&self, r: Reference) -> Result<Vec<Vec<u8>>, CatalogError> {
        Ok(self
            .0
            .reference()
            .list(r)?
            .into_iter()
            .map(|(_, v)| v)
            .collect())
    }

    fn put(&self, r: Reference, records: Vec<(Vec<u8>, Vec<u8>)>) -> Result<(), CatalogError> {
        let records = records.into_iter().map(|(k, v)| (k, Some(v))).collect();
        Ok(self.0.reference().put(r, records)?)
    }
}
