//! Walks over trees of large values that keep sled's page cache within its
//! capacity.
//!
//! sled 0.34.7 counts a page against `cache_capacity` only when its
//! shard's queue of accesses fills: 256 shards, 64 accesses each. An
//! iterator reads each page once, so a walk pulls up to 16,384 pages from
//! disk before the first of them is counted and can be evicted. A journal
//! page holds up to 17 blocks of 32 movements (~150 KB), so a walk of the
//! journal held all of a million-movement journal in memory, and `verify`
//! of a 10-million store peaked at 985 MiB with a 64 MiB cache
//! (BENCHMARKS.md, "Walks that sled counts"). Reading each entry's key
//! again `TOUCHES` times fills its page's queue, so sled counts the page,
//! and evicts past the capacity, as the walk goes.
//!
//! It serves the walks of the journal and of the unit blocks, whose values
//! are kilobytes. Walks of the index postings are left as they are: one
//! more look-up per posting would cost more (1.4 postings a movement), and
//! their pages are small, though their pages in flight were still ~150 MB
//! of verify's peak at a million movements (heaptrack).

use std::ops::RangeBounds;

use sled::IVec;

/// Reads of an entry's key after the walk reads it: a page keeps at least
/// 4 entries (sled merges one with fewer), so 16 reads of each give its
/// page the 64 accesses that make sled count it.
const TOUCHES: usize = 16;

/// A sled iterator whose pages sled counts as it goes (the module comment).
pub(crate) struct Counted {
    tree: sled::Tree,
    iter: sled::Iter,
}

/// The entries of `tree` whose keys start with `prefix`, counted.
pub(crate) fn scan_prefix(tree: &sled::Tree, prefix: impl AsRef<[u8]>) -> Counted {
    Counted {
        tree: tree.clone(),
        iter: tree.scan_prefix(prefix),
    }
}

/// The entries of `tree` in `range`, counted.
pub(crate) fn range<K: AsRef<[u8]>, R: RangeBounds<K>>(tree: &sled::Tree, range: R) -> Counted {
    Counted {
        tree: tree.clone(),
        iter: tree.range(range),
    }
}

impl Iterator for Counted {
    type Item = sled::Result<(IVec, IVec)>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.iter.next()?;
        if let Ok((key, _)) = &item {
            for _ in 0..TOUCHES {
                if let Err(e) = self.tree.get(key) {
                    return Some(Err(e));
                }
            }
        }
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    /// The reads it adds change nothing of what the walk yields.
    #[test]
    fn a_counted_walk_yields_what_sled_iterator_does() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        let tree = db.open_tree("t").unwrap();
        for i in 0u32..2_000 {
            let prefix = if i % 3 == 0 { b'a' } else { b'b' };
            let mut key = vec![prefix];
            key.extend_from_slice(&i.to_be_bytes());
            tree.insert(key, vec![i as u8; 100 + (i as usize % 900)])
                .unwrap();
        }
        let plain: Vec<_> = tree.scan_prefix(b"b").map(Result::unwrap).collect();
        let counted: Vec<_> = super::scan_prefix(&tree, b"b")
            .map(Result::unwrap)
            .collect();
        assert_eq!(counted.len(), 1_333);
        assert_eq!(counted, plain);
        let from = [b'a', 0, 0, 1, 0];
        let to = [b'b', 0, 0, 2, 0];
        let plain: Vec<_> = tree.range(from..to).map(Result::unwrap).collect();
        let counted: Vec<_> = super::range(&tree, from..to).map(Result::unwrap).collect();
        assert!(!counted.is_empty());
        assert_eq!(counted, plain);
    }
}
