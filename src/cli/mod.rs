//! The commands behind `scantrail`'s subcommands: each file takes its clap
//! arguments and does the work, so `main.rs` stays a parser.
//!
//! Exit codes: 0 success, 1 a rejected input or a failure, 2 a usage error
//! (clap's own).

use std::process::ExitCode;

pub mod backup;
pub mod check_config;
pub mod correct;
pub mod decode;
pub mod doctor;
pub mod epcis;
pub mod holds;
pub mod hq;
pub mod journal;
pub mod listen;
pub mod parse;
pub mod picklists;
pub mod products;
pub mod reference_io;
pub mod reindex;
pub mod report;
pub mod restore;
pub mod run;
pub mod simulate;
pub mod site_client;
pub mod status;
pub mod store;
pub mod store_args;
pub mod sync;
pub mod user;
pub mod verify;

/// What a command reports back to `main`: success, or that some input was
/// rejected (exit 1), or a failure to report in one line (exit 1).
pub type Outcome = anyhow::Result<ExitCode>;

/// The arguments of a command that is only a choice of subcommands
/// (`scantrail products import|list`): one wrapper instead of one struct a
/// command.
#[derive(clap::Args, Debug)]
pub struct Sub<C: clap::Subcommand> {
    /// The subcommand given.
    #[command(subcommand)]
    pub command: C,
}

/// Exit code when an input was rejected (not a usage error).
pub const REJECTED: u8 = 1;

/// Turns a command's outcome into the process exit code, printing a failure
/// as one line.
pub fn finish(outcome: Outcome) -> ExitCode {
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(REJECTED)
        }
    }
}
