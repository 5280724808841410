//! The acknowledged watermark, kept outside sled.
//!
//! sled treats a damaged record in its log like the torn tail of a crash:
//! it recovers up to the record before and silently drops everything after
//! (found by flipping bytes of `db` in `tests/journal_verify.rs`). The store
//! would open "fine", chains intact, with acknowledged movements gone. So
//! after each durable batch the committer writes the last acknowledged
//! (seq, hash) of the site into a small file beside sled's, and `open`
//! refuses a store whose journal ends before it.
//!
//! The file is written *after* sled's flush and fsync, so on any crash it
//! can only lag behind sled, never lead it; that is why it needs no fsync of
//! its own (the guard is slightly weaker after a power cut, never wrong).

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::envelope::Head;
use crate::model::Hash;

pub const FILE_NAME: &str = "scantrail-ack";

/// Fixed minimum size, written in one `pwrite` at offset 0: a shorter
/// record never leaves the tail of a longer one behind.
const SIZE: usize = 512;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watermark {
    pub origin: String,
    pub movements: Head,
    pub rejections: Head,
}

pub struct Writer {
    path: PathBuf,
    file: File,
}

impl Writer {
    pub fn open(dir: &Path) -> std::io::Result<Writer> {
        let path = dir.join(FILE_NAME);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(&path)?;
        Ok(Writer { path, file })
    }

    pub fn write(&self, w: &Watermark) -> std::io::Result<()> {
        let mut text = body(w);
        text.push_str(&format!("check {}\n", check(&text)));
        let mut bytes = text.into_bytes();
        if bytes.len() < SIZE {
            bytes.resize(SIZE, b' ');
        }
        self.file.write_all_at(&bytes, 0)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn body(w: &Watermark) -> String {
    format!(
        "scantrail-ack 1\norigin {}\nseq {} {}\nrejected {} {}\n",
        w.origin, w.movements.seq, w.movements.hash, w.rejections.seq, w.rejections.hash
    )
}

fn check(body: &str) -> String {
    Hash(Sha256::digest(body.as_bytes()).into()).hex()[..16].to_owned()
}

/// Why the watermark file is not used; the store logs it and rewrites the
/// file at the next commit.
#[derive(Debug, thiserror::Error)]
pub enum WatermarkError {
    /// The file exists but cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The watermark file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not the text scantrail writes.
    #[error("{path} is not text")]
    NotText {
        /// The watermark file.
        path: PathBuf,
    },
    /// The text is not a whole watermark, or its check does not match.
    #[error("{path}: its content is damaged")]
    Damaged {
        /// The watermark file.
        path: PathBuf,
    },
}

/// Reads the watermark; `Ok(None)` if there is none (a new store, a copy),
/// `Err` with a reason if the file is not one we wrote intact.
pub fn read(dir: &Path) -> Result<Option<Watermark>, WatermarkError> {
    let path = dir.join(FILE_NAME);
    let text = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(WatermarkError::Read { path, source }),
    };
    // The writer creates the file when the store opens and fills it at the
    // first commit: an empty file is a store that has committed nothing.
    if text.is_empty() {
        return Ok(None);
    }
    let Ok(text) = String::from_utf8(text) else {
        return Err(WatermarkError::NotText { path });
    };
    let parse = || -> Option<Watermark> {
        let mut lines = text.lines();
        if lines.next()? != "scantrail-ack 1" {
            return None;
        }
        let origin = lines.next()?.strip_prefix("origin ")?.to_owned();
        let head = |line: &str, tag: &str| -> Option<Head> {
            let mut parts = line.strip_prefix(tag)?.split(' ');
            let seq = parts.next()?.parse().ok()?;
            let mut hash = [0u8; 32];
            hex::decode_to_slice(parts.next()?, &mut hash).ok()?;
            Some(Head {
                seq,
                hash: Hash(hash),
            })
        };
        let movements = head(lines.next()?, "seq ")?;
        let rejections = head(lines.next()?, "rejected ")?;
        let w = Watermark {
            origin,
            movements,
            rejections,
        };
        let stated = lines.next()?.strip_prefix("check ")?;
        (stated == check(&body(&w))).then_some(w)
    };
    match parse() {
        Some(w) => Ok(Some(w)),
        None => Err(WatermarkError::Damaged { path }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_detects_damage() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()).unwrap(), None);
        let w = Watermark {
            origin: "north".into(),
            movements: Head {
                seq: 12,
                hash: Hash([3; 32]),
            },
            rejections: Head {
                seq: 0,
                hash: Hash::GENESIS,
            },
        };
        let writer = Writer::open(dir.path()).unwrap();
        // Opened, nothing committed yet: no watermark, and nothing damaged.
        assert_eq!(read(dir.path()).unwrap(), None);
        writer.write(&w).unwrap();
        assert_eq!(read(dir.path()).unwrap(), Some(w.clone()));
        let mut bytes = std::fs::read(writer.path()).unwrap();
        bytes[40] ^= 1;
        std::fs::write(writer.path(), bytes).unwrap();
        assert!(matches!(
            read(dir.path()),
            Err(WatermarkError::Damaged { .. })
        ));
    }
}
