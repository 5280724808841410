//! What a site's uploader must remember across restarts beside the
//! movements' outbox position: head office's acknowledgement of the
//! rejected-scan log, and a halt set when head office refused the site's
//! history (a seq it holds with other content). The halt survives a
//! restart on purpose: only an operator, having looked, lifts it.

use serde::{Deserialize, Serialize};

use super::envelope::Stored;
use super::error::{Result, StoreError};
use super::movement::OutboxPosition;
use super::Store;

const REJECTED_ACK: &[u8] = b"ack.rejected";
const HALT: &[u8] = b"halt";

/// Why the uploader stopped, as recorded for the operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Halt {
    pub at: chrono::DateTime<chrono::Utc>,
    pub reason: String,
}

/// A site's sync state (`Store::outbox`): how far head office has
/// acknowledged each log, and the uploader's halt.
#[derive(Clone, Copy)]
pub struct Outbox<'a> {
    pub(super) store: &'a Store,
}

impl Outbox<'_> {
    /// The last position head office acknowledged, if any.
    pub fn position(&self) -> Result<Option<OutboxPosition>> {
        self.store
            .read(&self.store.trees()?.outbox, b"ack", "read the outbox")
    }

    /// Records head office's acknowledgement, durably.
    pub fn set_position(&self, position: OutboxPosition) -> Result<()> {
        self.store.committer.exclusive(move |sink| {
            sink.outbox()?
                .insert(b"ack", position.encode())
                .map_err(sink.sled_err("write the outbox position"))?;
            sink.make_durable()?;
            tracing::debug!(seq = position.acked_seq, "outbox position moved");
            Ok(())
        })
    }

    /// Head office's last acknowledgement of the rejected-scan log.
    pub fn rejected_position(&self) -> Result<Option<OutboxPosition>> {
        self.store
            .read(&self.store.trees()?.outbox, REJECTED_ACK, "read the outbox")
    }

    /// Moves the rejected-scan log's outbox to head office's latest
    /// acknowledgement, durably.
    pub fn set_rejected_position(&self, position: OutboxPosition) -> Result<()> {
        self.store.committer().exclusive(move |sink| {
            sink.outbox()?
                .insert(REJECTED_ACK, position.encode())
                .map_err(sink.sled_err("write the outbox position"))?;
            sink.make_durable()
        })
    }

    /// The recorded halt of the uploader, if any.
    pub fn halt(&self) -> Result<Option<Halt>> {
        match self
            .store
            .trees()?
            .outbox
            .get(HALT)
            .map_err(self.store.sled_err("read the outbox"))?
        {
            Some(v) => postcard::from_bytes(&v)
                .map(Some)
                .map_err(|e| StoreError::Damaged {
                    path: self.store.path().to_owned(),
                    detail: format!("the sync halt record cannot be read: {e}"),
                }),
            None => Ok(None),
        }
    }

    /// Records (Some) or lifts (None) the uploader's halt, durably.
    pub fn set_halt(&self, halt: Option<Halt>) -> Result<()> {
        self.store.committer().exclusive(move |sink| {
            let outbox = sink.outbox()?.clone();
            match &halt {
                Some(h) => outbox
                    .insert(HALT, postcard::to_stdvec(h).unwrap_or_default())
                    .map(|_| ()),
                None => outbox.remove(HALT).map(|_| ()),
            }
            .map_err(sink.sled_err("write the sync halt"))?;
            sink.make_durable()
        })
    }
}
