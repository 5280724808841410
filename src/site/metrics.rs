//! Counters for `GET /api/v1/metrics`: scans accepted and refused (by
//! reason), and decision and commit latency, in the Prometheus text format.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use crate::model::RefusalCode;

/// Latency bucket bounds in microseconds.
const BOUNDS_US: [u64; 10] = [
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 100_000, 1_000_000,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BOUNDS_US.len() + 1],
    sum_us: u64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        let i = BOUNDS_US
            .iter()
            .position(|&b| us <= b)
            .unwrap_or(BOUNDS_US.len());
        self.counts[i] += 1;
        self.sum_us = self.sum_us.saturating_add(us);
        self.count += 1;
    }

    fn render(&self, name: &str, out: &mut String) {
        let _ = writeln!(out, "# TYPE {name} histogram");
        let mut cumulative = 0;
        for (i, bound) in BOUNDS_US.iter().enumerate() {
            cumulative += self.counts[i];
            let _ = writeln!(
                out,
                "{name}_bucket{{le=\"{}\"}} {cumulative}",
                *bound as f64 / 1e6
            );
        }
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum {}", self.sum_us as f64 / 1e6);
        let _ = writeln!(out, "{name}_count {}", self.count);
    }
}

#[derive(Default)]
struct Inner {
    accepted: u64,
    rejected: BTreeMap<String, u64>,
    decide: Histogram,
    commit: Histogram,
}

#[derive(Default)]
pub struct Metrics(Mutex<Inner>);

impl Metrics {
    fn with(&self, f: impl FnOnce(&mut Inner)) {
        let mut inner = self.0.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut inner);
    }

    pub fn accepted(&self) {
        self.with(|m| m.accepted += 1);
    }

    pub fn rejected(&self, code: RefusalCode) {
        self.with(|m| *m.rejected.entry(code.as_str().to_owned()).or_default() += 1);
    }

    pub fn decided(&self, d: Duration) {
        self.with(|m| m.decide.observe(d));
    }

    pub fn committed(&self, d: Duration) {
        self.with(|m| m.commit.observe(d));
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        self.with(|m| {
            let _ = writeln!(out, "# TYPE scantrail_scans_accepted_total counter");
            let _ = writeln!(out, "scantrail_scans_accepted_total {}", m.accepted);
            let _ = writeln!(out, "# TYPE scantrail_scans_rejected_total counter");
            for (code, n) in &m.rejected {
                let _ = writeln!(
                    out,
                    "scantrail_scans_rejected_total{{reason=\"{code}\"}} {n}"
                );
            }
            m.decide.render("scantrail_decision_seconds", &mut out);
            m.commit.render("scantrail_commit_seconds", &mut out);
        });
        out
    }
}
