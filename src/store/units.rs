//! Serialised units (GTIN + serial), many to a sled entry: each unit's
//! state (where it is now) and every movement of it (the by-serial
//! index), kept in blocks of up to `BLOCK_UNITS` units of one GTIN in
//! serial order.
//!
//! Why blocks: at a site that serialises every unit, each scan is a new
//! serial. sled 0.34.7 keeps some thirty bytes resident for every entry it
//! has ever paged out, whatever its cache size, so one entry a unit grew
//! the daemon's memory by that much per scan for as long as it ran, and
//! opening a store cost that per unit ever seen (BENCHMARKS.md, "Units in
//! blocks"). A block holds the units of a range of serials, so a store
//! has about a sixteenth as many unit entries.
//!
//! The layout is a one-level B-tree over sled: a block's key is (GTIN,
//! lower bound), and it holds the units with serials from its lower bound
//! up to the next block's. A GTIN's first block has the empty lower bound,
//! so every serial has exactly one block that would hold it: the last one
//! at or below it (`find`). A batch changes blocks in memory and writes
//! each once (`Changes`); one grown past its size is split there, the left
//! part keeping its key, so keys are only ever added and no block is
//! moved or removed.
//!
//! The by-serial index keeps its logical keys (`derived::index_keys`:
//! gtin, serial, origin, seq under `BY_SERIAL`), which verify tallies and
//! looks up as for every other index; they are stored here, not as
//! postings. A unit's movements are rewritten with its block at each of
//! them: fine for the handful of movements a unit has; a unit scanned
//! thousands of times (a returnable crate labelled with (21)) ends up in a
//! block of its own (`BLOCK_BYTES`).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::counted;
use super::envelope::{check_version, EnvelopeError, Stored};
use super::keys::{prefix, Key, KeyReader};
use crate::model::{MovementId, SerialState};

/// Units a block holds before it is split. Each change to a unit rewrites
/// its block, so larger blocks cost writes; smaller ones, entries.
pub const BLOCK_UNITS: usize = 16;

/// About the encoded bytes past which a block is split (a unit with many
/// movements): see `Unit::size`.
const BLOCK_BYTES: usize = 4096;

/// What the store keeps of one serialised unit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    /// Where the unit is now (`model::serial_state`); `None` while no
    /// movement of it sets one.
    pub state: Option<SerialState>,
    /// Its movements: per origin, their seqs in increasing order.
    pub movements: Vec<(String, Vec<u64>)>,
}

impl Unit {
    /// Records movement (origin, seq) of the unit.
    pub fn push(&mut self, origin: &str, seq: u64) {
        match self.movements.iter_mut().find(|(o, _)| o == origin) {
            Some((_, seqs)) => {
                if let Err(at) = seqs.binary_search(&seq) {
                    seqs.insert(at, seq);
                }
            }
            None => self.movements.push((origin.to_owned(), vec![seq])),
        }
    }

    /// Its movements by (origin, seq), in (origin, seq) order of entry.
    pub fn ids(&self) -> impl Iterator<Item = MovementId> + '_ {
        self.movements.iter().flat_map(|(origin, seqs)| {
            seqs.iter().map(move |&seq| MovementId {
                origin: origin.clone(),
                seq,
            })
        })
    }

    /// Whether it lists movement (origin, seq).
    pub fn has(&self, origin: &str, seq: u64) -> bool {
        self.movements
            .iter()
            .any(|(o, seqs)| o == origin && seqs.binary_search(&seq).is_ok())
    }

    /// About its encoded size, for splitting blocks: a state is a few
    /// dozen bytes, a seq up to ten.
    fn size(&self) -> usize {
        64 + self
            .movements
            .iter()
            .map(|(o, seqs)| o.len() + 2 + 5 * seqs.len())
            .sum::<usize>()
    }
}

/// The units of one GTIN from a block's lower bound up to the next
/// block's, in serial order, each once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Block {
    /// (serial, unit), in serial order.
    pub units: Vec<(String, Unit)>,
}

