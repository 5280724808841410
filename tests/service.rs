//! The daemons as a service manager runs them: JSON log lines for a log
//! shipper (`--log-format json`, `[log] format = "json"`), and systemd's
//! readiness protocol (`Type=notify`): READY=1 on `$NOTIFY_SOCKET` once
//! the store is open and the API listens, never before, and STOPPING=1 when
//! a drain starts. Real child processes; a real unix datagram socket
//! stands in for systemd's.

mod support;
mod sync_support;

use std::io::{BufRead, BufReader, Read};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;

use support::daemon::{binary, Api, WAIT};

/// A site with one station and no scanner; `log` is put before `[site]`.
fn site_config(dir: &Path, log: &str) -> PathBuf {
    let path = dir.join("scantrail.toml");
    std::fs::write(
        &path,
        format!("data_dir = \"data\"\n{log}[site]\nid = \"north\"\n[[stations]]\nid = \"dock-1\"\nmode = \"receive\"\n"),
    )
    .unwrap();
    path
}

/// A daemon started by hand (the harness in `support::daemon` reads its
/// stdout for the human listening line); SIGKILLed on drop.
struct Process(Child);

impl Process {
    fn start(args: &[&str], config: &Path, notify: Option<&Path>) -> Process {
        let mut command = Command::new(binary());
        command
            .args(args)
            .arg("--config")
            .arg(config)
            .args(["--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        match notify {
            Some(socket) => command.env("NOTIFY_SOCKET", socket),
            None => command.env_remove("NOTIFY_SOCKET"),
        };
        Process(command.spawn().unwrap())
    }

    fn terminate(&mut self) -> std::process::ExitStatus {
        kill(Pid::from_raw(self.0.id() as i32), Signal::SIGTERM).unwrap();
        self.0.wait().unwrap()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Every stderr line, as it comes.
fn lines_of(stream: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Reads JSON log lines up to the `listening on` event; every line before
/// it must be a JSON object with a time, a level and a message too.
fn listening_event(lines: &mpsc::Receiver<String>) -> Value {
    loop {
        let line = lines
            .recv_timeout(WAIT)
            .expect("no `listening on` log line within the wait");
        let event: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {line}"));
        for key in ["timestamp", "level", "target", "message"] {
            assert!(event.get(key).is_some(), "no `{key}` in {line}");
        }
        if event["message"] == "listening on" {
            return event;
        }
    }
}

#[test]
fn json_logs_are_one_object_a_line_from_the_flag_or_the_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let by_flag = site_config(&folder(dir.path(), "flag"), "");
    let by_file = site_config(&folder(dir.path(), "file"), "[log]\nformat = \"json\"\n");
    for (args, config) in [
        (&["--log-format", "json", "run"][..], &by_flag),
        (&["run"][..], &by_file),
    ] {
        let mut daemon = Process::start(args, config, None);
        let lines = lines_of(daemon.0.stderr.take().unwrap());
        let event = listening_event(&lines);
        assert_eq!(event["level"], "INFO", "{event}");
        let url = event["url"]
            .as_str()
            .expect("no url in the event")
            .to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "{event}");
        assert_eq!(Api::new(&url, None).get("/api/v1/health").status, 200);
        assert!(daemon.terminate().success());
        // Nothing but JSON: the human lines on stdout are left out.
        let mut stdout = String::new();
        daemon
            .0
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut stdout)
            .unwrap();
        assert_eq!(stdout, "", "{args:?}");
        for line in lines.try_iter() {
            serde_json::from_str::<Value>(&line)
                .unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {line}"));
        }
    }
}

/// A datagram socket where systemd's would be.
fn notify_socket(dir: &Path) -> (UnixDatagram, PathBuf) {
    let path = dir.join("notify.sock");
    let socket = UnixDatagram::bind(&path).unwrap();
    socket.set_read_timeout(Some(WAIT)).unwrap();
    (socket, path)
}

fn next_message(socket: &UnixDatagram) -> String {
    let mut buf = [0u8; 4096];
    let n = socket
        .recv(&mut buf)
        .expect("nothing on NOTIFY_SOCKET within the wait");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// What the daemon has written to stdout so far, without waiting for more.
fn written_so_far(daemon: &mut Process) -> String {
    use nix::fcntl::{fcntl, FcntlArg, OFlag};
    let stdout = daemon.0.stdout.as_mut().unwrap();
    fcntl(&*stdout, FcntlArg::F_SETFL(OFlag::O_NONBLOCK)).unwrap();
    let mut buf = [0u8; 4096];
    match stdout.read(&mut buf) {
        Ok(n) => String::from_utf8_lossy(&buf[..n]).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => String::new(),
        Err(e) => panic!("{e}"),
    }
}

/// Waits for READY=1, checks the daemon had printed its listening line
/// before, and returns the URL in it.
fn ready_after_listening(socket: &UnixDatagram, daemon: &mut Process) -> String {
    let message = next_message(socket);
    assert!(message.lines().any(|l| l == "READY=1"), "{message}");
    let printed = written_so_far(daemon);
    printed
        .lines()
        .find_map(|l| l.strip_prefix("listening on "))
        .unwrap_or_else(|| panic!("READY=1 came before the listening line: {printed:?}"))
        .to_owned()
}

#[test]
fn the_site_daemon_is_ready_once_its_store_is_open_and_the_api_answers() {
    let dir = tempfile::tempdir().unwrap();
    let config = site_config(dir.path(), "");
    let (socket, path) = notify_socket(dir.path());
    let mut daemon = Process::start(&["run"], &config, Some(&path));
    let url = ready_after_listening(&socket, &mut daemon);
    assert!(dir.path().join("data").is_dir());
    assert_eq!(Api::new(&url, None).get("/api/v1/health").status, 200);
    // A stop is announced as it starts.
    kill(Pid::from_raw(daemon.0.id() as i32), Signal::SIGTERM).unwrap();
    assert_eq!(next_message(&socket).trim(), "STOPPING=1");
    assert!(daemon.0.wait().unwrap().success());
}

#[test]
fn a_daemon_whose_store_cannot_open_never_says_ready() {
    let dir = tempfile::tempdir().unwrap();
    let config = site_config(dir.path(), "");
    // `data` is a file: the store cannot be created there.
    std::fs::write(dir.path().join("data"), "not a store").unwrap();
    let (socket, path) = notify_socket(dir.path());
    let mut daemon = Process::start(&["run"], &config, Some(&path));
    let status = daemon.0.wait().unwrap();
    assert_eq!(status.code(), Some(1));
    socket.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 4096];
    let got = socket.recv(&mut buf);
    assert!(
        matches!(&got, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "a daemon that failed to start sent {:?}",
        got.map(|n| String::from_utf8_lossy(&buf[..n]).into_owned())
    );
}

#[test]
fn head_office_is_ready_once_its_store_is_open_and_its_api_answers() {
    let dir = tempfile::tempdir().unwrap();
    let hq = sync_support::HqDir::new(dir.path(), &["north"], "");
    let (socket, path) = notify_socket(dir.path());
    let mut daemon = Process::start(&["hq"], &hq.config, Some(&path));
    let url = ready_after_listening(&socket, &mut daemon);
    let agent = scantrail::sync::tls::agent(Some(&hq.pki.ca), Duration::from_secs(10)).unwrap();
    let health = agent.get(&format!("{url}/api/v1/health")).call().unwrap();
    assert_eq!(health.status(), 200);
    assert!(daemon.terminate().success());
}

/// A new folder `name` in `parent`.
fn folder(parent: &Path, name: &str) -> PathBuf {
    let path = parent.join(name);
    std::fs::create_dir_all(&path).unwrap();
    path
}

/// A daemon that finds a store of an older schema upgrades it before it
/// is ready, and asks the service manager for more start time while it
/// does (`EXTEND_TIMEOUT_USEC`, which systemd honours past
/// `TimeoutStartSec`), so that a long upgrade is not killed as a hung
/// start. The store is the migration test's schema-4 fixture.
#[test]
fn a_daemon_upgrading_its_store_asks_for_more_start_time_before_ready() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/store-schema4");
    let status = Command::new("tar")
        .args(["-xJf", &format!("{fixture}/store.tar.xz"), "-C"])
        .arg(dir.path())
        .status()
        .expect("cannot run tar (Debian packages tar and xz-utils)");
    assert!(status.success());
    let config = dir.path().join("site.toml");
    std::fs::copy(format!("{fixture}/site.toml"), &config).unwrap();
    let (socket, path) = notify_socket(dir.path());
    let mut daemon = Process::start(&["run"], &config, Some(&path));
    let first = next_message(&socket);
    let extend = first
        .lines()
        .find_map(|l| l.strip_prefix("EXTEND_TIMEOUT_USEC="))
        .unwrap_or_else(|| panic!("the first message was not a request for time: {first:?}"));
    assert!(extend.parse::<u64>().unwrap() >= 60_000_000, "{first}");
    // More requests may follow; then READY=1, once the store is upgraded.
    let mut message = next_message(&socket);
    while message
        .lines()
        .any(|l| l.starts_with("EXTEND_TIMEOUT_USEC="))
    {
        message = next_message(&socket);
    }
    assert!(message.lines().any(|l| l == "READY=1"), "{message}");
    let url = written_so_far(&mut daemon)
        .lines()
        .find_map(|l| l.strip_prefix("listening on ").map(str::to_owned))
        .expect("the listening line came before READY=1");
    let stats = Api::new(&url, Some("admin-token-upgrade")).get("/api/v1/store");
    assert_eq!(stats.status, 200, "{:?}", stats.body);
    assert_eq!(stats.body["movements"], serde_json::json!(3001));
    assert!(daemon.terminate().success());
}
