//! `scantrail listen`: open one scanner and print every scan as it is read,
//! with the GS1 verdict, and send that verdict back as a good/bad-read beep.
//! The installer's tool for checking a scanner and its profile on site.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;

use crate::gs1::ScanReport;
use crate::scan::{escape, sources, Profile, RawScan, RejectedFrame, ScanEvent, ScannerSpec};

/// Arguments of `scantrail listen`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The scanner's device: a path (/dev/ttyACM0) or a glob (/dev/serial/by-id/usb-Zebra*).
    #[arg(long)]
    pub port: String,
    /// The device profile, e.g. devices/generic-aim.toml.
    #[arg(long)]
    pub profile: PathBuf,
    /// The station name shown with each scan.
    #[arg(long, default_value = "listen")]
    pub station: String,
    /// One JSON object per frame instead of human lines.
    #[arg(long)]
    pub json: bool,
    /// Stop after this many frames (scans and refused frames).
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
}

#[derive(Serialize)]
struct ScanLine<'a> {
    kind: &'static str,
    source: &'a str,
    station: &'a str,
    /// The frame as sent, GS shown as `<GS>`.
    raw: String,
    /// The AIM identifier (mapped from a vendor label ID if need be).
    #[serde(skip_serializing_if = "Option::is_none")]
    aim: Option<String>,
    #[serde(flatten)]
    report: ScanReport,
}

#[derive(Serialize)]
struct RejectLine<'a> {
    kind: &'static str,
    source: &'a str,
    station: &'a str,
    ok: bool,
    reason: &'static str,
    error: &'static str,
    raw: String,
}

/// Reads the scanner until Ctrl-C (or `--count` frames), printing and
/// beeping each frame's verdict.
pub fn run(args: Args) -> super::Outcome {
    let profile = Profile::load(&args.profile)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(listen(args, profile))
}

async fn listen(args: Args, profile: Profile) -> super::Outcome {
    let spec = ScannerSpec {
        port: args.port.clone(),
        station: args.station.clone(),
        profile: profile.into(),
    };
    let (_handles, mut events) = sources::start(vec![spec], 64);
    let shutdown = crate::shutdown::signal();
    tokio::pin!(shutdown);
    let mut seen = 0u64;
    loop {
        let event = tokio::select! {
            event = events.recv() => match event {
                Some(event) => event,
                None => break,
            },
            _ = &mut shutdown => break,
        };
        let line = match &event {
            ScanEvent::Scan(scan) => scan_line(scan, args.json),
            ScanEvent::Rejected(rejected) => reject_line(rejected, args.json),
        };
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")
            .and_then(|()| out.flush())
            .context("cannot write to stdout")?;
        seen += 1;
        if args.count.is_some_and(|n| seen >= n) {
            // Let the beep reach the scanner before the port closes.
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            break;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Parses the scan, beeps the verdict, and formats the line.
fn scan_line(scan: &RawScan, json: bool) -> String {
    let report = ScanReport::of_frame(&scan.parser_input(), scan.substitute);
    scan.reply(report.ok);
    let raw = escape(&scan.bytes);
    let aim = scan.symbology.map(|a| a.to_string());
    if json {
        let line = ScanLine {
            kind: "scan",
            source: &scan.source,
            station: &scan.station,
            raw,
            aim,
            report,
        };
        return serde_json::to_string(&line).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    }
    let mut text = format!(
        "{} {} {}",
        scan.station,
        aim.as_deref().unwrap_or("(no AIM)"),
        raw
    );
    for l in report.to_string().lines() {
        text.push_str("\n  ");
        text.push_str(l);
    }
    text
}

fn reject_line(r: &RejectedFrame, json: bool) -> String {
    if json {
        let line = RejectLine {
            kind: "rejected",
            source: &r.source,
            station: &r.station,
            ok: false,
            reason: r.reason.as_str(),
            error: r.reason.hint(),
            raw: escape(&r.bytes),
        };
        return serde_json::to_string(&line).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    }
    format!(
        "{} refused ({}): {}: {}",
        r.station,
        r.reason,
        r.reason.hint(),
        escape(&r.bytes)
    )
}
