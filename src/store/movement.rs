//! The store's own persisted shapes that are not domain types: the frozen
//! layout of rejected scans before truncation existed, and the outbox
//! position. The movements and rejections themselves live in `model`.

use serde::{Deserialize, Serialize};

use crate::model::Hash;

/// The layouts of rejected scans before `raw_truncated`, frozen: envelope
/// V1 and sync protocol 1 hold them, and their hashes were computed over
/// this shape.
pub mod rejection_v1 {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Serialize};

    use crate::model::raw_bytes;
    use crate::model::{Hash, NewRejection, Rejection};

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct RejectionV1 {
        pub origin: String,
        pub seq: u64,
        pub prev_hash: Hash,
        pub body: NewRejectionV1,
        pub hash: Hash,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct NewRejectionV1 {
        pub code: String,
        pub words: String,
        pub station: String,
        pub operator: String,
        #[serde(with = "raw_bytes")]
        pub raw: Vec<u8>,
        pub time: DateTime<Utc>,
    }

    /// The V1 shape borrowed from a current body, for hashing.
    #[derive(Serialize)]
    pub struct BodyV1Ref<'a> {
        code: &'a str,
        words: &'a str,
        station: &'a str,
        operator: &'a str,
        #[serde(serialize_with = "raw_bytes::serialize")]
        raw: &'a [u8],
        time: &'a DateTime<Utc>,
    }

    impl<'a> From<&'a NewRejection> for BodyV1Ref<'a> {
        fn from(b: &'a NewRejection) -> BodyV1Ref<'a> {
            BodyV1Ref {
                code: &b.code,
                words: &b.words,
                station: &b.station,
                operator: &b.operator,
                raw: &b.raw,
                time: &b.time,
            }
        }
    }

    impl From<RejectionV1> for Rejection {
        fn from(r: RejectionV1) -> Rejection {
            let b = r.body;
            Rejection {
                origin: r.origin,
                seq: r.seq,
                prev_hash: r.prev_hash,
                body: NewRejection {
                    code: b.code,
                    words: b.words,
                    station: b.station,
                    operator: b.operator,
                    raw: b.raw,
                    time: b.time,
                    raw_truncated: None,
                },
                hash: r.hash,
            }
        }
    }
}

/// The head office acknowledgement the outbox resumes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxPosition {
    /// The highest seq head office holds contiguously; the outbox resends from
    /// the next one.
    pub acked_seq: u64,
    /// Its hash as head office reported it: `verify` checks the local chain
    /// still holds that entry with that hash.
    pub acked_hash: Hash,
}
