//! An export: the journal of one site (or of each site in head office's
//! store or database) read a page at a time, in seq order, grouped,
//! mapped and written straight into the document. Memory is one page of
//! movements, the open groups and a bounded set of recent lots.

use std::io::Write;

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};

use super::error::{EpcisError, Result};
use super::grouping::{Grouper, Unit};
use super::journal::Journal;
use super::object_event::Mapper;
use super::recent::Recent;
use super::settings::{GroupBy, Settings};
use super::writer::DocumentWriter;
use crate::model::{Kind, Movement};

/// Movements read from the journal per page.
const PAGE: usize = 1024;

/// Movements read by the first page of a look for one correction's group
/// (`group_of`), doubling up to `PAGE`: the movement a correction voids is
/// most often a few dozen back, and reading a whole page back and another
/// forward for each correction read the journal some 35 times over in a
/// grouped export of a million movements (BENCHMARKS.md, "EPCIS export").
const FIRST_LOOK: usize = 64;

/// Movements a grouped export keeps of those it read last, for finding a
/// correction's group without reading them again (`Recent`): a few MB.
const RECENT: usize = 4 * PAGE;

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
pub fn export<W: Write, J: Journal + ?Sized>(
    store: &J,
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
        let scope = Scope::new(range, settings.time_zone);
        let mut recent = Recent::new(
            store,
            origin,
            match settings.group_by {
                GroupBy::Document => RECENT,
                GroupBy::Movement => 0,
            },
        );
        each_in_scope(store, origin, scope.since, &scope, PAGE, |m| {
            summary.movements += 1;
            recent.push(&m);
            for unit in grouper.push(m) {
                write_unit(&recent, &scope, &mut mapper, &mut writer, unit)?;
            }
            Ok(Flow::Next)
        })?;
        for unit in grouper.finish() {
            write_unit(&recent, &scope, &mut mapper, &mut writer, unit)?;
        }
        // Holds and recalls have no seq: a full or dated export has them,
        // one `since` a seq (the journal read on from where the last one
        // stopped) does not repeat them.
        if range.since.is_none() {
            let mut events = Vec::new();
            for hold in store.holds(origin)? {
                events.extend(mapper.hold_events(origin, &hold)?);
            }
            events.retain(|(t, _)| scope.covers_time(*t));
            // In time order; at the same instant, in the order of their ids.
            events.sort_by_key(|(t, _)| *t);
            for (_, e) in &events {
                writer.event(e)?;
            }
        }
    }
    summary.events = writer.events();
    Ok((writer.finish()?, summary))
}

/// Which movements of an origin's journal an export reads: from `since`
/// on, scanned within [start, end).
#[derive(Debug, Clone, Copy)]
pub struct Scope {
    since: u64,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
}

impl Scope {
    fn new(range: &Range, zone: chrono_tz::Tz) -> Scope {
        let (start, end) = window(range, zone);
        Scope {
            since: range.since.unwrap_or(1).max(1),
            start,
            end,
        }
    }

    fn covers(&self, m: &Movement) -> bool {
        self.covers_time(m.body.device_time)
    }

    fn covers_time(&self, t: DateTime<Utc>) -> bool {
        !(self.start.is_some_and(|s| t < s) || self.end.is_some_and(|e| t >= e))
    }
}

/// The grouped event `original` was written in, as the export grouped it:
/// the grouper replayed from the last point where it held nothing open
/// (just after the previous correction in scope, or where the export
/// starts) until it completes the group of `original`. Memory is the
/// grouper's, as in the export itself.
fn group_of<J: Journal + ?Sized>(
    store: &Recent<'_, J>,
    scope: &Scope,
    original: &Movement,
) -> Result<Vec<Movement>> {
    let origin = &original.origin;
    let start = if original.seq >= scope.since && store.walks(origin) {
        // The export walked past every movement in scope from
        // `scope.since` to here: it knows the corrections among them.
        store
            .correction_before(original.seq)
            .map_or(scope.since, |c| c + 1)
    } else {
        // Before the export's range (or in a journal it does not walk):
        // back through the journal, a page at a time, to the previous
        // correction.
        let floor = if original.seq >= scope.since {
            scope.since
        } else {
            1
        };
        let mut start = floor;
        let mut upto = original.seq;
        let mut look = FIRST_LOOK;
        'back: while upto > floor {
            let from = upto.saturating_sub(look as u64).max(floor);
            let page = store.range(origin, from, (upto - from) as usize)?;
            for m in page.iter().rev() {
                if m.seq < upto && m.body.kind == Kind::Correction && scope.covers(m) {
                    start = m.seq + 1;
                    break 'back;
                }
            }
            upto = from;
            look = (look * 2).min(PAGE);
        }
        start
    };
    let mut grouper = Grouper::new(GroupBy::Document);
    let pick = |units: Vec<Unit>| {
        units.into_iter().find_map(|unit| match unit {
            Unit::Group(g) if g.iter().any(|m| m.seq == original.seq) => Some(g),
            _ => None,
        })
    };
    let mut found = None;
    each_in_scope(store, origin, start, scope, FIRST_LOOK, |m| {
        found = pick(grouper.push(m));
        Ok(if found.is_some() {
            Flow::Stop
        } else {
            Flow::Next
        })
    })?;
    let found = found.or_else(|| pick(grouper.finish()));
    Ok(found.unwrap_or_else(|| vec![original.clone()]))
}

/// Whether a walk through the journal goes on.
enum Flow {
    Next,
    Stop,
}

/// Gives `f` each movement of `origin` in `scope` from seq `from` on, in
/// seq order, a page at a time (the first of `first_page` movements, then
/// doubling up to `PAGE`), until it says stop.
fn each_in_scope<J: Journal + ?Sized>(
    store: &J,
    origin: &str,
    from: u64,
    scope: &Scope,
    first_page: usize,
    mut f: impl FnMut(Movement) -> Result<Flow>,
) -> Result<()> {
    let mut next = from;
    let mut page_size = first_page;
    loop {
        let page = store.range(origin, next, page_size)?;
        page_size = (page_size * 2).min(PAGE);
        let Some(last) = page.last() else {
            return Ok(());
        };
        next = last.seq + 1;
        for m in page {
            if scope.covers(&m) {
                if let Flow::Stop = f(m)? {
                    return Ok(());
                }
            }
        }
    }
}

/// Writes the events of one unit, in the order they happened: a pallet
/// is broken down after it is received, built before it is shipped.
fn write_unit<W: Write, J: Journal + ?Sized>(
    store: &Recent<'_, J>,
    scope: &Scope,
    mapper: &mut Mapper<'_>,
    writer: &mut DocumentWriter<W>,
    unit: Unit,
) -> Result<()> {
    let events = match unit {
        Unit::Group(group) if mapper.writes_direct(&group) => {
            note_expiries(mapper, writer, &group)?;
            return writer.event_with(|buf| mapper.write_direct(&group[0], buf));
        }
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
            match store.movement(&id.origin, id.seq)? {
                Some(original) if mapper.settings().group_by == GroupBy::Document => {
                    let group = group_of(store, scope, &original)?;
                    let mut earlier = Vec::new();
                    for m in &group {
                        if m.seq == original.seq {
                            continue;
                        }
                        for by in store.corrections_of(&m.origin, m.seq)? {
                            if by.origin == c.origin && by.seq < c.seq {
                                earlier.push((m.seq, by.seq));
                            }
                        }
                    }
                    mapper.declared_wrong_in_group(&c, &group, &earlier)?
                }
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
