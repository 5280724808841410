//! Check digits: the GS1 mod-10 check digit (`csum`) and the
//! alphanumeric check character pair (`csumalpha`).

use super::charset::{charset, digits, is_cset82, CSET32, CSET82_ORDER};
use super::{err, CharSet, LintError, Problem};

/// The GS1 mod-10 check digit for `body` (all ASCII digits).
fn mod10_check_digit(body: &[u8]) -> u8 {
    // Weights 3, 1, 3, ... from the right-most body digit.
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    b'0' + ((10 - sum % 10) % 10) as u8
}

/// `body` (ASCII digits: a GTIN, GLN or SSCC without its last digit)
/// with its GS1 mod-10 check digit appended, as when a key is rebuilt
/// from an EPC URN's company prefix and reference.
pub fn with_check_digit(body: &str) -> Option<String> {
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(format!(
        "{body}{}",
        char::from(mod10_check_digit(body.as_bytes()))
    ))
}

pub(super) fn csum(d: &[u8]) -> Result<(), LintError> {
    if d.is_empty() {
        return err(0, Problem::TooShort { min: 1, found: 0 });
    }
    digits(d)?;
    let (body, last) = d.split_at(d.len() - 1);
    let expected = mod10_check_digit(body);
    if last[0] != expected {
        return err(
            d.len() - 1,
            Problem::WrongCheckDigit {
                expected,
                found: last[0],
            },
        );
    }
    Ok(())
}

/// The reference supports check character pairs over at most 97 data
/// characters (it holds the first 97 primes), enough for any AI.
const CSUMALPHA_MAX_DATA: usize = 97;

pub(super) fn csumalpha(d: &[u8]) -> Result<(), LintError> {
    if d.len() < 2 {
        return err(
            0,
            Problem::TooShort {
                min: 2,
                found: d.len(),
            },
        );
    }
    let n = d.len() - 2;
    if n > CSUMALPHA_MAX_DATA {
        return err(
            0,
            Problem::TooLong {
                max: CSUMALPHA_MAX_DATA + 2,
                found: d.len(),
            },
        );
    }
    let (body, pair) = d.split_at(n);
    charset(body, is_cset82, CharSet::Cset82)?;
    if let Some(i) = pair.iter().position(|b| !CSET32.contains(b)) {
        return err(
            n + i,
            Problem::InvalidCharacter {
                found: pair[i],
                set: CharSet::Cset32,
            },
        );
    }
    // GS1 General Specifications 7.9.5: the characters' CSET 82 values,
    // weighted by the primes 2, 3, 5, ... from the right, summed mod 1021;
    // the 10-bit result is split into two 5-bit CSET 32 characters.
    let mut sum: u32 = 0;
    let mut primes = Primes::new();
    for &b in body.iter().rev() {
        let value = CSET82_ORDER.iter().position(|&c| c == b).unwrap_or(0) as u32;
        sum += value * primes.next_prime();
    }
    sum %= 1021;
    let expected = [CSET32[(sum >> 5) as usize], CSET32[(sum & 31) as usize]];
    if pair != expected {
        return err(
            n,
            Problem::WrongCheckPair {
                expected,
                found: [pair[0], pair[1]],
            },
        );
    }
    Ok(())
}

/// Successive primes 2, 3, 5, 7, ... by trial division (at most 97 needed).
struct Primes {
    last: u32,
}

impl Primes {
    fn new() -> Self {
        Primes { last: 1 }
    }

