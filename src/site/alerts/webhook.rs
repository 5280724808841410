//! Delivery of alert changes to `[alerts] webhook`: each as one JSON POST,
//! in the order they happened, tried again with backoff until the receiver
//! takes it (any 2xx). A receiver that is down holds up only this queue,
//! never a scan, and loses nothing while the daemon runs; what is still
//! queued at shutdown is counted in the log.

use std::collections::VecDeque;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{mpsc, watch};

use super::watch::{Change, Transition};
use crate::sync::backoff::Backoff;

/// How long one POST may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The first wait after a failure (or `retry_max` if that is shorter).
const RETRY_FIRST: Duration = Duration::from_millis(500);

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
    /// The longest wait between tries.
    pub retry_max: Duration,
    agent: ureq::Agent,
}

impl Webhook {
    /// A webhook at `url` (checked by the configuration), with the public
    /// web roots trusted for https.
    pub fn new(url: String, retry_max: Duration) -> Result<Webhook, crate::sync::tls::CaError> {
        Ok(Webhook {
            url,
            retry_max,
            agent: crate::sync::tls::agent(None, TIMEOUT)?,
        })
    }

    /// One POST; the error in words.
    fn post(&self, payload: &Payload) -> Result<(), String> {
        match self.agent.post(&self.url).send_json(payload) {
            Ok(_) => Ok(()),
            Err(ureq::Error::Status(code, _)) => Err(format!("the receiver answered {code}")),
            Err(ureq::Error::Transport(t)) => Err(t.to_string()),
        }
    }
}

/// Posts each payload from `queue` in order until `stop` turns true.
pub async fn deliver(
    hook: Webhook,
    mut queue: mpsc::UnboundedReceiver<Payload>,
    mut stop: watch::Receiver<bool>,
) {
    let mut waiting: VecDeque<Payload> = VecDeque::new();
    let mut backoff = Backoff::new(RETRY_FIRST, hook.retry_max);
    let mut failed_tries: Option<u32> = None;
    loop {
        if waiting.is_empty() {
            tokio::select! {
                next = queue.recv() => match next {
                    Some(p) => waiting.push_back(p),
                    None => return,
                },
                _ = stop.changed() => break,
            }
        }
        while let Ok(p) = queue.try_recv() {
            waiting.push_back(p);
        }
        let Some(payload) = waiting.front().cloned() else {
            continue;
        };
        let h = hook.clone();
        let sent = tokio::task::spawn_blocking(move || h.post(&payload))
            .await
            .unwrap_or_else(|e| Err(e.to_string()));
        match sent {
            Ok(()) => {
                let p = waiting.pop_front();
                if let (Some(tries), Some(p)) = (failed_tries.take(), p) {
                    tracing::info!(url = %hook.url, alert = p.alert, tries = tries + 1, "the alert webhook takes alerts again");
                }
                backoff.reset();
            }
            Err(error) => {
                match &mut failed_tries {
                    None => {
                        tracing::warn!(url = %hook.url, %error, queued = waiting.len(), "cannot post an alert to the webhook; trying again with backoff, nothing is dropped while the daemon runs");
                        failed_tries = Some(1);
                    }
                    Some(tries) => *tries += 1,
                }
                let wait = backoff.next(None);
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = stop.changed() => break,
                }
            }
        }
    }
    while let Ok(p) = queue.try_recv() {
        waiting.push_back(p);
    }
    if !waiting.is_empty() {
        tracing::warn!(url = %hook.url, undelivered = waiting.len(), "stopping with alert changes the webhook has not taken; they show in the log above");
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
