//! Why an EPCIS export stops: a setting that cannot work, an identifier
//! GS1's syntax refuses, or the journal or the output failing.

/// What went wrong, named so the command line and the API can say what to
/// fix.
#[derive(Debug, thiserror::Error)]
pub enum EpcisError {
    /// A setting of `[epcis]` (or the site's GLN) is missing or malformed.
    #[error("EPCIS setting `{key}`: {reason}")]
    Setting {
        /// The key as the configuration file spells it.
        key: &'static str,
        /// What is wrong and what to write instead.
        reason: String,
    },
    /// A parameter of the request is malformed or unknown.
    #[error("`{key}`: {reason}")]
    Request {
        /// The parameter (the API's query key).
        key: &'static str,
        /// What is wrong and what to give instead.
        reason: String,
    },
    /// A value cannot be written as the GS1 identifier it should be (a
    /// station id that is no valid GLN extension, AI 254).
    #[error("cannot write {what} as a GS1 identifier: {reason}")]
    Identifier {
        /// The value and what it was to become.
        what: String,
        /// GS1's reason.
        reason: String,
    },
    /// The journal could not be read.
    #[error("reading the journal: {0}")]
    Store(#[from] crate::store::StoreError),
    /// A journal other than the store (head office's database) could
    /// not be read.
    #[error("reading the journal: {0}")]
    Journal(String),
    /// The document could not be written (a closed connection, a full
    /// disk).
    #[error("writing the EPCIS document: {0}")]
    Write(#[from] std::io::Error),
}

/// Results of this module.
pub type Result<T> = std::result::Result<T, EpcisError>;
