//! IBAN (ISO 13616): country code, length and the mod 97-10 check.

use super::{err, tables, CharSet, LintError, Problem};

const IBAN_MIN_LENGTH: usize = 10;
const IBAN_MAX_LENGTH: usize = 34;

pub(super) fn iban(d: &[u8]) -> Result<(), LintError> {
    if d.len() < 4 {
        return err(
            0,
            Problem::TooShort {
                min: IBAN_MIN_LENGTH + 1,
                found: d.len(),
            },
        );
    }
    if !tables::contains(tables::ISO3166_ALPHA2, &d[..2]) {
        return err(0, Problem::IbanCountry);
    }
    if d.len() > IBAN_MAX_LENGTH {
        return err(
            0,
            Problem::TooLong {
                max: IBAN_MAX_LENGTH,
                found: d.len(),
            },
        );
    }
    // The reference rejects lengths of 10 or less (it sets no clear minimum,
    // only enough room for the check characters).
    if d.len() <= IBAN_MIN_LENGTH {
        return err(
            0,
            Problem::TooShort {
                min: IBAN_MIN_LENGTH + 1,
                found: d.len(),
            },
        );
    }
    // ISO 13616 mod 97-10: move the first four characters to the end, read
    // letters as 10..35, and the whole number must be 1 mod 97.
    let mut rem: u32 = 0;
    for i in (4..d.len()).chain(0..4) {
        let b = d[i];
        rem = match b {
            b'0'..=b'9' => (rem * 10 + u32::from(b - b'0')) % 97,
            b'A'..=b'Z' => (rem * 100 + u32::from(b - b'A') + 10) % 97,
            _ => {
                return err(
                    i,
                    Problem::InvalidCharacter {
                        found: b,
                        set: CharSet::Iban,
                    },
                )
            }
        };
    }
    if rem != 1 {
        return err(2, Problem::IbanChecksum);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::lint::test_util::*;

    #[test]
    fn iban() {
        for s in [
            "FR7630006000011234567890189",
            "DE91100000000123456789",
            "GR9608100010000001234567890",
            "MU43BOMM0101123456789101000MUR",
            "GB98MIDL07009312345678",
            "BE71096123456769",
            "LC14BOSL123456789012345678901234",
            "MT90MALT011000012345MTLCAST001SABC", // 34: the longest allowed
        ] {
            ok(Linter::Iban, s);
        }
        bad(Linter::Iban, "BE71096123456760", 2, Problem::IbanChecksum);
        bad(
            Linter::Iban,
            "MT90MALT011000012345MTLCAST001SAB0",
            2,
            Problem::IbanChecksum,
        );
        bad(Linter::Iban, "", 0, Problem::TooShort { min: 11, found: 0 });
        bad(
            Linter::Iban,
            "BE71",
            0,
            Problem::TooShort { min: 11, found: 4 },
        );
        bad(
            Linter::Iban,
            "MTXXMALT011000012345MTLCAST001SABCD",
            0,
            Problem::TooLong { max: 34, found: 35 },
        );
        bad(
            Linter::Iban,
            "LC14BOSLxx3456789012345678901230",
            8,
            Problem::InvalidCharacter {
                found: b'x',
                set: CharSet::Iban,
            },
        );
        bad(Linter::Iban, "XX361234567890", 0, Problem::IbanCountry);
    }
}
