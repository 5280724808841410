//! EPCIS capture at head office, on the real `scantrail hq` over HTTPS and
//! a real site syncing to it: a partner posts its shipping events to head
//! office, which keeps them as reference data for the site named as
//! destination (never connecting to it); the site pulls them with its
//! other reference data, and its receiving station then checks scans
//! against them. On head office's embedded store and on PostgreSQL (two
//! nodes: the job is in the database, so the other node answers it); an
//! error declaration posted later withdraws what it named at the site too.

mod support;
mod sync_support;

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};
use support::pg::TestDb;
use sync_support::*;

const SOUTH_GLN: &str = "9506000000022";
const SUPPLIER: &str = "9506000000039";
const PARTNER: &str = "hq-partner-token-0001";

/// Head office with site `south` (its GLN) and a partner token for the
/// supplier; `extra` under `[hq]`.
fn hq_with_partner(dir: &Path, extra: &str) -> HqDir {
    let hq = HqDir::new(dir, &["south"], extra);
    let text = std::fs::read_to_string(&hq.config).unwrap().replace(
        "id = \"south\"\n",
        &format!("id = \"south\"\ngln = \"{SOUTH_GLN}\"\n"),
    );
    std::fs::write(
        &hq.config,
        format!(
            "{text}[[tokens]]\nname = \"supplier-x\"\nrole = \"partner\"\nparty = \"{SUPPLIER}\"\ntoken = \"{PARTNER}\"\n"
        ),
    )
    .unwrap();
    hq
}

fn document(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/epcis/capture")
        .join(name);
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

/// (status, `Location`, body) of `method path` on `base` with the
/// partner's token.
fn partner(
    hq: &HqDir,
    base: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, String, Value) {
    let agent = scantrail::sync::tls::agent(Some(&hq.pki.ca), Duration::from_secs(30)).unwrap();
    let request = agent
        .request(method, &format!("{base}{path}"))
        .set("Authorization", &format!("Bearer {PARTNER}"));
    let result = match body {
        Some(b) => request
            .set("Content-Type", "application/ld+json")
            .send_string(&b.to_string()),
        None => request.call(),
    };
    let r = match result {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {path}: {e}"),
    };
    let status = r.status();
    let location = r.header("location").unwrap_or("").to_owned();
    let limit = r.header("gs1-epcis-capture-limit").map(str::to_owned);
    let mut body: Value = r.into_json().unwrap_or_default();
    if let Some(l) = limit {
        body = json!({ "capture_limit": l });
    }
    (status, location, body)
}

/// The site's expected receipt of `document` (admin token), once pulled.
fn expected_at_site(site: &SiteDir, document: &str) -> Option<Value> {
    let r = ureq::get(&format!(
        "{}/api/v1/expected-receipts/{document}",
        site.url()
    ))
    .set("Authorization", &format!("Bearer {SITE_ADMIN}"))
    .call()
    .ok()?;
    r.into_json().ok()
}

fn serials(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s["serial"].as_str().unwrap().to_owned())
        .collect()
}

