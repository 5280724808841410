//! `scantrail parse`: parse and validate GS1 data given on the command line
//! or on stdin, and print it with AI titles, as JSON, or re-rendered.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use crate::gs1::{self, Content, ScanReport, GS};

/// Arguments of `scantrail parse`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Inputs to parse: scanner data (with or without an AIM identifier such as `]d2`),
    /// bracketed `(01)...(10)...`, or a GS1 Digital Link URI. `-` reads one input per
    /// line from stdin as raw bytes. `^` stands for FNC1 (the GS byte).
    #[arg(value_name = "INPUT", required = true)]
    pub inputs: Vec<String>,

    /// Print one JSON object per input: `ok`, and `ais` or `error`.
    #[arg(long)]
    pub json: bool,

    /// Re-render each valid input in this form instead of listing its AIs.
    #[arg(long, value_enum)]
    pub format: Option<Format>,

    /// The stem of rendered Digital Link URIs.
    #[arg(long, default_value = "https://id.gs1.org", value_name = "URL")]
    pub dl_stem: String,

    /// A byte that stands for GS, for scanners that cannot send GS (e.g. `~`).
    #[arg(long, value_name = "CHAR", value_parser = parse_separator)]
    pub substitute: Option<u8>,
}

/// The forms `--format` re-renders a valid input in.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Format {
    /// `(01)09506000134352(10)ABC123`
    Bracketed,
    /// `^0109506000134352` ... with `^` for FNC1
    Unbracketed,
    /// A GS1 Digital Link URI
    Dl,
}

/// A `--substitute` that is not one ASCII character.
#[derive(Debug, thiserror::Error)]
#[error("give one ASCII character, e.g. `~`")]
struct NotOneAscii;

fn parse_separator(text: &str) -> Result<u8, NotOneAscii> {
    match text.as_bytes() {
        [b] if b.is_ascii() => Ok(*b),
        _ => Err(NotOneAscii),
    }
}

/// Why a valid scan cannot be printed in the asked form.
#[derive(Debug, thiserror::Error)]
enum RenderError {
    #[error("the data is not GS1 and has no other form")]
    NotGs1,
    #[error(transparent)]
    DigitalLink(#[from] gs1::Gs1Error),
}

/// Parses every input and prints each result; exit 1 if any input is
/// invalid.
pub fn run(args: Args) -> super::Outcome {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut rejected = false;
    let mut first = true;
    for input in &args.inputs {
        if input == "-" {
            for line in std::io::stdin().lock().split(b'\n') {
                let mut line = line?;
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                rejected |= !report(&args, &line, &mut out, &mut first)?;
            }
        } else {
            rejected |= !report(&args, input.as_bytes(), &mut out, &mut first)?;
        }
    }
    Ok(if rejected {
        ExitCode::from(super::REJECTED)
    } else {
        ExitCode::SUCCESS
    })
}

/// Parses and prints one input; returns whether it was valid.
fn report(
    args: &Args,
    input: &[u8],
    out: &mut impl Write,
    first: &mut bool,
) -> std::io::Result<bool> {
    let frame: Vec<u8> = input
        .iter()
        .map(|&b| if b == b'^' { GS } else { b })
        .collect();
    let parsed = gs1::parse_scan(&frame, args.substitute);
    let mut report = ScanReport::of(&frame, &parsed);
    let rendered = match (&parsed, args.format) {
        (Ok(scan), Some(format)) => Some(render(&scan.content, format, &args.dl_stem)),
        _ => None,
    };
    if let Some(Err(error)) = &rendered {
        report.ok = false;
        report.error = Some(error.to_string());
    }
    if args.json {
        let mut value = serde_json::to_value(&report).expect("a report is plain data");
        if let Some(Ok(text)) = &rendered {
            value["rendered"] = text.clone().into();
        }
        writeln!(out, "{value}")?;
    } else {
        if !*first && rendered.is_none() {
            writeln!(out)?;
        }
        match &rendered {
            Some(Ok(text)) => writeln!(out, "{text}")?,
            _ => write!(out, "{report}")?,
        }
        if !report.ok {
            writeln!(out)?;
        }
    }
    *first = false;
    Ok(report.ok)
}

fn render(content: &Content<'_>, format: Format, stem: &str) -> Result<String, RenderError> {
    let Content::Gs1(elements) = content else {
        return Err(RenderError::NotGs1);
    };
    match format {
        Format::Bracketed => Ok(gs1::render_bracketed(elements)),
        Format::Unbracketed => {
            let body = gs1::render_unbracketed(elements, b'^');
            Ok(format!("^{}", String::from_utf8_lossy(&body)))
        }
        Format::Dl => Ok(gs1::render_digital_link(elements, stem)?),
    }
}
