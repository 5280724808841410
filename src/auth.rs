//! Who is calling: the one place that turns a bearer token into an
//! identity (a name, a role and, for a handheld, its stations), for the
//! site API, the site's sync routes and head office alike, so a rule about
//! tokens is written once.
//!
//! Tokens are kept only as SHA-256 digests and found by digest: the time a
//! lookup takes does not depend on how much of a guessed token is right,
//! and a configuration may hold `token_sha256` instead of the secret. The
//! name of an identity is the author of every change it makes; the
//! `operator` a client may send is recorded beside it, never instead.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};

use axum::http::{header, HeaderMap};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// What a token may do. Site daemon: `Handheld` < `Supervisor` < `Admin`.
/// Head office: `Site` (a site's sync credential), `Supervisor`, `Admin`.
/// A site also takes `Partner` tokens, for EPCIS capture only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A scanning device on the floor: records movements at its own
    /// stations (`[[tokens]] stations`), nothing that needs a supervisor.
    Handheld,
    /// A person who may correct, hold, publish and read every report, at
    /// a site or at head office.
    Supervisor,
    /// Everything a supervisor may, plus the admin routes (sync status and
    /// control); scantrail's own commands use the first admin token.
    Admin,
    /// Head office only: one site's credential for its sync routes
    /// (upload, acknowledge, reference pull); not ranked with the people's
    /// roles, so it covers nothing else.
    Site,
    /// Site only: a trading partner bound to one party (`[[tokens]]
    /// party`, its PGLN) that may call only the EPCIS capture routes; not
    /// ranked with the people's roles, so it covers nothing else.
    Partner,
}

impl Role {
    /// The role's name as a `[[tokens]] role` gives it and as messages
    /// print it (`handheld`, `supervisor`, `admin`, `site`, `partner`).
    pub fn name(self) -> &'static str {
        match self {
            Role::Handheld => "handheld",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
            Role::Site => "site",
            Role::Partner => "partner",
        }
    }

    fn parse(text: &str) -> Option<Role> {
        [
            Role::Handheld,
            Role::Supervisor,
            Role::Admin,
            Role::Site,
            Role::Partner,
        ]
        .into_iter()
        .find(|r| r.name() == text)
    }

    /// Whether this role may do what `needed` may: the people's roles are
    /// ordered; a site's sync credential is a role of its own.
    pub fn covers(self, needed: Role) -> bool {
        let rank = |r: Role| match r {
            Role::Handheld => Some(0),
            Role::Supervisor => Some(1),
            Role::Admin => Some(2),
            Role::Site | Role::Partner => None,
        };
        match (rank(self), rank(needed)) {
            (Some(have), Some(need)) => have >= need,
            _ => self == needed,
        }
    }

    /// "a handheld", "an admin".
    fn with_article(self) -> String {
        let article = if self == Role::Admin { "an" } else { "a" };
        format!("{article} {}", self.name())
    }
}

/// The caller of a request, as its token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The author of the changes this token makes.
    pub name: String,
    /// What the token may do; checked by [`Identity::require`].
    pub role: Role,
    /// A handheld's stations, its default first; empty for other roles.
    pub stations: Vec<String>,
    /// A partner's party (its 13-digit PGLN); `None` for other roles.
    pub party: Option<String>,
}

impl Identity {
    /// Refuses, with the message a 403 carries, a caller below `needed`.
    pub fn require(&self, needed: Role) -> Result<(), Forbidden> {
        if self.role.covers(needed) {
            return Ok(());
        }
        Err(Forbidden::Role {
            needed,
            name: self.name.clone(),
            role: self.role,
        })
    }

    /// A handheld works only at its own stations; other people anywhere.
    pub fn may_use_station(&self, station: &str) -> Result<(), Forbidden> {
        if self.role != Role::Handheld || self.stations.iter().any(|s| s == station) {
            return Ok(());
        }
        Err(Forbidden::Station {
            name: self.name.clone(),
            stations: self.stations.clone(),
            station: station.to_owned(),
        })
    }

    /// Where a handheld's scans go when a request names no station.
    pub fn default_station(&self) -> Option<&str> {
        self.stations.first().map(String::as_str)
    }
}