impl Block {
    /// The unit with this serial, if the block holds it.
    pub fn get(&self, serial: &str) -> Option<&Unit> {
        self.position(serial).ok().map(|at| &self.units[at].1)
    }

    fn position(&self, serial: &str) -> Result<usize, usize> {
        self.units.binary_search_by(|(s, _)| s.as_str().cmp(serial))
    }
}

/// A block as stored: its (serial, unit) pairs with each unit as postcard
/// bytes of its own, so that a look-up decodes the one unit it wants
/// (`unit_in`) and not the block's sixteen; borrowed from the stored
/// bytes. (postcard writes a `&[u8]` as its length and its bytes, the
/// same whether serde sends it as a sequence of u8 or as bytes.)
#[derive(Serialize, Deserialize)]
enum Packed<'a> {
    V1(#[serde(borrow)] Vec<(&'a str, &'a [u8])>),
}

impl Stored for Block {
    const WHAT: &'static str = "block of serial units";

    fn encode(&self) -> Vec<u8> {
        // Encoding plain data into a Vec cannot fail.
        let units: Vec<Vec<u8>> = self
            .units
            .iter()
            .map(|(_, u)| postcard::to_stdvec(u).unwrap_or_default())
            .collect();
        let pairs = self.units.iter().zip(&units);
        let packed = Packed::V1(
            pairs
                .map(|((s, _), u)| (s.as_str(), u.as_slice()))
                .collect(),
        );
        postcard::to_stdvec(&packed).unwrap_or_default()
    }

    fn decode(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        let Packed::V1(pairs) = packed(bytes)?;
        let units = pairs
            .into_iter()
            .map(|(serial, unit)| Ok((serial.to_owned(), decode_unit(unit)?)))
            .collect::<Result<_, EnvelopeError>>()?;
        Ok(Block { units })
    }
}

fn packed(bytes: &[u8]) -> Result<Packed<'_>, EnvelopeError> {
    check_version(Block::WHAT, bytes, 1)?;
    postcard::from_bytes(bytes).map_err(damaged)
}

fn decode_unit(bytes: &[u8]) -> Result<Unit, EnvelopeError> {
    postcard::from_bytes(bytes).map_err(damaged)
}

fn damaged(e: postcard::Error) -> EnvelopeError {
    EnvelopeError::Damaged {
        what: Block::WHAT,
        reason: e.to_string(),
    }
}

/// The unit with `serial` in a stored block (`find`'s value), if it holds
/// it: only that unit is decoded.
fn unit_in(block: &[u8], serial: &str) -> Result<Option<Unit>, EnvelopeError> {
    let Packed::V1(pairs) = packed(block)?;
    match pairs.binary_search_by(|(s, _)| (*s).cmp(serial)) {
        Ok(at) => decode_unit(pairs[at].1).map(Some),
        Err(_) => Ok(None),
    }
}

/// The key of GTIN `gtin`'s block whose serials start at `lower` (`""`
/// for its first).
pub(super) fn block_key(gtin: &str, lower: &str) -> Vec<u8> {
    Key::new(prefix::SERIAL_STATE)
        .str(gtin)
        .str(lower)
        .into_vec()
}

/// The (low, high) keys between which the block that would hold (gtin,
/// serial) is the last entry: `find`, for a store read through a `Sink`.
pub(super) fn find_bounds(gtin: &str, serial: &str) -> (Vec<u8>, Vec<u8>) {
    (block_key(gtin, ""), block_key(gtin, serial))
}

/// The last entry of `tree` whose key is between `low` and `high`, both
/// included: with `find_bounds`, a unit's block.
pub(super) fn last_between(
    tree: &sled::Tree,
    low: &[u8],
    high: &[u8],
) -> sled::Result<Option<(Vec<u8>, Vec<u8>)>> {
    Ok(tree
        .range(low..=high)
        .next_back()
        .transpose()?
        .map(|(k, v)| (k.to_vec(), v.to_vec())))
}

