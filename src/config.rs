//! The site configuration file (`config/scantrail.toml`).
//!
//! One file per site. Each section belongs to the part of scantrail that
//! needs it (see docs/ARCHITECTURE.md); this module only loads and
//! validates the file and resolves paths, so that every error names the
//! file, the line and the key before anything starts.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::auth::{Grant, Identity, Role, TokenEntry, TokenError, Tokens};
use crate::duration::Span;

/// The default location of the configuration, relative to the working
/// directory.
pub const DEFAULT_PATH: &str = "config/scantrail.toml";

/// A site's whole configuration as loaded and checked: what `scantrail run`
/// and the other site commands start from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[site]`: which site this is; its id must match the store's.
    pub site: Site,
    /// `[log]`: the shape of log lines.
    #[serde(default)]
    pub log: crate::logging::LogConfig,
    /// Where the store lives; relative paths resolve against the folder of
    /// the configuration file, so a site can be moved as a whole.
    pub data_dir: PathBuf,
    /// `[http]`: where the API and console listen, TLS, connection limits.
    #[serde(default)]
    pub http: Http,
    /// `[[stations]]`: every station scans may be recorded at; a scan
    /// naming another is refused.
    #[serde(default)]
    pub stations: Vec<Station>,
    /// `[[scanners]]`: serial scanners read by this machine, each feeding
    /// one station.
    #[serde(default)]
    pub scanners: Vec<Scanner>,
    /// The older form of handheld tokens (still loaded, as role handheld).
    #[serde(default)]
    pub handhelds: Vec<Handheld>,
    /// Who may call the API: each token's name, role and stations.
    #[serde(default)]
    pub tokens: Vec<TokenEntry>,
    /// Who may sign in to the console: name, role, argon2 password hash
    /// (`scantrail user add` writes an entry).
    #[serde(default)]
    pub users: Vec<crate::console::users::UserEntry>,
    /// `[sync]`: head office to upload movements to and pull recalls from;
    /// absent, the site works alone.
    #[serde(default)]
    pub sync: Option<Sync>,
    /// `[backup]`: scheduled copies of the store into a directory; absent,
    /// the daemon makes none (`scantrail backup` still works by hand).
    #[serde(default)]
    pub backup: Option<Backup>,
    /// `[alerts]`: what the daemon watches and where it pushes a change
    /// (a webhook); absent, the defaults apply and alerts show only in
    /// the health route and the log.
    #[serde(default)]
    pub alerts: Alerts,
    /// `[store]`: how much memory the store may use.
    #[serde(default)]
    pub store: StoreSettings,
    /// `[epcis]`: the time zone, company and party URIs of EPCIS exports
    /// (`scantrail epcis export`, `GET /api/v1/epcis/events`).
    #[serde(default)]
    pub epcis: crate::epcis::EpcisConfig,
    /// Every token of the file, the older forms included, checked.
    #[serde(skip)]
    pub access: Tokens,
    /// The `[[users]]` entries, checked.
    #[serde(skip)]
    pub people: crate::console::users::Users,
    /// The folder of the configuration file: relative paths in it (device
    /// profiles) resolve against it.
    #[serde(skip)]
    pub base_dir: PathBuf,
}

/// A place where scans mean something: receiving at a dock, dispatching
/// orders, taking returns. Its policies arrive with the station issue.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Station {
    /// Unique within the site; scans, tokens' `stations` and scanners name
    /// it, and every movement records it.
    pub id: String,
    /// What a scan here means: a receipt, a pick or a return.
    pub mode: StationMode,
    /// Where goods go to or come from, unless a (414) barcode names
    /// another; empty by default.
    #[serde(default)]
    pub location: String,
    /// How strictly this station applies the rules that allow a choice.
    #[serde(default)]
    pub policies: crate::station::Policies,
}

/// A station's `mode` as the file spells it (`receive`, `dispatch`,
/// `return`); the station's own [`crate::station::Mode`] is made from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StationMode {
    /// Goods arrive: scans are receipts, or transfers in from an own site.
    Receive,
    /// Goods leave: scans are picks against the open order.
    Dispatch,
    /// Goods come back from a customer.
    Return,
}

/// A scanner wired to this machine (RS-232 or USB in virtual-COM mode).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scanner {
    /// A device path, or a glob such as `/dev/serial/by-id/usb-Honeywell*`
    /// (stable across replugs, unlike `/dev/ttyACM0`).
    pub port: String,
    /// A device profile file, e.g. `devices/generic-aim.toml`, relative to
    /// this file's folder or to the folder above it (the repository).
    pub profile: PathBuf,
    /// The `[[stations]]` id its scans belong to.
    pub station: String,
}

/// A handheld terminal talking to the HTTP API: the older form of a
/// `[[tokens]]` entry with role `handheld` and one station.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Handheld {
    /// The terminal's name: the author of what it records, as a
    /// `[[tokens]] name` would be.
    pub id: String,
    /// The bearer token the terminal presents.
    pub token: String,
    /// Its default station.
    pub station: String,
}

/// Head-office sync; absent for a site that does not sync (or for `hq`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sync {
    /// Head office's base URL, e.g. `https://hq.example.com:8443`.
    pub url: String,
    /// This site's token; head office keeps only its SHA-256.
    #[serde(default)]
    pub credential: Option<String>,
    /// Most entries per batch (head office's own limit wins if lower).
    #[serde(default)]
    pub batch_max: Option<usize>,
    /// Most bytes per batch body.
    #[serde(default)]
    pub batch_bytes: Option<usize>,
    /// The CA certificate (PEM) head office's certificate must chain to;
    /// without it the public web roots are trusted.
    #[serde(default)]
    pub ca: Option<PathBuf>,
    /// How often a quiet site looks for new movements to send.
    #[serde(default)]
    pub interval_ms: Option<u64>,
    /// How often reference data (recalls) is pulled.
    #[serde(default)]
    pub reference_poll_ms: Option<u64>,
    /// The longest wait between retries.
    #[serde(default)]
    pub backoff_max_ms: Option<u64>,
}

/// `[backup]`: the daemon copies its open store into `dir/<time>/`
/// every `every`, keeping the newest `keep` copies.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backup {
    /// Where the copies go (a directory of its own, ideally on another
    /// disk); relative paths resolve against the configuration's folder.
    pub dir: PathBuf,
    /// How often, e.g. `"24h"`, `"6h"`, `"30m"` (units `ms`, `s`, `m`, `h`, `d`,
    /// combinable: `"1h30m"`); at least [`BACKUP_EVERY_MIN`].
    #[serde(default = "Backup::default_every")]
    pub every: Span,
    /// How many complete copies are kept; older ones are deleted.
    #[serde(default = "Backup::default_keep")]
    pub keep: usize,
}

/// The shortest `[backup] every`: a second, so tests can watch several
/// backups go by; a site wants hours.
pub const BACKUP_EVERY_MIN: std::time::Duration = std::time::Duration::from_secs(1);

impl Backup {
    fn default_every() -> Span {
        Span(std::time::Duration::from_secs(86_400))
    }
    fn default_keep() -> usize {
        7
    }
}

