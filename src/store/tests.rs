//! Store behaviour against a real sled store in a temporary directory.

use std::future::Future;

use chrono::NaiveDate;

use super::*;
use crate::model::movement::tests_support::sample;
use crate::model::{
    Kind, Movement, MovementId, NewRejection, Quantity, RefusalCode, SerialState, REJECTED_RAW_KEPT,
};

/// sled opened directly, as a test that damages a closed store does.
/// sled's helper threads can hold the lock for a moment after `drop`.
fn raw_sled(dir: &Path) -> sled::Db {
    for _ in 0..100 {
        match sled::Config::new().path(dir).flush_every_ms(None).open() {
            Ok(db) => return db,
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
        }
    }
    panic!("the store at {} stayed locked", dir.display());
}

fn create(dir: &Path) -> Store {
    Store::open(dir, OpenOptions::create("north".into())).unwrap()
}

#[test]
fn commits_are_stamped_chained_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = create(dir.path());
    let a = store.journal().commit(sample(1)).unwrap();
    let b = store.journal().commit(sample(2)).unwrap();
    assert_eq!((a.origin.as_str(), a.seq, b.seq), ("north", 1, 2));
    assert_eq!(a.prev_hash, crate::model::Hash::GENESIS);
    assert_eq!(b.prev_hash, a.hash);
    assert_eq!(
        store.journal().range("north", 1, 10).unwrap(),
        vec![a.clone(), b.clone()]
    );
    assert_eq!(store.journal().range("north", 2, 10).unwrap(), vec![b]);
    assert_eq!(
        store
            .view()
            .by_lot("09506000134352", "LOT42")
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        store.view().by_serial("09506000134352", "S000001").unwrap(),
        vec![a.id()]
    );
    let balances: Vec<_> = store
        .view()
        .lot_balances("09506000134352")
        .unwrap()
        .into_iter()
        .map(|b| (b.lot, b.location, b.unit, b.balance.mantissa))
        .collect();
    assert_eq!(
        balances,
        vec![("LOT42".into(), "A-01".into(), String::new(), 2)]
    );
    assert!(matches!(
        store
            .view()
            .serial_state("09506000134352", "S000002")
            .unwrap(),
        Some(SerialState::InStock { .. })
    ));
    let report = store.verify().unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
    assert_eq!(report.movements, 2);
}

#[test]
fn seqs_continue_after_reopen_and_concurrent_commits_are_gap_free() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = create(dir.path());
        store.journal().commit(sample(1)).unwrap();
    }
    let store =
        Arc::new(Store::open(dir.path(), OpenOptions::existing(Some("north".into()))).unwrap());
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                (0..25)
                    .map(|i| store.journal().commit(sample(t * 100 + i)).unwrap().seq)
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut seqs: Vec<u64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    seqs.sort();
    assert_eq!(seqs, (2..=201).collect::<Vec<_>>());
    assert!(store.verify().unwrap().is_ok());
    let (movements, batches) = store.commit_stats();
    assert_eq!(movements, 200);
    assert!(batches <= 200);
}

#[test]
fn async_commit_resolves_once_durable() {
    let dir = tempfile::tempdir().unwrap();
    let store = create(dir.path());
    let fut = store.journal().commit_async(sample(1));
    // A minimal executor: the reply slot wakes us; polling in a loop with a
    // no-op waker is enough for a test.
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    let mut fut = std::pin::pin!(fut);
    let m = loop {
        if let std::task::Poll::Ready(r) = fut.as_mut().poll(&mut cx) {
            break r.unwrap();
        }
        std::thread::yield_now();
    };
    assert_eq!(m.seq, 1);
}

#[test]
fn a_missing_store_is_reported_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nothing-here");
    let e = Store::open(&path, OpenOptions::existing(None))
        .err()
        .unwrap();
    assert!(matches!(e, StoreError::NoStore { .. }), "{e}");
    assert!(e.to_string().contains("there is no store at"), "{e}");
    assert!(!path.exists());
}

#[test]
fn another_sites_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(create(dir.path()));
    let e = Store::open(dir.path(), OpenOptions::existing(Some("south".into())))
        .err()
        .unwrap();
    assert!(e.to_string().contains("belongs to site `north`"), "{e}");
}

#[test]
fn a_store_in_use_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let _held = create(dir.path());
    // sled's lock is per process (fcntl-style flock on the db file is per
    // open file description, so a second open in this process conflicts too).
    match Store::open(dir.path(), OpenOptions::existing(None)) {
        Err(e) => assert!(
            e.to_string().contains("is in use by another process"),
            "{e}"
        ),
        Ok(_) => panic!("a second open of a locked store succeeded"),
    }
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(create(dir.path()));
    {
        let db = raw_sled(dir.path());
        let meta = db.open_tree(tree::META).unwrap();
        meta.insert(meta_key::SCHEMA, &(SCHEMA_VERSION + 1).to_be_bytes())
            .unwrap();
        db.flush().unwrap();
    }
    let e = Store::open(dir.path(), OpenOptions::existing(None))
        .err()
        .unwrap();
    assert!(
        matches!(e, StoreError::NewerSchema { found, .. } if found == SCHEMA_VERSION + 1),
        "{e}"
    );
    assert!(e.to_string().contains("upgrade scantrail"));
}

