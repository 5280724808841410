//! Replacing a dead site PC, end to end on the real binaries: head office
//! (embedded store, or PostgreSQL) and a site daemon as child processes;
//! the site records a story of receipts, dispatches to customers, a return
//! and a refused scan, head office acknowledges all of it, the site is
//! killed and its data directory deleted; `scantrail restore --from-hq`
//! (or `restore BACKUP --catch-up-from-hq`) rebuilds it, and the site
//! starts again with the same reports, a store that verifies, and the next
//! scan numbered after head office's last acknowledgement, which head
//! office accepts.

mod support;
mod sync_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};
use support::daemon::Api;
use support::pg::TestDb;
use sync_support::*;

const GTIN: &str = "09506000134352";

/// An insulin pen of lot `lot` with serial `serial`, as a scanner sends it.
fn pen(lot: &str, serial: &str) -> String {
    format!("]C101{GTIN}10{lot}\u{1d}21{serial}")
}

fn admin(site: &SiteDir) -> Api {
    Api::new(&site.url(), Some(SITE_ADMIN))
}

fn context(site: &SiteDir, station: &str, body: Value) {
    let r = admin(site).put_json(&format!("/api/v1/stations/{station}/context"), &body);
    assert_eq!(r.status, 200, "{:?}", r.body);
}

/// The seq of an accepted scan.
#[track_caller]
fn accepted(answer: &Value) -> u64 {
    assert_eq!(answer["accepted"], true, "{answer}");
    answer["movement"]["seq"]
        .as_u64()
        .unwrap_or_else(|| panic!("no seq in {answer}"))
}

/// Receipts of lot `lot` serials, dispatches of some to two customers, a
/// return, and one refused scan (a rejected-scan entry). Returns the last
/// movement's seq.
fn story(site: &SiteDir, lot: &str, serials: &[&str]) -> u64 {
    context(site, "dock-1", json!({ "mode": "receive" }));
    for s in serials {
        accepted(&site.scan("dock-1", &pen(lot, s)));
    }
    let bad = site.scan("dock-1", "]C1019999999999999");
    assert_eq!(bad["accepted"], false, "{bad}");
    for (i, s) in serials.iter().take(3).enumerate() {
        let customer = if i % 2 == 0 {
            json!({ "name": "City Pharmacy", "gln": "9506000000026" })
        } else {
            json!({ "name": "Town Clinic" })
        };
        context(
            site,
            "dispatch-1",
            json!({ "order": format!("O-{lot}-{i}"), "customer": customer }),
        );
        accepted(&site.scan("dispatch-1", &pen(lot, s)));
    }
    context(
        site,
        "dock-1",
        json!({ "mode": "return", "return_reason": "damaged", "customer": { "name": "Town Clinic" } }),
    );
    let last = accepted(&site.scan("dock-1", &pen(lot, serials[1])));
    context(
        site,
        "dock-1",
        json!({ "mode": "receive", "customer": null, "return_reason": null }),
    );
    last
}

/// Waits until head office acknowledged movement `seq` (the site's own
/// record of the ack, not a backlog of 0) and every rejected scan.
fn wait_for_ack(site: &SiteDir, seq: u64) {
    let acked = wait_for(Duration::from_secs(30), || {
        site.sync_status()
            .is_some_and(|s| s["acked_seq"].as_u64() == Some(seq) && s["rejected_backlog"] == 0)
    });
    assert!(
        acked.is_some(),
        "head office did not acknowledge seq {seq}: {:?}",
        site.sync_status()
    );
}

/// The site's reports that must survive a restore.
fn reports(site: &SiteDir, lot: &str) -> Vec<(String, Value)> {
    let api = admin(site);
    [
        "stock".to_owned(),
        "stock?by=serial".to_owned(),
        format!("recall?gtin={GTIN}&lot={lot}"),
        format!("trace?gtin={GTIN}&lot={lot}"),
        format!("movements?gtin={GTIN}&lot={lot}"),
    ]
    .into_iter()
    .map(|q| {
        let r = api.get(&format!("/api/v1/reports/{q}"));
        assert_eq!(r.status, 200, "{q}: {:?}", r.body);
        (q, without_times(r.body))
    })
    .collect()
}

