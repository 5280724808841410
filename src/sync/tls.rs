//! The site side of TLS: an HTTP agent that trusts exactly the CA the
//! `[sync] ca` file names (or, without one, the public web roots ureq
//! ships), so a site refuses any server it was not told to trust.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

pub(super) fn client_config(
    ca: Option<&Path>,
) -> anyhow::Result<Option<Arc<rustls::ClientConfig>>> {
    let Some(ca) = ca else { return Ok(None) };
    let mut roots = rustls::RootCertStore::empty();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(ca)
        .with_context(|| format!("cannot read the CA certificate {}", ca.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("{} is not a PEM certificate", ca.display()))?;
    let (added, _) = roots.add_parsable_certificates(certs);
    if added == 0 {
        anyhow::bail!("{} holds no usable CA certificate", ca.display());
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Some(Arc::new(config)))
}

/// A blocking HTTP agent for head office.
pub fn agent(ca: Option<&Path>, timeout: Duration) -> anyhow::Result<ureq::Agent> {
    let mut builder = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(5))
        .timeout(timeout)
        .max_idle_connections_per_host(2);
    if let Some(config) = client_config(ca)? {
        builder = builder.tls_config(config);
    }
    Ok(builder.build())
}
