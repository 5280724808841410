//! The people who sign in to the console (`[[users]]` of the site's and
//! head office's configuration): a name, a role and an argon2 hash of the
//! password, never the password itself. `scantrail user add` writes an
//! entry; the daemon checks every entry at start, naming its line.
//!
//! Tokens (`crate::auth`) are for machines and scantrail's own commands;
//! users are for people at a browser. Both end as an [`Identity`], so the
//! console and the API apply the same role rules.

use std::collections::HashMap;
use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde::Deserialize;

use crate::auth::{Identity, Role};

/// The demo password of the shipped configuration's demo users. A user
/// whose hash matches it is named at start with a warning to change it.
pub const DEMO_PASSWORD: &str = "demo-password-change-me";

/// The shortest password `scantrail user add` accepts.
pub const MIN_PASSWORD_LEN: usize = 10;

/// One `[[users]]` entry as the configuration file gives it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserEntry {
    /// Recorded as the author (`by`) of every change made in the console.
    pub name: String,
    /// `handheld`, `supervisor` or `admin` (head office: the last two).
    pub role: String,
    /// The argon2 hash (PHC string, `$argon2id$...`) `scantrail user add`
    /// writes.
    pub password_hash: String,
}

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// Below `MIN_PASSWORD_LEN` characters.
    #[error("the password is shorter than {MIN_PASSWORD_LEN} characters: choose a longer one")]
    TooShort,
    /// The OS could not give random bytes for the salt.
    #[error("the system's random source failed: {0}")]
    Random(String),
    /// argon2 refused (its own words).
    #[error("the password cannot be hashed: {0}")]
    Hash(String),
}

