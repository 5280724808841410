//! Roles on tokens, through the real daemon over loopback HTTP: a handheld
//! is kept to its own stations and out of the supervisors' routes, a
//! supervisor out of sync control, and the author of every change is the
//! token's name, whatever the request says.

#[allow(dead_code)]
mod support;

use std::path::PathBuf;

use serde_json::{json, Value};
use support::daemon::{open_events, Api, Daemon, Reply};

const HH3: &str = "hh-3-handheld-token";
const HH4: &str = "hh-4-handheld-token";
const SUE: &str = "sue-supervisor-token";
const ROOT: &str = "root-admin-token-xyz";
const GS: char = '\u{1d}';

const PRODUCTS: &str = "gtin,description,tracking\n09506000134352,Insulin pen,lot_and_serial\n";
const PICK_LISTS: &str = "order,customer_name,gtin,quantity\nO-1,City Pharmacy,09506000134352,1\n";

/// A site in a temp dir with two receiving docks and a dispatch station;
/// `tokens` is the configuration's token part.
struct Site {
    _dir: tempfile::TempDir,
    config: PathBuf,
}

impl Site {
    fn new(tokens: &str) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("site.toml");
        std::fs::write(
            &config,
            format!(
                "data_dir = \"data\"\n[site]\nid = \"access-site\"\n\
                 [[stations]]\nid = \"dock-1\"\nmode = \"receive\"\nlocation = \"DOCK-1\"\n\
                 [[stations]]\nid = \"dock-2\"\nmode = \"receive\"\nlocation = \"DOCK-2\"\n\
                 [[stations]]\nid = \"dispatch-1\"\nmode = \"dispatch\"\nlocation = \"DOCK-1\"\n\
                 {tokens}"
            ),
        )
        .unwrap();
        Site { _dir: dir, config }
    }

    /// Handhelds hh-3 (dock-1) and hh-4 (dock-2), supervisor sue (stored
    /// hashed), admin root.
    fn with_roles() -> Site {
        Site::new(&format!(
            "[[tokens]]\nname = \"hh-3\"\nrole = \"handheld\"\nstations = [\"dock-1\"]\ntoken = \"{HH3}\"\n\
             [[tokens]]\nname = \"hh-4\"\nrole = \"handheld\"\nstations = [\"dock-2\"]\ntoken = \"{HH4}\"\n\
             [[tokens]]\nname = \"sue\"\nrole = \"supervisor\"\ntoken_sha256 = \"{}\"\n\
             [[tokens]]\nname = \"root\"\nrole = \"admin\"\ntoken = \"{ROOT}\"\n",
            scantrail::auth::digest_hex(SUE)
        ))
    }
}

/// A pen of lot L1, expiring 2027-12-31, with this serial.
fn serial_item(serial: &str) -> String {
    format!("]d201095060001343521727123110L1{GS}21{serial}")
}

#[track_caller]
fn status(r: &Reply, want: u16, what: &str) {
    assert_eq!(r.status, want, "{what}: {:?}", r.body);
}

#[track_caller]
fn forbidden(r: &Reply, what: &str, words: &[&str]) {
    status(r, 403, what);
    let message = r.body["error"].as_str().unwrap_or_default();
    for w in words {
        assert!(
            message.contains(w),
            "{what}: {message:?} does not name {w:?}"
        );
    }
}

/// Every supervisor route, as (method, path, body): what a handheld may
/// not call.
fn supervisor_routes(seq: u64) -> Vec<(&'static str, String, String)> {
    vec![
        ("POST", "/api/v1/products".into(), PRODUCTS.into()),
        ("POST", "/api/v1/picklists".into(), PICK_LISTS.into()),
        (
            "POST",
            "/api/v1/holds".into(),
            json!({"id": "H-1", "gtin": "09506000134352", "lots": ["L1"], "reason": "damaged"})
                .to_string(),
        ),
        (
            "POST",
            "/api/v1/holds/H-1/release".into(),
            json!({"why": "fine"}).to_string(),
        ),
        (
            "POST",
            "/api/v1/corrections".into(),
            json!({"seq": seq, "reason": "wrong dock"}).to_string(),
        ),
        ("GET", "/api/v1/journal".into(), String::new()),
        (
            "GET",
            "/api/v1/reports/stock?gtin=09506000134352".into(),
            String::new(),
        ),
    ]
}