/// The block that holds (gtin, serial) if the store has it: (key, value).
fn find(tree: &sled::Tree, gtin: &str, serial: &str) -> sled::Result<Option<(Vec<u8>, Vec<u8>)>> {
    let (low, high) = find_bounds(gtin, serial);
    last_between(tree, &low, &high)
}

/// The unit (gtin, serial) as `tree` holds it.
pub(super) fn read(
    tree: &sled::Tree,
    gtin: &str,
    serial: &str,
) -> sled::Result<Option<Result<Unit, EnvelopeError>>> {
    Ok(find(tree, gtin, serial)?.and_then(|(_, v)| unit_in(&v, serial).transpose()))
}

/// The by-serial logical keys a unit stands for (see the top).
pub(super) fn logical_keys(gtin: &str, serial: &str, unit: &Unit) -> Vec<Vec<u8>> {
    unit.ids()
        .map(|id| {
            Key::new(prefix::BY_SERIAL)
                .str(gtin)
                .str(serial)
                .id(&id.origin, id.seq)
                .into_vec()
        })
        .collect()
}

/// What a walk of the unit blocks meets (`Scan`).
#[derive(Debug)]
pub enum Found {
    /// A unit: (gtin, serial, unit).
    Unit(String, String, Unit),
    /// A block that cannot be read, or holds units out of its range (a
    /// look-up would not find them): its key and why. Verify names it;
    /// `reindex` rebuilds it.
    Damaged(Vec<u8>, String),
}

/// The units of the store in (GTIN, serial) order, block by block, one
/// block in memory at a time.
pub struct Scan {
    iter: counted::Counted,
    prefix: Vec<u8>,
    /// Units before this serial are passed over (a range's start).
    from: Option<String>,
    /// The block being walked: its GTIN and its units, reversed to pop.
    gtin: String,
    units: Vec<(String, Unit)>,
    /// The last serial seen of the GTIN before, to check order across
    /// blocks.
    last: Option<(String, String)>,
}

impl Scan {
    /// Every unit whose key starts with `prefix` (all, or one GTIN's).
    pub(super) fn all(tree: &sled::Tree, gtin: Option<&str>) -> Self {
        let prefix = match gtin {
            Some(g) => Key::new(prefix::SERIAL_STATE).str(g).into_vec(),
            None => vec![prefix::SERIAL_STATE],
        };
        Scan {
            iter: counted::scan_prefix(tree, &prefix),
            prefix,
            from: None,
            gtin: String::new(),
            units: Vec::new(),
            last: None,
        }
    }

    /// The units of `gtin` from serial `from` on: the block that would
    /// hold `from` is the first read.
    pub(super) fn from(tree: &sled::Tree, gtin: &str, from: &str) -> sled::Result<Self> {
        let start = match find(tree, gtin, from)? {
            Some((k, _)) => k,
            None => block_key(gtin, from),
        };
        Ok(Scan {
            iter: counted::range(tree, start..),
            prefix: Key::new(prefix::SERIAL_STATE).str(gtin).into_vec(),
            from: Some(from.to_owned()),
            gtin: String::new(),
            units: Vec::new(),
            last: None,
        })
    }

