//! What sled 0.34.7 itself holds in memory, apart from scantrail: N
//! entries written into one tree in batches of 1,000 (as the committer
//! writes), with keys in order (as the journal's (origin, seq)) or
//! scattered (as the lot, serial, counterparty and document indexes), then
//! the same store opened again. It prints the resident memory after the
//! writes and after opening, so the store's layout can be chosen by what
//! sled keeps per entry and per write (BENCHMARKS.md, "What sled holds in
//! memory, and why").
//!
//! `movements` models what the site daemon writes under `scantrail-dev
//! loadtest --handhelds 50` (each scan a new serial, with a scan id), in
//! durable batches of 50 as its committer makes them: per movement a
//! journal entry, a by-serial posting and a serial state (each of 50
//! handhelds numbers its serials in order), a scan receipt and its
//! time-order entry (the 100,000th before it pruned: store schema 5's
//! receipts; schema 6 keeps them in a fixed ring instead, measured by the
//! soak, BENCHMARKS.md "Scan receipts in a ring"); per batch the chain
//! head and two hot postings (day, lot). A LAYOUT of `today`, or of
//! `+`-joined changes to try: `blocks` (the journal in one entry per 32
//! movements, each written once full), `rewritten-blocks` (the same,
//! the open block also written at the end of every batch, as the
//! committer does), `one-serial-entry` (the by-serial posting kept in the
//! serial state's entry), `unit-blocks` (units 32 to an entry, each
//! handheld's block rewritten as a unit joins it), `no-receipts`, `week-of-receipts` (none
//! pruned, as the daemon keeps a week's when a week holds more than
//! 100,000). It prints the resident memory every 500,000 movements: the
//! slope is what a layout costs the daemon per movement (BENCHMARKS.md,
//! "The soak").
//!
//! ```sh
//! cargo run --release --example sled_memory -- DIR write N VALUE_BYTES [ordered|scattered] [CACHE_MB]
//! cargo run --release --example sled_memory -- DIR open
//! cargo run --release --example sled_memory -- DIR movements N LAYOUT [CACHE_MB]
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
    let usage = "usage: sled_memory DIR write N VALUE_BYTES [ordered|scattered] [CACHE_MB] | DIR open | DIR movements N LAYOUT [CACHE_MB]";
    let (Some(dir), Some(mode)) = (args.first(), args.get(1)) else {
        eprintln!("{usage}");
        return ExitCode::FAILURE;
    };
    let number = |i: usize, default: u64| -> u64 {
        args.get(i).and_then(|s| s.parse().ok()).unwrap_or(default)
    };
    let cache_mb = number(if mode == "movements" { 4 } else { 5 }, 64);
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
        "movements" => {
            let layout = args.get(3).map_or("today", String::as_str);
            movements(&db, &tree, number(2, 1_000_000), layout);
            println!(
                "{layout}, cache {cache_mb} MB: resident {} MB, on disk {} MB",
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

/// The `movements` mode: see the top of this file.
fn movements(db: &sled::Db, tree: &sled::Tree, n: u64, layout: &str) {
    let has = |change: &str| layout.split('+').any(|c| c == change);
    let rewritten_blocks = has("rewritten-blocks");
    let blocks = has("blocks") || rewritten_blocks;
    let unit_blocks = has("unit-blocks");
    let (one_serial_entry, no_receipts, week_of_receipts) = (
        has("one-serial-entry") || unit_blocks,
        has("no-receipts"),
        has("week-of-receipts"),
    );
    const BATCH: u64 = 50;
    const HANDHELDS: u64 = 50;
    const KEPT_RECEIPTS: u64 = 100_000;
    let key = |prefix: u8, parts: &[&[u8]]| -> Vec<u8> {
        let mut k = vec![prefix];
        for p in parts {
            k.extend_from_slice(p);
        }
        k
    };
    let receipt_keys = |i: u64| {
        let (h, s) = (i % HANDHELDS, i / HANDHELDS);
        let receipt = format!("hh-{h:04}\0\x01H{h:04}x{s:07}abcd\0\x01").into_bytes();
        let order = key(0x31, &[&i.to_be_bytes(), &receipt]);
        (key(0x30, &[&receipt]), order)
    };
    let movement = vec![7u8; 400];
    let mut batch = sled::Batch::default();
    for i in 0..n {
        let serial = format!("H{:04}x{:07}abcd\0\x01", i % HANDHELDS, i / HANDHELDS);
        let gtin: &[u8] = b"09506000134352\0\x01";
        if !blocks {
            batch.insert(key(0x10, &[b"site\0\x01", &i.to_be_bytes()]), &movement[..]);
        } else if i % 32 == 31 || (rewritten_blocks && i % BATCH == BATCH - 1) {
            // The open block as it stands: full, or (as the committer
            // writes it) at the end of every batch that appends to it.
            batch.insert(
                key(0x10, &[b"site\0\x01", &(i - i % 32).to_be_bytes()]),
                movement.repeat((i % 32 + 1) as usize),
            );
        }
        if !one_serial_entry {
            batch.insert(
                key(
                    0x21,
                    &[gtin, serial.as_bytes(), b"site\0\x01", &i.to_be_bytes()],
                ),
                &[][..],
            );
        }
        if !unit_blocks {
            batch.insert(key(0x22, &[gtin, serial.as_bytes()]), &[1u8; 40][..]);
        } else {
            // This handheld's block of 32 serials as it stands, rewritten
            // with each unit added to it (once a batch: one scan of each
            // handheld a batch).
            let (h, s) = (i % HANDHELDS, i / HANDHELDS);
            let first = format!("H{h:04}x{:07}abcd\0\x01", s - s % 32);
            batch.insert(
                key(0x23, &[gtin, first.as_bytes()]),
                [1u8; 60].repeat((s % 32 + 1) as usize),
            );
        }
        if !no_receipts {
            let (receipt, order) = receipt_keys(i);
            batch.insert(receipt, &[2u8; 80][..]);
            batch.insert(order, &[][..]);
            if i >= KEPT_RECEIPTS && !week_of_receipts {
                let (receipt, order) = receipt_keys(i - KEPT_RECEIPTS);
                batch.remove(receipt);
                batch.remove(order);
            }
        }
        if i % BATCH == BATCH - 1 {
            for hot in [0x01u8, 0x20, 0x26] {
                batch.insert(vec![hot, 1, 2, 3], &[9u8; 120][..]);
            }
            tree.apply_batch(std::mem::take(&mut batch)).expect("write");
            db.flush().expect("flush");
        }
        if i % 500_000 == 499_999 {
            println!("{} movements: resident {} MB", i + 1, resident_mb());
        }
    }
    tree.apply_batch(batch).expect("write");
    db.flush().expect("flush");
}
