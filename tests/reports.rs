//! Compliance reports on a hand-built site whose right answers are known:
//! receipts of a lot from two suppliers, dispatches to three customers, a
//! return, a correction, a second lot near expiry, and serials 98..1000 of
//! a serial-tracked product (numeric order, 99 < 100). Every report is run
//! through the library with exact figures, then the real binary's JSON is
//! compared with the running daemon's `GET /api/v1/reports/...`. Each
//! report has its own tests over the same fixture (built anew in each
//! test's temp dir), so the first failure does not hide the rest.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use scantrail::model::Reference;
use scantrail::model::{
    Counterparty, Documents, Kind, Movement, NewMovement, Quantity, ScanSource,
};
use scantrail::report::{self, Report, Request};
use scantrail::station::records::encode;
use scantrail::station::reference::{Change, Owner, Product, Tracking};
use scantrail::store::{OpenOptions, Store};
use support::daemon::Daemon;

const SITE: &str = "report-site";
const TOKEN: &str = "report-test-token";

fn lot_gtin() -> String {
    "09506000000015".into()
}

fn serial_gtin() -> String {
    "09506000000022".into()
}

fn day(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 10, 0, 0).unwrap()
}

fn party(n: &str) -> Counterparty {
    let gln = match n {
        "Supplier One" => "9506000000101",
        "Supplier Two" => "9506000000102",
        "Customer One" => "9506000000201",
        "Customer Two" => "9506000000202",
        _ => "9506000000203",
    };
    Counterparty {
        gln: Some(gln.into()),
        name: Some(n.into()),
    }
}

struct M {
    kind: Kind,
    at: DateTime<Utc>,
    gtin: String,
    lot: Option<&'static str>,
    serial: Option<&'static str>,
    qty: i64,
    location: &'static str,
    who: &'static str,
    docs: Documents,
}

fn movement(m: M) -> NewMovement {
    NewMovement {
        kind: m.kind,
        station: "st-1".into(),
        operator: "op1".into(),
        device_time: m.at,
        location: m.location.into(),
        gtin: m.gtin,
        lot: m.lot.map(Into::into),
        serial: m.serial.map(Into::into),
        expiry: match m.lot {
            Some("L1") => NaiveDate::from_ymd_opt(2026, 12, 31),
            Some("L2") => NaiveDate::from_ymd_opt(2026, 3, 15),
            _ => None,
        },
        quantity: Quantity::Units(m.qty),
        counterparty: party(m.who),
        documents: m.docs,
        scan: ScanSource::default(),
        reason: None,
        corrects: None,
        author: "reports-test".into(),
    }
}

fn po(po: &str, asn: &str) -> Documents {
    Documents {
        purchase_order: Some(po.into()),
        despatch_advice: Some(asn.into()),
        ..Documents::default()
    }
}

fn so(order: &str) -> Documents {
    Documents {
        order: Some(order.into()),
        ..Documents::default()
    }
}

