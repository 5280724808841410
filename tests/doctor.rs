//! `scantrail doctor`, run as the real binary over a real site: a store
//! made with the store's API, a scanner on a pseudo-terminal, a second
//! scanner whose port does not exist, and a real head office over TLS.
//! Every check the site passes is a ✔ line, the missing port is a ✗ line
//! naming it, and the exit code is non-zero; with the daemon running, the
//! store held by it is a ✔ too; trusting another CA is a ✗ naming head
//! office's certificate. The checks' other outcomes are unit-tested
//! over hand-made environments (`src/cli/doctor/checks.rs`).

mod support;
mod sync_support;

use std::path::Path;
use std::process::Command;

use scantrail::scan::pty::VirtualScanner;
use scantrail::site::last_verify::VERIFY_TREE;
use scantrail::store::{OpenOptions, Store};
use support::daemon::{binary, Daemon};
use sync_support::{HqDir, SiteDir};

/// `scantrail doctor --config CONFIG`: its exit code and its lines.
fn doctor(config: &Path) -> (Option<i32>, Vec<String>) {
    let out = Command::new(binary())
        .args(["doctor", "--config"])
        .arg(config)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    eprintln!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    (
        out.status.code(),
        stdout.lines().map(str::to_owned).collect(),
    )
}

/// The one line that starts with `mark` and contains `needle`.
fn line<'a>(lines: &'a [String], mark: &str, needle: &str) -> &'a str {
    let found: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with(mark) && l.contains(needle))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one line `{mark} ...{needle}...` in:\n{}",
        lines.join("\n")
    );
    found[0]
}

#[test]
fn doctor_passes_what_works_and_names_the_missing_port() {
    let tmp = tempfile::tempdir().unwrap();
    let hq = HqDir::new(&tmp.path().join("hq"), &["north"], "");
    let _hq = hq.start();

    // The pty's reads need a tokio reactor; the doctor only looks at it.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap();
    let _reactor = runtime.enter();
    let site = tmp.path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    let link = site.join("scanner-dock-1");
    let scanner = VirtualScanner::open(Some(&link)).unwrap();
    let missing = site.join("scanner-dock-2");

    let profile = Path::new(env!("CARGO_MANIFEST_DIR")).join("devices/generic-aim.toml");
    // The synced site of the sync tests, with backups, a second receiving
    // station and a scanner for each station: one present, one missing.
    let config = SiteDir::new(&site, "north", &hq.url(), &hq.pki.ca, "").config;
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        r#"
[backup]
dir = "backups"
every = "1h"
[[stations]]
id = "dock-2"
mode = "receive"
[[scanners]]
port = "{link}"
profile = "{profile}"
station = "dock-1"
[[scanners]]
port = "{missing}"
profile = "{profile}"
station = "dock-2"
"#,
        link = link.display(),
        missing = missing.display(),
        profile = profile.display(),
    ));
    std::fs::write(&config, text).unwrap();
    let store = Store::open(&site.join("data"), OpenOptions::create("north".to_owned())).unwrap();
    // The console's last verify, as its Journal page records it.
    let run = serde_json::json!({
        "at": "2026-11-28T10:00:00Z", "by": "alice", "ok": true, "clean": true,
        "summary": "0 movements, 0 index entries checked", "problems": [],
    });
    store
        .records()
        .save(
            VERIFY_TREE,
            b"last_verify",
            run.to_string().as_bytes(),
            true,
        )
        .unwrap();
    drop(store);

    let (code, lines) = doctor(&config);
    line(&lines, "✔", "site configuration of `north`");
    line(&lines, "✔", "data directory");
    line(&lines, "✔", "store opens: 0 movements");
    let present = line(
        &lines,
        "✔",
        &format!(
            "scanner port {} (station dock-1, profile generic-aim) is present",
            link.display()
        ),
    );
    assert!(
        present.contains(&scanner.path().display().to_string()),
        "{present}"
    );
    line(
        &lines,
        "✔",
        &format!("permissions on {}", scanner.path().display()),
    );
    line(
        &lines,
        "✗",
        &format!("scanner port {} (station dock-2, profile generic-aim) is not present — plug the scanner in", missing.display()),
    );
    line(
        &lines,
        "✔",
        &format!("head office {} is reachable", hq.url()),
    );
    line(
        &lines,
        "✔",
        "head office's certificate is trusted, valid until",
    );
    line(&lines, "✔", "clock: within 30 s of head office's");
    // A packaged configuration carries no user: a warning naming the
    // command, which does not fail the doctor by itself.
    line(&lines, "⚠", "scantrail user add");
    line(
        &lines,
        "✔",
        "last verify 2026-11-28 10:00 UTC: 0 movements, 0 index entries checked",
    );
    // The daemon has never run, so it has made no backup yet.
    line(
        &lines,
        "⚠",
        &format!(
            "backups into {}: none made yet — the running daemon makes the first at start",
            site.join("backups").display()
        ),
    );
    assert_eq!(lines.last().map(String::as_str), Some("1 check failed"));
    assert_eq!(code, Some(1));

    // The running daemon holds the store: that is fine, and the doctor
    // does not wait for it.
    // It makes its first backup at start; the doctor reads its record.
    let daemon = Daemon::start(&config);
    let record = site.join("data/last-backup.json");
    let deadline = std::time::Instant::now() + support::daemon::WAIT;
    while !record.exists() {
        assert!(std::time::Instant::now() < deadline, "{}", daemon.log());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let (_, lines) = doctor(&config);
    line(
        &lines,
        "✔",
        "store in use by the running daemon — that is fine",
    );
    line(
        &lines,
        "✔",
        &format!("UTC: {}", site.join("backups").display()),
    );
    assert!(!lines.iter().any(|l| l.contains("store opens")));
    daemon.stop();

    // A CA that did not sign head office's certificate: refused in the
    // handshake, and named as such.
    let other = sync_support::Pki::new(&tmp.path().join("other-ca"));
    let text = std::fs::read_to_string(&config).unwrap();
    let trusting_other = site.join("other-ca.toml");
    std::fs::write(
        &trusting_other,
        text.replace(
            &hq.pki.ca.display().to_string(),
            &other.ca.display().to_string(),
        ),
    )
    .unwrap();
    let (_, lines) = doctor(&trusting_other);
    line(&lines, "✗", "its certificate is not trusted");
    assert!(!lines.iter().any(|l| l.contains(" clock: ")));

    // With the missing scanner removed, nothing fails: exit 0.
    let text = std::fs::read_to_string(&config).unwrap();
    let second = text
        .find(&format!("[[scanners]]\nport = \"{}\"", missing.display()))
        .unwrap();
    // It is the file's last table.
    std::fs::write(&config, &text[..second]).unwrap();
    let (code, lines) = doctor(&config);
    assert!(!lines.iter().any(|l| l.starts_with('✗')), "{lines:#?}");
    assert_eq!(lines.last().map(String::as_str), Some("all checks passed"));
    assert_eq!(code, Some(0));
}
