//! Upgrading a store of an older schema when it is opened. Schemas 2 and 3
//! differ from this one only in their derived trees (schema 3 added the
//! corrections index, schema 4 keeps index entries as postings), so the
//! upgrade is a reindex in place: the journal, the chains and the rejected
//! log are not touched. The reindex marks the store while it runs, so an
//! upgrade cut short by a crash is noticed at the next open rather than
//! leaving half-built trees (`scantrail reindex` finishes it).
//!
//! A large store takes minutes (about 1.3 a million movements here): the
//! log says how far it is, and the opener is told (`OpenOptions::on_upgrade`:
//! the daemons extend systemd's start timeout with it, so that the service
//! manager does not kill a daemon busy upgrading).

use super::error::Result;
use super::{reindex, SledSink, SCHEMA_VERSION};

/// How often the upgrade says how far it is, in movements.
const EVERY: u64 = 100_000;

/// Rebuilds the derived trees of a store of schema `from` in this schema's
/// layout and stamps the new schema, durably, before the store is used.
pub(crate) fn run(sink: &mut SledSink, from: u32, told: Option<fn(u64)>) -> Result<()> {
    let path = sink.path.display().to_string();
    tracing::info!(%path, from, to = SCHEMA_VERSION, "upgrading the store: rebuilding its indexes");
    let tell = |movements| {
        if let Some(told) = told {
            told(movements)
        }
    };
    tell(0);
    let next = std::cell::Cell::new(EVERY);
    let report = reindex::run(sink, &|movements| {
        if movements >= next.get() {
            next.set(movements + EVERY);
            tracing::info!(%path, movements, "upgrading the store");
            tell(movements);
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
