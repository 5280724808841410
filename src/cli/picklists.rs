//! `scantrail picklists`: import the orders dispatch picks from CSV or
//! JSON, list them. Through the daemon's API when it runs, directly
//! otherwise.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use super::reference_io::{fit, owner, print, read_input};
use super::site_client::{default_person, Site, SiteArgs};
use crate::site::catalog::Author;
use crate::station::reference::PickList;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Import pick lists from a CSV file (one row per line: `order,
    /// customer_gln,customer_name,gtin,quantity,lots`) or a JSON array; `-`
    /// reads stdin. An order imported again replaces the earlier one.
    Import {
        /// The file to import
        file: PathBuf,
        /// Who is importing [default: the login name]
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
        /// Why, recorded with every order
        #[arg(long, value_name = "TEXT", default_value = "pick list import")]
        why: String,
        #[command(flatten)]
        site: SiteArgs,
    },
    /// List the pick lists.
    List {
        /// One JSON object per line instead of a table
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        site: SiteArgs,
    },
}

pub fn run(args: Args) -> super::Outcome {
    match args.command {
        Command::Import {
            file,
            by,
            why,
            site,
        } => {
            let text = read_input(&file)?;
            let author = Author {
                by: by.unwrap_or_else(default_person),
                why,
            };
            let n = Site::open(&site)?
                .import_pick_lists(&text, &author)
                .with_context(|| format!("{} was not imported", file.display()))?;
            println!("imported {n} pick lists from {}", file.display());
        }
        Command::List { json, site } => {
            let lists = Site::open(&site)?.pick_lists()?;
            print(
                &lists,
                json,
                &format!(
                    "{:<12} {:<13} {:<16} {:>5} {:>6} {:<10} {}",
                    "order", "customer gln", "customer", "lines", "units", "owner", "changed"
                ),
                row,
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn row(l: &PickList) -> String {
    let units: u64 = l.lines.iter().map(|line| line.quantity).sum();
    format!(
        "{:<12} {:<13} {:<16} {:>5} {:>6} {:<10} {}",
        fit(&l.order, 12),
        l.customer.gln.as_deref().unwrap_or("-"),
        fit(l.customer.name.as_deref().unwrap_or("-"), 16),
        l.lines.len(),
        units,
        fit(&owner(&l.owner), 10),
        l.change.at.format("%Y-%m-%d"),
    )
}
