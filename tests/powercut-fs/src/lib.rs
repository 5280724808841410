//! A disk that loses power, for tests: a FUSE filesystem that keeps in
//! memory what a disk would have acknowledged but not yet written, and on
//! a "power cut" throws it away, in the spirit of LazyFS (the FUSE layer
//! that found lost-write bugs in PostgreSQL, etcd, Redis and others).
//!
//! Killing a process with SIGKILL keeps the kernel's page cache: a write
//! that was never fsynced survives, so a crash test cannot catch a missing
//! or misplaced fsync. On this filesystem it can.
//!
//! # What survives a cut
//!
//! Every file has a *durable* content and a list of *pending* changes
//! (writes, truncations) since; reads see both. Every directory has a
//! durable set of entries and a live one.
//!
//! - `fsync` or `fdatasync` of a file makes its pending changes durable:
//!   its data and size. Writes through a descriptor opened `O_SYNC` or
//!   `O_DSYNC` are durable at once. Nothing else is: not `close`, not
//!   `sync_file_range` (which FUSE never even sees: it only starts the
//!   kernel's writeback of pages this filesystem does not cache for
//!   writing; sled 0.34 flushes its log with it, sled issue #1452).
//! - A create, `mkdir`, `rename`, `link`, `unlink` or `rmdir` is durable
//!   once the directory holding the entry is fsynced, and only then.
//!   **An fsync of a new file does not make its name durable**: ext4
//!   happens to commit the name with the file's fsync in most cases, but
//!   POSIX does not promise it and other filesystems do not, so this disk
//!   is strict: the parent directory must be fsynced too. A rename across
//!   directories touches two; each side is durable with its own directory
//!   (synced on the target side only, the file shows under both names
//!   after the cut, as POSIX allows). A new directory needs its parent
//!   fsynced for its name, and itself for its entries.
//! - What a store such as sled therefore needs for a commit to survive:
//!   the log file fsynced after each write, and every directory in which a
//!   file was created, renamed or removed fsynced before the commit is
//!   acknowledged (including, for a new store, the directory that holds
//!   the store's own directory).
//! - Permissions, owners and times are not modelled: they stay as they
//!   were. Timestamps tick at [`Options::time_granularity`] (4 ms by
//!   default, like ext4's coarse clock), so two changes within one tick
//!   leave a directory's mtime unchanged.
//!
//! A cut ([`Disk::cut`], or an armed [`CutPoint`]: right after the Nth
//! fsync, rename or write) is instantaneous: from then on every request
//! fails with `EIO`, so a process still running changes nothing that
//! survives, and the processes registered with [`Disk::kill_at_cut`] are
//! sent SIGKILL at that instant (a machine without power does not go on
//! answering its clients). [`Mounted::reboot`] then unmounts, applies
//! the [`Loss`] (by default everything not durable; or a random part of
//! it, as a disk that had written some of its cache back) and mounts again:
//! the mount shows exactly what a disk would hold after the power comes
//! back, with no page cache from before.
//!
//! Out of scope: a disk that lies about flushing its cache (acknowledges a
//! cache flush it did not do), torn sectors within one 4 KiB page, bit rot,
//! and `mmap` writes (sled does not use them). Symlinks, special files and
//! extended attributes are refused.
//!
//! Mounting needs `/dev/fuse` and root (mount(2)) or `fusermount3` (Debian's
//! `fuse3`).

#![warn(missing_docs)]

mod fs;
mod model;

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub use model::{Discarded, Loss};

/// A file-system operation, as counted and as a cut point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    Write,
    FileSync,
    DirSync,
    Rename,
    Create,
    Unlink,
}

/// A moment to cut the power at, counted from when it is armed: right
/// after the Nth such operation has taken effect (a sync's data is
/// durable, and the caller is told it succeeded; the next request fails).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CutPoint {
    /// The Nth `fsync`/`fdatasync` of a file or a directory.
    Syncs(u64),
    /// The Nth `rename`.
    Renames(u64),
    /// The Nth `write`.
    Writes(u64),
}

