//! Handhelds enrolled from the console, so that a new device gets a token
//! of its own in minutes and no shared demo token ever sits on the floor.
//!
//! A supervisor offers an enrolment (a name and the stations) and is shown
//! a one-time code, typed or scanned (QR) on the device; the device trades
//! it for a fresh handheld-role token (`POST /api/v1/handhelds/enrol`).
//! Codes live in memory only, expire after [`CODE_LIFETIME`], work once,
//! and carry about 49 bits of chance (10 characters of 31), with trades
//! rate-limited per client address: not guessable in ten minutes.
//!
//! An enrolled token is kept in the store's side tree [`TREE`] as its
//! SHA-256 only (like a configuration's `token_sha256`), with who enrolled
//! it and when it was last seen; it is put beside the configured tokens in
//! [`LiveTokens`], so the API checks both by the same path, and a
//! revocation is on disk and in force before the console confirms it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::auth::{digest, digest_hex, parse_digest, Identity, LiveTokens, Role};
use crate::store::{Store, StoreError};

/// The store's side tree of enrolled handhelds, keyed by name.
pub const TREE: &str = "handhelds";
/// How long an offered code may be traded for a token.
pub const CODE_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// A code's characters: no 0/O, 1/I/L to misread on a small screen.
const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
/// Characters in a code (shown as two groups of five).
const CODE_LEN: usize = 10;
/// Code trades per client address: a burst, then one per this many seconds.
const TRADE_BURST: u32 = 10;
const TRADE_REFILL_SECONDS: u64 = 6;
/// How often last-seen times are written to the store.
pub const SEEN_EVERY: Duration = Duration::from_secs(60);

/// An enrolled handheld as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolled {
    /// The author of its scans; unique among tokens.
    pub name: String,
    /// Its stations, its default first.
    pub stations: Vec<String>,
    /// The hex SHA-256 of its token; the token itself is not kept.
    pub token_sha256: String,
    /// When it traded its code.
    pub enrolled_at: DateTime<Utc>,
    /// The supervisor who offered the code.
    pub enrolled_by: String,
    /// When it last made a request (written every [`SEEN_EVERY`]).
    #[serde(default)]
    pub last_seen: Option<DateTime<Utc>>,
}

/// A code offered and not yet traded.
#[derive(Debug, Clone)]
struct Offer {
    name: String,
    stations: Vec<String>,
    by: String,
    until: Instant,
}

/// A code as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    /// `ABCDE-FGHJK`.
    pub text: String,
    /// The name the device will get.
    pub name: String,
    /// Its stations.
    pub stations: Vec<String>,
}

/// What a device gets for its code.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Granted {
    /// The token, shown this once.
    pub token: String,
    /// The device's name.
    pub name: String,
    /// Its stations.
    pub stations: Vec<String>,
}

/// Why an enrolment, a trade or a revocation was refused.
#[derive(Debug, thiserror::Error)]
pub enum EnrolError {
    /// No name given.
    #[error(
        "give the handheld a name (e.g. hh-dock-1); it is recorded as the author of its scans"
    )]
    NoName,
    /// A name with characters that do not belong in a name.
    #[error("the name {0:?} may hold letters, digits, '-', '_' and '.' only (at most 40)")]
    BadName(String),
    /// A name a token already has.
    #[error("the name `{0}` is already taken by a token or an enrolled handheld; names tell authors apart")]
    NameTaken(String),
    /// No station picked.
    #[error("pick at least one station for the handheld")]
    NoStations,
    /// A station the site does not have.
    #[error("there is no station `{0}`")]
    UnknownStation(String),
    /// A code that is wrong, used or expired.
    #[error("this code is not valid: it may be mistyped, already used or older than 10 minutes; ask a supervisor for a new one")]
    UnknownCode,
    /// Too many trades from one address.
    #[error("too many codes tried from this address; wait {0} seconds")]
    TooMany(u64),
    /// No enrolled handheld of that name.
    #[error("there is no enrolled handheld `{0}`")]
    NoSuchHandheld(String),
    /// The store could not save the change, so it was not made.
    #[error("the change was not saved: {0}")]
    Store(#[from] StoreError),
}

