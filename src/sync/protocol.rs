//! The wire protocol between a site and head office: the types both ends
//! encode and decode, so they cannot drift apart. Upload bodies and
//! reference deltas are postcard (compact, and the movements travel exactly
//! as stored, hashes included); small answers (acks, refusals, limits,
//! status) are JSON so that a person with curl can read them.
//!
//! A released protocol version never changes its layout: a change means a
//! new `PROTOCOL_VERSION`, and head office refuses versions it does not know
//! by name instead of misreading them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::Reference;
use crate::model::{Entries, Hash, Log};

/// 2: movements name their author (`NewMovement::author`), and a rejected
/// scan may be stored cut to its first bytes (`NewRejection::raw_truncated`).
/// Head office still reads batches of 1.
pub const PROTOCOL_VERSION: u32 = 2;

/// Content type of postcard bodies.
pub const POSTCARD: &str = "application/x-scantrail-postcard";

/// The paths of head office's API, shared by the link, the `scantrail hq`
/// commands and the server.
pub mod path {
    /// `GET`: what head office accepts (`Limits`).
    pub const LIMITS: &str = "/api/v1/limits";
    /// `POST`: a batch of entries (`Batch`), answered with an `Ack`.
    pub const BATCHES: &str = "/api/v1/batches";
    /// `GET`: every site's position and alerts (`SiteStatus`).
    pub const SITES: &str = "/api/v1/sites";
    /// `GET`/`POST`: holds and recalls for every site; `/{id}/release` releases
    /// one.
    pub const HOLDS: &str = "/api/v1/holds";
    /// `POST`: publish products (CSV or JSON).
    pub const PRODUCTS: &str = "/api/v1/products";
    /// `POST`: publish pick lists (CSV or JSON).
    pub const PICKLISTS: &str = "/api/v1/picklists";
    /// Followed by `products`, `holds` or `picklists`, with `?since=v`.
    pub const REFERENCE: &str = "/api/v1/reference";
    /// `GET` with `?since=v`: the expected receipts (EPCIS capture) head
    /// office holds for the asking site, as a `Delta` keyed by despatch
    /// advice.
    pub const EXPECTED_RECEIPTS: &str = "/api/v1/sync/expected-receipts";
    /// `GET`, followed by `/{site}/{log}` (`log_segment`) and
    /// `?from=SEQ&limit=N`: a page of head office's copy of one of a site's
    /// logs (`History`), for that site's own credential only (`scantrail
    /// restore`).
    pub const HISTORY: &str = "/api/v1/history";
}

/// The header of head office's reference deltas announcing the version
/// of the expected receipts (EPCIS capture) it holds for its sites, so a
/// site asks `path::EXPECTED_RECEIPTS` only when it changed.
pub const EXPECTED_VERSION_HEADER: &str = "scantrail-expected-receipts-version";

/// The reference versions a site had applied when it sent a batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferenceVersions {
    /// The version of the product master applied (0: none yet).
    pub products: u64,
    /// The version of the holds and recalls applied: head office flags a pick
    /// made against a recall the site did not have yet.
    pub holds: u64,
    /// The version of the pick lists applied.
    pub picklists: u64,
}

/// `POST /api/v1/batches`: one batch of one log of one site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// `PROTOCOL_VERSION` of the site that sent it; head office refuses
    /// versions it does not know.
    pub protocol: u32,
    /// The sending site's id: the batch's entries must all be its own origin.
    pub site: String,
    /// The seq of the batch's first entry.
    pub first_seq: u64,
    /// The seq of its last entry.
    pub last_seq: u64,
    /// The site's clock when it sent the batch (skew check).
    pub sent_at: DateTime<Utc>,
    /// The reference versions the site had applied when it sent the batch.
    pub reference: ReferenceVersions,
    /// The entries, of one log (movements or rejected scans), exactly as
    /// stored, hashes included.
    pub entries: Entries,
}

