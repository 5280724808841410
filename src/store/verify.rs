//! `verify`: proves the store is what was committed. Each origin's hash
//! chain must be gap-free from seq 1, each movement must hash to its stored
//! hash and link to its predecessor, the seq counter must point at the last
//! movement, the rejected log must chain likewise, and every derived tree
//! must hold exactly what the journal implies. Runs with commits paused.
//!
//! It then checks the history's sense (`violations`, kept apart from
//! damage): every serialised unit's movements follow a valid sequence of
//! states (`model::serial_history`), no movement is corrected twice, no
//! lot balance goes below zero. Older scantrails let such histories
//! through; they are history to explain, not corruption, so they block
//! neither start nor sync.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use chrono::NaiveDate;

use super::blocks;
use super::chain;
use super::counted;
use super::derived;
use super::envelope::{Head, Stored};
use super::error::Result;
use super::keys::{self, prefix, KeyReader};
use super::postings;
use super::units::{self, Found, Unit};
use super::{SledSink, Store, StoreError};
use crate::model::serial_history::SerialHistory;
use crate::model::Hash;
use crate::model::{Balance, Movement, Rejection, REJECTED_RAW_KEPT};

/// Problems listed in full; the rest are counted.
const LISTED: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub origin: Option<String>,
    pub seq: Option<u64>,
    pub what: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.origin, self.seq) {
            (Some(o), Some(s)) => write!(f, "origin {o} seq {s}: {}", self.what),
            (Some(o), None) => write!(f, "origin {o}: {}", self.what),
            _ => f.write_str(&self.what),
        }
    }
}

#[derive(Debug, Default)]
pub struct Report {
    /// (origin, movements, last seq)
    pub origins: Vec<(String, u64, u64)>,
    pub movements: u64,
    pub rejections: u64,
    /// Rejected scans stored cut to their first `REJECTED_RAW_KEPT` bytes.
    pub truncated_rejections: u64,
    pub index_entries: u64,
    pub problems: Vec<Problem>,
    pub problem_count: usize,
    /// Histories that could not have happened, each with its seq.
    pub violations: Vec<Problem>,
    pub violation_count: usize,
}

impl Report {
    /// No damage: chains and derived trees are what was committed.
    pub fn is_ok(&self) -> bool {
        self.problem_count == 0
    }

    /// No damage and no history that breaks the rules.
    pub fn is_clean(&self) -> bool {
        self.is_ok() && self.violation_count == 0
    }

    fn violation(&mut self, origin: &str, seq: u64, what: impl Into<String>) {
        self.violation_count += 1;
        if self.violations.len() < LISTED {
            self.violations.push(Problem {
                origin: Some(origin.to_owned()),
                seq: Some(seq),
                what: what.into(),
            });
        }
    }

    /// The lowest bad seq of each origin whose chain or entries are wrong.
    pub fn first_bad(&self) -> Vec<(String, u64)> {
        let mut first: HashMap<&str, u64> = HashMap::new();
        for p in &self.problems {
            if let (Some(o), Some(s)) = (&p.origin, p.seq) {
                let e = first.entry(o).or_insert(s);
                *e = (*e).min(s);
            }
        }
        let mut v: Vec<(String, u64)> = first.into_iter().map(|(o, s)| (o.to_owned(), s)).collect();
        v.sort();
        v
    }

    fn problem(&mut self, origin: Option<&str>, seq: Option<u64>, what: impl Into<String>) {
        self.problem_count += 1;
        if self.problems.len() < LISTED {
            self.problems.push(Problem {
                origin: origin.map(str::to_owned),
                seq,
                what: what.into(),
            });
        }
    }
}

/// Where one origin's chain stands during the walk.
struct ChainState {
    count: u64,
    last_seq: u64,
    /// None after an undecodable entry: the next link cannot be checked.
    last_hash: Option<Hash>,
}

/// How often a walk reports its progress, in movements.
const PROGRESS_EVERY: u64 = 4096;

/// What a walk expects of one index tree: how many entries, and the sum
/// of their keys' hashes. The whole verify compares both with one
/// sequential scan of the tree instead of looking each key up (six random
/// reads per movement); only a tree whose tally differs is then searched
/// for the entries to name.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Tally {
    count: u64,
    sum: u64,
}

