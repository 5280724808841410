//! Uploading one log (the journal or the rejected-scan log) from head
//! office's watermark: a batch is read and encoded within the byte budget,
//! the next one is read while this one is in flight, and the batch grows
//! back after head office found one too large.

use chrono::Utc;

use super::failure::Failure;
use super::{log_index, Link};
use crate::model::Entries;
use crate::model::Log;
use crate::store::Store;
use crate::sync::protocol::{path, Ack, Batch, ReferenceVersions, PROTOCOL_VERSION};

impl Link {
    /// Sends the next batch of one log, if any. Returns whether it was full.
    pub(super) fn upload(&mut self, log: Log) -> Result<bool, Failure> {
        let site = self.store.site().to_owned();
        let acked = match log {
            Log::Movements => self.store.outbox().position()?,
            Log::Rejections => self.store.outbox().rejected_position()?,
        };
        let acked_seq = acked.as_ref().map_or(0, |a| a.acked_seq);
        let from = self.cursor[log_index(log)].unwrap_or(acked_seq + 1);
        let limit = self
            .batch_limit
            .min(self.server_batch_max.unwrap_or(usize::MAX))
            .max(1);
        let reference = self.reference_versions();
        let prepared = match self.prefetched.take() {
            Some(p) if p.log == log && p.from == from && p.limit == limit => p,
            _ => prepare(
                &self.store,
                log,
                from,
                limit,
                self.settings.batch_bytes,
                reference,
            )?,
        };
        let Some(body) = &prepared.body else {
            return Ok(false);
        };
        let url = format!("{}{}", self.settings.url, path::BATCHES);
        // While head office works on this batch, read and encode the next
        // one (still one batch in flight: it is sent only after this ack).
        let next_from = prepared.last_seq + 1;
        let budget = self.settings.batch_bytes;
        let store = self.store.clone();
        let (result, next) = std::thread::scope(|scope| {
            let next = (prepared.count >= limit).then(|| {
                scope.spawn(move || prepare(&store, log, next_from, limit, budget, reference))
            });
            let result = self.call(self.request("POST", &url), Some(body));
            (result, next.and_then(|h| h.join().ok()))
        });
        let response = match result {
            Err(Failure::Rewind { expected }) => {
                self.cursor[log_index(log)] = Some(expected.max(1));
                return Err(Failure::Rewind { expected });
            }
            other => other?,
        };
        let ack: Ack = response.into_json().map_err(|e| Failure::Retry {
            message: format!("head office's acknowledgement cannot be read: {e}"),
            retry_after: None,
        })?;
        self.accept_ack(log, &site, ack)?;
        if let Some(Ok(next)) = next {
            self.prefetched = Some(next);
        }
        // After a 413 the batch grows back, one doubling per 16 successes.
        self.successes = self.successes.wrapping_add(1);
        if self.batch_limit < self.settings.batch_max && self.successes.is_multiple_of(16) {
            self.batch_limit = (self.batch_limit * 2).min(self.settings.batch_max);
        }
        Ok(prepared.count >= limit)
    }
}

/// A batch read and encoded, ready to send.
pub(super) struct Prepared {
    log: Log,
    from: u64,
    limit: usize,
    last_seq: u64,
    count: usize,
    /// None: nothing to send.
    body: Option<Vec<u8>>,
}

/// Reads up to `limit` entries of `log` from seq `from` and encodes them
/// as one batch of at most `budget` bytes (fewer entries if it is larger).
fn prepare(
    store: &Store,
    log: Log,
    from: u64,
    limit: usize,
    budget: usize,
    reference: ReferenceVersions,
) -> Result<Prepared, Failure> {
    let site = store.site().to_owned();
    let mut entries = match log {
        Log::Movements => Entries::Movements(store.journal().range(&site, from, limit)?),
        Log::Rejections => Entries::Rejections(store.journal().rejected_range(&site, from, limit)?),
    };
    loop {
        let Some((first_seq, last_seq)) = entries.span() else {
            return Ok(Prepared {
                log,
                from,
                limit,
                last_seq: from.saturating_sub(1),
                count: 0,
                body: None,
            });
        };
        let count = entries.len();
        let batch = Batch {
            protocol: PROTOCOL_VERSION,
            site: site.clone(),
            first_seq,
            last_seq,
            sent_at: Utc::now(),
            reference,
            entries,
        };
        let body = batch.encode();
        if body.len() <= budget || count == 1 {
            return Ok(Prepared {
                log,
                from,
                limit,
                last_seq,
                count,
                body: Some(body),
            });
        }
        // Too big: keep the share of entries that fits, and encode again.
        let keep =
            ((count as u128 * budget as u128 / body.len() as u128) as usize).clamp(1, count - 1);
        entries = batch.entries;
        match &mut entries {
            Entries::Movements(v) => v.truncate(keep),
            Entries::Rejections(v) => v.truncate(keep),
        }
    }
}
