//! `scantrail journal`: dumps the movements, as a table or as JSON lines
//! for tools (one object per line, hashes in hex).

use std::io::Write;
use std::process::ExitCode;

use serde::Serialize;

use super::site_client::{Site, SiteArgs};
use crate::model::{Movement, Quantity};

/// Arguments of `scantrail journal`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// How to reach the site's records: the store directly, or the
    /// running daemon's API when it holds the store.
    #[command(flatten)]
    pub site: SiteArgs,
    /// One JSON object per line instead of a table
    #[arg(long)]
    pub json: bool,
    /// Only movements after this seq (as in the sync watermark)
    #[arg(long, value_name = "SEQ", default_value_t = 0)]
    pub since: u64,
}

/// Movements per page (the API's most per request).
const PAGE: usize = 10_000;

/// The JSON shape: the movement's fields flat (raw scan bytes in hex,
/// hashes in hex), plus the raw scan as text (GS shown as \u001d).
#[derive(Serialize)]
struct JsonMovement<'a> {
    #[serde(flatten)]
    movement: &'a Movement,
    raw_text: String,
}

/// Prints the movements after `--since`, page by page, from the store or
/// the running daemon.
pub fn run(args: Args) -> super::Outcome {
    match dump(args) {
        // `scantrail journal | head` is normal use, not a failure.
        Err(e)
            if e.downcast_ref::<std::io::Error>().map(|e| e.kind())
                == Some(std::io::ErrorKind::BrokenPipe) =>
        {
            Ok(ExitCode::SUCCESS)
        }
        other => other,
    }
}

fn dump(args: Args) -> super::Outcome {
    // Through the daemon's API when it holds the store.
    let site = Site::open(&args.site)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if !args.json {
        writeln!(
            out,
            "{:<12} {:>8}  {:<20} {:<12} {:<10} {:<14} {:<10} {:<12} {:>10}  {:<8}",
            "origin",
            "seq",
            "device time",
            "kind",
            "station",
            "gtin",
            "lot",
            "serial",
            "quantity",
            "location"
        )?;
    }
    site.journal(args.since, PAGE, |m| {
        if args.json {
            let row = JsonMovement {
                movement: m,
                raw_text: String::from_utf8_lossy(&m.body.scan.raw).into_owned(),
            };
            serde_json::to_writer(&mut out, &row)?;
            writeln!(out)?;
        } else {
            writeln!(out, "{}", table_row(m))?;
        }
        Ok(())
    })?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn table_row(m: &Movement) -> String {
    let b = &m.body;
    let quantity = match &b.quantity {
        Quantity::Units(n) => n.to_string(),
        Quantity::Measure {
            mantissa,
            scale,
            unit,
        } => {
            format!("{} {unit}", decimal(*mantissa, *scale))
        }
    };
    format!(
        "{:<12} {:>8}  {:<20} {:<12} {:<10} {:<14} {:<10} {:<12} {:>10}  {:<8}",
        m.origin,
        m.seq,
        b.device_time.format("%Y-%m-%d %H:%M:%S"),
        b.kind.name(),
        b.station,
        b.gtin,
        b.lot.as_deref().unwrap_or("-"),
        b.serial.as_deref().unwrap_or("-"),
        quantity,
        b.location
    )
}

fn decimal(mantissa: i64, scale: u8) -> String {
    let digits = mantissa.unsigned_abs().to_string();
    let scale = usize::from(scale);
    let sign = if mantissa < 0 { "-" } else { "" };
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{sign}{int}.{frac}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn decimals_print_exactly() {
        assert_eq!(super::decimal(1250, 3), "1.250");
        assert_eq!(super::decimal(5, 2), "0.05");
        assert_eq!(super::decimal(-7, 0), "-7");
    }
}
