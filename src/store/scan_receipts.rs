//! Receipts of handheld scans by `scan_id`, kept in the store so that a
//! handheld retrying after the daemon restarted gets the first answer, not
//! a second decision (a lot-level receipt decided twice is counted twice).
//!
//! A receipt is written by the committer in the same atomic, durable batch
//! as the movement or rejected scan it answers for, so a scan that was
//! answered has its receipt on disk, and a receipt never names a movement
//! that is not. It holds the device and scan id, the SHA-256 of what made
//! the scan (station, data, operator: a reused id with another body is
//! told apart after a restart too), and the outcome: the movement's id, or
//! the refusal's code and words. Anything else the answer carried
//! (warnings) is kept as the caller's own bytes.
//!
//! Receipts live in a ring of a fixed number of slots (store schema 6): a
//! receipt goes to the slot a salted SHA-256 of its device and scan id
//! names, and the committer, rewriting a slot, drops the receipts in it
//! that `Keep` no longer keeps. So the receipts take a fixed number of sled
//! entries however many scans a site makes. Keyed one entry a receipt and
//! pruned oldest first (schema 5), they grew the daemon's memory with
//! every scan, and pruning them by removal made it grow faster, not
//! slower: sled 0.34 gives back little of what its nodes cost once they
//! exist (BENCHMARKS.md, "Scan receipts in a ring"). The salt,
//! drawn when the ring is made, keeps a hostile client from aiming its
//! scan ids at one slot.
//!
//! `Keep`: the newest `KEEP_NEWEST` scans or those of the last `KEEP_DAYS`
//! days, whichever keeps more (a handheld retries within seconds; a week
//! covers one switched off over a holiday), but never more than
//! `RECEIPTS_PER_MB` for each MiB of `[store] memory_mb`. A receipt past
//! these is dropped when its slot is next written; until then it still
//! answers its retry, which only errs on the side the receipts exist for.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::keys::{prefix, Key, KeyReader};
use crate::model::MovementId;

/// Receipts always kept, however old: the newest this many.
pub const KEEP_NEWEST: u64 = 100_000;
/// Receipts kept, however many (up to `RECEIPTS_PER_MB`): those of the
/// last this many days.
pub const KEEP_DAYS: i64 = 7;
/// The most receipts kept for each MiB of `[store] memory_mb`: 1,048,576
/// at the default 512 MiB, a week of a site scanning 1.7 times a second
/// round the clock. Slots hold four receipts each on average at that
/// count (~400 bytes, rewritten with every receipt written to them).
pub const RECEIPTS_PER_MB: u64 = 2_048;
/// Slots in a new ring: one sled entry each.
pub const SLOTS: u32 = 1 << 18;

/// Which receipts are kept: the newest `newest`, and those of the last
/// `days` days, but no more than `most` in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keep {
    /// The newest this many are kept, however old.
    pub newest: u64,
    /// Those of the last this many days are kept, up to `most`.
    pub days: i64,
    /// Never more than this many.
    pub most: u64,
}

impl Keep {
    /// The rule for a daemon held to `memory_mb` MiB.
    pub fn within(memory_mb: u64) -> Keep {
        Keep {
            newest: KEEP_NEWEST,
            days: KEEP_DAYS,
            most: memory_mb.saturating_mul(RECEIPTS_PER_MB).max(KEEP_NEWEST),
        }
    }

    /// Whether the receipt `rank` from the newest (1 is the newest),
    /// written `age_ns` ago, is kept.
    fn keeps(&self, rank: u64, age_ns: u64) -> bool {
        let days_ns = (self.days.max(0) as u64).saturating_mul(86_400 * 1_000_000_000);
        rank <= self.newest || (rank <= self.most && age_ns < days_ns)
    }
}

impl Default for Keep {
    /// The rule at the default `[store] memory_mb`.
    fn default() -> Keep {
        Keep::within(512)
    }
}

/// What the committer writes beside a movement or rejected scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanReceipt {
    /// The device (token name) that owns the scan id.
    pub device: String,
    /// The device's own id of the scan.
    pub scan_id: String,
    /// SHA-256 of what made the scan (see `site::retries::fingerprint`).
    pub body: [u8; 32],
    /// The caller's own extra bytes (the site keeps the answer's warnings).
    pub extra: Vec<u8>,
}

/// How a stored scan was answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// Accepted: the movement recorded for it.
    Accepted(MovementId),
    /// Refused: the refusal's code and the words the operator was told.
    Refused {
        /// The refusal code as the API names it.
        code: String,
        /// What the operator was told.
        words: String,
    },
}

