//! Where a GS1 Company Prefix must start (`gcppos1`, `gcppos2`), checked as
//! the reference does without a GCP look-up service.

use super::{err, LintError, Problem};

/// The shortest GS1 Company Prefix is four digits.
const GCP_MIN_LENGTH: usize = 4;

pub(super) fn gcppos1(d: &[u8]) -> Result<(), LintError> {
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

pub(super) fn gcppos2(d: &[u8]) -> Result<(), LintError> {
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

#[cfg(test)]
mod tests {
    use crate::lint::test_util::*;

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
}
