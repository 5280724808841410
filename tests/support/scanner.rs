//! The host's side of a virtual serial scanner, for end-to-end tests: wait
//! for the bytes the daemon sends it (init, good and bad reads).
#![allow(dead_code)]

use std::time::{Duration, Instant};

use scantrail::scan::pty::VirtualScanner;

/// The test scanner's profile: frames end with CR, AIM identifiers
/// expected, `INIT\r` when the daemon connects, BEL G and BEL B for good
/// and bad reads, quick reconnects.
pub const TEST_PROFILE: &str = "description = \"test scanner on a pty\"\n\
     [framing]\nsuffix = \"CR\"\ninter_byte_timeout_ms = 500\n\
     [symbology]\naim = \"expected\"\n\
     [feedback]\ninit = \"INIT\\r\"\ngood_read = \"\\u0007G\"\nbad_read = \"\\u0007B\"\n\
     [reconnect]\ninitial_ms = 20\nmax_ms = 100\n";

/// Reads from the scanner until `want` has arrived; panics naming what did
/// arrive after 10 s.
pub async fn expect_from_host(scanner: &VirtualScanner, want: &[u8]) {
    let mut got = Vec::new();
    let mut buf = [0u8; 64];
    let deadline = Instant::now() + Duration::from_secs(10);
    while !got.windows(want.len()).any(|w| w == want) {
        let left = deadline.saturating_duration_since(Instant::now());
        let n = tokio::time::timeout(left, scanner.read(&mut buf))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "the scanner never got {:?}; got {:?}",
                    String::from_utf8_lossy(want),
                    String::from_utf8_lossy(&got)
                )
            })
            .unwrap();
        got.extend_from_slice(&buf[..n]);
    }
}
