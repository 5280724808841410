//! The supervisor console of the site daemon: signing in and the guards
//! around it over real HTTP on loopback, and the pages in a real headless
//! Chromium (Debian's, over WebDriver; see `support/browser.rs`). Each
//! test starts its own daemon through `support::daemon` and its own
//! browser; screenshots go to `target/console-screenshots/`.

#[path = "support/browser.rs"]
mod browser;
mod support;
mod sync_support;

use std::path::PathBuf;
use std::time::Duration;

use browser::Browser;
use support::daemon::Daemon;
use support::http::{hidden, Http};

const SUE: &str = "sue";
const SUE_PASSWORD: &str = "sue-password-1234";
const HANK: &str = "hank";
const HANK_PASSWORD: &str = "hank-password-1234";
const ROOT: &str = "root";
const ROOT_PASSWORD: &str = "root-password-1234";
const SUPERVISOR_TOKEN: &str = "console-supervisor-token";
const HANDHELD_TOKEN: &str = "console-handheld-token";

/// A site in a temp dir: a receiving dock and a dispatch station, tokens
/// for the API, and console users sue (supervisor), hank (handheld) and
/// root (admin).
struct Site {
    _dir: tempfile::TempDir,
    config: PathBuf,
}

impl Site {
    fn new(extra: &str) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("site.toml");
        let hash = |p: &str| scantrail::console::users::hash_password(p).unwrap();
        std::fs::write(
            &config,
            format!(
                "data_dir = \"data\"\n{extra}\n[site]\nid = \"console-site\"\nname = \"Console test site\"\n\
                 [[stations]]\nid = \"dock-1\"\nmode = \"receive\"\nlocation = \"DOCK-1\"\n\
                 [[stations]]\nid = \"dispatch-1\"\nmode = \"dispatch\"\nlocation = \"DOCK-1\"\n\
                 [[tokens]]\nname = \"api-supervisor\"\nrole = \"supervisor\"\ntoken = \"{SUPERVISOR_TOKEN}\"\n\
                 [[tokens]]\nname = \"hh-1\"\nrole = \"handheld\"\nstations = [\"dock-1\", \"dispatch-1\"]\ntoken = \"{HANDHELD_TOKEN}\"\n\
                 [[users]]\nname = \"{SUE}\"\nrole = \"supervisor\"\npassword_hash = \"{}\"\n\
                 [[users]]\nname = \"{HANK}\"\nrole = \"handheld\"\npassword_hash = \"{}\"\n\
                 [[users]]\nname = \"{ROOT}\"\nrole = \"admin\"\npassword_hash = \"{}\"\n",
                hash(SUE_PASSWORD),
                hash(HANK_PASSWORD),
                hash(ROOT_PASSWORD),
            ),
        )
        .unwrap();
        Site { _dir: dir, config }
    }

    fn start(&self) -> Daemon {
        Daemon::start(&self.config)
    }
}

/// A new site's daemon and a browser signed in to it as `user`.
async fn signed_in(user: &str, password: &str) -> (Site, Daemon, Browser) {
    let site = Site::new("");
    let daemon = site.start();
    let b = Browser::start(daemon.base_url()).await;
    b.sign_in(user, password).await;
    (site, daemon, b)
}

/// Closes the browser, then stops the daemon (SIGTERM, clean exit).
async fn finish(b: Browser, daemon: Daemon) {
    b.close().await;
    assert!(daemon.stop().success(), "the daemon did not stop cleanly");
}

#[test]
fn the_floor_heads_with_the_alerts_raised() {
    // 100 TB free wanted: the disk is low at once.
    let site = Site::new("[alerts]\nevery = \"200ms\"\ndisk_free_below_mb = 100000000\n");
    let daemon = site.start();
    let mut http = Http::new(daemon.base_url());
    assert_eq!(http.sign_in(SUE, SUE_PASSWORD).status, 303);
    let shown = sync_support::wait_for(Duration::from_secs(20), || {
        http.get("/").body.contains("id=\"site-alerts\"")
    });
    assert!(shown.is_some(), "{}", http.get("/").body);
    let floor = http.get("/").body;
    assert!(
        floor.contains("disk_low") && floor.contains("free space on it"),
        "{floor}"
    );
    assert!(daemon.stop().success());
}

#[test]
fn signing_in_is_guarded() {
    // The machine's own disk must not raise an alert here (CI once ran with
    // under 5 % free): the test checks that a healthy site shows none.
    let site = Site::new("[alerts]\ndisk_free_below_percent = 0\ndisk_free_below_mb = 0\n");
    let daemon = site.start();
    let mut http = Http::new(daemon.base_url());

    // Pages need a session: the floor sends the browser to sign in.
    let floor = http.get("/");
    assert_eq!(floor.status, 303);
    assert_eq!(floor.headers["location"], "/login?next=%2F");

    // The sign-in page: a strict policy, a login token in a cookie that
    // scripts cannot read and other sites cannot send.
    let page = http.get("/login");
    assert_eq!(page.status, 200);
    let csp = &page.headers["content-security-policy"];
    for must in [
        "default-src 'none'",
        "script-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(must), "{csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let login_cookie = page.cookie("scantrail_login").expect("a login cookie");
    assert!(
        login_cookie.contains("HttpOnly") && login_cookie.contains("SameSite=Strict"),
        "{login_cookie}"
    );

    // Without the login token the form is refused, even with the password.
    let mut stranger = Http::new(daemon.base_url());
    let r = stranger.post(
        "/login",
        &[("user", SUE), ("password", SUE_PASSWORD), ("csrf", "guess")],
        &[],
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.cookie("scantrail_session").is_none());

    // A wrong password: 401, no session.
    let r = http.sign_in(SUE, "not-her-password");
    assert_eq!(r.status, 401);
    assert!(r.body.contains("Wrong user name or password"), "{}", r.body);
    assert!(r.cookie("scantrail_session").is_none());

    // The right one: a session cookie, HttpOnly, SameSite=Strict, not
    // Secure over plain HTTP (loopback).
    let r = http.sign_in(SUE, SUE_PASSWORD);
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.headers["location"], "/");
    let session = r.cookie("scantrail_session").expect("a session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Strict"),
        "{session}"
    );
    assert!(!session.contains("Secure"), "{session}");
    let floor = http.get("/");
    assert_eq!(floor.status, 200);
    assert!(
        floor.body.contains("dock-1") && floor.body.contains("sue"),
        "{}",
        floor.body
    );
    // Nothing is wrong: no alerts section.
    assert!(!floor.body.contains("site-alerts"), "{}", floor.body);

    // The API never takes the session cookie: only Bearer tokens.
    let cookie = http.cookie_header();
    let r = ureq::get(&daemon.url("/api/v1/reports/stock?gtin=09506000134352"))
        .set("Cookie", &cookie)
        .call();
    match r {
        Err(ureq::Error::Status(401, _)) => {}
        other => panic!("the API took a session cookie: {other:?}"),
    }

    // Forms need the session's token: sign-out without it is refused and
    // the session stays; a form from another site is refused outright.
    let r = http.post("/logout", &[("csrf", "wrong")], &[]);
    assert_eq!(r.status, 403);
    assert_eq!(http.get("/").status, 200);
    let page = http.get("/");
    let csrf = hidden(&page.body, "csrf");
    let r = http.post(
        "/logout",
        &[("csrf", &csrf)],
        &[("Sec-Fetch-Site", "cross-site")],
    );
    assert_eq!(r.status, 403);
    assert_eq!(http.get("/").status, 200);
    let r = http.post("/logout", &[("csrf", &csrf)], &[]);
    assert_eq!(r.status, 303);
    assert_eq!(http.get("/").status, 303, "signed out");
    // The old cookie is dead on the server too.
    let mut replay = Http::new(daemon.base_url());
    replay.cookies.insert(
        "scantrail_session".into(),
        session
            .split(';')
            .next()
            .unwrap()
            .trim_start_matches("scantrail_session=")
            .into(),
    );
    assert_eq!(replay.get("/").status, 303);

    // Sign-in attempts from one address are rate-limited: a burst, then 429.
    let mut guesser = Http::new(daemon.base_url());
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(guesser.sign_in(ROOT, "guess-guess-guess").status);
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    let limited = guesser.sign_in(ROOT, ROOT_PASSWORD);
    assert_eq!(limited.status, 429, "the right password is limited too");
    assert!(limited.headers.contains_key("retry-after"));
    assert!(limited.body.contains("Too many sign-in attempts"));

    // Every attempt and change is in the log with who.
    let log = daemon.log();
    let line = log
        .lines()
        .find(|l| l.contains("signed in to the console"))
        .unwrap_or_else(|| panic!("no sign-in in the log:\n{log}"));
    assert!(line.contains("sue"), "{line}");
    assert!(log.contains("console sign-in failed"), "{log}");
    daemon.stop();
}

