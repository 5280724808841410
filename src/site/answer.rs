//! What the desk answers a scan, as the handheld API and the event stream
//! show it: accepted with its movement, or refused with a code and words.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::model::{Movement, RefusalCode};
use crate::station::Warning;

/// The answer to a scan, given once its movement or rejection is durable.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct Answer {
    /// Good read (true) or bad read (false).
    pub(super) accepted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = super::schemas::Movement, required = false)]
    pub(super) movement: Option<Movement>,
    /// Refused: a stable machine code, e.g. `expired`, `recalled`, `unknown_gtin`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, required = false)]
    pub(super) code: Option<RefusalCode>,
    /// Refused: the reason for the operator's screen.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, required = false)]
    pub(super) reason: Option<String>,
    /// Accepted with warnings (e.g. `unknown_gtin`, `fefo`); absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub(super) warnings: Vec<WarningOut>,
    /// A context, command or badge barcode: what it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, required = false)]
    pub message: Option<String>,
}

/// A policy that warned rather than refused.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
#[schema(as = Warning)]
pub(super) struct WarningOut {
    #[schema(value_type = String)]
    pub(super) code: RefusalCode,
    pub(super) message: String,
}

impl From<Warning> for WarningOut {
    fn from(w: Warning) -> WarningOut {
        WarningOut {
            code: w.code,
            message: w.message,
        }
    }
}

impl Answer {
    pub(crate) fn refused(code: RefusalCode, reason: String) -> Answer {
        Answer {
            accepted: false,
            movement: None,
            code: Some(code),
            reason: Some(reason),
            warnings: Vec::new(),
            message: None,
        }
    }

    pub(crate) fn context(message: String) -> Answer {
        Answer {
            accepted: true,
            movement: None,
            code: None,
            reason: None,
            warnings: Vec::new(),
            message: Some(message),
        }
    }
}
