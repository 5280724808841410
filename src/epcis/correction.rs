//! Corrections: scantrail never edits the journal; a correction is a new
//! movement that reverses exactly one earlier movement. In EPCIS that is
//! an error declaration: the original event repeated, same eventID and
//! every field, with `errorDeclaration`. A scantrail correction reverses
//! the whole movement and records no replacement, so the reason is
//! `did_not_occur` and there is no corrective event to name; a movement
//! scanned again afterwards is a new event of its own.

use super::error::Result;
use super::event::{ErrorDeclaration, Event};
use super::time::event_time;
use crate::model::Movement;

impl super::object_event::Mapper<'_> {
    /// The events of `original` (its ObjectEvent, and its pallet's
    /// AggregationEvent if any) repeated with an error declaration at
    /// `correction`'s time. The event hash leaves `errorDeclaration` out,
    /// so with hash IDs the repeat keeps the original's ID too.
    pub fn declared_wrong(
        &mut self,
        correction: &Movement,
        original: &Movement,
    ) -> Result<Vec<Event>> {
        let group = std::slice::from_ref(original);
        let mut events: Vec<Event> = self.object_event(group)?.into_iter().collect();
        events.extend(self.aggregations(group)?);
        let declaration = ErrorDeclaration {
            declaration_time: event_time(correction.body.device_time),
            reason: "did_not_occur",
            corrective_event_ids: Vec::new(),
        };
        for e in &mut events {
            e.error_declaration = Some(declaration.clone());
        }
        Ok(events)
    }
}
