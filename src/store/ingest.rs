//! Ingest: head office writes movements (and rejected scans) of foreign
//! origins into the same journal layout a site uses, many origins in one
//! store, so reports are one code path on both sides.
//!
//! A site's movements arrive already stamped (origin, seq, prev_hash,
//! hash). Ingest never re-stamps them: it checks each one's hash over its
//! content, that it links to what head office already holds of that
//! origin, and that its seq comes next; a seq it holds already is absorbed
//! if identical (a resend after a lost answer) and refused if different
//! (history rewritten at the site). Everything of one call is written in
//! one atomic batch with one durable flush, through the committer thread,
//! so ingest and the store's own commits never interleave half-way, and
//! batches of several sites share a flush (`Ingest::many`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::blocks;
use super::chain::{self, Chained};
use super::committer::{read_movement, Sink};
use super::derived;
use super::envelope::{Head, Stored};
use super::error::{Result, StoreError};
use super::keys::{self, Key};
use super::postings;
use super::{SledSink, Store};
use crate::model::{Entries, Hash, Log, Movement, Rejection};

/// Prefix (inside the `journal` tree) of head office's receipt records:
/// (origin, log, first seq of a batch) → when it was received. Not derived
/// (the receive time is not in the movement), never rebuilt by reindex.
pub const RECEIPT_PREFIX: u8 = 0x70;

/// The key tag of a log in head office's receipt records.
fn tag(log: Log) -> u8 {
    match log {
        Log::Movements => b'M',
        Log::Rejections => b'R',
    }
}

/// One origin's batch for `Ingest::many`.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// The site the entries come from, as authenticated at head office.
    pub origin: String,
    /// A run of one of the origin's logs, in seq order.
    pub entries: Entries,
    /// When head office received the batch (its own clock), kept beside the
    /// entries.
    pub received_at: DateTime<Utc>,
}

/// A batch taken: where the origin's log now ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingested {
    /// Where the origin's log now ends: head office's acknowledgement.
    pub head: Head,
    /// Entries written for the first time.
    pub new: usize,
    /// Entries head office already held with the same content (a resend after a
    /// lost answer): absorbed, not counted twice.
    pub duplicates: usize,
    /// New corrections of a movement that was already corrected: taken
    /// (the site recorded them; history is not refused) but named, so
    /// head office can raise them with the site.
    pub corrected_again: Vec<String>,
}

/// Why a batch was refused; nothing of it was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// An entry names another origin than the authenticated site's: a site may
    /// only write its own.
    #[error("seq {seq} names origin {found}, not {expected}")]
    WrongOrigin {
        /// The entry's seq.
        seq: u64,
        /// The origin the entry names.
        found: String,
        /// The authenticated site.
        expected: String,
    },
    /// An entry's hash does not match its content.
    #[error("seq {seq}: its content does not match its hash")]
    BadHash {
        /// The entry's seq.
        seq: u64,
    },
    /// A seq head office already holds arrived with other content: history was
    /// rewritten at the site.
    #[error("seq {seq} is held already with different content: history was rewritten at the site")]
    Conflict {
        /// The seq held twice.
        seq: u64,
        /// The hash head office holds for it.
        held: Hash,
        /// The hash the site sent.
        sent: Hash,
    },
    /// An entry's `prev_hash` is not the hash of the entry before it.
    #[error("seq {seq} does not link to the entry before it")]
    BrokenLink {
        /// The entry whose link is broken.
        seq: u64,
    },
    /// The batch starts past the next expected seq (head office holds less,
    /// e.g. restored from an old copy): the site rewinds to `expected`.
    #[error("the batch starts at seq {first}, but the next expected seq is {expected}")]
    Gap {
        /// The batch's first seq.
        first: u64,
        /// The seq head office needs next.
        expected: u64,
    },
    /// The batch skips or repeats a seq inside itself.
    #[error("the batch is not in consecutive seq order at seq {seq}")]
    NotConsecutive {
        /// Where the order breaks.
        seq: u64,
    },
}