type Limiter = governor::DefaultKeyedRateLimiter<IpAddr>;

/// The enrolment desk: offered codes, the enrolled handhelds, their tokens.
pub struct Handhelds {
    store: Arc<Store>,
    tokens: LiveTokens,
    offers: Mutex<HashMap<String, Offer>>,
    limiter: Limiter,
}

impl Handhelds {
    /// Puts every enrolled handheld of the store in force beside the
    /// configured tokens. One whose name a configured token now has is
    /// left out, with a warning: names must tell authors apart.
    pub fn load(store: Arc<Store>, tokens: LiveTokens) -> Result<Handhelds, StoreError> {
        for (_, bytes) in store.records().list(TREE)? {
            let Ok(e) = serde_json::from_slice::<Enrolled>(&bytes) else {
                tracing::warn!("an enrolled handheld's record could not be read; it is ignored");
                continue;
            };
            let Some(token_digest) = parse_digest(&e.token_sha256) else {
                continue;
            };
            if tokens.name_taken(&e.name) {
                tracing::warn!(
                    name = e.name,
                    "an enrolled handheld has the name of a configured token; it is refused until one is renamed"
                );
                continue;
            }
            tokens.enrol(token_digest, identity(&e.name, &e.stations), e.last_seen);
        }
        let refill = Duration::from_secs(TRADE_REFILL_SECONDS);
        let burst = NonZeroU32::new(TRADE_BURST).unwrap_or(NonZeroU32::MIN);
        let quota = governor::Quota::with_period(refill)
            .unwrap_or_else(|| governor::Quota::per_minute(NonZeroU32::MIN))
            .allow_burst(burst);
        Ok(Handhelds {
            store,
            tokens,
            offers: Mutex::new(HashMap::new()),
            limiter: governor::RateLimiter::keyed(quota),
        })
    }