fn call(api: &Api, method: &str, path: &str, body: &str) -> Reply {
    match method {
        "GET" => api.get(path),
        _ => api.send(method, path, "application/json", body),
    }
}

/// A multipart photo upload for `station` (the image is never decoded
/// when the station is refused).
fn photo(api: &Api, station: &str) -> Reply {
    let body = format!(
        "--XB\r\nContent-Disposition: form-data; name=\"station\"\r\n\r\n{station}\r\n\
         --XB\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n\
         Content-Type: image/png\r\n\r\nnot a png\r\n--XB--\r\n"
    );
    api.send(
        "POST",
        "/api/v1/scans/image",
        "multipart/form-data; boundary=XB",
        &body,
    )
}

#[test]
fn a_handheld_is_kept_to_its_stations_and_out_of_supervisor_routes() {
    let site = Site::with_roles();
    let daemon = Daemon::start(&site.config);
    let hh = Api::new(daemon.base_url(), Some(HH3));
    let sue = Api::new(daemon.base_url(), Some(SUE));

    // Its own station: scans, context, the station list, reading reference data.
    let r = hh.post_json(
        "/api/v1/scans",
        &json!({"station": "dock-1", "data": serial_item("S1")}),
    );
    status(&r, 200, "scan at its own station");
    assert_eq!(r.body["accepted"], true, "{:?}", r.body);
    let seq = r.body["movement"]["seq"].as_u64().unwrap();
    // No station named: its default one.
    let r = hh.post_json("/api/v1/scans", &json!({"data": serial_item("S2")}));
    assert_eq!(
        r.body["movement"]["body"]["station"], "dock-1",
        "{:?}",
        r.body
    );
    status(
        &hh.put_json(
            "/api/v1/stations/dock-1/context",
            &json!({"purchase_order": "PO-7"}),
        ),
        200,
        "context of its own station",
    );
    status(
        &hh.get("/api/v1/stations/dock-1/context"),
        200,
        "read own context",
    );
    status(&hh.get("/api/v1/stations"), 200, "station list");
    status(&hh.get("/api/v1/products"), 200, "product list");

    // Another station: refused, naming its stations.
    let words = ["hh-3", "dock-1", "dispatch-1"];
    forbidden(
        &hh.post_json(
            "/api/v1/scans",
            &json!({"station": "dispatch-1", "data": serial_item("S1")}),
        ),
        "scan at another station",
        &words,
    );
    forbidden(
        &hh.put_json(
            "/api/v1/stations/dispatch-1/context",
            &json!({"order": "O-1"}),
        ),
        "context of another station",
        &words,
    );
    forbidden(
        &hh.get("/api/v1/stations/dispatch-1/context"),
        "read another context",
        &words,
    );
    forbidden(
        &photo(&hh, "dispatch-1"),
        "photo at another station",
        &words,
    );
    // Nothing of the refused context change was stored.
    let r = sue.get("/api/v1/stations/dispatch-1/context");
    assert!(r.body["order"].is_null(), "{:?}", r.body);

    // Every supervisor route: 403 naming the role, for the handheld.
    for (method, path, body) in supervisor_routes(seq) {
        forbidden(
            &call(&hh, method, &path, &body),
            &format!("handheld {method} {path}"),
            &["needs the supervisor role", "`hh-3` is a handheld"],
        );
    }
    // Sync control needs the admin role.
    forbidden(
        &hh.get("/api/v1/sync"),
        "handheld sync status",
        &["admin role"],
    );

    // The supervisor may do each of them (the hold added before its release).
    for (method, path, body) in supervisor_routes(seq) {
        status(
            &call(&sue, method, &path, &body),
            200,
            &format!("supervisor {method} {path}"),
        );
    }
    // ...but not sync control, which is the admin's.
    forbidden(
        &sue.post_json("/api/v1/sync/resume", &json!({})),
        "supervisor sync resume",
        &["needs the admin role", "`sue` is a supervisor"],
    );
    forbidden(
        &sue.get("/api/v1/sync"),
        "supervisor sync status",
        &["admin role"],
    );
    let root = Api::new(daemon.base_url(), Some(ROOT));
    status(
        &root.post_json("/api/v1/sync/resume", &json!({})),
        200,
        "admin sync resume",
    );
    // This site does not sync: the admin is let through to that answer.
    status(&root.get("/api/v1/sync"), 404, "admin sync status");

    // Unknown and missing tokens: 401 with the JSON error body.
    for api in [
        Api::new(daemon.base_url(), Some("sue-supervisor-token-")),
        Api::new(daemon.base_url(), None),
    ] {
        for path in ["/api/v1/stations", "/api/v1/journal", "/api/v1/sync"] {
            let r = api.get(path);
            status(&r, 401, path);
            assert!(r.body["error"].is_string(), "{:?}", r.body);
        }
    }
    daemon.stop();
}

