//! scantrail: the backend of a warehouse's barcode scanning. It reads GS1
//! barcodes from serial scanners and handheld terminals at a site, decides
//! what each scan means at the station where it was made, keeps every
//! accepted movement in a durable hash-chained journal, and syncs the
//! journal to head office, which publishes products, holds and recalls
//! back to the sites. The installed binary is `scantrail` (`src/main.rs`,
//! a parser over [`cli`]); developer tools are the separate `scantrail-dev`.
//!
//! A scan flows through the modules in this order:
//!
//! - [`scan`]: bytes from a serial scanner, or barcodes in a photo, become
//!   raw scans: framing, device profiles, reconnects; no GS1 meaning.
//!   Handheld terminals send their scans to the site's API instead.
//! - [`gs1`]: the raw scan is parsed and checked as GS1 data (application
//!   identifiers, check digits, dates, Digital Link).
//! - [`station`]: the station (receive, dispatch, return) accepts the scan
//!   as a movement or refuses it with a code, by the rules of [`model`],
//!   the domain core shared by everyone who applies those rules.
//! - [`store`]: the only module that touches sled; it makes the movement
//!   durable before the scan is answered, and keeps the derived views
//!   [`report`] reads and the outbox sync ships.
//! - [`sync`]: the site's link to head office: uploads the journal, pulls
//!   reference data.
//! - [`hq`]: head office (`scantrail hq`): ingests every site's batches and
//!   publishes reference data.
//!
//! Around them: [`site`] is the site daemon (`scantrail run`) that wires
//! these together; its desk decides the scans one at a time and answers
//! each only once its movement is durable; [`web`], [`auth`] and [`console`] are the HTTP plumbing,
//! tokens and the supervisor console both daemons share; [`config`] loads
//! the site's configuration; [`shutdown`] says when a daemon drains;
//! [`disk`] and [`duration`] are a disk's free space and durations written
//! with units, for the doctor, the configuration and the site's alerts;
//! [`dev`] is synthetic data for tests and benchmarks, not part of the
//! product.
//!
//! What each module owns and may import is in `docs/ARCHITECTURE.md`; how
//! to install, configure and run scantrail is in `README.md`.

// Every public item says what it is for (issue 13); CI fails otherwise.
#![deny(missing_docs)]

pub mod auth;
pub mod cli;
pub mod config;
pub mod console;
pub mod dev;
pub mod disk;
pub mod duration;
pub mod epcis;
/// The GS1 syntax engine (the `scantrail-gs1` crate, `gs1/`), under its old
/// path so `crate::gs1::...` keeps working.
pub use scantrail_gs1 as gs1;
pub mod hq;
pub mod logging;
pub mod memory;
pub mod model;
pub mod report;
pub mod scan;
pub mod service;
pub mod shutdown;
pub mod site;
pub mod station;
pub mod store;
pub mod sync;
pub mod web;
