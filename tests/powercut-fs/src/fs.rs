//! The FUSE side: each kernel request becomes a call on the model, under
//! the disk's one lock, after the power check (a cut disk answers `EIO` to
//! everything, so a process still running after the cut changes nothing
//! that survives it).

use std::ffi::OsStr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use fuser::{
    Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation, INodeNo, LockOwner,
    OpenFlags, RenameFlags, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty,
    ReplyEntry, ReplyOpen, ReplyStatfs, ReplyWrite, Request, TimeOrNow, WriteFlags,
};

use crate::model::{Attr, Ino, Kind};
use crate::{Event, Shared, State};

/// How long the kernel may cache names and attributes. Every change goes
/// through the kernel, which drops what it cached itself; a cut is always
/// followed by a new mount, so nothing stale outlives it.
const TTL: Duration = Duration::from_secs(1);

pub(crate) struct PowerCutFs {
    pub(crate) shared: Arc<Shared>,
}

fn attr(a: &Attr) -> FileAttr {
    FileAttr {
        ino: INodeNo(a.ino),
        size: a.size,
        blocks: a.size.div_ceil(512),
        atime: a.atime,
        mtime: a.mtime,
        ctime: a.ctime,
        crtime: a.ctime,
        kind: kind(a.kind),
        perm: a.perm,
        nlink: a.nlink,
        uid: a.uid,
        gid: a.gid,
        rdev: 0,
        blksize: 4096,
        flags: 0,
    }
}

fn kind(k: Kind) -> FileType {
    match k {
        Kind::File => FileType::RegularFile,
        Kind::Dir => FileType::Directory,
    }
}

fn errno(e: i32) -> Errno {
    Errno::from_i32(e)
}

/// Writes through a handle opened with one of these are durable at once.
fn is_sync(flags: i32) -> bool {
    flags & (libc::O_SYNC | libc::O_DSYNC) != 0
}

impl PowerCutFs {
    /// Runs `f` on the state if the power is on (`EIO` if it is cut);
    /// if it succeeds, counts `event`, which may cut the power right
    /// after it (the armed trigger).
    fn powered<T>(
        &self,
        event: Option<Event>,
        f: impl FnOnce(&mut State) -> Result<T, i32>,
    ) -> Result<T, Errno> {
        let mut state = self.shared.lock();
        if !state.powered {
            return Err(Errno::EIO);
        }
        let out = f(&mut state).map_err(errno)?;
        if let Some(event) = event {
            if state.count(event) {
                self.shared.cut_happened.notify_all();
                self.shared.hold_changed.notify_all();
            }
        }
        Ok(out)
    }

    fn entry(&self, reply: ReplyEntry, r: Result<Attr, Errno>) {
        match r {
            Ok(a) => reply.entry(&TTL, &attr(&a), Generation(0)),
            Err(e) => reply.error(e),
        }
    }

    fn empty(reply: ReplyEmpty, r: Result<(), Errno>) {
        match r {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }
}

impl Filesystem for PowerCutFs {
    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let r = self.powered(None, |s| {
            let ino = s.model.lookup(parent.0, name)?;
            s.model.attr(ino)
        });
        self.entry(reply, r);
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        match self.powered(None, |s| s.model.attr(ino.0)) {
            Ok(a) => reply.attr(&TTL, &attr(&a)),
            Err(e) => reply.error(e),
        }
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let time = |t: Option<TimeOrNow>| {
            t.map(|t| match t {
                TimeOrNow::SpecificTime(t) => t,
                TimeOrNow::Now => SystemTime::now(),
            })
        };
        let r = self.powered(None, |s| {
            if let Some(len) = size {
                let sync = fh.is_some_and(|fh| s.handle_is_sync(fh.0));
                s.model.set_len(ino.0, len, sync)?;
            }
            s.model.set_meta(
                ino.0,
                mode.map(|m| (m & 0o7777) as u16),
                uid,
                gid,
                time(atime),
                time(mtime),
            )?;
            s.model.attr(ino.0)
        });
        match r {
            Ok(a) => reply.attr(&TTL, &attr(&a)),
            Err(e) => reply.error(e),
        }
    }