/// `[store]`: the memory the daemon should hold. sled's page cache is
/// sized from it (`cache_bytes`); `scantrail store stats` and `GET
/// /api/v1/store` show the daemon's resident memory against it, and the
/// `memory_high` alert is raised while it is over. What sled keeps per
/// entry still grows with the store, by a few bytes a movement
/// (BENCHMARKS.md, "Units in blocks").
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSettings {
    /// The bound on the daemon's resident memory, in MiB; at least
    /// [`STORE_MEMORY_MIN_MB`].
    #[serde(default = "StoreSettings::default_memory_mb")]
    pub memory_mb: u64,
    /// The most movements recorded between two openings of the store: the
    /// daemon reopens it at a quiet moment (`store::refresh`), so that a
    /// start after a crash or a power cut replays at most this many. At
    /// least [`STORE_REOPEN_EVERY_MIN`].
    #[serde(default = "StoreSettings::default_reopen_every")]
    pub reopen_every: u64,
}

/// The smallest `[store] reopen_every`: a reopening costs a pause of
/// commits, so not one every few scans.
pub const STORE_REOPEN_EVERY_MIN: u64 = 100;

/// The smallest `[store] memory_mb`: a floor against a slip of the pen (an
/// open store of a million movements alone takes ~300 MiB).
pub const STORE_MEMORY_MIN_MB: u64 = 128;

impl StoreSettings {
    fn default_memory_mb() -> u64 {
        512
    }

    fn default_reopen_every() -> u64 {
        500_000
    }

    /// sled's page cache: a quarter of the bound. The rest is for what
    /// sled keeps of every page it has paged out (which grows with the
    /// store: BENCHMARKS.md, "The soak"), the daemon's own maps and its
    /// connections. Since index entries are postings (store schema 4) a
    /// small cache costs a tenth of the commit rate and holds a million
    /// movements in 0.3 GB instead of 0.9 (BENCHMARKS.md, "Index
    /// postings").
    pub fn cache_bytes(&self) -> u64 {
        (self.memory_mb << 20) / 4
    }
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings {
            memory_mb: Self::default_memory_mb(),
            reopen_every: Self::default_reopen_every(),
        }
    }
}

/// `[alerts]`: the conditions the site daemon watches, how often, and the
/// webhook each raise and resolve is posted to. Every limit has a default,
/// so a site with only `webhook` set is watched sensibly.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alerts {
    /// Where each alert's raise and resolve is POSTed as JSON; `https://`,
    /// or `http://` to this machine (a local relay, tests). Absent: alerts
    /// show in `GET /api/v1/health` and the log only.
    #[serde(default)]
    pub webhook: Option<String>,
    /// How often the conditions are looked at; default 1 minute.
    #[serde(default = "Alerts::default_every")]
    pub every: Span,
    /// The data directory's disk is low below this percentage free;
    /// default 5.
    #[serde(default = "Alerts::default_disk_free_percent")]
    pub disk_free_below_percent: u8,
    /// ... or below this many MiB free; default 1024 (the doctor's warning).
    #[serde(default = "Alerts::default_disk_free_mb")]
    pub disk_free_below_mb: u64,
    /// A scanner is gone once its port has been closed this long; default
    /// 10 minutes.
    #[serde(default = "Alerts::default_scanner_gone_after")]
    pub scanner_gone_after: Span,
    /// Sync is behind once the oldest movement head office has not
    /// acknowledged is this old; default 4 hours.
    #[serde(default = "Alerts::default_sync_backlog_older_than")]
    pub sync_backlog_older_than: Span,
    /// The served certificate, and head office's, is expiring this many
    /// days before its end; default 30.
    #[serde(default = "Alerts::default_certificate_days")]
    pub certificate_days: u32,
    /// An SMTP relay (`host:port`) that takes mail from this machine
    /// without signing in; with `mail_from` and `mail_to`, each change is
    /// also mailed.
    #[serde(default)]
    pub smtp: Option<String>,
    /// The mails' sender address.
    #[serde(default)]
    pub mail_from: Option<String>,
    /// Who the mails go to.
    #[serde(default)]
    pub mail_to: Vec<String>,
    /// The longest wait between tries to deliver to a webhook or relay
    /// that does not answer; default 5 minutes.
    #[serde(default = "Alerts::default_retry_max")]
    pub retry_max: Span,
}

impl Alerts {
    fn default_every() -> Span {
        Span(std::time::Duration::from_secs(60))
    }
    fn default_disk_free_percent() -> u8 {
        5
    }
    fn default_disk_free_mb() -> u64 {
        1024
    }
    fn default_scanner_gone_after() -> Span {
        Span(std::time::Duration::from_secs(10 * 60))
    }
    fn default_sync_backlog_older_than() -> Span {
        Span(std::time::Duration::from_secs(4 * 3600))
    }
    fn default_certificate_days() -> u32 {
        crate::web::tls::EXPIRY_WARNING_DAYS.unsigned_abs() as u32
    }
    fn default_retry_max() -> Span {
        Span(std::time::Duration::from_secs(5 * 60))
    }

    /// Refuses a webhook that is not an http(s) URL (plain http only to
    /// this machine: alerts name the site's troubles), a zero duration and
    /// a percentage above 100.
    fn check(&self, text: &str) -> Result<(), Problem> {
        let at = |key: &str| match line_of(text, "alerts", key) {
            Some(line) => format!("line {line}: key `alerts.{key}`"),
            None => format!("key `alerts.{key}`"),
        };
        if let Some(url) = &self.webhook {
            if let Err(reason) = check_webhook(url) {
                return Err(Problem::AlertWebhook {
                    at: at("webhook"),
                    url: url.clone(),
                    reason,
                });
            }
        }
        self.check_mail(&at)?;
        let spans = [
            ("every", self.every),
            ("scanner_gone_after", self.scanner_gone_after),
            ("sync_backlog_older_than", self.sync_backlog_older_than),
            ("retry_max", self.retry_max),
        ];
        if let Some((key, _)) = spans.iter().find(|(_, span)| span.get().is_zero()) {
            return Err(Problem::ZeroSpan { at: at(key) });
        }
        if self.disk_free_below_percent > 100 {
            return Err(Problem::Percent {
                at: at("disk_free_below_percent"),
            });
        }
        Ok(())
    }
}