#[test]
fn a_lot_keeps_its_earliest_expiry_and_an_older_store_is_upgraded_by_reindex() {
    let dir = tempfile::tempdir().unwrap();
    let date = |d| NaiveDate::from_ymd_opt(2027, 3, d);
    {
        let store = create(dir.path());
        for (i, day) in [(1, 20), (2, 5), (3, 28)] {
            let mut m = sample(i);
            m.expiry = date(day);
            store.journal().commit(m).unwrap();
        }
        assert_eq!(
            store.view().lot_expiry("09506000134352", "LOT42").unwrap(),
            date(5)
        );
        assert_eq!(
            store.view().lot_expiry("09506000134352", "NOPE").unwrap(),
            None
        );
        assert!(store.verify().unwrap().is_ok());
    }
    // What a store of schema 1 looks like: no lot-expiry entries.
    {
        let db = raw_sled(dir.path());
        let meta = db.open_tree(tree::META).unwrap();
        meta.insert(meta_key::SCHEMA, &1u32.to_be_bytes()).unwrap();
        let j = db.open_tree(tree::JOURNAL).unwrap();
        j.remove(keys::lot_expiry("09506000134352", "LOT42"))
            .unwrap()
            .expect("the lot-expiry key layout changed");
        db.flush().unwrap();
    }
    let e = Store::open(dir.path(), OpenOptions::existing(None))
        .err()
        .unwrap();
    assert!(matches!(e, StoreError::OlderSchema { found: 1, .. }), "{e}");
    assert!(e.to_string().contains("scantrail reindex --data"), "{e}");
    {
        let options = OpenOptions {
            for_reindex: true,
            ..OpenOptions::existing(None)
        };
        let store = Store::open(dir.path(), options).unwrap();
        assert!(
            !store.verify().unwrap().is_ok(),
            "the missing expiry is a problem"
        );
        store.reindex().unwrap();
    }
    let store = Store::open(dir.path(), OpenOptions::existing(None)).unwrap();
    assert_eq!(
        store.view().lot_expiry("09506000134352", "LOT42").unwrap(),
        date(5)
    );
    assert!(store.verify().unwrap().is_ok());
    assert_eq!(store.journal().range("north", 1, 10).unwrap().len(), 3);
}

#[test]
fn a_schema_2_store_gets_its_corrections_index_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = create(dir.path());
        let receipt = store.journal().commit(sample(1)).unwrap();
        let mut undo = sample(1);
        undo.kind = Kind::Correction;
        undo.quantity = Quantity::Units(-1);
        undo.corrects = Some(receipt.id());
        store.journal().commit(undo).unwrap();
        assert_eq!(store.view().corrections_of("north", 1).unwrap().len(), 1);
    }
    // What a store of schema 2 looks like: no corrections index.
    {
        let db = raw_sled(dir.path());
        let meta = db.open_tree(tree::META).unwrap();
        meta.insert(meta_key::SCHEMA, &2u32.to_be_bytes()).unwrap();
        let j = db.open_tree(tree::JOURNAL).unwrap();
        let index: Vec<_> = j
            .scan_prefix([keys::prefix::CORRECTED_BY])
            .keys()
            .map(Result::unwrap)
            .collect();
        assert_eq!(index.len(), 1);
        j.remove(&index[0]).unwrap();
        db.flush().unwrap();
    }
    let store = Store::open(dir.path(), OpenOptions::existing(None)).unwrap();
    assert_eq!(
        store.view().corrections_of("north", 1).unwrap(),
        vec![MovementId {
            origin: "north".into(),
            seq: 2
        }]
    );
    assert!(store.verify().unwrap().is_clean());
    drop(store);
    let db = raw_sled(dir.path());
    let schema = db
        .open_tree(tree::META)
        .unwrap()
        .get(meta_key::SCHEMA)
        .unwrap();
    assert_eq!(schema.as_deref(), Some(&SCHEMA_VERSION.to_be_bytes()[..]));
}

/// Changes the units of a GTIN's first block of serial units (all of
/// them in these small stores) as `f` says, behind the store's back.
fn edit_units(j: &sled::Tree, gtin: &str, f: impl FnOnce(&mut Vec<(String, units::Unit)>)) {
    let key = units::block_key(gtin, "");
    let v = j
        .get(&key)
        .unwrap()
        .expect("the unit block key layout changed");
    let mut block = units::Block::decode(&v).unwrap();
    f(&mut block.units);
    j.insert(key, block.encode()).unwrap();
}

#[test]
fn verify_names_the_changed_movement_and_reindex_repairs_derived_trees() {
    let dir = tempfile::tempdir().unwrap();
    drop(five_movements(dir.path()));
    // Drop a derived entry: verify flags it, reindex repairs it.
    {
        let db = raw_sled(dir.path());
        let j = db.open_tree(tree::JOURNAL).unwrap();
        edit_units(&j, "09506000134352", |units| {
            units.retain(|(serial, _)| serial != "S000004");
        });
        db.flush().unwrap();
    }
    {
        let store = Store::open(dir.path(), OpenOptions::existing(None)).unwrap();
        verify_names_first(&store, 4);
        store.reindex().unwrap();
        assert!(store.verify().unwrap().is_ok());
    }
    // Flip a byte of movement 3's operator: the chain catches it.
    {
        let db = raw_sled(dir.path());
        let j = db.open_tree(tree::JOURNAL).unwrap();
        let key = keys::journal("north", 3);
        let mut v = j.get(&key).unwrap().unwrap().to_vec();
        let span = super::blocks::span(&v, 3).unwrap();
        let at = span.start + v[span].windows(3).position(|w| w == b"op7").unwrap();
        v[at] ^= 0x20;
        j.insert(&key, v).unwrap();
        db.flush().unwrap();
    }
    let store = Store::open(dir.path(), OpenOptions::existing(None)).unwrap();
    let report = store.verify().unwrap();
    assert_eq!(
        report.first_bad(),
        vec![("north".to_owned(), 3)],
        "{:?}",
        report.problems
    );
}

/// Lot totals are compared by their keys' hashes: a changed balance, a
/// missing expiry and a stray balance are each named by their key, and
/// reindex repairs them.
#[test]
fn verify_names_changed_missing_and_stray_lot_totals() {
    use crate::model::Balance;
    let dir = tempfile::tempdir().unwrap();
    drop(five_movements(dir.path()));
    {
        let db = raw_sled(dir.path());
        let j = db.open_tree(tree::JOURNAL).unwrap();
        let (held, _) = j
            .scan_prefix([keys::prefix::LOT_BALANCE])
            .next()
            .unwrap()
            .unwrap();
        let four = Balance {
            mantissa: 4,
            scale: 0,
        };
        j.insert(&held, four.encode()).unwrap();
        j.remove(keys::lot_expiry("09506000134352", "LOT42"))
            .unwrap();
        let stray = keys::lot_balance("09506000134352", "LOT99", "north", "A-01", "units");
        j.insert(stray, four.encode()).unwrap();
        db.flush().unwrap();
    }
    let store = Store::open(dir.path(), OpenOptions::existing(None)).unwrap();
    let report = store.verify().unwrap();
    let problems: Vec<String> = report.problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(report.problem_count, 3, "{problems:?}");
    for (starts, ends) in [
        (
            "lot balance 09506000134352 / LOT42 / north / A-01",
            "but the journal says Balance { mantissa: 5, scale: 0 }",
        ),
        (
            "expiry of lot 09506000134352 / LOT42",
            "is missing (run `scantrail reindex`)",
        ),
        ("lot balance 09506000134352 / LOT99", "has no movement"),
    ] {
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with(starts) && p.ends_with(ends)),
            "{starts} … {ends} in {problems:?}"
        );
    }
    store.reindex().unwrap();
    assert!(store.verify().unwrap().is_ok());
}