/// When a batch arrived, kept beside the movements (whose hash covers only
/// what the site recorded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub(super) last_seq: u64,
    pub(super) received_at: DateTime<Utc>,
}

fn receipt_key(origin: &str, log: Log, seq: u64) -> Vec<u8> {
    Key::new(RECEIPT_PREFIX)
        .str(origin)
        .byte(tag(log))
        .u64(seq)
        .into_vec()
}

/// The key of `origin`'s chain head of `log`.
pub(super) fn head_key(origin: &str, log: Log) -> Vec<u8> {
    match log {
        Log::Movements => keys::head(origin),
        Log::Rejections => keys::rejected_head(origin),
    }
}

/// Movements per sled batch. sled's `apply_batch` costs more per key as a
/// batch grows (37 µs per movement at 64, 98 µs at 2,000 on the benchmark
/// machine), so a large upload is written as consecutive chunks, each one
/// atomic and each ending with the origin's chain head, then made durable
/// with one flush before anything is acknowledged. A crash can keep a
/// prefix of the chunks: a consistent, gap-free prefix of the origin's log
/// that the site's resend completes (duplicates are absorbed).
const CHUNK: usize = 128;

/// What a batch adds, once checked: the indices of its new entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// Where the origin's log ended before the batch.
    pub start: Head,
    /// Where it ends with the batch.
    pub head: Head,
    /// The indices of the batch's new entries (after its duplicates).
    pub fresh: std::ops::Range<usize>,
    /// Entries already held, identical.
    pub duplicates: usize,
}

/// The links of a batch's entries (`chain::Chained`), each one's hash
/// recomputed.
pub fn links(entries: &Entries) -> Vec<chain::Link<'_>> {
    match entries {
        Entries::Movements(v) => v.iter().map(Chained::link).collect(),
        Entries::Rejections(v) => v.iter().map(Chained::link).collect(),
    }
}

/// The rules a batch of `origin` must keep against the log that ends at
/// `start`: its own origin on every entry, content that matches its hash,
/// consecutive seqs, entries already held identical to what is held
/// (`held(seq)` gives that hash; a resend after a lost answer), and new
/// entries that start right after the head and link to it. Head office's
/// two backends (the embedded store and PostgreSQL) both check with this.
pub fn check_links<E>(
    origin: &str,
    links: &[chain::Link<'_>],
    start: Head,
    mut held: impl FnMut(u64) -> std::result::Result<Hash, E>,
) -> std::result::Result<std::result::Result<Checked, Refusal>, E> {
    let mut head = start;
    let mut previous: Option<u64> = None;
    let mut first_fresh = None;
    let mut duplicates = 0;
    for (i, &(seq, prev, hash, named, intact)) in links.iter().enumerate() {
        if named != origin {
            return Ok(Err(Refusal::WrongOrigin {
                seq,
                found: named.to_owned(),
                expected: origin.to_owned(),
            }));
        }
        if !intact {
            return Ok(Err(Refusal::BadHash { seq }));
        }
        if seq == 0 || previous.is_some_and(|p| p.checked_add(1) != Some(seq)) {
            return Ok(Err(Refusal::NotConsecutive { seq }));
        }
        previous = Some(seq);
        if seq <= head.seq {
            let held = held(seq)?;
            if held != hash {
                return Ok(Err(Refusal::Conflict {
                    seq,
                    held,
                    sent: hash,
                }));
            }
            duplicates += 1;
            continue;
        }
        if seq != head.seq + 1 {
            return Ok(Err(Refusal::Gap {
                first: seq,
                expected: head.seq + 1,
            }));
        }
        if prev != head.hash {
            return Ok(Err(Refusal::BrokenLink { seq }));
        }
        head = Head { seq, hash };
        first_fresh.get_or_insert(i);
    }
    let fresh = match first_fresh {
        Some(i) => i..links.len(),
        None => 0..0,
    };
    Ok(Ok(Checked {
        start,
        head,
        fresh,
        duplicates,
    }))
}

/// Checks and writes the batches of one `Ingest::many` call (or of a
/// restore, `store::restore`).
struct Writer<'a> {
    sink: &'a mut SledSink,
    wrote: bool,
    into: Destination,
}

