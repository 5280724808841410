//! The bracketed human-readable form, `(01)09506000134352(10)ABC123`, as
//! people type it and labels print it. `\(` stands for a literal `(` in a
//! value.

use std::borrow::Cow;

use super::dictionary;
use super::element::{Element, ElementString};
use super::error::{ErrorKind, Gs1Error};
use super::validate;

pub(crate) fn parse<'a>(
    data: &'a [u8],
    base: usize,
    out: &mut ElementString<'a>,
) -> Result<(), Gs1Error> {
    let fail = |ai, at: usize, problem| Gs1Error::at(ai, base + at, ErrorKind::Bracketed(problem));
    if data.is_empty() {
        return Err(Gs1Error::at(None, base, ErrorKind::Empty));
    }
    let mut pos = 0;
    while pos < data.len() {
        if data[pos] != b'(' {
            return Err(fail(None, pos, "expected `(` to start an AI"));
        }
        let ai_start = pos + 1;
        let close = data[ai_start..]
            .iter()
            .position(|&b| b == b')')
            .ok_or_else(|| fail(None, pos, "the AI is not closed with `)`"))?;
        let ai = &data[ai_start..ai_start + close];
        let entry = dictionary::lookup(ai).ok_or_else(|| {
            Gs1Error::at(
                None,
                base + ai_start,
                ErrorKind::UnknownAi {
                    found: String::from_utf8_lossy(ai).into_owned(),
                },
            )
        })?;
        let start = ai_start + close + 1;
        let (value, end) = value_until_next_ai(data, start);
        if value.contains(&super::unbracketed::GS) || value.contains(&b'^') {
            return Err(fail(
                Some(entry.ai),
                start,
                "a value may not contain a separator (GS or ^) in bracketed form",
            ));
        }
        let value = match value {
            Cow::Borrowed(raw) => Cow::Borrowed(validate::value(entry, raw, base + start)?),
            Cow::Owned(raw) => Cow::Owned(validate::value(entry, &raw, base + start)?.to_owned()),
        };
        out.push(Element {
            entry,
            value,
            offset: base + start,
        });
        pos = end;
    }
    Ok(())
}

/// The value starting at `start`: up to the next `(` that is not escaped
/// as `\(`. Borrowed unless an escape had to be removed.
fn value_until_next_ai(data: &[u8], start: usize) -> (Cow<'_, [u8]>, usize) {
    let mut owned: Option<Vec<u8>> = None;
    let mut run = start;
    let mut i = start;
    while i < data.len() {
        if data[i] == b'(' {
            if i > start && data[i - 1] == b'\\' {
                let buf = owned.get_or_insert_with(Vec::new);
                buf.extend_from_slice(&data[run..i - 1]);
                buf.push(b'(');
                run = i + 1;
            } else {
                break;
            }
        }
        i += 1;
    }
    match owned {
        None => (Cow::Borrowed(&data[start..i]), i),
        Some(mut buf) => {
            buf.extend_from_slice(&data[run..i]);
            (Cow::Owned(buf), i)
        }
    }
}
