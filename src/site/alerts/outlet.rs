//! Where alert changes go — the webhook, e-mail through a relay — and how:
//! each outlet has its own queue, sends the changes in the order they
//! happened, and tries one again with backoff until it is taken. An
//! outlet that is down holds up only its own queue, never a scan or the
//! other outlet, and loses nothing while the daemon runs; what is still
//! queued at shutdown is counted in the log.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::mail::Mail;
use super::webhook::{Payload, Webhook};
use crate::sync::backoff::Backoff;

/// The first wait after a failure (or `retry_max` if that is shorter).
const RETRY_FIRST: Duration = Duration::from_millis(500);

/// One place alert changes are sent.
#[derive(Clone)]
pub enum Outlet {
    /// `[alerts] webhook`.
    Webhook(Webhook),
    /// `[alerts] smtp`, `mail_from`, `mail_to`.
    Mail(Mail),
}

impl Outlet {
    /// Where, for the log: the URL, or the relay and recipients.
    pub fn target(&self) -> String {
        match self {
            Outlet::Webhook(hook) => hook.url.clone(),
            Outlet::Mail(mail) => mail.target(),
        }
    }

    /// Sends one change (blocking); the error in words.
    fn send(&self, payload: &Payload) -> Result<(), String> {
        match self {
            Outlet::Webhook(hook) => hook.post(payload),
            Outlet::Mail(mail) => mail.send(payload).map_err(|e| e.to_string()),
        }
    }
}

/// Sends each payload from `queue` through `outlet` in order, waiting at
/// most `retry_max` between tries, until `stop` turns true.
pub async fn deliver(
    outlet: Outlet,
    retry_max: Duration,
    mut queue: mpsc::UnboundedReceiver<Payload>,
    mut stop: watch::Receiver<bool>,
) {
    let target = outlet.target();
    let mut waiting: VecDeque<Payload> = VecDeque::new();
    let mut backoff = Backoff::new(RETRY_FIRST, retry_max);
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
        let o = outlet.clone();
        // A receiver that hangs holds the daemon's stop only until the
        // send's own timeout, not while this one waits for it.
        let sent = tokio::select! {
            sent = tokio::task::spawn_blocking(move || o.send(&payload)) => {
                sent.unwrap_or_else(|e| Err(e.to_string()))
            }
            _ = stop.changed() => break,
        };
        match sent {
            Ok(()) => {
                waiting.pop_front();
                if let Some(tries) = failed_tries.take() {
                    tracing::info!(to = %target, tries = tries + 1, "alerts are delivered again");
                }
                backoff.reset();
            }
            Err(error) => {
                match &mut failed_tries {
                    None => {
                        tracing::warn!(to = %target, %error, queued = waiting.len(), "cannot deliver an alert; trying again with backoff, nothing is dropped while the daemon runs");
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
        tracing::warn!(to = %target, undelivered = waiting.len(), "stopping with alert changes not delivered; they show in the log above");
    }
}
