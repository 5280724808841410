//! Where the link stands (starting, online, offline since when, credential
//! refused, halted) and how it moves: each failure kind leads to its state
//! and its wait, and a state change is logged once, not on every retry.

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::failure::Failure;
use super::Link;
use crate::model::Hash;
use crate::model::Log;
use crate::store::sync_state::Halt;
use crate::store::OutboxPosition;
use crate::store::{Store, StoreError};
use crate::sync::protocol::ReferenceVersions;

/// Where the link stands, for `scantrail status` and the site API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum State {
    /// Before the first exchange with head office.
    Starting,
    /// The last exchange with head office succeeded.
    Online,
    /// Head office cannot be reached, or answered with a server error: scans go
    /// on and wait in the outbox.
    Offline {
        /// When the first failure of this outage happened.
        since: DateTime<Utc>,
        /// The last failure, in words.
        error: String,
    },
    /// Head office refused the credential (401/403): fix `[sync] credential`.
    CredentialRefused {
        /// Head office's answer, in words.
        error: String,
    },
    /// Stopped until an operator acts (`scantrail sync resume`).
    Halted {
        /// Why: head office refused this site's history (a seq it holds with
        /// other content, or a broken link).
        reason: String,
    },
}

/// The link's state and the outbox's, as `GET /api/v1/sync` and `scantrail
/// status` show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// Online, offline, credential refused or halted.
    pub link: State,
    /// Head office's base URL (`[sync] url`).
    pub url: String,
    /// Movements recorded but not yet acknowledged by head office.
    pub backlog: u64,
    /// Rejected scans recorded but not yet acknowledged by head office.
    pub rejected_backlog: u64,
    /// The highest movement seq head office acknowledged (0 before the first
    /// ack).
    pub acked_seq: u64,
    /// The hash head office acknowledged with it; `None` before the first ack.
    pub acked_hash: Option<Hash>,
    /// When head office last acknowledged a batch; `None` since the start until
    /// it does.
    pub last_ack_at: Option<DateTime<Utc>>,
    /// The versions of the reference data this site has applied.
    pub reference: ReferenceVersions,
    /// Head office's flags on the last batches (skew, stale recall list).
    pub flags: Vec<String>,
}

/// What reporting a state does to the current one.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Transition {
    /// Another kind of state: logged once.
    Changed(State),
    /// Still offline: the outage keeps its start, the reason is refreshed
    /// quietly.
    Refreshed(State),
    /// The same state again (a halt or refused credential keeps its first
    /// reason).
    Kept,
}

/// What the link's state becomes when `next` is reported while it is
/// `current`.
pub(super) fn transition(current: &State, next: State) -> Transition {
    if std::mem::discriminant(current) != std::mem::discriminant(&next) {
        return Transition::Changed(next);
    }
    match (current, next) {
        (State::Offline { since, .. }, State::Offline { error, .. }) => {
            Transition::Refreshed(State::Offline {
                since: *since,
                error,
            })
        }
        _ => Transition::Kept,
    }
}

impl Link {
    pub(super) fn set_state(&self, state: State) {
        let mut s = self.status.lock().unwrap_or_else(|p| p.into_inner());
        match transition(&s.link, state) {
            Transition::Changed(state) => {
                match &state {
                    State::Online => {
                        tracing::info!(url = %self.settings.url, backlog = s.backlog, rejected_backlog = s.rejected_backlog, "link to head office is up")
                    }
                    State::Offline { since, error } => {
                        tracing::warn!(url = %self.settings.url, %since, backlog = s.backlog, %error, "link to head office is down; scans go on and are sent when it is back")
                    }
                    State::CredentialRefused { error } => {
                        tracing::error!(url = %self.settings.url, %error, "head office refused this site's credential: fix `[sync] credential` (and head office's `[[sites]]` entry), then restart")
                    }
                    State::Halted { reason } => {
                        tracing::error!(url = %self.settings.url, %reason, "sync halted until an operator acts (`scantrail sync resume` once resolved)")
                    }
                    State::Starting => {}
                }
                s.link = state;
            }
            Transition::Refreshed(state) => s.link = state,
            Transition::Kept => {}
        }
    }

    pub(super) fn failed(&mut self, f: Failure) {
        // No reset of the reference poll here: after an outage longer than
        // the poll interval the poll is overdue, so the first round after
        // reconnecting pulls reference data before it uploads anything;
        // forcing it after every blip would only add requests that can
        // fail in turn.
        match f {
            Failure::Retry {
                message,
                retry_after,
            } => {
                let since = match self.status().link {
                    State::Offline { since, .. } => since,
                    _ => Utc::now(),
                };
                self.refresh_backlog();
                self.set_state(State::Offline {
                    since,
                    error: message,
                });
                // Resend from the watermark.
                self.cursor = [None, None];
                let wait = self.backoff.next(retry_after);
                tracing::debug!(
                    wait_ms = wait.as_millis() as u64,
                    attempt = self.backoff.attempts(),
                    "retrying"
                );
                self.sleep(wait);
            }
            Failure::TooLarge if self.batch_limit == 1 => {
                self.failed(Failure::Halt(
                    "head office refuses even a single movement as too large: raise its `body_max_bytes`".into(),
                ));
            }
            Failure::TooLarge => {
                // Head office may have restarted with other limits.
                self.server_batch_max = None;
                self.batch_limit = (self.batch_limit / 2).max(1);
                tracing::warn!(
                    batch_limit = self.batch_limit,
                    "head office found the batch too large; halving it"
                );
            }
            Failure::Rewind { expected } => {
                tracing::warn!(expected, "head office expects an earlier seq; rewinding");
                // Which log was rewound is set by the caller in `cursor`.
                let _ = expected;
            }
            Failure::Credential(error) => {
                self.set_state(State::CredentialRefused { error });
                self.sleep(Duration::from_secs(300));
            }
            Failure::Halt(reason) => {
                let halt = Halt {
                    at: Utc::now(),
                    reason: reason.clone(),
                };
                if let Err(e) = self.store.outbox().set_halt(Some(halt)) {
                    tracing::error!(error = %e, "cannot record the sync halt");
                }
                self.set_state(State::Halted { reason });
            }
            Failure::Store(e) => {
                tracing::error!(error = %e, "sync cannot read the local store");
                self.sleep(Duration::from_secs(5));
            }
        }
    }

