//! What a failed linter reports: the [`Problem`] and the parts it names
//! (character sets, code lists, date and coupon issues), with the words a
//! dock supervisor reads after the value.

use std::fmt;

/// What is wrong, in terms a dock supervisor understands.
///
/// The [`Display`](fmt::Display) text is written to follow the component's
/// value: `250230` + `" "` + `is not a date (February has no day 30)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    /// A byte that must be a digit is not.
    NotDigit {
        /// What was found.
        found: u8,
    },
    /// A byte outside the character set the component allows.
    InvalidCharacter {
        /// What was found.
        found: u8,
        /// The character set that applies.
        set: CharSet,
    },
    /// Base64 `=` padding that is too long or leaves a length that is not a
    /// multiple of three.
    BadPadding,
    /// The component has the wrong number of characters.
    WrongLength {
        /// What was expected.
        expected: usize,
        /// What was found.
        found: usize,
    },
    /// The component is shorter than the least it may be.
    TooShort {
        /// The least allowed.
        min: usize,
        /// What was found.
        found: usize,
    },
    /// The component is longer than the most it may be.
    TooLong {
        /// The most allowed.
        max: usize,
        /// What was found.
        found: usize,
    },
    /// The last digit is not the GS1 mod-10 check digit.
    WrongCheckDigit {
        /// What was expected.
        expected: u8,
        /// What was found.
        found: u8,
    },
    /// The last two characters are not the GS1 alphanumeric check pair.
    WrongCheckPair {
        /// What was expected.
        expected: [u8; 2],
        /// What was found.
        found: [u8; 2],
    },
    /// The component does not start with (the shape of) a GS1 Company Prefix.
    NoCompanyPrefix,
    /// The component must contain at least one non-digit.
    AllDigits,
    /// The component is not a valid date.
    NotADate(DateIssue),
    /// The component is not a valid hour of the day (00-23).
    NotAnHour {
        /// The value found.
        value: u8,
    },
    /// The component is not a valid minute (00-59).
    NotAMinute {
        /// The value found.
        value: u8,
    },
    /// The component is not a valid second (00-59).
    NotASecond {
        /// The value found.
        value: u8,
    },
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
        /// The field at fault.
        field: CouponField,
        /// What is wrong with it.
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
    /// ISO 3166-1 numeric country codes.
    Iso3166,
    /// ISO 3166-1 numeric country codes and 999.
    Iso3166Or999,
    /// ISO 3166-1 two-letter country codes.
    Iso3166Alpha2,
    /// ISO 4217 numeric currency codes.
    Iso4217,
    /// ISO/IEC 5218 sex codes.
    Iso5218,
    /// GS1 AIDC media types.
    MediaType,
    /// Package types (UN/ECE Recommendation 21).
    PackageType,
    /// Winding directions.
    Winding,
    /// 0 (no) or 1 (yes).
    YesNo,
}

/// What is wrong with a date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateIssue {
    /// Wrong number of characters.
    Length {
        /// What was expected.
        expected: u8,
        /// What was found.
        found: usize,
    },
    /// Month outside 01-12.
    Month(u8),
    /// Day that the month does not have (day 0 where DD=00 is not allowed).
    Day {
        /// The month (1-12).
        month: u8,
        /// The day found.
        day: u8,
    },
}

/// The fields of the North American coupon formats, AI (8110) and (8112).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CouponField {
    /// The format code (8112).
    FormatCode,
    /// The funder ID (8112).
    Funder,
    /// The primary GS1 Company Prefix.
    CompanyPrefix,
    /// The offer code.
    OfferCode,
    /// The save value.
    SaveValue,
    /// The first purchase requirement.
    FirstPurchaseRequirement,
    /// The first purchase requirement code.
    FirstPurchaseRequirementCode,
    /// The first purchase family code.
    FirstPurchaseFamilyCode,
    /// The additional purchase rules code.
    AdditionalPurchaseRulesCode,
    /// The second purchase requirement.
    SecondPurchaseRequirement,
    /// The second purchase requirement code.
    SecondPurchaseRequirementCode,
    /// The second purchase family code.
    SecondPurchaseFamilyCode,
    /// The second purchase GS1 Company Prefix.
    SecondPurchaseCompanyPrefix,
    /// The third purchase requirement.
    ThirdPurchaseRequirement,
    /// The third purchase requirement code.
    ThirdPurchaseRequirementCode,
    /// The third purchase family code.
    ThirdPurchaseFamilyCode,
    /// The third purchase GS1 Company Prefix.
    ThirdPurchaseCompanyPrefix,
    /// The expiration date.
    ExpirationDate,
    /// The start date.
    StartDate,
    /// The serial number.
    SerialNumber,
    /// The retailer GS1 Company Prefix or GLN.
    RetailerId,
    /// The save value code.
    SaveValueCode,
    /// Which item the save value applies to.
    SaveValueAppliesToItem,
    /// The store coupon flag.
    StoreCouponFlag,
    /// The don't-multiply flag.
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

#[cfg(test)]
mod tests {
    use crate::lint::test_util::*;

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
