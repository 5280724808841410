//! A real headless Chromium for the console's tests, driven over WebDriver
//! (Debian's `chromedriver`, through the `fantoccini` crate). Each browser
//! has its own chromedriver on a free loopback port, its own empty profile
//! directory, and is SIGKILLed with its whole process group on drop. A
//! missing Chromium or chromedriver fails the test naming the package to
//! install (`.ci/run` installs both).
//!
//! Screenshots go to `target/console-screenshots/NAME.png`.
#![allow(dead_code)]

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::{json, Value};

/// How long an element or a text may take to appear.
pub const WAIT: Duration = Duration::from_secs(15);

/// The flags every test browser starts with: headless, no sandbox (tests
/// run as root in CI), nothing fetched from the network behind the test's
/// back (no sync, no component updates, no QUIC probes).
pub const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
];

/// Where a program is: the first of `candidates` that exists, or panics
/// naming the Debian package.
fn find(candidates: &[&str], package: &str) -> PathBuf {
    for c in candidates {
        let p = Path::new(c);
        if p.is_file() {
            return p.to_owned();
        }
    }
    panic!(
        "{} is missing: the console's browser tests need Debian's `{package}` (apt-get install chromium chromium-driver; .ci/run installs them)",
        candidates[0]
    );
}

/// Where screenshots are saved: `target/console-screenshots`.
pub fn screenshot_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp.parent().unwrap_or(tmp).join("console-screenshots");
    std::fs::create_dir_all(&dir).expect("cannot create target/console-screenshots");
    dir
}

/// A headless Chromium and its chromedriver.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
    base: String,
}

impl Browser {
    /// A browser for the server at `base` (`http://127.0.0.1:PORT`).
    pub async fn start(base: &str) -> Browser {
        Browser::start_with(base, &[]).await
    }

    /// `start` with more Chromium flags (e.g. `--ignore-certificate-errors`).
    pub async fn start_with(base: &str, extra: &[&str]) -> Browser {
        Browser::launch(base, extra, json!({})).await
    }

    /// `start`, with Chrome's performance log recording the renderer's
    /// tasks (trace category `devtools.timeline`), for
    /// [`Browser::longest_main_thread_task`].
    pub async fn start_traced(base: &str) -> Browser {
        Browser::launch(
            base,
            &[],
            json!({ "perfLoggingPrefs": {
                "enableNetwork": false,
                "enablePage": false,
                "traceCategories": "devtools.timeline,disabled-by-default-devtools.timeline",
                "bufferUsageReportingInterval": 1000,
            }}),
        )
        .await
    }

