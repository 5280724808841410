//! The journal benchmark behind BENCHMARKS.md, for runs too big for
//! criterion: durable commits/s and commit latency with 1, 16 and 256
//! concurrent writers, sled against SQLite through the same group
//! committer, then bytes on disk per movement and look-up times after a
//! large fill.
//!
//! `cargo run --release --example store_bench -- [--size 1000000] [--max-batch 256] [--dir DIR]`

#[path = "../benches/support/load.rs"]
mod load;
#[path = "../benches/support/sqlite_sink.rs"]
mod sqlite_sink;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use scantrail::dev::synthetic::synthetic_movement;
use scantrail::store::committer::Committer;
use scantrail::store::{keys, OpenOptions, Store};

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_owned())
}

/// Allocated bytes under `dir` (what the disk really holds).
fn disk_usage(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).unwrap();
    if meta.is_dir() {
        std::fs::read_dir(path)
            .unwrap()
            .map(|e| disk_usage(&e.unwrap().path()))
            .sum()
    } else {
        meta.blocks() * 512
    }
}

fn sled_store(dir: &Path, max_batch: usize) -> Arc<Store> {
    Arc::new(
        Store::open(
            dir,
            OpenOptions {
                max_batch,
                ..OpenOptions::create("bench".into())
            },
        )
        .unwrap(),
    )
}

fn sqlite_committer(path: &Path, max_batch: usize) -> Arc<Committer<sqlite_sink::SqliteSink>> {
    Arc::new(
        Committer::start(
            sqlite_sink::SqliteSink::open(path),
            "bench".into(),
            path.to_owned(),
            max_batch,
            scantrail::store::scan_receipts::Keep::default(),
            None,
        )
        .unwrap(),
    )
}