/// Why a caller may not do what it asked: the words of the API's 403.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Forbidden {
    /// The caller's role is below the one the route needs.
    #[error("this needs the {} role; the token `{name}` is {}", needed.name(), role.with_article())]
    Role {
        /// The role the route needs.
        needed: Role,
        /// The caller's name.
        name: String,
        /// The caller's role.
        role: Role,
    },
    /// A handheld asked for a station that is not its own.
    #[error("the handheld `{name}` may scan and set the context only at {}; station {station:?} needs its own token or the supervisor role", stations.join(", "))]
    Station {
        /// The handheld's name.
        name: String,
        /// Its own stations.
        stations: Vec<String>,
        /// The station it asked for.
        station: String,
    },
}

/// A token of a configuration file that cannot be used. `at` is where
/// (line and key); the words say what to give instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// An entry without a name.
    #[error("{at}: give the person or device a name; it is recorded as the author of its changes")]
    NoName {
        /// Where.
        at: String,
    },
    /// A role this file may not give, or no role at all.
    #[error("{at}: unknown role {role:?}: use {allowed}")]
    UnknownRole {
        /// Where.
        at: String,
        /// The role written.
        role: String,
        /// The roles this file may give, in words.
        allowed: String,
    },
    /// A handheld without stations.
    #[error("{at}: a handheld needs its stations, e.g. stations = [\"dock-1\"] (the first is its default)")]
    NoStations {
        /// Where.
        at: String,
    },
    /// A station no `[[stations]]` entry defines.
    #[error("{at}: no [[stations]] entry has id `{station}`; add one or fix the name")]
    UnknownStation {
        /// Where.
        at: String,
        /// The station named.
        station: String,
    },
    /// Stations given to a role that is not bound to any.
    #[error("{at}: only handhelds are bound to stations; a {} may act at any", role.name())]
    StationsNotBound {
        /// Where.
        at: String,
        /// The entry's role.
        role: Role,
    },
    /// A partner without its party, or a party given to another role.
    #[error("{at}: a partner is bound to one party: give its 13-digit PGLN, e.g. party = \"9506000000039\"; only partners have a party")]
    Party {
        /// Where.
        at: String,
    },
    /// A plain token too short or with spaces around it.
    #[error("{at}: use a random token of at least {MIN_TOKEN_LEN} characters without surrounding spaces (e.g. `openssl rand -hex 16`)")]
    WeakToken {
        /// Where.
        at: String,
    },
    /// A `token_sha256` that is not 64 hex digits.
    #[error("{at}: give the 64 hex digits `scantrail hq hash-token TOKEN` prints")]
    BadDigest {
        /// Where.
        at: String,
    },
    /// Both or neither of `token` and `token_sha256`.
    #[error("{at}: give exactly one of `token` and `token_sha256`")]
    TokenOrDigest {
        /// Where.
        at: String,
    },
    /// Two entries with one token.
    #[error("{place}: the same token as {other}; give each person and device its own")]
    SameToken {
        /// The later entry.
        place: String,
        /// The earlier entry.
        other: String,
    },
    /// Two entries with one name.
    #[error(
        "{place}: the name `{name}` is already used by {other}; names must tell authors apart"
    )]
    SameName {
        /// The later entry.
        place: String,
        /// The name.
        name: String,
        /// The earlier entry.
        other: String,
    },
}

/// One `[[tokens]]` entry as a configuration file gives it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    /// Who the token is: the author recorded on every change made with it;
    /// unique within a file.
    pub name: String,
    /// A [`Role`] by its name; which roles are allowed depends on the file
    /// (a site's configuration or head office's).
    pub role: String,
    /// A handheld's stations, its default first.
    #[serde(default)]
    pub stations: Vec<String>,
    /// A partner's party: the PGLN (GS1 AI 417) whose events it may
    /// capture; required for partners, refused for other roles.
    #[serde(default)]
    pub party: Option<String>,
    /// The secret itself, at least [`MIN_TOKEN_LEN`] characters without
    /// surrounding spaces; exactly one of `token` and `token_sha256` is given.
    #[serde(default)]
    pub token: Option<String>,
    /// The hex SHA-256 of the token (`scantrail hq hash-token TOKEN`
    /// prints it), so the file need not hold the secret.
    #[serde(default)]
    pub token_sha256: Option<String>,
}

