//! How much room is left on the disk that holds a path (the store's data
//! directory): the doctor judges it once, the site daemon's alerts watch
//! it. One place reads it, and one place words a size for a person.

use std::path::Path;

/// The space of the file system holding a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Space {
    /// Bytes an unprivileged user may still write.
    pub free: u64,
    /// The file system's size in bytes.
    pub total: u64,
}

impl Space {
    /// Free space as a percentage of the file system's size (100 for an
    /// empty file system of unknown size).
    pub fn free_percent(&self) -> f64 {
        if self.total == 0 {
            return 100.0;
        }
        self.free as f64 * 100.0 / self.total as f64
    }
}

/// The space of the file system holding `path`.
pub fn space(path: &Path) -> Result<Space, nix::Error> {
    let s = nix::sys::statvfs::statvfs(path)?;
    Ok(Space {
        free: s.blocks_available() * s.fragment_size(),
        total: s.blocks() * s.fragment_size(),
    })
}

/// `n` bytes for a person: MiB below a GiB, else GiB.
pub fn size(n: u64) -> String {
    if n < 1 << 30 {
        format!("{} MiB", n >> 20)
    } else {
        format!("{:.1} GiB", n as f64 / f64::from(1u32 << 30))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_temp_folder_has_a_size_and_no_more_free_than_that() {
        let dir = tempfile::tempdir().unwrap();
        let s = space(dir.path()).unwrap();
        assert!(s.total > 0 && s.free <= s.total, "{s:?}");
        assert!((0.0..=100.0).contains(&s.free_percent()));
    }

    #[test]
    fn sizes_read_in_mib_then_gib() {
        assert_eq!(size(300 << 20), "300 MiB");
        assert_eq!(size(3 << 29), "1.5 GiB");
    }
}
