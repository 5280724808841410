//! Where head office keeps what it is sent and what it publishes: the
//! embedded store (one node, today's default) or PostgreSQL (any number of
//! stateless nodes on one database). One enum with the operations head
//! office needs, so the API code does not care which it runs on.

use std::sync::Arc;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;

use super::ingester::{IngestError, Ingester};
use super::postgres::{Db, DbError, RETRY_AFTER_SECONDS};
use super::sites::{Contact, Sites};
use crate::model::{Entries, Log, RefusalCode};
use crate::report::source::{SerialStates, Source};
use crate::report::Result as ReportResult;
use crate::store::envelope::Head;
use crate::store::ingest::{Incoming, Ingested, Refusal};
use crate::store::view::LotBalance;
use crate::store::{Store, StoreError};
use crate::sync::heads::SiteHeads;
use crate::sync::protocol::SiteStatus;
use crate::web::problem::problem;

/// Head office's storage.
pub enum Storage {
    /// The embedded store, its ingest thread and its site records.
    Embedded {
        /// Every site's movements, one origin each.
        store: Arc<Store>,
        /// The thread that applies sites' batches in order.
        ingester: Ingester,
        /// Each site's position, reference versions and alerts.
        sites: Arc<Sites>,
    },
    /// A PostgreSQL database shared by every node.
    Postgres(Db),
}

/// Why storage failed (as opposed to refusing a site's data).
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The embedded store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The database failed or is unreachable.
    #[error(transparent)]
    Database(#[from] DbError),
    /// The embedded ingest thread failed or stopped.
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// A blocking task of the embedded store panicked or was cancelled.
    #[error("a storage task failed: {0}")]
    Task(String),
}

impl StorageError {
    /// Whether a retry later may succeed: the database is down.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StorageError::Database(e) if e.is_unavailable())
    }

    /// The answer to give: 503 with Retry-After while the database is down
    /// (a site backs off and keeps scanning offline), else 503 as the
    /// embedded head office always answered a store failure.
    pub fn response(&self, doing: &str) -> Response {
        let mut r = problem(
            StatusCode::SERVICE_UNAVAILABLE,
            if self.is_unavailable() {
                "unavailable"
            } else {
                "internal"
            },
            format!("head office could not {doing}: {self}"),
        );
        if self.is_unavailable() {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        }
        r
    }
}

/// The result of a storage operation.
pub type StorageResult<T> = Result<T, StorageError>;

/// Runs embedded-store work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> StorageResult<T> + Send + 'static,
) -> StorageResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StorageError::Task(e.to_string()))?
}

impl Storage {
    /// Ingests one site's batch durably: `Ok(Err(_))` refuses the site's
    /// data, with nothing written.
    pub async fn ingest(&self, incoming: Incoming) -> StorageResult<Result<Ingested, Refusal>> {
        match self {
            Storage::Embedded { ingester, .. } => ingester
                .ingest(incoming)
                .await
                .map_err(StorageError::Ingest),
            Storage::Postgres(db) => Ok(db.ingest(&incoming).await?),
        }
    }

    /// A batch of `site` arrived. Bookkeeping: a failure is logged only.
    pub async fn seen(&self, site: &str, contact: Contact) {
        match self {
            Storage::Embedded { sites, .. } => sites.seen(site, contact),
            Storage::Postgres(db) => {
                if let Err(e) = db.seen(site, contact).await {
                    tracing::warn!(site, error = %e, "cannot record that the site was seen");
                }
            }
        }
    }

    /// `site` reached head office with something other than a stored
    /// batch. Bookkeeping: a failure is logged only.
    pub async fn contacted(&self, site: &str, heads: Option<SiteHeads>) {
        let at = chrono::Utc::now();
        match self {
            Storage::Embedded { sites, .. } => sites.contacted(site, at, heads),
            Storage::Postgres(db) => {
                if let Err(e) = db.contacted(site, at, heads).await {
                    tracing::warn!(site, error = %e, "cannot record the site's contact");
                }
            }
        }
    }

