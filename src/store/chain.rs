//! The hash chain: each movement (and each rejection) carries the SHA-256 of
//! the previous entry of its origin and its own SHA-256 over a canonical
//! encoding, so that any change to history, even of one byte, is caught by
//! `verify` and by head office.
//!
//! The canonical encoding is postcard of the entry without its own hash, in
//! field order. It is part of the released format: changing it would make
//! every stored hash wrong, so a new envelope version must keep hashing the
//! fields the way the version they were written in did.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::movement::rejection_v1::BodyV1Ref;
use super::movement_v1::NewMovementV1Ref;
use crate::model::{Hash, Movement, NewMovement, NewRejection, Rejection};

fn digest<T: Serialize>(fields: &T) -> Hash {
    // postcard cannot fail on these types (no maps with odd keys, no
    // unsized sequences); an empty encoding would still hash to something
    // verify would reject, so there is no silent path here.
    let bytes = postcard::to_stdvec(fields).unwrap_or_default();
    Hash(Sha256::digest(&bytes).into())
}

/// A movement without an author hashes in the layout of its time (V1),
/// so chains recorded before authors existed still verify; one with an
/// author hashes all of it.
pub fn movement_hash(origin: &str, seq: u64, prev: &Hash, body: &NewMovement) -> Hash {
    if body.author.is_empty() {
        digest(&(origin, seq, prev, NewMovementV1Ref::from(body)))
    } else {
        digest(&(origin, seq, prev, body))
    }
}

/// A rejection whose scan was kept whole hashes in the shape it had before
/// truncation existed, so entries written then still verify.
pub fn rejection_hash(origin: &str, seq: u64, prev: &Hash, body: &NewRejection) -> Hash {
    match body.raw_truncated {
        None => digest(&(origin, seq, prev, BodyV1Ref::from(body))),
        Some(_) => digest(&(origin, seq, prev, body)),
    }
}

/// Recomputes a stored movement's hash: equal to `m.hash` unless history
/// was changed.
pub fn recompute(m: &Movement) -> Hash {
    movement_hash(&m.origin, m.seq, &m.prev_hash, &m.body)
}

pub(super) fn recompute_rejection(r: &Rejection) -> Hash {
    rejection_hash(&r.origin, r.seq, &r.prev_hash, &r.body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::movement::tests_support::sample;

    #[test]
    fn chain_links_and_detects_changes() {
        let a = sample(1);
        let ha = movement_hash("north", 1, &Hash::GENESIS, &a);
        let b = sample(2);
        let hb = movement_hash("north", 2, &ha, &b);
        assert_ne!(ha, hb);
        // Same content, same hash: the encoding is deterministic.
        assert_eq!(ha, movement_hash("north", 1, &Hash::GENESIS, &a));
        // Any field change, the seq, or the link changes the hash.
        let mut a2 = a.clone();
        a2.operator.push('x');
        assert_ne!(ha, movement_hash("north", 1, &Hash::GENESIS, &a2));
        assert_ne!(ha, movement_hash("north", 2, &Hash::GENESIS, &a));
        assert_ne!(hb, movement_hash("north", 2, &Hash::GENESIS, &b));
    }
}
