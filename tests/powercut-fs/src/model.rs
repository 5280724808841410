//! The disk as the power sees it: for every file and directory, what reads
//! see now ("live") and what would survive a cut ("durable"), with the
//! rules that move one into the other. Pure (no FUSE, no I/O), so the
//! rules are tested here directly; `fs.rs` only translates requests.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// An inode number; the root directory is 1.
pub type Ino = u64;

/// The root directory's inode number (FUSE's).
pub const ROOT: Ino = 1;

/// The size of a page: after a cut that keeps a random part of the
/// unsynced writes, each page of a write is kept or lost on its own.
const PAGE: u64 = 4096;

/// An errno for the caller (`libc::ENOENT`...).
pub type Errno = i32;

/// What a cut loses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loss {
    /// Everything not synced: every unsynced write, truncation, create,
    /// rename, link and unlink (LazyFS's "clear cache").
    AllUnsynced,
    /// A random part of it, drawn from the seed, as a disk that had written
    /// some of its cache back before the power went: each page of each
    /// unsynced write (and each truncation) is kept or lost on its own, in
    /// write order; of the unsynced namespace changes a prefix is kept,
    /// each change whole (a journaling filesystem's order).
    Random(u64),
}

/// A regular file or a directory (nothing else is supported).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
}

/// The attributes `stat` shows.
#[derive(Debug, Clone, Copy)]
pub struct Attr {
    pub ino: Ino,
    pub kind: Kind,
    pub size: u64,
    pub perm: u16,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub atime: SystemTime,
    pub mtime: SystemTime,
    pub ctime: SystemTime,
}

#[derive(Debug, Clone)]
enum Change {
    Write { offset: u64, data: Vec<u8> },
    SetLen(u64),
}

impl Change {
    fn apply(&self, bytes: &mut Vec<u8>) {
        match self {
            Change::Write { offset, data } => {
                let start = *offset as usize;
                let end = start + data.len();
                if bytes.len() < end {
                    bytes.resize(end, 0);
                }
                bytes[start..end].copy_from_slice(data);
            }
            Change::SetLen(len) => bytes.resize(*len as usize, 0),
        }
    }
}

#[derive(Debug, Default)]
struct FileData {
    live: Vec<u8>,
    durable: Vec<u8>,
    /// The changes from `durable` to `live`, in order.
    pending: Vec<Change>,
}

#[derive(Debug, Default)]
struct DirData {
    live: BTreeMap<OsString, Ino>,
    durable: BTreeMap<OsString, Ino>,
    /// The live parent (for `..`).
    parent: Ino,
}

#[derive(Debug)]
enum Body {
    File(FileData),
    Dir(DirData),
}

#[derive(Debug)]
struct Node {
    body: Body,
    perm: u16,
    uid: u32,
    gid: u32,
    /// Live links (files only; a directory's count is computed).
    nlink: u32,
    atime: SystemTime,
    mtime: SystemTime,
    ctime: SystemTime,
}

/// One namespace operation (create, unlink, rename, link, mkdir, rmdir):
/// the directory slots it set, all kept or all lost by a random cut.
#[derive(Debug)]
struct NsOp {
    slots: Vec<(Ino, OsString, Option<Ino>)>,
}

/// What the last reboot threw away.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Discarded {
    /// Unsynced writes and truncations lost (each page of a write counts
    /// on its own).
    pub changes: u64,
    /// The bytes of the writes lost.
    pub bytes: u64,
    /// Unsynced namespace operations lost.
    pub namespace_ops: u64,
    /// Files and directories that had a name before the cut and have none
    /// after it.
    pub inodes: u64,
}

/// The whole disk.
#[derive(Debug)]
pub struct Model {
    nodes: HashMap<Ino, Node>,
    next_ino: Ino,
    /// Namespace operations not yet made durable, in order.
    ns_pending: Vec<NsOp>,
    /// Timestamps are truncated to this (a filesystem's clock tick).
    granularity: Duration,
}

/// xorshift64: a seeded stream for `Loss::Random`, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn coin(&mut self) -> bool {
        self.next() & 1 == 1
    }
}

