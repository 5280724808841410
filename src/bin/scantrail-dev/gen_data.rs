//! `scantrail-dev gen-data`: writes a synthetic site (products,
//! receipts, dispatches, returns, corrections) into a new or existing
//! store, through the same commit path as real scans. For benchmarks and
//! demos; see `scantrail::dev::gen`.

use std::process::ExitCode;

use scantrail::cli::store_args::StoreArgs;
use scantrail::cli::Outcome;
use scantrail::dev::gen;
use scantrail::store::OpenOptions;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Movements to write (corrections included)
    #[arg(long, default_value_t = 100_000)]
    pub movements: u64,
    /// Seed of the generator: the same seed gives the same site
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Largest group-commit batch
    #[arg(long, default_value_t = scantrail::store::DEFAULT_MAX_BATCH)]
    pub max_batch: usize,
    /// sled's page cache in MB
    #[arg(long, default_value_t = scantrail::store::DEFAULT_CACHE_BYTES >> 20)]
    pub cache_mb: u64,
    /// Close and reopen the store every this many movements (sled holds
    /// what a long run of writes touched until it is closed)
    #[arg(long, default_value_t = gen::REOPEN_EVERY)]
    pub reopen_every: u64,
    /// Site id [default: `[site] id` of the configuration, else "gen-site"]
    #[arg(long)]
    pub site: Option<String>,
}

pub fn run(args: Args) -> Outcome {
    let flag = args.site.clone();
    let max_batch = args.max_batch.max(1);
    let cache_bytes = args.cache_mb << 20;
    let open = || {
        args.store.open_with(|site| {
            Ok(OpenOptions {
                max_batch,
                cache_bytes,
                ..OpenOptions::create(
                    flag.clone()
                        .or(site)
                        .unwrap_or_else(|| "gen-site".to_owned()),
                )
            })
        })
    };
    let s = gen::generate(open, args.movements, args.seed, args.reopen_every)?;
    eprintln!(
        "wrote {} movements ({} corrections) in {:.1} s: {:.0}/s, {} batches ({:.1} per batch)",
        s.movements,
        s.corrections,
        s.seconds,
        s.movements as f64 / s.seconds,
        s.batches,
        s.movements as f64 / s.batches.max(1) as f64
    );
    let (apply, flush, fsync) = s.committer;
    eprintln!("committer time: apply {apply:.1} s, sled flush {flush:.1} s, fsync {fsync:.1} s");
    eprintln!(
        "landmarks: lot {} of GTIN {} (~1000 movements); numeric serials of GTIN {} from 100000",
        gen::HOT_LOT,
        gen::gtin(0),
        gen::serial_gtin()
    );
    Ok(ExitCode::SUCCESS)
}