/// Serial states are checked unit by unit beside the by-serial walk: a
/// changed one, a missing one and one with no movement are each named, and
/// reindex repairs them.
#[test]
fn verify_names_changed_missing_and_stray_serial_states() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = five_movements(dir.path());
        assert!(store.verify().unwrap().is_ok());
    }
    {
        let db = raw_sled(dir.path());
        let j = db.open_tree(tree::JOURNAL).unwrap();
        // S000002 takes S000004's state (another location), S000004 goes,
        // and a unit never moved gets one.
        edit_units(&j, "09506000134352", |units| {
            let at = |units: &[(String, units::Unit)], s: &str| {
                units.iter().position(|(serial, _)| serial == s).unwrap()
            };
            let four = units.remove(at(units, "S000004")).1;
            let two = at(units, "S000002");
            units[two].1 = four.clone();
            units.push(("S999999".into(), four));
        });
        db.flush().unwrap();
    }
    let store = Store::open(dir.path(), OpenOptions::existing(None)).unwrap();
    let report = store.verify().unwrap();
    let problems: Vec<String> = report.problems.iter().map(|p| p.to_string()).collect();
    // Movements 2 and 4 lost their units' entries; S000002's and
    // S999999's entries list movement 4, which is not theirs; S000002's
    // state is not what its (listed) movements imply.
    for (seq, what) in [
        (2, "by serial entry is missing"),
        (4, "by serial entry is missing"),
        (4, "entry no movement explains"),
    ] {
        assert!(
            report
                .problems
                .iter()
                .any(|p| p.seq == Some(seq) && p.to_string().contains(what)),
            "no `{what}` at seq {seq} in {problems:#?}"
        );
    }
    assert!(
        problems
            .iter()
            .any(|p| p.contains("S000002") && p.contains("but the journal says")),
        "{problems:#?}"
    );
    store.reindex().unwrap();
    assert!(store.verify().unwrap().is_ok());
}

#[test]
fn rejections_chain_apart_from_movements() {
    let dir = tempfile::tempdir().unwrap();
    let store = create(dir.path());
    let r = NewRejection {
        code: "expired".into(),
        words: "expired on 2026-01-31".into(),
        station: "dispatch-1".into(),
        operator: "op1".into(),
        raw: b"]C1...".to_vec(),
        time: chrono::Utc::now(),
        raw_truncated: None,
    };
    let a = store.journal().reject(r.clone()).unwrap();
    store.journal().commit(sample(1)).unwrap();
    let b = store.journal().reject(r).unwrap();
    assert_eq!((a.seq, b.seq), (1, 2));
    assert_eq!(b.prev_hash, a.hash);
    assert_eq!(
        store
            .journal()
            .rejected_range("north", 1, 10)
            .unwrap()
            .len(),
        2
    );
    // reindex leaves the rejected log alone.
    store.reindex().unwrap();
    assert_eq!(
        store
            .journal()
            .rejected_range("north", 1, 10)
            .unwrap()
            .len(),
        2
    );
    assert!(store.verify().unwrap().is_ok());
}

fn refusal(raw: Vec<u8>) -> NewRejection {
    NewRejection {
        code: "unreadable".into(),
        words: "the scan cannot be read".into(),
        station: "dock-1".into(),
        operator: "op1".into(),
        raw,
        time: chrono::Utc::now(),
        raw_truncated: None,
    }
}

#[test]
fn a_long_refused_scan_keeps_a_bounded_prefix_its_length_and_hash() {
    use sha2::Digest;
    let dir = tempfile::tempdir().unwrap();
    let store = create(dir.path());
    let before = store.size_on_disk().unwrap();
    let garbage: Vec<u8> = (0..15_000_000u32).map(|i| (i % 251) as u8).collect();
    for _ in 0..5 {
        store.journal().reject(refusal(garbage.clone())).unwrap();
    }
    let exact = vec![b'x'; REJECTED_RAW_KEPT];
    store.journal().reject(refusal(exact.clone())).unwrap();
    let grown = store.size_on_disk().unwrap() - before;
    assert!(
        grown < 5_000_000,
        "five 15 MB refusals grew the store by {grown} bytes"
    );

    let stored = store.journal().rejected_range("north", 1, 10).unwrap();
    assert_eq!(stored.len(), 6);
    for r in &stored[..5] {
        assert_eq!(r.body.raw, garbage[..REJECTED_RAW_KEPT]);
        let t = r.body.raw_truncated.as_ref().expect("marked as truncated");
        assert_eq!(t.len, 15_000_000);
        assert_eq!(t.sha256.0, <[u8; 32]>::from(sha2::Sha256::digest(&garbage)));
    }
    // A scan of exactly the kept size is whole, and not marked.
    assert_eq!(stored[5].body.raw, exact);
    assert_eq!(stored[5].body.raw_truncated, None);
    let report = store.verify().unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
    assert_eq!((report.rejections, report.truncated_rejections), (6, 5));

    // The truncation is covered by the chain hash.
    let mut forged = stored[0].clone();
    forged.body.raw_truncated.as_mut().unwrap().len = 16;
    assert_ne!(chain::recompute_rejection(&forged), forged.hash);
}