impl Model {
    /// An empty disk: a durable root directory owned by `uid`/`gid`.
    pub fn new(granularity: Duration, uid: u32, gid: u32) -> Model {
        let mut m = Model {
            nodes: HashMap::new(),
            next_ino: ROOT + 1,
            ns_pending: Vec::new(),
            granularity,
        };
        let now = m.now();
        m.nodes.insert(
            ROOT,
            Node {
                body: Body::Dir(DirData {
                    parent: ROOT,
                    ..DirData::default()
                }),
                perm: 0o755,
                uid,
                gid,
                nlink: 0,
                atime: now,
                mtime: now,
                ctime: now,
            },
        );
        m
    }

    /// The current time at this disk's granularity: two changes within one
    /// tick get the same mtime, as on ext4 (whose clock is the kernel's
    /// coarse one).
    fn now(&self) -> SystemTime {
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let g = self.granularity.as_nanos().max(1);
        let ticks = t.as_nanos() / g;
        UNIX_EPOCH + Duration::from_nanos((ticks * g) as u64)
    }

    fn node(&self, ino: Ino) -> Result<&Node, Errno> {
        self.nodes.get(&ino).ok_or(libc::ENOENT)
    }

    fn node_mut(&mut self, ino: Ino) -> Result<&mut Node, Errno> {
        self.nodes.get_mut(&ino).ok_or(libc::ENOENT)
    }

    fn dir(&self, ino: Ino) -> Result<&DirData, Errno> {
        match &self.node(ino)?.body {
            Body::Dir(d) => Ok(d),
            Body::File(_) => Err(libc::ENOTDIR),
        }
    }

    fn dir_mut(&mut self, ino: Ino) -> Result<&mut DirData, Errno> {
        match &mut self.node_mut(ino)?.body {
            Body::Dir(d) => Ok(d),
            Body::File(_) => Err(libc::ENOTDIR),
        }
    }

    fn file_mut(&mut self, ino: Ino) -> Result<&mut FileData, Errno> {
        match &mut self.node_mut(ino)?.body {
            Body::File(f) => Ok(f),
            Body::Dir(_) => Err(libc::EISDIR),
        }
    }

    fn kind(&self, ino: Ino) -> Result<Kind, Errno> {
        Ok(match self.node(ino)?.body {
            Body::File(_) => Kind::File,
            Body::Dir(_) => Kind::Dir,
        })
    }

    /// The entry `name` of directory `parent`.
    pub fn lookup(&self, parent: Ino, name: &OsStr) -> Result<Ino, Errno> {
        let d = self.dir(parent)?;
        if name == "." {
            return Ok(parent);
        }
        if name == ".." {
            return Ok(d.parent);
        }
        d.live.get(name).copied().ok_or(libc::ENOENT)
    }

    pub fn attr(&self, ino: Ino) -> Result<Attr, Errno> {
        let n = self.node(ino)?;
        let (size, nlink) = match &n.body {
            Body::File(f) => (f.live.len() as u64, n.nlink),
            Body::Dir(d) => {
                let subdirs = d
                    .live
                    .values()
                    .filter(|i| self.kind(**i) == Ok(Kind::Dir))
                    .count();
                (4096, 2 + subdirs as u32)
            }
        };
        Ok(Attr {
            ino,
            kind: self.kind(ino)?,
            size,
            perm: n.perm,
            nlink,
            uid: n.uid,
            gid: n.gid,
            atime: n.atime,
            mtime: n.mtime,
            ctime: n.ctime,
        })
    }