/// The story on head office `hq`: `capture_node` takes the capture,
/// `read_node` answers the job and the site's pulls.
fn a_partner_posts_to_head_office_and_the_site_checks_scans_against_it(
    tmp: &Path,
    hq: &HqDir,
    capture_node: &str,
    read_node: &str,
) {
    // Partners reach capture only, with its limits.
    let (status, _, body) = partner(hq, capture_node, "OPTIONS", "/epcis/v2/capture", None);
    assert_eq!(status, 204);
    assert_eq!(body["capture_limit"], "10000");
    let (status, _, _) = partner(hq, capture_node, "GET", "/api/v1/sites", None);
    assert_eq!(status, 403, "a partner may not read head office's sites");

    // Not for a site of head office: refused with its path.
    let mut elsewhere = document("sgtin-shipping.jsonld");
    elsewhere["epcisBody"]["eventList"][0]["destinationList"] =
        json!([{"type": "owning_party", "destination": "https://id.gs1.org/417/9506000000046"}]);
    let (status, _, body) = partner(
        hq,
        capture_node,
        "POST",
        "/epcis/v2/capture",
        Some(&elsewhere),
    );
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["errors"][0]["path"],
        "/epcisBody/eventList/0/destinationList"
    );

    let (status, location, body) = partner(
        hq,
        capture_node,
        "POST",
        "/epcis/v2/capture",
        Some(&document("sgtin-shipping.jsonld")),
    );
    assert_eq!(status, 202, "{body}");
    let (status, _, job) = partner(hq, read_node, "GET", &location, None);
    assert_eq!(status, 200, "{job}");
    assert_eq!(job["success"], true);
    assert_eq!(job["eventCount"], 1);

    // The site pulls it with its reference data.
    let site = SiteDir::new(&tmp.join("south"), "south", read_node, &hq.pki.ca, "");
    let _site = site.start();
    let pulled = wait_for(Duration::from_secs(20), || {
        expected_at_site(&site, "DA-77").is_some()
    });
    assert!(
        pulled.is_some(),
        "the site did not pull DA-77 from head office"
    );
    let receipt = expected_at_site(&site, "DA-77").unwrap();
    assert_eq!(receipt["from_party"], SUPPLIER);
    assert_eq!(serials(&receipt["serials"]), ["S1", "S2", "S3"]);

    let r = ureq::put(&format!("{}/api/v1/stations/dock-1/context", site.url()))
        .set("Authorization", &format!("Bearer {HANDHELD}"))
        .send_json(json!({"despatch_advice": "DA-77"}))
        .unwrap();
    assert_eq!(r.status(), 200);
    let on_it = site.scan("dock-1", &support::daemon::serial_item("S1"));
    assert_eq!(on_it["accepted"], true, "{on_it}");
    assert!(
        !on_it.to_string().contains("not_on_despatch_advice"),
        "{on_it}"
    );
    let off_it = site.scan("dock-1", &support::daemon::serial_item("9999"));
    let warning = off_it["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["code"] == "not_on_despatch_advice")
        .unwrap_or_else(|| panic!("no despatch warning: {off_it}"));
    assert_eq!(
        warning["message"],
        format!("serial 9999 is not on despatch advice DA-77 from {SUPPLIER}")
    );

    // The supplier declares its event wrong (S3 was not shipped): the
    // site sees S3 withdrawn at its next pull.
    let (status, _, body) = partner(
        hq,
        capture_node,
        "POST",
        "/epcis/v2/capture",
        Some(&document("error-declaration.jsonld")),
    );
    assert_eq!(status, 202, "{body}");
    let withdrawn = wait_for(Duration::from_secs(20), || {
        expected_at_site(&site, "DA-77").is_some_and(|r| serials(&r["serials"]) == ["S1", "S2"])
    });
    assert!(
        withdrawn.is_some(),
        "{:?}",
        expected_at_site(&site, "DA-77")
    );
    let p = &expected_at_site(&site, "DA-77").unwrap()["progress"];
    assert_eq!(serials(&p["serials_received"]), ["S1"]);
    assert_eq!(serials(&p["serials_missing"]), ["S2"]);
}

#[test]
fn capture_at_head_office_on_its_embedded_store_reaches_the_site() {
    let tmp = tempfile::tempdir().unwrap();
    let hq = hq_with_partner(&tmp.path().join("hq"), "");
    let node = hq.start();
    let url = node.base_url().to_owned();
    a_partner_posts_to_head_office_and_the_site_checks_scans_against_it(
        tmp.path(),
        &hq,
        &url,
        &url,
    );
}

#[test]
fn capture_at_head_office_on_postgresql_is_answered_by_either_node() {
    let db = TestDb::create("capture");
    let tmp = tempfile::tempdir().unwrap();
    let hq = hq_with_partner(
        &tmp.path().join("hq"),
        &format!("database = \"{}\"\nrequests_per_second = 10000", db.url),
    );
    let a = hq.start();
    let b = hq.start();
    a_partner_posts_to_head_office_and_the_site_checks_scans_against_it(
        tmp.path(),
        &hq,
        a.base_url(),
        b.base_url(),
    );
    let jobs = db.scalar("SELECT count(*) FROM published WHERE kind = 'epcis_capture_jobs'");
    assert_eq!(jobs, "2", "both jobs are in the database");
}
