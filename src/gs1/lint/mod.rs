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

mod tables;

/// A named content check from the dictionary.
///
/// The first four are the character sets of the component types
/// (`N` numeric, `X` CSET 82, `Y` CSET 39, `Z` CSET 64); the rest are named
/// in the dictionary after the component type, e.g. `N6,yymmd0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Linter {
    Digits,
    Cset82,
    Cset39,
    Cset64,
    Couponcode,
    Couponposoffer,
    Csum,
    Csumalpha,
    Gcppos1,
    Gcppos2,
    Hasnondigit,
    Hh,
    Hhmi,
    Hyphen,
    Iban,
    Importeridx,
    Iso3166,
    Iso3166999,
    Iso3166alpha2,
    Iso4217,
    Iso5218,
    Latitude,
    Longitude,
    Mediatype,
    Mi,
    Nonzero,
    Nozeroprefix,
    Packagetype,
    Pcenc,
    Pieceoftotal,
    Posinseqslash,
    Ss,
    Winding,
    Yesno,
    Yymmd0,
    Yymmdd,
    Yyyymmdd,
    Zero,
}

/// Why a component failed a linter, and where inside the component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LintError {
    /// Byte offset inside the component where the problem is (0 when the
    /// problem is the component as a whole).
    pub offset: usize,
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

/// What is wrong, in terms a dock supervisor understands.
///
/// The [`Display`](fmt::Display) text is written to follow the component's
/// value: `250230` + `" "` + `is not a date (February has no day 30)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    /// A byte that must be a digit is not.
    NotDigit { found: u8 },
    /// A byte outside the character set the component allows.
    InvalidCharacter { found: u8, set: CharSet },
    /// Base64 `=` padding that is too long or leaves a length that is not a
    /// multiple of three.
    BadPadding,
    /// The component has the wrong number of characters.
    WrongLength { expected: usize, found: usize },
    /// The component is shorter than the least it may be.
    TooShort { min: usize, found: usize },
    /// The component is longer than the most it may be.
    TooLong { max: usize, found: usize },
    /// The last digit is not the GS1 mod-10 check digit.
    WrongCheckDigit { expected: u8, found: u8 },
    /// The last two characters are not the GS1 alphanumeric check pair.
    WrongCheckPair { expected: [u8; 2], found: [u8; 2] },
    /// The component does not start with (the shape of) a GS1 Company Prefix.
    NoCompanyPrefix,
    /// The component must contain at least one non-digit.
    AllDigits,
    /// The component is not a valid date.
    NotADate(DateIssue),
    /// The component is not a valid hour of the day (00-23).
    NotAnHour { value: u8 },
    /// The component is not a valid minute (00-59).
    NotAMinute { value: u8 },
    /// The component is not a valid second (00-59).
    NotASecond { value: u8 },
    /// Latitude above 1800000000 (i.e. beyond 90 degrees).
    LatitudeOutOfRange,
    /// Longitude above 3600000000 (i.e. beyond 180 degrees).
    LongitudeOutOfRange,
    /// Anything other than hyphens.
    NotHyphens,
    /// A value that must be zero is not.
    NotZero,
    /// A value that must not be zero is.
    IsZero,
    /// A number starts with a zero where that is not allowed.
    ZeroPrefix,
    /// Not in the code list the linter checks against.
    NotInCodeList(CodeList),
    /// The IBAN does not start with an ISO 3166 alpha-2 country code.
    IbanCountry,
    /// The IBAN check digits (characters 3 and 4) do not match.
    IbanChecksum,
    /// A `%` not followed by two hexadecimal digits.
    BadPercentEncoding,
    /// Piece-of-total with an odd (or zero) number of digits.
    PieceOfTotalLength,
    /// Piece number zero.
    ZeroPieceNumber,
    /// Total number of pieces zero.
    ZeroTotalPieces,
    /// Piece number greater than the total.
    PieceExceedsTotal,
    /// Not in the form `<position>/<end>`.
    PositionMalformed,
    /// Position greater than the end of the sequence.
    PositionExceedsEnd,
    /// A North American coupon code field is wrong.
    Coupon {
        field: CouponField,
        issue: CouponIssue,
    },
}

/// Character sets named in [`Problem::InvalidCharacter`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CharSet {
    /// GS1 AI encodable character set 82.
    Cset82,
    /// GS1 AI encodable character set 39.
    Cset39,
    /// GS1 AI encodable character set 64 (file-safe / URI-safe base64).
    Cset64,
    /// GS1 character set 32, used for check character pairs.
    Cset32,
    /// Digits and upper-case letters, as an IBAN allows.
    Iban,
    /// The importer index characters (`-`, digits, letters, `_`).
    ImporterIndex,
}

impl CharSet {
    fn name(self) -> &'static str {
        match self {
            CharSet::Cset82 => "GS1 character set 82",
            CharSet::Cset39 => "GS1 character set 39",
            CharSet::Cset64 => "GS1 character set 64, URL-safe base64",
            CharSet::Cset32 => "GS1 character set 32, for check characters",
            CharSet::Iban => "an IBAN takes only digits and capital letters",
            CharSet::ImporterIndex => "an importer index is one of - 0-9 A-Z _ a-z",
        }
    }
}

/// Code lists named in [`Problem::NotInCodeList`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeList {
    Iso3166,
    Iso3166Or999,
    Iso3166Alpha2,
    Iso4217,
    Iso5218,
    MediaType,
    PackageType,
    Winding,
    YesNo,
}

/// What is wrong with a date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateIssue {
    /// Wrong number of characters.
    Length { expected: u8, found: usize },
    /// Month outside 01-12.
    Month(u8),
    /// Day that the month does not have (day 0 where DD=00 is not allowed).
    Day { month: u8, day: u8 },
}

/// The fields of the North American coupon formats, AI (8110) and (8112).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CouponField {
    FormatCode,
    Funder,
    CompanyPrefix,
    OfferCode,
    SaveValue,
    FirstPurchaseRequirement,
    FirstPurchaseRequirementCode,
    FirstPurchaseFamilyCode,
    AdditionalPurchaseRulesCode,
    SecondPurchaseRequirement,
    SecondPurchaseRequirementCode,
    SecondPurchaseFamilyCode,
    SecondPurchaseCompanyPrefix,
    ThirdPurchaseRequirement,
    ThirdPurchaseRequirementCode,
    ThirdPurchaseFamilyCode,
    ThirdPurchaseCompanyPrefix,
    ExpirationDate,
    StartDate,
    SerialNumber,
    RetailerId,
    SaveValueCode,
    SaveValueAppliesToItem,
    StoreCouponFlag,
    DontMultiplyFlag,
    /// Data after the last recognised field.
    Trailing,
}

