//! `scantrail picklists`: import the orders dispatch picks from CSV or
//! JSON, list them. Through the daemon's API when it runs, directly
//! otherwise.

use std::process::ExitCode;

use super::reference_io::{self, fit, owner, print, ImportArgs, ListArgs};
use super::site_client::Site;
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
    Import(ImportArgs),
    /// List the pick lists.
    List(ListArgs),
}

pub fn run(args: Args) -> super::Outcome {
    match args.command {
        Command::Import(import) => {
            reference_io::import(import, "pick list", |site, text, author| {
                site.import_pick_lists(text, author)
            })?
        }
        Command::List(ListArgs { json, site }) => {
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
