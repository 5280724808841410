//! EPCIS 2.0 capture on the real site daemon over loopback HTTP: a trading
//! partner's shipping events (from another site's export, the committed
//! fixture of tests/epcis.rs, addressed to this site) become expected
//! receipts that survive a restart; a document whose source is another
//! party, or that is malformed, is refused whole with the JSON path of
//! each error and leaves nothing; the partner role reaches only capture.
//! The capture limits are announced by `OPTIONS` and enforced (413);
//! documents written after the EPCIS 2.0 standard's own examples
//! (tests/data/epcis/capture/: SGTIN and LGTIN shipping in URN and
//! Digital Link form, a packing aggregation, an error declaration, an
//! invalid one) are captured, withdrawn or refused with their paths, and
//! the receipt shows what is still missing on the API and the console; a
//! dispatch exported by one real site is captured by another.

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
const SUE_PASSWORD: &str = "sue-password-1234";
/// The supplier behind OTHER_PARTNER.
const SUPPLIER: &str = "9506000000039";

fn write_config(dir: &Path) -> PathBuf {
    write_config_with(dir, "")
}

/// The receiving site: dock-1 warns of items not on a despatch advice,
/// dock-2 refuses them; `extra` goes before the stations (`[epcis]`).
fn write_config_with(dir: &Path, extra: &str) -> PathBuf {
    let config = dir.join("scantrail.toml");
    let hash = scantrail::console::users::hash_password(SUE_PASSWORD).unwrap();
    std::fs::write(
        &config,
        format!(
            "data_dir = \"data\"\n[site]\nid = \"south\"\ngln = \"{SITE_GLN}\"\n[http]\nlisten = \"127.0.0.1:0\"\n{extra}\n\
             [[stations]]\nid = \"dock-1\"\nmode = \"receive\"\n\
             [[stations]]\nid = \"dock-2\"\nmode = \"receive\"\n[stations.policies]\nnot_on_despatch_advice = \"refuse\"\n\
             [[users]]\nname = \"sue\"\nrole = \"supervisor\"\npassword_hash = \"{hash}\"\n\
             [[tokens]]\nname = \"sue\"\nrole = \"supervisor\"\ntoken = \"{SUPERVISOR}\"\n\
             [[tokens]]\nname = \"hh\"\nrole = \"handheld\"\nstations = [\"dock-1\", \"dock-2\"]\ntoken = \"{HANDHELD}\"\n\
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

/// A document of tests/data/epcis/capture/.
fn document(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/epcis/capture")
        .join(name);
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

/// The capture of `doc` by `api`, which must be accepted: the job.
#[track_caller]
fn captured(api: &Api, doc: &Value) -> Value {
    let r = capture(api, doc);
    assert_eq!(r.status, 202, "{:?}", r.body);
    let job = api.get(&r.location);
    assert_eq!(job.status, 200, "{:?}", job.body);
    assert_eq!(job.body["success"], true);
    job.body
}

fn serial_list(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|s| {
            format!(
                "{} {}",
                s["gtin"].as_str().unwrap(),
                s["serial"].as_str().unwrap()
            )
        })
        .collect()
}

/// A lot of GTIN 09506000134369 received without serial (expiry 2030).
fn lot_item(lot: &str) -> String {
    format!("]d201095060001343691730123110{lot}")
}

/// The `not_on_despatch_advice` warning of an accepted scan's answer.
fn despatch_warning(answer: &Value) -> Option<&str> {
    answer["warnings"]
        .as_array()?
        .iter()
        .find(|w| w["code"] == "not_on_despatch_advice")
        .and_then(|w| w["message"].as_str())
}

const PEN: &str = "09506000134352";
const LOT_GTIN: &str = "09506000134369";

#[test]
fn options_announce_the_capture_limits_and_larger_documents_are_refused_with_413() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config_with(
        dir.path(),
        "[epcis]\ncapture_limit = 2\ncapture_file_size_limit = 4096\n",
    );
    let daemon = Daemon::start(&config);
    let options = |token: &str| match ureq::request(
        "OPTIONS",
        &format!("{}/epcis/v2/capture", daemon.base_url()),
    )
    .set("Authorization", &format!("Bearer {token}"))
    .call()
    {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("no answer: {e}"),
    };
    let r = options(PARTNER);
    assert_eq!(r.status(), 204);
    assert_eq!(r.header("GS1-EPCIS-Capture-Limit"), Some("2"));
    assert_eq!(r.header("GS1-EPCIS-Capture-File-Size-Limit"), Some("4096"));
    assert_eq!(r.header("GS1-EPCIS-Version"), Some("2.0.0"));
    assert_eq!(r.header("GS1-CBV-Version"), Some("2.0.0"));
    assert_eq!(r.header("GS1-Capture-Error-Behaviour"), Some("rollback"));
    assert_eq!(options(SUPERVISOR).status(), 403, "partners only");

    let partner = Api::new(daemon.base_url(), Some(PARTNER));
    let mut three = shipment();
    let event = three["epcisBody"]["eventList"][0].clone();
    for _ in 0..2 {
        three["epcisBody"]["eventList"]
            .as_array_mut()
            .unwrap()
            .push(event.clone());
    }
    let r = capture(&partner, &three);
    assert_eq!(r.status, 413, "{:?}", r.body);
    assert!(r.content_type.starts_with("application/problem+json"));
    assert_eq!(r.body["code"], "capture_limit_exceeded");
    assert_eq!(paths(&r), vec!["/epcisBody/eventList".to_owned()]);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("capture limit of 2"),
        "{:?}",
        r.body
    );

    let mut big = shipment();
    big["padding"] = json!("x".repeat(5000));
    let r = capture(&partner, &big);
    assert_eq!(r.status, 413, "{:?}", r.body);
    assert_eq!(r.body["code"], "capture_limit_exceeded");
    assert!(
        r.body["detail"].as_str().unwrap().contains("4096 bytes"),
        "{:?}",
        r.body
    );
    let sue = Api::new(daemon.base_url(), Some(SUPERVISOR));
    assert_eq!(sue.get("/api/v1/expected-receipts").body, json!([]));
    // Within the limits the same shipment is captured.
    assert_eq!(capture(&partner, &shipment()).status, 202);
}

#[test]
fn the_standard_s_examples_are_captured_and_the_receipt_shows_what_is_still_missing() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let daemon = Daemon::start(&config);
    let supplier = Api::new(daemon.base_url(), Some(OTHER_PARTNER));
    let sue = Api::new(daemon.base_url(), Some(SUPERVISOR));
    let hh = Api::new(daemon.base_url(), Some(HANDHELD));

    // SGTINs as EPC URNs and Digital Link, parties and places as URNs.
    let job = captured(&supplier, &document("sgtin-shipping.jsonld"));
    assert_eq!(job["eventCount"], 1);
    // LGTINs in quantityList, one weighed, CBV terms as ref.gs1.org URIs.
    captured(&supplier, &document("lgtin-shipping.jsonld"));
    // A pallet packed (its children counted with it) then shipped, and a
    // commissioning event accepted and ignored with its reason.
    let job = captured(&supplier, &document("aggregation.jsonld"));
    assert_eq!(job["ignored"][0]["path"], "/epcisBody/eventList/2");
    assert!(
        job["ignored"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("commissioning"),
        "{job:?}"
    );
    let da79 = sue.get("/api/v1/expected-receipts/DA-79");
    assert_eq!(da79.status, 200, "{:?}", da79.body);
    assert_eq!(
        serial_list(&da79.body["serials"]),
        [format!("{PEN} P1"), format!("{PEN} P2")]
    );
    assert_eq!(da79.body["lots"][0]["lot"], "LOTP");
    assert_eq!(da79.body["lots"][0]["quantity"], 4.0);
    assert_eq!(
        da79.body["pallets"],
        json!([{"sscc": "195060000000000012", "children": 3}])
    );
    // The first shipment declared wrong (S3 was not shipped) with its
    // corrective event: S3 is withdrawn.
    let job = captured(&supplier, &document("error-declaration.jsonld"));
    assert_eq!(
        job["withdrawn"],
        json!(["urn:uuid:6f1c9a3e-2b7d-4f0a-9c1e-0a0000000001"])
    );
    // Invalid: refused whole, every error with its path.
    let r = capture(&supplier, &document("invalid.jsonld"));
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(
        paths(&r),
        [
            "/epcisBody/eventList/1/eventTime",
            "/epcisBody/eventList/1/bizStep",
            "/epcisBody/eventList/2/epcList/0",
            "/epcisBody/eventList/2/epcList/1",
            "/epcisBody/eventList/2/quantityList/0",
            "/epcisBody/eventList/3/parentID",
            "/epcisBody/eventList/4/errorDeclaration/declarationTime",
        ]
    );
    assert_eq!(sue.get("/api/v1/expected-receipts/DA-80").status, 404);

    // Receiving DA-77: S1 is on it; 9999 is not (dock-1 warns, dock-2
    // refuses).
    for dock in ["dock-1", "dock-2"] {
        let r = hh.put_json(
            &format!("/api/v1/stations/{dock}/context"),
            &json!({"despatch_advice": "DA-77", "supplier": {"gln": SUPPLIER, "name": "Supplier X"}}),
        );
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    let on_it = hh.scan("dock-1", &support::daemon::serial_item("S1"));
    assert_eq!(on_it["accepted"], true, "{on_it:?}");
    assert!(despatch_warning(&on_it).is_none(), "{on_it:?}");
    let off_it = hh.scan("dock-1", &support::daemon::serial_item("9999"));
    assert!(despatch_warning(&off_it).is_some(), "{off_it:?}");
    let refused = hh.scan("dock-2", &support::daemon::serial_item("S3"));
    assert_eq!(refused["accepted"], false, "{refused:?}");
    assert_eq!(refused["code"], "not_on_despatch_advice");
    assert_eq!(
        refused["reason"],
        "serial S3 is not on despatch advice DA-77 from Supplier X"
    );

    // Receiving DA-78 by lot: LOTA three times against 2 expected, and a
    // lot it does not list.
    let r = hh.put_json(
        "/api/v1/stations/dock-1/context",
        &json!({"despatch_advice": "DA-78"}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    for _ in 0..3 {
        let a = hh.scan("dock-1", &lot_item("LOTA"));
        assert_eq!(a["accepted"], true, "{a:?}");
        assert!(!a.to_string().contains("not_on_despatch_advice"), "{a:?}");
    }
    let other_lot = hh.scan("dock-1", &lot_item("LOTZ"));
    assert_eq!(
        despatch_warning(&other_lot).unwrap_or_default(),
        // The context keeps its supplier: the advice's party by its name.
        format!("lot LOTZ of GTIN {LOT_GTIN} is not on despatch advice DA-78 from Supplier X"),
        "{other_lot:?}"
    );
    let r = hh.put_json(
        "/api/v1/stations/dock-2/context",
        &json!({"despatch_advice": "DA-78"}),
    );
    assert_eq!(r.status, 200);
    let refused = hh.scan("dock-2", &lot_item("LOTY"));
    assert_eq!(refused["code"], "not_on_despatch_advice", "{refused:?}");

    // What is still missing.
    let da77 = sue.get("/api/v1/expected-receipts/DA-77");
    assert_eq!(da77.status, 200, "{:?}", da77.body);
    assert_eq!(
        serial_list(&da77.body["serials"]),
        [format!("{PEN} S1"), format!("{PEN} S2")],
        "S3 withdrawn by the error declaration"
    );
    let p = &da77.body["progress"];
    assert_eq!(serial_list(&p["serials_received"]), [format!("{PEN} S1")]);
    assert_eq!(serial_list(&p["serials_missing"]), [format!("{PEN} S2")]);
    assert_eq!(
        serial_list(&p["serials_not_expected"]),
        [format!("{PEN} 9999")]
    );
    assert_eq!(p["complete"], false);
    let da78 = sue.get("/api/v1/expected-receipts/DA-78");
    let p = &da78.body["progress"];
    assert_eq!(
        p["lots"],
        json!([
            {"gtin": LOT_GTIN, "lot": "LOTA", "expected": 2.0, "received": 3.0, "missing": 0.0, "over": 1.0},
            {"gtin": LOT_GTIN, "lot": "W/7", "uom": "KGM", "expected": 12.5, "received": 0.0, "missing": 12.5, "over": 0.0}
        ])
    );
    assert_eq!(p["lots_not_expected"][0]["lot"], "LOTZ");
    let all = sue.get("/api/v1/expected-receipts");
    assert_eq!(all.body.as_array().unwrap().len(), 3, "{:?}", all.body);
    assert!(all.body[0]["progress"].is_object());

    // The console's page shows the same.
    let page = console_page(daemon.base_url(), "/expected-receipts");
    for shown in [
        "Despatch advice DA-77",
        &format!("{PEN} S2"),
        &format!("{PEN} 9999"),
        "LOTZ",
        "195060000000000012 (3)",
    ] {
        assert!(page.contains(shown), "{shown:?} not on the page:\n{page}");
    }
    assert!(daemon.stop().success());
}

/// `path` of the console, signed in as sue: the page's HTML.
fn console_page(base: &str, path: &str) -> String {
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    let answer = |r: Result<ureq::Response, ureq::Error>| match r {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("no answer: {e}"),
    };
    let cookies = |r: &ureq::Response| -> Vec<String> {
        r.all("set-cookie")
            .into_iter()
            .filter_map(|c| c.split(';').next().map(str::to_owned))
            .collect()
    };
    let login = answer(agent.get(&format!("{base}/login")).call());
    let mut jar = cookies(&login);
    let html = login.into_string().unwrap();
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("a sign-in token") + marker.len();
    let csrf = html[start..].split('"').next().unwrap().to_owned();
    let signed = answer(
        agent
            .post(&format!("{base}/login"))
            .set("Cookie", &jar.join("; "))
            .send_form(&[
                ("csrf", &csrf),
                ("next", "/"),
                ("user", "sue"),
                ("password", SUE_PASSWORD),
            ]),
    );
    assert_eq!(signed.status(), 303, "sue could not sign in");
    jar.extend(cookies(&signed));
    let page = answer(
        agent
            .get(&format!("{base}{path}"))
            .set("Cookie", &jar.join("; "))
            .call(),
    );
    assert_eq!(page.status(), 200);
    page.into_string().unwrap()
}

#[test]
fn a_dispatch_exported_by_one_site_is_captured_by_another_as_expected_receipts() {
    // North: receives two pens, then dispatches them to south under
    // despatch advice DA-90.
    let dir = tempfile::tempdir().unwrap();
    let north_dir = dir.path().join("north");
    std::fs::create_dir_all(&north_dir).unwrap();
    let north_config = north_dir.join("scantrail.toml");
    std::fs::write(
        &north_config,
        format!(
            "data_dir = \"data\"\n[site]\nid = \"north\"\ngln = \"{NORTH}\"\n[http]\nlisten = \"127.0.0.1:0\"\n\
             [[stations]]\nid = \"dock-1\"\nmode = \"receive\"\n\
             [[stations]]\nid = \"dispatch-1\"\nmode = \"dispatch\"\n\
             [[tokens]]\nname = \"hh\"\nrole = \"handheld\"\nstations = [\"dock-1\", \"dispatch-1\"]\ntoken = \"{HANDHELD}\"\n"
        ),
    )
    .unwrap();
    let north = Daemon::start(&north_config);
    let hh = Api::new(north.base_url(), Some(HANDHELD));
    for s in ["R1", "R2"] {
        let a = hh.scan("dock-1", &support::daemon::serial_item(s));
        assert_eq!(a["accepted"], true, "{a:?}");
    }
    let r = hh.put_json(
        "/api/v1/stations/dispatch-1/context",
        &json!({"order": "SO-9", "despatch_advice": "DA-90",
                "customer": {"gln": SITE_GLN, "name": "South DC"}}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    for s in ["R1", "R2"] {
        let a = hh.scan("dispatch-1", &support::daemon::serial_item(s));
        assert_eq!(a["accepted"], true, "{a:?}");
    }
    assert!(north.stop().success());
    let out = support::daemon::succeeded(
        std::process::Command::new(support::daemon::binary())
            .args(["epcis", "export", "--since", "3", "--config"])
            .arg(&north_config),
    );
    let exported: Value = serde_json::from_slice(&out.stdout).unwrap();
    let steps: Vec<&str> = exported["epcisBody"]["eventList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["bizStep"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(steps, ["shipping", "shipping"], "{exported}");

    // South: north's partner token captures the export as it is.
    let south_dir = dir.path().join("south");
    std::fs::create_dir_all(&south_dir).unwrap();
    let config = write_config(&south_dir);
    let south = Daemon::start(&config);
    let partner = Api::new(south.base_url(), Some(PARTNER));
    let job = captured(&partner, &exported);
    assert_eq!(job["eventCount"], 2);
    let sue = Api::new(south.base_url(), Some(SUPERVISOR));
    let da90 = sue.get("/api/v1/expected-receipts/DA-90");
    assert_eq!(da90.status, 200, "{:?}", da90.body);
    assert_eq!(da90.body["from_party"], NORTH);
    assert_eq!(
        serial_list(&da90.body["serials"]),
        [format!("{PEN} R1"), format!("{PEN} R2")]
    );
    let hh = Api::new(south.base_url(), Some(HANDHELD));
    let r = hh.put_json(
        "/api/v1/stations/dock-2/context",
        &json!({"despatch_advice": "DA-90", "supplier": {"gln": NORTH, "name": "North DC"}}),
    );
    assert_eq!(r.status, 200);
    let a = hh.scan("dock-2", &support::daemon::serial_item("R1"));
    assert_eq!(a["accepted"], true, "{a:?}");
    let refused = hh.scan("dock-2", &support::daemon::serial_item("R7"));
    assert_eq!(
        refused["reason"], "serial R7 is not on despatch advice DA-90 from North DC",
        "{refused:?}"
    );
    let p = &sue.get("/api/v1/expected-receipts/DA-90").body["progress"];
    assert_eq!(serial_list(&p["serials_missing"]), [format!("{PEN} R2")]);
    assert!(south.stop().success());
}
