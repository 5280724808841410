//! SSCC pallets: when a receipt or dispatch was scanned with a pallet's
//! SSCC in the station's context, an AggregationEvent ties the pallet to
//! its items: `DELETE`/`unpacking` for goods arriving (the pallet is
//! broken down), `ADD`/`packing` for goods leaving (the pallet is built).

use super::error::Result;
use super::event::{Event, EventType, Id};
use super::object_event::{group_event_id, Mapper};
use super::time::event_time;
use super::vocabulary::step;
use crate::model::Movement;

impl Mapper<'_> {
    /// One AggregationEvent per pallet of `group` (movements in journal
    /// order), in the order the pallets first appear; none when no
    /// movement carried an SSCC.
    pub fn aggregations(&mut self, group: &[Movement]) -> Result<Vec<Event>> {
        let mut pallets: Vec<(&str, Vec<Movement>)> = Vec::new();
        for m in group {
            let Some(sscc) = m.body.documents.sscc.as_deref() else {
                continue;
            };
            match pallets.iter_mut().find(|(s, _)| *s == sscc) {
                Some((_, items)) => items.push(m.clone()),
                None => pallets.push((sscc, vec![m.clone()])),
            }
        }
        let mut out = Vec::with_capacity(pallets.len());
        for (sscc, items) in pallets {
            if let Some(e) = self.aggregation(sscc, &items)? {
                out.push(e);
            }
        }
        Ok(out)
    }

    pub(super) fn aggregation(&mut self, sscc: &str, items: &[Movement]) -> Result<Option<Event>> {
        let (Some(first), Some(last)) = (items.first(), items.last()) else {
            return Ok(None);
        };
        let Some(step) = step(first.body.kind) else {
            return Ok(None);
        };
        let (child_epcs, child_quantity_list) = self.objects(items)?;
        let (action, biz_step) = if step.inbound {
            ("DELETE", "unpacking")
        } else {
            ("ADD", "packing")
        };
        let b = &last.body;
        let mut event = Event {
            event_type: EventType::AggregationEvent,
            event_time: event_time(b.device_time),
            event_time_zone_offset: self.offset(b.device_time),
            event_id: group_event_id(items, &format!("aggregation:{sscc}")),
            error_declaration: None,
            parent_id: Some(self.ids.sscc(sscc)?),
            epc_list: Vec::new(),
            child_epcs,
            quantity_list: Vec::new(),
            child_quantity_list,
            action,
            biz_step,
            disposition: "in_progress",
            read_point: Id {
                id: self.read_point(&b.station)?,
            },
            biz_location: Some(Id {
                id: self.site_place().to_owned(),
            }),
            biz_transaction_list: Vec::new(),
            source_list: Vec::new(),
            destination_list: Vec::new(),
        };
        self.finish(&mut event);
        Ok(Some(event))
    }
}
