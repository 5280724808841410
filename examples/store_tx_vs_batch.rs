//! One sled tree with key prefixes and one `Batch`, against a multi-tree
//! transaction over one tree per logical tree: the same journal and derived
//! entries, applied and flushed per batch (no fsync, no committer), to pick
//! the store's atomic unit by measurement. Results in BENCHMARKS.md.
//!
//! `cargo run --release --example store_tx_vs_batch -- batch|tx`

use scantrail::dev::synthetic::synthetic_movement;
use scantrail::model::Movement;
use scantrail::store::{chain, derived, envelope::Stored, keys};
use sled::Transactional;
use std::time::Instant;

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let dir = tempfile::tempdir().unwrap();
    let db = sled::Config::new()
        .path(dir.path())
        .flush_every_ms(None)
        .open()
        .unwrap();
    let names = [0x10u8, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x01];
    let trees: Vec<sled::Tree> = names.iter().map(|n| db.open_tree([*n]).unwrap()).collect();
    let one = db.open_tree("journal").unwrap();
    let n = 50_000u64;
    let mut all: Vec<Vec<(Vec<u8>, Vec<u8>)>> = Vec::new();
    for i in 0..n {
        let body = synthetic_movement(i);
        let hash = chain::movement_hash("bench", i + 1, &scantrail::model::Hash::GENESIS, &body);
        let m = Movement {
            origin: "bench".into(),
            seq: i + 1,
            prev_hash: scantrail::model::Hash::GENESIS,
            body,
            hash,
        };
        // One key a movement, as the journal was when this was measured.
        let mut key = keys::journal("bench", 1);
        key.extend_from_slice(&(i + 1).to_be_bytes());
        let mut w = vec![(key, m.encode())];
        for k in derived::index_keys(&m) {
            w.push((k, vec![]));
        }
        let (bk, _, _) = derived::balance_delta(&m);
        w.push((bk, vec![0u8; 20]));
        all.push(w);
    }
    let second = all.split_off(all.len() / 2);
    for (batch, all) in [(16usize, &all), (128, &second)] {
        let t = Instant::now();
        for chunk in all.chunks(batch) {
            if mode == "tx" {
                trees
                    .as_slice()
                    .transaction(|tx| {
                        for w in chunk {
                            for (k, v) in w {
                                let i = names.iter().position(|p| *p == k[0]).unwrap_or(0);
                                tx[i].insert(k.as_slice(), v.as_slice())?;
                            }
                        }
                        tx[8].insert(b"head".as_slice(), b"x".as_slice())?;
                        Ok::<(), sled::transaction::ConflictableTransactionError<()>>(())
                    })
                    .unwrap();
            } else {
                let mut b = sled::Batch::default();
                for w in chunk {
                    for (k, v) in w {
                        b.insert(k.as_slice(), v.as_slice());
                    }
                }
                b.insert(b"\x01head".as_slice(), b"x".as_slice());
                one.apply_batch(b).unwrap();
            }
            db.flush().unwrap();
        }
        println!(
            "{} batch {batch}: {:.0} movements/s (apply + flush, no fsync)",
            if mode == "tx" {
                "multi-tree transaction"
            } else {
                "one tree, Batch"
            },
            all.len() as f64 / t.elapsed().as_secs_f64()
        );
    }
}