#[test]
fn over_tls_the_session_cookie_is_secure() {
    let dir = tempfile::tempdir().unwrap();
    let pki = sync_support::Pki::new(dir.path());
    let site = Site::new(&format!(
        "[http]\ncert = \"{}\"\nkey = \"{}\"\n",
        pki.cert.display(),
        pki.key.display()
    ));
    let daemon = site.start();
    assert!(
        daemon.base_url().starts_with("https://"),
        "{}",
        daemon.base_url()
    );
    let mut http = Http::trusting(daemon.base_url(), &pki.ca);
    let r = http.sign_in(SUE, SUE_PASSWORD);
    assert_eq!(r.status, 303, "{}", r.body);
    let session = r.cookie("scantrail_session").expect("a session cookie");
    assert!(
        session.contains("Secure") && session.contains("HttpOnly"),
        "{session}"
    );
    assert_eq!(http.get("/").status, 200);
    daemon.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_signs_in_with_the_keyboard_and_sees_the_floor() {
    let site = Site::new("");
    let daemon = site.start();
    let b = Browser::start(daemon.base_url()).await;
    b.open("/").await;
    assert!(b.path().await.starts_with("/login"), "{}", b.path().await);
    b.screenshot("login").await;
    // Labelled fields: each input has its label.
    for (id, label) in [("user", "User name"), ("password", "Password")] {
        let text = b.text(&format!("label[for={id}]")).await;
        assert_eq!(text, label);
    }
    b.sign_in(SUE, SUE_PASSWORD).await;
    assert_eq!(b.path().await, "/");
    assert_eq!(b.text("h1").await, "Floor");
    let tile = b.text(".tile[data-station=dock-1]").await;
    assert!(
        tile.contains("receive") && tile.contains("DOCK-1"),
        "{tile}"
    );
    let header = b.text("header").await;
    assert!(header.contains("sue (supervisor)"), "{header}");
    b.screenshot("floor").await;

    // A wrong password shows the reason and keeps the browser out.
    let other = Browser::start(daemon.base_url()).await;
    other.open("/login").await;
    other.fill("#user", SUE).await;
    other.fill("#password", "wrong-password\n").await;
    let problem = other.text("#login-problem").await;
    assert_eq!(problem, "Wrong user name or password.");
    other.close().await;
    finish(b, daemon).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handheld_user_is_told_the_console_is_not_for_them() {
    let (_site, daemon, b) = signed_in(HANK, HANK_PASSWORD).await;
    for path in ["/"] {
        b.open(path).await;
        let text = b.page_text().await;
        assert!(
            text.contains("The console is not for your role") && text.contains("handheld"),
            "{path}: {text}"
        );
        assert!(!text.contains("Release"), "{path}: {text}");
    }
    b.screenshot("handheld-refused").await;
    finish(b, daemon).await;
}

/// A scan through the API, from a blocking thread.
async fn scan(daemon: &Daemon, station: &str, serial: &str) -> serde_json::Value {
    let api = support::daemon::Api::new(daemon.base_url(), Some(HANDHELD_TOKEN));
    let (station, data) = (station.to_owned(), support::daemon::serial_item(serial));
    tokio::task::spawn_blocking(move || api.scan(&station, &data))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_feed_shows_each_scan_within_a_second_and_refusals_with_their_reason() {
    let (_site, daemon, b) = signed_in(SUE, SUE_PASSWORD).await;
    b.wait_for_text("#feed-rate", "connected", Duration::from_secs(10))
        .await;

    let answer = scan(&daemon, "dock-1", "FEED-1").await;
    assert_eq!(answer["accepted"], true, "{answer}");
    let took = b
        .wait_for_text("#feed", "serial FEED-1", Duration::from_secs(1))
        .await;
    eprintln!("accepted scan in the feed {took:?} after its answer");
    let row = b.text("#feed li.accepted").await;
    assert!(row.contains("dock-1") && row.contains("receipt"), "{row}");

    // The same serial again is refused: highlighted, with the reason in words.
    let answer = scan(&daemon, "dock-1", "FEED-1").await;
    assert_eq!(answer["accepted"], false, "{answer}");
    let reason = answer["reason"].as_str().unwrap().to_owned();
    let took = b
        .wait_for_text("#feed li.refused", &reason, Duration::from_secs(1))
        .await;
    eprintln!("refused scan in the feed {took:?} after its answer");
    let colour = b
        .find("#feed li.refused")
        .await
        .css_value("background-color")
        .await
        .unwrap();
    assert_ne!(colour, "rgba(0, 0, 0, 0)", "a refusal is highlighted");
    let tile = b.text(".tile[data-station=dock-1] dd.last").await;
    assert!(
        tile.contains(&reason),
        "the tile shows the last decision: {tile}"
    );
    b.screenshot("floor-feed").await;

    // Filtered to dispatch-1, a scan at dock-1 is not shown; one at
    // dispatch-1 is.
    b.find("#feed-station")
        .await
        .select_by_value("dispatch-1")
        .await
        .unwrap();
    b.wait_for_text("#feed-rate", "connected", Duration::from_secs(10))
        .await;
    scan(&daemon, "dock-1", "FEED-2").await;
    let answer = scan(&daemon, "dispatch-1", "FEED-1").await;
    b.wait_for_text("#feed", "dispatch-1", Duration::from_secs(2))
        .await;
    let feed = b.text("#feed").await;
    assert!(!feed.contains("FEED-2"), "{feed}");
    if let Some(reason) = answer["reason"].as_str() {
        assert!(feed.contains(reason), "{feed}");
    }
    finish(b, daemon).await;
}

const GTIN: &str = "09506000134352";
/// A lot number that is a script, as long as AI 10 allows (20).
const SCRIPT_LOT: &str = "<script>a()</script>";
const SCRIPT_CUSTOMER: &str = "<script>window.__pwned=1</script> & Co";

/// A pen of `lot` with this serial.
fn item(lot: &str, serial: &str) -> String {
    format!("]d2010950600013435217301231\u{1d}10{lot}\u{1d}21{serial}")
}

/// Stock for the report tests, through the API: serials S1..S3 of lot L1
/// and S4 of the script lot received at dock-1; S1 and S2 dispatched to
/// City Pharmacy on order O-1, S4 to a customer whose name is a script.
fn stock(daemon: &Daemon) {
    let sup = support::daemon::Api::new(daemon.base_url(), Some(SUPERVISOR_TOKEN));
    let hh = support::daemon::Api::new(daemon.base_url(), Some(HANDHELD_TOKEN));
    let r = sup.post_text(
        "/api/v1/products",
        &format!(
            "gtin,description,tracking,warranty_months\n{GTIN},Insulin pen,lot_and_serial,24\n"
        ),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record([
        "order",
        "customer_gln",
        "customer_name",
        "gtin",
        "quantity",
        "lots",
    ])
    .unwrap();
    csv.write_record(["O-1", "9506000000026", "City Pharmacy", GTIN, "2", "L1"])
        .unwrap();
    csv.write_record(["O-2", "", SCRIPT_CUSTOMER, GTIN, "1", SCRIPT_LOT])
        .unwrap();
    let r = sup.post_text(
        "/api/v1/picklists",
        &String::from_utf8(csv.into_inner().unwrap()).unwrap(),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    for (lot, serial) in [("L1", "S1"), ("L1", "S2"), ("L1", "S3"), (SCRIPT_LOT, "S4")] {
        let a = hh.scan("dock-1", &item(lot, serial));
        assert_eq!(a["accepted"], true, "{a}");
    }
    for (order, lot, serials) in [
        ("O-1", "L1", &["S1", "S2"][..]),
        ("O-2", SCRIPT_LOT, &["S4"][..]),
    ] {
        let r = hh.put_json(
            "/api/v1/stations/dispatch-1/context",
            &serde_json::json!({ "order": order }),
        );
        assert_eq!(r.status, 200, "{:?}", r.body);
        for s in serials {
            let a = hh.scan("dispatch-1", &item(lot, s));
            assert_eq!(a["accepted"], true, "{a}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recall_in_the_console_shows_the_apis_figures_downloads_its_csv_and_prints_on_a4() {
    let site = Site::new("");
    let daemon = site.start();
    tokio::task::block_in_place(|| stock(&daemon));
    let api = support::daemon::Api::new(daemon.base_url(), Some(SUPERVISOR_TOKEN));
    let query = format!("gtin={GTIN}&lot=L1");
    let json = tokio::task::spawn_blocking({
        let api = api.clone();
        let query = query.clone();
        move || api.get(&format!("/api/v1/reports/recall?{query}"))
    })
    .await
    .unwrap();
    assert_eq!(json.status, 200, "{:?}", json.body);
    let t = &json.body["totals"];

    let b = Browser::start(daemon.base_url()).await;
    b.client.set_window_size(1280, 1400).await.unwrap();
    b.sign_in(SUE, SUE_PASSWORD).await;
    b.open("/reports").await;
    b.click("a[href='/reports/recall']").await;
    b.fill("#f-gtin", GTIN).await;
    b.fill("#f-lots", "L1\n").await;
    let head = b.text("#result p.head:nth-of-type(2)").await;
    assert_eq!(
        head,
        format!(
            "received {}, in stock {}, dispatched {}, returned {}; {} customer(s) to notify",
            t["received"].as_str().unwrap(),
            t["in_stock"].as_str().unwrap(),
            t["dispatched"].as_str().unwrap(),
            t["returned"].as_str().unwrap(),
            t["customers"]
        )
    );
    assert_eq!(
        head,
        "received 3, in stock 1, dispatched 2, returned 0; 1 customer(s) to notify"
    );
    // The customers to notify: the API's, row for row.
    let rows = b
        .eval("return Array.from(document.querySelectorAll('#result table')).filter(t => t.caption && t.caption.textContent.startsWith('Customers to notify')).flatMap(t => Array.from(t.tBodies[0].rows).map(r => Array.from(r.cells).map(c => c.textContent)));")
        .await;
    let customers = json.body["customers"].as_array().unwrap();
    assert_eq!(rows.as_array().unwrap().len(), customers.len(), "{rows}");
    let first = rows[0].as_array().unwrap();
    let cells: Vec<&str> = first.iter().filter_map(|c| c.as_str()).collect();
    assert!(
        cells.iter().any(|c| c.contains("City Pharmacy")),
        "{cells:?}"
    );
    assert!(
        cells.contains(&customers[0]["outstanding"].as_str().unwrap()),
        "{cells:?} vs {}",
        customers[0]
    );
    // The diagram says the same.
    let diagram = b
        .find("figure.diagram svg")
        .await
        .attr("aria-label")
        .await
        .unwrap()
        .unwrap();
    assert!(
        diagram.contains("sent 3") && diagram.contains("holds 1") && diagram.contains("received 2"),
        "{diagram}"
    );
    b.screenshot("recall").await;

    // The CSV download is the API's CSV, byte for byte.
    let href = b
        .find("a[href*='format=csv']")
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let page_csv = b
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1]; fetch(arguments[0]).then(r => r.text()).then(done);",
            vec![serde_json::Value::String(href)],
        )
        .await
        .unwrap();
    let api_csv = tokio::task::spawn_blocking({
        let base = daemon.base_url().to_owned();
        let query = query.clone();
        move || {
            ureq::get(&format!("{base}/api/v1/reports/recall?{query}&format=csv"))
                .set("Authorization", &format!("Bearer {SUPERVISOR_TOKEN}"))
                .call()
                .unwrap()
                .into_string()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert_eq!(page_csv.as_str().unwrap(), api_csv);
    assert!(api_csv.contains("City Pharmacy"), "{api_csv}");

    // Printed: A4 pages, and at the A4 width nothing sticks out.
    let pdf = b.print_a4().await;
    assert!(pdf.starts_with(b"%PDF"), "not a PDF");
    std::fs::write(browser::screenshot_dir().join("recall.pdf"), &pdf).unwrap();
    let text = String::from_utf8_lossy(&pdf);
    let boxes: Vec<Vec<f64>> = text
        .split("/MediaBox [")
        .skip(1)
        .map(|rest| {
            rest.split(']')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .filter_map(|n| n.parse().ok())
                .collect()
        })
        .collect();
    assert!(!boxes.is_empty(), "no page in the PDF");
    for b in &boxes {
        // A4 is 595.3 x 841.9 points.
        assert!(
            b.len() == 4 && (b[2] - 595.3).abs() < 1.5 && (b[3] - 841.9).abs() < 1.5,
            "a page is not A4: {b:?}"
        );
    }
    // A4 less 14 mm margins each side, in CSS pixels (96 per inch).
    let width = ((210.0 - 28.0) / 25.4 * 96.0_f64).floor() as u64;
    b.cdp("Emulation.setDeviceMetricsOverride", serde_json::json!({"width": width, "height": 1100, "deviceScaleFactor": 1, "mobile": false})).await;
    b.cdp(
        "Emulation.setEmulatedMedia",
        serde_json::json!({"media": "print"}),
    )
    .await;
    let widest = b
        .eval("return Math.max(document.documentElement.scrollWidth, ...Array.from(document.querySelectorAll('main *')).map(e => Math.ceil(e.getBoundingClientRect().right)));")
        .await;
    assert!(
        widest.as_u64().unwrap() <= width,
        "the print layout is {widest} px wide, A4 gives {width}"
    );
    let hidden = b
        .eval("return getComputedStyle(document.querySelector('header.top')).display;")
        .await;
    assert_eq!(hidden, "none", "the navigation is not printed");
    b.screenshot("recall-print").await;
    b.cdp(
        "Emulation.setEmulatedMedia",
        serde_json::json!({"media": ""}),
    )
    .await;
    b.cdp(
        "Emulation.clearDeviceMetricsOverride",
        serde_json::json!({}),
    )
    .await;

    // A malformed question gets the report's own words, not a table.
    b.open("/reports/recall?gtin=09506000134353&lots=L1").await;
    let problem = b.text("#report-problem").await;
    assert!(problem.contains("check digit"), "{problem}");
    finish(b, daemon).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lot_or_customer_named_script_shows_as_text_and_runs_nothing() {
    let (_site, daemon, b) = signed_in(SUE, SUE_PASSWORD).await;
    b.wait_for_text("#feed-rate", "connected", Duration::from_secs(10))
        .await;
    tokio::task::block_in_place(|| stock(&daemon));
    // In the live feed.
    b.wait_for_text("#feed", SCRIPT_LOT, Duration::from_secs(5))
        .await;
    // In the reports: movements of the lot, and the recall's customers.
    b.open(&format!(
        "/reports/movements?gtin={GTIN}&lot={}",
        support_escape(SCRIPT_LOT)
    ))
    .await;
    let cells = b.text("#result").await;
    assert!(cells.contains(SCRIPT_LOT), "{cells}");
    b.open(&format!(
        "/reports/recall?gtin={GTIN}&lots={}",
        support_escape(SCRIPT_LOT)
    ))
    .await;
    let result = b.text("#result").await;
    assert!(result.contains(SCRIPT_CUSTOMER), "{result}");
    b.screenshot("script-lot").await;
    let ran = b
        .eval("return [typeof window.__pwned, typeof window.a, document.querySelectorAll('main script, #feed script').length];")
        .await;
    assert_eq!(ran, serde_json::json!(["undefined", "undefined", 0]));
    finish(b, daemon).await;
}

fn support_escape(text: &str) -> String {
    scantrail::console::page::query_escape(text)
}

/// A recall head office issued, put in the store as sync applies it
/// (before the daemon opens the store).
fn head_office_recall(site: &Site) {
    use scantrail::station::reference::{Change, Hold, HoldKind, HoldScope, Owner};
    let data = site.config.parent().unwrap().join("data");
    let store = scantrail::store::Store::open(
        &data,
        scantrail::store::OpenOptions::create("console-site".to_owned()),
    )
    .unwrap();
    let hold = Hold {
        id: "R-HQ-1".to_owned(),
        kind: HoldKind::Recall,
        gtin: GTIN.to_owned(),
        scope: HoldScope::Lots(vec!["L9".to_owned()]),
        reason: "supplier recall".to_owned(),
        owner: Owner::HeadOffice,
        created: Change {
            by: "quality".to_owned(),
            at: chrono::Utc::now(),
            why: "supplier recall".to_owned(),
        },
        released: None,
    };
    store
        .reference()
        .apply(
            scantrail::model::Reference::Holds,
            1,
            vec![(
                hold.id.clone().into_bytes(),
                scantrail::station::records::encode(&hold),
            )],
            vec![],
        )
        .unwrap();
}

/// Order O-9 (five of lot L1) and serials H1..H3 of lot L1 received at
/// dock-1; dispatch-1 picks for O-9.
fn hold_stock(daemon: &Daemon) {
    let sup = support::daemon::Api::new(daemon.base_url(), Some(SUPERVISOR_TOKEN));
    let hh = support::daemon::Api::new(daemon.base_url(), Some(HANDHELD_TOKEN));
    let r = sup.post_text(
        "/api/v1/products",
        &format!("gtin,description,tracking\n{GTIN},Insulin pen,lot_and_serial\n"),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = sup.post_text(
        "/api/v1/picklists",
        &format!("order,customer_gln,customer_name,gtin,quantity,lots\nO-9,9506000000026,City Pharmacy,{GTIN},5,L1\n"),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    for serial in ["H1", "H2", "H3"] {
        let a = hh.scan("dock-1", &item("L1", serial));
        assert_eq!(a["accepted"], true, "{a}");
    }
    let r = hh.put_json(
        "/api/v1/stations/dispatch-1/context",
        &serde_json::json!({ "order": "O-9" }),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_added_in_the_page_refuses_the_next_pick_of_its_lot_through_the_api() {
    let site = Site::new("");
    tokio::task::block_in_place(|| head_office_recall(&site));
    let daemon = site.start();
    tokio::task::block_in_place(|| hold_stock(&daemon));
    let hh = support::daemon::Api::new(daemon.base_url(), Some(HANDHELD_TOKEN));
    let pick = |serial: &str| {
        let (hh, data) = (hh.clone(), item("L1", serial));
        tokio::task::spawn_blocking(move || hh.scan("dispatch-1", &data))
    };
    let a = pick("H1").await.unwrap();
    assert_eq!(a["accepted"], true, "before the hold: {a}");

    let b = Browser::start(daemon.base_url()).await;
    b.sign_in(SUE, SUE_PASSWORD).await;
    b.open("/holds").await;
    assert_eq!(b.text("h1").await, "Holds and recalls");
    // Head office's recall is listed, and cannot be released here.
    let recall = b.text("tr[data-hold='R-HQ-1']").await;
    assert!(
        recall.contains("only head office can release it") && recall.contains("quality"),
        "{recall}"
    );
    assert!(b
        .client
        .find_all(fantoccini::Locator::Css("tr[data-hold='R-HQ-1'] form"))
        .await
        .unwrap()
        .is_empty());

    // A refusal keeps what was typed and says why.
    b.fill("#h-id", "H-1").await;
    b.fill("#h-gtin", GTIN).await;
    b.fill("#h-lots", "L1").await;
    b.fill("#h-from", "H1").await;
    b.fill("#h-to", "H3").await;
    b.fill("#h-reason", "damp cartons\n").await;
    let problem = b.text("#holds-problem").await;
    assert!(problem.contains("not both"), "{problem}");
    assert_eq!(
        b.find("#h-lots")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("L1")
    );
    b.fill("#h-from", "").await;
    b.fill("#h-to", "").await;
    b.click("form.hold button[type=submit]").await;
    let notice = b.text("#holds-notice").await;
    assert!(notice.contains("H-1 added"), "{notice}");
    let row = b.text("tr[data-hold='H-1']").await;
    assert!(
        row.contains("lots L1") && row.contains("sue") && row.contains("damp cartons"),
        "{row}"
    );
    b.screenshot("holds").await;

    // The next pick of the lot is refused through the API, with the hold.
    let a = pick("H2").await.unwrap();
    assert_eq!(a["accepted"], false, "{a}");
    let reason = a["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("H-1"), "{a}");

    // Released with a reason: who and why are shown; the pick goes through.
    b.fill("#why-H-1", "dried and checked\n").await;
    b.wait_for_text("#holds-notice", "H-1 released", WAIT_PAGE)
        .await;
    b.open("/holds?show=all").await;
    let row = b.text("tr[data-hold='H-1']").await;
    assert!(row.contains("dried and checked"), "{row}");
    let a = pick("H2").await.unwrap();
    assert_eq!(a["accepted"], true, "after the release: {a}");

    // The API's list says the same people.
    let holds = tokio::task::spawn_blocking({
        let sup = support::daemon::Api::new(daemon.base_url(), Some(SUPERVISOR_TOKEN));
        move || sup.get("/api/v1/holds")
    })
    .await
    .unwrap();
    let h1 = holds
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == "H-1")
        .unwrap()
        .clone();
    assert_eq!(h1["created"]["by"], SUE, "{h1}");
    assert_eq!(h1["released"]["by"], SUE, "{h1}");
    finish(b, daemon).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handheld_user_cannot_reach_the_holds_page_nor_send_its_form() {
    let (_site, daemon, b) = signed_in(HANK, HANK_PASSWORD).await;
    for path in [
        "/holds",
        "/holds?show=all",
        "/journal",
        "/journal/void/1",
        "/sync",
        "/reference",
    ] {
        b.open(path).await;
        let text = b.page_text().await;
        assert!(
            text.contains("The console is not for your role") && !text.contains("Add hold"),
            "{path}: {text}"
        );
    }
    finish(b, daemon).await;
    // Over HTTP too: the form's POST is refused, nothing is added.
    let site = Site::new("");
    let daemon = site.start();
    let mut http = Http::new(daemon.base_url());
    assert_eq!(http.sign_in(HANK, HANK_PASSWORD).status, 303);
    let r = http.post(
        "/holds",
        &[
            ("id", "H-9"),
            ("gtin", GTIN),
            ("lots", "L1"),
            ("reason", "x"),
        ],
        &[],
    );
    assert_eq!(r.status, 403, "{}", r.body);
    let sup = support::daemon::Api::new(daemon.base_url(), Some(SUPERVISOR_TOKEN));
    let holds = tokio::task::block_in_place(|| sup.get("/api/v1/holds"));
    assert_eq!(holds.body, serde_json::json!([]));
    daemon.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_browses_by_station_and_lot_and_voids_after_a_confirmation() {
    let site = Site::new("");
    let daemon = site.start();
    tokio::task::block_in_place(|| hold_stock(&daemon));
    let hh = support::daemon::Api::new(daemon.base_url(), Some(HANDHELD_TOKEN));
    let picked = tokio::task::spawn_blocking({
        let hh = hh.clone();
        move || hh.scan("dispatch-1", &item("L1", "H1"))
    })
    .await
    .unwrap();
    assert_eq!(picked["accepted"], true, "{picked}");
    let b = Browser::start(daemon.base_url()).await;
    b.sign_in(SUE, SUE_PASSWORD).await;
    b.open("/journal").await;
    assert_eq!(b.text("h1").await, "Journal");
    let rows = b
        .eval("return Array.from(document.querySelectorAll('#journal tbody tr')).map(r => r.dataset.seq);")
        .await;
    assert_eq!(
        rows,
        serde_json::json!(["4", "3", "2", "1"]),
        "newest first"
    );
    // By station: only the pick.
    b.find("#j-station")
        .await
        .select_by_value("dispatch-1")
        .await
        .unwrap();
    b.click("form.report button[type=submit]").await;
    b.wait_for_text("#journal", "dispatch", WAIT_PAGE).await;
    let rows = b
        .eval("return Array.from(document.querySelectorAll('#journal tbody tr')).map(r => r.dataset.seq);")
        .await;
    assert_eq!(rows, serde_json::json!(["4"]));
    // By serial: H1's receipt and pick.
    b.open(&format!("/journal?gtin={GTIN}&serial=H1")).await;
    let rows = b
        .eval("return Array.from(document.querySelectorAll('#journal tbody tr')).map(r => r.dataset.seq);")
        .await;
    assert_eq!(rows, serde_json::json!(["4", "1"]));
    // A lot without its GTIN is explained, not guessed.
    b.open("/journal?lot=L1").await;
    assert!(b.text("#journal-problem").await.contains("GTIN"));
    b.screenshot("journal").await;

    // Void the pick: a confirmation page first, nothing recorded yet.
    b.open("/journal").await;
    b.click("tr[data-seq='4'] a.button").await;
    assert_eq!(b.text("h1").await, "Void movement 4?");
    let before = tokio::task::block_in_place(|| {
        support::daemon::Api::new(daemon.base_url(), Some(SUPERVISOR_TOKEN)).get("/api/v1/journal")
    });
    assert_eq!(before.body.as_array().unwrap().len(), 4);
    b.screenshot("journal-void").await;
    b.fill("#v-reason", "picked for the wrong order").await;
    b.click("#void-confirm").await;
    let notice = b.text("#journal-notice").await;
    assert!(notice.contains("4 voided"), "{notice}");
    let row = b.text("#journal tr[data-seq='5']").await;
    assert!(
        row.contains("correction") && row.contains("voids console-site:4") && row.contains("sue"),
        "{row}"
    );
    let after = tokio::task::block_in_place(|| {
        support::daemon::Api::new(daemon.base_url(), Some(SUPERVISOR_TOKEN))
            .get("/api/v1/journal?since=5")
    });
    let correction = &after.body[0];
    assert_eq!(correction["body"]["author"], SUE, "{correction}");
    assert_eq!(correction["body"]["reason"], "picked for the wrong order");
    // A second void of the same movement: the desk's words.
    b.open("/journal/void/4").await;
    b.fill("#v-reason", "again\n").await;
    let problem = b.text("#void-problem").await;
    assert!(problem.contains("already corrected"), "{problem}");
    // A supervisor has no verify button; an admin runs it and sees it.
    // The daemon's own check at start is the only verify so far.
    b.open("/journal").await;
    let state = b.text("#verify-state").await;
    assert!(
        state.contains("incremental") && state.contains("run by the daemon at start"),
        "{state}"
    );
    assert!(!b.page_text().await.contains("Run verify now"));
    b.close().await;
    let root = Browser::start(daemon.base_url()).await;
    root.sign_in(ROOT, ROOT_PASSWORD).await;
    root.open("/journal").await;
    root.click("#verify button").await;
    root.wait_for_text("#verify-state", "run by", WAIT_PAGE)
        .await;
    let state = root.text("#verify-state").await;
    assert!(
        state.contains("Intact") && state.contains("5 movements") && state.contains("root"),
        "{state}"
    );
    root.close().await;
    assert!(daemon.stop().success());
    // The outcome is kept in the store: a restart still shows it.
    let daemon = site.start();
    let b = Browser::start(daemon.base_url()).await;
    b.sign_in(SUE, SUE_PASSWORD).await;
    b.open("/journal").await;
    assert_eq!(b.text("#verify-state").await, state);
    finish(b, daemon).await;
}

const WAIT_PAGE: Duration = Duration::from_secs(10);

/// The reference files both consoles import: a good product master (two
/// products), one with a bad check digit on line 3, and a pick list.
struct ReferenceFiles {
    _dir: tempfile::TempDir,
    good: PathBuf,
    bad: PathBuf,
    lists: PathBuf,
}

impl ReferenceFiles {
    fn new() -> ReferenceFiles {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: String| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        ReferenceFiles {
            good: write(
                "products.csv",
                format!("gtin,description,tracking,warranty_months\n{GTIN},Insulin pen,lot_and_serial,24\n09506000134369,Test strips,lot,\n"),
            ),
            bad: write(
                "more.csv",
                "gtin,description,tracking\n09506000134376,Lancets,lot\n09506000134353,Bad check digit,lot\n".into(),
            ),
            lists: write(
                "lists.csv",
                format!("order,customer_gln,customer_name,gtin,quantity,lots\nO-7,9506000000026,City Pharmacy,{GTIN},3,L1\n"),
            ),
            _dir: dir,
        }
    }
}

/// Sends `file` as `kind` (`products`, `picklists`) through the
/// reference page's upload form.
async fn upload(b: &Browser, kind: &str, file: &std::path::Path) {
    b.find("#r-kind").await.select_by_value(kind).await.unwrap();
    b.find("#r-file")
        .await
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    b.click("form.upload button[type=submit]").await;
}

/// The bad file refused with its line and reason, and nothing of it shown.
async fn bad_file_refused(b: &Browser, files: &ReferenceFiles) {
    upload(b, "products", &files.bad).await;
    let problem = b.text("#reference-problem").await;
    assert!(
        problem.contains("Nothing was imported")
            && problem.contains("line 3")
            && problem.contains("check digit"),
        "{problem}"
    );
    assert!(!b.text("#products").await.contains("Lancets"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_data_uploads_csv_and_a_bad_line_imports_nothing() {
    let (_site, daemon, b) = signed_in(SUE, SUE_PASSWORD).await;
    let files = ReferenceFiles::new();
    b.open("/reference").await;
    assert_eq!(b.text("h1").await, "Reference data");
    b.fill("#r-why", "weekly master").await;
    upload(&b, "products", &files.good).await;
    let notice = b.text("#reference-notice").await;
    assert_eq!(notice, "Imported 2 products.");
    let products = b.text("#products").await;
    assert!(
        products.contains("Insulin pen")
            && products.contains("sue")
            && products.contains("weekly master"),
        "{products}"
    );

    bad_file_refused(&b, &files).await;
    b.screenshot("reference-error").await;
    let api = tokio::task::block_in_place(|| {
        support::daemon::Api::new(daemon.base_url(), Some(SUPERVISOR_TOKEN)).get("/api/v1/products")
    });
    assert_eq!(api.body.as_array().unwrap().len(), 2, "{:?}", api.body);
    assert_eq!(api.body[0]["change"]["by"], SUE);

    // Pick lists through the same form.
    upload(&b, "picklists", &files.lists).await;
    assert_eq!(b.text("#reference-notice").await, "Imported 1 pick lists.");
    let shown = b.text("#picklists").await;
    assert!(
        shown.contains("O-7") && shown.contains("City Pharmacy") && shown.contains("lots L1"),
        "{shown}"
    );
    b.screenshot("reference").await;
    finish(b, daemon).await;
}

/// Console users for a sync site's config.
fn users_toml() -> String {
    let hash = |p: &str| scantrail::console::users::hash_password(p).unwrap();
    format!(
        "\n[[users]]\nname = \"{SUE}\"\nrole = \"supervisor\"\npassword_hash = \"{}\"\n\
         [[users]]\nname = \"{ROOT}\"\nrole = \"admin\"\npassword_hash = \"{}\"\n",
        hash(SUE_PASSWORD),
        hash(ROOT_PASSWORD)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sync_page_shows_the_acknowledged_seq_and_an_admin_resumes_a_halt() {
    use sync_support::{wait_for, HqDir, SiteDir};
    let tmp = tempfile::tempdir().unwrap();
    let hq = HqDir::new(&tmp.path().join("hq"), &["north"], "");
    let _hq = hq.start();
    let site = SiteDir::north(tmp.path(), &hq, "");
    let mut text = std::fs::read_to_string(&site.config).unwrap();
    text.push_str(&users_toml());
    std::fs::write(&site.config, text).unwrap();
    site.dev_append(10);
    let daemon = site.start();
    // Until the site has taken head office's ack in (head office holding
    // the batch is not enough: the ack may still be on its way).
    let status = tokio::task::block_in_place(|| {
        let mut status = None;
        wait_for(Duration::from_secs(20), || {
            status = site.sync_status().filter(|s| s["acked_seq"] == 10);
            status.is_some()
        });
        status
    })
    .unwrap_or_else(|| panic!("the site never took head office's ack of seq 10"));

    let b = Browser::start(daemon.base_url()).await;
    b.sign_in(ROOT, ROOT_PASSWORD).await;
    b.open("/sync").await;
    assert!(b.text("#sync-link").await.contains("online"));
    let table = b.text("main table").await;
    assert!(
        table.contains("Last seq head office acknowledged 10")
            && table.contains("Backlog (movements not yet acknowledged) 0")
            && table.contains(status["acked_hash"].as_str().unwrap()),
        "{table}"
    );
    assert_eq!(b.text("#sync-alerts").await, "None.");
    b.screenshot("sync").await;
    b.close().await;
    daemon.stop();

    // History rewritten after head office acknowledged it: the link halts.
    tokio::task::block_in_place(|| site.rewrite_history());
    let daemon = site.start();
    assert!(
        tokio::task::block_in_place(|| wait_for(Duration::from_secs(15), || {
            site.sync_status()
                .is_some_and(|s| s["link"]["state"] == "halted")
        }))
        .is_some()
    );
    // A supervisor sees the halt, and no resume button.
    let sue = Browser::start(daemon.base_url()).await;
    sue.sign_in(SUE, SUE_PASSWORD).await;
    sue.open("/sync").await;
    assert!(sue.text("#sync-alerts").await.contains("Halted"));
    assert!(sue.text("#sync-link").await.contains("halted"));
    assert!(sue
        .client
        .find_all(fantoccini::Locator::Css("#sync-resume"))
        .await
        .unwrap()
        .is_empty());
    sue.close().await;
    // The admin resumes.
    let b = Browser::start(daemon.base_url()).await;
    b.sign_in(ROOT, ROOT_PASSWORD).await;
    b.open("/sync").await;
    b.screenshot("sync-halted").await;
    b.click("#sync-resume").await;
    assert!(b.text("#sync-notice").await.contains("Sync resumed"));
    b.close().await;
    daemon.stop();
    let log = std::fs::read_to_string(site.dir.join("site.log")).unwrap_or_default();
    assert!(
        log.contains("sync halt lifted by an operator (console)") && log.contains("root"),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_offices_console_shows_the_sites_and_issues_a_recall_the_site_cannot_release() {
    use sync_support::{wait_for, HqDir, SiteDir};
    let tmp = tempfile::tempdir().unwrap();
    let hq = HqDir::new(&tmp.path().join("hq"), &["north"], "");
    let mut text = std::fs::read_to_string(&hq.config).unwrap();
    text.push_str(&users_toml());
    std::fs::write(&hq.config, text).unwrap();
    let hq_daemon = hq.start();
    let site = SiteDir::north(tmp.path(), &hq, "");
    let mut text = std::fs::read_to_string(&site.config).unwrap();
    text.push_str(&users_toml());
    std::fs::write(&site.config, text).unwrap();
    site.dev_append(3);
    let site_daemon = site.start();
    assert!(
        tokio::task::block_in_place(
            || wait_for(Duration::from_secs(20), || hq.last_seq("north") == Some(3))
        )
        .is_some()
    );

    let b = Browser::start_with(hq_daemon.base_url(), &["--ignore-certificate-errors"]).await;
    b.sign_in(SUE, SUE_PASSWORD).await;
    b.open("/").await;
    assert_eq!(b.text("h1").await, "Sites");
    let row = b.text("tr[data-site=north]").await;
    assert!(row.starts_with("north 3 "), "{row}");
    b.screenshot("hq-sites").await;
    // The reports across sites are the site's report pages on head office's store.
    b.open("/reports/movements").await;
    assert_eq!(b.text("h1").await, "Movements");

    // A recall issued here, by the signed-in person.
    b.open("/holds").await;
    b.fill("#h-id", "R-2026-001").await;
    b.find("#h-kind")
        .await
        .select_by_value("recall")
        .await
        .unwrap();
    b.fill("#h-gtin", GTIN).await;
    b.fill("#h-lots", "L7").await;
    b.fill("#h-reason", "supplier recall 7\n").await;
    assert!(b.text("#holds-notice").await.contains("R-2026-001 added"));
    let row = b.text("tr[data-hold='R-2026-001']").await;
    assert!(row.contains("recall") && row.contains("sue"), "{row}");
    b.screenshot("hq-recalls").await;

    // The site gets it, and its console cannot release it.
    let reached = tokio::task::block_in_place(|| {
        wait_for(Duration::from_secs(30), || {
            ureq::get(&format!("{}/api/v1/holds", site.url()))
                .set(
                    "Authorization",
                    &format!("Bearer {}", sync_support::HANDHELD),
                )
                .call()
                .ok()
                .and_then(|r| r.into_json::<serde_json::Value>().ok())
                .is_some_and(|h| h.to_string().contains("R-2026-001"))
        })
    });
    assert!(reached.is_some(), "the recall did not reach the site");
    let at_site = Browser::start(site_daemon.base_url()).await;
    at_site.sign_in(SUE, SUE_PASSWORD).await;
    at_site.open("/holds").await;
    let row = at_site.text("tr[data-hold='R-2026-001']").await;
    assert!(
        row.contains("only head office can release it") && row.contains("head office"),
        "{row}"
    );
    at_site.close().await;

    // Released at head office, with a reason.
    b.fill("#why-R-2026-001", "supplier withdrew the notice\n")
        .await;
    b.wait_for_text("#holds-notice", "R-2026-001 released", WAIT_PAGE)
        .await;
    b.close().await;
    site_daemon.stop();
    hq_daemon.stop();
}

/// Head office's published reference data of `kind` (`products`,
/// `picklists`), as a site pulls it: the version and the records (as
/// their JSON, decoded as `T`).
fn published<T: serde::de::DeserializeOwned + serde::Serialize>(
    hq: &sync_support::HqDir,
    kind: &str,
) -> (u64, Vec<serde_json::Value>) {
    use std::io::Read;
    let agent = scantrail::sync::tls::agent(Some(&hq.pki.ca), Duration::from_secs(5)).unwrap();
    let mut bytes = Vec::new();
    agent
        .get(&format!("{}/api/v1/reference/{kind}?since=0", hq.url()))
        .set(
            "Authorization",
            &format!("Bearer {}", sync_support::HQ_SUPERVISOR),
        )
        .call()
        .unwrap()
        .into_reader()
        .read_to_end(&mut bytes)
        .unwrap();
    let delta: scantrail::sync::protocol::Delta = postcard::from_bytes(&bytes).unwrap();
    let records = delta
        .upserts
        .iter()
        .map(|(_, r)| {
            let record: T = scantrail::station::records::decode(r).unwrap();
            serde_json::to_value(record).unwrap()
        })
        .collect();
    (delta.version, records)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_office_publishes_products_and_pick_lists_from_its_console_and_a_bad_line_publishes_nothing(
) {
    use scantrail::station::reference::{PickList, Product};
    let tmp = tempfile::tempdir().unwrap();
    let hq = sync_support::HqDir::new(&tmp.path().join("hq"), &["north"], "");
    let mut text = std::fs::read_to_string(&hq.config).unwrap();
    text.push_str(&users_toml());
    std::fs::write(&hq.config, text).unwrap();
    let hq_daemon = hq.start();
    let before = tokio::task::block_in_place(|| published::<Product>(&hq, "products"));
    assert_eq!(before, (0, vec![]));

    let files = ReferenceFiles::new();
    let b = Browser::start_with(hq_daemon.base_url(), &["--ignore-certificate-errors"]).await;
    b.sign_in(SUE, SUE_PASSWORD).await;
    b.open("/").await;
    b.click("a[href='/reference']").await;
    assert_eq!(b.text("h1").await, "Reference data");
    b.fill("#r-why", "master for every site").await;
    upload(&b, "products", &files.good).await;
    assert_eq!(b.text("#reference-notice").await, "Imported 2 products.");
    let shown_version: u64 = b.text("#products-version").await.parse().unwrap();
    let products = b.text("#products").await;
    assert!(
        products.contains("Insulin pen") && products.contains("head office"),
        "{products}"
    );
    // What the sites pull: the version the page shows, by the signed-in person.
    let (version, records) = tokio::task::block_in_place(|| published::<Product>(&hq, "products"));
    assert!(version > 0);
    assert_eq!(version, shown_version);
    assert_eq!(records.len(), 2, "{records:?}");
    for r in &records {
        assert_eq!(r["change"]["by"], SUE, "{r}");
        assert_eq!(r["change"]["why"], "master for every site", "{r}");
        assert_eq!(r["owner"], "head_office", "{r}");
    }

    // A bad check digit on line 3: the page says where and why, nothing is published.
    bad_file_refused(&b, &files).await;
    b.screenshot("hq-reference-error").await;
    let after = tokio::task::block_in_place(|| published::<Product>(&hq, "products"));
    assert_eq!(after.0, version, "a refused file must not publish");
    assert_eq!(after.1.len(), 2);

    // Pick lists through the same form.
    upload(&b, "picklists", &files.lists).await;
    assert_eq!(b.text("#reference-notice").await, "Imported 1 pick lists.");
    let (list_version, lists) =
        tokio::task::block_in_place(|| published::<PickList>(&hq, "picklists"));
    assert_eq!(b.text("#picklists-version").await, list_version.to_string());
    assert_eq!(lists.len(), 1);
    assert_eq!(lists[0]["order"], "O-7");
    assert_eq!(lists[0]["change"]["by"], SUE);
    b.screenshot("hq-reference").await;
    b.close().await;
    hq_daemon.stop();
}

/// Head office on PostgreSQL draws its report pages from its database, as
/// its API answers: the stock page names as many lots and serials as the
/// API's JSON of the same question (before, its console had no report
/// pages on PostgreSQL).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_office_on_postgresql_draws_its_report_pages_from_the_database() {
    use sync_support::{wait_for, HqDir, SiteDir};
    let db = tokio::task::block_in_place(|| support::pg::TestDb::create("console_reports"));
    let tmp = tempfile::tempdir().unwrap();
    let hq = HqDir::new(
        &tmp.path().join("hq"),
        &["north"],
        &format!("database = \"{}\"", db.url),
    );
    let mut text = std::fs::read_to_string(&hq.config).unwrap();
    text.push_str(&users_toml());
    std::fs::write(&hq.config, text).unwrap();
    let hq_daemon = hq.start();
    let site = SiteDir::north(tmp.path(), &hq, "");
    site.dev_append(12);
    let _site_daemon = site.start();
    let api = tokio::task::block_in_place(|| {
        assert!(wait_for(Duration::from_secs(30), || hq.last_seq("north") == Some(12)).is_some());
        hq.report("stock")
    });
    let count = |key: &str| api[key].as_array().map_or(0, Vec::len);
    let (lots, serials) = (count("lots"), count("serials"));
    assert!(lots + serials > 0, "{api}");

    let b = Browser::start_with(hq_daemon.base_url(), &["--ignore-certificate-errors"]).await;
    b.sign_in(SUE, SUE_PASSWORD).await;
    b.open("/reports/stock?by=all").await;
    let page = b.page_text().await;
    if lots > 0 {
        assert!(page.contains(&format!("Lots on hand ({lots})")), "{page}");
    }
    if serials > 0 {
        assert!(
            page.contains(&format!("Serials on hand ({serials})")),
            "{page}"
        );
    }
    b.screenshot("hq-postgres-stock").await;
    finish(b, hq_daemon).await;
    tokio::task::block_in_place(|| drop(db));
}
