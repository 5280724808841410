//! Upgrading a store of an older schema when it is opened. Schemas 2 and 3
//! differ from this one only in their derived trees (schema 3 added the
//! corrections index, schema 4 keeps index entries as postings), so the
//! upgrade is a reindex in place: the journal, the chains and the rejected
//! log are not touched. The schema is stamped only once the rebuild is
//! durable, so an upgrade cut short (a crash, a power cut) runs again from
//! the start at the next open.
//!
//! A large store takes minutes (a million movements: 2 min removing the
//! old layout's entries, 50 s rebuilding, here): the log says how far it
//! is, and the opener is told (`OpenOptions::on_upgrade`) at least every
//! `TELL_EVERY`: the daemons extend systemd's start timeout with it, so
//! that the service manager does not kill a daemon busy upgrading.

use super::error::Result;
use super::{reindex, SledSink, SCHEMA_VERSION};

/// How often the upgrade logs how far it is, in movements.
const EVERY: u64 = 100_000;

/// How often the opener is told the upgrade goes on: well inside the two
/// minutes each telling buys (`service::extend_start`).
const TELL_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Rebuilds the derived trees of a store of schema `from` in this schema's
/// layout and stamps the new schema, durably, before the store is used.
pub(crate) fn run(sink: &mut SledSink, from: u32, told: Option<fn()>) -> Result<()> {
    let path = sink.path.display().to_string();
    tracing::info!(%path, from, to = SCHEMA_VERSION, "upgrading the store: rebuilding its indexes");
    let tell = || {
        if let Some(told) = told {
            told()
        }
    };
    tell();
    let told_at = std::cell::Cell::new(std::time::Instant::now());
    let next = std::cell::Cell::new(EVERY);
    let report = reindex::run(sink, &|movements| {
        if movements >= next.get() {
            next.set(movements + EVERY);
            tracing::info!(%path, movements, "upgrading the store");
        }
        if told_at.get().elapsed() >= TELL_EVERY {
            told_at.set(std::time::Instant::now());
            tell();
        }
    })?;
    tracing::info!(
        %path,
        movements = report.movements,
        schema = SCHEMA_VERSION,
        "store upgraded"
    );
    Ok(())
}
