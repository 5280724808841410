//! End to end through the real daemon: `scantrail run` as a child process,
//! a real sled store in a temp dir, scanners on pseudo-terminals and
//! handhelds over HTTP.

#[allow(dead_code)]
mod support;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::daemon::{open_events, scantrail, scantrail_dev, serial_item, Api, Daemon, Reply};
use support::scanner::expect_from_host;

const SERIAL_GTIN: &str = "09506000134352";
const LOT_GTIN: &str = "09506000134369";
/// A valid GTIN that is in no product master.
const UNKNOWN_GTIN: &str = "09506000134376";
const TOKEN: &str = "handheld-token-1";
const ADMIN: &str = "admin-token-1-for-tests";
const GS: char = '\u{1d}';

const PRODUCTS: &str = "gtin,description,tracking,warranty_months,shelf_life_days\n\
    09506000134352,Insulin pen,lot_and_serial,24,\n\
    09506000134369,Saline 500 ml,lot,,\n";

const PICK_LISTS: &str = "order,customer_gln,customer_name,gtin,quantity,lots\n\
    O-1,9506000000046,City Pharmacy,09506000134352,2,\n\
    O-2,9506000000053,Clinic North,09506000134369,3,L1\n";

/// A site in a temp dir: configuration, store, optional scanner links.
struct Site {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    config: PathBuf,
}

impl Site {
    fn new() -> Site {
        Site::with_scanners(&[])
    }

    /// A site whose `[[scanners]]` are these link names (in the temp dir)
    /// on station dock-1, with the `test-scanner.toml` profile.
    fn with_scanners(links: &[&str]) -> Site {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_owned();
        std::fs::write(
            dir.join("test-scanner.toml"),
            support::scanner::TEST_PROFILE,
        )
        .unwrap();
        let mut text = format!(
            "data_dir = \"data\"\n\
             [site]\nid = \"e2e-site\"\nname = \"End-to-end test site\"\n\
             [[tokens]]\nname = \"admin\"\nrole = \"admin\"\ntoken = \"{ADMIN}\"\n\
             [[stations]]\nid = \"dock-1\"\nmode = \"receive\"\nlocation = \"DOCK-1\"\n\
             [[stations]]\nid = \"dispatch-1\"\nmode = \"dispatch\"\nlocation = \"DISPATCH-1\"\n\
             [[stations]]\nid = \"returns-1\"\nmode = \"return\"\nlocation = \"RETURNS-1\"\n\
             [[stations]]\nid = \"strict-1\"\nmode = \"receive\"\nlocation = \"DOCK-2\"\n\
             [stations.policies]\nunknown_gtin = \"refuse\"\n\
             [[tokens]]\nname = \"handheld-1\"\nrole = \"handheld\"\ntoken = \"{TOKEN}\"\n\
             stations = [\"dock-1\", \"dispatch-1\", \"returns-1\", \"strict-1\"]\n"
        );
        for link in links {
            text.push_str(&format!(
                "[[scanners]]\nport = \"{}\"\nprofile = \"test-scanner.toml\"\nstation = \"dock-1\"\n",
                dir.join(link).display()
            ));
        }
        let config = dir.join("site.toml");
        std::fs::write(&config, text).unwrap();
        Site {
            _dir: tmp,
            dir,
            config,
        }
    }

    /// A site whose configuration ends with a `[store]` table holding
    /// `settings` (TOML lines).
    fn with_store_settings(settings: &str) -> Site {
        let site = Site::new();
        let mut text = std::fs::read_to_string(&site.config).unwrap();
        text.push_str(&format!("[store]\n{settings}\n"));
        std::fs::write(&site.config, text).unwrap();
        site
    }

