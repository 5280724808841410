//! `scantrail sync resume`: the operator's act after head office refused
//! this site's history (HTTP 422) and sync halted. Through the daemon when
//! it runs, else directly on the store.

use std::process::ExitCode;
use std::time::Duration;

use super::store_args::StoreArgs;
use crate::config::Config;

/// The arguments of this command.
pub type Args = super::Sub<Command>;

/// The subcommands of `scantrail sync`.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Lift a halt: sync starts again from head office's acknowledged seq.
    Resume {
        /// Which store, and the configuration naming the daemon.
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Lifts the halt through the running daemon's API, else directly in the
/// store.
pub fn run(args: Args) -> super::Outcome {
    let Command::Resume { store } = args.command;
    let config = Config::load(&store.config)?;
    let token = std::env::var(super::site_client::TOKEN_ENV)
        .ok()
        .or_else(|| config.admin_token());
    if let Some(token) = &token {
        let url = format!(
            "{}/api/v1/sync/resume",
            super::site_client::base_url(&config.http.listen)
        );
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(5))
            .build();
        match agent
            .post(&url)
            .set("Authorization", &format!("Bearer {token}"))
            .call()
        {
            Ok(_) => {
                println!("sync resumed (through the running daemon)");
                return Ok(ExitCode::SUCCESS);
            }
            Err(ureq::Error::Status(code, r)) => {
                anyhow::bail!(
                    "the daemon answered HTTP {code}: {}",
                    r.into_string().unwrap_or_default()
                )
            }
            Err(ureq::Error::Transport(_)) => {}
        }
    }
    let s = store.open_existing()?;
    s.outbox().set_halt(None)?;
    println!("sync resumed: it starts again when the daemon runs");
    Ok(ExitCode::SUCCESS)
}