/// Builds the scenario; returns the id of the corrected dispatch.
fn build(dir: &Path) -> Movement {
    let store = Store::open(dir, OpenOptions::create(SITE.into())).unwrap();
    let change = Change {
        by: "test".into(),
        at: day(2026, 1, 1),
        why: "test".into(),
    };
    let products = [
        (lot_gtin(), Tracking::Lot, None),
        (serial_gtin(), Tracking::Serial, Some(25)),
    ]
    .map(|(gtin, tracking, warranty_months)| Product {
        gtin,
        description: "test product".into(),
        tracking,
        warranty_months,
        shelf_life_days: None,
        owner: Owner::Site(SITE.into()),
        change: change.clone(),
    });
    store
        .reference()
        .put(
            Reference::Products,
            products
                .iter()
                .map(|p| (p.gtin.clone().into_bytes(), Some(encode(p))))
                .collect(),
        )
        .unwrap();
    let lot = |kind, at, lot, qty, location, who, docs| {
        store
            .journal()
            .commit(movement(M {
                kind,
                at,
                gtin: lot_gtin(),
                lot: Some(lot),
                serial: None,
                qty,
                location,
                who,
                docs,
            }))
            .unwrap()
    };
    use Kind::*;
    lot(
        Receipt,
        day(2026, 1, 10),
        "L1",
        100,
        "A-01",
        "Supplier One",
        po("PO-1", "ASN-1"),
    );
    lot(
        Receipt,
        day(2026, 1, 12),
        "L1",
        50,
        "A-02",
        "Supplier Two",
        po("PO-2", "ASN-2"),
    );
    lot(
        Dispatch,
        day(2026, 2, 1),
        "L1",
        30,
        "A-01",
        "Customer One",
        so("SO-1"),
    );
    lot(
        Dispatch,
        day(2026, 2, 2),
        "L1",
        20,
        "A-01",
        "Customer Two",
        so("SO-2"),
    );
    lot(
        Dispatch,
        day(2026, 2, 3),
        "L1",
        10,
        "A-02",
        "Customer Three",
        so("SO-3"),
    );
    let wrong = lot(
        Dispatch,
        day(2026, 2, 4),
        "L1",
        5,
        "A-02",
        "Customer One",
        so("SO-4"),
    );
    store
        .journal()
        .commit(
            scantrail::station::correction(
                &wrong,
                "picked from the wrong lot",
                "supervisor",
                "reports-test",
                day(2026, 2, 5),
            )
            .unwrap(),
        )
        .unwrap();
    lot(
        Return,
        day(2026, 2, 10),
        "L1",
        4,
        "RETURNS",
        "Customer Two",
        so("RMA-1"),
    );
    lot(
        Receipt,
        day(2026, 1, 20),
        "L2",
        40,
        "A-03",
        "Supplier One",
        po("PO-3", "ASN-3"),
    );

    let serial = |kind, at, serial, who, docs| {
        store
            .journal()
            .commit(movement(M {
                kind,
                at,
                gtin: serial_gtin(),
                lot: None,
                serial: Some(serial),
                qty: 1,
                location: if kind == Return { "RETURNS" } else { "B-01" },
                who,
                docs,
            }))
            .unwrap();
    };
    for s in ["98", "99", "100", "101", "1000"] {
        serial(
            Receipt,
            day(2026, 1, 5),
            s,
            "Supplier One",
            po("PO-9", "ASN-9"),
        );
    }
    serial(
        Dispatch,
        day(2026, 1, 31),
        "99",
        "Customer One",
        so("SO-10"),
    );
    serial(
        Dispatch,
        day(2026, 2, 15),
        "100",
        "Customer Two",
        so("SO-11"),
    );
    serial(
        Dispatch,
        day(2026, 2, 16),
        "101",
        "Customer Three",
        so("SO-12"),
    );
    serial(Return, day(2026, 3, 1), "100", "Customer Two", so("RMA-2"));
    wrong
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn run(store: &Store, kind: &str, v: &[(&str, &str)]) -> Report {
    report::run(store, &Request::from_pairs(kind, &pairs(v)).unwrap()).unwrap()
}

fn json(r: &Report) -> serde_json::Value {
    serde_json::to_value(r).unwrap()
}

/// The hand-built site, opened: each test builds its own (a few dozen
/// commits), so tests share the scenario but not a store.
struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
    /// The dispatch a correction reverses.
    wrong: Movement,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let wrong = build(dir.path());
    let store = Store::open(dir.path(), OpenOptions::existing(None)).unwrap();
    Fixture {
        _dir: dir,
        store,
        wrong,
    }
}

