//! Reloading the configuration on SIGHUP (`systemctl reload scantrail`),
//! so that a token, a station's policies or a scanner can change without a
//! restart, and without a scan being dropped: requests keep being served
//! and scans decided while the file is read and the changes applied.
//!
//! The file is read and checked as at start. If it is not valid, the error
//! (file, line, key) is logged and the configuration in force stays. If it
//! is, what can change live is applied, one log line a change: the API
//! tokens (each request is checked against the set in force when it
//! arrives), the console's users (whoever's account is removed or changed
//! is signed out), each station's policies (scans queued after the change are
//! decided with them), scanners added (their reader starts) or removed
//! (their reader stops and lets go of the port), and `[log]`. Anything else
//! that differs from what the daemon started with is named in one log line
//! as needing a restart, and stays as it was.

use std::path::PathBuf;

use tokio::signal::unix::{signal, Signal, SignalKind};

use super::desk::Desk;
use super::scanners::Scanners;
use crate::auth::{LiveTokens, Tokens};
use crate::config::{self, Config};

/// SIGHUP, caught from the start of `site::run`, before the store opens:
/// the default action would end the process. One sent before the daemon
/// listens is a reload once it does.
pub struct Hangups(Option<Signal>);

impl Hangups {
    /// Installs the handler now. Must run inside the runtime.
    pub fn install() -> Hangups {
        match signal(SignalKind::hangup()) {
            Ok(s) => Hangups(Some(s)),
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGHUP: the configuration cannot be reloaded without a restart");
                Hangups(None)
            }
        }
    }

    async fn next(&mut self) {
        match &mut self.0 {
            Some(s) => {
                s.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    }
}

/// What a reload changes in the running daemon.
pub struct Live {
    /// The configuration file read again on SIGHUP.
    pub path: PathBuf,
    /// The API's tokens (the sync routes share them).
    pub tokens: LiveTokens,
    /// The desk, which holds the stations' policies.
    pub desk: Desk,
    /// The scanners' readers.
    pub scanners: Scanners,
    /// The console, which holds the users and their sessions.
    pub console: std::sync::Arc<crate::console::Console>,
}

/// Reloads on every SIGHUP until the task is aborted (at shutdown, which
/// also stops the scanners' readers).
pub async fn run(mut hangups: Hangups, started: Config, mut live: Live) {
    let mut applied = started.clone();
    loop {
        hangups.next().await;
        let file = live.path.display().to_string();
        tracing::info!(file, "SIGHUP: reloading the configuration");
        let path = live.path.clone();
        let loaded = tokio::task::spawn_blocking(move || load(&path)).await;
        let (new, specs) = match loaded {
            Ok(Ok(loaded)) => loaded,
            Ok(Err(e)) => {
                tracing::error!(file, error = %e, "the reloaded configuration is not valid; the one in force is kept");
                continue;
            }
            Err(e) => {
                tracing::error!(file, error = %e, "reading the configuration failed; the one in force is kept");
                continue;
            }
        };
        apply(&applied, &new, specs, &mut live).await;
        let restart = restart_needed(&started, &new);
        if !restart.is_empty() {
            tracing::warn!(
                file,
                changed = restart.join(", "),
                "these changes need a restart (`systemctl restart scantrail`); until then the values the daemon started with stay in force"
            );
        }
        applied = new;
        tracing::info!(file, "configuration reloaded");
    }
}

/// The file read and checked as at start, with its scanners' profiles.
fn load(path: &std::path::Path) -> anyhow::Result<(Config, Vec<crate::scan::serial::ScannerSpec>)> {
    let config = Config::load(path)?;
    let specs = crate::scan::sources::specs(&config)?;
    Ok((config, specs))
}

/// Applies what can change live, one log line a change.
async fn apply(
    old: &Config,
    new: &Config,
    specs: Vec<crate::scan::serial::ScannerSpec>,
    live: &mut Live,
) {
    if new.access != old.access {
        let (added, removed, changed) = token_changes(&old.access, &new.access);
        live.tokens.replace(new.access.clone());
        tracing::info!(
            added = added.join(", "),
            removed = removed.join(", "),
            changed = changed.join(", "),
            "API tokens reloaded"
        );
        for name in added.iter().filter(|n| live.tokens.is_enrolled(n)) {
            tracing::warn!(
                name,
                "a configured token now has an enrolled handheld's name: the handheld is refused until one of them is renamed or revoked"
            );
        }
    }
    if new.users != old.users {
        let (added, removed, changed) = user_changes(&old.users, &new.users);
        let signed_out: Vec<String> = removed.iter().chain(&changed).cloned().collect();
        let closed = live.console.replace_users(new.people.clone(), &signed_out);
        tracing::info!(
            added = added.join(", "),
            removed = removed.join(", "),
            changed = changed.join(", "),
            sessions_closed = closed,
            "console users reloaded"
        );
    }
    for (station, policies) in policy_changes(old, new) {
        match live.desk.set_policies(station.clone(), policies).await {
            Ok(true) => tracing::info!(station, "station policies reloaded"),
            // A station added by this file: it needs a restart (below).
            Ok(false) => {}
            Err(_) => return, // the daemon is stopping
        }
    }
    let (removed, added) = scanner_changes(&live.scanners.entries(), &new.scanners);
    for entry in removed {
        if live.scanners.remove(&entry).await {
            tracing::info!(
                port = entry.port,
                station = entry.station,
                "scanner removed: its port is closed"
            );
        }
    }
    for (entry, spec) in new.scanners.iter().zip(specs) {
        if added.contains(entry) {
            tracing::info!(
                port = entry.port,
                station = entry.station,
                profile = spec.profile.name,
                "scanner added"
            );
            live.scanners.add(entry.clone(), spec);
        }
    }
    if new.log != old.log {
        crate::logging::configure(&new.log);
        tracing::info!(format = ?new.log.format, "log format reloaded");
    }
}

/// Token names added, removed, and changed (another token, role or
/// stations).
fn token_changes(old: &Tokens, new: &Tokens) -> (Vec<String>, Vec<String>, Vec<String>) {
    let (old, new) = (old.by_name(), new.by_name());
    let added = new
        .keys()
        .filter(|n| !old.contains_key(*n))
        .cloned()
        .collect();
    let removed = old
        .keys()
        .filter(|n| !new.contains_key(*n))
        .cloned()
        .collect();
    let changed = new
        .iter()
        .filter(|(n, grant)| old.get(*n).is_some_and(|o| o != *grant))
        .map(|(n, _)| n.clone())
        .collect();
    (added, removed, changed)
}

/// Console user names added, removed, and changed (another role or
/// password).
fn user_changes(
    old: &[crate::console::users::UserEntry],
    new: &[crate::console::users::UserEntry],
) -> (Vec<String>, Vec<String>, Vec<String>) {
    let find = |all: &[crate::console::users::UserEntry], name: &str| {
        all.iter().find(|u| u.name == name).cloned()
    };
    let added = new
        .iter()
        .filter(|u| find(old, &u.name).is_none())
        .map(|u| u.name.clone())
        .collect();
    let removed = old
        .iter()
        .filter(|u| find(new, &u.name).is_none())
        .map(|u| u.name.clone())
        .collect();
    let changed = new
        .iter()
        .filter(|u| find(old, &u.name).is_some_and(|o| o != **u))
        .map(|u| u.name.clone())
        .collect();
    (added, removed, changed)
}

/// The stations of both files whose policies differ, with the new ones.
fn policy_changes(old: &Config, new: &Config) -> Vec<(String, crate::station::Policies)> {
    new.stations
        .iter()
        .filter(|s| {
            old.stations
                .iter()
                .any(|o| o.id == s.id && o.policies != s.policies)
        })
        .map(|s| (s.id.clone(), s.policies.clone()))
        .collect()
}

/// The running scanners no longer in the file, and the file's scanners not
/// running; a changed entry (port, profile or station) is both.
fn scanner_changes(
    running: &[config::Scanner],
    new: &[config::Scanner],
) -> (Vec<config::Scanner>, Vec<config::Scanner>) {
    let removed = running
        .iter()
        .filter(|s| !new.contains(s))
        .cloned()
        .collect();
    let added = new
        .iter()
        .filter(|s| !running.contains(s))
        .cloned()
        .collect();
    (removed, added)
}

/// What differs from the file the daemon started with but cannot change
/// while it runs, by key.
fn restart_needed(started: &Config, new: &Config) -> Vec<&'static str> {
    let shape = |c: &Config| -> Vec<(String, config::StationMode, String)> {
        c.stations
            .iter()
            .map(|s| (s.id.clone(), s.mode, s.location.clone()))
            .collect()
    };
    let checks = [
        (started.data_dir != new.data_dir, "data_dir"),
        (started.site != new.site, "[site]"),
        (started.http.listen != new.http.listen, "[http] listen"),
        (
            (&started.http.cert, &started.http.key) != (&new.http.cert, &new.http.key),
            "[http] cert and key",
        ),
        (
            started.http.connections != new.http.connections,
            "[http] connection limits",
        ),
        (
            shape(started) != shape(new),
            "[[stations]] (added, removed, or their mode or location)",
        ),
        (started.sync != new.sync, "[sync]"),
        (started.backup != new.backup, "[backup]"),
        // The alerts' outlets (webhook, relay) and their limits are built
        // once at start.
        (started.alerts != new.alerts, "[alerts]"),
    ];
    checks
        .into_iter()
        .filter(|(differs, _)| *differs)
        .map(|(_, key)| key)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "data_dir = \"d\"\n[site]\nid = \"x\"\n\
        [[stations]]\nid = \"dock-1\"\nmode = \"receive\"\n\
        [[tokens]]\nname = \"h1\"\nrole = \"handheld\"\ntoken = \"h1-token-0123456789\"\nstations = [\"dock-1\"]\n";

    fn parse(extra: &str) -> Config {
        Config::parse(&format!("{BASE}{extra}")).unwrap()
    }

    #[test]
    fn tokens_added_removed_and_changed_are_told_apart() {
        let old =
            parse("[[tokens]]\nname = \"a\"\nrole = \"admin\"\ntoken = \"a-token-0123456789\"\n");
        let new = Config::parse(&format!(
            "{}[[tokens]]\nname = \"b\"\nrole = \"admin\"\ntoken = \"b-token-0123456789\"\n",
            BASE.replace("h1-token-0123456789", "h1-token-new-456789")
        ))
        .unwrap();
        let (added, removed, changed) = token_changes(&old.access, &new.access);
        assert_eq!(
            (added, removed, changed),
            (
                vec!["b".to_owned()],
                vec!["a".to_owned()],
                vec!["h1".to_owned()]
            )
        );
        assert!(token_changes(&old.access, &old.access.clone()) == (vec![], vec![], vec![]));
    }

    #[test]
    fn policies_are_live_and_other_sections_need_a_restart() {
        let old = parse("");
        let new = Config::parse(
            &BASE
                .replace(
                    "mode = \"receive\"\n",
                    "mode = \"receive\"\n[stations.policies]\nunknown_gtin = \"refuse\"\n",
                )
                .replace("id = \"x\"", "id = \"y\""),
        )
        .unwrap();
        let changes = policy_changes(&old, &new);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].0, "dock-1");
        assert_eq!(restart_needed(&old, &new), ["[site]"]);
        let moved = parse("[http]\nlisten = \"0.0.0.0:9\"\n[backup]\ndir = \"b\"\n[alerts]\nevery = \"5m\"\n[[stations]]\nid = \"dock-2\"\nmode = \"return\"\n");
        assert_eq!(
            restart_needed(&old, &moved),
            [
                "[http] listen",
                "[[stations]] (added, removed, or their mode or location)",
                "[backup]",
                "[alerts]"
            ]
        );
        assert!(restart_needed(&old, &parse("")).is_empty());
    }

    #[test]
    fn users_added_removed_and_changed_are_told_apart() {
        let user = |name: &str, role: &str| crate::console::users::UserEntry {
            name: name.to_owned(),
            role: role.to_owned(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA".to_owned(),
        };
        let old = [user("sue", "supervisor"), user("bob", "handheld")];
        let new = [user("sue", "admin"), user("amy", "handheld")];
        assert_eq!(
            user_changes(&old, &new),
            (
                vec!["amy".to_owned()],
                vec!["bob".to_owned()],
                vec!["sue".to_owned()]
            )
        );
    }

    #[test]
    fn a_changed_scanner_is_removed_and_added() {
        let scanner = |port: &str| config::Scanner {
            port: port.to_owned(),
            profile: "p.toml".into(),
            station: "dock-1".to_owned(),
        };
        let (removed, added) = scanner_changes(
            &[scanner("/a"), scanner("/b")],
            &[scanner("/b"), scanner("/c")],
        );
        assert_eq!((removed, added), (vec![scanner("/a")], vec![scanner("/c")]));
    }
}