fn main() {
    let size: u64 = arg("--size", "1000000").parse().unwrap();
    let max_batch: usize = arg("--max-batch", "256").parse().unwrap();
    let root = PathBuf::from(arg("--dir", "target/bench-store"));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();

    println!("## durable commits (max batch {max_batch})");
    println!("| writers | sled commits/s | sled p50 | sled p99 | sled per batch | SQLite commits/s | SQLite p50 | SQLite p99 | SQLite per batch | sled/SQLite |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (writers, commits) in [(1usize, 3_000u64), (16, 30_000), (256, 100_000)] {
        let dir = root.join(format!("sled-{writers}"));
        let store = sled_store(&dir, max_batch);
        let s = store.clone();
        let mut sled = load::run(
            Arc::new(move |m| s.journal().commit(m)),
            writers,
            commits,
            0,
        );
        let (movements, batches) = store.commit_stats();
        let (apply, flush, fsync) = store.timing().seconds();
        let sled_batch = movements as f64 / batches as f64;

        let sqlite_path = root.join(format!("sqlite-{writers}.db"));
        let committer = sqlite_committer(&sqlite_path, max_batch);
        let c = committer.clone();
        let mut sqlite = load::run(
            Arc::new(move |m| {
                c.submit(m)
                    .blocking_recv()
                    .unwrap_or_else(|_| Err(c.closed()))
            }),
            writers,
            commits,
            0,
        );
        let sq_movements = committer
            .stats
            .movements
            .load(std::sync::atomic::Ordering::Relaxed);
        let sq_batches = committer
            .stats
            .batches
            .load(std::sync::atomic::Ordering::Relaxed);
        println!(
            "| {writers} | {:.0} | {:.2} ms | {:.2} ms | {:.1} | {:.0} | {:.2} ms | {:.2} ms | {:.1} | {:.2} |",
            sled.per_second(),
            sled.percentile(0.5).as_secs_f64() * 1e3,
            sled.percentile(0.99).as_secs_f64() * 1e3,
            sled_batch,
            sqlite.per_second(),
            sqlite.percentile(0.5).as_secs_f64() * 1e3,
            sqlite.percentile(0.99).as_secs_f64() * 1e3,
            sq_movements as f64 / sq_batches as f64,
            sled.per_second() / sqlite.per_second(),
        );
        let total = sled.elapsed.as_secs_f64();
        eprintln!(
            "  sled, {writers} writers: {batches} batches; committer time: apply {:.0}%, sled flush {:.0}%, fsync {:.0}%, rest (planning, queue, idle) {:.0}%",
            100.0 * apply / total,
            100.0 * flush / total,
            100.0 * fsync / total,
            100.0 * (total - apply - flush - fsync) / total
        );
        drop(store);
        drop(committer);
    }

    if size == 0 {
        return;
    }
    println!();
    println!("## {size} movements: disk and look-ups");
    let dir = root.join("sled-size");
    let store = sled_store(&dir, max_batch);
    let s = store.clone();
    let fill = load::run(Arc::new(move |m| s.journal().commit(m)), 64, size, 0);
    println!(
        "sled fill with 64 writers: {:.0} movements/s",
        fill.per_second()
    );
    drop(fill);
    let sqlite_path = root.join("sqlite-size.db");
    {
        let committer = sqlite_committer(&sqlite_path, max_batch);
        let c = committer.clone();
        let fill = load::run(
            Arc::new(move |m| {
                c.submit(m)
                    .blocking_recv()
                    .unwrap_or_else(|_| Err(c.closed()))
            }),
            64,
            size,
            0,
        );
        println!(
            "SQLite fill with 64 writers: {:.0} movements/s",
            fill.per_second()
        );
    }
    let conn = rusqlite::Connection::open(&sqlite_path).unwrap();
    conn.pragma_update(None, "wal_checkpoint", "TRUNCATE")
        .unwrap();
    drop(conn);
    let sled_bytes = disk_usage(&dir);
    let sqlite_bytes = disk_usage(&sqlite_path);
    println!(
        "bytes on disk per movement: sled {:.0} ({} MB; sled's own size_on_disk {} MB), SQLite {:.0} ({} MB)",
        sled_bytes as f64 / size as f64,
        sled_bytes / 1_000_000,
        store.size_on_disk().unwrap() / 1_000_000,
        sqlite_bytes as f64 / size as f64,
        sqlite_bytes / 1_000_000
    );

    // Look-ups: synthetic movement n has lot n % 1000 (about size/1000
    // movements each) and a unique serial.
    let lookups = 1000u64;
    let t = Instant::now();
    let mut found = 0;
    for i in 0..lookups {
        let m = synthetic_movement(i * 7919 % size);
        found += store
            .view()
            .by_lot(&m.gtin, m.lot.as_deref().unwrap())
            .unwrap()
            .len();
    }
    let by_lot = t.elapsed() / lookups as u32;
    let t = Instant::now();
    for i in 0..lookups {
        let m = synthetic_movement(i * 7919 % size);
        found += store
            .view()
            .by_serial(&m.gtin, m.serial.as_deref().unwrap())
            .unwrap()
            .len();
    }
    let by_serial = t.elapsed() / lookups as u32;
    println!(
        "sled look-ups: by lot {:.1} µs ({} movements per lot), by serial {:.1} µs",
        by_lot.as_secs_f64() * 1e6,
        size / 1000,
        by_serial.as_secs_f64() * 1e6
    );
    let t = Instant::now();
    for i in 0..lookups {
        let m = synthetic_movement(i * 7919 % size);
        found += sqlite_sink::ids_under(
            &sqlite_path,
            &keys::lot_range(&m.gtin, m.lot.as_deref().unwrap()),
        );
    }
    let sq_lot = t.elapsed() / lookups as u32;
    println!(
        "SQLite look-ups (count over the same key range, connection opened per look-up): by lot {:.1} µs",
        sq_lot.as_secs_f64() * 1e6
    );
    let t = Instant::now();
    let report = store.verify().unwrap();
    println!(
        "verify of {} movements: {:.1} s, ok = {} ({found} look-up hits)",
        report.movements,
        t.elapsed().as_secs_f64(),
        report.is_ok()
    );
}