#[test]
fn rejections_written_before_truncation_still_decode_and_verify() {
    use movement::rejection_v1::{NewRejectionV1, RejectionV1};
    use sha2::Digest;
    let dir = tempfile::tempdir().unwrap();
    let mut prev = crate::model::Hash::GENESIS;
    let mut old = Vec::new();
    for seq in 1..=2u64 {
        let body = NewRejectionV1 {
            code: "expired".into(),
            words: "expired on 2026-01-31".into(),
            station: "dispatch-1".into(),
            operator: "op1".into(),
            // Long scans were stored whole then: they must stay readable.
            raw: vec![b'g'; 10_000 * seq as usize],
            time: chrono::Utc::now(),
        };
        // The hash as the previous release computed it, written out here so
        // that a change of `chain.rs` cannot hide a break.
        let bytes = postcard::to_stdvec(&("north", seq, &prev, &body)).unwrap();
        let hash = crate::model::Hash(sha2::Sha256::digest(&bytes).into());
        old.push(RejectionV1 {
            origin: "north".into(),
            seq,
            prev_hash: prev,
            body,
            hash,
        });
        prev = hash;
    }
    {
        let store = create(dir.path());
        let journal = store.trees().unwrap().journal.clone();
        for r in &old {
            // Envelope V1: variant index 0, then the V1 layout.
            let mut value = vec![0u8];
            value.extend(postcard::to_stdvec(r).unwrap());
            journal
                .insert(keys::rejected("north", r.seq), value)
                .unwrap();
        }
        let head = envelope::Head { seq: 2, hash: prev };
        journal
            .insert(keys::rejected_head("north"), head.encode())
            .unwrap();
        store.trees().unwrap().db.flush().unwrap();
    }
    let store = Store::open(dir.path(), OpenOptions::existing(Some("north".into()))).unwrap();
    let read = store.journal().rejected_range("north", 1, 10).unwrap();
    assert_eq!(read.len(), 2);
    for (r, v1) in read.iter().zip(&old) {
        assert_eq!(r.body.raw, v1.body.raw);
        assert_eq!(r.body.raw_truncated, None);
        assert_eq!(chain::recompute_rejection(r), v1.hash);
    }
    // New entries chain on, written as V2.
    let next = store.journal().reject(refusal(vec![b'z'; 50_000])).unwrap();
    assert_eq!((next.seq, next.prev_hash), (3, prev));
    let bytes = store
        .trees()
        .unwrap()
        .journal
        .get(keys::rejected("north", 3))
        .unwrap()
        .unwrap();
    assert_eq!(bytes[0], 1, "V2 is variant 1");
    let report = store.verify().unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
    assert_eq!((report.rejections, report.truncated_rejections), (3, 1));
}

/// A batch whose requesters were told it failed, though it reached the
/// disk (its write went through, its fsync did not): the reopen takes it
/// out again, derived entries included, so its seqs go to the next
/// commits.
#[test]
fn a_reopen_takes_out_what_was_not_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let store = create(dir.path());
    let acked = store.journal().commit(sample(1)).unwrap();
    let rejected = store.journal().reject(refusal(b"junk".to_vec())).unwrap();
    for i in 2..=4 {
        store.journal().commit(sample(i)).unwrap();
    }
    store
        .journal()
        .reject(refusal(b"more junk".to_vec()))
        .unwrap();
    let head = envelope::Head {
        seq: acked.seq,
        hash: acked.hash,
    };
    let rejected_head = envelope::Head {
        seq: rejected.seq,
        hash: rejected.hash,
    };
    store
        .committer()
        .exclusive(move |sink| sink.reopen("north", head, rejected_head))
        .unwrap();
    assert_eq!(store.journal().head("north").unwrap(), head);
    assert_eq!(store.journal().range("north", 1, 10).unwrap(), vec![acked]);
    assert_eq!(
        store
            .journal()
            .rejected_range("north", 1, 10)
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store
            .view()
            .by_lot("09506000134352", "LOT42")
            .unwrap()
            .len(),
        1
    );
    assert!(store
        .view()
        .serial_state("09506000134352", "S000002")
        .unwrap()
        .is_none());
    let report = store.verify().unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
    drop(store);

    let store = Store::open(dir.path(), OpenOptions::existing(Some("north".into()))).unwrap();
    let next = store.journal().commit(sample(9)).unwrap();
    assert_eq!((next.seq, next.prev_hash), (2, head.hash));
    assert!(store.verify().unwrap().is_ok());
}

/// A reader still holding the old opening (a long report) keeps sled's
/// lock: the reopen fails as "in use", other readers get a clear error
/// meanwhile, and the next attempt after the reader is done works.
#[test]
fn a_reopen_waits_for_readers_of_the_old_opening() {
    let dir = tempfile::tempdir().unwrap();
    let store = create(dir.path());
    let m = store.journal().commit(sample(1)).unwrap();
    let head = envelope::Head {
        seq: m.seq,
        hash: m.hash,
    };
    let none = envelope::Head {
        seq: 0,
        hash: crate::model::Hash::GENESIS,
    };
    let mut report = store.view().serial_states(None);
    assert!(report.next().is_some());
    let e = store
        .committer()
        .exclusive(move |sink| sink.reopen("north", head, none))
        .unwrap_err();
    assert!(matches!(e, StoreError::InUse { .. }), "{e}");
    let e = store.journal().movement("north", 1).unwrap_err();
    assert!(matches!(e, StoreError::Reopening { .. }), "{e}");
    assert!(e.to_string().contains("try again in a moment"), "{e}");
    drop(report);
    store
        .committer()
        .exclusive(move |sink| sink.reopen("north", head, none))
        .unwrap();
    assert_eq!(store.journal().movement("north", 1).unwrap(), Some(m));
    assert_eq!(store.journal().commit(sample(2)).unwrap().seq, 2);
}

/// A fresh opening between two batches (`refresh`) keeps everything; a
/// reader holding the opening (a report half-way) puts it off rather than
/// being cut off.
#[test]
fn a_refresh_keeps_everything_and_waits_for_readers() {
    let dir = tempfile::tempdir().unwrap();
    let store = create(dir.path());
    let m = store.journal().commit(sample(1)).unwrap();
    let mut report = store.view().serial_states(None);
    assert!(report.next().is_some());
    assert!(!store
        .committer()
        .exclusive(|sink| sink.refresh(std::time::Duration::ZERO))
        .unwrap());
    assert_eq!(
        store.journal().movement("north", 1).unwrap(),
        Some(m.clone())
    );
    drop(report);
    assert!(store
        .committer()
        .exclusive(|sink| sink.refresh(std::time::Duration::ZERO))
        .unwrap());
    assert_eq!(store.journal().movement("north", 1).unwrap(), Some(m));
    assert_eq!(store.journal().commit(sample(2)).unwrap().seq, 2);
    assert!(store.verify().unwrap().is_ok());
}

