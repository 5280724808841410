//! The in-memory frame decoder on the reference scan, to hold it against
//! the GS1 parse cost of the same frame, measured in the same run (target:
//! under 10% of it). Run: `cargo bench --bench scan_sources`.
//!
//! Each framing twice: found in place in the read buffer (what the decoder
//! costs), and taken out of it as `Bytes` (what handing the frame to
//! another task adds). Instruction counts, steadier than these times on a
//! shared machine, come from `examples/frame_decoder_cost.rs`.

use std::path::Path;

use bytes::BytesMut;
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use scantrail::scan::framing::InPlace;
use scantrail::scan::{FrameDecoder, Framed, Profile};
use tokio_util::codec::Decoder;

/// `]d2` 01 09506000134352 17 251231 10 ABC123 GS 21 XYZ987.
const REFERENCE: &[u8] = b"]d201095060001343521725123110ABC123\x1d21XYZ987";

fn profile(name: &str) -> Profile {
    Profile::load(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("devices")
            .join(name),
    )
    .unwrap()
}

/// What the serial loop looks at first: the frame (its length), or none.
/// The item is kept from the optimiser by reference: `black_box` on the
/// value itself copies it byte by byte, which would cost more than the
/// decoder.
fn frame_len(item: Option<Framed>) -> Option<usize> {
    match black_box(&item).as_ref()? {
        Framed::Frame(f) => Some(f.bytes.len()),
        Framed::Rejected(r) => panic!("{r:?}"),
    }
}

/// The frame found in place: its length, then dropped (consumed).
fn in_place_len(item: Option<InPlace<'_>>) -> Option<usize> {
    match item? {
        InPlace::Frame(f) => Some(black_box(f.bytes()).len()),
        InPlace::Rejected(r) => panic!("{r:?}"),
    }
}

fn bench(c: &mut Criterion) {
    let frame = REFERENCE.to_vec();
    let mut g = c.benchmark_group("frame_decoder");

    let mut cr = frame.clone();
    cr.push(b'\r');
    let mut label = b"k".to_vec();
    label.extend_from_slice(&frame[3..]);
    label.push(b'\r');
    let mut crlf = frame.clone();
    crlf.extend_from_slice(b"\r\n");
    let mut buf = BytesMut::with_capacity(4096);
    for (name, profile_file, wire) in [
        ("in_place_aim_cr", "generic-aim.toml", &cr),
        ("in_place_aim_crlf", "honeywell-xenon-cdc.toml", &crlf),
        (
            "in_place_datalogic_label_cr",
            "datalogic-rs232.toml",
            &label,
        ),
    ] {
        let mut d = FrameDecoder::new(&profile(profile_file));
        g.bench_function(name, |b| {
            b.iter(|| {
                buf.extend_from_slice(black_box(wire));
                in_place_len(d.decode_in_place(&mut buf))
            })
        });
    }

    let mut d = FrameDecoder::new(&profile("generic-aim.toml"));
    g.bench_function("reference_aim_cr", |b| {
        b.iter(|| {
            buf.extend_from_slice(black_box(&cr));
            frame_len(d.decode(&mut buf).unwrap())
        })
    });

    let mut d = FrameDecoder::new(&profile("datalogic-rs232.toml"));
    g.bench_function("reference_datalogic_label_cr", |b| {
        b.iter(|| {
            buf.extend_from_slice(black_box(&label));
            frame_len(d.decode(&mut buf).unwrap())
        })
    });

    let mut d = FrameDecoder::new(&profile("honeywell-xenon-cdc.toml"));
    g.bench_function("reference_aim_crlf", |b| {
        b.iter(|| {
            buf.extend_from_slice(black_box(&crlf));
            frame_len(d.decode(&mut buf).unwrap())
        })
    });

    // The desk takes the frame as a `Vec` (`ScanRequest.raw`): the copy at
    // that boundary, on top of the decoder.
    let mut d = FrameDecoder::new(&profile("generic-aim.toml"));
    g.bench_function("reference_aim_cr_then_desk_copy", |b| {
        b.iter(|| {
            buf.extend_from_slice(black_box(&cr));
            match d.decode(&mut buf).unwrap() {
                Some(Framed::Frame(f)) => black_box(f.bytes.to_vec()),
                other => panic!("{other:?}"),
            }
        })
    });

    // The parse this is measured against.
    g.bench_function("gs1_parse_scan_reference", |b| {
        b.iter(|| black_box(scantrail::gs1::parse_scan(black_box(&frame), None).is_ok()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
