//! The SHA-256 that links and seals journal entries: a plain value, stored
//! as 32 raw bytes and shown as hex. How entries are hashed is the store's
//! business (`store::chain`); what a hash is belongs to the domain, since a
//! movement carries two.

use serde::{Deserialize, Serialize};

/// A SHA-256. Stored as 32 raw bytes; shown (JSON, tables) as hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Hash(pub [u8; 32]);

impl Serialize for Hash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&self.hex())
        } else {
            self.0.serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Hash, D::Error> {
        if d.is_human_readable() {
            let s = String::deserialize(d)?;
            let mut bytes = [0u8; 32];
            hex::decode_to_slice(&s, &mut bytes)
                .map_err(|_| serde::de::Error::custom("expected 64 hex digits"))?;
            Ok(Hash(bytes))
        } else {
            <[u8; 32]>::deserialize(d).map(Hash)
        }
    }
}

impl Hash {
    /// The `prev_hash` of an origin's first entry.
    pub const GENESIS: Hash = Hash([0; 32]);

    /// The 64 lowercase hex digits, as JSON, reports and `verify` show a hash.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl std::fmt::Debug for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.hex())
    }
}

impl std::fmt::Display for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.hex())
    }
}
