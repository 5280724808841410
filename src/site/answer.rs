//! What the desk answers a scan, as the handheld API and the event stream
//! show it: accepted with its movement, or refused with a code and words.

use serde::{Deserialize, Serialize};

use crate::model::{Movement, RefusalCode};
use crate::station::Warning;

/// The desk's answer, as the handheld API returns it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Answer {
    pub(super) accepted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) movement: Option<Movement>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) code: Option<RefusalCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) reason: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub(super) warnings: Vec<WarningOut>,
    /// A context, command or badge barcode: what it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(super) struct WarningOut {
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