/// Threads that read in a loop until stopped, as the desk and reports do
/// while the committer works.
struct Readers {
    stop: Arc<std::sync::atomic::AtomicBool>,
    threads: Vec<std::thread::JoinHandle<u64>>,
}

impl Readers {
    /// `n` threads calling `read(thread index)`, with `gap` between reads.
    fn start(
        n: usize,
        gap: std::time::Duration,
        read: impl Fn(usize) + Send + Sync + 'static,
    ) -> Readers {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let read = Arc::new(read);
        let threads = (0..n)
            .map(|i| {
                let (stop, read) = (stop.clone(), read.clone());
                std::thread::spawn(move || {
                    let mut reads = 0;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        read(i);
                        reads += 1;
                        std::thread::sleep(gap);
                    }
                    reads
                })
            })
            .collect();
        Readers { stop, threads }
    }

    /// Stops them; panics if one did (its assertion failed) or never read.
    fn stop(self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for thread in self.threads {
            assert!(thread.join().unwrap() > 0, "a reader never read");
        }
    }
}

/// Writers and readers at full speed while the committer reopens the
/// store every few batches: every acknowledged movement is there, seqs
/// have no gap, and no reader is ever refused (they wait out a reopening),
/// whether it reads the journal, a report or a side tree.
#[test]
fn refreshes_under_load_lose_nothing_and_refuse_no_reader() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        Store::open(
            dir.path(),
            OpenOptions {
                refresh: Some(refresh::Refresh {
                    after_movements: 40,
                    patience: std::time::Duration::ZERO,
                }),
                ..OpenOptions::create("north".into())
            },
        )
        .unwrap(),
    );
    let first = store.journal().commit(sample(0)).unwrap();
    store
        .records()
        .save_station_context("dock-1", b"ctx", true)
        .unwrap();
    // Gaps between reads, as at a real site; without any a refresh holds
    // readers off (the test below).
    let readers = Readers::start(4, std::time::Duration::from_millis(1), {
        let store = store.clone();
        move |r| match r {
            0 => assert_eq!(
                store.journal().movement("north", 1).unwrap(),
                Some(first.clone())
            ),
            1 => {
                for state in store.view().serial_states(None) {
                    state.unwrap();
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            2 => assert_eq!(
                store.records().station_contexts().unwrap(),
                vec![("dock-1".to_owned(), b"ctx".to_vec())]
            ),
            _ => assert!(!store
                .view()
                .by_lot("09506000134352", "LOT42")
                .unwrap()
                .is_empty()),
        }
    });
    let writers: Vec<_> = (0..8)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                (0..200)
                    .map(|i| store.journal().commit(sample(1 + t * 200 + i)).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let committed: Vec<Movement> = writers
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    readers.stop();
    let mut seqs: Vec<u64> = committed.iter().map(|m| m.seq).collect();
    seqs.sort();
    assert_eq!(seqs, (2..=1601).collect::<Vec<_>>());
    for m in &committed {
        assert_eq!(
            store.journal().movement("north", m.seq).unwrap().as_ref(),
            Some(m)
        );
    }
    eprintln!("{} refreshes under load", store.refreshes());
    assert!(store.refreshes() >= 3, "{} refreshes", store.refreshes());
    let report = store.verify().unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
}

/// Readers in a loop without a gap hold the opening nearly all the time:
/// a refresh that holds new readers off for a moment gets in, and they
/// carry on.
#[test]
fn a_refresh_holds_off_readers_in_a_tight_loop() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(create(dir.path()));
    let m = store.journal().commit(sample(1)).unwrap();
    let readers = Readers::start(2, std::time::Duration::ZERO, {
        let store = store.clone();
        move |_| {
            assert_eq!(
                store.journal().movement("north", 1).unwrap().as_ref(),
                Some(&m)
            )
        }
    });
    let hold = std::time::Duration::from_millis(100);
    for _ in 0..5 {
        assert!(store
            .committer()
            .exclusive(move |sink| sink.refresh(hold))
            .unwrap());
    }
    readers.stop();
    assert_eq!(store.journal().commit(sample(2)).unwrap().seq, 2);
}

#[test]
fn backup_is_a_verifiable_copy() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("copy");
    let store = create(&dir.path().join("live"));
    for i in 1..=20 {
        store.journal().commit(sample(i)).unwrap();
    }
    store
        .outbox()
        .set_position(OutboxPosition {
            acked_seq: 7,
            acked_hash: crate::model::Hash([1; 32]),
        })
        .unwrap();
    store.backup(&dest).unwrap();
    let e = store.backup(&dest).err().unwrap();
    assert!(matches!(e, StoreError::BackupDestination { .. }), "{e}");
    let copy = Store::open(&dest, OpenOptions::existing(Some("north".into()))).unwrap();
    assert!(copy.verify().unwrap().is_ok());
    assert_eq!(
        copy.journal().range("north", 1, 100).unwrap(),
        store.journal().range("north", 1, 100).unwrap()
    );
    assert_eq!(copy.outbox().position().unwrap().unwrap().acked_seq, 7);
    // The copy continues the chain.
    assert_eq!(copy.journal().commit(sample(99)).unwrap().seq, 21);
}

#[test]
fn reference_deltas_apply_once_with_their_watermark() {
    use crate::model::Reference;
    let dir = tempfile::tempdir().unwrap();
    let store = create(dir.path());
    assert_eq!(store.reference().watermark(Reference::Holds).unwrap(), 0);
    assert!(store
        .reference()
        .apply(
            Reference::Holds,
            3,
            vec![(b"lot".to_vec(), b"held".to_vec())],
            vec![]
        )
        .unwrap());
    assert!(!store
        .reference()
        .apply(Reference::Holds, 3, vec![], vec![b"lot".to_vec()])
        .unwrap());
    assert_eq!(store.reference().watermark(Reference::Holds).unwrap(), 3);
    assert_eq!(
        store
            .reference()
            .get(Reference::Holds, b"lot")
            .unwrap()
            .unwrap(),
        b"held"
    );
}

