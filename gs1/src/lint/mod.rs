//! Content checks ("linters") named by the GS1 Barcode Syntax Dictionary.
//!
//! The dictionary attaches a list of linter names to each component of an
//! AI's value (`N14,csum,gcppos2`). Each linter is a pure function over the
//! component's bytes that either accepts it or says what is wrong and where.
//! The character-set checks (N, X, Y, Z) are linters too, so one function
//! decides everything about a component's content.
//!
//! Nothing here allocates: the hot path of every scan runs through it.
//!
//! Behaviour follows GS1's reference implementation, the GS1 Barcode Syntax
//! Engine (<https://github.com/gs1/gs1-syntax-engine>, folder
//! `src/c-lib/syntax/`, files `lint_*.c`): the same inputs are accepted and
//! rejected, and error offsets are the reference's error positions. The code
//! is written afresh in Rust; only code-list data was copied (see
//! [`tables`]). Where the reference can call out to a user-provided lookup
//! service (GS1 Company Prefix, custom code lists) we behave like the
//! reference built without one.

use std::fmt;

mod charset;
mod check_digit;
mod code_list;
mod company_prefix;
mod coupon;
mod date_time;
mod iban;
mod problem;
mod tables;
mod value;

pub use check_digit::with_check_digit;
pub use problem::{CharSet, CodeList, CouponField, CouponIssue, DateIssue, Problem};

use charset::{charset, cset64, digits, is_cset39, is_cset82};
use check_digit::{csum, csumalpha};
use code_list::{in_list, one_of};
use company_prefix::{gcppos1, gcppos2};
use coupon::{couponcode, couponposoffer};
use date_time::{hhmi, two_digit, yymmdd, yyyymmdd};
use iban::iban;
use value::{
    all_of, coordinate, hasnondigit, importeridx, nonzero, nozeroprefix, pcenc, pieceoftotal,
    posinseqslash,
};

/// A named content check from the dictionary.
///
/// The first four are the character sets of the component types
/// (`N` numeric, `X` CSET 82, `Y` CSET 39, `Z` CSET 64); the rest are named
/// in the dictionary after the component type, e.g. `N6,yymmd0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Linter {
    /// Component type `N`: digits only.
    Digits,
    /// Component type `X`: GS1 AI encodable character set 82.
    Cset82,
    /// Component type `Y`: GS1 AI encodable character set 39.
    Cset39,
    /// Component type `Z`: GS1 character set 64 (URL-safe base64, `=` padding).
    Cset64,
    /// `couponcode`: the North American coupon code of AI (8110).
    Couponcode,
    /// `couponposoffer`: the positive offer file coupon code of AI (8112).
    Couponposoffer,
    /// `csum`: the last digit is the GS1 mod-10 check digit.
    Csum,
    /// `csumalpha`: the last two characters are the GS1 check character pair.
    Csumalpha,
    /// `gcppos1`: a GS1 Company Prefix starts at the first character.
    Gcppos1,
    /// `gcppos2`: a GS1 Company Prefix starts at the second character.
    Gcppos2,
    /// `hasnondigit`: at least one character is not a digit.
    Hasnondigit,
    /// `hh`: an hour of the day, 00-23.
    Hh,
    /// `hhmi`: hours and minutes, HHMM.
    Hhmi,
    /// `hyphen`: hyphens only.
    Hyphen,
    /// `iban`: an International Bank Account Number (ISO 13616).
    Iban,
    /// `importeridx`: a one-character importer index.
    Importeridx,
    /// `iso3166`: an ISO 3166-1 numeric country code.
    Iso3166,
    /// `iso3166999`: an ISO 3166-1 numeric country code, or 999.
    Iso3166999,
    /// `iso3166alpha2`: an ISO 3166-1 two-letter country code.
    Iso3166alpha2,
    /// `iso4217`: an ISO 4217 numeric currency code.
    Iso4217,
    /// `iso5218`: an ISO/IEC 5218 sex code (0, 1, 2 or 9).
    Iso5218,
    /// `latitude`: ten digits, 0 to 1800000000.
    Latitude,
    /// `longitude`: ten digits, 0 to 3600000000.
    Longitude,
    /// `mediatype`: a GS1 AIDC media type code.
    Mediatype,
    /// `mi`: a minute, 00-59.
    Mi,
    /// `nonzero`: a number that is not zero.
    Nonzero,
    /// `nozeroprefix`: a number without a leading zero.
    Nozeroprefix,
    /// `packagetype`: a package type code (UN/ECE Recommendation 21).
    Packagetype,
    /// `pcenc`: every `%` starts a two-hex-digit escape.
    Pcenc,
    /// `pieceoftotal`: piece number and total, of equal width, piece ≤ total.
    Pieceoftotal,
    /// `posinseqslash`: a position in a sequence, `3/10`.
    Posinseqslash,
    /// `ss`: a second, 00-59.
    Ss,
    /// `winding`: a winding direction (0, 1 or 9).
    Winding,
    /// `yesno`: 0 (no) or 1 (yes).
    Yesno,
    /// `yymmd0`: a date YYMMDD where DD may be 00 (the whole month).
    Yymmd0,
    /// `yymmdd`: a date YYMMDD.
    Yymmdd,
    /// `yyyymmdd`: a date YYYYMMDD.
    Yyyymmdd,
    /// `zero`: zeros only.
    Zero,
}

