//! EPCIS 2.0 capture on the real site daemon over loopback HTTP: a trading
//! partner's shipping events (from another site's export, the committed
//! fixture of tests/epcis.rs, addressed to this site) become expected
//! receipts that survive a restart; a document whose source is another
//! party, or that is malformed, is refused whole with the JSON path of
//! each error and leaves nothing; the partner role reaches only capture.

mod support;

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use support::daemon::{Api, Daemon};

/// This site (the receiving one).
const SITE_GLN: &str = "9506000000022";
/// The site that exported the fixture, here a partner sending to us.
const NORTH: &str = "9506000000015";
const PARTNER: &str = "north-partner-token-1";
const OTHER_PARTNER: &str = "supplier-partner-token";
const SUPERVISOR: &str = "capture-supervisor-token";
const HANDHELD: &str = "capture-handheld-token";
const DESADV: &str = "urn:epcglobal:cbv:bt:9506000000015:DA-77";

fn write_config(dir: &Path) -> PathBuf {
    let config = dir.join("scantrail.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"data\"\n[site]\nid = \"south\"\ngln = \"{SITE_GLN}\"\n[http]\nlisten = \"127.0.0.1:0\"\n\
             [[stations]]\nid = \"dock-1\"\nmode = \"receive\"\n\
             [[tokens]]\nname = \"sue\"\nrole = \"supervisor\"\ntoken = \"{SUPERVISOR}\"\n\
             [[tokens]]\nname = \"hh\"\nrole = \"handheld\"\nstations = [\"dock-1\"]\ntoken = \"{HANDHELD}\"\n\
             [[tokens]]\nname = \"north\"\nrole = \"partner\"\nparty = \"{NORTH}\"\ntoken = \"{PARTNER}\"\n\
             [[tokens]]\nname = \"supplier\"\nrole = \"partner\"\nparty = \"9506000000039\"\ntoken = \"{OTHER_PARTNER}\"\n"
        ),
    )
    .unwrap();
    config
}

/// The north site's exported document (tests/data/epcis/export.jsonld)
/// cut to its shipping events, addressed to this site under despatch
/// advice DA-77 and with a serialised item beside the lot.
fn shipment() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/epcis/export.jsonld");
    let mut doc: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let events = doc["epcisBody"]["eventList"].as_array_mut().unwrap();
    events.retain(|e| e["type"] == "ObjectEvent" && e["bizStep"] == "shipping");
    assert!(!events.is_empty(), "the fixture has no shipping event");
    events.truncate(1);
    let event = &mut events[0];
    event["destinationList"] = json!([
        {"type": "owning_party", "destination": format!("https://id.gs1.org/417/{SITE_GLN}")},
        {"type": "location", "destination": format!("https://id.gs1.org/414/{SITE_GLN}")},
    ]);
    event["bizTransactionList"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "desadv", "bizTransaction": DESADV}));
    event["epcList"] = json!(["https://id.gs1.org/01/09506000134352/21/S77"]);
    doc
}

fn capture(api: &Api, doc: &Value) -> support::daemon::Reply {
    api.send(
        "POST",
        "/epcis/v2/capture",
        "application/ld+json",
        &doc.to_string(),
    )
}

