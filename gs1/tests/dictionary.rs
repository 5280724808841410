//! Every AI of the GS1 Barcode Syntax Dictionary parses and validates:
//! valid values pass, and values of the wrong length or characters fail.

mod support;

use scantrail_gs1::{check_value, dictionary::entries};
use support::values::valid_value;

#[test]
fn every_ai_accepts_valid_values_and_refuses_invalid_ones() {
    let mut covered = 0;
    for entry in entries() {
        let Some(value) = valid_value(entry, 0) else {
            assert!(matches!(entry.ai, "8110" | "8112"), "{}", entry.ai);
            continue;
        };
        for variant in 0..4 {
            let value = valid_value(entry, variant).unwrap();
            if let Err(e) = check_value(entry.ai, &value) {
                panic!("({}) {value:?}: {e}", entry.ai);
            }
        }
        let too_long = format!(
            "{value}{}",
            "1".repeat(entry.max_length() + 1 - value.len())
        );
        assert!(
            check_value(entry.ai, &too_long).is_err(),
            "({}) too long",
            entry.ai
        );
        assert!(check_value(entry.ai, "").is_err(), "({}) empty", entry.ai);
        let mut bad = value.clone();
        bad.replace_range(..1, "\u{7f}");
        assert!(
            check_value(entry.ai, &bad).is_err(),
            "({}) {bad:?}",
            entry.ai
        );
        if entry.min_length() > 1 {
            let short = &value[..entry.min_length() - 1];
            assert!(
                check_value(entry.ai, short).is_err(),
                "({}) {short:?}",
                entry.ai
            );
        }
        covered += 1;
    }
    assert!(covered >= 500, "covered {covered} AIs");
}

#[test]
fn unknown_ais_are_refused() {
    for ai in ["23", "2345", "1", "12345", "AB", ""] {
        assert!(check_value(ai, "1").is_err(), "{ai}");
    }
}