#[test]
fn the_author_is_the_token_name_never_a_field_of_the_request() {
    let site = Site::with_roles();
    let daemon = Daemon::start(&site.config);
    let sue = Api::new(daemon.base_url(), Some(SUE));

    let r = sue.post_text("/api/v1/products?by=ann", PRODUCTS);
    status(&r, 400, "import naming its author");
    let message = r.body["error"].as_str().unwrap();
    assert!(
        message.contains("`sue`") && message.contains("`by`"),
        "{message}"
    );
    status(
        &sue.post_text("/api/v1/products?why=new+range", PRODUCTS),
        200,
        "import",
    );
    let products = sue.get("/api/v1/products").body;
    assert_eq!(products[0]["change"]["by"], "sue", "{products}");
    assert_eq!(products[0]["change"]["why"], "new range", "{products}");

    status(
        &sue.post_text("/api/v1/picklists?by=ann", PICK_LISTS),
        400,
        "pick lists naming their author",
    );

    let hold = json!({"id": "H-1", "gtin": "09506000134352", "lots": ["L1"], "reason": "damaged"});
    let mut with_by = hold.clone();
    with_by["by"] = json!("qa-manager");
    status(
        &sue.post_json("/api/v1/holds", &with_by),
        400,
        "hold naming its author",
    );
    status(&sue.post_json("/api/v1/holds", &hold), 200, "hold");
    status(
        &sue.post_json(
            "/api/v1/holds/H-1/release",
            &json!({"why": "ok", "by": "qa-manager"}),
        ),
        400,
        "release naming its author",
    );
    status(
        &sue.post_json("/api/v1/holds/H-1/release", &json!({"why": "ok"})),
        200,
        "release",
    );
    let holds = sue.get("/api/v1/holds").body;
    assert_eq!(holds[0]["created"]["by"], "sue", "{holds}");
    assert_eq!(holds[0]["released"]["by"], "sue", "{holds}");

    // A correction: `operator` is who the client says was signed in, kept
    // apart from the author; a body naming an author is refused.
    let hh = Api::new(daemon.base_url(), Some(HH3));
    let scanned = hh.post_json(
        "/api/v1/scans",
        &json!({"station": "dock-1", "data": serial_item("S1"), "operator": "supervisor-bob"}),
    );
    // The movement names the handheld's token as its author; the operator
    // the client gave is kept apart, as what it is: a claim.
    let body = &scanned.body["movement"]["body"];
    assert_eq!(body["author"], "hh-3", "{:?}", scanned.body);
    assert_eq!(body["operator"], "supervisor-bob", "{:?}", scanned.body);
    let seq = scanned.body["movement"]["seq"].as_u64().unwrap();
    status(
        &sue.post_json(
            "/api/v1/corrections",
            &json!({"seq": seq, "reason": "x", "by": "supervisor-bob"}),
        ),
        400,
        "correction naming its author",
    );
    let r = sue.post_json(
        "/api/v1/corrections",
        &json!({"seq": seq, "reason": "wrong dock", "operator": "carol"}),
    );
    status(&r, 200, "correction");
    assert_eq!(r.body["body"]["operator"], "carol", "{:?}", r.body);
    assert_eq!(r.body["body"]["author"], "sue", "{:?}", r.body);
    // A second correction of it is refused by the rules (422); a movement
    // that does not exist is not found (404), and neither records anything.
    let again = sue.post_json(
        "/api/v1/corrections",
        &json!({"seq": seq, "reason": "again"}),
    );
    status(&again, 422, "second correction");
    let missing = sue.post_json(
        "/api/v1/corrections",
        &json!({"seq": 999, "reason": "no such scan"}),
    );
    status(&missing, 404, "correction of a missing movement");
    assert!(
        missing.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("no movement") && d.contains(":999")),
        "{:?}",
        missing.body
    );
    // And so the journal keeps it, hashed into the chain.
    let journal = sue.get("/api/v1/journal").body;
    let authors: Vec<&str> = journal
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"]["author"].as_str().unwrap())
        .collect();
    assert_eq!(authors, ["hh-3", "sue"], "{journal}");
    daemon.stop();
}

