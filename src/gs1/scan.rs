//! The entry point for scans: AIM symbology identifier, then the data form.

/// A parsed scan: which symbology it came from and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan<'a> {
    pub symbology: Symbology,
    pub content: Content<'a>,
}

/// What a scan says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content<'a> {
    /// GS1 Application Identifier data (a GTIN from EAN/UPC/ITF-14 becomes AI 01).
    Gs1(Vec<(&'static str, &'a str)>),
    /// Data of a non-GS1 symbology (e.g. `]Q1`, `]d1`, `]C0`), as sent.
    Other(&'a [u8]),
}

/// The symbology a scan came from, from its AIM identifier (ISO/IEC 15424).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Symbology {
    /// No AIM identifier was sent.
    Unknown,
}

/// Parses a frame's bytes as a scanner sent them.
pub fn parse_scan(frame: &[u8], substitute: Option<u8>) -> Result<Scan<'_>, String> {
    let _ = (frame, substitute);
    Err("not yet".into())
}