/// A report without when it was made.
fn without_times(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("generated_at");
        o.remove("as_of");
    }
    v
}

fn restore(config: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_scantrail"))
        .arg("restore")
        .args(args)
        .arg("--config")
        .arg(config)
        .env(
            "RUST_LOG",
            std::env::var("RESTORE_LOG").unwrap_or("warn".into()),
        )
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// Every file under `dir` with the SHA-256 of its content.
fn listing(dir: &Path) -> Vec<(PathBuf, String)> {
    use sha2::Digest;
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(listing(&p));
        } else {
            let hash = sha2::Sha256::digest(std::fs::read(&p).unwrap());
            out.push((p.clone(), hex::encode(hash)));
        }
    }
    out.sort();
    out
}

/// A site configuration of site `id` that authenticates with `other`'s
/// credential.
fn with_credential_of(site: &SiteDir, dir: &Path, other: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let text = std::fs::read_to_string(&site.config)
        .unwrap()
        .replace(&site_token(&site.id), &site_token(other));
    let config = dir.join("site.toml");
    std::fs::write(&config, text).unwrap();
    config
}

/// The restored store holds the dead one's logs entry for entry, and the
/// same acknowledgements of head office.
fn same_store(dead: &Path, restored: &Path) {
    use scantrail::store::{OpenOptions, Store};
    let a = Store::open(dead, OpenOptions::existing(None)).unwrap();
    let b = Store::open(restored, OpenOptions::existing(None)).unwrap();
    let site = a.site().to_owned();
    let movements = a.journal().range(&site, 1, usize::MAX).unwrap();
    assert!(!movements.is_empty());
    assert_eq!(b.journal().range(&site, 1, usize::MAX).unwrap(), movements);
    let rejected = a.journal().rejected_range(&site, 1, usize::MAX).unwrap();
    assert!(!rejected.is_empty());
    assert_eq!(
        b.journal().rejected_range(&site, 1, usize::MAX).unwrap(),
        rejected
    );
    assert_eq!(
        b.outbox().position().unwrap(),
        a.outbox().position().unwrap()
    );
    assert_eq!(
        b.outbox().rejected_position().unwrap(),
        a.outbox().rejected_position().unwrap()
    );
    for m in &movements {
        if let Some(serial) = &m.body.serial {
            assert_eq!(
                b.view().serial_state(&m.body.gtin, serial).unwrap(),
                a.view().serial_state(&m.body.gtin, serial).unwrap(),
                "serial {serial}"
            );
        }
    }
}

