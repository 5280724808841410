//! Head office's console sessions and sign-in attempts in the database
//! (`console_sessions`, `console_sign_ins`), so that every node knows a
//! session whichever node opened it, and counts a person's sign-in
//! attempts together: `console::shared`'s trait over SQL.
//!
//! Times are the database's `now()`, one clock for every node. A session
//! lives as the in-memory one does (`console::session::IDLE` unused,
//! `LIFETIME` in all); sessions past either are deleted as new ones open.
//! The attempts are a GCRA token bucket in one upsert: the row's `tat`
//! moves on by the refill period per attempt, and an attempt is refused
//! (the row left as it was) once `tat` would run more than the burst ahead
//! of now.

use futures_util::future::BoxFuture;
use futures_util::FutureExt;

use super::{Db, DbResult};
use crate::console::session::{IDLE, LIFETIME};
use crate::console::shared::{AttemptQuota, SharedResult, SharedSessions};

fn seconds(d: std::time::Duration) -> f64 {
    d.as_secs_f64()
}

impl Db {
    async fn open_session(&self, digest: [u8; 32], user: &str, csrf: &str) -> DbResult<()> {
        let client = self.client().await?;
        client
            .execute(
                "DELETE FROM console_sessions
                 WHERE used_at < now() - make_interval(secs => $1)
                    OR opened_at < now() - make_interval(secs => $2)",
                &[&seconds(IDLE), &seconds(LIFETIME)],
            )
            .await?;
        client
            .execute(
                "INSERT INTO console_sessions (digest, user_name, csrf, opened_at, used_at)
                 VALUES ($1, $2, $3, now(), now())",
                &[&&digest[..], &user, &csrf],
            )
            .await?;
        tracing::info!(user, "console session opened in the database");
        Ok(())
    }

    async fn find_session(&self, digest: [u8; 32]) -> DbResult<Option<(String, String)>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "UPDATE console_sessions SET used_at = now()
                 WHERE digest = $1
                   AND used_at >= now() - make_interval(secs => $2)
                   AND opened_at >= now() - make_interval(secs => $3)
                 RETURNING user_name, csrf",
                &[&&digest[..], &seconds(IDLE), &seconds(LIFETIME)],
            )
            .await?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    async fn close_session(&self, digest: [u8; 32]) -> DbResult<()> {
        let client = self.client().await?;
        client
            .execute(
                "DELETE FROM console_sessions WHERE digest = $1",
                &[&&digest[..]],
            )
            .await?;
        Ok(())
    }

    async fn close_people(&self, names: &[String]) -> DbResult<usize> {
        let client = self.client().await?;
        let n = client
            .execute(
                "DELETE FROM console_sessions WHERE user_name = ANY($1)",
                &[&names],
            )
            .await?;
        Ok(n as usize)
    }

    async fn sign_in_attempt(&self, address: &str, quota: AttemptQuota) -> DbResult<Option<u64>> {
        let period = quota.refill_seconds as f64;
        let ahead = period * f64::from(quota.burst.max(1));
        let client = self.client().await?;
        // Allowed: the bucket's time moves on by one period. Refused: no
        // row comes back and the bucket is left as it was.
        let allowed = client
            .query_opt(
                "INSERT INTO console_sign_ins AS s (address, tat)
                 VALUES ($1, now() + make_interval(secs => $2))
                 ON CONFLICT (address) DO UPDATE
                    SET tat = greatest(s.tat, now()) + make_interval(secs => $2)
                    WHERE greatest(s.tat, now()) + make_interval(secs => $2)
                          <= now() + make_interval(secs => $3)
                 RETURNING tat",
                &[&address, &period, &ahead],
            )
            .await?;
        if allowed.is_some() {
            return Ok(None);
        }
        // Until the next attempt fits: tat + period - (now + ahead).
        let wait: f64 = client
            .query_one(
                "SELECT extract(epoch FROM tat - now())::float8 + $2 - $3
                 FROM console_sign_ins WHERE address = $1",
                &[&address, &period, &ahead],
            )
            .await?
            .get(0);
        tracing::warn!(address, wait, "console sign-in attempts over the limit");
        Ok(Some(wait.ceil().max(1.0) as u64))
    }
}

fn shared<T>(r: DbResult<T>) -> SharedResult<T> {
    r.map_err(|e| e.to_string())
}

impl SharedSessions for Db {
    fn open<'a>(
        &'a self,
        digest: [u8; 32],
        user: &'a str,
        csrf: &'a str,
    ) -> BoxFuture<'a, SharedResult<()>> {
        self.open_session(digest, user, csrf).map(shared).boxed()
    }

    fn find(&self, digest: [u8; 32]) -> BoxFuture<'_, SharedResult<Option<(String, String)>>> {
        self.find_session(digest).map(shared).boxed()
    }

    fn close(&self, digest: [u8; 32]) -> BoxFuture<'_, SharedResult<()>> {
        self.close_session(digest).map(shared).boxed()
    }

    fn close_people<'a>(&'a self, names: &'a [String]) -> BoxFuture<'a, SharedResult<usize>> {
        Db::close_people(self, names).map(shared).boxed()
    }

    fn attempt<'a>(
        &'a self,
        address: &'a str,
        quota: AttemptQuota,
    ) -> BoxFuture<'a, SharedResult<Option<u64>>> {
        self.sign_in_attempt(address, quota).map(shared).boxed()
    }
}
