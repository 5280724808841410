//! `cargo +nightly fuzz run parse_scan` (from the repository root): any bytes
//! into the scan entry point, with and without a substitute separator; an
//! accepted scan must re-render to data that parses to the same AIs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scantrail::gs1::{parse_scan, render_unbracketed, Content, GS};

fuzz_target!(|data: &[u8]| {
    let _ = parse_scan(data, Some(b'~'));
    if let Ok(scan) = parse_scan(data, None) {
        if let Content::Gs1(elements) = &scan.content {
            let again = render_unbracketed(elements, GS);
            let reparsed = parse_scan(&again, None).expect("a rendered scan parses");
            let Content::Gs1(reparsed) = reparsed.content else {
                panic!("rendered GS1 data parsed as non-GS1")
            };
            let pairs = |e: &scantrail::gs1::ElementString<'_>| {
                e.iter().map(|x| (x.ai(), x.value().to_owned())).collect::<Vec<_>>()
            };
            assert_eq!(pairs(elements), pairs(&reparsed));
        }
    }
});
