//! Head office's storage in PostgreSQL (`scantrail hq --database
//! postgres://...`): what the embedded store keeps for head office (every
//! site's movements and rejected scans, chain heads, site records and
//! alerts, published reference data) in one database that any number of
//! head-office nodes share. A node keeps nothing of its own: every answer
//! comes from the database, so sites may reach any node on every request.
//!
//! Exactly-once ingest across nodes rests on one row lock: a batch is
//! checked and written in one transaction that holds the site's chain-head
//! row (`SELECT ... FOR UPDATE`); a second node with the same batch waits,
//! then finds the entries held and absorbs them as duplicates.

pub mod epcis;
pub mod history;
pub mod ingest;
pub mod publish;
pub mod reports;
pub mod schema;
pub mod sessions;
pub mod sites;

use std::str::FromStr;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

/// How long a request waits for a connection, and a new connection for
/// the database, before head office answers 503.
pub const WAIT: Duration = Duration::from_secs(5);

/// What a site is told to wait (Retry-After) while the database is down.
pub const RETRY_AFTER_SECONDS: u64 = 5;

/// Why a database operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The database cannot be reached or went away: a site retries later
    /// (503 with Retry-After), nothing was written.
    #[error("head office's database cannot be reached ({0}); it is retried by itself")]
    Unavailable(String),
    /// The database refused a statement: a bug or a schema not ours.
    #[error("head office's database refused a statement: {0}")]
    Query(String),
    /// A row that cannot be decoded.
    #[error("head office's database holds a damaged record: {0}")]
    Damaged(String),
    /// `--database`/`[hq] database` is not a usable connection string.
    #[error("the database URL is not usable: {0} (give postgres://USER@HOST:PORT/DATABASE)")]
    Url(String),
}

impl DbError {
    /// Whether the database is down (as opposed to refusing a statement).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, DbError::Unavailable(_))
    }
}

/// Connection-level SQLSTATE classes: 08 (connection exception), 57P
/// (operator intervention: shutdown, cannot connect now), 53 (resources).
fn is_connection_state(code: &str) -> bool {
    code.starts_with("08") || code.starts_with("57P") || code.starts_with("53")
}

impl From<tokio_postgres::Error> for DbError {
    fn from(e: tokio_postgres::Error) -> DbError {
        let down = e.is_closed()
            || match e.as_db_error() {
                Some(db) => is_connection_state(db.code().code()),
                // No answer from the server: I/O, a closed socket.
                None => true,
            };
        let text = match e.as_db_error() {
            Some(db) => format!("{} ({})", db.message(), db.code().code()),
            None => e.to_string(),
        };
        if down {
            DbError::Unavailable(text)
        } else {
            DbError::Query(text)
        }
    }
}

impl From<deadpool_postgres::PoolError> for DbError {
    fn from(e: deadpool_postgres::PoolError) -> DbError {
        match e {
            deadpool_postgres::PoolError::Backend(e) => e.into(),
            other => DbError::Unavailable(other.to_string()),
        }
    }
}

/// The result of a database operation.
pub type DbResult<T> = Result<T, DbError>;

/// Head office's database: a pool of connections with limits and timeouts.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    /// Head office's own origin (`[hq] id`), which reports name as theirs.
    pub hq_id: String,
    /// The months whose partitions this node has made sure of.
    ensured: std::sync::Arc<std::sync::Mutex<std::collections::HashSet<chrono::NaiveDate>>>,
}

impl Db {
    /// A pool of at most `max_connections` to `url`. Connects lazily: a
    /// database that is down now is reached once it is back.
    pub fn new(url: &str, max_connections: usize, hq_id: &str) -> DbResult<Db> {
        let mut config =
            tokio_postgres::Config::from_str(url).map_err(|e| DbError::Url(e.to_string()))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(WAIT);
        }
        config.keepalives_idle(Duration::from_secs(30));
        if config.get_application_name().is_none() {
            config.application_name("scantrail-hq");
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(max_connections.max(1))
            .wait_timeout(Some(WAIT))
            .create_timeout(Some(WAIT))
            .recycle_timeout(Some(WAIT))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| DbError::Url(e.to_string()))?;
        Ok(Db {
            pool,
            hq_id: hq_id.to_owned(),
            ensured: Default::default(),
        })
    }

    /// Connects, brings the schema up to date (`schema::migrate`) and makes
    /// sure this month's and next month's partitions exist.
    pub async fn open(url: &str, max_connections: usize, hq_id: &str) -> DbResult<Db> {
        let db = Db::new(url, max_connections, hq_id)?;
        {
            let mut client = db.client().await?;
            schema::migrate(&mut client).await?;
            db.partitions_for(&mut client, chrono::Utc::now()).await?;
        }
        Ok(db)
    }

    /// A pooled connection (waits at most [`WAIT`]).
    pub async fn client(&self) -> DbResult<deadpool_postgres::Object> {
        Ok(self.pool.get().await?)
    }

    /// `None` when the database answers; else why not, in plain words.
    pub async fn health(&self) -> Option<String> {
        let answer = async {
            let client = self.client().await?;
            client.simple_query("SELECT 1").await?;
            DbResult::Ok(())
        };
        match tokio::time::timeout(WAIT, answer).await {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => Some(format!(
                "head office's database did not answer within {} s",
                WAIT.as_secs()
            )),
        }
    }
}

/// A string as a PostgreSQL text column can hold it: text cannot hold NUL,
/// so a NUL (which GS1 data never has) becomes U+FFFD in the SQL columns;
/// the movement's `entry` keeps every byte.
pub(crate) fn text(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains('\0') {
        std::borrow::Cow::Owned(s.replace('\0', "\u{FFFD}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}