    /// Reads the next block into `units`; `Some` when it is damaged or
    /// cannot be read.
    fn next_block(&mut self) -> Option<sled::Result<Option<Found>>> {
        let (k, v) = match self.iter.next()? {
            Ok(kv) => kv,
            Err(e) => return Some(Err(e)),
        };
        if !k.starts_with(&self.prefix) {
            return None;
        }
        let damaged = |why: &str| Some(Ok(Some(Found::Damaged(k.to_vec(), why.to_owned()))));
        let mut r = KeyReader::new(&k);
        let (Some(gtin), Some(lower)) = (r.str(), r.str()) else {
            return damaged("its key cannot be read");
        };
        let block = match Block::decode(&v) {
            Ok(b) => b,
            Err(e) => return damaged(&e.to_string()),
        };
        let after_last = match &self.last {
            Some((g, s)) if *g == gtin => *s < lower,
            // A GTIN's first block holds from the empty serial on.
            _ => lower.is_empty() || self.from.is_some(),
        };
        let in_order = block.units.windows(2).all(|w| w[0].0 < w[1].0)
            && block.units.first().is_none_or(|(s, _)| *s >= lower);
        if !after_last || !in_order {
            self.last = block.units.last().map(|(s, _)| (gtin.clone(), s.clone()));
            return damaged(
                "its units are out of order or outside its range (a look-up would miss them)",
            );
        }
        if let Some((s, _)) = block.units.last() {
            self.last = Some((gtin.clone(), s.clone()));
        }
        self.gtin = gtin;
        self.units = block.units;
        self.units.reverse();
        Some(Ok(None))
    }
}

impl Iterator for Scan {
    type Item = sled::Result<Found>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            while let Some((serial, unit)) = self.units.pop() {
                if self
                    .from
                    .as_deref()
                    .is_some_and(|from| serial.as_str() < from)
                {
                    continue;
                }
                return Some(Ok(Found::Unit(self.gtin.clone(), serial, unit)));
            }
            match self.next_block()? {
                Ok(None) => continue,
                Ok(Some(found)) => return Some(Ok(found)),
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// The units a batch of movements changes: each block read once from the
/// store (`unit`'s `find`), changed in memory, written once, split there
/// if it grew past its size (`into_entries`).
#[derive(Default)]
pub struct Changes {
    /// By block key: its GTIN, its units, and whether a unit was added
    /// after its last (serials arriving in order: the split leaves full
    /// blocks behind).
    blocks: HashMap<Vec<u8>, Changed>,
    /// Where each unit of this batch is: (gtin, serial) → its block's key.
    placed: HashMap<(String, String), Vec<u8>>,
}

struct Changed {
    gtin: String,
    block: Block,
    appended: bool,
}

impl Changes {
    /// Reads the block that holds (gtin, serial) through `find` (the
    /// store's last entry between two keys, `find_bounds`), the first time
    /// the batch touches that block; a unit of a GTIN the store has none
    /// of goes to a new first block.
    pub fn load<E>(
        &mut self,
        gtin: &str,
        serial: &str,
        find: impl FnOnce(&[u8], &[u8]) -> Result<Option<(Vec<u8>, Vec<u8>)>, E>,
        decode_err: impl FnOnce(EnvelopeError) -> E,
    ) -> Result<(), E> {
        let placed = (gtin.to_owned(), serial.to_owned());
        if self.placed.contains_key(&placed) {
            return Ok(());
        }
        let (low, high) = find_bounds(gtin, serial);
        let key = match find(&low, &high)? {
            Some((key, value)) => {
                if !self.blocks.contains_key(&key) {
                    let block = Block::decode(&value).map_err(decode_err)?;
                    self.blocks.insert(key.clone(), Changed::new(gtin, block));
                }
                key
            }
            None => low,
        };
        self.placed.insert(placed, key);
        Ok(())
    }

    /// The unit (gtin, serial), to change: in the block `load` read, or
    /// (never loaded: a store built from nothing) in its GTIN's first.
    pub fn unit_mut(&mut self, gtin: &str, serial: &str) -> &mut Unit {
        let key = self
            .placed
            .entry((gtin.to_owned(), serial.to_owned()))
            .or_insert_with(|| block_key(gtin, ""));
        let changed = self
            .blocks
            .entry(key.clone())
            .or_insert_with(|| Changed::new(gtin, Block::default()));
        let at = match changed.block.position(serial) {
            Ok(at) => at,
            Err(at) => {
                let units = &mut changed.block.units;
                changed.appended |= at == units.len();
                units.insert(at, (serial.to_owned(), Unit::default()));
                at
            }
        };
        &mut changed.block.units[at].1
    }

    /// The units changed so far, as (gtin, serial, unit).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str, &Unit)> {
        self.placed.iter().filter_map(|((gtin, serial), key)| {
            let unit = self.blocks.get(key)?.block.get(serial)?;
            Some((gtin.as_str(), serial.as_str(), unit))
        })
    }

    /// The blocks to store, consuming the changes: each as (key, value),
    /// those grown past their size split.
    pub fn into_entries(self) -> impl Iterator<Item = (Vec<u8>, Vec<u8>)> {
        self.blocks
            .into_iter()
            .flat_map(|(key, changed)| changed.split(key))
    }
}

impl Changed {
    fn new(gtin: &str, block: Block) -> Self {
        Changed {
            gtin: gtin.to_owned(),
            block,
            appended: false,
        }
    }

