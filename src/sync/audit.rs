//! History rewritten at the site after head office acknowledged it: the
//! outbox keeps the last acknowledged (seq, hash) of each log, and `verify`
//! checks that the local chain still has exactly that entry there. A store
//! edited, or swapped for an older backup, after sync is caught even when
//! its own chain has been made consistent again.

use crate::model::Log;
use crate::store::{Store, StoreError};

/// One line per log whose acknowledged entry is missing or different.
pub fn check_acknowledged(store: &Store) -> Result<Vec<String>, StoreError> {
    let site = store.site().to_owned();
    let mut problems = Vec::new();
    for log in [Log::Movements, Log::Rejections] {
        let acked = match log {
            Log::Movements => store.outbox().position()?,
            Log::Rejections => store.outbox().rejected_position()?,
        };
        let Some(acked) = acked else { continue };
        if acked.acked_seq == 0 {
            continue;
        }
        let local = match log {
            Log::Movements => store
                .journal()
                .movement(&site, acked.acked_seq)?
                .map(|m| m.hash),
            Log::Rejections => store
                .journal()
                .rejected_range(&site, acked.acked_seq, 1)?
                .into_iter()
                .find(|r| r.seq == acked.acked_seq)
                .map(|r| r.hash),
        };
        match local {
            Some(h) if h == acked.acked_hash => {}
            Some(h) => problems.push(format!(
                "{} seq {}: head office acknowledged hash {} but the store now holds {}: history was rewritten after sync",
                log.name(),
                acked.acked_seq,
                acked.acked_hash,
                h
            )),
            None => problems.push(format!(
                "{} seq {}: head office acknowledged it but the store no longer has it: history was cut after sync",
                log.name(),
                acked.acked_seq
            )),
        }
    }
    Ok(problems)
}
