//! The parse path allocates nothing for a typical scan: a counting global
//! allocator watches `parse_scan` on the reference pharma DataMatrix scan,
//! the same data bracketed and as a GS1 Digital Link URI (bare and in a
//! plain QR Code), and a URI with a percent-encoded value, which costs one
//! allocation for that value and no more.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    // Per thread, so the test harness's own threads don't count.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    ALLOCATIONS.with(|n| n.set(n.get() + 1));
}

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const REFERENCE_SCAN: &[u8] = b"]d2010950600013435217251231\
10ABC123\x1d21XYZ987";

#[test]
fn parsing_the_reference_scan_allocates_nothing() {
    // Warm up anything lazily initialised outside the parse path.
    let warm = scantrail_gs1::parse_scan(REFERENCE_SCAN, None).unwrap();
    assert_eq!(warm.content.gs1().unwrap().serial(), Some("XYZ987"));
    drop(warm);

    let before = allocations();
    for _ in 0..1000 {
        let scan = scantrail_gs1::parse_scan(std::hint::black_box(REFERENCE_SCAN), None).unwrap();
        let elements = scan.content.gs1().unwrap();
        assert_eq!(elements.len(), 4);
        assert_eq!(elements.lot(), Some("ABC123"));
    }
    let after = allocations();
    assert_eq!(
        after - before,
        0,
        "parse_scan allocated {} times in 1000 parses",
        after - before
    );
}

/// Allocations per parse of `input`, over 1,000 parses after a warm-up;
/// each parse must yield `lot`.
fn allocations_per_parse(input: &[u8], lot: &str) -> f64 {
    let warm = scantrail_gs1::parse_scan(input, None).unwrap();
    assert_eq!(warm.content.gs1().unwrap().lot(), Some(lot));
    drop(warm);
    let before = allocations();
    for _ in 0..1000 {
        let scan = scantrail_gs1::parse_scan(std::hint::black_box(input), None).unwrap();
        assert_eq!(scan.content.gs1().unwrap().lot(), Some(lot));
    }
    (allocations() - before) as f64 / 1000.0
}

#[test]
fn every_input_form_parses_without_allocating() {
    for input in [
        &b"(01)09506000134352(17)251231(10)ABC123(21)XYZ987"[..],
        b"https://id.gs1.org/01/09506000134352/10/ABC123/21/XYZ987?17=251231",
        b"]Q1https://example.com/01/09506000134352/10/ABC123/21/XYZ987?17=251231&utm_source=qr",
        b"HTTPS://ID.GS1.ORG/01/09506000134352/10/ABC123?3103=000195&17=251231#top",
        b"0109506000134352\x1d10ABC123",
    ] {
        assert_eq!(
            allocations_per_parse(input, "ABC123"),
            0.0,
            "{}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn a_percent_encoded_value_costs_one_allocation() {
    // The lot needs decoding (%2F is `/`); the other values borrow.
    let uri = b"https://id.gs1.org/01/09506000134352/10/AB%2FC/21/XYZ987?17=251231";
    assert_eq!(allocations_per_parse(uri, "AB/C"), 1.0);
    // `+` is a space only in the query: in the path it borrows.
    let uri = b"https://id.gs1.org/01/09506000134352/10/A+B?99=x%2By";
    assert_eq!(allocations_per_parse(uri, "A+B"), 1.0);
}

#[test]
fn the_counter_sees_allocations() {
    // Guards the test above against a counter that never counts.
    let before = allocations();
    let v: Vec<u8> = std::hint::black_box(vec![1, 2, 3]);
    drop(v);
    assert!(allocations() > before);
}
