//! SIGHUP reloads the real daemon's configuration while it runs: a changed
//! token takes effect (the old one gets 401), a scanner added on a
//! pseudo-terminal is read and one removed lets go of its port, a station's
//! policies change, what cannot change live is named as needing a restart,
//! an invalid file is refused with its line and key while the old
//! configuration keeps serving, and scans posted the whole time through
//! the API are all acknowledged and all in the journal.

mod support;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use scantrail::scan::pty::VirtualScanner;
use support::daemon::{serial_item, Api, Daemon};
use support::scanner::{expect_from_host, TEST_PROFILE};

const OLD_TOKEN: &str = "handheld-token-old-1";
const NEW_TOKEN: &str = "handheld-token-new-2";
/// The token of the scans posted all along; never changes.
const STEADY: &str = "steady-handheld-token-3";
const ADMIN: &str = "admin-token-for-reload-4";

/// The site's file: `h1`'s token, the scanners (links in the site's
/// folder), and `extra` appended to dock-1's entry (its policies).
fn text(h1_token: &str, scanners: &[&Path], site_name: &str, dock_1: &str) -> String {
    let mut text = format!(
        "data_dir = \"data\"\n\
         [site]\nid = \"reload-site\"\nname = \"{site_name}\"\n\
         [[tokens]]\nname = \"admin\"\nrole = \"admin\"\ntoken = \"{ADMIN}\"\n\
         [[tokens]]\nname = \"h1\"\nrole = \"handheld\"\ntoken = \"{h1_token}\"\nstations = [\"dock-1\"]\n\
         [[tokens]]\nname = \"steady\"\nrole = \"handheld\"\ntoken = \"{STEADY}\"\nstations = [\"dock-2\"]\n\
         [[stations]]\nid = \"dock-2\"\nmode = \"receive\"\n\
         [[stations]]\nid = \"dock-1\"\nmode = \"receive\"\n{dock_1}"
    );
    for link in scanners {
        text.push_str(&format!(
            "[[scanners]]\nport = \"{}\"\nprofile = \"test-scanner.toml\"\nstation = \"dock-1\"\n",
            link.display()
        ));
    }
    text
}

