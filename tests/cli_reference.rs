//! The reference-data commands (`products`, `holds`, `picklists`) and
//! `correct`, driven through the real binary on a temp configuration and
//! store: directly when no daemon runs, and through the daemon's HTTP API
//! when `scantrail run` holds the store.

mod support;

use std::path::PathBuf;
use std::process::{Command, Output};

use chrono::Utc;
use serde_json::{json, Value};

use scantrail::model::Reference;
use scantrail::station::records::encode;
use scantrail::station::reference::{Change, Hold, HoldKind, HoldScope, Owner};
use scantrail::store::{OpenOptions, Store};
use support::daemon::{dev_binary, Daemon};

const BIN: &str = env!("CARGO_BIN_EXE_scantrail");
const ADMIN: &str = "test-admin-token-123";
const HANDHELD: &str = "test-handheld-token-123";
/// Supervisors' own tokens: through the daemon a token's name is the
/// author of the changes made with it.
const ANN: &str = "ann-supervisor-token-1";
const BOB: &str = "bob-supervisor-token-1";

const PRODUCTS: &str = "gtin,description,tracking,warranty_months,shelf_life_days
09506000134352,Insulin pen,lot_and_serial,24,
9506000134369,Saline 0.9% 500 ml,lot,,365
";

const PICK_LISTS: &str = "order,customer_gln,customer_name,gtin,quantity,lots
O-1,9506000000046,City Pharmacy,09506000134352,2,
O-1,9506000000046,City Pharmacy,09506000134369,5,L1;L2
O-2,,Clinic,09506000134369,1,
";

/// A site in a temp dir: its configuration (listening on port 0) and files.
struct Site {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Site {
    fn new() -> Site {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("scantrail.toml");
        let site = Site { dir, config };
        site.write_config();
        std::fs::write(site.file("products.csv"), PRODUCTS).unwrap();
        std::fs::write(site.file("picklists.csv"), PICK_LISTS).unwrap();
        site
    }

