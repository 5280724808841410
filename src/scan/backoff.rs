//! Reconnect delays for an unplugged scanner: doubling from `initial` up to
//! `max`, so a scanner left unplugged costs one open attempt every few
//! seconds and a replugged one is back within a fraction of a second. The
//! schedule is `backon`'s exponential one, as the link to head office uses.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};

/// A profile's `[reconnect]` settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub(super) initial: Duration,
    pub(super) max: Duration,
}

impl Backoff {
    pub(super) fn new(initial: Duration, max: Duration) -> Backoff {
        Backoff { initial, max }
    }

    /// The delays after one failure, two, three...: endless, each `max` at
    /// most. Start a new series after a connection that lasted.
    pub fn delays(&self) -> Delays {
        Delays {
            series: ExponentialBuilder::new()
                .with_min_delay(self.initial)
                .with_max_delay(self.max)
                .with_factor(2.0)
                .without_max_times()
                .build(),
            max: self.max,
        }
    }
}

/// One series of reconnect delays.
#[derive(Debug)]
pub struct Delays {
    series: ExponentialBackoff,
    max: Duration,
}

impl Delays {
    /// The wait before the next attempt.
    pub fn next_delay(&mut self) -> Duration {
        self.series.next().unwrap_or(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_and_stays_there() {
        let b = Backoff::new(Duration::from_millis(100), Duration::from_millis(1000));
        let mut delays = b.delays();
        let d: Vec<u128> = (0..6).map(|_| delays.next_delay().as_millis()).collect();
        assert_eq!(d, [100, 200, 400, 800, 1000, 1000]);
        for _ in 0..10_000 {
            delays.next_delay();
        }
        assert_eq!(delays.next_delay(), Duration::from_millis(1000));
        assert_eq!(b.delays().next_delay(), Duration::from_millis(100));
    }
}