impl Tally {
    fn add(&mut self, key: &[u8]) {
        self.count += 1;
        self.sum = self.sum.wrapping_add(key_hash(key));
    }
}

/// SipHash with fixed keys: the same key always hashes alike, in every
/// run and on every machine.
fn key_hash(key: &[u8]) -> u64 {
    use std::hash::{Hash as _, Hasher as _};
    let mut h = std::hash::DefaultHasher::new();
    key.hash(&mut h);
    h.finish()
}

/// The lot totals the journal implies (balances, earliest expiries), each
/// under a 64-bit hash of its key rather than the key: at 10 million
/// generated movements the keys (one per GTIN, lot, origin, location and
/// unit ever held) took 180 MB of verify's memory. A stored total is
/// looked up by its key's hash; the totals no stored entry claimed are
/// named by one more walk of the journal (`name_missing`), only when
/// there are any. Two keys hashing alike (about once in 37 million stores
/// of a million lots) would have their totals added together, and verify
/// would call them wrong.
#[derive(Default)]
struct LotTotals {
    balances: HashMap<u64, Balance>,
    expiries: HashMap<u64, NaiveDate>,
}

impl LotTotals {
    /// Adds a movement; its balance's key, and the balance's digits before
    /// and after, for the rule that no lot goes below zero.
    fn add(&mut self, m: &Movement) -> (Vec<u8>, i128, i128) {
        let (key, mantissa, scale) = derived::balance_delta(m);
        let balance = self.balances.entry(key_hash(&key)).or_insert(Balance::ZERO);
        let before = balance.mantissa;
        *balance = balance.add(mantissa, scale);
        let after = balance.mantissa;
        if let Some((key, date)) = derived::lot_expiry(m) {
            self.expiries
                .entry(key_hash(&key))
                .and_modify(|d| *d = (*d).min(date))
                .or_insert(date);
        }
        (key, before, after)
    }
}

/// How a walk checks a movement's index entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lookups {
    /// Look each one up (the incremental verify, which sees a range).
    Each,
    /// Only tally them; the trees are compared whole afterwards.
    Tallied,
}

/// The whole verify; `progress` is told the movements read so far. When
/// the store is intact, the chain heads it ended at become the verified
/// point an incremental verify starts from.
pub(crate) fn run(sink: &mut SledSink, progress: &dyn Fn(u64)) -> Result<Report> {
    let mut report = Report::default();
    let tree = sink.journal()?.clone();
    let read = sink.sled_err("read the journal");
    let mut chains: Vec<(String, ChainState)> = Vec::new();
    let mut lots = LotTotals::default();
    let mut expected_index: HashMap<u8, Tally> = HashMap::new();

    for item in counted::scan_prefix(&tree, [prefix::JOURNAL]) {
        let (k, v) = item.map_err(&read)?;
        let mut r = KeyReader::new(&k);
        let (Some(origin), Some(first)) = (r.str(), r.u64()) else {
            report.problem(
                None,
                None,
                format!("a journal key cannot be read: {:?}", k.as_ref()),
            );
            continue;
        };
        if chains.last().map(|(o, _)| o != &origin).unwrap_or(true) {
            chains.push((
                origin.clone(),
                ChainState {
                    count: 0,
                    last_seq: 0,
                    last_hash: Some(Hash::GENESIS),
                },
            ));
        }
        let state = &mut chains.last_mut().expect("pushed above").1;
        for entry in blocks::entries(&v, first) {
            let (seq, bytes) = match entry {
                Ok(entry) => entry,
                Err(seq) => {
                    cut_short(&origin, seq, state, &mut report);
                    break;
                }
            };
            if report.movements % PROGRESS_EVERY == 0 {
                progress(report.movements);
            }
            let Some(m) = check_entry(
                &tree,
                (&origin, seq),
                bytes,
                state,
                &mut report,
                (&mut expected_index, Lookups::Tallied),
                &read,
            )?
            else {
                continue;
            };
            let (balance_key, before, after) = lots.add(&m);
            if before >= 0 && after < 0 {
                report.violation(
                    &m.origin,
                    m.seq,
                    format!(
                        "this {} takes {} below zero",
                        m.body.kind.name(),
                        describe_key(&balance_key)
                    ),
                );
            }
        }
    }

    check_heads(sink, &chains, &mut report)?;
    check_index_counts(sink, &expected_index, &mut report)?;
    check_lot_totals(sink, lots, &mut report)?;
    check_rejections(sink, &mut report)?;
    check_serial_histories(sink, &mut report)?;
    check_corrected_once(sink, &mut report)?;
    drop(read);
    if report.is_ok() {
        let heads = chains
            .iter()
            .filter_map(|(o, s)| {
                Some((
                    o.clone(),
                    Head {
                        seq: s.last_seq,
                        hash: s.last_hash?,
                    },
                ))
            })
            .collect();
        save_checkpoint(sink, &Checkpoint { heads })?;
    }
    report.origins = chains
        .into_iter()
        .map(|(o, s)| (o, s.count, s.last_seq))
        .collect();
    report.index_entries = expected_index.values().map(|t| t.count).sum();
    if report.is_ok() {
        tracing::debug!(movements = report.movements, "verify passed");
    }
    Ok(report)
}