#[test]
fn a_correction_undoes_the_serial_state_of_what_it_corrects() {
    let dir = tempfile::tempdir().unwrap();
    let store = create(dir.path());
    let receipt = store.journal().commit(sample(1)).unwrap();
    let mut dispatch = sample(1);
    dispatch.kind = Kind::Dispatch;
    dispatch.device_time += chrono::Duration::seconds(1);
    let dispatch = store.journal().commit(dispatch).unwrap();
    let undo = |original: &Movement, seconds: i64| {
        let mut c = sample(1);
        c.kind = Kind::Correction;
        c.corrects = Some(original.id());
        c.device_time = original.body.device_time + chrono::Duration::seconds(seconds);
        c
    };
    let state = || {
        store
            .view()
            .serial_state("09506000134352", "S000001")
            .unwrap()
    };
    store.journal().commit(undo(&dispatch, 1)).unwrap();
    assert!(
        matches!(state(), Some(SerialState::InStock { .. })),
        "{:?}",
        state()
    );
    store.journal().commit(undo(&receipt, 10)).unwrap();
    assert!(
        matches!(state(), Some(SerialState::Voided { .. })),
        "{:?}",
        state()
    );
    // Rebuilding from the journal reaches the same state, and verify agrees.
    assert!(store.verify().unwrap().is_ok());
    store.reindex().unwrap();
    assert!(matches!(state(), Some(SerialState::Voided { .. })));
}

#[test]
fn io_errors_say_what_to_do() {
    let p = Path::new("/srv/scantrail/data");
    let full = StoreError::io(p, "write a batch", std::io::Error::from_raw_os_error(28));
    assert!(
        full.to_string()
            .contains("disk holding /srv/scantrail/data is full"),
        "{full}"
    );
    let ro = StoreError::io(
        p,
        "create the store directory",
        std::io::Error::from_raw_os_error(30),
    );
    assert!(ro.to_string().contains("read-only"), "{ro}");
    // Each requester of a failed batch gets the disk-full advice too.
    assert!(matches!(full.to_failed(p), StoreError::DiskFull { .. }));
    // sled hands out copies of its I/O errors with the kind but no OS code.
    let copied = std::io::Error::new(
        std::io::ErrorKind::StorageFull,
        "Os { code: 28, kind: StorageFull, message: \"No space left on device\" }",
    );
    let full = StoreError::io(p, "flush", copied);
    assert!(matches!(full, StoreError::DiskFull { .. }), "{full}");
    // The person at the scanner gets plain words; the log gets the rest.
    assert_eq!(
        full.plain(),
        (RefusalCode::DiskFull, "the site's disk is full; tell IT")
    );
    assert!(
        full.to_string().contains("No space left on device"),
        "{full}"
    );
    let io = StoreError::io(p, "flush", std::io::Error::from_raw_os_error(5));
    assert_eq!(io.plain().0, "store_error");
    assert!(!io.plain().1.contains("os error"), "{:?}", io.plain());
}

#[test]
fn a_directory_that_is_not_a_store_is_not_taken_for_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "hello").unwrap();
    let e = Store::open(dir.path(), OpenOptions::existing(None))
        .err()
        .unwrap();
    assert!(matches!(e, StoreError::NoStore { .. }), "{e}");
    // A plain file where the store should be: a clear error, no panic.
    let file = dir.path().join("notes.txt");
    let e = Store::open(&file, OpenOptions::create("north".into()))
        .err()
        .unwrap();
    assert!(e.to_string().contains("notes.txt"), "{e}");
}

/// Whether `store` holds a receipt for `device`'s scan `scan_id`.
fn has_receipt(store: &Store, device: &str, scan_id: &str) -> bool {
    store
        .journal()
        .scan_receipt(device, scan_id)
        .unwrap()
        .is_some()
}

/// Commits `sample(i)` with a receipt for scan id `s{i}` of "hh-1".
fn commit_with_receipt(store: &Store, i: u64) -> Movement {
    use super::scan_receipts::ScanReceipt;
    let receipt = ScanReceipt {
        device: "hh-1".into(),
        scan_id: format!("s{i}"),
        body: [i as u8; 32],
        extra: Vec::new(),
    };
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(
            store
                .journal()
                .commit_with_receipt(sample(i), Some(receipt)),
        )
        .unwrap()
}

#[test]
fn scan_receipts_take_a_fixed_number_of_entries_and_the_oldest_go_past_the_most() {
    use super::scan_receipts::{Keep, Outcome, Ring};
    let dir = tempfile::tempdir().unwrap();
    let entries = |store: &Store| {
        store
            .trees()
            .unwrap()
            .journal
            .scan_prefix([keys::prefix::SCAN_RECEIPT_SLOT])
            .count()
    };
    {
        let store = Store::open(
            dir.path(),
            OpenOptions {
                receipts: Keep {
                    newest: 3,
                    days: 7,
                    most: 3,
                },
                ..OpenOptions::create("north".into())
            },
        )
        .unwrap();
        // A ring of four slots, so that forty receipts share them.
        store
            .trees()
            .unwrap()
            .journal
            .insert(super::scan_receipts::ring_key(), Ring::new(4).entry().1)
            .unwrap();
        let mut ids = Vec::new();
        for i in 1..=40 {
            ids.push(commit_with_receipt(&store, i).id());
        }
        assert!(entries(&store) <= 4, "{} slots", entries(&store));
        let held = |i: u64| {
            store
                .journal()
                .scan_receipt("hh-1", &format!("s{i}"))
                .unwrap()
        };
        // The newest three are always there, with their movements.
        for i in 38..=40 {
            let r = held(i).unwrap();
            assert_eq!(r.outcome, Outcome::Accepted(ids[i as usize - 1].clone()));
            assert_eq!(r.body, [i as u8; 32]);
        }
        // Of the older ones, only those whose slot was not written since
        // they fell out are left; a slot's last write kept at most three.
        assert!((1..=37).filter(|&i| held(i).is_some()).count() <= 4 * 3 - 3);
    }
    // After a restart the ring is the same one: the receipts are found.
    let store = Store::open(dir.path(), OpenOptions::existing(Some("north".into()))).unwrap();
    assert!(has_receipt(&store, "hh-1", "s40"));
    assert!(!has_receipt(&store, "hh-2", "s40"));
    assert_eq!(store.journal().range("north", 1, 100).unwrap().len(), 40);
    assert!(store.verify().unwrap().is_ok());
}

