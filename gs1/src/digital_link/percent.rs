//! The percent codec of Digital Link URIs, as dl.c has it: `%XX` escapes
//! (a `%` not followed by two hex digits stays as it is, `%00` is refused),
//! and `+` for a space in the query only.
//!
//! Decoding borrows when nothing needs decoding and allocates the decoded
//! value once when something does; encoding writes into the caller's
//! string.

use std::borrow::Cow;

/// The value of an ASCII hex digit.
fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Whether `raw` has anything to decode: a `%`, or a `+` in the query.
fn needs_decoding(raw: &[u8], query: bool) -> bool {
    if query {
        memchr::memchr2(b'%', b'+', raw).is_some()
    } else {
        memchr::memchr(b'%', raw).is_some()
    }
}

/// The decoded bytes of `raw`, one by one; `Err` gives the offset of a
/// `%00`, which dl.c refuses.
pub(super) fn decoded(raw: &[u8], query: bool) -> impl Iterator<Item = Result<u8, usize>> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        let b = *raw.get(i)?;
        let at = i;
        i += 1;
        Some(match b {
            b'%' if at + 2 < raw.len() => match (hex(raw[at + 1]), hex(raw[at + 2])) {
                (Some(0), Some(0)) => Err(at),
                (Some(h), Some(l)) => {
                    i += 2;
                    Ok(h << 4 | l)
                }
                _ => Ok(b'%'),
            },
            b'+' if query => Ok(b' '),
            b => Ok(b),
        })
    })
}

/// Reverses percent-encoding (and `+` for a space in the query). Borrows
/// when nothing changes; `Err` gives the offset of a `%00`.
pub(super) fn unescape(raw: &[u8], query: bool) -> Result<Cow<'_, [u8]>, usize> {
    if !needs_decoding(raw, query) {
        return Ok(Cow::Borrowed(raw));
    }
    let out = decoded(raw, query).collect::<Result<Vec<u8>, usize>>()?;
    if out == raw {
        Ok(Cow::Borrowed(raw))
    } else {
        Ok(Cow::Owned(out))
    }
}

/// Percent-encodes `value` as dl.c does: letters, digits and `-._~` stay,
/// a space in the query becomes `+`, everything else becomes `%XX`.
pub(super) fn escape(out: &mut String, value: &str, query: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else if b == b' ' && query {
            out.push('+');
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0F)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // dl.c, test_dl_URIunescape: (input, path result, query result).
    #[test]
    fn dl_c_unescape() {
        let cases: &[(&[u8], &[u8], &[u8])] = &[
            (b"", b"", b""),
            (b"test", b"test", b"test"),
            (b"+", b"+", b" "),
            (b"%20", b" ", b" "),
            (b"%20AB", b" AB", b" AB"),
            (b"A%20B", b"A B", b"A B"),
            (b"AB%20", b"AB ", b"AB "),
            (b"ABC%2", b"ABC%2", b"ABC%2"),
            (b"ABCD%", b"ABCD%", b"ABCD%"),
            (b"A%20%20B", b"A  B", b"A  B"),
            (b"A%01B", b"A\x01B", b"A\x01B"),
            (b"A%ffB", b"A\xffB", b"A\xffB"),
            (b"A%FfB", b"A\xffB", b"A\xffB"),
            (b"A%4FB", b"AOB", b"AOB"),
            (b"A%4fB", b"AOB", b"AOB"),
            (b"A%4gB", b"A%4gB", b"A%4gB"),
            (b"A%G4B", b"A%G4B", b"A%G4B"),
        ];
        for (input, path, query) in cases {
            assert_eq!(&*unescape(input, false).unwrap(), *path, "{input:?}");
            assert_eq!(&*unescape(input, true).unwrap(), *query, "{input:?}");
        }
        assert_eq!(unescape(b"A%00B", false), Err(1));
    }

    // dl.c, test_dl_URIescape: (input, path result, query result).
    #[test]
    fn dl_c_escape() {
        let cases = [
            (
                "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            ),
            (
                "abcdefghijklmnopqrstuvwxyz",
                "abcdefghijklmnopqrstuvwxyz",
                "abcdefghijklmnopqrstuvwxyz",
            ),
            ("0123456789-._~", "0123456789-._~", "0123456789-._~"),
            (
                "!\"#%&'()*+,/:;<=>?",
                "%21%22%23%25%26%27%28%29%2A%2B%2C%2F%3A%3B%3C%3D%3E%3F",
                "%21%22%23%25%26%27%28%29%2A%2B%2C%2F%3A%3B%3C%3D%3E%3F",
            ),
            (" ", "%20", "+"),
            ("A B", "A%20B", "A+B"),
            ("A  B", "A%20%20B", "A++B"),
        ];
        for (input, path, query) in cases {
            let (mut p, mut q) = (String::new(), String::new());
            escape(&mut p, input, false);
            escape(&mut q, input, true);
            assert_eq!((p.as_str(), q.as_str()), (path, query), "{input}");
        }
    }
}