/// The token scantrail's own commands use when none is given: the first
/// admin token written in the file, else the older form's (`legacy`).
pub fn written_admin_token(entries: &[TokenEntry], legacy: Option<&String>) -> Option<String> {
    entries
        .iter()
        .filter(|t| t.role == Role::Admin.name())
        .find_map(|t| t.token.clone())
        .or_else(|| legacy.cloned())
}

/// The shortest plain token a `[[tokens]]` entry may hold.
pub const MIN_TOKEN_LEN: usize = 16;

impl TokenEntry {
    /// Checks the entry; `at(key)` names the key in errors (with its line),
    /// `roles` are the roles this file may give, `station` whether a
    /// station exists (`None`: this file has no stations).
    pub fn check(
        &self,
        at: impl Fn(&str) -> String,
        roles: &[Role],
        station: Option<&dyn Fn(&str) -> bool>,
    ) -> Result<Grant, TokenError> {
        if self.name.trim().is_empty() {
            return Err(TokenError::NoName { at: at("name") });
        }
        let allowed = roles.iter().map(|r| r.name()).collect::<Vec<_>>();
        let listed = match allowed.split_last() {
            Some((last, [])) => last.to_string(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        };
        let role = Role::parse(&self.role)
            .filter(|r| roles.contains(r))
            .ok_or_else(|| TokenError::UnknownRole {
                at: at("role"),
                role: self.role.clone(),
                allowed: listed,
            })?;
        match (role, station) {
            (Role::Handheld, Some(known)) => {
                if self.stations.is_empty() {
                    return Err(TokenError::NoStations { at: at("stations") });
                }
                if let Some(s) = self.stations.iter().find(|s| !known(s)) {
                    return Err(TokenError::UnknownStation {
                        at: at("stations"),
                        station: s.clone(),
                    });
                }
            }
            _ if !self.stations.is_empty() => {
                return Err(TokenError::StationsNotBound {
                    at: at("stations"),
                    role,
                });
            }
            _ => {}
        }
        let party_ok = match (&self.party, role) {
            (Some(p), Role::Partner) => crate::gs1::check_value("417", p).is_ok(),
            (None, Role::Partner) | (Some(_), _) => false,
            (None, _) => true,
        };
        if !party_ok {
            return Err(TokenError::Party { at: at("party") });
        }
        let digest = match (&self.token, &self.token_sha256) {
            (Some(token), None) => {
                if token.trim() != token || token.chars().count() < MIN_TOKEN_LEN {
                    return Err(TokenError::WeakToken { at: at("token") });
                }
                digest(token)
            }
            (None, Some(hex)) => parse_digest(hex).ok_or_else(|| TokenError::BadDigest {
                at: at("token_sha256"),
            })?,
            _ => return Err(TokenError::TokenOrDigest { at: at("token") }),
        };
        Ok(Grant {
            place: at("name"),
            digest,
            identity: Identity {
                name: self.name.clone(),
                role,
                stations: self.stations.clone(),
                party: self.party.clone(),
            },
        })
    }
}

/// A checked token: its digest and who it is, and where the file says so
/// (for errors about two entries).
#[derive(Debug, Clone)]
pub struct Grant {
    /// Where the entry stands in the file (key and line), named when two
    /// entries share a token or a name.
    pub place: String,
    /// The SHA-256 of the token, the only form of it a daemon keeps.
    pub digest: [u8; 32],
    /// Who a request with this token is.
    pub identity: Identity,
}

/// Every token a daemon accepts.
#[derive(Clone, Default, PartialEq)]
pub struct Tokens {
    by_digest: HashMap<[u8; 32], Arc<Identity>>,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&str> = self.by_digest.values().map(|i| i.name.as_str()).collect();
        names.sort_unstable();
        f.debug_struct("Tokens").field("names", &names).finish()
    }
}

