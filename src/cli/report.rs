//! `scantrail report stock|movements|recall|trace|warranty|expiry`: the
//! compliance reports of `crate::report`, as a table, CSV or JSON.
//!
//! The command opens the store directly. While the daemon (`scantrail run`)
//! holds the store, sled's lock refuses a second process: the command then
//! says to ask the daemon instead, `GET /api/v1/reports/<kind>?...`, which
//! runs the same code and returns the same JSON.

use std::io::Write;
use std::process::ExitCode;

use super::site_client::{Client, SiteArgs};
use super::store_args::StoreArgs;
use crate::report::{self, render, render::Format, ReportError, Request};
use crate::store::StoreError;

/// Arguments of `scantrail report`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Which report, with its parameters.
    #[command(subcommand)]
    pub report: Kind,
}

/// The item a movements or trace report follows: a lot or a serial of a
/// GTIN.
#[derive(clap::Args, Debug, Clone)]
pub struct Item {
    /// The GTIN
    #[arg(long)]
    pub gtin: String,
    /// The lot
    #[arg(long)]
    pub lot: Option<String>,
    /// The serial
    #[arg(long)]
    pub serial: Option<String>,
    /// Store, output format and token.
    #[command(flatten)]
    pub common: Common,
}

/// The flags every report takes: which store, the output format, and the
/// token for when the daemon holds the store.
#[derive(clap::Args, Debug, Clone)]
pub struct Common {
    /// Which store: `--data`, or `data_dir` of `--config`.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Output format
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Your API token when the daemon runs [default: $SCANTRAIL_TOKEN, else
    /// the configuration's admin token]
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
}

/// The reports, each with the parameters of its `key=value` query.
#[derive(clap::Subcommand, Debug)]
pub enum Kind {
    /// Stock on hand by GTIN, lot and location, and serials in stock.
    Stock {
        /// Only this GTIN
        #[arg(long)]
        gtin: Option<String>,
        /// Only this lot
        #[arg(long)]
        lot: Option<String>,
        /// Only this location
        #[arg(long)]
        location: Option<String>,
        /// Only stock expiring before this date (YYYY-MM-DD)
        #[arg(long, value_name = "DATE")]
        expiring_before: Option<String>,
        /// all | batch | serial
        #[arg(long)]
        by: Option<String>,
        /// Store, output format and token.
        #[command(flatten)]
        common: Common,
    },
    /// Every movement of a lot or a serial, in time order.
    Movements(Item),
    /// Recall impact of lots (--lot, repeatable) or a serial range (--from, --to).
    Recall {
        /// The recalled product's GTIN
        #[arg(long)]
        gtin: String,
        /// A recalled lot (repeat for several)
        #[arg(long)]
        lot: Vec<String>,
        /// The first serial of a recalled range (with --to)
        #[arg(long)]
        from: Option<String>,
        /// The last serial of the range, included
        #[arg(long)]
        to: Option<String>,
        /// Store, output format and token.
        #[command(flatten)]
        common: Common,
    },
    /// The chain of a lot or serial from receipt to customer.
    Trace(Item),
    /// Sale date, customer and warranty end of a serial.
    Warranty {
        /// The product's GTIN
        #[arg(long)]
        gtin: String,
        /// The serial sold
        #[arg(long)]
        serial: String,
        /// The date to judge "in warranty" on [default: today]
        #[arg(long, value_name = "DATE")]
        today: Option<String>,
        /// Store, output format and token.
        #[command(flatten)]
        common: Common,
    },
    /// Lots in stock expiring within N days, first expiry first.
    Expiry {
        /// Lots expiring within this many days
        #[arg(long)]
        days: String,
        /// Only this GTIN
        #[arg(long)]
        gtin: Option<String>,
        /// Only this location
        #[arg(long)]
        location: Option<String>,
        /// The date the days count from (YYYY-MM-DD) [default: today]
        #[arg(long, value_name = "DATE")]
        today: Option<String>,
        /// Store, output format and token.
        #[command(flatten)]
        common: Common,
    },
}

/// The report's name, its `key=value` pairs (the API's query string) and
/// the common flags.
fn pairs(kind: Kind) -> (&'static str, Vec<(String, String)>, Common) {
    let mut p = Vec::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            p.push((k.to_owned(), v));
        }
    };
    let is_trace = matches!(kind, Kind::Trace(_));
    let (name, common) = match kind {
        Kind::Stock {
            gtin,
            lot,
            location,
            expiring_before,
            by,
            common,
        } => {
            put("gtin", gtin);
            put("lot", lot);
            put("location", location);
            put("expiring_before", expiring_before);
            put("by", by);
            ("stock", common)
        }
        Kind::Movements(item) | Kind::Trace(item) => {
            let name = if is_trace { "trace" } else { "movements" };
            put("gtin", Some(item.gtin));
            put("lot", item.lot);
            put("serial", item.serial);
            (name, item.common)
        }
        Kind::Recall {
            gtin,
            lot,
            from,
            to,
            common,
        } => {
            put("gtin", Some(gtin));
            for l in lot {
                put("lot", Some(l));
            }
            put("from", from);
            put("to", to);
            ("recall", common)
        }
        Kind::Warranty {
            gtin,
            serial,
            today,
            common,
        } => {
            put("gtin", Some(gtin));
            put("serial", Some(serial));
            put("today", today);
            ("warranty", common)
        }
        Kind::Expiry {
            days,
            gtin,
            location,
            today,
            common,
        } => {
            put("days", Some(days));
            put("gtin", gtin);
            put("location", location);
            put("today", today);
            ("expiry", common)
        }
    };
    (name, p, common)
}

