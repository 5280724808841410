//! Journal blocks: an origin's movements are kept 32 to a sled entry, not
//! one each.
//!
//! Why: sled 0.34.7 keeps bytes resident for every entry it has ever paged
//! out, so a store's memory grew with its number of entries (BENCHMARKS.md,
//! "The soak"), and a movement's own journal entry was one of the few each
//! scan added for good. A block is one entry for 32 movements, and the
//! committer only ever writes to the last block of its origin, so the
//! journal's writes still go to one hot entry.
//!
//! Layout: the key is (origin, first seq) under the journal prefix, the
//! first seq being 1, 33, 65… (`first`), so the block holding a seq is
//! known without a search. The value is the block's movements in seq order,
//! each as its stored envelope (`Movement::encode`) after its length as a
//! varint (postcard's). A block is full at `MOVEMENTS`; the last one of an
//! origin may hold fewer. The movements inside carry their own origin and
//! seq: verify checks them against the block's place.

use std::ops::Range;

use super::error::{Result, StoreError};
use super::keys;

pub use super::keys::{block_first as first, BLOCK_MOVEMENTS as MOVEMENTS};

/// The first seq of a block, read from its key's last 8 bytes.
pub fn first_of(key: &[u8]) -> Option<u64> {
    let at = key.len().checked_sub(8)?;
    Some(u64::from_be_bytes(key[at..].try_into().ok()?))
}

/// The stored movements of a block whose first seq is `first`, in seq
/// order: each seq with the byte range of its envelope in `value`. A length
/// that runs past the value ends the block with `Err(seq)`: the seq from
/// which the block cannot be read.
pub fn spans(value: &[u8], first: u64) -> Spans<'_> {
    Spans {
        value,
        at: 0,
        seq: first,
        failed: false,
    }
}

/// See [`spans`].
pub struct Spans<'a> {
    value: &'a [u8],
    at: usize,
    seq: u64,
    failed: bool,
}

impl Iterator for Spans<'_> {
    type Item = std::result::Result<(u64, Range<usize>), u64>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.at >= self.value.len() {
            return None;
        }
        let rest = &self.value[self.at..];
        let found = postcard::take_from_bytes::<u64>(rest)
            .ok()
            .and_then(|(len, after)| {
                let start = self.at + (rest.len() - after.len());
                let end = start.checked_add(usize::try_from(len).ok()?)?;
                (end <= self.value.len()).then_some(start..end)
            });
        let seq = self.seq;
        match found {
            Some(span) => {
                self.at = span.end;
                self.seq += 1;
                Some(Ok((seq, span)))
            }
            None => {
                self.failed = true;
                Some(Err(seq))
            }
        }
    }
}

/// The stored movements of a block, as (seq, envelope bytes).
pub fn entries(
    value: &[u8],
    first: u64,
) -> impl Iterator<Item = std::result::Result<(u64, &[u8]), u64>> {
    spans(value, first).map(|s| s.map(|(seq, span)| (seq, &value[span])))
}

/// Where movement `seq`'s envelope lies in its block, if the block holds
/// it.
pub fn span(value: &[u8], seq: u64) -> Option<Range<usize>> {
    spans(value, first(seq))
        .map_while(|e| e.ok())
        .find(|(s, _)| *s == seq)
        .map(|(_, span)| span)
}

/// The envelope of movement `seq` in its block, if the block holds it.
pub fn find(value: &[u8], seq: u64) -> Option<&[u8]> {
    span(value, seq).map(|span| &value[span])
}

/// How many movements a block holds, readable ones from its start.
pub fn len(value: &[u8]) -> u64 {
    spans(value, 1).map_while(|e| e.ok()).count() as u64
}

/// The envelope of movement (origin, seq) in `tree`, if stored.
pub fn read(tree: &sled::Tree, origin: &str, seq: u64) -> sled::Result<Option<sled::IVec>> {
    let Some(block) = tree.get(keys::journal(origin, seq))? else {
        return Ok(None);
    };
    Ok(span(&block, seq).map(|span| block.subslice(span.start, span.len())))
}

/// Appends `envelope` to a block value.
pub(super) fn push(value: &mut Vec<u8>, envelope: &[u8]) {
    let mut len = [0u8; 10];
    if let Ok(varint) = postcard::to_slice(&(envelope.len() as u64), &mut len) {
        value.extend_from_slice(varint);
    }
    value.extend_from_slice(envelope);
}