/// A receipt as read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredReceipt {
    /// SHA-256 of what made the scan.
    pub body: [u8; 32],
    /// How it was answered.
    pub outcome: Outcome,
    /// The caller's own extra bytes.
    pub extra: Vec<u8>,
}

/// The one envelope version of a receipt in the layout of schema 5 (a
/// leading byte, so a later layout can be told apart); read only by the
/// upgrade.
const VERSION: u8 = 1;

impl StoredReceipt {
    pub(super) fn decode_v5(bytes: &[u8]) -> Option<StoredReceipt> {
        match bytes.split_first() {
            Some((&VERSION, rest)) => postcard::from_bytes(rest).ok(),
            _ => None,
        }
    }
}

/// A receipt as its slot holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Held {
    device: String,
    scan_id: String,
    /// Its place among all receipts written (1 for the first): the
    /// newest-kept rule counts back from the ring's next number.
    number: u64,
    /// When it was written, in ns since 1970.
    at: u64,
    receipt: StoredReceipt,
}

/// The one layout of a slot's value, its leading byte.
const SLOT_VERSION: u8 = 1;

fn encode_slot(held: &[Held]) -> Vec<u8> {
    let mut out = vec![SLOT_VERSION];
    out.extend(postcard::to_stdvec(held).expect("receipts always encode"));
    out
}

fn decode_slot(bytes: &[u8]) -> Option<Vec<Held>> {
    match bytes.split_first() {
        Some((&SLOT_VERSION, rest)) => postcard::from_bytes(rest).ok(),
        _ => None,
    }
}

/// The ring's own entry: the salt of its slot hash, how many slots it
/// has, and the number the next receipt gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Ring {
    salt: [u8; 16],
    slots: u32,
    next: u64,
}

/// The ring entry's key.
pub(super) fn ring_key() -> Vec<u8> {
    vec![prefix::SCAN_RECEIPT_RING]
}

impl Ring {
    /// A new, empty ring of `slots` slots with a fresh salt.
    pub(super) fn new(slots: u32) -> Ring {
        let mut salt = [0; 16];
        // Without the OS's randomness the salt is only the time: the slots
        // still spread, only a hostile client could aim at one.
        if getrandom::getrandom(&mut salt).is_err() {
            let now = Utc::now().timestamp_nanos_opt().unwrap_or(0);
            salt[..8].copy_from_slice(&now.to_be_bytes());
        }
        Ring {
            salt,
            slots: slots.max(1),
            next: 1,
        }
    }

    /// The ring as stored; `None` when there is none yet, or when its entry
    /// cannot be read (the next receipt written starts a new one, and says
    /// so in the log: the old receipts are then not found, and their
    /// retries are decided again).
    pub(super) fn read(stored: Option<&[u8]>) -> Option<Ring> {
        let bytes = stored?;
        if bytes.len() != 28 {
            return None;
        }
        let mut salt = [0; 16];
        salt.copy_from_slice(&bytes[..16]);
        let slots = u32::from_be_bytes(bytes[16..20].try_into().expect("4 bytes"));
        let next = u64::from_be_bytes(bytes[20..].try_into().expect("8 bytes"));
        Some(Ring {
            salt,
            slots: slots.max(1),
            next,
        })
    }

    /// The ring's entry, as `read` reads it.
    pub(super) fn entry(&self) -> (Vec<u8>, Vec<u8>) {
        let mut v = self.salt.to_vec();
        v.extend(self.slots.to_be_bytes());
        v.extend(self.next.to_be_bytes());
        (ring_key(), v)
    }

    /// The key of the slot a device's scan id goes to.
    pub(super) fn slot_key(&self, device: &str, scan_id: &str) -> Vec<u8> {
        use sha2::Digest as _;
        let mut h = sha2::Sha256::new();
        h.update(self.salt);
        h.update(device.as_bytes());
        h.update([0]);
        h.update(scan_id.as_bytes());
        let digest = h.finalize();
        let n = u32::from_be_bytes(digest[..4].try_into().expect("4 bytes")) % self.slots;
        Key::new(prefix::SCAN_RECEIPT_SLOT)
            .u64(u64::from(n))
            .into_vec()
    }
}

/// The receipt of a device's scan id, if `slot` (the value of its slot)
/// holds one.
pub(super) fn find(slot: &[u8], device: &str, scan_id: &str) -> Option<StoredReceipt> {
    decode_slot(slot)?
        .into_iter()
        .find(|h| h.device == device && h.scan_id == scan_id)
        .map(|h| h.receipt)
}

