//! `scantrail hq`: run head office, or (with a subcommand) act on the
//! running head office through its HTTPS API: issue and release recalls,
//! publish products and pick lists, list each site's position and alerts,
//! and hash a site's token for `config/hq.toml`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::reference_io::NewHoldArgs;
use crate::hq::config::{self, HqConfig};
use crate::station::reference::{Hold, HoldKind};
use crate::sync::protocol::{path, SiteStatus};

/// Arguments of `scantrail hq`: serving options, and the flags every
/// subcommand uses to reach the running head office.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The head-office configuration file.
    #[arg(long, value_name = "FILE", default_value = config::DEFAULT_PATH, global = true)]
    pub config: PathBuf,
    /// Where to listen [default: `[hq] listen`] (serving only).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Store into this PostgreSQL database, postgres://USER@HOST:PORT/DB,
    /// instead of the embedded store [default: `[hq] database`] (serving
    /// only).
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// The running head office's URL [default: https:// + `[hq] listen`].
    #[arg(long, value_name = "URL", global = true)]
    pub url: Option<String>,
    /// Your own API token; its name is recorded as the author
    /// [default: $SCANTRAIL_TOKEN, else an admin token of the configuration]
    #[arg(long, value_name = "TOKEN", global = true)]
    pub token: Option<String>,
    /// What to do on the running head office; none: serve head office.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands of `scantrail hq`.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Each site's last seq, backlog (`?` for a site that does not report
    /// it), lag while it has one, last contact, reference versions and
    /// alerts.
    Status {
        /// JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Recalls and holds issued to every site.
    Recall {
        /// Add, release or list.
        #[command(subcommand)]
        command: RecallCommand,
    },
    /// Publish the product master (CSV or JSON file) to every site.
    Products {
        /// The file to import
        file: PathBuf,
    },
    /// Publish pick lists (CSV or JSON file) to every site.
    Picklists {
        /// The file to import
        file: PathBuf,
    },
    /// Print the SHA-256 of a site token, for `token_sha256` in hq.toml.
    HashToken {
        /// The site's token (its `[sync] credential`)
        token: String,
    },
    /// Copy an embedded head-office store (head office stopped) into
    /// PostgreSQL, checking every site's chain on the way; safe to run
    /// again (what the database holds must match, and is kept).
    Migrate {
        /// The embedded store's folder (`data_dir` of hq.toml)
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
        /// The database, postgres://USER@HOST:PORT/DATABASE
        #[arg(long, value_name = "URL")]
        to: String,
    },
}

/// The subcommands of `scantrail hq recall`.
#[derive(clap::Subcommand, Debug)]
pub enum RecallCommand {
    /// Issue a recall (or with --hold, a hold) of lots or serials of a GTIN.
    Add {
        /// What is recalled: GTIN, lots or serial range, reason.
        #[command(flatten)]
        new: NewHoldArgs,
        /// A hold (quarantine) rather than a recall
        #[arg(long)]
        hold: bool,
        /// Refused: the author is the name of the token (kept so an old
        /// script gets a clear error)
        #[arg(long, value_name = "NAME", hide = true)]
        by: Option<String>,
    },
    /// Release a head-office recall or hold.
    Release {
        /// The recall's or hold's id
        id: String,
        /// Why it is released
        #[arg(long, value_name = "TEXT")]
        why: String,
        /// Refused: the author is the name of the token (kept so an old
        /// script gets a clear error)
        #[arg(long, value_name = "NAME", hide = true)]
        by: Option<String>,
    },
    /// List head-office recalls and holds.
    List,
}