impl CouponField {
    fn name(self) -> &'static str {
        match self {
            CouponField::FormatCode => "format code",
            CouponField::Funder => "funder ID",
            CouponField::CompanyPrefix => "company prefix",
            CouponField::OfferCode => "offer code",
            CouponField::SaveValue => "save value",
            CouponField::FirstPurchaseRequirement => "first purchase requirement",
            CouponField::FirstPurchaseRequirementCode => "first purchase requirement code",
            CouponField::FirstPurchaseFamilyCode => "first purchase family code",
            CouponField::AdditionalPurchaseRulesCode => "additional purchase rules code",
            CouponField::SecondPurchaseRequirement => "second purchase requirement",
            CouponField::SecondPurchaseRequirementCode => "second purchase requirement code",
            CouponField::SecondPurchaseFamilyCode => "second purchase family code",
            CouponField::SecondPurchaseCompanyPrefix => "second purchase company prefix",
            CouponField::ThirdPurchaseRequirement => "third purchase requirement",
            CouponField::ThirdPurchaseRequirementCode => "third purchase requirement code",
            CouponField::ThirdPurchaseFamilyCode => "third purchase family code",
            CouponField::ThirdPurchaseCompanyPrefix => "third purchase company prefix",
            CouponField::ExpirationDate => "expiration date",
            CouponField::StartDate => "start date",
            CouponField::SerialNumber => "serial number",
            CouponField::RetailerId => "retailer company prefix or GLN",
            CouponField::SaveValueCode => "save value code",
            CouponField::SaveValueAppliesToItem => "save-value-applies-to-item code",
            CouponField::StoreCouponFlag => "store coupon flag",
            CouponField::DontMultiplyFlag => "don't-multiply flag",
            CouponField::Trailing => "last field",
        }
    }
}

/// What is wrong with a coupon field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CouponIssue {
    /// The field (or its length indicator) is missing: the data ends early.
    Missing,
    /// The field's length indicator digit is not allowed.
    BadLengthIndicator,
    /// The field is shorter than its length indicator (or fixed size) says.
    Truncated,
    /// The field's value is not allowed.
    InvalidValue,
    /// The expiration date is before the start date.
    ExpiresBeforeStart,
    /// Data follows the last field.
    ExcessData,
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Writes a byte readably: printable ASCII as `'x'`, anything else as hex.
struct ShowByte(u8);

impl fmt::Display for ShowByte {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            b' ' => f.write_str("a space"),
            b if b.is_ascii_graphic() => write!(f, "'{}'", b as char),
            b => write!(f, "byte 0x{b:02X}"),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Problem::NotDigit { found } => {
                write!(f, "contains {}, which is not a digit", ShowByte(found))
            }
            Problem::InvalidCharacter { found, set } => write!(
                f,
                "contains {}, which is not allowed here ({})",
                ShowByte(found),
                set.name()
            ),
            Problem::BadPadding => f.write_str(
                "has misplaced '=' padding (at most two, only at the end, \
                 making the length a multiple of 3)",
            ),
            Problem::WrongLength { expected, found } => write!(
                f,
                "has the wrong length: {found} characters where {expected} are needed"
            ),
            Problem::TooShort { min, found } => write!(
                f,
                "is too short: {found} characters where at least {min} are needed"
            ),
            Problem::TooLong { max, found } => write!(
                f,
                "is too long: {found} characters where at most {max} are allowed"
            ),
            Problem::WrongCheckDigit { expected, found } => write!(
                f,
                "has a wrong check digit: expected {}, found {}",
                expected as char, found as char
            ),
            Problem::WrongCheckPair { expected, found } => write!(
                f,
                "has a wrong check character pair: expected {}{}, found {}{}",
                expected[0] as char, expected[1] as char, found[0] as char, found[1] as char
            ),
            Problem::NoCompanyPrefix => {
                f.write_str("does not start with a GS1 Company Prefix (at least 4 digits)")
            }
            Problem::AllDigits => f.write_str("must contain at least one character that is not a digit"),
            Problem::NotADate(issue) => match issue {
                DateIssue::Length { expected, found } => write!(
                    f,
                    "is not a date (expected {expected} digits, found {found} characters)"
                ),
                DateIssue::Month(m) => write!(f, "is not a date (there is no month {m:02})"),
                DateIssue::Day { day: 0, .. } => {
                    f.write_str("is not a date (day 00 is not allowed here)")
                }
                DateIssue::Day { month, day } => write!(
                    f,
                    "is not a date ({} has no day {day})",
                    MONTHS[usize::from(month.clamp(1, 12)) - 1]
                ),
            },
            Problem::NotAnHour { value } => {
                write!(f, "is not an hour of the day ({value:02} is past 23)")
            }
            Problem::NotAMinute { value } => write!(f, "is not a minute ({value:02} is past 59)"),
            Problem::NotASecond { value } => write!(f, "is not a second ({value:02} is past 59)"),
            Problem::LatitudeOutOfRange => {
                f.write_str("is not a latitude (must be 0000000000 to 1800000000)")
            }
            Problem::LongitudeOutOfRange => {
                f.write_str("is not a longitude (must be 0000000000 to 3600000000)")
            }
            Problem::NotHyphens => f.write_str("must consist of hyphens ('-') only"),
            Problem::NotZero => f.write_str("must be zero"),
            Problem::IsZero => f.write_str("must not be zero"),
            Problem::ZeroPrefix => f.write_str("must not start with a zero"),
            Problem::NotInCodeList(list) => f.write_str(match list {
                CodeList::Iso3166 => "is not an ISO 3166 country code",
                CodeList::Iso3166Or999 => "is not an ISO 3166 country code or 999",
                CodeList::Iso3166Alpha2 => "is not an ISO 3166 two-letter country code",
                CodeList::Iso4217 => "is not an ISO 4217 currency code",
                CodeList::Iso5218 => "is not an ISO/IEC 5218 sex code (0, 1, 2 or 9)",
                CodeList::MediaType => "is not an AIDC media type code",
                CodeList::PackageType => "is not a package type code (UN/ECE Recommendation 21)",
                CodeList::Winding => "is not a winding direction (0 face out, 1 face in, 9 undefined)",
                CodeList::YesNo => "must be 0 (no) or 1 (yes)",
            }),
            Problem::IbanCountry => f.write_str(
                "is not an IBAN (it must start with an ISO 3166 two-letter country code)",
            ),
            Problem::IbanChecksum => f.write_str("is not an IBAN (its check digits are wrong)"),
            Problem::BadPercentEncoding => {
                f.write_str("has a '%' that is not followed by two hexadecimal digits")
            }
            Problem::PieceOfTotalLength => f.write_str(
                "is not a piece-of-total (piece number and total must have the same number of digits)",
            ),
            Problem::ZeroPieceNumber => f.write_str("has piece number zero"),
            Problem::ZeroTotalPieces => f.write_str("has a total of zero pieces"),
            Problem::PieceExceedsTotal => f.write_str("has a piece number greater than the total"),
            Problem::PositionMalformed => {
                f.write_str("is not a position in a sequence (written like 3/10)")
            }
            Problem::PositionExceedsEnd => {
                f.write_str("has a position past the end of the sequence")
            }
            Problem::Coupon { field, issue } => {
                let name = field.name();
                match issue {
                    CouponIssue::Missing => {
                        write!(f, "is not a valid coupon code: the {name} is missing")
                    }
                    CouponIssue::BadLengthIndicator => write!(
                        f,
                        "is not a valid coupon code: the length indicator of the {name} is not allowed"
                    ),
                    CouponIssue::Truncated => {
                        write!(f, "is not a valid coupon code: the {name} is cut short")
                    }
                    CouponIssue::InvalidValue => {
                        write!(f, "is not a valid coupon code: the {name} is not valid")
                    }
                    CouponIssue::ExpiresBeforeStart => f.write_str(
                        "is not a valid coupon code: it expires before its start date",
                    ),
                    CouponIssue::ExcessData => write!(
                        f,
                        "is not a valid coupon code: unexpected data after the {name}"
                    ),
                }
            }
        }
    }
}

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

// ---------------------------------------------------------------------------
// Character sets

fn digits(d: &[u8]) -> Result<(), LintError> {
    match d.iter().position(|b| !b.is_ascii_digit()) {
        Some(pos) => err(pos, Problem::NotDigit { found: d[pos] }),
        None => Ok(()),
    }
}

