//! Retry timing for the link to head office: exponential backoff with full
//! jitter (a random wait between zero and the exponential bound, so a
//! hundred sites coming back after an outage do not all knock at once),
//! capped, and never shorter than a `Retry-After` head office asked for.
//! The site's alerts retry a webhook that does not answer on the same
//! schedule.
//!
//! The bounds are `backon`'s exponential schedule, as the scanners'
//! reconnects use; the jitter is drawn here with `fastrand` because
//! `backon`'s own jitter adds up to one more bound on top (a wait between
//! the bound and twice it, beyond the cap) rather than drawing below it.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};

#[derive(Debug)]
pub(crate) struct Backoff {
    schedule: ExponentialBuilder,
    bounds: ExponentialBackoff,
    cap: Duration,
    attempt: u32,
}

impl Backoff {
    pub(crate) fn new(base: Duration, cap: Duration) -> Backoff {
        let schedule = ExponentialBuilder::new()
            .with_min_delay(base.min(cap))
            .with_max_delay(cap)
            .with_factor(2.0)
            .without_max_times();
        Backoff {
            schedule,
            bounds: schedule.build(),
            cap,
            attempt: 0,
        }
    }

    /// The wait before the next try; `retry_after` is head office's own
    /// request, if it gave one.
    pub fn next(&mut self, retry_after: Option<Duration>) -> Duration {
        let bound = self.bounds.next().unwrap_or(self.cap);
        self.attempt = self.attempt.saturating_add(1);
        let millis = u64::try_from(bound.as_millis()).unwrap_or(u64::MAX).max(1);
        let jittered = Duration::from_millis(fastrand::u64(0..=millis));
        match retry_after {
            Some(r) => jittered.max(r),
            None => jittered,
        }
    }

    pub(crate) fn reset(&mut self) {
        self.bounds = self.schedule.build();
        self.attempt = 0;
    }

    pub(super) fn attempts(&self) -> u32 {
        self.attempt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_bounded_growing_and_honour_retry_after() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        for attempt in 0..30 {
            let bound = Duration::from_millis(100)
                .saturating_mul(1 << attempt.min(20))
                .min(Duration::from_secs(2));
            assert!(b.next(None) <= bound);
        }
        assert!(b.next(Some(Duration::from_secs(5))) >= Duration::from_secs(5));
        assert_eq!(b.attempts(), 31);
        b.reset();
        assert_eq!(b.attempts(), 0);
    }

    #[test]
    fn waits_spread_over_the_whole_bound() {
        let mut b = Backoff::new(Duration::from_millis(1000), Duration::from_millis(1000));
        let waits: Vec<Duration> = (0..200).map(|_| b.next(None)).collect();
        assert!(waits.iter().any(|w| *w < Duration::from_millis(250)));
        assert!(waits.iter().any(|w| *w > Duration::from_millis(750)));
    }
}