/// The block a batch of one origin's consecutive movements appends to:
/// read once from the store, changed in memory, written once per batch
/// (the committer, head office's ingest, the upgrade).
#[derive(Default)]
pub(super) struct Appender {
    open: Option<Open>,
    done: Vec<(Vec<u8>, Vec<u8>)>,
}

struct Open {
    key: Vec<u8>,
    value: Vec<u8>,
    next: u64,
}

impl Appender {
    /// Appends movement (origin, seq); seqs must follow each other. `get`
    /// reads a stored block, which must end just before `seq`.
    pub(super) fn add(
        &mut self,
        origin: &str,
        seq: u64,
        envelope: &[u8],
        get: impl FnOnce(&[u8]) -> Result<Option<Vec<u8>>>,
        path: &std::path::Path,
    ) -> Result<()> {
        let key = keys::journal(origin, seq);
        let follows = matches!(&self.open, Some(o) if o.key == key && o.next == seq);
        if !follows {
            if let Some(o) = self.open.take() {
                self.done.push((o.key, o.value));
            }
            let first = first(seq);
            let value = if seq == first {
                Vec::new()
            } else {
                get(&key)?.unwrap_or_default()
            };
            let held = len(&value);
            if first + held != seq {
                return Err(StoreError::Damaged {
                    path: path.to_owned(),
                    detail: format!(
                        "the journal block of {origin} from seq {first} holds {held} movements, so seq {seq} cannot follow them (run `scantrail verify`)"
                    ),
                });
            }
            self.open = Some(Open {
                key,
                value,
                next: seq,
            });
        }
        if let Some(o) = &mut self.open {
            push(&mut o.value, envelope);
            o.next = seq + 1;
            if o.next == first(seq) + MOVEMENTS {
                if let Some(o) = self.open.take() {
                    self.done.push((o.key, o.value));
                }
            }
        }
        Ok(())
    }

    /// The blocks to write.
    pub(super) fn into_entries(mut self) -> Vec<(Vec<u8>, Vec<u8>)> {
        if let Some(o) = self.open.take() {
            self.done.push((o.key, o.value));
        }
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_start_at_1_33_65() {
        assert_eq!(first(1), 1);
        assert_eq!(first(32), 1);
        assert_eq!(first(33), 33);
        assert_eq!(first(64), 33);
        assert_eq!(first(65), 65);
        assert_eq!(first(0), 1);
    }

    #[test]
    fn appended_movements_read_back_by_seq_across_batches() {
        let path = std::path::Path::new("t");
        let mut stored: std::collections::HashMap<Vec<u8>, Vec<u8>> = Default::default();
        let body = |seq: u64| vec![seq as u8; (seq % 7) as usize * 40];
        // Batches of 5: each reads what the last one left.
        for batch in (1..=70u64).collect::<Vec<_>>().chunks(5) {
            let mut a = Appender::default();
            for &seq in batch {
                a.add("o", seq, &body(seq), |k| Ok(stored.get(k).cloned()), path)
                    .unwrap();
            }
            stored.extend(a.into_entries());
        }
        assert_eq!(stored.len(), 3, "blocks from 1, 33 and 65");
        for seq in 1..=70 {
            let block = &stored[&keys::journal("o", seq)];
            assert_eq!(find(block, seq), Some(&body(seq)[..]), "seq {seq}");
        }
        assert_eq!(len(&stored[&keys::journal("o", 65)]), 6);
        assert_eq!(find(&stored[&keys::journal("o", 65)], 71), None);
    }

    #[test]
    fn a_gap_is_refused_not_shifted() {
        let path = std::path::Path::new("t");
        let mut a = Appender::default();
        a.add("o", 1, b"one", |_| Ok(None), path).unwrap();
        let block = a.into_entries().remove(0).1;
        let mut b = Appender::default();
        let e = b
            .add("o", 3, b"three", |_| Ok(Some(block.clone())), path)
            .unwrap_err();
        assert!(e.to_string().contains("holds 1 movements"), "{e}");
    }

    #[test]
    fn a_damaged_length_ends_the_block_at_its_seq() {
        let mut value = Vec::new();
        push(&mut value, b"first");
        push(&mut value, b"second");
        value[6] = 0x7F; // the second length, now past the end
        let read: Vec<_> = entries(&value, 33).collect();
        assert_eq!(read, vec![Ok((33, &b"first"[..])), Err(34)]);
    }
}