    fn start(&self) -> Daemon {
        Daemon::start(&self.config)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn link(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// The handheld's client, and the admin's.
fn clients(daemon: &Daemon) -> (Api, Api) {
    (
        Api::new(daemon.base_url(), Some(TOKEN)),
        Api::new(daemon.base_url(), Some(ADMIN)),
    )
}

/// Imports the products and pick lists every story uses.
fn reference_data(admin: &Api) {
    let r = admin.post_text("/api/v1/products", PRODUCTS);
    assert_eq!((r.status, &r.body), (200, &json!({ "imported": 2 })));
    let r = admin.post_text("/api/v1/picklists", PICK_LISTS);
    assert_eq!((r.status, &r.body), (200, &json!({ "imported": 2 })));
}

fn lot_item(lot: &str, expiry: &str) -> String {
    format!("]d201{LOT_GTIN}17{expiry}10{lot}")
}

/// A count of units of a lot (AI 30).
fn lot_case(lot: &str, units: u32) -> String {
    format!("]C101{LOT_GTIN}1730123110{lot}{GS}30{units}")
}

#[track_caller]
fn accepted(answer: &Value) -> &Value {
    assert_eq!(answer["accepted"], true, "expected acceptance: {answer}");
    &answer["movement"]["body"]
}

/// Asserts a refusal with `code`; returns its reason.
#[track_caller]
fn refused<'a>(answer: &'a Value, code: &str) -> &'a str {
    assert_eq!(answer["accepted"], false, "expected a refusal: {answer}");
    assert_eq!(answer["code"], code, "{answer}");
    answer["reason"].as_str().unwrap()
}

#[track_caller]
fn assert_names(reason: &str, words: &[&str]) {
    for w in words {
        assert!(reason.contains(w), "{reason:?} does not name {w:?}");
    }
}

fn set_context(api: &Api, station: &str, context: Value) {
    let r = api.put_json(&format!("/api/v1/stations/{station}/context"), &context);
    assert_eq!(r.status, 200, "{:?}", r.body);
}

fn journal(api: &Api) -> Vec<Value> {
    let r = api.get("/api/v1/journal");
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body.as_array().unwrap().clone()
}

/// (kind, serial or lot) of every movement, in journal order.
fn kinds(movements: &[Value]) -> Vec<(String, String)> {
    movements
        .iter()
        .map(|m| {
            let b = &m["body"];
            let item = b["serial"].as_str().or(b["lot"].as_str()).unwrap_or("-");
            (b["kind"].as_str().unwrap().to_owned(), item.to_owned())
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn today() -> String {
    chrono::Utc::now().date_naive().to_string()
}

#[test]
fn a_serial_tracked_item_is_received_dispatched_and_returned() {
    let site = Site::new();
    let daemon = site.start();
    let (api, admin) = clients(&daemon);
    reference_data(&admin);

    let receipt = api.scan("dock-1", &serial_item("S1"));
    let body = accepted(&receipt);
    assert_eq!(body["kind"], "receipt");
    assert_eq!(
        (&body["gtin"], &body["lot"], &body["serial"]),
        (&json!(SERIAL_GTIN), &json!("L1"), &json!("S1"))
    );
    assert_eq!(body["expiry"], "2030-12-31");
    assert_eq!(body["location"], "DOCK-1");
    assert_eq!(body["scan"]["symbology"], "]d2");
    assert_eq!(body["scan"]["device_profile"], "http");
    assert!(receipt["warnings"].is_null(), "{receipt}");

    set_context(&admin, "dispatch-1", json!({ "order": "O-1" }));
    let dispatch = api.scan("dispatch-1", &serial_item("S1"));
    let body = accepted(&dispatch);
    assert_eq!(body["kind"], "dispatch");
    assert_eq!(body["documents"]["order"], "O-1");
    assert_eq!(body["counterparty"]["name"], "City Pharmacy");
    assert_eq!(body["counterparty"]["gln"], "9506000000046");

    set_context(&admin, "returns-1", json!({ "return_reason": "damaged" }));
    let back = api.scan("returns-1", &serial_item("S1"));
    let body = accepted(&back);
    assert_eq!(body["kind"], "return");
    assert_eq!(body["reason"], "damaged");
    assert_eq!(body["location"], "QUARANTINE");
    assert_eq!(body["counterparty"]["name"], "City Pharmacy");

    // Once returned to quarantine, it cannot be picked again.
    let again = api.scan("dispatch-1", &serial_item("S1"));
    assert_names(refused(&again, "quarantined"), &["S1", "quarantine"]);

    let movements = journal(&admin);
    assert_eq!(
        kinds(&movements),
        pairs(&[("receipt", "S1"), ("dispatch", "S1"), ("return", "S1")])
    );
    let seqs: Vec<u64> = movements
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [1, 2, 3]);
    // The hash chain links each movement to the one before.
    assert_eq!(movements[1]["prev_hash"], movements[0]["hash"]);
    assert_eq!(movements[2]["prev_hash"], movements[1]["hash"]);
}

#[test]
fn a_lot_tracked_item_is_received_dispatched_and_returned() {
    let site = Site::new();
    let daemon = site.start();
    let (api, admin) = clients(&daemon);
    reference_data(&admin);

    let body = accepted(&api.scan("dock-1", &lot_case("L1", 10))).clone();
    assert_eq!(body["kind"], "receipt");
    assert_eq!(body["lot"], "L1");
    assert_eq!(body["quantity"], json!({ "units": 10 }));

    set_context(&admin, "dispatch-1", json!({ "order": "O-2" }));
    let body = accepted(&api.scan("dispatch-1", &lot_item("L1", "301231"))).clone();
    assert_eq!(body["kind"], "dispatch");
    assert_eq!(body["lot"], "L1");
    assert_eq!(body["counterparty"]["name"], "Clinic North");
    assert_eq!(body["quantity"], json!({ "units": 1 }));

    // A mode switch by context: the dispatch station takes a return.
    set_context(
        &admin,
        "dispatch-1",
        json!({ "mode": "return", "return_reason": "wrong item" }),
    );
    let body = accepted(&api.scan("dispatch-1", &lot_item("L1", "301231"))).clone();
    assert_eq!(body["kind"], "return");
    assert_eq!(body["reason"], "wrong item");

    assert_eq!(
        kinds(&journal(&admin)),
        pairs(&[("receipt", "L1"), ("dispatch", "L1"), ("return", "L1")])
    );
}

#[test]
fn receiving_refuses_missing_serial_missing_lot_duplicates_expired_and_unknown() {
    let site = Site::new();
    let daemon = site.start();
    let (api, admin) = clients(&daemon);
    reference_data(&admin);

    let no_serial = format!("]d201{SERIAL_GTIN}1730123110L1");
    let r = api.scan("dock-1", &no_serial);
    assert_names(
        refused(&r, "missing_serial"),
        &["Insulin pen", SERIAL_GTIN, "serial"],
    );

    let no_lot = format!("]d201{LOT_GTIN}17301231");
    let r = api.scan("dock-1", &no_lot);
    assert_names(
        refused(&r, "missing_lot"),
        &["Saline 500 ml", LOT_GTIN, "lot"],
    );

    accepted(&api.scan("dock-1", &serial_item("S1")));
    let r = api.scan("dock-1", &serial_item("S1"));
    assert_names(
        refused(&r, "duplicate_serial"),
        &["serial S1", SERIAL_GTIN, "already in stock at DOCK-1"],
    );

    let r = api.scan("dock-1", &lot_item("L9", "200131"));
    assert_names(
        refused(&r, "expired"),
        &[LOT_GTIN, "lot L9", "expired on 2020-01-31"],
    );

    let unknown = format!("]d201{UNKNOWN_GTIN}1730123110L1");
    let r = api.scan("strict-1", &unknown);
    assert_names(
        refused(&r, "unknown_gtin"),
        &[UNKNOWN_GTIN, "product master"],
    );
    // The default policy (dock-1) records it with a warning.
    let r = api.scan("dock-1", &unknown);
    accepted(&r);
    assert_eq!(r["warnings"][0]["code"], "unknown_gtin", "{r}");

    // Only the two accepted receipts are movements.
    assert_eq!(
        kinds(&journal(&admin)),
        pairs(&[("receipt", "S1"), ("receipt", "L1")])
    );
}

#[test]
fn dispatch_refuses_without_order_already_dispatched_and_lot_without_stock() {
    let site = Site::new();
    let daemon = site.start();
    let (api, admin) = clients(&daemon);
    reference_data(&admin);
    accepted(&api.scan("dock-1", &serial_item("S1")));

    let r = api.scan("dispatch-1", &serial_item("S1"));
    refused(&r, "no_order");

    set_context(&admin, "dispatch-1", json!({ "order": "O-1" }));
    accepted(&api.scan("dispatch-1", &serial_item("S1")));
    let r = api.scan("dispatch-1", &serial_item("S1"));
    assert_eq!(
        refused(&r, "already_dispatched"),
        format!(
            "serial S1 was dispatched on {} to City Pharmacy (GLN 9506000000046)",
            today()
        )
    );

    let r = api.scan("dispatch-1", &serial_item("S404"));
    assert_names(refused(&r, "not_in_stock"), &["serial S404", SERIAL_GTIN]);

    set_context(&admin, "dispatch-1", json!({ "order": "O-FREE" }));
    let r = api.scan("dispatch-1", &lot_item("L7", "301231"));
    assert_names(
        refused(&r, "no_lot_stock"),
        &["lot L7", LOT_GTIN, "no stock"],
    );
}

/// The brief asks every refusal to name the item; `no_order` does not.
#[test]
fn no_order_refusal_names_the_item() {
    let site = Site::new();
    let daemon = site.start();
    let (api, admin) = clients(&daemon);
    reference_data(&admin);
    accepted(&api.scan("dock-1", &serial_item("S1")));
    let r = api.scan("dispatch-1", &serial_item("S1"));
    assert_names(refused(&r, "no_order"), &["S1", SERIAL_GTIN]);
}

#[test]
fn a_hold_refuses_picks_until_it_is_released() {
    let site = Site::new();
    let daemon = site.start();
    let (api, admin) = clients(&daemon);
    reference_data(&admin);
    accepted(&api.scan("dock-1", &lot_case("L3", 10)));

    let r = admin.post_json(
        "/api/v1/holds",
        &json!({ "id": "H-1", "kind": "recall", "gtin": LOT_GTIN, "lots": ["L3"], "reason": "particles in solution" }),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["id"], "H-1");

    set_context(&admin, "dispatch-1", json!({ "order": "O-FREE" }));
    let r = api.scan("dispatch-1", &lot_item("L3", "301231"));
    assert_names(
        refused(&r, "on_hold"),
        &["lot L3", LOT_GTIN, "H-1", "particles in solution"],
    );

    let r = admin.post_json(
        "/api/v1/holds/H-1/release",
        &json!({ "why": "lab cleared the lot" }),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let body = accepted(&api.scan("dispatch-1", &lot_item("L3", "301231"))).clone();
    assert_eq!(body["kind"], "dispatch");
    assert_eq!(body["documents"]["order"], "O-FREE");

    // Releasing twice is an error, as JSON.
    let r = admin.post_json("/api/v1/holds/H-1/release", &json!({ "why": "again" }));
    assert_eq!(r.status, 422);
    assert!(r.body["error"]
        .as_str()
        .unwrap()
        .contains("already released"));
}

#[test]
fn pick_lists_refuse_other_products_wrong_batches_and_extra_quantity() {
    let site = Site::new();
    let daemon = site.start();
    let (api, admin) = clients(&daemon);
    reference_data(&admin);
    accepted(&api.scan("dock-1", &lot_case("L1", 10)));
    accepted(&api.scan("dock-1", &lot_case("L2", 10)));

    // O-1 lists only the serial-tracked product.
    set_context(&admin, "dispatch-1", json!({ "order": "O-1" }));
    let r = api.scan("dispatch-1", &lot_item("L1", "301231"));
    assert_eq!(
        refused(&r, "not_on_order"),
        format!("GTIN {LOT_GTIN} is not on order O-1")
    );

    // O-2: 3 of the saline, batch L1 allocated.
    set_context(&admin, "dispatch-1", json!({ "order": "O-2" }));
    let r = api.scan("dispatch-1", &lot_item("L2", "301231"));
    assert_eq!(refused(&r, "wrong_batch"), "expected batch L1, scanned L2");
    for _ in 0..3 {
        accepted(&api.scan("dispatch-1", &lot_item("L1", "301231")));
    }
    let r = api.scan("dispatch-1", &lot_item("L1", "301231"));
    assert_eq!(
        refused(&r, "quantity_exceeded"),
        format!("order O-2 needs 3 of GTIN {LOT_GTIN}, 3 already picked")
    );
}

#[test]
fn picking_a_later_lot_first_is_accepted_with_a_fefo_warning() {
    let site = Site::new();
    let daemon = site.start();
    let (api, admin) = clients(&daemon);
    reference_data(&admin);
    accepted(&api.scan("dock-1", &format!("]C101{LOT_GTIN}1729013110EARLY{GS}305")));
    accepted(&api.scan("dock-1", &format!("]C101{LOT_GTIN}1731123110LATE{GS}305")));
    set_context(&admin, "dispatch-1", json!({ "order": "O-FREE" }));
    let r = api.scan("dispatch-1", &lot_item("LATE", "311231"));
    accepted(&r);
    assert_eq!(r["warnings"][0]["code"], "fefo", "{r}");
    assert_names(
        r["warnings"][0]["message"].as_str().unwrap(),
        &["lot LATE", "lot EARLY", "pick EARLY first"],
    );
    let r = api.scan("dispatch-1", &lot_item("EARLY", "290131"));
    accepted(&r);
    assert!(r["warnings"].is_null(), "{r}");
}

#[test]
fn returns_refuse_serials_that_were_never_dispatched() {
    let site = Site::new();
    let daemon = site.start();
    let (api, admin) = clients(&daemon);
    reference_data(&admin);
    accepted(&api.scan("dock-1", &serial_item("S5")));
    set_context(&admin, "returns-1", json!({ "return_reason": "damaged" }));

    let r = api.scan("returns-1", &serial_item("S5"));
    assert_names(
        refused(&r, "not_dispatched"),
        &["serial S5", "never dispatched", "in stock at DOCK-1"],
    );
    let r = api.scan("returns-1", &serial_item("S6"));
    assert_names(
        refused(&r, "not_dispatched"),
        &["serial S6", SERIAL_GTIN, "never received or dispatched"],
    );
    assert_eq!(kinds(&journal(&admin)), pairs(&[("receipt", "S5")]));
}

#[test]
fn context_badge_and_command_barcodes_sent_as_scans() {
    let site = Site::new();
    let daemon = site.start();
    let (api, admin) = clients(&daemon);
    reference_data(&admin);

    let r = api.scan("dispatch-1", "]C1400O-77");
    assert_eq!(r["accepted"], true, "{r}");
    assert_names(r["message"].as_str().unwrap(), &["order O-77"]);
    let context = admin.get("/api/v1/stations/dispatch-1/context");
    assert_eq!(context.body["order"], "O-77", "{:?}", context.body);

    let r = api.scan("dock-1", "]C0OP:alice");
    assert_names(r["message"].as_str().unwrap(), &["alice signed in"]);
    let receipt = api.scan("dock-1", &serial_item("S1"));
    assert_eq!(accepted(&receipt)["operator"], "alice");
    let receipt_seq = receipt["movement"]["seq"].as_u64().unwrap();

    let void = api.scan("dock-1", "]C0CMD:VOID");
    let body = accepted(&void);
    assert_eq!(body["kind"], "correction");
    assert_eq!(body["serial"], "S1");
    assert_eq!(body["corrects"]["seq"], receipt_seq);
    assert_eq!(body["reason"], "voided at the station");

    // The order set by the barcode is used by the next pick.
    accepted(&api.scan("dock-1", &serial_item("S2")));
    let pick = api.scan("dispatch-1", &serial_item("S2"));
    let body = accepted(&pick);
    assert_eq!(body["kind"], "dispatch");
    assert_eq!(body["documents"]["order"], "O-77");

    assert_eq!(
        kinds(&journal(&admin)),
        pairs(&[
            ("receipt", "S1"),
            ("correction", "S1"),
            ("receipt", "S2"),
            ("dispatch", "S2")
        ])
    );
}

/// A voided receipt means the item never arrived: it cannot be picked.
#[test]
fn a_voided_receipt_is_no_longer_in_stock() {
    let site = Site::new();
    let daemon = site.start();
    let (api, admin) = clients(&daemon);
    reference_data(&admin);
    accepted(&api.scan("dock-1", &serial_item("S1")));
    accepted(&api.scan("dock-1", "]C0CMD:VOID"));
    set_context(&admin, "dispatch-1", json!({ "order": "O-1" }));
    let r = api.scan("dispatch-1", &serial_item("S1"));
    refused(&r, "not_in_stock");
}

/// `GET /api/v1/metrics` (no token needed) counts accepted scans and
/// refused ones by reason, and times decisions and commits, under the names
/// README.md gives, in the OpenMetrics text format.
#[test]
fn metrics_count_scans_by_outcome_and_time_them() {
    let site = Site::new();
    let daemon = site.start();
    let (api, admin) = clients(&daemon);
    reference_data(&admin);
    accepted(&api.scan("dock-1", &serial_item("S1")));
    accepted(&api.scan("dock-1", &serial_item("S2")));
    refused(
        &api.scan("dock-1", &format!("]d201{SERIAL_GTIN}1730123110L1")),
        "missing_serial",
    );
    let response = ureq::get(&daemon.url("/api/v1/metrics")).call().unwrap();
    assert!(
        response
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/openmetrics-text")),
        "{:?}",
        response.header("content-type")
    );
    let text = response.into_string().unwrap();
    for line in [
        "# TYPE scantrail_scans_accepted counter",
        "scantrail_scans_accepted_total 2",
        "scantrail_scans_rejected_total{reason=\"missing_serial\"} 1",
        "scantrail_decision_seconds_count 3",
        "scantrail_commit_seconds_count 2",
        "# EOF",
    ] {
        assert!(text.lines().any(|l| l == line), "no `{line}` in:\n{text}");
    }
    assert!(
        text.contains("scantrail_commit_seconds_bucket{le=\"0.0001\"}"),
        "{text}"
    );
    // The store's size and the process's memory, read when asked.
    let gauge = |name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
    };
    assert_eq!(gauge("scantrail_store_movements"), 2);
    assert!(gauge("scantrail_store_bytes") > 0);
    let rss = gauge("process_resident_memory_bytes");
    assert!((1 << 20..1 << 34).contains(&rss), "{rss}");
}

/// `scantrail store stats` answers from the running daemon (its memory
/// against `[store] memory_mb`) and, with the daemon stopped, from the
/// store itself; both count the same movements, and a verify shows.
#[test]
fn store_stats_come_from_the_daemon_or_from_the_store() {
    let site = Site::with_store_settings("memory_mb = 300");
    let daemon = site.start();
    let (api, admin) = clients(&daemon);
    reference_data(&admin);
    accepted(&api.scan("dock-1", &serial_item("S1")));
    accepted(&api.scan("dock-1", &serial_item("S2")));
    refused(
        &api.scan("dock-1", &format!("]d201{SERIAL_GTIN}1730123110L1")),
        "missing_serial",
    );
    let url = daemon.base_url().to_owned();
    let stats = |daemon_runs: bool| -> Value {
        let out = support::daemon::succeeded(
            std::process::Command::new(support::daemon::binary())
                .args(["store", "stats", "--json", "--url", &url, "--config"])
                .arg(&site.config)
                .env("SCANTRAIL_TOKEN", ADMIN),
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["movements"], 2, "{v}");
        assert_eq!(v["rejections"], 1, "{v}");
        assert_eq!(v["memory_bound_bytes"], 300u64 << 20, "{v}");
        let disk = v["bytes_on_disk"].as_u64().unwrap();
        assert!(disk > 0, "{v}");
        assert_eq!(v["bytes_per_movement"], disk / 2, "{v}");
        assert_eq!(v["resident_bytes"].is_u64(), daemon_runs, "{v}");
        v
    };
    let from_daemon = stats(true);
    assert!(from_daemon["last_verify"].is_object() || from_daemon["last_verify"].is_null());
    // Only a supervisor may ask.
    assert_eq!(api.get("/api/v1/store").status, 403);
    assert!(daemon.stop().success());

    let config = site.config.to_str().unwrap();
    scantrail(&["verify", "--config", config]);
    let from_store = stats(false);
    assert_eq!(from_store["last_verify"]["ok"], true, "{from_store}");
    let words = scantrail(&["store", "stats", "--config", config]);
    for part in ["movements        2", "bound 300 MiB", "intact"] {
        assert!(words.contains(part), "no `{part}` in:\n{words}");
    }
}

/// With `[store] reopen_every` small, the daemon reopens its store in the
/// quiet moments between bursts of scans (`store::refresh`) while a
/// supervisor's reports and the metrics are read; the pauses vary so that
/// bursts land before, during and after a reopening. Every scan is
/// accepted (none refused because the store was reopening), a retried
/// scan_id gets its first answer across a reopening, and after a SIGKILL
/// every accepted scan is in the journal and the store verifies.
#[test]
fn reopenings_between_bursts_lose_and_refuse_nothing() {
    use std::sync::atomic::AtomicBool;
    let site = Site::with_store_settings("reopen_every = 100");
    let daemon = site.start();
    let (api, admin) = clients(&daemon);
    reference_data(&admin);
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = [
        format!("/api/v1/reports/stock?gtin={SERIAL_GTIN}"),
        "/api/v1/metrics".to_owned(),
    ]
    .into_iter()
    .map(|path| {
        let (admin, stop) = (Api::new(daemon.base_url(), Some(ADMIN)), stop.clone());
        std::thread::spawn(move || {
            let mut reads = 0;
            while !stop.load(Ordering::Relaxed) {
                let r = admin.get(&path);
                assert_eq!(r.status, 200, "{path}: {:?}", r.body);
                reads += 1;
                // A console refreshing its page, not a loop without end:
                // the store is reopened only between readers.
                std::thread::sleep(Duration::from_millis(20));
            }
            reads
        })
    })
    .collect();
    let mut serials = Vec::new();
    for round in 0..8u64 {
        let answers: Vec<(Value, Value)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|t| {
                    let api = &api;
                    s.spawn(move || {
                        (0..40)
                            .map(|i| {
                                let serial = format!("R{round}T{t}N{i:02}");
                                let body =
                                    json!({ "data": serial_item(&serial), "scan_id": serial });
                                let r = api.post_json("/api/v1/scans", &body);
                                assert_eq!(r.status, 200, "{serial}: {:?}", r.body);
                                accepted(&r.body);
                                (body, r.body)
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        // The quiet moment that reopens the store is 1 s without a scan.
        std::thread::sleep(Duration::from_millis(800 + 150 * round));
        let (body, first) = &answers[0];
        assert_eq!(&api.post_json("/api/v1/scans", body).body, first);
        serials.extend(
            answers
                .iter()
                .map(|(b, _)| b["scan_id"].as_str().unwrap().to_owned()),
        );
    }
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        assert!(reader.join().unwrap() > 0);
    }
    let metrics = ureq::get(&daemon.url("/api/v1/metrics"))
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    let reopenings: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("scantrail_store_reopenings "))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no reopenings in:\n{metrics}"));
    eprintln!("{reopenings} reopenings of the store between bursts");
    assert!(reopenings >= 3, "{reopenings} reopenings");
    daemon.kill();

    let daemon = site.start();
    let admin = Api::new(daemon.base_url(), Some(ADMIN));
    let page = admin.get("/api/v1/journal?limit=5000");
    assert_eq!(page.status, 200, "{:?}", page.body);
    let recorded: HashSet<String> = page
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["body"]["serial"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(recorded.len(), serials.len());
    assert!(serials.iter().all(|s| recorded.contains(s)));
    assert!(daemon.stop().success());
    let (code, out) = support::daemon::verify(&site.data());
    assert_eq!(code, Some(0), "{out}");
}

/// A correction voided at a station should name who voided it: the
/// operator signed in there, as every other movement of the station does.
#[test]
fn a_void_names_the_signed_in_operator() {
    let site = Site::new();
    let daemon = site.start();
    let (api, admin) = clients(&daemon);
    reference_data(&admin);
    api.scan("dock-1", "]C0OP:alice");
    accepted(&api.scan("dock-1", &serial_item("S1")));
    let void = api.scan("dock-1", "]C0CMD:VOID");
    assert_eq!(accepted(&void)["operator"], "alice", "{void}");
}

/// After a VOID the station has nothing left to void (the rules clear
/// `last_movement`); a second VOID must not "correct the correction".
#[test]
fn a_second_void_has_nothing_to_void() {
    let site = Site::new();
    let daemon = site.start();
    let (api, admin) = clients(&daemon);
    reference_data(&admin);
    accepted(&api.scan("dock-1", &serial_item("S1")));
    accepted(&api.scan("dock-1", "]C0CMD:VOID"));
    let r = api.scan("dock-1", "]C0CMD:VOID");
    refused(&r, "nothing_to_void");
}

/// Reads from the scanner's side until `want` has arrived.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scanner_on_a_pty_hears_good_and_bad_reads() {
    let site = Site::with_scanners(&["scanner-1"]);
    let scanner =
        scantrail::scan::pty::VirtualScanner::open(Some(&site.link("scanner-1"))).unwrap();
    let daemon = site.start();
    let (_, admin) = clients(&daemon);
    let admin2 = admin.clone();
    tokio::task::spawn_blocking(move || reference_data(&admin2))
        .await
        .unwrap();
    // The daemon opened the port: its init bytes arrived.
    expect_from_host(&scanner, b"INIT\r").await;

    let item = format!("{}\r", serial_item("P1"));
    scanner.write_all(item.as_bytes()).await.unwrap();
    expect_from_host(&scanner, b"\x07G").await;
    // The same serial again is a duplicate: bad read.
    scanner.write_all(item.as_bytes()).await.unwrap();
    expect_from_host(&scanner, b"\x07B").await;
    // Unreadable GS1 data: bad read.
    scanner.write_all(b"]d2019\r").await.unwrap();
    expect_from_host(&scanner, b"\x07B").await;
    // A badge from the scanner signs the operator in at its station.
    scanner.write_all(b"]C0OP:bob\r").await.unwrap();
    expect_from_host(&scanner, b"\x07G").await;
    scanner
        .write_all(format!("{}\r", serial_item("P2")).as_bytes())
        .await
        .unwrap();
    expect_from_host(&scanner, b"\x07G").await;

    let movements = tokio::task::spawn_blocking(move || journal(&admin))
        .await
        .unwrap();
    assert_eq!(
        kinds(&movements),
        pairs(&[("receipt", "P1"), ("receipt", "P2")])
    );
    let first = &movements[0]["body"];
    assert_eq!(first["station"], "dock-1");
    assert_eq!(first["scan"]["device_profile"], "test-scanner");
    // The frame reached the journal exactly as sent, suffix removed (the
    // source hands it on in memory of its own, which the desk takes over).
    assert_eq!(first["scan"]["raw"], hex::encode(serial_item("P1")));
    assert_eq!(movements[1]["body"]["operator"], "bob");
    drop(daemon);
}

#[test]
fn a_repeated_scan_id_gets_the_first_answer_and_one_movement() {
    let site = Site::new();
    let daemon = site.start();
    let (api, admin) = clients(&daemon);
    reference_data(&admin);
    let body = json!({ "data": serial_item("S1"), "scan_id": "hh1-0001" });
    let first = api.post_json("/api/v1/scans", &body);
    let second = api.post_json("/api/v1/scans", &body);
    assert_eq!(first.status, 200);
    accepted(&first.body);
    assert_eq!(first.body, second.body, "a retry must get the first answer");

    // Retries racing each other: one decision.
    let body = json!({ "data": serial_item("S2"), "scan_id": "hh1-0002" });
    let answers: Vec<Value> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| s.spawn(|| api.post_json("/api/v1/scans", &body).body))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for a in &answers {
        assert_eq!(a, &answers[0]);
    }
    accepted(&answers[0]);

    // A refusal is remembered too: the retry is not a duplicate of itself.
    let body = json!({ "data": serial_item("S1"), "scan_id": "hh1-0003" });
    let r1 = api.post_json("/api/v1/scans", &body).body;
    let r2 = api.post_json("/api/v1/scans", &body).body;
    refused(&r1, "duplicate_serial");
    assert_eq!(r1, r2);

    assert_eq!(
        kinds(&journal(&admin)),
        pairs(&[("receipt", "S1"), ("receipt", "S2")])
    );
}

#[test]
fn errors_are_json_with_the_right_status() {
    let site = Site::new();
    let daemon = site.start();
    let anonymous = Api::new(daemon.base_url(), None);
    let wrong = Api::new(daemon.base_url(), Some("not-a-token"));
    let (api, admin) = clients(&daemon);

    for client in [&anonymous, &wrong] {
        let r = client.post_json("/api/v1/scans", &json!({ "data": serial_item("S1") }));
        assert_eq!(r.status, 401);
        assert_problem(&r, 401, "unauthorized");
        assert!(r.body["error"].as_str().unwrap().contains("token"), "{r:?}");
        assert_eq!(client.get("/api/v1/journal").status, 401);
    }

    let r = api.send("POST", "/api/v1/scans", "application/json", "{not json");
    assert_problem(&r, 400, "bad_request");
    assert!(
        r.body["error"].as_str().unwrap().contains("not a scan"),
        "{r:?}"
    );

    let r = api.post_json("/api/v1/scans", &json!({ "barcode": "x" }));
    assert!((400..500).contains(&r.status), "{r:?}");
    assert!(r.body["error"].is_string(), "{r:?}");

    let r = api.post_json("/api/v1/scans", &json!({ "data": "" }));
    assert_eq!(r.status, 400);
    assert!(r.body["error"].is_string(), "{r:?}");

    let r = api.put_json(
        "/api/v1/stations/dock-1/context",
        &json!({ "colour": "red" }),
    );
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.body["error"].is_string(), "{r:?}");

    // A handheld is refused any station not its own, existing or not.
    let r = api.put_json("/api/v1/stations/nope/context", &json!({ "order": "O" }));
    assert_eq!(r.status, 403, "{r:?}");
    let r = admin.put_json("/api/v1/stations/nope/context", &json!({ "order": "O" }));
    assert_eq!(r.status, 404, "{r:?}");
    assert!(r.body["error"].is_string(), "{r:?}");

    let r = admin.post_text("/api/v1/products", "gtin,description\n09506000134353,x\n");
    assert_eq!(r.status, 422, "{r:?}");
    assert_names(
        r.body["error"].as_str().unwrap(),
        &["line 2", "check digit"],
    );

    let r = api.get("/api/v1/nothing-here");
    assert_problem(&r, 404, "not_found");

    // Health needs no token.
    assert_eq!(anonymous.get("/api/v1/health").body["status"], "ok");
}

/// Sends `request` as it is and returns what the daemon answers until it
/// closes the connection or stays quiet for a second.
fn raw_exchange(daemon: &Daemon, request: &str) -> String {
    use std::io::{Read, Write};
    let address = daemon.base_url().trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    // Written beside the reading: the daemon may answer before it has
    // read everything, and then stops reading.
    let mut writer = stream.try_clone().unwrap();
    let request = request.to_owned();
    std::thread::spawn(move || writer.write_all(request.as_bytes()));
    stream
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&answer).into_owned()
}

/// An RFC 7807 problem document with today's `error` member beside it.
#[track_caller]
fn assert_problem(r: &Reply, status: u16, code: &str) {
    assert_eq!(r.status, status, "{r:?}");
    assert_eq!(r.content_type, "application/problem+json", "{r:?}");
    assert_eq!(r.body["status"], status, "{r:?}");
    assert_eq!(r.body["code"], code, "{r:?}");
    assert_eq!(r.body["type"], "about:blank", "{r:?}");
    assert!(
        r.body["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{r:?}"
    );
    let detail = r.body["detail"].as_str().unwrap_or_default();
    assert!(!detail.is_empty(), "{r:?}");
    assert_eq!(r.body["error"], detail, "{r:?}");
}

/// What the framework refuses before a handler runs — a query string, a
/// path, a body or a form it cannot read, a method a route does not take —
/// is a problem document too, and the answers the OpenAPI check found
/// wrong are refused.
#[test]
fn framework_errors_and_odd_requests_are_problem_documents() {
    let site = Site::new();
    let daemon = site.start();
    let (_, admin) = clients(&daemon);

    let r = admin.get("/api/v1/journal?since=abc");
    assert_problem(&r, 400, "bad_request");
    assert!(r.body["error"].as_str().unwrap().contains("since"), "{r:?}");
    // A seq past int64, which the API documents, and a page past its limit.
    let r = admin.get("/api/v1/journal?since=9223372036854775808");
    assert_problem(&r, 400, "bad_request");
    let r = admin.get("/api/v1/journal?limit=10001");
    assert_problem(&r, 400, "bad_request");
    assert_eq!(
        admin
            .get("/api/v1/journal?since=9223372036854775807")
            .status,
        200
    );

    let r = admin.send("DELETE", "/api/v1/scans", "application/json", "{}");
    assert_problem(&r, 405, "method_not_allowed");
    assert!(
        r.body["error"].as_str().unwrap().contains("DELETE"),
        "{r:?}"
    );

    let r = admin.send(
        "POST",
        "/api/v1/scans/image",
        "multipart/form-data; boundary=x",
        "not a form",
    );
    assert_problem(&r, 400, "bad_request");
    let r = admin.send("POST", "/api/v1/scans/image", "text/plain", "x");
    assert_problem(&r, 400, "bad_request");

    // Past the 16 MiB body limit (the daemon answers once it has read 16
    // MiB and closes; the rest of the body is never read).
    let size = 17 << 20;
    let mut request = format!(
        "POST /api/v1/products HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN}\r\n\
         Content-Type: text/csv\r\nContent-Length: {size}\r\n\r\n"
    );
    request.push_str(&"x".repeat(size));
    let head = raw_exchange(&daemon, &request);
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    assert!(
        head.contains("application/problem+json") && head.contains("\"code\":\"body_too_large\""),
        "{head}"
    );

    // An empty import, or one that is not the file it claims to be, is a
    // mistake, not a request to import nothing.
    for (body, content_type) in [
        ("", "text/csv"),
        ("\"AAA\"", "application/json"),
        ("{}", "application/json"),
    ] {
        let r = admin.send("POST", "/api/v1/products", content_type, body);
        assert_problem(&r, 422, "unprocessable");
        let r = admin.send("POST", "/api/v1/picklists", content_type, body);
        assert_problem(&r, 422, "unprocessable");
    }
    // A body that is an array of the fields' values is not an object.
    let r = admin.put_json("/api/v1/stations/dock-1/context", &json!([null, null]));
    assert_problem(&r, 400, "bad_request");
    let r = admin.put_json(
        "/api/v1/stations/dock-1/context",
        &json!({ "customer": [null, "City Pharmacy"] }),
    );
    assert_problem(&r, 400, "bad_request");
    let r = admin.post_json("/api/v1/scans", &json!(["dock-1", serial_item("S1")]));
    assert_problem(&r, 400, "bad_request");
    // A hold of an empty lot, or without a reason, or by a number.
    let hold = json!({ "id": "H-1", "gtin": SERIAL_GTIN, "lots": [""], "reason": "r" });
    assert_problem(&admin.post_json("/api/v1/holds", &hold), 400, "bad_request");
    let hold = json!({ "id": "H-1", "gtin": SERIAL_GTIN, "lots": ["L1"], "reason": " " });
    assert_problem(&admin.post_json("/api/v1/holds", &hold), 400, "bad_request");
    let hold = json!({ "id": "H-1", "gtin": SERIAL_GTIN, "lots": ["L1"], "reason": "r", "by": 5 });
    assert_problem(&admin.post_json("/api/v1/holds", &hold), 400, "bad_request");
    assert_eq!(admin.get("/api/v1/holds").body, json!([]));

    // The sync routes, merged beside the API, answer the same way.
    let r = admin.get("/api/v1/sync");
    assert_problem(&r, 404, "not_found");
    let r = Api::new(daemon.base_url(), Some(TOKEN)).get("/api/v1/sync");
    assert_problem(&r, 403, "forbidden");
    let r = Api::new(daemon.base_url(), None).get("/api/v1/sync");
    assert_problem(&r, 401, "unauthorized");

    // Scan decisions stay 200 answers in their own shape.
    let r = admin.post_json(
        "/api/v1/scans",
        &json!({ "station": "nowhere", "data": serial_item("S1") }),
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.content_type, "application/json", "{r:?}");
    assert_eq!(r.body["accepted"], false, "{r:?}");
    assert!(r.body.get("type").is_none(), "{r:?}");
}

#[test]
fn a_restart_keeps_the_journal_and_the_reference_data() {
    let site = Site::new();
    let daemon = site.start();
    let (api, admin) = clients(&daemon);
    reference_data(&admin);
    accepted(&api.scan("dock-1", &serial_item("S1")));
    accepted(&api.scan("dock-1", &lot_case("L1", 10)));
    let hold = admin.post_json(
        "/api/v1/holds",
        &json!({ "id": "H-9", "gtin": LOT_GTIN, "lots": ["L1"], "reason": "dropped pallet" }),
    );
    assert_eq!(hold.status, 200, "{:?}", hold.body);
    let before = journal(&admin);
    let status = daemon.stop();
    assert!(status.success(), "SIGTERM exit: {status:?}");

    let daemon = site.start();
    let (api, admin) = clients(&daemon);
    assert_eq!(
        journal(&admin),
        before,
        "the journal changed across a restart"
    );
    let r = api.scan("dock-1", &serial_item("S1"));
    refused(&r, "duplicate_serial");
    // Products, pick lists and holds survived: the hold still refuses.
    set_context(&admin, "dispatch-1", json!({ "order": "O-2" }));
    let r = api.scan("dispatch-1", &lot_item("L1", "301231"));
    assert_names(refused(&r, "on_hold"), &["H-9"]);
    assert_eq!(
        admin.get("/api/v1/products").body.as_array().unwrap().len(),
        2
    );
    // New movements continue the chain.
    let next = api.scan("dock-1", &serial_item("S2"));
    assert_eq!(next["movement"]["seq"], 3);
    assert_eq!(next["movement"]["prev_hash"], before[1]["hash"]);
    assert!(daemon.stop().success());
}

#[test]
fn station_contexts_survive_a_restart() {
    let site = Site::new();
    let daemon = site.start();
    let (api, admin) = clients(&daemon);
    set_context(
        &admin,
        "dispatch-1",
        json!({ "order": "O-2", "operator": "bob" }),
    );
    let r = api.scan("dock-1", "]C0OP:alice");
    assert_eq!(r["accepted"], true, "{r:?}");
    assert!(daemon.stop().success());

    let daemon = site.start();
    let (_, admin) = clients(&daemon);
    let dispatch = admin.get("/api/v1/stations/dispatch-1/context");
    assert_eq!(dispatch.body["order"], "O-2", "{:?}", dispatch.body);
    assert_eq!(dispatch.body["operator"], "bob");
    let dock = admin.get("/api/v1/stations/dock-1/context");
    assert_eq!(dock.body["operator"], "alice", "{:?}", dock.body);
    assert!(daemon.stop().success());
}

/// A SIGTERM sent the moment the daemon says it listens drains it cleanly
/// (the handler is installed before the line is printed).
#[test]
fn a_sigterm_right_after_the_listening_line_stops_cleanly() {
    let site = Site::new();
    for round in 0..15 {
        let daemon = site.start();
        let status = daemon.stop();
        assert!(status.success(), "round {round}: {status}");
    }
}

#[test]
fn sigterm_drains_scans_in_flight() {
    let site = Site::new();
    let daemon = site.start();
    let (_, admin) = clients(&daemon);
    reference_data(&admin);

    const THREADS: usize = 20;
    const PER_THREAD: usize = 10;
    let answered = Arc::new(AtomicUsize::new(0));
    let accepted_serials = Arc::new(Mutex::new(Vec::<String>::new()));
    let failures = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(std::sync::Barrier::new(THREADS + 1));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let api = Api::new(daemon.base_url(), Some(TOKEN));
            let (answered, accepted_serials, failures, start) = (
                answered.clone(),
                accepted_serials.clone(),
                failures.clone(),
                start.clone(),
            );
            std::thread::spawn(move || {
                start.wait();
                for i in 0..PER_THREAD {
                    let serial = format!("D{t:02}N{i:03}");
                    let body = json!({ "data": serial_item(&serial) });
                    match api.try_post_json("/api/v1/scans", &body) {
                        Ok(Reply {
                            status: 200, body, ..
                        }) => {
                            if body["accepted"] == true {
                                accepted_serials.lock().unwrap().push(serial);
                            }
                        }
                        // 503 while shutting down, or the connection refused.
                        _ => {
                            failures.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    answered.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    start.wait();
    let deadline = Instant::now() + Duration::from_secs(20);
    while answered.load(Ordering::Relaxed) < 40 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    daemon.signal_term();
    let status = daemon.wait();
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(status.code(), Some(0), "the daemon's exit after SIGTERM");

    let accepted_serials = accepted_serials.lock().unwrap().clone();
    assert!(accepted_serials.len() >= 40, "{}", accepted_serials.len());
    let config = site.config.to_string_lossy().into_owned();
    let data = site.data().to_string_lossy().into_owned();
    let dump = scantrail(&["journal", "--json", "--config", &config, "--data", &data]);
    let recorded: HashSet<String> = dump
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter_map(|m| m["body"]["serial"].as_str().map(str::to_owned))
        .collect();
    let lost: Vec<&String> = accepted_serials
        .iter()
        .filter(|s| !recorded.contains(*s))
        .collect();
    assert!(
        lost.is_empty(),
        "accepted but not in the journal after SIGTERM: {lost:?}"
    );
    eprintln!(
        "drain: {} accepted, {} failed or refused at shutdown, {} in the journal",
        accepted_serials.len(),
        failures.load(Ordering::Relaxed),
        recorded.len()
    );
    // The store is consistent after the drain.
    let verify = std::process::Command::new(support::daemon::binary())
        .args(["verify", "--config", &config, "--data", &data])
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "verify: {}",
        String::from_utf8_lossy(&verify.stderr)
    );
}

#[test]
fn events_stream_an_accepted_scan() {
    use std::io::Read;
    let site = Site::new();
    let daemon = site.start();
    let (api, admin) = clients(&daemon);
    reference_data(&admin);

    let (mut stream, mut got) = open_events(&daemon, TOKEN);
    let mut buf = [0u8; 4096];

    accepted(&api.scan("dock-1", &serial_item("EV1")));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some(at) = text.find("event: accepted") {
            let rest = &text[at..];
            if let Some(data) = rest.lines().find_map(|l| l.strip_prefix("data: ")) {
                let event: Value = serde_json::from_str(data).unwrap();
                assert_eq!(event["kind"], "accepted");
                assert_eq!(event["station"], "dock-1");
                assert_eq!(event["serial"], "EV1");
                assert_eq!(event["movement_kind"], "receipt");
                assert_eq!(event["seq"], 1);
                break;
            }
        }
        assert!(Instant::now() < deadline, "no accepted event; got {text:?}");
        let n = stream.read(&mut buf).expect("no event in time");
        assert!(n > 0, "the event stream closed");
        got.extend_from_slice(&buf[..n]);
    }
}

#[test]
fn a_config_for_a_missing_scanner_still_starts() {
    // The scanner's link does not exist: the daemon waits for it and serves.
    let site = Site::with_scanners(&["unplugged"]);
    let daemon = site.start();
    let r = Api::new(daemon.base_url(), None).get("/api/v1/health");
    assert_eq!(r.body["status"], "ok");
}

/// The load test (`scantrail-dev loadtest`) runs its own daemon with pty
/// scanners and handhelds, and every scan of a short run is accepted.
#[test]
fn loadtest_smoke_run() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("load");
    let out = scantrail_dev(&[
        "loadtest",
        "--scanners",
        "3",
        "--handhelds",
        "2",
        "--rate",
        "20",
        "--duration",
        "1",
        "--data",
        &data.to_string_lossy(),
    ]);
    assert!(
        out.contains("daemon stopped with SIGTERM: exit status: 0"),
        "{out}"
    );
    let line = |prefix: &str| {
        out.lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} line in {out}"))
            .to_owned()
    };
    for source in ["pty:", "http:"] {
        let l = line(source);
        assert!(l.contains("refused     0  failed     0"), "{l}");
    }
    // At most 3 × 20 + 2 × 20 scans (fewer if answers lag the schedule).
    let all = line("all:");
    let accepted: u64 = all
        .split_whitespace()
        .nth(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{all}"));
    assert!((50..=100).contains(&accepted), "{out}");
}
