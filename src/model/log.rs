//! An origin's two hash-chained logs (movements, rejected scans) and a run
//! of one log's entries: what a site uploads in a batch and what head
//! office ingests.

use serde::{Deserialize, Serialize};

use super::{Movement, Rejection};

/// Which hash-chained log of an origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Log {
    /// The movements: receipts, picks, returns, transfers, adjustments,
    /// corrections.
    Movements,
    /// The rejected scans: what a station refused, and why.
    Rejections,
}

impl Log {
    /// The log's name for messages (`movements`, `rejected scans`).
    pub fn name(self) -> &'static str {
        match self {
            Log::Movements => "movements",
            Log::Rejections => "rejected scans",
        }
    }
}

/// A run of one origin's log, in seq order: what a sync batch carries and
/// head office ingests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Entries {
    /// Movements of one origin, seqs contiguous and ascending.
    Movements(Vec<Movement>),
    /// Rejected scans of one origin, seqs contiguous and ascending.
    Rejections(Vec<Rejection>),
}

impl Entries {
    /// Which of the two logs these entries belong to.
    pub fn log(&self) -> Log {
        match self {
            Entries::Movements(_) => Log::Movements,
            Entries::Rejections(_) => Log::Rejections,
        }
    }

    /// How many entries: a batch's size against the sync limits.
    pub fn len(&self) -> usize {
        match self {
            Entries::Movements(v) => v.len(),
            Entries::Rejections(v) => v.len(),
        }
    }

    /// True for a batch that carries no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// (first seq, last seq), if any entry.
    pub fn span(&self) -> Option<(u64, u64)> {
        let (first, last) = match self {
            Entries::Movements(v) => (v.first()?.seq, v.last()?.seq),
            Entries::Rejections(v) => (v.first()?.seq, v.last()?.seq),
        };
        Some((first, last))
    }
}
