//! Alerts pushed to a webhook, end to end: the real daemon binary, a
//! webhook receiver on loopback that records every body it is posted, a
//! real pseudo-terminal as the scanner, a head office that is not there.
//! Each alert must arrive once when it starts and once when it ends, never
//! repeated while it lasts, and not be lost while the receiver is down.

mod support;
mod sync_support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::post;
use axum::{Json, Router};
use scantrail::scan::pty::VirtualScanner;
use serde_json::Value;
use support::daemon::{serial_item, Api, Daemon};
use support::scanner::{expect_from_host, TEST_PROFILE};
use sync_support::{certificate_ending_in, wait_for, HqDir, Pki, SiteDir};

/// How long an alert may take to arrive.
const ARRIVE: Duration = Duration::from_secs(20);

/// A webhook receiver on 127.0.0.1 that keeps every JSON body posted to
/// `/hook`, answering 204.
struct Receiver {
    bodies: Arc<Mutex<Vec<Value>>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Receiver {
    fn on(listener: TcpListener) -> Receiver {
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let kept = bodies.clone();
        let app = Router::new().route(
            "/hook",
            post(move |Json(body): Json<Value>| async move {
                kept.lock().unwrap().push(body);
                axum::http::StatusCode::NO_CONTENT
            }),
        );
        listener.set_nonblocking(true).unwrap();
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
        Receiver {
            bodies,
            runtime: Some(runtime),
        }
    }

    /// A receiver on a port of the system's choosing, and its URL.
    fn start() -> (Receiver, String) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = hook_url(listener.local_addr().unwrap().port());
        (Receiver::on(listener), url)
    }

    /// The bodies of `alert` received so far, as `state` strings.
    fn states(&self, alert: &str) -> Vec<String> {
        self.bodies
            .lock()
            .unwrap()
            .iter()
            .filter(|b| b["alert"] == alert)
            .map(|b| b["state"].as_str().unwrap_or("?").to_owned())
            .collect()
    }

    /// Waits until `alert` has been received as `states`; panics naming
    /// what did arrive, with the daemon's log.
    fn wait_states(&self, daemon: &Daemon, alert: &str, states: &[&str]) {
        if wait_for(ARRIVE, || self.states(alert) == states).is_none() {
            panic!(
                "{alert}: wanted {states:?}, received {:?}; the daemon's log:\n{}",
                self.bodies.lock().unwrap(),
                daemon.log()
            );
        }
    }

    fn last(&self, alert: &str) -> Value {
        self.bodies
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find(|b| b["alert"] == alert)
            .cloned()
            .unwrap_or(Value::Null)
    }
}

fn hook_url(port: u16) -> String {
    format!("http://127.0.0.1:{port}/hook")
}

/// `[alerts]` with test-short limits; the disk's limits are `disk` (a
/// high one raises disk_low at once).
fn alerts_table(url: &str, disk_mb: u64) -> String {
    format!(
        "[alerts]\nwebhook = \"{url}\"\nevery = \"200ms\"\nscanner_gone_after = \"1s\"\n\
         sync_backlog_older_than = \"1s\"\nretry_max = \"300ms\"\n\
         disk_free_below_percent = 0\ndisk_free_below_mb = {disk_mb}\n"
    )
}

/// A site with one scanner on the pty link `scanner` and `alerts`.
fn site_with_scanner(dir: &Path, alerts: &str) -> PathBuf {
    std::fs::write(dir.join("test-scanner.toml"), TEST_PROFILE).unwrap();
    let config = dir.join("site.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"data\"\n[site]\nid = \"north\"\n\
             [[stations]]\nid = \"dock-1\"\nmode = \"receive\"\n\
             [[scanners]]\nport = \"{}\"\nprofile = \"test-scanner.toml\"\nstation = \"dock-1\"\n{alerts}",
            dir.join("scanner").display()
        ),
    )
    .unwrap();
    config
}

