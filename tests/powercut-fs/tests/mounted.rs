//! The power-cut filesystem through a real mount and real system calls:
//! what survives a cut is what the module doc promises, and nothing more.
//! Needs /dev/fuse and root or fusermount3: without them these tests fail,
//! naming what is missing.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;

use scantrail_powercut_fs::{CutPoint, Disk, Loss, Mounted};

fn mount() -> (tempfile::TempDir, Mounted) {
    let dir = tempfile::tempdir().unwrap();
    let mounted = Disk::default()
        .mount(dir.path())
        .unwrap_or_else(|e| panic!("{e}"));
    (dir, mounted)
}

fn sync_dir(dir: &Path) {
    File::open(dir).unwrap().sync_all().unwrap();
}

fn write_file(path: &Path, data: &[u8]) -> File {
    let mut f = File::create(path).unwrap();
    f.write_all(data).unwrap();
    f
}

fn reboot(m: Mounted) -> Mounted {
    m.reboot(Loss::AllUnsynced).unwrap().0
}

#[test]
fn a_file_written_and_not_synced_is_gone_after_a_cut() {
    let (_dir, m) = mount();
    let p = m.path().join("a");
    write_file(&p, b"hello");
    sync_dir(m.path());
    // Read back before the cut: the page cache and the disk agree.
    assert_eq!(fs::read(&p).unwrap(), b"hello");
    let m = reboot(m);
    // The name was synced, its data never was.
    assert_eq!(fs::read(m.path().join("a")).unwrap(), b"");
}

#[test]
fn synced_data_stays() {
    let (_dir, m) = mount();
    let p = m.path().join("a");
    write_file(&p, b"kept").sync_all().unwrap();
    sync_dir(m.path());
    let mut f = OpenOptions::new().append(true).open(&p).unwrap();
    f.write_all(b" and lost").unwrap();
    f.sync_data().unwrap();
    f.write_all(b" and lost again").unwrap();
    drop(f);
    let m = reboot(m);
    assert_eq!(fs::read(m.path().join("a")).unwrap(), b"kept and lost");
    let c = m.disk().counters();
    assert_eq!((c.cuts, c.last_discarded.changes), (1, 1), "{c:?}");
}

