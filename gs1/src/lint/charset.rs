//! The character sets of the component types: N (digits), X (CSET 82),
//! Y (CSET 39) and Z (CSET 64, URL-safe base64 with `=` padding), and the
//! CSET 32 alphabet of check character pairs.

use super::{err, CharSet, LintError, Problem};

pub(super) fn digits(d: &[u8]) -> Result<(), LintError> {
    match d.iter().position(|b| !b.is_ascii_digit()) {
        Some(pos) => err(pos, Problem::NotDigit { found: d[pos] }),
        None => Ok(()),
    }
}

pub(super) fn charset(d: &[u8], allowed: fn(u8) -> bool, set: CharSet) -> Result<(), LintError> {
    match d.iter().position(|&b| !allowed(b)) {
        Some(pos) => err(pos, Problem::InvalidCharacter { found: d[pos], set }),
        None => Ok(()),
    }
}

/// CSET 82: `!"%&'()*+,-./0-9:;<=>?A-Z_a-z`.
pub(super) fn is_cset82(b: u8) -> bool {
    matches!(b, b'!' | b'"' | b'%'..=b'?' | b'A'..=b'Z' | b'_' | b'a'..=b'z')
}

/// CSET 39: `#-/0-9A-Z`.
pub(super) fn is_cset39(b: u8) -> bool {
    matches!(b, b'#' | b'-' | b'/' | b'0'..=b'9' | b'A'..=b'Z')
}

/// CSET 64: `A-Za-z0-9-_` (the `=` padding is handled separately).
pub(super) fn is_cset64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// CSET 32, in weight order; used for the check character pair.
pub(super) const CSET32: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// CSET 82 in weight order, for the check character pair calculation.
pub(super) const CSET82_ORDER: &[u8; 82] =
    b"!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

pub(super) fn cset64(d: &[u8]) -> Result<(), LintError> {
    // Up to two trailing '=' are padding, and with them the length must be a
    // multiple of three (reference: lint_cset64.c). An '=' anywhere else is
    // just a character outside CSET 64.
    let pads = d.iter().rev().take_while(|&&b| b == b'=').count();
    let len = d.len() - pads;
    if pads > 2 || (pads > 0 && !d.len().is_multiple_of(3)) {
        return err(len, Problem::BadPadding);
    }
    charset(&d[..len], is_cset64, CharSet::Cset64)
}

#[cfg(test)]
mod tests {
    use crate::lint::test_util::*;

    #[test]
    fn digits() {
        ok(Linter::Digits, "");
        ok(Linter::Digits, "0123456789");
        bad(Linter::Digits, "/", 0, not_digit(b'/'));
        bad(Linter::Digits, ":", 0, not_digit(b':'));
        bad(Linter::Digits, "0a", 1, not_digit(b'a'));
    }

    #[test]
    fn cset82() {
        let set = CharSet::Cset82;
        ok(Linter::Cset82, "");
        ok(Linter::Cset82, "!\"%&'()*+,-/012345");
        ok(Linter::Cset82, "6789:;<=>?ABCDEFGHIJ");
        ok(Linter::Cset82, "KLMNOPQRSTUVWXYZ_abc");
        ok(Linter::Cset82, "defghijklmnopqrstuvwxyz.");
        for c in [
            b' ', b'#', b'$', b'@', b'[', b'\\', b']', b'^', b'`', b'{', b'|', b'}', b'~', 0x7f,
            0x01, 0x80,
        ] {
            let s = [b'A', c];
            assert_eq!(
                check(Linter::Cset82, &s),
                Err(LintError {
                    offset: 1,
                    problem: Problem::InvalidCharacter { found: c, set }
                })
            );
        }
        bad(
            Linter::Cset82,
            "AB C",
            2,
            Problem::InvalidCharacter { found: b' ', set },
        );
    }

    #[test]
    fn cset39() {
        let set = CharSet::Cset39;
        ok(Linter::Cset39, "");
        ok(Linter::Cset39, "#-/0123456789ABCDEFG");
        ok(Linter::Cset39, "HIJKLMNOPQRSTUVWXYZ");
        bad(
            Linter::Cset39,
            "ABC_",
            3,
            Problem::InvalidCharacter { found: b'_', set },
        );
        bad(
            Linter::Cset39,
            "_ABC",
            0,
            Problem::InvalidCharacter { found: b'_', set },
        );
        bad(
            Linter::Cset39,
            "a",
            0,
            Problem::InvalidCharacter { found: b'a', set },
        );
        bad(
            Linter::Cset39,
            "*",
            0,
            Problem::InvalidCharacter { found: b'*', set },
        );
    }

    #[test]
    fn cset64() {
        let set = CharSet::Cset64;
        ok(Linter::Cset64, "");
        ok(Linter::Cset64, "1");
        ok(Linter::Cset64, "12");
        ok(Linter::Cset64, "123");
        ok(Linter::Cset64, "12=");
        ok(Linter::Cset64, "1==");
        ok(Linter::Cset64, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
        ok(Linter::Cset64, "abcdefghijklmnopqrstuvwxyz");
        ok(Linter::Cset64, "0123456789-_");
        bad(Linter::Cset64, "===", 0, Problem::BadPadding);
        bad(Linter::Cset64, "=", 0, Problem::BadPadding);
        bad(Linter::Cset64, "123=", 3, Problem::BadPadding);
        bad(Linter::Cset64, "12==", 2, Problem::BadPadding);
        bad(Linter::Cset64, "1===", 1, Problem::BadPadding);
        bad(Linter::Cset64, "1234=", 4, Problem::BadPadding);
        bad(Linter::Cset64, "12====", 2, Problem::BadPadding);
        // '=' is only padding at the end.
        bad(
            Linter::Cset64,
            "=23",
            0,
            Problem::InvalidCharacter { found: b'=', set },
        );
        bad(
            Linter::Cset64,
            "12=4",
            2,
            Problem::InvalidCharacter { found: b'=', set },
        );
        bad(
            Linter::Cset64,
            "AB C",
            2,
            Problem::InvalidCharacter { found: b' ', set },
        );
        bad(
            Linter::Cset64,
            "+",
            0,
            Problem::InvalidCharacter { found: b'+', set },
        );
        bad(
            Linter::Cset64,
            "/",
            0,
            Problem::InvalidCharacter { found: b'/', set },
        );
    }
}
