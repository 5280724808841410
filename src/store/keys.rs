//! Key layouts. Everything the committer writes lives in one sled tree
//! (`journal`), each logical tree under its own one-byte prefix, so a
//! movement, its derived entries and its seq counter go to disk in one
//! atomic `Batch`. A multi-tree transaction would give the same atomicity
//! but does the same inserts plus its overlay and conflict checks, which a
//! single writer never needs (measured alike when the store was designed).
//!
//! Keys are built so that byte order is the order a report wants: integers
//! big-endian, strings escaped and terminated so that a shorter string sorts
//! before its extensions and a field never bleeds into the next one.

use chrono::{Datelike, NaiveDate};

/// The logical trees inside the `journal` sled tree.
pub mod prefix {
    /// origin → chain head of its movements (the seq counter).
    pub const HEAD: u8 = 0x01;
    /// origin → chain head of its rejected scans.
    pub const REJECTED_HEAD: u8 = 0x02;
    /// (origin, first seq) → a block of up to 32 movements (`blocks`).
    pub const JOURNAL: u8 = 0x12;
    /// (origin, seq) → movement: the journal of schemas 2 to 4, one entry
    /// a movement, read only by the upgrade to blocks.
    pub const JOURNAL_V4: u8 = 0x10;
    /// (origin, seq) → rejected scan. Not derived: reindex never touches it.
    pub const REJECTED: u8 = 0x11;
    /// (gtin, lot, origin, seq) → ().
    pub const BY_LOT: u8 = 0x20;
    /// (gtin, serial, origin, seq): the by-serial index's logical keys,
    /// which the blocks of units hold (`units`); schemas 2 to 4 kept them
    /// as postings under this prefix.
    pub const BY_SERIAL: u8 = 0x21;
    /// (gtin, lower bound) → a block of units of that GTIN, from the lower
    /// bound to the next block's: each unit's serial state and movements
    /// (`units`). Schemas 5 and 6 kept (gtin, serial) → one unit; the
    /// logical key of a unit is still (gtin, serial) under this prefix
    /// (`serial_state`), as verify names it.
    pub const SERIAL_STATE: u8 = 0x22;
    /// (gtin, lot, origin, location, unit) → balance. Lot is "" when none
    /// was scanned, unit is "" for a count of units. The origin keeps two
    /// sites' locations of the same name apart at head office.
    pub const LOT_BALANCE: u8 = 0x23;
    /// (G|N, gln or name, origin, seq) → ().
    pub const BY_COUNTERPARTY: u8 = 0x24;
    /// (P|O|D|S, document id, origin, seq) → ().
    pub const BY_DOCUMENT: u8 = 0x25;
    /// (day, origin, seq) → ().
    pub const BY_DAY: u8 = 0x26;
    /// (gtin, lot) → the earliest expiry any movement of the lot carried:
    /// stock and expiry reports read it beside each balance, the station
    /// rules before a dispatch.
    pub const LOT_EXPIRY: u8 = 0x27;
    /// (corrected origin, corrected seq, origin, seq) → (): every
    /// correction by the movement it corrects, so "corrected at most once"
    /// is one prefix look-up and a second correction shows in verify.
    pub const CORRECTED_BY: u8 = 0x28;
    /// (device, scan id) → how a handheld's scan was answered: the scan
    /// receipts of schema 5, one entry each, read only by the upgrade to
    /// the ring (`store::scan_receipts`).
    pub const SCAN_RECEIPT_V5: u8 = 0x30;
    /// (answered at, in ns since 1970; device; scan id) → (): schema 5's
    /// receipts oldest first, read only by the upgrade.
    pub const SCAN_RECEIPT_ORDER_V5: u8 = 0x31;
    /// The scan receipts' ring: its salt, slot count and next number
    /// (`store::scan_receipts`). Not derived: written with the receipts;
    /// reindex never touches it.
    pub const SCAN_RECEIPT_RING: u8 = 0x32;
    /// slot → the scan receipts whose device and scan id hash to it
    /// (`store::scan_receipts`). Not derived: written with the movement or
    /// rejected scan each answers for; reindex never touches them.
    pub const SCAN_RECEIPT_SLOT: u8 = 0x33;

