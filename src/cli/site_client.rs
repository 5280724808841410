//! The one place that decides how a command reaches the site's records:
//! directly through the store when no daemon runs, or through the running
//! daemon's HTTP API when it holds the store (sled lets one process open
//! it). Both paths end in the same `station::catalog` operations, so the
//! ownership rules are the same either way.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::store_args::StoreArgs;
use crate::config::Config;
use crate::model::Movement;
use crate::site::catalog::SiteRecords;
use crate::site::store_stats::StoreStats;
use crate::station::catalog::{self, Author, NewHold};
use crate::station::reference::{Hold, PickList, Product};
use crate::store::{Store, StoreError};

/// `--config`, `--data`, and where the daemon is when it runs.
#[derive(clap::Args, Debug, Clone)]
pub struct SiteArgs {
    /// Which store, and the configuration that names the daemon's address.
    #[command(flatten)]
    pub store: StoreArgs,
    /// The running daemon's API, used when it holds the store
    /// [default: from `[http] listen` of the configuration]
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Your own API token for the running daemon; its name is recorded as
    /// the author [default: $SCANTRAIL_TOKEN, else an admin token written
    /// in the configuration]
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
}

/// The environment variable that holds a person's API token.
pub const TOKEN_ENV: &str = "SCANTRAIL_TOKEN";

/// The token a command reaches a daemon with: `--token`, else
/// `$SCANTRAIL_TOKEN`, else the configuration's admin token (`fallback`).
pub fn api_token(
    flag: Option<&str>,
    fallback: Option<String>,
    config: &std::path::Path,
) -> anyhow::Result<String> {
    let env = std::env::var(TOKEN_ENV).ok();
    flag.map(str::to_owned)
        .or(env)
        .filter(|t| !t.trim().is_empty())
        .or(fallback)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "reaching the running server needs your API token: give --token TOKEN or set {TOKEN_ENV} (a `[[tokens]]` entry of {})",
                config.display()
            )
        })
}

/// The site, as this command reaches it.
pub enum Site {
    /// No daemon runs: this process holds the store.
    Direct(Store),
    /// The daemon holds the store: every operation is an API request.
    Daemon(Client),
}

/// A blocking client for the daemon's API, authenticated with the caller's
/// token (see [`api_token`]).
pub struct Client {
    base: String,
    token: String,
    agent: ureq::Agent,
}

/// Who is acting when `--by` / `--operator` is not given: the login name.
/// Through the daemon the author is the token's name, never this.
pub fn default_person() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "scantrail-cli".to_owned())
}

impl Site {
    /// Opens the store; if a daemon holds it, connects to the daemon instead.
    pub fn open(args: &SiteArgs) -> anyhow::Result<Site> {
        Site::open_with_cache(args, crate::store::DEFAULT_CACHE_BYTES)
    }

    /// `open`, with sled's page cache held to `cache_bytes`: for a command
    /// that reads the journal once from end to end (an export), where a
    /// cache of the default size only grows the process.
    pub fn open_with_cache(args: &SiteArgs, cache_bytes: u64) -> anyhow::Result<Site> {
        match args.store.open_existing_with_cache(cache_bytes) {
            Ok(store) => Ok(Site::Direct(store)),
            Err(e)
                if matches!(
                    e.downcast_ref::<StoreError>(),
                    Some(StoreError::InUse { .. })
                ) =>
            {
                Ok(Site::Daemon(Client::for_config(args)?))
            }
            Err(e) => Err(e),
        }
    }

    /// The product master.
    pub fn products(&self) -> anyhow::Result<Vec<Product>> {
        match self {
            Site::Direct(store) => Ok(catalog::products(&SiteRecords(store))?),
            Site::Daemon(c) => c.get("/api/v1/products", &[]),
        }
    }

    /// Every hold and recall, released ones included.
    pub fn holds(&self) -> anyhow::Result<Vec<Hold>> {
        match self {
            Site::Direct(store) => Ok(catalog::holds(&SiteRecords(store))?),
            Site::Daemon(c) => c.get("/api/v1/holds", &[]),
        }
    }

    /// The pick lists for dispatch.
    pub fn pick_lists(&self) -> anyhow::Result<Vec<PickList>> {
        match self {
            Site::Direct(store) => Ok(catalog::pick_lists(&SiteRecords(store))?),
            Site::Daemon(c) => c.get("/api/v1/picklists", &[]),
        }
    }

    /// The store's figures; `memory_bound` is `[store] memory_mb` in bytes
    /// (the daemon answers with its own).
    pub fn store_stats(&self, memory_bound: u64) -> anyhow::Result<StoreStats> {
        match self {
            Site::Direct(store) => Ok(StoreStats::read(store, memory_bound, None)?),
            Site::Daemon(c) => c.get("/api/v1/store", &[]),
        }
    }

