//! Durable commits through the group committer, sled against SQLite (WAL,
//! synchronous=FULL) storing the same entries through the same committer,
//! with 1, 16 and 256 concurrent writers. One criterion "iteration" is one
//! durable commit, so the reported time is the inverse of throughput.
//! Bigger runs (latency percentiles, 1M movements): `examples/store_bench.rs`.

#[path = "support/load.rs"]
#[allow(dead_code)] // shared with examples/store_bench.rs, which uses all of it
mod load;
#[path = "support/sqlite_sink.rs"]
#[allow(dead_code)]
mod sqlite_sink;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use scantrail::store::committer::Committer;
use scantrail::store::{OpenOptions, Store};

fn durable_commits(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("durable_commit");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .throughput(Throughput::Elements(1));
    // Serials stay unique across criterion's many runs on one store.
    let base = Arc::new(AtomicU64::new(0));
    for writers in [1usize, 16, 256] {
        let store = Arc::new(
            Store::open(
                &dir.path().join(format!("sled-{writers}")),
                OpenOptions::create("bench".into()),
            )
            .unwrap(),
        );
        group.bench_with_input(
            BenchmarkId::new("sled", writers),
            &writers,
            |b, &writers| {
                b.iter_custom(|iters| {
                    let s = store.clone();
                    let from = base.fetch_add(iters, Ordering::Relaxed);
                    load::run(
                        Arc::new(move |m| s.journal().commit(m)),
                        writers,
                        iters,
                        from,
                    )
                    .elapsed
                })
            },
        );
        let path = dir.path().join(format!("sqlite-{writers}.db"));
        let committer = Arc::new(
            Committer::start(
                sqlite_sink::SqliteSink::open(&path),
                "bench".into(),
                path.clone(),
                scantrail::store::DEFAULT_MAX_BATCH,
                scantrail::store::scan_receipts::Keep::default(),
                None,
            )
            .unwrap(),
        );
        group.bench_with_input(
            BenchmarkId::new("sqlite", writers),
            &writers,
            |b, &writers| {
                b.iter_custom(|iters| {
                    let c = committer.clone();
                    let from = base.fetch_add(iters, Ordering::Relaxed);
                    load::run(
                        Arc::new(move |m| {
                            c.submit(m)
                                .blocking_recv()
                                .unwrap_or_else(|_| Err(c.closed()))
                        }),
                        writers,
                        iters,
                        from,
                    )
                    .elapsed
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, durable_commits);
criterion_main!(benches);
