//! `scantrail-dev dev-append`: appends synthetic movements through the
//! same commit path as real scans, from several threads. The crash test
//! kills it mid-run and the benchmarks time it; with `--print-seqs` each
//! seq is printed the moment its commit is acknowledged, i.e. durable.

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use scantrail::cli::store_args::StoreArgs;
use scantrail::cli::Outcome;
use scantrail::dev::synthetic::synthetic_movement;
use scantrail::store::OpenOptions;

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
    #[arg(long, default_value_t = scantrail::store::DEFAULT_MAX_BATCH)]
    pub max_batch: usize,
    /// Site id [default: `[site] id` of the configuration]
    #[arg(long)]
    pub site: Option<String>,
}

pub fn run(args: Args) -> Outcome {
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
    let first = store.journal().head(store.site())?.seq;
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
                    let m = store.journal().commit(movement)?;
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
