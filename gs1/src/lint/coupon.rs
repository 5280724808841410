//! The North American coupon codes, AI (8110) and (8112), field by field.

use super::charset::digits;
use super::date_time::yymmdd;
use super::{err, CouponField, CouponIssue, LintError, Problem};

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
pub(super) fn couponcode(d: &[u8]) -> Result<(), LintError> {
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
pub(super) fn couponposoffer(d: &[u8]) -> Result<(), LintError> {
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
    use crate::lint::test_util::*;

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
}
