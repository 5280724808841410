//! GS1 Digital Link URIs: `https://id.gs1.org/01/09506000134352/10/ABC123?17=251231`.

use super::element::ElementString;
use super::error::{ErrorKind, Gs1Error};

/// Whether `data` starts like a web URI (`http://` or `https://`).
pub(crate) fn is_uri(data: &[u8]) -> bool {
    let lower = |n: usize| data.get(..n).map(|p| p.to_ascii_lowercase());
    lower(7).as_deref() == Some(b"http://") || lower(8).as_deref() == Some(b"https://")
}

/// Whether a URI from a non-GS1 symbology (e.g. a plain QR Code) is a GS1
/// Digital Link: a web URI whose path carries a primary key.
pub(crate) fn looks_like_gs1(data: &[u8]) -> bool {
    let _ = data;
    false
}

pub(crate) fn parse<'a>(
    data: &'a [u8],
    base: usize,
    out: &mut ElementString<'a>,
) -> Result<(), Gs1Error> {
    let _ = (data, out);
    Err(Gs1Error::at(
        None,
        base,
        ErrorKind::DigitalLink("Digital Link is not supported yet".into()),
    ))
}

pub fn render(elements: &ElementString<'_>, stem: &str) -> Result<String, Gs1Error> {
    let _ = (elements, stem);
    Err(Gs1Error::at(
        None,
        0,
        ErrorKind::CannotRender("not yet".into()),
    ))
}
