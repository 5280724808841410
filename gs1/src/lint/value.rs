//! Checks on the shape of a value: zeros, hyphens, non-digits, leading
//! zeros, coordinates, percent-encoding, piece of total, position in a
//! sequence, importer index.

use super::charset::{charset, digits, is_cset64};
use super::{err, CharSet, LintError, Problem};

pub(super) fn hasnondigit(d: &[u8]) -> Result<(), LintError> {
    if d.iter().any(|b| !b.is_ascii_digit()) {
        Ok(())
    } else {
        err(0, Problem::AllDigits)
    }
}

/// Non-empty and every byte equal to `want`.
pub(super) fn all_of(d: &[u8], want: u8, problem: Problem) -> Result<(), LintError> {
    if d.is_empty() || d.iter().any(|&b| b != want) {
        err(0, problem)
    } else {
        Ok(())
    }
}

pub(super) fn nonzero(d: &[u8]) -> Result<(), LintError> {
    digits(d)?;
    if d.iter().all(|&b| b == b'0') {
        return err(0, Problem::IsZero);
    }
    Ok(())
}

pub(super) fn nozeroprefix(d: &[u8]) -> Result<(), LintError> {
    if d.first() == Some(&b'0') {
        return err(0, Problem::ZeroPrefix);
    }
    digits(d)
}

pub(super) fn importeridx(d: &[u8]) -> Result<(), LintError> {
    if d.len() != 1 {
        return err(
            0,
            Problem::WrongLength {
                expected: 1,
                found: d.len(),
            },
        );
    }
    // Same alphabet as CSET 64 without padding: - 0-9 A-Z _ a-z.
    charset(d, is_cset64, CharSet::ImporterIndex)
}

pub(super) fn coordinate(d: &[u8], max: u64, out_of_range: Problem) -> Result<(), LintError> {
    if d.len() != 10 {
        return err(
            0,
            Problem::WrongLength {
                expected: 10,
                found: d.len(),
            },
        );
    }
    digits(d)?;
    if decimal(d) > max {
        return err(0, out_of_range);
    }
    Ok(())
}

/// The value of a run of ASCII digits (caller has checked them; at most 19).
fn decimal(d: &[u8]) -> u64 {
    d.iter()
        .fold(0u64, |acc, &b| acc * 10 + u64::from(b.wrapping_sub(b'0')))
}

pub(super) fn pcenc(d: &[u8]) -> Result<(), LintError> {
    let mut pos = 0;
    while pos < d.len() {
        if d[pos] == b'%' {
            // Like the reference, a '%' needs two characters after it and
            // both must be hexadecimal digits.
            if pos + 2 >= d.len()
                || !d[pos + 1].is_ascii_hexdigit()
                || !d[pos + 2].is_ascii_hexdigit()
            {
                return err(pos, Problem::BadPercentEncoding);
            }
            pos += 3;
        } else {
            pos += 1;
        }
    }
    Ok(())
}

pub(super) fn pieceoftotal(d: &[u8]) -> Result<(), LintError> {
    digits(d)?;
    if d.is_empty() || !d.len().is_multiple_of(2) {
        return err(0, Problem::PieceOfTotalLength);
    }
    let (piece, total) = d.split_at(d.len() / 2);
    if piece.iter().all(|&b| b == b'0') {
        return err(0, Problem::ZeroPieceNumber);
    }
    if total.iter().all(|&b| b == b'0') {
        return err(piece.len(), Problem::ZeroTotalPieces);
    }
    // Equal widths, so byte-wise comparison is numeric comparison.
    if piece > total {
        return err(0, Problem::PieceExceedsTotal);
    }
    Ok(())
}

