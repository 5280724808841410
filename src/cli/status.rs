//! `scantrail status`: the site's link to head office (online, offline
//! since, halted), its backlog and head office's last acknowledgement;
//! from the running daemon when there is one, else from the store.

use std::process::ExitCode;
use std::time::Duration;

use super::store_args::StoreArgs;
use crate::config::Config;
use crate::sync::link::{State, Status};

/// Arguments of `scantrail status`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Which store: `--data`, or `data_dir` of `--config`.
    #[command(flatten)]
    pub store: StoreArgs,
    /// JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// Prints the link's state, from the running daemon or else from the
/// store; a site without `[sync]` just says so.
pub fn run(args: Args) -> super::Outcome {
    let config = Config::load(&args.store.config)?;
    let Some(sync) = &config.sync else {
        println!(
            "this site has no [sync] section in {}: it does not sync",
            args.store.config.display()
        );
        return Ok(ExitCode::SUCCESS);
    };
    let token = std::env::var(super::site_client::TOKEN_ENV)
        .ok()
        .or_else(|| config.admin_token());
    if let Some(token) = &token {
        let url = format!(
            "{}/api/v1/sync",
            super::site_client::base_url(&config.http.listen)
        );
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(5))
            .build();
        if let Ok(r) = agent
            .get(&url)
            .set("Authorization", &format!("Bearer {token}"))
            .call()
        {
            let status: Status = r.into_json()?;
            print(&status, args.json, true)?;
            return Ok(ExitCode::SUCCESS);
        }
    }
    // No daemon answers: read the store.
    let store = args.store.open_existing()?;
    let status = Status::from_store(&store, sync.url.clone())?;
    print(&status, args.json, false)?;
    Ok(ExitCode::SUCCESS)
}

fn print(s: &Status, json: bool, daemon: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(s)?);
        return Ok(());
    }
    let link = match &s.link {
        State::Starting if !daemon => "daemon not running".to_owned(),
        State::Starting => "connecting".to_owned(),
        State::Online => "online".to_owned(),
        State::Offline { since, error } => format!("offline since {since} ({error})"),
        State::CredentialRefused { error } => format!("credential refused: {error}"),
        State::Halted { reason } => {
            format!("HALTED: {reason} (run `scantrail sync resume` once resolved)")
        }
    };
    println!("head office: {}", s.url);
    println!("link:        {link}");
    println!(
        "backlog:     {} movements, {} rejected scans",
        s.backlog, s.rejected_backlog
    );
    match &s.acked_hash {
        Some(h) => println!(
            "last ack:    seq {} ({}){}",
            s.acked_seq,
            &h.hex()[..16],
            s.last_ack_at.map_or(String::new(), |t| format!(" at {t}"))
        ),
        None => println!("last ack:    none yet"),
    }
    if daemon {
        println!(
            "reference:   products v{}, holds v{}, pick lists v{}",
            s.reference.products, s.reference.holds, s.reference.picklists
        );
    }
    for f in &s.flags {
        println!("flag:        {f}");
    }
    Ok(())
}
