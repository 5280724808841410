//! `scantrail holds`: the site's own holds (quarantine) and recalls: add,
//! list, release. Head-office holds arrive by sync and are released only
//! there. Through the daemon's API when it runs, directly otherwise.

use std::process::ExitCode;

use super::reference_io::{fit, owner, print, NewHoldArgs};
use super::site_client::{default_person, Site, SiteArgs};
use crate::station::catalog::Author;
use crate::station::reference::{Hold, HoldKind, HoldScope};

/// The arguments of this command.
pub type Args = super::Sub<Command>;

/// The subcommands of `scantrail holds`.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Put lots, or a range of serials, of a GTIN on hold.
    Add {
        /// What is held: GTIN, lots or serial range, reason.
        #[command(flatten)]
        hold: NewHoldArgs,
        /// A recall rather than the site's own quarantine
        #[arg(long)]
        recall: bool,
        /// Who is adding it, with no daemon running [default: the login
        /// name]; through the daemon the author is the token's name
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
        /// How to reach the site's records.
        #[command(flatten)]
        site: SiteArgs,
    },
    /// List holds and recalls (active ones unless --all).
    List {
        /// One JSON object per line instead of a table
        #[arg(long)]
        json: bool,
        /// Released holds too
        #[arg(long)]
        all: bool,
        /// How to reach the site's records.
        #[command(flatten)]
        site: SiteArgs,
    },
    /// Release one of the site's own holds.
    Release {
        /// The hold's id
        id: String,
        /// Why it is released
        #[arg(long, value_name = "TEXT")]
        why: String,
        /// Who is releasing it, with no daemon running [default: the login
        /// name]; through the daemon the author is the token's name
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
        /// How to reach the site's records.
        #[command(flatten)]
        site: SiteArgs,
    },
}

/// Adds, lists or releases a hold, through the daemon when it runs.
pub fn run(args: Args) -> super::Outcome {
    match args.command {
        Command::Add {
            hold,
            recall,
            by,
            site,
        } => {
            let new = hold.into_hold(if recall {
                HoldKind::Recall
            } else {
                HoldKind::Hold
            });
            let site = Site::open(&site)?;
            site.check_by(by.as_deref())?;
            let hold = site.add_hold(new, &by.unwrap_or_else(default_person))?;
            println!(
                "added {} on GTIN {}: {}",
                hold.label(),
                hold.gtin,
                scope(&hold.scope)
            );
        }
        Command::List { json, all, site } => {
            let holds: Vec<Hold> = Site::open(&site)?
                .holds()?
                .into_iter()
                .filter(|h| all || h.is_active())
                .collect();
            print(
                &holds,
                json,
                &format!(
                    "{:<10} {:<6} {:<14} {:<16} {:<8} {:<10} {}",
                    "id", "kind", "gtin", "scope", "state", "owner", "reason"
                ),
                row,
            )?;
        }
        Command::Release { id, why, by, site } => {
            let site = Site::open(&site)?;
            site.check_by(by.as_deref())?;
            let author = Author {
                by: by.unwrap_or_else(default_person),
                why,
            };
            let hold = site.release_hold(&id, &author)?;
            println!("released {}", hold.label());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn scope(scope: &HoldScope) -> String {
    match scope {
        HoldScope::Lots(lots) => format!("lots {}", lots.join(",")),
        HoldScope::Serials(range) => format!("serials {}..{}", range.from(), range.to()),
    }
}

fn row(h: &Hold) -> String {
    format!(
        "{:<10} {:<6} {:<14} {:<16} {:<8} {:<10} {}",
        fit(&h.id, 10),
        match h.kind {
            HoldKind::Hold => "hold",
            HoldKind::Recall => "recall",
        },
        h.gtin,
        fit(&scope(&h.scope), 16),
        if h.is_active() { "active" } else { "released" },
        fit(&owner(&h.owner), 10),
        fit(&h.reason, 80 - 70),
    )
}
