//! Head office, `scantrail hq`: authenticates each site, ingests its
//! batches idempotently into one store of every site's movements (the same
//! journal layout as a site, many origins), and publishes reference data
//! (products, holds and recalls, pick lists) that sites pull as versioned
//! deltas. HTTPS only, with the configured certificate.

pub mod api;
pub mod capture;
pub mod config;
pub mod console;
pub mod ingester;
pub mod migrate;
pub mod postgres;
pub mod publish;
pub mod sites;
pub mod storage;

use std::sync::Arc;

use anyhow::Context as _;

use crate::store::{OpenOptions, Store};
use crate::sync::protocol::{Limits, PROTOCOL_VERSION};
use api::HqState;
use config::HqConfig;

/// Opens head office's storage: the database `[hq] database` names, else
/// the embedded store under `data_dir`.
async fn open_storage(config: &HqConfig) -> anyhow::Result<Storage> {
    if let Some(url) = &config.hq.database {
        let db = postgres::Db::open(url, config.hq.database_connections, &config.hq.id)
            .await
            .context("cannot open head office's database")?;
        tracing::info!(
            connections = config.hq.database_connections,
            "head office stores into PostgreSQL"
        );
        return Ok(Storage::Postgres(db));
    }
    let store = Arc::new(
        Store::open(
            &config.data_dir,
            OpenOptions {
                on_upgrade: Some(|_| crate::service::extend_start()),
                ..OpenOptions::create(config.hq.id.clone())
            },
        )
        .with_context(|| format!("cannot open the store at {}", config.data_dir.display()))?,
    );
    let sites = Arc::new(Sites::open(store.clone())?);
    Ok(Storage::Embedded {
        ingester: ingester::Ingester::start(store.clone())
            .context("cannot start the ingest thread")?,
        store,
        sites,
    })
}

/// Runs head office until SIGTERM or SIGINT.
pub async fn run(config: HqConfig, listen: Option<String>) -> anyhow::Result<()> {
    let (tls, certificate) = config.server_tls()?;
    certificate.log();
    let storage = Arc::new(open_storage(&config).await?);
    if config.hq.admin_token.is_some() {
        tracing::warn!(
            forms = "[hq] admin_token",
            "the configuration uses an older token form: move it to a [[tokens]] entry (name, role, token or token_sha256), see README.md, \"Roles and tokens\""
        );
    }
    let chrome = console::chrome(&format!("head office {}", config.hq.id));
    let console = match &*storage {
        // Every node shares the database's sessions and sign-in counts.
        Storage::Postgres(db) => crate::console::Console::shared(
            chrome,
            config.people.clone(),
            true,
            Arc::new(db.clone()),
        ),
        Storage::Embedded { .. } => {
            crate::console::Console::new(chrome, config.people.clone(), true)
        }
    };
    let pages = console::Pages {
        console: Arc::new(console),
        storage: storage.clone(),
        configured_sites: Arc::new(config.sites.iter().map(|s| s.id.clone()).collect()),
    };
    if config.people.is_empty() {
        tracing::warn!("hq.toml has no [[users]]: nobody can sign in to head office's console; add one with `scantrail user add NAME --role supervisor --hq`");
    }
    let state = HqState {
        storage: storage.clone(),
        tokens: Arc::new(config.access.clone()),
        configured_sites: Arc::new(config.sites.iter().map(|s| s.id.clone()).collect()),
        limits: Limits {
            protocol: PROTOCOL_VERSION,
            batch_max: config.hq.batch_max,
            body_max_bytes: config.hq.body_max_bytes,
            requests_per_second: config.hq.requests_per_second,
        },
        skew_seconds: config.hq.skew_seconds,
        limiter: Arc::new(api::site_limiter(config.hq.requests_per_second)),
        certificate: Arc::new(certificate),
        epcis: Arc::new(config.epcis_sites(None)),
        // Checked when the configuration was parsed; never more bytes than
        // head office reads of any request, so `OPTIONS` tells the truth.
        capture_limits: {
            let mut l = crate::epcis::capture::Limits::new(&config.epcis).unwrap_or_default();
            l.bytes = l.bytes.min(config.hq.body_max_bytes);
            l
        },
    };
    let listen = listen.unwrap_or_else(|| config.hq.listen.clone());
    let tcp = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let address = tcp.local_addr()?;
    let settings = config
        .http
        .connections
        .settings()
        .map_err(anyhow::Error::msg)?;
    let stored_in = match &config.hq.database {
        Some(_) => "PostgreSQL".to_owned(),
        None => config.data_dir.display().to_string(),
    };
    tracing::info!(%address, data = %stored_in, sites = config.sites.len(), "head office is running");
    // Before the line below: a SIGTERM right after it must drain, not kill.
    let shutdown = crate::shutdown::signal();
    let url = format!("https://{address}");
    tracing::info!(%url, "listening on");
    if crate::logging::format() == crate::logging::LogFormat::Human {
        // Tests and scripts read this line to find the port when listening on :0.
        println!("listening on {url}");
    }
    // Storage open, listener bound: connections from here on are answered.
    crate::service::ready(&format!("listening on {url}"));
    crate::web::server::serve(
        tcp,
        Some(tokio_rustls::TlsAcceptor::from(Arc::new(tls))),
        api::router(state).merge(console::router(pages)),
        settings,
        shutdown,
    )
    .await
    .context("the HTTPS server failed")?;
    crate::service::stopping();
    tracing::info!("head office stopped");
    drop(storage);
    Ok(())
}

use sites::Sites;
use storage::Storage;
