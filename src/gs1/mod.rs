//! GS1 element strings: parsing, validation and rendering (pure, no I/O).
pub mod lint;
