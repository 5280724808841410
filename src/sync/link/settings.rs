//! The link's settings: `[sync]` of the site's configuration with its
//! defaults filled in and its bounds applied.

use std::time::Duration;

/// The link's settings, from `[sync]`.
#[derive(Debug, Clone)]
pub struct Settings {
    pub(super) url: String,
    pub(super) credential: Option<String>,
    pub(super) batch_max: usize,
    pub(super) batch_bytes: usize,
    pub(super) ca: Option<std::path::PathBuf>,
    pub(super) interval: Duration,
    pub(super) reference_poll: Duration,
    pub(super) backoff_max: Duration,
    /// Per request.
    pub timeout: Duration,
}

impl Settings {
    /// `[sync]` with its defaults filled in (2,000 entries and 4 MiB a batch, a
    /// batch every 500 ms when quiet, reference data every 2 s, backoff up to
    /// 30 s) and its bounds applied.
    pub fn from_config(s: &crate::config::Sync) -> Settings {
        Settings {
            url: s.url.trim_end_matches('/').to_owned(),
            credential: s.credential.clone(),
            batch_max: s.batch_max.unwrap_or(2_000).max(1),
            batch_bytes: s.batch_bytes.unwrap_or(4 << 20).max(4096),
            ca: s.ca.clone(),
            interval: Duration::from_millis(s.interval_ms.unwrap_or(500)),
            reference_poll: Duration::from_millis(s.reference_poll_ms.unwrap_or(2_000)),
            backoff_max: Duration::from_millis(s.backoff_max_ms.unwrap_or(30_000)),
            timeout: Duration::from_secs(30),
        }
    }
}