/// `CMD:VOID` from a handheld voids the last scan of its own station, not
/// the last scan of the site (another handheld's, at another dock).
#[test]
fn a_handheld_void_reverses_only_its_own_stations_last_scan() {
    let site = Site::with_roles();
    let daemon = Daemon::start(&site.config);
    let hh3 = Api::new(daemon.base_url(), Some(HH3));
    let hh4 = Api::new(daemon.base_url(), Some(HH4));
    let scan = |api: &Api, station: &str, data: &str| -> Value {
        let r = api.post_json("/api/v1/scans", &json!({"station": station, "data": data}));
        status(&r, 200, data);
        assert_eq!(r.body["accepted"], true, "{:?}", r.body);
        r.body["movement"].clone()
    };
    let mine = scan(&hh3, "dock-1", &serial_item("S1"));
    let theirs = scan(&hh4, "dock-2", &serial_item("S2"));
    // hh-3 cannot void at hh-4's dock...
    forbidden(
        &hh3.post_json(
            "/api/v1/scans",
            &json!({"station": "dock-2", "data": "]C0CMD:VOID"}),
        ),
        "void at another station",
        &["hh-3"],
    );
    // ...and its own void reverses its own scan, not the site's last.
    let void = scan(&hh3, "dock-1", "]C0CMD:VOID");
    assert_eq!(
        void["body"]["corrects"],
        json!({"origin": "access-site", "seq": mine["seq"]}),
        "{void}"
    );
    assert_ne!(mine["seq"], theirs["seq"]);
    daemon.stop();
}

