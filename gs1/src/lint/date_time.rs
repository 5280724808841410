//! Dates and times: YYMMDD with the reference's century window, YYYYMMDD,
//! DD = 00 where the dictionary allows it, hours, minutes and seconds.

use super::charset::digits;
use super::{err, DateIssue, LintError, Problem};

/// A two-digit number failed; turned into the caller's problem.
pub(super) enum TwoDigitError {
    Other(LintError),
    TooBig(u8),
}

impl TwoDigitError {
    pub(super) fn into_problem(self, too_big: impl FnOnce(u8) -> Problem) -> LintError {
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
pub(super) fn two_digit(d: &[u8], max: u8) -> Result<(), TwoDigitError> {
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

pub(super) fn hhmi(d: &[u8]) -> Result<(), LintError> {
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
pub(super) fn yymmdd(d: &[u8], allow_dd00: bool) -> Result<(), LintError> {
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

pub(super) fn yyyymmdd(d: &[u8], allow_dd00: bool) -> Result<(), LintError> {
    date_shape(d, 8)?;
    let year = i32::from(two(&d[0..2])) * 100 + i32::from(two(&d[2..4]));
    month_day(year, two(&d[4..6]), two(&d[6..8]), 4, allow_dd00)
}

#[cfg(test)]
mod tests {
    use crate::lint::test_util::*;

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
}
