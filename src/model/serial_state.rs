//! Where a serialised item is, and how each movement moves it: the one
//! transition the committer, reindex, verify, head office's ingest and the
//! desk (for movements still being committed) all apply.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Counterparty, MovementId};

/// Where a serialised item is now, derived from its last movement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SerialState {
    InStock {
        location: String,
        since: DateTime<Utc>,
        by: MovementId,
    },
    Dispatched {
        to: Counterparty,
        at: DateTime<Utc>,
        by: MovementId,
    },
    Returned {
        location: String,
        at: DateTime<Utc>,
        by: MovementId,
    },
    /// The receipt that brought it in was corrected away: it is not here.
    Voided { at: DateTime<Utc>, by: MovementId },
}
