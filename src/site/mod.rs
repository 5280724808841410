//! The site daemon, `scantrail run`: serial scanners and handheld terminals
//! in, the station rules in the middle (the desk), the journal on disk, and
//! each scan answered with a good or bad read once it is durable.
//!
//! Shutdown (SIGTERM or Ctrl-C): stop taking requests and scans, answer
//! every scan already decided once its commit is durable, then exit.
//! SIGHUP reloads the configuration (`reload`).

pub mod alerts;
pub mod answer;
pub mod api;
pub mod backups;
pub mod capture;
pub mod catalog;
pub mod console;
pub mod context_patch;
pub mod correction;
pub mod desk;
pub mod events;
pub mod glance;
pub mod handheld;
pub mod handhelds;
pub mod last_verify;
pub mod metrics;
pub mod openapi;
pub mod reload;
pub mod retries;
pub mod scan_request;
pub mod scanners;
mod schemas;
pub mod store_stats;
mod verify_at_start;
pub mod view;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use chrono::Utc;
use tokio::sync::mpsc;

use crate::config::Config;
use crate::scan::{self, ScanEvent};
use crate::store::refresh::Refresh;
use crate::store::{scan_receipts, OpenOptions, Store};
use desk::Desk;
use scan_request::ScanRequest;

/// Where the daemon keeps its store and listens.
pub struct Options {
    /// The site's configuration, as read and checked from its file.
    pub config: Config,
    /// That file, read again on SIGHUP.
    pub config_path: PathBuf,
    /// The store's directory (`data_dir`, or `--data`); created on first start.
    pub data_dir: PathBuf,
    /// The address the HTTP API listens on (`[http] listen`, or `--listen`);
    /// port 0 lets the system choose.
    pub listen: String,
}

