//! An alert change as `[alerts] webhook` receives it: one JSON POST,
//! taken by any 2xx answer (retries are the outlet's, `outlet.rs`).

use std::time::Duration;

use serde::Serialize;

use super::watch::{Change, Transition};

/// How long one POST may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The body of one POST.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Payload {
    /// `[site] id`.
    pub site: String,
    /// The kind: `disk_low`, `scanner_gone`, ...
    pub alert: &'static str,
    /// What it is about (a scanner's port), or empty.
    pub subject: String,
    /// `raised` or `resolved`.
    pub state: Change,
    /// In words, with the fix for a raise.
    pub message: String,
    /// When the daemon saw the change (RFC 3339, UTC).
    pub at: chrono::DateTime<chrono::Utc>,
}

impl Payload {
    /// The POST body for `t` at `site`.
    pub fn of(site: &str, t: &Transition) -> Payload {
        Payload {
            site: site.to_owned(),
            alert: t.key.kind.name(),
            subject: t.key.subject.clone(),
            state: t.change,
            message: t.message.clone(),
            at: t.at,
        }
    }
}

/// Where and how to post.
#[derive(Clone)]
pub struct Webhook {
    /// The URL.
    pub url: String,
    agent: ureq::Agent,
}

impl Webhook {
    /// A webhook at `url` (checked by the configuration), with the public
    /// web roots trusted for https.
    pub fn new(url: String) -> Result<Webhook, crate::sync::tls::CaError> {
        Ok(Webhook {
            url,
            agent: crate::sync::tls::agent(None, TIMEOUT)?,
        })
    }

    /// One POST; the error in words.
    pub fn post(&self, payload: &Payload) -> Result<(), String> {
        match self.agent.post(&self.url).send_json(payload) {
            Ok(_) => Ok(()),
            Err(ureq::Error::Status(code, _)) => Err(format!("the receiver answered {code}")),
            Err(ureq::Error::Transport(t)) => Err(t.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::alerts::watch::{Key, Kind};

    #[test]
    fn the_payload_names_site_alert_state_and_time_as_the_readme_shows() {
        let t = Transition {
            key: Key {
                kind: Kind::ScannerGone,
                subject: "/dev/ttyACM0".into(),
            },
            change: Change::Raised,
            message: "scanner gone".into(),
            at: chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        };
        let json = serde_json::to_value(Payload::of("north", &t)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "site": "north", "alert": "scanner_gone", "subject": "/dev/ttyACM0",
                "state": "raised", "message": "scanner gone", "at": "2027-01-15T08:00:00Z"
            })
        );
    }
}
