//! Stations: what a scan means where it was made. A dock receives, dispatch
//! picks orders, returns come back; each station decides `Accept(movement)`
//! or `Reject(reason)` for every scan from its context and the site's
//! records, as pure code over a read-only `View`.

pub mod catalog;
pub mod context;
pub mod correction;
pub mod import;
pub mod progress;
pub mod records;
pub mod reference;
pub mod rules;
pub mod view;

pub use context::{Context, Mode, Policies};
pub use correction::{check_correction, correction, CorrectionRefused, Surroundings};
pub use rules::{decide, Decision, Refusal, ScanInput, Station, Warning};
pub use view::{ExpectedDespatch, LotStock, View, ViewError, ViewResult};

#[cfg(test)]
mod tests;
