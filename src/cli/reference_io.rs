//! What the reference-data commands share: reading an import file, and
//! printing records as an 80-column table or as JSON lines.

use std::io::{Read, Write};
use std::path::Path;

use anyhow::Context as _;
use serde::Serialize;

use crate::station::reference::Owner;

/// The text of FILE, or of stdin for `-`.
pub fn read_input(path: &Path) -> anyhow::Result<String> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read stdin")?;
        return Ok(text);
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// `text` cut to `width` characters, with `~` marking the cut.
pub fn fit(text: &str, width: usize) -> String {
    let text = text.replace(['\n', '\r', '\t'], " ");
    if text.chars().count() <= width {
        return text;
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('~');
    cut
}

/// The owner as a table shows it.
pub fn owner(owner: &Owner) -> String {
    match owner {
        Owner::Site(id) => id.clone(),
        Owner::HeadOffice => "head office".to_owned(),
    }
}

/// Prints a header and one row per record, or one JSON object per line.
pub fn print<T: Serialize>(
    records: &[T],
    json: bool,
    header: &str,
    row: impl Fn(&T) -> String,
) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written: std::io::Result<()> = (|| {
        if json {
            for r in records {
                serde_json::to_writer(&mut out, r)?;
                writeln!(out)?;
            }
        } else {
            writeln!(out, "{}", header.trim_end())?;
            for r in records {
                writeln!(out, "{}", row(r).trim_end())?;
            }
        }
        out.flush()
    })();
    match written {
        // `scantrail holds list | head` is normal use, not a failure.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_text_is_cut_to_the_column() {
        assert_eq!(super::fit("abcdef", 4), "abc~");
        assert_eq!(super::fit("abc", 4), "abc");
    }
}
