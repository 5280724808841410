//! `scantrail backup DEST`: a consistent copy of the store, itself a store.

use std::path::PathBuf;
use std::process::ExitCode;

use super::store_args::StoreArgs;

/// Arguments of `scantrail backup`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Which store: `--data`, or `data_dir` of `--config`.
    #[command(flatten)]
    pub store: StoreArgs,
    /// A new or empty directory for the copy
    #[arg(value_name = "DEST")]
    pub dest: PathBuf,
}

/// Copies the store (which must not be in use by the daemon) to `dest`
/// and says how to check and restore the copy.
pub fn run(args: Args) -> super::Outcome {
    let store = args.store.open_existing()?;
    let report = store.backup(&args.dest)?;
    println!(
        "backed up {} entries in {} trees to {}",
        report.entries,
        report.trees,
        report.dest.display()
    );
    println!(
        "check it with `scantrail verify --data {0}`; restore by pointing `data_dir` (or `--data`) at it",
        report.dest.display()
    );
    Ok(ExitCode::SUCCESS)
}