impl Batch {
    /// The batch as a postcard request body (content type `POSTCARD`).
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).unwrap_or_default()
    }

    /// A batch from a request body, of this protocol or protocol 1; a newer
    /// protocol is refused by name, and the error says what to upgrade.
    pub fn decode(bytes: &[u8]) -> Result<Batch, BatchError> {
        // The protocol version is the first varint: refuse a newer one by
        // name before trying to read the rest.
        let (protocol, _) =
            postcard::take_from_bytes::<u32>(bytes).map_err(BatchError::NotABatch)?;
        let undecodable = |source| BatchError::Undecodable { protocol, source };
        match protocol {
            PROTOCOL_VERSION => postcard::from_bytes(bytes).map_err(undecodable),
            1 => postcard::from_bytes::<v1::Batch>(bytes)
                .map(Batch::from)
                .map_err(undecodable),
            _ => Err(BatchError::UnknownProtocol { protocol }),
        }
    }
}

/// Why a request body is no batch head office can take (it answers 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// The body does not even start with a protocol version.
    #[error("not a scantrail batch: {0}")]
    NotABatch(postcard::Error),
    /// A protocol head office knows, but the rest does not decode (cut
    /// short or damaged on the way).
    #[error("the batch cannot be decoded: {source}")]
    Undecodable {
        /// The protocol version the batch gave.
        protocol: u32,
        /// What postcard found.
        source: postcard::Error,
    },
    /// A protocol this head office does not speak: the site runs a newer
    /// scantrail.
    #[error("protocol version {protocol} is not supported by this head office (it speaks {}): upgrade scantrail at head office", PROTOCOL_VERSION)]
    UnknownProtocol {
        /// The protocol version the batch gave.
        protocol: u32,
    },
}

/// Protocol 1's batch layout, frozen: its movements have no author and its
/// rejected scans no `raw_truncated` (they were always whole).
mod v1 {
    use chrono::{DateTime, Utc};
    use serde::Deserialize;

    use super::ReferenceVersions;
    use crate::store::movement::rejection_v1::RejectionV1;
    use crate::store::movement_v1::MovementV1;

    #[derive(Deserialize)]
    pub struct Batch {
        protocol: u32,
        site: String,
        first_seq: u64,
        last_seq: u64,
        sent_at: DateTime<Utc>,
        reference: ReferenceVersions,
        entries: Entries,
    }

    #[derive(Deserialize)]
    enum Entries {
        Movements(Vec<MovementV1>),
        Rejections(Vec<RejectionV1>),
    }

    impl From<Batch> for super::Batch {
        fn from(b: Batch) -> super::Batch {
            super::Batch {
                protocol: b.protocol,
                site: b.site,
                first_seq: b.first_seq,
                last_seq: b.last_seq,
                sent_at: b.sent_at,
                reference: b.reference,
                entries: match b.entries {
                    Entries::Movements(m) => {
                        super::Entries::Movements(m.into_iter().map(Into::into).collect())
                    }
                    Entries::Rejections(r) => {
                        super::Entries::Rejections(r.into_iter().map(Into::into).collect())
                    }
                },
            }
        }
    }
}

/// Head office's answer to a batch: the highest contiguous seq it holds of
/// that log, and that entry's hash. The site moves its watermark only from
/// this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// Which log the ack is for.
    pub log: Log,
    /// The highest seq of that log head office holds contiguously: the site's
    /// new watermark.
    pub acked_seq: u64,
    /// The hash of that entry, checked by the site against its own chain.
    pub acked_hash: Hash,
    /// When head office received the batch (its clock).
    pub received_at: DateTime<Utc>,
    /// Entries of the batch written for the first time.
    pub new: usize,
    /// Entries head office already held with the same content (a resend):
    /// absorbed.
    pub duplicates: usize,
    /// Business flags head office noted (skew, stale recall list); never a
    /// reason to refuse.
    #[serde(default)]
    pub flags: Vec<String>,
}

/// The members of head office's refusals that the site reads: each is an
/// RFC 7807 problem (`web::problem`; `type`, `title`, `status` and
/// `detail` are there too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub(super) error: String,
    /// Stable machine code: `gap`, `conflict`, `bad_hash`, `broken_link`,
    /// `wrong_origin`, `too_large`, `body_too_large`, `unauthorized`,
    /// `forbidden`, `rate_limited`, `bad_request`, `unsupported`,
    /// `not_found`, `method_not_allowed`, `internal`.
    pub code: String,
    /// For `gap`: the seq head office expects next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_seq: Option<u64>,
    /// For `conflict`: the seq held with other content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
}

