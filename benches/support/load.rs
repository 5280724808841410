//! Drives a committer from N writer threads and measures what a scanner
//! sees: durable commits per second and the latency of each commit (submit
//! to durable acknowledgement).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use scantrail::dev::synthetic::synthetic_movement;
use scantrail::store::{Movement, NewMovement, Result};

pub struct Outcome {
    pub commits: u64,
    pub elapsed: Duration,
    pub latencies: Vec<Duration>,
}

impl Outcome {
    pub fn per_second(&self) -> f64 {
        self.commits as f64 / self.elapsed.as_secs_f64()
    }

    pub fn percentile(&mut self, p: f64) -> Duration {
        self.latencies.sort_unstable();
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies.get(i).copied().unwrap_or_default()
    }
}

/// `commit` is the blocking commit of the store under test; `base` keeps
/// serials unique across runs on one store.
pub fn run<C>(commit: Arc<C>, writers: usize, total: u64, base: u64) -> Outcome
where
    C: Fn(NewMovement) -> Result<Movement> + Send + Sync + 'static,
{
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let threads: Vec<_> = (0..writers)
        .map(|_| {
            let commit = commit.clone();
            let next = next.clone();
            std::thread::spawn(move || {
                let mut lat = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        return lat;
                    }
                    let m = synthetic_movement(base + i);
                    let t = Instant::now();
                    commit(m).expect("commit");
                    lat.push(t.elapsed());
                }
            })
        })
        .collect();
    let latencies: Vec<Duration> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    Outcome {
        commits: total,
        elapsed: started.elapsed(),
        latencies,
    }
}
