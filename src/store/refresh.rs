//! When the committer closes and reopens sled (the reopening itself:
//! `reopen::refresh`).
//!
//! sled 0.34 writes its snapshot only when it opens a store, so an opening
//! replays the whole log written since the last one, in memory that grows
//! with that log: after 10 million movements in one run, the first start
//! after a crash took 13.5 GB (BENCHMARKS.md, "Scan receipts in a ring").
//! Reopening after `Refresh::after_movements` bounds that replay. It gives
//! back little of the daemon's memory, which is set by what a fresh
//! opening of the store takes (BENCHMARKS.md, "Reopening the store at a
//! quiet moment"). It pauses commits while it runs, so it waits for a
//! quiet moment: `QUIET` without a commit. A site that never pauses (a
//! saturating load test) gets it anyway, between two batches, once it has
//! been due for `PATIENCE` or has recorded a quarter of its movements
//! again meanwhile, whichever comes first: the pause grows with what the
//! opening replays (3.6–4.1 s after a million; BENCHMARKS.md, "The soak to
//! 10 million with reopening", where a minute of patience let a 500,000
//! due run on to a million).

use std::time::{Duration, Instant};

/// How long the committer waits without a request before it reopens a
/// store that is due.
pub const QUIET: Duration = Duration::from_secs(1);

/// How long a due reopening waits for a quiet moment before it runs
/// between two batches anyway (`Refresh::patience`).
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A due reopening waits for a quiet moment until `after_movements` /
/// `SLACK` more were recorded, at most.
const SLACK: u64 = 4;

/// How long a reopening put off by a reader waits before it tries again.
const RETRY: Duration = Duration::from_millis(50);

/// After this many tries put off by readers, one holds new readers off
/// for up to `HOLD` while those reading finish.
const HOLD_AFTER: u32 = 20;
const HOLD: Duration = Duration::from_millis(100);

/// How long the tries stop after the one that held readers off failed too
/// (a long report, a verify).
const BACK_OFF: Duration = Duration::from_secs(5);

/// When a store is due for a fresh opening.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refresh {
    /// Movements committed since the store was opened: what the next
    /// opening replays, and the memory it takes, grow with them (the site
    /// daemon's `[store] reopen_every`, 500,000 by default; BENCHMARKS.md,
    /// "Reopening the store at a quiet moment").
    pub after_movements: u64,
    /// How long a due reopening waits for a quiet moment.
    pub patience: Duration,
}

impl Refresh {
    /// Due after `after_movements`, with the default patience.
    pub fn after(after_movements: u64) -> Refresh {
        Refresh {
            after_movements,
            patience: PATIENCE,
        }
    }
}

/// The committer's count of what it wrote since the last opening.
#[derive(Debug)]
pub(super) struct Schedule {
    refresh: Refresh,
    since_open: u64,
    /// When it became due, once it is.
    due_since: Option<Instant>,
    /// Tries put off by readers since the last one that held them off.
    put_offs: u32,
    /// Put off by a reader until then.
    not_before: Option<Instant>,
    /// The last try was put off with nothing committed since: the quiet
    /// moment goes on.
    still_quiet: bool,
}

impl Schedule {
    pub(super) fn new(refresh: Refresh) -> Schedule {
        Schedule {
            refresh,
            since_open: 0,
            due_since: None,
            put_offs: 0,
            not_before: None,
            still_quiet: false,
        }
    }

    /// Told after each durable batch.
    pub(super) fn committed(&mut self, movements: u64) {
        self.since_open += movements;
        self.still_quiet = false;
        if self.due_since.is_none() && self.since_open >= self.refresh.after_movements {
            self.due_since = Some(Instant::now());
        }
    }

    /// How long to wait for the next request before reopening: `None`
    /// while not due.
    pub(super) fn quiet(&self) -> Option<Duration> {
        let put_off = self.not_before.map_or(Duration::ZERO, |at| {
            at.saturating_duration_since(Instant::now())
        });
        let quiet = if self.still_quiet { RETRY } else { QUIET };
        self.due_since.map(|_| quiet.max(put_off))
    }

    /// Due for longer than its patience, or for a quarter of its
    /// movements more: reopen now, between two batches.
    pub(super) fn overdue(&self) -> bool {
        let after = self.refresh.after_movements;
        let waited = self.due_since.is_some_and(|at| {
            at.elapsed() >= self.refresh.patience
                || self.since_open >= after.saturating_add(after / SLACK)
        });
        waited && self.not_before.is_none_or(|at| at <= Instant::now())
    }

    /// How long the next try holds new readers off for.
    pub(super) fn hold(&self) -> Duration {
        if self.put_offs >= HOLD_AFTER {
            HOLD
        } else {
            Duration::ZERO
        }
    }

    /// Told when a reader put the reopening off.
    pub(super) fn put_off(&mut self) {
        let wait = if self.put_offs >= HOLD_AFTER {
            self.put_offs = 0;
            self.still_quiet = false;
            BACK_OFF
        } else {
            self.put_offs += 1;
            self.still_quiet = true;
            RETRY
        };
        self.not_before = Some(Instant::now() + wait);
    }

    /// Movements committed since the last opening.
    pub(super) fn since_open(&self) -> u64 {
        self.since_open
    }

    /// Told after a fresh opening (or any reopening).
    pub(super) fn opened(&mut self) {
        self.since_open = 0;
        self.due_since = None;
        self.put_offs = 0;
        self.not_before = None;
        self.still_quiet = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(after_movements: u64) -> Schedule {
        Schedule::new(Refresh {
            after_movements,
            patience: Duration::ZERO,
        })
    }

    #[test]
    fn due_after_its_movements_then_waits_for_quiet() {
        let mut s = schedule(10);
        s.committed(9);
        assert_eq!((s.quiet(), s.overdue()), (None, false));
        s.committed(1);
        assert_eq!(s.quiet(), Some(QUIET));
        assert!(s.overdue(), "patience 0: due is overdue");
        s.opened();
        assert_eq!((s.quiet(), s.overdue(), s.since_open()), (None, false, 0));
    }

    /// On a site that never pauses, the reopening comes after a quarter
    /// more movements however patient it is: what it replays, and so its
    /// pause, stays bounded by the movements.
    #[test]
    fn a_site_that_never_pauses_gets_it_after_a_quarter_more() {
        let mut s = Schedule::new(Refresh::after(400));
        s.committed(400);
        assert_eq!((s.quiet(), s.overdue()), (Some(QUIET), false));
        s.committed(99);
        assert!(!s.overdue());
        s.committed(1);
        assert!(s.overdue());
        // A reader putting it off still does.
        s.put_off();
        assert!(!s.overdue());
    }

    #[test]
    fn readers_put_it_off_briefly_then_are_held_off_then_back_off() {
        let mut s = schedule(1);
        s.committed(1);
        for _ in 0..HOLD_AFTER {
            assert_eq!(s.hold(), Duration::ZERO);
            s.put_off();
            // The quiet moment goes on: the next try is soon.
            assert!(s.quiet().unwrap() <= RETRY);
            assert!(!s.overdue());
        }
        assert_eq!(s.hold(), HOLD);
        s.put_off();
        assert_eq!(s.hold(), Duration::ZERO);
        assert!(s.quiet().unwrap() > BACK_OFF - Duration::from_secs(1));
        assert!(!s.overdue());
        // A commit ends the quiet moment: a brief put-off waits for the
        // next one.
        let mut s = schedule(1);
        s.committed(1);
        s.put_off();
        s.committed(1);
        assert_eq!(s.quiet(), Some(QUIET));
    }
}
