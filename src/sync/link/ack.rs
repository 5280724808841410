//! Head office's acknowledgement: checked against the local chain (the
//! acknowledged entry must be this site's, with the same hash) before the
//! watermark moves to it; its business flags are kept for the status.

use chrono::Utc;

use super::failure::Failure;
use super::{log_index, Link};
use crate::model::Hash;
use crate::model::Log;
use crate::store::OutboxPosition;
use crate::sync::protocol::Ack;

/// Flags kept for the status, newest last.
const FLAGS_KEPT: usize = 50;

impl Link {
    /// Checks head office's acknowledgement against the local chain and
    /// moves the watermark to it.
    pub(super) fn accept_ack(&mut self, log: Log, site: &str, ack: Ack) -> Result<(), Failure> {
        if ack.log != log {
            return Err(Failure::Retry {
                message: "head office acknowledged the other log".into(),
                retry_after: None,
            });
        }
        let local = match (log, ack.acked_seq) {
            (_, 0) => Some(Hash::GENESIS),
            (Log::Movements, seq) => self.store.journal().movement(site, seq)?.map(|m| m.hash),
            (Log::Rejections, seq) => self
                .store
                .journal()
                .rejected_range(site, seq, 1)?
                .into_iter()
                .find(|r| r.seq == seq)
                .map(|r| r.hash),
        };
        matches_local(log, ack.acked_seq, ack.acked_hash, local)?;
        let position = OutboxPosition {
            acked_seq: ack.acked_seq,
            acked_hash: ack.acked_hash,
        };
        match log {
            Log::Movements => self.store.outbox().set_position(position)?,
            Log::Rejections => self.store.outbox().set_rejected_position(position)?,
        }
        self.cursor[log_index(log)] = None;
        let mut s = self.status.lock().unwrap_or_else(|p| p.into_inner());
        s.last_ack_at = Some(Utc::now());
        for f in &ack.flags {
            tracing::warn!(flag = %f, "head office flagged a batch");
        }
        keep_flags(&mut s.flags, ack.flags);
        Ok(())
    }
}

/// Whether head office's `acked` hash for `seq` is this site's (`local`,
/// None when this site has no such entry).
fn matches_local(log: Log, seq: u64, acked: Hash, local: Option<Hash>) -> Result<(), Failure> {
    match local {
        Some(h) if h == acked => Ok(()),
        Some(_) => Err(Failure::Halt(format!(
            "head office holds {} seq {seq} with another hash than this site: the histories differ",
            log.name(),
        ))),
        None => Err(Failure::Halt(format!(
            "head office acknowledges {} up to seq {seq}, beyond what this site holds: was the store restored from an old backup?",
            log.name(),
        ))),
    }
}

/// Adds `new` flags, keeping the newest `FLAGS_KEPT`.
fn keep_flags(flags: &mut Vec<String>, new: Vec<String>) {
    flags.extend(new);
    let excess = flags.len().saturating_sub(FLAGS_KEPT);
    flags.drain(..excess);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watermark_moves_only_to_an_entry_this_site_holds_with_that_hash() {
        let h = Hash([7; 32]);
        assert!(matches_local(Log::Movements, 5, h, Some(h)).is_ok());
        match matches_local(Log::Movements, 5, h, Some(Hash([8; 32]))) {
            Err(Failure::Halt(m)) => assert!(m.contains("seq 5 with another hash"), "{m}"),
            other => panic!("{other:?}"),
        }
        match matches_local(Log::Rejections, 9, h, None) {
            Err(Failure::Halt(m)) => assert!(m.contains("old backup"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn only_the_newest_flags_are_kept() {
        let mut flags: Vec<String> = (0..40).map(|i| i.to_string()).collect();
        keep_flags(&mut flags, (40..70).map(|i| i.to_string()).collect());
        assert_eq!(flags.len(), FLAGS_KEPT);
        assert_eq!(flags.first().map(String::as_str), Some("20"));
        assert_eq!(flags.last().map(String::as_str), Some("69"));
        keep_flags(&mut flags, Vec::new());
        assert_eq!(flags.len(), FLAGS_KEPT);
    }
}
