//! The handheld page in a real headless Chromium at a handheld's size with
//! touch emulation (Debian's, over WebDriver; see `support/browser.rs`),
//! against a real `scantrail run` on loopback: enrolment through the
//! console's code, scans typed as a keyboard-wedge scanner types them,
//! refusals in words, a pick list counting down, revocation, and scans
//! made offline (Chrome's network emulation) sent once the link is back,
//! each decided once. Screenshots go to `target/console-screenshots/`
//! (`handheld-*.png`; the README shows copies from `docs/`).

#[path = "support/browser.rs"]
mod browser;
#[path = "support/images.rs"]
mod images;
#[allow(dead_code)]
mod support;

use std::path::PathBuf;
use std::time::Duration;

use browser::Browser;
use serde_json::{json, Value};
use support::daemon::{Api, Daemon};

const SUE: &str = "sue";
const SUE_PASSWORD: &str = "sue-password-1234";
const ADMIN: &str = "handheld-test-admin-token";
/// A configured handheld token, bound to dock-1 only.
const CONFIGURED: &str = "handheld-test-configured-token";
const SERIAL_GTIN: &str = "09506000134352";
const LOT_GTIN: &str = "09506000134369";
/// GS as a USB-keyboard wedge types it: Ctrl+] (WebDriver's Control key,
/// `]`, then every modifier released). Chrome turns the bare control
/// character into no input at all.
const GS: &str = "\u{E009}]\u{E000}";
const PRODUCTS: &str = "gtin,description,tracking,warranty_months,shelf_life_days\n\
    09506000134352,Insulin pen,lot_and_serial,24,\n\
    09506000134369,Saline 500 ml,lot,,\n";
const PICK_LISTS: &str = "order,customer_gln,customer_name,gtin,quantity,lots\n\
    O-2,9506000000053,Clinic North,09506000134369,3,L1\n";

/// A site with a receiving dock and a dispatch station, an admin token for
/// the test's own API calls and a supervisor for the console.
struct Site {
    _dir: tempfile::TempDir,
    config: PathBuf,
}

impl Site {
    fn new() -> Site {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("site.toml");
        let hash = scantrail::console::users::hash_password(SUE_PASSWORD).unwrap();
        // A serial scanner (not plugged in) at dock-1 whose profile sends
        // `|` for GS: the handheld page's default there.
        std::fs::write(
            dir.path().join("pipe-gs.toml"),
            "description = \"sends | for GS\"\n[framing]\nsuffix = \"CR\"\nfnc1_substitute = \"|\"\n",
        )
        .unwrap();
        std::fs::write(
            &config,
            format!(
                "data_dir = \"data\"\n[site]\nid = \"handheld-site\"\nname = \"Handheld test site\"\n\
                 [[stations]]\nid = \"dock-1\"\nmode = \"receive\"\nlocation = \"DOCK-1\"\n\
                 [[stations]]\nid = \"dispatch-1\"\nmode = \"dispatch\"\nlocation = \"DOCK-1\"\n\
                 [[tokens]]\nname = \"admin\"\nrole = \"admin\"\ntoken = \"{ADMIN}\"\n\
                 [[tokens]]\nname = \"hh-config\"\nrole = \"handheld\"\nstations = [\"dock-1\"]\ntoken = \"{CONFIGURED}\"\n\
                 [[scanners]]\nport = \"/nonexistent/ttyHH0\"\nprofile = \"pipe-gs.toml\"\nstation = \"dock-1\"\n\
                 [[users]]\nname = \"{SUE}\"\nrole = \"supervisor\"\npassword_hash = \"{hash}\"\n"
            ),
        )
        .unwrap();
        Site { _dir: dir, config }
    }
}

/// A browser the size of a 5-inch handheld, with touch.
async fn handheld_browser(daemon: &Daemon) -> Browser {
    let b = Browser::start(daemon.base_url()).await;
    b.cdp(
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": 412, "height": 860, "deviceScaleFactor": 1, "mobile": true }),
    )
    .await;
    b.cdp(
        "Emulation.setTouchEmulationEnabled",
        json!({ "enabled": true, "maxTouchPoints": 5 }),
    )
    .await;
    b
}