impl Alerts {
    /// `smtp`, `mail_from` and `mail_to` go together, as a relay's
    /// `host:port` and plain addresses.
    fn check_mail(&self, at: &dyn Fn(&str) -> String) -> Result<(), Problem> {
        let mail = |key: &str, reason: &'static str| {
            Err(Problem::AlertMail {
                at: at(key),
                reason,
            })
        };
        let Some(relay) = &self.smtp else {
            if self.mail_from.is_some() || !self.mail_to.is_empty() {
                return mail("smtp", "give the SMTP relay as \"host:port\", e.g. \"127.0.0.1:25\", or leave out `mail_from` and `mail_to`");
            }
            return Ok(());
        };
        let port = relay
            .rsplit_once(':')
            .map(|(host, port)| (host, port.parse::<u16>()));
        if !matches!(port, Some((host, Ok(_))) if !host.is_empty()) {
            return mail("smtp", "write the relay as \"host:port\", e.g. \"127.0.0.1:25\" or \"smtp.example.com:25\"");
        }
        let address = |a: &str| a.parse::<lettre::Address>().is_ok();
        match &self.mail_from {
            Some(from) if address(from) => {}
            _ => {
                return mail(
                    "mail_from",
                    "give the sender as a plain address, e.g. \"scantrail@site.example.com\"",
                )
            }
        }
        if self.mail_to.is_empty() || !self.mail_to.iter().all(|a| address(a)) {
            return mail(
                "mail_to",
                "give the recipients as a list of plain addresses, e.g. [\"it@example.com\"]",
            );
        }
        Ok(())
    }
}

impl Default for Alerts {
    fn default() -> Self {
        Alerts {
            webhook: None,
            every: Alerts::default_every(),
            disk_free_below_percent: Alerts::default_disk_free_percent(),
            disk_free_below_mb: Alerts::default_disk_free_mb(),
            scanner_gone_after: Alerts::default_scanner_gone_after(),
            sync_backlog_older_than: Alerts::default_sync_backlog_older_than(),
            certificate_days: Alerts::default_certificate_days(),
            smtp: None,
            mail_from: None,
            mail_to: Vec::new(),
            retry_max: Alerts::default_retry_max(),
        }
    }
}

/// What is wrong with a webhook URL, if anything.
fn check_webhook(url: &str) -> Result<(), &'static str> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or("it is not a URL: write e.g. \"https://hooks.example.com/scantrail\"")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host_port.split(':').next().unwrap_or(""),
    };
    if host.is_empty() {
        return Err("it names no host: write e.g. \"https://hooks.example.com/scantrail\"");
    }
    match scheme {
        "https" => Ok(()),
        "http" if host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback()) => Ok(()),
        "http" => Err("plain http is only for this machine (127.0.0.1, localhost): use https:// so the site's troubles do not cross the network in clear"),
        _ => Err("use an https:// URL"),
    }
}

/// `[site]`: which site this is and which GLNs belong to the company.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// Stamped into the store when it is created; a store of another site is
    /// refused.
    pub id: String,
    /// A name for people, shown in the console's header; empty: the id is
    /// shown.
    #[serde(default)]
    pub name: String,
    /// The site's own GLN.
    #[serde(default)]
    pub gln: Option<String>,
    /// GLNs of the company's other sites: a dispatch to one of them is a
    /// transfer, not a sale.
    #[serde(default)]
    pub own_sites: Vec<String>,
}

/// `[http]`: the site daemon's listener for the API, the console, health
/// and metrics.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Http {
    /// Loopback by default: exposing the API to the site network is a
    /// deliberate choice of the installer.
    #[serde(default = "Http::default_listen")]
    pub listen: String,
    /// The older form of a `[[tokens]]` entry with role `admin` (named
    /// `admin`).
    #[serde(default)]
    pub admin_token: Option<String>,
    /// PEM certificate chain and private key: with both, the daemon serves
    /// HTTPS (the console then takes passwords from any address).
    #[serde(default)]
    pub cert: Option<PathBuf>,
    /// The private key (PEM) for `cert`; one without the other is refused.
    #[serde(default)]
    pub key: Option<PathBuf>,
    /// How the server holds connections.
    #[serde(flatten)]
    pub connections: Connections,
}

impl Http {
    fn default_listen() -> String {
        "127.0.0.1:8080".to_owned()
    }
}

/// `[http]` keys of the site and of head office that bound what a client
/// can hold: how long a request's headers may take (also how long an idle
/// kept-alive connection stays), how long a connection may sit with nothing
/// moving, and how many connections there may be at once.
///
/// Flattened into the `[http]` tables, whose `deny_unknown_fields` still
/// refuses a misspelt key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Connections {
    /// Milliseconds a request's headers may take, and an idle kept-alive
    /// connection may wait for the next request; default 10 000.
    #[serde(default = "Connections::default_header_read_timeout_ms")]
    pub header_read_timeout_ms: u64,
    /// Milliseconds a connection may sit with nothing read or written
    /// before it is closed; default 60 000.
    #[serde(default = "Connections::default_idle_timeout_ms")]
    pub idle_timeout_ms: u64,
    /// Connections held at once; beyond it new clients wait in the
    /// kernel's queue; default 512.
    #[serde(default = "Connections::default_max_connections")]
    pub max_connections: usize,
}

impl Connections {
    fn default_header_read_timeout_ms() -> u64 {
        crate::web::server::DEFAULT_HEADER_READ_TIMEOUT_MS
    }
    fn default_idle_timeout_ms() -> u64 {
        crate::web::server::DEFAULT_IDLE_TIMEOUT_MS
    }
    fn default_max_connections() -> usize {
        crate::web::server::DEFAULT_MAX_CONNECTIONS
    }

    /// The server's settings; an error names the key and what to give.
    pub fn settings(&self) -> Result<crate::web::server::Settings, Problem> {
        if self.header_read_timeout_ms == 0 || self.idle_timeout_ms == 0 {
            return Err(Problem::ZeroTimeout);
        }
        if self.max_connections == 0 {
            return Err(Problem::ZeroConnections);
        }
        Ok(crate::web::server::Settings {
            header_read_timeout: std::time::Duration::from_millis(self.header_read_timeout_ms),
            idle_timeout: std::time::Duration::from_millis(self.idle_timeout_ms),
            max_connections: self.max_connections,
        })
    }
}

impl Default for Connections {
    fn default() -> Self {
        Connections {
            header_read_timeout_ms: Connections::default_header_read_timeout_ms(),
            idle_timeout_ms: Connections::default_idle_timeout_ms(),
            max_connections: Connections::default_max_connections(),
        }
    }
}

impl Default for Http {
    fn default() -> Self {
        Http {
            listen: Http::default_listen(),
            admin_token: None,
            cert: None,
            key: None,
            connections: Connections::default(),
        }
    }
}

/// Why a configuration file was not loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The file says something wrong.
    #[error("{path}: {problem}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, where, and what to write instead.
        problem: Problem,
    },
}

