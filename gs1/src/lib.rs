//! GS1 barcode data: parsing, validation and rendering, as GS1's reference
//! engine does it, from the GS1 Barcode Syntax Dictionary.
//!
//! Pure code, no I/O. Bytes as a scanner sent them go in (or a bracketed
//! element string, or a GS1 Digital Link URI); a typed element string, or
//! an error that names the AI, the byte offset and the reason, comes out.
//! The entry point is [`parse_scan`]; [`render_bracketed`],
//! [`render_unbracketed`] and [`render_digital_link`] write the data back
//! out. See the crate's README for examples.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod dictionary;
pub mod lint;

mod bracketed;
mod digital_link;
mod element;
mod error;
mod render;
mod report;
mod scan;
mod unbracketed;
mod validate;

pub use digital_link::render as render_digital_link;
pub use element::{yymmdd_date, Element, ElementString, Measure};
pub use error::{ErrorKind, Gs1Error};
pub use render::{render_bracketed, render_unbracketed};
pub use report::{AiValue, ScanReport};
pub use scan::{parse_scan, Content, Scan, Symbology};
pub use unbracketed::GS;
pub use validate::check_value;

// The README's examples run as doctests, so they stay true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
