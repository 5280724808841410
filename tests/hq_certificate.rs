//! Head office with an expired or expiring certificate: it says so when it
//! starts, and its health route reports it, instead of starting without a
//! word while every site's handshake fails.

mod support;
mod sync_support;

use std::path::Path;
use std::time::Duration;

use sync_support::{certificate_ending_in, HqDir};

fn log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("hq.log")).unwrap_or_default()
}

#[test]
fn an_expired_certificate_is_reported_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let hq = HqDir::new(tmp.path(), &["north"], "");
    certificate_ending_in(&hq, -3);
    let proc = hq.start();
    let log = log(tmp.path());
    assert!(log.contains("certificate is not valid"), "{log}");
    assert!(log.contains("expired on"), "{log}");
    assert!(log.contains("renewed certificate"), "{log}");
    proc.stop();
}

#[test]
fn a_certificate_expiring_soon_is_warned_at_start_and_in_health() {
    let tmp = tempfile::tempdir().unwrap();
    let hq = HqDir::new(tmp.path(), &["north"], "");
    certificate_ending_in(&hq, 10);
    let proc = hq.start();
    let log = log(tmp.path());
    assert!(log.contains("certificate expires soon"), "{log}");
    let agent = scantrail::sync::tls::agent(Some(&hq.pki.ca), Duration::from_secs(5)).unwrap();
    let health: serde_json::Value = agent
        .get(&format!("{}/api/v1/health", hq.url()))
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    assert_eq!(health["ok"], true, "{health}");
    assert_eq!(health["store"], "ok", "{health}");
    let warning = health["certificate"]["warning"]
        .as_str()
        .unwrap_or_default();
    assert!(
        warning.contains("expires on") && warning.contains("renew"),
        "{health}"
    );
    assert!(health["certificate"]["not_after"].is_string(), "{health}");
    proc.stop();
}
