//! Parse + full validation of the reference pharma DataMatrix scan in each
//! input form. Run: `cargo bench --bench gs1_parse`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use scantrail_gs1::parse_scan;

const SCAN: &[u8] = b"]d2010950600013435217251231\
10ABC123\x1d21XYZ987";
const BRACKETED: &[u8] = b"(01)09506000134352(17)251231(10)ABC123(21)XYZ987";
const DIGITAL_LINK: &[u8] = b"https://id.gs1.org/01/09506000134352/10/ABC123/21/XYZ987?17=251231";

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
}

criterion_group!(benches, parse);
criterion_main!(benches);