/// Runs until SIGTERM or SIGINT, then drains and returns.
pub async fn run(options: Options) -> anyhow::Result<()> {
    let Options {
        config,
        config_path,
        data_dir,
        listen,
    } = options;
    // First: a SIGHUP while the store opens (minutes for a large store
    // after a crash) is then a reload once the daemon runs, not the
    // default action, which ends the process.
    let hangups = reload::Hangups::install();
    let store = Arc::new(
        Store::open(
            &data_dir,
            OpenOptions {
                on_upgrade: Some(|_| crate::service::extend_start()),
                cache_bytes: config.store.cache_bytes(),
                receipts: scan_receipts::Keep::within(config.store.memory_mb),
                refresh: Some(Refresh::after(config.store.reopen_every)),
                ..OpenOptions::create(config.site.id.clone())
            },
        )
        .with_context(|| format!("cannot open the store at {}", data_dir.display()))?,
    );
    let specs = scan::sources::specs(&config)?;
    // Each station's GS substitute, from the profile of a scanner wired to
    // it: the handheld page's default for the station (README, "Handhelds").
    let substitutes: std::collections::HashMap<String, u8> = specs
        .iter()
        .filter_map(|s| Some((s.station.clone(), s.profile.fnc1_substitute?)))
        .collect();
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("cannot listen on {listen} (is another scantrail running?)"))?;
    let address = listener.local_addr()?;

    let events = events::Events::new();
    let metrics = Arc::new(metrics::Metrics::default());
    let (desk, desk_task) = Desk::start(store.clone(), &config, events.clone(), metrics.clone());
    let (sources, scans) = scanners::Scanners::start(&config.scanners, specs, 1024);
    let scanner_count = sources.len();
    let bridge = tokio::spawn(serial_scans(scans, desk.clone()));
    let start_verify = tokio::spawn(verify_at_start::run(store.clone()));
    let backup_status = backups::Status::new(backups::Schedule::of(&config), &data_dir);
    let backup_task = tokio::spawn(backups::run(
        store.clone(),
        data_dir.clone(),
        backup_status.clone(),
    ));

    // Sync to head office, when configured: its own thread, reference data
    // first, then the backlog (see `sync::link`).
    let link = match &config.sync {
        Some(sync) => Some(
            crate::sync::link::start(
                store.clone(),
                crate::sync::link::Settings::from_config(sync),
            )
            .context("cannot start sync to head office")?,
        ),
        None => None,
    };
    let tokens = crate::auth::LiveTokens::new(config.access.clone());
    let legacy = config.legacy_token_forms();
    if !legacy.is_empty() {
        tracing::warn!(
            forms = legacy.join(", "),
            "the configuration uses an older token form: move each token to a [[tokens]] entry (name, role, stations, token or token_sha256), see README.md, \"Roles and tokens\""
        );
    }
    if config.access.is_empty() {
        tracing::warn!("the configuration has no [[tokens]]: the API will refuse every request but health, metrics and its description");
    }
    let sync_routes = crate::sync::status::router(crate::sync::status::SyncState {
        store: store.clone(),
        status: link.as_ref().map(|l| l.status.clone()),
        tokens: tokens.clone(),
    });

    let (tls, certificate) = match (&config.http.cert, &config.http.key) {
        (Some(cert), Some(key)) => {
            let (tls, certificate) = crate::web::tls::server_config(cert, key)?;
            certificate.log();
            (
                Some(tokio_rustls::TlsAcceptor::from(Arc::new(tls))),
                Some(certificate),
            )
        }
        _ => (None, None),
    };
    let raised = alerts::Alerts::default();
    let watching = alerts::start(
        alerts::Settings {
            site: config.site.id.clone(),
            config: config.alerts.clone(),
        },
        alerts::sample::Sources {
            store: store.clone(),
            data_dir: data_dir.clone(),
            scanners: sources.shown(),
            sync: link.as_ref().map(|l| l.status.clone()),
            certificate,
            backups: backup_status.clone(),
            hq: hq_health_agent(&config)?
                .map(|(agent, url)| Arc::new(alerts::sample::HqCertificate::new(agent, url))),
            memory_bound: config.store.memory_mb << 20,
        },
        raised.clone(),
    )
    .context("cannot start the alerts")?;
    let floor = console::floor::Floor::start(&events);
    let handhelds = Arc::new(
        handhelds::Handhelds::load(store.clone(), tokens.clone())
            .context("cannot read the enrolled handhelds")?,
    );
    let seen_task = tokio::spawn(handhelds::keep_last_seen(handhelds.clone()));
    let state = api::AppState {
        desk,
        handhelds,
        substitutes: Arc::new(substitutes),
        store: store.clone(),
        events,
        metrics,
        tokens,
        backups: backup_status,
        alerts: raised,
        memory_bound: config.store.memory_mb << 20,
        epcis: Arc::new((config.site.gln.clone(), config.epcis.clone())),
    };
    let site_name = if config.site.name.is_empty() {
        config.site.id.clone()
    } else {
        config.site.name.clone()
    };
    let pages = console::Pages {
        console: Arc::new(crate::console::Console::new(
            console::chrome(&site_name),
            config.people.clone(),
            tls.is_some(),
        )),
        app: state.clone(),
        stations: Arc::new(config.stations.clone()),
        scanners: sources.shown(),
        floor,
        sync: link.as_ref().map(|l| l.status.clone()),
    };
    let people = pages.console.users();
    let demo_users = tokio::task::spawn_blocking(move || people.with_demo_password())
        .await
        .unwrap_or_default();
    tracing::info!(
        site = config.site.id,
        %address,
        data = %data_dir.display(),
        scanners = scanner_count,
        stations = config.stations.len(),
        "scantrail is running"
    );
    // Before the line below: a SIGTERM right after it must drain, not kill.
    let shutdown = crate::shutdown::signal();
    let reloads = tokio::spawn(reload::run(
        hangups,
        config.clone(),
        reload::Live {
            path: config_path,
            tokens: state.tokens.clone(),
            desk: state.desk.clone(),
            scanners: sources,
            console: pages.console.clone(),
        },
    ));
    let scheme = if tls.is_some() { "https" } else { "http" };
    let url = format!("{scheme}://{address}");
    tracing::info!(%url, "listening on");
    // The lines for a person and for scripts on stdout; a log shipper
    // (JSON logs) has the same in the log events.
    let human = crate::logging::format() == crate::logging::LogFormat::Human;
    if human {
        // Tests and scripts read this line to find the port when listening on :0.
        println!("listening on {url}");
        println!("console: {url}/");
    }
    for name in demo_users.iter().filter(|_| human) {
        println!(
            "WARNING: console user `{name}` still has the demo password `{}`: give it a new one with `scantrail user add {name} --role ROLE` (replacing its [[users]] entry) before anyone else can reach this machine",
            crate::console::users::DEMO_PASSWORD
        );
    }
    for name in &demo_users {
        tracing::warn!(
            user = name,
            "a console user still has the shipped demo password"
        );
    }
    if pages.console.users().is_empty() {
        tracing::warn!("the configuration has no [[users]]: nobody can sign in to the console; add one with `scantrail user add NAME --role supervisor`");
    }
    // The store is open and the listener bound: connections from here on
    // are queued and answered.
    crate::service::ready(&format!("listening on {url}"));
    let router = api::router(state)
        .merge(sync_routes)
        .merge(console::router(pages))
        .merge(handheld::router())
        .layer(axum::middleware::from_fn(crate::web::problem::layer));
    let settings = config
        .http
        .connections
        .settings()
        .map_err(anyhow::Error::msg)?;
    crate::web::server::serve(listener, tls, router, settings, shutdown)
        .await
        .context("the HTTP server failed")?;

    crate::service::stopping();
    tracing::info!("shutting down: no new scans; finishing the ones in flight");
    // The reload task owns the scanners' readers: ending it stops them.
    reloads.abort();
    let _ = reloads.await;
    start_verify.abort();
    let _ = start_verify.await;
    seen_task.abort();
    let _ = seen_task.await;
    // A backup under way finishes on its blocking thread (its copy is
    // whole or removed); only the wait for the next one ends here.
    backup_task.abort();
    let _ = backup_task.await;
    watching.stop().await;
    let _ = bridge.await;
    let _ = desk_task.await;
    if let Some(link) = link {
        link.stop();
    }
    drop(store);
    tracing::info!("stopped cleanly");
    Ok(())
}

