//! Device profiles (`devices/*.toml`): what one scanner family sends and
//! expects, so that the serial source needs no vendor knowledge in code.
//!
//! A profile is read once at start-up and validated; every error names the
//! file, the line and the key, and says what to change.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::backoff::Backoff;
use super::symbology::{Aim, AimMode, LabelMap};

/// A validated device profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The file's stem, e.g. `generic-aim`; recorded with every scan.
    pub name: String,
    pub(super) path: PathBuf,
    pub(super) serial: SerialSettings,
    /// How frames are cut out of the scanner's byte stream.
    pub framing: Framing,
    pub(super) aim: AimMode,
    pub(super) labels: LabelMap,
    /// The byte the scanner sends where it cannot send GS (0x1D).
    pub fnc1_substitute: Option<u8>,
    /// What scantrail writes to the scanner: at connect, for a good read, for a
    /// bad read.
    pub feedback: FeedbackBytes,
    pub(super) reconnect: Backoff,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct SerialSettings {
    pub(super) baud: u32,
    pub(super) data_bits: u8,
    pub(super) parity: Parity,
    pub(super) stop_bits: u8,
    pub(super) flow_control: FlowControl,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum Parity {
    None,
    Odd,
    Even,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum FlowControl {
    None,
    Software,
    Hardware,
}

/// How frames are cut out of the byte stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Framing {
    pub(super) prefix: Vec<u8>,
    /// Empty: the scanner sends no suffix and a pause ends the frame.
    pub suffix: Vec<u8>,
    pub(super) max_frame_len: usize,
    /// A pause this long ends a frame (no suffix) or marks it as cut off.
    pub inter_byte_timeout: Option<Duration>,
}

/// Bytes written to the scanner.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedbackBytes {
    /// Written once each time the port opens (a scanner's set-up command);
    /// empty for none.
    pub init: Vec<u8>,
    /// Written for an accepted scan (a beep or LED command); empty when the
    /// scanner has none.
    pub good_read: Vec<u8>,
    /// Written for a refused scan; empty when the scanner has none.
    pub bad_read: Vec<u8>,
}

/// Why a profile was refused: `file: line N: key: reason`.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The profile file could not be read.
    #[error("cannot read the device profile {path}: {source}")]
    Read {
        /// The profile file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The profile is not valid: `problem` names the line, the key and what
    /// to change.
    #[error("{path}: {problem}")]
    Invalid {
        /// The profile file.
        path: PathBuf,
        /// What is wrong, where, and what to do.
        problem: ProfileProblem,
    },
}

/// Where in a profile's text a key is: its line when it is written there,
/// and its name (`framing.suffix`); a default that is not written has no
/// line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileKey {
    /// The line of the key, from 1, when the key is written.
    pub line: Option<usize>,
    /// The table, e.g. `framing`.
    pub section: &'static str,
    /// The key in it, e.g. `suffix`.
    pub key: &'static str,
}

impl ProfileKey {
    fn find(text: &str, section: &'static str, key: &'static str) -> ProfileKey {
        ProfileKey {
            line: crate::config::line_of(text, section, key),
            section,
            key,
        }
    }
}

impl fmt::Display for ProfileKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        write!(f, "key `{}.{}`", self.section, self.key)
    }
}