/// Serves head office, or acts on the running one through its HTTPS API
/// (or prints a token's hash, which needs no head office).
pub fn run(args: Args) -> super::Outcome {
    if let Some(Command::HashToken { token }) = &args.command {
        println!("{}", config::hash_token(token));
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(Command::Migrate { from, to }) = &args.command {
        return migrate(from, to);
    }
    let mut config = HqConfig::load(&args.config)?;
    if args.database.is_some() {
        config.hq.database = args.database.clone();
    }
    let Some(command) = args.command else {
        crate::logging::configure(&config.log);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        runtime.block_on(crate::hq::run(config, args.listen))?;
        return Ok(ExitCode::SUCCESS);
    };
    let client = Client::new(
        &config,
        &args.config,
        args.url.as_deref(),
        args.token.as_deref(),
    )?;
    match command {
        Command::HashToken { .. } | Command::Migrate { .. } => {}
        Command::Status { json } => {
            let sites: Vec<SiteStatus> = client.get(path::SITES)?;
            if json {
                for s in &sites {
                    println!("{}", serde_json::to_string(s)?);
                }
            } else {
                // Backlog and lag apart from the last contact: a quiet
                // site that has sent everything is not behind.
                println!(
                    "{:<16} {:>10} {:>9} {:>8} {:>8} {:<20} {:>6}  alerts",
                    "site", "last seq", "rejected", "backlog", "lag (s)", "last contact", "holds"
                );
                for s in &sites {
                    println!(
                        "{:<16} {:>10} {:>9} {:>8} {:>8} {:<20} {:>6}  {}",
                        s.site,
                        s.last_seq,
                        s.last_rejected_seq,
                        s.backlog.map_or("?".into(), |b| b.to_string()),
                        s.lag_seconds.map_or("-".into(), |l| l.to_string()),
                        s.last_contact.or(s.last_seen).map_or("never".into(), |t| t
                            .format("%Y-%m-%d %H:%M:%S")
                            .to_string()),
                        s.reference.holds,
                        s.alerts.len()
                    );
                    for a in s.alerts.iter().rev().take(5) {
                        println!(
                            "    {} {}: {}",
                            a.at.format("%Y-%m-%d %H:%M:%S"),
                            a.code,
                            a.message
                        );
                    }
                }
            }
        }
        Command::Recall { command } => match command {
            RecallCommand::Add { new, hold, by: who } => {
                let new = new.into_hold(if hold {
                    HoldKind::Hold
                } else {
                    HoldKind::Recall
                });
                refuse_by(who.as_deref())?;
                let h: Hold = client.post(path::HOLDS, &serde_json::to_value(&new)?)?;
                println!("issued {} on GTIN {} to every site", h.label(), h.gtin);
            }
            RecallCommand::Release { id, why, by: who } => {
                refuse_by(who.as_deref())?;
                let h: Hold = client.post(
                    &format!("/api/v1/holds/{id}/release"),
                    &json!({ "why": why }),
                )?;
                println!("released {}", h.label());
            }
            RecallCommand::List => {
                let holds: Vec<Hold> = client.get(path::HOLDS)?;
                for h in holds {
                    println!(
                        "{:<12} {:<6} {} {:?} {} {}",
                        h.id,
                        if h.kind == HoldKind::Recall {
                            "recall"
                        } else {
                            "hold"
                        },
                        h.gtin,
                        h.scope,
                        if h.is_active() { "active" } else { "released" },
                        h.reason
                    );
                }
            }
        },
        Command::Products { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let v: serde_json::Value = client.post_text(path::PRODUCTS, &text)?;
            println!("published {} products", v["imported"]);
        }
        Command::Picklists { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let v: serde_json::Value = client.post_text(path::PICKLISTS, &text)?;
            println!("published {} pick lists", v["imported"]);
        }
    }
    Ok(ExitCode::SUCCESS)
}

struct Client {
    base: String,
    token: String,
    agent: ureq::Agent,
}

impl Client {
    fn new(
        config: &HqConfig,
        path: &std::path::Path,
        url: Option<&str>,
        token: Option<&str>,
    ) -> anyhow::Result<Client> {
        let token = super::site_client::api_token(token, config.admin_token(), path)?;
        let base = match url {
            Some(u) => u.trim_end_matches('/').to_owned(),
            None => {
                super::site_client::base_url(&config.hq.listen).replacen("http://", "https://", 1)
            }
        };
        let agent = crate::sync::tls::agent(config.hq.ca.as_deref(), Duration::from_secs(30))?;
        Ok(Client { base, token, agent })
    }

    fn answer<T: DeserializeOwned>(
        &self,
        r: Result<ureq::Response, ureq::Error>,
    ) -> anyhow::Result<T> {
        match r {
            Ok(r) => Ok(r.into_json()?),
            Err(ureq::Error::Status(code, r)) => {
                let text = r.into_string().unwrap_or_default();
                let msg = serde_json::from_str::<serde_json::Value>(&text)
                    .ok()
                    .and_then(|v| v["error"].as_str().map(str::to_owned))
                    .unwrap_or(text);
                anyhow::bail!("head office answered HTTP {code}: {msg}")
            }
            Err(ureq::Error::Transport(t)) => anyhow::bail!(
                "cannot reach head office at {} ({t}): is `scantrail hq` running?",
                self.base
            ),
        }
    }

    fn request(&self, method: &str, p: &str) -> ureq::Request {
        self.agent
            .request(method, &format!("{}{p}", self.base))
            .set("Authorization", &format!("Bearer {}", self.token))
    }

    fn get<T: DeserializeOwned>(&self, p: &str) -> anyhow::Result<T> {
        self.answer(self.request("GET", p).call())
    }

    fn post<T: DeserializeOwned>(&self, p: &str, body: &serde_json::Value) -> anyhow::Result<T> {
        self.answer(self.request("POST", p).send_json(body))
    }

    fn post_text<T: DeserializeOwned>(&self, p: &str, text: &str) -> anyhow::Result<T> {
        self.answer(
            self.request("POST", p)
                .set("Content-Type", "text/plain; charset=utf-8")
                .send_string(text),
        )
    }
}

/// A report over every site from the running head office (`scantrail
/// report ... --config hq.toml`), as text in `format`.
pub(super) fn report_text(
    config_path: &std::path::Path,
    config: &HqConfig,
    token: Option<&str>,
    kind: &str,
    query: &[(String, String)],
) -> anyhow::Result<String> {
    let client = Client::new(config, config_path, None, token)?;
    let mut request = client.request("GET", &format!("/api/v1/reports/{kind}"));
    for (k, v) in query {
        request = request.query(k, v);
    }
    match request.call() {
        Ok(r) => Ok(r.into_string()?),
        Err(e) => client
            .answer::<serde_json::Value>(Err(e))
            .map(|_| String::new()),
    }
}

/// `--by` cannot name the author: head office records the token's name.
fn refuse_by(by: Option<&str>) -> anyhow::Result<()> {
    match by {
        Some(_) => anyhow::bail!(
            "--by cannot name the author: head office records the name of the token the command uses (--token or ${}); leave --by out",
            super::site_client::TOKEN_ENV
        ),
        None => Ok(()),
    }
}

/// `scantrail hq migrate`: the copy, and what it did in one line.
fn migrate(from: &std::path::Path, to: &str) -> super::Outcome {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let c = runtime.block_on(crate::hq::migrate::migrate(from, to, "hq"))?;
    println!(
        "copied {} sites: {} movements new, {} already there; {} rejected scans new, {} already there; {} published records",
        c.sites, c.movements_new, c.movements_held, c.rejections_new, c.rejections_held, c.published
    );
    Ok(ExitCode::SUCCESS)
}
