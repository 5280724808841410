//! The head-office configuration file (`config/hq.toml`): where its store
//! lives, where it listens with which certificate, its limits, and each
//! site's credential, stored as a SHA-256 so a copy of the file does not
//! let anyone write as a site, and head office's people (`[[tokens]]`,
//! roles `supervisor` and `admin`).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::auth::{Grant, Identity, Role, TokenEntry, Tokens};
use crate::config::{describe_toml_error, ConfigError};

pub const DEFAULT_PATH: &str = "config/hq.toml";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HqConfig {
    /// Relative paths resolve against the folder of the file.
    pub data_dir: PathBuf,
    pub hq: Hq,
    #[serde(default)]
    pub http: Http,
    #[serde(default)]
    pub sites: Vec<SiteEntry>,
    /// Head office's people: name, role (`supervisor`, `admin`), token.
    #[serde(default)]
    pub tokens: Vec<TokenEntry>,
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
    #[serde(skip)]
    pub base_dir: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hq {
    /// The store's own origin (head office records nothing of its own yet).
    #[serde(default = "Hq::default_id")]
    pub id: String,
    #[serde(default = "Hq::default_listen")]
    pub listen: String,
    /// PEM certificate chain and private key of the server.
    pub cert: PathBuf,
    pub key: PathBuf,
    /// The CA that signed `cert`: `scantrail hq` subcommands trust it when
    /// they reach the running server.
    #[serde(default)]
    pub ca: Option<PathBuf>,
    /// The older form of a `[[tokens]]` entry with role `admin` (named
    /// `admin`).
    #[serde(default)]
    pub admin_token: Option<String>,
    #[serde(default = "Hq::default_batch_max")]
    pub batch_max: usize,
    #[serde(default = "Hq::default_body_max")]
    pub body_max_bytes: usize,
    /// Per site; a burst of twice this many is allowed.
    #[serde(default = "Hq::default_rate")]
    pub requests_per_second: u32,
    /// A site clock further than this from head office's is flagged.
    #[serde(default = "Hq::default_skew")]
    pub skew_seconds: i64,
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
}

/// `[http]`: how the server holds connections, the site's keys of the
/// same names.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Http {
    #[serde(flatten)]
    pub connections: crate::config::Connections,
}

/// A site allowed to sync, with the SHA-256 (hex) of its token.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteEntry {
    pub id: String,
    pub token_sha256: String,
}

/// The hex SHA-256 of a token, as `token_sha256` stores it.
pub fn hash_token(token: &str) -> String {
    crate::auth::digest_hex(token)
}

impl HqConfig {
    pub fn load(path: &Path) -> Result<HqConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let invalid = |message| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        };
        let mut c = HqConfig::parse(&text).map_err(invalid)?;
        let base = path.parent().unwrap_or(Path::new(".")).to_owned();
        for p in [&mut c.data_dir, &mut c.hq.cert, &mut c.hq.key] {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        if let Some(ca) = &mut c.hq.ca {
            if ca.is_relative() {
                *ca = base.join(&*ca);
            }
        }
        c.base_dir = base;
        Ok(c)
    }

    pub fn parse(text: &str) -> Result<HqConfig, String> {
        let mut c: HqConfig = toml::from_str(text).map_err(|e| describe_toml_error(text, &e))?;
        for (i, s) in c.sites.iter().enumerate() {
            let at = match crate::config::locate(text, "sites", Some(i), "token_sha256") {
                Some(line) => format!("line {line}: key `sites[{i}].token_sha256`"),
                None => format!("key `sites[{i}].token_sha256`"),
            };
            if s.token_sha256.len() != 64 || !s.token_sha256.bytes().all(|b| b.is_ascii_hexdigit())
            {
                return Err(format!(
                    "{at}: give the 64 hex digits `scantrail hq hash-token TOKEN` prints"
                ));
            }
            if c.sites[..i].iter().any(|o| o.id == s.id) {
                return Err(format!(
                    "key `sites[{i}].id`: site `{}` is listed twice",
                    s.id
                ));
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
        )?;
        if c.hq.batch_max == 0 || c.hq.body_max_bytes < 1024 {
            return Err(
                "key `hq.batch_max` must be at least 1 and `hq.body_max_bytes` at least 1024"
                    .into(),
            );
        }
        c.http.connections.settings()?;
        Ok(c)
    }
}

impl HqConfig {
    /// The sites' credentials (role `site`, named by the site's id), the
    /// `[[tokens]]` entries and the older `[hq] admin_token` as one set.
    fn check_tokens(&self, text: &str) -> Result<Tokens, String> {
        let mut grants = Vec::new();
        for (i, s) in self.sites.iter().enumerate() {
            grants.push(Grant {
                place: format!("key `sites[{i}]`"),
                // Checked as 64 hex digits above.
                digest: crate::auth::parse_digest(&s.token_sha256).unwrap_or_default(),
                identity: Identity {
                    name: s.id.clone(),
                    role: Role::Site,
                    stations: Vec::new(),
                },
            });
        }
        for (i, t) in self.tokens.iter().enumerate() {
            let at = |key: &str| match crate::config::locate(text, "tokens", Some(i), key) {
                Some(line) => format!("line {line}: key `tokens[{i}].{key}`"),
                None => format!("key `tokens[{i}].{key}`"),
            };
            grants.push(t.check(at, &[Role::Supervisor, Role::Admin], None)?);
        }
        if let Some(token) = &self.hq.admin_token {
            grants.push(Grant {
                place: "key `hq.admin_token`".to_owned(),
                digest: crate::auth::digest(token.trim()),
                identity: Identity {
                    name: "admin".to_owned(),
                    role: Role::Admin,
                    stations: Vec::new(),
                },
            });
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
        let e = HqConfig::parse(&format!("{base}idle_timeout = 9\n")).unwrap_err();
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
        .unwrap_err();
        assert!(
            e.contains("line 10: key `tokens[0].role`") && e.contains("use supervisor or admin"),
            "{e}"
        );
        let e = HqConfig::parse(&base(
            "[[tokens]]\nname = \"quality\"\nrole = \"admin\"\ntoken = \"north-sync-token-1\"\n",
        ))
        .unwrap_err();
        assert!(e.contains("the same token as key `sites[0]`"), "{e}");
        let e = HqConfig::parse(&base(
            "[[tokens]]\nname = \"north\"\nrole = \"admin\"\ntoken = \"quality-token-0001\"\n",
        ))
        .unwrap_err();
        assert!(e.contains("`north` is already used"), "{e}");
    }

    #[test]
    fn a_bad_token_hash_names_the_line() {
        let e = HqConfig::parse(
            "data_dir = \"d\"\n[hq]\ncert = \"c\"\nkey = \"k\"\n[[sites]]\nid = \"a\"\ntoken_sha256 = \"abc\"\n",
        )
        .unwrap_err();
        assert!(e.contains("line 7") && e.contains("hash-token"), "{e}");
    }
}
