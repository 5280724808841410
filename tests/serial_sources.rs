//! Serial sources over real pseudo-terminals: the source opens the pty's
//! slave side exactly as it opens a USB CDC scanner; the test plays the
//! scanner on the master side.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use scantrail::scan::pty::{frame_line, VirtualScanner};
use scantrail::scan::{
    sources, Aim, Profile, RawScan, RejectReason, ScanEvent, ScannerSpec, SourceHandle,
};
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(5);

fn profile(text: &str) -> Arc<Profile> {
    Arc::new(Profile::parse(text, "test", Path::new("test.toml")).unwrap())
}

fn shipped(name: &str) -> Arc<Profile> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("devices")
        .join(name);
    Arc::new(Profile::load(&path).unwrap())
}

const CR: &str = "[framing]\nsuffix = \"CR\"\nmax_frame_len = 64\ninter_byte_timeout_ms = 300\n[symbology]\naim = \"expected\"\n[feedback]\ninit = \"INIT\\r\"\ngood_read = \"\\u0007G\"\nbad_read = \"\\u0007B\"\n[reconnect]\ninitial_ms = 50\nmax_ms = 200\n";

struct Rig {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    handles: Vec<SourceHandle>,
    events: mpsc::Receiver<ScanEvent>,
}

/// Starts one source per (link name, station) on links in a temp dir.
fn rig(profile: &Arc<Profile>, scanners: &[(&str, &str)]) -> Rig {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_owned();
    let specs = scanners
        .iter()
        .map(|(link, station)| ScannerSpec {
            port: dir.join(link).to_string_lossy().into_owned(),
            station: station.to_string(),
            profile: profile.clone(),
        })
        .collect();
    let (handles, events) = sources::start(specs, 256);
    Rig {
        _dir: tmp,
        dir,
        handles,
        events,
    }
}

