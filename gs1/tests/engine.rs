//! The GS1 engine through its public entry point, on real label data and on
//! the cases of GS1's reference engine (gs1/gs1-syntax-engine: ai.c and
//! scandata.c unit tests, re-expressed here).

use chrono::NaiveDate;
use scantrail_gs1::{
    parse_scan, render_bracketed, render_unbracketed, Content, ElementString, ErrorKind, Symbology,
};

fn ok(input: &[u8]) -> ElementString<'_> {
    match parse_scan(input, None) {
        Ok(scan) => match scan.content {
            Content::Gs1(elements) => elements,
            Content::Other(data) => panic!("{input:?} parsed as non-GS1 {data:?}"),
        },
        Err(e) => panic!("{:?} rejected: {e}", String::from_utf8_lossy(input)),
    }
}

fn rejected(input: &[u8]) -> String {
    match parse_scan(input, None) {
        Ok(scan) => panic!("{:?} accepted as {scan:?}", String::from_utf8_lossy(input)),
        Err(e) => e.to_string(),
    }
}

fn ais(elements: &ElementString<'_>) -> Vec<(String, String)> {
    elements
        .iter()
        .map(|e| (e.ai().to_owned(), e.value().to_owned()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, v)| (a.to_string(), v.to_string()))
        .collect()
}

const TODAY: fn() -> NaiveDate = || NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();

#[test]
fn pharma_datamatrix_with_gtin_expiry_lot_serial() {
    let scan = parse_scan(
        b"]d2010950600013435217251231\x31\x30ABC123\x1d21XYZ987",
        None,
    )
    .unwrap();
    assert_eq!(
        scan.symbology,
        Symbology::Aim {
            code: b'd',
            modifier: b'2'
        }
    );
    let e = scan.content.gs1().unwrap();
    assert_eq!(e.gtin(), Some("09506000134352"));
    assert_eq!(e.lot(), Some("ABC123"));
    assert_eq!(e.serial(), Some("XYZ987"));
    assert_eq!(e.expiry(TODAY()), NaiveDate::from_ymd_opt(2025, 12, 31));
    assert_eq!(e.elements()[1].offset, 21, "offset of the value of (17)");
}

#[test]
fn logistics_label_gs1_128_with_sscc_content_count_and_order() {
    let e = ok(b"]C100095060001343528648\x1d0209506000134352\x33\x3712\x1d400PO-4711");
    assert_eq!(
        ais(&e),
        pairs(&[
            ("00", "095060001343528648"),
            ("02", "09506000134352"),
            ("37", "12"),
            ("400", "PO-4711"),
        ])
    );
    assert_eq!(e.sscc(), Some("095060001343528648"));
    assert_eq!(e.count(), Some(12));
    assert_eq!(e.order_number(), Some("PO-4711"));
}

#[test]
fn variable_measure_3103_is_a_decimal_with_its_unit() {
    let e = ok(b"]C10109506000134352310300152515260115");
    let m = e.measure().unwrap();
    assert_eq!((m.mantissa, m.decimals, m.unit), (1525, 3, "kg"));
    assert_eq!(m.to_string(), "1.525 kg");
    assert_eq!(e.best_before(TODAY()), NaiveDate::from_ymd_opt(2026, 1, 15));
}

#[test]
fn separators_leading_trailing_and_after_fixed_length_values_are_accepted() {
    let expected = pairs(&[("01", "09506000134352"), ("10", "ABC"), ("21", "1")]);
    assert_eq!(ais(&ok(b"\x1d010950600013435210ABC\x1d211")), expected);
    assert_eq!(ais(&ok(b"0109506000134352\x1d10ABC\x1d211\x1d")), expected);
    assert_eq!(ais(&ok(b"]C1010950600013435210ABC\x1d211")), expected);
}

#[test]
fn a_substitute_separator_stands_for_gs() {
    let scan = parse_scan(b"010950600013435210ABC~211", Some(b'~')).unwrap();
    assert_eq!(scan.content.gs1().unwrap().serial(), Some("1"));
    // Without the substitute, `~` is data, and not a GS1 character.
    let e = rejected(b"010950600013435210ABC~211");
    assert!(e.contains("'~'"), "{e}");
}

#[test]
fn bracketed_form_with_escaped_parenthesis() {
    // ai.c: "(10)12345\\(11)991225" => ^1012345(11)991225
    let e = ok(b"(01)09506000134352(10)12345\\(11)991225");
    assert_eq!(e.lot(), Some("12345(11)991225"));
    let e = ok(b"(01)09506000134352(10)12345\\(");
    assert_eq!(e.lot(), Some("12345("));
    assert_eq!(render_bracketed(&e), "(01)09506000134352(10)12345\\(");
}

