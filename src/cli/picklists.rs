//! `scantrail picklists`: import the orders dispatch picks from CSV or
//! JSON, list them. Through the daemon's API when it runs, directly
//! otherwise.

use super::reference_io::{self, fit, owner};
use super::site_client::Site;
use crate::station::reference::PickList;

/// The arguments of this command.
pub type Args = super::Sub<reference_io::Command>;

/// Imports or lists pick lists, through the daemon when it runs.
pub fn run(args: Args) -> super::Outcome {
    reference_io::run(
        args.command,
        reference_io::Kind {
            name: "pick list",
            import: Site::import_pick_lists,
            list: Site::pick_lists,
            table: (HEADER, line),
            row,
        },
    )
}

const HEADER: [&str; 7] = [
    "order",
    "customer gln",
    "customer",
    "lines",
    "units",
    "owner",
    "changed",
];

/// One line of the table, header or pick list.
fn line(cells: [&str; 7]) -> String {
    let [order, gln, customer, lines, units, owner, changed] = cells;
    format!("{order:<12} {gln:<13} {customer:<16} {lines:>5} {units:>6} {owner:<10} {changed}")
}

fn row(l: &PickList) -> String {
    let units: u64 = l.lines.iter().map(|line| line.quantity).sum();
    line([
        &fit(&l.order, 12),
        l.customer.gln.as_deref().unwrap_or("-"),
        &fit(l.customer.name.as_deref().unwrap_or("-"), 16),
        &l.lines.len().to_string(),
        &units.to_string(),
        &fit(&owner(&l.owner), 10),
        &l.change.at.format("%Y-%m-%d").to_string(),
    ])
}
