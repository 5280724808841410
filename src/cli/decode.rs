//! `scantrail decode`: read every barcode in PNG or JPEG photos and report
//! each as the GS1 engine reads the same data from a scanner.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::gs1::{self, ScanReport};
use crate::scan::image::{self, DecodedBarcode, Limits};

/// Arguments of `scantrail decode`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// PNG or JPEG images (photos of labels); every barcode in each is read.
    #[arg(value_name = "IMAGE", required = true)]
    pub images: Vec<PathBuf>,

    /// Print one JSON object per image: `image`, `ok`, and `barcodes` (each with
    /// `format`, `frame`, `points` and the parse: `ok`, `symbology`, `ais` or
    /// `data` or `error`) or `error`.
    #[arg(long)]
    pub json: bool,
}

/// Reads every image; exit 1 if an image could not be read or a barcode
/// in it is not valid GS1 data.
pub fn run(args: Args) -> super::Outcome {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let limits = Limits::default();
    let mut all_ok = true;
    for (i, path) in args.images.iter().enumerate() {
        let decoded = read(path, &limits);
        all_ok &= report(path, &decoded, args.json, i == 0, &mut out)?;
    }
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::REJECTED)
    })
}

/// The file's barcodes, or one line saying why there are none.
fn read(path: &Path, limits: &Limits) -> Result<Vec<DecodedBarcode>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read the file: {e}"))?;
    image::decode(&bytes, limits, gs1::dictionary::separator_follows).map_err(|e| e.to_string())
}

/// Prints one image's result; returns whether it had barcodes that all parsed.
fn report(
    path: &Path,
    decoded: &Result<Vec<DecodedBarcode>, String>,
    json: bool,
    first: bool,
    out: &mut impl Write,
) -> std::io::Result<bool> {
    let name = path.display().to_string();
    let barcodes = match decoded {
        Ok(barcodes) => barcodes,
        Err(error) => {
            if json {
                let value = serde_json::json!({ "image": name, "ok": false, "error": error });
                writeln!(out, "{value}")?;
            } else {
                if !first {
                    writeln!(out)?;
                }
                writeln!(out, "{name}: {error}")?;
            }
            return Ok(false);
        }
    };
    let reports: Vec<ScanReport> = barcodes
        .iter()
        .map(|b| ScanReport::of(&b.frame, &gs1::parse_scan(&b.frame, None)))
        .collect();
    let ok = reports.iter().all(|r| r.ok);
    if json {
        let items: Vec<serde_json::Value> = barcodes
            .iter()
            .zip(&reports)
            .map(|(barcode, report)| {
                let mut value = serde_json::to_value(report).expect("a report is plain data");
                value["format"] = barcode.format.clone().into();
                value["frame"] = String::from_utf8_lossy(&barcode.frame).into_owned().into();
                value["points"] = serde_json::to_value(&barcode.points).expect("plain data");
                value
            })
            .collect();
        let value = serde_json::json!({ "image": name, "ok": ok, "barcodes": items });
        writeln!(out, "{value}")?;
    } else {
        if !first {
            writeln!(out)?;
        }
        let count = barcodes.len();
        writeln!(
            out,
            "{name}: {count} barcode{}",
            if count == 1 { "" } else { "s" }
        )?;
        for (barcode, report) in barcodes.iter().zip(&reports) {
            let at = barcode
                .points
                .first()
                .map(|(x, y)| format!(" at ({x:.0}, {y:.0})"))
                .unwrap_or_default();
            writeln!(out, "\n{}{at}", barcode.format)?;
            write!(out, "{report}")?;
            if !report.ok {
                writeln!(out)?;
            }
        }
    }
    Ok(ok)
}