#[test]
fn bracketed_form_rejections_from_the_reference() {
    for input in [
        &b"(01)09506000134352(10)(11)98765"[..], // empty value
        b"(01)09506000134352(10)12345(11)",      // empty value at end
        b"(1A)12345",                            // AI must be numeric
        b"(12345)12345",                         // AI too long
        b"(1)12345",                             // AI too short
        b"()12345",
        b"(15",
        b"(",
        b"(01)095060001343521(10)12345", // fixed length too long
        b"(01)09506000134352(10)12345^", // ^ conflated with FNC1
        b"(01)09506000134352(17)9(90)217",
    ] {
        rejected(input);
    }
}

#[test]
fn ean_upc_and_itf_carry_a_gtin() {
    // scandata.c: ]E02112345678900 is EAN-13 2112345678900
    assert_eq!(ok(b"]E02112345678900").gtin(), Some("02112345678900"));
    assert_eq!(ok(b"]E402345673").gtin(), Some("00000002345673"));
    assert_eq!(ok(b"]I009506000134352").gtin(), Some("09506000134352"));
    let e = ok(b"]E02112345678900|]e099COMPOSITE\x1d98XYZ");
    assert_eq!(
        ais(&e),
        pairs(&[("01", "02112345678900"), ("99", "COMPOSITE"), ("98", "XYZ")])
    );
    for input in [
        &b"]E0"[..],
        b"]E0123456789012",   // short
        b"]E012345678901234", // long
        b"]E01234ABC890123",  // non-numeric
        b"]E02112345678901",  // bad check digit
        b"]E41234567",
        b"]E412ABC678",
        b"]E402345674", // bad check digit
    ] {
        rejected(input);
    }
}

#[test]
fn non_gs1_symbologies_are_returned_as_data() {
    for (input, data) in [
        (&b"]Q1TESTING"[..], &b"TESTING"[..]),
        (b"]d1\x1dTESTING", b"\x1dTESTING"),
        (b"]C0ABC-123", b"ABC-123"),
        (b"]Q1", b""),
    ] {
        let scan = parse_scan(input, None).unwrap();
        assert_eq!(scan.content, Content::Other(data));
    }
}

#[test]
fn gs1_symbologies_need_data() {
    for input in [
        &b"]e0"[..],
        b"]C1",
        b"]d2",
        b"]Q3",
        b"]J1",
        b"",
        b"]",
        b"]X",
    ] {
        rejected(input);
    }
}

#[test]
fn errors_name_the_ai_the_offset_and_the_reason() {
    let e = rejected(b"010950600013435217250230");
    assert!(
        e.starts_with("AI (17) at byte 18: 250230 is not a date"),
        "{e}"
    );
    let e = rejected(b"]d2010950600013435217250230");
    assert!(e.starts_with("AI (17) at byte 21:"), "{e}");
    let e = rejected(b"0109506000134353");
    assert!(e.starts_with("AI (01) at byte 2:"), "{e}");
    let e = rejected(b"0109506000134352\x1d\x1d10A");
    assert!(e.contains("separator"), "{e}");
    let e = rejected(b"0109506000134352231234");
    assert!(
        e.contains("no GS1 Application Identifier starts with \"2312\""),
        "{e}"
    );
    let e = rejected(b"10ABCDEFGHIJKLMNOPQRSTUVWXYZ0109506000134352");
    assert!(e.contains("at most 20") && e.contains("separator"), "{e}");
}

#[test]
fn message_rules_req_ex_and_repeats() {
    // (21) needs (01), (03) or (8006)
    let e = rejected(b"21XYZ");
    assert!(e.contains("AI (21)") && e.contains("01, 03, 8006"), "{e}");
    // (01) excludes (37); (02) requires (37)
    rejected(b"0109506000134352\x33\x3712");
    // a repeated AI must carry the same value
    ok(b"0109506000134352\x31\x30A\x1d0109506000134352");
    let e = rejected(b"0109506000134352\x31\x30A\x1d10B");
    assert!(e.contains("twice"), "{e}");
    // (8041) needs (01) with (21) with (8040)
    ok(b"(01)09506000134352(21)1(8040)123456789012345(8041)123456789012345");
    rejected(b"(01)09506000134352(21)1(8041)123456789012345");
    // ex patterns: 3100 with 3101 is refused, an AI is not exclusive of itself
    rejected(b"(01)09506000134352(3100)000100(3101)000100");
    ok(b"(01)09506000134352(3100)000100(3100)000100");
}

#[test]
fn renderers_write_separators_only_where_needed() {
    let e = ok(b"(01)09506000134352(10)ABC(17)251231(21)XYZ");
    assert_eq!(
        render_unbracketed(&e, b'\x1d'),
        b"0109506000134352\x31\x30ABC\x1d17251231\x32\x31XYZ".to_vec()
    );
    assert_eq!(
        render_bracketed(&e),
        "(01)09506000134352(10)ABC(17)251231(21)XYZ"
    );
}