impl Rig {
    fn link(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    async fn next(&mut self) -> ScanEvent {
        tokio::time::timeout(WAIT, self.events.recv())
            .await
            .expect("no event in time")
            .expect("sources stopped")
    }

    async fn scan(&mut self) -> RawScan {
        match self.next().await {
            ScanEvent::Scan(s) => s,
            ScanEvent::Rejected(r) => panic!("refused {:?}: {:?}", r.reason, r.bytes),
        }
    }

    async fn rejected(&mut self) -> RejectReason {
        match self.next().await {
            ScanEvent::Rejected(r) => r.reason,
            ScanEvent::Scan(s) => panic!("accepted {:?}", s.bytes),
        }
    }
}

/// Reads from the scanner side until `want` has arrived.
async fn expect_from_host(scanner: &VirtualScanner, want: &[u8]) {
    let mut got = Vec::new();
    let mut buf = [0u8; 64];
    let deadline = Instant::now() + WAIT;
    while !got.windows(want.len()).any(|w| w == want) {
        let left = deadline.saturating_duration_since(Instant::now());
        let n = tokio::time::timeout(left, scanner.read(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("scanner never got {want:?}; got {got:?}"))
            .unwrap();
        got.extend_from_slice(&buf[..n]);
    }
}

#[tokio::test]
async fn frames_with_gs_many_in_one_write() {
    let p = profile(CR);
    let mut rig = rig(&p, &[("s", "dock-1")]);
    let sc = VirtualScanner::open(Some(&rig.link("s"))).unwrap();
    sc.write_all(b"]d201095060001343521725123110ABC123\x1d21XYZ987\r]C1010950600013435210L1\r]Q1plain text\r")
        .await
        .unwrap();
    let a = rig.scan().await;
    assert_eq!(
        &a.bytes[..],
        b"]d201095060001343521725123110ABC123\x1d21XYZ987"
    );
    assert_eq!(a.symbology, Some(Aim(*b"]d2")));
    assert_eq!(&*a.station, "dock-1");
    assert_eq!(&*a.profile, "test");
    assert_eq!(&rig.scan().await.bytes[..], b"]C1010950600013435210L1");
    assert_eq!(&rig.scan().await.bytes[..], b"]Q1plain text");
    expect_from_host(&sc, b"INIT\r").await;
}

#[tokio::test]
async fn crlf_frames_arriving_one_byte_at_a_time() {
    let p = profile("[framing]\nsuffix = \"CRLF\"\ninter_byte_timeout_ms = 500\n[symbology]\naim = \"expected\"\n");
    let mut rig = rig(&p, &[("s", "dock-1")]);
    let sc = VirtualScanner::open(Some(&rig.link("s"))).unwrap();
    for &b in b"]C10109506000134352\x1d10A\r\n]E05901234123457\r\n".iter() {
        sc.write_all(&[b]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(&rig.scan().await.bytes[..], b"]C10109506000134352\x1d10A");
    assert_eq!(&rig.scan().await.bytes[..], b"]E05901234123457");
}

#[tokio::test]
async fn no_suffix_frames_end_after_the_inter_byte_timeout() {
    let p = profile("[framing]\nsuffix = \"none\"\ninter_byte_timeout_ms = 40\n[symbology]\naim = \"optional\"\n");
    let mut rig = rig(&p, &[("s", "dock-1")]);
    let sc = VirtualScanner::open(Some(&rig.link("s"))).unwrap();
    sc.write_all(b"]C1010950").await.unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
    sc.write_all(b"6000134352").await.unwrap();
    let start = Instant::now();
    assert_eq!(&rig.scan().await.bytes[..], b"]C10109506000134352");
    assert!(
        start.elapsed() >= Duration::from_millis(30),
        "frame ended early"
    );
    sc.write_all(b"0109506000134352").await.unwrap();
    let s = rig.scan().await;
    assert_eq!(&s.bytes[..], b"0109506000134352");
    assert_eq!(s.symbology, None);
}

#[tokio::test]
async fn aim_identifiers_and_datalogic_label_ids() {
    let p = shipped("datalogic-rs232.toml");
    let mut rig = rig(&p, &[("s", "dock-1")]);
    let sc = VirtualScanner::open(Some(&rig.link("s"))).unwrap();
    sc.write_all(b"k0109506000134352\x1d10ABC\r]d2010950600013435217251231\rB5901234123457\rxyz\r")
        .await
        .unwrap();
    let s = rig.scan().await;
    assert_eq!(
        &s.bytes[..],
        b"k0109506000134352\x1d10ABC",
        "raw bytes stay as sent"
    );
    assert_eq!(s.symbology, Some(Aim(*b"]C1")));
    assert_eq!(&s.parser_input()[..], b"]C10109506000134352\x1d10ABC");
    let s = rig.scan().await;
    assert_eq!(s.symbology, Some(Aim(*b"]d2")));
    assert_eq!(&s.parser_input()[..], &s.bytes[..]);
    let s = rig.scan().await;
    assert_eq!(s.symbology, Some(Aim(*b"]E0")));
    assert_eq!(&s.parser_input()[..], b"]E05901234123457");
    assert_eq!(rig.rejected().await, RejectReason::NoSymbology);
}

#[tokio::test]
async fn keyboard_wedge_profile_keeps_its_substitute() {
    let p = shipped("keyboard-wedge-serial.toml");
    let mut rig = rig(&p, &[("s", "dock-1")]);
    let sc = VirtualScanner::open(Some(&rig.link("s"))).unwrap();
    sc.write_all(&frame_line(&p, "0109506000134352^10ABC"))
        .await
        .unwrap();
    let s = rig.scan().await;
    assert_eq!(&s.bytes[..], b"]C10109506000134352|10ABC");
    assert_eq!(s.substitute, Some(b'|'));
}

#[tokio::test]
async fn two_scanners_at_once() {
    let p = profile(CR);
    let mut rig = rig(&p, &[("a", "dock-1"), ("b", "dispatch-1")]);
    let a = VirtualScanner::open(Some(&rig.link("a"))).unwrap();
    let b = VirtualScanner::open(Some(&rig.link("b"))).unwrap();
    for i in 0..5 {
        a.write_all(format!("]C1A{i}\r").as_bytes()).await.unwrap();
        b.write_all(format!("]C1B{i}\r").as_bytes()).await.unwrap();
    }
    let (mut from_a, mut from_b) = (Vec::new(), Vec::new());
    for _ in 0..10 {
        let s = rig.scan().await;
        match &*s.station {
            "dock-1" => from_a.push(s.bytes),
            "dispatch-1" => from_b.push(s.bytes),
            other => panic!("{other}"),
        }
    }
    let want = |c: char| (0..5).map(|i| format!("]C1{c}{i}")).collect::<Vec<_>>();
    let text = |v: Vec<bytes::Bytes>| {
        v.iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(text(from_a), want('A'));
    assert_eq!(text(from_b), want('B'));
}

#[tokio::test]
async fn unplug_mid_frame_reports_a_fragment_and_replug_recovers() {
    let p = profile(CR);
    let mut rig = rig(&p, &[("a", "dock-1"), ("b", "dispatch-1")]);
    let a = VirtualScanner::open(Some(&rig.link("a"))).unwrap();
    let b = VirtualScanner::open(Some(&rig.link("b"))).unwrap();
    a.write_all(b"]C1first\r").await.unwrap();
    assert_eq!(&rig.scan().await.bytes[..], b"]C1first");
    a.write_all(b"]C10109506000").await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    drop(a); // unplug: link removed, pty closed
    let r = rig.next().await;
    match r {
        ScanEvent::Rejected(r) => {
            assert_eq!(r.reason, RejectReason::Fragment);
            assert_eq!(&r.bytes[..], b"]C10109506000");
        }
        ScanEvent::Scan(s) => panic!("a cut frame was accepted: {:?}", s.bytes),
    }
    // The other scanner is not disturbed while `a` is away.
    b.write_all(b"]C1other\r").await.unwrap();
    assert_eq!(&*rig.scan().await.station, "dispatch-1");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let replugged = Instant::now();
    let a = VirtualScanner::open(Some(&rig.link("a"))).unwrap();
    a.write_all(b"]C1again\r").await.unwrap();
    let s = rig.scan().await;
    assert_eq!(&s.bytes[..], b"]C1again");
    assert!(
        replugged.elapsed() < Duration::from_secs(2),
        "recovery took {:?}",
        replugged.elapsed()
    );
    let stats = &rig.handles[0].stats;
    assert_eq!(stats.connects.load(std::sync::atomic::Ordering::Relaxed), 2);
    assert_eq!(
        stats.disconnects.load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    assert_eq!(stats.rejected(RejectReason::Fragment), 1);
}

#[tokio::test]
async fn a_missing_port_is_waited_for() {
    let p = profile(CR);
    let mut rig = rig(&p, &[("late", "dock-1")]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!rig.handles[0].task.is_finished());
    let sc = VirtualScanner::open(Some(&rig.link("late"))).unwrap();
    sc.write_all(b"]C1hello\r").await.unwrap();
    assert_eq!(&rig.scan().await.bytes[..], b"]C1hello");
}

#[tokio::test]
async fn garbage_empty_and_over_long_frames_are_refused_and_counted() {
    let p = profile(CR);
    let mut rig = rig(&p, &[("s", "dock-1")]);
    let sc = VirtualScanner::open(Some(&rig.link("s"))).unwrap();
    let mut noise = b"\x00\xfe\x13\x80\x7f\r\r\r".to_vec();
    noise.extend_from_slice(&[b'9'; 200]);
    noise.extend_from_slice(b"\r]C1still alive\r");
    sc.write_all(&noise).await.unwrap();
    assert_eq!(rig.rejected().await, RejectReason::Binary);
    assert_eq!(rig.rejected().await, RejectReason::Empty);
    assert_eq!(rig.rejected().await, RejectReason::Empty);
    assert_eq!(rig.rejected().await, RejectReason::TooLong);
    assert_eq!(&rig.scan().await.bytes[..], b"]C1still alive");
    let stats = &rig.handles[0].stats;
    assert_eq!(stats.rejected(RejectReason::Binary), 1);
    assert_eq!(stats.rejected(RejectReason::Empty), 2);
    assert_eq!(stats.rejected(RejectReason::TooLong), 1);
    assert_eq!(stats.scans.load(std::sync::atomic::Ordering::Relaxed), 1);
    // Binary and over-long frames were someone's scan: bad-read beeps.
    expect_from_host(&sc, b"\x07B\x07B").await;
}

#[tokio::test]
async fn good_and_bad_read_bytes_reach_the_scanner() {
    let p = profile(CR);
    let mut rig = rig(&p, &[("s", "dock-1")]);
    let sc = VirtualScanner::open(Some(&rig.link("s"))).unwrap();
    expect_from_host(&sc, b"INIT\r").await;
    sc.write_all(b"]C1one\r").await.unwrap();
    rig.scan().await.reply(true);
    expect_from_host(&sc, b"\x07G").await;
    sc.write_all(b"]C1two\r").await.unwrap();
    rig.scan().await.reply(false);
    expect_from_host(&sc, b"\x07B").await;
}

/// Runs `scantrail simulate` on `scans` (a file of lines) at `rate` and
/// `scantrail listen --json --count N` on the same pty; returns listen's
/// output and what simulate printed (after SIGTERM, which removes its link).
fn simulate_into_listen(
    profile: &std::path::Path,
    scans: &std::path::Path,
    link: &std::path::Path,
    rate: &str,
    count: &str,
) -> (std::process::Output, String) {
    let bin = env!("CARGO_BIN_EXE_scantrail");
    let mut sim = Command::new(bin)
        .args(["simulate", "--rate", rate, "--profile"])
        .arg(profile)
        .arg("--link")
        .arg(link)
        .arg(scans)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + WAIT;
    while std::fs::symlink_metadata(link).is_err() {
        assert!(Instant::now() < deadline, "simulate made no link");
        std::thread::sleep(Duration::from_millis(20));
    }
    let listen = Command::new(bin)
        .args(["listen", "--json", "--count", count, "--port"])
        .arg(link)
        .arg("--profile")
        .arg(profile)
        .output()
        .unwrap();
    let _ = Command::new("kill").arg(sim.id().to_string()).status();
    let sim_out = wait_with_timeout(&mut sim);
    (listen, sim_out)
}

/// `scantrail simulate` feeding `scantrail listen --json` through a pty.
#[test]
fn simulate_feeds_listen() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("dock");
    let profile = dir.path().join("p.toml");
    std::fs::write(
        &profile,
        CR.replace("max_frame_len = 64", "max_frame_len = 256"),
    )
    .unwrap();
    let scans = dir.path().join("scans.txt");
    std::fs::write(
        &scans,
        "]d201095060001343521725123110ABC123^21XYZ987\n0109506000134352^10LOT\n\n]Q1hello\n",
    )
    .unwrap();

    // SIGTERM: simulate exits cleanly and removes its link.
    let (listen, sim_out) = simulate_into_listen(&profile, &scans, &link, "20", "3");
    assert!(
        listen.status.success(),
        "{}",
        String::from_utf8_lossy(&listen.stderr)
    );
    let stdout = String::from_utf8(listen.stdout).unwrap();
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    for l in &lines {
        assert_eq!(l["kind"], "scan");
        assert!(l.get("ok").is_some(), "{l}");
    }
    assert_eq!(
        lines[0]["raw"],
        "]d201095060001343521725123110ABC123<GS>21XYZ987"
    );
    assert_eq!(lines[0]["aim"], "]d2");
    assert_eq!(lines[1]["raw"], "]C10109506000134352<GS>10LOT");
    assert_eq!(lines[2]["raw"], "]Q1hello");
    // Every scan got a beep back, good or bad by the GS1 verdict.
    let beeps = sim_out.matches("scanner got good-read").count()
        + sim_out.matches("scanner got bad-read").count();
    assert_eq!(beeps, 3, "{sim_out}");
    assert!(sim_out.contains("scanner got init"), "{sim_out}");
    assert!(
        std::fs::symlink_metadata(&link).is_err(),
        "link left behind"
    );
}

fn wait_with_timeout(child: &mut std::process::Child) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("simulate did not exit on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut err = String::new();
    use std::io::Read;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    err
}

#[test]
fn profile_errors_name_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[serial]\nbaud = 9600\nstop_bits = 3\n[framing]\nsuffix = \"CR\"\n",
    )
    .unwrap();
    let e = Profile::load(&path).unwrap_err().to_string();
    assert!(
        e.contains("bad.toml") && e.contains("line 3") && e.contains("serial.stop_bits"),
        "{e}"
    );
    std::fs::write(
        &path,
        "[framing]\nsuffix = \"CR\"\n[symbology]\naim = \"maybe\"\n",
    )
    .unwrap();
    let e = Profile::load(&path).unwrap_err().to_string();
    assert!(
        e.contains("bad.toml") && e.contains("line 4") && e.contains("maybe"),
        "{e}"
    );
}

/// The issue's acceptance check: `scantrail simulate` feeding `scantrail
/// listen` through a pty shows GTIN, lot, serial and expiry for every
/// shipped profile.
#[test]
fn every_shipped_profile_carries_gtin_lot_serial_and_expiry() {
    let devices = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("devices");
    let mut profiles: Vec<_> = std::fs::read_dir(&devices)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    profiles.sort();
    assert!(profiles.len() >= 5, "{profiles:?}");
    for profile in profiles {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("scanner");
        let scans = dir.path().join("scans.txt");
        std::fs::write(&scans, "]C101095060001343521725123110ABC123^21XYZ987\n").unwrap();
        let (listen, _) = simulate_into_listen(&profile, &scans, &link, "5", "1");
        let stdout = String::from_utf8(listen.stdout).unwrap();
        let line: serde_json::Value = serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("{}: {e}: {stdout:?}", profile.display()));
        assert_eq!(line["ok"], true, "{}: {line}", profile.display());
        let ais: Vec<(String, String)> = line["ais"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["ai"].as_str().unwrap().to_owned(),
                    a["value"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            ais,
            [
                ("01", "09506000134352"),
                ("17", "251231"),
                ("10", "ABC123"),
                ("21", "XYZ987")
            ]
            .map(|(a, v)| (a.to_owned(), v.to_owned())),
            "{}",
            profile.display()
        );
    }
}
