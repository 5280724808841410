//! `scantrail dev-append` (hidden): appends synthetic movements through the
//! same commit path as real scans, from several threads. The crash test
//! kills it mid-run and the benchmarks time it; with `--print-seqs` each
//! seq is printed the moment its commit is acknowledged, i.e. durable.

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use chrono::{TimeZone, Utc};

use super::store_args::StoreArgs;
use crate::store::{Counterparty, Documents, Kind, NewMovement, OpenOptions, Quantity, ScanSource};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Movements to append in total
    #[arg(long, default_value_t = 1000)]
    pub count: u64,
    /// Concurrent writers
    #[arg(long, default_value_t = 4)]
    pub threads: u64,
    /// Print each seq on stdout as soon as it is acknowledged
    #[arg(long)]
    pub print_seqs: bool,
    /// Largest group-commit batch
    #[arg(long, default_value_t = crate::store::DEFAULT_MAX_BATCH)]
    pub max_batch: usize,
    /// Site id [default: `[site] id` of the configuration]
    #[arg(long)]
    pub site: Option<String>,
}

/// A plausible movement: the receipt of a unit with a unique serial, in
/// 1000 lots over 50 GTINs, with a counterparty and a PO. Only receipts:
/// a dispatch of a unit never received is a history `verify` reports.
pub fn synthetic_movement(n: u64) -> NewMovement {
    let gtin = format!("0950600013{:04}", n % 50);
    let lot = format!("L{:05}", n % 1000);
    let serial = format!("SN{n:010}");
    let raw = format!("]C101{gtin}10{lot}\u{1d}21{serial}");
    NewMovement {
        kind: Kind::Receipt,
        station: format!("dock-{}", n % 4),
        operator: format!("op{}", n % 17),
        device_time: Utc
            .timestamp_opt(1_780_000_000 + (n as i64 % 10_000_000), 0)
            .single()
            .unwrap_or_default(),
        location: format!("A-{:02}", n % 40),
        gtin,
        lot: Some(lot),
        serial: Some(serial),
        expiry: chrono::NaiveDate::from_ymd_opt(2027, 1 + (n % 12) as u32, 1),
        quantity: Quantity::Units(1),
        counterparty: Counterparty {
            gln: Some(format!("95060000{:05}", n % 300)),
            name: None,
        },
        documents: Documents {
            purchase_order: Some(format!("PO-{}", n / 100)),
            ..Documents::default()
        },
        scan: ScanSource {
            raw: raw.into_bytes(),
            symbology: "]C1".into(),
            device_profile: "generic-hid".into(),
            parser_version: env!("CARGO_PKG_VERSION").into(),
        },
        reason: None,
        corrects: None,
        author: "dev-append".into(),
    }
}

pub fn run(args: Args) -> super::Outcome {
    let site_flag = args.site.clone();
    let max_batch = args.max_batch;
    let store = Arc::new(args.store.open_with(|site| {
        let site = site_flag.or(site).ok_or_else(|| {
            anyhow::anyhow!("dev-append needs a site id: give `--site` or a configuration file")
        })?;
        Ok(OpenOptions {
            max_batch,
            ..OpenOptions::create(site)
        })
    })?);
    // Lots, GTINs and locations vary with the seq the run starts from;
    // serials carry a per-run tag so they stay unique across runs on the
    // same store (the crash test checks that no movement is stored twice).
    let first = store.head(store.site())?.seq;
    let run_tag = format!(
        "{:x}{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros())
            .unwrap_or(0),
        std::process::id()
    );
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let threads: Vec<_> = (0..args.threads.max(1))
        .map(|_| {
            let store = store.clone();
            let next = next.clone();
            let (count, print) = (args.count, args.print_seqs);
            let run_tag = run_tag.clone();
            std::thread::spawn(move || -> anyhow::Result<()> {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        return Ok(());
                    }
                    let mut movement = synthetic_movement(first + i);
                    movement.serial = Some(format!("SN{run_tag}-{i}"));
                    let m = store.commit(movement)?;
                    if print {
                        let mut out = std::io::stdout().lock();
                        writeln!(out, "{}", m.seq)?;
                        out.flush()?;
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join()
            .map_err(|_| anyhow::anyhow!("a writer thread panicked"))??;
    }
    let secs = started.elapsed().as_secs_f64();
    let (movements, batches) = store.commit_stats();
    eprintln!(
        "appended {movements} movements in {secs:.2} s ({:.0}/s, {batches} batches, {:.1} per batch)",
        movements as f64 / secs,
        movements as f64 / batches.max(1) as f64
    );
    Ok(ExitCode::SUCCESS)
}
