//! Why a scan was rejected, in words a dock supervisor understands, with the
//! AI and the byte offset where the problem is.

use std::fmt;

use super::lint::Problem;

/// A rejected input: what is wrong, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gs1Error {
    /// The AI the problem belongs to, when there is one.
    pub ai: Option<&'static str>,
    /// Byte offset in the input as given (AIM identifier included).
    pub offset: usize,
    /// What is wrong.
    pub kind: ErrorKind,
}

/// What is wrong with an input, for matching; [`Gs1Error`]'s `Display`
/// says it in words.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Nothing to parse.
    Empty,
    /// `]` without the two characters of a symbology identifier.
    IncompleteSymbologyId,
    /// No AI of the dictionary starts here; `found` is what was there.
    UnknownAi {
        /// The digits (or other bytes) where the AI should be.
        found: String,
    },
    /// An AI with nothing after it.
    EmptyValue,
    /// Two separators (GS) in a row, or one where an AI should start.
    UnexpectedSeparator,
    /// Shorter than the AI allows.
    TooShort {
        /// The shortest value the AI accepts.
        min: usize,
        /// The value's length.
        found: usize,
    },
    /// Longer than the AI allows; for a variable-length AI followed by
    /// another, the separator (GS) is probably missing.
    TooLong {
        /// The longest value the AI accepts.
        max: usize,
        /// The value's length.
        found: usize,
    },
    /// A component failed one of the dictionary's checks.
    Invalid {
        /// The whole value of the AI.
        value: String,
        /// What the linter found wrong.
        problem: Problem,
    },
    /// Bytes that are not text where a value should be.
    NotText,
    /// The same AI twice with different values.
    RepeatedWithDifferentValue {
        /// The value first seen.
        first: String,
        /// The differing value seen later.
        second: String,
    },
    /// Two AIs that may not appear together.
    Excluded {
        /// The other AI.
        other: &'static str,
    },
    /// An AI that needs another AI that is missing; `needs` lists the
    /// alternatives as the dictionary does, e.g. `01,02,8006`.
    Requires {
        /// The dictionary's `req=` list that is not satisfied.
        needs: String,
    },
    /// A key that a digital signature (8030) signs without its optional
    /// serial component: the signature must sign one instance, not a class
    /// (GDTI (253), GCN (255), GRAI (8003)).
    SerialMissing {
        /// The length of the key without its serial part.
        key_length: usize,
    },
    /// Bracketed form: the problem in words.
    Bracketed(&'static str),
    /// GS1 Digital Link URI: the problem in words.
    DigitalLink(String),
    /// EAN/UPC/ITF data of the wrong length or with non-digits.
    BadGtinCarrier {
        /// The carrier, e.g. `EAN-13 / UPC-A`.
        symbology: &'static str,
        /// The data's length.
        found: usize,
    },
    /// Renderers: the data cannot be written in the asked form.
    CannotRender(String),
}

impl Gs1Error {
    pub(crate) fn at(ai: Option<&'static str>, offset: usize, kind: ErrorKind) -> Gs1Error {
        Gs1Error { ai, offset, kind }
    }
}

impl std::error::Error for Gs1Error {}

impl fmt::Display for Gs1Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ai {
            Some(ai) => write!(f, "AI ({ai}) at byte {}: ", self.offset)?,
            None => write!(f, "at byte {}: ", self.offset)?,
        }
        match &self.kind {
            ErrorKind::Empty => f.write_str("there is no data"),
            ErrorKind::IncompleteSymbologyId => {
                f.write_str("the symbology identifier is incomplete (expected `]` and two characters)")
            }
            ErrorKind::UnknownAi { found } => write!(
                f,
                "no GS1 Application Identifier starts with {found:?} (is the data GS1, and was a separator lost?)"
            ),
            ErrorKind::EmptyValue => f.write_str("the AI has no value"),
            ErrorKind::UnexpectedSeparator => {
                f.write_str("a separator (GS) stands where an AI should start")
            }
            ErrorKind::TooShort { min, found } => {
                write!(f, "the value has {found} characters, at least {min} are needed")
            }
            ErrorKind::TooLong { max, found } => write!(
                f,
                "the value has {found} characters, at most {max} are allowed (is the separator (GS) before the next AI missing?)"
            ),
            ErrorKind::Invalid { value, problem } => write!(f, "{value} {problem}"),
            ErrorKind::NotText => f.write_str("the value is not text"),
            ErrorKind::RepeatedWithDifferentValue { first, second } => write!(
                f,
                "the AI appears twice with different values ({first} and {second})"
            ),
            ErrorKind::Excluded { other } => {
                write!(f, "may not appear together with AI ({other})")
            }
            ErrorKind::Requires { needs } => write!(
                f,
                "needs one of these AIs in the same barcode: {}",
                needs.replace(',', ", ").replace('+', " with ")
            ),
            ErrorKind::SerialMissing { key_length } => write!(
                f,
                "the serial component must be present when used with AI (8030), a digital signature; the value has only the {key_length} characters of the key (add its serial part)"
            ),
            ErrorKind::Bracketed(problem) => f.write_str(problem),
            ErrorKind::DigitalLink(problem) => f.write_str(problem),
            ErrorKind::BadGtinCarrier { symbology, found } => write!(
                f,
                "{symbology} data must be digits of the right length, found {found} characters"
            ),
            ErrorKind::CannotRender(why) => f.write_str(why),
        }
    }
}