/// The runtime whose reactor the pty's reads need.
fn reactor() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The daemon started on `site_with_scanner` (alerts posted to `url`,
/// test-short limits), its scanner plugged in and initialised.
fn start_with_scanner(
    runtime: &tokio::runtime::Runtime,
    dir: &Path,
    url: &str,
) -> (PathBuf, VirtualScanner, Daemon) {
    let _reactor = runtime.enter();
    let config = site_with_scanner(dir, &alerts_table(url, 0));
    let scanner = VirtualScanner::open(Some(&dir.join("scanner"))).unwrap();
    let daemon = Daemon::start(&config);
    runtime.block_on(expect_from_host(&scanner, b"INIT\r"));
    (config, scanner, daemon)
}

/// The alerts `GET /api/v1/health` lists now.
fn health_alerts(daemon: &Daemon) -> Vec<String> {
    let health = Api::new(daemon.base_url(), None).get("/api/v1/health");
    assert_eq!(health.status, 200, "{:?}", health.body);
    health.body["alerts"]
        .as_array()
        .unwrap_or_else(|| panic!("no alerts list in {}", health.body))
        .iter()
        .map(|a| a["alert"].as_str().unwrap_or("?").to_owned())
        .collect()
}

#[test]
fn a_scanner_gone_past_its_limit_is_raised_once_and_resolved_once_it_is_back() {
    let runtime = reactor();
    let _reactor = runtime.enter();
    let tmp = tempfile::tempdir().unwrap();
    let (receiver, url) = Receiver::start();
    let (_, scanner, daemon) = start_with_scanner(&runtime, tmp.path(), &url);
    let link = tmp.path().join("scanner");

    // Connected for several samples: nothing.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(receiver.states("scanner_gone").is_empty());

    drop(scanner); // unplugged: the link is gone, the pty closed
    receiver.wait_states(&daemon, "scanner_gone", &["raised"]);
    let raised = receiver.last("scanner_gone");
    assert_eq!(raised["site"], "north", "{raised}");
    assert_eq!(raised["subject"], link.display().to_string(), "{raised}");
    let message = raised["message"].as_str().unwrap();
    assert!(
        message.contains("(station dock-1) has been gone") && message.contains("check its cable"),
        "{message}"
    );
    assert!(
        raised["at"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{raised}"
    );
    assert_eq!(health_alerts(&daemon), ["scanner_gone"]);
    // Still gone over several more samples: not repeated.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(receiver.states("scanner_gone"), ["raised"]);

    let scanner = VirtualScanner::open(Some(&link)).unwrap();
    runtime.block_on(expect_from_host(&scanner, b"INIT\r"));
    receiver.wait_states(&daemon, "scanner_gone", &["raised", "resolved"]);
    assert!(
        receiver.last("scanner_gone")["message"]
            .as_str()
            .unwrap()
            .contains("is connected again"),
        "{}",
        receiver.last("scanner_gone")
    );
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(receiver.states("scanner_gone"), ["raised", "resolved"]);
    assert!(health_alerts(&daemon).is_empty());
    // Nothing else was wrong.
    assert_eq!(receiver.bodies.lock().unwrap().len(), 2);
    let log = daemon.log();
    assert_eq!(log.matches("alert raised").count(), 1, "{log}");
    assert_eq!(log.matches("alert resolved").count(), 1, "{log}");
    assert!(daemon.stop().success());
}

#[test]
fn a_backlog_head_office_never_takes_is_raised_once_it_is_older_than_its_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let (receiver, url) = Receiver::start();
    let pki = Pki::new(&tmp.path().join("pki"));
    // Head office is not there: a port nothing listens on.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let hq_url = format!("https://127.0.0.1:{}", closed.local_addr().unwrap().port());
    drop(closed);
    let site = SiteDir::new(
        &tmp.path().join("site"),
        "north",
        &hq_url,
        &pki.ca,
        &format!("\n{}", alerts_table(&url, 0)),
    );
    let daemon = site.start();
    std::thread::sleep(Duration::from_millis(1200));
    assert!(
        receiver.states("sync_backlog_old").is_empty(),
        "nothing waits yet"
    );
    let answer = site.scan("dock-1", &serial_item("ALERT-1"));
    assert_eq!(answer["accepted"], true, "{answer}");
    receiver.wait_states(&daemon, "sync_backlog_old", &["raised"]);
    let message = receiver.last("sync_backlog_old")["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains("1 wait in the outbox") && message.contains("network to head office"),
        "{message}"
    );
    site.scan("dock-1", &serial_item("ALERT-2"));
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(receiver.states("sync_backlog_old"), ["raised"]);
    // Offline is not halted: sync retries by itself.
    assert!(receiver.states("sync_halted").is_empty());
    assert!(daemon.stop().success());
}

#[test]
fn a_full_disk_is_raised_once_kept_across_a_restart_and_resolved_when_it_ends() {
    let tmp = tempfile::tempdir().unwrap();
    let (receiver, url) = Receiver::start();
    // 100 TB free wanted: no test machine has it.
    let config = site_with_scanner(tmp.path(), &alerts_table(&url, 100_000_000));
    let daemon = Daemon::start(&config);
    receiver.wait_states(&daemon, "disk_low", &["raised"]);
    let message = receiver.last("disk_low")["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains(&tmp.path().join("data").display().to_string())
            && message.contains("free space on it"),
        "{message}"
    );
    // Ten more samples: not repeated.
    std::thread::sleep(Duration::from_millis(2000));
    assert_eq!(receiver.states("disk_low"), ["raised"]);
    assert!(health_alerts(&daemon).contains(&"disk_low".to_owned()));
    assert!(daemon.stop().success());

    // Restarted with the disk still low: the alert is not raised again.
    let daemon = Daemon::start(&config);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(receiver.states("disk_low"), ["raised"]);
    assert!(health_alerts(&daemon).contains(&"disk_low".to_owned()));
    assert!(daemon.stop().success());

    // Restarted with a limit the disk meets: resolved, once.
    let config = site_with_scanner(tmp.path(), &alerts_table(&url, 0));
    let daemon = Daemon::start(&config);
    receiver.wait_states(&daemon, "disk_low", &["raised", "resolved"]);
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(receiver.states("disk_low"), ["raised", "resolved"]);
    assert!(daemon.stop().success());
}

#[test]
fn an_alert_raised_while_the_receiver_is_down_arrives_once_it_is_up() {
    let tmp = tempfile::tempdir().unwrap();
    // The receiver's port, kept free for it until it starts.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = site_with_scanner(tmp.path(), &alerts_table(&hook_url(port), 100_000_000));
    let daemon = Daemon::start(&config);
    let tried = wait_for(ARRIVE, || daemon.log().contains("cannot deliver an alert"));
    assert!(tried.is_some(), "{}", daemon.log());
    // Down for several more tries; scans are unaffected meanwhile.
    std::thread::sleep(Duration::from_millis(1500));
    let health = Api::new(daemon.base_url(), None).get("/api/v1/health");
    assert_eq!(health.body["status"], "ok", "{:?}", health.body);

    let receiver = Receiver::on(TcpListener::bind(("127.0.0.1", port)).unwrap());
    receiver.wait_states(&daemon, "disk_low", &["raised"]);
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(receiver.states("disk_low"), ["raised"]);
    let log = daemon.log();
    assert!(log.contains("alerts are delivered again"), "{log}");
    assert_eq!(
        log.matches("cannot deliver an alert").count(),
        1,
        "one line per outage, not per try:\n{log}"
    );
    assert!(daemon.stop().success());
}

/// An SMTP relay on 127.0.0.1 that takes every mail and keeps its text
/// (headers and body, as sent after DATA).
fn smtp_relay() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let mails = Arc::new(Mutex::new(Vec::new()));
    let kept = mails.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let _ = stream.write_all(b"220 test relay\r\n");
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                let answer: &[u8] = match verb.as_str() {
                    "EHLO" => b"250-test relay\r\n250 8BITMIME\r\n",
                    "DATA" => {
                        let _ = stream.write_all(b"354 go on\r\n");
                        let mut text = String::new();
                        let mut l = String::new();
                        while reader.read_line(&mut l).unwrap_or(0) > 0 && l != ".\r\n" {
                            text.push_str(&l);
                            l.clear();
                        }
                        kept.lock().unwrap().push(text);
                        b"250 taken\r\n"
                    }
                    "QUIT" => b"221 bye\r\n",
                    _ => b"250 ok\r\n",
                };
                let _ = stream.write_all(answer);
                if verb == "QUIT" {
                    break;
                }
                line.clear();
            }
        }
    });
    (address, mails)
}

