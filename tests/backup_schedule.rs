//! Scheduled backups (`[backup]`) in the real daemon: copies of the open
//! store appear in `dir/<time>/` while scans are recorded, only the newest
//! `keep` stay, each is a store that verifies and holds every movement
//! acknowledged before it started; a backup directory that cannot be
//! written shows in health, and scanning goes on.

mod support;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;
use support::daemon::{scantrail, serial_item, verify, Api, Daemon};

const TOKEN: &str = "handheld-token-backups";

/// A site in `dir` with one receiving station and `[backup]` as given.
fn site(dir: &Path, backup: &str) -> PathBuf {
    let config = dir.join("site.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"data\"\n\
             [site]\nid = \"backup-site\"\n\
             [[stations]]\nid = \"dock-1\"\nmode = \"receive\"\nlocation = \"DOCK-1\"\n\
             [[tokens]]\nname = \"handheld-1\"\nrole = \"handheld\"\ntoken = \"{TOKEN}\"\nstations = [\"dock-1\"]\n\
             [backup]\n{backup}"
        ),
    )
    .unwrap();
    config
}

/// The health answer's `backup.last`, once it is not null.
fn last_backup(api: &Api) -> Option<Value> {
    let r = api.get("/api/v1/health");
    assert_eq!(r.status, 200, "{:?}", r.body);
    let last = &r.body["backup"]["last"];
    (!last.is_null()).then(|| last.clone())
}

/// The complete backups in `dir` (names that are times), oldest first.
fn complete(dir: &Path) -> Vec<(DateTime<Utc>, PathBuf)> {
    let mut found: Vec<(DateTime<Utc>, PathBuf)> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    NaiveDateTime::parse_from_str(&name, "%Y%m%dT%H%M%S%.3fZ")
                        .ok()
                        .map(|t| (t.and_utc(), e.path()))
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

/// The highest seq in the store at `data` (0 when empty).
fn last_seq(data: &Path) -> u64 {
    let data = data.to_str().unwrap();
    scantrail(&[
        "journal",
        "--config",
        "/nonexistent/x.toml",
        "--data",
        data,
        "--json",
    ])
    .lines()
    .map(|l| {
        serde_json::from_str::<Value>(l).unwrap()["seq"]
            .as_u64()
            .unwrap()
    })
    .max()
    .unwrap_or(0)
}

#[test]
fn backups_appear_while_scanning_only_keep_stay_and_each_holds_what_was_acknowledged() {
    let tmp = tempfile::tempdir().unwrap();
    let config = site(tmp.path(), "dir = \"backups\"\nevery = \"1s\"\nkeep = 2\n");
    let backups = tmp.path().join("backups");
    let daemon = Daemon::start(&config);
    let api = Api::new(daemon.base_url(), Some(TOKEN));

    // Scans go on in the background the whole time; each acknowledged
    // seq is noted with the time its answer arrived.
    let stop = Arc::new(AtomicBool::new(false));
    let scanner = {
        let (api, stop) = (api.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut acknowledged: Vec<(DateTime<Utc>, u64)> = Vec::new();
            let mut slowest = Duration::ZERO;
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let sent = Instant::now();
                let answer = api.scan("dock-1", &serial_item(&format!("B{n}")));
                slowest = slowest.max(sent.elapsed());
                assert_eq!(answer["accepted"], true, "{answer}");
                let seq = answer["movement"]["seq"].as_u64().unwrap();
                acknowledged.push((Utc::now(), seq));
            }
            (acknowledged, slowest)
        })
    };

    // Wait for at least four backups to have been made.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = std::collections::BTreeSet::new();
    while seen.len() < 4 {
        assert!(
            Instant::now() < deadline,
            "backups seen: {seen:?}\n{}",
            daemon.log()
        );
        if let Some(last) = last_backup(&api) {
            assert_eq!(last["ok"], true, "{last}");
            // Commits paused only for the raw copy, not the whole backup.
            assert!(
                last["paused_seconds"].as_f64().unwrap() <= last["seconds"].as_f64().unwrap(),
                "{last}"
            );
            seen.insert(last["path"].as_str().unwrap().to_owned());
        }
        // Never more than `keep` complete copies, but for the moment
        // between a new one's rename and the oldest one's deletion (the
        // old one goes only once the new one is complete).
        assert!(complete(&backups).len() <= 3, "{:?}", complete(&backups));
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::Relaxed);
    let (acknowledged, slowest) = scanner.join().unwrap();
    assert!(daemon.stop().success());

    let kept = complete(&backups);
    assert_eq!(kept.len(), 2, "{kept:?}");
    // Nothing half-written is left: only the two copies (and no partial).
    assert_eq!(std::fs::read_dir(&backups).unwrap().count(), 2);
    for (started, path) in &kept {
        let (code, out) = verify(path);
        assert_eq!(code, Some(0), "verify {}: {out}", path.display());
        let before: u64 = acknowledged
            .iter()
            .filter(|(at, _)| at < started)
            .map(|(_, seq)| *seq)
            .max()
            .unwrap_or(0);
        let held = last_seq(path);
        assert!(
            held >= before,
            "{} holds up to seq {held}, but seq {before} was acknowledged before it started",
            path.display()
        );
    }
    // The newer copy started after scans had been acknowledged.
    assert!(last_seq(&kept[1].1) > 0);
    let log = std::fs::read_to_string(config.with_extension("log")).unwrap();
    assert!(log.matches("backup written").count() >= 4, "{log}");
    eprintln!(
        "{} scans acknowledged during {} backups; slowest answer {slowest:?}",
        acknowledged.len(),
        log.matches("backup written").count()
    );
    // The record the doctor reads is in the data directory.
    let record: Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("data/last-backup.json")).unwrap())
            .unwrap();
    assert_eq!(record["ok"], true);
}

#[test]
fn a_backup_directory_that_cannot_be_written_shows_in_health_and_scanning_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    // Under a plain file: no user, root included, can create it.
    std::fs::write(tmp.path().join("not-a-dir"), b"").unwrap();
    let config = site(
        tmp.path(),
        "dir = \"not-a-dir/backups\"\nevery = \"1s\"\nkeep = 2\n",
    );
    let daemon = Daemon::start(&config);
    let api = Api::new(daemon.base_url(), Some(TOKEN));
    let deadline = Instant::now() + Duration::from_secs(30);
    let last = loop {
        if let Some(last) = last_backup(&api) {
            break last;
        }
        assert!(Instant::now() < deadline, "{}", daemon.log());
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(last["ok"], false, "{last}");
    let error = last["error"].as_str().unwrap();
    assert!(
        error.contains("cannot write the backup") && error.contains("not-a-dir/backups"),
        "{error}"
    );
    // Scanning goes on, and health says the store is fine.
    for n in 0..20 {
        let answer = api.scan("dock-1", &serial_item(&format!("F{n}")));
        assert_eq!(answer["accepted"], true, "{answer}");
    }
    let health = api.get("/api/v1/health");
    assert_eq!(
        (health.status, &health.body["status"]),
        (200, &Value::from("ok"))
    );
    assert!(daemon.log().contains("backup failed"), "{}", daemon.log());
    assert!(daemon.stop().success());
}