#[test]
fn schema_5_scan_receipts_are_moved_into_the_ring_when_opened() {
    use super::scan_receipts::{Outcome, StoredReceipt};
    let dir = tempfile::tempdir().unwrap();
    let ids: Vec<MovementId> = {
        let store = create(dir.path());
        (1..=3)
            .map(|i| store.journal().commit(sample(i)).unwrap().id())
            .collect()
    };
    // Schema 5's layout: a receipt entry each, an order entry beside all
    // but the oldest (an early release wrote none), and one unreadable.
    let now = chrono::Utc::now().timestamp_nanos_opt().unwrap() as u64;
    {
        let db = raw_sled(dir.path());
        let j = db.open_tree(tree::JOURNAL).unwrap();
        let receipt_key = |id: &str| {
            keys::Key::new(keys::prefix::SCAN_RECEIPT_V5)
                .str("hh-1")
                .str(id)
                .into_vec()
        };
        for (n, id) in ids.iter().enumerate() {
            let stored = StoredReceipt {
                body: [n as u8; 32],
                outcome: Outcome::Accepted(id.clone()),
                extra: b"warned".to_vec(),
            };
            let mut v = vec![1];
            v.extend(postcard::to_stdvec(&stored).unwrap());
            j.insert(receipt_key(&format!("s{n}")), v).unwrap();
            if n > 0 {
                let order = keys::Key::new(keys::prefix::SCAN_RECEIPT_ORDER_V5)
                    .u64(now + n as u64)
                    .str("hh-1")
                    .str(&format!("s{n}"))
                    .into_vec();
                j.insert(order, &[][..]).unwrap();
            }
        }
        j.insert(receipt_key("garbled"), &b"\x09nonsense"[..])
            .unwrap();
        db.open_tree(tree::META)
            .unwrap()
            .insert(meta_key::SCHEMA, &5u32.to_be_bytes())
            .unwrap();
        db.flush().unwrap();
    }
    let store = Store::open(dir.path(), OpenOptions::existing(Some("north".into()))).unwrap();
    for (n, id) in ids.iter().enumerate() {
        let r = store
            .journal()
            .scan_receipt("hh-1", &format!("s{n}"))
            .unwrap()
            .unwrap_or_else(|| panic!("s{n} was not moved"));
        assert_eq!(r.outcome, Outcome::Accepted(id.clone()));
        assert_eq!(
            (r.body, r.extra.as_slice()),
            ([n as u8; 32], &b"warned"[..])
        );
    }
    assert!(!has_receipt(&store, "hh-1", "garbled"));
    let j = &store.trees().unwrap().journal;
    for old in [
        keys::prefix::SCAN_RECEIPT_V5,
        keys::prefix::SCAN_RECEIPT_ORDER_V5,
    ] {
        assert_eq!(
            j.scan_prefix([old]).count(),
            0,
            "{}",
            keys::prefix::name(old)
        );
    }
    let schema = store
        .trees()
        .unwrap()
        .meta
        .get(meta_key::SCHEMA)
        .unwrap()
        .unwrap();
    assert_eq!(schema.as_ref(), &SCHEMA_VERSION.to_be_bytes());
    // New receipts number on from the moved ones.
    commit_with_receipt(&store, 9);
    assert!(has_receipt(&store, "hh-1", "s9"));
    assert!(has_receipt(&store, "hh-1", "s1"));
    assert!(store.verify().unwrap().is_ok());
}

#[test]
fn a_damaged_posting_names_the_movements_it_lost_and_reindex_repairs_it() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = five_movements(dir.path());
        // One lot, five movements: one by-lot posting lists them all.
        assert_eq!(
            store
                .view()
                .by_lot("09506000134352", "LOT42")
                .unwrap()
                .len(),
            5
        );
    }
    {
        let db = raw_sled(dir.path());
        let j = db.open_tree(tree::JOURNAL).unwrap();
        let postings: Vec<_> = j
            .scan_prefix(keys::lot_range("09506000134352", "LOT42"))
            .map(Result::unwrap)
            .collect();
        assert_eq!(postings.len(), 1, "one posting for the lot");
        let (k, v) = &postings[0];
        assert_eq!(v.len(), 4, "four steps of one byte after seq 1");
        // Cut after seq 3: seqs 4 and 5 lose their by-lot entry.
        j.insert(k, &v[..2]).unwrap();
        db.flush().unwrap();
    }
    {
        let store = Store::open(dir.path(), OpenOptions::existing(None)).unwrap();
        let said = verify_names_first(&store, 4);
        assert!(said.contains("by lot entry is missing"), "{said}");
        assert_eq!(
            store
                .view()
                .by_lot("09506000134352", "LOT42")
                .unwrap()
                .len(),
            3
        );
        store.reindex().unwrap();
        assert!(store.verify().unwrap().is_clean());
        assert_eq!(
            store
                .view()
                .by_lot("09506000134352", "LOT42")
                .unwrap()
                .len(),
            5
        );
    }
}

/// Verifies the store, checks that `seq` of "north" is the first movement
/// it names, and returns its problems in words.
fn verify_names_first(store: &Store, seq: u64) -> String {
    let report = store.verify().unwrap();
    assert_eq!(
        report.first_bad(),
        vec![("north".to_owned(), seq)],
        "{:?}",
        report.problems
    );
    format!("{:?}", report.problems)
}

/// A new store of "north" holding `sample(1..=5)`: one lot, five serials.
fn five_movements(dir: &Path) -> Store {
    let store = create(dir);
    for i in 1..=5 {
        store.journal().commit(sample(i)).unwrap();
    }
    store
}

/// Rewrites a closed store's journal in the layout of schemas 2 to 4 (one
/// entry a movement under `JOURNAL_V4`) and stamps schema 4; returns the
/// old entries' keys, in order.
fn to_schema_4(dir: &Path) -> Vec<Vec<u8>> {
    let db = raw_sled(dir);
    let j = db.open_tree(tree::JOURNAL).unwrap();
    let mut old = Vec::new();
    for item in j.scan_prefix([keys::prefix::JOURNAL]) {
        let (k, v) = item.unwrap();
        let mut r = keys::KeyReader::new(&k);
        let (origin, first) = (r.str().unwrap(), r.u64().unwrap());
        for entry in blocks::entries(&v, first) {
            let (seq, bytes) = entry.unwrap();
            let key = keys::Key::new(keys::prefix::JOURNAL_V4)
                .id(&origin, seq)
                .into_vec();
            j.insert(&key, bytes).unwrap();
            old.push(key);
        }
        j.remove(k).unwrap();
    }
    db.open_tree(tree::META)
        .unwrap()
        .insert(meta_key::SCHEMA, &4u32.to_be_bytes())
        .unwrap();
    db.flush().unwrap();
    old
}