    /// Refuses `--by` when the daemon records the author (its token's name).
    pub fn check_by(&self, by: Option<&str>) -> anyhow::Result<()> {
        match (self, by) {
            (Site::Daemon(_), Some(_)) => anyhow::bail!(
                "--by cannot name the author while the daemon runs: it records the name of the token the command uses (--token or ${TOKEN_ENV}); leave --by out"
            ),
            _ => Ok(()),
        }
    }

    /// Imports a product file (CSV or JSON); returns how many products.
    pub fn import_products(&self, text: &str, author: &Author) -> anyhow::Result<usize> {
        match self {
            Site::Direct(store) => Ok(catalog::import_products(&SiteRecords(store), text, author)?),
            Site::Daemon(c) => c.import("/api/v1/products", text, author),
        }
    }

    /// Imports a pick list file (CSV or JSON); returns how many orders.
    pub fn import_pick_lists(&self, text: &str, author: &Author) -> anyhow::Result<usize> {
        match self {
            Site::Direct(store) => Ok(catalog::import_pick_lists(
                &SiteRecords(store),
                text,
                author,
            )?),
            Site::Daemon(c) => c.import("/api/v1/picklists", text, author),
        }
    }

    /// Adds one of the site's own holds; the reason is also the change's why.
    pub fn add_hold(&self, hold: NewHold, by: &str) -> anyhow::Result<Hold> {
        match self {
            Site::Direct(store) => {
                let author = Author {
                    by: by.to_owned(),
                    why: hold.reason.clone(),
                };
                Ok(catalog::add_hold(&SiteRecords(store), hold, &author)?)
            }
            Site::Daemon(c) => c.post("/api/v1/holds", &serde_json::to_value(&hold)?),
        }
    }

    /// Releases one of the site's own holds (`station::catalog` refuses
    /// head office's); `author.why` says why.
    pub fn release_hold(&self, id: &str, author: &Author) -> anyhow::Result<Hold> {
        match self {
            Site::Direct(store) => Ok(catalog::release_hold(&SiteRecords(store), id, author)?),
            Site::Daemon(c) => c.post(
                &format!("/api/v1/holds/{}/release", encode_segment(id)),
                &json!({ "why": author.why }),
            ),
        }
    }

    /// Records the movement that reverses `origin:seq` (the site's own
    /// origin when none is given). With the daemon running the desk does
    /// it, so it is ordered with the scans, and the author is the token's
    /// name; `operator` is who was signed in (by default the login name).
    pub fn correct(
        &self,
        origin: Option<&str>,
        seq: u64,
        reason: &str,
        operator: &str,
    ) -> anyhow::Result<Movement> {
        if reason.trim().is_empty() {
            anyhow::bail!("a correction needs a reason: give --reason TEXT");
        }
        match self {
            Site::Direct(store) => {
                let origin = origin.unwrap_or_else(|| store.site());
                let id = crate::model::MovementId {
                    origin: origin.to_owned(),
                    seq,
                };
                let movement = crate::site::desk::decide_correction(
                    store,
                    &crate::site::view::Pending::default(),
                    &id,
                    reason,
                    operator,
                    // No daemon, so no token: the machine's own user.
                    &format!("local:{}", default_person()),
                )?;
                Ok(store.journal().commit(movement)?)
            }
            Site::Daemon(c) => c.post(
                "/api/v1/corrections",
                &json!({
                    "origin": origin,
                    "seq": seq,
                    "reason": reason,
                    "operator": operator,
                }),
            ),
        }
    }

    /// Every origin's movements after `since`, page by page, in seq order.
    /// Through the daemon only the site's own origin is listed (the API
    /// names no others).
    pub fn journal(
        &self,
        since: u64,
        page: usize,
        mut each: impl FnMut(&Movement) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let origins = match self {
            Site::Direct(store) => store.journal().origins()?.into_iter().map(Some).collect(),
            Site::Daemon(_) => vec![None],
        };
        for origin in origins {
            let mut from = since.saturating_add(1);
            loop {
                let batch: Vec<Movement> = match (self, &origin) {
                    (Site::Direct(store), Some(o)) => store.journal().range(o, from, page)?,
                    (Site::Direct(_), None) => Vec::new(),
                    (Site::Daemon(c), _) => c.get(
                        "/api/v1/journal",
                        &[("since", from.to_string()), ("limit", page.to_string())],
                    )?,
                };
                for m in &batch {
                    each(m)?;
                }
                match batch.last() {
                    Some(last) if batch.len() == page => from = last.seq + 1,
                    _ => break,
                }
            }
        }
        Ok(())
    }
}

/// What a path segment keeps as it is: RFC 3986's unreserved characters.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes a path segment (hold ids are free text).
fn encode_segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

/// The daemon's base URL from its listen address: a wildcard address is
/// reached on loopback.
pub(crate) fn base_url(listen: &str) -> String {
    let listen = listen.trim();
    let host_port = if let Some(port) = listen.strip_prefix("0.0.0.0:") {
        format!("127.0.0.1:{port}")
    } else if let Some(port) = listen.strip_prefix("[::]:") {
        format!("[::1]:{port}")
    } else {
        listen.to_owned()
    };
    format!("http://{host_port}")
}