#[test]
fn invalid_kinds_are_typed() {
    let err = parse_scan(b"", None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Empty);
    let err = parse_scan(b"(01)09506000134352(10)", None).unwrap_err();
    assert_eq!(err.kind, ErrorKind::EmptyValue);
}

#[test]
fn digital_link_qr_on_a_consumer_pack() {
    // A plain QR Code (]Q1) carrying a GS1 Digital Link URI.
    let scan = parse_scan(
        b"]Q1https://id.gs1.org/01/09506000134352/10/ABC123/21/XYZ987?17=251231",
        None,
    )
    .unwrap();
    let e = scan.content.gs1().unwrap();
    assert_eq!(
        ais(e),
        pairs(&[
            ("01", "09506000134352"),
            ("10", "ABC123"),
            ("21", "XYZ987"),
            ("17", "251231")
        ])
    );
    // The same data in every form gives the same AIs.
    let scan_form = ok(b"]d2010950600013435217251231\x31\x30ABC123\x1d21XYZ987");
    let mut a = ais(e);
    let mut b = ais(&scan_form);
    a.sort();
    b.sort();
    assert_eq!(a, b);
    // A marketing URL in a QR Code is not GS1 data, and not an error.
    let scan = parse_scan(b"]Q1https://example.com/promo", None).unwrap();
    assert!(matches!(scan.content, Content::Other(_)));
}

/// The reference engine refuses a digital signature (8030) beside a GDTI
/// (253), GCN (255) or GRAI (8003) without its serial ("Serial component
/// must be present for AI (253) when used with AI (8030)"), in every form.
#[test]
fn a_digital_signature_needs_the_serial_of_the_key_it_signs() {
    const SIGNATURE: &str = "MEUCIQDrxQ2yMbAvWbzbF3dNRRjOIVB4RLwk5lIqbGH5K_5bKAIgJx2zqM-0";
    let gdti = "9506000134352";
    let grai = "09506000134352";
    for (ai, class, serialised) in [
        ("253", gdti, "9506000134352DOC-1"),
        ("255", gdti, "9506000134352123"),
        ("8003", grai, "09506000134352PALLET7"),
    ] {
        let forms = |value: &str| {
            [
                format!("({ai}){value}(8030){SIGNATURE}"),
                format!("]d2{ai}{value}\x1d8030{SIGNATURE}"),
                format!("https://id.gs1.org/{ai}/{value}?8030={SIGNATURE}"),
            ]
        };
        for input in forms(class) {
            let e = parse_scan(input.as_bytes(), None).unwrap_err();
            assert_eq!(e.ai, Some(ai), "{input}: {e}");
            assert_eq!(
                e.kind,
                ErrorKind::SerialMissing {
                    key_length: class.len()
                },
                "{input}"
            );
            assert!(
                e.to_string()
                    .contains("the serial component must be present when used with AI (8030)"),
                "{e}"
            );
        }
        for input in forms(serialised) {
            let e = ok(input.as_bytes());
            assert_eq!(e.get(ai), Some(serialised), "{input}");
            assert_eq!(e.get("8030"), Some(SIGNATURE), "{input}");
        }
        // Without a signature the key alone may name the class.
        assert_eq!(ok(format!("({ai}){class}").as_bytes()).get(ai), Some(class));
    }
    // Keys whose serial is not optional are untouched by the rule.
    let sscc = format!("(00)095060001343528648(8030){SIGNATURE}");
    assert_eq!(ok(sscc.as_bytes()).get("8030"), Some(SIGNATURE));
}

/// A Digital Link query parameter with an empty name (`?=ABC`): the
/// reference engine refuses it ("Unknown AI () in query parameters"), and
/// so does this engine, in its words first; a QR Code carrying it too.
#[test]
fn a_digital_link_query_parameter_without_a_name_is_refused() {
    for input in [
        &b"https://id.gs1.org/01/09506000134352?=ABC"[..],
        b"https://id.gs1.org/01/09506000134352/10/ABC123?17=251231&=ABC",
        b"]Q1https://example.com/01/09506000134352?=",
    ] {
        let e = parse_scan(input, None).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("unknown AI () in query parameters"),
            "{}: {text}",
            String::from_utf8_lossy(input)
        );
        assert_eq!(e.ai, None);
    }
    assert_eq!(
        rejected(b"https://id.gs1.org/01/09506000134352?=ABC"),
        "at byte 37: unknown AI () in query parameters: =ABC has no name; Digital Link data attributes are written AI=value (such as 17=251231)"
    );
    // Parameters that are no data attribute at all are still ignored.
    assert_eq!(
        ok(b"https://id.gs1.org/01/09506000134352?utm_source=qr&x").gtin(),
        Some("09506000134352")
    );
}