/// `GET /api/v1/limits`: what head office accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// The protocol version head office speaks.
    pub protocol: u32,
    /// The most entries head office takes in one batch.
    pub batch_max: usize,
    /// The largest request body head office takes, in bytes.
    pub body_max_bytes: usize,
    /// Requests per second a site may make (the rate limit).
    pub requests_per_second: u32,
}

/// `GET /api/v1/reference/{kind}?since=v`: every record changed after `v`,
/// as its latest state, up to `version`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delta {
    /// The version the site asked from.
    pub since: u64,
    /// The version the site has once the delta is applied: its next `since`.
    pub version: u64,
    /// (key, record encoded with `station::records::encode`)
    pub upserts: Vec<(Vec<u8>, Vec<u8>)>,
    /// Keys of records removed since `since`.
    pub removals: Vec<Vec<u8>>,
}

impl Delta {
    /// The delta as a postcard response body.
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).unwrap_or_default()
    }

    pub(super) fn decode(bytes: &[u8]) -> Result<Delta, DeltaError> {
        postcard::from_bytes(bytes).map_err(DeltaError)
    }
}

/// A reference delta from head office that does not decode (cut short, or
/// from a head office speaking another protocol); the link retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the reference delta cannot be decoded: {0}")]
pub struct DeltaError(pub postcard::Error);

/// The URL segment of a reference kind.
pub fn reference_segment(r: Reference) -> &'static str {
    match r {
        Reference::Products => "products",
        Reference::Holds => "holds",
        Reference::PickLists => "picklists",
    }
}

/// The reference kind named by a URL segment (`products`, `holds`,
/// `picklists`), if any.
pub fn reference_from_segment(s: &str) -> Option<Reference> {
    Reference::ALL
        .into_iter()
        .find(|r| reference_segment(*r) == s)
}

/// The URL segment of a log in `path::HISTORY`.
pub fn log_segment(log: Log) -> &'static str {
    match log {
        Log::Movements => "movements",
        Log::Rejections => "rejections",
    }
}

/// The log named by a URL segment (`movements`, `rejections`), if any.
pub fn log_from_segment(s: &str) -> Option<Log> {
    [Log::Movements, Log::Rejections]
        .into_iter()
        .find(|l| log_segment(*l) == s)
}

/// `GET /api/v1/history/{site}/{log}?from=SEQ&limit=N`: a page of head
/// office's copy of one of a site's logs, entries exactly as the site sent
/// them (hashes included), never past `head_seq`. What a site rebuilds its
/// store from after its PC died (`scantrail restore --from-hq`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// `PROTOCOL_VERSION` of the head office that answered.
    pub protocol: u32,
    /// The site whose log this is.
    pub site: String,
    /// Where head office's copy of the log ends: its acknowledgement.
    pub head_seq: u64,
    /// The hash of that entry (`Hash::GENESIS` when `head_seq` is 0).
    pub head_hash: Hash,
    /// Up to the asked number of entries from the asked seq, in seq order;
    /// empty past `head_seq`.
    pub entries: Entries,
}

impl History {
    /// The page as a postcard response body (content type `POSTCARD`).
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).unwrap_or_default()
    }

    /// A page from a response body; another protocol is refused by name.
    pub fn decode(bytes: &[u8]) -> Result<History, HistoryError> {
        let (protocol, _) =
            postcard::take_from_bytes::<u32>(bytes).map_err(HistoryError::Undecodable)?;
        if protocol != PROTOCOL_VERSION {
            return Err(HistoryError::OtherProtocol { protocol });
        }
        postcard::from_bytes(bytes).map_err(HistoryError::Undecodable)
    }
}