/// What is wrong in a configuration file (the site's or head office's),
/// where (`at`: line and key), and what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// Not TOML, or a key of the wrong type or name: the line, the text
    /// and the reason, as `describe_toml_error` words them.
    #[error("{0}")]
    Syntax(String),
    /// `[site] id` is blank.
    #[error(
        "key `site.id` must not be empty: give this site a short, unique name such as `dock-north`"
    )]
    EmptySiteId,
    /// `[http] cert` without `key`, or the other way round.
    #[error("{at}keys `http.cert` and `http.key` go together: give both (PEM files) to serve HTTPS, or neither")]
    CertWithoutKey {
        /// Where (`line N: `), or empty.
        at: String,
    },
    /// A `[[users]]` entry that cannot be used: where and why.
    #[error(transparent)]
    User(#[from] crate::console::users::UserError),
    /// A zero timeout in `[http]`.
    #[error("keys `http.header_read_timeout_ms` and `http.idle_timeout_ms` must be at least 1 (milliseconds)")]
    ZeroTimeout,
    /// `[http] max_connections = 0`.
    #[error("key `http.max_connections` must be at least 1")]
    ZeroConnections,
    /// A token entry that cannot be used.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// `[epcis]` cannot make EPCIS events (an unknown time zone, a bad
    /// company GLN or prefix length); checked when the section is present.
    #[error("{at}{reason}")]
    Epcis {
        /// `line N: ` of the section, when found.
        at: String,
        /// What is wrong (`epcis::EpcisError`'s words).
        reason: String,
    },
    /// A station without an id.
    #[error("{at}: must not be empty")]
    EmptyStationId {
        /// Where.
        at: String,
    },
    /// Two stations with one id.
    #[error("{at}: station `{id}` is defined twice")]
    StationTwice {
        /// Where.
        at: String,
        /// The id.
        id: String,
    },
    /// A scanner without a device.
    #[error("{at}: give the scanner's device, e.g. /dev/serial/by-id/usb-...")]
    NoScannerPort {
        /// Where.
        at: String,
    },
    /// A scanner or handheld at a station no `[[stations]]` entry defines.
    #[error("{at}: no [[stations]] entry has id `{station}`; add one or fix the name")]
    UnknownStation {
        /// Where.
        at: String,
        /// The station named.
        station: String,
    },
    /// An older-form handheld token shorter than 8 characters.
    #[error("{at}: use a random token of at least 8 characters")]
    ShortHandheldToken {
        /// Where.
        at: String,
    },
    /// A site's `token_sha256` (hq.toml) that is not 64 hex digits.
    #[error("{at}: give the 64 hex digits `scantrail hq hash-token TOKEN` prints")]
    SiteDigest {
        /// Where.
        at: String,
    },
    /// A site listed twice in hq.toml.
    #[error("key `sites[{index}].id`: site `{id}` is listed twice")]
    SiteTwice {
        /// The later entry.
        index: usize,
        /// The site.
        id: String,
    },
    /// A GLN in `[site]` (`gln`, `own_sites`) that is not 13 digits with
    /// the right check digit: a typo here would make every transfer to or
    /// from that site look like a sale.
    #[error("{at}: \"{gln}\" is not a valid GLN ({reason}): a GLN is 13 digits, the last a GS1 check digit; copy it again from whoever issued it")]
    Gln {
        /// Where.
        at: String,
        /// The value written.
        gln: String,
        /// What the GS1 check says.
        reason: String,
    },
    /// A scanner's device profile that is not where the file says.
    #[error("{at}: no device profile `{profile}` (looked in {looked_in}): name a file of the devices/ folder, e.g. `devices/generic-aim.toml`, or give its full path")]
    NoProfile {
        /// Where.
        at: String,
        /// The path written.
        profile: String,
        /// The folders searched, in words.
        looked_in: String,
    },
    /// `[backup] every` shorter than [`BACKUP_EVERY_MIN`] (one that is not
    /// a duration is refused by [`Span`] as the file is read).
    #[error("{at}: at least {}, e.g. \"24h\"", Span(BACKUP_EVERY_MIN))]
    BackupEvery {
        /// Where.
        at: String,
    },
    /// `[store] memory_mb` below [`STORE_MEMORY_MIN_MB`].
    #[error("{at}: at least {STORE_MEMORY_MIN_MB} (MiB, e.g. 512, the default); see README.md, \"How big a machine\"")]
    StoreMemory {
        /// Where.
        at: String,
    },
    /// `[store] reopen_every` below [`STORE_REOPEN_EVERY_MIN`].
    #[error("{at}: at least {STORE_REOPEN_EVERY_MIN} (movements, e.g. 500000, the default); see README.md, \"How big a machine\"")]
    StoreReopenEvery {
        /// Where.
        at: String,
    },
    /// `[backup] keep = 0`, or an empty `dir`.
    #[error("{at}: {what}")]
    BackupSetting {
        /// Where.
        at: String,
        /// What to give instead.
        what: &'static str,
    },
    /// `[alerts] webhook` that cannot be posted to.
    #[error("{at}: \"{url}\": {reason}")]
    AlertWebhook {
        /// Where.
        at: String,
        /// The value written.
        url: String,
        /// What is wrong and what to write.
        reason: &'static str,
    },
    /// `[alerts]` mail keys that cannot be used.
    #[error("{at}: {reason}")]
    AlertMail {
        /// Where.
        at: String,
        /// What to write.
        reason: &'static str,
    },
    /// A duration of zero where something must wait or repeat.
    #[error("{at}: must be longer than zero, e.g. \"10m\"")]
    ZeroSpan {
        /// Where.
        at: String,
    },
    /// A percentage above 100.
    #[error("{at}: a percentage from 0 to 100")]
    Percent {
        /// Where.
        at: String,
    },
    /// Head office's batch limits too small to work.
    #[error("key `hq.batch_max` must be at least 1 and `hq.body_max_bytes` at least 1024")]
    BatchLimits,
}