impl Tokens {
    /// Refuses two entries with the same token or the same name: a token
    /// must say who acted.
    pub fn build(grants: Vec<Grant>) -> Result<Tokens, TokenError> {
        let mut by_digest: HashMap<[u8; 32], Arc<Identity>> = HashMap::new();
        for (i, g) in grants.iter().enumerate() {
            if let Some(other) = grants[..i].iter().find(|o| o.digest == g.digest) {
                return Err(TokenError::SameToken {
                    place: g.place.clone(),
                    other: other.place.clone(),
                });
            }
            if let Some(other) = grants[..i]
                .iter()
                .find(|o| o.identity.name == g.identity.name)
            {
                return Err(TokenError::SameName {
                    place: g.place.clone(),
                    name: g.identity.name.clone(),
                    other: other.place.clone(),
                });
            }
            by_digest.insert(g.digest, Arc::new(g.identity.clone()));
        }
        Ok(Tokens { by_digest })
    }

    /// The caller of a request, from `Authorization: Bearer TOKEN`; `None`
    /// without a header or with an unknown token.
    pub fn identify(&self, headers: &HeaderMap) -> Option<Arc<Identity>> {
        self.by_digest.get(&digest(bearer(headers)?)).cloned()
    }

    /// Each token's grant by the name it acts as (the digest and who it
    /// is), for telling what a reloaded configuration changed.
    pub fn by_name(&self) -> std::collections::BTreeMap<String, ([u8; 32], Arc<Identity>)> {
        self.by_digest
            .iter()
            .map(|(digest, identity)| (identity.name.clone(), (*digest, identity.clone())))
            .collect()
    }

    /// Whether a token of this set acts as `name`.
    pub fn has_name(&self, name: &str) -> bool {
        self.by_digest.values().any(|i| i.name == name)
    }

    /// Whether no token is accepted at all: the daemon then warns at start
    /// that its API will refuse every authenticated request.
    pub fn is_empty(&self) -> bool {
        self.by_digest.is_empty()
    }
}

/// The tokens a running daemon accepts: those of its configuration,
/// replaced whole when it is reloaded (SIGHUP), and the handhelds enrolled
/// from the console (kept in the store by `site::handhelds`, added and
/// revoked one by one). Each request is checked against both sets as they
/// stand when it arrives, by the one [`LiveTokens::identify`].
#[derive(Clone, Default)]
pub struct LiveTokens {
    configured: Arc<RwLock<Arc<Tokens>>>,
    enrolled: Arc<RwLock<HashMap<[u8; 32], Arc<Identity>>>>,
    /// When each enrolled handheld last made a request.
    seen: Arc<RwLock<HashMap<String, DateTime<Utc>>>>,
}

impl LiveTokens {
    /// The daemon's tokens as it starts.
    pub fn new(tokens: Tokens) -> LiveTokens {
        LiveTokens {
            configured: Arc::new(RwLock::new(Arc::new(tokens))),
            ..LiveTokens::default()
        }
    }

    /// The configured set in force now.
    pub fn current(&self) -> Arc<Tokens> {
        self.configured
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Puts `tokens` in force for every request from now on.
    pub fn replace(&self, tokens: Tokens) {
        *self.configured.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(tokens);
    }

    /// The caller of a request: a configured token, else an enrolled
    /// handheld's (whose last-seen time is noted).
    pub fn identify(&self, headers: &HeaderMap) -> Option<Arc<Identity>> {
        if let Some(identity) = self.current().identify(headers) {
            return Some(identity);
        }
        let token = bearer(headers)?;
        let identity = self
            .enrolled
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&digest(token))
            .cloned()?;
        // A reloaded configuration that gave its name to a token wins:
        // names must tell authors apart.
        if self.current().has_name(&identity.name) {
            return None;
        }
        self.seen
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(identity.name.clone(), Utc::now());
        Some(identity)
    }

    /// Accepts the token whose digest is `digest` as `identity` from now
    /// on; `seen` is when it was last seen, if ever.
    pub fn enrol(&self, digest: [u8; 32], identity: Identity, seen: Option<DateTime<Utc>>) {
        if let Some(at) = seen {
            self.seen
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .insert(identity.name.clone(), at);
        }
        self.enrolled
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(digest, Arc::new(identity));
    }

