//! The frame decoder's cost against the GS1 parse of the same frame, in
//! instructions: run under `valgrind --tool=callgrind` twice with different
//! counts and divide the difference by the difference of the counts (the
//! start-up cancels out). Instruction counts repeat to the instruction on a
//! machine where timings vary by a third from run to run (issue 16; figures
//! in BENCHMARKS.md, "Frame decoder").
//!
//!     cargo build --profile bench --example frame_decoder_cost
//!     valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!         target/release/examples/frame_decoder_cost aim-cr decode 100000
//!
//! FRAMING: `aim-cr` (generic-aim), `aim-crlf` (honeywell-xenon-cdc),
//! `label-cr` (datalogic-rs232, label `k` for `]C1`). WORK: `read` (the
//! bytes into the read buffer and out, no decoding), `decode` (found
//! in place, then consumed), `take` (taken out of the read buffer as
//! `Bytes`, as the serial source handed it on until issue 16's third pass),
//! `parse` (the parse alone, of the frame as the parser gets it), `both`
//! (found and parsed in place). The hand-off to the desk, which needs the
//! frame as a `Vec` of its own: `own` (found in place, copied out into
//! memory of its own and taken over as the desk's `Vec`: what the serial
//! source and the site daemon do now) and `take-copy` (taken out as `Bytes`,
//! then copied into the desk's `Vec`: what they did before). `take-kept` is
//! `take` with each frame kept until 64 more have arrived, as the desk keeps
//! a scan until its commit is durable: the read buffer cannot reuse memory
//! a kept frame holds.

use std::hint::black_box;
use std::path::Path;

use bytes::{Buf, BytesMut};
use scantrail::scan::framing::InPlace;
use scantrail::scan::{FrameDecoder, Framed, Profile};
use tokio_util::codec::Decoder;

/// `]d2` 01 09506000134352 17 251231 10 ABC123 GS 21 XYZ987.
const REFERENCE: &[u8] = b"]d201095060001343521725123110ABC123\x1d21XYZ987";

/// How many frames `take-kept` holds: a desk's queue of scans awaiting
/// their commit.
const KEPT: usize = 64;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [framing, work, n] = &args[..] else {
        eprintln!(
            "usage: frame_decoder_cost aim-cr|aim-crlf|label-cr read|decode|take|take-kept|parse|both|own|take-copy N"
        );
        std::process::exit(2);
    };
    let n: usize = n.parse().expect("N is a count");
    let label = [b"k", &REFERENCE[3..]].concat();
    // Profile, bytes on the wire, what the parser is given.
    let (profile, wire, parser_input) = match framing.as_str() {
        "aim-cr" => (
            "generic-aim.toml",
            [REFERENCE, b"\r"].concat(),
            REFERENCE.to_vec(),
        ),
        "aim-crlf" => (
            "honeywell-xenon-cdc.toml",
            [REFERENCE, b"\r\n"].concat(),
            REFERENCE.to_vec(),
        ),
        // The parser gets the label replaced by its AIM identifier.
        "label-cr" => (
            "datalogic-rs232.toml",
            [&label[..], b"\r"].concat(),
            [b"]C1", &REFERENCE[3..]].concat(),
        ),
        other => panic!("unknown framing {other}"),
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("devices")
        .join(profile);
    let mut d = FrameDecoder::new(&Profile::load(&path).unwrap());
    let mut buf = BytesMut::with_capacity(4096);
    let mut good = 0usize;
    let mut kept = std::collections::VecDeque::with_capacity(KEPT + 1);
    for _ in 0..n {
        match work.as_str() {
            "decode" => {
                buf.extend_from_slice(black_box(&wire));
                if let Some(InPlace::Frame(f)) = d.decode_in_place(&mut buf) {
                    good += black_box(f.bytes()).len();
                }
            }
            "read" => {
                // What any reader does without a decoder: the bytes into
                // the read buffer and out again.
                buf.extend_from_slice(black_box(&wire));
                good += black_box(&buf[..]).len();
                let n = buf.len();
                buf.advance(n);
            }
            "take" => {
                buf.extend_from_slice(black_box(&wire));
                if let Ok(Some(Framed::Frame(f))) = d.decode(&mut buf) {
                    good += black_box(&f.bytes).len();
                }
            }
            "take-kept" => {
                buf.extend_from_slice(black_box(&wire));
                if let Ok(Some(Framed::Frame(f))) = d.decode(&mut buf) {
                    good += black_box(&f.bytes).len();
                    kept.push_back(f.bytes);
                    if kept.len() > KEPT {
                        kept.pop_front();
                    }
                }
            }
            "own" => {
                buf.extend_from_slice(black_box(&wire));
                if let Some(InPlace::Frame(f)) = d.decode_in_place(&mut buf) {
                    // `RawScan::take_bytes`, as the site daemon does.
                    let raw: Vec<u8> = Vec::from(f.into_owned().bytes);
                    good += black_box(raw).len();
                }
            }
            "take-copy" => {
                buf.extend_from_slice(black_box(&wire));
                if let Ok(Some(Framed::Frame(f))) = d.decode(&mut buf) {
                    // The site daemon's copy before issue 16's third pass.
                    let raw: Vec<u8> = f.bytes.to_vec();
                    good += black_box(raw).len();
                }
            }
            "parse" => {
                good += scantrail::gs1::parse_scan(black_box(&parser_input), None).is_ok() as usize;
            }
            "both" => {
                buf.extend_from_slice(black_box(&wire));
                if let Some(InPlace::Frame(f)) = d.decode_in_place(&mut buf) {
                    // A label ID is no AIM identifier: the parser reads the
                    // data after it (for GS1-128, an element string).
                    let data = if f.bytes().starts_with(b"]") {
                        f.bytes()
                    } else {
                        &f[f.id_len()..]
                    };
                    good += scantrail::gs1::parse_scan(data, None).is_ok() as usize;
                }
            }
            other => panic!("unknown work {other}"),
        }
    }
    println!("{good}");
}
