//! A scan's verdict as the command line and the API show it: one JSON
//! object (`ok`, `ais` or `error`) or a few human lines.

use std::fmt;

use serde::Serialize;

use super::{Content, Gs1Error, Scan, Symbology};

/// The outcome of parsing one input, ready to print or serialise.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ScanReport {
    /// Whether the input is valid.
    pub ok: bool,
    /// AIM identifier and name, e.g. `]d2 GS1 DataMatrix`; absent when the
    /// scanner sent none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbology: Option<String>,
    /// The AIs in the order they were read; present when `ok` and GS1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ais: Option<Vec<AiValue>>,
    /// Non-GS1 data, as text (invalid UTF-8 replaced).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// Why the input was rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One AI of a valid scan, as reported.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AiValue {
    /// The AI, e.g. `01`.
    pub ai: String,
    /// Its data title, e.g. `GTIN`.
    pub title: String,
    /// Its value.
    pub value: String,
}

impl ScanReport {
    /// Parses `frame` (as a scanner sent it; `substitute` is the profile's
    /// stand-in byte for GS) and reports the verdict.
    pub fn of_frame(frame: &[u8], substitute: Option<u8>) -> ScanReport {
        ScanReport::of(frame, &super::parse_scan(frame, substitute))
    }

    /// Reports a parse already made of `frame`.
    pub fn of(frame: &[u8], parsed: &Result<Scan<'_>, Gs1Error>) -> ScanReport {
        let symbology = match frame {
            [b']', code, modifier, ..] => Some(Symbology::Aim {
                code: *code,
                modifier: *modifier,
            }),
            _ => None,
        };
        let mut report = ScanReport {
            ok: parsed.is_ok(),
            symbology: symbology
                .map(|s| format!("{} {}", s.aim_id().unwrap_or_default(), s.name())),
            ais: None,
            data: None,
            error: None,
        };
        match parsed {
            Ok(Scan {
                content: Content::Gs1(elements),
                ..
            }) => {
                report.ais = Some(
                    elements
                        .iter()
                        .map(|e| AiValue {
                            ai: e.ai().to_owned(),
                            title: e.title().to_owned(),
                            value: e.value().to_owned(),
                        })
                        .collect(),
                )
            }
            Ok(Scan {
                content: Content::Other(data),
                ..
            }) => report.data = Some(String::from_utf8_lossy(data).into_owned()),
            Err(error) => report.error = Some(error.to_string()),
        }
        report
    }
}

/// Human form: one line per AI, `(01) GTIN: 09506000134352`, or the error.
impl fmt::Display for ScanReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(symbology) = &self.symbology {
            writeln!(f, "symbology: {symbology}")?;
        }
        if let Some(error) = &self.error {
            return write!(f, "rejected: {error}");
        }
        for ai in self.ais.iter().flatten() {
            writeln!(f, "({}) {}: {}", ai.ai, ai.title, ai.value)?;
        }
        if let Some(data) = &self.data {
            writeln!(f, "non-GS1 data: {data}")?;
        }
        Ok(())
    }
}
