//! The link's settings: `[sync]` of the site's configuration with its
//! defaults filled in and its bounds applied.

use std::time::Duration;

/// The link's settings, from `[sync]`.
#[derive(Debug, Clone)]
pub struct Settings {
    pub url: String,
    pub credential: Option<String>,
    pub batch_max: usize,
    pub batch_bytes: usize,
    pub ca: Option<std::path::PathBuf>,
    pub interval: Duration,
    pub reference_poll: Duration,
    pub backoff_max: Duration,
    /// Per request.
    pub timeout: Duration,
}

impl Settings {
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
