//! `scantrail-dev loadtest`: drives a site daemon with simulated
//! scanners on pseudo-terminals and handhelds over HTTP at a fixed offered
//! rate, or with handhelds sending as fast as they can (`--saturate`), and
//! reports accepted scans per second and scan-to-decision latency.
//!
//! By default it starts its own daemon (`scantrail run`, see `daemon.rs`)
//! on a fresh store with a configuration that binds one `[[scanners]]`
//! entry to each pty it creates; with `--url` and `--token` it drives a
//! daemon that is already running, over HTTP only. Handhelds speak HTTP
//! through ureq, one keep-alive agent each.
//!
//! Latency: for a pty scanner, from the last byte of the scan written to
//! the good- or bad-read byte read back; for a handheld, from the request
//! written to the response read. Every scan carries a new serial, so every
//! scan is a receipt that is accepted and committed durably before it is
//! answered.

mod daemon;
mod metrics;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use scantrail::cli::Outcome;
use scantrail::scan::pty::VirtualScanner;
use serde::Deserialize;
use serde_json::json;

use daemon::Daemon;
use metrics::cpu_seconds;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Simulated serial scanners on pseudo-terminals (needs the daemon this
    /// command starts).
    #[arg(long, default_value_t = 200)]
    pub scanners: usize,
    /// Simulated handheld terminals over HTTP, one connection each.
    #[arg(long, default_value_t = 50)]
    pub handhelds: usize,
    /// Offered scans per second of each scanner and each handheld.
    #[arg(long, default_value_t = 10.0)]
    pub rate: f64,
    /// Length of the measured run, in seconds.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Handhelds send their next scan as soon as the last is answered;
    /// reports the most durable scans per second through HTTP.
    #[arg(long)]
    pub saturate: bool,
    /// Drive this running daemon (e.g. http://127.0.0.1:8080) instead of
    /// starting one; HTTP handhelds only.
    #[arg(long, value_name = "URL", requires = "token")]
    pub url: Option<String>,
    /// A handheld token of the running daemon (with `--url`); it must be
    /// allowed to import products.
    #[arg(long)]
    pub token: Option<String>,
    /// The station handhelds scan at, with `--url` [default: the token's].
    #[arg(long)]
    pub station: Option<String>,
    /// Store of the daemon this command starts [default: a new folder in
    /// the system's temp dir, removed afterwards].
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Log level of the daemon this command starts (its log goes to
    /// `daemon.log` beside the store); `info` logs every scan.
    #[arg(long, default_value = "warn")]
    pub daemon_log: String,
    /// Keep the temp folder (configuration, store, daemon log).
    #[arg(long)]
    pub keep: bool,
    /// The `scantrail` binary to start [default: the one beside this
    /// executable].
    #[arg(long, value_name = "PATH")]
    pub scantrail: Option<PathBuf>,
}

const GTIN: &str = "09506000134352";
const STATIONS: usize = 10;
const INIT: u8 = 0x05;
const GOOD: u8 = 0x06;
const BAD: u8 = 0x15;
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

pub fn run(args: Args) -> Outcome {
    if !(args.rate > 0.0 && args.rate.is_finite()) {
        bail!("--rate must be a positive number of scans per second");
    }
    if !(args.duration > 0.0 && args.duration.is_finite()) {
        bail!("--duration must be a positive number of seconds");
    }
    if args.url.is_some() && args.scanners > 0 {
        bail!("pty scanners need the daemon this command starts: give --scanners 0 with --url");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(load(args))
}

/// The daemon under test and how to reach it.
struct Target {
    /// `http://HOST:PORT`
    url: String,
    /// For the product import and the metrics.
    admin_token: String,
    /// For the handhelds' scans.
    token: String,
    /// Handhelds take turns over these; none: the token's default station.
    stations: Vec<String>,
    daemon: Option<Daemon>,
}

async fn load(args: Args) -> Outcome {
    let tag = run_tag();
    let (target, scanners, folder) = match &args.url {
        Some(url) => {
            if !url.starts_with("http://") && !url.starts_with("https://") {
                bail!("--url must be http://HOST:PORT or https://HOST:PORT, not {url:?}");
            }
            let token = args.token.clone().unwrap_or_default();
            let target = Target {
                url: url.trim_end_matches('/').to_owned(),
                admin_token: token.clone(),
                token,
                stations: args.station.iter().cloned().collect(),
                daemon: None,
            };
            (target, Vec::new(), None)
        }
        None => {
            let folder = match &args.data {
                Some(d) => d.clone(),
                None => {
                    std::env::temp_dir().join(format!("scantrail-loadtest-{}", std::process::id()))
                }
            };
            let binary = daemon::scantrail_binary(args.scantrail.as_deref())?;
            std::fs::create_dir_all(&folder)
                .with_context(|| format!("cannot create {}", folder.display()))?;
            let scanners = (0..args.scanners)
                .map(|i| VirtualScanner::open(Some(&folder.join(format!("pty-{i}")))))
                .collect::<std::io::Result<Vec<_>>>()
                .context("cannot create the pseudo-terminals")?;
            let token = format!("loadtest-{tag}-admin");
            let config = daemon::write_config(&folder, args.scanners, &token)?;
            let daemon = Daemon::start(
                &binary,
                &config,
                &folder.join("daemon.log"),
                &args.daemon_log,
            )?;
            let target = Target {
                url: daemon.url.clone(),
                admin_token: token.clone(),
                token: format!("{token}-h"),
                stations: (0..STATIONS).map(|s| format!("dock-{s}")).collect(),
                daemon: Some(daemon),
            };
            (target, scanners, Some(folder))
        }
    };
    let result = drive(&args, &target, scanners, &tag).await;
    if let Some(daemon) = target.daemon {
        let status = daemon.stop()?;
        println!("daemon stopped with SIGTERM: {status}");
    }
    if let Some(folder) = folder {
        if args.keep || args.data.is_some() {
            println!("kept {}", folder.display());
        } else {
            let _ = std::fs::remove_dir_all(&folder);
        }
    }
    result
}

async fn drive(args: &Args, target: &Target, scanners: Vec<VirtualScanner>, tag: &str) -> Outcome {
    // The product every scan is of, so each scan takes the full rule path.
    let admin = agent();
    let import = admin
        .post(&format!("{}/api/v1/products", target.url))
        .set("Authorization", &format!("Bearer {}", target.admin_token))
        .set("Content-Type", "text/csv")
        .send_string(&format!(
            "gtin,description,tracking\n{GTIN},Load test pen,lot_and_serial\n"
        ));
    match import {
        Ok(_) => {}
        Err(ureq::Error::Status(status, answer)) => bail!(
            "importing the load test product failed ({status}): {}",
            answer.into_string().unwrap_or_default()
        ),
        Err(e) => bail!("cannot reach the daemon at {}: {e}", target.url),
    }

    // Every scanner's port is open once its init byte arrived.
    let scanners: Vec<Arc<VirtualScanner>> = scanners.into_iter().map(Arc::new).collect();
    for (i, s) in scanners.iter().enumerate() {
        tokio::time::timeout(Duration::from_secs(30), wait_for(s, &[INIT]))
            .await
            .with_context(|| format!("the daemon never opened pty-{i}"))??;
    }

    let period = Duration::from_secs_f64(1.0 / args.rate);
    let duration = Duration::from_secs_f64(args.duration);
    let start = Instant::now() + Duration::from_millis(200);
    let end = start + duration;
    let cpu_before = (cpu_seconds("self"), daemon_cpu(target));

    let sources = scanners.len() + args.handhelds;
    let mut pty_tasks = Vec::new();
    for (i, scanner) in scanners.iter().enumerate() {
        // Spread the sources evenly over one period.
        let phase = period.mul_f64(i as f64 / sources.max(1) as f64);
        let scanner = scanner.clone();
        let tag = tag.to_owned();
        pty_tasks.push(tokio::spawn(async move {
            pty_scanner(i, &scanner, &tag, start + phase, end, period).await
        }));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let mut http_threads = Vec::new();
    for j in 0..args.handhelds {
        let phase = period.mul_f64((scanners.len() + j) as f64 / sources.max(1) as f64);
        let source = Handheld {
            number: j,
            url: format!("{}/api/v1/scans", target.url),
            token: target.token.clone(),
            station: (!target.stations.is_empty())
                .then(|| target.stations[j % target.stations.len()].clone()),
            tag: tag.to_owned(),
        };
        let saturate = args.saturate;
        let stop = stop.clone();
        http_threads.push(std::thread::spawn(move || {
            source.run(start + phase, end, period, saturate, &stop)
        }));
    }

    let mut pty = Tally::default();
    for t in pty_tasks {
        pty.add(t.await.context("a scanner task failed")?);
    }
    let mut http = Tally::default();
    for t in http_threads {
        match t.join() {
            Ok(tally) => http.add(tally),
            Err(_) => bail!("a handheld thread panicked"),
        }
    }
    stop.store(true, Ordering::Relaxed);
    let elapsed = start.elapsed().max(duration);
    let cpu_after = (cpu_seconds("self"), daemon_cpu(target));

    let secs = duration.as_secs_f64();
    println!(
        "offered: {} pty scanners + {} handhelds, {} for {secs:.0} s",
        scanners.len(),
        args.handhelds,
        if args.saturate {
            "handhelds as fast as answered".to_owned()
        } else {
            format!(
                "{} scans/s each = {:.0} scans/s",
                args.rate,
                args.rate * sources as f64
            )
        }
    );
    for (name, t) in [("pty", &pty), ("http", &http)] {
        if t.sent == 0 {
            continue;
        }
        println!(
            "{name:>4}: sent {:>7}  accepted {:>7} ({:>7.0}/s)  refused {:>5}  failed {:>5}  latency p50 {}  p99 {}  p99.9 {}  max {}",
            t.sent,
            t.accepted,
            t.accepted as f64 / secs,
            t.refused,
            t.failed,
            ms(t.quantile(0.50)),
            ms(t.quantile(0.99)),
            ms(t.quantile(0.999)),
            ms(t.quantile(1.0)),
        );
    }
    let mut all = Tally::default();
    all.add(pty.clone());
    all.add(http.clone());
    println!(
        " all: accepted {} = {:.0} durable scans/s; latency p50 {}  p99 {}",
        all.accepted,
        all.accepted as f64 / secs,
        ms(all.quantile(0.50)),
        ms(all.quantile(0.99)),
    );
    let wall = elapsed.as_secs_f64();
    if let (Some(a), Some(b)) = (cpu_before.0, cpu_after.0) {
        println!(
            "cpu: load generator {:.2} cores",
            (b - a) / wall.max(f64::EPSILON)
        );
    }
    if let (Some(Some(a)), Some(Some(b))) = (cpu_before.1, cpu_after.1) {
        println!("cpu: daemon {:.2} cores", (b - a) / wall.max(f64::EPSILON));
    }
    if let Some(text) = admin
        .get(&format!("{}/api/v1/metrics", target.url))
        .call()
        .ok()
        .and_then(|r| r.into_string().ok())
    {
        metrics::print_daemon_histograms(&text);
    }
    Ok(ExitCode::SUCCESS)
}

/// CPU seconds of the daemon this command started.
fn daemon_cpu(target: &Target) -> Option<Option<f64>> {
    let pid = target.daemon.as_ref()?.pid()?;
    Some(cpu_seconds(&pid.to_string()))
}

/// An HTTP client with one keep-alive connection: the load generator
/// shares the cores with the daemon, so it opens no more than it needs.
fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(ANSWER_TIMEOUT)
        .max_idle_connections_per_host(1)
        .build()
}

/// The part of the scan answer the tally needs.
#[derive(Deserialize)]
struct Answer {
    accepted: bool,
}

/// Scans sent, answers and latencies of some sources.
#[derive(Default, Clone)]
struct Tally {
    sent: u64,
    accepted: u64,
    refused: u64,
    failed: u64,
    /// Microseconds, one per answered scan.
    latencies: Vec<u32>,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.sent += other.sent;
        self.accepted += other.accepted;
        self.refused += other.refused;
        self.failed += other.failed;
        self.latencies.extend(other.latencies);
    }

    fn record(&mut self, started: Instant, accepted: bool) {
        let us = u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX);
        self.latencies.push(us);
        if accepted {
            self.accepted += 1;
        } else {
            self.refused += 1;
        }
    }

    fn quantile(&self, q: f64) -> Option<u32> {
        if self.latencies.is_empty() {
            return None;
        }
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let i = ((sorted.len() - 1) as f64 * q).round() as usize;
        Some(sorted[i.min(sorted.len() - 1)])
    }
}

