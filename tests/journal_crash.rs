//! Crash safety of the journal: the real binary appends movements from
//! several threads, printing each seq once its commit is acknowledged, and
//! is killed with SIGKILL at random moments. After every kill the store
//! must hold every acknowledged movement exactly once, with gap-free seqs,
//! an intact hash chain and derived trees that match the journal.

use std::collections::HashSet;
use std::io::BufRead;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use scantrail::store::{OpenOptions, Store};

const SITE: &str = "crash-site";

/// xorshift: no rand dependency, and a printed seed makes a failure
/// reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }
}

fn dev_append(dir: &Path, count: u64, threads: u64) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scantrail-dev"));
    cmd.args([
        "dev-append",
        "--config",
        "/nonexistent/scantrail.toml",
        "--site",
        SITE,
        "--print-seqs",
    ])
    .arg("--data")
    .arg(dir)
    .args([
        "--count",
        &count.to_string(),
        "--threads",
        &threads.to_string(),
    ])
    .env("RUST_LOG", "error")
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    cmd
}

/// Runs one writer, kills it after `after`, returns the seqs it
/// acknowledged (only complete lines: a number cut by the kill is not an
/// acknowledgement).
/// `after` counts from the first acknowledgement when `from_first_ack`
/// (a kill while commits are in flight, however long the start took on a
/// loaded machine), else from the start (a kill while the store opens).
fn run_and_kill(dir: &Path, after: Duration, from_first_ack: bool) -> (Vec<u64>, String) {
    let mut child = dev_append(dir, 10_000_000, 8)
        .spawn()
        .expect("start scantrail");
    let stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let (first_ack, first_acked) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut acked = Vec::new();
        let mut r = std::io::BufReader::new(stdout);
        let mut line = Vec::new();
        while r.read_until(b'\n', &mut line).unwrap_or(0) > 0 {
            if line.last() == Some(&b'\n') {
                let text = std::str::from_utf8(&line[..line.len() - 1]).unwrap();
                acked.push(text.parse::<u64>().unwrap());
                if acked.len() == 1 {
                    let _ = first_ack.send(());
                }
            }
            line.clear();
        }
        acked
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    if from_first_ack {
        let _ = first_acked.recv_timeout(Duration::from_secs(30));
    }
    std::thread::sleep(after);
    let _ = child.kill(); // SIGKILL on Unix
    let status = child.wait().unwrap();
    let acked = reader.join().unwrap();
    let stderr = err_reader.join().unwrap();
    // If it exited by itself it must not have failed.
    if let Some(code) = status.code() {
        assert_eq!(code, 0, "dev-append failed: {stderr}");
    }
    (acked, stderr)
}

/// The checks after each restart. `full` also runs the whole verify and
/// reads the whole journal (exactly once = no serial twice).
fn check(dir: &Path, acked: &[u64], all_acked: &mut Vec<u64>, full: bool) -> u64 {
    let store =
        Store::open(dir, OpenOptions::existing(Some(SITE.into()))).expect("reopen after SIGKILL");
    let head = store.journal().head(SITE).unwrap().seq;
    all_acked.extend_from_slice(acked);
    for &seq in acked {
        assert!(
            seq <= head,
            "acknowledged seq {seq} lost: the store ends at {head}"
        );
        assert!(
            store.journal().movement(SITE, seq).unwrap().is_some(),
            "acknowledged seq {seq} missing"
        );
    }
    assert!(
        store.journal().movement(SITE, head + 1).unwrap().is_none(),
        "a movement past the seq counter"
    );
    if full {
        let report = store.verify().unwrap();
        assert!(
            report.is_ok(),
            "verify after SIGKILL: {:?}",
            report.problems
        );
        assert_eq!(report.movements, head, "seqs are not gap-free");
        let mut serials = HashSet::new();
        let mut from = 1;
        loop {
            let page = store.journal().range(SITE, from, 10_000).unwrap();
            for (i, m) in page.iter().enumerate() {
                assert_eq!(m.seq, from + i as u64, "gap in the journal");
                let serial = m.body.serial.clone().unwrap();
                assert!(
                    serials.insert(serial),
                    "movement stored twice at seq {}",
                    m.seq
                );
            }
            match page.last() {
                Some(last) => from = last.seq + 1,
                None => break,
            }
        }
        for &seq in all_acked.iter() {
            assert!(seq <= head, "acknowledged seq {seq} lost");
        }
    }
    head
}

fn crash_cycles(cycles: u32, full_every: u32, max_delay_ms: u64) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("crash test seed {seed}");
    let mut rng = Rng(seed);
    // Create the store first so every cycle starts from a real store.
    let out = dev_append(&path, 1, 1).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let started = Instant::now();
    let mut all_acked = vec![1];
    let mut killed_with_acks = 0;
    let mut head = 1;
    for cycle in 1..=cycles {
        let delay = Duration::from_millis(rng.between(0, max_delay_ms));
        // Two kills in three land while commits run, the third anywhere.
        let (acked, _stderr) = run_and_kill(&path, delay, cycle % 3 != 0);
        if !acked.is_empty() {
            killed_with_acks += 1;
        }
        let full = cycle % full_every == 0 || cycle == cycles;
        let new_head = check(&path, &acked, &mut all_acked, full);
        assert!(
            new_head >= head,
            "the store went backwards: {head} -> {new_head}"
        );
        head = new_head;
    }
    eprintln!(
        "{cycles} SIGKILL cycles in {:.1} s: {} movements stored, {} acknowledged, {killed_with_acks} cycles killed mid-commit",
        started.elapsed().as_secs_f64(),
        head,
        all_acked.len()
    );
    assert!(
        killed_with_acks > cycles / 2,
        "most kills should land while commits are in flight"
    );
}

#[test]
fn sigkill_during_commits_loses_nothing_acknowledged() {
    crash_cycles(20, 1, 400);
}

/// The long run recorded in BENCHMARKS.md:
/// `cargo test --release --test journal_crash -- --ignored --nocapture`
#[test]
#[ignore]
fn sigkill_500_cycles() {
    crash_cycles(500, 5, 400);
}
