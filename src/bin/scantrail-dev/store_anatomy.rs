//! `scantrail-dev store-anatomy`: what each logical tree of a store holds
//! (entries, key and value bytes, per movement) beside what sled takes on
//! disk, for the work on the store's layout (BENCHMARKS.md, "Memory").

use std::process::ExitCode;

use scantrail::cli::store_args::StoreArgs;
use scantrail::cli::Outcome;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreArgs,
}

pub fn run(args: Args) -> Outcome {
    let store = args.store.open_existing()?;
    let stats = store.stats()?;
    let per = |b: u64| b as f64 / stats.movements.max(1) as f64;
    println!(
        "{:<24} {:>12} {:>14} {:>14} {:>10} {:>10} {:>10}",
        "tree", "entries", "key bytes", "value bytes", "entries/m", "key B/m", "value B/m"
    );
    let (mut entries, mut bytes) = (0, 0);
    for p in store.anatomy()? {
        println!(
            "{:<24} {:>12} {:>14} {:>14} {:>10.2} {:>10.1} {:>10.1}",
            p.name,
            p.entries,
            p.key_bytes,
            p.value_bytes,
            per(p.entries),
            per(p.key_bytes),
            per(p.value_bytes)
        );
        entries += p.entries;
        bytes += p.key_bytes + p.value_bytes;
    }
    println!(
        "{} movements; {} entries ({:.2} a movement) holding {} bytes ({:.0} a movement); sled's files {} bytes ({:.0} a movement)",
        stats.movements,
        entries,
        per(entries),
        bytes,
        per(bytes),
        stats.bytes_on_disk,
        per(stats.bytes_on_disk)
    );
    Ok(ExitCode::SUCCESS)
}