    /// Raises an alert about `site` (logged, and listed in its status).
    pub async fn alert(&self, site: &str, code: &str, message: String) {
        match self {
            Storage::Embedded { sites, .. } => sites.alert(site, code, message),
            Storage::Postgres(db) => {
                tracing::warn!(site, code, %message, "site alert");
                if let Err(e) = db.alert(site, code, &message).await {
                    tracing::warn!(site, code, error = %e, "cannot record the alert");
                }
            }
        }
    }

    /// Every known site with its position and alerts.
    pub async fn status(&self, configured: Arc<Vec<String>>) -> StorageResult<Vec<SiteStatus>> {
        match self {
            Storage::Embedded { store, sites, .. } => {
                let (store, sites) = (store.clone(), sites.clone());
                blocking(move || Ok(sites.status(&store, &configured)?)).await
            }
            Storage::Postgres(db) => Ok(db.status(&configured).await?),
        }
    }

    /// The current version of a published kind.
    pub async fn published_version(&self, kind: &'static str) -> StorageResult<u64> {
        match self {
            Storage::Embedded { store, .. } => Ok(store.published().version(kind)?),
            Storage::Postgres(db) => Ok(db.published_version(kind).await?),
        }
    }

    /// Publishes upserts and removals as one new version, durably.
    pub async fn publish(
        &self,
        kind: &'static str,
        upserts: Vec<(Vec<u8>, Vec<u8>)>,
        removals: Vec<Vec<u8>>,
    ) -> StorageResult<u64> {
        match self {
            Storage::Embedded { store, .. } => {
                let store = store.clone();
                blocking(move || Ok(store.published().publish(kind, upserts, removals)?)).await
            }
            Storage::Postgres(db) => Ok(db.publish(kind, upserts, removals).await?),
        }
    }

    /// The records of `kind` changed after `since` up to `version`.
    pub async fn published_changes(
        &self,
        kind: &'static str,
        since: u64,
        version: u64,
    ) -> StorageResult<Vec<(Vec<u8>, Option<Vec<u8>>)>> {
        match self {
            Storage::Embedded { store, .. } => {
                let store = store.clone();
                blocking(move || Ok(store.published().changes(kind, since, version)?)).await
            }
            Storage::Postgres(db) => Ok(db.published_changes(kind, since, version).await?),
        }
    }

    /// One published record.
    pub async fn published_record(
        &self,
        kind: &'static str,
        key: &[u8],
    ) -> StorageResult<Option<Vec<u8>>> {
        match self {
            Storage::Embedded { store, .. } => Ok(store.published().record(kind, key)?),
            Storage::Postgres(db) => Ok(db.published_record(kind, key).await?),
        }
    }

    /// Where `site`'s `log` ends at head office.
    pub async fn log_head(&self, site: &str, log: Log) -> StorageResult<u64> {
        match self {
            Storage::Embedded { store, .. } => Ok(store.journal().log_head(site, log)?.seq),
            Storage::Postgres(db) => {
                let client = db.client().await?;
                Ok(super::postgres::ingest::head(&client, site, log).await?.seq)
            }
        }
    }

    /// Up to `limit` entries of `site`'s `log` from seq `from`, as received,
    /// never past where head office's copy ends; with that end.
    pub async fn history(
        &self,
        site: &str,
        log: Log,
        from: u64,
        limit: usize,
    ) -> StorageResult<(Head, Entries)> {
        match self {
            Storage::Embedded { store, .. } => {
                let (store, site) = (store.clone(), site.to_owned());
                blocking(move || {
                    let head = store.journal().log_head(&site, log)?;
                    let from = from.max(1);
                    // Ingest writes each chunk's entries with its head:
                    // everything up to the head read first is there.
                    let n = match head.seq.checked_sub(from) {
                        Some(d) => usize::try_from(d + 1).unwrap_or(usize::MAX).min(limit),
                        None => 0,
                    };
                    let entries = match log {
                        Log::Movements => {
                            Entries::Movements(store.journal().range(&site, from, n)?)
                        }
                        Log::Rejections => {
                            Entries::Rejections(store.journal().rejected_range(&site, from, n)?)
                        }
                    };
                    Ok((head, entries))
                })
                .await
            }
            Storage::Postgres(db) => Ok(db.history(site, log, from, limit).await?),
        }
    }

