//! EPCIS export speed and memory over a large `gen-data` site: the whole
//! journal written as an EPCIS 2.0 document into a counting sink, against
//! the baseline of reading the same journal and writing each movement as
//! JSON (what `scantrail journal --json` does), in the same run. Memory
//! is the peak of live heap bytes (a counting allocator) over a tenth of
//! the journal and over all of it: bounded memory means the two peaks
//! are alike, whatever the length. sled's page cache is held to 64 MB so
//! its growth does not hide the export's.
//!
//! `cargo bench --bench epcis_export -- DIR` with DIR a store made by
//! `target/release/scantrail-dev gen-data --data DIR --movements N
//! --config /nonexistent.toml` (site `gen-site`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{self, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use scantrail::epcis::{self, EpcisConfig, Request};
use scantrail::store::{OpenOptions, Store};

/// Live heap bytes and their peak since the last reset.
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        unsafe { System.dealloc(p, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Counts what is written and throws it away.
#[derive(Default)]
struct Sink(u64);

impl Write for Sink {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0 += b.len() as u64;
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

struct Run {
    name: String,
    movements: u64,
    events: u64,
    seconds: f64,
    bytes: u64,
    peak_mb: f64,
}

fn measure(name: &str, f: impl FnOnce() -> (u64, u64, u64)) -> Run {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let t = Instant::now();
    let (movements, events, bytes) = f();
    let seconds = t.elapsed().as_secs_f64();
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(before);
    Run {
        name: name.to_owned(),
        movements,
        events,
        seconds,
        bytes,
        peak_mb: peak as f64 / 1e6,
    }
}

fn baseline(store: &Store, since: u64) -> (u64, u64, u64) {
    let mut out = io::BufWriter::with_capacity(256 * 1024, Sink::default());
    let mut next = since;
    let mut n = 0;
    loop {
        let page = store.journal().range(store.site(), next, 1024).unwrap();
        let Some(last) = page.last() else { break };
        next = last.seq + 1;
        for m in &page {
            serde_json::to_writer(&mut out, m).unwrap();
            out.write_all(b"\n").unwrap();
            n += 1;
        }
    }
    out.flush().unwrap();
    let bytes = out.into_inner().ok().unwrap().0;
    (n, n, bytes)
}

fn export(store: &Store, since: u64, query: &[(&str, &str)]) -> (u64, u64, u64) {
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    pairs.push(("since".into(), since.to_string()));
    let request = Request::from_pairs(&pairs).unwrap();
    let config = EpcisConfig {
        time_zone: Some("Europe/Berlin".into()),
        ..EpcisConfig::default()
    };
    let settings = request.settings(Some("9506000000015"), &config).unwrap();
    let out = io::BufWriter::with_capacity(256 * 1024, Sink::default());
    let (out, summary) = epcis::export(
        store,
        &[(store.site().to_owned(), settings)],
        &request.range,
        out,
        chrono::Utc::now(),
    )
    .unwrap();
    let bytes = out.into_inner().ok().unwrap().0;
    (summary.movements, summary.events, bytes)
}

fn main() {
    let dir = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .expect("give the store directory: cargo bench --bench epcis_export -- DIR");
    let mut options = OpenOptions::existing(None);
    options.cache_bytes = 64 << 20;
    let store = Store::open(std::path::Path::new(&dir), options).unwrap();
    let head = store.journal().head(store.site()).unwrap().seq;
    let tenth = head - head / 10 + 1;
    let mut runs = Vec::new();
    // Warm sled's cache and the page cache once, untimed.
    let _ = baseline(&store, tenth);
    runs.push(measure(
        "journal as JSON lines (baseline), last tenth",
        || baseline(&store, tenth),
    ));
    runs.push(measure("EPCIS export, last tenth", || {
        export(&store, tenth, &[])
    }));
    runs.push(measure("journal as JSON lines (baseline), all", || {
        baseline(&store, 1)
    }));
    runs.push(measure("EPCIS export, all", || export(&store, 1, &[])));
    runs.push(measure("EPCIS export, all, event hash IDs", || {
        export(&store, 1, &[("event_id", "hash")])
    }));
    runs.push(measure("EPCIS export, all, grouped by document", || {
        export(&store, 1, &[("group_by", "document")])
    }));
    println!(
        "{:<48} {:>10} {:>10} {:>8} {:>12} {:>8} {:>12}",
        "run", "movements", "events", "s", "events/s", "MB out", "peak heap MB"
    );
    for r in runs {
        println!(
            "{:<48} {:>10} {:>10} {:>8.2} {:>12.0} {:>8.0} {:>12.1}",
            r.name,
            r.movements,
            r.events,
            r.seconds,
            r.events as f64 / r.seconds,
            r.bytes as f64 / 1e6,
            r.peak_mb
        );
    }
}