#[test]
fn an_alert_is_mailed_through_the_relay_with_its_state_in_the_subject() {
    let tmp = tempfile::tempdir().unwrap();
    let (relay, mails) = smtp_relay();
    let config = site_with_scanner(
        tmp.path(),
        &format!(
            "[alerts]\nevery = \"200ms\"\ndisk_free_below_percent = 0\ndisk_free_below_mb = 100000000\n\
             smtp = \"{relay}\"\nmail_from = \"scantrail@north.example\"\nmail_to = [\"it@example.com\"]\n"
        ),
    );
    let daemon = Daemon::start(&config);
    let arrived = wait_for(ARRIVE, || !mails.lock().unwrap().is_empty());
    assert!(
        arrived.is_some(),
        "no mail; the daemon's log:\n{}",
        daemon.log()
    );
    std::thread::sleep(Duration::from_millis(1000));
    let mails = mails.lock().unwrap().clone();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(
        mails[0].contains("Subject: [scantrail north] raised: disk_low\r\n")
            && mails[0].contains("To: it@example.com\r\n")
            && mails[0].contains("free space on it"),
        "{}",
        mails[0]
    );
    assert!(daemon.stop().success());
}

/// Head office (its CA and certificate made over by `prepare` first) and
/// a site syncing to it with test-short alerts posted to `url`.
fn head_office_and_site(
    tmp: &Path,
    url: &str,
    prepare: impl FnOnce(&HqDir),
) -> (HqDir, Daemon, SiteDir) {
    let hq = HqDir::new(&tmp.join("hq"), &["north"], "");
    prepare(&hq);
    let hq_daemon = hq.start();
    let site = SiteDir::new(
        &tmp.join("north"),
        "north",
        &hq.url(),
        &hq.pki.ca,
        &format!("\n{}", alerts_table(url, 0)),
    );
    (hq, hq_daemon, site)
}