/// The whole story on head office `hq` (started): see the file's doc.
fn dead_pc_replaced(tmp: &Path, hq: &HqDir) {
    let north = SiteDir::new(&tmp.join("north"), "north", &hq.url(), &hq.pki.ca, "");
    let site = north.start();
    story(&north, "LOT1", &["SN1", "SN2", "SN3", "SN4"]);
    let last = story(&north, "LOT2", &["SN5", "SN6", "SN7"]);
    wait_for_ack(&north, last);
    let before = reports(&north, "LOT1");
    let before2 = reports(&north, "LOT2");
    let recall = before[2].1.to_string();
    assert!(
        recall.contains("City Pharmacy") && recall.contains("Town Clinic"),
        "the recall names both customers: {recall}"
    );
    site.kill();

    // The dead PC's store is there still: restore never touches it.
    let kept = listing(&north.data());
    let (ok, out) = restore(&north.config, &["--from-hq"]);
    assert!(!ok, "a restore over a store must be refused: {out}");
    assert!(out.contains("not empty"), "{out}");
    assert_eq!(listing(&north.data()), kept, "the store was touched");

    // The PC is dead: its disk is gone (a copy is kept to compare with).
    let dead = tmp.join("dead-store");
    let cp = Command::new("cp")
        .arg("-a")
        .arg(north.data())
        .arg(&dead)
        .status()
        .unwrap();
    assert!(cp.success());
    std::fs::remove_dir_all(north.data()).unwrap();

    // Head office serves a site's history to that site's credential only.
    let agent = scantrail::sync::tls::agent(Some(&hq.pki.ca), Duration::from_secs(5)).unwrap();
    for token in [
        HQ_ADMIN.to_owned(),
        HQ_SUPERVISOR.to_owned(),
        site_token("south"),
    ] {
        let r = agent
            .get(&format!(
                "{}/api/v1/history/north/movements?from=1",
                hq.url()
            ))
            .set("Authorization", &format!("Bearer {token}"))
            .call();
        assert!(
            matches!(r, Err(ureq::Error::Status(403, _))),
            "{token}: {r:?}"
        );
    }

    // Another site's credential gets nothing of north's.
    let impostor = with_credential_of(&north, &tmp.join("impostor"), "south");
    let (ok, out) = restore(&impostor, &["--from-hq"]);
    assert!(!ok, "{out}");
    assert!(out.contains("403"), "{out}");
    assert!(!tmp.join("impostor/data").exists(), "{out}");

    let (ok, out) = restore(&north.config, &["--from-hq"]);
    assert!(ok, "{out}");
    eprintln!("{out}");
    assert!(out.contains(&format!("movements: seq 1..={last}")), "{out}");
    assert!(
        out.contains(&format!("numbering resumes at seq {}", last + 1)),
        "{out}"
    );
    assert!(out.contains("lost with the old PC"), "{out}");
    assert_eq!(
        std::fs::read_dir(north.data())
            .unwrap()
            .filter(|e| e
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("restor"))
            .count(),
        0,
        "the staging directory and the marker are gone"
    );

    let v = north.cli(&["verify"]);
    assert!(
        v.status.success(),
        "{}{}",
        String::from_utf8_lossy(&v.stdout),
        String::from_utf8_lossy(&v.stderr)
    );
    same_store(&dead, &north.data());

    let site = north.start();
    assert_eq!(reports(&north, "LOT1"), before, "reports of LOT1 changed");
    assert_eq!(reports(&north, "LOT2"), before2, "reports of LOT2 changed");
    let next = accepted(&north.scan("dock-1", &pen("LOT3", "SN9")));
    assert_eq!(next, last + 1, "numbering resumes after head office's ack");
    wait_for_ack(&north, next);
    assert_eq!(hq.last_seq("north"), Some(next));
    let status = north.sync_status().unwrap();
    assert_eq!(status["link"]["state"], "online", "{status}");
    let sites = hq.sites().unwrap();
    let alerts = &sites.iter().find(|s| s["site"] == "north").unwrap()["alerts"];
    assert!(
        alerts
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["code"] != "conflict"),
        "{alerts}"
    );
    site.stop();
}

#[test]
fn a_dead_site_pc_is_rebuilt_from_head_office() {
    let tmp = tempfile::tempdir().unwrap();
    let hq = HqDir::new(&tmp.path().join("hq"), &["north", "south"], "");
    let _hq = hq.start();
    dead_pc_replaced(tmp.path(), &hq);
}

#[test]
fn a_dead_site_pc_is_rebuilt_from_head_office_on_postgres() {
    let tmp = tempfile::tempdir().unwrap();
    let db = TestDb::create("restore");
    let hq = HqDir::new(
        &tmp.path().join("hq"),
        &["north", "south"],
        &format!("database = \"{}\"", db.url),
    );
    let _hq = hq.start();
    dead_pc_replaced(tmp.path(), &hq);
}