impl Config {
    /// Reads and validates the configuration file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let folder = path.parent().unwrap_or(Path::new(".")).to_owned();
        let (mut config, base) = read_file(path, |text| {
            let mut config = Config::parse(text)?;
            config.base_dir = folder;
            config.check_profiles(text)?;
            Ok(config)
        })?;
        resolve(&base, &mut config.data_dir);
        let paths = [
            config.backup.as_mut().map(|b| &mut b.dir),
            config.sync.as_mut().and_then(|s| s.ca.as_mut()),
            config.http.cert.as_mut(),
            config.http.key.as_mut(),
        ];
        for path in paths.into_iter().flatten() {
            resolve(&base, path);
        }
        config.base_dir = base;
        Ok(config)
    }

    /// Parses configuration text; the error names the line and the key.
    pub fn parse(text: &str) -> Result<Config, Problem> {
        let mut config: Config =
            toml::from_str(text).map_err(|e| Problem::Syntax(describe_toml_error(text, &e)))?;
        if config.site.id.trim().is_empty() {
            return Err(Problem::EmptySiteId);
        }
        config.check_references(text)?;
        config.check_glns(text)?;
        config.check_epcis(text)?;
        config.check_backup(text)?;
        config.check_store(text)?;
        config.http.connections.settings()?;
        config.alerts.check(text)?;
        config.access = config.check_tokens(text)?;
        if config.http.cert.is_some() != config.http.key.is_some() {
            let line = line_of(text, "http", "cert").or_else(|| line_of(text, "http", "key"));
            let at = line.map(|l| format!("line {l}: ")).unwrap_or_default();
            return Err(Problem::CertWithoutKey { at });
        }
        config.people = crate::console::users::Users::build(
            &config.users,
            |i, key| match locate(text, "users", Some(i), key) {
                Some(line) => format!("line {line}: key `users[{i}].{key}`"),
                None => format!("key `users[{i}].{key}`"),
            },
            &[Role::Handheld, Role::Supervisor, Role::Admin],
        )
        .map_err(Problem::User)?;
        Ok(config)
    }

    /// The `[[tokens]]` entries and the older forms (`[http] admin_token`,
    /// `[[handhelds]]`) as one set of tokens.
    fn check_tokens(&self, text: &str) -> Result<Tokens, TokenError> {
        let roles = [Role::Handheld, Role::Supervisor, Role::Admin, Role::Partner];
        let known = |s: &str| self.stations.iter().any(|st| st.id == s);
        let mut grants = Vec::new();
        for (i, t) in self.tokens.iter().enumerate() {
            let at = |key: &str| place(text, "tokens", i, key);
            grants.push(t.check(at, &roles, Some(&known))?);
        }
        if let Some(token) = &self.http.admin_token {
            grants.push(grant("key `http.admin_token`", token, "admin", Role::Admin));
        }
        for (i, h) in self.handhelds.iter().enumerate() {
            let mut handheld = grant(
                &format!("key `handhelds[{i}]`"),
                &h.token,
                &h.id,
                Role::Handheld,
            );
            handheld.identity.stations = vec![h.station.clone()];
            grants.push(handheld);
        }
        Tokens::build(grants)
    }

    /// The older token forms this file still uses, for the warning at start.
    pub fn legacy_token_forms(&self) -> Vec<&'static str> {
        let mut forms = Vec::new();
        if self.http.admin_token.is_some() {
            forms.push("[http] admin_token");
        }
        if !self.handhelds.is_empty() {
            forms.push("[[handhelds]]");
        }
        forms
    }

    /// The token scantrail's own commands use to reach the running daemon
    /// when none is given: an admin token written in the file.
    pub fn admin_token(&self) -> Option<String> {
        crate::auth::written_admin_token(&self.tokens, self.http.admin_token.as_ref())
    }

    /// Every station named by a scanner or handheld must exist, once.
    fn check_references(&self, text: &str) -> Result<(), Problem> {
        let at = |table: &str, i: usize, key: &str| place(text, table, i, key);
        let ids: Vec<&str> = self.stations.iter().map(|s| s.id.as_str()).collect();
        for (i, id) in ids.iter().enumerate() {
            if id.trim().is_empty() {
                return Err(Problem::EmptyStationId {
                    at: at("stations", i, "id"),
                });
            }
            if ids[..i].contains(id) {
                return Err(Problem::StationTwice {
                    at: at("stations", i, "id"),
                    id: id.to_string(),
                });
            }
        }
        let unknown = |table: &str, i: usize, station: &str| {
            (!ids.contains(&station)).then(|| Problem::UnknownStation {
                at: at(table, i, "station"),
                station: station.to_owned(),
            })
        };
        for (i, s) in self.scanners.iter().enumerate() {
            if s.port.trim().is_empty() {
                return Err(Problem::NoScannerPort {
                    at: at("scanners", i, "port"),
                });
            }
            if let Some(problem) = unknown("scanners", i, &s.station) {
                return Err(problem);
            }
        }
        for (i, h) in self.handhelds.iter().enumerate() {
            if let Some(problem) = unknown("handhelds", i, &h.station) {
                return Err(problem);
            }
            if h.token.len() < 8 {
                return Err(Problem::ShortHandheldToken {
                    at: at("handhelds", i, "token"),
                });
            }
        }
        Ok(())
    }

    /// `[backup]`: a directory, a duration of at least a second, and at
    /// least one copy kept.
    fn check_backup(&self, text: &str) -> Result<(), Problem> {
        let Some(backup) = &self.backup else {
            return Ok(());
        };
        let at = |key: &str| match line_of(text, "backup", key) {
            Some(line) => format!("line {line}: key `backup.{key}`"),
            None => format!("key `backup.{key}`"),
        };
        if backup.dir.as_os_str().is_empty() {
            return Err(Problem::BackupSetting {
                at: at("dir"),
                what: "give the directory the copies go to, e.g. \"/var/backups/scantrail\"",
            });
        }
        if backup.keep == 0 {
            return Err(Problem::BackupSetting {
                at: at("keep"),
                what: "keep at least 1 backup (7 keeps a week of daily ones)",
            });
        }
        if backup.every.get() < BACKUP_EVERY_MIN {
            return Err(Problem::BackupEvery { at: at("every") });
        }
        Ok(())
    }

    /// `[store] memory_mb` at least [`STORE_MEMORY_MIN_MB`], `reopen_every`
    /// at least [`STORE_REOPEN_EVERY_MIN`].
    fn check_store(&self, text: &str) -> Result<(), Problem> {
        let at = |key: &str| match line_of(text, "store", key) {
            Some(line) => format!("line {line}: key `store.{key}`"),
            None => format!("key `store.{key}`"),
        };
        if self.store.memory_mb < STORE_MEMORY_MIN_MB {
            return Err(Problem::StoreMemory {
                at: at("memory_mb"),
            });
        }
        if self.store.reopen_every < STORE_REOPEN_EVERY_MIN {
            return Err(Problem::StoreReopenEvery {
                at: at("reopen_every"),
            });
        }
        Ok(())
    }

    /// `[epcis]`, when present, must make valid EPCIS settings with the
    /// site's GLN, so a wrong time zone is found at start, not at the
    /// first export.
    fn check_epcis(&self, text: &str) -> Result<(), Problem> {
        if self.epcis == crate::epcis::EpcisConfig::default() {
            return Ok(());
        }
        crate::epcis::Settings::new(self.site.gln.as_deref(), &self.epcis)
            .and_then(|_| crate::epcis::capture::Limits::new(&self.epcis))
            .map(|_| ())
            .map_err(|e| epcis_problem(text, &e))
    }

    /// `[site] gln` and every `own_sites` entry must be a GLN with the right
    /// check digit: the daemon compares them with scanned (414)/(410) values,
    /// which the GS1 parser has already checked, so a typo here never
    /// matches and nothing says so.
    fn check_glns(&self, text: &str) -> Result<(), Problem> {
        // (the key for the error, the key as written in the file, the GLN)
        let own_sites = self.site.own_sites.iter().enumerate();
        let written = (self
            .site
            .gln
            .iter()
            .map(|g| ("site.gln".to_owned(), "gln", g)))
        .chain(own_sites.map(|(i, g)| (format!("site.own_sites[{i}]"), "own_sites", g)));
        for (key, as_written, gln) in written {
            if let Err(e) = crate::gs1::check_value("414", gln) {
                let at = match line_of(text, "site", as_written) {
                    Some(line) => format!("line {line}: key `{key}`"),
                    None => format!("key `{key}`"),
                };
                return Err(Problem::Gln {
                    at,
                    gln: gln.clone(),
                    reason: e.to_string(),
                });
            }
        }
        Ok(())
    }

    /// Every scanner's profile must be a file where [`Config::profile_path`]
    /// looks; found at load, the error names the line instead of the
    /// daemon failing later with only the path.
    fn check_profiles(&self, text: &str) -> Result<(), Problem> {
        for (i, scanner) in self.scanners.iter().enumerate() {
            if !self.profile_path(&scanner.profile).is_file() {
                let folders = self.profile_folders(&scanner.profile);
                let looked_in = if folders.is_empty() {
                    "that path only".to_owned()
                } else {
                    let names: Vec<String> =
                        folders.iter().map(|p| p.display().to_string()).collect();
                    names.join(", ")
                };
                return Err(Problem::NoProfile {
                    at: place(text, "scanners", i, "profile"),
                    profile: scanner.profile.display().to_string(),
                    looked_in,
                });
            }
        }
        Ok(())
    }

    /// Where a scanner's profile file is: the first of
    /// [`Config::profile_folders`] that holds it, else as given.
    pub fn profile_path(&self, profile: &Path) -> PathBuf {
        if profile.is_absolute() {
            return profile.to_owned();
        }
        self.profile_folders(profile)
            .into_iter()
            .map(|folder| folder.join(profile))
            .find(|p| p.exists())
            .unwrap_or_else(|| profile.to_owned())
    }

    /// The folders a relative profile path is tried against: this file's
    /// folder, the folder above it (a checkout: `config/` beside
    /// `devices/`), and the Debian package's data folder as seen from its
    /// `/etc/scantrail/` (`../../usr/share/scantrail`, so an unpacked
    /// package resolves the same way as an installed one).
    fn profile_folders(&self, profile: &Path) -> Vec<PathBuf> {
        if profile.is_absolute() {
            return Vec::new();
        }
        let mut folders = vec![self.base_dir.clone()];
        if let Some(parent) = self.base_dir.parent() {
            folders.push(parent.to_owned());
            if let Some(root) = parent.parent() {
                folders.push(root.join("usr/share/scantrail"));
            }
        }
        folders
    }
}

