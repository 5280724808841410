//! The head-office configuration file (`config/hq.toml`): where its store
//! lives, where it listens with which certificate, its limits, and each
//! site's credential, stored as a SHA-256 so a copy of the file does not
//! let anyone write as a site, and head office's people (`[[tokens]]`,
//! roles `supervisor` and `admin`).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::auth::{Role, TokenEntry, TokenError, Tokens};
use crate::config::{describe_toml_error, grant, place, read_file, resolve, ConfigError, Problem};

/// Where `scantrail hq` looks for its configuration without `--config`.
pub const DEFAULT_PATH: &str = "config/hq.toml";

/// Head office's configuration (`config/hq.toml`), read and checked: its store,
/// server, limits, sites and people.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HqConfig {
    /// Relative paths resolve against the folder of the file.
    pub data_dir: PathBuf,
    /// `[hq]`: the server itself.
    pub hq: Hq,
    /// `[log]`: the shape of log lines, as a site's.
    #[serde(default)]
    pub log: crate::logging::LogConfig,
    #[serde(default)]
    pub(super) http: Http,
    #[serde(default)]
    pub(super) sites: Vec<SiteEntry>,
    /// Head office's people: name, role (`supervisor`, `admin`), token.
    #[serde(default)]
    pub tokens: Vec<TokenEntry>,
    /// `[epcis]`: the company, party URIs and default time zone of EPCIS
    /// exports over every site (each site's GLN and zone in `[[sites]]`).
    #[serde(default)]
    pub epcis: crate::epcis::EpcisConfig,
    /// Head office's people at the console: name, role (`supervisor`,
    /// `admin`), argon2 password hash (`scantrail user add --hq`).
    #[serde(default)]
    pub users: Vec<crate::console::users::UserEntry>,
    /// The sites' and the people's tokens, checked.
    #[serde(skip)]
    pub access: Tokens,
    /// The `[[users]]` entries, checked.
    #[serde(skip)]
    pub people: crate::console::users::Users,
    /// The folder of the file, against which relative paths resolve.
    #[serde(skip)]
    pub base_dir: PathBuf,
}

/// `[hq]`: where head office listens, with which certificate, and the limits it
/// gives sites.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hq {
    /// The store's own origin (head office records nothing of its own yet).
    #[serde(default = "Hq::default_id")]
    pub id: String,
    /// Address and port of the HTTPS API (default `127.0.0.1:8443`).
    #[serde(default = "Hq::default_listen")]
    pub listen: String,
    /// PEM certificate chain and private key of the server.
    pub cert: PathBuf,
    pub(super) key: PathBuf,
    /// The CA that signed `cert`: `scantrail hq` subcommands trust it when
    /// they reach the running server.
    #[serde(default)]
    pub ca: Option<PathBuf>,
    /// The older form of a `[[tokens]]` entry with role `admin` (named
    /// `admin`).
    #[serde(default)]
    pub admin_token: Option<String>,
    #[serde(default = "Hq::default_batch_max")]
    pub(super) batch_max: usize,
    #[serde(default = "Hq::default_body_max")]
    pub(super) body_max_bytes: usize,
    /// Per site; a burst of twice this many is allowed.
    #[serde(default = "Hq::default_rate")]
    pub requests_per_second: u32,
    /// A site clock further than this from head office's is flagged.
    #[serde(default = "Hq::default_skew")]
    pub skew_seconds: i64,
    /// `postgres://USER@HOST:PORT/DATABASE`: store into PostgreSQL (any
    /// number of head-office nodes may share it) instead of the embedded
    /// store under `data_dir`. `scantrail hq --database` overrides it.
    #[serde(default)]
    pub database: Option<String>,
    /// Connections this node keeps to the database at most.
    #[serde(default = "Hq::default_database_connections")]
    pub database_connections: usize,
}

impl Hq {
    fn default_id() -> String {
        "hq".to_owned()
    }
    fn default_listen() -> String {
        "127.0.0.1:8443".to_owned()
    }
    fn default_batch_max() -> usize {
        5_000
    }
    fn default_body_max() -> usize {
        16 << 20
    }
    fn default_rate() -> u32 {
        200
    }
    fn default_skew() -> i64 {
        300
    }
    fn default_database_connections() -> usize {
        16
    }
}

