//! The parse path allocates nothing for a typical scan: a counting global
//! allocator watches `parse_scan` on the reference pharma DataMatrix scan.

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

#[test]
fn the_counter_sees_allocations() {
    // Guards the test above against a counter that never counts.
    let before = allocations();
    let v: Vec<u8> = std::hint::black_box(vec![1, 2, 3]);
    drop(v);
    assert!(allocations() > before);
}