    fn mkdir(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        reply: ReplyEntry,
    ) {
        let r = self.powered(Some(Event::Create), |s| {
            let perm = (mode & !umask & 0o7777) as u16;
            let ino = s
                .model
                .create(parent.0, name, Kind::Dir, perm, req.uid(), req.gid())?;
            s.model.attr(ino)
        });
        self.entry(reply, r);
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let r = self.powered(Some(Event::Unlink), |s| {
            s.model.remove(parent.0, name, false)
        });
        Self::empty(reply, r);
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let r = self.powered(Some(Event::Unlink), |s| {
            s.model.remove(parent.0, name, true)
        });
        Self::empty(reply, r);
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        let r = self.powered(Some(Event::Rename), |s| {
            if flags.intersects(RenameFlags::RENAME_EXCHANGE | RenameFlags::RENAME_WHITEOUT) {
                return Err(libc::EINVAL);
            }
            let noreplace = flags.contains(RenameFlags::RENAME_NOREPLACE);
            s.model
                .rename(parent.0, name, newparent.0, newname, noreplace)
        });
        Self::empty(reply, r);
    }

    fn link(
        &self,
        _req: &Request,
        ino: INodeNo,
        newparent: INodeNo,
        newname: &OsStr,
        reply: ReplyEntry,
    ) {
        let r = self.powered(Some(Event::Create), |s| {
            s.model.link(ino.0, newparent.0, newname)?;
            s.model.attr(ino.0)
        });
        self.entry(reply, r);
    }

    fn symlink(
        &self,
        _req: &Request,
        _parent: INodeNo,
        _link_name: &OsStr,
        _target: &Path,
        reply: ReplyEntry,
    ) {
        reply.error(Errno::EPERM);
    }

    fn open(&self, _req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        let r = self.powered(None, |s| {
            s.model.attr(ino.0)?;
            Ok(s.open_handle(is_sync(flags.0)))
        });
        match r {
            Ok(fh) => reply.opened(FileHandle(fh), FopenFlags::empty()),
            Err(e) => reply.error(e),
        }
    }

    fn create(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        flags: i32,
        reply: ReplyCreate,
    ) {
        let r = self.powered(Some(Event::Create), |s| {
            let perm = (mode & !umask & 0o7777) as u16;
            let ino = s
                .model
                .create(parent.0, name, Kind::File, perm, req.uid(), req.gid())?;
            Ok((s.model.attr(ino)?, s.open_handle(is_sync(flags))))
        });
        match r {
            Ok((a, fh)) => reply.created(
                &TTL,
                &attr(&a),
                Generation(0),
                FileHandle(fh),
                FopenFlags::empty(),
            ),
            Err(e) => reply.error(e),
        }
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        let state = self.shared.lock();
        if !state.powered {
            return reply.error(Errno::EIO);
        }
        match state.model.read(ino.0, offset, size as usize) {
            Ok(bytes) => reply.data(bytes),
            Err(e) => reply.error(errno(e)),
        }
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        let r = self.powered(Some(Event::Write), |s| {
            let sync = is_sync(flags.0) || s.handle_is_sync(fh.0);
            s.model.write(ino.0, offset, data, sync)?;
            s.counters.bytes_written += data.len() as u64;
            Ok(())
        });
        match r {
            Ok(()) => reply.written(data.len() as u32),
            Err(e) => reply.error(e),
        }
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        // close(2) makes nothing durable.
        Self::empty(reply, self.powered(None, |_| Ok(())));
    }

    fn release(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        self.shared.lock().handles.remove(&fh.0);
        reply.ok();
    }

    fn fsync(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        self.shared.wait_while_held();
        let r = self.powered(Some(Event::FileSync), |s| s.model.sync_file(ino.0));
        Self::empty(reply, r);
    }

    fn opendir(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        match self.powered(None, |s| s.model.list(ino.0).map(|_| ())) {
            Ok(()) => reply.opened(FileHandle(0), FopenFlags::empty()),
            Err(e) => reply.error(e),
        }
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let listing = self.powered(None, |s| {
            let mut all = vec![
                (".".into(), ino.0, Kind::Dir),
                ("..".into(), s.model.parent(ino.0)?, Kind::Dir),
            ];
            all.extend(s.model.list(ino.0)?);
            Ok(all)
        });
        match listing {
            Ok(all) => {
                for (i, (name, child, k)) in all.iter().enumerate().skip(offset as usize) {
                    if reply.add(INodeNo(*child as Ino), (i + 1) as u64, kind(*k), name) {
                        break;
                    }
                }
                reply.ok();
            }
            Err(e) => reply.error(e),
        }
    }

    fn fsyncdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        // Answering ENOSYS here would make the kernel answer every later
        // directory fsync with success by itself: it must be implemented.
        let r = self.powered(Some(Event::DirSync), |s| s.model.sync_dir(ino.0));
        Self::empty(reply, r);
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        // Plenty of room: a full disk is tests/store_faults.rs's business.
        reply.statfs(1 << 24, 1 << 23, 1 << 23, 1 << 20, 1 << 19, 4096, 255, 4096);
    }
}
