//! `scantrail verify` against damaged stores: a changed movement is named
//! by its seq (exit 1), and bytes flipped anywhere in sled's files give a
//! clear error or a verify failure, never a panic or a crash.

use std::path::Path;
use std::process::{Command, Output};

use scantrail::store::{blocks, keys, OpenOptions, Store};

const SITE: &str = "verify-site";

fn scantrail(args: &[&str], data: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scantrail"))
        .args(args)
        .args(["--config", "/nonexistent/scantrail.toml", "--data"])
        .arg(data)
        .env("RUST_LOG", "error")
        .output()
        .unwrap()
}

fn make_store(dir: &Path, count: u64) {
    let out = Command::new(env!("CARGO_BIN_EXE_scantrail-dev"))
        .args([
            "dev-append",
            "--config",
            "/nonexistent/x.toml",
            "--site",
            SITE,
            "--threads",
            "4",
        ])
        .args(["--count", &count.to_string(), "--data"])
        .arg(dir)
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// sled opened directly, as a tool damaging a closed store would. sled's
/// helper threads of the last user of the store can hold its lock for a
/// moment after `drop`, so wait for it.
fn raw_sled(dir: &Path) -> sled::Db {
    for _ in 0..100 {
        match sled::Config::new().path(dir).flush_every_ms(None).open() {
            Ok(db) => return db,
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
        }
    }
    panic!("the store at {} stayed locked", dir.display());
}

fn flip_value_byte(dir: &Path, seq: u64, at: usize) {
    let db = raw_sled(dir);
    let journal = db.open_tree("journal").unwrap();
    let key = keys::journal(SITE, seq);
    let mut v = journal.get(&key).unwrap().unwrap().to_vec();
    let span = blocks::span(&v, seq).unwrap();
    let at = span.start + at % span.len();
    v[at] ^= 0x01;
    journal.insert(key, v).unwrap();
    db.flush().unwrap();
}

#[test]
fn verify_exits_1_naming_the_seq_of_a_changed_movement() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");
    make_store(&store, 40);
    let ok = scantrail(&["verify"], &store);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    assert_eq!(last_verify_ok(&store), Some(true));

    flip_value_byte(&store, 17, 60);
    let bad = scantrail(&["verify"], &store);
    let stdout = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("first bad: origin {SITE} seq 17")),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&bad.stderr).contains("failed verification"));
    // Recorded for the daemon's `verify_failed` alert, the doctor and the
    // console, as a verify run from the console is.
    assert_eq!(last_verify_ok(&store), Some(false));
}

/// `verify --since last` starts where the last intact verify ended: it
/// checks only what came after (exit 0, the new seqs named), catches a
/// movement changed after that point at its seq, and catches a change to
/// the movement the point names (history rewritten beneath it), although
/// it reads nothing before it.
#[test]
fn the_incremental_verify_starts_at_the_verified_point_and_catches_changes() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");
    make_store(&store, 30);
    assert!(scantrail(&["verify"], &store).status.success());
    make_store(&store, 10);
    let out = scantrail(&["verify", "--since", "last"], &store);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!("origin {SITE}: 10 movements checked, seq 31..=40")),
        "{stdout}"
    );
    // Nothing new: nothing to read, still intact; the point moved to 40.
    let out = scantrail(&["verify", "--since", "last"], &store);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("nothing new up to seq 40"), "{stdout}");

    // A change after the point, and (in a copy) one to the point's own
    // movement.
    make_store(&store, 5);
    let copy = dir.path().join("copy");
    copy_dir(&store, &copy);
    flip_value_byte(&store, 43, 60);
    let out = scantrail(&["verify", "--since", "last"], &store);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("first bad: origin {SITE} seq 43")),
        "{stdout}"
    );
    assert_eq!(last_verify_ok(&store), Some(false));

    flip_value_byte(&copy, 40, 60);
    let out = scantrail(&["verify", "--since", "last"], &copy);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("not the one verified before"), "{stdout}");
    // A bad --since is refused by name.
    let out = scantrail(&["verify", "--since", "yesterday"], &copy);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--since"));
}

/// Whether the last recorded verify of the store found it intact.
fn last_verify_ok(dir: &Path) -> Option<bool> {
    let store = Store::open(dir, OpenOptions::existing(Some(SITE.into()))).unwrap();
    let run = scantrail::site::last_verify::last_verify(&store).unwrap()?;
    let json = serde_json::to_value(&run).unwrap();
    assert!(
        json["by"].as_str().unwrap().contains("command line"),
        "{json}"
    );
    json["ok"].as_bool()
}

