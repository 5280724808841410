//! `scantrail epcis export`: the journal as an EPCIS 2.0 JSON-LD document
//! (`crate::epcis`), to standard output or a file, written as it is read.
//! From the site's store, or head office's embedded store of every site
//! (`--hq-config`); while the site daemon holds the store, through its
//! API (`GET /api/v1/epcis/events`), which runs the same code.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::site_client::{Site, SiteArgs};
use crate::config::Config;
use crate::epcis::{self, Request, Settings};
use crate::hq::config::HqConfig;
use crate::store::{OpenOptions, Store};

/// Arguments of `scantrail epcis`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// `scantrail epcis` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Write the journal as an EPCIS 2.0 document (application/ld+json).
    Export(Export),
}

/// `scantrail epcis export`.
#[derive(clap::Args, Debug)]
pub struct Export {
    /// Only movements from this seq on
    #[arg(long, value_name = "SEQ", conflicts_with_all = ["from", "to"])]
    pub since: Option<u64>,
    /// Only movements scanned on or after this day (YYYY-MM-DD, the site's time zone)
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Only movements scanned on or before this day (YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// One event per movement, or per despatch/receipt document
    #[arg(long, value_name = "movement|document", default_value = "movement")]
    pub group_by: String,
    /// eventID: UUIDv5 of site and seq, or the CBV 2.0 event hash
    #[arg(long, value_name = "uuid|hash", default_value = "uuid")]
    pub event_id: String,
    /// Identifiers as GS1 Digital Link URIs, or EPC URNs (needs `[epcis] company_prefix_length` or `company_prefixes`)
    #[arg(long, value_name = "dl|urn", default_value = "dl")]
    pub format: String,
    /// Write to this file instead of standard output
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Head office: export from its embedded store, every site of this hq.toml (or `--site`)
    #[arg(long, value_name = "FILE")]
    pub hq_config: Option<PathBuf>,
    /// Head office: only this site
    #[arg(long, value_name = "ID", requires = "hq_config")]
    pub site: Option<String>,
    /// The site's store, configuration, and its daemon when it runs.
    #[command(flatten)]
    pub target: SiteArgs,
}

impl Export {
    /// The API's query pairs of these flags.
    fn pairs(&self) -> Vec<(String, String)> {
        let mut p = Vec::new();
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                p.push((k.to_owned(), v));
            }
        };
        put("since", self.since.map(|s| s.to_string()));
        put("from", self.from.clone());
        put("to", self.to.clone());
        put("group_by", Some(self.group_by.clone()));
        put("event_id", Some(self.event_id.clone()));
        put("format", Some(self.format.clone()));
        put("site", self.site.clone());
        p
    }
}

/// Runs `scantrail epcis`.
pub fn run(args: Args) -> super::Outcome {
    let Command::Export(export) = args.command;
    let request = Request::from_pairs(&export.pairs())?;
    let out: Box<dyn Write> = match &export.output {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = std::io::BufWriter::with_capacity(256 * 1024, out);
    let summary = match &export.hq_config {
        Some(path) => from_hq(path, &request, &mut out)?,
        // The journal is read once from end to end: sled's page cache
        // would only grow the process (to its 1 GB default), not speed it.
        None => match Site::open_with_cache(&export.target, crate::store::ONE_PASS_CACHE_BYTES)? {
            Site::Direct(store) => {
                let config = Config::load(&export.target.store.config).with_context(|| {
                    "EPCIS needs the site's configuration ([site] gln, [epcis])".to_owned()
                })?;
                let settings = request.settings(config.site.gln.as_deref(), &config.epcis)?;
                let sites = [(store.site().to_owned(), settings)];
                epcis::export(&store, &sites, &request.range, &mut out, chrono::Utc::now())?.1
            }
            Site::Daemon(client) => {
                let pairs: Vec<(String, String)> = export
                    .pairs()
                    .into_iter()
                    .filter(|(k, _)| k != "site")
                    .collect();
                client.get_to("/api/v1/epcis/events", &pairs, &mut out)?;
                out.flush()?;
                return Ok(ExitCode::SUCCESS);
            }
        },
    };
    out.flush()?;
    eprintln!(
        "{} events from {} movements",
        summary.events, summary.movements
    );
    Ok(ExitCode::SUCCESS)
}

/// Exports from head office's embedded store: each configured site with
/// its GLN and time zone.
fn from_hq(
    path: &std::path::Path,
    request: &Request,
    out: &mut impl Write,
) -> anyhow::Result<epcis::Summary> {
    let config = HqConfig::load(path)?;
    if config.hq.database.is_some() {
        anyhow::bail!(
            "{} stores into PostgreSQL: `scantrail epcis export --hq-config` reads the embedded store only; ask head office's API, GET /api/v1/epcis/events",
            path.display()
        );
    }
    let sites = config.epcis_sites(request.site.as_deref());
    if sites.is_empty() {
        anyhow::bail!("no such site in {}: {:?}", path.display(), request.site);
    }
    let settings = sites
        .iter()
        .map(|(id, gln, c)| {
            request
                .settings(gln.as_deref(), c)
                .with_context(|| format!("site {id} ([[sites]] gln, time_zone)"))
                .map(|s| (id.clone(), s))
        })
        .collect::<anyhow::Result<Vec<(String, Settings)>>>()?;
    let store = Store::open(
        &config.data_dir,
        OpenOptions::existing(Some(config.hq.id.clone())),
    )
    .with_context(|| {
        format!(
            "cannot open head office's store at {}",
            config.data_dir.display()
        )
    })?;
    Ok(epcis::export(&store, &settings, &request.range, out, chrono::Utc::now())?.1)
}