    /// Sets a directory slot live and records it as pending. Keeps the
    /// link counts, the parents and the directories' times right.
    fn set_slots(&mut self, slots: Vec<(Ino, OsString, Option<Ino>)>) {
        let now = self.now();
        for (dir, name, target) in &slots {
            let Ok(d) = self.dir_mut(*dir) else { continue };
            let old = match target {
                Some(t) => d.live.insert(name.clone(), *t),
                None => d.live.remove(name),
            };
            if let Some(n) = self.nodes.get_mut(dir) {
                n.mtime = now;
                n.ctime = now;
            }
            if let Some(old) = old {
                if let Some(n) = self.nodes.get_mut(&old) {
                    n.nlink = n.nlink.saturating_sub(1);
                    n.ctime = now;
                }
            }
            if let Some(t) = target {
                let dir = *dir;
                if let Some(n) = self.nodes.get_mut(t) {
                    n.nlink += 1;
                    n.ctime = now;
                    if let Body::Dir(d) = &mut n.body {
                        d.parent = dir;
                    }
                }
            }
        }
        self.ns_pending.push(NsOp { slots });
    }

    /// Creates a file or directory `name` in `parent` (not durable until
    /// `parent` is synced).
    pub fn create(
        &mut self,
        parent: Ino,
        name: &OsStr,
        kind: Kind,
        perm: u16,
        uid: u32,
        gid: u32,
    ) -> Result<Ino, Errno> {
        if self.dir(parent)?.live.contains_key(name) {
            return Err(libc::EEXIST);
        }
        let ino = self.next_ino;
        self.next_ino += 1;
        let now = self.now();
        let body = match kind {
            Kind::File => Body::File(FileData::default()),
            Kind::Dir => Body::Dir(DirData {
                parent,
                ..DirData::default()
            }),
        };
        self.nodes.insert(
            ino,
            Node {
                body,
                perm,
                uid,
                gid,
                nlink: 0,
                atime: now,
                mtime: now,
                ctime: now,
            },
        );
        self.set_slots(vec![(parent, name.to_owned(), Some(ino))]);
        Ok(ino)
    }

    /// `unlink` (`dir` false) or `rmdir` (`dir` true).
    pub fn remove(&mut self, parent: Ino, name: &OsStr, dir: bool) -> Result<(), Errno> {
        let ino = self.lookup(parent, name)?;
        match (self.kind(ino)?, dir) {
            (Kind::Dir, false) => return Err(libc::EISDIR),
            (Kind::File, true) => return Err(libc::ENOTDIR),
            (Kind::Dir, true) if !self.dir(ino)?.live.is_empty() => return Err(libc::ENOTEMPTY),
            _ => {}
        }
        self.set_slots(vec![(parent, name.to_owned(), None)]);
        Ok(())
    }

    /// `rename(2)`; with `noreplace`, an existing target is an error.
    pub fn rename(
        &mut self,
        parent: Ino,
        name: &OsStr,
        new_parent: Ino,
        new_name: &OsStr,
        noreplace: bool,
    ) -> Result<(), Errno> {
        let ino = self.lookup(parent, name)?;
        self.dir(new_parent)?;
        if let Ok(existing) = self.lookup(new_parent, new_name) {
            if existing == ino {
                return Ok(());
            }
            if noreplace {
                return Err(libc::EEXIST);
            }
            match (self.kind(ino)?, self.kind(existing)?) {
                (Kind::File, Kind::Dir) => return Err(libc::EISDIR),
                (Kind::Dir, Kind::File) => return Err(libc::ENOTDIR),
                (Kind::Dir, Kind::Dir) if !self.dir(existing)?.live.is_empty() => {
                    return Err(libc::ENOTEMPTY)
                }
                _ => {}
            }
        }
        if self.kind(ino)? == Kind::Dir {
            // A directory may not move below itself.
            let mut at = new_parent;
            loop {
                if at == ino {
                    return Err(libc::EINVAL);
                }
                if at == ROOT {
                    break;
                }
                at = self.dir(at)?.parent;
            }
        }
        self.set_slots(vec![
            (parent, name.to_owned(), None),
            (new_parent, new_name.to_owned(), Some(ino)),
        ]);
        Ok(())
    }

    /// A hard link to file `ino`.
    pub fn link(&mut self, ino: Ino, new_parent: Ino, new_name: &OsStr) -> Result<(), Errno> {
        if self.kind(ino)? == Kind::Dir {
            return Err(libc::EPERM);
        }
        if self.dir(new_parent)?.live.contains_key(new_name) {
            return Err(libc::EEXIST);
        }
        self.set_slots(vec![(new_parent, new_name.to_owned(), Some(ino))]);
        Ok(())
    }

