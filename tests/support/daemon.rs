//! The one harness for starting `scantrail run` and `scantrail hq` as
//! child processes in tests: always `--listen 127.0.0.1:0` (the OS picks a
//! free port, so parallel tests never race for one), readiness from the
//! `listening on URL` line the server prints, a timeout on every wait, and
//! SIGKILL on drop. Stop it with SIGTERM ([`Daemon::stop`]) or SIGKILL
//! ([`Daemon::kill`]). Also: HTTP helpers for the API, and the developer
//! tools (`scantrail-dev`) the tests build stores with.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;

/// How long a server may take to start or to stop.
pub const WAIT: Duration = Duration::from_secs(30);

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_scantrail")
}

/// The developer tools: `dev-append`, `gen-data`, `loadtest`.
pub fn dev_binary() -> &'static str {
    env!("CARGO_BIN_EXE_scantrail-dev")
}

/// `scantrail-dev dev-append` of `count` receipts into the store of the
/// site configuration `config` (its daemon must not run).
pub fn dev_append(config: &Path, count: u64) {
    succeeded(
        Command::new(dev_binary())
            .args(["dev-append", "--config"])
            .arg(config)
            .args(["--count", &count.to_string(), "--threads", "2"])
            .env("RUST_LOG", "warn"),
    );
}

