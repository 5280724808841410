//! Retry timing for the link to head office: exponential backoff with full
//! jitter (a random wait between zero and the exponential bound, so a
//! hundred sites coming back after an outage do not all knock at once),
//! capped, and never shorter than a `Retry-After` head office asked for.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    attempt: u32,
    rng: u64,
}

impl Backoff {
    pub fn new(base: Duration, cap: Duration) -> Backoff {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9E37_79B9_7F4A_7C15)
            ^ u64::from(std::process::id()).rotate_left(32);
        Backoff {
            base,
            cap,
            attempt: 0,
            rng: seed | 1,
        }
    }

    fn random(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    /// The wait before the next try; `retry_after` is head office's own
    /// request, if it gave one.
    pub fn next(&mut self, retry_after: Option<Duration>) -> Duration {
        let bound = self
            .base
            .saturating_mul(1u32.checked_shl(self.attempt.min(20)).unwrap_or(u32::MAX))
            .min(self.cap);
        self.attempt = self.attempt.saturating_add(1);
        let millis = bound.as_millis().max(1) as u64;
        let jittered = Duration::from_millis(self.random() % (millis + 1));
        match retry_after {
            Some(r) => jittered.max(r.min(self.cap.max(r))),
            None => jittered,
        }
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    pub fn attempts(&self) -> u32 {
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
        b.reset();
        assert_eq!(b.attempts(), 0);
    }
}