/// The console's code for a new handheld `name` at both stations, read
/// off the page a supervisor sees; the browser stays signed in.
async fn offer_code(b: &Browser, name: &str) -> String {
    b.sign_in(SUE, SUE_PASSWORD).await;
    b.open("/handhelds").await;
    b.fill("#hh-name", name).await;
    b.click("input[name=station][value=dock-1]").await;
    b.click("input[name=station][value=dispatch-1]").await;
    b.click("#add-handheld button[type=submit]").await;
    let code = b.text("#enrol-code").await;
    let qr = b.find("#enrol-qr svg").await;
    assert!(
        qr.attr("viewBox").await.unwrap().is_some() || qr.attr("width").await.unwrap().is_some()
    );
    assert_eq!(code.len(), 11, "{code}");
    code
}

/// The address the console's QR code holds, read from a screenshot of
/// it by scantrail's own image decoder, as a handheld's camera would.
async fn qr_address(b: &Browser) -> String {
    let png = b.find("#enrol-qr svg").await.screenshot().await.unwrap();
    let found = scantrail::scan::image::decode(
        &png,
        &scantrail::scan::image::Limits::default(),
        scantrail::gs1::dictionary::separator_follows,
    )
    .expect("the QR code's screenshot decodes");
    let frame = String::from_utf8(found[0].frame.clone()).unwrap();
    // The frame starts with the AIM identifier of a QR code.
    frame.trim_start_matches("]Q1").to_owned()
}

/// Enrols the page through the code, as a person types it.
async fn enrol(b: &Browser, code: &str) {
    b.open("/handheld/").await;
    b.fill("#enrol-input", &format!("{}\n", code.to_lowercase()))
        .await;
    b.wait_for_text("#who", "hh-", browser::WAIT).await;
}

/// The device's token, from the page's localStorage.
async fn token(b: &Browser) -> String {
    b.eval("return localStorage.getItem('scantrail.handheld.token')")
        .await
        .as_str()
        .expect("a token in localStorage")
        .to_owned()
}

/// Types `keys` into the scan field as a wedge does (no clearing).
async fn wedge(b: &Browser, keys: &str) {
    b.find("#scan")
        .await
        .send_keys(keys)
        .await
        .expect("typing into the scan field");
}

/// Waits until the result panel is `class` and says `words`.
async fn result(b: &Browser, class: &str, words: &str) -> String {
    b.wait_for_text("#result", words, browser::WAIT).await;
    let got = b.find("#result").await.attr("class").await.unwrap();
    assert_eq!(got.as_deref(), Some(class), "{}", b.text("#result").await);
    b.text("#result").await
}

/// Chooses `value` in the page's select `id`, as a person would.
async fn set_select(b: &Browser, id: &str, value: &str) {
    b.eval(&format!(
        "var s = document.getElementById('{id}'); s.value = '{value}'; s.dispatchEvent(new Event('change'));"
    ))
    .await;
}

async fn select_station(b: &Browser, station: &str) {
    set_select(b, "station", station).await;
    b.wait_for_text("#context", station, browser::WAIT).await;
}

fn journal(admin: &Api) -> Vec<Value> {
    let r = admin.get("/api/v1/journal");
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body.as_array().unwrap().clone()
}

/// How many scans the desk has decided (`scantrail_decision_seconds_count`
/// of the metrics): a scan sent again with its `scan_id` gets its first
/// answer back without a decision.
fn decisions(base: &str) -> u64 {
    let text = ureq::get(&format!("{base}/api/v1/metrics"))
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("scantrail_decision_seconds_count "))
        .map(|n| n.trim().parse().unwrap())
        .unwrap_or(0)
}

fn reference_data(admin: &Api) {
    assert_eq!(admin.post_text("/api/v1/products", PRODUCTS).status, 200);
    assert_eq!(admin.post_text("/api/v1/picklists", PICK_LISTS).status, 200);
}

/// A new site with its reference data, and a handheld browser enrolled
/// as `name` through the console (its code returned, already used).
async fn enrolled(name: &str) -> (Site, Daemon, Api, Browser, String) {
    let site = Site::new();
    let daemon = Daemon::start(&site.config);
    let admin = Api::new(daemon.base_url(), Some(ADMIN));
    reference_data(&admin);
    let b = handheld_browser(&daemon).await;
    let code = offer_code(&b, name).await;
    enrol(&b, &code).await;
    (site, daemon, admin, b, code)
}