impl Client {
    /// A client for the daemon of `--config`: its `--url` (else `[http]
    /// listen`) and the caller's token (see [`api_token`]).
    pub fn for_config(args: &SiteArgs) -> anyhow::Result<Client> {
        let path: &PathBuf = &args.store.config;
        let config = Config::load(path)
            .context("a running daemon holds the store, and reaching it needs its configuration")?;
        let token = api_token(args.token.as_deref(), config.admin_token(), path)
            .context("a running daemon holds the store")?;
        let base = match &args.url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => base_url(&config.http.listen),
        };
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .build();
        Ok(Client { base, token, agent })
    }

    fn request(&self, method: &str, path: &str) -> ureq::Request {
        self.agent
            .request(method, &format!("{}{path}", self.base))
            .set("Authorization", &format!("Bearer {}", self.token))
    }

    fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, String)]) -> anyhow::Result<T> {
        let mut request = self.request("GET", path);
        for (k, v) in query {
            request = request.query(k, v);
        }
        self.answer(path, request.call())
    }

    /// A GET whose answer is text (a report as a table or CSV).
    pub fn get_text(&self, path: &str, query: &[(String, String)]) -> anyhow::Result<String> {
        let mut request = self.request("GET", path);
        for (k, v) in query {
            request = request.query(k, v);
        }
        match request.call() {
            Ok(response) => Ok(response.into_string()?),
            Err(e) => self
                .answer::<serde_json::Value>(path, Err(e))
                .map(|v| v.to_string()),
        }
    }

    /// A GET whose answer is copied to `out` as it arrives (an EPCIS
    /// document may be far larger than memory should hold).
    pub fn get_to(
        &self,
        path: &str,
        query: &[(String, String)],
        out: &mut dyn std::io::Write,
    ) -> anyhow::Result<u64> {
        // A long document takes longer than the agent's 60 s for a whole
        // request; the daemon writes it as it reads, so it never stalls.
        let mut request = self
            .request("GET", path)
            .timeout(Duration::from_secs(6 * 3600));
        for (k, v) in query {
            request = request.query(k, v);
        }
        match request.call() {
            Ok(response) => Ok(std::io::copy(&mut response.into_reader(), out)?),
            Err(e) => self.answer::<serde_json::Value>(path, Err(e)).map(|_| 0),
        }
    }

    fn post<T: DeserializeOwned>(&self, path: &str, body: &serde_json::Value) -> anyhow::Result<T> {
        self.answer(path, self.request("POST", path).send_json(body))
    }

    fn import(&self, path: &str, text: &str, author: &Author) -> anyhow::Result<usize> {
        let request = self
            .request("POST", path)
            .query("why", &author.why)
            .set("Content-Type", "text/plain; charset=utf-8");
        let answer: serde_json::Value = self.answer(path, request.send_string(text))?;
        answer["imported"]
            .as_u64()
            .map(|n| n as usize)
            .ok_or_else(|| anyhow::anyhow!("the daemon's answer to {path} has no `imported` count"))
    }

    /// The body of a success, or the daemon's `{"error": ...}` as one line.
    fn answer<T: DeserializeOwned>(
        &self,
        path: &str,
        result: Result<ureq::Response, ureq::Error>,
    ) -> anyhow::Result<T> {
        match result {
            Ok(response) => response.into_json().with_context(|| {
                format!("the daemon's answer to {path} is not what this scantrail expects")
            }),
            Err(ureq::Error::Status(status, response)) => {
                let text = response.into_string().unwrap_or_default();
                let message = serde_json::from_str::<serde_json::Value>(&text)
                    .ok()
                    .and_then(|v| v["error"].as_str().map(str::to_owned))
                    .unwrap_or(text);
                if status == 401 {
                    anyhow::bail!(
                        "the daemon refused the token (HTTP 401): give one of its configuration's `[[tokens]]` with --token or ${TOKEN_ENV}"
                    );
                }
                anyhow::bail!("{message}");
            }
            Err(ureq::Error::Transport(t)) => Err(anyhow::anyhow!(
                "the store is in use by another process, and no scantrail daemon answers at {} ({t}): if `scantrail run` is running, check `[http] listen` or give --url; otherwise wait for the other command to finish",
                self.base
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn wildcard_listen_addresses_are_reached_on_loopback() {
        assert_eq!(super::base_url("0.0.0.0:8080"), "http://127.0.0.1:8080");
        assert_eq!(super::base_url("[::]:9"), "http://[::1]:9");
        assert_eq!(super::base_url("127.0.0.1:80"), "http://127.0.0.1:80");
    }

    #[test]
    fn hold_ids_are_encoded_as_one_path_segment() {
        assert_eq!(super::encode_segment("H-1/x y"), "H-1%2Fx%20y");
    }
}