/// Recall by batch.
#[test]
fn recall_by_batch_names_suppliers_stock_dispatches_and_customers() {
    let f = fixture();
    let store = &f.store;
    let lg = lot_gtin();
    let wrong = &f.wrong;
    let r = json(&run(store, "recall", &[("gtin", &lg), ("lot", "L1")]));
    assert_eq!(r["found"], true);
    let t = &r["totals"];
    assert_eq!(
        (
            &t["received"],
            &t["in_stock"],
            &t["dispatched"],
            &t["returned"],
            &t["customers"]
        ),
        (
            &"150".into(),
            &"94".into(),
            &"60".into(),
            &"4".into(),
            &3.into()
        )
    );
    let received: Vec<_> = r["received"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["party"]["name"].as_str().unwrap(),
                l["quantity"].as_str().unwrap(),
                l["documents"]["purchase_order"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        received,
        [
            ("Supplier One", "100", "PO-1"),
            ("Supplier Two", "50", "PO-2")
        ]
    );
    let stock: Vec<_> = r["in_stock"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["location"].as_str().unwrap(),
                l["quantity"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(stock, [("A-01", "50"), ("A-02", "40"), ("RETURNS", "4")]);
    let dispatched = r["dispatched"].as_array().unwrap();
    assert_eq!(dispatched.len(), 4, "the corrected dispatch is listed");
    let marked: Vec<_> = dispatched
        .iter()
        .filter(|l| !l["corrected_by"].is_null())
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(marked, [format!("{SITE}:{}", wrong.seq)]);
    let customers: Vec<_> = r["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["customer"]["name"].as_str().unwrap(),
                c["dispatches"].as_u64().unwrap(),
                c["dispatched"].as_str().unwrap(),
                c["returned"].as_str().unwrap(),
                c["outstanding"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        customers,
        [
            ("Customer One", 1, "30", "0", "30"),
            ("Customer Two", 1, "20", "4", "16"),
            ("Customer Three", 1, "10", "0", "10"),
        ]
    );
    let returned = &r["returned"][0];
    assert_eq!(
        (
            returned["party"]["name"].as_str(),
            returned["quantity"].as_str()
        ),
        (Some("Customer Two"), Some("4"))
    );
}

/// A lot this store never saw: found false, said in words.
#[test]
fn recall_of_an_unknown_lot_says_so_and_names_it_beside_known_ones() {
    let f = fixture();
    let store = &f.store;
    let lg = lot_gtin();
    let r = run(store, "recall", &[("gtin", &lg), ("lot", "NEVER")]);
    assert_eq!(
        r.note(),
        Some(
            format!(
                "no movements of lot NEVER of GTIN {lg} in this store: nothing here is affected"
            )
            .as_str()
        )
    );
    // Partly unknown: the known lot's figures, the unknown one named.
    let r = json(&run(
        store,
        "recall",
        &[("gtin", &lg), ("lot", "L1"), ("lot", "L404")],
    ));
    assert_eq!(r["unknown_lots"], serde_json::json!(["L404"]));
    assert_eq!(r["totals"]["received"], "150");
}

/// Recall by serial range: numeric, so 99 < 100 < 101 and 1000 is out.
#[test]
fn recall_by_serial_range_orders_serials_numerically() {
    let f = fixture();
    let store = &f.store;
    let sg = serial_gtin();
    let r = json(&run(
        store,
        "recall",
        &[("gtin", &sg), ("from", "99"), ("to", "101")],
    ));
    let serials: Vec<_> = r["serials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["serial"].as_str().unwrap(),
                s["state"].as_str().unwrap(),
                s["customer"]["name"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        serials,
        [
            ("99", "dispatched", Some("Customer One")),
            ("100", "returned", None),
            ("101", "dispatched", Some("Customer Three")),
        ]
    );
    // Counted from the units' movements as a batch recall counts them:
    // all three were received, all three went out, 100 came back (it is
    // the one in stock).
    let totals = &r["totals"];
    assert_eq!(
        [
            &totals["received"],
            &totals["dispatched"],
            &totals["returned"],
            &totals["in_stock"]
        ],
        ["3", "3", "1", "1"],
        "{totals}"
    );
    // Every customer who got a unit is named, Customer Two (who returned
    // serial 100) too, with the documents of what they got.
    let customers: Vec<_> = r["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["customer"]["name"].as_str().unwrap(),
                c["outstanding"].as_str().unwrap(),
                c["documents"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(
        customers,
        [
            ("Customer One", "1", 1),
            ("Customer Two", "0", 1),
            ("Customer Three", "1", 1),
        ],
        "{}",
        r["customers"]
    );
    assert_eq!(r["received"].as_array().unwrap().len(), 3);
}

/// Movements of a serial, in order.
#[test]
fn movements_of_a_serial_come_in_order() {
    let f = fixture();
    let store = &f.store;
    let (lg, sg) = (lot_gtin(), serial_gtin());
    let r = json(&run(
        store,
        "movements",
        &[("gtin", &sg), ("serial", "100")],
    ));
    let kinds: Vec<_> = r["movements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["receipt", "dispatch", "return"]);
    let r = run(store, "movements", &[("gtin", &lg), ("lot", "NEVER")]);
    assert!(r
        .note()
        .unwrap()
        .starts_with("no movements of lot NEVER of GTIN"));
}

/// Trace: the correction right under the dispatch it reverses.
#[test]
fn trace_puts_a_correction_under_the_dispatch_it_reverses() {
    let f = fixture();
    let store = &f.store;
    let lg = lot_gtin();
    let wrong = &f.wrong;
    let r = json(&run(store, "trace", &[("gtin", &lg), ("lot", "L1")]));
    let steps = r["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 8);
    let at = steps
        .iter()
        .position(|s| s["movement"]["id"] == format!("{SITE}:{}", wrong.seq))
        .unwrap();
    assert_eq!(steps[at + 1]["is_correction"], true);
    assert_eq!(
        steps[at]["movement"]["corrected_by"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(
        steps[0]["summary"]
            .as_str()
            .unwrap()
            .starts_with("received 100 from Supplier One"),
        "{}",
        steps[0]["summary"]
    );
}

/// Warranty: sold 31 January 2026, 25 months: 29 February 2028 (clamped).
#[test]
fn warranty_ends_on_a_clamped_date_and_names_returns() {
    let f = fixture();
    let store = &f.store;
    let sg = serial_gtin();
    let r = json(&run(
        store,
        "warranty",
        &[("gtin", &sg), ("serial", "99"), ("today", "2028-02-29")],
    ));
    assert_eq!(r["sale"]["date"], "2026-01-31");
    assert_eq!(r["sale"]["customer"]["name"], "Customer One");
    assert_eq!(r["warranty_end"], "2028-02-29");
    assert_eq!(r["in_warranty"], true);
    let r = json(&run(
        store,
        "warranty",
        &[("gtin", &sg), ("serial", "99"), ("today", "2028-03-01")],
    ));
    assert_eq!(r["in_warranty"], false);
    let r = json(&run(
        store,
        "warranty",
        &[("gtin", &sg), ("serial", "100"), ("today", "2026-06-01")],
    ));
    assert_eq!(r["state"], "returned");
    assert_eq!(r["returns"].as_array().unwrap().len(), 1);
    assert_eq!(r["returns"][0]["from"]["name"], "Customer Two");
}

/// Expiry: only L2 (15 March) within 30 days of 1 March.
#[test]
fn expiry_lists_only_lots_within_the_window() {
    let f = fixture();
    let store = &f.store;
    let r = json(&run(
        store,
        "expiry",
        &[("days", "30"), ("today", "2026-03-01")],
    ));
    let lots = r["lots"].as_array().unwrap();
    assert_eq!(lots.len(), 1);
    assert_eq!(
        (&lots[0]["lot"], &lots[0]["days_left"], &lots[0]["quantity"]),
        (&"L2".into(), &14.into(), &"40".into())
    );
}

/// Stock: lot balances and serials on hand.
#[test]
fn stock_gives_lot_balances_and_serials_on_hand() {
    let f = fixture();
    let store = &f.store;
    let (lg, sg) = (lot_gtin(), serial_gtin());
    let r = json(&run(store, "stock", &[("gtin", &lg)]));
    let lots: Vec<_> = r["lots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["lot"].as_str().unwrap(),
                l["location"].as_str().unwrap(),
                l["quantity"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        lots,
        [
            ("L1", "A-01", "50"),
            ("L1", "A-02", "40"),
            ("L1", "RETURNS", "4"),
            ("L2", "A-03", "40")
        ]
    );
    let r = json(&run(
        store,
        "stock",
        &[("gtin", &lg), ("expiring_before", "2026-06-01")],
    ));
    assert_eq!(r["lots"].as_array().unwrap().len(), 1);
    let r = json(&run(store, "stock", &[("gtin", &sg), ("by", "serial")]));
    let serials: Vec<_> = r["serials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["serial"].as_str().unwrap(), s["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        serials,
        [
            ("100", "returned"),
            ("1000", "in_stock"),
            ("98", "in_stock")
        ]
    );
    let r = run(store, "stock", &[("location", "NOWHERE")]);
    assert_eq!(
        r.note(),
        Some("no stock on hand of at NOWHERE in this store")
    );
}

/// Every table fits 80 columns.
#[test]
fn every_table_fits_80_columns() {
    let f = fixture();
    let store = &f.store;
    let (lg, sg) = (lot_gtin(), serial_gtin());
    for (kind, v) in [
        ("recall", vec![("gtin", lg.as_str()), ("lot", "L1")]),
        ("trace", vec![("gtin", lg.as_str()), ("lot", "L1")]),
        ("movements", vec![("gtin", lg.as_str()), ("lot", "L1")]),
        (
            "recall",
            vec![("gtin", sg.as_str()), ("from", "1"), ("to", "2000")],
        ),
    ] {
        let text = report::render::table(&run(store, kind, &v));
        assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    }
}

fn cli(args: &[&str], data: &Path, config: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scantrail"))
        .arg("report")
        .args(args)
        .arg("--config")
        .arg(config)
        .arg("--data")
        .arg(data)
        .env("RUST_LOG", "error")
        .output()
        .unwrap()
}

fn api(base: &str, path: &str) -> (u16, serde_json::Value) {
    let answer = ureq::get(&format!("{base}{path}"))
        .set("Authorization", &format!("Bearer {TOKEN}"))
        .call();
    match answer {
        Ok(r) => (r.status(), r.into_json().unwrap()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_json().unwrap()),
        Err(e) => panic!("{e}"),
    }
}

/// The fixture in a temp dir with a site configuration: (dir, data, config).
fn site_on_disk() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    build(&data);
    let config = dir.path().join("scantrail.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"data\"\n[site]\nid = \"{SITE}\"\n[http]\nadmin_token = \"{TOKEN}\"\nlisten = \"127.0.0.1:0\"\n"
        ),
    )
    .unwrap();
    (dir, data, config)
}

#[test]
fn command_line_and_api_agree() {
    let (_dir, data, config) = site_on_disk();
    let (lg, sg) = (lot_gtin(), serial_gtin());
    let queries: Vec<(Vec<String>, String)> = vec![
        (
            vec![
                "recall".into(),
                "--gtin".into(),
                lg.clone(),
                "--lot".into(),
                "L1".into(),
            ],
            format!("recall?gtin={lg}&lot=L1"),
        ),
        (
            vec![
                "recall".into(),
                "--gtin".into(),
                sg.clone(),
                "--from".into(),
                "99".into(),
                "--to".into(),
                "101".into(),
            ],
            format!("recall?gtin={sg}&from=99&to=101"),
        ),
        (
            vec!["stock".into(), "--gtin".into(), lg.clone()],
            format!("stock?gtin={lg}"),
        ),
        (
            vec![
                "movements".into(),
                "--gtin".into(),
                lg.clone(),
                "--lot".into(),
                "NEVER".into(),
            ],
            format!("movements?gtin={lg}&lot=NEVER"),
        ),
        (
            vec![
                "trace".into(),
                "--gtin".into(),
                sg.clone(),
                "--serial".into(),
                "100".into(),
            ],
            format!("trace?gtin={sg}&serial=100"),
        ),
        (
            vec![
                "warranty".into(),
                "--gtin".into(),
                sg.clone(),
                "--serial".into(),
                "99".into(),
                "--today".into(),
                "2027-01-01".into(),
            ],
            format!("warranty?gtin={sg}&serial=99&today=2027-01-01"),
        ),
        (
            vec![
                "expiry".into(),
                "--days".into(),
                "30".into(),
                "--today".into(),
                "2026-03-01".into(),
            ],
            "expiry?days=30&today=2026-03-01".into(),
        ),
    ];

    let daemon = Daemon::start(&config);
    let addr = daemon.base_url().to_owned();
    let mut from_api = Vec::new();
    for (_, path) in &queries {
        let (status, body) = api(&addr, &format!("/api/v1/reports/{path}"));
        assert_eq!(status, 200, "{path}: {body}");
        from_api.push(body);
    }
    // Bad input over HTTP: 400 with the reason.
    let (status, body) = api(&addr, "/api/v1/reports/recall?gtin=09506000134353&lot=L1");
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("check digit"),
        "{body}"
    );
    let (status, _) = api(
        &addr,
        &format!("/api/v1/reports/recall?gtin={sg}&from=101&to=99"),
    );
    assert_eq!(status, 400);
    // While the daemon holds the store, the command line asks it: the same
    // JSON, the same refusal of bad input.
    daemon.point_config_here(&config);
    let out = cli(
        &["stock", "--gtin", &lg, "--format", "json"],
        &data,
        &config,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let through_daemon: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(through_daemon, from_api[2]);
    let out = cli(
        &["recall", "--gtin", &sg, "--from", "101", "--to", "99"],
        &data,
        &config,
    );
    assert_eq!(out.status.code(), Some(1));
    let status = daemon.stop();
    assert!(status.success(), "the daemon stopped with {status}");

    for ((args, path), api_json) in queries.iter().zip(&from_api) {
        let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
        args.extend(["--format", "json"]);
        let out = cli(&args, &data, &config);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let cli_json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(&cli_json, api_json, "{path}");
    }
}

#[test]
fn command_line_says_nothing_found_refuses_bad_input_and_writes_csv() {
    let (_dir, data, config) = site_on_disk();
    let (lg, sg) = (lot_gtin(), serial_gtin());

    // Nothing found: exit 0 and the sentence, not an empty table.
    let out = cli(
        &["movements", "--gtin", &lg, "--lot", "NEVER"],
        &data,
        &config,
    );
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "no movements of lot NEVER of GTIN {lg} in this store"
        )),
        "{text}"
    );
    // Malformed input: exit 1 with the reason.
    for (args, says) in [
        (
            vec!["recall", "--gtin", "09506000134353", "--lot", "L1"],
            "check digit",
        ),
        (
            vec![
                "recall",
                "--gtin",
                sg.as_str(),
                "--from",
                "101",
                "--to",
                "99",
            ],
            "reversed",
        ),
        (
            vec![
                "recall",
                "--gtin",
                sg.as_str(),
                "--from",
                "99",
                "--to",
                "A1",
            ],
            "mixes",
        ),
    ] {
        let out = cli(&args, &data, &config);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    // CSV of the customers to notify.
    let out = cli(
        &["recall", "--gtin", &lg, "--lot", "L1", "--format", "csv"],
        &data,
        &config,
    );
    let csv = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "customer_gln,customer_name,dispatches,dispatched,returned,outstanding,first_dispatch,last_dispatch,documents");
    assert_eq!(
        lines[2],
        "9506000000202,Customer Two,1,20,4,16,2026-02-02T10:00:00Z,2026-02-02T10:00:00Z,SO-2"
    );
    assert_eq!(lines.len(), 4);
}
