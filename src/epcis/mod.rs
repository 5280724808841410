//! EPCIS 2.0 (GS1's event standard) out of the journal: every movement
//! becomes the event trading partners and EPCIS repositories expect, in
//! JSON-LD, written as it is read so an export of millions of movements
//! needs no more memory than one of ten.
//!
//! The mapping is pure (movement in, event out; `settings`, `identifiers`,
//! `vocabulary`, `time`, `event_id`, `object_event`, `aggregation`,
//! `correction`, `grouping`, `hash`, `master_data`); `writer` turns the
//! events into a document on any `io::Write`; `export` reads a store's
//! journal page by page into it, the one place here that names the store.
//! `capture` is the other way: a partner's shipping events checked into
//! expected receipts (`expected`; identifiers read back by `epc`), and
//! `receipt_progress` what of one has arrived. What maps to what, and why, is said in each file.

pub mod aggregation;
pub mod capture;
pub mod correction;
pub mod direct;
pub mod epc;
pub mod error;
pub mod event;
pub mod event_id;
pub mod expected;
pub mod export;
pub mod grouping;
pub mod hash;
pub mod holds;
pub mod identifiers;
pub mod journal;
pub mod json;
pub mod master_data;
pub mod object_event;
pub mod receipt_progress;
mod recent;
pub mod request;
pub mod settings;
pub mod time;
pub mod vocabulary;
pub mod writer;

pub use error::EpcisError;
pub use event::Event;
pub use export::{export, Range, Summary};
pub use journal::Journal;
pub use request::Request;
pub use settings::{EpcisConfig, EventIds, GroupBy, Settings};
pub use writer::DocumentWriter;

#[cfg(test)]
mod tests;