/// Which store the batches go into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Destination {
    /// Head office's: each chunk gets a receipt record (when it came).
    HeadOffice,
    /// A site's own store being restored from head office's copy: a site
    /// never holds receipts.
    RestoredSite,
}

impl<'a> Writer<'a> {
    fn decode_err(&self) -> impl Fn(super::envelope::EnvelopeError) -> StoreError + '_ {
        move |source| StoreError::Value {
            path: self.sink.path.clone(),
            source,
        }
    }

    fn head(&self, origin: &str, log: Log) -> Result<Head> {
        Ok(match self.sink.get(&head_key(origin, log))? {
            Some(v) => Head::decode(&v).map_err(self.decode_err())?,
            None => Head {
                seq: 0,
                hash: Hash::GENESIS,
            },
        })
    }

    fn held_hash(&self, origin: &str, log: Log, seq: u64) -> Result<Option<Hash>> {
        Ok(match log {
            Log::Movements => {
                read_movement(&*self.sink, origin, seq, &self.sink.path)?.map(|m| m.hash)
            }
            Log::Rejections => match self.sink.get(&keys::rejected(origin, seq))? {
                None => None,
                Some(v) => Some(Rejection::decode(&v).map_err(self.decode_err())?.hash),
            },
        })
    }

    /// Every check, before anything of the batch is written: a refused
    /// batch writes nothing.
    fn check(&self, incoming: &Incoming) -> Result<std::result::Result<Checked, Refusal>> {
        let log = incoming.entries.log();
        let origin = incoming.origin.as_str();
        let start = self.head(origin, log)?;
        check_links(origin, &links(&incoming.entries), start, |seq| {
            match self.held_hash(origin, log, seq)? {
                Some(held) => Ok(held),
                // The head says seq is held: a missing entry is a damaged
                // store, not the site's fault.
                None => Err(StoreError::Damaged {
                    path: self.sink.path.clone(),
                    detail: format!("origin {origin} seq {seq} is below its head but missing"),
                }),
            }
        })
    }

    /// Writes a checked batch's new entries, chunk by chunk (not yet
    /// durable: `finish` flushes). Returns the corrections of movements
    /// already corrected, in words.
    fn write(&mut self, incoming: &Incoming, checked: &Checked) -> Result<Vec<String>> {
        let mut corrected_again = Vec::new();
        let log = incoming.entries.log();
        let origin = incoming.origin.as_str();
        let mut first = checked.fresh.start;
        while first < checked.fresh.end {
            let end = (first + CHUNK).min(checked.fresh.end);
            let mut writes: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity((end - first) * 9 + 4);
            let last = match &incoming.entries {
                Entries::Movements(v) => {
                    self.movements(origin, &v[first..end], &mut writes, &mut corrected_again)?;
                    Head {
                        seq: v[end - 1].seq,
                        hash: v[end - 1].hash,
                    }
                }
                Entries::Rejections(v) => {
                    for r in &v[first..end] {
                        writes.push((keys::rejected(origin, r.seq), r.encode()));
                    }
                    Head {
                        seq: v[end - 1].seq,
                        hash: v[end - 1].hash,
                    }
                }
            };
            let chunk_first = if first == checked.fresh.start {
                checked.start.seq + 1
            } else {
                match &incoming.entries {
                    Entries::Movements(v) => v[first].seq,
                    Entries::Rejections(v) => v[first].seq,
                }
            };
            if self.into == Destination::HeadOffice {
                let receipt = Receipt {
                    last_seq: last.seq,
                    received_at: incoming.received_at,
                };
                writes.push((
                    receipt_key(origin, log, chunk_first),
                    postcard::to_stdvec(&receipt).unwrap_or_default(),
                ));
            }
            writes.push((head_key(origin, log), last.encode()));
            self.apply(writes)?;
            first = end;
        }
        Ok(corrected_again)
    }

    /// The journal entries, index entries, balances and serial states of
    /// consecutive new movements of one origin.
    fn movements(
        &self,
        origin: &str,
        chunk: &[Movement],
        writes: &mut Vec<(Vec<u8>, Vec<u8>)>,
        corrected_again: &mut Vec<String>,
    ) -> Result<()> {
        let mut aggregates = derived::Aggregates::default();
        let mut journal = blocks::Appender::default();
        let mut postings = postings::Appender::default();
        for (i, m) in chunk.iter().enumerate() {
            if let Some(t) = m.body.corrects.as_ref() {
                let earlier = chunk[..i]
                    .iter()
                    .find(|c| c.body.corrects.as_ref() == Some(t))
                    .map(|c| (c.origin.clone(), c.seq));
                let stored = match earlier {
                    Some(e) => Some(e),
                    None => self.first_correction(&t.origin, t.seq)?,
                };
                if let Some((o, s)) = stored {
                    corrected_again.push(format!(
                        "seq {} corrects {}:{} again, already corrected by {o}:{s}",
                        m.seq, t.origin, t.seq
                    ));
                }
            }
            // A correction's state depends on what it corrects, which may
            // be earlier in this same chunk.
            let corrected = match derived::corrected_id(m) {
                Some(id) => match chunk
                    .iter()
                    .find(|c| c.origin == id.origin && c.seq == id.seq)
                {
                    Some(c) => Some(c.clone()),
                    None => read_movement(&*self.sink, &id.origin, id.seq, &self.sink.path)?,
                },
                None => None,
            };
            aggregates.add_over(
                m,
                corrected.as_ref(),
                |k| self.sink.get(k),
                |low, high| self.sink.last_between(low, high),
                &self.sink.path,
            )?;
            journal.add(
                origin,
                m.seq,
                &m.encode(),
                |k| self.sink.get(k),
                &self.sink.path,
            )?;
            for k in derived::posted_keys(m) {
                postings.add(k, |run| self.sink.last_under(run))?;
            }
        }
        writes.extend(journal.into_entries());
        writes.extend(aggregates.into_entries());
        writes.extend(postings.into_entries());
        Ok(())
    }

    /// The first correction head office holds of (origin, seq).
    fn first_correction(&self, origin: &str, seq: u64) -> Result<Option<(String, u64)>> {
        match self
            .sink
            .journal()?
            .scan_prefix(keys::corrected_by(origin, seq).into_vec())
            .next()
        {
            Some(item) => {
                let (k, v) = item.map_err(self.sink.sled_err("read the corrections index"))?;
                let first = derived::index_targets(&k, &v).next();
                Ok(first)
            }
            None => Ok(None),
        }
    }

    fn apply(&mut self, writes: Vec<(Vec<u8>, Vec<u8>)>) -> Result<()> {
        let t = std::time::Instant::now();
        let mut batch = sled::Batch::default();
        for (k, v) in writes {
            batch.insert(k, v);
        }
        self.sink
            .journal()?
            .apply_batch(batch)
            .map_err(self.sink.sled_err("write ingested movements"))?;
        self.sink.timing.add(&self.sink.timing.apply, t);
        self.wrote = true;
        Ok(())
    }

    fn finish(self) -> Result<()> {
        if self.wrote {
            self.sink.make_durable()?;
        }
        Ok(())
    }
}