/// Today's `[http] admin_token` and `[[handhelds]]` still load, as admin
/// and as a handheld of its one station, with one warning naming the new
/// form.
#[test]
fn the_older_token_form_loads_with_one_warning() {
    let site = Site::new(
        "[http]\nadmin_token = \"old-admin-token\"\n\
         [[handhelds]]\nid = \"old-hh\"\ntoken = \"old-hh-token\"\nstation = \"dock-1\"\n",
    );
    let daemon = Daemon::start(&site.config);
    let admin = Api::new(daemon.base_url(), Some("old-admin-token"));
    let hh = Api::new(daemon.base_url(), Some("old-hh-token"));
    status(
        &admin.post_text("/api/v1/products", PRODUCTS),
        200,
        "admin import",
    );
    assert_eq!(
        admin.get("/api/v1/products").body[0]["change"]["by"],
        "admin"
    );
    forbidden(
        &hh.post_text("/api/v1/products", PRODUCTS),
        "handheld import",
        &["supervisor role", "`old-hh` is a handheld"],
    );
    let r = hh.post_json("/api/v1/scans", &json!({"data": serial_item("S1")}));
    assert_eq!(
        r.body["movement"]["body"]["station"], "dock-1",
        "{:?}",
        r.body
    );
    forbidden(
        &hh.post_json(
            "/api/v1/scans",
            &json!({"station": "dock-2", "data": serial_item("S2")}),
        ),
        "older handheld at another station",
        &["old-hh"],
    );
    status(
        &admin.post_json("/api/v1/sync/resume", &json!({})),
        200,
        "admin sync",
    );
    let log = daemon.log();
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("WARN") && l.contains("older token form"))
        .collect();
    assert_eq!(warnings.len(), 1, "{log}");
    assert!(
        warnings[0].contains("[[tokens]]")
            && warnings[0].contains("[http] admin_token")
            && warnings[0].contains("[[handhelds]]"),
        "{}",
        warnings[0]
    );
    daemon.stop();
}

/// A bad `[[tokens]]` entry stops the daemon before it listens, naming the
/// entry.
#[test]
fn a_bad_token_entry_is_refused_at_start() {
    let site =
        Site::new("[[tokens]]\nname = \"boss-1\"\nrole = \"boss\"\ntoken = \"0123456789abcdef\"\n");
    let (code, stderr) = Daemon::start_refused(&site.config);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("tokens[0].role")
            && stderr.contains("unknown role \"boss\": use handheld, supervisor, admin or partner"),
        "{stderr}"
    );
}

/// The harness fails a test whose daemon does not start, with the
/// daemon's own words, instead of hanging or testing nothing.
#[test]
#[should_panic(expected = "unknown role")]
fn the_harness_fails_with_the_log_of_a_daemon_that_did_not_start() {
    let site =
        Site::new("[[tokens]]\nname = \"boss-1\"\nrole = \"boss\"\ntoken = \"0123456789abcdef\"\n");
    let _daemon = Daemon::start(&site.config);
}

/// A handheld's event stream carries only its own stations' events, each
/// naming the token as the scan's source.
#[test]
fn a_handheld_hears_only_its_own_stations_events() {
    use std::io::Read;
    use std::time::{Duration, Instant};
    let site = Site::with_roles();
    let daemon = Daemon::start(&site.config);
    let (mut stream, mut got) = open_events(&daemon, HH3);
    let mut buf = [0u8; 4096];

    // Another dock's scans first, then its own: a receipt, and the same
    // serial again (refused, an event that names its source).
    let hh4 = Api::new(daemon.base_url(), Some(HH4));
    let hh3 = Api::new(daemon.base_url(), Some(HH3));
    for (api, station, serial) in [
        (&hh4, "dock-2", "OTHER"),
        (&hh4, "dock-2", "OTHER"),
        (&hh3, "dock-1", "MINE"),
        (&hh3, "dock-1", "MINE"),
    ] {
        let r = api.post_json(
            "/api/v1/scans",
            &json!({"station": station, "data": serial_item(serial)}),
        );
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let refused = loop {
        let text = String::from_utf8_lossy(&got).into_owned();
        let refused = text
            .split("event: refused")
            .nth(1)
            .and_then(|rest| rest.lines().find_map(|l| l.strip_prefix("data: ")))
            .map(str::to_owned);
        if let Some(data) = refused {
            break (text, data);
        }
        assert!(
            Instant::now() < deadline,
            "no refusal of its own scan: {text:?}"
        );
        let n = stream.read(&mut buf).unwrap_or(0);
        got.extend_from_slice(&buf[..n]);
    };
    let (text, data) = refused;
    assert!(!text.contains("dock-2"), "another station's event: {text}");
    assert!(text.contains("MINE"), "{text}");
    let event: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(event["station"], "dock-1", "{event}");
    assert_eq!(event["source"], "hh-3", "{event}");
    drop(stream);
    daemon.stop();
}