    fn write_config(&self) {
        std::fs::write(
            &self.config,
            format!(
                r#"data_dir = "data"

[site]
id = "test-site"
name = "Test warehouse"
gln = "9506000000015"

[http]
listen = "127.0.0.1:0"
admin_token = "{ADMIN}"

[[stations]]
id = "dock-1"
mode = "receive"
location = "DOCK-1"

[[stations]]
id = "dispatch-1"
mode = "dispatch"
location = "DISPATCH-1"

[[handhelds]]
id = "hh-1"
token = "{HANDHELD}"
station = "dock-1"

[[tokens]]
name = "ann"
role = "supervisor"
token = "{ANN}"

[[tokens]]
name = "bob"
role = "supervisor"
token_sha256 = "{bob}"
"#,
                bob = scantrail::auth::digest_hex(BOB)
            ),
        )
        .unwrap();
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Creates the store, as the daemon's first start does.
    fn create_store(&self) -> Store {
        Store::open(&self.data(), OpenOptions::create("test-site".to_owned())).unwrap()
    }

    /// Runs `scantrail ARGS... --config CONFIG`.
    fn run(&self, args: &[&str]) -> Output {
        self.run_with(BIN, args)
    }

    /// Runs `BINARY ARGS... --config CONFIG`.
    fn run_with(&self, binary: &str, args: &[&str]) -> Output {
        let output = Command::new(binary)
            .args(args)
            .arg("--config")
            .arg(&self.config)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        output
    }

    /// Runs a command that must succeed; returns its stdout.
    fn ok(&self, args: &[&str]) -> String {
        self.ok_with(BIN, args)
    }

    fn ok_with(&self, binary: &str, args: &[&str]) -> String {
        let out = self.run_with(binary, args);
        assert!(
            out.status.success(),
            "scantrail {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs a command that must fail with exit 1; returns its stderr.
    fn refused(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "scantrail {args:?} should be refused: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
        stderr
    }

    fn json_lines(&self, args: &[&str]) -> Vec<Value> {
        self.ok(args)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

/// A recall head office issued, as sync applies it.
fn head_office_recall(store: &Store) {
    let hold = Hold {
        id: "R-HQ-1".to_owned(),
        kind: HoldKind::Recall,
        gtin: "09506000134369".to_owned(),
        scope: HoldScope::Lots(vec!["L9".to_owned()]),
        reason: "supplier recall".to_owned(),
        owner: Owner::HeadOffice,
        created: Change {
            by: "quality".to_owned(),
            at: Utc::now(),
            why: "supplier recall".to_owned(),
        },
        released: None,
    };
    store
        .reference()
        .apply(
            Reference::Holds,
            1,
            vec![(hold.id.clone().into_bytes(), encode(&hold))],
            vec![],
        )
        .unwrap();
}

/// How a person is named as the author: `--by` without a daemon, their
/// own token through it (where `--by` is refused).
fn as_person<'a>(daemon: bool, name: &'a str, token: &'a str) -> [&'a str; 2] {
    if daemon {
        ["--token", token]
    } else {
        ["--by", name]
    }
}

/// The same reference-data commands in either mode.
fn reference_commands(site: &Site, daemon: bool) {
    let csv = site.file("products.csv");
    if daemon {
        let e = site.refused(&["products", "import", csv.to_str().unwrap(), "--by", "ann"]);
        assert!(e.contains("--by cannot name the author"), "{e}");
    }
    let ann = as_person(daemon, "ann", ANN);
    let out = site.ok(&[&["products", "import", csv.to_str().unwrap()][..], &ann].concat());
    assert!(out.contains("imported 2 products"), "{out}");

    let table = site.ok(&["products", "list"]);
    assert!(table.lines().all(|l| l.chars().count() <= 80), "{table}");
    assert!(table.contains("09506000134352") && table.contains("Insulin pen"));
    let products = site.json_lines(&["products", "list", "--json"]);
    assert_eq!(products.len(), 2);
    assert_eq!(products[1]["gtin"], "09506000134369");
    assert_eq!(products[0]["change"]["by"], "ann");
    assert_eq!(products[0]["owner"]["site"], "test-site");

    let out = site.ok(&[
        "holds",
        "add",
        "--id",
        "H-1",
        "--gtin",
        "9506000134369",
        "--lot",
        "L1",
        "L2",
        "--reason",
        "damaged pallet",
        as_person(daemon, "bob", BOB)[0],
        as_person(daemon, "bob", BOB)[1],
    ]);
    assert!(out.contains("added hold H-1"), "{out}");
    let out = site.ok(&[
        "holds",
        "add",
        "--id",
        "R-2",
        "--gtin",
        "09506000134352",
        "--serials",
        "100..199",
        "--reason",
        "field safety notice",
        "--recall",
    ]);
    assert!(out.contains("added recall R-2"), "{out}");
    let e = site.refused(&[
        "holds",
        "add",
        "--id",
        "H-1",
        "--gtin",
        "9506000134369",
        "--lot",
        "L3",
        "--reason",
        "x",
    ]);
    assert!(e.contains("already a hold H-1"), "{e}");

    let table = site.ok(&["holds", "list"]);
    assert!(table.lines().all(|l| l.chars().count() <= 80), "{table}");
    assert!(table.contains("H-1") && table.contains("R-2") && table.contains("R-HQ-1"));
    let holds = site.json_lines(&["holds", "list", "--json"]);
    let h1 = holds.iter().find(|h| h["id"] == "H-1").unwrap();
    assert_eq!(h1["scope"]["lots"], json!(["L1", "L2"]));
    assert_eq!(h1["created"]["by"], "bob");

    let out = site.ok(&["holds", "release", "H-1", "--why", "inspected, fine"]);
    assert!(out.contains("released hold H-1"), "{out}");
    let e = site.refused(&["holds", "release", "H-1", "--why", "again"]);
    assert!(e.contains("already released"), "{e}");
    let e = site.refused(&["holds", "release", "R-HQ-1", "--why", "not ours"]);
    assert!(e.contains("only head office can release it"), "{e}");
    let e = site.refused(&["holds", "release", "H-404", "--why", "x"]);
    assert!(e.contains("no hold H-404"), "{e}");

    let active = site.ok(&["holds", "list"]);
    assert!(!active.contains("H-1 "), "{active}");
    let all = site.json_lines(&["holds", "list", "--json", "--all"]);
    let h1 = all.iter().find(|h| h["id"] == "H-1").unwrap();
    assert_eq!(h1["released"]["why"], "inspected, fine");

    let lists = site.file("picklists.csv");
    let out = site.ok(&["picklists", "import", lists.to_str().unwrap()]);
    assert!(out.contains("imported 2 pick lists"), "{out}");
    let table = site.ok(&["picklists", "list"]);
    assert!(table.lines().all(|l| l.chars().count() <= 80), "{table}");
    assert!(
        table.contains("O-1") && table.contains("City Pharmacy"),
        "{table}"
    );
    let lists = site.json_lines(&["picklists", "list", "--json"]);
    assert_eq!(lists[0]["lines"][1]["lots"], json!(["L1", "L2"]));
}

#[test]
fn direct_mode_without_a_daemon() {
    let site = Site::new();
    head_office_recall(&site.create_store());
    reference_commands(&site, false);
}

#[test]
fn daemon_mode_goes_through_the_api_and_corrects_a_scan() {
    let site = Site::new();
    head_office_recall(&site.create_store());
    let daemon = Daemon::start(&site.config);
    // The commands find the daemon through `[http] listen`.
    daemon.point_config_here(&site.config);

    // The store is the daemon's now: a direct open is refused...
    let out = Command::new(BIN)
        .args(["verify", "--config"])
        .arg(&site.config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("in use by another process"), "{stderr}");
    // ...and every reference command goes through the API.
    reference_commands(&site, true);

    let answer: Value = ureq::post(&daemon.url("/api/v1/scans"))
        .set("Authorization", &format!("Bearer {HANDHELD}"))
        .send_json(json!({
            "station": "dock-1",
            "data": "]C1010950600013435210LOT1\u{1d}21SN100",
        }))
        .unwrap()
        .into_json()
        .unwrap();
    assert_eq!(answer["accepted"], true, "{answer}");
    let seq = answer["movement"]["seq"].as_u64().unwrap();

    let out = site.ok(&[
        "correct",
        &seq.to_string(),
        "--reason",
        "scanned at the wrong dock",
        "--operator",
        "carol",
    ]);
    assert!(out.contains(&format!("reversing test-site:{seq}")), "{out}");
    let e = site.refused(&["correct", "999", "--reason", "nothing there"]);
    assert!(e.contains("no movement test-site:999"), "{e}");

    let check_journal = |site: &Site| {
        let journal = site.json_lines(&["journal", "--json"]);
        assert_eq!(journal.len(), 2, "{journal:?}");
        let c = &journal[1];
        assert_eq!(c["body"]["kind"], "correction");
        assert_eq!(
            c["body"]["corrects"],
            json!({"origin": "test-site", "seq": seq})
        );
        assert_eq!(c["body"]["reason"], "scanned at the wrong dock");
        assert_eq!(c["body"]["operator"], "carol");
        // A receipt of one unit is reversed by minus one.
        assert_eq!(journal[0]["body"]["quantity"], json!({"units": 1}));
        assert_eq!(c["body"]["quantity"], json!({"units": -1}));
        let table = site.ok(&["journal"]);
        assert!(table.contains("correction"), "{table}");
    };
    check_journal(&site);
    let status = daemon.stop();
    assert!(status.success(), "the daemon stopped with {status}");

    // Once the daemon is gone, the same journal is read directly.
    check_journal(&site);
}

#[test]
fn direct_mode_correction_reverses_a_movement() {
    let site = Site::new();
    site.ok_with(
        dev_binary(),
        &["dev-append", "--count", "3", "--threads", "1"],
    );
    let out = site.ok(&[
        "correct",
        "2",
        "--reason",
        "counted twice",
        "--operator",
        "dave",
    ]);
    assert!(
        out.contains("recorded correction test-site:4 reversing test-site:2"),
        "{out}"
    );
    let journal = site.json_lines(&["journal", "--json", "--since", "3"]);
    assert_eq!(journal.len(), 1, "{journal:?}");
    let body = &journal[0]["body"];
    assert_eq!(body["kind"], "correction");
    assert_eq!(body["corrects"], json!({"origin": "test-site", "seq": 2}));
    assert_eq!(body["operator"], "dave");
    let e = site.refused(&["correct", "2", "--reason", "  "]);
    assert!(e.contains("needs a reason"), "{e}");
}

#[test]
fn a_bad_check_digit_names_the_line() {
    let site = Site::new();
    drop(site.create_store());
    let bad = site.file("bad.csv");
    std::fs::write(
        &bad,
        "gtin,description\n09506000134352,Pen\n09506000134353,Typo\n",
    )
    .unwrap();
    let e = site.refused(&["products", "import", bad.to_str().unwrap()]);
    assert!(e.contains("line 3") && e.contains("check digit"), "{e}");
    // Nothing of a refused file is imported.
    assert!(site.json_lines(&["products", "list", "--json"]).is_empty());
}

#[test]
fn usage_errors_exit_2() {
    let site = Site::new();
    let out = site.run(&[
        "holds",
        "add",
        "--id",
        "H-1",
        "--gtin",
        "9506000134369",
        "--reason",
        "x",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = site.run(&[
        "holds",
        "add",
        "--id",
        "H-1",
        "--gtin",
        "9506000134369",
        "--reason",
        "x",
        "--serials",
        "100",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

/// The developer tools are `scantrail-dev`'s, not the product's: the
/// installed binary neither lists nor runs them.
#[test]
fn the_product_binary_has_no_developer_tools() {
    let help = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("run") && help.contains("verify"), "{help}");
    for tool in ["dev-append", "gen-data", "loadtest"] {
        assert!(!help.contains(tool), "{tool} in: {help}");
        let out = Command::new(BIN).args([tool, "--help"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "scantrail {tool}");
        let out = Command::new(dev_binary())
            .args([tool, "--help"])
            .output()
            .unwrap();
        assert!(out.status.success(), "scantrail-dev {tool}");
    }
}

/// `scantrail::dev` (synthetic data) is for the tools, tests and
/// benchmarks: no module of the product names it.
#[test]
fn the_product_does_not_use_the_dev_module() {
    fn walk(dir: &std::path::Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let skip = path.ends_with("src/dev") || path.ends_with("src/bin/scantrail-dev");
            if path.is_dir() && !skip {
                walk(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                if text.contains("crate::dev") || text.contains("scantrail::dev") {
                    found.push(path.display().to_string());
                }
            }
        }
    }
    let mut found = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut found,
    );
    assert!(
        found.is_empty(),
        "the product uses scantrail::dev: {found:?}"
    );
}