/// Where a verify that found the store intact left each origin's movement
/// chain: an incremental verify (`run_since`) starts there, and finds a
/// chain that no longer holds that head (history rewritten or cut short
/// since).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// (origin, the head the verify ended at).
    pub heads: Vec<(String, Head)>,
}

const CHECKPOINT_KEY: &[u8] = b"verified";

fn save_checkpoint(sink: &mut SledSink, c: &Checkpoint) -> Result<()> {
    let bytes = postcard::to_stdvec(c).unwrap_or_default();
    sink.meta()?
        .insert(CHECKPOINT_KEY, bytes)
        .map_err(sink.sled_err("write the verified point"))?;
    sink.make_durable()
}

/// The verified point of `meta`, if a verify ever found the store intact.
pub(crate) fn checkpoint(
    meta: &sled::Tree,
    read: &impl Fn(sled::Error) -> StoreError,
) -> Result<Option<Checkpoint>> {
    Ok(meta
        .get(CHECKPOINT_KEY)
        .map_err(&read)?
        .and_then(|v| postcard::from_bytes(&v).ok()))
}

/// Where an incremental verify starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    /// The verified point (`Checkpoint`); an origin without one from its
    /// first movement.
    Checkpoint,
    /// Seq `n` of every origin, taking the movement before it as it is.
    Seq(u64),
}

