//! The export's common case written straight from the movement: one
//! movement, its own ObjectEvent, a UUID eventID, no pallet. Building an
//! `Event` for it first meant some thirty strings and lists allocated,
//! filled from strings the mapper already holds, and freed again, per
//! event, a million times; here the same bytes go into the document's
//! buffer from the mapper's remembered strings. Every other case (groups,
//! pallets, corrections, hash IDs, holds) builds the `Event`, and a test
//! holds the two ways to the same bytes.

use super::error::Result;
use super::event_id::event_id;
use super::json::{amount, string, typed};
use super::object_event::{amount_of, Mapper};
use super::settings::EventIds;
use super::time::event_time;
use super::vocabulary::step;
use crate::model::Movement;

impl Mapper<'_> {
    /// Whether `write_direct` writes the events of `group`.
    pub fn writes_direct(&self, group: &[Movement]) -> bool {
        self.settings.event_ids == EventIds::Uuid
            && group.len() == 1
            && group[0].body.documents.sscc.is_none()
    }

    /// Appends the ObjectEvent of `m` (see `writes_direct`) to `out`, as
    /// `json::write_event` of `object_event` would; false for a kind that
    /// is not exported.
    pub fn write_direct(&mut self, m: &Movement, out: &mut Vec<u8>) -> Result<bool> {
        let Some(step) = step(m.body.kind) else {
            return Ok(false);
        };
        let b = &m.body;
        out.extend_from_slice(b"{\"type\":\"ObjectEvent\",\"eventTime\":");
        string(out, &event_time(b.device_time));
        out.extend_from_slice(b",\"eventTimeZoneOffset\":");
        let offset = self.offset(b.device_time);
        string(out, &offset);
        out.extend_from_slice(b",\"eventID\":");
        string(out, &event_id(&m.origin, m.seq, ""));
        match &b.serial {
            Some(serial) => {
                out.extend_from_slice(b",\"epcList\":[");
                string(out, &self.item(&b.gtin, serial)?);
                out.push(b']');
            }
            None => {
                let class = self.class(&b.gtin, b.lot.as_deref())?;
                let (amount_, uom) = amount_of(&b.quantity);
                out.extend_from_slice(b",\"quantityList\":[{\"epcClass\":");
                string(out, &class);
                out.extend_from_slice(b",\"quantity\":");
                amount(out, amount_);
                if let Some(uom) = uom {
                    out.extend_from_slice(b",\"uom\":");
                    string(out, uom);
                }
                out.extend_from_slice(b"}]");
            }
        }
        out.extend_from_slice(b",\"action\":\"OBSERVE\",\"bizStep\":");
        string(out, step.biz_step);
        out.extend_from_slice(b",\"disposition\":");
        string(out, step.disposition);
        out.extend_from_slice(b",\"readPoint\":{\"id\":");
        let read_point = self.read_point(&b.station)?;
        string(out, &read_point);
        out.push(b'}');
        if step.at_site {
            out.extend_from_slice(b",\"bizLocation\":{\"id\":");
            string(out, self.site_place());
            out.push(b'}');
        }
        let transactions = self.transactions(m)?;
        if !transactions.is_empty() {
            out.extend_from_slice(b",\"bizTransactionList\":[");
            for (i, t) in transactions.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(b"{\"type\":");
                string(out, t.kind);
                out.extend_from_slice(b",\"bizTransaction\":");
                string(out, &t.biz_transaction);
                out.push(b'}');
            }
            out.push(b']');
        }
        let (from, to) = self.sides(step, &b.counterparty)?;
        for (key, name, side) in [
            (&b",\"sourceList\":["[..], &b"source"[..], from),
            (&b",\"destinationList\":["[..], &b"destination"[..], to),
        ] {
            let mut n = 0;
            for (kind, uri) in side.iter() {
                let Some(uri) = uri else { continue };
                out.extend_from_slice(if n == 0 { key } else { b"," });
                typed(out, kind, name, uri);
                n += 1;
            }
            if n > 0 {
                out.push(b']');
            }
        }
        out.push(b'}');
        Ok(true)
    }
}