/// The receipts one batch writes, added to their slots as read once from
/// the store: every slot the batch touched, and the ring entry, are
/// written once at `into_entries`.
#[derive(Debug, Default)]
pub(super) struct Appender {
    ring: Option<Ring>,
    slots: std::collections::HashMap<Vec<u8>, Vec<Held>>,
}

impl Appender {
    /// Adds the receipt of `outcome` written `at`; `get` reads what the
    /// store holds (the ring entry and the slot, on first use).
    pub(super) fn add<E>(
        &mut self,
        r: ScanReceipt,
        outcome: Outcome,
        at: DateTime<Utc>,
        get: impl Fn(&[u8]) -> Result<Option<Vec<u8>>, E>,
    ) -> Result<(), E> {
        let mut ring = match self.ring {
            Some(ring) => ring,
            None => {
                let stored = get(&ring_key())?;
                Ring::read(stored.as_deref()).unwrap_or_else(|| {
                    // Said here, on the write that replaces it, not on
                    // every look-up until then.
                    if stored.is_some() {
                        tracing::error!("the scan receipts' ring entry cannot be read; a new ring is started and retries of earlier handheld scans are decided again");
                    }
                    Ring::new(SLOTS)
                })
            }
        };
        let key = ring.slot_key(&r.device, &r.scan_id);
        let held = match self.slots.entry(key) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let stored = get(e.key())?;
                let held = match stored.as_deref().map(decode_slot) {
                    None => Vec::new(),
                    Some(Some(held)) => held,
                    Some(None) => {
                        tracing::warn!("a scan receipts' slot cannot be read; it is written anew and its retries are decided again");
                        Vec::new()
                    }
                };
                e.insert(held)
            }
        };
        // One receipt a scan id: the desk finds a receipt before it decides,
        // so a second one only comes from a race it settles itself.
        held.retain(|h| !(h.device == r.device && h.scan_id == r.scan_id));
        held.push(Held {
            device: r.device,
            scan_id: r.scan_id,
            number: ring.next,
            at: at.timestamp_nanos_opt().unwrap_or(0).max(0) as u64,
            receipt: StoredReceipt {
                body: r.body,
                outcome,
                extra: r.extra,
            },
        });
        ring.next += 1;
        self.ring = Some(ring);
        Ok(())
    }

    /// The slots written, without the receipts `keep` no longer keeps at
    /// `now`, and the ring entry; nothing when nothing was added.
    pub(super) fn into_entries(self, keep: Keep, now: DateTime<Utc>) -> Vec<(Vec<u8>, Vec<u8>)> {
        let Some(ring) = self.ring else {
            return Vec::new();
        };
        let now = now.timestamp_nanos_opt().unwrap_or(0).max(0) as u64;
        let mut out = Vec::with_capacity(self.slots.len() + 1);
        for (key, mut held) in self.slots {
            held.retain(|h| keep.keeps(ring.next - h.number, now.saturating_sub(h.at)));
            out.push((key, encode_slot(&held)));
        }
        out.push(ring.entry());
        out
    }
}

/// The device and scan id of a schema-5 receipt's key.
pub(super) fn read_v5_key(k: &[u8]) -> Option<(String, String)> {
    let mut r = KeyReader::new(k);
    Some((r.str()?, r.str()?))
}

