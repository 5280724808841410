//! `scantrail-dev`: the developer tools, a binary apart from `scantrail` so
//! the product operators install has none of them (`cargo install --path .
//! --bin scantrail`). Tests reach it as `CARGO_BIN_EXE_scantrail-dev`; the
//! synthetic data it writes comes from the library's `scantrail::dev`.

mod dev_append;
mod gen_data;
mod loadtest;
mod store_anatomy;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use scantrail::cli;

#[derive(Parser)]
#[command(
    name = "scantrail-dev",
    version,
    about = "Developer tools for scantrail: synthetic stores and load tests (not for production)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Append synthetic receipts to a store (tests and benchmarks).
    DevAppend(dev_append::Args),
    /// Write a synthetic site: products, receipts, dispatches, returns,
    /// corrections (benchmarks and demos).
    GenData(gen_data::Args),
    /// Drive a site daemon with pty scanners and HTTP handhelds; report
    /// accepted scans/s and scan-to-decision latency.
    Loadtest(loadtest::Args),
    /// What each logical tree of a store holds, per movement, beside sled's
    /// size on disk.
    StoreAnatomy(store_anatomy::Args),
}

fn main() -> ExitCode {
    scantrail::logging::init(None);
    let outcome = match Cli::parse().command {
        Command::DevAppend(args) => dev_append::run(args),
        Command::GenData(args) => gen_data::run(args),
        Command::Loadtest(args) => loadtest::run(args),
        Command::StoreAnatomy(args) => store_anatomy::run(args),
    };
    cli::finish(outcome)
}