/// `[http]`: how the server holds connections, the site's keys of the
/// same names.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Http {
    #[serde(flatten)]
    pub(super) connections: crate::config::Connections,
}

/// A site allowed to sync, with the SHA-256 (hex) of its token.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteEntry {
    pub(super) id: String,
    pub(super) token_sha256: String,
    /// The site's GLN, for its EPCIS events (readPoint, bizLocation).
    #[serde(default)]
    pub(super) gln: Option<String>,
    /// The site's IANA time zone, for its EPCIS events' offsets; default
    /// `[epcis] time_zone`.
    #[serde(default)]
    pub(super) time_zone: Option<String>,
}

impl HqConfig {
    /// Each configured site's id, GLN and `[epcis]` with its own time
    /// zone, for EPCIS exports; `only` keeps one site.
    pub fn epcis_sites(
        &self,
        only: Option<&str>,
    ) -> Vec<(String, Option<String>, crate::epcis::EpcisConfig)> {
        self.sites
            .iter()
            .filter(|s| only.is_none_or(|o| o == s.id))
            .map(|s| {
                let mut config = self.epcis.clone();
                if s.time_zone.is_some() {
                    config.time_zone = s.time_zone.clone();
                }
                (s.id.clone(), s.gln.clone(), config)
            })
            .collect()
    }
}

/// The hex SHA-256 of a token, as `token_sha256` stores it.
pub fn hash_token(token: &str) -> String {
    crate::auth::digest_hex(token)
}

impl HqConfig {
    /// Reads and validates the file at `path`; relative paths in it
    /// resolve against its folder.
    pub fn load(path: &Path) -> Result<HqConfig, ConfigError> {
        let (mut c, base) = read_file(path, HqConfig::parse)?;
        for p in [&mut c.data_dir, &mut c.hq.cert, &mut c.hq.key] {
            resolve(&base, p);
        }
        if let Some(ca) = &mut c.hq.ca {
            resolve(&base, ca);
        }
        c.base_dir = base;
        Ok(c)
    }

    /// Parses hq.toml's text; the error names the line and the key.
    pub fn parse(text: &str) -> Result<HqConfig, Problem> {
        let mut c: HqConfig =
            toml::from_str(text).map_err(|e| Problem::Syntax(describe_toml_error(text, &e)))?;
        for (i, s) in c.sites.iter().enumerate() {
            if s.token_sha256.len() != 64 || !s.token_sha256.bytes().all(|b| b.is_ascii_hexdigit())
            {
                return Err(Problem::SiteDigest {
                    at: place(text, "sites", i, "token_sha256"),
                });
            }
            if c.sites[..i].iter().any(|o| o.id == s.id) {
                return Err(Problem::SiteTwice {
                    index: i,
                    id: s.id.clone(),
                });
            }
        }
        c.access = c.check_tokens(text)?;
        c.people = crate::console::users::Users::build(
            &c.users,
            |i, key| match crate::config::locate(text, "users", Some(i), key) {
                Some(line) => format!("line {line}: key `users[{i}].{key}`"),
                None => format!("key `users[{i}].{key}`"),
            },
            &[Role::Supervisor, Role::Admin],
        )
        .map_err(Problem::User)?;
        if c.hq.batch_max == 0 || c.hq.body_max_bytes < 1024 {
            return Err(Problem::BatchLimits);
        }
        c.http.connections.settings()?;
        // The capture limits head office announces and enforces.
        crate::epcis::capture::Limits::new(&c.epcis)
            .map_err(|e| crate::config::epcis_problem(text, &e))?;
        Ok(c)
    }
}

impl HqConfig {
    /// The server's TLS configuration from `[hq] cert` and `key`, and the
    /// certificate it serves: what `scantrail hq` loads first, and
    /// `scantrail check-config` checks.
    pub fn server_tls(
        &self,
    ) -> Result<(rustls::ServerConfig, crate::web::tls::Certificate), crate::web::tls::TlsError>
    {
        crate::web::tls::server_config(&self.hq.cert, &self.hq.key)
    }

    /// How many sites may sync.
    pub fn site_count(&self) -> usize {
        self.sites.len()
    }

