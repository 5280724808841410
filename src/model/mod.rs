//! The domain core: what scantrail records and the rules that more than one
//! part of it must apply the same way, as pure code: no store, no network,
//! no clock. The station decides with it, the store persists it, `verify`
//! and head office check what was decided with the same rules.
//!
//! May import: `gs1` and plain crates (serde, chrono, sha2, thiserror).
//! Never `store`, `site`, `hq`, `sync`, sled, axum or tokio.

pub mod balance;
pub mod hash;
pub mod log;
pub mod movement;
pub(crate) mod raw_bytes;
pub mod reference;
pub mod refusal;
pub mod rejection;
pub mod serial_history;
pub mod serial_state;

pub use balance::Balance;
pub use hash::Hash;
pub use log::{Entries, Log};
pub use movement::{
    Counterparty, Documents, Kind, Movement, MovementId, NewMovement, Quantity, ScanSource,
};
pub use reference::Reference;
pub use refusal::RefusalCode;
pub use rejection::{NewRejection, Rejection, Truncated, REJECTED_RAW_KEPT};
pub use serial_state::SerialState;