    /// A prefix's name, for figures.
    pub fn name(p: u8) -> &'static str {
        match p {
            HEAD => "chain heads",
            REJECTED_HEAD => "rejected-log heads",
            JOURNAL => "journal (blocks of movements)",
            JOURNAL_V4 => "journal (schema 4, one entry a movement)",
            REJECTED => "rejected scans",
            SCAN_RECEIPT_V5 => "scan receipts (schema 5)",
            SCAN_RECEIPT_ORDER_V5 => "scan receipts by time (schema 5)",
            SCAN_RECEIPT_RING => "scan receipts' ring",
            SCAN_RECEIPT_SLOT => "scan receipts (slots of the ring)",
            _ => DERIVED
                .iter()
                .find(|(q, _)| *q == p)
                .map_or("unknown", |(_, name)| name),
        }
    }

    /// The prefixes reindex clears and rebuilds, with their names for
    /// messages.
    pub const DERIVED: [(u8, &str); 9] = [
        (BY_LOT, "by lot"),
        (BY_SERIAL, "by serial"),
        (SERIAL_STATE, "serial units (blocks)"),
        (LOT_BALANCE, "lot balances"),
        (BY_COUNTERPARTY, "by counterparty"),
        (BY_DOCUMENT, "by document"),
        (BY_DAY, "by day"),
        (LOT_EXPIRY, "lot expiry"),
        (CORRECTED_BY, "corrections"),
    ];
}

/// Builds a key field by field.
#[derive(Debug, Clone)]
pub struct Key(Vec<u8>);

impl Key {
    pub(super) fn new(prefix: u8) -> Key {
        let mut v = Vec::with_capacity(48);
        v.push(prefix);
        Key(v)
    }

    /// 0x00 inside a string becomes 00 FF and the string ends with 00 01, so
    /// "a" < "a\0" < "ab" and no string is a prefix of another's encoding.
    pub fn str(mut self, s: &str) -> Key {
        for &b in s.as_bytes() {
            self.0.push(b);
            if b == 0 {
                self.0.push(0xFF);
            }
        }
        self.0.extend_from_slice(&[0, 1]);
        self
    }

    pub(super) fn u64(mut self, n: u64) -> Key {
        self.0.extend_from_slice(&n.to_be_bytes());
        self
    }

    pub(super) fn byte(mut self, b: u8) -> Key {
        self.0.push(b);
        self
    }

    /// Days since 0001-01-01, sign bit flipped so earlier dates sort first.
    pub fn date(mut self, d: NaiveDate) -> Key {
        let days = d.num_days_from_ce() as u32 ^ 0x8000_0000;
        self.0.extend_from_slice(&days.to_be_bytes());
        self
    }

    pub(super) fn id(self, origin: &str, seq: u64) -> Key {
        self.str(origin).u64(seq)
    }

    pub(super) fn into_vec(self) -> Vec<u8> {
        self.0
    }
}

/// Reads a key written by `Key`.
pub struct KeyReader<'a> {
    rest: &'a [u8],
}

impl<'a> KeyReader<'a> {
    /// Skips the prefix byte.
    pub fn new(key: &'a [u8]) -> KeyReader<'a> {
        KeyReader {
            rest: key.get(1..).unwrap_or(&[]),
        }
    }

    pub(super) fn str(&mut self) -> Option<String> {
        let mut out = Vec::new();
        let mut i = 0;
        loop {
            let b = *self.rest.get(i)?;
            if b == 0 {
                match *self.rest.get(i + 1)? {
                    0xFF => out.push(0),
                    1 => break,
                    _ => return None,
                }
                i += 2;
            } else {
                out.push(b);
                i += 1;
            }
        }
        self.rest = &self.rest[i + 2..];
        String::from_utf8(out).ok()
    }

    pub(super) fn u64(&mut self) -> Option<u64> {
        let (head, rest) = self.rest.split_first_chunk::<8>()?;
        self.rest = rest;
        Some(u64::from_be_bytes(*head))
    }

    pub(super) fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.rest.split_first()?;
        self.rest = rest;
        Some(b)
    }

    pub(super) fn skip(&mut self, n: usize) -> Option<()> {
        self.rest = self.rest.get(n..)?;
        Some(())
    }
}

/// Movements per journal block (`blocks`): a full block is ~10 KB, small
/// enough to rewrite on every batch that appends to it.
pub const BLOCK_MOVEMENTS: u64 = 32;

/// The first seq of the journal block holding `seq` (seqs start at 1):
/// 1, 33, 65…
pub fn block_first(seq: u64) -> u64 {
    seq.saturating_sub(1) / BLOCK_MOVEMENTS * BLOCK_MOVEMENTS + 1
}