pub(super) fn posinseqslash(d: &[u8]) -> Result<(), LintError> {
    let slash = d.iter().position(|b| !b.is_ascii_digit());
    let slash = match slash {
        Some(s) if s > 0 && d[s] == b'/' => s,
        _ => return err(0, Problem::PositionMalformed),
    };
    let (position, end) = (&d[..slash], &d[slash + 1..]);
    if end.is_empty() || end.iter().any(|b| !b.is_ascii_digit()) {
        return err(0, Problem::PositionMalformed);
    }
    if position[0] == b'0' {
        return err(0, Problem::ZeroPrefix);
    }
    if end[0] == b'0' {
        return err(slash + 1, Problem::ZeroPrefix);
    }
    // No leading zeros, so the longer number is the greater one.
    if (position.len(), position) > (end.len(), end) {
        return err(0, Problem::PositionExceedsEnd);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::lint::test_util::*;

    #[test]
    fn hasnondigit() {
        ok(Linter::Hasnondigit, "/");
        ok(Linter::Hasnondigit, ":123456789");
        ok(Linter::Hasnondigit, "012345678/");
        ok(Linter::Hasnondigit, "1A1");
        bad(Linter::Hasnondigit, "", 0, Problem::AllDigits);
        bad(Linter::Hasnondigit, "0123456789", 0, Problem::AllDigits);
        bad(Linter::Hasnondigit, "111", 0, Problem::AllDigits);
    }

    #[test]
    fn hyphen_zero() {
        ok(Linter::Hyphen, "-");
        ok(Linter::Hyphen, "--");
        bad(Linter::Hyphen, "", 0, Problem::NotHyphens);
        bad(Linter::Hyphen, "X", 0, Problem::NotHyphens);
        bad(Linter::Hyphen, "-X", 0, Problem::NotHyphens);

        ok(Linter::Zero, "0");
        ok(Linter::Zero, "000");
        bad(Linter::Zero, "", 0, Problem::NotZero);
        bad(Linter::Zero, "010", 0, Problem::NotZero);
        bad(Linter::Zero, "0X", 0, Problem::NotZero);
    }

    #[test]
    fn importeridx() {
        for s in ["-", "0", "9", "A", "Z", "_", "a", "z"] {
            ok(Linter::Importeridx, s);
        }
        bad(
            Linter::Importeridx,
            "",
            0,
            Problem::WrongLength {
                expected: 1,
                found: 0,
            },
        );
        bad(
            Linter::Importeridx,
            "AA",
            0,
            Problem::WrongLength {
                expected: 1,
                found: 2,
            },
        );
        for c in [
            b'!', b'#', b'.', b'/', b':', b'=', b'@', b'`', b'{', b'~', 0x80,
        ] {
            assert_eq!(
                check(Linter::Importeridx, &[c]),
                Err(LintError {
                    offset: 0,
                    problem: Problem::InvalidCharacter {
                        found: c,
                        set: CharSet::ImporterIndex
                    }
                })
            );
        }
    }

    #[test]
    fn latitude_longitude() {
        ok(Linter::Latitude, "0279085848");
        ok(Linter::Latitude, "0000000000");
        ok(Linter::Latitude, "1800000000");
        bad(
            Linter::Latitude,
            "027908584",
            0,
            Problem::WrongLength {
                expected: 10,
                found: 9,
            },
        );
        bad(
            Linter::Latitude,
            "02790858481",
            0,
            Problem::WrongLength {
                expected: 10,
                found: 11,
            },
        );
        bad(
            Linter::Latitude,
            "1800000001",
            0,
            Problem::LatitudeOutOfRange,
        );
        bad(Linter::Latitude, "18000x0000", 5, not_digit(b'x'));

        ok(Linter::Longitude, "3015297971");
        ok(Linter::Longitude, "0000000000");
        ok(Linter::Longitude, "3600000000");
        bad(
            Linter::Longitude,
            "301529797",
            0,
            Problem::WrongLength {
                expected: 10,
                found: 9,
            },
        );
        bad(
            Linter::Longitude,
            "3600000001",
            0,
            Problem::LongitudeOutOfRange,
        );
        bad(
            Linter::Longitude,
            "9999999999",
            0,
            Problem::LongitudeOutOfRange,
        );
    }

    #[test]
    fn nonzero_nozeroprefix() {
        for s in ["1", "01", "10", "001", "0009", "9000", "01234567890"] {
            ok(Linter::Nonzero, s);
        }
        for s in ["", "0", "00", "0000"] {
            bad(Linter::Nonzero, s, 0, Problem::IsZero);
        }
        bad(Linter::Nonzero, "9A99", 1, not_digit(b'A'));

        for s in ["", "1", "10", "210", "1234567890"] {
            ok(Linter::Nozeroprefix, s);
        }
        for s in ["0", "01", "0123"] {
            bad(Linter::Nozeroprefix, s, 0, Problem::ZeroPrefix);
        }
        bad(Linter::Nozeroprefix, "A999", 0, not_digit(b'A'));
        bad(Linter::Nozeroprefix, "999A", 3, not_digit(b'A'));
    }

    #[test]
    fn pcenc() {
        for s in [
            "",
            "A",
            "%00",
            "%FF",
            "%Ff",
            "%fF",
            "ABC%20",
            "ABC%20XYZ",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ%00+12345",
        ] {
            ok(Linter::Pcenc, s);
        }
        bad(Linter::Pcenc, "%fg", 0, Problem::BadPercentEncoding);
        bad(Linter::Pcenc, "%gf", 0, Problem::BadPercentEncoding);
        bad(Linter::Pcenc, "%g", 0, Problem::BadPercentEncoding);
        bad(Linter::Pcenc, "%", 0, Problem::BadPercentEncoding);
        bad(Linter::Pcenc, "ABC%fgXYZ", 3, Problem::BadPercentEncoding);
        bad(Linter::Pcenc, "ABC%gXYZ", 3, Problem::BadPercentEncoding);
        bad(Linter::Pcenc, "ABC%2", 3, Problem::BadPercentEncoding);
    }

    #[test]
    fn pieceoftotal() {
        for s in [
            "11", "13", "99", "0101", "0203", "9899", "001001", "998999", "999999",
        ] {
            ok(Linter::Pieceoftotal, s);
        }
        for s in ["", "1", "111", "11111"] {
            bad(Linter::Pieceoftotal, s, 0, Problem::PieceOfTotalLength);
        }
        bad(Linter::Pieceoftotal, "5x555555", 1, not_digit(b'x'));
        bad(Linter::Pieceoftotal, "01", 0, Problem::ZeroPieceNumber);
        bad(Linter::Pieceoftotal, "0000", 0, Problem::ZeroPieceNumber);
        bad(Linter::Pieceoftotal, "10", 1, Problem::ZeroTotalPieces);
        bad(Linter::Pieceoftotal, "001000", 3, Problem::ZeroTotalPieces);
        for s in [
            "21", "98", "0908", "1009", "9998", "002001", "101100", "999998",
        ] {
            bad(Linter::Pieceoftotal, s, 0, Problem::PieceExceedsTotal);
        }
    }

    #[test]
    fn posinseqslash() {
        for s in [
            "1/1", "1/3", "9/10", "10/10", "1/100", "100/100", "998/999", "999/999",
        ] {
            ok(Linter::Posinseqslash, s);
        }
        for s in [
            "", "/", "1", "x", "1/", "x/", "1//", "/1", "/x", "//1", "//", "1//2", "x/y", "1/x",
        ] {
            bad(Linter::Posinseqslash, s, 0, Problem::PositionMalformed);
        }
        bad(Linter::Posinseqslash, "0/1", 0, Problem::ZeroPrefix);
        bad(Linter::Posinseqslash, "0/0", 0, Problem::ZeroPrefix);
        bad(Linter::Posinseqslash, "01/02", 0, Problem::ZeroPrefix);
        bad(Linter::Posinseqslash, "1/0", 2, Problem::ZeroPrefix);
        bad(Linter::Posinseqslash, "1/02", 2, Problem::ZeroPrefix);
        for s in ["2/1", "9/8", "10/9", "11/10", "100/99", "999/998"] {
            bad(Linter::Posinseqslash, s, 0, Problem::PositionExceedsEnd);
        }
    }
}