/// An argon2id hash of `password` with a fresh random salt, as
/// `password_hash` holds it.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(PasswordError::TooShort);
    }
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|e| PasswordError::Random(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| PasswordError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether `password` matches the stored `hash` (argon2 compares in
/// constant time).
fn matches(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

struct Account {
    identity: Arc<Identity>,
    hash: String,
}

/// Every user of a daemon, checked.
#[derive(Clone, Default)]
pub struct Users {
    by_name: Arc<HashMap<String, Account>>,
    /// A valid hash checked when the name is unknown, so that a wrong name
    /// takes as long as a wrong password.
    decoy: Arc<String>,
}

impl std::fmt::Debug for Users {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&str> = self.by_name.keys().map(String::as_str).collect();
        names.sort_unstable();
        f.debug_struct("Users").field("names", &names).finish()
    }
}

/// A `[[users]]` entry the daemon cannot take; `at` names its line and key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserError {
    /// Empty, or with spaces around it.
    #[error("{at}: give the person a name without surrounding spaces; it is recorded as the author of their changes")]
    Name {
        /// Line and key.
        at: String,
    },
    /// Not one of the roles this daemon knows.
    #[error("{at}: unknown role {role:?}: use {known}")]
    Role {
        /// Line and key.
        at: String,
        /// What the entry says.
        role: String,
        /// The roles there are, for the message.
        known: String,
    },
    /// The hash cannot be read.
    #[error("{at}: not an argon2 hash ({reason}): write it with `scantrail user add {name} --role {role}`")]
    Hash {
        /// Line and key.
        at: String,
        /// What the hash parser said.
        reason: String,
        /// The entry's name and role, for the command to run.
        name: String,
        /// See `name`.
        role: String,
    },
    /// A hash of another algorithm.
    #[error("{at}: the hash is {algorithm}, not argon2: write it with `scantrail user add`")]
    NotArgon2 {
        /// Line and key.
        at: String,
        /// The algorithm the hash names.
        algorithm: String,
    },
    /// The same name twice.
    #[error("{at}: the user `{name}` is listed twice; names must tell authors apart")]
    Twice {
        /// Line and key.
        at: String,
        /// The name.
        name: String,
    },
}

impl Users {
    /// Checks the entries: a name, one of `roles`, a readable argon2 hash,
    /// each name once. `at(i, key)` names the entry's key (with its line).
    pub fn build(
        entries: &[UserEntry],
        at: impl Fn(usize, &str) -> String,
        roles: &[Role],
    ) -> Result<Users, UserError> {
        let mut by_name = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            if e.name.trim().is_empty() || e.name.trim() != e.name {
                return Err(UserError::Name { at: at(i, "name") });
            }
            let role = roles
                .iter()
                .copied()
                .find(|r| r.name() == e.role)
                .ok_or_else(|| UserError::Role {
                    at: at(i, "role"),
                    role: e.role.clone(),
                    known: roles
                        .iter()
                        .map(|r| r.name())
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
            let parsed = PasswordHash::new(&e.password_hash).map_err(|err| UserError::Hash {
                at: at(i, "password_hash"),
                reason: err.to_string(),
                name: e.name.clone(),
                role: e.role.clone(),
            })?;
            if !parsed.algorithm.as_str().starts_with("argon2") {
                return Err(UserError::NotArgon2 {
                    at: at(i, "password_hash"),
                    algorithm: parsed.algorithm.to_string(),
                });
            }
            let account = Account {
                identity: Arc::new(Identity {
                    name: e.name.clone(),
                    role,
                    stations: Vec::new(),
                    party: None,
                }),
                hash: e.password_hash.clone(),
            };
            if by_name.insert(e.name.clone(), account).is_some() {
                return Err(UserError::Twice {
                    at: at(i, "name"),
                    name: e.name.clone(),
                });
            }
        }
        let decoy = by_name
            .values()
            .next()
            .map(|a| a.hash.clone())
            .unwrap_or_default();
        Ok(Users {
            by_name: Arc::new(by_name),
            decoy: Arc::new(decoy),
        })
    }

    /// The user whose name and password these are. Slow on purpose
    /// (argon2): call it off the async threads.
    pub fn verify(&self, name: &str, password: &str) -> Option<Arc<Identity>> {
        match self.by_name.get(name) {
            Some(account) => matches(&account.hash, password).then(|| account.identity.clone()),
            None => {
                // The same work as for a known name, whatever its outcome.
                let _ = matches(&self.decoy, password);
                None
            }
        }
    }

    /// The account named `name`, if there is one (a session shared by
    /// head office's nodes names its person; each node reads the account
    /// from its own configuration).
    pub fn identity(&self, name: &str) -> Option<Arc<Identity>> {
        self.by_name.get(name).map(|a| a.identity.clone())
    }

    /// The users whose password is still the shipped [`DEMO_PASSWORD`].
    pub fn with_demo_password(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .by_name
            .iter()
            .filter(|(_, a)| matches(&a.hash, DEMO_PASSWORD))
            .map(|(n, _)| n.clone())
            .collect();
        names.sort_unstable();
        names
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROLES: &[Role] = &[Role::Handheld, Role::Supervisor, Role::Admin];

    fn entry(name: &str, role: &str, hash: &str) -> UserEntry {
        UserEntry {
            name: name.into(),
            role: role.into(),
            password_hash: hash.into(),
        }
    }

    fn at(i: usize, key: &str) -> String {
        format!("users[{i}].{key}")
    }

    #[test]
    fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert_ne!(hash, hash_password("correct horse battery").unwrap());
        let users = Users::build(&[entry("sue", "supervisor", &hash)], at, ROLES).unwrap();
        let who = users.verify("sue", "correct horse battery").unwrap();
        assert_eq!((who.name.as_str(), who.role), ("sue", Role::Supervisor));
        assert!(users.verify("sue", "correct horse batter").is_none());
        assert!(users.verify("bob", "correct horse battery").is_none());
        assert!(users.with_demo_password().is_empty());
        assert!(matches!(
            hash_password("short"),
            Err(PasswordError::TooShort)
        ));
    }

    #[test]
    fn bad_entries_are_named() {
        let hash = hash_password(DEMO_PASSWORD).unwrap();
        let e = Users::build(&[entry("sue", "boss", &hash)], at, ROLES)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("users[0].role: unknown role \"boss\""), "{e}");
        let e = Users::build(&[entry("sue", "admin", "hunter2")], at, ROLES)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("users[0].password_hash") && e.contains("scantrail user add sue"),
            "{e}"
        );
        let e = Users::build(&[entry(" ", "admin", &hash)], at, ROLES)
            .unwrap_err()
            .to_string();
        assert!(e.contains("users[0].name"), "{e}");
        let twice = [
            entry("sue", "admin", &hash),
            entry("sue", "supervisor", &hash),
        ];
        let e = Users::build(&twice, at, ROLES).unwrap_err().to_string();
        assert!(e.contains("users[1].name") && e.contains("twice"), "{e}");
        let users = Users::build(&[entry("demo", "admin", &hash)], at, ROLES).unwrap();
        assert_eq!(users.with_demo_password(), ["demo"]);
    }
}