#[test]
fn every_single_byte_flip_in_a_movement_is_caught_at_its_seq() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s");
    make_store(&path, 12);
    let len = {
        let db = raw_sled(&path);
        let block = db
            .open_tree("journal")
            .unwrap()
            .get(keys::journal(SITE, 5))
            .unwrap()
            .unwrap();
        blocks::span(&block, 5).unwrap().len()
    };
    for at in 0..len {
        flip_value_byte(&path, 5, at);
        {
            let store = Store::open(&path, OpenOptions::existing(None)).unwrap();
            let report = store.verify().unwrap();
            assert_eq!(
                report.first_bad(),
                vec![(SITE.to_owned(), 5)],
                "byte {at}: {:?}",
                report.problems
            );
        }
        flip_value_byte(&path, 5, at); // flip back
    }
    let store = Store::open(&path, OpenOptions::existing(None)).unwrap();
    assert!(store.verify().unwrap().is_ok());
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Outcome of one damaged copy, for the summary.
#[derive(Debug, Default)]
struct Tally {
    clear_error: u32,
    verify_failed: u32,
    intact: u32,
    fewer_movements: u32,
}

#[test]
fn flipped_bytes_on_disk_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let original = dir.path().join("original");
    make_store(&original, 300);
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(&original)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let mut tally = Tally::default();
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    for round in 0..40 {
        let file_index = round % files.len();
        let name = files[file_index].file_name().unwrap().to_owned();
        let copy = dir.path().join(format!("copy{round}"));
        copy_dir(&original, &copy);
        let target = copy.join(&name);
        let mut bytes = std::fs::read(&target).unwrap();
        if bytes.is_empty() {
            continue;
        }
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let at = (rng % bytes.len() as u64) as usize;
        bytes[at] ^= 0xFF;
        std::fs::write(&target, &bytes).unwrap();

        for command in [&["verify"][..], &["journal", "--json"][..]] {
            let out = scantrail(command, &copy);
            let stderr = String::from_utf8_lossy(&out.stderr);
            let stdout = String::from_utf8_lossy(&out.stdout);
            let context = format!("{command:?} with byte {at} of {name:?} flipped: {stderr}");
            assert!(out.status.code().is_some(), "killed by a signal: {context}");
            assert!(!stderr.contains("panicked"), "panic: {context}");
            match (command[0], out.status.code()) {
                ("verify", Some(0)) => {
                    if stdout.contains("300 movements,") {
                        tally.intact += 1;
                    } else {
                        tally.fewer_movements += 1;
                        eprintln!("fewer movements after {context}: {stdout}");
                    }
                }
                ("verify", Some(1)) if stdout.contains("problem:") => tally.verify_failed += 1,
                (_, Some(1)) => {
                    assert!(
                        stderr.starts_with("error: "),
                        "not a clear error: {context}"
                    );
                    if command[0] == "verify" {
                        tally.clear_error += 1;
                    }
                }
                ("journal", Some(0)) => {}
                _ => panic!("unexpected exit: {context}"),
            }
        }
    }
    eprintln!("{tally:?}");
    assert_eq!(
        tally.fewer_movements, 0,
        "a damaged store lost acknowledged movements silently"
    );
}

#[test]
fn backup_restores_as_a_store_that_verifies_with_the_same_journal() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live");
    let copy = dir.path().join("copy");
    make_store(&live, 120);
    let out = Command::new(env!("CARGO_BIN_EXE_scantrail"))
        .args(["backup", "--config", "/nonexistent/x.toml", "--data"])
        .arg(&live)
        .arg(&copy)
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let verify = scantrail(&["verify"], &copy);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    assert!(String::from_utf8_lossy(&verify.stdout).contains("120 movements,"));
    let original = scantrail(&["journal", "--json"], &live);
    let restored = scantrail(&["journal", "--json"], &copy);
    assert!(original.status.success() && restored.status.success());
    assert_eq!(
        String::from_utf8_lossy(&original.stdout).lines().count(),
        120
    );
    assert_eq!(original.stdout, restored.stdout);

    // A second backup into the same place is refused, not merged.
    let again = Command::new(env!("CARGO_BIN_EXE_scantrail"))
        .args(["backup", "--config", "/nonexistent/x.toml", "--data"])
        .arg(&live)
        .arg(&copy)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds files"));
}

#[test]
fn reading_commands_do_not_create_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("typo");
    for command in [&["verify"][..], &["journal"][..], &["reindex"][..]] {
        let out = scantrail(command, &missing);
        assert_eq!(out.status.code(), Some(1), "{command:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("there is no store at"),
            "{command:?}"
        );
    }
    assert!(!missing.exists());
}
