//! The sync page: how far head office has the site's history (backlog,
//! the last acknowledged seq and hash, when), the link's state and
//! head office's flags as alerts, and for an admin the resume after a
//! halt (head office refused the site's history).
//!
//! The figures are the link's status read now (what `GET /api/v1/sync`
//! and `scantrail status` show), or, on a site without `[sync]`, the store's
//! outbox position; resume is the store's halt lifted, as `POST
//! /api/v1/sync/resume` does, by the signed-in admin.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use maud::{html, Markup};
use serde::Deserialize;

use super::Pages;
use crate::auth::Role;
use crate::console::{page, Posted, Viewer};
use crate::store::sync_state::Halt;
use crate::store::StoreError;
use crate::sync::link::{State as LinkState, Status};

/// What the page shows, read from the link and the store.
struct Seen {
    status: Option<Status>,
    head_seq: u64,
    head_hash: String,
    acked: Option<(u64, String)>,
    halt: Option<Halt>,
}

fn seen(pages: &Pages) -> Result<Seen, StoreError> {
    let store = &pages.app.store;
    let head = store.journal().head(store.site())?;
    let acked = store
        .outbox()
        .position()?
        .map(|p| (p.acked_seq, p.acked_hash.to_string()));
    Ok(Seen {
        status: pages.sync.as_ref().map(|shared| Status::now(shared, store)),
        head_seq: head.seq,
        head_hash: head.hash.to_string(),
        acked,
        halt: store.outbox().halt()?,
    })
}

#[derive(Deserialize, Default)]
pub(crate) struct SyncQuery {
    #[serde(default)]
    resumed: Option<String>,
}

fn ago(t: DateTime<Utc>) -> String {
    let s = (Utc::now() - t).num_seconds().max(0);
    match s {
        0..=119 => format!("{s} s ago"),
        120..=7199 => format!("{} min ago", s / 60),
        _ => format!("{} h ago", s / 3600),
    }
}

fn link_state(s: &LinkState) -> (&'static str, String) {
    match s {
        LinkState::Starting => ("warn", "starting: no exchange with head office yet".into()),
        LinkState::Online => ("notice", "online: the last exchange with head office succeeded".into()),
        LinkState::Offline { since, error } => (
            "problem",
            format!(
                "offline since {} ({}): {error}. Scans go on and wait in the outbox.",
                since.format("%Y-%m-%d %H:%M:%S UTC"),
                ago(*since)
            ),
        ),
        LinkState::CredentialRefused { error } => (
            "problem",
            format!("head office refused this site's credential: {error}. Fix [sync] credential in the configuration."),
        ),
        LinkState::Halted { reason } => (
            "problem",
            format!("halted: {reason}"),
        ),
    }
}

/// `GET /sync`.
pub(crate) async fn page(
    State(pages): State<Pages>,
    viewer: Viewer,
    Query(q): Query<SyncQuery>,
) -> Response {
    let p = pages.clone();
    let seen = match super::blocking(move || seen(&p)).await {
        Ok(s) => s,
        Err(e) => return super::failed(&pages, &viewer, "Sync state cannot be read", e),
    };
    let body = body(&viewer, &seen, q.resumed.is_some());
    page::shell(&pages.console.chrome, Some(&viewer), "Sync", body).into_response()
}

fn body(viewer: &Viewer, s: &Seen, resumed: bool) -> Markup {
    let (acked_seq, acked_hash) = match (&s.status, &s.acked) {
        (Some(st), _) => (st.acked_seq, st.acked_hash.map(|h| h.to_string())),
        (None, Some((seq, hash))) => (*seq, Some(hash.clone())),
        (None, None) => (0, None),
    };
    let backlog = s
        .status
        .as_ref()
        .map_or(s.head_seq.saturating_sub(acked_seq), |st| st.backlog);
    let rows = vec![
        vec![
            "Movements recorded (last seq)".to_owned(),
            s.head_seq.to_string(),
        ],
        vec![
            "Last seq head office acknowledged".into(),
            acked_seq.to_string(),
        ],
        vec![
            "Its hash".into(),
            acked_hash.unwrap_or_else(|| "none yet".into()),
        ],
        vec![
            "Backlog (movements not yet acknowledged)".into(),
            backlog.to_string(),
        ],
        vec![
            "Rejected scans not yet acknowledged".into(),
            s.status
                .as_ref()
                .map_or("-".into(), |st| st.rejected_backlog.to_string()),
        ],
        vec![
            "Last acknowledgement".into(),
            s.status
                .as_ref()
                .and_then(|st| st.last_ack_at)
                .map_or("none since the daemon started".into(), |t| {
                    format!("{} ({})", t.format("%Y-%m-%d %H:%M:%S UTC"), ago(t))
                }),
        ],
        vec!["This site's last hash".into(), s.head_hash.clone()],
    ];
    html! {
        @if resumed { p.notice role="status" id="sync-notice" { "Sync resumed: the uploader tries again now." } }
        section aria-labelledby="link-h" {
            h2 id="link-h" { "Link to head office" }
            @match &s.status {
                None => p.muted id="sync-link" { "This site has no [sync] section: it does not send its history to head office." },
                Some(st) => {
                    @let (class, text) = link_state(&st.link);
                    p id="sync-link" class=(class) role=(if class == "problem" { "alert" } else { "status" }) { (text) }
                    p.muted { "Head office: " (st.url) }
                }
            }
        }
        section aria-labelledby="alerts-h" {
            h2 id="alerts-h" { "Alerts" }
            @let flags = s.status.as_ref().map(|st| st.flags.as_slice()).unwrap_or(&[]);
            @if s.halt.is_none() && flags.is_empty() {
                p.muted id="sync-alerts" { "None." }
            } @else {
                ul id="sync-alerts" {
                    @if let Some(h) = &s.halt {
                        li.problem { "Halted at " (h.at.format("%Y-%m-%d %H:%M:%S UTC")) ": " (h.reason) }
                    }
                    @for f in flags { li.warn { (f) } }
                }
            }
        }
        section aria-labelledby="out-h" {
            h2 id="out-h" { "Outbox" }
            (page::table("", &["", ""], &rows))
            @if let Some(st) = &s.status {
                p.muted { "Reference data applied: products v" (st.reference.products)
                    ", holds and recalls v" (st.reference.holds) ", pick lists v" (st.reference.picklists) "." }
            }
        }
        @if s.halt.is_some() {
            section aria-labelledby="resume-h" {
                h2 id="resume-h" { "Resume" }
                @if viewer.identity.role.covers(Role::Admin) {
                    p { "Resume only once the cause is understood: head office refused this site's history. The uploader then tries again from the last acknowledged seq." }
                    form method="post" action="/sync/resume" {
                        (viewer.csrf_field())
                        button.danger type="submit" id="sync-resume" { "Resume sync" }
                    }
                } @else {
                    p.muted { "An admin can resume sync here once the cause is understood." }
                }
            }
        }
    }
}

/// `POST /sync/resume` (admin): lifts the halt, as the API's resume does.
pub async fn resume(State(pages): State<Pages>, form: Posted) -> Response {
    if let Err(r) = form.viewer.require(&pages.console.chrome, Role::Admin) {
        return r;
    }
    let store = pages.app.store.clone();
    match super::blocking(move || store.outbox().set_halt(None)).await {
        Ok(()) => {
            tracing::info!(
                by = form.viewer.name(),
                "sync halt lifted by an operator (console)"
            );
            Redirect::to("/sync?resumed=1").into_response()
        }
        Err(e) => super::failed(&pages, &form.viewer, "Sync state cannot be read", e),
    }
}
