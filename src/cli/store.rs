//! `scantrail store stats`: what the store holds, its size on disk and in
//! memory against `[store] memory_mb`, and the last verify; from the
//! running daemon when it holds the store, else from the store itself.

use std::process::ExitCode;

use super::site_client::{Site, SiteArgs};
use crate::config::Config;

/// Arguments of `scantrail store`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// `scantrail store` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Movements, bytes on disk and per movement, memory bound and use, last verify.
    Stats(Stats),
}

/// `scantrail store stats`.
#[derive(clap::Args, Debug)]
pub struct Stats {
    /// How to reach the store: directly, or through the running daemon.
    #[command(flatten)]
    pub site: SiteArgs,
    /// JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// Runs a `scantrail store` subcommand.
pub fn run(args: Args) -> super::Outcome {
    match args.command {
        Command::Stats(stats) => {
            // Without a configuration file (`--data` alone) the bound is the
            // default one.
            let bound = Config::load(&stats.site.store.config)
                .map(|c| c.store.memory_mb)
                .unwrap_or_else(|_| crate::config::StoreSettings::default().memory_mb);
            let figures = Site::open(&stats.site)?.store_stats(bound << 20)?;
            if stats.json {
                println!("{}", serde_json::to_string_pretty(&figures)?);
            } else {
                print!("{}", figures.to_text());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