fn seventy_movements(dir: &Path) -> Vec<Movement> {
    let store = create(dir);
    for i in 1..=70 {
        store.journal().commit(sample(i)).unwrap();
    }
    store.journal().range("north", 1, 100).unwrap()
}

#[test]
fn a_schema_4_journal_is_moved_into_blocks_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let before = seventy_movements(dir.path());
    assert_eq!(to_schema_4(dir.path()).len(), 70);
    let store = Store::open(dir.path(), OpenOptions::existing(None)).unwrap();
    assert_eq!(store.journal().range("north", 1, 100).unwrap(), before);
    assert_eq!(
        store.journal().range("north", 30, 5).unwrap(),
        before[29..34]
    );
    assert_eq!(
        store.journal().movement("north", 33).unwrap().as_ref(),
        Some(&before[32])
    );
    let report = store.verify().unwrap();
    assert!(report.is_clean(), "{:?}", report.problems);
    // The old layout is gone; commits go on from the old head, into the
    // last block.
    let j = &store.trees().unwrap().journal;
    assert_eq!(j.scan_prefix([keys::prefix::JOURNAL_V4]).count(), 0);
    assert_eq!(j.scan_prefix([keys::prefix::JOURNAL]).count(), 3);
    let next = store.journal().commit(sample(71)).unwrap();
    assert_eq!((next.seq, next.prev_hash), (71, before[69].hash));
    assert_eq!(j.scan_prefix([keys::prefix::JOURNAL]).count(), 3);
    assert!(store.verify().unwrap().is_clean());
}

#[test]
fn a_move_into_blocks_cut_short_goes_on_at_the_next_open() {
    let dir = tempfile::tempdir().unwrap();
    let before = seventy_movements(dir.path());
    let old = to_schema_4(dir.path());
    {
        // What a move cut short after its first sled batch leaves: the
        // first block written, its old entries gone, schema still 4.
        let db = raw_sled(dir.path());
        let j = db.open_tree(tree::JOURNAL).unwrap();
        let mut block = Vec::new();
        let mut batch = sled::Batch::default();
        for key in &old[..32] {
            blocks::push(&mut block, &j.get(key).unwrap().unwrap());
            batch.remove(key.clone());
        }
        batch.insert(keys::journal("north", 1), block);
        j.apply_batch(batch).unwrap();
        db.flush().unwrap();
    }
    let store = Store::open(dir.path(), OpenOptions::existing(None)).unwrap();
    assert_eq!(store.journal().range("north", 1, 100).unwrap(), before);
    assert!(store.verify().unwrap().is_clean());
}

#[test]
fn a_movement_missing_inside_a_block_stops_the_move_before_it_writes() {
    let dir = tempfile::tempdir().unwrap();
    seventy_movements(dir.path());
    let old = to_schema_4(dir.path());
    {
        let db = raw_sled(dir.path());
        db.open_tree(tree::JOURNAL)
            .unwrap()
            .remove(&old[4])
            .unwrap();
        db.flush().unwrap();
    }
    let e = Store::open(dir.path(), OpenOptions::existing(None))
        .err()
        .unwrap();
    let said = e.to_string();
    assert!(said.contains("north seq 5 is missing"), "{said}");
    assert!(said.contains("scantrail restore"), "{said}");
    // Nothing was moved: the other 69 movements are where they were.
    let db = raw_sled(dir.path());
    let j = db.open_tree(tree::JOURNAL).unwrap();
    assert_eq!(j.scan_prefix([keys::prefix::JOURNAL_V4]).count(), 69);
    assert_eq!(j.scan_prefix([keys::prefix::JOURNAL]).count(), 0);
}

#[test]
fn a_reopen_cuts_the_journal_back_across_blocks() {
    for acked in [30u64, 32, 33] {
        let dir = tempfile::tempdir().unwrap();
        let all = seventy_movements(dir.path());
        let store = Store::open(dir.path(), OpenOptions::existing(None)).unwrap();
        let head = envelope::Head {
            seq: acked,
            hash: all[acked as usize - 1].hash,
        };
        let rejections = store
            .journal()
            .log_head("north", crate::model::Log::Rejections)
            .unwrap();
        store
            .committer()
            .exclusive(move |sink| sink.reopen("north", head, rejections))
            .unwrap();
        let held = store.journal().range("north", 1, 100).unwrap();
        assert_eq!(held, all[..acked as usize], "acked {acked}");
        let report = store.verify().unwrap();
        assert!(report.is_clean(), "acked {acked}: {:?}", report.problems);
        // (The committer here still counts from 70: it was not the one
        // that failed. A fresh opening counts from the disk.)
        drop(store);
        let store = Store::open(dir.path(), OpenOptions::existing(None)).unwrap();
        let next = store.journal().commit(sample(99)).unwrap();
        assert_eq!((next.seq, next.prev_hash), (acked + 1, head.hash));
        assert!(store.verify().unwrap().is_clean(), "acked {acked}");
    }
}

#[test]
fn a_block_of_units_reads_back_as_written() {
    let mut u = units::Unit::default();
    u.push("north", 7);
    u.push("south", 2);
    let block = units::Block {
        units: vec![("S1".into(), u.clone()), ("S2".into(), u)],
    };
    assert_eq!(units::Block::decode(&block.encode()).unwrap(), block);
}

#[test]
fn movements_by_id_come_back_in_the_order_asked_and_skip_what_is_not_held() {
    let dir = tempfile::tempdir().unwrap();
    let all = seventy_movements(dir.path());
    let store = Store::open(dir.path(), OpenOptions::existing(None)).unwrap();
    let id = |seq| MovementId {
        origin: "north".into(),
        seq,
    };
    let got = store
        .journal()
        .movements(&[id(3), id(5), id(40), id(2), id(999), id(70)])
        .unwrap();
    let seqs: Vec<u64> = got.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, [3, 5, 40, 2, 70]);
    assert_eq!(got[2], all[39]);
}
