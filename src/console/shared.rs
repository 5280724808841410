//! Sessions and sign-in attempts kept where every node of a head office
//! sees them (its PostgreSQL database, `hq::postgres::sessions`), not in a
//! node's memory: behind a load balancer a person's next request may
//! reach another node, which must know the session, and an attacker must
//! not get a fresh sign-in allowance from every node.
//!
//! The console holds this as a trait object so that it does not depend on
//! head office's storage; a site, and a head office on its embedded store,
//! keep both in memory (`session::Sessions`, a governor rate limiter).
//! Session ids are handed over only as their SHA-256 digests.

use futures_util::future::BoxFuture;

/// A failure of the shared keeping (the database cannot be reached): the
/// person is asked to try again; nobody is let in on a failure.
pub type SharedResult<T> = Result<T, String>;

/// Sign-in attempts per client address, as the in-memory limiter counts
/// them: a burst, then one more every `refill_seconds`.
#[derive(Debug, Clone, Copy)]
pub struct AttemptQuota {
    /// Attempts allowed at once.
    pub burst: u32,
    /// Seconds until one more attempt is allowed.
    pub refill_seconds: u64,
}

/// What every node of a head office shares about console sign-ins.
pub trait SharedSessions: Send + Sync {
    /// Records a new session of `user` with its CSRF token.
    fn open<'a>(
        &'a self,
        digest: [u8; 32],
        user: &'a str,
        csrf: &'a str,
    ) -> BoxFuture<'a, SharedResult<()>>;
    /// The user and CSRF token of a live session (neither idle nor past
    /// its lifetime); marks it used.
    fn find(&self, digest: [u8; 32]) -> BoxFuture<'_, SharedResult<Option<(String, String)>>>;
    /// Ends a session.
    fn close(&self, digest: [u8; 32]) -> BoxFuture<'_, SharedResult<()>>;
    /// Ends every session of these people; returns how many.
    fn close_people<'a>(&'a self, names: &'a [String]) -> BoxFuture<'a, SharedResult<usize>>;
    /// Counts a sign-in attempt from `address`: `None` when allowed, else
    /// the seconds to wait.
    fn attempt<'a>(
        &'a self,
        address: &'a str,
        quota: AttemptQuota,
    ) -> BoxFuture<'a, SharedResult<Option<u64>>>;
}
