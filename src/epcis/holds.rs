//! Holds and recalls as EPCIS events. They are not movements (nothing
//! moves; the goods are kept), so they come from the site's reference
//! records, not the journal: placing one is an ObjectEvent `OBSERVE`
//! with bizStep `holding` and the disposition CBV gives the goods then,
//! `non_sellable_other` for the site's own quarantine and `recalled` for
//! a recall; releasing one is `inspecting` with `sellable_accessible`
//! (the goods were looked at and may go again). The goods are the held
//! lots as classes with no quantity (a hold covers a whole lot, however
//! much of it is where); a hold of a serial range names no list of
//! serials, so it is not exported.

use chrono::{DateTime, Utc};

use super::error::Result;
use super::event::{Event, EventType, Id, QuantityElement};
use super::event_id::named_event_id;
use super::object_event::Mapper;
use super::time::event_time;

/// A hold or recall as the export needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldRecord {
    /// Its id (`R-17`), unique among the site's holds.
    pub id: String,
    /// A recall rather than the site's own quarantine.
    pub recall: bool,
    /// The GTIN it covers.
    pub gtin: String,
    /// The lots it covers; empty for a serial range.
    pub lots: Vec<String>,
    /// When it was placed.
    pub placed: DateTime<Utc>,
    /// When it was released, if it was.
    pub released: Option<DateTime<Utc>>,
}

impl Mapper<'_> {
    /// The events of a hold of site `origin`, each with its time: its
    /// placing and, once released, its release. None for a hold of
    /// serials.
    pub fn hold_events(
        &mut self,
        origin: &str,
        hold: &HoldRecord,
    ) -> Result<Vec<(DateTime<Utc>, Event)>> {
        if hold.lots.is_empty() {
            return Ok(Vec::new());
        }
        let mut classes = Vec::with_capacity(hold.lots.len());
        for lot in &hold.lots {
            classes.push(QuantityElement {
                epc_class: self.class(&hold.gtin, Some(lot))?,
                quantity: None,
                uom: None,
            });
        }
        let placed_disposition = if hold.recall {
            "recalled"
        } else {
            "non_sellable_other"
        };
        let mut out = vec![(
            hold.placed,
            self.hold_event(
                origin,
                &format!("hold:{}", hold.id),
                hold.placed,
                "holding",
                placed_disposition,
                classes.clone(),
            ),
        )];
        if let Some(at) = hold.released {
            out.push((
                at,
                self.hold_event(
                    origin,
                    &format!("hold:{}:released", hold.id),
                    at,
                    "inspecting",
                    "sellable_accessible",
                    classes,
                ),
            ));
        }
        Ok(out)
    }

    fn hold_event(
        &mut self,
        origin: &str,
        name: &str,
        at: DateTime<Utc>,
        biz_step: &'static str,
        disposition: &'static str,
        quantity_list: Vec<QuantityElement>,
    ) -> Event {
        let site = self.site_place().to_owned();
        let mut event = Event {
            event_type: EventType::ObjectEvent,
            event_time: event_time(at),
            event_time_zone_offset: self.offset(at),
            event_id: named_event_id(origin, name),
            error_declaration: None,
            parent_id: None,
            epc_list: Vec::new(),
            child_epcs: Vec::new(),
            quantity_list,
            child_quantity_list: Vec::new(),
            action: "OBSERVE",
            biz_step,
            disposition,
            read_point: Id { id: site.clone() },
            biz_location: Some(Id { id: site }),
            biz_transaction_list: Vec::new(),
            source_list: Vec::new(),
            destination_list: Vec::new(),
        };
        self.finish(&mut event);
        event
    }
}
