//! Valid values for any AI of the dictionary, built from its components and
//! linters, for tests that must cover the whole table.

use scantrail_gs1::dictionary::{AiEntry, Component};
use scantrail_gs1::lint::Linter;

/// A valid value for `entry`, with `variant` picking among a few shapes;
/// `None` for the coupon AIs, whose structure is tested in the linters.
pub fn valid_value(entry: &AiEntry, variant: usize) -> Option<String> {
    let mut value = String::new();
    for component in entry.components {
        if component.optional && variant.is_multiple_of(2) {
            break;
        }
        value.push_str(&component_value(component, variant)?);
    }
    Some(value)
}

fn component_value(c: &Component, variant: usize) -> Option<String> {
    let len = if c.min == c.max {
        c.max
    } else {
        c.min + variant % (c.max - c.min + 1)
    };
    let has = |l: Linter| c.linters.contains(&l);
    let fixed = |s: &str| Some(s.to_owned());
    if has(Linter::Couponcode) || has(Linter::Couponposoffer) {
        return None;
    }
    if has(Linter::Yymmd0) || has(Linter::Yymmdd) {
        return fixed(["251231", "240229", "260115"][variant % 3]);
    }
    if has(Linter::Yyyymmdd) {
        return fixed("20240229");
    }
    if has(Linter::Hhmi) {
        return fixed("2359");
    }
    if has(Linter::Hh) {
        return fixed("23");
    }
    if has(Linter::Mi) || has(Linter::Ss) {
        return fixed("59");
    }
    if has(Linter::Iso3166) || has(Linter::Iso3166999) {
        return fixed("276");
    }
    if has(Linter::Iso3166alpha2) {
        return fixed("DE");
    }
    if has(Linter::Iso4217) {
        return fixed("978");
    }
    if has(Linter::Iso5218) || has(Linter::Yesno) || has(Linter::Winding) {
        return fixed("1");
    }
    if has(Linter::Zero) {
        return fixed("0");
    }
    if has(Linter::Latitude) {
        return fixed("1234567890");
    }
    if has(Linter::Longitude) {
        return fixed("0123456789");
    }
    if has(Linter::Mediatype) {
        return fixed("01");
    }
    if has(Linter::Pieceoftotal) {
        return fixed("0102");
    }
    if has(Linter::Posinseqslash) {
        return fixed("1/2");
    }
    if has(Linter::Hyphen) {
        return fixed("-");
    }
    if has(Linter::Importeridx) {
        return fixed("A");
    }
    if has(Linter::Packagetype) {
        return fixed("BX");
    }
    if has(Linter::Iban) {
        return fixed("GB82WEST12345698765432");
    }
    if has(Linter::Csumalpha) {
        // GS1 General Specifications' GMN example.
        return fixed("1987654Ad4X4bL5ttr2310c2K");
    }
    if has(Linter::Csum) {
        let body: String = (0..len - 1)
            .map(|i| char::from(b'1' + ((i + variant) % 9) as u8))
            .collect();
        return Some(format!("{body}{}", check_digit(&body)));
    }
    if has(Linter::Gcppos1) || has(Linter::Gcppos2) {
        // A GS1 Company Prefix must stand at the start: digits first.
        let len = len.max(6).min(c.max);
        let tail = if has(Linter::Hasnondigit) { "A" } else { "1" };
        return Some(format!("{}{}", &"95060001234"[..len - 1], tail));
    }
    let alphabet: &[u8] = match c.cset {
        Linter::Digits => b"123456789",
        Linter::Cset39 => b"0123456789ABCXYZ#-/",
        Linter::Cset64 => b"ABCxyz019-_",
        _ if has(Linter::Hasnondigit) => b"ABCxyz",
        _ => b"ABCxyz019-./_!%&*+:;<=>?",
    };
    Some(
        (0..len)
            .map(|i| char::from(alphabet[(i * 7 + variant) % alphabet.len()]))
            .collect(),
    )
}

/// The GS1 mod-10 check digit of `body`.
pub fn check_digit(body: &str) -> char {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    char::from(b'0' + ((10 - sum % 10) % 10) as u8)
}
