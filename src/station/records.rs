//! How reference records are stored: a versioned postcard envelope per
//! record, keyed by GTIN (products), hold id (holds) or order (pick lists).
//! A released envelope version is never edited; a new field means `V2`.

use serde::{de::DeserializeOwned, Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
enum Envelope<T> {
    V1(T),
}

/// The stored bytes of a reference record or station context: postcard inside
/// the newest envelope version.
pub fn encode<T: Serialize>(record: &T) -> Vec<u8> {
    postcard::to_stdvec(&Envelope::V1(record)).expect("reference records are plain data")
}

/// Stored bytes that are no record this scantrail knows: written by a newer
/// one (an envelope version it has not heard of) or damaged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a stored reference record cannot be read ({source}); it may come from a newer scantrail (upgrade this one) or be damaged (run `scantrail verify`)")]
pub struct RecordError {
    /// What postcard found.
    pub source: postcard::Error,
}

/// A record back from its stored bytes; the error says what to do when they
/// come from a newer scantrail or are damaged.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, RecordError> {
    match postcard::from_bytes::<Envelope<T>>(bytes) {
        Ok(Envelope::V1(record)) => Ok(record),
        Err(source) => Err(RecordError { source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::station::Context;

    #[test]
    fn a_station_context_round_trips() {
        let c = Context {
            order: Some("O-1".into()),
            operator: Some("bob".into()),
            ..Context::default()
        };
        let back: Context = decode(&encode(&c)).unwrap();
        assert_eq!(back, c);
        let e = decode::<Context>(b"\x07junk").unwrap_err();
        assert!(e.to_string().contains("newer scantrail"), "{e}");
    }
}
