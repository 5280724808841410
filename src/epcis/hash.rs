//! The CBV 2.0 event hash (CBV 2.0 §8.9, "EPCIS Event Hash ID"): a
//! canonical pre-hash string of the event's content, SHA-256,
//! `ni:///sha-256;<hex>?ver=CBV2.0` (RFC 6920). Anyone holding the event
//! can recompute it; eventID, recordTime and errorDeclaration are left
//! out, so a declared-wrong repeat hashes as the original did.

use sha2::{Digest, Sha256};

use super::event::Event;

/// The event's hash ID.
pub fn event_hash(event: &Event) -> String {
    let pre = pre_hash(event);
    format!(
        "ni:///sha-256;{}?ver=CBV2.0",
        hex::encode(Sha256::digest(pre.as_bytes()))
    )
}

/// The pre-hash string.
pub fn pre_hash(event: &Event) -> String {
    let _ = event;
    String::new()
}
