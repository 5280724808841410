//! A change to a station's context from the API (`PATCH
//! /stations/{id}/context`), and why one is not made. JSON distinguishes a
//! field left out (unchanged) from `null` (cleared), which the `patch`
//! deserializer keeps apart.

use serde::Deserialize;

use crate::model::{Counterparty, RefusalCode};
use crate::station::{Context, Mode};

/// Fields given replace the station's current ones; `null` clears one; absent ones stay.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContextPatch {
    #[serde(default, with = "patch")]
    #[schema(value_type = Option<super::schemas::Mode>)]
    pub(super) mode: Option<Option<Mode>>,
    #[serde(default, with = "patch")]
    #[schema(value_type = Option<String>)]
    pub(super) operator: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::object")]
    #[schema(value_type = Option<super::schemas::Counterparty>)]
    pub(super) supplier: Option<Option<Counterparty>>,
    #[serde(default, with = "patch")]
    #[schema(value_type = Option<String>)]
    pub(super) purchase_order: Option<Option<String>>,
    #[serde(default, with = "patch")]
    #[schema(value_type = Option<String>)]
    pub(super) despatch_advice: Option<Option<String>>,
    #[serde(default, with = "patch")]
    #[schema(value_type = Option<String>)]
    pub(super) sscc: Option<Option<String>>,
    #[serde(default, with = "patch")]
    #[schema(value_type = Option<String>)]
    pub(super) order: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::object")]
    #[schema(value_type = Option<super::schemas::Counterparty>)]
    pub(super) customer: Option<Option<Counterparty>>,
    #[serde(default, with = "patch")]
    #[schema(value_type = Option<String>)]
    pub(super) return_reason: Option<Option<String>>,
    #[serde(default, with = "patch")]
    #[schema(value_type = Option<String>)]
    pub(super) location: Option<Option<String>>,
}

/// `absent` → None, `null` → Some(None), value → Some(Some(value)).
mod patch {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }

    /// As `deserialize`, for a struct that must come as a JSON object:
    /// serde would also take `[gln, name]`, which the API does not offer.
    pub fn object<'de, D: Deserializer<'de>, T: serde::de::DeserializeOwned>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        let Some(map) = Option::<serde_json::Map<String, serde_json::Value>>::deserialize(d)?
        else {
            return Ok(Some(None));
        };
        serde_json::from_value(serde_json::Value::Object(map))
            .map(|v| Some(Some(v)))
            .map_err(serde::de::Error::custom)
    }
}

impl ContextPatch {
    pub(crate) fn apply(self, c: &mut Context) {
        fn set<T>(field: &mut Option<T>, value: Option<Option<T>>) {
            if let Some(v) = value {
                *field = v;
            }
        }
        set(&mut c.mode, self.mode);
        set(&mut c.operator, self.operator);
        set(&mut c.purchase_order, self.purchase_order);
        set(&mut c.despatch_advice, self.despatch_advice);
        set(&mut c.sscc, self.sscc);
        set(&mut c.order, self.order);
        set(&mut c.return_reason, self.return_reason);
        set(&mut c.location, self.location);
        if let Some(s) = self.supplier {
            c.supplier = s.unwrap_or_default();
        }
        if let Some(s) = self.customer {
            c.customer = s.unwrap_or_default();
        }
    }
}

/// Why a context change was not made.
#[derive(Debug, thiserror::Error)]
pub enum ContextRefused {
    /// The path names a station that the configuration does not have.
    #[error("there is no station {0:?} in the configuration")]
    NoStation(String),
    /// It could not be saved, so it was not made: `code` and `reason` are
    /// the plain words of `StoreError::plain`.
    #[error("the context was not changed: {reason}")]
    NotSaved {
        /// `disk_full` or `store_error`, as the API's problem document says it.
        code: RefusalCode,
        /// What the person is told.
        reason: &'static str,
    },
}