    fn offers(&self) -> std::sync::MutexGuard<'_, HashMap<String, Offer>> {
        self.offers.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Offers a code for a handheld `name` at `stations` (of `known`), by
    /// the supervisor `by`. An earlier offer for the same name is withdrawn.
    pub fn offer(
        &self,
        name: &str,
        stations: Vec<String>,
        known: &[String],
        by: &str,
    ) -> Result<Code, EnrolError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(EnrolError::NoName);
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || "-_.".contains(c);
        if name.len() > 40 || !name.chars().all(allowed) {
            return Err(EnrolError::BadName(name.to_owned()));
        }
        if self.tokens.name_taken(name) {
            return Err(EnrolError::NameTaken(name.to_owned()));
        }
        if stations.is_empty() {
            return Err(EnrolError::NoStations);
        }
        if let Some(s) = stations.iter().find(|s| !known.contains(s)) {
            return Err(EnrolError::UnknownStation(s.clone()));
        }
        let code = new_code();
        let now = Instant::now();
        let mut offers = self.offers();
        offers.retain(|_, o| o.until > now && o.name != name);
        offers.insert(
            code.clone(),
            Offer {
                name: name.to_owned(),
                stations: stations.clone(),
                by: by.to_owned(),
                until: now + CODE_LIFETIME,
            },
        );
        tracing::info!(
            name,
            by,
            stations = stations.join(","),
            "handheld enrolment offered"
        );
        Ok(Code {
            text: format!("{}-{}", &code[..CODE_LEN / 2], &code[CODE_LEN / 2..]),
            name: name.to_owned(),
            stations,
        })
    }

    /// Trades a code (as typed: any case, spaces and dashes ignored) from
    /// `peer` for a new token, saved before it is returned.
    pub fn trade(&self, typed: &str, peer: IpAddr) -> Result<Granted, EnrolError> {
        if let Err(not_until) = self.limiter.check_key(&peer) {
            use governor::clock::{Clock, DefaultClock};
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            return Err(EnrolError::TooMany(wait.as_secs().max(1)));
        }
        self.limiter.retain_recent();
        let code = normalise(typed);
        let offer = {
            let mut offers = self.offers();
            match offers.remove(&code) {
                Some(o) if o.until > Instant::now() => o,
                _ => return Err(EnrolError::UnknownCode),
            }
        };
        if self.tokens.name_taken(&offer.name) {
            return Err(EnrolError::NameTaken(offer.name));
        }
        let token = crate::console::session::random_id();
        let record = Enrolled {
            name: offer.name.clone(),
            stations: offer.stations.clone(),
            token_sha256: digest_hex(&token),
            enrolled_at: Utc::now(),
            enrolled_by: offer.by.clone(),
            last_seen: None,
        };
        self.save(&record, true)?;
        self.tokens
            .enrol(digest(&token), identity(&offer.name, &offer.stations), None);
        tracing::info!(name = offer.name, by = offer.by, %peer, "handheld enrolled");
        Ok(Granted {
            token,
            name: offer.name,
            stations: offer.stations,
        })
    }

    fn save(&self, record: &Enrolled, durable: bool) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(record).unwrap_or_default();
        self.store
            .records()
            .save(TREE, record.name.as_bytes(), &bytes, durable)
    }

    /// Every enrolled handheld, by name, with its last-seen time as of now.
    pub fn list(&self) -> Result<Vec<Enrolled>, StoreError> {
        let mut out = Vec::new();
        for (_, bytes) in self.store.records().list(TREE)? {
            if let Ok(mut e) = serde_json::from_slice::<Enrolled>(&bytes) {
                e.last_seen = e.last_seen.max(self.tokens.last_seen(&e.name));
                out.push(e);
            }
        }
        Ok(out)
    }

    /// Revokes `name`: refused from the next request on, and gone from
    /// the store (durably) before this returns; `by` is logged.
    pub fn revoke(&self, name: &str, by: &str) -> Result<(), EnrolError> {
        if !self.list()?.iter().any(|e| e.name == name) {
            return Err(EnrolError::NoSuchHandheld(name.to_owned()));
        }
        self.tokens.revoke(name);
        self.store.records().remove(TREE, name.as_bytes(), true)?;
        tracing::info!(name, by, "handheld revoked");
        Ok(())
    }

    /// Writes the last-seen times that moved since the last write (not
    /// forced to disk: the next commit's flush takes them along).
    pub fn save_last_seen(&self) -> Result<(), StoreError> {
        for (_, bytes) in self.store.records().list(TREE)? {
            let Ok(mut e) = serde_json::from_slice::<Enrolled>(&bytes) else {
                continue;
            };
            let seen = self.tokens.last_seen(&e.name);
            if seen > e.last_seen {
                e.last_seen = seen;
                self.save(&e, false)?;
            }
        }
        Ok(())
    }
}

/// Writes last-seen times every [`SEEN_EVERY`] until the daemon stops.
pub async fn keep_last_seen(handhelds: Arc<Handhelds>) {
    loop {
        tokio::time::sleep(SEEN_EVERY).await;
        let h = handhelds.clone();
        if let Ok(Err(e)) = tokio::task::spawn_blocking(move || h.save_last_seen()).await {
            tracing::warn!(error = %e, "handhelds' last-seen times not saved");
        }
    }
}

fn identity(name: &str, stations: &[String]) -> Identity {
    Identity {
        name: name.to_owned(),
        role: Role::Handheld,
        stations: stations.to_vec(),
        party: None,
    }
}

