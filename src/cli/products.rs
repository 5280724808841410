//! `scantrail products`: import the product master from CSV or JSON, list
//! it. Through the daemon's API when it runs, directly otherwise.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use super::reference_io::{fit, owner, print, read_input};
use super::site_client::{default_person, Site, SiteArgs};
use crate::site::catalog::Author;
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
    Import {
        /// The file to import
        file: PathBuf,
        /// Who is importing [default: the login name]
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
        /// Why, recorded with every product
        #[arg(long, value_name = "TEXT", default_value = "product import")]
        why: String,
        #[command(flatten)]
        site: SiteArgs,
    },
    /// List the product master.
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
                .import_products(&text, &author)
                .with_context(|| format!("{} was not imported", file.display()))?;
            println!("imported {n} products from {}", file.display());
        }
        Command::List { json, site } => {
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
