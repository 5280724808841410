//! Alerts pushed, not waited for: a site nobody watches tells someone when
//! its disk fills, a scanner is gone, sync stops or falls behind, its
//! certificate is about to end, a verify found the store damaged, or the
//! scheduled backups failed or stopped.
//!
//! Every `[alerts] every` the daemon looks (`sample`), judges what it saw
//! against the alerts already raised (`watch`, pure), logs each change in
//! one line, shows the raised ones in `GET /api/v1/health`, and sends each
//! change to `[alerts] webhook` (`webhook`) and by mail through `[alerts]
//! smtp` (`mail`), each retried until taken (`outlet`). The
//! raised alerts are kept in the store, so a restart neither repeats an
//! alert nor forgets to resolve one that ended meanwhile.

pub mod mail;
pub mod outlet;
pub mod sample;
pub mod watch;
pub mod webhook;

use std::sync::{Arc, Mutex};

use chrono::Utc;
use serde::Serialize;
use tokio::sync::{mpsc, watch as signal};
use tokio::task::JoinHandle;

use crate::store::Store;
use outlet::Outlet;
use sample::Sources;
use watch::{Board, Change, Limits};
use webhook::{Payload, Webhook};

/// The store's side tree that keeps the raised alerts across restarts.
const TREE: &str = "alerts";
const KEY: &[u8] = b"board";

/// An alert raised and not yet resolved, as the health route shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Raised {
    /// The kind: `disk_low`, `scanner_gone`, ...
    #[schema(inline, value_type = watch::Kind)]
    pub alert: &'static str,
    /// What it is about (a scanner's port), or empty.
    pub subject: String,
    /// Since when.
    #[schema(value_type = String, format = DateTime)]
    pub since: chrono::DateTime<Utc>,
    /// What is wrong and what to do.
    pub message: String,
}

/// The raised alerts, shared with the routes that show them.
#[derive(Clone, Default)]
pub struct Alerts(Arc<Mutex<Board>>);

impl Alerts {
    /// The alerts raised now, by kind and subject.
    pub fn raised(&self) -> Vec<Raised> {
        let board = self.0.lock().unwrap_or_else(|p| p.into_inner());
        board
            .active
            .iter()
            .map(|(key, active)| Raised {
                alert: key.kind.name(),
                subject: key.subject.clone(),
                since: active.since,
                message: active.message.clone(),
            })
            .collect()
    }
}

/// The running alert tasks.
pub struct Handle {
    stop: signal::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Handle {
    /// Stops looking and posting, and waits for both to end.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// What the alerts need from the site's configuration.
pub struct Settings {
    /// `[site] id`, named in every post.
    pub site: String,
    /// `[alerts]`.
    pub config: crate::config::Alerts,
}

/// Starts watching; `alerts` is where the routes read the raised ones.
pub fn start(
    settings: Settings,
    sources: Sources,
    alerts: Alerts,
) -> Result<Handle, crate::sync::tls::CaError> {
    let (stop, stopped) = signal::channel(false);
    let config = &settings.config;
    let mut outlets = Vec::new();
    if let Some(url) = &config.webhook {
        outlets.push(Outlet::Webhook(Webhook::new(url.clone())?));
    }
    if let (Some(relay), Some(from)) = (&config.smtp, &config.mail_from) {
        outlets.push(Outlet::Mail(mail::Mail {
            relay: relay.clone(),
            from: from.clone(),
            to: config.mail_to.clone(),
        }));
    }
    let mut tasks = Vec::new();
    let mut queues = Vec::new();
    for o in outlets {
        let (queue, queued) = mpsc::unbounded_channel();
        let retry_max = config.retry_max.get();
        tasks.push(tokio::spawn(outlet::deliver(
            o,
            retry_max,
            queued,
            stopped.clone(),
        )));
        queues.push(queue);
    }
    tasks.push(tokio::spawn(look(
        settings, sources, alerts, queues, stopped,
    )));
    Ok(Handle { stop, tasks })
}

/// Samples, judges and announces every `[alerts] every` until stopped.
async fn look(
    settings: Settings,
    sources: Sources,
    alerts: Alerts,
    queues: Vec<mpsc::UnboundedSender<Payload>>,
    mut stop: signal::Receiver<bool>,
) {
    let limits = Limits::of(&settings.config);
    let store = sources.store.clone();
    let kept = tokio::task::spawn_blocking(move || load(&store))
        .await
        .unwrap_or_default();
    *alerts.0.lock().unwrap_or_else(|p| p.into_inner()) = kept;
    let mut ticks = tokio::time::interval(settings.config.every.get());
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.changed() => return,
        }
        let s = sources.clone();
        let Ok(seen) = tokio::task::spawn_blocking(move || s.snapshot(Utc::now())).await else {
            continue;
        };
        let board = alerts.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let (next, changes) = watch::evaluate(&board, &seen, &limits);
        *alerts.0.lock().unwrap_or_else(|p| p.into_inner()) = next.clone();
        if changes.is_empty() {
            continue;
        }
        for t in &changes {
            let alert = t.key.kind.name();
            match t.change {
                Change::Raised => {
                    tracing::warn!(alert, subject = %t.key.subject, message = %t.message, "alert raised")
                }
                Change::Resolved => {
                    tracing::info!(alert, subject = %t.key.subject, message = %t.message, "alert resolved")
                }
            }
            for queue in &queues {
                let _ = queue.send(Payload::of(&settings.site, t));
            }
        }
        let store = sources.store.clone();
        let _ = tokio::task::spawn_blocking(move || save(&store, &next)).await;
    }
}

/// The raised alerts kept by the last run; none when there are none or
/// they cannot be read (then the conditions that still hold are raised
/// again, which is better than never).
fn load(store: &Store) -> Board {
    let records = match store.records().list(TREE) {
        Ok(records) => records,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the alerts raised before the restart; those still true are raised again");
            return Board::default();
        }
    };
    records
        .iter()
        .find(|(k, _)| k.as_slice() == KEY)
        .and_then(|(_, v)| serde_json::from_slice(v).ok())
        .unwrap_or_default()
}

fn save(store: &Store, board: &Board) {
    let saved = serde_json::to_vec(board)
        .map_err(|e| e.to_string())
        .and_then(|bytes| {
            store
                .records()
                .save(TREE, KEY, &bytes, false)
                .map_err(|e| e.to_string())
        });
    if let Err(error) = saved {
        tracing::warn!(%error, "cannot keep the raised alerts in the store; after a restart those still true are raised again");
    }
}