fn charset(d: &[u8], allowed: fn(u8) -> bool, set: CharSet) -> Result<(), LintError> {
    match d.iter().position(|&b| !allowed(b)) {
        Some(pos) => err(pos, Problem::InvalidCharacter { found: d[pos], set }),
        None => Ok(()),
    }
}

/// CSET 82: `!"%&'()*+,-./0-9:;<=>?A-Z_a-z`.
fn is_cset82(b: u8) -> bool {
    matches!(b, b'!' | b'"' | b'%'..=b'?' | b'A'..=b'Z' | b'_' | b'a'..=b'z')
}

/// CSET 39: `#-/0-9A-Z`.
fn is_cset39(b: u8) -> bool {
    matches!(b, b'#' | b'-' | b'/' | b'0'..=b'9' | b'A'..=b'Z')
}

/// CSET 64: `A-Za-z0-9-_` (the `=` padding is handled separately).
fn is_cset64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// CSET 32, in weight order; used for the check character pair.
const CSET32: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// CSET 82 in weight order, for the check character pair calculation.
const CSET82_ORDER: &[u8; 82] =
    b"!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

fn cset64(d: &[u8]) -> Result<(), LintError> {
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

// ---------------------------------------------------------------------------
// Check digits

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

fn csum(d: &[u8]) -> Result<(), LintError> {
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

fn csumalpha(d: &[u8]) -> Result<(), LintError> {
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

// ---------------------------------------------------------------------------
// GS1 Company Prefix

/// The shortest GS1 Company Prefix is four digits.
const GCP_MIN_LENGTH: usize = 4;

fn gcppos1(d: &[u8]) -> Result<(), LintError> {
    // Without a GCP lookup service the reference only checks that the
    // component is long enough to hold the shortest GCP and that those
    // first four characters are digits (reference: lint_gcppos1.c).
    if d.len() < GCP_MIN_LENGTH {
        return err(
            0,
            Problem::TooShort {
                min: GCP_MIN_LENGTH,
                found: d.len(),
            },
        );
    }
    match d[..GCP_MIN_LENGTH].iter().position(|b| !b.is_ascii_digit()) {
        Some(pos) => err(pos, Problem::NoCompanyPrefix),
        None => Ok(()),
    }
}

fn gcppos2(d: &[u8]) -> Result<(), LintError> {
    if d.len() < 2 {
        return err(
            0,
            Problem::TooShort {
                min: GCP_MIN_LENGTH + 1,
                found: d.len(),
            },
        );
    }
    gcppos1(&d[1..]).map_err(|e| {
        let problem = match e.problem {
            Problem::TooShort { min, found } => Problem::TooShort {
                min: min + 1,
                found: found + 1,
            },
            other => other,
        };
        LintError {
            offset: e.offset + 1,
            problem,
        }
    })
}

// ---------------------------------------------------------------------------
// Simple value checks

fn hasnondigit(d: &[u8]) -> Result<(), LintError> {
    if d.iter().any(|b| !b.is_ascii_digit()) {
        Ok(())
    } else {
        err(0, Problem::AllDigits)
    }
}

/// Non-empty and every byte equal to `want`.
fn all_of(d: &[u8], want: u8, problem: Problem) -> Result<(), LintError> {
    if d.is_empty() || d.iter().any(|&b| b != want) {
        err(0, problem)
    } else {
        Ok(())
    }
}

/// Exactly one byte, from `allowed`.
fn one_of(d: &[u8], allowed: &[u8], list: CodeList) -> Result<(), LintError> {
    match d {
        [b] if allowed.contains(b) => Ok(()),
        _ => err(0, Problem::NotInCodeList(list)),
    }
}

fn in_list(d: &[u8], list: &[&str], which: CodeList) -> Result<(), LintError> {
    if tables::contains(list, d) {
        Ok(())
    } else {
        err(0, Problem::NotInCodeList(which))
    }
}

fn nonzero(d: &[u8]) -> Result<(), LintError> {
    digits(d)?;
    if d.iter().all(|&b| b == b'0') {
        return err(0, Problem::IsZero);
    }
    Ok(())
}

fn nozeroprefix(d: &[u8]) -> Result<(), LintError> {
    if d.first() == Some(&b'0') {
        return err(0, Problem::ZeroPrefix);
    }
    digits(d)
}

fn importeridx(d: &[u8]) -> Result<(), LintError> {
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

fn coordinate(d: &[u8], max: u64, out_of_range: Problem) -> Result<(), LintError> {
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

fn pcenc(d: &[u8]) -> Result<(), LintError> {
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

fn pieceoftotal(d: &[u8]) -> Result<(), LintError> {
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

fn posinseqslash(d: &[u8]) -> Result<(), LintError> {
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

// ---------------------------------------------------------------------------
// IBAN

const IBAN_MIN_LENGTH: usize = 10;
const IBAN_MAX_LENGTH: usize = 34;

fn iban(d: &[u8]) -> Result<(), LintError> {
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

// ---------------------------------------------------------------------------
// Times

/// A two-digit number failed; turned into the caller's problem.
enum TwoDigitError {
    Other(LintError),
    TooBig(u8),
}

impl TwoDigitError {
    fn into_problem(self, too_big: impl FnOnce(u8) -> Problem) -> LintError {
        match self {
            TwoDigitError::Other(e) => e,
            TwoDigitError::TooBig(v) => LintError {
                offset: 0,
                problem: too_big(v),
            },
        }
    }
}

/// Exactly two digits, value at most `max`.
fn two_digit(d: &[u8], max: u8) -> Result<(), TwoDigitError> {
    if d.len() != 2 {
        return Err(TwoDigitError::Other(LintError {
            offset: 0,
            problem: Problem::WrongLength {
                expected: 2,
                found: d.len(),
            },
        }));
    }
    digits(d).map_err(TwoDigitError::Other)?;
    let v = (d[0] - b'0') * 10 + (d[1] - b'0');
    if v > max {
        return Err(TwoDigitError::TooBig(v));
    }
    Ok(())
}

fn hhmi(d: &[u8]) -> Result<(), LintError> {
    if d.len() != 4 {
        return err(
            0,
            Problem::WrongLength {
                expected: 4,
                found: d.len(),
            },
        );
    }
    two_digit(&d[..2], 23).map_err(|e| e.into_problem(|v| Problem::NotAnHour { value: v }))?;
    two_digit(&d[2..], 59)
        .map_err(|e| e.into_problem(|v| Problem::NotAMinute { value: v }))
        .map_err(|e| LintError {
            offset: e.offset + 2,
            ..e
        })
}

// ---------------------------------------------------------------------------
// Dates

/// The reference's "current year" for placing two-digit years in a century
/// (lint_yymmd0.c, `CURRENT_YEAR` 21): YY is taken within 50 years back
/// or 50 forward of 2021, so 72-99 mean 1972-1999 and 00-71 mean 2000-2071.
/// Leap years then follow the Gregorian rule on the four-digit year; in that
/// window that is simply "YY divisible by 4" (2000 is a leap year).
const CURRENT_YY: i32 = 21;

fn century_of_yy(yy: i32) -> i32 {
    if yy - CURRENT_YY >= 51 {
        1900
    } else if yy - CURRENT_YY > -50 {
        2000
    } else {
        2100
    }
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn two(d: &[u8]) -> u8 {
    (d[0] - b'0') * 10 + (d[1] - b'0')
}

/// Month and day checks for a date whose digits start with MM at `mm_at`.
fn month_day(year: i32, mm: u8, dd: u8, mm_at: usize, allow_dd00: bool) -> Result<(), LintError> {
    if !(1..=12).contains(&mm) {
        return err(mm_at, Problem::NotADate(DateIssue::Month(mm)));
    }
    let max_dd = match mm {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if dd > max_dd || (dd == 0 && !allow_dd00) {
        return err(
            mm_at + 2,
            Problem::NotADate(DateIssue::Day { month: mm, day: dd }),
        );
    }
    Ok(())
}

fn date_shape(d: &[u8], len: u8) -> Result<(), LintError> {
    if d.len() != usize::from(len) {
        return err(
            0,
            Problem::NotADate(DateIssue::Length {
                expected: len,
                found: d.len(),
            }),
        );
    }
    digits(d)
}

/// YYMMDD; with `allow_dd00`, DD=00 means "the month as a whole" (yymmd0).
fn yymmdd(d: &[u8], allow_dd00: bool) -> Result<(), LintError> {
    date_shape(d, 6)?;
    let yy = i32::from(two(&d[0..2]));
    month_day(
        century_of_yy(yy) + yy,
        two(&d[2..4]),
        two(&d[4..6]),
        2,
        allow_dd00,
    )
}

fn yyyymmdd(d: &[u8], allow_dd00: bool) -> Result<(), LintError> {
    date_shape(d, 8)?;
    let year = i32::from(two(&d[0..2])) * 100 + i32::from(two(&d[2..4]));
    month_day(year, two(&d[4..6]), two(&d[6..8]), 4, allow_dd00)
}

// ---------------------------------------------------------------------------
// North American coupons

/// A cursor over a coupon's digits, producing the reference's errors.
struct Coupon<'a> {
    d: &'a [u8],
    p: usize,
}

impl Coupon<'_> {
    fn fail(field: CouponField, issue: CouponIssue, offset: usize) -> Result<(), LintError> {
        err(offset, Problem::Coupon { field, issue })
    }

    fn at_end(&self) -> bool {
        self.p == self.d.len()
    }

    fn peek(&self) -> Option<u8> {
        self.d.get(self.p).copied()
    }

    /// Takes a required single digit that must satisfy `ok`.
    fn digit(&mut self, field: CouponField, ok: impl Fn(u8) -> bool) -> Result<u8, LintError> {
        let Some(b) = self.peek() else {
            return Err(LintError {
                offset: 0,
                problem: Problem::Coupon {
                    field,
                    issue: CouponIssue::Missing,
                },
            });
        };
        if !ok(b) {
            return Err(LintError {
                offset: self.p,
                problem: Problem::Coupon {
                    field,
                    issue: CouponIssue::InvalidValue,
                },
            });
        }
        self.p += 1;
        Ok(b - b'0')
    }

    /// Takes a required length indicator digit that must satisfy `ok`.
    fn vli(&mut self, field: CouponField, ok: impl Fn(u8) -> bool) -> Result<u8, LintError> {
        self.digit(field, ok).map_err(|mut e| {
            if let Problem::Coupon { issue, .. } = &mut e.problem {
                if *issue == CouponIssue::InvalidValue {
                    *issue = CouponIssue::BadLengthIndicator;
                }
            }
            e
        })
    }

    /// Skips `n` digits of `field`; if fewer remain the field is truncated
    /// (marked from where it starts, or the whole data when nothing is left).
    fn take(&mut self, n: usize, field: CouponField) -> Result<(), LintError> {
        if self.d.len() - self.p < n {
            let offset = if self.at_end() { 0 } else { self.p };
            return Coupon::fail(field, CouponIssue::Truncated, offset);
        }
        self.p += n;
        Ok(())
    }

    /// Consumes the optional-field indicator `ind` if it is next.
    fn optional(&mut self, ind: u8) -> bool {
        if self.peek() == Some(ind) {
            self.p += 1;
            true
        } else {
            false
        }
    }

    fn no_excess(&self) -> Result<(), LintError> {
        if !self.at_end() {
            return Coupon::fail(CouponField::Trailing, CouponIssue::ExcessData, self.p);
        }
        Ok(())
    }
}

fn is_purchase_code(b: u8) -> bool {
    matches!(b, b'0'..=b'4' | b'9')
}

/// A company prefix length indicator 0-6 means 6-12 digits; "9" (allowed
/// only for the second and third purchase) means there is none.
fn gcp_length(b: u8) -> usize {
    if b == 9 {
        0
    } else {
        usize::from(b) + 6
    }
}

/// AI (8110), the North American Coupon Code (reference: lint_couponcode.c;
/// "North American Coupon Application Guideline Using GS1 DataBar Expanded
/// Symbols"). Company prefixes inside the coupon are checked the way the
/// reference does without a GCP lookup service: their minimum length of 6
/// digits already satisfies its four-digit shape check, so only their
/// presence is checked here.
fn couponcode(d: &[u8]) -> Result<(), LintError> {
    use CouponField as F;
    use CouponIssue as I;

    digits(d)?;
    let mut c = Coupon { d, p: 0 };

    let vli = c.vli(F::CompanyPrefix, |b| b <= b'6')?;
    c.take(gcp_length(vli), F::CompanyPrefix)?;
    c.take(6, F::OfferCode)?;
    let vli = c.vli(F::SaveValue, |b| (b'1'..=b'5').contains(&b))?;
    c.take(usize::from(vli), F::SaveValue)?;
    let vli = c.vli(F::FirstPurchaseRequirement, |b| (b'1'..=b'5').contains(&b))?;
    c.take(usize::from(vli), F::FirstPurchaseRequirement)?;
    c.digit(F::FirstPurchaseRequirementCode, is_purchase_code)?;
    c.take(3, F::FirstPurchaseFamilyCode)?;

    // Optional field 1: additional purchase rules and second purchase.
    if c.optional(b'1') {
        c.digit(F::AdditionalPurchaseRulesCode, |b| b <= b'3')?;
        let vli = c.vli(F::SecondPurchaseRequirement, |b| (b'1'..=b'5').contains(&b))?;
        c.take(usize::from(vli), F::SecondPurchaseRequirement)?;
        c.digit(F::SecondPurchaseRequirementCode, is_purchase_code)?;
        c.take(3, F::SecondPurchaseFamilyCode)?;
        let vli = c.vli(F::SecondPurchaseCompanyPrefix, |b| b <= b'6' || b == b'9')?;
        c.take(gcp_length(vli), F::SecondPurchaseCompanyPrefix)?;
    }

    // Optional field 2: third purchase.
    if c.optional(b'2') {
        let vli = c.vli(F::ThirdPurchaseRequirement, |b| (b'1'..=b'5').contains(&b))?;
        c.take(usize::from(vli), F::ThirdPurchaseRequirement)?;
        c.digit(F::ThirdPurchaseRequirementCode, is_purchase_code)?;
        c.take(3, F::ThirdPurchaseFamilyCode)?;
        let vli = c.vli(F::ThirdPurchaseCompanyPrefix, |b| b <= b'6' || b == b'9')?;
        c.take(gcp_length(vli), F::ThirdPurchaseCompanyPrefix)?;
    }

    // Optional field 3: expiration date (YYMMDD).
    let mut expiry: Option<(usize, &[u8])> = None;
    if c.optional(b'3') {
        let at = c.p;
        c.take(6, F::ExpirationDate)?;
        let date = &d[at..at + 6];
        if yymmdd(date, false).is_err() {
            return Coupon::fail(F::ExpirationDate, I::InvalidValue, at);
        }
        expiry = Some((at - 1, date));
    }

    // Optional field 4: start date (YYMMDD), not after the expiration date.
    if c.optional(b'4') {
        let at = c.p;
        c.take(6, F::StartDate)?;
        let date = &d[at..at + 6];
        if yymmdd(date, false).is_err() {
            return Coupon::fail(F::StartDate, I::InvalidValue, at);
        }
        if let Some((expiry_at, expiry_date)) = expiry {
            // Compared as YYMMDD text, as the reference does.
            if date > expiry_date {
                return Coupon::fail(F::ExpirationDate, I::ExpiresBeforeStart, expiry_at);
            }
        }
    }

    // Optional field 5: serial number, 6-15 digits.
    if c.optional(b'5') {
        let vli = c.vli(F::SerialNumber, |_| true)?;
        c.take(usize::from(vli) + 6, F::SerialNumber)?;
    }

    // Optional field 6: retailer GCP or GLN, 7-13 digits.
    if c.optional(b'6') {
        let vli = c.vli(F::RetailerId, |b| (b'1'..=b'7').contains(&b))?;
        c.take(usize::from(vli) + 6, F::RetailerId)?;
    }

    // Optional field 9: miscellaneous.
    if c.optional(b'9') {
        c.digit(F::SaveValueCode, |b| matches!(b, b'0'..=b'2' | b'5' | b'6'))?;
        c.digit(F::SaveValueAppliesToItem, |b| b <= b'2')?;
        c.digit(F::StoreCouponFlag, |_| true)?;
        c.digit(F::DontMultiplyFlag, |b| b <= b'1')?;
    }

    c.no_excess()
}

/// AI (8112), the positive offer file coupon code (reference:
/// lint_couponposoffer.c; "GS1 AI (8112) Coupon Data Specification").
fn couponposoffer(d: &[u8]) -> Result<(), LintError> {
    use CouponField as F;

    digits(d)?;
    let mut c = Coupon { d, p: 0 };
    c.digit(F::FormatCode, |b| b <= b'1')?;
    let vli = c.vli(F::Funder, |b| b <= b'6')?;
    c.take(usize::from(vli) + 6, F::Funder)?;
    c.take(6, F::OfferCode)?;
    let vli = c.vli(F::SerialNumber, |_| true)?;
    c.take(usize::from(vli) + 6, F::SerialNumber)?;
    c.no_excess()
}

#[cfg(test)]
mod tests {
    //! Cases are taken from the unit tests at the bottom of the reference's
    //! `src/c-lib/syntax/lint_*.c` (GS1 Barcode Syntax Engine) unless noted;
    //! "GenSpecs" marks examples from the GS1 General Specifications.

    use super::*;

    const ALL: [Linter; 38] = [
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
    fn ok(linter: Linter, data: &str) {
        assert_eq!(
            check(linter, data.as_bytes()),
            Ok(()),
            "{linter:?} should accept {data:?}"
        );
    }

    #[track_caller]
    fn bad(linter: Linter, data: &str, offset: usize, problem: Problem) {
        assert_eq!(
            check(linter, data.as_bytes()),
            Err(LintError { offset, problem }),
            "{linter:?} on {data:?}"
        );
    }

    fn not_digit(c: u8) -> Problem {
        Problem::NotDigit { found: c }
    }

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

    #[test]
    fn tables_are_sorted() {
        for list in [
            tables::ISO3166_NUMERIC,
            tables::ISO3166_ALPHA2,
            tables::ISO4217_NUMERIC,
            tables::MEDIA_TYPES,
            tables::PACKAGE_TYPES,
        ] {
            assert!(list.windows(2).all(|w| w[0].as_bytes() < w[1].as_bytes()));
        }
        assert_eq!(tables::ISO3166_NUMERIC.len(), 249);
        assert_eq!(tables::ISO3166_ALPHA2.len(), 249);
        assert_eq!(tables::ISO4217_NUMERIC.len(), 179);
        assert_eq!(tables::PACKAGE_TYPES.len(), 431);
    }

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

    #[test]
    fn gcppos1() {
        ok(Linter::Gcppos1, "01234");
        ok(Linter::Gcppos1, "0123");
        ok(Linter::Gcppos1, "0123A");
        for s in ["", "0", "01", "012"] {
            bad(
                Linter::Gcppos1,
                s,
                0,
                Problem::TooShort {
                    min: 4,
                    found: s.len(),
                },
            );
        }
        bad(Linter::Gcppos1, "012AA", 3, Problem::NoCompanyPrefix);
        bad(Linter::Gcppos1, "0AAAA", 1, Problem::NoCompanyPrefix);
        bad(Linter::Gcppos1, "AAAAA", 0, Problem::NoCompanyPrefix);
    }

    #[test]
    fn gcppos2() {
        ok(Linter::Gcppos2, "I01234");
        ok(Linter::Gcppos2, "I0123");
        ok(Linter::Gcppos2, "I0123A");
        ok(Linter::Gcppos2, "009506000134352"); // AI (8006)-style: digit + GTIN
        bad(
            Linter::Gcppos2,
            "",
            0,
            Problem::TooShort { min: 5, found: 0 },
        );
        bad(
            Linter::Gcppos2,
            "I",
            0,
            Problem::TooShort { min: 5, found: 1 },
        );
        bad(
            Linter::Gcppos2,
            "I012",
            1,
            Problem::TooShort { min: 5, found: 4 },
        );
        bad(Linter::Gcppos2, "I012AA", 4, Problem::NoCompanyPrefix);
        bad(Linter::Gcppos2, "IAAAAA", 1, Problem::NoCompanyPrefix);
    }

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
    fn hh_mi_ss_hhmi() {
        ok(Linter::Hh, "00");
        ok(Linter::Hh, "23");
        bad(Linter::Hh, "24", 0, Problem::NotAnHour { value: 24 });
        bad(Linter::Hh, "x0", 0, not_digit(b'x'));
        bad(Linter::Hh, "0x", 1, not_digit(b'x'));
        bad(
            Linter::Hh,
            "",
            0,
            Problem::WrongLength {
                expected: 2,
                found: 0,
            },
        );
        bad(
            Linter::Hh,
            "111",
            0,
            Problem::WrongLength {
                expected: 2,
                found: 3,
            },
        );

        ok(Linter::Mi, "00");
        ok(Linter::Mi, "59");
        bad(Linter::Mi, "60", 0, Problem::NotAMinute { value: 60 });
        bad(
            Linter::Mi,
            "1",
            0,
            Problem::WrongLength {
                expected: 2,
                found: 1,
            },
        );
        bad(Linter::Mi, "0x", 1, not_digit(b'x'));

        ok(Linter::Ss, "00");
        ok(Linter::Ss, "59");
        bad(Linter::Ss, "60", 0, Problem::NotASecond { value: 60 });
        bad(
            Linter::Ss,
            "1111",
            0,
            Problem::WrongLength {
                expected: 2,
                found: 4,
            },
        );
        bad(Linter::Ss, "x0", 0, not_digit(b'x'));

        ok(Linter::Hhmi, "0000");
        ok(Linter::Hhmi, "2359");
        ok(Linter::Hhmi, "1200");
        bad(Linter::Hhmi, "2400", 0, Problem::NotAnHour { value: 24 });
        bad(Linter::Hhmi, "0060", 2, Problem::NotAMinute { value: 60 });
        bad(Linter::Hhmi, "0x00", 1, not_digit(b'x'));
        bad(Linter::Hhmi, "000x", 3, not_digit(b'x'));
        bad(
            Linter::Hhmi,
            "111",
            0,
            Problem::WrongLength {
                expected: 4,
                found: 3,
            },
        );
        bad(
            Linter::Hhmi,
            "11111",
            0,
            Problem::WrongLength {
                expected: 4,
                found: 5,
            },
        );
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
    fn iso3166_family() {
        let not = Problem::NotInCodeList(CodeList::Iso3166);
        for s in ["004", "008", "010", "250", "276", "826", "840", "894"] {
            ok(Linter::Iso3166, s);
        }
        for s in [
            "", "0", "00", "000", "0000", "001", "999", "AAA", "_894", "894_", "895",
        ] {
            bad(Linter::Iso3166, s, 0, not);
        }

        ok(Linter::Iso3166999, "999");
        ok(Linter::Iso3166999, "004");
        ok(Linter::Iso3166999, "894");
        let not999 = Problem::NotInCodeList(CodeList::Iso3166Or999);
        for s in ["000", "998", "", "9", "99", "9999", "_999", "999_", "AAA"] {
            bad(Linter::Iso3166999, s, 0, not999);
        }

        let not2 = Problem::NotInCodeList(CodeList::Iso3166Alpha2);
        for s in ["AD", "AE", "BQ", "CW", "DE", "FR", "GB", "US", "ZW", "XK"] {
            if s == "XK" {
                // Kosovo's user-assigned code is not ISO 3166.
                bad(Linter::Iso3166alpha2, s, 0, not2);
            } else {
                ok(Linter::Iso3166alpha2, s);
            }
        }
        for s in ["", "A", "AA", "AAA", "_AD", "AD_", "AN", "UK", "EU", "ad"] {
            bad(Linter::Iso3166alpha2, s, 0, not2);
        }
    }

    #[test]
    fn iso4217() {
        let not = Problem::NotInCodeList(CodeList::Iso4217);
        for s in ["008", "012", "840", "978", "826", "999"] {
            ok(Linter::Iso4217, s);
        }
        for s in [
            "", "0", "00", "000", "0000", "001", "_999", "999_", "AAA", "EUR", "010",
        ] {
            bad(Linter::Iso4217, s, 0, not);
        }
    }

    #[test]
    fn iso5218_winding_yesno() {
        for s in ["0", "1", "2", "9"] {
            ok(Linter::Iso5218, s);
        }
        for s in ["3", "8", "", "/", ":", "01"] {
            bad(
                Linter::Iso5218,
                s,
                0,
                Problem::NotInCodeList(CodeList::Iso5218),
            );
        }
        for s in ["0", "1", "9"] {
            ok(Linter::Winding, s);
        }
        for s in ["2", "8", "", "/", ":", "01"] {
            bad(
                Linter::Winding,
                s,
                0,
                Problem::NotInCodeList(CodeList::Winding),
            );
        }
        ok(Linter::Yesno, "0");
        ok(Linter::Yesno, "1");
        for s in ["", "/", "2", "01"] {
            bad(Linter::Yesno, s, 0, Problem::NotInCodeList(CodeList::YesNo));
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
    fn mediatype() {
        let not = Problem::NotInCodeList(CodeList::MediaType);
        for s in ["01", "05", "10", "80", "91", "99"] {
            ok(Linter::Mediatype, s);
        }
        for s in [
            "", "0", "00", "000", "_01", "01_", "AA", "11", "29", "59", "79",
        ] {
            bad(Linter::Mediatype, s, 0, not);
        }
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
    fn packagetype() {
        let not = Problem::NotInCodeList(CodeList::PackageType);
        for s in [
            "1A", "200", "212", "2C", "8", "9", "APE", "BX", "CT", "PX", "X11", "X3", "ZZ",
        ] {
            ok(Linter::Packagetype, s);
        }
        for s in [
            "", "0", "00", "000", "0000", "_9", "9_", "_1A", "1A_", "_200", "200_", "bx", "AE",
        ] {
            bad(Linter::Packagetype, s, 0, not);
        }
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

    fn bad_date(linter: Linter, data: &str, offset: usize, issue: DateIssue) {
        bad(linter, data, offset, Problem::NotADate(issue));
    }

    #[test]
    fn yymmd0_and_yymmdd() {
        for linter in [Linter::Yymmd0, Linter::Yymmdd] {
            for s in [
                "000606", "250606", "500606", "750606", "990606", "200131", "201231",
            ] {
                ok(linter, s);
            }
            bad(linter, "x00131", 0, not_digit(b'x'));
            bad(linter, "20013x", 5, not_digit(b'x'));
            bad_date(
                linter,
                "",
                0,
                DateIssue::Length {
                    expected: 6,
                    found: 0,
                },
            );
            bad_date(
                linter,
                "11111",
                0,
                DateIssue::Length {
                    expected: 6,
                    found: 5,
                },
            );
            bad_date(
                linter,
                "1111111",
                0,
                DateIssue::Length {
                    expected: 6,
                    found: 7,
                },
            );
            bad_date(linter, "200010", 2, DateIssue::Month(0));
            bad_date(linter, "201310", 2, DateIssue::Month(13));
            bad_date(linter, "200132", 4, DateIssue::Day { month: 1, day: 32 });
            bad_date(linter, "200431", 4, DateIssue::Day { month: 4, day: 31 });
            bad_date(linter, "201131", 4, DateIssue::Day { month: 11, day: 31 });
            // Leap years: YY 00-71 is 2000-2071 and 72-99 is 1972-1999 (the
            // reference's 50-year window around 2021), so YY divisible by 4
            // is a leap year, including 00 (2000).
            for yy in ["00", "04", "20", "24", "96", "72"] {
                ok(linter, &format!("{yy}0229"));
                bad_date(
                    linter,
                    &format!("{yy}0230"),
                    4,
                    DateIssue::Day { month: 2, day: 30 },
                );
            }
            for yy in ["21", "22", "23", "25", "99", "01"] {
                ok(linter, &format!("{yy}0228"));
                bad_date(
                    linter,
                    &format!("{yy}0229"),
                    4,
                    DateIssue::Day { month: 2, day: 29 },
                );
            }
        }
        // DD=00: the month as a whole, only for yymmd0.
        ok(Linter::Yymmd0, "200600");
        ok(Linter::Yymmd0, "250200");
        bad_date(
            Linter::Yymmdd,
            "200600",
            4,
            DateIssue::Day { month: 6, day: 0 },
        );
        // DD=00 does not excuse a bad month.
        bad_date(Linter::Yymmd0, "251300", 2, DateIssue::Month(13));
    }

    #[test]
    fn yyyymmdd() {
        for s in ["20000606", "20250606", "19750606", "20200131", "20201231"] {
            ok(Linter::Yyyymmdd, s);
        }
        bad(Linter::Yyyymmdd, "x0200131", 0, not_digit(b'x'));
        bad(Linter::Yyyymmdd, "2020013x", 7, not_digit(b'x'));
        bad_date(
            Linter::Yyyymmdd,
            "1111111",
            0,
            DateIssue::Length {
                expected: 8,
                found: 7,
            },
        );
        bad_date(
            Linter::Yyyymmdd,
            "111111111",
            0,
            DateIssue::Length {
                expected: 8,
                found: 9,
            },
        );
        bad_date(Linter::Yyyymmdd, "20200010", 4, DateIssue::Month(0));
        bad_date(Linter::Yyyymmdd, "20209910", 4, DateIssue::Month(99));
        bad_date(
            Linter::Yyyymmdd,
            "20200931",
            6,
            DateIssue::Day { month: 9, day: 31 },
        );
        // Leap years, Gregorian rule.
        for y in ["2020", "2024", "2000", "1996", "2400"] {
            ok(Linter::Yyyymmdd, &format!("{y}0229"));
            bad_date(
                Linter::Yyyymmdd,
                &format!("{y}0230"),
                6,
                DateIssue::Day { month: 2, day: 30 },
            );
        }
        for y in ["2021", "2023", "1900", "2100", "2200"] {
            ok(Linter::Yyyymmdd, &format!("{y}0228"));
            bad_date(
                Linter::Yyyymmdd,
                &format!("{y}0229"),
                6,
                DateIssue::Day { month: 2, day: 29 },
            );
        }
        bad_date(
            Linter::Yyyymmdd,
            "20200600",
            6,
            DateIssue::Day { month: 6, day: 0 },
        );
    }

    fn coupon(field: CouponField, issue: CouponIssue) -> Problem {
        Problem::Coupon { field, issue }
    }

    #[test]
    fn couponposoffer() {
        use CouponField as F;
        use CouponIssue as I;
        let l = Linter::Couponposoffer;
        ok(l, "001234561234560123456");
        ok(l, "101234561234560123456");
        ok(l, "0012345612345611234567");
        ok(l, "001234561234569123456789012345");
        ok(l, "061234567890121234569123456789012345");
        bad(l, "a01234561234560123456", 0, not_digit(b'a'));
        bad(l, "00123456123456012345a", 20, not_digit(b'a'));
        bad(l, "", 0, coupon(F::FormatCode, I::Missing));
        bad(
            l,
            "201234561234560123456",
            0,
            coupon(F::FormatCode, I::InvalidValue),
        );
        bad(l, "0", 0, coupon(F::Funder, I::Missing));
        bad(l, "00", 0, coupon(F::Funder, I::Truncated));
        bad(l, "001", 2, coupon(F::Funder, I::Truncated));
        bad(l, "0012345", 2, coupon(F::Funder, I::Truncated));
        bad(l, "07", 1, coupon(F::Funder, I::BadLengthIndicator));
        bad(l, "09", 1, coupon(F::Funder, I::BadLengthIndicator));
        bad(l, "00123456", 0, coupon(F::OfferCode, I::Truncated));
        bad(l, "01123456", 2, coupon(F::Funder, I::Truncated));
        bad(l, "001234561", 8, coupon(F::OfferCode, I::Truncated));
        bad(l, "0012345612345", 8, coupon(F::OfferCode, I::Truncated));
        bad(l, "00123456123456", 0, coupon(F::SerialNumber, I::Missing));
        bad(
            l,
            "001234561234560",
            0,
            coupon(F::SerialNumber, I::Truncated),
        );
        bad(
            l,
            "0012345612345601",
            15,
            coupon(F::SerialNumber, I::Truncated),
        );
        bad(
            l,
            "001234561234561123456",
            15,
            coupon(F::SerialNumber, I::Truncated),
        );
        bad(
            l,
            "0012345612345601234567",
            21,
            coupon(F::Trailing, I::ExcessData),
        );
        bad(
            l,
            "0612345678901212345691234567890123456",
            36,
            coupon(F::Trailing, I::ExcessData),
        );
    }

    #[test]
    fn couponcode_mandatory_fields() {
        use CouponField as F;
        use CouponIssue as I;
        let l = Linter::Couponcode;
        ok(l, "012345612345611110123");
        bad(l, "a12345612345611110123", 0, not_digit(b'a'));
        bad(l, "01234561234561111012a", 20, not_digit(b'a'));
        bad(l, "", 0, coupon(F::CompanyPrefix, I::Missing));
        bad(l, "0", 0, coupon(F::CompanyPrefix, I::Truncated));
        bad(l, "01", 1, coupon(F::CompanyPrefix, I::Truncated));
        bad(l, "012345", 1, coupon(F::CompanyPrefix, I::Truncated));
        bad(l, "0123456", 0, coupon(F::OfferCode, I::Truncated));
        bad(l, "612345678901", 1, coupon(F::CompanyPrefix, I::Truncated));
        bad(l, "6123456789012", 0, coupon(F::OfferCode, I::Truncated));
        bad(
            l,
            "71234567890123",
            0,
            coupon(F::CompanyPrefix, I::BadLengthIndicator),
        );
        bad(
            l,
            "9123456789012345",
            0,
            coupon(F::CompanyPrefix, I::BadLengthIndicator),
        );
        bad(l, "01234561", 7, coupon(F::OfferCode, I::Truncated));
        bad(l, "0123456123456", 0, coupon(F::SaveValue, I::Missing));
        bad(
            l,
            "01234561234560",
            13,
            coupon(F::SaveValue, I::BadLengthIndicator),
        );
        bad(l, "01234561234561", 0, coupon(F::SaveValue, I::Truncated));
        bad(l, "012345612345621", 14, coupon(F::SaveValue, I::Truncated));
        bad(
            l,
            "012345612345611",
            0,
            coupon(F::FirstPurchaseRequirement, I::Missing),
        );
        bad(
            l,
            "0123456123456116",
            15,
            coupon(F::FirstPurchaseRequirement, I::BadLengthIndicator),
        );
        bad(
            l,
            "0123456123456111",
            0,
            coupon(F::FirstPurchaseRequirement, I::Truncated),
        );
        bad(
            l,
            "01234561234561111",
            0,
            coupon(F::FirstPurchaseRequirementCode, I::Missing),
        );
        bad(
            l,
            "012345612345611115",
            17,
            coupon(F::FirstPurchaseRequirementCode, I::InvalidValue),
        );
        ok(l, "012345612345611119123");
        bad(
            l,
            "012345612345611110",
            0,
            coupon(F::FirstPurchaseFamilyCode, I::Truncated),
        );
        bad(
            l,
            "01234561234561111012",
            18,
            coupon(F::FirstPurchaseFamilyCode, I::Truncated),
        );
        bad(
            l,
            "0123456123456111101237",
            21,
            coupon(F::Trailing, I::ExcessData),
        );
    }

    #[test]
    fn couponcode_optional_fields() {
        use CouponField as F;
        use CouponIssue as I;
        let l = Linter::Couponcode;
        let base = "012345612345611110123";
        let with = |tail: &str| format!("{base}{tail}");

        // 1: additional rules + second purchase (GCP VLI 9 = no GCP).
        ok(l, &with("101112340123456"));
        ok(l, &with("101112349"));
        ok(l, &with("131123499"));
        bad(
            l,
            &with("1"),
            0,
            coupon(F::AdditionalPurchaseRulesCode, I::Missing),
        );
        bad(
            l,
            &with("14"),
            22,
            coupon(F::AdditionalPurchaseRulesCode, I::InvalidValue),
        );
        bad(
            l,
            &with("10"),
            0,
            coupon(F::SecondPurchaseRequirement, I::Missing),
        );
        bad(
            l,
            &with("106"),
            23,
            coupon(F::SecondPurchaseRequirement, I::BadLengthIndicator),
        );
        bad(
            l,
            &with("1011"),
            0,
            coupon(F::SecondPurchaseRequirementCode, I::Missing),
        );
        bad(
            l,
            &with("10115"),
            25,
            coupon(F::SecondPurchaseRequirementCode, I::InvalidValue),
        );
        bad(
            l,
            &with("101112"),
            26,
            coupon(F::SecondPurchaseFamilyCode, I::Truncated),
        );
        bad(
            l,
            &with("10111234"),
            0,
            coupon(F::SecondPurchaseCompanyPrefix, I::Missing),
        );
        bad(
            l,
            &with("101112347"),
            29,
            coupon(F::SecondPurchaseCompanyPrefix, I::BadLengthIndicator),
        );
        bad(
            l,
            &with("101112340123"),
            30,
            coupon(F::SecondPurchaseCompanyPrefix, I::Truncated),
        );

        // 2: third purchase.
        ok(l, &with("21501230123456"));
        ok(l, &with("21501239"));
        bad(
            l,
            &with("2"),
            0,
            coupon(F::ThirdPurchaseRequirement, I::Missing),
        );
        bad(
            l,
            &with("20"),
            22,
            coupon(F::ThirdPurchaseRequirement, I::BadLengthIndicator),
        );
        bad(
            l,
            &with("2116"),
            24,
            coupon(F::ThirdPurchaseRequirementCode, I::InvalidValue),
        );
        bad(
            l,
            &with("2150123"),
            0,
            coupon(F::ThirdPurchaseCompanyPrefix, I::Missing),
        );

        // 3 and 4: expiration and start dates.
        ok(l, &with("3251231"));
        ok(l, &with("4250101"));
        ok(l, &with("32512314250101"));
        ok(l, &with("32501014250101")); // Same day.
        bad(
            l,
            &with("325123"),
            22,
            coupon(F::ExpirationDate, I::Truncated),
        );
        bad(l, &with("3"), 0, coupon(F::ExpirationDate, I::Truncated));
        bad(
            l,
            &with("3251232"),
            22,
            coupon(F::ExpirationDate, I::InvalidValue),
        );
        bad(
            l,
            &with("3250200"),
            22,
            coupon(F::ExpirationDate, I::InvalidValue),
        );
        bad(
            l,
            &with("4251301"),
            22,
            coupon(F::StartDate, I::InvalidValue),
        );
        bad(
            l,
            &with("32501014250102"),
            21,
            coupon(F::ExpirationDate, I::ExpiresBeforeStart),
        );

        // 5: serial number.
        ok(l, &with("50123456"));
        ok(l, &with("59123456789012345"));
        bad(l, &with("5"), 0, coupon(F::SerialNumber, I::Missing));
        bad(
            l,
            &with("5012345"),
            23,
            coupon(F::SerialNumber, I::Truncated),
        );

        // 6: retailer GCP/GLN.
        ok(l, &with("611234567"));
        ok(l, &with("671234567890123"));
        bad(l, &with("6"), 0, coupon(F::RetailerId, I::Missing));
        bad(
            l,
            &with("60"),
            22,
            coupon(F::RetailerId, I::BadLengthIndicator),
        );
        bad(
            l,
            &with("68"),
            22,
            coupon(F::RetailerId, I::BadLengthIndicator),
        );
        bad(l, &with("6112345"), 23, coupon(F::RetailerId, I::Truncated));

        // 9: miscellaneous.
        ok(l, &with("90001"));
        ok(l, &with("96291"));
        bad(l, &with("9"), 0, coupon(F::SaveValueCode, I::Missing));
        bad(
            l,
            &with("93"),
            22,
            coupon(F::SaveValueCode, I::InvalidValue),
        );
        bad(
            l,
            &with("90"),
            0,
            coupon(F::SaveValueAppliesToItem, I::Missing),
        );
        bad(
            l,
            &with("903"),
            23,
            coupon(F::SaveValueAppliesToItem, I::InvalidValue),
        );
        bad(l, &with("900"), 0, coupon(F::StoreCouponFlag, I::Missing));
        bad(l, &with("9000"), 0, coupon(F::DontMultiplyFlag, I::Missing));
        bad(
            l,
            &with("90002"),
            25,
            coupon(F::DontMultiplyFlag, I::InvalidValue),
        );

        // Verbatim from the reference's test list.
        ok(l, "01234561234561111012335006064500606");
        bad(
            l,
            "01234561234561111012335006064500607",
            21,
            coupon(F::ExpirationDate, I::ExpiresBeforeStart),
        );
        ok(l, "0123456123456111101234200229");
        bad(
            l,
            "0123456123456111101234210229",
            22,
            coupon(F::StartDate, I::InvalidValue),
        );
        bad(
            l,
            "0123456123456111101234200600",
            22,
            coupon(F::StartDate, I::InvalidValue),
        );
        bad(
            l,
            "012345612345611110123412345",
            22,
            coupon(F::StartDate, I::Truncated),
        );
        bad(
            l,
            "01234561234561111012342002290",
            28,
            coupon(F::Trailing, I::ExcessData),
        );
        ok(l, "01234561234561111012359123456789012345");
        bad(
            l,
            "01234561234561111012350",
            0,
            coupon(F::SerialNumber, I::Truncated),
        );
        bad(
            l,
            "012345612345611110123501234560",
            29,
            coupon(F::Trailing, I::ExcessData),
        );
        ok(l, "012345612345611110123671234567890123");
        bad(
            l,
            "01234561234561111012369123456789012345",
            22,
            coupon(F::RetailerId, I::BadLengthIndicator),
        );
        bad(
            l,
            "01234561234561111012361",
            0,
            coupon(F::RetailerId, I::Truncated),
        );
        bad(
            l,
            "01234561234561111012397",
            22,
            coupon(F::SaveValueCode, I::InvalidValue),
        );
        bad(
            l,
            "01234561234561111012395",
            0,
            coupon(F::SaveValueAppliesToItem, I::Missing),
        );
        bad(
            l,
            "012345612345611110123909",
            23,
            coupon(F::SaveValueAppliesToItem, I::InvalidValue),
        );
        bad(
            l,
            "0123456123456111101239002",
            0,
            coupon(F::DontMultiplyFlag, I::Missing),
        );

        // All of them, in order; out of order is excess data.
        ok(
            l,
            &with("10111234012345621501230123456325123142501015012345661123456790001"),
        );
        bad(
            l,
            &with("900011011123495"),
            26,
            coupon(F::Trailing, I::ExcessData),
        );
    }

    #[test]
    fn display_reads_after_the_value() {
        let text = |linter: Linter, data: &str| {
            check(linter, data.as_bytes())
                .unwrap_err()
                .problem
                .to_string()
        };
        assert_eq!(
            text(Linter::Yymmdd, "250230"),
            "is not a date (February has no day 30)"
        );
        assert_eq!(
            text(Linter::Csum, "09506000134353"),
            "has a wrong check digit: expected 2, found 3"
        );
        assert_eq!(
            text(Linter::Cset82, "AB~"),
            "contains '~', which is not allowed here (GS1 character set 82)"
        );
        assert_eq!(
            text(Linter::Iso4217, "000"),
            "is not an ISO 4217 currency code"
        );
        assert_eq!(
            text(Linter::Digits, "1\u{ff}"),
            "contains byte 0xC3, which is not a digit"
        );
        assert_eq!(
            text(Linter::Yymmdd, "251301"),
            "is not a date (there is no month 13)"
        );
        for linter in ALL {
            for input in ["", "\u{ff}", "0", "x/y", "9999999999", "%"] {
                if let Err(e) = check(linter, input.as_bytes()) {
                    assert!(!e.problem.to_string().is_empty());
                    assert!(!e.to_string().is_empty());
                }
            }
        }
    }
}
