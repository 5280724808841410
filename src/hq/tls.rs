//! TLS for head office's API: the configured certificate chain and key
//! (rustls, `ring` provider). The handshake itself happens per connection
//! in `web::server`, under the same connection limit and timeouts as HTTP.
//!
//! The certificate's validity is read at start: an expired one (every site
//! refuses the handshake, so sync stops) or one expiring soon is logged at
//! start and reported by the health route, so it is noticed before sites
//! fall silent.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A certificate this close to its end is reported as expiring.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// The served (leaf) certificate's subject and validity.
#[derive(Debug, Clone)]
pub struct Certificate {
    pub(super) path: std::path::PathBuf,
    pub(crate) subject: String,
    pub(super) not_before: DateTime<Utc>,
    pub(crate) not_after: DateTime<Utc>,
}

impl Certificate {
    fn read(path: &Path, der: &CertificateDer<'_>) -> anyhow::Result<Certificate> {
        let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| {
            anyhow::anyhow!(
                "the first certificate in {} cannot be read: {e}",
                path.display()
            )
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
    pub fn check(&self, now: DateTime<Utc>) -> Result<Option<String>, String> {
        let what = format!(
            "head office's certificate {} ({})",
            self.path.display(),
            self.subject
        );
        if now >= self.not_after {
            return Err(format!(
                "{what} expired on {}: sites refuse to sync with it; install a renewed certificate and restart `scantrail hq`",
                self.not_after.format("%Y-%m-%d %H:%M UTC")
            ));
        }
        if now < self.not_before {
            return Err(format!(
                "{what} is not valid before {}: check the certificate and this machine's clock",
                self.not_before.format("%Y-%m-%d %H:%M UTC")
            ));
        }
        let left = self.not_after - now;
        Ok(
            (left < chrono::Duration::days(EXPIRY_WARNING_DAYS)).then(|| {
                format!(
                "{what} expires on {} (in {} days): renew it before then, or sites stop syncing",
                self.not_after.format("%Y-%m-%d %H:%M UTC"),
                left.num_days()
            )
            }),
        )
    }

    /// Logs the certificate's state once, at start.
    pub fn log(&self) {
        match self.check(Utc::now()) {
            Err(problem) => tracing::error!(%problem, "head office's certificate is not valid"),
            Ok(Some(warning)) => tracing::warn!(%warning, "head office's certificate expires soon"),
            Ok(None) => {
                tracing::info!(subject = %self.subject, not_after = %self.not_after, "certificate valid")
            }
        }
    }
}

/// The TLS configuration, and the leaf certificate's validity.
pub fn server_config(
    cert: &Path,
    key: &Path,
) -> anyhow::Result<(rustls::ServerConfig, Certificate)> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("cannot read the certificate {}", cert.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("{} is not a PEM certificate chain", cert.display()))?;
    if chain.is_empty() {
        anyhow::bail!("{} holds no certificate", cert.display());
    }
    let certificate = Certificate::read(cert, &chain[0])?;
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("cannot read a PEM private key from {}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the certificate and key do not go together")
        .map(|config| (config, certificate))
}