/// The key of the journal block holding movement (origin, seq): (origin,
/// the block's first seq) under the journal prefix, big-endian, so an
/// origin's blocks iterate in seq order (`blocks`).
pub fn journal(origin: &str, seq: u64) -> Vec<u8> {
    Key::new(prefix::JOURNAL)
        .id(origin, block_first(seq))
        .into_vec()
}

pub(super) fn journal_origin(origin: &str) -> Vec<u8> {
    Key::new(prefix::JOURNAL).str(origin).into_vec()
}

pub(super) fn rejected(origin: &str, seq: u64) -> Vec<u8> {
    Key::new(prefix::REJECTED).id(origin, seq).into_vec()
}

pub(super) fn head(origin: &str) -> Vec<u8> {
    Key::new(prefix::HEAD).str(origin).into_vec()
}

pub(super) fn rejected_head(origin: &str) -> Vec<u8> {
    Key::new(prefix::REJECTED_HEAD).str(origin).into_vec()
}

/// All (origin, seq) entries of a lot, in origin then seq order.
pub fn lot_range(gtin: &str, lot: &str) -> Vec<u8> {
    Key::new(prefix::BY_LOT).str(gtin).str(lot).into_vec()
}

pub(super) fn serial_state(gtin: &str, serial: &str) -> Vec<u8> {
    Key::new(prefix::SERIAL_STATE)
        .str(gtin)
        .str(serial)
        .into_vec()
}

pub(super) fn lot_balance(
    gtin: &str,
    lot: &str,
    origin: &str,
    location: &str,
    unit: &str,
) -> Vec<u8> {
    Key::new(prefix::LOT_BALANCE)
        .str(gtin)
        .str(lot)
        .str(origin)
        .str(location)
        .str(unit)
        .into_vec()
}

/// All corrections of the movement (origin, seq).
pub fn corrected_by(origin: &str, seq: u64) -> Key {
    Key::new(prefix::CORRECTED_BY).id(origin, seq)
}

pub(super) fn lot_expiry(gtin: &str, lot: &str) -> Vec<u8> {
    Key::new(prefix::LOT_EXPIRY).str(gtin).str(lot).into_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seq_order_is_numeric_order() {
        let mut keys: Vec<Vec<u8>> = [300u64, 2, 1, 256, 65_536, 10]
            .iter()
            .map(|&s| Key::new(prefix::JOURNAL).id("north", s).into_vec())
            .collect();
        keys.sort();
        let seqs: Vec<u64> = keys
            .iter()
            .map(|k| {
                let mut r = KeyReader::new(k);
                r.str().unwrap();
                r.u64().unwrap()
            })
            .collect();
        assert_eq!(seqs, [1, 2, 10, 256, 300, 65_536]);
    }

    #[test]
    fn strings_sort_before_their_extensions_and_do_not_bleed() {
        let a = Key::new(1).str("a").u64(u64::MAX).into_vec();
        let ab = Key::new(1).str("ab").u64(0).into_vec();
        let a0 = Key::new(1).str("a\0").u64(0).into_vec();
        assert!(a < a0 && a0 < ab);
        // A lot "L1" must not match the range of lot "L".
        let l1 = Key::new(prefix::BY_LOT)
            .str("g")
            .str("L1")
            .id("o", 1)
            .into_vec();
        assert!(!l1.starts_with(&lot_range("g", "L")));
        assert!(l1.starts_with(&lot_range("g", "L1")));
    }

    #[test]
    fn dates_sort_in_time_order() {
        let d = |y, m, dd| {
            Key::new(0)
                .date(NaiveDate::from_ymd_opt(y, m, dd).unwrap())
                .into_vec()
        };
        assert!(d(2025, 12, 31) < d(2026, 1, 1));
        assert!(d(-5, 1, 1) < d(1, 1, 1));
    }

    #[test]
    fn reader_reads_back() {
        let k = Key::new(prefix::BY_LOT)
            .str("g\0x")
            .str("")
            .id("site", 42)
            .into_vec();
        let mut r = KeyReader::new(&k);
        assert_eq!(r.str().as_deref(), Some("g\0x"));
        assert_eq!(r.str().as_deref(), Some(""));
        assert_eq!(r.str().as_deref(), Some("site"));
        assert_eq!(r.u64(), Some(42));
        assert_eq!(r.byte(), None);
    }
}
