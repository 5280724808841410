//! What the reference-data commands share: their `import` and `list`
//! arguments, reading an import file, and printing records as an 80-column
//! table or as JSON lines.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Serialize;

use super::site_client::{default_person, Site, SiteArgs};
use crate::station::catalog::{Author, NewHold};
use crate::station::reference::HoldKind;
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
    /// How to reach the site's records: the store directly, or the
    /// running daemon's API when it holds the store.
    #[command(flatten)]
    pub site: SiteArgs,
}

/// `import` or `list` of a kind of reference data (`scantrail products`,
/// `scantrail picklists`; each command's help names its file's columns).
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Import records from a CSV file (the columns are in the command's
    /// help) or a JSON array; `-` reads stdin. A record imported again
    /// replaces the earlier one.
    Import(ImportArgs),
    /// List the records.
    List(ListArgs),
}

/// A kind of reference data as its command imports and lists it.
pub struct Kind<T: 'static, const N: usize> {
    /// The name of one record, e.g. `product`.
    pub name: &'static str,
    /// Imports a file's text at the site; returns how many records came in.
    pub import: fn(&Site, &str, &Author) -> anyhow::Result<usize>,
    /// Reads every record from the site.
    pub list: fn(&Site) -> anyhow::Result<Vec<T>>,
    /// The table's header and how a line of it is laid out.
    pub table: Table<N>,
    /// A record as the table's cells.
    pub row: fn(&T) -> String,
}

/// Runs `import` or `list` of `kind`.
pub fn run<T: Serialize, const N: usize>(command: Command, kind: Kind<T, N>) -> super::Outcome {
    match command {
        Command::Import(args) => import(args, kind.name, kind.import)?,
        Command::List(args) => list(args, kind.list, kind.table, kind.row)?,
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// A new hold or recall as `scantrail holds add` and `scantrail hq recall
/// add` take it.
#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("scope").required(true).args(["lots", "serials"])))]
pub struct NewHoldArgs {
    /// The hold's id, e.g. H-2026-017
    #[arg(long, value_name = "ID")]
    pub id: String,
    /// The GTIN (8, 12, 13 or 14 digits)
    #[arg(long, value_name = "GTIN")]
    pub gtin: String,
    /// Lots on hold (repeat, or give several)
    #[arg(long = "lot", value_name = "LOT", num_args = 1..)]
    pub lots: Vec<String>,
    /// An inclusive serial range, e.g. 1000..1999
    #[arg(long, value_name = "FROM..TO", value_parser = serial_range)]
    pub serials: Option<(String, String)>,
    /// Why the goods are held
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
}

impl NewHoldArgs {
    /// The hold asked for, of `kind`.
    pub fn into_hold(self, kind: HoldKind) -> NewHold {
        let (serial_from, serial_to) = self.serials.unzip();
        NewHold {
            id: self.id,
            kind,
            gtin: self.gtin,
            lots: self.lots,
            serial_from,
            serial_to,
            reason: self.reason,
        }
    }
}

/// A serial range as `--serials` gives it.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not a serial range: give FROM..TO, e.g. 1000..1999")]
pub struct NotASerialRange(String);

fn serial_range(text: &str) -> Result<(String, String), NotASerialRange> {
    match text.split_once("..") {
        Some((from, to)) if !from.is_empty() && !to.is_empty() => {
            Ok((from.to_owned(), to.to_owned()))
        }
        _ => Err(NotASerialRange(text.to_owned())),
    }
}

/// `list` of a kind of reference data.
#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// One JSON object per line instead of a table
    #[arg(long)]
    pub json: bool,
    /// How to reach the site's records: the store directly, or the
    /// running daemon's API when it holds the store.
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

/// A table's header cells and the function that lays out one line of it
/// (header or row) in its columns.
pub type Table<const N: usize> = ([&'static str; N], fn([&str; N]) -> String);

/// Lists the records `records` reads from the site: a table whose header
/// is `line(header)` and whose rows are `row(record)`, or JSON lines.
pub fn list<T: Serialize, const N: usize>(
    args: ListArgs,
    records: impl FnOnce(&Site) -> anyhow::Result<Vec<T>>,
    (header, line): Table<N>,
    row: impl Fn(&T) -> String,
) -> anyhow::Result<()> {
    let records = records(&Site::open(&args.site)?)?;
    print(&records, args.json, &line(header), row)
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