/// What is wrong with a profile's text, at which key, and what to write
/// instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileProblem {
    /// Not TOML, or a key or value the profile format does not have; the
    /// words name the line.
    #[error("{0}")]
    Toml(String),
    /// `serial.data_bits` out of 5..=8.
    #[error("{at}: data bits must be 5, 6, 7 or 8 (scanners use 8, or 7 with parity)")]
    DataBits {
        /// The key.
        at: ProfileKey,
    },
    /// `serial.stop_bits` not 1 or 2.
    #[error("{at}: stop bits must be 1 or 2")]
    StopBits {
        /// The key.
        at: ProfileKey,
    },
    /// `serial.baud` zero or beyond any UART.
    #[error("{at}: {baud} is not a baud rate; use the scanner's setting, e.g. 9600 or 115200")]
    Baud {
        /// The key.
        at: ProfileKey,
        /// The rate given.
        baud: u32,
    },
    /// Neither a suffix nor a timeout ends a frame.
    #[error("{at}: a scanner without a suffix needs `inter_byte_timeout_ms` to end its frames (e.g. 50)")]
    NoFrameEnd {
        /// The key.
        at: ProfileKey,
    },
    /// `framing.inter_byte_timeout_ms` of 0.
    #[error("{at}: must be at least 1 ms")]
    ZeroTimeout {
        /// The key.
        at: ProfileKey,
    },
    /// `framing.max_frame_len` out of 16..=65536.
    #[error("{at}: must be between 16 and 65536 bytes (GS1 barcodes fit in 4096)")]
    MaxFrameLen {
        /// The key.
        at: ProfileKey,
    },
    /// A prefix or suffix byte that barcode data contains.
    #[error("{at}: letters, digits and GS1 punctuation occur in barcode data and cannot delimit frames; use control bytes such as CR, LF or STX (0x02)")]
    DataDelimiter {
        /// The key (`framing.suffix` or `framing.prefix`).
        at: ProfileKey,
    },
    /// A GS substitute that barcode data or the frame's delimiters contain.
    #[error("{at}: {:?} can occur in barcode data or frames; choose a byte GS1 data never contains, e.g. `|` or `~`", char::from(*.byte))]
    SubstituteInData {
        /// The key.
        at: ProfileKey,
        /// The byte given.
        byte: u8,
    },
    /// A GS substitute of other than one byte.
    #[error("{at}: give exactly one byte, e.g. \"|\"")]
    SubstituteLength {
        /// The key.
        at: ProfileKey,
    },
    /// A vendor label ID of 0 or more than 3 bytes.
    #[error("{at}: vendor label IDs are 1 to 3 bytes, got {label:?}")]
    LabelLength {
        /// The key.
        at: ProfileKey,
        /// The label given.
        label: String,
    },
    /// A label mapped to something that is no AIM identifier.
    #[error("{at}: {target:?} is not an AIM identifier; write it as `]` + symbology letter + modifier, e.g. \"]C1\"")]
    NotAim {
        /// The key.
        at: ProfileKey,
        /// What the label was mapped to.
        target: String,
    },
    /// Label IDs with `aim = "absent"`.
    #[error(
        "{at}: label IDs identify the symbology, so `aim` cannot be \"absent\"; use \"expected\""
    )]
    LabelsWithoutAim {
        /// The key.
        at: ProfileKey,
    },
    /// Reconnect delays out of order.
    #[error("{at}: need 0 < initial_ms <= max_ms (e.g. 100 and 5000)")]
    Reconnect {
        /// The key.
        at: ProfileKey,
    },
}

// ---- the file as written -------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    #[allow(dead_code)] // documentation for people reading the file
    description: String,
    #[serde(default)]
    serial: SerialFile,
    framing: FramingFile,
    #[serde(default)]
    symbology: SymbologyFile,
    #[serde(default)]
    feedback: FeedbackFile,
    #[serde(default)]
    reconnect: ReconnectFile,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct SerialFile {
    baud: u32,
    data_bits: u8,
    parity: Parity,
    stop_bits: u8,
    flow_control: FlowControl,
}