/// The incremental verify: each origin's movement chain from `since` to
/// its durable head (seq follows, hash recomputes, links, index entries
/// present), and that the verified point is still in the chain. It reads
/// only movements already durable, which never change, so commits go on
/// while it runs; its memory does not grow with the store. The derived
/// trees' totals (balances, serial states) are the whole verify's.
/// An intact walk moves the verified point to where it ended.
pub(crate) fn run_since(store: &Store, since: Since, progress: &dyn Fn(u64)) -> Result<Report> {
    let trees = store.trees()?;
    let read = store.sled_err("read the journal");
    let saved = checkpoint(&trees.meta, &read)?.unwrap_or_default();
    let mut report = Report::default();
    let mut counts: HashMap<u8, Tally> = HashMap::new();
    let mut heads = Vec::new();
    let origins = store.journal().origins()?;
    for (gone, h) in saved.heads.iter().filter(|(o, _)| !origins.contains(o)) {
        report.problem(
            Some(gone),
            Some(1),
            format!(
                "verified up to seq {} but the store holds none of its movements now",
                h.seq
            ),
        );
    }
    for origin in origins {
        let head = store.journal().head(&origin)?;
        let start = match since {
            Since::Checkpoint => saved.heads.iter().find(|(o, _)| *o == origin).map_or(
                Head {
                    seq: 0,
                    hash: Hash::GENESIS,
                },
                |(_, h)| *h,
            ),
            Since::Seq(n) => {
                let seq = n.saturating_sub(1).min(head.seq);
                let hash = match seq {
                    0 => Hash::GENESIS,
                    _ => match store.journal().movement(&origin, seq)? {
                        Some(m) => m.hash,
                        None => {
                            report.problem(Some(&origin), Some(seq), "the movement is missing");
                            continue;
                        }
                    },
                };
                Head { seq, hash }
            }
        };
        if head.seq < start.seq {
            report.problem(
                Some(&origin),
                Some(head.seq + 1),
                format!(
                    "the chain ends at seq {} but seq {} was verified: movements were removed",
                    head.seq, start.seq
                ),
            );
            continue;
        }
        if start.seq > 0 {
            // Its stored hash and its content: a movement changed in place
            // keeps the hash it was stored with.
            let held = store.journal().movement(&origin, start.seq)?;
            if !held.is_some_and(|m| m.hash == start.hash && chain::recompute(&m) == m.hash) {
                report.problem(
                    Some(&origin),
                    Some(start.seq),
                    "this movement is not the one verified before: history was changed",
                );
                continue;
            }
        }
        let mut state = ChainState {
            count: 0,
            last_seq: start.seq,
            last_hash: Some(start.hash),
        };
        let from = super::keys::journal(&origin, start.seq + 1);
        let to = super::keys::journal(&origin, head.seq);
        if start.seq < head.seq {
            'blocks: for item in counted::range(&trees.journal, from..=to) {
                let (k, v) = item.map_err(&read)?;
                for entry in blocks::entries(&v, blocks::first_of(&k).unwrap_or(0)) {
                    let (seq, bytes) = match entry {
                        Ok(entry) => entry,
                        Err(seq) => {
                            cut_short(&origin, seq, &mut state, &mut report);
                            break;
                        }
                    };
                    if seq <= start.seq {
                        continue;
                    }
                    if seq > head.seq {
                        break 'blocks;
                    }
                    if report.movements % PROGRESS_EVERY == 0 {
                        progress(report.movements);
                    }
                    check_entry(
                        &trees.journal,
                        (&origin, seq),
                        bytes,
                        &mut state,
                        &mut report,
                        (&mut counts, Lookups::Each),
                        &read,
                    )?;
                }
            }
        }
        if state.last_seq != head.seq || state.last_hash != Some(head.hash) {
            report.problem(
                Some(&origin),
                Some(state.last_seq + 1),
                format!(
                    "the seq counter says {} but the journal ends at {}",
                    head.seq, state.last_seq
                ),
            );
        }
        report
            .origins
            .push((origin.clone(), state.count, state.last_seq));
        heads.push((origin, head));
    }
    report.index_entries = counts.values().map(|t| t.count).sum();
    // An explicit seq takes what lies before it on trust: only a walk from
    // the verified point moves it.
    if report.is_ok() && since == Since::Checkpoint {
        let checkpoint = Checkpoint { heads };
        store
            .committer()
            .exclusive(move |sink| save_checkpoint(sink, &checkpoint))?;
    }
    Ok(report)
}

/// Checks one journal entry of `origin`'s chain walk: its place in the
/// chain (seq follows, hash recomputes, links to the one before) and its
/// index entries, at `(origin, seq)`: tallies them, and with
/// [`Lookups::Each`] looks each one up. The movement, unless it cannot be
/// read.
/// A journal block whose lengths run past its end: the movements from
/// `seq` to the block's end cannot be read.
fn cut_short(origin: &str, seq: u64, state: &mut ChainState, report: &mut Report) {
    state.last_hash = None;
    report.problem(
        Some(origin),
        Some(seq),
        "the journal block holding this movement is cut short here: it and the rest of its block cannot be read",
    );
}

fn check_entry(
    tree: &sled::Tree,
    (origin, seq): (&str, u64),
    v: &[u8],
    state: &mut ChainState,
    report: &mut Report,
    (tallies, lookups): (&mut HashMap<u8, Tally>, Lookups),
    read: &impl Fn(sled::Error) -> StoreError,
) -> Result<Option<Movement>> {
    state.count += 1;
    report.movements += 1;
    if seq != state.last_seq + 1 {
        report.problem(
            Some(origin),
            Some(seq),
            format!(
                "gap in the chain: seq {} follows seq {}",
                seq, state.last_seq
            ),
        );
    }
    let expected_prev = state.last_hash;
    state.last_seq = seq;
    let m = match Movement::decode(v) {
        Ok(m) => m,
        Err(e) => {
            state.last_hash = None;
            report.problem(
                Some(origin),
                Some(seq),
                format!("the movement cannot be read: {e}"),
            );
            return Ok(None);
        }
    };
    state.last_hash = Some(m.hash);
    if m.origin != origin || m.seq != seq {
        report.problem(
            Some(origin),
            Some(seq),
            format!(
                "stored under this key but names origin {} seq {}",
                m.origin, m.seq
            ),
        );
    }
    if chain::recompute(&m) != m.hash {
        report.problem(
            Some(origin),
            Some(seq),
            "its content does not match its hash: the movement was changed after it was committed",
        );
    }
    if let Some(prev) = expected_prev {
        if prev != m.prev_hash {
            report.problem(
                Some(origin),
                Some(seq),
                "its previous-hash does not match the movement before it: history was changed",
            );
        }
    }
    for key in derived::index_keys(&m) {
        tallies.entry(key[0]).or_default().add(&key);
        if lookups == Lookups::Each {
            missing_entry(tree, (origin, seq), &key, report, read)?;
        }
    }
    Ok(Some(m))
}

