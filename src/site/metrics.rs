//! Counters for `GET /api/v1/metrics`: scans accepted and refused (by
//! reason), decision and commit latency, and the store's and the
//! process's size (movements, bytes on disk, resident memory: what a
//! daemon left alone for months is watched by), in the OpenMetrics text
//! format (which Prometheus reads), kept and written by `prometheus-client`.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::model::RefusalCode;

/// The content type of `render`'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Latency bucket bounds in seconds (100 µs to 1 s).
const BOUNDS_S: [f64; 10] = [
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.1, 1.0,
];

/// A refused scan's refusal code.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Reason {
    reason: String,
}

/// The site daemon's metrics; cheap to update from any thread.
pub struct Metrics {
    registry: Registry,
    accepted: Counter,
    rejected: Family<Reason, Counter>,
    decide: Histogram,
    commit: Histogram,
    movements: Gauge,
    store_bytes: Gauge,
    resident_bytes: Gauge,
    reopenings: Gauge,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let accepted = Counter::default();
        let rejected = Family::<Reason, Counter>::default();
        let decide = Histogram::new(BOUNDS_S);
        let commit = Histogram::new(BOUNDS_S);
        let (movements, store_bytes, resident_bytes, reopenings) = (
            Gauge::default(),
            Gauge::default(),
            Gauge::default(),
            Gauge::default(),
        );
        let mut registry = Registry::default();
        registry.register(
            "scantrail_scans_accepted",
            "Scans recorded as movements",
            accepted.clone(),
        );
        registry.register(
            "scantrail_scans_rejected",
            "Scans refused, by refusal code",
            rejected.clone(),
        );
        registry.register(
            "scantrail_decision_seconds",
            "Time from a scan's arrival to its decision",
            decide.clone(),
        );
        registry.register(
            "scantrail_commit_seconds",
            "Time to make an accepted scan durable",
            commit.clone(),
        );
        registry.register(
            "scantrail_store_movements",
            "Movements in the store",
            movements.clone(),
        );
        registry.register(
            "scantrail_store_bytes",
            "The store's size on disk",
            store_bytes.clone(),
        );
        registry.register(
            "scantrail_store_reopenings",
            "Times the daemon reopened its store since it started (every [store] reopen_every movements)",
            reopenings.clone(),
        );
        // The name Prometheus's own process collectors use.
        registry.register(
            "process_resident_memory_bytes",
            "Resident memory of the daemon",
            resident_bytes.clone(),
        );
        Metrics {
            registry,
            accepted,
            rejected,
            decide,
            commit,
            movements,
            store_bytes,
            resident_bytes,
            reopenings,
        }
    }
}

impl Metrics {
    pub(super) fn accepted(&self) {
        self.accepted.inc();
    }

    pub(super) fn rejected(&self, code: RefusalCode) {
        self.rejected
            .get_or_create(&Reason {
                reason: code.as_str().to_owned(),
            })
            .inc();
    }

    pub(super) fn decided(&self, d: Duration) {
        self.decide.observe(d.as_secs_f64());
    }

    pub(super) fn committed(&self, d: Duration) {
        self.commit.observe(d.as_secs_f64());
    }

    /// The text for `GET /api/v1/metrics` (see `CONTENT_TYPE`), with the
    /// store's size as just read (none when it could not be) and its
    /// reopenings so far (`Store::refreshes`).
    pub fn render(&self, store: Option<crate::store::Stats>, reopenings: u64) -> String {
        self.reopenings.set(gauge(reopenings));
        if let Some(s) = store {
            self.movements.set(gauge(s.movements));
            self.store_bytes.set(gauge(s.bytes_on_disk));
        }
        if let Some(rss) = crate::memory::resident_bytes() {
            self.resident_bytes.set(gauge(rss));
        }
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

fn gauge(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_types_reasons_and_buckets_are_the_documented_ones() {
        let m = Metrics::default();
        m.accepted();
        m.accepted();
        m.rejected(RefusalCode::OnHold);
        m.rejected(RefusalCode::OnHold);
        m.rejected(RefusalCode::UnknownGtin);
        m.decided(Duration::from_micros(300));
        m.committed(Duration::from_millis(3));
        m.committed(Duration::from_secs(2));
        let text = m.render(
            Some(crate::store::Stats {
                movements: 7,
                rejections: 0,
                bytes_on_disk: 4096,
            }),
            3,
        );
        for line in [
            "# TYPE scantrail_scans_accepted counter",
            "scantrail_scans_accepted_total 2",
            "# TYPE scantrail_scans_rejected counter",
            "scantrail_scans_rejected_total{reason=\"on_hold\"} 2",
            "scantrail_scans_rejected_total{reason=\"unknown_gtin\"} 1",
            "# TYPE scantrail_decision_seconds histogram",
            "scantrail_decision_seconds_bucket{le=\"0.00025\"} 0",
            "scantrail_decision_seconds_bucket{le=\"0.0005\"} 1",
            "scantrail_decision_seconds_count 1",
            "# TYPE scantrail_commit_seconds histogram",
            "scantrail_commit_seconds_bucket{le=\"0.005\"} 1",
            "scantrail_commit_seconds_bucket{le=\"1.0\"} 1",
            "scantrail_commit_seconds_bucket{le=\"+Inf\"} 2",
            "scantrail_commit_seconds_count 2",
            "# TYPE scantrail_store_movements gauge",
            "scantrail_store_movements 7",
            "scantrail_store_bytes 4096",
            "# TYPE scantrail_store_reopenings gauge",
            "scantrail_store_reopenings 3",
            "# TYPE process_resident_memory_bytes gauge",
        ] {
            assert!(text.lines().any(|l| l == line), "no `{line}` in:\n{text}");
        }
    }
}
