//! A store written by an older scantrail opens with this one. Each
//! fixture (`tests/data/store-schemaN/store.tar.xz`) is a site store made
//! by the release build of an older main: `scantrail-dev gen-data
//! --movements 3000`, then the daemon (`site.toml` beside it) took a
//! handheld's scan with `scan_id` "before-1" and refused an unreadable
//! one; `answers/` holds what that build answered, to the scan and to a
//! few reports (`tests/data/make_store_fixture.sh` makes one). Schema 3
//! comes from cb33384, schema 4 from 499af2d, schema 5 from ac7d26e,
//! schema 6 from 9a3b0d0. The daemon started on one of schema 3 or 4
//! moves the journal into blocks; on one of schema 3 to 5 it moves the
//! scan receipts into their ring; on any of them it rebuilds the indexes
//! (and the blocks of serial units) in place. Afterwards the handheld's retry gets its
//! first answer (and the same id with another scan is still refused),
//! every report answers byte for byte as the old binary did, new scans are
//! recorded and verify finds the store intact.

#[allow(dead_code)]
mod support;

use std::path::Path;
use std::process::Command;

use serde_json::json;
use support::daemon::{binary, serial_item, Api, Daemon};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

/// The reports the old binary answered, as `scantrail report` arguments
/// and the file holding its JSON.
const REPORTS: [(&str, &[&str]); 7] = [
    (
        "recall-hot-lot.json",
        &["recall", "--gtin", "09506000000008", "--lot", "HOT0001"],
    ),
    (
        "movements-hot-lot.json",
        &["movements", "--gtin", "09506000000008", "--lot", "HOT0001"],
    ),
    ("stock.json", &["stock"]),
    (
        "trace-serial.json",
        &["trace", "--gtin", "09506000000077", "--serial", "100001"],
    ),
    (
        "recall-serial-range.json",
        &[
            "recall",
            "--gtin",
            "09506000000077",
            "--from",
            "100000",
            "--to",
            "100400",
        ],
    ),
    (
        "warranty.json",
        &[
            "warranty",
            "--gtin",
            "09506000000077",
            "--serial",
            "100001",
            "--today",
            "2026-11-30",
        ],
    ),
    (
        "expiry.json",
        &["expiry", "--days", "3650", "--today", "2026-11-30"],
    ),
];

fn fixture(schema: u32) -> String {
    format!("{FIXTURES}/store-schema{schema}")
}

fn unpack(schema: u32, into: &Path) {
    let status = Command::new("tar")
        .args(["-xJf", &format!("{}/store.tar.xz", fixture(schema)), "-C"])
        .arg(into)
        .status()
        .expect("cannot run tar (Debian packages tar and xz-utils)");
    assert!(status.success(), "tar could not unpack the fixture store");
}

fn report(data: &Path, args: &[&str]) -> String {
    let data = data.to_str().expect("a UTF-8 temp path");
    let common = [
        "--format",
        "json",
        "--config",
        "/nonexistent/scantrail.toml",
        "--data",
        data,
    ];
    support::daemon::scantrail(&[&["report"], args, &common].concat())
}

#[test]
fn a_schema_3_store_is_upgraded_at_start_and_answers_as_before() {
    upgraded_at_start_answers_as_before(3);
}

#[test]
fn a_schema_4_store_is_upgraded_at_start_and_answers_as_before() {
    upgraded_at_start_answers_as_before(4);
}

#[test]
fn a_schema_5_store_is_upgraded_at_start_and_answers_as_before() {
    upgraded_at_start_answers_as_before(5);
}

#[test]
fn a_schema_6_store_is_upgraded_at_start_and_answers_as_before() {
    upgraded_at_start_answers_as_before(6);
}

fn upgraded_at_start_answers_as_before(schema: u32) {
    let dir = tempfile::tempdir().unwrap();
    unpack(schema, dir.path());
    let data = dir.path().join("data");
    let answers = dir.path().join("answers");
    let config = dir.path().join("site.toml");
    std::fs::copy(format!("{}/site.toml", fixture(schema)), &config).unwrap();

    // The upgrade runs at the daemon's start, and says so.
    let daemon = Daemon::start(&config);
    let log = daemon.log();
    assert!(log.contains("upgrading the store"), "{log}");
    assert!(log.contains("store upgraded"), "{log}");
    // The handheld retrying the scan it sent before the upgrade gets the
    // answer it was given then: nothing recorded twice.
    let handheld = Api::new(daemon.base_url(), Some("handheld-token-1"));
    let retry = handheld.post_json(
        "/api/v1/scans",
        &json!({ "data": serial_item("BEFORE-1"), "scan_id": "before-1" }),
    );
    let first: serde_json::Value =
        serde_json::from_slice(&std::fs::read(answers.join("scan-before-1.json")).unwrap())
            .unwrap();
    assert_eq!((retry.status, &retry.body), (200, &first));
    let reused = handheld.post_json(
        "/api/v1/scans",
        &json!({ "data": serial_item("OTHER-1"), "scan_id": "before-1" }),
    );
    assert_eq!(reused.status, 409, "{}", reused.body);
    assert_eq!(
        reused.body["code"],
        json!("scan_id_reused"),
        "{}",
        reused.body
    );
    assert_eq!(daemon.stop().code(), Some(0));

    for (file, args) in REPORTS {
        let want = std::fs::read_to_string(answers.join(file)).unwrap();
        assert!(
            report(&data, args) == want,
            "{file} differs after the upgrade of schema {schema}"
        );
    }

    // New scans go on from the old chain's head.
    let daemon = Daemon::start(&config);
    // (The log file holds both starts: the upgrade was the first's only.)
    assert_eq!(daemon.log().matches("store upgraded").count(), 1);
    let admin = Api::new(daemon.base_url(), Some("admin-token-upgrade"));
    let answer = admin.scan("dock-1", &serial_item("AFTER-1"));
    assert_eq!(answer["accepted"], json!(true), "{answer}");
    assert_eq!(answer["movement"]["seq"], json!(3002), "{answer}");
    assert_eq!(daemon.stop().code(), Some(0));
    let (code, said) = support::daemon::verify(&data);
    assert_eq!(code, Some(0), "{said}");
    assert!(said.contains("3002 movements"), "{said}");
}

/// A command that opens the store (here `store stats`) upgrades it too,
/// once; the next opening finds it upgraded.
#[test]
fn any_command_upgrades_once() {
    let dir = tempfile::tempdir().unwrap();
    unpack(4, dir.path());
    let data = dir.path().join("data");
    let stats = || {
        let out = Command::new(binary())
            .args([
                "store",
                "stats",
                "--config",
                "/nonexistent/scantrail.toml",
                "--data",
            ])
            .arg(&data)
            .env("RUST_LOG", "info")
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{said}");
        said
    };
    let first = stats();
    assert!(first.contains("store upgraded"), "{first}");
    assert!(first.contains("3001"), "{first}");
    let again = stats();
    assert!(!again.contains("upgrading the store"), "{again}");
    let want = std::fs::read_to_string(dir.path().join("answers/recall-hot-lot.json")).unwrap();
    assert!(report(&data, REPORTS[0].1) == want);
}
