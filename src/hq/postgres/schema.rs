//! Head office's schema: numbered SQL files under `migrations/`, compiled
//! in, applied at start in one transaction under an advisory lock, so two
//! nodes starting together apply each file once and a half-applied file is
//! never seen. A release adds a file; an applied file is never edited (its
//! checksum is recorded and checked).
//!
//! Also the movements' monthly partitions, created ahead of time.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sha2::{Digest, Sha256};

use super::{DbError, DbResult};

/// The migrations, in order: (version, name, SQL).
pub const MIGRATIONS: &[(i32, &str, &str)] = &[
    (1, "schema", include_str!("migrations/0001_schema.sql")),
    (
        2,
        "site contact",
        include_str!("migrations/0002_site_contact.sql"),
    ),
    (
        3,
        "console sessions",
        include_str!("migrations/0003_console_sessions.sql"),
    ),
];

/// The tables that hold a site's data, distributed by `site_id` on Citus:
/// every primary key and unique index of theirs includes `site_id`.
pub const DISTRIBUTED: &[&str] = &[
    "chain_heads",
    "movements",
    "rejections",
    "lot_balances",
    "lot_expiries",
    "serial_states",
    "sites",
    "alerts",
];

/// Small tables every node reads: Citus reference tables.
pub const REFERENCE: &[&str] = &[
    "published_versions",
    "published",
    "schema_migrations",
    "console_sessions",
    "console_sign_ins",
];

/// The tables partitioned by month of `received_at`.
pub const PARTITIONED: &[&str] = &["movements", "rejections"];

/// A fixed key for `pg_advisory_xact_lock`: "scantrail" in ASCII.
const LOCK_KEY: i64 = 0x7363_616e_7472_6169;

fn checksum(sql: &str) -> String {
    hex::encode(Sha256::digest(sql.as_bytes()))
}

/// Applies the migrations this database lacks; refuses a database whose
/// applied migrations differ from ours or are newer.
pub async fn migrate(client: &mut deadpool_postgres::Object) -> DbResult<()> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version integer PRIMARY KEY,
            name text NOT NULL,
            checksum text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )",
    )
    .await?;
    let applied = tx
        .query("SELECT version, checksum FROM schema_migrations", &[])
        .await?;
    let mut done = std::collections::HashMap::new();
    for row in &applied {
        done.insert(row.get::<_, i32>(0), row.get::<_, String>(1));
    }
    if let Some(newer) = done.keys().find(|v| **v > MIGRATIONS.len() as i32) {
        return Err(DbError::Query(format!(
            "the database has schema migration {newer}, newer than this scantrail knows ({}): upgrade scantrail",
            MIGRATIONS.len()
        )));
    }
    for (version, name, sql) in MIGRATIONS {
        let sum = checksum(sql);
        match done.get(version) {
            Some(held) if *held == sum => continue,
            Some(_) => {
                return Err(DbError::Query(format!(
                    "schema migration {version} ({name}) was applied with different SQL than this scantrail's: the database belongs to another build"
                )))
            }
            None => {}
        }
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
            &[version, name, &sum],
        )
        .await?;
        tracing::info!(version, name, "database schema migrated");
    }
    tx.commit().await?;
    Ok(())
}

/// The first day of the month of `t`, and of the month after.
fn month_bounds(t: DateTime<Utc>) -> (NaiveDate, NaiveDate) {
    let first = NaiveDate::from_ymd_opt(t.year(), t.month(), 1).unwrap_or(NaiveDate::MIN);
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(NaiveDate::MAX);
    (first, next)
}

/// Creates the partitions of the month of `t` and of the month after, if
/// missing (under the migration lock, so two nodes do not race).
pub async fn ensure_partitions(
    client: &mut deadpool_postgres::Object,
    t: DateTime<Utc>,
) -> DbResult<()> {
    let (this, next) = month_bounds(t);
    let after = next
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(NaiveDate::MAX);
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
        .await?;
    let mut sql = String::new();
    for table in PARTITIONED {
        for (from, to) in [(this, next), (next, after)] {
            sql.push_str(&format!(
                "CREATE TABLE IF NOT EXISTS {table}_{y:04}_{m:02} PARTITION OF {table} FOR VALUES FROM ('{from}') TO ('{to}');",
                y = from.year(),
                m = from.month(),
            ));
        }
    }
    tx.batch_execute(&sql).await?;
    tx.commit().await?;
    Ok(())
}

/// The month (first day) a time falls in: ingest checks its partitions
/// exist when the month changes.
pub fn month_of(t: DateTime<Utc>) -> NaiveDate {
    month_bounds(t).0
}
