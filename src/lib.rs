pub mod auth;
pub mod cli;
pub mod config;
pub mod console;
pub mod dev;
/// The GS1 syntax engine (the `scantrail-gs1` crate, `gs1/`), under its old
/// path so `crate::gs1::...` keeps working.
pub use scantrail_gs1 as gs1;
pub mod hq;
pub mod model;
pub mod report;
pub mod scan;
pub mod shutdown;
pub mod site;
pub mod station;
pub mod store;
pub mod sync;
pub mod web;