    /// The sites' credentials (role `site`, named by the site's id), the
    /// `[[tokens]]` entries and the older `[hq] admin_token` as one set.
    fn check_tokens(&self, text: &str) -> Result<Tokens, TokenError> {
        let mut grants = Vec::new();
        for (i, s) in self.sites.iter().enumerate() {
            let mut site = grant(&format!("key `sites[{i}]`"), "", &s.id, Role::Site);
            // Checked as 64 hex digits above.
            site.digest = crate::auth::parse_digest(&s.token_sha256).unwrap_or_default();
            grants.push(site);
        }
        for (i, t) in self.tokens.iter().enumerate() {
            let at = |key: &str| place(text, "tokens", i, key);
            grants.push(t.check(at, &[Role::Supervisor, Role::Admin, Role::Partner], None)?);
        }
        if let Some(token) = &self.hq.admin_token {
            grants.push(grant("key `hq.admin_token`", token, "admin", Role::Admin));
        }
        Tokens::build(grants)
    }

    /// The token `scantrail hq` subcommands use when none is given: an
    /// admin token written in the file.
    pub fn admin_token(&self) -> Option<String> {
        crate::auth::written_admin_token(&self.tokens, self.hq.admin_token.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_config_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/hq.toml");
        let c = HqConfig::load(&path).unwrap();
        assert!(!c.sites.is_empty());
    }

    #[test]
    fn http_keys_load_and_a_misspelt_one_is_refused() {
        let base = "data_dir = \"d\"\n[hq]\ncert = \"c\"\nkey = \"k\"\n[http]\n";
        let c = HqConfig::parse(&format!("{base}max_connections = 9\n")).unwrap();
        assert_eq!(c.http.connections.max_connections, 9);
        let e = HqConfig::parse(&format!("{base}idle_timeout = 9\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("idle_timeout"), "{e}");
    }

    #[test]
    fn people_tokens_take_head_office_roles_and_never_a_sites_token() {
        let base = |tokens: &str| {
            format!(
                "data_dir = \"d\"\n[hq]\ncert = \"c\"\nkey = \"k\"\n[[sites]]\nid = \"north\"\ntoken_sha256 = \"{}\"\n{tokens}",
                hash_token("north-sync-token-1")
            )
        };
        let c = HqConfig::parse(&base(
            "[[tokens]]\nname = \"quality\"\nrole = \"supervisor\"\ntoken = \"quality-token-0001\"\n",
        ))
        .unwrap();
        assert_eq!(c.admin_token(), None);
        let e = HqConfig::parse(&base(
            "[[tokens]]\nname = \"hh\"\nrole = \"handheld\"\ntoken = \"quality-token-0001\"\n",
        ))
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("line 10: key `tokens[0].role`")
                && e.contains("use supervisor, admin or partner"),
            "{e}"
        );
        let e = HqConfig::parse(&base(
            "[[tokens]]\nname = \"quality\"\nrole = \"admin\"\ntoken = \"north-sync-token-1\"\n",
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains("the same token as key `sites[0]`"), "{e}");
        let e = HqConfig::parse(&base(
            "[[tokens]]\nname = \"north\"\nrole = \"admin\"\ntoken = \"quality-token-0001\"\n",
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains("`north` is already used"), "{e}");
    }

    #[test]
    fn partners_and_capture_limits_load_and_a_bad_limit_names_its_line() {
        let base = "data_dir = \"d\"\n[hq]\ncert = \"c\"\nkey = \"k\"\n";
        let c = HqConfig::parse(&format!(
            "{base}[epcis]\ncapture_limit = 50\n[[tokens]]\nname = \"x\"\nrole = \"partner\"\nparty = \"9506000000039\"\ntoken = \"partner-token-0001\"\n"
        ))
        .unwrap();
        assert_eq!(c.epcis.capture_limit, Some(50));
        let e = HqConfig::parse(&format!("{base}[epcis]\ncapture_file_size_limit = 10\n"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("line 5: ") && e.contains("epcis.capture_file_size_limit"),
            "{e}"
        );
    }

    #[test]
    fn a_bad_token_hash_names_the_line() {
        let e = HqConfig::parse(
            "data_dir = \"d\"\n[hq]\ncert = \"c\"\nkey = \"k\"\n[[sites]]\nid = \"a\"\ntoken_sha256 = \"abc\"\n",
        )
        .unwrap_err().to_string();
        assert!(e.contains("line 7") && e.contains("hash-token"), "{e}");
    }
}
