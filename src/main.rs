//! The `scantrail` command line. Parsing only: every command's work lives in
//! the library, under `scantrail::cli`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use scantrail::cli;

/// jemalloc instead of glibc's malloc, for every command and the daemon:
/// reading the journal allocates and frees a dozen and more small strings
/// per movement, which under glibc took half the CPU of an EPCIS export of
/// a million movements; with jemalloc the export runs twice as fast, and
/// the daemon's memory per recorded scan is no higher (BENCHMARKS.md,
/// "Allocator: jemalloc for the binary").
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Hands the pages jemalloc keeps of freed allocations back to the
/// system. The daemon's store calls it between closing sled and opening it
/// again (`scantrail::store::refresh`): without it the old opening's freed
/// pages stay resident while the new one allocates, and each reopening
/// peaked up to 74 MiB above the daemon's running memory (BENCHMARKS.md,
/// "Reopening the store at a quiet moment").
fn purge_freed_memory() -> std::io::Result<()> {
    // SAFETY: a mallctl that reads and writes nothing, on a name jemalloc
    // defines for every arena (MALLCTL_ARENAS_ALL is 4096).
    let rc = unsafe {
        tikv_jemalloc_sys::mallctl(
            c"arena.4096.purge".as_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        )
    };
    // mallctl returns an errno value.
    match rc {
        0 => Ok(()),
        rc => Err(std::io::Error::from_raw_os_error(rc)),
    }
}

#[derive(Parser)]
#[command(
    name = "scantrail",
    version,
    about = "Warehouse barcode scanning with GS1 lot and serial traceability"
)]
struct Cli {
    /// Log lines for a person (human) or a log shipper (json) [default: the configuration's `[log] format`, else human].
    #[arg(long, value_name = "FORMAT", global = true)]
    log_format: Option<scantrail::logging::LogFormat>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the site daemon: scanners, handheld API, station rules, journal.
    Run(cli::run::Args),
    /// Parse and validate GS1 barcode data, as a scanner sends it or as a person types it.
    Parse(cli::parse::Args),
    /// Check a configuration file (a site's or head office's) as the daemon would at start, without starting it.
    CheckConfig(cli::check_config::Args),
    /// Check an installed site: config, data directory, store, scanner ports, ModemManager, head office; one line each with the fix.
    Doctor(cli::doctor::Args),
    /// Print the journal of movements, as a table or JSON lines.
    Journal(cli::journal::Args),
    /// Check every hash chain and derived tree (exit 1 naming the first bad seq) and the history's sense (exit 2)
    Verify(cli::verify::Args),
    /// Rebuild every derived tree from the journal.
    Reindex(cli::reindex::Args),
    /// Write a consistent copy of the store to DEST.
    Backup(cli::backup::Args),
    /// The store's figures: movements, size on disk and in memory, last verify.
    Store(cli::store::Args),
    /// Rebuild a dead site PC's store from head office's copy (`--from-hq`), or from BACKUP plus what head office holds past it (`--catch-up-from-hq`).
    Restore(cli::restore::Args),
    /// Compliance reports: stock, movements, recall, trace, warranty, expiry.
    Report(cli::report::Args),
    /// EPCIS 2.0 for trading partners: export the journal as events.
    Epcis(cli::epcis::Args),
    /// The product master: import from CSV or JSON, list.
    ///
    /// A CSV file has the columns
    /// `gtin,description,tracking,warranty_months,shelf_life_days`.
    Products(cli::products::Args),
    /// Holds and recalls: add, list, release the site's own.
    Holds(cli::holds::Args),
    /// Pick lists for dispatch: import from CSV or JSON, list.
    ///
    /// A CSV file has one row per line:
    /// `order,customer_gln,customer_name,gtin,quantity,lots`. An order
    /// imported again replaces the earlier one.
    Picklists(cli::picklists::Args),
    /// Reverse a movement of the journal with a correction, naming why.
    Correct(cli::correct::Args),
    /// Open one scanner and print every scan as it is read, parsed.
    Listen(cli::listen::Args),
    /// A virtual scanner on a pseudo-terminal that sends the given scans.
    Simulate(cli::simulate::Args),
    /// Read every barcode in PNG or JPEG photos of labels and parse each like a scan.
    Decode(cli::decode::Args),
    /// Run head office (or act on it: recalls, products, pick lists, site status).
    Hq(cli::hq::Args),
    /// The site's link to head office: state, backlog, last acknowledgement.
    Status(cli::status::Args),
    /// Sync to head office: resume after a halt.
    Sync(cli::sync::Args),
    /// Console users: add one (an argon2 hash of the password in the configuration).
    User(cli::user::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    scantrail::logging::init(cli.log_format);
    scantrail::memory::give_back_with(purge_freed_memory);
    let outcome = match cli.command {
        Command::Run(args) => cli::run::run(args),
        Command::Parse(args) => cli::parse::run(args),
        Command::CheckConfig(args) => cli::check_config::run(args),
        Command::Doctor(args) => cli::doctor::run(args),
        Command::Journal(args) => cli::journal::run(args),
        Command::Verify(args) => cli::verify::run(args),
        Command::Reindex(args) => cli::reindex::run(args),
        Command::Backup(args) => cli::backup::run(args),
        Command::Store(args) => cli::store::run(args),
        Command::Restore(args) => cli::restore::run(args),
        Command::Report(args) => cli::report::run(args),
        Command::Epcis(args) => cli::epcis::run(args),
        Command::Products(args) => cli::products::run(args),
        Command::Holds(args) => cli::holds::run(args),
        Command::Picklists(args) => cli::picklists::run(args),
        Command::Correct(args) => cli::correct::run(args),
        Command::Listen(args) => cli::listen::run(args),
        Command::Simulate(args) => cli::simulate::run(args),
        Command::Decode(args) => cli::decode::run(args),
        Command::Hq(args) => cli::hq::run(args),
        Command::Status(args) => cli::status::run(args),
        Command::Sync(args) => cli::sync::run(args),
        Command::User(args) => cli::user::run(args),
    };
    cli::finish(outcome)
}