fn ms(us: Option<u32>) -> String {
    match us {
        Some(us) => format!("{:.2} ms", f64::from(us) / 1000.0),
        None => "-".to_owned(),
    }
}

/// `P0001x0000042k3f9`: source kind and number, scan number, run tag.
fn serial(kind: char, source: usize, n: u64, tag: &str) -> String {
    format!("{kind}{source:04}x{n:07}{tag}")
}

fn scan_data(serial: &str) -> String {
    format!("]d201{GTIN}1730123110LOAD1\u{1d}21{serial}")
}

/// One pty scanner: a scan every `period`, waiting for its beep.
async fn pty_scanner(
    i: usize,
    scanner: &VirtualScanner,
    tag: &str,
    first: Instant,
    end: Instant,
    period: Duration,
) -> Tally {
    let mut tally = Tally::default();
    let mut next = first;
    let mut n = 0;
    while next < end {
        tokio::time::sleep_until(next.into()).await;
        let mut frame = scan_data(&serial('P', i, n, tag)).into_bytes();
        frame.push(b'\r');
        n += 1;
        tally.sent += 1;
        if scanner.write_all(&frame).await.is_err() {
            tally.failed += 1;
            break;
        }
        let written = Instant::now();
        match tokio::time::timeout(ANSWER_TIMEOUT, wait_for(scanner, &[GOOD, BAD])).await {
            Ok(Ok(byte)) => tally.record(written, byte == GOOD),
            _ => tally.failed += 1,
        }
        next = (next + period).max(Instant::now());
    }
    tally
}

