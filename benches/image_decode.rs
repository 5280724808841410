//! Decoding label photos: JPEG bytes in, scanner frames out (image decode,
//! gray conversion, downscale above the limit, rxing, frame normalisation),
//! on one core. Run: `cargo bench --bench image_decode`.
//!
//! The photos are drawn here: the symbol centred on a light page with a
//! gradient and ±12 grey levels of noise, JPEG quality 85, at 1 MP
//! (1224x816) and 5 MP (2736x1824, read at 3 MP by the default limits).
//! Symbols scale with the photo, as the same label framed by a better camera.

#[path = "../tests/support/images.rs"]
mod images;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use image::GrayImage;
use images::*;
use scantrail::gs1::dictionary::separator_follows;
use scantrail::scan::image::{decode, Limits};

const ONE_MP: (u32, u32, u32) = (1224, 816, 1);
const FIVE_MP: (u32, u32, u32) = (2736, 1824, 2);

fn label(kind: &str, (width, height, zoom): (u32, u32, u32)) -> Vec<u8> {
    let symbol = match kind {
        "datamatrix" => render_2d(&gs1_datamatrix(PHARMA), 6 * zoom),
        "gs1_128" => render_1d(&gs1_128(PHARMA), 3 * zoom),
        _ => GrayImage::new(1, 1),
    };
    jpeg(&photo(&symbol, width, height, 12, 42), 85)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("image_decode");
    group.throughput(Throughput::Elements(1));
    group.sample_size(20);
    let limits = Limits::default();
    for (size, dims) in [("1mp", ONE_MP), ("5mp", FIVE_MP)] {
        for kind in ["datamatrix", "gs1_128", "no_barcode"] {
            let bytes = label(kind, dims);
            let found = decode(&bytes, &limits, separator_follows);
            assert_eq!(
                found.is_ok(),
                kind != "no_barcode",
                "{kind} {size}: {found:?}"
            );
            group.bench_function(format!("{kind}_{size}"), |b| {
                b.iter(|| decode(std::hint::black_box(&bytes), &limits, separator_follows).is_ok())
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
