//! A request to correct a movement, from `scantrail correct` or the API.
//! The rules a correction must follow are the station's
//! (`station::correction`); this is only what is asked, and by whom.

use serde::Deserialize;

/// `scantrail correct` and the API: reverse a movement, with a reason.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Correction {
    #[serde(default)]
    pub(super) origin: Option<String>,
    pub(super) seq: u64,
    pub(super) reason: String,
    #[serde(default)]
    pub(super) operator: Option<String>,
    /// Who asks: the name of the API token (never from the body).
    #[serde(skip)]
    pub author: String,
}