    /// The live directory listing (without `.` and `..`).
    pub fn list(&self, dir: Ino) -> Result<Vec<(OsString, Ino, Kind)>, Errno> {
        let d = self.dir(dir)?;
        Ok(d.live
            .iter()
            .map(|(name, ino)| (name.clone(), *ino, self.kind(*ino).unwrap_or(Kind::File)))
            .collect())
    }

    /// The live parent of a directory.
    pub fn parent(&self, dir: Ino) -> Result<Ino, Errno> {
        Ok(self.dir(dir)?.parent)
    }

    pub fn read(&self, ino: Ino, offset: u64, size: usize) -> Result<&[u8], Errno> {
        match &self.node(ino)?.body {
            Body::File(f) => {
                let start = (offset as usize).min(f.live.len());
                let end = start.saturating_add(size).min(f.live.len());
                Ok(&f.live[start..end])
            }
            Body::Dir(_) => Err(libc::EISDIR),
        }
    }

    /// A write; durable at once when `sync` (a file opened `O_SYNC` or
    /// `O_DSYNC`), else at the file's next sync.
    pub fn write(&mut self, ino: Ino, offset: u64, data: &[u8], sync: bool) -> Result<(), Errno> {
        self.change(
            ino,
            Change::Write {
                offset,
                data: data.to_vec(),
            },
            sync,
        )
    }

    /// `truncate`/`ftruncate`, or `O_TRUNC`.
    pub fn set_len(&mut self, ino: Ino, len: u64, sync: bool) -> Result<(), Errno> {
        self.change(ino, Change::SetLen(len), sync)
    }

    fn change(&mut self, ino: Ino, change: Change, sync: bool) -> Result<(), Errno> {
        let now = self.now();
        let f = self.file_mut(ino)?;
        change.apply(&mut f.live);
        if sync {
            // Everything before it reaches the disk first (the kernel
            // writes the file's dirty pages in one go on O_SYNC too).
            for c in f.pending.drain(..) {
                c.apply(&mut f.durable);
            }
            change.apply(&mut f.durable);
        } else {
            // A write over exactly the last unsynced write replaces it:
            // sled's watermark rewrites one record in place after every
            // batch and never syncs it, so the list would grow forever.
            let replaces = match (f.pending.last(), &change) {
                (
                    Some(Change::Write {
                        offset: a,
                        data: old,
                    }),
                    Change::Write {
                        offset: b,
                        data: new,
                    },
                ) => a == b && old.len() <= new.len(),
                _ => false,
            };
            if replaces {
                f.pending.pop();
            }
            f.pending.push(change);
        }
        let n = self.node_mut(ino)?;
        n.mtime = now;
        n.ctime = now;
        Ok(())
    }

    /// `fsync`/`fdatasync` of a file: its data and size become durable
    /// (not its name: that is its directory's).
    pub fn sync_file(&mut self, ino: Ino) -> Result<(), Errno> {
        match &mut self.node_mut(ino)?.body {
            Body::File(f) => {
                for c in f.pending.drain(..) {
                    c.apply(&mut f.durable);
                }
                Ok(())
            }
            Body::Dir(_) => self.sync_dir(ino),
        }
    }

    /// `fsync` of a directory: its entries become durable as they are now
    /// (the files they name keep their own unsynced data).
    pub fn sync_dir(&mut self, ino: Ino) -> Result<(), Errno> {
        let d = self.dir_mut(ino)?;
        d.durable = d.live.clone();
        for op in &mut self.ns_pending {
            op.slots.retain(|(dir, _, _)| *dir != ino);
        }
        self.ns_pending.retain(|op| !op.slots.is_empty());
        Ok(())
    }