/// A fresh code of [`CODE_LEN`] characters of [`ALPHABET`], drawn without
/// bias from the OS's random source.
fn new_code() -> String {
    let mut code = String::with_capacity(CODE_LEN);
    let limit = 256 - 256 % ALPHABET.len();
    while code.len() < CODE_LEN {
        let mut bytes = [0u8; 32];
        getrandom::getrandom(&mut bytes).expect("the system's random source failed");
        for b in bytes {
            if (b as usize) < limit && code.len() < CODE_LEN {
                code.push(ALPHABET[b as usize % ALPHABET.len()] as char);
            }
        }
    }
    code
}

/// A code as typed, as offers are keyed: capitals, no spaces or dashes.
fn normalise(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::OpenOptions;

    fn desk(dir: &std::path::Path, tokens: &LiveTokens) -> Handhelds {
        let store = Arc::new(Store::open(dir, OpenOptions::create("s".into())).unwrap());
        Handhelds::load(store, tokens.clone()).unwrap()
    }

    #[test]
    fn a_code_works_once_and_its_token_survives_a_restart_until_revoked() {
        let dir = tempfile::tempdir().unwrap();
        let known = vec!["dock-1".to_owned()];
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        let mut headers = axum::http::HeaderMap::new();
        let granted = {
            let tokens = LiveTokens::default();
            let h = desk(dir.path(), &tokens);
            let e = h.offer("hh 1", vec!["dock-1".into()], &known, "sue");
            assert!(matches!(e, Err(EnrolError::BadName(_))));
            let e = h.offer("hh-1", vec!["dock-9".into()], &known, "sue");
            assert!(matches!(e, Err(EnrolError::UnknownStation(_))));
            let code = h
                .offer("hh-1", vec!["dock-1".into()], &known, "sue")
                .unwrap();
            assert_eq!(code.text.len(), 11);
            let typed = code.text.to_lowercase().replace('-', " ");
            let granted = h.trade(&typed, peer).unwrap();
            assert!(matches!(
                h.trade(&code.text, peer),
                Err(EnrolError::UnknownCode)
            ));
            let e = h.offer("hh-1", vec!["dock-1".into()], &known, "sue");
            assert!(matches!(e, Err(EnrolError::NameTaken(_))));
            let stored = h.list().unwrap();
            assert_eq!(stored.len(), 1);
            assert_eq!(stored[0].enrolled_by, "sue");
            assert_ne!(
                stored[0].token_sha256, granted.token,
                "only the digest is kept"
            );
            granted
        };
        let tokens = LiveTokens::default();
        let h = desk(dir.path(), &tokens);
        headers.insert(
            axum::http::header::AUTHORIZATION,
            format!("Bearer {}", granted.token).parse().unwrap(),
        );
        let who = tokens.identify(&headers).unwrap();
        assert_eq!((who.name.as_str(), who.role), ("hh-1", Role::Handheld));
        h.save_last_seen().unwrap();
        assert!(h.list().unwrap()[0].last_seen.is_some());
        h.revoke("hh-1", "sue").unwrap();
        assert!(tokens.identify(&headers).is_none());
        assert!(h.list().unwrap().is_empty());
        assert!(matches!(
            h.revoke("hh-1", "sue"),
            Err(EnrolError::NoSuchHandheld(_))
        ));
    }

    #[test]
    fn trades_are_rate_limited_per_address() {
        let dir = tempfile::tempdir().unwrap();
        let h = desk(dir.path(), &LiveTokens::default());
        let peer: IpAddr = "10.0.0.9".parse().unwrap();
        for _ in 0..TRADE_BURST {
            assert!(matches!(
                h.trade("AAAAA-AAAAA", peer),
                Err(EnrolError::UnknownCode)
            ));
        }
        assert!(matches!(
            h.trade("AAAAA-AAAAA", peer),
            Err(EnrolError::TooMany(_))
        ));
    }

    #[test]
    fn codes_are_drawn_from_the_alphabet() {
        let a = new_code();
        assert_eq!(a.len(), CODE_LEN);
        assert!(a.bytes().all(|b| ALPHABET.contains(&b)));
        assert_ne!(a, new_code());
    }
}