/// Reads from the scanner's side until one of `bytes` arrives.
async fn wait_for(scanner: &VirtualScanner, bytes: &[u8]) -> anyhow::Result<u8> {
    let mut buf = [0u8; 16];
    loop {
        let n = scanner.read(&mut buf).await?;
        if n == 0 {
            bail!("the pty closed");
        }
        if let Some(b) = buf[..n].iter().find(|b| bytes.contains(b)) {
            return Ok(*b);
        }
    }
}

/// One handheld, on its own thread and connection.
struct Handheld {
    number: usize,
    /// `.../api/v1/scans`
    url: String,
    token: String,
    station: Option<String>,
    tag: String,
}

impl Handheld {
    fn run(
        &self,
        first: Instant,
        end: Instant,
        period: Duration,
        saturate: bool,
        stop: &AtomicBool,
    ) -> Tally {
        let mut tally = Tally::default();
        let http = agent();
        let bearer = format!("Bearer {}", self.token);
        let mut next = first;
        let mut n = 0u64;
        while next < end && !stop.load(Ordering::Relaxed) {
            if let Some(wait) = next.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            let serial = serial('H', self.number, n, &self.tag);
            let mut body = json!({"data": scan_data(&serial), "scan_id": serial});
            if let Some(station) = &self.station {
                body["station"] = json!(station);
            }
            n += 1;
            tally.sent += 1;
            let started = Instant::now();
            let answer = http
                .post(&self.url)
                .set("Authorization", &bearer)
                .send_json(&body)
                .map_err(anyhow::Error::from)
                .and_then(|r| Ok(r.into_json::<Answer>()?));
            match answer {
                Ok(answer) => tally.record(started, answer.accepted),
                Err(_) => tally.failed += 1,
            }
            next = if saturate {
                Instant::now()
            } else {
                (next + period).max(Instant::now())
            };
        }
        tally
    }
}

/// Four characters that make this run's serials new even on a store that
/// already holds an earlier run's.
fn run_tag() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let alphabet = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut n = secs % 36u64.pow(4);
    let mut tag = [b'0'; 4];
    for b in tag.iter_mut().rev() {
        *b = alphabet[(n % 36) as usize];
        n /= 36;
    }
    String::from_utf8_lossy(&tag).into_owned()
}
