//! Index postings: the entries of an index that differ only in their seq
//! (one lot's movements at one origin, one document's, one day's) are kept
//! as one sled entry listing many seqs, not one entry each.
//!
//! Why: sled 0.34.7 keeps 34–50 bytes resident for every entry it has ever
//! paged out, and a write to a key far from the last one rewrites a node it
//! may first page back in (BENCHMARKS.md, "What sled holds in memory, and
//! why"). Six index entries per movement scattered over the tree made the
//! daemon's memory grow ~2.5 KB per scan and a 10-million store take 2.9 GB
//! to open. A posting is appended to while it is the last of its run, so
//! the writes of a busy lot, document or day go to one hot entry.
//!
//! Layout: the key is the logical index key (`derived::index_keys`: the
//! index's fields, then origin and seq) of the posting's first movement;
//! the value lists the seqs after the first, each as the varint (postcard's)
//! of its step from the one before. Prefix and range scans of an index work
//! as before; each entry stands for one or more movements of one origin, in
//! seq order. Verify compares the logical keys (`entries`), so a posting
//! that lost a seq shows as that movement's missing entry.

use std::collections::HashMap;

use super::error::Result;

/// A posting's value stops growing past this many bytes (~100 seqs of
/// nearby movements): rewriting it on every append must stay cheap.
const MAX_VALUE: usize = 192;

/// A logical index key split into its run (everything before the seq) and
/// its seq, which every index key ends with (`Key::id`).
pub(super) fn split(key: &[u8]) -> Option<(&[u8], u64)> {
    let at = key.len().checked_sub(8)?;
    let seq = u64::from_be_bytes(key[at..].try_into().ok()?);
    Some((&key[..at], seq))
}

/// The seqs a posting lists, first its key's, then its value's; a value
/// that cannot be read ends the list there (verify then names the
/// movements whose entries are missing).
pub(super) fn seqs<'a>(key: &[u8], value: &'a [u8]) -> Seqs<'a> {
    Seqs {
        next: split(key).map(|(_, seq)| seq),
        rest: value,
    }
}

/// See [`seqs`].
pub(super) struct Seqs<'a> {
    next: Option<u64>,
    rest: &'a [u8],
}

impl Iterator for Seqs<'_> {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        let seq = self.next?;
        self.next = match postcard::take_from_bytes::<u64>(self.rest) {
            Ok((step, rest)) if !self.rest.is_empty() && step > 0 => {
                self.rest = rest;
                seq.checked_add(step)
            }
            _ => None,
        };
        Some(seq)
    }
}

/// The logical index keys a posting stands for: its run with each seq.
pub(super) fn entries<'a>(key: &'a [u8], value: &'a [u8]) -> impl Iterator<Item = Vec<u8>> + 'a {
    let run = split(key).map_or(&key[..0], |(run, _)| run);
    seqs(key, value).map(move |seq| {
        let mut k = Vec::with_capacity(run.len() + 8);
        k.extend_from_slice(run);
        k.extend_from_slice(&seq.to_be_bytes());
        k
    })
}

/// Whether the index holds the logical `key`: in the last posting of its
/// run that starts at or before it.
pub(super) fn contains(tree: &sled::Tree, key: &[u8]) -> sled::Result<bool> {
    let Some((run, seq)) = split(key) else {
        return Ok(false);
    };
    let Some((k, v)) = tree.range(run..=key).next_back().transpose()? else {
        return Ok(false);
    };
    Ok(k.len() == key.len() && seqs(&k, &v).any(|s| s == seq))
}

/// The last posting stored under a run, for appending to it.
pub(super) fn last(tree: &sled::Tree, run: &[u8]) -> sled::Result<Option<(Vec<u8>, Vec<u8>)>> {
    Ok(tree
        .scan_prefix(run)
        .next_back()
        .transpose()?
        .map(|(k, v)| (k.to_vec(), v.to_vec())))
}

/// The postings a batch of movements appends to: each read once from the
/// store (`add`'s `last`), changed in memory, written once (`into_entries`).
#[derive(Default)]
pub(super) struct Appender {
    open: HashMap<Vec<u8>, Open>,
    full: Vec<(Vec<u8>, Vec<u8>)>,
}

/// The last posting of a run, as the batch leaves it.
struct Open {
    key: Vec<u8>,
    value: Vec<u8>,
    last: u64,
    changed: bool,
}

impl Appender {
    /// Adds a movement's logical index key (seqs of a run must come in
    /// increasing order, as commits, ingest and reindex give them); `last`
    /// reads the last posting the store holds under a run.
    pub(super) fn add(
        &mut self,
        key: Vec<u8>,
        last: impl FnOnce(&[u8]) -> Result<Option<(Vec<u8>, Vec<u8>)>>,
    ) -> Result<()> {
        let Some((run, seq)) = split(&key) else {
            return Ok(());
        };
        if !self.open.contains_key(run) {
            let stored = last(run)?.map(|(key, value)| Open {
                last: seqs(&key, &value).last().unwrap_or(0),
                key,
                value,
                changed: false,
            });
            if let Some(open) = stored {
                self.open.insert(run.to_vec(), open);
            } else {
                let open = Open {
                    key: key.clone(),
                    value: Vec::new(),
                    last: seq,
                    changed: true,
                };
                self.open.insert(run.to_vec(), open);
                return Ok(());
            }
        }
        let Some(open) = self.open.get_mut(run) else {
            return Ok(());
        };
        if seq == open.last {
            // Listed already: a second posting under the same key would
            // replace the first and lose its seqs.
            return Ok(());
        }
        if seq > open.last && open.value.len() < MAX_VALUE {
            // Appending to a Vec cannot fail.
            if let Ok(value) =
                postcard::to_extend(&(seq - open.last), std::mem::take(&mut open.value))
            {
                open.value = value;
            }
            open.last = seq;
            open.changed = true;
        } else {
            let next = Open {
                key,
                value: Vec::new(),
                last: seq,
                changed: true,
            };
            let done = std::mem::replace(open, next);
            if done.changed {
                self.full.push((done.key, done.value));
            }
        }
        Ok(())
    }

