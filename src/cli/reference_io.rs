//! What the reference-data commands share: their `import` and `list`
//! arguments, reading an import file, and printing records as an 80-column
//! table or as JSON lines.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Serialize;

use super::site_client::{default_person, Site, SiteArgs};
use crate::site::catalog::Author;
use crate::station::reference::Owner;

/// `import FILE` of a kind of reference data.
#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// The file to import; `-` reads stdin
    pub file: PathBuf,
    /// Who is importing, with no daemon running [default: the login name];
    /// through the daemon the author is the token's name
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
    /// Why, recorded with every record [default: "<kind> import", e.g. "product import"]
    #[arg(long, value_name = "TEXT")]
    pub why: Option<String>,
    #[command(flatten)]
    pub site: SiteArgs,
}

/// `list` of a kind of reference data.
#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// One JSON object per line instead of a table
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub site: SiteArgs,
}

/// Reads the file, imports it with `import` and says how many `kind`
/// records came in.
pub fn import(
    args: ImportArgs,
    kind: &str,
    import: impl FnOnce(&Site, &str, &Author) -> anyhow::Result<usize>,
) -> anyhow::Result<()> {
    let text = read_input(&args.file)?;
    let site = Site::open(&args.site)?;
    site.check_by(args.by.as_deref())?;
    let author = Author {
        by: args.by.unwrap_or_else(default_person),
        why: args.why.unwrap_or_else(|| format!("{kind} import")),
    };
    let n = import(&site, &text, &author)
        .with_context(|| format!("{} was not imported", args.file.display()))?;
    println!("imported {n} {kind}s from {}", args.file.display());
    Ok(())
}

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