/// Runs `command` to its end and returns what it printed; fails the test
/// with its stderr unless it exited 0.
pub fn succeeded(command: &mut Command) -> std::process::Output {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A running `scantrail run` or `scantrail hq`; SIGKILLed on drop unless
/// stopped.
pub struct Daemon {
    child: Option<Child>,
    url: String,
    log: PathBuf,
}

impl Daemon {
    /// `scantrail run --config CONFIG`: the site daemon. Its log (stderr)
    /// goes to `CONFIG.log`.
    pub fn start(config: &Path) -> Daemon {
        Daemon::start_with(config, |_| {})
    }

    /// `start`, with the command adjusted first (e.g. resource limits).
    pub fn start_with(config: &Path, adjust: impl FnOnce(&mut Command)) -> Daemon {
        Daemon::spawn("run", config, adjust)
    }

    /// `scantrail hq --config CONFIG`: head office. Its log goes to
    /// `CONFIG.log`.
    pub fn start_hq(config: &Path) -> Daemon {
        Daemon::spawn("hq", config, |_| {})
    }

    /// `scantrail run --config CONFIG` that must refuse to start: waits (at
    /// most [`WAIT`]) for it to exit, and returns its exit code and stderr.
    /// Panics if it is still running then (it started instead).
    pub fn start_refused(config: &Path) -> (Option<i32>, String) {
        let mut child = Command::new(binary())
            .arg("run")
            .arg("--config")
            .arg(config)
            .args(["--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start scantrail run");
        let deadline = Instant::now() + WAIT;
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("scantrail run was still running after {WAIT:?} instead of refusing");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `start_with` for a daemon that may fail to start (a test that cuts
    /// its disk's power while it opens the store): `spawned` is told its pid
    /// as soon as it exists; its log when it exits without listening,
    /// instead of a panic.
    pub fn try_start(
        config: &Path,
        adjust: impl FnOnce(&mut Command),
        spawned: impl FnOnce(u32),
    ) -> Result<Daemon, String> {
        Daemon::try_spawn("run", config, adjust, spawned)
    }

    /// `try_start` for head office.
    pub fn try_start_hq(
        config: &Path,
        adjust: impl FnOnce(&mut Command),
        spawned: impl FnOnce(u32),
    ) -> Result<Daemon, String> {
        Daemon::try_spawn("hq", config, adjust, spawned)
    }

    fn spawn(command: &str, config: &Path, adjust: impl FnOnce(&mut Command)) -> Daemon {
        Daemon::try_spawn(command, config, adjust, |_| {}).unwrap_or_else(|e| panic!("{e}"))
    }

    fn try_spawn(
        command: &str,
        config: &Path,
        adjust: impl FnOnce(&mut Command),
        spawned: impl FnOnce(u32),
    ) -> Result<Daemon, String> {
        let log = config.with_extension("log");
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("cannot create the server's log file");
        let args: [&OsStr; 5] = [
            command.as_ref(),
            "--config".as_ref(),
            config.as_ref(),
            "--listen".as_ref(),
            "127.0.0.1:0".as_ref(),
        ];
        let mut server = Command::new(binary());
        server
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file);
        adjust(&mut server);
        let mut child = server
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start scantrail {command}: {e}"));
        spawned(child.id());
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            // Keep reading to the end so the server never blocks on stdout.
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if !sent {
                    if let Some(url) = line.strip_prefix("listening on ") {
                        let _ = tx.send(url.trim().to_owned());
                        sent = true;
                    }
                }
            }
        });
        let url = match rx.recv_timeout(WAIT) {
            Ok(url) => url,
            Err(e) => {
                let _ = child.kill();
                let status = child.wait();
                let why = match e {
                    mpsc::RecvTimeoutError::Timeout => {
                        format!("printed no listening line within {WAIT:?}")
                    }
                    mpsc::RecvTimeoutError::Disconnected => {
                        format!("exited without listening ({status:?})")
                    }
                };
                return Err(format!(
                    "scantrail {command} {why}; its log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                ));
            }
        };
        Ok(Daemon {
            child: Some(child),
            url,
            log,
        })
    }

    /// `http://127.0.0.1:PORT` (`https://` for head office)
    pub fn base_url(&self) -> &str {
        &self.url
    }

    /// The base URL with `path` appended.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// `127.0.0.1:PORT`
    pub fn address(&self) -> &str {
        self.url.split_once("://").map_or(&self.url, |(_, a)| a)
    }

    /// The port the OS gave the server.
    pub fn port(&self) -> u16 {
        let port = self.address().rsplit_once(':').map(|(_, p)| p);
        port.and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {}", self.url))
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("daemon stopped").id()
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGTERM without waiting.
    pub fn signal_term(&self) {
        kill(Pid::from_raw(self.pid() as i32), Signal::SIGTERM).expect("cannot send SIGTERM");
    }

    /// Waits for the server to exit (after a signal) and returns how.
    pub fn wait(mut self) -> ExitStatus {
        let mut child = self.child.take().expect("daemon stopped");
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "the server did not exit within {WAIT:?}; its log:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then waits for the exit. A daemon that did not exit
    /// cleanly has its log printed, for the test that asserts on it.
    pub fn stop(self) -> ExitStatus {
        self.signal_term();
        let log = self.log.clone();
        let status = self.wait();
        if !status.success() {
            eprintln!(
                "the daemon exited with {status}; its log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        status
    }

    /// SIGKILL, as a crash or a power cut, and waits for the exit.
    pub fn kill(mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Writes this server's address into `config`'s `listen = ...` line, so
    /// commands run with `--config` (which find a running server through
    /// it) reach this one. The server itself read the file at start; a
    /// restart listens on a new port from the OS again.
    pub fn point_config_here(&self, config: &Path) {
        let text = std::fs::read_to_string(config).expect("cannot read the configuration");
        let mut found = false;
        let lines: Vec<String> = text
            .lines()
            .map(|l| {
                if l.trim_start().starts_with("listen = ") {
                    found = true;
                    format!("listen = \"{}\"", self.address())
                } else {
                    l.to_owned()
                }
            })
            .collect();
        assert!(found, "no `listen = ` line in {}", config.display());
        std::fs::write(config, lines.join("\n") + "\n").unwrap();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A small HTTP client for the daemon's API: one keep-alive agent, 4xx and
/// 5xx answers returned rather than turned into errors.
#[derive(Clone)]
pub struct Api {
    agent: ureq::Agent,
    base: String,
    token: Option<String>,
}

/// An answer: status and JSON body (`Value::Null` when it is not JSON).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub content_type: String,
    /// The `Location` header, empty without one.
    pub location: String,
}

impl Api {
    pub fn new(base: &str, token: Option<&str>) -> Api {
        Api {
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(30))
                .build(),
            base: base.to_owned(),
            token: token.map(str::to_owned),
        }
    }

    fn request(&self, method: &str, path: &str) -> ureq::Request {
        let request = self.agent.request(method, &format!("{}{path}", self.base));
        match &self.token {
            Some(t) => request.set("Authorization", &format!("Bearer {t}")),
            None => request,
        }
    }

    /// The answer, whatever its status; `Err` when there was none (the
    /// daemon could not be reached, or is shutting down).
    fn try_finish(response: Result<ureq::Response, ureq::Error>) -> Result<Reply, String> {
        let response = match response {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => return Err(e.to_string()),
        };
        let status = response.status();
        let content_type = response.header("content-type").unwrap_or("").to_owned();
        let location = response.header("location").unwrap_or("").to_owned();
        let text = response.into_string().map_err(|e| e.to_string())?;
        Ok(Reply {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            content_type,
            location,
        })
    }

    fn finish(response: Result<ureq::Response, ureq::Error>) -> Reply {
        Self::try_finish(response).unwrap_or_else(|e| panic!("the HTTP request failed: {e}"))
    }

    pub fn get(&self, path: &str) -> Reply {
        Self::finish(self.request("GET", path).call())
    }

    /// Sends `body` as it is (CSV text, or JSON the caller wrote).
    pub fn send(&self, method: &str, path: &str, content_type: &str, body: &str) -> Reply {
        Self::finish(
            self.request(method, path)
                .set("Content-Type", content_type)
                .send_string(body),
        )
    }

    /// A scan at `station`, which must be answered 200 (accepted or
    /// refused): the answer's body.
    #[track_caller]
    pub fn scan(&self, station: &str, data: &str) -> Value {
        let r = self.post_json(
            "/api/v1/scans",
            &serde_json::json!({ "station": station, "data": data }),
        );
        assert_eq!(r.status, 200, "scan {data:?} at {station}: {:?}", r.body);
        r.body
    }

    pub fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.send("POST", path, "application/json", &body.to_string())
    }

    pub fn put_json(&self, path: &str, body: &Value) -> Reply {
        self.send("PUT", path, "application/json", &body.to_string())
    }

    pub fn post_text(&self, path: &str, body: &str) -> Reply {
        self.send("POST", path, "text/csv", body)
    }

    /// A scan; `Err` when the daemon could not be reached or answered
    /// nothing (it is shutting down).
    pub fn try_post_json(&self, path: &str, body: &Value) -> Result<Reply, String> {
        self.try_send_json("POST", path, body)
    }

    /// `try_post_json` with another method (`PUT`).
    pub fn try_send_json(&self, method: &str, path: &str, body: &Value) -> Result<Reply, String> {
        Self::try_finish(
            self.request(method, path)
                .set("Content-Type", "application/json")
                .send_string(&body.to_string()),
        )
    }
}

/// Opens `GET /api/v1/events` with `token` on a raw connection (10 s read
/// timeout) and reads the response head, after which the subscription
/// exists; returns the connection and the bytes read so far.
pub fn open_events(daemon: &Daemon, token: &str) -> (std::net::TcpStream, Vec<u8>) {
    use std::io::{Read, Write};
    let address = daemon.base_url().trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET /api/v1/events HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
    )
    .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).expect("no response head in time");
        assert!(n > 0, "the event stream closed");
        got.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&got).into_owned();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("text/event-stream"), "{head}");
    (stream, got)
}

/// Runs `scantrail ARGS...` to completion and returns its stdout.
pub fn scantrail(args: &[&str]) -> String {
    let output = Command::new(binary())
        .args(args)
        .output()
        .expect("cannot run scantrail");
    assert!(
        output.status.success(),
        "scantrail {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("stdout is not UTF-8")
}

/// Runs `scantrail-dev ARGS...` to completion and returns its stdout.
pub fn scantrail_dev(args: &[&str]) -> String {
    let output = Command::new(dev_binary())
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("cannot run scantrail-dev");
    assert!(
        output.status.success(),
        "scantrail-dev {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("stdout is not UTF-8")
}

/// `scantrail verify` on a stopped daemon's store: its exit code and
/// everything it printed.
pub fn verify(data: &Path) -> (Option<i32>, String) {
    let out = Command::new(binary())
        .args([
            "verify",
            "--config",
            "/nonexistent/scantrail.toml",
            "--data",
        ])
        .arg(data)
        .env("RUST_LOG", "error")
        .output()
        .expect("cannot run scantrail verify");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// An insulin pen (GTIN 09506000134352, expiry 2030-12-31, lot L1) with
/// this serial, as a DataMatrix scanner sends it.
pub fn serial_item(serial: &str) -> String {
    format!("]d201095060001343521730123110L1\u{1d}21{serial}")
}