/// A token written in a configuration file outside `[[tokens]]` (an older
/// form, a site's credential), granting `role` as `name` at no station.
pub(crate) fn grant(place: &str, token: &str, name: &str, role: Role) -> Grant {
    Grant {
        place: place.to_owned(),
        digest: crate::auth::digest(token.trim()),
        identity: Identity {
            name: name.to_owned(),
            role,
            stations: Vec::new(),
            party: None,
        },
    }
}

/// Reads the configuration file at `path` and parses it with `parse`;
/// returns it with the file's folder, against which its relative paths
/// resolve.
pub(crate) fn read_file<T>(
    path: &Path,
    parse: impl FnOnce(&str) -> Result<T, Problem>,
) -> Result<(T, PathBuf), ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    let parsed = parse(&text).map_err(|problem| ConfigError::Invalid {
        path: path.to_owned(),
        problem,
    })?;
    Ok((parsed, path.parent().unwrap_or(Path::new(".")).to_owned()))
}

/// Makes a relative `path` relative to `base` (the configuration file's
/// folder).
pub(crate) fn resolve(base: &Path, path: &mut PathBuf) {
    if path.is_relative() {
        *path = base.join(&*path);
    }
}

/// Where an entry's key is, for an error: ``line 7: key `tokens[1].role` ``
/// (without the line when it cannot be found).
pub(crate) fn place(text: &str, table: &str, index: usize, key: &str) -> String {
    match locate(text, table, Some(index), key) {
        Some(line) => format!("line {line}: key `{table}[{index}].{key}`"),
        None => format!("key `{table}[{index}].{key}`"),
    }
}

/// The line (1-based) of `key` in table `table` (`""` for the top level;
/// with `index`, the index-th `[[table]]`), for errors found after parsing.
pub(crate) fn locate(text: &str, table: &str, index: Option<usize>, key: &str) -> Option<usize> {
    let mut seen: usize = 0;
    let mut in_target = table.is_empty() && index.is_none();
    let mut header_line = None;
    for (n, line) in text.lines().enumerate() {
        let t = line.trim();
        if let Some(name) = t.strip_prefix("[[").and_then(|r| r.split("]]").next()) {
            let current = name.trim();
            in_target = current == table && index == Some(seen);
            if current == table {
                seen += 1;
            }
            if in_target {
                header_line = Some(n + 1);
            }
            continue;
        }
        if let Some(name) = t.strip_prefix('[').and_then(|r| r.split(']').next()) {
            in_target = index.is_none() && name.trim() == table;
            if in_target {
                header_line = Some(n + 1);
            }
            continue;
        }
        if in_target {
            if let Some(rest) = t.strip_prefix(key) {
                if rest.trim_start().starts_with('=') {
                    return Some(n + 1);
                }
            }
        }
    }
    header_line
}

/// The line of `section.key` (`section` may be `""`), see [`locate`].
pub(crate) fn line_of(text: &str, section: &str, key: &str) -> Option<usize> {
    locate(text, section, None, key)
}

/// Turns a TOML error into one line with the line number, the key and the
/// reason, e.g. ``line 3 (`id = 7`): invalid type: integer `7`, expected a string``.
pub(crate) fn describe_toml_error(text: &str, error: &toml::de::Error) -> String {
    let reason = error.message().trim();
    match error.span() {
        Some(span) => {
            let start = span.start.min(text.len());
            let line = text[..start].matches('\n').count() + 1;
            let quoted = text.lines().nth(line - 1).unwrap_or("").trim();
            format!("line {line} (`{quoted}`): {reason}")
        }
        None => reason.to_owned(),
    }
}

