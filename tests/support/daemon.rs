//! The real `scantrail run` daemon as a child process, for end-to-end
//! tests: start it on a configuration, read the `listening on http://ADDR`
//! line it prints, talk to it over HTTP, and stop it with SIGTERM (or kill
//! it on drop).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long the daemon may take to start or to stop.
pub const WAIT: Duration = Duration::from_secs(20);

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_scantrail")
}

/// A running daemon; SIGKILLed on drop unless stopped.
pub struct Daemon {
    child: Option<Child>,
    url: String,
    log: PathBuf,
}

impl Daemon {
    /// Starts `scantrail run --config CONFIG --listen 127.0.0.1:0` and waits
    /// for its listening line. Its log (stderr) goes to `CONFIG.log`.
    pub fn start(config: &Path) -> Daemon {
        Daemon::start_with(config, |_| {})
    }

    /// `start`, with the command adjusted first (e.g. resource limits).
    pub fn start_with(config: &Path, adjust: impl FnOnce(&mut Command)) -> Daemon {
        let log = config.with_extension("log");
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("cannot create the daemon's log file");
        let mut command = Command::new(binary());
        command
            .arg("run")
            .arg("--config")
            .arg(config)
            .args(["--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file);
        adjust(&mut command);
        let mut child = command.spawn().expect("cannot start scantrail run");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if !sent {
                    if let Some(addr) = line.strip_prefix("listening on ") {
                        let _ = tx.send(addr.trim().to_owned());
                        sent = true;
                    }
                }
            }
        });
        let url = match rx.recv_timeout(WAIT) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "the daemon printed no listening line; its log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
        };
        Daemon {
            child: Some(child),
            url,
            log,
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> &str {
        &self.url
    }

    /// The base URL with `path` appended.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("daemon stopped").id()
    }

    /// What the daemon logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGTERM without waiting.
    pub fn signal_term(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("cannot run kill");
        assert!(status.success(), "kill -TERM failed");
    }

    /// Waits for the daemon to exit (after a signal) and returns how.
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
                    "the daemon did not exit within {WAIT:?}; its log:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then waits for the exit.
    pub fn stop(self) -> ExitStatus {
        self.signal_term();
        self.wait()
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
        let text = response.into_string().map_err(|e| e.to_string())?;
        Ok(Reply {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            content_type,
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
        Self::try_finish(
            self.request("POST", path)
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