/// Checks and writes `batches` on the committer thread, each accepted or
/// refused on its own, then makes what was written durable with one flush.
pub(super) fn ingest_in(
    sink: &mut SledSink,
    batches: &[Incoming],
    into: Destination,
) -> Result<Vec<std::result::Result<Ingested, Refusal>>> {
    let mut writer = Writer {
        sink,
        wrote: false,
        into,
    };
    let mut answers = Vec::with_capacity(batches.len());
    for b in batches {
        let checked = match writer.check(b)? {
            Ok(c) => c,
            Err(refusal) => {
                answers.push(Err(refusal));
                continue;
            }
        };
        let corrected_again = writer.write(b, &checked)?;
        answers.push(Ok(Ingested {
            head: checked.head,
            new: checked.fresh.len(),
            duplicates: checked.duplicates,
            corrected_again,
        }));
    }
    writer.finish()?;
    Ok(answers)
}

/// Head office's ingest of its sites' logs (`Store::ingest`): batches
/// checked against each origin's chain and written atomically and durably.
#[derive(Clone, Copy)]
pub struct Ingest<'a> {
    pub(super) store: &'a Store,
}

impl Ingest<'_> {
    /// Ingests one origin's movements (in seq order) atomically and durably.
    /// `Ok(Err(_))` is a refusal of the site's data; `Err` a store failure.
    pub fn one(
        &self,
        origin: &str,
        movements: Vec<Movement>,
    ) -> Result<std::result::Result<Ingested, Refusal>> {
        let mut out = self.many(vec![Incoming {
            origin: origin.to_owned(),
            entries: Entries::Movements(movements),
            received_at: Utc::now(),
        }])?;
        Ok(out.pop().unwrap_or(Ok(Ingested {
            head: self.store.journal().head(origin)?,
            new: 0,
            duplicates: 0,
            corrected_again: Vec::new(),
        })))
    }

    /// Ingests several batches (of one or many origins, movements or
    /// rejected scans) in one atomic write and one durable flush. Each
    /// batch is accepted or refused on its own; a refused one writes
    /// nothing. Answers are in the order of `batches`.
    pub fn many(
        &self,
        batches: Vec<Incoming>,
    ) -> Result<Vec<std::result::Result<Ingested, Refusal>>> {
        if let Some(b) = batches.iter().find(|b| b.origin == self.store.site()) {
            return Err(StoreError::Damaged {
                path: self.store.path().to_owned(),
                detail: format!(
                    "cannot ingest movements of origin {}: it is this store's own origin",
                    b.origin
                ),
            });
        }
        self.store
            .committer()
            .exclusive(move |sink: &mut SledSink| {
                ingest_in(sink, &batches, Destination::HeadOffice)
            })
    }

    /// When head office received movement (or rejected scan) `seq` of
    /// `origin`: the receipt of the batch that brought it.
    pub fn received_at(&self, origin: &str, log: Log, seq: u64) -> Result<Option<DateTime<Utc>>> {
        let lo = receipt_key(origin, log, 0);
        let hi = receipt_key(origin, log, seq);
        let found = self
            .store
            .trees()?
            .journal
            .range(lo..=hi)
            .next_back()
            .transpose()
            .map_err(|e| StoreError::sled(self.store.path(), "read a receipt", e))?;
        Ok(found.and_then(|(_, v)| {
            postcard::from_bytes::<Receipt>(&v)
                .ok()
                .filter(|r| r.last_seq >= seq)
                .map(|r| r.received_at)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::movement::tests_support::sample;
    use crate::store::OpenOptions;

    fn chain(origin: &str, n: u64) -> Vec<Movement> {
        chain_of(origin, (1..=n).map(sample).collect())
    }

    fn chain_of(origin: &str, bodies: Vec<crate::model::NewMovement>) -> Vec<Movement> {
        let mut prev = Hash::GENESIS;
        bodies
            .into_iter()
            .zip(1..)
            .map(|(body, seq)| {
                let hash = chain::movement_hash(origin, seq, &prev, &body);
                let m = Movement {
                    origin: origin.into(),
                    seq,
                    prev_hash: prev,
                    body,
                    hash,
                };
                prev = hash;
                m
            })
            .collect()
    }

    #[test]
    fn a_second_correction_of_a_movement_is_taken_and_named() {
        use crate::model::{Kind, MovementId};
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), OpenOptions::create("hq".into())).unwrap();
        let undo = |n| {
            let mut c = sample(n);
            c.kind = Kind::Correction;
            c.corrects = Some(MovementId {
                origin: "north".into(),
                seq: 1,
            });
            c
        };
        let north = chain_of("north", vec![sample(1), undo(2), undo(3), undo(4)]);
        let r = store
            .ingest()
            .one("north", north[..3].to_vec())
            .unwrap()
            .unwrap();
        assert_eq!(
            r.corrected_again,
            vec!["seq 3 corrects north:1 again, already corrected by north:2".to_owned()]
        );
        // In a later batch, against what head office already holds.
        let r = store
            .ingest()
            .one("north", north[3..].to_vec())
            .unwrap()
            .unwrap();
        assert_eq!(
            r.corrected_again,
            vec!["seq 4 corrects north:1 again, already corrected by north:2".to_owned()]
        );
        assert_eq!(r.head.seq, 4, "taken, not refused");
    }

    #[test]
    fn ingest_is_idempotent_and_refuses_rewrites_and_gaps() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), OpenOptions::create("hq".into())).unwrap();
        let north = chain("north", 10);
        let r = store
            .ingest()
            .one("north", north[..4].to_vec())
            .unwrap()
            .unwrap();
        assert_eq!((r.head.seq, r.new, r.duplicates), (4, 4, 0));
        // Overlapping resend: duplicates absorbed, new ones appended.
        let r = store
            .ingest()
            .one("north", north[2..7].to_vec())
            .unwrap()
            .unwrap();
        assert_eq!((r.head.seq, r.new, r.duplicates), (7, 3, 2));
        assert_eq!(r.head.hash, north[6].hash);
        // A gap is refused with the expected seq.
        let e = store
            .ingest()
            .one("north", north[8..].to_vec())
            .unwrap()
            .unwrap_err();
        assert_eq!(
            e,
            Refusal::Gap {
                first: 9,
                expected: 8
            }
        );
        // Same seq, different content (rehashed so the hash itself is fine).
        let mut other = chain("north", 3);
        other[2].body.operator = "mallory".into();
        other[2].hash = chain::recompute(&other[2]);
        let e = store
            .ingest()
            .one("north", vec![other[2].clone()])
            .unwrap()
            .unwrap_err();
        assert!(matches!(e, Refusal::Conflict { seq: 3, .. }), "{e:?}");
        // Tampered content with the old hash.
        let mut bad = north[7].clone();
        bad.body.operator = "x".into();
        let e = store.ingest().one("north", vec![bad]).unwrap().unwrap_err();
        assert_eq!(e, Refusal::BadHash { seq: 8 });
        // Another origin may not be written under this one's name.
        let e = store
            .ingest()
            .one("south", north[..1].to_vec())
            .unwrap()
            .unwrap_err();
        assert!(matches!(e, Refusal::WrongOrigin { .. }));
        assert!(store.verify().unwrap().is_ok());
        assert!(store
            .ingest()
            .received_at("north", Log::Movements, 6)
            .unwrap()
            .is_some());
        assert!(store
            .ingest()
            .received_at("north", Log::Movements, 9)
            .unwrap()
            .is_none());
    }

    #[test]
    fn many_origins_share_one_write_and_verify() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), OpenOptions::create("hq".into())).unwrap();
        let now = Utc::now();
        let batches = ["a", "b", "c"]
            .iter()
            .map(|o| Incoming {
                origin: (*o).into(),
                entries: Entries::Movements(chain(o, 5)),
                received_at: now,
            })
            .collect();
        let out = store.ingest().many(batches).unwrap();
        assert!(out.iter().all(|r| r.as_ref().is_ok_and(|i| i.new == 5)));
        let report = store.verify().unwrap();
        assert!(report.is_ok(), "{:?}", report.problems);
        assert_eq!(report.movements, 15);
    }
}