/// Why a component failed a linter, and where inside the component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LintError {
    /// Byte offset inside the component where the problem is (0 when the
    /// problem is the component as a whole).
    pub offset: usize,
    /// What is wrong.
    pub problem: Problem,
}

impl fmt::Display for LintError {
    /// Without the component's value at hand this reads "value contains
    /// 'x', which is not a digit (at byte 3)"; callers that have the value
    /// should print the value followed by the [`Problem`] instead.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "value {} (at byte {})", self.problem, self.offset)
    }
}

impl std::error::Error for LintError {}

/// Runs one linter over one component's bytes.
pub fn check(linter: Linter, component: &[u8]) -> Result<(), LintError> {
    let d = component;
    match linter {
        Linter::Digits => digits(d),
        Linter::Cset82 => charset(d, is_cset82, CharSet::Cset82),
        Linter::Cset39 => charset(d, is_cset39, CharSet::Cset39),
        Linter::Cset64 => cset64(d),
        Linter::Couponcode => couponcode(d),
        Linter::Couponposoffer => couponposoffer(d),
        Linter::Csum => csum(d),
        Linter::Csumalpha => csumalpha(d),
        Linter::Gcppos1 => gcppos1(d),
        Linter::Gcppos2 => gcppos2(d),
        Linter::Hasnondigit => hasnondigit(d),
        Linter::Hh => {
            two_digit(d, 23).map_err(|e| e.into_problem(|v| Problem::NotAnHour { value: v }))
        }
        Linter::Hhmi => hhmi(d),
        Linter::Hyphen => all_of(d, b'-', Problem::NotHyphens),
        Linter::Iban => iban(d),
        Linter::Importeridx => importeridx(d),
        Linter::Iso3166 => in_list(d, tables::ISO3166_NUMERIC, CodeList::Iso3166),
        Linter::Iso3166999 => {
            if d == b"999" {
                Ok(())
            } else {
                in_list(d, tables::ISO3166_NUMERIC, CodeList::Iso3166Or999)
            }
        }
        Linter::Iso3166alpha2 => in_list(d, tables::ISO3166_ALPHA2, CodeList::Iso3166Alpha2),
        Linter::Iso4217 => in_list(d, tables::ISO4217_NUMERIC, CodeList::Iso4217),
        Linter::Iso5218 => one_of(d, b"0129", CodeList::Iso5218),
        Linter::Latitude => coordinate(d, 1_800_000_000, Problem::LatitudeOutOfRange),
        Linter::Longitude => coordinate(d, 3_600_000_000, Problem::LongitudeOutOfRange),
        Linter::Mediatype => in_list(d, tables::MEDIA_TYPES, CodeList::MediaType),
        Linter::Mi => {
            two_digit(d, 59).map_err(|e| e.into_problem(|v| Problem::NotAMinute { value: v }))
        }
        Linter::Nonzero => nonzero(d),
        Linter::Nozeroprefix => nozeroprefix(d),
        Linter::Packagetype => in_list(d, tables::PACKAGE_TYPES, CodeList::PackageType),
        Linter::Pcenc => pcenc(d),
        Linter::Pieceoftotal => pieceoftotal(d),
        Linter::Posinseqslash => posinseqslash(d),
        Linter::Ss => {
            two_digit(d, 59).map_err(|e| e.into_problem(|v| Problem::NotASecond { value: v }))
        }
        Linter::Winding => one_of(d, b"019", CodeList::Winding),
        Linter::Yesno => one_of(d, b"01", CodeList::YesNo),
        Linter::Yymmd0 => yymmdd(d, true),
        Linter::Yymmdd => yymmdd(d, false),
        Linter::Yyyymmdd => yyyymmdd(d, false),
        Linter::Zero => all_of(d, b'0', Problem::NotZero),
    }
}