/// An agent trusting head office as the link does, for the alerts to
/// read its certificate's end; `None` without `[sync]`.
fn hq_health_agent(config: &Config) -> anyhow::Result<Option<(ureq::Agent, String)>> {
    let Some(sync) = &config.sync else {
        return Ok(None);
    };
    let agent = crate::sync::tls::agent(sync.ca.as_deref(), std::time::Duration::from_secs(10))
        .context("key `sync.ca`")?;
    Ok(Some((agent, sync.url.trim_end_matches('/').to_owned())))
}

/// Hands every serial scan to the desk and beeps its answer back.
async fn serial_scans(mut scans: mpsc::Receiver<ScanEvent>, desk: Desk) {
    while let Some(event) = scans.recv().await {
        let mut raw = match event {
            ScanEvent::Scan(raw) => raw,
            ScanEvent::Rejected(_) => continue, // counted and logged by the source
        };
        let frame = match raw.parser_input() {
            std::borrow::Cow::Borrowed(_) => None,
            std::borrow::Cow::Owned(f) => Some(f),
        };
        let request = ScanRequest {
            station: raw.station.to_string(),
            raw: raw.take_bytes(),
            frame,
            substitute: raw.substitute,
            device_profile: raw.profile.to_string(),
            source: raw.source.to_string(),
            operator: None,
            scan_id: None,
            time: Utc::now(),
        };
        // Scans are decided in arrival order (the desk's queue); answers
        // come back as commits finish, without holding up the next scan.
        let Ok(answer) = desk.submit(request).await else {
            raw.reply(false);
            break;
        };
        tokio::spawn(async move {
            let good = matches!(answer.await, Ok(answer) if answer.accepted);
            raw.reply(good);
        });
    }
}