impl Default for SerialFile {
    fn default() -> Self {
        SerialFile {
            baud: 9600,
            data_bits: 8,
            parity: Parity::None,
            stop_bits: 1,
            flow_control: FlowControl::None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FramingFile {
    suffix: ByteSpec,
    #[serde(default)]
    prefix: Option<ByteSpec>,
    #[serde(default = "default_max_len")]
    max_frame_len: usize,
    #[serde(default)]
    inter_byte_timeout_ms: Option<u64>,
    #[serde(default)]
    fnc1_substitute: Option<ByteSpec>,
}

fn default_max_len() -> usize {
    4096
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SymbologyFile {
    #[serde(default)]
    aim: Option<AimMode>,
    #[serde(default)]
    label_ids: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FeedbackFile {
    init: Option<ByteSpec>,
    good_read: Option<ByteSpec>,
    bad_read: Option<ByteSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ReconnectFile {
    initial_ms: u64,
    max_ms: u64,
}

impl Default for ReconnectFile {
    fn default() -> Self {
        ReconnectFile {
            initial_ms: 100,
            max_ms: 5000,
        }
    }
}

/// A byte sequence: a string (TOML escapes such as `\r` and `\u001D` work;
/// `CR`, `LF`, `CRLF`, `TAB`, `GS`, `none` are names) or an array of bytes.
#[derive(Deserialize)]
#[serde(untagged)]
enum ByteSpec {
    Text(String),
    Bytes(Vec<u8>),
}

impl ByteSpec {
    fn bytes(self) -> Vec<u8> {
        match self {
            ByteSpec::Bytes(b) => b,
            ByteSpec::Text(t) => match t.as_str() {
                "CR" => b"\r".to_vec(),
                "LF" => b"\n".to_vec(),
                "CRLF" => b"\r\n".to_vec(),
                "TAB" => b"\t".to_vec(),
                "GS" => vec![0x1D],
                "none" => Vec::new(),
                _ => t.into_bytes(),
            },
        }
    }
}

// ---- loading and validation ---------------------------------------------

/// Characters that occur in GS1 data (set 82): a substitute for GS must not
/// be one of them or it would be read as data.
pub fn is_gs1_data_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!\"%&'()*+,-./:;<=>?_".contains(&b)
}

impl Profile {
    /// Reads and validates a profile file.
    pub fn load(path: &Path) -> Result<Profile, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Read {
            path: path.to_owned(),
            source,
        })?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Profile::parse(&text, &name, path).map_err(|problem| ProfileError::Invalid {
            path: path.to_owned(),
            problem,
        })
    }

    /// Parses profile text; the error names the line and the key.
    pub fn parse(text: &str, name: &str, path: &Path) -> Result<Profile, ProfileProblem> {
        use ProfileProblem as P;
        let file: File = toml::from_str(text)
            .map_err(|e| P::Toml(crate::config::describe_toml_error(text, &e)))?;
        let at = |section, key| ProfileKey::find(text, section, key);

        let s = file.serial;
        if !(5..=8).contains(&s.data_bits) {
            return Err(P::DataBits {
                at: at("serial", "data_bits"),
            });
        }
        if !(1..=2).contains(&s.stop_bits) {
            return Err(P::StopBits {
                at: at("serial", "stop_bits"),
            });
        }
        if s.baud == 0 || s.baud > 4_000_000 {
            return Err(P::Baud {
                at: at("serial", "baud"),
                baud: s.baud,
            });
        }

        let f = file.framing;
        let suffix = f.suffix.bytes();
        let prefix = f.prefix.map(ByteSpec::bytes).unwrap_or_default();
        let timeout = f.inter_byte_timeout_ms.map(Duration::from_millis);
        if suffix.is_empty() && timeout.is_none() {
            return Err(P::NoFrameEnd {
                at: at("framing", "suffix"),
            });
        }
        if timeout == Some(Duration::ZERO) {
            return Err(P::ZeroTimeout {
                at: at("framing", "inter_byte_timeout_ms"),
            });
        }
        if !(16..=65536).contains(&f.max_frame_len) {
            return Err(P::MaxFrameLen {
                at: at("framing", "max_frame_len"),
            });
        }
        if suffix.iter().chain(&prefix).any(|&b| is_gs1_data_char(b)) {
            let key = if suffix.iter().any(|&b| is_gs1_data_char(b)) {
                "suffix"
            } else {
                "prefix"
            };
            return Err(P::DataDelimiter {
                at: at("framing", key),
            });
        }
        let fnc1_substitute = match f.fnc1_substitute.map(ByteSpec::bytes) {
            None => None,
            Some(b) if b.len() == 1 => {
                let b = b[0];
                if is_gs1_data_char(b) || b == 0x1D || suffix.contains(&b) || prefix.contains(&b) {
                    return Err(P::SubstituteInData {
                        at: at("framing", "fnc1_substitute"),
                        byte: b,
                    });
                }
                Some(b)
            }
            Some(_) => {
                return Err(P::SubstituteLength {
                    at: at("framing", "fnc1_substitute"),
                })
            }
        };

        let aim = file.symbology.aim.unwrap_or(AimMode::Optional);
        let mut labels = Vec::new();
        for (label, target) in file.symbology.label_ids {
            let label = label.into_bytes();
            if label.is_empty() || label.len() > 3 {
                return Err(P::LabelLength {
                    at: at("symbology", "label_ids"),
                    label: String::from_utf8_lossy(&label).into_owned(),
                });
            }
            let Some(aim_id) = Aim::from_prefix(target.as_bytes()).filter(|_| target.len() == 3)
            else {
                return Err(P::NotAim {
                    at: at("symbology", "label_ids"),
                    target,
                });
            };
            labels.push((label, aim_id));
        }
        if aim == AimMode::Absent && !labels.is_empty() {
            return Err(P::LabelsWithoutAim {
                at: at("symbology", "aim"),
            });
        }

        let fb = file.feedback;
        let r = file.reconnect;
        if r.initial_ms == 0 || r.max_ms < r.initial_ms {
            return Err(P::Reconnect {
                at: at("reconnect", "initial_ms"),
            });
        }
        Ok(Profile {
            name: name.to_owned(),
            path: path.to_owned(),
            serial: SerialSettings {
                baud: s.baud,
                data_bits: s.data_bits,
                parity: s.parity,
                stop_bits: s.stop_bits,
                flow_control: s.flow_control,
            },
            framing: Framing {
                prefix,
                suffix,
                max_frame_len: f.max_frame_len,
                inter_byte_timeout: timeout,
            },
            aim,
            labels: LabelMap::new(labels),
            fnc1_substitute,
            feedback: FeedbackBytes {
                init: fb.init.map(ByteSpec::bytes).unwrap_or_default(),
                good_read: fb.good_read.map(ByteSpec::bytes).unwrap_or_default(),
                bad_read: fb.bad_read.map(ByteSpec::bytes).unwrap_or_default(),
            },
            reconnect: Backoff::new(
                Duration::from_millis(r.initial_ms),
                Duration::from_millis(r.max_ms),
            ),
        })
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name, self.path.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Profile, ProfileProblem> {
        Profile::parse(text, "t", Path::new("t.toml"))
    }

    /// The words of `text`'s refusal.
    fn refusal(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn minimal_profile_gets_defaults() {
        let p = parse("[framing]\nsuffix = \"CR\"\n").unwrap();
        assert_eq!(p.serial.baud, 9600);
        assert_eq!(p.framing.suffix, b"\r");
        assert_eq!(p.framing.max_frame_len, 4096);
        assert_eq!(p.aim, AimMode::Optional);
    }

    #[test]
    fn byte_sequences_as_names_strings_or_arrays() {
        let p = parse("[framing]\nsuffix = [13, 10]\nprefix = \"\\u0002\"\nfnc1_substitute = \"|\"\n[feedback]\ngood_read = \"\\u0007\"\n").unwrap();
        assert_eq!(p.framing.suffix, b"\r\n");
        assert_eq!(p.framing.prefix, [2]);
        assert_eq!(p.fnc1_substitute, Some(b'|'));
        assert_eq!(p.feedback.good_read, [7]);
    }

    #[test]
    fn errors_name_line_and_key() {
        let e = refusal("[framing]\nsuffix = \"CR\"\n[serial]\nbaud = 9600\nparity = \"mark\"\n");
        assert!(e.contains("line 5") && e.contains("mark"), "{e}");
        let e = refusal("[framing]\nsuffix = \"CR\"\ncolour = 1\n");
        assert!(e.contains("line 3") && e.contains("colour"), "{e}");
        let e = refusal("[framing]\nsuffix = \"CR\"\n[serial]\ndata_bits = 9\n");
        assert!(
            e.contains("line 4") && e.contains("serial.data_bits"),
            "{e}"
        );
        let e = refusal("[framing]\nsuffix = \"none\"\n");
        assert!(
            e.contains("framing.suffix") && e.contains("inter_byte_timeout_ms"),
            "{e}"
        );
        let e = refusal("[framing]\nsuffix = \"CR\"\nfnc1_substitute = \"A\"\n");
        assert!(e.contains("line 3") && e.contains("fnc1_substitute"), "{e}");
        let e =
            refusal("[framing]\nsuffix = \"CR\"\n[symbology]\nlabel_ids = { \"k\" = \"C1\" }\n");
        assert!(e.contains("line 4") && e.contains("label_ids"), "{e}");
        assert!(
            matches!(
                parse("[framing]\nsuffix = \"CR\"\n[serial]\ndata_bits = 9\n"),
                Err(ProfileProblem::DataBits {
                    at: ProfileKey {
                        line: Some(4),
                        section: "serial",
                        key: "data_bits"
                    }
                })
            ),
            "the key and its line are data, not only words"
        );
        let e = refusal("[framing]\nsuffix = \"X\"\n");
        assert!(e.contains("framing.suffix"), "{e}");
    }

    #[test]
    fn shipped_profiles_load() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("devices");
        let mut n = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                Profile::load(&path).unwrap_or_else(|e| panic!("{e}"));
                n += 1;
            }
        }
        assert!(n >= 5);
    }
}