fn err(offset: usize, problem: Problem) -> Result<(), LintError> {
    Err(LintError { offset, problem })
}

#[cfg(test)]
pub(crate) mod test_util {
    //! Helpers for the linters' tests. Cases are taken from the unit tests at
    //! the bottom of the reference's `src/c-lib/syntax/lint_*.c` (GS1 Barcode
    //! Syntax Engine) unless noted; "GenSpecs" marks examples from the GS1
    //! General Specifications.

    pub(crate) use super::*;

    pub(crate) const ALL: [Linter; 38] = [
        Linter::Digits,
        Linter::Cset82,
        Linter::Cset39,
        Linter::Cset64,
        Linter::Couponcode,
        Linter::Couponposoffer,
        Linter::Csum,
        Linter::Csumalpha,
        Linter::Gcppos1,
        Linter::Gcppos2,
        Linter::Hasnondigit,
        Linter::Hh,
        Linter::Hhmi,
        Linter::Hyphen,
        Linter::Iban,
        Linter::Importeridx,
        Linter::Iso3166,
        Linter::Iso3166999,
        Linter::Iso3166alpha2,
        Linter::Iso4217,
        Linter::Iso5218,
        Linter::Latitude,
        Linter::Longitude,
        Linter::Mediatype,
        Linter::Mi,
        Linter::Nonzero,
        Linter::Nozeroprefix,
        Linter::Packagetype,
        Linter::Pcenc,
        Linter::Pieceoftotal,
        Linter::Posinseqslash,
        Linter::Ss,
        Linter::Winding,
        Linter::Yesno,
        Linter::Yymmd0,
        Linter::Yymmdd,
        Linter::Yyyymmdd,
        Linter::Zero,
    ];

    #[track_caller]
    pub(crate) fn ok(linter: Linter, data: &str) {
        assert_eq!(
            check(linter, data.as_bytes()),
            Ok(()),
            "{linter:?} should accept {data:?}"
        );
    }

    #[track_caller]
    pub(crate) fn bad(linter: Linter, data: &str, offset: usize, problem: Problem) {
        assert_eq!(
            check(linter, data.as_bytes()),
            Err(LintError { offset, problem }),
            "{linter:?} on {data:?}"
        );
    }

    pub(crate) fn not_digit(c: u8) -> Problem {
        Problem::NotDigit { found: c }
    }
}

#[cfg(test)]
mod tests {
    use super::test_util::*;

    #[test]
    fn never_panics_on_odd_input() {
        let inputs: [&[u8]; 12] = [
            b"",
            b"\xff",
            b"0",
            b"\x00",
            b"%",
            b"=",
            b"/",
            b"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6",
            b"99999999999999999999999999999999999999999",
            b"3\xff",
            "é".as_bytes(),
            b"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789",
        ];
        for linter in ALL {
            for input in inputs {
                let _ = check(linter, input);
            }
            // Only these two leave the character set to other linters.
            if !matches!(linter, Linter::Hasnondigit | Linter::Pcenc) {
                assert!(check(linter, b"\xff").is_err(), "{linter:?} accepted 0xFF");
            }
        }
        // Every prefix of some long valid-looking inputs, for the
        // field-by-field parsers.
        let long = "0123456123456111101231191234567920123345678901234567".as_bytes();
        for linter in ALL {
            for n in 0..=long.len() {
                let _ = check(linter, &long[..n]);
            }
        }
    }
}
