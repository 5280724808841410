//! Head office's certificate as a site sees it: the end of validity head
//! office's `GET /api/v1/health` reports, read over the site's own trust
//! (`[sync] ca`). The doctor shows it; the site's alerts raise
//! `hq_certificate_expiring` before it ends and every site stops syncing.

use chrono::{DateTime, Utc};

/// What head office's health says of its certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HqCertificate {
    /// The end of its validity.
    pub not_after: Option<DateTime<Utc>>,
    /// Head office's own warning (expiring soon) or problem (expired).
    pub warning: Option<String>,
}

/// `GET {url}/api/v1/health` with `agent`; `None` when head office does
/// not answer. A 503 still carries the certificate's dates and problem.
pub fn read(agent: &ureq::Agent, url: &str) -> Option<HqCertificate> {
    let health: serde_json::Value = match agent.get(&format!("{url}/api/v1/health")).call() {
        Ok(r) => r.into_json().ok()?,
        Err(ureq::Error::Status(_, r)) => r.into_json().ok()?,
        Err(ureq::Error::Transport(_)) => return None,
    };
    let certificate = &health["certificate"];
    Some(HqCertificate {
        not_after: certificate["not_after"]
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc)),
        warning: certificate["warning"]
            .as_str()
            .or(certificate["problem"].as_str())
            .map(str::to_owned),
    })
}