    /// `chmod`, `chown`, `utimes`: kept as they are (not modelled).
    pub fn set_meta(
        &mut self,
        ino: Ino,
        perm: Option<u16>,
        uid: Option<u32>,
        gid: Option<u32>,
        atime: Option<SystemTime>,
        mtime: Option<SystemTime>,
    ) -> Result<(), Errno> {
        let now = self.now();
        let n = self.node_mut(ino)?;
        if let Some(p) = perm {
            n.perm = p;
        }
        if let Some(u) = uid {
            n.uid = u;
        }
        if let Some(g) = gid {
            n.gid = g;
        }
        if let Some(t) = atime {
            n.atime = t;
        }
        if let Some(t) = mtime {
            n.mtime = t;
        }
        n.ctime = now;
        Ok(())
    }

    /// Unsynced writes and namespace operations now (for the counters).
    pub fn pending(&self) -> (u64, u64) {
        let changes = self
            .nodes
            .values()
            .map(|n| match &n.body {
                Body::File(f) => f.pending.len() as u64,
                Body::Dir(_) => 0,
            })
            .sum();
        (changes, self.ns_pending.len() as u64)
    }

    /// The power comes back after a cut: what survives is the durable
    /// state (plus, with `Loss::Random`, part of the rest); everything
    /// live is reset to it and what is no longer reachable is gone.
    pub fn reboot(&mut self, loss: Loss) -> Discarded {
        let mut out = Discarded::default();
        let named_before = self.reachable();
        let mut rng = match loss {
            Loss::AllUnsynced => None,
            Loss::Random(seed) => Some(Rng(seed | 1)),
        };
        // Namespace: a prefix of the unsynced operations, each whole.
        let ops = std::mem::take(&mut self.ns_pending);
        let kept = match &mut rng {
            Some(r) => (r.next() % (ops.len() as u64 + 1)) as usize,
            None => 0,
        };
        out.namespace_ops = (ops.len() - kept) as u64;
        for op in ops.into_iter().take(kept) {
            for (dir, name, target) in op.slots {
                if let Ok(d) = self.dir_mut(dir) {
                    match target {
                        Some(t) => d.durable.insert(name, t),
                        None => d.durable.remove(&name),
                    };
                }
            }
        }
        // Data: each page of each unsynced change on its own.
        let mut inos: Vec<Ino> = self.nodes.keys().copied().collect();
        inos.sort_unstable();
        for ino in &inos {
            let Some(Node {
                body: Body::File(f),
                ..
            }) = self.nodes.get_mut(ino)
            else {
                continue;
            };
            for change in f.pending.drain(..) {
                let pieces = match change {
                    Change::Write { offset, data } => split_pages(offset, data),
                    c @ Change::SetLen(_) => vec![c],
                };
                for piece in pieces {
                    if rng.as_mut().is_some_and(Rng::coin) {
                        piece.apply(&mut f.durable);
                    } else {
                        out.changes += 1;
                        if let Change::Write { data, .. } = &piece {
                            out.bytes += data.len() as u64;
                        }
                    }
                }
            }
            f.live = f.durable.clone();
        }
        for n in self.nodes.values_mut() {
            if let Body::Dir(d) = &mut n.body {
                d.live = d.durable.clone();
            }
            n.nlink = 0;
        }
        // What the durable tree (now live) reaches from the root survives.
        let reached = self.reachable();
        let mut links: Vec<(Ino, Ino)> = Vec::new();
        for dir in &reached {
            if let Ok(d) = self.dir(*dir) {
                links.extend(d.live.values().map(|ino| (*dir, *ino)));
            }
        }
        for (dir, ino) in links {
            if let Some(n) = self.nodes.get_mut(&ino) {
                n.nlink += 1;
                if let Body::Dir(d) = &mut n.body {
                    d.parent = dir;
                }
            }
        }
        out.inodes = named_before.difference(&reached).count() as u64;
        self.nodes.retain(|ino, _| reached.contains(ino));
        out
    }