/// Writes `text` as the configuration, sends SIGHUP and waits until the
/// log has one more line containing `until`.
fn reload(daemon: &Daemon, config: &Path, text: &str, until: &str) {
    let before = daemon.log().matches(until).count();
    std::fs::write(config, text).unwrap();
    kill(Pid::from_raw(daemon.pid() as i32), Signal::SIGHUP).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while daemon.log().matches(until).count() == before {
        assert!(
            Instant::now() < deadline,
            "no new {until:?} in the log:\n{}",
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether the daemon holds `device` open.
fn holds_open(daemon: &Daemon, device: &Path) -> bool {
    std::fs::read_dir(format!("/proc/{}/fd", daemon.pid()))
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .any(|target| target == device)
}

fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(f).join().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_applies_tokens_scanners_and_policies_without_losing_a_scan() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_owned();
    std::fs::write(dir.join("test-scanner.toml"), TEST_PROFILE).unwrap();
    let (link_a, link_b) = (dir.join("scanner-a"), dir.join("scanner-b"));
    let config: PathBuf = dir.join("site.toml");
    std::fs::write(&config, text(OLD_TOKEN, &[&link_a], "Reload", "")).unwrap();
    let daemon = Daemon::start(&config);
    // The pseudo-terminals are made after the daemon started, so that it
    // does not inherit their descriptors: then it holds a port open only
    // while it reads it. It waits for a scanner that is not there yet.
    let scanner_a = VirtualScanner::open(Some(&link_a)).unwrap();
    let scanner_b = VirtualScanner::open(Some(&link_b)).unwrap();
    expect_from_host(&scanner_a, b"INIT\r").await;
    let base = daemon.base_url().to_owned();

    // Scans at dock-2 all along, each answer noted.
    let stop = Arc::new(AtomicBool::new(false));
    let steady = {
        let (api, stop) = (Api::new(&base, Some(STEADY)), stop.clone());
        std::thread::spawn(move || {
            let mut seqs = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let answer = api.scan("dock-2", &serial_item(&format!("S{n}")));
                assert_eq!(answer["accepted"], true, "{answer}");
                seqs.push(answer["movement"]["seq"].as_u64().unwrap());
            }
            seqs
        })
    };

    // A new token for h1: the old one is refused, the new one works.
    let text_new = text(NEW_TOKEN, &[&link_a], "Reload", "");
    reload(&daemon, &config, &text_new, "API tokens reloaded");
    let (old, new) = (
        Api::new(&base, Some(OLD_TOKEN)),
        Api::new(&base, Some(NEW_TOKEN)),
    );
    let (old_status, new_answer) = blocking(move || {
        let r = old.post_json(
            "/api/v1/scans",
            &serde_json::json!({ "station": "dock-1", "data": serial_item("T1") }),
        );
        (r.status, new.scan("dock-1", &serial_item("T2")))
    });
    assert_eq!(old_status, 401);
    assert_eq!(new_answer["accepted"], true, "{new_answer}");
    assert!(
        daemon
            .log()
            .contains("added=\"\" removed=\"\" changed=\"h1\""),
        "{}",
        daemon.log()
    );

    // Scanner B added: its reader starts and its scans are recorded.
    let text_b = text(NEW_TOKEN, &[&link_a, &link_b], "Reload", "");
    reload(&daemon, &config, &text_b, "scanner added");
    expect_from_host(&scanner_b, b"INIT\r").await;
    scanner_b
        .write_all(format!("{}\r", serial_item("B1")).as_bytes())
        .await
        .unwrap();
    expect_from_host(&scanner_b, b"\x07G").await;

    // Scanner A removed: its port is let go; B goes on.
    assert!(holds_open(&daemon, scanner_a.path()));
    let text_only_b = text(NEW_TOKEN, &[&link_b], "Reload", "");
    reload(&daemon, &config, &text_only_b, "scanner removed");
    assert!(
        !holds_open(&daemon, scanner_a.path()),
        "{} still open: {:?}\n{}",
        scanner_a.path().display(),
        std::fs::read_dir(format!("/proc/{}/fd", daemon.pid()))
            .unwrap()
            .filter_map(|fd| std::fs::read_link(fd.unwrap().path()).ok())
            .collect::<Vec<_>>(),
        daemon.log()
    );
    assert!(holds_open(&daemon, scanner_b.path()));

    // dock-1 now refuses unknown GTINs; the site's name needs a restart.
    let strict = text(
        NEW_TOKEN,
        &[&link_b],
        "Reload renamed",
        "[stations.policies]\nunknown_gtin = \"refuse\"\n",
    );
    reload(&daemon, &config, &strict, "configuration reloaded");
    let log = daemon.log();
    assert!(
        log.contains("station policies reloaded station=\"dock-1\""),
        "{log}"
    );
    assert!(
        log.contains("need a restart") && log.contains("changed=\"[site]\""),
        "{log}"
    );
    scanner_b
        .write_all(format!("{}\r", serial_item("B2")).as_bytes())
        .await
        .unwrap();
    expect_from_host(&scanner_b, b"\x07B").await;

    // An invalid file: refused with its line and key; the old one serves.
    let invalid = strict.replace(
        "name = \"Reload renamed\"\n",
        "name = \"Reload renamed\"\ncolour = 1\n",
    );
    reload(&daemon, &config, &invalid, "the one in force is kept");
    let log = daemon.log();
    assert!(log.contains("line 5") && log.contains("colour"), "{log}");
    let new = Api::new(&base, Some(NEW_TOKEN));
    let refused = blocking(move || new.scan("dock-1", &serial_item("T3")));
    assert_eq!(refused["code"], "unknown_gtin", "{refused}");

    stop.store(true, Ordering::Relaxed);
    let seqs = steady.join().unwrap();
    assert!(seqs.len() > 10, "only {} scans went through", seqs.len());
    // Every acknowledged scan is in the journal.
    let admin = Api::new(&base, Some(ADMIN));
    let journal = blocking(move || admin.get("/api/v1/journal?limit=10000"));
    let recorded: std::collections::HashSet<u64> = journal
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect();
    let missing: Vec<&u64> = seqs.iter().filter(|s| !recorded.contains(s)).collect();
    assert!(
        missing.is_empty(),
        "acknowledged but not in the journal: {missing:?}"
    );
    assert!(daemon.stop().success());
}