/// Names the movement stored at `(origin, seq)` when its index entry
/// `key` is not in the tree.
fn missing_entry(
    tree: &sled::Tree,
    (origin, seq): (&str, u64),
    key: &[u8],
    report: &mut Report,
    read: &impl Fn(sled::Error) -> StoreError,
) -> Result<()> {
    let held = if key[0] == prefix::BY_SERIAL {
        unit_holds(tree, key)
    } else {
        postings::contains(tree, key)
    };
    if !held.map_err(read)? {
        report.problem(
            Some(origin),
            Some(seq),
            format!(
                "its {} entry is missing (run `scantrail reindex`)",
                derived_name(key[0])
            ),
        );
    }
    Ok(())
}

fn derived_name(p: u8) -> &'static str {
    prefix::DERIVED
        .iter()
        .find(|(q, _)| *q == p)
        .map(|(_, n)| *n)
        .unwrap_or("derived")
}

fn check_heads(
    sink: &SledSink,
    chains: &[(String, ChainState)],
    report: &mut Report,
) -> Result<()> {
    let mut heads: HashMap<String, Option<Head>> = HashMap::new();
    for item in sink.journal()?.scan_prefix([prefix::HEAD]) {
        let (k, v) = item.map_err(sink.sled_err("read the chain heads"))?;
        let origin = KeyReader::new(&k).str().unwrap_or_default();
        heads.insert(origin, Head::decode(&v).ok());
    }
    for (origin, state) in chains {
        match heads.remove(origin) {
            Some(Some(h)) if h.seq == state.last_seq && Some(h.hash) == state.last_hash => {}
            Some(Some(h)) => report.problem(
                Some(origin),
                Some(h.seq.min(state.last_seq + 1)),
                format!(
                    "the seq counter says {} but the journal ends at {}",
                    h.seq, state.last_seq
                ),
            ),
            Some(None) => report.problem(Some(origin), None, "the seq counter cannot be read"),
            None => report.problem(Some(origin), None, "the seq counter is missing"),
        }
    }
    for (origin, head) in heads {
        let seq = head.map(|h| h.seq).unwrap_or(0);
        if seq > 0 {
            report.problem(
                Some(&origin),
                Some(1),
                format!(
                    "the seq counter says {seq} but the journal has no movement of this origin"
                ),
            );
        }
    }
    Ok(())
}

