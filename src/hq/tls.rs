//! TLS for head office's API: the configured certificate chain and key
//! (rustls, `ring` provider), and a listener for `axum::serve` that hands
//! over only connections whose handshake finished, so a slow or broken
//! client never holds up the accept loop.
//!
//! The certificate's validity is read at start: an expired one (every site
//! refuses the handshake, so sync stops) or one expiring soon is logged at
//! start and reported by the health route, so it is noticed before sites
//! fall silent.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// How long a client may take over its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A certificate this close to its end is reported as expiring.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// The served (leaf) certificate's subject and validity.
#[derive(Debug, Clone)]
pub struct Certificate {
    pub path: std::path::PathBuf,
    pub subject: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
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

/// Accepted, handshaken TLS connections.
pub struct TlsListener {
    rx: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    pub fn new(listener: TcpListener, config: rustls::ServerConfig) -> std::io::Result<Self> {
        let local = listener.local_addr()?;
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let (tx, rx) = mpsc::channel(256);
        tokio::spawn(async move {
            loop {
                let (tcp, peer) = match listener.accept().await {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::debug!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = tcp.set_nodelay(true);
                if tx.is_closed() {
                    break;
                }
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsListener { rx, local })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(x) => x,
            // The accept loop only ends with the listener: wait forever
            // (graceful shutdown ends the server).
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// A self-signed certificate valid from 2024-01-01 to `until`, as
    /// PEM files in `dir`.
    fn certificate(dir: &Path, until: (i32, u8, u8)) -> (std::path::PathBuf, std::path::PathBuf) {
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params.not_before = rcgen::date_time_ymd(2024, 1, 1);
        params.not_after = rcgen::date_time_ymd(until.0, until.1, until.2);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&c, cert.pem()).unwrap();
        std::fs::write(&k, key.serialize_pem()).unwrap();
        (c, k)
    }

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
    }

    #[test]
    fn validity_is_read_and_judged_against_the_clock() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = certificate(dir.path(), (2030, 1, 1));
        let (_, c) = server_config(&cert, &key).unwrap();
        assert_eq!(
            c.not_after,
            Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap()
        );
        assert_eq!(c.check(at(2029, 6, 1)), Ok(None));
        let warning = c
            .check(at(2029, 12, 20))
            .unwrap()
            .expect("expires in 11 days");
        assert!(
            warning.contains("expires on 2030-01-01") && warning.contains("in 11 days"),
            "{warning}"
        );
        let expired = c.check(at(2030, 1, 2)).unwrap_err();
        assert!(
            expired.contains("expired on 2030-01-01") && expired.contains("renewed"),
            "{expired}"
        );
        assert!(expired.contains(&cert.display().to_string()), "{expired}");
        let early = c.check(at(2023, 6, 1)).unwrap_err();
        assert!(early.contains("not valid before 2024-01-01"), "{early}");
    }

    #[test]
    fn an_expired_certificate_still_loads_so_that_it_can_be_reported() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = certificate(dir.path(), (2025, 1, 1));
        let (_, c) = server_config(&cert, &key).unwrap();
        assert!(c.check(Utc::now()).is_err());
    }
}
