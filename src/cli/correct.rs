//! `scantrail correct SEQ`: records a correction, the movement that
//! reverses a movement of the journal, naming it and why. The journal is
//! never edited. With the daemon running its desk records it, in order
//! with the scans.

use std::process::ExitCode;

use super::site_client::{default_person, Site, SiteArgs};

/// Arguments of `scantrail correct`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The seq of the movement to reverse
    pub seq: u64,
    /// Why it is corrected
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// The site whose movement it is [default: this site]
    #[arg(long, value_name = "SITE")]
    pub origin: Option<String>,
    /// Who is correcting, recorded as the operator [default: the login
    /// name]; through the daemon the author is also the token's name
    #[arg(long, value_name = "NAME")]
    pub operator: Option<String>,
    /// How to reach the site's records: the store directly, or the
    /// running daemon's API when it holds the store.
    #[command(flatten)]
    pub site: SiteArgs,
}

/// Records the correction, through the daemon's desk when it runs, and
/// prints the seq it got.
pub fn run(args: Args) -> super::Outcome {
    let operator = args.operator.unwrap_or_else(default_person);
    let site = Site::open(&args.site)?;
    let m = site.correct(args.origin.as_deref(), args.seq, &args.reason, &operator)?;
    let corrects = m.body.corrects.as_ref().map_or_else(String::new, |c| {
        format!(" reversing {}:{}", c.origin, c.seq)
    });
    println!(
        "recorded correction {}:{}{corrects} ({})",
        m.origin, m.seq, args.reason
    );
    Ok(ExitCode::SUCCESS)
}