impl CutPoint {
    fn matches(self, e: Event) -> bool {
        match self {
            CutPoint::Syncs(_) => matches!(e, Event::FileSync | Event::DirSync),
            CutPoint::Renames(_) => e == Event::Rename,
            CutPoint::Writes(_) => e == Event::Write,
        }
    }

    fn count(self) -> u64 {
        match self {
            CutPoint::Syncs(n) | CutPoint::Renames(n) | CutPoint::Writes(n) => n,
        }
    }
}

/// Operations since the disk was made (across cuts and mounts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// `write` requests.
    pub writes: u64,
    /// Their bytes.
    pub bytes_written: u64,
    /// `fsync`/`fdatasync` of files.
    pub file_syncs: u64,
    /// `fsync` of directories.
    pub dir_syncs: u64,
    /// `rename`s.
    pub renames: u64,
    /// Files, directories and links created.
    pub creates: u64,
    /// `unlink`s and `rmdir`s.
    pub unlinks: u64,
    /// Power cuts.
    pub cuts: u64,
    /// What the last reboot threw away.
    pub last_discarded: Discarded,
}

/// How the disk behaves.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// The clock tick of timestamps (see the module doc).
    pub time_granularity: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            time_granularity: Duration::from_millis(4),
        }
    }
}

pub(crate) struct State {
    pub(crate) model: model::Model,
    pub(crate) powered: bool,
    pub(crate) counters: Counters,
    /// The armed cut point: which operations, and how many are left.
    trigger: Option<(CutPoint, u64)>,
    /// Open file handles: whether each writes synchronously.
    pub(crate) handles: HashMap<u64, bool>,
    next_fh: u64,
    /// Processes that lose power with the disk (see `Disk::kill_at_cut`).
    victims: Vec<u32>,
    /// While set, a file's fsync waits before it takes effect (see
    /// `Disk::hold_file_syncs`).
    hold: bool,
    /// File fsyncs waiting on the hold now.
    pub(crate) held: u64,
}

impl State {
    /// Counts `e`; true if that cut the power (the armed point reached).
    pub(crate) fn count(&mut self, e: Event) -> bool {
        let c = &mut self.counters;
        match e {
            Event::Write => c.writes += 1,
            Event::FileSync => c.file_syncs += 1,
            Event::DirSync => c.dir_syncs += 1,
            Event::Rename => c.renames += 1,
            Event::Create => c.creates += 1,
            Event::Unlink => c.unlinks += 1,
        }
        let Some((point, left)) = &mut self.trigger else {
            return false;
        };
        if !point.matches(e) {
            return false;
        }
        *left -= 1;
        if *left > 0 {
            return false;
        }
        self.trigger = None;
        self.power_off();
        true
    }

    fn power_off(&mut self) {
        if self.powered {
            self.powered = false;
            self.counters.cuts += 1;
            for pid in self.victims.drain(..) {
                // SAFETY: kill(2) touches no memory. A pid that already
                // exited was reaped by its parent only after it was
                // forgotten here (`Disk::forget`), so it is not reused.
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            }
        }
    }

    pub(crate) fn open_handle(&mut self, sync: bool) -> u64 {
        self.next_fh += 1;
        self.handles.insert(self.next_fh, sync);
        self.next_fh
    }

    pub(crate) fn handle_is_sync(&self, fh: u64) -> bool {
        self.handles.get(&fh).copied().unwrap_or(false)
    }
}

pub(crate) struct Shared {
    state: Mutex<State>,
    pub(crate) cut_happened: Condvar,
    /// Signalled when a file fsync starts or stops waiting on the hold,
    /// and when the hold is lifted or the power cut.
    pub(crate) hold_changed: Condvar,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic in one request must not take the whole disk with it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Called by a file fsync before it takes effect: waits while the
    /// hold is on and the power is still on.
    pub(crate) fn wait_while_held(&self) {
        let mut state = self.lock();
        if !(state.hold && state.powered) {
            return;
        }
        state.held += 1;
        self.hold_changed.notify_all();
        while state.hold && state.powered {
            state = self
                .hold_changed
                .wait(state)
                .unwrap_or_else(|p| p.into_inner());
        }
        state.held -= 1;
        self.hold_changed.notify_all();
    }
}