/// A history page that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HistoryError {
    /// Head office speaks another protocol: its entries' layout may differ.
    #[error("head office answered in sync protocol {protocol}, this scantrail speaks {}: restore with the scantrail version head office runs", PROTOCOL_VERSION)]
    OtherProtocol {
        /// The protocol head office gave.
        protocol: u32,
    },
    /// The body does not decode (cut short or damaged on the way).
    #[error("head office's history page cannot be decoded: {0}")]
    Undecodable(postcard::Error),
}

/// One site as head office sees it (`GET /api/v1/sites`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteStatus {
    /// The site's id (its origin).
    pub site: String,
    /// The highest movement seq head office holds of the site.
    pub last_seq: u64,
    /// The highest rejected-scan seq head office holds of the site.
    pub last_rejected_seq: u64,
    /// When head office last received a batch of this site.
    pub last_seen: Option<DateTime<Utc>>,
    /// When the site last reached head office at all: a batch, or asking
    /// for reference data (which a site with nothing to send still does).
    #[serde(default)]
    pub last_contact: Option<DateTime<Utc>>,
    /// Entries the site held at its last contact that head office does not
    /// (both logs); `None` for a site that does not report its heads.
    #[serde(default)]
    pub backlog: Option<u64>,
    /// Seconds between the newest movement's device time and now, while
    /// the site has a backlog (or does not report it): how far behind head
    /// office's copy is. `None` for a site that is up to date, however
    /// long it has been quiet.
    pub lag_seconds: Option<i64>,
    /// The reference versions the site reported with its last batch.
    pub reference: ReferenceVersions,
    /// What head office noticed about the site (conflicts, clock skew, stale
    /// recalls): the latest 100, oldest first.
    pub alerts: Vec<Alert>,
}

/// Something head office noticed about a site's batches that needs a person:
/// kept, shown by `scantrail hq status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// When head office noticed it.
    pub at: DateTime<Utc>,
    /// `conflict`, `clock_skew`, `stale_recall`, `bad_hash`, ...
    pub code: String,
    /// What happened, in words.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newer_protocol_is_refused_by_name() {
        let b = Batch {
            protocol: PROTOCOL_VERSION,
            site: "north".into(),
            first_seq: 1,
            last_seq: 0,
            sent_at: Utc::now(),
            reference: ReferenceVersions::default(),
            entries: Entries::Movements(vec![]),
        };
        assert_eq!(Batch::decode(&b.encode()).unwrap(), b);
        let mut bytes = b.encode();
        bytes[0] = 3;
        let e = Batch::decode(&bytes).unwrap_err();
        assert_eq!(e, BatchError::UnknownProtocol { protocol: 3 });
        assert!(e.to_string().contains("upgrade"), "{e}");
        assert!(matches!(Batch::decode(&[]), Err(BatchError::NotABatch(_))));
        for cut in 0..bytes.len() {
            assert!(Batch::decode(&b.encode()[..cut]).is_err() || cut == bytes.len());
        }
    }

    #[test]
    fn a_protocol_1_batch_of_rejected_scans_still_decodes() {
        use crate::model::Movement;
        use crate::store::movement::rejection_v1::{NewRejectionV1, RejectionV1};
        #[derive(Serialize)]
        enum EntriesV1 {
            #[allow(dead_code)]
            Movements(Vec<Movement>),
            Rejections(Vec<RejectionV1>),
        }
        let r = RejectionV1 {
            origin: "north".into(),
            seq: 1,
            prev_hash: Hash::GENESIS,
            body: NewRejectionV1 {
                code: "expired".into(),
                words: "expired".into(),
                station: "dock-1".into(),
                operator: "op1".into(),
                raw: b"]C1...".to_vec(),
                time: Utc::now(),
            },
            hash: Hash([5; 32]),
        };
        let bytes = postcard::to_stdvec(&(
            1u32,
            "north",
            1u64,
            1u64,
            Utc::now(),
            ReferenceVersions::default(),
            EntriesV1::Rejections(vec![r.clone()]),
        ))
        .unwrap();
        let b = Batch::decode(&bytes).unwrap();
        let Entries::Rejections(got) = b.entries else {
            panic!("not rejections")
        };
        assert_eq!(got, vec![r.into()]);
        assert_eq!(got[0].body.raw_truncated, None);
    }
}