    /// Refuses the enrolled handheld `name` from now on; whether there was
    /// one.
    pub fn revoke(&self, name: &str) -> bool {
        let mut enrolled = self.enrolled.write().unwrap_or_else(|p| p.into_inner());
        let before = enrolled.len();
        enrolled.retain(|_, identity| identity.name != name);
        self.seen
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name);
        enrolled.len() != before
    }

    /// Whether `name` is taken by a configured token or an enrolled
    /// handheld: names tell authors apart, so a new one must be new.
    pub fn name_taken(&self, name: &str) -> bool {
        self.current().has_name(name) || self.is_enrolled(name)
    }

    /// Whether `name` is an enrolled handheld's.
    pub fn is_enrolled(&self, name: &str) -> bool {
        self.enrolled
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .any(|i| i.name == name)
    }

    /// When the enrolled handheld `name` last made a request.
    pub fn last_seen(&self, name: &str) -> Option<DateTime<Utc>> {
        self.seen
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .copied()
    }
}

/// The token of `Authorization: Bearer TOKEN`.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    Some(
        headers
            .get(header::AUTHORIZATION)?
            .to_str()
            .ok()?
            .strip_prefix("Bearer ")?
            .trim(),
    )
}

/// Why a request naming its own author (`by`) is refused.
pub fn by_refused(name: &str) -> String {
    format!(
        "`by` is not taken: the author of a change is the name of the token it is made with (`{name}`); leave `by` out, and give the person signed in at a station as `operator` where the route takes one"
    )
}

/// The SHA-256 of a token.
pub fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The hex SHA-256 of a token, as `token_sha256` holds it.
pub fn digest_hex(token: &str) -> String {
    crate::model::Hash(digest(token)).hex()
}