#[test]
fn a_new_file_fsynced_without_its_directory_is_gone() {
    let (_dir, m) = mount();
    sync_dir(m.path());
    write_file(&m.path().join("new"), b"data")
        .sync_all()
        .unwrap();
    let m = reboot(m);
    assert_eq!(
        fs::read(m.path().join("new")).unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[test]
fn a_rename_without_a_directory_fsync_is_undone() {
    let (_dir, m) = mount();
    let tmp = m.path().join("file.tmp");
    write_file(&tmp, b"new content").sync_all().unwrap();
    sync_dir(m.path());
    fs::rename(&tmp, m.path().join("file")).unwrap();
    let m = reboot(m);
    assert!(!m.path().join("file").exists());
    assert_eq!(fs::read(m.path().join("file.tmp")).unwrap(), b"new content");
    // With the directory synced the rename stays.
    fs::rename(m.path().join("file.tmp"), m.path().join("file")).unwrap();
    sync_dir(m.path());
    let m = reboot(m);
    assert_eq!(fs::read(m.path().join("file")).unwrap(), b"new content");
    assert!(!m.path().join("file.tmp").exists());
}

#[test]
fn an_unlink_without_a_directory_fsync_is_undone() {
    let (_dir, m) = mount();
    let p = m.path().join("a");
    write_file(&p, b"x").sync_all().unwrap();
    sync_dir(m.path());
    fs::remove_file(&p).unwrap();
    let m = reboot(m);
    assert_eq!(fs::read(m.path().join("a")).unwrap(), b"x");
}

#[test]
fn a_new_directory_needs_its_parent_synced() {
    let (_dir, m) = mount();
    let d = m.path().join("store");
    fs::create_dir(&d).unwrap();
    write_file(&d.join("db"), b"log").sync_all().unwrap();
    sync_dir(&d);
    let m = reboot(m);
    assert!(!m.path().join("store").exists());
    let d = m.path().join("store");
    fs::create_dir(&d).unwrap();
    write_file(&d.join("db"), b"log").sync_all().unwrap();
    sync_dir(&d);
    sync_dir(m.path());
    let m = reboot(m);
    assert_eq!(fs::read(m.path().join("store/db")).unwrap(), b"log");
}

/// sled 0.34 "flushes" its log with sync_file_range (sled issue #1452):
/// on this disk, as on a real one at a power cut, that keeps nothing.
#[test]
fn sync_file_range_makes_nothing_durable_but_o_dsync_does() {
    use std::os::fd::AsRawFd;
    let (_dir, m) = mount();
    let f = write_file(&m.path().join("log"), b"flushed the sled way");
    sync_dir(m.path());
    // SAFETY: a valid descriptor; the call only reads its arguments.
    let rc = unsafe {
        libc::sync_file_range(
            f.as_raw_fd(),
            0,
            0,
            libc::SYNC_FILE_RANGE_WAIT_BEFORE
                | libc::SYNC_FILE_RANGE_WRITE
                | libc::SYNC_FILE_RANGE_WAIT_AFTER,
        )
    };
    assert_eq!(rc, 0, "{}", std::io::Error::last_os_error());
    let mut d = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .custom_flags(libc::O_DSYNC)
        .open(m.path().join("dsync"))
        .unwrap();
    d.write_all(b"durable at once").unwrap();
    sync_dir(m.path());
    drop((f, d));
    let m = reboot(m);
    assert_eq!(fs::read(m.path().join("log")).unwrap(), b"");
    assert_eq!(
        fs::read(m.path().join("dsync")).unwrap(),
        b"durable at once"
    );
}

#[test]
fn after_a_cut_nothing_more_reaches_the_disk() {
    let (_dir, m) = mount();
    let p = m.path().join("a");
    let mut f = write_file(&p, b"before");
    f.sync_all().unwrap();
    sync_dir(m.path());
    m.disk().cut();
    assert!(m.disk().is_cut());
    // The process goes on for a moment (the test kills it): it is told
    // every request failed, and nothing it does survives.
    assert!(f.write_all(b" after").is_err());
    assert!(f.sync_all().is_err());
    assert!(File::create(m.path().join("b")).is_err());
    drop(f);
    let m = reboot(m);
    assert_eq!(fs::read(m.path().join("a")).unwrap(), b"before");
    assert!(!m.path().join("b").exists());
    // And the rebooted disk works.
    write_file(&m.path().join("c"), b"c").sync_all().unwrap();
}

#[test]
fn a_cut_right_after_the_nth_fsync_keeps_that_fsync_and_stops_the_next_write() {
    let (_dir, m) = mount();
    sync_dir(m.path());
    let p = m.path().join("log");
    let mut f = write_file(&p, b"");
    sync_dir(m.path());
    m.disk().cut_at(CutPoint::Syncs(3));
    let mut written = 0;
    for i in 0..10u8 {
        if f.write_all(&[b'0' + i]).is_err() {
            break;
        }
        if f.sync_all().is_err() {
            break;
        }
        written += 1;
    }
    assert_eq!(written, 3, "the 3rd fsync succeeds, the 4th write fails");
    assert!(m.disk().wait_cut(Duration::ZERO));
    drop(f);
    let m = reboot(m);
    assert_eq!(fs::read(m.path().join("log")).unwrap(), b"012");
}

#[test]
fn a_cut_right_after_a_rename_keeps_the_rename_only_if_synced() {
    let (_dir, m) = mount();
    write_file(&m.path().join("a"), b"a").sync_all().unwrap();
    sync_dir(m.path());
    m.disk().cut_at(CutPoint::Renames(1));
    fs::rename(m.path().join("a"), m.path().join("b")).unwrap();
    assert!(m.disk().is_cut());
    assert!(File::open(m.path()).and_then(|d| d.sync_all()).is_err());
    let m = reboot(m);
    assert!(m.path().join("a").exists() && !m.path().join("b").exists());
}

#[test]
fn a_random_cut_keeps_a_part_of_what_was_not_synced() {
    let (_dir, mut m) = mount();
    let mut outcomes = std::collections::HashSet::new();
    for seed in 1..=12u64 {
        let p = m.path().join("log");
        write_file(&p, &[]).sync_all().unwrap();
        sync_dir(m.path());
        let mut f = OpenOptions::new().write(true).open(&p).unwrap();
        f.write_all(&vec![1u8; 3 * 4096]).unwrap();
        drop(f);
        let (next, _) = m.reboot(Loss::Random(seed)).unwrap();
        m = next;
        let kept = fs::read(m.path().join("log")).unwrap();
        // Whole pages of the write, each kept or not.
        assert!(kept.len() % 4096 == 0 && kept.len() <= 3 * 4096);
        outcomes.insert(kept);
    }
    assert!(outcomes.len() > 1, "every random cut kept the same");
}

#[test]
fn a_process_registered_with_the_disk_dies_at_the_cut() {
    use std::os::unix::process::ExitStatusExt;
    let (_dir, m) = mount();
    let mut child = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    m.disk().kill_at_cut(child.id());
    m.disk().cut_at(CutPoint::Writes(1));
    assert!(child.try_wait().unwrap().is_none());
    // The write that cuts the power succeeds; the process is gone before
    // its writer hears so.
    write_file(&m.path().join("a"), b"x");
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{status:?}");
}

#[test]
fn a_held_fsync_waits_until_released_or_fails_at_the_cut() {
    let (_dir, m) = mount();
    let disk = m.disk().clone();
    sync_dir(m.path());
    let released = write_file(&m.path().join("released"), b"kept");
    let cut = write_file(&m.path().join("cut"), b"lost");
    sync_dir(m.path());
    disk.hold_file_syncs();
    let waiting = std::thread::spawn(move || released.sync_all());
    assert!(disk.wait_held_file_syncs(1, Duration::from_secs(10)));
    disk.release_file_syncs();
    waiting.join().unwrap().unwrap();
    disk.hold_file_syncs();
    let waiting = std::thread::spawn(move || cut.sync_all());
    assert!(disk.wait_held_file_syncs(1, Duration::from_secs(10)));
    disk.cut();
    let e = waiting.join().unwrap().unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EIO), "{e}");
    let m = reboot(m);
    assert_eq!(fs::read(m.path().join("released")).unwrap(), b"kept");
    assert_eq!(fs::read(m.path().join("cut")).unwrap(), b"");
}
