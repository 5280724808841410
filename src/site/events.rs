//! The live stream of decisions (`GET /api/v1/events`) for handheld screens
//! and supervisors. A slow listener misses events rather than slowing the
//! desk.

use serde::Serialize;
use tokio::sync::broadcast;

use super::answer::WarningOut;
use super::scan_request::ScanRequest;
use crate::model::{Movement, RefusalCode};
use crate::station::Refusal;

/// The data of one server-sent event; the event name is its `kind`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(super) struct Event {
    // `accepted`, `refused` or `context`.
    #[schema(inline, value_type = super::schemas::EventKind)]
    pub kind: &'static str,
    pub(super) station: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, required = false)]
    pub(super) source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = u64, format = Int64, required = false)]
    pub(super) seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = super::schemas::MovementKind, required = false)]
    pub(super) movement_kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, required = false)]
    pub(super) gtin: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, required = false)]
    pub(super) lot: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, required = false)]
    pub(super) serial: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, required = false)]
    pub(super) code: Option<RefusalCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, required = false)]
    pub(super) message: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub(super) warnings: Vec<WarningOut>,
}

impl Event {
    fn empty(kind: &'static str, station: &str) -> Event {
        Event {
            kind,
            station: station.to_owned(),
            source: None,
            seq: None,
            movement_kind: None,
            gtin: None,
            lot: None,
            serial: None,
            code: None,
            message: None,
            warnings: Vec::new(),
        }
    }

    pub(super) fn accepted(station: &str, m: &Movement, warnings: &[WarningOut]) -> Event {
        Event {
            seq: Some(m.seq),
            movement_kind: Some(m.body.kind.name()),
            gtin: Some(m.body.gtin.clone()),
            lot: m.body.lot.clone(),
            serial: m.body.serial.clone(),
            warnings: warnings.to_vec(),
            ..Event::empty("accepted", station)
        }
    }

    pub(super) fn refused(request: &ScanRequest, refusal: &Refusal) -> Event {
        Event {
            source: Some(request.source.clone()),
            code: Some(refusal.code),
            message: Some(refusal.reason.clone()),
            ..Event::empty("refused", &request.station)
        }
    }

    pub(super) fn context(request: &ScanRequest, message: &str) -> Event {
        Event {
            source: Some(request.source.clone()),
            message: Some(message.to_owned()),
            ..Event::empty("context", &request.station)
        }
    }
}

/// The sending side; cheap to clone.
#[derive(Clone)]
pub struct Events(broadcast::Sender<Event>);

impl Events {
    pub(super) fn new() -> Events {
        Events(broadcast::channel(1024).0)
    }

    pub(super) fn send(&self, event: Event) {
        // No listener is fine: nobody is watching.
        let _ = self.0.send(event);
    }

    pub(super) fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.0.subscribe()
    }
}

impl Default for Events {
    fn default() -> Events {
        Events::new()
    }
}
