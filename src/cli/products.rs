//! `scantrail products`: import the product master from CSV or JSON, list
//! it. Through the daemon's API when it runs, directly otherwise.

use std::process::ExitCode;

use super::reference_io::{self, fit, owner, print, ImportArgs, ListArgs};
use super::site_client::Site;
use crate::station::reference::{Product, Tracking};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Import products from a CSV file (`gtin,description,tracking,
    /// warranty_months,shelf_life_days`) or a JSON array; `-` reads stdin.
    Import(ImportArgs),
    /// List the product master.
    List(ListArgs),
}

pub fn run(args: Args) -> super::Outcome {
    match args.command {
        Command::Import(import) => {
            reference_io::import(import, "product", |site, text, author| {
                site.import_products(text, author)
            })?
        }
        Command::List(ListArgs { json, site }) => {
            let products = Site::open(&site)?.products()?;
            print(
                &products,
                json,
                &format!(
                    "{:<14} {:<14} {:>6} {:>6} {:<12} {}",
                    "gtin", "tracking", "warr.m", "life.d", "owner", "description"
                ),
                row,
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn tracking(t: Tracking) -> &'static str {
    match t {
        Tracking::None => "none",
        Tracking::Lot => "lot",
        Tracking::Serial => "serial",
        Tracking::LotAndSerial => "lot_and_serial",
    }
}

fn row(p: &Product) -> String {
    let number = |n: Option<u32>| n.map_or_else(|| "-".to_owned(), |n| n.to_string());
    format!(
        "{:<14} {:<14} {:>6} {:>6} {:<12} {}",
        p.gtin,
        tracking(p.tracking),
        number(p.warranty_months),
        number(p.shelf_life_days),
        fit(&owner(&p.owner), 12),
        fit(&p.description, 80 - 57),
    )
}
