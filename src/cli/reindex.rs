//! `scantrail reindex`: rebuilds every derived tree from the journal.

use std::process::ExitCode;

use super::store_args::StoreArgs;
use crate::store::OpenOptions;

/// Arguments of `scantrail reindex`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Which store: `--data`, or `data_dir` of `--config`.
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Rebuilds the derived trees of the store (the daemon stopped) and says
/// how many movements it replayed.
pub fn run(args: Args) -> super::Outcome {
    // Reindex is the cure for an interrupted reindex and the upgrade of an
    // older schema, so it may open either.
    let store = args.store.open_with(|site| {
        Ok(OpenOptions {
            for_reindex: true,
            ..OpenOptions::existing(site)
        })
    })?;
    let bar = super::verify::progress_bar(store.journal().movements_held()?);
    let shown = bar.clone();
    let report = store.reindex_showing(std::sync::Arc::new(move |n| shown.set_position(n)));
    bar.finish_and_clear();
    let report = report?;
    println!(
        "reindexed {} movements: {} derived entries removed, {} written",
        report.movements, report.removed, report.written
    );
    Ok(ExitCode::SUCCESS)
}