/// The disk: its contents outlive every mount of it. Clones are handles
/// on the same disk (the control side: cut, counters).
#[derive(Clone)]
pub struct Disk {
    shared: Arc<Shared>,
}

impl Default for Disk {
    fn default() -> Disk {
        Disk::new(Options::default())
    }
}

impl Disk {
    /// An empty disk (a root directory owned by this process's user).
    pub fn new(options: Options) -> Disk {
        // SAFETY: geteuid and getegid cannot fail and touch no memory.
        let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
        Disk {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    model: model::Model::new(options.time_granularity, uid, gid),
                    powered: true,
                    counters: Counters::default(),
                    trigger: None,
                    handles: HashMap::new(),
                    next_fh: 0,
                    victims: Vec::new(),
                    hold: false,
                    held: 0,
                }),
                cut_happened: Condvar::new(),
                hold_changed: Condvar::new(),
            }),
        }
    }

    /// Mounts the disk at `at` (an existing empty directory), served by
    /// threads of this process until the returned handle is dropped.
    pub fn mount(&self, at: &Path) -> io::Result<Mounted> {
        let fs = fs::PowerCutFs {
            shared: self.shared.clone(),
        };
        let mut config = fuser::Config::default();
        config.mount_options = vec![
            fuser::MountOption::FSName("powercut".into()),
            fuser::MountOption::Subtype("powercut".into()),
            fuser::MountOption::DefaultPermissions,
        ];
        config.n_threads = Some(2);
        let session = fuser::spawn_mount(fs, at, &config).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "cannot mount the power-cut filesystem at {} ({e}): it needs /dev/fuse, and root or fusermount3 (apt-get install fuse3)",
                    at.display()
                ),
            )
        })?;
        Ok(Mounted {
            disk: self.clone(),
            path: at.to_owned(),
            session: Some(session),
        })
    }

    /// Cuts the power now.
    pub fn cut(&self) {
        self.shared.lock().power_off();
        self.shared.cut_happened.notify_all();
        self.shared.hold_changed.notify_all();
    }

    /// Makes every file `fsync`/`fdatasync` from now on wait, before it
    /// takes effect, until [`Disk::release_file_syncs`] or a cut (after
    /// which it fails with `EIO`, as every request does): the moment
    /// between a write and its fsync, held open so that a test can look
    /// at what a process shows of data that is not durable yet. The
    /// waiting request occupies one of the mount's two FUSE threads.
    pub fn hold_file_syncs(&self) {
        self.shared.lock().hold = true;
    }

    /// Lets the held file fsyncs go on (and the later ones pass).
    pub fn release_file_syncs(&self) {
        self.shared.lock().hold = false;
        self.shared.hold_changed.notify_all();
    }

    /// Waits at most `timeout` until `n` file fsyncs wait on the hold;
    /// true if they do.
    pub fn wait_held_file_syncs(&self, n: u64, timeout: Duration) -> bool {
        self.wait_until(&self.shared.hold_changed, timeout, |s| s.held >= n)
    }

    /// Waits at most `timeout`, woken by `changed`, until `done` holds of
    /// the state; true if it does.
    fn wait_until(
        &self,
        changed: &Condvar,
        timeout: Duration,
        done: impl Fn(&State) -> bool,
    ) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        while !done(&state) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = changed
                .wait_timeout(state, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }

    /// Cuts the power right after the given operation (see [`CutPoint`]),
    /// replacing any point armed before. A count of 0 cuts now.
    pub fn cut_at(&self, point: CutPoint) {
        if point.count() == 0 {
            return self.cut();
        }
        self.shared.lock().trigger = Some((point, point.count()));
    }

    /// Makes process `pid` lose power with the disk: it is sent SIGKILL
    /// at the instant of the cut, from inside the request that cut it and
    /// before that request is answered, so it cannot act on anything after
    /// the cut (answer a client, send data elsewhere), as a machine whose
    /// power went would not. Call [`Disk::forget`] before reaping it.
    pub fn kill_at_cut(&self, pid: u32) {
        self.shared.lock().victims.push(pid);
    }

    /// Undoes [`Disk::kill_at_cut`] (the process is stopped otherwise).
    pub fn forget(&self, pid: u32) {
        self.shared.lock().victims.retain(|p| *p != pid);
    }

    /// Disarms the cut point, if it has not fired.
    pub fn disarm(&self) {
        self.shared.lock().trigger = None;
    }

    /// True once the power is cut (until the next reboot).
    pub fn is_cut(&self) -> bool {
        !self.shared.lock().powered
    }

    /// Waits at most `timeout` for the power to be cut; true if it is.
    pub fn wait_cut(&self, timeout: Duration) -> bool {
        self.wait_until(&self.shared.cut_happened, timeout, |s| !s.powered)
    }

    /// What the disk has done so far.
    pub fn counters(&self) -> Counters {
        self.shared.lock().counters
    }

    /// Unsynced (writes and truncations, namespace operations) right now.
    pub fn pending(&self) -> (u64, u64) {
        self.shared.lock().model.pending()
    }

    /// Power back on: the loss applied to what the disk held.
    fn power_on(&self, loss: Loss) -> Discarded {
        let mut state = self.shared.lock();
        state.power_off();
        let discarded = state.model.reboot(loss);
        state.counters.last_discarded = discarded;
        state.handles.clear();
        state.trigger = None;
        state.hold = false;
        state.powered = true;
        discarded
    }
}

