//! `scantrail holds`: the site's own holds (quarantine) and recalls: add,
//! list, release. Head-office holds arrive by sync and are released only
//! there. Through the daemon's API when it runs, directly otherwise.

use std::process::ExitCode;

use super::reference_io::{fit, owner, print};
use super::site_client::{default_person, Site, SiteArgs};
use crate::site::catalog::{Author, NewHold};
use crate::station::reference::{Hold, HoldKind, HoldScope};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Put lots, or a range of serials, of a GTIN on hold.
    #[command(group(clap::ArgGroup::new("scope").required(true).args(["lots", "serials"])))]
    Add {
        /// The hold's id, e.g. H-2026-017
        #[arg(long, value_name = "ID")]
        id: String,
        /// The GTIN (8, 12, 13 or 14 digits)
        #[arg(long, value_name = "GTIN")]
        gtin: String,
        /// Lots on hold (repeat, or give several)
        #[arg(long = "lot", value_name = "LOT", num_args = 1..)]
        lots: Vec<String>,
        /// An inclusive serial range, e.g. 1000..1999
        #[arg(long, value_name = "FROM..TO", value_parser = serial_range)]
        serials: Option<(String, String)>,
        /// Why the goods are held
        #[arg(long, value_name = "TEXT")]
        reason: String,
        /// A recall rather than the site's own quarantine
        #[arg(long)]
        recall: bool,
        /// Who is adding it, with no daemon running [default: the login
        /// name]; through the daemon the author is the token's name
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
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
        #[command(flatten)]
        site: SiteArgs,
    },
}

fn serial_range(text: &str) -> Result<(String, String), String> {
    match text.split_once("..") {
        Some((from, to)) if !from.is_empty() && !to.is_empty() => {
            Ok((from.to_owned(), to.to_owned()))
        }
        _ => Err(format!(
            "{text:?} is not a serial range: give FROM..TO, e.g. 1000..1999"
        )),
    }
}

pub fn run(args: Args) -> super::Outcome {
    match args.command {
        Command::Add {
            id,
            gtin,
            lots,
            serials,
            reason,
            recall,
            by,
            site,
        } => {
            let (serial_from, serial_to) = serials.unzip();
            let new = NewHold {
                id,
                kind: if recall {
                    HoldKind::Recall
                } else {
                    HoldKind::Hold
                },
                gtin,
                lots,
                serial_from,
                serial_to,
                reason,
            };
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
