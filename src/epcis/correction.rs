//! Corrections: scantrail never edits the journal; a correction is a new
//! movement that reverses exactly one earlier movement. In EPCIS that is
//! an error declaration: the original event repeated, same eventID and
//! every field, with `errorDeclaration`.
//!
//! One event per movement: the correction voids the whole event, so the
//! reason is `did_not_occur` and there is no corrective event; a movement
//! scanned again afterwards is a new event of its own.
//!
//! One event per document (`group_by=document`): the corrected movement
//! is one of the event's several, so the event happened but its data was
//! wrong. The group's event (its eventID, not the movement's) is repeated
//! with `incorrect_data`, naming the corrective event: the same group
//! without the corrected movement. A pallet's AggregationEvent that held
//! the movement is declared and corrected the same way. When a later
//! correction voids another movement of the same group, the event it
//! declares wrong is the corrective event of the correction before; when
//! nothing is left, the reason is `did_not_occur`.

use super::error::Result;
use super::event::{ErrorDeclaration, Event};
use super::object_event::group_event_id;
use super::settings::EventIds;
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
        let declaration = did_not_occur(correction);
        for e in &mut events {
            e.error_declaration = Some(declaration.clone());
        }
        Ok(events)
    }

    /// The correction of one movement of a grouped event: `group` is the
    /// event's movements as the export wrote them, `earlier` the (member
    /// seq, correction seq) of members corrected before `correction`.
    /// The declared events first, then the corrective ones.
    pub fn declared_wrong_in_group(
        &mut self,
        correction: &Movement,
        group: &[Movement],
        earlier: &[(u64, u64)],
    ) -> Result<Vec<Event>> {
        let Some(target) = &correction.body.corrects else {
            return Ok(Vec::new());
        };
        let Some(original) = group
            .iter()
            .find(|m| m.origin == target.origin && m.seq == target.seq)
        else {
            return Ok(Vec::new());
        };
        if group.len() == 1 {
            return self.declared_wrong(correction, original);
        }
        let corrected_by = |m: &Movement| {
            earlier
                .iter()
                .find(|(seq, _)| *seq == m.seq)
                .map(|(_, c)| *c)
        };
        let latest = |members: &[Movement]| members.iter().filter_map(corrected_by).max();
        // What the event says now (before this correction), and after it.
        let now: Vec<Movement> = group
            .iter()
            .filter(|m| corrected_by(m).is_none())
            .cloned()
            .collect();
        let after: Vec<Movement> = now
            .iter()
            .filter(|m| m.seq != original.seq)
            .cloned()
            .collect();
        let here = format!("corrected:{}", correction.seq);
        let id_now = |part: &str, members: &[Movement]| match latest(members) {
            None => group_event_id(members, part),
            Some(c) if part.is_empty() => group_event_id(members, &format!("corrected:{c}")),
            Some(c) => group_event_id(members, &format!("{part}:corrected:{c}")),
        };
        let id_after = |part: &str, members: &[Movement]| {
            if part.is_empty() {
                group_event_id(members, &here)
            } else {
                group_event_id(members, &format!("{part}:{here}"))
            }
        };

        // (declared event, its corrective event) pairs: the ObjectEvent,
        // then the pallet that held the corrected movement.
        let mut pairs: Vec<(Event, Option<Event>)> = Vec::new();
        if let Some(mut declared) = self.object_event(&now)? {
            self.set_id(&mut declared, id_now("", group));
            let mut corrective = self.object_event(&after)?;
            if let Some(c) = &mut corrective {
                self.set_id(c, id_after("", group));
            }
            pairs.push((declared, corrective));
        }
        if let Some(sscc) = original.body.documents.sscc.as_deref() {
            let on = |members: &[Movement]| -> Vec<Movement> {
                members
                    .iter()
                    .filter(|m| m.body.documents.sscc.as_deref() == Some(sscc))
                    .cloned()
                    .collect()
            };
            let pallet = on(group);
            let part = format!("aggregation:{sscc}");
            if let Some(mut declared) = self.aggregation(sscc, &on(&now))? {
                self.set_id(&mut declared, id_now(&part, &pallet));
                let mut corrective = self.aggregation(sscc, &on(&after))?;
                if let Some(c) = &mut corrective {
                    self.set_id(c, id_after(&part, &pallet));
                }
                pairs.push((declared, corrective));
            }
        }

        let mut declared_events = Vec::with_capacity(pairs.len());
        let mut corrective_events = Vec::with_capacity(pairs.len());
        for (mut declared, corrective) in pairs {
            declared.error_declaration = Some(match &corrective {
                Some(c) => ErrorDeclaration {
                    declaration_time: event_time(correction.body.device_time),
                    reason: "incorrect_data",
                    corrective_event_ids: vec![c.event_id.clone()],
                },
                None => did_not_occur(correction),
            });
            declared_events.push(declared);
            corrective_events.extend(corrective);
        }
        declared_events.extend(corrective_events);
        Ok(declared_events)
    }

    /// Gives `event` the UUID `id`; with hash IDs it keeps its hash (its
    /// content names it).
    fn set_id(&self, event: &mut Event, id: String) {
        if self.settings.event_ids == EventIds::Uuid {
            event.event_id = id;
        }
    }
}

fn did_not_occur(correction: &Movement) -> ErrorDeclaration {
    ErrorDeclaration {
        declaration_time: event_time(correction.body.device_time),
        reason: "did_not_occur",
        corrective_event_ids: Vec::new(),
    }
}