/// The disk mounted at a path; unmounted on drop.
pub struct Mounted {
    disk: Disk,
    path: PathBuf,
    session: Option<fuser::BackgroundSession>,
}

impl Mounted {
    /// Where it is mounted.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The disk mounted.
    pub fn disk(&self) -> &Disk {
        &self.disk
    }

    /// A power cut (if the power is still on) and a reboot: unmounts, lets
    /// `loss` take what was not durable, and mounts the disk again at the
    /// same path. Every process using the mount must have exited (kill it
    /// first: that is what the power cut did to it).
    pub fn reboot(mut self, loss: Loss) -> io::Result<(Mounted, Discarded)> {
        self.disk.cut();
        self.unmount_now()?;
        let discarded = self.disk.power_on(loss);
        let mounted = self.disk.mount(&self.path)?;
        Ok((mounted, discarded))
    }

    /// Unmounts, waiting up to 5 s for files still open (a process that
    /// is exiting, sled's helper threads) to close; then detaches lazily
    /// and reports the mount as busy.
    pub fn unmount(mut self) -> io::Result<()> {
        self.unmount_now()
    }

    fn unmount_now(&mut self) -> io::Result<()> {
        let Some(session) = self.session.take() else {
            return Ok(());
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match nix::mount::umount2(&self.path, nix::mount::MntFlags::empty()) {
                Ok(()) => {
                    return session.join();
                }
                Err(nix::errno::Errno::EBUSY) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(nix::errno::Errno::EPERM) => {
                    // Not root: fusermount3 mounted it, it unmounts it.
                    let out = std::process::Command::new("fusermount3")
                        .arg("-u")
                        .arg(&self.path)
                        .output()?;
                    if !out.status.success() {
                        return Err(io::Error::other(format!(
                            "fusermount3 -u {}: {}",
                            self.path.display(),
                            String::from_utf8_lossy(&out.stderr).trim()
                        )));
                    }
                    return session.join();
                }
                Err(e) => {
                    // Never hang a test on a busy mount: detach it; its
                    // threads end when its last file is closed.
                    let _ = nix::mount::umount2(&self.path, nix::mount::MntFlags::MNT_DETACH);
                    drop(session);
                    return Err(io::Error::other(format!(
                        "cannot unmount {}: {e} (a process still has files open on it)",
                        self.path.display()
                    )));
                }
            }
        }
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        if let Err(e) = self.unmount_now() {
            eprintln!("powercut-fs: {e}");
        }
    }
}