    /// Takes the outbox figures and the applied reference versions into the
    /// shared status after a round, for the link's own log lines.
    pub(super) fn refresh_backlog(&self) {
        let outbox = Outbox::read(&self.store);
        let reference = self.reference_versions();
        let mut s = self.status.lock().unwrap_or_else(|p| p.into_inner());
        if let Ok(outbox) = outbox {
            outbox.apply(&mut s);
        }
        s.reference = reference;
    }
}

impl Status {
    /// The link's status with the outbox figures read from the store at this
    /// instant. The link refreshes its copy only after each upload round, so
    /// between rounds (or while head office is down) that copy would show a
    /// backlog of 0 while new movements wait: every reader of the running
    /// link's status (`GET /api/v1/sync`, the console) comes here. A store
    /// that cannot be read leaves the round's figures.
    pub fn now(shared: &Mutex<Status>, store: &Store) -> Status {
        let outbox = Outbox::read(store);
        let mut s = shared.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Ok(outbox) = outbox {
            outbox.apply(&mut s);
        }
        s
    }

    /// The status as the store alone tells it, when no daemon runs: halted
    /// or not yet started, and how far head office holds each log.
    pub fn from_store(store: &Store, url: String) -> Result<Status, StoreError> {
        let mut status = Status::starting(url);
        if let Some(h) = store.outbox().halt()? {
            status.link = State::Halted { reason: h.reason };
        }
        Outbox::read(store)?.apply(&mut status);
        Ok(status)
    }

    /// Before the first exchange with head office: nothing known yet.
    pub(super) fn starting(url: String) -> Status {
        Status {
            link: State::Starting,
            url,
            backlog: 0,
            rejected_backlog: 0,
            acked_seq: 0,
            acked_hash: None,
            last_ack_at: None,
            reference: ReferenceVersions::default(),
            flags: Vec::new(),
        }
    }
}

/// How far head office holds each of the site's logs: the store's chain
/// heads against the outbox positions head office acknowledged.
struct Outbox {
    head: u64,
    rejected_head: u64,
    acked: Option<OutboxPosition>,
    rejected_acked: Option<OutboxPosition>,
}

impl Outbox {
    fn read(store: &Store) -> Result<Outbox, StoreError> {
        let site = store.site();
        Ok(Outbox {
            head: store.journal().head(site)?.seq,
            rejected_head: store.journal().log_head(site, Log::Rejections)?.seq,
            acked: store.outbox().position()?,
            rejected_acked: store.outbox().rejected_position()?,
        })
    }

    fn apply(self, s: &mut Status) {
        let acked_seq = self.acked.as_ref().map_or(0, |a| a.acked_seq);
        s.backlog = self.head.saturating_sub(acked_seq);
        s.rejected_backlog = self
            .rejected_head
            .saturating_sub(self.rejected_acked.map_or(0, |a| a.acked_seq));
        s.acked_seq = acked_seq;
        s.acked_hash = self.acked.map(|a| a.acked_hash);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offline(since: i64, error: &str) -> State {
        State::Offline {
            since: DateTime::from_timestamp(since, 0).unwrap(),
            error: error.into(),
        }
    }

    #[test]
    fn a_new_kind_of_state_is_a_change() {
        assert_eq!(
            transition(&State::Starting, State::Online),
            Transition::Changed(State::Online)
        );
        assert_eq!(
            transition(&State::Online, offline(10, "down")),
            Transition::Changed(offline(10, "down"))
        );
        assert_eq!(
            transition(&offline(10, "down"), State::Online),
            Transition::Changed(State::Online)
        );
        let halted = State::Halted {
            reason: "histories differ".into(),
        };
        assert_eq!(
            transition(&State::Online, halted.clone()),
            Transition::Changed(halted)
        );
    }

    #[test]
    fn an_outage_keeps_its_start_and_takes_the_latest_reason() {
        assert_eq!(
            transition(&offline(10, "refused"), offline(99, "timed out")),
            Transition::Refreshed(offline(10, "timed out"))
        );
    }

    #[test]
    fn the_same_state_again_changes_nothing() {
        assert_eq!(transition(&State::Online, State::Online), Transition::Kept);
        let first = State::Halted {
            reason: "first".into(),
        };
        let second = State::Halted {
            reason: "second".into(),
        };
        assert_eq!(transition(&first, second), Transition::Kept);
        let refused = |e: &str| State::CredentialRefused { error: e.into() };
        assert_eq!(
            transition(&refused("401"), refused("403")),
            Transition::Kept
        );
    }

    #[test]
    fn the_state_serialises_with_its_tag() {
        let v = serde_json::to_value(offline(0, "down")).unwrap();
        assert_eq!(v["state"], "offline");
        assert_eq!(v["error"], "down");
        let v = serde_json::to_value(State::CredentialRefused { error: "x".into() }).unwrap();
        assert_eq!(v["state"], "credential_refused");
    }
}