#[tokio::test(flavor = "multi_thread")]
async fn enrol_scan_refuse_count_down_and_revoke() {
    let (site, daemon, admin, b, code) = enrolled("hh-7").await;
    // A code works once.
    let again = Api::new(daemon.base_url(), None)
        .post_json("/api/v1/handhelds/enrol", &json!({ "code": code }));
    assert_eq!(again.status, 403, "{:?}", again.body);
    let revoked_token = token(&b).await;
    let hh = Api::new(daemon.base_url(), Some(&revoked_token));
    assert_eq!(hh.get("/api/v1/handhelds/me").body["name"], "hh-7");

    // A wedge types the characters, GS as a control key (Ctrl+]), Enter.
    assert_eq!(b.eval("return document.activeElement.id").await, "scan");
    wedge(
        &b,
        &format!("]d201{SERIAL_GTIN}1727123110LOT-A{GS}21SN-001\n"),
    )
    .await;
    let seen = result(&b, "good", "Insulin pen").await;
    assert!(seen.contains("✔"), "{seen}");
    assert_eq!(b.text("#detail .v-lot").await, "LOT-A");
    assert_eq!(b.text("#detail .v-serial").await, "SN-001");
    assert_eq!(b.text("#detail .v-expiry").await, "2027-12-31");
    b.screenshot("handheld-scan-accepted").await;
    let m = journal(&admin);
    assert_eq!(m.len(), 1);
    assert_eq!(m[0]["body"]["author"], "hh-7", "the device is the author");

    // A badge signs the operator in, as on a serial scanner; the glance
    // shows who.
    wedge(&b, "OP:alice\n").await;
    result(&b, "good", "alice").await;
    b.wait_for_text("#context", "alice", browser::WAIT).await;
    // A scanner set to end scans with Tab (WebDriver's Tab key).
    set_select(&b, "suffix", "Tab").await;
    wedge(&b, "OP:bob\u{E004}").await;
    b.wait_for_text("#context", "bob", browser::WAIT).await;
    assert_eq!(b.eval("return document.activeElement.id").await, "scan");
    set_select(&b, "suffix", "Enter").await;

    // By default the page takes the station's scanner profile's
    // substitute (`|` at dock-1).
    wedge(&b, &format!("]d201{SERIAL_GTIN}1727123110LOT-P|21SN-010\n")).await;
    result(&b, "good", "SN-010").await;
    assert_eq!(b.text("#detail .v-lot").await, "LOT-P");

    // A scanner set to send `^` for GS, and a lot that is markup: text.
    set_select(&b, "gs", "^").await;
    wedge(
        &b,
        &format!("]d201{SERIAL_GTIN}1727123110<script>x</script>^21SN-002\n"),
    )
    .await;
    result(&b, "good", "SN-002").await;
    assert_eq!(b.text("#detail .v-lot").await, "<script>x</script>");
    assert_eq!(
        b.eval("return document.querySelectorAll('#result script').length")
            .await,
        0
    );
    assert_eq!(b.eval("return document.activeElement.id").await, "scan");

    // The camera, on a browser without BarcodeDetector: the photo goes
    // to POST /api/v1/scans/image and its answer shows the same way.
    let photo = tempfile::Builder::new().suffix(".png").tempfile().unwrap();
    let pack = format!("01{SERIAL_GTIN}1727123110LOT-C\u{1d}21SN-003");
    std::fs::write(
        photo.path(),
        images::png(&images::render_2d(&images::gs1_datamatrix(&pack), 6)),
    )
    .unwrap();
    b.eval("delete window.BarcodeDetector; document.getElementById('photo').hidden = false;")
        .await;
    b.find("#photo")
        .await
        .send_keys(&photo.path().display().to_string())
        .await
        .unwrap();
    result(&b, "good", "SN-003").await;
    assert_eq!(b.text("#detail .v-lot").await, "LOT-C");
    b.eval("document.getElementById('photo').hidden = true;")
        .await;

    // On a receipt, the supplier and the despatch advice at a glance.
    let r = admin.put_json(
        "/api/v1/stations/dock-1/context",
        &json!({ "supplier": { "name": "Pharma Supply Ltd" }, "despatch_advice": "DESADV-77" }),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    b.eval("document.getElementById('station').dispatchEvent(new Event('change'));")
        .await;
    b.wait_for_text("#context", "DESADV-77", browser::WAIT)
        .await;
    assert!(b.text("#context").await.contains("Pharma Supply Ltd"));

    // Stock of two lots, then a pick of order O-2 (3 of L1) at dispatch.
    set_select(&b, "gs", "").await;
    for lot in ["L1", "L2"] {
        wedge(&b, &format!("]C101{LOT_GTIN}1730123110{lot}{GS}3010\n")).await;
        b.wait_for_text("#detail", lot, browser::WAIT).await;
    }
    let r = admin.put_json(
        "/api/v1/stations/dispatch-1/context",
        &json!({ "order": "O-2" }),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    select_station(&b, "dispatch-1").await;
    b.wait_for_text("#pick", "3 of 3", browser::WAIT).await;
    assert!(b.text("#context").await.contains("Clinic North"));
    assert!(b.text("#pick").await.contains("Saline 500 ml"));
    wedge(&b, &format!("]d201{LOT_GTIN}1730123110L2\n")).await;
    let seen = result(&b, "bad", "expected batch L1, scanned L2").await;
    assert!(seen.contains("✘"), "{seen}");
    b.screenshot("handheld-scan-refused").await;
    for left in ["2 of 3", "1 of 3", "0 of 3"] {
        wedge(&b, &format!("]d201{LOT_GTIN}1730123110L1\n")).await;
        b.wait_for_text("#pick", left, browser::WAIT).await;
    }

    // Revoked in the console: refused at once, by the API and the page.
    b.open("/handhelds").await;
    assert!(b.text("#handhelds").await.contains("hh-7"));
    b.click("button[data-revoke='hh-7']").await;
    b.wait_for_text("#handhelds-note", "revoked", browser::WAIT)
        .await;
    assert_eq!(hh.get("/api/v1/handhelds/me").status, 401);
    assert_eq!(
        hh.post_json(
            "/api/v1/scans",
            &json!({ "data": format!("]d201{LOT_GTIN}1730123110L1") })
        )
        .status,
        401
    );
    b.open("/handheld/").await;
    b.wait_for_text("#net", "not enrolled", browser::WAIT).await;
    b.find("#enrol-input").await;
    b.close().await;

    // The revocation survives a restart.
    assert!(daemon.stop().success());
    let daemon = Daemon::start(&site.config);
    let hh = Api::new(daemon.base_url(), Some(&revoked_token));
    assert_eq!(hh.get("/api/v1/handhelds/me").status, 401);
    assert!(daemon.stop().success());
}

/// The routes the page uses, over plain HTTP: a code refused in words, a
/// handheld kept to its stations, GS sent as a substitute.
#[test]
fn enrolment_codes_glances_and_gs_substitutes_over_http() {
    let site = Site::new();
    let daemon = Daemon::start(&site.config);
    let anyone = Api::new(daemon.base_url(), None);
    let r = anyone.post_json("/api/v1/handhelds/enrol", &json!({ "code": "ABCDE-FGHJK" }));
    assert_eq!(r.status, 403, "{:?}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("not valid"));
    let r = anyone.post_json("/api/v1/handhelds/enrol", &json!({ "kode": "x" }));
    assert_eq!(r.status, 400, "{:?}", r.body);
    // Guessing is slowed: a burst, then 429 with the wait in words.
    let refused = (0..12)
        .map(|_| anyone.post_json("/api/v1/handhelds/enrol", &json!({ "code": "ZZZZZ-ZZZZZ" })))
        .find(|r| r.status == 429)
        .expect("guessing codes is rate-limited");
    assert!(refused.body["detail"].as_str().unwrap().contains("wait"));
    assert_eq!(anyone.get("/api/v1/stations/dock-1/glance").status, 401);

    let hh = Api::new(daemon.base_url(), Some(CONFIGURED));
    let admin = Api::new(daemon.base_url(), Some(ADMIN));
    reference_data(&admin);
    assert_eq!(hh.get("/api/v1/stations/dispatch-1/glance").status, 403);
    let r = hh.get("/api/v1/stations/dock-1/glance");
    assert_eq!(
        (r.status, &r.body["mode"]),
        (200, &json!("receive")),
        "{:?}",
        r.body
    );
    assert_eq!(r.body["gs_substitute"], "|", "{:?}", r.body);
    let r = hh.get("/api/v1/handhelds/me");
    assert_eq!(
        r.body,
        json!({ "name": "hh-config", "role": "handheld", "stations": ["dock-1"] })
    );
    let scan = |sub: &str| {
        hh.post_json(
            "/api/v1/scans",
            &json!({ "data": format!("]d201{SERIAL_GTIN}1727123110LOT-S{sub}21SN-9"), "gs_substitute": sub }),
        )
    };
    let r = scan("ab");
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("gs_substitute"));
    let r = scan("|");
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["movement"]["body"]["lot"], "LOT-S", "{:?}", r.body);
    assert_eq!(r.body["movement"]["body"]["serial"], "SN-9");
    assert!(daemon.stop().success());
}

#[tokio::test(flavor = "multi_thread")]
async fn offline_scans_wait_and_are_each_decided_once() {
    // Enrolled through the QR code: its address, opened as it is.
    let site = Site::new();
    let daemon = Daemon::start(&site.config);
    let admin = Api::new(daemon.base_url(), Some(ADMIN));
    reference_data(&admin);
    let b = handheld_browser(&daemon).await;
    let code = offer_code(&b, "hh-far").await;
    let address = qr_address(&b).await;
    assert_eq!(
        address,
        format!("{}/handheld/#code={code}", daemon.base_url())
    );
    b.client.goto(&address).await.unwrap();
    b.wait_for_text("#who", "hh-far", browser::WAIT).await;
    let token = token(&b).await;
    // Let the service worker take the page, so it opens offline too.
    for _ in 0..100 {
        if b.eval("return !!navigator.serviceWorker.controller").await == true {
            break;
        }
        b.open("/handheld/").await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    b.wait_for_text("#who", "hh-far", browser::WAIT).await;

    b.cdp("Network.enable", json!({})).await;
    b.cdp(
        "Network.emulateNetworkConditions",
        json!({ "offline": true, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1 }),
    )
    .await;
    // 20 scans: 18 new serials and two repeats, refused once decided.
    let mut serials: Vec<String> = (1..=18).map(|i| format!("OFF-{i:02}")).collect();
    serials.insert(5, "OFF-02".into());
    serials.insert(12, "OFF-09".into());
    for s in &serials {
        wedge(&b, &format!("]d201{SERIAL_GTIN}1727123110LOT-O{GS}21{s}\n")).await;
    }
    b.wait_for_text("#net", "Offline: 20 scans waiting", browser::WAIT)
        .await;
    let pending = b
        .eval("return document.querySelectorAll('#scans li.pending').length")
        .await;
    assert_eq!(pending, 20);
    assert!(b.text("#scans").await.contains("pending, not yet checked"));
    assert_eq!(
        b.eval("return document.querySelectorAll('#scans li.good').length")
            .await,
        0
    );
    assert!(journal(&admin).is_empty(), "nothing reached the daemon");
    b.screenshot("handheld-scan-offline").await;
    // The page itself opens offline (its service worker), still counting.
    b.open("/handheld/").await;
    b.wait_for_text("#net", "Offline: 20 scans waiting", browser::WAIT)
        .await;
    assert_eq!(b.text("#who").await, "hh-far");
    assert_eq!(
        b.eval("return !!navigator.serviceWorker.controller").await,
        true
    );

    b.cdp(
        "Network.emulateNetworkConditions",
        json!({ "offline": false, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1 }),
    )
    .await;
    b.wait_gone("#scans li.pending").await;
    assert_eq!(
        b.eval("return document.querySelectorAll('#scans li.good').length")
            .await,
        18
    );
    assert_eq!(
        b.eval("return document.querySelectorAll('#scans li.bad').length")
            .await,
        2
    );
    assert!(b.text("#scans li.bad").await.contains("OFF-"));

    // A reload and a forced flush send nothing again.
    b.open("/handheld/").await;
    b.wait_for_text("#who", "hh-far", browser::WAIT).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let queued = b
        .client
        .execute_async(
            "var done = arguments[0]; var r = indexedDB.open('scantrail-handheld'); r.onsuccess = function () { var q = r.result.transaction('queue').objectStore('queue').count(); q.onsuccess = function () { done(q.result); }; };",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(queued, 0);
    assert_eq!(
        decisions(daemon.base_url()),
        20,
        "each scan decided once, none again"
    );
    let m = journal(&admin);
    assert_eq!(m.len(), 18, "each serial recorded once");
    let mut recorded: Vec<&str> = m
        .iter()
        .map(|m| m["body"]["serial"].as_str().unwrap())
        .collect();
    recorded.sort_unstable();
    recorded.dedup();
    assert_eq!(recorded.len(), 18);
    b.close().await;

    // The enrolled token survives a restart, and the scans with it.
    assert!(daemon.stop().success());
    let daemon = Daemon::start(&site.config);
    let hh = Api::new(daemon.base_url(), Some(&token));
    assert_eq!(hh.get("/api/v1/handhelds/me").body["name"], "hh-far");
    let admin = Api::new(daemon.base_url(), Some(ADMIN));
    assert_eq!(journal(&admin).len(), 18);
    assert!(daemon.stop().success());
}

/// The bytes of `path` as served, and gzip -9's size of them.
fn weigh(base: &str, path: &str) -> (usize, usize) {
    use std::io::{Read, Write};
    let mut body = Vec::new();
    ureq::get(&format!("{base}{path}"))
        .call()
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
        .into_reader()
        .read_to_end(&mut body)
        .unwrap();
    let mut gzip = std::process::Command::new("gzip")
        .arg("-9c")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gzip is needed to weigh the page compressed");
    gzip.stdin.take().unwrap().write_all(&body).unwrap();
    let out = gzip.wait_with_output().unwrap();
    (body.len(), out.stdout.len())
}

/// Milliseconds from navigation to the load event, and to the mark
/// `ready` if the page sets one, of `path` opened `runs` times.
async fn load_times(b: &Browser, path: &str, ready: &str, runs: usize) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    for _ in 0..runs {
        b.open(path).await;
        let script = format!(
            "var n = performance.getEntriesByType('navigation')[0]; var m = performance.getEntriesByName('{ready}')[0]; \
             return n.loadEventEnd > 0 ? [n.loadEventEnd, m ? m.startTime : n.loadEventEnd] : null;"
        );
        let mut seen = Value::Null;
        for _ in 0..200 {
            seen = b.eval(&script).await;
            if !seen.is_null() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let pair = seen.as_array().expect("a navigation entry");
        out.push((pair[0].as_f64().unwrap(), pair[1].as_f64().unwrap()));
    }
    out
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// The page's weight (HTML, script, style; compressed as gzip -9 would
/// send them) and its load time on loopback in Chromium at a handheld's
/// size, beside the console's sign-in page measured the same way in the
/// same run (BENCHMARKS.md, "Handheld page"; `benches/handheld_page.sh`).
/// Targets: < 100 KB, < 300 ms.
#[tokio::test(flavor = "multi_thread")]
async fn the_page_is_light_and_loads_fast() {
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let (site, daemon, _admin, b, _) = enrolled("hh-bench").await;
    let base = daemon.base_url().to_owned();
    let sum = |paths: &[&str]| {
        paths.iter().fold((0, 0), |(r, g), p| {
            let (raw, gz) = weigh(&base, p);
            println!("weight {p}: {raw} bytes, {gz} gzip -9");
            (r + raw, g + gz)
        })
    };
    let page = sum(&["/handheld/", "/handheld/app.js", "/handheld/app.css"]);
    let worker = weigh(&base, "/handheld/sw.js");
    let console = sum(&["/login", "/assets/console.js", "/assets/console.css"]);
    println!(
        "weight handheld page (HTML+JS+CSS): {} bytes, {} gzip -9; its service worker {} / {}",
        page.0, page.1, worker.0, worker.1
    );
    println!(
        "weight console sign-in (HTML+JS+CSS, baseline): {} bytes, {} gzip -9",
        console.0, console.1
    );
    assert!(
        page.1 < 100_000 && page.0 < 100_000,
        "the page weighs {page:?}"
    );

    // Warm: the enrolled page, opened again and again (the service
    // worker fetches from the network first, so each load is a real one).
    let hh = load_times(&b, "/handheld/", "handheld-ready", runs).await;
    let (load, ready): (Vec<f64>, Vec<f64>) = hh.iter().copied().unzip();
    println!("load handheld page, {runs} runs: load event median {:.1} ms (max {:.1}), scan screen up median {:.1} ms (max {:.1})",
        median(load.clone()), load.iter().cloned().fold(0.0, f64::max), median(ready.clone()), ready.iter().cloned().fold(0.0, f64::max));
    let login = load_times(&b, "/login", "none", runs).await;
    let login: Vec<f64> = login.iter().map(|p| p.0).collect();
    println!(
        "load console sign-in (baseline), {runs} runs: load event median {:.1} ms (max {:.1})",
        median(login.clone()),
        login.iter().cloned().fold(0.0, f64::max)
    );
    assert!(median(ready) < 300.0 && median(load) < 300.0, "{hh:?}");
    b.close().await;
    drop(site);
    assert!(daemon.stop().success());
}