    /// The postings to store, consuming what was added.
    pub(super) fn into_entries(self) -> impl Iterator<Item = (Vec<u8>, Vec<u8>)> {
        self.full.into_iter().chain(
            self.open
                .into_values()
                .filter(|o| o.changed)
                .map(|o| (o.key, o.value)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(run: &[u8], seq: u64) -> Vec<u8> {
        let mut k = run.to_vec();
        k.extend_from_slice(&seq.to_be_bytes());
        k
    }

    fn stored(entries: &[(Vec<u8>, Vec<u8>)], run: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
        entries
            .iter()
            .filter(|(k, _)| k.starts_with(run) && k.len() == run.len() + 8)
            .max()
            .cloned()
    }

    /// Appends `seqs` to `run` batch by batch (`per_batch` each) over a
    /// map standing for the store, and returns what it holds.
    fn append(runs: &[(&[u8], Vec<u64>)], per_batch: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut held: std::collections::BTreeMap<Vec<u8>, Vec<u8>> = Default::default();
        let mut all: Vec<(&[u8], u64)> = runs
            .iter()
            .flat_map(|(run, seqs)| seqs.iter().map(move |s| (*run, *s)))
            .collect();
        all.sort_by_key(|(_, s)| *s);
        for batch in all.chunks(per_batch) {
            let mut a = Appender::default();
            let now: Vec<_> = held.clone().into_iter().collect();
            for (run, seq) in batch {
                a.add(key(run, *seq), |r| Ok(stored(&now, r))).unwrap();
            }
            held.extend(a.into_entries());
        }
        held.into_iter().collect()
    }

    #[test]
    fn every_seq_added_is_listed_once_in_order_whatever_the_batches() {
        let lot: &[u8] = b"\x20lot-A\x00\x01north\x00\x01";
        let doc: &[u8] = b"\x25PO-1\x00\x01north\x00\x01";
        let lot_seqs: Vec<u64> = (1..600).filter(|s| s % 3 != 0).collect();
        let doc_seqs: Vec<u64> = (1..600)
            .filter(|s| s % 3 == 0)
            .chain([10_000_000_000])
            .collect();
        for per_batch in [1, 7, 256, 5000] {
            let held = append(
                &[(lot, lot_seqs.clone()), (doc, doc_seqs.clone())],
                per_batch,
            );
            for (run, want) in [(lot, &lot_seqs), (doc, &doc_seqs)] {
                let got: Vec<u64> = held
                    .iter()
                    .filter(|(k, _)| k.starts_with(run))
                    .flat_map(|(k, v)| seqs(k, v))
                    .collect();
                assert_eq!(&got, want, "batches of {per_batch}");
                let keys: Vec<Vec<u8>> = held
                    .iter()
                    .filter(|(k, _)| k.starts_with(run))
                    .flat_map(|(k, v)| entries(k, v))
                    .collect();
                assert_eq!(keys, want.iter().map(|s| key(run, *s)).collect::<Vec<_>>());
            }
            // Many seqs a posting: 799 seqs in a handful of entries.
            assert!(held.len() < 20, "{} postings", held.len());
            assert!(held.iter().all(|(_, v)| v.len() <= MAX_VALUE + 10));
        }
    }

    #[test]
    fn a_seq_not_after_the_last_starts_a_new_posting() {
        let run: &[u8] = b"\x26day\x00\x01";
        let held = append(&[(run, vec![5, 9])], 10);
        let mut a = Appender::default();
        a.add(key(run, 7), |r| Ok(stored(&held, r))).unwrap();
        let mut all = held.clone();
        all.extend(a.into_entries());
        all.sort();
        let got: Vec<u64> = all.iter().flat_map(|(k, v)| seqs(k, v)).collect();
        assert_eq!(got, vec![5, 9, 7]);
    }

    #[test]
    fn a_damaged_value_lists_what_precedes_the_damage() {
        let run: &[u8] = b"\x20x\x00\x01";
        let k = key(run, 10);
        assert_eq!(seqs(&k, &[1, 2]).collect::<Vec<_>>(), vec![10, 11, 13]);
        // A varint cut short, and a step of zero.
        assert_eq!(seqs(&k, &[1, 0x80]).collect::<Vec<_>>(), vec![10, 11]);
        assert_eq!(seqs(&k, &[0, 1]).collect::<Vec<_>>(), vec![10]);
        assert_eq!(seqs(&[1, 2], &[]).count(), 0);
    }

    #[test]
    fn contains_finds_a_seq_inside_a_posting_in_sled() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::open(dir.path()).unwrap();
        let run: &[u8] = b"\x20lot\x00\x01o\x00\x01";
        let other: &[u8] = b"\x20lot\x00\x01p\x00\x01";
        for (k, v) in append(&[(run, vec![3, 4, 8]), (other, vec![5])], 100) {
            db.insert(k, v).unwrap();
        }
        for (seq, want) in [
            (2, false),
            (3, true),
            (4, true),
            (5, false),
            (8, true),
            (9, false),
        ] {
            assert_eq!(contains(&db, &key(run, seq)).unwrap(), want, "seq {seq}");
        }
        assert!(contains(&db, &key(other, 5)).unwrap());
        assert_eq!(last(&db, run).unwrap().map(|(k, _)| k), Some(key(run, 3)));
    }
}
