//! A virtual scanner on a pseudo-terminal, for `scantrail simulate`, the
//! tests and the load bench: the source under test opens the slave side
//! exactly as it opens a USB CDC scanner, so nothing is mocked.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use nix::fcntl::{fcntl, FcntlArg, FdFlag, OFlag};
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};
use tokio::io::unix::AsyncFd;

use super::profile::Profile;
use super::symbology::{Aim, AimMode};

/// The scanner end of a pty. Dropping it unplugs the scanner: the link is
/// removed first (as udev removes a by-id link), then the pty is closed.
pub struct VirtualScanner {
    master: AsyncFd<File>,
    /// Held open so the master never reads EIO while no reader is attached.
    _slave: OwnedFd,
    path: PathBuf,
    link: Option<PathBuf>,
}

impl VirtualScanner {
    /// Creates a pty in raw mode; with `link`, makes it a symlink to the
    /// device (replacing a stale one). Needs a tokio runtime.
    pub fn open(link: Option<&Path>) -> io::Result<VirtualScanner> {
        let pty = nix::pty::openpty(None, None).map_err(io::Error::from)?;
        // Not inherited by a process started meanwhile (a test's daemon):
        // a child holding the master would keep the pty open after this
        // scanner is dropped, and the unplug would never be seen.
        for fd in [&pty.master, &pty.slave] {
            fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)).map_err(io::Error::from)?;
        }
        let mut termios = tcgetattr(&pty.slave).map_err(io::Error::from)?;
        cfmakeraw(&mut termios);
        tcsetattr(&pty.slave, SetArg::TCSANOW, &termios).map_err(io::Error::from)?;
        let path = nix::unistd::ttyname(&pty.slave).map_err(io::Error::from)?;
        let flags = fcntl(&pty.master, FcntlArg::F_GETFL).map_err(io::Error::from)?;
        fcntl(
            &pty.master,
            FcntlArg::F_SETFL(OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK),
        )
        .map_err(io::Error::from)?;
        if let Some(link) = link {
            match std::fs::remove_file(link) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            std::os::unix::fs::symlink(&path, link)?;
        }
        // SAFETY: the File owns its descriptor and is neither replaced nor
        // closed while the AsyncFd holds it.
        let master = unsafe { AsyncFd::register(File::from(pty.master))? };
        Ok(VirtualScanner {
            master,
            _slave: pty.slave,
            path,
            link: link.map(Path::to_owned),
        })
    }

    /// The device path (`/dev/pts/N`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the scanner "sends".
    pub async fn write_all(&self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            let mut guard = self.master.writable().await?;
            match guard.try_io(|f| f.get_ref().write(bytes)) {
                Ok(Ok(n)) => bytes = &bytes[n..],
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
            }
        }
        Ok(())
    }

    /// What the host wrote back to the scanner (beeps, init bytes).
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let mut guard = self.master.readable().await?;
            match guard.try_io(|f| f.get_ref().read(buf)) {
                Ok(result) => return result,
                Err(_would_block) => continue,
            }
        }
    }
}

impl Drop for VirtualScanner {
    fn drop(&mut self) {
        if let Some(link) = &self.link {
            // Only our own link: a newer scanner may have taken the name.
            if std::fs::read_link(link).is_ok_and(|t| t == self.path) {
                let _ = std::fs::remove_file(link);
            }
        }
    }
}

/// Turns one line of simulator input into the bytes that profile's scanner
/// sends: `^` is FNC1 (GS, or the profile's substitute); an AIM identifier
/// (`]C1` unless the line has one) or the vendor label for it; prefix and
/// suffix.
pub fn frame_line(profile: &Profile, line: &str) -> Vec<u8> {
    let gs = profile.fnc1_substitute.unwrap_or(0x1D);
    let data: Vec<u8> = line
        .bytes()
        .map(|b| if b == b'^' { gs } else { b })
        .collect();
    let (aim, body) = match Aim::from_prefix(&data) {
        Some(aim) => (aim, &data[3..]),
        None => (Aim(*b"]C1"), &data[..]),
    };
    let mut out = profile.framing.prefix.clone();
    match profile.aim {
        AimMode::Absent => {}
        _ => match profile.labels.label_for(aim) {
            Some(label) => out.extend_from_slice(label),
            None => out.extend_from_slice(&aim.0),
        },
    }
    out.extend_from_slice(body);
    out.extend_from_slice(&profile.framing.suffix);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_framed_as_the_profile_scanner_would() {
        let p = |t: &str| Profile::parse(t, "t", Path::new("t")).unwrap();
        let generic = p("[framing]\nsuffix = \"CR\"\n");
        assert_eq!(frame_line(&generic, "01095^21X"), b"]C101095\x1d21X\r");
        assert_eq!(frame_line(&generic, "]d201095"), b"]d201095\r");
        let wedge = p("[framing]\nsuffix = \"CRLF\"\nprefix = \"\\u0002\"\nfnc1_substitute = \"|\"\n[symbology]\naim = \"absent\"\n");
        assert_eq!(frame_line(&wedge, "]C101^21"), b"\x0201|21\r\n");
        let dl = p("[framing]\nsuffix = \"CR\"\n[symbology]\naim = \"expected\"\nlabel_ids = { k = \"]C1\" }\n");
        assert_eq!(frame_line(&dl, "01^21"), b"k01\x1d21\r");
        assert_eq!(frame_line(&dl, "]Q1x"), b"]Q1x\r");
    }
}
