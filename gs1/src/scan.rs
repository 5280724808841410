//! The one entry point for scans: reads the AIM symbology identifier
//! (ISO/IEC 15424) when there is one, picks the data form (element string,
//! bracketed, Digital Link URI, or a GTIN carried by EAN/UPC/ITF-14), and
//! returns a validated parse.

use std::borrow::Cow;

use super::element::{Element, ElementString};
use super::error::{ErrorKind, Gs1Error};
use super::{bracketed, dictionary, digital_link, unbracketed, validate};

/// A parsed scan: which symbology it came from and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan<'a> {
    /// The symbology identifier the scanner sent, if any.
    pub symbology: Symbology,
    /// The data.
    pub content: Content<'a>,
}

/// What a scan says.
// The GS1 variant is large on purpose: its elements live inline so that a
// typical scan parses without touching the heap.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content<'a> {
    /// GS1 Application Identifier data (a GTIN from EAN/UPC/ITF-14 becomes
    /// AI 01 with 14 digits).
    Gs1(ElementString<'a>),
    /// Data of a non-GS1 symbology (e.g. `]Q1`, `]d1`, `]C0`), as sent.
    Other(&'a [u8]),
}

impl<'a> Content<'a> {
    /// The GS1 data, if the scan carried any.
    pub fn gs1(&self) -> Option<&ElementString<'a>> {
        match self {
            Content::Gs1(elements) => Some(elements),
            Content::Other(_) => None,
        }
    }
}

/// The symbology a scan came from, by its AIM identifier `]` + code +
/// modifier; `None` when the scanner sent no identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Symbology {
    /// The scanner sent no identifier.
    None,
    /// `]` + `code` + `modifier`, e.g. `]d2`.
    Aim {
        /// The symbology code character, e.g. `d` for Data Matrix.
        code: u8,
        /// The modifier character, e.g. `2` for GS1 data.
        modifier: u8,
    },
}

impl Symbology {
    /// The identifier as sent, e.g. `]d2`.
    pub fn aim_id(&self) -> Option<String> {
        match *self {
            Symbology::None => None,
            Symbology::Aim { code, modifier } => {
                Some(format!("]{}{}", char::from(code), char::from(modifier)))
            }
        }
    }

    /// A name for people, e.g. `GS1 DataMatrix`.
    pub fn name(&self) -> &'static str {
        let Symbology::Aim { code, modifier } = *self else {
            return "no symbology identifier";
        };
        match (code, modifier) {
            (b'C', b'1') => "GS1-128",
            (b'C', _) => "Code 128",
            (b'e', b'0') => "GS1 DataBar",
            (b'e', _) => "GS1 Composite",
            (b'd', b'2') => "GS1 DataMatrix",
            (b'd', _) => "Data Matrix",
            (b'Q', b'3') => "GS1 QR Code",
            (b'Q', _) => "QR Code",
            (b'J', b'1') => "GS1 DotCode",
            (b'J', _) => "DotCode",
            (b'E', b'4') => "EAN-8",
            (b'E', _) => "EAN-13 / UPC-A",
            (b'I', _) => "ITF",
            (b'A', _) => "Code 39",
            (b'L', _) => "PDF417",
            (b'z', _) => "Aztec",
            _ => "other symbology",
        }
    }
}

/// The parse for a frame's bytes as a scanner sent them: AIM identifier
/// included when present, GS (0x1D) or `substitute` as the FNC1 separator.
///
/// Bare data with no identifier is read as a GS1 element string, or as a
/// bracketed string or Digital Link URI when it looks like one.
pub fn parse_scan(frame: &[u8], substitute: Option<u8>) -> Result<Scan<'_>, Gs1Error> {
    if frame.is_empty() {
        return Err(Gs1Error::at(None, 0, ErrorKind::Empty));
    }
    let (symbology, data, base) = match frame {
        [b']', code, modifier, rest @ ..] => (
            Symbology::Aim {
                code: *code,
                modifier: *modifier,
            },
            rest,
            3,
        ),
        [b']', ..] => return Err(Gs1Error::at(None, 0, ErrorKind::IncompleteSymbologyId)),
        _ => (Symbology::None, frame, 0),
    };
    let mut elements = ElementString::default();
    match symbology {
        Symbology::None if data.first() == Some(&b'(') => {
            bracketed::parse(data, base, &mut elements)?
        }
        Symbology::None if digital_link::is_uri(data) => {
            digital_link::parse(data, base, &mut elements)?
        }
        Symbology::None => unbracketed::parse(data, base, substitute, &mut elements)?,
        Symbology::Aim { code, modifier } => match (code, modifier) {
            (b'C', b'1') | (b'e', b'0') | (b'd', b'2') | (b'Q', b'3') | (b'J', b'1') => {
                unbracketed::parse(data, base, substitute, &mut elements)?
            }
            (b'E', b'0') | (b'E', b'4') => {
                // EAN/UPC with a GS1 Composite: `<digits>|]e0<element string>`.
                let (linear, composite) = match find(data, b"|]e0") {
                    Some(at) => (&data[..at], Some((&data[at + 4..], base + at + 4))),
                    None => (data, None),
                };
                let (length, name) = if modifier == b'4' {
                    (8, "EAN-8")
                } else {
                    (13, "EAN-13 / UPC-A")
                };
                gtin(linear, base, &[length], name, &mut elements)?;
                if let Some((composite, at)) = composite {
                    unbracketed::parse(composite, at, substitute, &mut elements)?;
                }
            }
            (b'E', b'3') => {
                // EAN-13 with a 2- or 5-digit add-on: the GTIN is the first 13.
                let main = if matches!(data.len(), 15 | 18) {
                    &data[..13]
                } else {
                    data
                };
                gtin(main, base, &[13], "EAN-13 with add-on", &mut elements)?
            }
            (b'I', _) if data.len() == 14 => gtin(data, base, &[14], "ITF-14", &mut elements)?,
            _ if digital_link::looks_like_gs1(data) => {
                digital_link::parse(data, base, &mut elements)?
            }
            _ => {
                return Ok(Scan {
                    symbology,
                    content: Content::Other(data),
                })
            }
        },
    }
    validate::message(&elements)?;
    Ok(Scan {
        symbology,
        content: Content::Gs1(elements),
    })
}

/// A GTIN carried by EAN/UPC/ITF-14: zero-padded to 14 digits as AI (01),
/// check digit verified.
fn gtin<'a>(
    data: &'a [u8],
    base: usize,
    lengths: &[usize],
    symbology: &'static str,
    out: &mut ElementString<'a>,
) -> Result<(), Gs1Error> {
    if !lengths.contains(&data.len()) || !data.iter().all(u8::is_ascii_digit) {
        return Err(Gs1Error::at(
            None,
            base,
            ErrorKind::BadGtinCarrier {
                symbology,
                found: data.len(),
            },
        ));
    }
    let entry = dictionary::lookup(b"01").expect("AI 01 is in every dictionary");
    let value: Cow<'a, str> = if data.len() == 14 {
        Cow::Borrowed(validate::value(entry, data, base)?)
    } else {
        let mut padded = [b'0'; 14];
        padded[14 - data.len()..].copy_from_slice(data);
        Cow::Owned(validate::value(entry, &padded, base)?.to_owned())
    };
    out.push(Element {
        entry,
        value,
        offset: base,
    });
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
