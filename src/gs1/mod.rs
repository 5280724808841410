//! GS1 element strings: parsing, validation and rendering.
//!
//! Pure code, no I/O. Bytes as a scanner sent them go in; a typed element
//! string, or an error that names the AI, the byte offset and the reason,
//! comes out. Everything else in scantrail calls [`parse_scan`].

pub mod dictionary;
pub mod lint;

mod bracketed;
mod digital_link;
mod element;
mod error;
mod report;
mod scan;
mod unbracketed;
mod validate;

pub use digital_link::render as render_digital_link;
pub use element::{yymmdd_date, Element, ElementString, Measure};
pub use error::{ErrorKind, Gs1Error};
pub use report::{AiValue, ScanReport};
pub use scan::{parse_scan, Content, Scan, Symbology};
pub use unbracketed::GS;
