//! Load bench: N virtual pty scanners (default 200) each sending R scans/s
//! (default 5) to one set of serial sources in this process, on a 2-thread
//! runtime. Reports latency from the write of a frame's last byte to its
//! RawScan arriving at the consumer (p50/p99/max), and scans/s.
//!
//!     cargo run --profile bench --example scanner_load -- [SCANNERS] [RATE] [SECONDS]
//!
//! The simulated scanners run in the same runtime as the sources, so the
//! figures include their CPU share: a conservative measure.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use scantrail::scan::pty::VirtualScanner;
use scantrail::scan::{sources, Profile, ScanEvent, ScannerSpec};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, d: f64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(d);
    let (n, rate, seconds) = (arg(0, 200.0) as usize, arg(1, 5.0), arg(2, 20.0));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run(n, rate, seconds));
}

async fn run(n: usize, rate: f64, seconds: f64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = Arc::new(
        Profile::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("devices/generic-aim.toml"))
            .expect("profile"),
    );
    let mut scanners = Vec::with_capacity(n);
    let mut specs = Vec::with_capacity(n);
    let mut index = HashMap::new();
    for i in 0..n {
        let link = dir.path().join(format!("scanner-{i}"));
        scanners.push(Arc::new(
            VirtualScanner::open(Some(&link)).expect("openpty"),
        ));
        let port = link.to_string_lossy().into_owned();
        index.insert(port.clone(), i);
        specs.push(ScannerSpec {
            port,
            station: format!("station-{}", i % 8),
            profile: profile.clone(),
        });
    }
    let (handles, mut events) = sources::start(specs, 4096);
    while handles
        .iter()
        .any(|h| h.stats.connects.load(std::sync::atomic::Ordering::Relaxed) == 0)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!("{n} scanners connected; sending {rate} scans/s each for {seconds} s");

    let sent: Arc<Vec<Mutex<VecDeque<Instant>>>> =
        Arc::new((0..n).map(|_| Mutex::new(VecDeque::new())).collect());
    let period = Duration::from_secs_f64(1.0 / rate);
    let end = Instant::now() + Duration::from_secs_f64(seconds);
    for (i, sc) in scanners.iter().enumerate() {
        let (sc, sent) = (sc.clone(), sent.clone());
        tokio::spawn(async move {
            // Spread the scanners over the period, as real operators are.
            tokio::time::sleep(period.mul_f64(i as f64 / n as f64)).await;
            let mut tick = tokio::time::interval(period);
            let mut seq = 0u64;
            while Instant::now() < end {
                tick.tick().await;
                let frame = format!("]d201095060001343521725123110S{i}\x1d21N{seq}\r");
                // Stamped just before the single write() of the frame: the
                // latency measured includes that syscall.
                if let Ok(mut q) = sent[i].lock() {
                    q.push_back(Instant::now());
                }
                if sc.write_all(frame.as_bytes()).await.is_err() {
                    return;
                }
                seq += 1;
            }
        });
    }

    let mut latencies: Vec<Duration> = Vec::new();
    let started = Instant::now();
    let deadline = end + Duration::from_secs(2);
    let mut refused = 0u64;
    while let Ok(Some(event)) = tokio::time::timeout_at(deadline.into(), events.recv()).await {
        let now = Instant::now();
        match event {
            ScanEvent::Scan(scan) => {
                let Some(&i) = index.get(&*scan.source) else {
                    continue;
                };
                if let Some(t) = sent[i].lock().ok().and_then(|mut q| q.pop_front()) {
                    latencies.push(now.saturating_duration_since(t));
                }
            }
            ScanEvent::Rejected(_) => refused += 1,
        }
        if now > end
            && sent
                .iter()
                .all(|q| q.lock().map(|q| q.is_empty()).unwrap_or(true))
        {
            break;
        }
    }
    let elapsed = started.elapsed().min(Duration::from_secs_f64(seconds));
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    let lost: usize = sent
        .iter()
        .map(|q| q.lock().map(|q| q.len()).unwrap_or(0))
        .sum();
    println!(
        "scanners={n} rate={rate}/s seconds={seconds} scans={} refused={refused} lost={lost} \
         throughput={:.0} scans/s p50={:?} p99={:?} max={:?}",
        latencies.len(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        latencies.last().copied().unwrap_or_default()
    );
}
