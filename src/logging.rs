//! How scantrail logs: human lines (for a person at a terminal) or JSON
//! lines (for a log shipper), on stderr, filtered by `RUST_LOG` (default
//! `info`). journald takes either from a service's stderr.
//!
//! The format comes from `--log-format`, else from the configuration's
//! `[log] format`; the configuration is read after logging starts (its
//! errors are printed, not logged), so the daemons switch the format once
//! they have read it, before they log anything of their own.

use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use serde::Deserialize;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{reload, Layer, Registry};

/// The shape of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// `2026-01-01T00:00:00Z  INFO scantrail::site: message key=value`.
    #[default]
    Human,
    /// One JSON object a line: `timestamp`, `level`, `target`, `message`
    /// and the event's fields beside it.
    Json,
}

/// `[log]` in a site's or head office's configuration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `human` (default) or `json`; `--log-format` wins over it.
    #[serde(default)]
    pub format: LogFormat,
}

/// The format layer, swapped when the configuration asks for another.
type Output = Box<dyn Layer<Registry> + Send + Sync>;

static OUTPUT: OnceLock<reload::Handle<Output, Registry>> = OnceLock::new();
/// Whether `--log-format` was given (the configuration's choice is then
/// ignored).
static CHOSEN_ON_COMMAND_LINE: AtomicBool = AtomicBool::new(false);
/// Whether lines are JSON now.
static JSON: AtomicBool = AtomicBool::new(false);

/// Starts logging in `format` (`--log-format`), or human lines until a
/// configuration says otherwise ([`configure`]).
pub fn init(format: Option<LogFormat>) {
    CHOSEN_ON_COMMAND_LINE.store(format.is_some(), Ordering::Relaxed);
    let format = format.unwrap_or_default();
    JSON.store(format == LogFormat::Json, Ordering::Relaxed);
    let (output, handle) = reload::Layer::new(output(format));
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::registry()
        .with(output)
        .with(filter)
        .init();
    let _ = OUTPUT.set(handle);
}

/// Applies a configuration's `[log] format` unless `--log-format` was
/// given.
pub fn configure(log: &LogConfig) {
    if CHOSEN_ON_COMMAND_LINE.load(Ordering::Relaxed) || log.format == format() {
        return;
    }
    let Some(handle) = OUTPUT.get() else { return };
    if handle.reload(output(log.format)).is_ok() {
        JSON.store(log.format == LogFormat::Json, Ordering::Relaxed);
    }
}

/// The format lines are written in now.
pub fn format() -> LogFormat {
    if JSON.load(Ordering::Relaxed) {
        LogFormat::Json
    } else {
        LogFormat::Human
    }
}

fn output(format: LogFormat) -> Output {
    let stderr = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    match format {
        // Colours only for a person: journald would store the escape codes.
        LogFormat::Human => stderr.with_ansi(std::io::stderr().is_terminal()).boxed(),
        LogFormat::Json => stderr.json().flatten_event(true).boxed(),
    }
}