    /// The block as one entry under `key`, or split: the first part under
    /// `key`, each other under its first serial. Serials added at the end
    /// (in order) leave full blocks behind; added anywhere else, the block
    /// is split into even parts, so that each has room for more.
    fn split(self, key: Vec<u8>) -> Vec<(Vec<u8>, Vec<u8>)> {
        let units = self.block.units;
        let bytes: usize = units.iter().map(|(s, u)| s.len() + u.size()).sum();
        if units.len() <= BLOCK_UNITS && bytes <= BLOCK_BYTES {
            return vec![(key, Block { units }.encode())];
        }
        let per_part = if self.appended {
            BLOCK_UNITS
        } else {
            let parts = units
                .len()
                .div_ceil(BLOCK_UNITS)
                .max(bytes.div_ceil(BLOCK_BYTES));
            units.len().div_ceil(parts)
        };
        let mut out = Vec::new();
        let mut part: Vec<(String, Unit)> = Vec::new();
        let mut part_bytes = 0;
        let flush = |part: Vec<(String, Unit)>, out: &mut Vec<(Vec<u8>, Vec<u8>)>| {
            let part_key = match out.is_empty() {
                true => key.clone(),
                false => block_key(&self.gtin, &part[0].0),
            };
            out.push((part_key, Block { units: part }.encode()));
        };
        for (serial, unit) in units {
            let size = serial.len() + unit.size();
            let full = part.len() == per_part || part_bytes + size > BLOCK_BYTES;
            if !part.is_empty() && full {
                flush(std::mem::take(&mut part), &mut out);
                part_bytes = 0;
            }
            part_bytes += size;
            part.push((serial, unit));
        }
        flush(part, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn a_unit_lists_each_movement_once_in_seq_order_per_origin() {
        let mut u = Unit::default();
        for (o, s) in [("north", 7), ("south", 2), ("north", 3), ("north", 7)] {
            u.push(o, s);
        }
        let ids: Vec<(String, u64)> = u.ids().map(|i| (i.origin, i.seq)).collect();
        assert_eq!(
            ids,
            [
                ("north".into(), 3),
                ("north".into(), 7),
                ("south".into(), 2)
            ]
        );
        assert!(u.has("south", 2) && !u.has("south", 3));
    }

    #[test]
    fn logical_keys_are_the_by_serial_index_keys() {
        let mut u = Unit::default();
        u.push("north", 9);
        let want = Key::new(prefix::BY_SERIAL)
            .str("0950")
            .str("S1")
            .id("north", 9)
            .into_vec();
        assert_eq!(logical_keys("0950", "S1", &u), vec![want]);
    }

    /// Serials of two GTINs added in batches, in the given order, to a
    /// real sled tree: every unit is found again by `read`, the scan gives
    /// them all in order with nothing damaged, and blocks stay within
    /// their size.
    fn fill(serials: &[(u8, String)], batch: usize) -> (sled::Tree, usize) {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let tree = db.open_tree("t").unwrap();
        let mut want = BTreeMap::new();
        for chunk in serials.chunks(batch) {
            let mut changes = Changes::default();
            for (i, (g, s)) in chunk.iter().enumerate() {
                let gtin = format!("0{g}");
                changes
                    .load(
                        &gtin,
                        s,
                        |low, high| last_between(&tree, low, high),
                        |e| panic!("{e}"),
                    )
                    .unwrap();
                let unit = changes.unit_mut(&gtin, s);
                unit.push("north", i as u64 + 1);
                want.insert((gtin, s.clone()), unit.clone());
            }
            let mut b = sled::Batch::default();
            for (k, v) in changes.into_entries() {
                b.insert(k, v);
            }
            tree.apply_batch(b).unwrap();
        }
        for ((g, s), unit) in &want {
            assert_eq!(
                read(&tree, g, s).unwrap().unwrap().unwrap(),
                *unit,
                "{g} {s}"
            );
        }
        let got: Vec<(String, String, Unit)> = Scan::all(&tree, None)
            .map(|f| match f.unwrap() {
                Found::Unit(g, s, u) => (g, s, u),
                Found::Damaged(k, why) => panic!("{k:?}: {why}"),
            })
            .collect();
        let want: Vec<(String, String, Unit)> =
            want.into_iter().map(|((g, s), u)| (g, s, u)).collect();
        assert_eq!(got, want);
        for item in tree.iter() {
            let (_, v) = item.unwrap();
            assert!(Block::decode(&v).unwrap().units.len() <= BLOCK_UNITS);
        }
        (tree.clone(), tree.len())
    }

    #[test]
    fn serials_in_order_fill_whole_blocks() {
        let serials: Vec<(u8, String)> = (0..1000)
            .map(|i| (i as u8 % 2, format!("S{i:05}")))
            .collect();
        let (_, blocks) = fill(&serials, 50);
        assert!(blocks <= 1000 / BLOCK_UNITS + 4, "{blocks} blocks");
    }

    #[test]
    fn serials_in_any_order_are_each_found_in_their_block() {
        // Descending, scattered, repeated, of several lengths: a
        // multiplicative hash, as serials fall at a dock.
        let mut serials: Vec<(u8, String)> = (0u64..1500)
            .map(|i| {
                let h = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
                (u8::from(i % 3 == 0), format!("{:x}", h % (10 + i)))
            })
            .collect();
        serials.extend((0..300).rev().map(|i| (1, format!("R{i}"))));
        let (_, blocks) = fill(&serials, 37);
        let distinct: std::collections::HashSet<_> = serials.iter().collect();
        assert!(
            blocks <= distinct.len() * 2 / BLOCK_UNITS + 8,
            "{blocks} blocks for {} units",
            distinct.len()
        );
    }

    #[test]
    fn a_unit_of_many_movements_gets_a_block_of_its_own() {
        let mut changes = Changes::default();
        for s in ["A", "B", "C"] {
            changes.unit_mut("09", s);
        }
        let crate_unit = changes.unit_mut("09", "B");
        for seq in 0..2000 {
            crate_unit.push("north", seq);
        }
        let parts = changes.into_entries().count();
        assert_eq!(parts, 3, "A, B alone, C");
    }

    #[test]
    fn a_block_out_of_its_range_is_named_by_the_scan() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let tree = db.open_tree("t").unwrap();
        let unit = |s: &str| (s.to_owned(), Unit::default());
        tree.insert(
            block_key("09", ""),
            Block {
                units: vec![unit("M")],
            }
            .encode(),
        )
        .unwrap();
        tree.insert(
            block_key("09", "K"),
            Block {
                units: vec![unit("N")],
            }
            .encode(),
        )
        .unwrap();
        let damaged: Vec<_> = Scan::all(&tree, None)
            .filter_map(|f| match f.unwrap() {
                Found::Damaged(k, _) => Some(k),
                Found::Unit(..) => None,
            })
            .collect();
        assert_eq!(damaged, [block_key("09", "K")]);
    }
}
