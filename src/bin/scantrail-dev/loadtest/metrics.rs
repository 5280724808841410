//! What `loadtest` reads besides its own clocks: CPU seconds of a process
//! from `/proc`, and the daemon's decision and commit histograms from its
//! Prometheus text (`GET /api/v1/metrics`). Only the few lines needed are
//! parsed; a Prometheus crate would bring a model of every metric type.

/// User + system CPU seconds of a process from `/proc/PID/stat` (Linux,
/// 100 clock ticks per second).
pub fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// One histogram of the Prometheus text: cumulative buckets, sum, count.
#[derive(Debug, Default, PartialEq)]
pub struct Histogram {
    /// (upper bound `le`, cumulative count), in the text's order.
    pub buckets: Vec<(f64, u64)>,
    pub sum: f64,
    pub count: u64,
}

impl Histogram {
    /// The histogram `name` in `text`, `None` when it has no observations.
    pub fn parse(text: &str, name: &str) -> Option<Histogram> {
        let mut h = Histogram::default();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let Some((series, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let Some(rest) = series.strip_prefix(name) else {
                continue;
            };
            match rest {
                "_sum" => h.sum = value.parse().ok()?,
                "_count" => h.count = value.parse().ok()?,
                _ => {
                    let Some(le) = rest
                        .strip_prefix("_bucket{le=\"")
                        .and_then(|r| r.strip_suffix("\"}"))
                    else {
                        continue;
                    };
                    let le = if le == "+Inf" {
                        f64::INFINITY
                    } else {
                        le.parse().ok()?
                    };
                    h.buckets.push((le, value.parse().ok()?));
                }
            }
        }
        (h.count > 0).then_some(h)
    }

    /// The smallest bucket bound with at least `q` of the observations.
    pub fn bound(&self, q: f64) -> f64 {
        let want = (self.count as f64 * q).ceil() as u64;
        self.buckets
            .iter()
            .find(|(_, n)| *n >= want)
            .map_or(f64::INFINITY, |(le, _)| *le)
    }

    pub fn mean(&self) -> f64 {
        self.sum / self.count as f64
    }
}

/// The daemon's decision and commit histograms, as approximate quantiles.
pub fn print_daemon_histograms(text: &str) {
    for name in ["scantrail_decision_seconds", "scantrail_commit_seconds"] {
        if let Some(h) = Histogram::parse(text, name) {
            println!(
                "daemon {name}: count {}, mean {:.3} ms, p50 <= {} ms, p99 <= {} ms",
                h.count,
                h.mean() * 1000.0,
                h.bound(0.5) * 1000.0,
                h.bound(0.99) * 1000.0
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_is_read_from_the_text_and_others_are_ignored() {
        let text = "# TYPE scantrail_commit_seconds histogram\n\
            scantrail_commit_seconds_bucket{le=\"0.001\"} 2\n\
            scantrail_commit_seconds_bucket{le=\"0.01\"} 9\n\
            scantrail_commit_seconds_bucket{le=\"+Inf\"} 10\n\
            scantrail_commit_seconds_sum 0.05\n\
            scantrail_commit_seconds_count 10\n\
            scantrail_commit_seconds_total_bucket{le=\"1\"} 99\n\
            scantrail_decision_seconds_count 0\n";
        let h = Histogram::parse(text, "scantrail_commit_seconds").unwrap();
        assert_eq!(h.buckets.len(), 3);
        assert_eq!(
            (h.count, h.bound(0.5), h.bound(0.99)),
            (10, 0.01, f64::INFINITY)
        );
        assert!((h.mean() - 0.005).abs() < 1e-12);
        assert_eq!(Histogram::parse(text, "scantrail_decision_seconds"), None);
    }
}
