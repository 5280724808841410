//! The supervisor console of the site daemon: signing in and the guards
//! around it over real HTTP on loopback, and the pages in a real headless
//! Chromium (Debian's, over WebDriver; see `support/browser.rs`). Each
//! test starts its own daemon through `support::daemon` and its own
//! browser; screenshots go to `target/console-screenshots/`.

#[path = "support/browser.rs"]
mod browser;
mod support;
mod sync_support;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use browser::Browser;
use rustls::pki_types::pem::PemObject;
use support::daemon::Daemon;

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

/// A plain HTTP client that keeps cookies and never follows redirects, to
/// look at what the console answers.
struct Http {
    agent: ureq::Agent,
    base: String,
    cookies: HashMap<String, String>,
}

/// An answer: status, `Set-Cookie` lines, other headers, body.
struct Answer {
    status: u16,
    set_cookies: Vec<String>,
    headers: HashMap<String, String>,
    body: String,
}

impl Http {
    fn new(base: &str) -> Http {
        Http::with_agent(base, ureq::AgentBuilder::new())
    }

    fn with_agent(base: &str, builder: ureq::AgentBuilder) -> Http {
        Http {
            agent: builder
                .redirects(0)
                .timeout(Duration::from_secs(30))
                .build(),
            base: base.to_owned(),
            cookies: HashMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn finish(&mut self, r: Result<ureq::Response, ureq::Error>) -> Answer {
        let response = match r {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("no answer: {e}"),
        };
        let set_cookies: Vec<String> = response
            .all("set-cookie")
            .into_iter()
            .map(str::to_owned)
            .collect();
        for c in &set_cookies {
            let pair = c.split(';').next().unwrap_or("");
            if let Some((k, v)) = pair.split_once('=') {
                if v.is_empty() || c.contains("Max-Age=0") {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_owned(), v.to_owned());
                }
            }
        }
        let headers = response
            .headers_names()
            .into_iter()
            .map(|n| (n.clone(), response.header(&n).unwrap_or("").to_owned()))
            .collect();
        Answer {
            status: response.status(),
            set_cookies,
            headers,
            body: response.into_string().unwrap_or_default(),
        }
    }

    fn get(&mut self, path: &str) -> Answer {
        let r = self
            .agent
            .get(&format!("{}{path}", self.base))
            .set("Cookie", &self.cookie_header())
            .call();
        self.finish(r)
    }

    fn post(&mut self, path: &str, fields: &[(&str, &str)], headers: &[(&str, &str)]) -> Answer {
        let mut request = self
            .agent
            .post(&format!("{}{path}", self.base))
            .set("Cookie", &self.cookie_header());
        for (k, v) in headers {
            request = request.set(k, v);
        }
        let r = request.send_form(fields);
        self.finish(r)
    }

    /// The sign-in form's token, from a fresh sign-in page.
    fn login_token(&mut self) -> String {
        let page = self.get("/login");
        assert_eq!(page.status, 200, "{}", page.body);
        hidden(&page.body, "csrf")
    }

    fn sign_in(&mut self, user: &str, password: &str) -> Answer {
        let token = self.login_token();
        self.post(
            "/login",
            &[
                ("csrf", &token),
                ("next", "/"),
                ("user", user),
                ("password", password),
            ],
            &[],
        )
    }
}

impl Answer {
    /// The `Set-Cookie` line of cookie `name`, if this answer sets it.
    fn cookie(&self, name: &str) -> Option<&String> {
        self.set_cookies
            .iter()
            .find(|c| c.starts_with(&format!("{name}=")))
    }
}

/// The value of the hidden input `name` in `html`.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no hidden {name} in:\n{html}"))
        + marker.len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn signing_in_is_guarded() {
    let site = Site::new("");
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
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::CertificateDer::pem_file_iter(&pki.ca).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let mut http = Http::with_agent(
        daemon.base_url(),
        ureq::AgentBuilder::new().tls_config(std::sync::Arc::new(tls)),
    );
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
    b.close().await;
    daemon.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handheld_user_is_told_the_console_is_not_for_them() {
    let site = Site::new("");
    let daemon = site.start();
    let b = Browser::start(daemon.base_url()).await;
    b.sign_in(HANK, HANK_PASSWORD).await;
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
    b.close().await;
    daemon.stop();
}
