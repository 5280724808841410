//! Clients that hold connections without finishing a request must not stop
//! the site's scans: the real daemon on loopback against hundreds of
//! half-open and idle connections (`web::server`: header-read timeout, idle
//! timeout, connection limit, open-file limit).

#[allow(dead_code)]
mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::json;
use support::daemon::{Api, Daemon};

const TOKEN: &str = "handheld-token-1";
const SCAN: &str = "]d2010950600013435217301231\u{1d}10L1\u{1d}21S1";

/// A site with one receiving station and one handheld, and `http` appended
/// to its `[http]` table.
fn site(dir: &std::path::Path, http: &str) -> PathBuf {
    let config = dir.join("site.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"data\"\n[site]\nid = \"limits\"\n[http]\n{http}\n\
             [[stations]]\nid = \"dock-1\"\nmode = \"receive\"\n\
             [[tokens]]\nname = \"hh-1\"\nrole = \"handheld\"\nstations = [\"dock-1\"]\ntoken = \"{TOKEN}\"\n"
        ),
    )
    .unwrap();
    config
}

fn address(daemon: &Daemon) -> String {
    daemon
        .base_url()
        .strip_prefix("http://")
        .unwrap()
        .to_owned()
}

/// Whether the server closed `stream` before `deadline` (EOF or reset);
/// false if it was still open then.
fn closed_by(stream: &mut TcpStream, deadline: Instant) -> bool {
    let mut buf = [0u8; 512];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return true,
            // Whatever the server says before closing (a 408) is fine.
            Ok(_) => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false
            }
            Err(_) => return true,
        }
    }
}

/// A handheld's scan on a fresh connection is answered (200) within
/// `limit`; `beside` says what else was going on, for the failure.
#[track_caller]
fn scan_within(daemon: &Daemon, limit: Duration, beside: &str) {
    let start = Instant::now();
    let api = Api::new(daemon.base_url(), Some(TOKEN));
    let reply = api
        .try_post_json("/api/v1/scans", &json!({ "data": SCAN }))
        .unwrap_or_else(|e| panic!("the scan got no answer {beside}: {e}"));
    let took = start.elapsed();
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(reply.body.get("accepted").is_some(), "{reply:?}");
    assert!(took < limit, "a scan took {took:?} {beside}");
}

/// 300 clients that start a request and never finish its headers are cut
/// off after the header-read timeout, and a handheld's scan is answered at
/// once meanwhile.
#[test]
fn half_open_requests_are_closed_and_scans_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let config = site(
        dir.path(),
        "header_read_timeout_ms = 1000\nidle_timeout_ms = 5000",
    );
    let daemon = Daemon::start(&config);
    let addr = address(&daemon);

    let opened = Instant::now();
    let mut half_open: Vec<TcpStream> = (0..300)
        .map(|_| {
            let mut s = TcpStream::connect(&addr).unwrap();
            s.write_all(b"POST /api/v1/scans HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty")
                .unwrap();
            s
        })
        .collect();

    scan_within(
        &daemon,
        Duration::from_secs(2),
        "beside 300 half-open requests",
    );

    // Timeout 1 s; allow for a loaded machine.
    let deadline = opened + Duration::from_secs(6);
    let still_open = half_open
        .iter_mut()
        .map(|s| closed_by(s, deadline))
        .filter(|closed| !closed)
        .count();
    assert_eq!(
        still_open, 0,
        "{still_open} of 300 half-open requests were still held 6 s after they were opened (header-read timeout 1 s)"
    );
    scan_within(&daemon, Duration::from_secs(2), "after the half-open ones");
}

/// More idle connections than the daemon has file descriptors (its limit
/// set to 256, soft and hard, as a small machine might have) and than its
/// connection limit: a handheld's scan is still answered, at the latest
/// once the idle ones time out, and the daemon says it lowered its limit.
#[test]
fn idle_connections_past_the_limit_do_not_stop_scans() {
    let dir = tempfile::tempdir().unwrap();
    let config = site(
        dir.path(),
        "header_read_timeout_ms = 1000\nidle_timeout_ms = 1000\nmax_connections = 1000",
    );
    let daemon = Daemon::start_with(&config, |command| {
        use std::os::unix::process::CommandExt as _;
        // SAFETY: setrlimit is async-signal-safe; nothing else runs here.
        unsafe {
            command.pre_exec(|| {
                nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE, 256, 256)
                    .map_err(std::io::Error::from)
            });
        }
    });
    let addr = address(&daemon);

    // Past the daemon's 256 files; the kernel queues what it does not
    // accept.
    let idle: Vec<TcpStream> = (0..400)
        .map(|_| TcpStream::connect(&addr).unwrap())
        .collect();
    scan_within(
        &daemon,
        Duration::from_secs(8),
        "behind 400 idle connections (idle and header timeouts 1 s)",
    );
    drop(idle);
    let log = daemon.log();
    assert!(
        log.contains("max_connections lowered to fit the open-file limit"),
        "{log}"
    );
    scan_within(&daemon, Duration::from_secs(2), "after the idle ones");
}

/// SIGTERM stops the daemon even while an event listener's stream (which
/// never ends) and half-open requests are connected.
#[test]
fn sigterm_stops_the_daemon_despite_open_streams() {
    let dir = tempfile::tempdir().unwrap();
    let config = site(dir.path(), "");
    let daemon = Daemon::start(&config);
    let addr = address(&daemon);
    let mut events = TcpStream::connect(&addr).unwrap();
    events
        .write_all(
            format!(
                "GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
            )
            .as_bytes(),
        )
        .unwrap();
    let mut head = [0u8; 12];
    events.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    let mut half_open = TcpStream::connect(&addr).unwrap();
    half_open
        .write_all(b"GET /api/v1/stations HTTP/1.1\r\nHo")
        .unwrap();

    let start = Instant::now();
    let status = daemon.stop();
    assert!(status.success(), "{status:?}");
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "{:?}",
        start.elapsed()
    );
}
