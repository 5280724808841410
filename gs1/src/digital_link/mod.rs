//! GS1 Digital Link URIs: `https://id.gs1.org/01/09506000134352/10/ABC123?17=251231`.
//!
//! Parsing is as strict as GS1's reference implementation, the GS1 Barcode
//! Syntax Engine (`src/c-lib/dl.c` of `gs1/gs1-syntax-engine`), with its
//! default settings: no convenience alphas (`/gtin/`), no zero-suppressed
//! GTINs in the path, unknown AIs never allowed. It allocates nothing unless
//! a value needs percent-decoding (then once for that value) or the URI is
//! refused.

mod parse;
mod percent;
mod qualifiers;
mod render;

pub(crate) use parse::{is_uri, looks_like_gs1, parse};
pub use render::render;

#[cfg(test)]
pub(crate) mod test_util {
    //! Helpers for the Digital Link tests; many cases come from dl.c's unit
    //! tests (test_dl_*).

    use super::{parse, render};
    use crate::element::ElementString;
    use crate::error::{ErrorKind, Gs1Error};
    use crate::{bracketed, parse_scan, validate};

    pub(crate) fn as_bracketed(elements: &ElementString<'_>) -> String {
        elements
            .iter()
            .map(|e| format!("({}){}", e.ai(), e.value()))
            .collect()
    }

    /// A URI parsed end to end (as scanned without an AIM identifier).
    pub(crate) fn ok(uri: &str) -> String {
        let scan = parse_scan(uri.as_bytes(), None).unwrap_or_else(|e| panic!("{uri}: {e}"));
        as_bracketed(scan.content.gs1().expect("GS1 content"))
    }

    /// The error of the Digital Link parser (message rules included).
    pub(crate) fn err(uri: &str) -> Gs1Error {
        let mut out = ElementString::default();
        match parse(uri.as_bytes(), 0, &mut out).and_then(|()| validate::message(&out)) {
            Ok(()) => panic!("{uri} was accepted as {}", as_bracketed(&out)),
            Err(e) => e,
        }
    }

    pub(crate) fn dl_problem(uri: &str) -> String {
        match err(uri).kind {
            ErrorKind::DigitalLink(problem) => problem,
            other => panic!("{uri}: expected a Digital Link error, got {other:?}"),
        }
    }

    pub(crate) fn elements(bracketed_form: &str) -> ElementString<'_> {
        let mut out = ElementString::default();
        bracketed::parse(bracketed_form.as_bytes(), 0, &mut out).unwrap();
        out
    }

    pub(crate) fn rendered(stem: &str, bracketed_form: &str) -> Result<String, Gs1Error> {
        render(&elements(bracketed_form), stem)
    }
}
