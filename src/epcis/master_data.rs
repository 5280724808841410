//! Expiry dates as EPCClass master data. `ilmd` (where a lot's expiry
//! usually goes) is only allowed on an `ADD` event, the manufacturer's;
//! scantrail observes goods, so each lot's expiry goes in the document's
//! header instead: `epcisHeader.epcisMasterData.vocabularyList` with one
//! EPCClass element per lot and its `itemExpirationDate`. Collected while
//! the events are written, one entry per lot (not per movement), so it
//! stays small however long the export.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde_json::{json, Value};

/// The lots seen so far and their earliest expiry.
#[derive(Debug, Default)]
pub struct Expiries {
    by_class: BTreeMap<String, NaiveDate>,
}

impl Expiries {
    /// Notes `class` (a lot's LGTIN URI) expiring on `date`; of two dates
    /// for one lot the earlier is kept (as the expiry report does).
    pub fn note(&mut self, class: String, date: NaiveDate) {
        self.by_class
            .entry(class)
            .and_modify(|d| *d = (*d).min(date))
            .or_insert(date);
    }

    /// Whether no lot had an expiry.
    pub fn is_empty(&self) -> bool {
        self.by_class.is_empty()
    }

    /// The `epcisHeader` object.
    pub fn header(&self) -> Value {
        let elements: Vec<Value> = self
            .by_class
            .iter()
            .map(|(class, date)| {
                json!({
                    "id": class,
                    "attributes": [{
                        "id": "urn:epcglobal:cbv:mda#itemExpirationDate",
                        "attribute": date.format("%Y-%m-%d").to_string(),
                    }],
                })
            })
            .collect();
        json!({
            "epcisMasterData": {
                "vocabularyList": [{
                    "type": "urn:epcglobal:epcis:vtype:EPCClass",
                    "vocabularyElementList": elements,
                }]
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_entry_per_lot_with_its_earliest_expiry() {
        let mut e = Expiries::default();
        assert!(e.is_empty());
        let d = |m| NaiveDate::from_ymd_opt(2027, m, 1).unwrap();
        e.note("https://id.gs1.org/01/09506000134352/10/L1".into(), d(3));
        e.note("https://id.gs1.org/01/09506000134352/10/L1".into(), d(2));
        e.note("https://id.gs1.org/01/09506000134352/10/L2".into(), d(5));
        let h = e.header();
        let list = &h["epcisMasterData"]["vocabularyList"][0]["vocabularyElementList"];
        assert_eq!(list.as_array().unwrap().len(), 2);
        assert_eq!(list[0]["attributes"][0]["attribute"], "2027-02-01");
    }
}