/// 64 hex digits (either case) as a digest.
pub fn parse_digest(hex: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex.trim(), &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(role: &str, stations: &[&str], token: &str) -> TokenEntry {
        TokenEntry {
            name: "hh-3".into(),
            role: role.into(),
            stations: stations.iter().map(|s| s.to_string()).collect(),
            party: None,
            token: Some(token.into()),
            token_sha256: None,
        }
    }

    const SITE_ROLES: &[Role] = &[Role::Handheld, Role::Supervisor, Role::Admin];

    /// The entry checked; an error as its words.
    fn check(e: &TokenEntry) -> Result<Grant, String> {
        let known = |s: &str| s == "dock-1";
        e.check(|k| format!("tokens[2].{k}"), SITE_ROLES, Some(&known))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn roles_are_ordered_and_site_stands_apart() {
        assert!(Role::Admin.covers(Role::Supervisor));
        assert!(Role::Supervisor.covers(Role::Handheld));
        assert!(!Role::Handheld.covers(Role::Supervisor));
        assert!(!Role::Site.covers(Role::Handheld));
        assert!(!Role::Admin.covers(Role::Site));
        let hh = check(&entry("handheld", &["dock-1"], "0123456789abcdef"))
            .unwrap()
            .identity;
        assert_eq!(
            hh.require(Role::Supervisor).unwrap_err().to_string(),
            "this needs the supervisor role; the token `hh-3` is a handheld"
        );
        assert!(hh.may_use_station("dock-1").is_ok());
        assert!(hh
            .may_use_station("dock-2")
            .unwrap_err()
            .to_string()
            .contains("dock-1"));
    }

    #[test]
    fn bad_entries_are_named() {
        let e = check(&entry("boss", &[], "0123456789abcdef")).unwrap_err();
        assert_eq!(
            e,
            "tokens[2].role: unknown role \"boss\": use handheld, supervisor or admin"
        );
        let e = check(&entry("site", &[], "0123456789abcdef")).unwrap_err();
        assert!(e.contains("unknown role \"site\""), "{e}");
        let e = check(&entry("handheld", &["dock-9"], "0123456789abcdef")).unwrap_err();
        assert!(
            e.contains("tokens[2].stations") && e.contains("dock-9"),
            "{e}"
        );
        let e = check(&entry("handheld", &[], "0123456789abcdef")).unwrap_err();
        assert!(e.contains("needs its stations"), "{e}");
        let e = check(&entry("admin", &["dock-1"], "0123456789abcdef")).unwrap_err();
        assert!(e.contains("only handhelds"), "{e}");
        let e = check(&entry("admin", &[], "short")).unwrap_err();
        assert!(e.contains("tokens[2].token") && e.contains("16"), "{e}");
        let mut both = entry("admin", &[], "0123456789abcdef");
        both.token_sha256 = Some(digest_hex("x"));
        assert!(check(&both).unwrap_err().contains("exactly one"));
        let mut hashed = entry("admin", &[], "");
        hashed.token = None;
        hashed.token_sha256 = Some("abc".into());
        assert!(check(&hashed).unwrap_err().contains("64 hex digits"));
    }

    #[test]
    fn a_partner_is_bound_to_one_valid_party_and_covers_no_other_role() {
        let roles = [Role::Handheld, Role::Supervisor, Role::Admin, Role::Partner];
        let known = |s: &str| s == "dock-1";
        let check = |e: &TokenEntry| {
            e.check(|k| format!("tokens[2].{k}"), &roles, Some(&known))
                .map_err(|e| e.to_string())
        };
        let mut partner = entry("partner", &[], "0123456789abcdef");
        assert!(check(&partner).unwrap_err().contains("tokens[2].party"));
        partner.party = Some("9506000000038".into());
        assert!(check(&partner).unwrap_err().contains("13-digit PGLN"));
        partner.party = Some("9506000000039".into());
        let identity = check(&partner).unwrap().identity;
        assert_eq!(identity.party.as_deref(), Some("9506000000039"));
        assert!(identity.require(Role::Partner).is_ok());
        assert!(identity.require(Role::Handheld).is_err());
        assert!(!Role::Admin.covers(Role::Partner));
        let mut admin = entry("admin", &[], "0123456789abcdef");
        admin.party = Some("9506000000039".into());
        assert!(check(&admin).unwrap_err().contains("only partners"));
    }

    #[test]
    fn hashed_and_plain_tokens_identify_and_collide() {
        let plain = check(&entry("admin", &[], "0123456789abcdef")).unwrap();
        let mut hashed = entry("supervisor", &[], "");
        hashed.name = "sue".into();
        hashed.token = None;
        hashed.token_sha256 = Some(digest_hex("sue-secret-token-1").to_uppercase());
        let hashed = check(&hashed).unwrap();
        let tokens = Tokens::build(vec![plain.clone(), hashed.clone()]).unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            "Bearer sue-secret-token-1".parse().unwrap(),
        );
        assert_eq!(tokens.identify(&headers).unwrap().name, "sue");
        headers.insert(header::AUTHORIZATION, "Bearer sue".parse().unwrap());
        assert!(tokens.identify(&headers).is_none());
        assert!(tokens.identify(&HeaderMap::new()).is_none());

        let mut twin = plain.clone();
        twin.identity.name = "other".into();
        let e = Tokens::build(vec![plain.clone(), twin])
            .unwrap_err()
            .to_string();
        assert!(e.contains("the same token"), "{e}");
        let mut namesake = hashed;
        namesake.identity.name = "hh-3".into();
        let e = Tokens::build(vec![plain, namesake])
            .unwrap_err()
            .to_string();
        assert!(e.contains("already used"), "{e}");
    }

    #[test]
    fn enrolled_handhelds_identify_until_revoked() {
        let live = LiveTokens::new(Tokens::default());
        let hh = Identity {
            name: "hh-7".into(),
            role: Role::Handheld,
            stations: vec!["dock-1".into()],
            party: None,
        };
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            "Bearer enrolled-secret-1234".parse().unwrap(),
        );
        assert!(live.identify(&headers).is_none());
        live.enrol(digest("enrolled-secret-1234"), hh.clone(), None);
        assert!(live.name_taken("hh-7"));
        assert_eq!(*live.identify(&headers).unwrap(), hh);
        assert!(live.last_seen("hh-7").is_some());
        // A reload that gives the name to a configured token refuses the
        // enrolled one rather than let two devices act as one author.
        let mut namesake = TokenEntry {
            name: "hh-7".into(),
            role: "supervisor".into(),
            stations: vec![],
            party: None,
            token: Some("configured-secret-1234".into()),
            token_sha256: None,
        }
        .check(|k| k.to_owned(), &[Role::Supervisor], None)
        .unwrap();
        namesake.place = "tokens[1]".into();
        live.replace(Tokens::build(vec![namesake]).unwrap());
        assert!(live.identify(&headers).is_none());
        live.replace(Tokens::default());
        assert!(live.identify(&headers).is_some());
        assert!(live.revoke("hh-7"));
        assert!(live.identify(&headers).is_none());
        assert!(!live.revoke("hh-7"));
    }
}