/// `alert` arrives raised with all of `words` in its message, and is not
/// repeated over the next samples.
fn raised_once(receiver: &Receiver, daemon: &Daemon, alert: &str, words: &[&str]) {
    receiver.wait_states(daemon, alert, &["raised"]);
    let last = receiver.last(alert);
    let message = last["message"].as_str().unwrap_or("");
    assert!(words.iter().all(|w| message.contains(w)), "{last}");
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(receiver.states(alert), ["raised"]);
}

#[test]
fn a_sync_halted_by_head_office_is_raised_once_with_its_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let (receiver, url) = Receiver::start();
    let (hq, _hq, site) = head_office_and_site(tmp.path(), &url, |_| {});
    site.dev_append(5);
    let daemon = site.start();
    assert!(wait_for(ARRIVE, || hq.last_seq("north") == Some(5)).is_some());
    assert!(daemon.stop().success());
    // Another history of the same site: head office refuses it.
    site.rewrite_history();
    let daemon = site.start();
    raised_once(&receiver, &daemon, "sync_halted", &["halted:", "Sync page"]);
    assert!(daemon.stop().success());
}

#[test]
fn head_office_s_certificate_ending_soon_is_raised_at_the_site() {
    let tmp = tempfile::tempdir().unwrap();
    let (receiver, url) = Receiver::start();
    let (_, _hq, site) = head_office_and_site(tmp.path(), &url, |hq| certificate_ending_in(hq, 10));
    let daemon = site.start();
    raised_once(
        &receiver,
        &daemon,
        "hq_certificate_expiring",
        &[
            "(in 9 days)",
            "renew it at head office",
            "every site stops syncing",
        ],
    );
    assert!(daemon.stop().success());
}

#[test]
fn a_backup_directory_that_cannot_be_written_raises_backup_failed_until_a_backup_succeeds() {
    let tmp = tempfile::tempdir().unwrap();
    let (receiver, url) = Receiver::start();
    // Under a plain file: no user, root included, can create it.
    std::fs::write(tmp.path().join("not-a-dir"), b"").unwrap();
    let config = site_with_scanner(
        tmp.path(),
        &format!(
            "{}[backup]\ndir = \"not-a-dir/backups\"\nevery = \"1s\"\nkeep = 2\n",
            alerts_table(&url, 0)
        ),
    );
    let daemon = Daemon::start(&config);
    receiver.wait_states(&daemon, "backup_failed", &["raised"]);
    let message = receiver.last("backup_failed")["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains("failed: cannot write the backup")
            && message.contains("not-a-dir/backups writable"),
        "{message}"
    );
    assert!(health_alerts(&daemon).contains(&"backup_failed".to_owned()));
    // Failing again at every run: not repeated.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(receiver.states("backup_failed"), ["raised"]);

    // The directory can be made: the next backup succeeds and resolves it.
    std::fs::remove_file(tmp.path().join("not-a-dir")).unwrap();
    std::fs::create_dir(tmp.path().join("not-a-dir")).unwrap();
    receiver.wait_states(&daemon, "backup_failed", &["raised", "resolved"]);
    assert!(
        receiver.last("backup_failed")["message"]
            .as_str()
            .unwrap()
            .contains("succeeded"),
        "{}",
        receiver.last("backup_failed")
    );
    assert!(!health_alerts(&daemon).contains(&"backup_failed".to_owned()));
    assert!(daemon.stop().success());
}

