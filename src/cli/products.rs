//! `scantrail products`: import the product master from CSV or JSON, list
//! it. Through the daemon's API when it runs, directly otherwise.

use super::reference_io::{self, fit, owner};
use super::site_client::Site;
use crate::station::reference::{Product, Tracking};

/// The arguments of this command.
pub type Args = super::Sub<reference_io::Command>;

/// Imports or lists the product master, through the daemon when it runs.
pub fn run(args: Args) -> super::Outcome {
    reference_io::run(
        args.command,
        reference_io::Kind {
            name: "product",
            import: Site::import_products,
            list: Site::products,
            table: (HEADER, line),
            row,
        },
    )
}

const HEADER: [&str; 6] = [
    "gtin",
    "tracking",
    "warr.m",
    "life.d",
    "owner",
    "description",
];

/// One line of the table, header or product.
fn line(cells: [&str; 6]) -> String {
    let [gtin, tracking, warranty, life, owner, description] = cells;
    format!("{gtin:<14} {tracking:<14} {warranty:>6} {life:>6} {owner:<12} {description}")
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
    line([
        &p.gtin,
        tracking(p.tracking),
        &number(p.warranty_months),
        &number(p.shelf_life_days),
        &fit(&owner(&p.owner), 12),
        &fit(&p.description, 80 - 57),
    ])
}
