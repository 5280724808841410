//! Unbracketed element strings, as barcodes carry them: AIs and values run
//! together, FNC1 (sent by scanners as GS, 0x1D) ends each variable-length
//! value that is not last.

use super::dictionary;
use super::element::{Element, ElementString};
use super::error::{ErrorKind, Gs1Error};
use super::validate;

/// The byte scanners send for FNC1.
pub const GS: u8 = 0x1D;

/// Parses `data` (which started at byte `base` of the input) into `out`.
/// `substitute` is a scanner's stand-in for GS, if it cannot send GS.
pub(crate) fn parse<'a>(
    data: &'a [u8],
    base: usize,
    substitute: Option<u8>,
    out: &mut ElementString<'a>,
) -> Result<(), Gs1Error> {
    let is_separator = |b: u8| b == GS || Some(b) == substitute;
    let mut pos = usize::from(data.first().is_some_and(|&b| is_separator(b)));
    if pos == data.len() {
        return Err(Gs1Error::at(None, base, ErrorKind::Empty));
    }
    while pos < data.len() {
        let rest = &data[pos..];
        if is_separator(rest[0]) {
            return Err(Gs1Error::at(
                None,
                base + pos,
                ErrorKind::UnexpectedSeparator,
            ));
        }
        let entry = dictionary::lookup_prefix(rest).ok_or_else(|| {
            let shown = rest.iter().take(4).take_while(|&&b| !is_separator(b));
            Gs1Error::at(
                None,
                base + pos,
                ErrorKind::UnknownAi {
                    found: shown.map(|&b| char::from(b)).collect(),
                },
            )
        })?;
        let start = pos + entry.ai.len();
        let until_separator = data[start..]
            .iter()
            .position(|&b| is_separator(b))
            .map_or(data.len(), |i| start + i);
        let end = if entry.fnc1_required {
            until_separator
        } else {
            until_separator.min(start + entry.fixed_length)
        };
        let value = validate::value(entry, &data[start..end], base + start)?;
        out.push(Element {
            entry,
            value: value.into(),
            offset: base + start,
        });
        pos = end;
        // A separator after a predefined-length value is allowed, not needed.
        if pos < data.len() && is_separator(data[pos]) {
            pos += 1;
        }
    }
    Ok(())
}
