//! Properties of the GS1 engine over generated input: arbitrary bytes never
//! panic or yield a partial result, and valid messages survive a round trip
//! through every renderer.

mod support;

use proptest::prelude::*;
use scantrail_gs1::dictionary::{entries, matches_pattern, AiEntry};
use scantrail_gs1::{
    parse_scan, render_bracketed, render_digital_link, render_unbracketed, Content, ErrorKind,
    Scan, GS,
};
use support::values::valid_value;

/// AIs that may stand beside a GTIN with nothing else required.
fn companions_of_gtin() -> Vec<&'static AiEntry> {
    entries()
        .iter()
        .filter(|e| e.ai != "01" && !matches!(e.ai, "8110" | "8112"))
        .filter(|e| {
            e.req.iter().all(|alts| {
                alts.iter()
                    .any(|g| g.iter().all(|p| matches_pattern(p, "01")))
            })
        })
        .filter(|e| !e.ex.iter().any(|p| matches_pattern(p, "01")))
        .filter(|e| !["255", "37"].contains(&e.ai))
        .collect()
}

fn ais(scan: &Scan<'_>) -> Vec<(String, String)> {
    let Content::Gs1(elements) = &scan.content else {
        panic!("not GS1")
    };
    elements
        .iter()
        .map(|e| (e.ai().to_owned(), e.value().to_owned()))
        .collect()
}

fn message() -> impl Strategy<Value = String> {
    let companions = companions_of_gtin();
    assert!(companions.len() > 100, "{}", companions.len());
    (
        0usize..9,
        proptest::collection::vec((0..companions.len(), 0usize..4), 0..6),
    )
        .prop_map(move |(gtin_variant, picks)| {
            let gtin = valid_value(
                scantrail_gs1::dictionary::lookup(b"01").unwrap(),
                gtin_variant,
            )
            .unwrap();
            let mut out = format!("(01){gtin}");
            for (index, variant) in picks {
                let entry = companions[index];
                let value = valid_value(entry, variant).unwrap().replace('(', "\\(");
                out.push_str(&format!("({}){value}", entry.ai));
            }
            out
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse_scan(&bytes, None);
        let _ = parse_scan(&bytes, Some(b'~'));
    }

    #[test]
    fn arbitrary_bytes_after_an_aim_identifier_never_panic(
        id in prop::sample::select(vec!["]d2", "]C1", "]e0", "]Q3", "]J1", "]E0", "]E4", "]I1", "]Q1", "]d1", "(", "https://x/01/"]),
        bytes in proptest::collection::vec(any::<u8>(), 0..120),
    ) {
        let mut frame = id.as_bytes().to_vec();
        frame.extend_from_slice(&bytes);
        let _ = parse_scan(&frame, None);
    }

    #[test]
    fn gs1_like_noise_is_either_fully_valid_or_rejected(
        bytes in proptest::collection::vec(prop::sample::select(b"0123456789ABC\x1d".to_vec()), 0..60),
    ) {
        // A result is never partial: an accepted scan re-renders to data that
        // parses to the same AIs.
        if let Ok(scan) = parse_scan(&bytes, None) {
            let first = ais(&scan);
            let Content::Gs1(elements) = &scan.content else { unreachable!() };
            let again = render_unbracketed(elements, GS);
            prop_assert_eq!(ais(&parse_scan(&again, None).unwrap()), first);
        }
    }

    #[test]
    fn valid_messages_round_trip_through_every_form(input in message()) {
        let scan = match parse_scan(input.as_bytes(), None) {
            Ok(scan) => scan,
            // Two generated AIs may exclude or need each other; that is the
            // message rules working, not a round-trip failure.
            Err(e) if matches!(e.kind, ErrorKind::Excluded { .. } | ErrorKind::Requires { .. } | ErrorKind::RepeatedWithDifferentValue { .. }) => return Ok(()),
            Err(e) => return Err(TestCaseError::fail(format!("{input}: {e}"))),
        };
        let expected = ais(&scan);
        let Content::Gs1(elements) = &scan.content else { unreachable!() };

        let bracketed = render_bracketed(elements);
        prop_assert_eq!(ais(&parse_scan(bracketed.as_bytes(), None).unwrap()), expected.clone());

        let mut unbracketed = b"]d2".to_vec();
        unbracketed.extend(render_unbracketed(elements, GS));
        prop_assert_eq!(ais(&parse_scan(&unbracketed, None).unwrap()), expected.clone());

        // A Digital Link URI may order the AIs differently (key, qualifiers,
        // then attributes) and holds each AI once; AIs that are not Digital
        // Link attributes cannot be rendered, which the renderer must say.
        match render_digital_link(elements, "https://id.gs1.org") {
            Ok(uri) => {
                let mut got = ais(&parse_scan(uri.as_bytes(), None).unwrap());
                let mut want = expected.clone();
                got.sort();
                want.sort();
                want.dedup();
                prop_assert_eq!(got, want, "{}", uri);
            }
            Err(e) => prop_assert!(matches!(e.kind, ErrorKind::CannotRender(_)), "{}", e),
        }
    }
}

#[test]
fn a_ten_megabyte_line_is_rejected_without_panicking() {
    let mut line = b"]d20109506000134352\x31\x30".to_vec();
    line.resize(10 * 1024 * 1024, b'A');
    let error = parse_scan(&line, None).unwrap_err();
    assert!(matches!(error.kind, ErrorKind::TooLong { .. }), "{error}");
    let noise: Vec<u8> = (0..10 * 1024 * 1024u64)
        .map(|i| (i * 7919 % 251) as u8)
        .collect();
    assert!(parse_scan(&noise, None).is_err());
}

#[test]
fn lone_separators_and_invalid_utf8_are_rejected() {
    for input in [
        &b"\x1d"[..],
        b"\x1d\x1d",
        b"]d2\x1d",
        b"\xff\xfe",
        b"01\xff",
        b"]C1\x00",
    ] {
        assert!(parse_scan(input, None).is_err(), "{input:?}");
    }
}