#[test]
fn a_scanner_added_by_a_reload_is_watched_and_its_alert_resolves_when_a_reload_removes_it() {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    let runtime = reactor();
    let tmp = tempfile::tempdir().unwrap();
    let (receiver, url) = Receiver::start();
    let (config, scanner, daemon) = start_with_scanner(&runtime, tmp.path(), &url);
    let first = std::fs::read_to_string(&config).unwrap();
    let hup = |text: &str| {
        std::fs::write(&config, text).unwrap();
        kill(Pid::from_raw(daemon.pid() as i32), Signal::SIGHUP).unwrap();
    };

    // A second scanner whose device is not plugged in: gone once the
    // reload has started its reader and its limit has passed.
    let absent = tmp.path().join("scanner-b");
    hup(&format!(
        "{first}[[scanners]]\nport = \"{}\"\nprofile = \"test-scanner.toml\"\nstation = \"dock-1\"\n",
        absent.display()
    ));
    receiver.wait_states(&daemon, "scanner_gone", &["raised"]);
    assert_eq!(
        receiver.last("scanner_gone")["subject"],
        absent.display().to_string()
    );

    // Removed again: its alert resolves, as for any scanner no longer
    // configured.
    hup(&first);
    receiver.wait_states(&daemon, "scanner_gone", &["raised", "resolved"]);
    let message = receiver.last("scanner_gone")["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("no longer configured"), "{message}");
    assert!(health_alerts(&daemon).is_empty());
    drop(scanner);
    assert!(daemon.stop().success());
}

/// A movement changed while the daemon was stopped, after the point the
/// last intact verify reached: the daemon's own check at start (`verify
/// --since last`) names it in its log and raises `verify_failed`; the
/// daemon serves as before.
#[test]
fn damage_done_while_the_daemon_was_stopped_is_found_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let (receiver, url) = Receiver::start();
    let config = tmp.path().join("site.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"data\"\n[site]\nid = \"north\"\n\
             [[stations]]\nid = \"dock-1\"\nmode = \"receive\"\n{}",
            alerts_table(&url, 0)
        ),
    )
    .unwrap();
    let data = tmp.path().join("data");
    support::daemon::dev_append(&config, 20);
    let verify = std::process::Command::new(support::daemon::binary())
        .args(["verify", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    support::daemon::dev_append(&config, 5);
    {
        // Seq 23 changed in place, as a tool writing to sled's files would.
        let db = sled::Config::new().path(&data).open().unwrap();
        let journal = db.open_tree("journal").unwrap();
        let key = scantrail::store::keys::journal("north", 23);
        let mut v = journal.get(&key).unwrap().unwrap().to_vec();
        let span = scantrail::store::blocks::span(&v, 23).unwrap();
        v[span.start + 60] ^= 1;
        journal.insert(key, v).unwrap();
        db.flush().unwrap();
    }
    let daemon = Daemon::start(&config);
    receiver.wait_states(&daemon, "verify_failed", &["raised"]);
    // The alert is raised when the verify's record is saved, a moment
    // before the daemon logs the failure.
    let logged = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !daemon
        .log()
        .contains("the store failed its verify at start")
        && std::time::Instant::now() < logged
    {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let log = daemon.log();
    assert!(
        log.contains("the store failed its verify at start"),
        "{log}"
    );
    assert!(log.contains("23"), "the first bad seq is named: {log}");
    assert!(health_alerts(&daemon).contains(&"verify_failed".to_owned()));
    let health = Api::new(daemon.base_url(), None).get("/api/v1/health");
    assert_eq!(health.status, 200, "{:?}", health.body);
    assert!(daemon.stop().success());
}
