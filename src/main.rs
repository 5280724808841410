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
    /// Open one scanner and print every scan as it is read, parsed.
    Listen(cli::listen::Args),
    /// A virtual scanner on a pseudo-terminal that sends the given scans.
    Simulate(cli::simulate::Args),
}

fn main() -> ExitCode {
    cli::init_logging();
    let outcome = match Cli::parse().command {
        Command::Parse(args) => cli::parse::run(args),
        Command::Listen(args) => cli::listen::run(args),
        Command::Simulate(args) => cli::simulate::run(args),
    };
    cli::finish(outcome)
}
