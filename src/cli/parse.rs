//! `scantrail parse`: parse GS1 data given on the command line or stdin.

use std::process::ExitCode;

/// Arguments of `scantrail parse`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Inputs to parse; `-` reads one input per line from stdin. `^` stands for FNC1 (GS).
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<String>,
}

pub fn run(args: Args) -> super::Outcome {
    let _ = args;
    Ok(ExitCode::SUCCESS)
}