    /// `GET /api/v1/reports/{kind}` over every site.
    pub async fn report(&self, kind: String, pairs: Vec<(String, String)>) -> Response {
        let runner = self.report_runner();
        crate::report::http::handle_with(kind, pairs, move |request| runner(request)).await
    }

    /// Runs reports on this storage (every site's movements): what the
    /// API and the console's report pages answer from. Call inside the
    /// runtime: the database's reads go through its handle.
    pub fn report_runner(&self) -> crate::console::reports::Runner {
        match self {
            Storage::Embedded { store, .. } => {
                let store = store.clone();
                Arc::new(move |request| crate::report::run(&HeadOffice(&store), &request))
            }
            Storage::Postgres(db) => {
                let (db, handle) = (db.clone(), tokio::runtime::Handle::current());
                Arc::new(move |request| {
                    let source = super::postgres::reports::PgSource::open(&db, handle.clone())?;
                    crate::report::run(&source, &request)
                })
            }
        }
    }

    /// For the health route: (key, words); the words are "ok" when
    /// head office can store batches.
    pub async fn health(&self) -> (&'static str, String) {
        match self {
            Storage::Embedded { store, .. } => {
                let words = match store.failure().map(|e| e.plain().0) {
                    None => "ok",
                    Some(RefusalCode::DiskFull) => "head office's disk is full: batches are refused until there is room again, then they resume by themselves",
                    Some(_) => "head office's store cannot write: batches are refused until it can again; see the log",
                };
                ("store", words.to_owned())
            }
            Storage::Postgres(db) => match db.health().await {
                None => ("database", "ok".to_owned()),
                Some(why) => ("database", format!("{why}: batches are refused (503, Retry-After) until it answers again, then they resume by themselves")),
            },
        }
    }
}

/// Head office's embedded store as a report source: its product master is
/// what it published (it applies no site's reference data of its own).
struct HeadOffice<'a>(&'a Store);

impl Source for HeadOffice<'_> {
    fn site(&self) -> &str {
        self.0.site()
    }
    fn movements_of_lot(&self, gtin: &str, lot: &str) -> ReportResult<Vec<crate::model::Movement>> {
        Source::movements_of_lot(self.0, gtin, lot)
    }
    fn movements_of_serial(
        &self,
        gtin: &str,
        serial: &str,
    ) -> ReportResult<Vec<crate::model::Movement>> {
        Source::movements_of_serial(self.0, gtin, serial)
    }
    fn movements_of_serials(
        &self,
        gtin: &str,
        serials: &[String],
    ) -> ReportResult<Vec<crate::model::Movement>> {
        Source::movements_of_serials(self.0, gtin, serials)
    }
    fn movement(&self, origin: &str, seq: u64) -> ReportResult<Option<crate::model::Movement>> {
        Source::movement(self.0, origin, seq)
    }
    fn balances(
        &self,
        gtin: Option<&str>,
        lot: Option<&str>,
    ) -> ReportResult<Vec<(String, LotBalance)>> {
        Source::balances(self.0, gtin, lot)
    }
    fn lot_expiry(&self, gtin: &str, lot: &str) -> ReportResult<Option<chrono::NaiveDate>> {
        Source::lot_expiry(self.0, gtin, lot)
    }
    fn serial_states(&self, gtin: Option<&str>) -> SerialStates<'_> {
        Source::serial_states(self.0, gtin)
    }
    fn serial_states_from(&self, gtin: &str, from: &str) -> SerialStates<'_> {
        Source::serial_states_from(self.0, gtin, from)
    }
    fn serial_state(
        &self,
        gtin: &str,
        serial: &str,
    ) -> ReportResult<Option<crate::model::SerialState>> {
        Source::serial_state(self.0, gtin, serial)
    }
    fn product(&self, gtin: &str) -> ReportResult<Option<Vec<u8>>> {
        Ok(self.0.published().record("products", gtin.as_bytes())?)
    }
}
