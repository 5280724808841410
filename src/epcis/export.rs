//! An export: the journal of one site (or of each site in head office's
//! store) read a page at a time, in seq order, grouped, mapped and written
//! straight into the document. The one file of `epcis` that reads a
//! store; memory is one page of movements, the open groups and a bounded
//! set of recent lots.

use std::io::Write;

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};

use super::error::{EpcisError, Result};
use super::grouping::{Grouper, Unit};
use super::object_event::Mapper;
use super::settings::Settings;
use super::writer::DocumentWriter;
use crate::model::Movement;
use crate::store::Store;

/// Movements read from the journal per page.
const PAGE: usize = 1024;

/// Which movements to export.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Range {
    /// From this seq on (each origin's own seq), else from the first.
    pub since: Option<u64>,
    /// Scanned on or after this day (the site's time zone).
    pub from: Option<NaiveDate>,
    /// Scanned on or before this day (the site's time zone).
    pub to: Option<NaiveDate>,
}

/// What an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    /// Movements read in the range.
    pub movements: u64,
    /// Events written.
    pub events: u64,
}

/// The instants [start, end) of `range`'s days in `zone`.
fn window(range: &Range, zone: chrono_tz::Tz) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let midnight = |d: NaiveDate| {
        zone.from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight exists"))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    };
    (
        range.from.and_then(midnight),
        range
            .to
            .and_then(|d| d.checked_add_days(Days::new(1)))
            .and_then(midnight),
    )
}

/// Writes the EPCIS document of `range` to `out`: the movements of each
/// `(origin, settings)` in turn, created at `now`.
pub fn export<W: Write>(
    store: &Store,
    sites: &[(String, Settings)],
    range: &Range,
    out: W,
    now: DateTime<Utc>,
) -> Result<(W, Summary)> {
    let mut writer = DocumentWriter::new(out, now)?;
    let mut summary = Summary::default();
    for (origin, settings) in sites {
        let mut mapper = Mapper::new(settings)?;
        let mut grouper = Grouper::new(settings.group_by);
        let (start, end) = window(range, settings.time_zone);
        let mut next = range.since.unwrap_or(1).max(1);
        loop {
            let page = store.journal().range(origin, next, PAGE)?;
            let Some(last) = page.last() else { break };
            next = last.seq + 1;
            for m in page {
                let t = m.body.device_time;
                if start.is_some_and(|s| t < s) || end.is_some_and(|e| t >= e) {
                    continue;
                }
                summary.movements += 1;
                for unit in grouper.push(m) {
                    write_unit(store, &mut mapper, &mut writer, unit)?;
                }
            }
        }
        for unit in grouper.finish() {
            write_unit(store, &mut mapper, &mut writer, unit)?;
        }
    }
    summary.events = writer.events();
    Ok((writer.finish()?, summary))
}

/// Writes the events of one unit, in the order they happened: a pallet
/// is broken down after it is received, built before it is shipped.
pub fn write_unit<W: Write>(
    store: &Store,
    mapper: &mut Mapper<'_>,
    writer: &mut DocumentWriter<W>,
    unit: Unit,
) -> Result<()> {
    let events = match unit {
        Unit::Group(group) => {
            note_expiries(mapper, writer, &group)?;
            let object = mapper.object_event(&group)?;
            let pallets = mapper.aggregations(&group)?;
            let inbound = group[0].body.kind.direction() > 0;
            let mut events = Vec::with_capacity(1 + pallets.len());
            if inbound {
                events.extend(object);
                events.extend(pallets);
            } else {
                events.extend(pallets);
                events.extend(object);
            }
            events
        }
        Unit::Correction(c) => {
            let Some(id) = &c.body.corrects else {
                return Ok(());
            };
            match store.journal().movement(&id.origin, id.seq)? {
                Some(original) => mapper.declared_wrong(&c, &original)?,
                None => {
                    return Err(EpcisError::Identifier {
                        what: format!("correction {}:{}", c.origin, c.seq),
                        reason: format!(
                            "the movement it corrects, {}:{}, is not in this store",
                            id.origin, id.seq
                        ),
                    })
                }
            }
        }
    };
    for e in &events {
        writer.event(e)?;
    }
    Ok(())
}

fn note_expiries<W: Write>(
    mapper: &mut Mapper<'_>,
    writer: &mut DocumentWriter<W>,
    group: &[Movement],
) -> Result<()> {
    for m in group {
        if let (Some(lot), Some(expiry)) = (&m.body.lot, m.body.expiry) {
            if super::vocabulary::step(m.body.kind).is_some() {
                writer.expiry(&mapper.class(&m.body.gtin, Some(lot))?, expiry)?;
            }
        }
    }
    Ok(())
}
