//! A full disk, for real: the daemon's store on a small tmpfs that a
//! ballast file fills. Scans and context changes must be refused in plain
//! words (never answered as done), health must say why, and once the
//! ballast is gone commits must resume without a restart, with gap-free
//! seqs and every acknowledged scan in the journal.
//!
//! Mounting needs root (the CI runs as root). A test that cannot mount
//! fails and says so; it never skips.

#[allow(dead_code)]
mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::daemon::{serial_item, Api, Daemon};
use support::scanner::expect_from_host;

const SERIAL_GTIN: &str = "09506000134352";
const TOKEN: &str = "handheld-token-0001";
const ADMIN: &str = "admin-token-00001";
const FULL: &str = "the site's disk is full; tell IT";

/// A tmpfs mounted for the test; unmounted on drop.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(dir).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .expect("cannot run `mount`: this test needs util-linux's mount and root");
        assert!(
            out.status.success(),
            "cannot mount a {size} tmpfs at {} ({}): this test needs root (or CAP_SYS_ADMIN) to fill a real filesystem",
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
        Tmpfs {
            dir: dir.to_owned(),
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

/// Fills the filesystem holding `path` to the last byte.
fn fill(path: &Path) {
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![0xa5u8; 64 * 1024];
    loop {
        if let Err(e) = f.write_all(&chunk) {
            assert_eq!(e.raw_os_error(), Some(28), "ballast: {e}");
            break;
        }
    }
    // Small writes fill the last partial pages too.
    while f.write_all(&[0u8; 512]).is_ok() {}
    let _ = f.sync_all();
}

#[track_caller]
fn assert_disk_full(answer: &Value) {
    assert_eq!(answer["accepted"], false, "{answer}");
    assert_eq!(answer["code"], "disk_full", "{answer}");
    assert_eq!(answer["reason"], FULL, "{answer}");
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A site whose store is on a fresh 16 MB tmpfs at `tmp/mnt`, with a
/// serial scanner linked at `scanner` on station dock-1 if given.
struct FullSite {
    // Dropped last: the daemon and files go first.
    config: PathBuf,
    mnt: PathBuf,
    _fs: Tmpfs,
}

impl FullSite {
    fn new(tmp: &Path, scanner: Option<&Path>) -> FullSite {
        let mnt = tmp.join("mnt");
        let fs = Tmpfs::mount(&mnt, "16m");
        let config = tmp.join("site.toml");
        let mut text = format!(
            "data_dir = \"{}\"\n\
             [site]\nid = \"full-site\"\nname = \"Full disk site\"\n\
             [[stations]]\nid = \"dock-1\"\nmode = \"receive\"\nlocation = \"DOCK-1\"\n\
             [[stations]]\nid = \"dispatch-1\"\nmode = \"dispatch\"\nlocation = \"DISPATCH-1\"\n\
             [[tokens]]\nname = \"admin\"\nrole = \"admin\"\ntoken = \"{ADMIN}\"\n\
             [[tokens]]\nname = \"handheld-1\"\nrole = \"handheld\"\nstations = [\"dock-1\", \"dispatch-1\"]\ntoken = \"{TOKEN}\"\n",
            mnt.join("data").display()
        );
        if let Some(link) = scanner {
            std::fs::write(
                tmp.join("test-scanner.toml"),
                "description = \"test scanner on a pty\"\n\
                 [framing]\nsuffix = \"CR\"\ninter_byte_timeout_ms = 500\n\
                 [symbology]\naim = \"expected\"\n\
                 [feedback]\ninit = \"INIT\\r\"\ngood_read = \"\\u0007G\"\nbad_read = \"\\u0007B\"\n",
            )
            .unwrap();
            text.push_str(&format!(
                "[[scanners]]\nport = \"{}\"\nprofile = \"test-scanner.toml\"\nstation = \"dock-1\"\n",
                link.display()
            ));
        }
        std::fs::write(&config, text).unwrap();
        FullSite {
            config,
            mnt,
            _fs: fs,
        }
    }

    /// Starts the daemon and imports the product; returns the handheld's
    /// and the admin's clients.
    fn start(&self) -> (Daemon, Api, Api) {
        let daemon = Daemon::start(&self.config);
        let api = Api::new(daemon.base_url(), Some(TOKEN));
        let admin = Api::new(daemon.base_url(), Some(ADMIN));
        let r = admin.post_text(
            "/api/v1/products",
            &format!("gtin,description,tracking,warranty_months,shelf_life_days\n{SERIAL_GTIN},Insulin pen,lot_and_serial,24,\n"),
        );
        assert_eq!(r.status, 200, "{:?}", r.body);
        (daemon, api, admin)
    }

    fn ballast(&self) -> PathBuf {
        self.mnt.join("ballast")
    }
}

/// Fills the disk, then scans at dock-1 until the store runs out of room
/// (sled may still fit a few in pages it already has). Returns the serials
/// accepted and the one refused.
fn fill_until_refused(site: &FullSite, api: &Api) -> (Vec<String>, String) {
    fill(&site.ballast());
    let mut accepted = vec![];
    for i in 1..=200 {
        let serial = format!("B{i}");
        let answer = api.scan("dock-1", &serial_item(&serial));
        if answer["accepted"] == true {
            accepted.push(serial);
            continue;
        }
        let text = answer.to_string();
        assert!(
            !text.contains("Os {") && !text.contains("restart"),
            "the details are for the log: {answer}"
        );
        assert_disk_full(&answer);
        return (accepted, serial);
    }
    panic!("200 scans on a full disk were all accepted");
}

#[test]
fn a_full_disk_refuses_clearly_and_commits_resume_once_space_is_back() {
    let tmp = tempfile::tempdir().unwrap();
    let site = FullSite::new(tmp.path(), None);
    let (config, mnt) = (site.config.clone(), site.mnt.clone());
    let (daemon, api, admin) = site.start();

    let mut acknowledged = vec![];
    let first = api.scan("dock-1", &serial_item("A0"));
    assert_eq!(first["accepted"], true, "{first}");
    acknowledged.push("A0".to_owned());
    let r = admin.put_json(
        "/api/v1/stations/dispatch-1/context",
        &json!({ "order": "O-1" }),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(admin.get("/api/v1/health").status, 200);

    let (more, first_refused) = fill_until_refused(&site, &api);
    acknowledged.extend(more);
    let mut refused = vec![first_refused];

    // While full: health says why, scans and context changes are refused.
    let health = admin.get("/api/v1/health");
    assert_eq!(health.status, 503, "{:?}", health.body);
    assert_eq!(health.body["status"], "failing", "{:?}", health.body);
    assert!(
        health.body["store"].as_str().unwrap().contains(FULL),
        "{:?}",
        health.body
    );
    for i in 0..3 {
        let serial = format!("C{i}");
        assert_disk_full(&api.scan("dock-1", &serial_item(&serial)));
        refused.push(serial);
    }
    let r = admin.put_json(
        "/api/v1/stations/dispatch-1/context",
        &json!({ "order": "O-FULL" }),
    );
    assert_eq!(r.status, 507, "{:?}", r.body);
    assert_eq!(r.body["code"], "disk_full", "{:?}", r.body);
    assert!(
        r.body["error"].as_str().unwrap().contains(FULL),
        "{:?}",
        r.body
    );
    assert_disk_full(&api.scan("dispatch-1", "]C1400O-BARCODE"));
    let context = admin.get("/api/v1/stations/dispatch-1/context");
    assert_eq!(
        context.body["order"], "O-1",
        "a refused change was made: {:?}",
        context.body
    );

    // Reopening is tried (with backoff) while the disk is still full: it
    // must neither let scans through nor lose the failure.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(admin.get("/api/v1/health").status, 503);
    for i in 3..6 {
        let serial = format!("C{i}");
        let answer = api.scan("dock-1", &serial_item(&serial));
        assert_disk_full(&answer);
        refused.push(serial);
    }

    // The details are in the log.
    let log = daemon.log();
    assert!(log.contains("durable write failed"), "{log}");
    assert!(log.contains("is full"), "{log}");
    assert!(
        log.contains("No space left on device") || log.contains("StorageFull"),
        "the OS error is logged: {log}"
    );

    // Space is back: commits resume by themselves.
    std::fs::remove_file(site.ballast()).unwrap();
    wait_for("health to recover", || {
        admin.get("/api/v1/health").status == 200
    });
    for i in 0..5 {
        let serial = format!("D{i}");
        let answer = api.scan("dock-1", &serial_item(&serial));
        assert_eq!(answer["accepted"], true, "after recovery: {answer}");
        acknowledged.push(serial);
    }
    let r = admin.put_json(
        "/api/v1/stations/dispatch-1/context",
        &json!({ "order": "O-2" }),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    // One line per state change: failed, retrying, recovered.
    let log = daemon.log();
    for line in [
        "durable write failed",
        "cannot be reopened yet; retrying",
        "store reopened; commits resume",
    ] {
        assert_eq!(log.matches(line).count(), 1, "{line:?} in\n{log}");
    }

    let check_journal = |admin: &Api| {
        let r = admin.get("/api/v1/journal?limit=1000");
        assert_eq!(r.status, 200, "{:?}", r.body);
        let movements = r.body.as_array().unwrap().clone();
        let seqs: Vec<u64> = movements
            .iter()
            .map(|m| m["seq"].as_u64().unwrap())
            .collect();
        let expected: Vec<u64> = (1..=seqs.len() as u64).collect();
        assert_eq!(seqs, expected, "seqs must be gap-free");
        let serials: Vec<String> = movements
            .iter()
            .map(|m| m["body"]["serial"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(serials, acknowledged, "exactly the acknowledged scans");
        for s in &refused {
            assert!(!serials.contains(s), "refused scan {s} is in the journal");
        }
    };
    check_journal(&admin);

    // After a restart: the context is the last one answered as done.
    assert!(daemon.stop().success());
    let daemon = Daemon::start(&config);
    let admin = Api::new(daemon.base_url(), Some(ADMIN));
    let context = admin.get("/api/v1/stations/dispatch-1/context");
    assert_eq!(context.body["order"], "O-2", "{:?}", context.body);
    check_journal(&admin);
    assert!(daemon.stop().success());
    let out = Command::new(support::daemon::binary())
        .args(["verify", "--config"])
        .arg(&config)
        .arg("--data")
        .arg(mnt.join("data"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "verify after recovery: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Scans `data` and waits for the read beep `beep`.
async fn hear(scanner: &scantrail::scan::pty::VirtualScanner, data: &str, beep: &[u8]) {
    scanner
        .write_all(format!("{data}\r").as_bytes())
        .await
        .unwrap();
    expect_from_host(scanner, beep).await;
}

/// A serial scanner hears a bad read for a scan or a badge the full disk
/// kept from being recorded, and good reads again once there is room.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scanner_hears_a_bad_read_while_the_disk_is_full() {
    let tmp = tempfile::tempdir().unwrap();
    let link = tmp.path().join("scanner-1");
    let site = std::sync::Arc::new(FullSite::new(tmp.path(), Some(&link)));
    let scanner = scantrail::scan::pty::VirtualScanner::open(Some(&link)).unwrap();
    let s = site.clone();
    let (daemon, api, admin) = tokio::task::spawn_blocking(move || s.start())
        .await
        .unwrap();
    expect_from_host(&scanner, b"INIT\r").await;
    hear(&scanner, &serial_item("P1"), b"\x07G").await;

    let (s, a) = (site.clone(), api.clone());
    tokio::task::spawn_blocking(move || fill_until_refused(&s, &a))
        .await
        .unwrap();
    hear(&scanner, &serial_item("P2"), b"\x07B").await;
    // A badge changes the station's context: refused too.
    hear(&scanner, "]C0OP:bob", b"\x07B").await;

    std::fs::remove_file(site.ballast()).unwrap();
    let a = admin.clone();
    tokio::task::spawn_blocking(move || {
        wait_for("health to recover", || {
            a.get("/api/v1/health").status == 200
        })
    })
    .await
    .unwrap();
    hear(&scanner, "]C0OP:bob", b"\x07G").await;
    hear(&scanner, &serial_item("P2"), b"\x07G").await;
    let journal = tokio::task::spawn_blocking(move || admin.get("/api/v1/journal"))
        .await
        .unwrap();
    let last = journal.body.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["body"]["serial"], "P2", "{last}");
    assert_eq!(last["body"]["operator"], "bob", "{last}");
    drop(daemon);
}