    async fn launch(base: &str, extra: &[&str], options: Value) -> Browser {
        let chromium = find(
            &["/usr/bin/chromium", "/usr/lib/chromium/chromium"],
            "chromium",
        );
        let driver_bin = find(
            &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"],
            "chromium-driver",
        );
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").expect("no free port");
            l.local_addr().unwrap().port()
        };
        let driver = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so Chromium dies with it on drop.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver_bin.display()));
        let profile = tempfile::tempdir().expect("cannot create a profile directory");
        let mut args: Vec<String> = FLAGS.iter().map(|f| f.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        args.extend(extra.iter().map(|f| f.to_string()));
        let mut chrome_options = json!({ "binary": chromium, "args": args });
        if let (Some(o), Value::Object(more)) = (chrome_options.as_object_mut(), options) {
            o.extend(more);
        }
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": chrome_options,
            "goog:loggingPrefs": { "performance": "ALL", "browser": "ALL" },
        });
        let capabilities = match capabilities {
            Value::Object(map) => map,
            _ => unreachable!(),
        };
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut browser_driver = Some(driver);
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(c) => break c,
                Err(e) if Instant::now() > deadline => {
                    if let Some(mut d) = browser_driver.take() {
                        let _ = d.kill();
                        let _ = d.wait();
                    }
                    panic!("chromedriver on port {port} gave no browser session: {e}");
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        };
        Browser {
            client,
            driver: browser_driver.take().expect("the driver"),
            _profile: profile,
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Opens `path` of the server.
    pub async fn open(&self, path: &str) {
        self.client
            .goto(&self.url(path))
            .await
            .unwrap_or_else(|e| panic!("cannot open {path}: {e}"));
    }

    /// The path (and query) the browser is on.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("the current URL");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Signs in through the form, as a person would: to the sign-in page,
    /// type the name and password, press Enter.
    pub async fn sign_in(&self, user: &str, password: &str) {
        self.open("/login").await;
        self.fill("#user", user).await;
        self.fill("#password", &format!("{password}\n")).await;
        self.wait_gone("#password").await;
    }

    /// Types `text` into the field `css` after clearing it.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field
            .clear()
            .await
            .unwrap_or_else(|e| panic!("clear {css}: {e}"));
        field
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// Clicks `css`.
    pub async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// The element `css`, waited for. Any error is looked past until
    /// then, not only "no such element": a look taken while the page
    /// navigates (a form just submitted with Enter) fails with chromedriver's
    /// "aborted by navigation", which fantoccini's own wait gives up on.
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.client.find(Locator::Css(css)).await {
                Ok(found) => return found,
                Err(e) if Instant::now() > deadline => {
                    panic!("no {css} on {} within {WAIT:?}: {e}", self.base)
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// Waits until no element matches `css` (e.g. a page was left).
    pub async fn wait_gone(&self, css: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.client.find_all(Locator::Css(css)).await {
                Ok(found) if found.is_empty() => return,
                _ if Instant::now() > deadline => {
                    panic!(
                        "{css} still there after {WAIT:?} (on {})",
                        self.path().await
                    )
                }
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// The visible text of `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css)
            .await
            .text()
            .await
            .unwrap_or_else(|e| panic!("text of {css}: {e}"))
    }

    /// The whole page's text.
    pub async fn page_text(&self) -> String {
        self.text("body").await
    }

    /// Waits until the text of `css` contains `words`; returns how long
    /// that took. Panics with the text seen after `limit`.
    pub async fn wait_for_text(&self, css: &str, words: &str, limit: Duration) -> Duration {
        let start = Instant::now();
        loop {
            let seen = match self.client.find(Locator::Css(css)).await {
                Ok(e) => e.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if seen.contains(words) {
                return start.elapsed();
            }
            if start.elapsed() > limit {
                panic!("{words:?} not in {css} within {limit:?}; it says:\n{seen}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Runs `script` in the page and returns its value.
    pub async fn eval(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Saves a screenshot as `target/console-screenshots/NAME.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("a screenshot");
        let path = screenshot_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).expect("cannot save the screenshot");
        path
    }

    /// The page printed to PDF on A4 (the browser's own print).
    pub async fn print_a4(&self) -> Vec<u8> {
        let config = fantoccini::wd::PrintConfiguration::builder()
            .size(fantoccini::wd::PrintSize::A4)
            .shrink_to_fit(false)
            .build()
            .expect("a print configuration");
        self.client.print(config).await.expect("the page as PDF")
    }

    /// A Chrome DevTools command through chromedriver
    /// (`goog/cdp/execute`), e.g. to emulate print media.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.client
            .issue_cmd(Cdp {
                body: json!({ "cmd": cmd, "params": params }).to_string(),
            })
            .await
            .unwrap_or_else(|e| panic!("CDP {cmd}: {e}"))
    }

    /// Chrome's performance log since the last call (chromedriver's
    /// `goog:loggingPrefs`): one message per entry, as JSON.
    pub async fn performance_log(&self) -> Vec<Value> {
        let entries = self
            .client
            .issue_cmd(Log {
                body: json!({ "type": "performance" }).to_string(),
            })
            .await
            .unwrap_or_else(|e| panic!("the performance log: {e}"));
        entries
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter_map(|e| {
                e.get("message")
                    .and_then(Value::as_str)
                    .and_then(|m| serde_json::from_str(m).ok())
            })
            .collect()
    }

    /// The longest task on a renderer's main thread (`CrRendererMain`) in
    /// the performance log since the last call, and how many tasks there
    /// were. Needs [`Browser::start_traced`].
    pub async fn longest_main_thread_task(&self, main_threads: &mut Vec<u64>) -> (Duration, usize) {
        let log = self.performance_log().await;
        let events: Vec<&Value> = log
            .iter()
            .filter(|m| m["message"]["method"] == "Tracing.dataCollected")
            .map(|m| &m["message"]["params"])
            .collect();
        for e in &events {
            if e["ph"] == "M" && e["name"] == "thread_name" && e["args"]["name"] == "CrRendererMain"
            {
                if let Some(tid) = e["tid"].as_u64() {
                    if !main_threads.contains(&tid) {
                        main_threads.push(tid);
                    }
                }
            }
        }
        let tasks: Vec<u64> = events
            .iter()
            .filter(|e| e["name"] == "RunTask" && e["ph"] == "X")
            .filter(|e| e["tid"].as_u64().is_some_and(|t| main_threads.contains(&t)))
            .filter_map(|e| e["dur"].as_u64())
            .collect();
        let longest = tasks.iter().copied().max().unwrap_or(0);
        (Duration::from_micros(longest), tasks.len())
    }

    /// Ends the WebDriver session, then chromedriver and Chromium.
    pub async fn close(self) {
        let client = self.client.clone();
        let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The whole group: chromedriver and the Chromium it started.
        let _ = kill(Pid::from_raw(-(self.driver.id() as i32)), Signal::SIGKILL);
        let _ = self.driver.wait();
    }
}

/// `POST /session/{id}/goog/cdp/execute`.
#[derive(Debug)]
struct Cdp {
    body: String,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or("")
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        (axum::http::Method::POST, Some(self.body.clone()))
    }
}

/// `POST /session/{id}/se/log`: chromedriver's logs.
#[derive(Debug)]
struct Log {
    body: String,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Log {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or("")))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        (axum::http::Method::POST, Some(self.body.clone()))
    }
}