/// `[epcis]` cannot work (`e`), named with the section's line of
/// `text`: the site's configuration and head office's alike.
pub(crate) fn epcis_problem(text: &str, e: &crate::epcis::EpcisError) -> Problem {
    Problem::Epcis {
        at: text
            .lines()
            .position(|l| l.trim() == "[epcis]")
            .map(|n| format!("line {}: ", n + 1))
            .unwrap_or_default(),
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_file_loads_with_defaults() {
        let c = Config::parse("data_dir = \"data\"\n[site]\nid = \"north\"\n").unwrap();
        assert_eq!(c.site.id, "north");
        assert_eq!(c.http.listen, "127.0.0.1:8080");
    }

    #[test]
    fn http_connection_keys_load_and_a_misspelt_one_is_refused() {
        let c = Config::parse(&format!(
            "{SITE}[http]\nlisten = \"127.0.0.1:1\"\nmax_connections = 5\nidle_timeout_ms = 7\n"
        ))
        .unwrap();
        assert_eq!(c.http.listen, "127.0.0.1:1");
        assert_eq!(c.http.connections.max_connections, 5);
        assert_eq!(c.http.connections.idle_timeout_ms, 7);
        assert_eq!(
            c.http.connections.header_read_timeout_ms,
            crate::web::server::DEFAULT_HEADER_READ_TIMEOUT_MS
        );
        let e = Config::parse(&format!("{SITE}[http]\nmax_conections = 5\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("max_conections"), "{e}");
        let e = Config::parse(&format!("{SITE}[http]\nmax_connections = 0\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("http.max_connections"), "{e}");
    }

    #[test]
    fn errors_name_the_line_and_key() {
        let e = Config::parse("data_dir = \"data\"\n[site]\nid = 7\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("line 3 (`id = 7`):"), "{e}");
        let e = Config::parse("data_dir = \"data\"\n[site]\nid = \"x\"\ncolour = 1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 4") && e.contains("colour"), "{e}");
    }

    const SITE: &str = "data_dir = \"d\"\n[site]\nid = \"x\"\n";

    #[test]
    fn stations_scanners_handhelds_and_sync_load() {
        let text = format!("{SITE}[[stations]]\nid = \"dock-1\"\nmode = \"receive\"\n[[scanners]]\nport = \"/dev/ttyACM0\"\nprofile = \"devices/generic-aim.toml\"\nstation = \"dock-1\"\n[[handhelds]]\nid = \"h1\"\ntoken = \"0123456789\"\nstation = \"dock-1\"\n[sync]\nurl = \"https://hq.example\"\n");
        let c = Config::parse(&text).unwrap();
        assert_eq!(c.stations[0].mode, StationMode::Receive);
        assert_eq!(c.scanners[0].station, "dock-1");
        assert_eq!(c.handhelds[0].id, "h1");
        assert_eq!(c.sync.unwrap().url, "https://hq.example");
    }

    #[test]
    fn scanner_of_unknown_station_names_line_and_key() {
        let text = format!("{SITE}[[stations]]\nid = \"dock-1\"\nmode = \"receive\"\n[[scanners]]\nport = \"/a\"\nprofile = \"p\"\nstation = \"dock-1\"\n[[scanners]]\nport = \"/b\"\nprofile = \"p\"\nstation = \"dock-2\"\n");
        let e = Config::parse(&text).unwrap_err().to_string();
        assert!(
            e.contains("line 14") && e.contains("scanners[1].station") && e.contains("dock-2"),
            "{e}"
        );
        let e = Config::parse(&format!(
            "{SITE}[[stations]]\nid = \"a\"\nmode = \"sideways\"\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 6") && e.contains("sideways"), "{e}");
        let e = Config::parse(&format!(
            "{SITE}[[scanners]]\nport = \"/a\"\nprofile = \"p\"\nstation = \"s\"\nbaud = 9600\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 8") && e.contains("baud"), "{e}");
    }

    #[test]
    fn shipped_config_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/scantrail.toml");
        let c = Config::load(&path).unwrap();
        assert!(!c.scanners.is_empty());
        for s in &c.scanners {
            assert!(
                c.profile_path(&s.profile).exists(),
                "{}",
                s.profile.display()
            );
        }
    }

    const STATIONS: &str = "[[stations]]\nid = \"dock-1\"\nmode = \"receive\"\n";

    #[test]
    fn tokens_load_with_roles_and_the_older_forms_alongside() {
        let text = format!(
            "{SITE}[http]\nadmin_token = \"old-admin-token\"\n{STATIONS}\
             [[handhelds]]\nid = \"h1\"\ntoken = \"0123456789\"\nstation = \"dock-1\"\n\
             [[tokens]]\nname = \"sue\"\nrole = \"supervisor\"\ntoken_sha256 = \"{}\"\n",
            crate::auth::digest_hex("sue-secret-token-1")
        );
        let c = Config::parse(&text).unwrap();
        assert_eq!(
            c.legacy_token_forms(),
            ["[http] admin_token", "[[handhelds]]"]
        );
        assert_eq!(c.admin_token().as_deref(), Some("old-admin-token"));
        let who = |token: &str| {
            let mut h = axum::http::HeaderMap::new();
            h.insert("authorization", format!("Bearer {token}").parse().unwrap());
            c.access
                .identify(&h)
                .map(|i| (i.name.clone(), i.role, i.stations.clone()))
        };
        assert_eq!(
            who("old-admin-token"),
            Some(("admin".into(), Role::Admin, vec![]))
        );
        assert_eq!(
            who("0123456789"),
            Some(("h1".into(), Role::Handheld, vec!["dock-1".into()]))
        );
        assert_eq!(who("sue-secret-token-1").unwrap().1, Role::Supervisor);
        assert_eq!(who("sue-secret-token-"), None);
    }

    #[test]
    fn bad_tokens_name_the_entry_and_line() {
        let entry = |body: &str| {
            format!("{SITE}{STATIONS}[[tokens]]\nname = \"a\"\nrole = \"admin\"\ntoken = \"0123456789abcdef\"\n[[tokens]]\n{body}")
        };
        let e = Config::parse(&entry(
            "name = \"b\"\nrole = \"boss\"\ntoken = \"x123456789abcdef\"\n",
        ))
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "line 13: key `tokens[1].role`: unknown role \"boss\": use handheld, supervisor, admin or partner"
        );
        let e = Config::parse(&entry("name = \"b\"\nrole = \"handheld\"\nstations = [\"dock-2\"]\ntoken = \"x123456789abcdef\"\n")).unwrap_err().to_string();
        assert!(
            e.contains("line 14") && e.contains("tokens[1].stations") && e.contains("dock-2"),
            "{e}"
        );
        let e = Config::parse(&entry(
            "name = \"b\"\nrole = \"admin\"\ntoken = \"0123456789abcdef\"\n",
        ))
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("tokens[1]") && e.contains("the same token as") && e.contains("tokens[0]"),
            "{e}"
        );
        let e = Config::parse(&entry(
            "name = \"a\"\nrole = \"admin\"\ntoken = \"x123456789abcdef\"\n",
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains("`a` is already used"), "{e}");
        let e = Config::parse(&entry(
            "name = \"b\"\nrole = \"admin\"\ntoken = \"short\"\n",
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 14") && e.contains("at least 16"), "{e}");
        // The older admin token may not repeat a [[tokens]] entry's token.
        let e = Config::parse(&format!("{SITE}[http]\nadmin_token = \"0123456789abcdef\"\n{STATIONS}[[tokens]]\nname = \"a\"\nrole = \"admin\"\ntoken = \"0123456789abcdef\"\n")).unwrap_err().to_string();
        assert!(
            e.contains("http.admin_token") && e.contains("same token"),
            "{e}"
        );
    }

    #[test]
    fn an_epcis_section_that_cannot_work_is_refused_at_load() {
        let site = "data_dir = \"d\"\n[site]\nid = \"x\"\ngln = \"9506000000015\"\n";
        let e = Config::parse(&format!("{site}[epcis]\ntime_zone = \"Mars/Olympus\"\n"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("line 5: ") && e.contains("epcis.time_zone"),
            "{e}"
        );
        let ok = Config::parse(&format!("{site}[epcis]\ntime_zone = \"Europe/Berlin\"\n")).unwrap();
        assert_eq!(ok.epcis.time_zone.as_deref(), Some("Europe/Berlin"));
    }

    #[test]
    fn a_gln_with_a_wrong_check_digit_is_refused_naming_line_and_key() {
        let site = |glns: &str| format!("data_dir = \"d\"\n[site]\nid = \"x\"\n{glns}");
        let e = Config::parse(&site("gln = \"9506000000019\"\n"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("line 4: key `site.gln`: \"9506000000019\" is not a valid GLN")
                && e.contains("check digit: expected 5, found 9"),
            "{e}"
        );
        let e = Config::parse(&site(
            "gln = \"9506000000015\"\nown_sites = [\"9506000000022\", \"950600000002\"]\n",
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 5: key `site.own_sites[1]`"), "{e}");
        let c = Config::parse(&site(
            "gln = \"9506000000015\"\nown_sites = [\"9506000000022\"]\n",
        ))
        .unwrap();
        assert_eq!(c.site.gln.as_deref(), Some("9506000000015"));
    }

    #[test]
    fn a_missing_profile_is_refused_at_load_naming_where_it_looked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("site.toml");
        std::fs::write(&path, format!("{SITE}{STATIONS}[[scanners]]\nport = \"/dev/x\"\nprofile = \"devices/nope.toml\"\nstation = \"dock-1\"\n")).unwrap();
        let e = Config::load(&path).unwrap_err().to_string();
        assert!(
            e.contains("line 9: key `scanners[0].profile`")
                && e.contains("no device profile `devices/nope.toml`")
                && e.contains(&dir.path().display().to_string()),
            "{e}"
        );
    }

    #[test]
    fn backup_section_loads_and_each_bad_key_names_its_line() {
        let c = Config::parse(&format!(
            "{SITE}[backup]\ndir = \"b\"\nevery = \"1h30m\"\nkeep = 3\n"
        ))
        .unwrap();
        let b = c.backup.unwrap();
        assert_eq!(b.every.get().as_secs(), 5400);
        assert_eq!(b.keep, 3);
        let c = Config::parse(&format!("{SITE}[backup]\ndir = \"b\"\n")).unwrap();
        let b = c.backup.unwrap();
        assert_eq!((b.every.get().as_secs(), b.keep), (86_400, 7));
        // (the [backup] keys, the start of the error or words it holds)
        for (keys, error) in [
            (
                "dir = \"b\"\nevery = \"daily\"\n",
                "line 6 (`every = \"daily\"`): \"daily\" is not a duration",
            ),
            (
                "dir = \"b\"\nevery = \"0s\"\n",
                "line 6: key `backup.every`: at least 1s",
            ),
            (
                "dir = \"b\"\nkeep = 0\n",
                "line 6: key `backup.keep`: keep at least 1",
            ),
            ("every = \"1h\"\n", "missing field `dir`"),
        ] {
            let e = Config::parse(&format!("{SITE}[backup]\n{keys}"))
                .unwrap_err()
                .to_string();
            assert!(e.contains(error), "{e}");
        }
    }

    #[test]
    fn store_settings_default_and_refuse_a_slip_of_the_pen() {
        let c = Config::parse(SITE).unwrap();
        assert_eq!((c.store.memory_mb, c.store.reopen_every), (512, 500_000));
        let c = Config::parse(&format!("{SITE}[store]\nreopen_every = 1000\n")).unwrap();
        assert_eq!(c.store.reopen_every, 1000);
        for (keys, error) in [
            (
                "memory_mb = 64\n",
                "line 5: key `store.memory_mb`: at least 128",
            ),
            (
                "reopen_every = 5\n",
                "line 5: key `store.reopen_every`: at least 100",
            ),
        ] {
            let e = Config::parse(&format!("{SITE}[store]\n{keys}"))
                .unwrap_err()
                .to_string();
            assert!(e.contains(error), "{e}");
        }
    }

    #[test]
    fn alerts_default_when_absent_and_load_with_units() {
        let c = Config::parse(SITE).unwrap();
        assert_eq!(c.alerts.webhook, None);
        assert_eq!(c.alerts.every.to_string(), "1m");
        assert_eq!(c.alerts.scanner_gone_after.to_string(), "10m");
        assert_eq!(c.alerts.sync_backlog_older_than.to_string(), "4h");
        assert_eq!(c.alerts.certificate_days, 30);
        let c = Config::parse(&format!(
            "{SITE}[alerts]\nwebhook = \"https://hooks.example.com/a\"\nevery = \"30s\"\nscanner_gone_after = \"2m\"\ndisk_free_below_percent = 10\n"
        ))
        .unwrap();
        assert_eq!(
            c.alerts.webhook.as_deref(),
            Some("https://hooks.example.com/a")
        );
        assert_eq!(c.alerts.every.get(), std::time::Duration::from_secs(30));
        assert_eq!(c.alerts.disk_free_below_percent, 10);
        for local in [
            "http://127.0.0.1:9/x",
            "http://localhost/x",
            "http://[::1]:80/",
        ] {
            let text = format!("{SITE}[alerts]\nwebhook = \"{local}\"\n");
            assert!(Config::parse(&text).is_ok(), "{local}");
        }
    }

    #[test]
    fn a_bad_alerts_key_is_refused_naming_line_key_and_fix() {
        let e = |body: &str| {
            Config::parse(&format!("{SITE}[alerts]\n{body}"))
                .unwrap_err()
                .to_string()
        };
        let m = e("webhook = \"http://hooks.example.com/a\"\n");
        assert!(
            m.starts_with("line 5: key `alerts.webhook`") && m.contains("use https://"),
            "{m}"
        );
        let m = e("webhook = \"hooks.example.com\"\n");
        assert!(m.contains("it is not a URL"), "{m}");
        let m = e("webhook = \"https:///a\"\n");
        assert!(m.contains("names no host"), "{m}");
        let m = e("every = \"10\"\n");
        assert!(
            m.starts_with("line 5") && m.contains("is not a duration"),
            "{m}"
        );
        let m = e("every = \"0s\"\n");
        assert!(
            m.contains("`alerts.every`") && m.contains("longer than zero"),
            "{m}"
        );
        let m = e("disk_free_below_percent = 120\n");
        assert!(
            m.contains("alerts.disk_free_below_percent") && m.contains("0 to 100"),
            "{m}"
        );
        let m = e("mail_to = [\"it@example.com\"]\n");
        assert!(
            m.contains("`alerts.smtp`") && m.contains("host:port"),
            "{m}"
        );
        let m = e("smtp = \"relay.example.com\"\nmail_from = \"s@x.example\"\nmail_to = [\"it@example.com\"]\n");
        assert!(m.starts_with("line 5: key `alerts.smtp`"), "{m}");
        let m = e("smtp = \"relay:25\"\nmail_from = \"s@x.example\"\nmail_to = [\"it@example.com\\r\\nBcc: x@y\"]\n");
        assert!(
            m.contains("`alerts.mail_to`") && m.contains("plain addresses"),
            "{m}"
        );
        let m = e("smtp = \"relay:25\"\nmail_to = [\"it@example.com\"]\n");
        assert!(m.contains("`alerts.mail_from`"), "{m}");
        let c = Config::parse(&format!("{SITE}[alerts]\nsmtp = \"127.0.0.1:25\"\nmail_from = \"s@x.example\"\nmail_to = [\"it@example.com\"]\n")).unwrap();
        assert_eq!(c.alerts.mail_to, ["it@example.com"]);
        let m = e("scanner_gone = \"5m\"\n");
        assert!(m.contains("scanner_gone"), "{m}");
    }

    #[test]
    fn empty_site_id_is_refused() {
        let e = Config::parse("data_dir = \"d\"\n[site]\nid = \" \"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("site.id"), "{e}");
    }
}