fn paths(reply: &support::daemon::Reply) -> Vec<String> {
    reply.body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors listed: {:?}", reply.body))
        .iter()
        .map(|e| e["path"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_partner_s_shipment_becomes_an_expected_receipt_that_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let daemon = Daemon::start(&config);
    let partner = Api::new(daemon.base_url(), Some(PARTNER));
    let sue = Api::new(daemon.base_url(), Some(SUPERVISOR));

    let r = capture(&partner, &shipment());
    assert_eq!(r.status, 202, "{:?}", r.body);
    let id = r.body["captureId"].as_str().unwrap().to_owned();
    assert_eq!(r.location, format!("/epcis/v2/capture/{id}"));

    let job = partner.get(&r.location);
    assert_eq!(job.status, 200, "{:?}", job.body);
    assert_eq!(job.body["success"], true);
    assert_eq!(job.body["eventCount"], 1);
    assert_eq!(job.body["errors"], json!([]));
    // Another partner does not see this partner's job.
    let other = Api::new(daemon.base_url(), Some(OTHER_PARTNER));
    assert_eq!(other.get(&r.location).status, 404);

    let listed = sue.get("/api/v1/expected-receipts");
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    let receipts = listed.body.as_array().unwrap();
    assert_eq!(receipts.len(), 1, "{receipts:?}");
    let receipt = &receipts[0];
    assert_eq!(receipt["despatch_advice"], DESADV);
    assert_eq!(receipt["document"], "DA-77");
    assert_eq!(receipt["from_party"], NORTH);
    assert_eq!(
        receipt["serials"],
        json!([{"gtin": "09506000134352", "serial": "S77"}])
    );
    assert_eq!(receipt["lots"][0]["lot"], "LOT42");
    assert_eq!(receipt["lots"][0]["quantity"], 6.0);

    // Receiving against DA-77: a serial on it passes quietly, one not on
    // it is accepted with a warning naming the advice and the supplier.
    let hh = Api::new(daemon.base_url(), Some(HANDHELD));
    let r = hh.put_json(
        "/api/v1/stations/dock-1/context",
        &json!({"despatch_advice": "DA-77", "supplier": {"gln": NORTH, "name": "North DC"}}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let on_it = hh.scan("dock-1", &support::daemon::serial_item("S77"));
    assert_eq!(on_it["accepted"], true, "{on_it:?}");
    assert!(
        !on_it.to_string().contains("not_on_despatch_advice"),
        "{on_it:?}"
    );
    let off_it = hh.scan("dock-1", &support::daemon::serial_item("1234"));
    assert_eq!(off_it["accepted"], true, "{off_it:?}");
    let warning = off_it["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["code"] == "not_on_despatch_advice")
        .unwrap_or_else(|| panic!("no despatch warning: {off_it:?}"));
    assert_eq!(
        warning["message"],
        "serial 1234 is not on despatch advice DA-77 from North DC"
    );

    daemon.stop();
    let daemon = Daemon::start(&config);
    let partner = Api::new(daemon.base_url(), Some(PARTNER));
    let job = partner.get(&format!("/epcis/v2/capture/{id}"));
    assert_eq!(job.status, 200, "the job did not survive a restart");
    assert_eq!(job.body["success"], true);
    let sue = Api::new(daemon.base_url(), Some(SUPERVISOR));
    assert_eq!(
        sue.get("/api/v1/expected-receipts")
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn refused_documents_name_each_error_s_path_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let daemon = Daemon::start(&config);
    let sue = Api::new(daemon.base_url(), Some(SUPERVISOR));

    // The supplier partner sends north's events: not its own party's.
    let other = Api::new(daemon.base_url(), Some(OTHER_PARTNER));
    let r = capture(&other, &shipment());
    assert_eq!(r.status, 403, "{:?}", r.body);
    assert!(r.content_type.starts_with("application/problem+json"));
    assert_eq!(
        paths(&r),
        vec!["/epcisBody/eventList/0/sourceList/0/source".to_owned()]
    );

    // Not addressed to this site.
    let partner = Api::new(daemon.base_url(), Some(PARTNER));
    let mut elsewhere = shipment();
    elsewhere["epcisBody"]["eventList"][0]["destinationList"] =
        json!([{"type": "owning_party", "destination": "https://id.gs1.org/417/9506000000046"}]);
    let r = capture(&partner, &elsewhere);
    assert_eq!(r.status, 422, "{:?}", r.body);
    assert_eq!(
        paths(&r),
        vec!["/epcisBody/eventList/0/destinationList".to_owned()]
    );

    // A valid event first, then one without eventTime and with a misspelt
    // bizStep: refused whole, the valid one not kept either.
    let mut broken = shipment();
    let mut second = broken["epcisBody"]["eventList"][0].clone();
    second.as_object_mut().unwrap().remove("eventTime");
    second["bizStep"] = json!("shiping");
    broken["epcisBody"]["eventList"]
        .as_array_mut()
        .unwrap()
        .push(second);
    let r = capture(&partner, &broken);
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(
        paths(&r),
        vec![
            "/epcisBody/eventList/1/eventTime".to_owned(),
            "/epcisBody/eventList/1/bizStep".to_owned(),
        ]
    );
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("nothing is captured"));

    let r = partner.send(
        "POST",
        "/epcis/v2/capture",
        "application/ld+json",
        "{not json",
    );
    assert_eq!(r.status, 400, "{:?}", r.body);

    assert_eq!(sue.get("/api/v1/expected-receipts").body, json!([]));
}

#[test]
fn the_partner_role_reaches_only_capture() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let daemon = Daemon::start(&config);

    let handheld = Api::new(daemon.base_url(), Some(HANDHELD));
    let r = capture(&handheld, &shipment());
    assert_eq!(r.status, 403, "{:?}", r.body);
    assert!(
        r.body["detail"].as_str().unwrap().contains("partner"),
        "{:?}",
        r.body
    );
    let sue = Api::new(daemon.base_url(), Some(SUPERVISOR));
    assert_eq!(capture(&sue, &shipment()).status, 403);

    let partner = Api::new(daemon.base_url(), Some(PARTNER));
    let r = partner.post_json(
        "/api/v1/scans",
        &json!({"station": "dock-1", "data": "0109506000134352"}),
    );
    assert_eq!(r.status, 403, "{:?}", r.body);
    assert_eq!(partner.get("/api/v1/stations").status, 403);
    assert_eq!(partner.get("/api/v1/expected-receipts").status, 403);
    assert_eq!(partner.get("/api/v1/journal").status, 403);
}

#[test]
fn check_config_takes_partners_and_refuses_one_without_its_party() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let out = support::daemon::scantrail(&["check-config", config.to_str().unwrap()]);
    assert!(out.contains("4 tokens"), "{out}");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace(&format!("party = \"{NORTH}\"\n"), "");
    std::fs::write(&config, text).unwrap();
    let (code, log) = Daemon::start_refused(&config);
    assert_ne!(code, Some(0));
    assert!(log.contains("party"), "{log}");
}