/// The time and receipt key of a schema-5 order entry.
pub(super) fn read_v5_order_key(k: &[u8]) -> Option<(u64, Vec<u8>)> {
    let mut r = KeyReader::new(k);
    let ns = r.u64()?;
    let device = r.str()?;
    let scan_id = r.str()?;
    Some((
        ns,
        Key::new(prefix::SCAN_RECEIPT_V5)
            .str(&device)
            .str(&scan_id)
            .into_vec(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn receipt(device: &str, scan_id: &str) -> ScanReceipt {
        ScanReceipt {
            device: device.into(),
            scan_id: scan_id.into(),
            body: [7; 32],
            extra: Vec::new(),
        }
    }

    fn accepted(seq: u64) -> Outcome {
        Outcome::Accepted(MovementId {
            origin: "north".into(),
            seq,
        })
    }

    /// Writes one batch of `ids` (device "hh") written at `at` into
    /// `store`, as the committer would.
    fn batch(store: &mut HashMap<Vec<u8>, Vec<u8>>, ids: &[&str], at: DateTime<Utc>, keep: Keep) {
        let mut a = Appender::default();
        for (i, id) in ids.iter().enumerate() {
            a.add(receipt("hh", id), accepted(i as u64), at, |k| {
                Ok::<_, ()>(store.get(k).cloned())
            })
            .unwrap();
        }
        store.extend(a.into_entries(keep, at));
    }

    fn held(store: &HashMap<Vec<u8>, Vec<u8>>, id: &str) -> bool {
        let ring = Ring::read(store.get(&ring_key()).map(|v| &v[..])).unwrap();
        store
            .get(&ring.slot_key("hh", id))
            .and_then(|slot| find(slot, "hh", id))
            .is_some()
    }

    #[test]
    fn a_slot_rewritten_keeps_the_newest_and_the_young_up_to_the_most() {
        // One slot: every receipt shares it, so every batch prunes them all.
        let mut store = HashMap::new();
        store.insert(ring_key(), Ring::new(1).entry().1);
        let now = Utc::now();
        let keep = Keep {
            newest: 2,
            days: 7,
            most: 4,
        };
        let week_ago = now - chrono::Duration::days(8);
        batch(&mut store, &["a", "b", "c"], week_ago, keep);
        assert!(["a", "b", "c"].iter().all(|id| held(&store, id)));
        // Three young ones: a and b, older than a week and not among the
        // newest two, go; c is older than a week too, but the young ones
        // and c make four, the most... c is not among the newest two.
        batch(&mut store, &["d", "e", "f"], now, keep);
        let kept: Vec<bool> = ["a", "b", "c", "d", "e", "f"]
            .iter()
            .map(|id| held(&store, id))
            .collect();
        assert_eq!(kept, [false, false, false, true, true, true]);
        // Two more young ones: six young would pass the most, so the
        // oldest young one goes.
        batch(&mut store, &["g", "h"], now, keep);
        let kept: Vec<bool> = ["d", "e", "f", "g", "h"]
            .iter()
            .map(|id| held(&store, id))
            .collect();
        assert_eq!(kept, [false, true, true, true, true]);
        // A week on, only the newest two are kept.
        batch(&mut store, &["i"], now + chrono::Duration::days(8), keep);
        let kept: Vec<bool> = ["e", "f", "g", "h", "i"]
            .iter()
            .map(|id| held(&store, id))
            .collect();
        assert_eq!(kept, [false, false, false, true, true]);
    }

    #[test]
    fn the_same_scan_id_keeps_one_receipt_and_the_numbers_go_on_across_batches() {
        let mut store = HashMap::new();
        let now = Utc::now();
        batch(&mut store, &["a", "b"], now, Keep::default());
        batch(&mut store, &["a"], now, Keep::default());
        let ring = Ring::read(store.get(&ring_key()).map(|v| &v[..])).unwrap();
        assert_eq!((ring.next, ring.slots), (4, SLOTS));
        let slot = decode_slot(&store[&ring.slot_key("hh", "a")]).unwrap();
        let a: Vec<u64> = slot
            .iter()
            .filter(|h| h.scan_id == "a")
            .map(|h| h.number)
            .collect();
        assert_eq!(a, [3]);
        assert!(held(&store, "b"));
        // Another device's same id is its own receipt.
        assert!(store
            .get(&ring.slot_key("hh-2", "a"))
            .and_then(|s| find(s, "hh-2", "a"))
            .is_none());
    }

    #[test]
    fn slots_spread_and_depend_on_the_salt() {
        let (one, two) = (Ring::new(SLOTS), Ring::new(SLOTS));
        let keys: std::collections::HashSet<Vec<u8>> = (0..1000)
            .map(|i| one.slot_key("hh", &format!("s{i}")))
            .collect();
        assert!(keys.len() > 990, "{} slots for 1000 ids", keys.len());
        let same = (0..100)
            .filter(|i| {
                one.slot_key("hh", &format!("s{i}")) == two.slot_key("hh", &format!("s{i}"))
            })
            .count();
        assert!(
            same < 5,
            "{same} of 100 ids in the same slot under two salts"
        );
    }

    #[test]
    fn a_damaged_ring_entry_starts_a_new_ring() {
        assert_eq!(Ring::read(Some(&[1, 2, 3])), None);
        let ring = Ring::new(8);
        assert_eq!(Ring::read(Some(&ring.entry().1)), Some(ring));
    }

    #[test]
    fn the_receipts_kept_grow_with_the_memory_bound_and_never_below_the_newest() {
        assert_eq!(Keep::within(512).most, 1_048_576);
        assert_eq!(Keep::within(1024).most, 2 * 1_048_576);
        assert_eq!(Keep::within(1).most, KEEP_NEWEST);
        assert_eq!(Keep::within(u64::MAX).most, u64::MAX);
    }
}
