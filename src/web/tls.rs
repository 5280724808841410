//! TLS for the servers' HTTP (head office always, the site daemon when
//! `[http] cert`/`key` are set): the configured certificate chain and key
//! (rustls, `ring` provider). The handshake itself happens per connection
//! in `web::server`, under the same connection limit and timeouts as HTTP.
//!
//! The certificate's validity is read at start: an expired one (every
//! client refuses the handshake: sites stop syncing, browsers and handhelds
//! stop connecting) or one expiring soon is logged at start and reported by
//! head office's health route, so it is noticed before clients fall silent.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A certificate this close to its end is reported as expiring.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// The served (leaf) certificate's subject and validity.
#[derive(Debug, Clone)]
pub struct Certificate {
    pub(crate) path: PathBuf,
    pub(crate) subject: String,
    pub(crate) not_before: DateTime<Utc>,
    pub(crate) not_after: DateTime<Utc>,
}

impl Certificate {
    fn read(path: &Path, der: &CertificateDer<'_>) -> Result<Certificate, TlsError> {
        let (_, cert) =
            x509_parser::parse_x509_certificate(der).map_err(|e| TlsError::Unreadable {
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
        let time = |t: x509_parser::time::ASN1Time| {
            DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
        };
        let validity = cert.validity();
        Ok(Certificate {
            path: path.to_owned(),
            subject: cert.subject().to_string(),
            not_before: time(validity.not_before),
            not_after: time(validity.not_after),
        })
    }

    /// `Err` with what to do when it is not valid at `now` (sites refuse
    /// it); `Ok(Some(..))` when it expires within `EXPIRY_WARNING_DAYS`.
    pub fn check(&self, now: DateTime<Utc>) -> Result<Option<String>, CertificateInvalid> {
        self.check_within(now, EXPIRY_WARNING_DAYS)
    }

    /// [`Certificate::check`] with `days` for how close to its end a
    /// certificate is expiring (the site's `[alerts] certificate_days`).
    pub fn check_within(
        &self,
        now: DateTime<Utc>,
        days: i64,
    ) -> Result<Option<String>, CertificateInvalid> {
        let what = format!(
            "the served certificate {} ({})",
            self.path.display(),
            self.subject
        );
        if now >= self.not_after {
            return Err(CertificateInvalid::Expired {
                path: self.path.clone(),
                subject: self.subject.clone(),
                not_after: self.not_after,
            });
        }
        if now < self.not_before {
            return Err(CertificateInvalid::NotYetValid {
                path: self.path.clone(),
                subject: self.subject.clone(),
                not_before: self.not_before,
            });
        }
        let left = self.not_after - now;
        Ok(
            (left < chrono::Duration::days(days)).then(|| {
                format!(
                "{what} expires on {} (in {} days): renew it before then, or clients stop connecting",
                self.not_after.format("%Y-%m-%d %H:%M UTC"),
                left.num_days()
            )
            }),
        )
    }

    /// Logs the certificate's state once, at start.
    pub fn log(&self) {
        match self.check(Utc::now()) {
            Err(problem) => tracing::error!(%problem, "the served certificate is not valid"),
            Ok(Some(warning)) => tracing::warn!(%warning, "the served certificate expires soon"),
            Ok(None) => {
                tracing::info!(subject = %self.subject, not_after = %self.not_after, "certificate valid")
            }
        }
    }
}

/// Why the served certificate is not valid now: clients (sites, handhelds,
/// browsers) refuse the handshake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateInvalid {
    /// Past its end.
    #[error("the served certificate {} ({subject}) expired on {}: clients (sites, handhelds, browsers) refuse it; install a renewed certificate and restart the server", .path.display(), .not_after.format("%Y-%m-%d %H:%M UTC"))]
    Expired {
        /// The certificate file.
        path: PathBuf,
        /// Its subject.
        subject: String,
        /// When it ended.
        not_after: DateTime<Utc>,
    },
    /// Before its start: a certificate issued for later, or a clock that is
    /// wrong.
    #[error("the served certificate {} ({subject}) is not valid before {}: check the certificate and this machine's clock", .path.display(), .not_before.format("%Y-%m-%d %H:%M UTC"))]
    NotYetValid {
        /// The certificate file.
        path: PathBuf,
        /// Its subject.
        subject: String,
        /// When it starts.
        not_before: DateTime<Utc>,
    },
}

/// Why the configured certificate and key cannot be served, naming the
/// file and what to fix.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The file cannot be read or is not PEM.
    #[error("cannot read {what} from {path}: {reason}")]
    Read {
        /// "a PEM certificate chain" or "a PEM private key".
        what: &'static str,
        /// The configured file.
        path: PathBuf,
        /// The reader's own words.
        reason: String,
    },
    /// The file is PEM but holds no certificate.
    #[error("{} holds no certificate: point `cert` at the PEM certificate chain", path.display())]
    Empty {
        /// The configured file.
        path: PathBuf,
    },
    /// The leaf certificate cannot be parsed as X.509.
    #[error("the first certificate in {} cannot be read: {reason}", path.display())]
    Unreadable {
        /// The configured file.
        path: PathBuf,
        /// The parser's own words.
        reason: String,
    },
    /// rustls refused the pair (most often a key of another certificate).
    #[error("the certificate and key cannot be served together (is the key the certificate's own?): {0}")]
    Mismatch(rustls::Error),
}

/// The TLS configuration, and the leaf certificate's validity.
pub fn server_config(
    cert: &Path,
    key: &Path,
) -> Result<(rustls::ServerConfig, Certificate), TlsError> {
    fn read<'a>(
        what: &'static str,
        path: &'a Path,
    ) -> impl Fn(rustls::pki_types::pem::Error) -> TlsError + 'a {
        move |e| TlsError::Read {
            what,
            path: path.to_owned(),
            reason: e.to_string(),
        }
    }
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(read("a PEM certificate chain", cert))?
        .collect::<Result<_, _>>()
        .map_err(read("a PEM certificate chain", cert))?;
    if chain.is_empty() {
        return Err(TlsError::Empty {
            path: cert.to_owned(),
        });
    }
    let certificate = Certificate::read(cert, &chain[0])?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(read("a PEM private key", key))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_no_client_auth().with_single_cert(chain, key))
        .map_err(TlsError::Mismatch)
        .map(|config| (config, certificate))
}