    fn next_prime(&mut self) -> u32 {
        let mut n = self.last + 1;
        while (2..n)
            .take_while(|k| k * k <= n)
            .any(|k| n.is_multiple_of(k))
        {
            n += 1;
        }
        self.last = n;
        n
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::test_util::*;

    #[test]
    fn csum() {
        // GTINs (GenSpecs / GS1 example GTIN 09506000134352).
        ok(Linter::Csum, "09506000134352");
        bad(
            Linter::Csum,
            "09506000134353",
            13,
            Problem::WrongCheckDigit {
                expected: b'2',
                found: b'3',
            },
        );
        ok(Linter::Csum, "02345673"); // GTIN-8
        ok(Linter::Csum, "416000336108"); // GTIN-12
        ok(Linter::Csum, "1234567890128"); // GTIN-13
        ok(Linter::Csum, "12345678901231"); // GTIN-14
        ok(Linter::Csum, "123456789012345675"); // SSCC
        ok(Linter::Csum, "0"); // Nothing to check against: 0 is right.
        bad(
            Linter::Csum,
            "12345673",
            7,
            Problem::WrongCheckDigit {
                expected: b'0',
                found: b'3',
            },
        );
        bad(
            Linter::Csum,
            "416000336109",
            11,
            Problem::WrongCheckDigit {
                expected: b'8',
                found: b'9',
            },
        );
        bad(
            Linter::Csum,
            "1234567890129",
            12,
            Problem::WrongCheckDigit {
                expected: b'8',
                found: b'9',
            },
        );
        bad(
            Linter::Csum,
            "123456789012345670",
            17,
            Problem::WrongCheckDigit {
                expected: b'5',
                found: b'0',
            },
        );
        bad(Linter::Csum, "", 0, Problem::TooShort { min: 1, found: 0 });
        bad(Linter::Csum, " 23456789012345675", 0, not_digit(b' '));
        bad(Linter::Csum, "12345678 012345675", 8, not_digit(b' '));
        bad(Linter::Csum, "12345678901234567 ", 17, not_digit(b' '));
    }

    #[test]
    fn csumalpha() {
        ok(Linter::Csumalpha, "22");
        ok(Linter::Csumalpha, "!22");
        ok(Linter::Csumalpha, "!!22");
        ok(Linter::Csumalpha, "1987654Ad4X4bL5ttr2310c2K");
        ok(Linter::Csumalpha, "12345678901234567890123NT");
        ok(Linter::Csumalpha, "12345_ABCDEFGHIJKLMCP");
        ok(Linter::Csumalpha, "12345_abcdefghijklmN3");
        ok(Linter::Csumalpha, "12345_!\"%&'()*+,-./LC");
        ok(Linter::Csumalpha, "12345_0123456789:;<=>?62");
        ok(Linter::Csumalpha, "7907665Bm8v2AB");
        ok(Linter::Csumalpha, "00000!HV");
        ok(Linter::Csumalpha, "99999zzzzzzzzzzzzzzzzzzT2");
        let len99 = "12345678901234567890123456789012345678901234567890\
                     12345678901234567890123456789012345678901234567HA";
        ok(Linter::Csumalpha, len99);
        bad(
            Linter::Csumalpha,
            "1987654Ad4X4bL5ttr2310cXK",
            23,
            Problem::WrongCheckPair {
                expected: *b"2K",
                found: *b"XK",
            },
        );
        bad(
            Linter::Csumalpha,
            "1987654Ad4X4bL5ttr2310c2X",
            23,
            Problem::WrongCheckPair {
                expected: *b"2K",
                found: *b"2X",
            },
        );
        bad(
            Linter::Csumalpha,
            "33",
            0,
            Problem::WrongCheckPair {
                expected: *b"22",
                found: *b"33",
            },
        );
        bad(
            Linter::Csumalpha,
            "",
            0,
            Problem::TooShort { min: 2, found: 0 },
        );
        bad(
            Linter::Csumalpha,
            "2",
            0,
            Problem::TooShort { min: 2, found: 1 },
        );
        let len100 = "12345678901234567890123456789012345678901234567890\
                      123456789012345678901234567890123456789012345678ZZ";
        bad(
            Linter::Csumalpha,
            len100,
            0,
            Problem::TooLong {
                max: 99,
                found: 100,
            },
        );
        bad(
            Linter::Csumalpha,
            "123456789 1234567890123NT",
            9,
            Problem::InvalidCharacter {
                found: b' ',
                set: CharSet::Cset82,
            },
        );
        bad(
            Linter::Csumalpha,
            "12345678901234567890123 T",
            23,
            Problem::InvalidCharacter {
                found: b' ',
                set: CharSet::Cset32,
            },
        );
        bad(
            Linter::Csumalpha,
            "12345678901234567890123N1",
            24,
            Problem::InvalidCharacter {
                found: b'1',
                set: CharSet::Cset32,
            },
        );
    }
}