    /// The inodes the live tree reaches from the root.
    fn reachable(&self) -> HashSet<Ino> {
        let mut reached = HashSet::from([ROOT]);
        let mut stack = vec![ROOT];
        while let Some(dir) = stack.pop() {
            let Ok(d) = self.dir(dir) else { continue };
            for ino in d.live.values() {
                if reached.insert(*ino) && self.kind(*ino) == Ok(Kind::Dir) {
                    stack.push(*ino);
                }
            }
        }
        reached
    }
}

/// A write cut at page boundaries, as the disk writes it back.
fn split_pages(offset: u64, data: Vec<u8>) -> Vec<Change> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < data.len() {
        let abs = offset + at as u64;
        let room = (PAGE - abs % PAGE) as usize;
        let end = (at + room).min(data.len());
        out.push(Change::Write {
            offset: abs,
            data: data[at..end].to_vec(),
        });
        at = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disk() -> Model {
        Model::new(Duration::from_nanos(1), 0, 0)
    }

    fn file(m: &mut Model, dir: Ino, name: &str) -> Ino {
        m.create(dir, OsStr::new(name), Kind::File, 0o644, 0, 0)
            .unwrap()
    }

    fn content(m: &Model, ino: Ino) -> Vec<u8> {
        m.read(ino, 0, usize::MAX).unwrap().to_vec()
    }

    #[test]
    fn unsynced_data_is_lost_and_synced_data_kept() {
        let mut m = disk();
        let f = file(&mut m, ROOT, "a");
        m.sync_dir(ROOT).unwrap();
        m.write(f, 0, b"durable", false).unwrap();
        m.sync_file(f).unwrap();
        m.write(f, 7, b" and not", false).unwrap();
        m.set_len(f, 3, false).unwrap();
        assert_eq!(content(&m, f), b"dur");
        let lost = m.reboot(Loss::AllUnsynced);
        assert_eq!(content(&m, f), b"durable");
        assert_eq!((lost.changes, lost.bytes), (2, 8));
    }

    #[test]
    fn a_synced_file_without_its_directory_synced_is_gone() {
        let mut m = disk();
        let f = file(&mut m, ROOT, "new");
        m.write(f, 0, b"data", false).unwrap();
        m.sync_file(f).unwrap();
        let lost = m.reboot(Loss::AllUnsynced);
        assert_eq!(m.lookup(ROOT, OsStr::new("new")), Err(libc::ENOENT));
        assert_eq!((lost.namespace_ops, lost.inodes), (1, 1));
    }

    #[test]
    fn a_directory_sync_keeps_names_not_their_data() {
        let mut m = disk();
        let f = file(&mut m, ROOT, "new");
        m.write(f, 0, b"data", false).unwrap();
        m.sync_dir(ROOT).unwrap();
        m.reboot(Loss::AllUnsynced);
        let f = m.lookup(ROOT, OsStr::new("new")).unwrap();
        assert_eq!(content(&m, f), b"");
    }

    #[test]
    fn a_rename_without_a_directory_sync_is_undone() {
        let mut m = disk();
        let a = file(&mut m, ROOT, "a.tmp");
        m.write(a, 0, b"new", false).unwrap();
        m.sync_file(a).unwrap();
        m.sync_dir(ROOT).unwrap();
        m.rename(ROOT, OsStr::new("a.tmp"), ROOT, OsStr::new("a"), false)
            .unwrap();
        m.reboot(Loss::AllUnsynced);
        assert_eq!(m.lookup(ROOT, OsStr::new("a")), Err(libc::ENOENT));
        assert_eq!(m.lookup(ROOT, OsStr::new("a.tmp")), Ok(a));
        // Synced, it stays.
        m.rename(ROOT, OsStr::new("a.tmp"), ROOT, OsStr::new("a"), false)
            .unwrap();
        m.sync_dir(ROOT).unwrap();
        m.reboot(Loss::AllUnsynced);
        assert_eq!(m.lookup(ROOT, OsStr::new("a")), Ok(a));
        assert_eq!(content(&m, a), b"new");
    }

    #[test]
    fn a_new_directory_needs_its_parent_synced_and_itself() {
        let mut m = disk();
        let d = m
            .create(ROOT, OsStr::new("d"), Kind::Dir, 0o755, 0, 0)
            .unwrap();
        let f = file(&mut m, d, "f");
        m.sync_dir(d).unwrap();
        m.sync_file(f).unwrap();
        m.reboot(Loss::AllUnsynced);
        assert_eq!(m.lookup(ROOT, OsStr::new("d")), Err(libc::ENOENT));
        let d = m
            .create(ROOT, OsStr::new("d"), Kind::Dir, 0o755, 0, 0)
            .unwrap();
        file(&mut m, d, "f");
        m.sync_dir(ROOT).unwrap();
        m.reboot(Loss::AllUnsynced);
        let d = m.lookup(ROOT, OsStr::new("d")).unwrap();
        assert_eq!(m.lookup(d, OsStr::new("f")), Err(libc::ENOENT));
    }

    #[test]
    fn a_cross_directory_rename_synced_on_one_side_shows_under_both_names() {
        let mut m = disk();
        let a = m
            .create(ROOT, OsStr::new("a"), Kind::Dir, 0o755, 0, 0)
            .unwrap();
        let b = m
            .create(ROOT, OsStr::new("b"), Kind::Dir, 0o755, 0, 0)
            .unwrap();
        let f = file(&mut m, a, "f");
        for d in [ROOT, a, b] {
            m.sync_dir(d).unwrap();
        }
        m.rename(a, OsStr::new("f"), b, OsStr::new("f"), false)
            .unwrap();
        m.sync_dir(b).unwrap();
        m.reboot(Loss::AllUnsynced);
        assert_eq!(m.lookup(a, OsStr::new("f")), Ok(f));
        assert_eq!(m.lookup(b, OsStr::new("f")), Ok(f));
        assert_eq!(m.attr(f).unwrap().nlink, 2);
    }

    #[test]
    fn sync_writes_are_durable_at_once() {
        let mut m = disk();
        let f = file(&mut m, ROOT, "a");
        m.sync_dir(ROOT).unwrap();
        m.write(f, 0, b"one", false).unwrap();
        m.write(f, 3, b"two", true).unwrap();
        m.reboot(Loss::AllUnsynced);
        assert_eq!(content(&m, f), b"onetwo");
    }

    #[test]
    fn a_random_cut_keeps_some_pages_and_a_prefix_of_names() {
        let mut kept_some = false;
        let mut lost_some = false;
        for seed in 1..40 {
            let mut m = disk();
            let f = file(&mut m, ROOT, "log");
            m.sync_dir(ROOT).unwrap();
            m.write(f, 0, &vec![7u8; 4 * PAGE as usize], false).unwrap();
            file(&mut m, ROOT, "x");
            file(&mut m, ROOT, "y");
            m.reboot(Loss::Random(seed));
            let bytes = content(&m, f);
            // Pages are whole: every kept page is all 7s.
            for page in bytes.chunks(PAGE as usize) {
                assert!(page.iter().all(|b| *b == 7) || page.iter().all(|b| *b == 0));
            }
            let kept_pages = bytes
                .chunks(PAGE as usize)
                .filter(|p| p.first() == Some(&7))
                .count();
            kept_some |= kept_pages > 0;
            lost_some |= kept_pages < 4;
            // y never without x: a prefix.
            let x = m.lookup(ROOT, OsStr::new("x")).is_ok();
            let y = m.lookup(ROOT, OsStr::new("y")).is_ok();
            assert!(x || !y, "seed {seed}: y kept without x");
        }
        assert!(kept_some && lost_some);
    }

    #[test]
    fn coarse_clock_gives_changes_within_a_tick_one_mtime() {
        let mut m = Model::new(Duration::from_secs(3600), 0, 0);
        let before = m.attr(ROOT).unwrap().mtime;
        file(&mut m, ROOT, "a");
        // Unless the hour turned just now, the directory's mtime did not move.
        let after = m.attr(ROOT).unwrap().mtime;
        assert!(
            after == before || after.duration_since(before).unwrap() >= Duration::from_secs(3600)
        );
    }
}
