//! What the desk is asked to decide: one scan, from a serial scanner or a
//! handheld, with where it came from.

use chrono::{DateTime, Utc};

use super::retries::ScanKey;

/// One scan for the desk, from a serial scanner or a handheld.
#[derive(Debug, Clone)]
pub struct ScanRequest {
    pub(super) station: String,
    /// Exactly as the device sent it.
    pub raw: Vec<u8>,
    /// What the parser reads (a vendor label ID mapped to AIM); `None` when
    /// it is `raw` itself.
    pub frame: Option<Vec<u8>>,
    pub(super) substitute: Option<u8>,
    /// The device profile, or `http` for handhelds.
    pub device_profile: String,
    /// The port or handheld id, for the event stream.
    pub source: String,
    pub(super) operator: Option<String>,
    /// A handheld's id for this scan, unique per `source`: a retry gets
    /// the first answer (see `retries`).
    pub scan_id: Option<String>,
    pub(super) time: DateTime<Utc>,
}

impl ScanRequest {
    /// Its scan id as its device owns it, if it has one.
    pub(crate) fn key(&self) -> Option<ScanKey> {
        self.scan_id.as_ref().map(|id| ScanKey {
            device: self.source.clone(),
            scan_id: id.clone(),
        })
    }
}
