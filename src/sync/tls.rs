//! The site side of TLS: an HTTP agent that trusts exactly the CA the
//! `[sync] ca` file names (or, without one, the public web roots ureq
//! ships), so a site refuses any server it was not told to trust.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::CertificateDer;

/// Why the `[sync] ca` file cannot be trusted as head office's CA, naming
/// the file.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    /// The file cannot be opened or read.
    #[error("cannot read the CA certificate {}: {source}", .path.display())]
    Read {
        /// The `[sync] ca` file.
        path: PathBuf,
        /// What reading it found.
        source: pem::Error,
    },
    /// The file is read but a certificate in it is not PEM.
    #[error("{} is not a PEM certificate: {source}", .path.display())]
    NotPem {
        /// The `[sync] ca` file.
        path: PathBuf,
        /// What parsing found.
        source: pem::Error,
    },
    /// No certificate in the file can be a trust root.
    #[error("{} holds no usable CA certificate: give the PEM certificate of the CA that signed head office's", .path.display())]
    NoUsable {
        /// The `[sync] ca` file.
        path: PathBuf,
    },
    /// rustls refused its own default protocol versions (a build problem).
    #[error("TLS protocol versions: {0}")]
    Versions(#[from] rustls::Error),
}

pub(super) fn client_config(
    ca: Option<&Path>,
) -> Result<Option<Arc<rustls::ClientConfig>>, CaError> {
    let Some(ca) = ca else { return Ok(None) };
    let path = || ca.to_owned();
    let mut roots = rustls::RootCertStore::empty();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(ca)
        .map_err(|source| CaError::Read {
            path: path(),
            source,
        })?
        .collect::<Result<_, _>>()
        .map_err(|source| CaError::NotPem {
            path: path(),
            source,
        })?;
    let (added, _) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(CaError::NoUsable { path: path() });
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Some(Arc::new(config)))
}

/// A blocking HTTP agent for head office.
pub fn agent(ca: Option<&Path>, timeout: Duration) -> Result<ureq::Agent, CaError> {
    let mut builder = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(5))
        .timeout(timeout)
        .max_idle_connections_per_host(2);
    if let Some(config) = client_config(ca)? {
        builder = builder.tls_config(config);
    }
    Ok(builder.build())
}
