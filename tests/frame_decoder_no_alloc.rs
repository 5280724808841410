//! Cutting frames out of a scanner's byte stream allocates nothing: a
//! counting global allocator (hence a test binary of its own) watches the
//! frame decoder on the reference scan under the three framings of the
//! shipped profiles (AIM + CR, AIM + CR LF, a vendor label ID + CR), found
//! in place and parsed there, and taken out of the read buffer as `Bytes`;
//! and that handing frames on to the desk, as the serial source and the
//! site daemon do, costs one allocation a frame (the frame's own memory,
//! which the desk keeps) and never makes the read buffer allocate, however
//! long the frames are kept. Issue 16: the decoder once allocated and copied
//! every frame, and the daemon copied it again.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::Path;

use bytes::BytesMut;
use scantrail::scan::framing::InPlace;
use scantrail::scan::{FrameDecoder, Framed, Profile};
use tokio_util::codec::Decoder;

struct Counting;

thread_local! {
    // Per thread, so the test harness's own threads don't count.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// `]d2` 01 09506000134352 17 251231 10 ABC123 GS 21 XYZ987.
const REFERENCE: &[u8] = b"]d201095060001343521725123110ABC123\x1d21XYZ987";

fn decoder(profile: &str) -> FrameDecoder {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("devices")
        .join(profile);
    FrameDecoder::new(&Profile::load(&path).unwrap())
}

/// A framing: profile, bytes on the wire, the frame expected and its
/// symbology.
type Framing = (&'static str, Vec<u8>, Vec<u8>, [u8; 3]);

/// The three framings of the shipped profiles.
fn framings() -> Vec<Framing> {
    let cr = [REFERENCE, b"\r"].concat();
    let crlf = [REFERENCE, b"\r\n"].concat();
    // Datalogic's label ID `k` stands for `]C1` (GS1-128).
    let label = [b"k", &REFERENCE[3..]].concat();
    vec![
        ("generic-aim.toml", cr, REFERENCE.to_vec(), *b"]d2"),
        (
            "honeywell-xenon-cdc.toml",
            crlf,
            REFERENCE.to_vec(),
            *b"]d2",
        ),
        (
            "datalogic-rs232.toml",
            [&label[..], b"\r"].concat(),
            label,
            *b"]C1",
        ),
    ]
}

/// Read number `n` of `wire`, as a serial read comes: one frame, sometimes
/// a frame split across two reads (the first half decodes to nothing), and
/// sometimes two frames in one read.
fn read(n: usize, d: &mut FrameDecoder, buf: &mut BytesMut, wire: &[u8]) {
    match n % 3 {
        0 => buf.extend_from_slice(wire),
        1 => {
            buf.extend_from_slice(&wire[..10]);
            assert!(d.decode_in_place(buf).is_none());
            buf.extend_from_slice(&wire[10..]);
        }
        _ => {
            buf.extend_from_slice(wire);
            buf.extend_from_slice(wire);
        }
    }
}

#[test]
fn frames_found_in_place_and_parsed_there_allocate_nothing() {
    for (profile, wire, expected, aim) in framings() {
        let mut d = decoder(profile);
        let mut buf = BytesMut::with_capacity(4096);
        let before = allocations();
        for n in 0..1000 {
            read(n, &mut d, &mut buf, &wire);
            while let Some(item) = d.decode_in_place(&mut buf) {
                let frame = match item {
                    InPlace::Frame(frame) => frame,
                    InPlace::Rejected(r) => panic!("{profile}: {r:?}"),
                };
                assert_eq!(frame.bytes(), &expected[..], "{profile}");
                assert_eq!(frame.aim().map(|a| a.0), Some(aim), "{profile}");
                // The parse, in place too (for the label, on the frame
                // without its label ID: the GS1-128 data itself).
                let data = &frame[frame.id_len()..];
                let scan = scantrail::gs1::parse_scan(data, None).unwrap();
                assert_eq!(scan.content.gs1().unwrap().serial(), Some("XYZ987"));
            }
            assert!(buf.is_empty(), "{profile}");
        }
        let allocated = allocations() - before;
        assert_eq!(
            allocated, 0,
            "{profile}: {allocated} allocations in 1000 reads"
        );
    }
}

#[test]
fn frames_taken_out_of_the_buffer_allocate_nothing_once_it_is_shared() {
    for (profile, wire, expected, _) in framings() {
        let mut d = decoder(profile);
        let mut buf = BytesMut::with_capacity(4096);
        // The first frame taken out makes the buffer shareable: one
        // allocation (its reference count), once per buffer.
        buf.extend_from_slice(&wire);
        assert!(matches!(d.decode(&mut buf), Ok(Some(Framed::Frame(_)))));
        let before = allocations();
        for _ in 0..1000 {
            buf.extend_from_slice(&wire);
            match d.decode(&mut buf).unwrap() {
                Some(Framed::Frame(frame)) => assert_eq!(&frame.bytes[..], &expected[..]),
                other => panic!("{profile}: {other:?}"),
            }
            assert!(buf.is_empty());
        }
        let allocated = allocations() - before;
        assert_eq!(
            allocated, 0,
            "{profile}: {allocated} allocations in 1000 frames"
        );
    }
}

#[test]
fn frames_handed_on_to_the_desk_cost_one_allocation_each_however_long_they_are_kept() {
    for (profile, wire, expected, _) in framings() {
        let mut d = decoder(profile);
        let mut buf = BytesMut::with_capacity(4096);
        let start = buf.as_ptr() as usize;
        let memory = start..=start + buf.capacity();
        // Kept, as the desk keeps scans until their commits are durable
        // (room made first, so that only the frames count).
        let mut kept: Vec<Vec<u8>> = Vec::with_capacity(2000);
        let before = allocations();
        for n in 0..1000 {
            read(n, &mut d, &mut buf, &wire);
            assert!(
                memory.contains(&(buf.as_ptr() as usize)),
                "{profile}: the read buffer was allocated anew at read {n}"
            );
            // What the serial source does with each frame...
            while let Some(item) = d.decode_in_place(&mut buf) {
                let frame = match item.into_owned() {
                    Framed::Frame(frame) => frame,
                    Framed::Rejected(r) => panic!("{profile}: {r:?}"),
                };
                assert!(!memory.contains(&(frame.bytes.as_ptr() as usize)));
                // ... and the site daemon (`RawScan::take_bytes`): the
                // desk's `Vec` is that memory, not a copy of it.
                let at = frame.bytes.as_ptr();
                let raw = Vec::from(frame.bytes);
                assert_eq!(raw.as_ptr(), at, "{profile}: copied again for the desk");
                assert_eq!(raw, expected, "{profile}");
                kept.push(raw);
            }
            assert!(buf.is_empty(), "{profile}");
        }
        let allocated = allocations() - before;
        assert_eq!(kept.len(), 1333, "{profile}");
        assert_eq!(
            allocated,
            kept.len(),
            "{profile}: {allocated} allocations for {} frames handed on",
            kept.len()
        );
    }
}

#[test]
fn the_counter_sees_allocations() {
    // Guards the tests above against a counter that never counts.
    let before = allocations();
    let v: Vec<u8> = std::hint::black_box(vec![1, 2, 3]);
    drop(v);
    assert!(allocations() > before);
}
