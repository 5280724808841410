//! `scantrail run`: the site daemon.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::config::{self, Config};
use crate::site;

/// Arguments of `scantrail run`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The site configuration file.
    #[arg(long, value_name = "FILE", default_value = config::DEFAULT_PATH)]
    pub config: PathBuf,
    /// The store directory [default: `data_dir` of the configuration].
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Where the HTTP API listens [default: `[http] listen` of the configuration].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
}

/// Loads the configuration and runs the site daemon until Ctrl-C or
/// SIGTERM; SIGHUP reloads the configuration.
pub fn run(args: Args) -> super::Outcome {
    let config = Config::load(&args.config)?;
    crate::logging::configure(&config.log);
    let options = site::Options {
        data_dir: args.data.unwrap_or_else(|| config.data_dir.clone()),
        listen: args.listen.unwrap_or_else(|| config.http.listen.clone()),
        config,
        config_path: args.config,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(site::run(options))?;
    Ok(ExitCode::SUCCESS)
}
