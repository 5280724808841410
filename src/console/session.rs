//! Console sessions: a random id in a cookie, the signed-in person and a
//! CSRF token per session, kept in memory (a restart signs everyone out;
//! a head office on PostgreSQL keeps them in its database instead, see
//! `super::shared`).
//! The ids are kept only as SHA-256 digests, as tokens are, so the map
//! never holds a usable cookie.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap};
use cookie::{Cookie, SameSite};
use subtle::ConstantTimeEq;

use crate::auth::{digest, Identity};

/// The session cookie.
pub const COOKIE: &str = "scantrail_session";
/// The sign-in form's own token (double submit), before any session.
pub const LOGIN_COOKIE: &str = "scantrail_login";

/// A session unused this long is closed.
pub const IDLE: Duration = Duration::from_secs(2 * 3600);
/// A session is closed this long after sign-in, used or not.
pub const LIFETIME: Duration = Duration::from_secs(12 * 3600);

struct Session {
    identity: Arc<Identity>,
    csrf: String,
    opened: Instant,
    used: Instant,
}

/// Every open session.
#[derive(Default)]
pub struct Sessions {
    open: Mutex<HashMap<[u8; 32], Session>>,
}

impl Sessions {
    /// Opens a session for `identity`; returns the id for the cookie.
    pub fn open(&self, identity: Arc<Identity>) -> String {
        let id = random_id();
        let now = Instant::now();
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.retain(|_, s| alive(s, now));
        open.insert(
            digest(&id),
            Session {
                identity,
                csrf: random_id(),
                opened: now,
                used: now,
            },
        );
        id
    }

    /// The person and CSRF token of a live session; marks it used.
    pub fn find(&self, id: &str) -> Option<(Arc<Identity>, String)> {
        let now = Instant::now();
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let key = digest(id);
        let session = open.get_mut(&key)?;
        if !alive(session, now) {
            open.remove(&key);
            return None;
        }
        session.used = now;
        Some((session.identity.clone(), session.csrf.clone()))
    }

    pub(crate) fn close(&self, id: &str) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.remove(&digest(id));
    }

    /// Closes every session of these people (their account was removed or
    /// changed by a reloaded configuration); returns how many.
    pub(crate) fn close_people(&self, names: &[String]) -> usize {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let before = open.len();
        open.retain(|_, s| !names.contains(&s.identity.name));
        before - open.len()
    }
}

fn alive(s: &Session, now: Instant) -> bool {
    now.duration_since(s.used) < IDLE && now.duration_since(s.opened) < LIFETIME
}

/// 32 random bytes from the OS, as 64 hex digits.
pub fn random_id() -> String {
    let mut bytes = [0u8; 32];
    // The OS's random source does not fail on Linux once booted; if it
    // ever did, no session may be opened with a guessable id.
    getrandom::getrandom(&mut bytes).expect("the system's random source failed");
    hex::encode(bytes)
}

/// Whether two tokens are equal, in time independent of where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    !a.is_empty() && a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

fn build(name: &'static str, value: String, path: &'static str, tls: bool) -> Cookie<'static> {
    Cookie::build((name, value))
        .path(path)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(tls)
        .build()
}

/// `Set-Cookie` of a new session (a browser-session cookie; the server
/// ends it after [`IDLE`] or [`LIFETIME`]).
pub fn session_cookie(id: &str, tls: bool) -> String {
    build(COOKIE, id.to_owned(), "/", tls).to_string()
}

pub(crate) fn session_cookie_removal(tls: bool) -> String {
    let mut c = build(COOKIE, String::new(), "/", tls);
    c.make_removal();
    c.to_string()
}

/// `Set-Cookie` of the sign-in form's token.
pub fn login_cookie(token: &str, tls: bool) -> String {
    build(LOGIN_COOKIE, token.to_owned(), "/login", tls).to_string()
}

pub(crate) fn login_cookie_removal(tls: bool) -> String {
    let mut c = build(LOGIN_COOKIE, String::new(), "/login", tls);
    c.make_removal();
    c.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    #[test]
    fn a_session_is_found_by_its_id_only_and_closes() {
        let sessions = Sessions::default();
        let sue = Arc::new(Identity {
            name: "sue".into(),
            role: Role::Supervisor,
            stations: vec![],
            party: None,
        });
        let id = sessions.open(sue);
        let (who, csrf) = sessions.find(&id).unwrap();
        assert_eq!(who.name, "sue");
        assert_eq!(csrf.len(), 64);
        assert!(sessions.find(&id[1..]).is_none());
        assert!(sessions.find("").is_none());
        sessions.close(&id);
        assert!(sessions.find(&id).is_none());
        // A reload that removes or changes sue's account signs her out.
        let (first, second) = (sessions.open(who.clone()), sessions.open(who));
        let bob = Arc::new(Identity {
            name: "bob".into(),
            role: Role::Handheld,
            stations: vec![],
            party: None,
        });
        let other = sessions.open(bob);
        assert_eq!(sessions.close_people(&["sue".to_owned()]), 2);
        assert!(sessions.find(&first).is_none() && sessions.find(&second).is_none());
        assert!(sessions.find(&other).is_some());
    }

    #[test]
    fn cookies_are_http_only_strict_and_secure_over_tls() {
        let plain = session_cookie("abc", false);
        assert!(plain.contains("HttpOnly") && plain.contains("SameSite=Strict"));
        assert!(!plain.contains("Secure"), "{plain}");
        assert!(session_cookie("abc", true).contains("Secure"));
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; scantrail_session=xyz".parse().unwrap(),
        );
        assert_eq!(cookie_value(&h, COOKIE).as_deref(), Some("xyz"));
        assert!(same_token("ab", "ab") && !same_token("ab", "ac") && !same_token("", ""));
    }
}
