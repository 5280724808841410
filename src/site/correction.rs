//! A request to correct a movement, from `scantrail correct` or the API.
//! The rules a correction must follow are the station's
//! (`station::correction`); this is only what is asked, and by whom.

use serde::Deserialize;

/// `scantrail correct` and the API: reverse a movement, with a reason.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Correction {
    /// Default: this site.
    #[serde(default)]
    pub(super) origin: Option<String>,
    #[schema(minimum = 1, format = Int64)]
    pub(super) seq: u64,
    #[schema(min_length = 1)]
    pub(super) reason: String,
    /// Who was signed in (default: the token's name); the author is the token's name.
    #[serde(default)]
    pub(super) operator: Option<String>,
    /// Who asks: the name of the API token (never from the body).
    #[serde(skip)]
    pub author: String,
}
