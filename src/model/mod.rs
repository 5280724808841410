//! The domain rules that more than one part of scantrail must apply the
//! same way, as pure code: no store, no network, no clock. The desk uses
//! them to decide, `verify` to check what was decided.

pub mod serial_history;
