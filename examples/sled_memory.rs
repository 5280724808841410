//! What sled 0.34.7 itself holds in memory, apart from scantrail: N
//! entries written into one tree in batches of 1,000 (as the committer
//! writes), with keys in order (as the journal's (origin, seq)) or
//! scattered (as the lot, serial, counterparty and document indexes), then
//! the same store opened again. It prints the resident memory after the
//! writes and after opening, so the store's layout can be chosen by what
//! sled keeps per entry and per write (BENCHMARKS.md, "What sled holds in
//! memory, and why").
//!
//! ```sh
//! cargo run --release --example sled_memory -- DIR write N VALUE_BYTES [ordered|scattered] [CACHE_MB]
//! cargo run --release --example sled_memory -- DIR open
//! ```

use std::process::ExitCode;

fn resident_mb() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096 / 1_000_000
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage =
        "usage: sled_memory DIR write N VALUE_BYTES [ordered|scattered] [CACHE_MB] | DIR open";
    let (Some(dir), Some(mode)) = (args.first(), args.get(1)) else {
        eprintln!("{usage}");
        return ExitCode::FAILURE;
    };
    let number = |i: usize, default: u64| -> u64 {
        args.get(i).and_then(|s| s.parse().ok()).unwrap_or(default)
    };
    let cache_mb = number(5, 64);
    let db = match sled::Config::new()
        .path(dir)
        .cache_capacity(cache_mb << 20)
        .open()
    {
        Ok(db) => db,
        Err(e) => {
            eprintln!("cannot open {dir}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let tree = db.open_tree("t").expect("open the tree");
    match mode.as_str() {
        "write" => {
            let entries = number(2, 1_000_000);
            let value = vec![7u8; number(3, 100) as usize];
            let scattered = args.get(4).map(String::as_str) == Some("scattered");
            let mut batch = sled::Batch::default();
            for i in 0..entries {
                // A multiplicative hash spreads the keys over the whole tree
                // as the index keys (GTIN, lot, serial...) fall.
                let key = if scattered {
                    i.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                } else {
                    i
                };
                batch.insert(&key.to_be_bytes()[..], &value[..]);
                if i % 1000 == 999 {
                    tree.apply_batch(std::mem::take(&mut batch)).expect("write");
                }
            }
            tree.apply_batch(batch).expect("write");
            db.flush().expect("flush");
            println!(
                "wrote {entries} entries of {} B, {}, cache {cache_mb} MB: resident {} MB, on disk {} MB",
                value.len(),
                if scattered { "scattered" } else { "ordered" },
                resident_mb(),
                db.size_on_disk().unwrap_or(0) / 1_000_000
            );
        }
        "open" => {
            let opened = resident_mb();
            let count = tree.iter().count();
            println!(
                "opened: resident {opened} MB; after reading all {count} entries: {} MB",
                resident_mb()
            );
        }
        _ => {
            eprintln!("{usage}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
