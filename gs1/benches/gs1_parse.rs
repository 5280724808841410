//! Parse + full validation (every linter and the message rules) of the
//! reference pharma DataMatrix data in each input form, and of a mix of
//! forms, valid and invalid, reported as scans per second.
//! Run: `cargo bench -p scantrail-gs1 --bench gs1_parse`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use scantrail_gs1::parse_scan;

const SCAN: &[u8] = b"]d2010950600013435217251231\
10ABC123\x1d21XYZ987";
const BRACKETED: &[u8] = b"(01)09506000134352(17)251231(10)ABC123(21)XYZ987";
const DIGITAL_LINK: &[u8] = b"https://id.gs1.org/01/09506000134352/10/ABC123/21/XYZ987?17=251231";

/// What a site's scanners and handhelds send in a day, roughly: mostly
/// valid, some damaged, in every form.
const MIX: [(&[u8], bool); 8] = [
    (SCAN, true),
    (BRACKETED, true),
    (DIGITAL_LINK, true),
    // A consumer pack's Digital Link QR Code (plain QR, ]Q1).
    (
        b"]Q1https://example.com/01/09506000134352/10/ABC123?17=251231",
        true,
    ),
    (
        b"]C100095060001343528648\x1d0209506000134352\x33\x3712",
        true,
    ),
    // Wrong check digit; impossible date; qualifiers out of order.
    (b"]d2010950600013435317251231", false),
    (b"(01)09506000134352(17)250230", false),
    (
        b"https://id.gs1.org/01/09506000134352/21/XYZ987/10/ABC123",
        false,
    ),
];

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("gs1_parse");
    group.throughput(Throughput::Elements(1));
    for (name, input) in [
        ("scan", SCAN),
        ("bracketed", BRACKETED),
        ("digital_link", DIGITAL_LINK),
    ] {
        assert!(parse_scan(input, None).is_ok(), "{name} must parse");
        group.bench_function(name, |b| {
            b.iter(|| parse_scan(std::hint::black_box(input), None).is_ok())
        });
    }
    group.finish();

    let mut group = c.benchmark_group("gs1_parse_mix");
    group.throughput(Throughput::Elements(MIX.len() as u64));
    for (input, valid) in MIX {
        assert_eq!(
            parse_scan(input, None).is_ok(),
            valid,
            "{}",
            String::from_utf8_lossy(input)
        );
    }
    group.bench_function("three_forms_valid_and_invalid", |b| {
        b.iter(|| {
            MIX.iter()
                .filter(|(input, _)| parse_scan(std::hint::black_box(input), None).is_ok())
                .count()
        })
    });
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