/// A backup taken mid-story, older than head office's last ack: the
/// restore starts from it and fetches only what is past it; a backup of
/// another history is refused and leaves nothing behind; and a daemon
/// started empty by mistake halts at its first upload, naming the restore.
#[test]
fn a_backup_older_than_the_ack_is_caught_up_from_head_office() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let hq = HqDir::new(&tmp.join("hq"), &["north"], "");
    let _hq = hq.start();
    let north = SiteDir::new(&tmp.join("north"), "north", &hq.url(), &hq.pki.ca, "");
    let site = north.start();
    let at_backup = story(&north, "LOT1", &["SN1", "SN2", "SN3"]);
    wait_for_ack(&north, at_backup);
    site.stop();
    let backup = tmp.join("backup");
    let out = north.cli(&["backup", backup.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let site = north.start();
    let last = story(&north, "LOT2", &["SN5", "SN6", "SN7", "SN8"]);
    wait_for_ack(&north, last);
    let before = reports(&north, "LOT2");
    site.kill();
    std::fs::remove_dir_all(north.data()).unwrap();

    // Started empty by mistake: its seq 1 is not head office's, sync halts
    // and says how to cure it.
    let mistake = north.start();
    accepted(&north.scan("dock-1", &pen("LOT9", "SN90")));
    let halted = wait_for(Duration::from_secs(30), || {
        north
            .sync_status()
            .is_some_and(|s| s["link"]["state"] == "halted")
    });
    let status = north.sync_status();
    assert!(halted.is_some(), "{status:?}");
    let reason = status.unwrap()["link"]["reason"].to_string();
    assert!(reason.contains("scantrail restore --from-hq"), "{reason}");
    mistake.kill();
    std::fs::remove_dir_all(north.data()).unwrap();

    // A backup of another history of north (as a store rebuilt by hand
    // would be): refused at the overlap, nothing left behind.
    let other = SiteDir::new(&tmp.join("other"), "north", &hq.url(), &hq.pki.ca, "");
    other.dev_append(5);
    let (ok, out) = restore(
        &north.config,
        &[other.data().to_str().unwrap(), "--catch-up-from-hq"],
    );
    assert!(!ok, "{out}");
    assert!(out.contains("differ from head office's at seq 5"), "{out}");
    let left = std::fs::read_dir(north.data()).unwrap().count();
    assert_eq!(left, 0, "a refused restore leaves nothing: {out}");

    let kept = listing(&backup);
    let (ok, out) = restore(
        &north.config,
        &[backup.to_str().unwrap(), "--catch-up-from-hq"],
    );
    assert!(ok, "{out}");
    eprintln!("{out}");
    assert!(
        out.contains(&format!(
            "movements: seq 1..={last} ({} fetched from head office, the backup held up to seq {at_backup})",
            last - at_backup
        )),
        "{out}"
    );
    assert_eq!(listing(&backup), kept, "the backup was touched");
    let v = north.cli(&["verify"]);
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
    let _site = north.start();
    assert_eq!(reports(&north, "LOT2"), before);
    let next = accepted(&north.scan("dock-1", &pen("LOT3", "SN9")));
    assert_eq!(next, last + 1);
    wait_for_ack(&north, next);
    assert_eq!(hq.last_seq("north"), Some(next));
}

/// The time a restore takes, for README: `cargo test --test restore --
/// --ignored --nocapture`. A site of `RESTORE_MOVEMENTS` (default 20,000)
/// movements, all acknowledged, restored from the embedded head office;
/// `RESTORE_LOG=info` shows the restore's own log lines (fetch, verify).
#[test]
#[ignore]
fn restore_time() {
    let n: u64 = std::env::var("RESTORE_MOVEMENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let hq = HqDir::new(&tmp.join("hq"), &["north"], "requests_per_second = 10000");
    let _hq = hq.start();
    let north = SiteDir::new(&tmp.join("north"), "north", &hq.url(), &hq.pki.ca, "");
    north.dev_append(n);
    let site = north.start();
    wait_for(Duration::from_secs(600), || {
        north
            .sync_status()
            .is_some_and(|s| s["acked_seq"].as_u64() == Some(n))
    })
    .expect("head office did not acknowledge everything");
    site.kill();
    std::fs::remove_dir_all(north.data()).unwrap();
    let started = std::time::Instant::now();
    let (ok, out) = restore(&north.config, &["--from-hq"]);
    let took = started.elapsed();
    assert!(ok, "{out}");
    eprintln!("{out}restored {n} movements in {took:?}");
}
