//! The `scantrail` command line. Parsing only: every command's work lives in
//! the library, under `scantrail::cli`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use scantrail::cli;

#[derive(Parser)]
#[command(
    name = "scantrail",
    version,
    about = "Warehouse barcode scanning with GS1 lot and serial traceability"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse and validate GS1 barcode data, as a scanner sends it or as a person types it.
    Parse(cli::parse::Args),
    /// Read every barcode in PNG or JPEG photos of labels and parse each like a scan.
    Decode(cli::decode::Args),
}

fn main() -> ExitCode {
    cli::init_logging();
    let outcome = match Cli::parse().command {
        Command::Parse(args) => cli::parse::run(args),
        Command::Decode(args) => cli::decode::run(args),
    };
    cli::finish(outcome)
}
