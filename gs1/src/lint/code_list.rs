//! Code lists: ISO 3166 countries, ISO 4217 currencies, ISO/IEC 5218 sexes,
//! media and package types, winding directions, yes/no (data in
//! [`tables`](super::tables)).

use super::{err, tables, CodeList, LintError, Problem};

/// Exactly one byte, from `allowed`.
pub(super) fn one_of(d: &[u8], allowed: &[u8], list: CodeList) -> Result<(), LintError> {
    match d {
        [b] if allowed.contains(b) => Ok(()),
        _ => err(0, Problem::NotInCodeList(list)),
    }
}

pub(super) fn in_list(d: &[u8], list: &[&str], which: CodeList) -> Result<(), LintError> {
    if tables::contains(list, d) {
        Ok(())
    } else {
        err(0, Problem::NotInCodeList(which))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::test_util::*;

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
}