/// Validates the parameters, runs the report on the store and prints it;
/// when the daemon holds the store, asks the daemon's API for it instead.
pub fn run(args: Args) -> super::Outcome {
    let (kind, pairs, common) = pairs(args.report);
    // Bad input is refused before the store is opened.
    let request = match Request::from_pairs(kind, &pairs) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(super::REJECTED));
        }
    };
    // A head-office configuration: head office's reports cover every site
    // and come from its API (its store is held by `scantrail hq`).
    if common.store.data.is_none() {
        if let Ok(hq) = crate::hq::config::HqConfig::load(&common.store.config) {
            let mut query = pairs.clone();
            query.push(("format".to_owned(), common.format.name().to_owned()));
            let text = super::hq::report_text(
                &common.store.config,
                &hq,
                common.token.as_deref(),
                kind,
                &query,
            )?;
            print!("{text}");
            if !text.ends_with('\n') {
                println!();
            }
            return Ok(ExitCode::SUCCESS);
        }
    }
    let store = match common.store.open_existing() {
        Ok(s) => s,
        Err(e) => {
            if let Some(StoreError::InUse { .. }) = e.downcast_ref::<StoreError>() {
                // The daemon holds the store: it runs the same report.
                let client = Client::for_config(&SiteArgs {
                    store: common.store.clone(),
                    url: None,
                    token: common.token.clone(),
                })?;
                let mut query = pairs.clone();
                query.push(("format".to_owned(), common.format.name().to_owned()));
                let text = client.get_text(&format!("/api/v1/reports/{kind}"), &query)?;
                print!("{text}");
                if common.format == Format::Json && !text.ends_with('\n') {
                    println!();
                }
                return Ok(ExitCode::SUCCESS);
            }
            return Err(e);
        }
    };
    let report = match report::run(&store, &request) {
        Ok(r) => r,
        Err(ReportError::BadInput(e)) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(super::REJECTED));
        }
        Err(e) => return Err(e.into()),
    };
    let text = match common.format {
        Format::Table => render::table(&report),
        Format::Csv => {
            if let Some(note) = report.note() {
                eprintln!("{note}");
            }
            render::csv(&report)?
        }
        Format::Json => render::json(&report),
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}
