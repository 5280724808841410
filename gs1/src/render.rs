//! Writing an element string back out: bracketed for people, unbracketed
//! (separators only where needed) for barcodes. Digital Link URIs are
//! rendered in `digital_link`.

use super::element::ElementString;

/// `(01)09506000134352(10)ABC123`, with `(` in values escaped as `\(`.
pub fn render_bracketed(elements: &ElementString<'_>) -> String {
    let mut out = String::new();
    for e in elements.iter() {
        out.push('(');
        out.push_str(e.ai());
        out.push(')');
        for c in e.value().chars() {
            if c == '(' {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out
}

/// The AIs and values run together, `separator` (GS for a barcode, `^` for
/// people) after each variable-length value that is not last. No leading
/// FNC1: symbologies carry it in their own way.
pub fn render_unbracketed(elements: &ElementString<'_>, separator: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let count = elements.len();
    for (i, e) in elements.iter().enumerate() {
        out.extend_from_slice(e.ai().as_bytes());
        out.extend_from_slice(e.value().as_bytes());
        if e.entry.fnc1_required && i + 1 < count {
            out.push(separator);
        }
    }
    out
}