/// Compares each index tree with the tally the walk expected of it: one
/// sequential scan a tree. A tree whose count or hash sum differs is
/// searched twice more, to name each movement whose entry is missing and
/// each entry no movement explains.
fn check_index_counts(
    sink: &SledSink,
    expected: &HashMap<u8, Tally>,
    report: &mut Report,
) -> Result<()> {
    let read = sink.sled_err("read a derived tree");
    let journal = sink.journal()?;
    for (p, name) in prefix::DERIVED {
        if [
            prefix::SERIAL_STATE,
            prefix::LOT_BALANCE,
            prefix::LOT_EXPIRY,
        ]
        .contains(&p)
        {
            continue;
        }
        let want = expected.get(&p).copied().unwrap_or_default();
        let mut have = Tally::default();
        stored_entries(journal, p, &read, |entry| {
            have.add(&entry);
            Ok(())
        })?;
        if have == want {
            continue;
        }
        each_readable(journal, &read, |at, m| {
            for key in derived::index_keys(m).iter().filter(|k| k[0] == p) {
                missing_entry(journal, at, key, report, &read)?;
            }
            Ok(())
        })?;
        stored_entries(journal, p, &read, |k| {
            if !explained(journal, &k, &read)? {
                let target = derived::index_target(&k);
                let what = format!(
                    "the {name} tree has an entry no movement explains (run `scantrail reindex`)"
                );
                report.problem(
                    target.as_ref().map(|(o, _)| o.as_str()),
                    target.as_ref().map(|(_, s)| *s),
                    what,
                );
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// The logical keys an index holds, to `f`: its postings' entries, or for
/// the by-serial index, the unit blocks' (`units`). An unreadable block
/// holds none (`check_serial_histories` names it).
fn stored_entries(
    journal: &sled::Tree,
    p: u8,
    read: &impl Fn(sled::Error) -> StoreError,
    mut f: impl FnMut(Vec<u8>) -> Result<()>,
) -> Result<()> {
    if p == prefix::BY_SERIAL {
        for found in units::Scan::all(journal, None) {
            if let Found::Unit(gtin, serial, unit) = found.map_err(read)? {
                for key in units::logical_keys(&gtin, &serial, &unit) {
                    f(key)?;
                }
            }
        }
    } else {
        for item in journal.scan_prefix([p]) {
            let (k, v) = item.map_err(read)?;
            for key in postings::entries(&k, &v) {
                f(key)?;
            }
        }
    }
    Ok(())
}

/// Whether the movement a logical index key points to is stored and
/// has that key among its own (an unreadable movement was named by the
/// walk, so it counts as explaining it).
fn explained(
    journal: &sled::Tree,
    key: &[u8],
    read: &impl Fn(sled::Error) -> StoreError,
) -> Result<bool> {
    let Some((origin, seq)) = derived::index_target(key) else {
        return Ok(false);
    };
    Ok(match blocks::read(journal, &origin, seq).map_err(read)? {
        Some(v) => Movement::decode(&v)
            .map(|m| derived::index_keys(&m).iter().any(|x| x[..] == key[..]))
            .unwrap_or(true),
        None => false,
    })
}

fn describe_key(k: &[u8]) -> String {
    let mut r = KeyReader::new(k);
    let mut parts = Vec::new();
    while let Some(s) = r.str() {
        parts.push(s);
    }
    parts.join(" / ")
}

/// Compares the lot balances and expiries stored with what the journal
/// implies (`LotTotals`).
fn check_lot_totals(sink: &SledSink, lots: LotTotals, report: &mut Report) -> Result<()> {
    let balances = check_values(
        sink,
        prefix::LOT_BALANCE,
        "lot balance",
        lots.balances,
        report,
    )?;
    let expiries = check_values(
        sink,
        prefix::LOT_EXPIRY,
        "expiry of lot",
        lots.expiries,
        report,
    )?;
    if balances.is_empty() && expiries.is_empty() {
        return Ok(());
    }
    name_missing(sink, &balances, &expiries, report)
}

/// Compares one tree of values with what the journal implies, by key
/// hash; the hashes of the values no entry holds are returned, for
/// `name_missing`.
fn check_values<T: Stored + PartialEq + std::fmt::Debug>(
    sink: &SledSink,
    tree: u8,
    what: &str,
    mut want: HashMap<u64, T>,
    report: &mut Report,
) -> Result<HashSet<u64>> {
    let read = sink.sled_err("read a derived tree");
    for item in sink.journal()?.scan_prefix([tree]) {
        let (k, v) = item.map_err(&read)?;
        let have = T::decode(&v).ok();
        let problem = match want.remove(&key_hash(&k)) {
            Some(want) if Some(&want) == have.as_ref() => continue,
            Some(want) => format!("is {have:?} but the journal says {want:?}"),
            None => "has no movement".to_owned(),
        };
        report.problem(None, None, format!("{what} {} {problem}", describe_key(&k)));
    }
    Ok(want.into_keys().collect())
}

/// Names each lot balance and expiry the journal implies but the store
/// lacks, by their keys' hashes: one walk of the journal.
fn name_missing(
    sink: &SledSink,
    balances: &HashSet<u64>,
    expiries: &HashSet<u64>,
    report: &mut Report,
) -> Result<()> {
    let read = sink.sled_err("read the journal");
    let journal = sink.journal()?;
    let mut named = HashSet::new();
    let mut name = |what: &str, key: Vec<u8>, report: &mut Report| {
        if named.insert(key_hash(&key)) {
            report.problem(
                None,
                None,
                format!(
                    "{what} {} is missing (run `scantrail reindex`)",
                    describe_key(&key)
                ),
            );
        }
    };
    each_readable(journal, &read, |_, m| {
        let (key, _, _) = derived::balance_delta(m);
        if balances.contains(&key_hash(&key)) {
            name("lot balance", key, report);
        }
        if let Some((key, _)) = derived::lot_expiry(m) {
            if expiries.contains(&key_hash(&key)) {
                name("expiry of lot", key, report);
            }
        }
        Ok(())
    })
}

/// Every movement of the journal that can be read, to `f` with the
/// (origin, seq) it is stored under: the second walks that name what a
/// tally or total found missing. Unreadable keys, blocks and movements
/// were named by the first walk.
fn each_readable(
    journal: &sled::Tree,
    read: &impl Fn(sled::Error) -> StoreError,
    mut f: impl FnMut((&str, u64), &Movement) -> Result<()>,
) -> Result<()> {
    for item in counted::scan_prefix(journal, [prefix::JOURNAL]) {
        let (k, v) = item.map_err(read)?;
        let mut r = KeyReader::new(&k);
        let (Some(origin), Some(first)) = (r.str(), r.u64()) else {
            continue;
        };
        for (seq, bytes) in blocks::entries(&v, first).map_while(|e| e.ok()) {
            if let Ok(m) = Movement::decode(bytes) {
                f((&origin, seq), &m)?;
            }
        }
    }
    Ok(())
}

fn check_rejections(sink: &SledSink, report: &mut Report) -> Result<()> {
    let mut current: Option<(String, u64, Option<Hash>)> = None;
    for item in sink.journal()?.scan_prefix([prefix::REJECTED]) {
        let (k, v) = item.map_err(sink.sled_err("read the rejected log"))?;
        let mut r = KeyReader::new(&k);
        let (Some(origin), Some(seq)) = (r.str(), r.u64()) else {
            report.problem(None, None, "a rejected-log key cannot be read");
            continue;
        };
        report.rejections += 1;
        let (last_seq, last_hash) = match &current {
            Some((o, s, h)) if *o == origin => (*s, *h),
            _ => (0, Some(Hash::GENESIS)),
        };
        let what = |w: &str| format!("rejected scan: {w}");
        if seq != last_seq + 1 {
            report.problem(Some(&origin), Some(seq), what("gap in the rejected log"));
        }
        let hash = match Rejection::decode(&v) {
            Ok(rej) => {
                if let Some(t) = &rej.body.raw_truncated {
                    report.truncated_rejections += 1;
                    if rej.body.raw.len() != REJECTED_RAW_KEPT || t.len <= REJECTED_RAW_KEPT as u64
                    {
                        report.problem(
                            Some(&origin),
                            Some(seq),
                            what(&format!(
                                "says it was cut from {} bytes but keeps {}",
                                t.len,
                                rej.body.raw.len()
                            )),
                        );
                    }
                }
                if chain::recompute_rejection(&rej) != rej.hash {
                    report.problem(
                        Some(&origin),
                        Some(seq),
                        what("changed after it was recorded"),
                    );
                }
                if last_hash.is_some_and(|h| h != rej.prev_hash) {
                    report.problem(
                        Some(&origin),
                        Some(seq),
                        what("does not link to the one before"),
                    );
                }
                Some(rej.hash)
            }
            Err(e) => {
                report.problem(Some(&origin), Some(seq), what(&e.to_string()));
                None
            }
        };
        current = Some((origin, seq, hash));
    }
    Ok(())
}

/// Walks the units, one at a time: its history through the
/// state rules, and its stored state against what its movements imply.
/// Whether each unit lists exactly its movements is the by-serial
/// index's tally (`check_index_counts`).
fn check_serial_histories(sink: &SledSink, report: &mut Report) -> Result<()> {
    let read = sink.sled_err("read the serial units");
    let journal = sink.journal()?;
    each_unit(journal, &read, |key, unit, movements| {
        let unit = match unit {
            Ok(unit) => unit,
            Err(why) => {
                report.problem(
                    None,
                    None,
                    format!(
                        "the block of serial units from {} cannot be read: {why} (run `scantrail reindex`)",
                        describe_key(key)
                    ),
                );
                return Ok(());
            }
        };
        if unit.movements.is_empty() {
            report.problem(
                None,
                None,
                format!("serial state of {} has no movement", describe_key(key)),
            );
        }
        let want = derived::unit_state(journal, movements);
        if unit.state != want {
            report.problem(
                None,
                None,
                format!(
                    "serial state of {} is {:?} but the journal says {want:?}",
                    describe_key(key),
                    unit.state
                ),
            );
        }
        check_unit(movements, report);
        Ok(())
    })
}

/// Whether the store holds the by-serial logical `key`: in its unit's
/// block.
fn unit_holds(tree: &sled::Tree, key: &[u8]) -> sled::Result<bool> {
    let mut r = KeyReader::new(key);
    let (Some(gtin), Some(serial), Some(origin), Some(seq)) = (r.str(), r.str(), r.str(), r.u64())
    else {
        return Ok(false);
    };
    Ok(units::read(tree, &gtin, &serial)?.is_some_and(|u| u.is_ok_and(|u| u.has(&origin, seq))))
}

/// Walks the units in key order: `f` is given each unit's logical key
/// (`keys::serial_state`), the unit (`Err` with why for a block that
/// cannot be read or is out of order, under its block's key) and its
/// movements, read from the journal in the unit's (origin, seq) order,
/// one unit in memory at a time. Movements gone, unreadable or of another
/// unit are passed over (verify names those from the journal walk and the
/// index tally).
fn each_unit(
    journal: &sled::Tree,
    read: &dyn Fn(sled::Error) -> StoreError,
    mut f: impl FnMut(&[u8], std::result::Result<&Unit, &str>, &mut Vec<Movement>) -> Result<()>,
) -> Result<()> {
    let mut movements = Vec::new();
    for found in units::Scan::all(journal, None) {
        movements.clear();
        let (gtin, serial, unit) = match found.map_err(read)? {
            Found::Unit(gtin, serial, unit) => (gtin, serial, unit),
            Found::Damaged(key, why) => {
                f(&key, Err(&why), &mut movements)?;
                continue;
            }
        };
        for id in unit.ids() {
            if let Some(bytes) = blocks::read(journal, &id.origin, id.seq).map_err(read)? {
                if let Ok(m) = Movement::decode(&bytes) {
                    if m.body.gtin == gtin && m.body.serial.as_ref() == Some(&serial) {
                        movements.push(m);
                    }
                }
            }
        }
        f(
            &keys::serial_state(&gtin, &serial),
            Ok(&unit),
            &mut movements,
        )?;
    }
    Ok(())
}

/// One unit's movements, in (origin, seq) order as the index lists them.
fn check_unit(movements: &mut Vec<Movement>, report: &mut Report) {
    // Several origins (head office): what happened first comes first.
    if movements.iter().any(|m| m.origin != movements[0].origin) {
        movements.sort_by(|a, b| {
            (a.body.device_time, &a.origin, a.seq).cmp(&(b.body.device_time, &b.origin, b.seq))
        });
    }
    let mut history = SerialHistory::default();
    for m in movements.iter() {
        if let Err(v) = history.apply(m) {
            report.violation(
                &m.origin,
                m.seq,
                format!(
                    "serial {} of GTIN {}: this {} breaks its history: {v}",
                    m.body.serial.as_deref().unwrap_or_default(),
                    m.body.gtin,
                    m.body.kind.name()
                ),
            );
        }
    }
    movements.clear();
}

/// Every movement is corrected at most once.
fn check_corrected_once(sink: &SledSink, report: &mut Report) -> Result<()> {
    let read = sink.sled_err("read the corrections index");
    let mut last: Option<((String, u64), (String, u64))> = None;
    for item in sink.journal()?.scan_prefix([prefix::CORRECTED_BY]) {
        let (k, v) = item.map_err(&read)?;
        let mut r = KeyReader::new(&k);
        let (Some(t_origin), Some(t_seq)) = (r.str(), r.u64()) else {
            continue;
        };
        let target = (t_origin, t_seq);
        for by in derived::index_targets(&k, &v) {
            match &last {
                Some((t, first)) if *t == target => report.violation(
                    &by.0,
                    by.1,
                    format!(
                        "corrects {}:{} again, already corrected by {}:{}",
                        target.0, target.1, first.0, first.1
                    ),
                ),
                _ => last = Some((target.clone(), by)),
            }
        }
    }
    Ok(())
}
