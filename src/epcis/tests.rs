//! The mapping of each kind of movement, checked on the JSON it gives.

use chrono::{NaiveDate, TimeZone, Utc};
use serde_json::{json, Value};

use super::object_event::Mapper;
use super::settings::{EpcisConfig, EventIds, Settings};
use crate::model::movement::tests_support::{committed, sample};
use crate::model::{Counterparty, Kind, Movement, NewMovement, Quantity};

fn settings() -> Settings {
    Settings::new(
        Some("9506000000015"),
        &EpcisConfig {
            time_zone: Some("Europe/Berlin".into()),
            party_base: Some("https://example.com/party/".into()),
            ..EpcisConfig::default()
        },
    )
    .unwrap()
}

fn movement(seq: u64, kind: Kind, f: impl FnOnce(&mut NewMovement)) -> Movement {
    let mut b = sample(seq);
    b.kind = kind;
    b.device_time = Utc.with_ymd_and_hms(2026, 7, 1, 10, 0, 0).unwrap();
    b.counterparty.gln = Some("9506000000039".into());
    f(&mut b);
    committed(seq, b)
}

fn json_of(m: &Movement) -> Value {
    let s = settings();
    let e = Mapper::new(&s)
        .unwrap()
        .object_event(std::slice::from_ref(m))
        .unwrap();
    serde_json::to_value(e.expect("an event")).unwrap()
}

#[test]
fn a_receipt_is_receiving_in_progress_from_the_supplier_to_us() {
    let e = json_of(&movement(1, Kind::Receipt, |b| {
        b.documents.despatch_advice = Some("95060000000000015".into());
    }));
    assert_eq!(e["type"], "ObjectEvent");
    assert_eq!(e["action"], "OBSERVE");
    assert_eq!(e["bizStep"], "receiving");
    assert_eq!(e["disposition"], "in_progress");
    assert_eq!(e["eventTime"], "2026-07-01T10:00:00.000Z");
    assert_eq!(e["eventTimeZoneOffset"], "+02:00");
    assert_eq!(
        e["epcList"],
        json!(["https://id.gs1.org/01/09506000134352/21/S000001"])
    );
    assert!(e.get("quantityList").is_none());
    assert_eq!(
        e["readPoint"]["id"],
        "https://id.gs1.org/414/9506000000015/254/dock-1"
    );
    assert_eq!(
        e["bizLocation"]["id"],
        "https://id.gs1.org/414/9506000000015"
    );
    assert_eq!(
        e["bizTransactionList"],
        json!([
            {"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:9506000000015:PO-1"},
            {"type": "desadv", "bizTransaction": "https://id.gs1.org/402/95060000000000015"}
        ])
    );
    assert_eq!(
        e["sourceList"],
        json!([
            {"type": "owning_party", "source": "https://id.gs1.org/417/9506000000039"},
            {"type": "location", "source": "https://id.gs1.org/414/9506000000039"}
        ])
    );
    assert_eq!(
        e["destinationList"],
        json!([
            {"type": "owning_party", "destination": "https://id.gs1.org/417/9506000000015"},
            {"type": "location", "destination": "https://id.gs1.org/414/9506000000015"}
        ])
    );
    assert!(e["eventID"].as_str().unwrap().starts_with("urn:uuid:"));
}

#[test]
fn a_dispatch_is_shipping_in_transit_with_no_biz_location() {
    let e = json_of(&movement(2, Kind::Dispatch, |b| {
        b.documents = Default::default();
        b.documents.order = Some("O-77".into());
        b.counterparty = Counterparty {
            gln: None,
            name: Some("Corner Shop".into()),
        };
        b.serial = None;
        b.quantity = Quantity::Measure {
            mantissa: 1250,
            scale: 3,
            unit: "kg".into(),
        };
    }));
    assert_eq!(
        (e["bizStep"].as_str(), e["disposition"].as_str()),
        (Some("shipping"), Some("in_transit"))
    );
    assert!(e.get("bizLocation").is_none());
    assert_eq!(
        e["quantityList"],
        json!([{"epcClass": "https://id.gs1.org/01/09506000134352/10/LOT42", "quantity": 1.25, "uom": "KGM"}])
    );
    assert_eq!(
        e["destinationList"],
        json!([{"type": "owning_party", "destination": "https://example.com/party/Corner%20Shop"}])
    );
    // The customer's order, issued by us when the customer has no GLN.
    assert_eq!(
        e["bizTransactionList"][0]["bizTransaction"],
        "urn:epcglobal:cbv:bt:9506000000015:O-77"
    );
}

#[test]
fn a_return_is_receiving_returned_and_transfers_keep_the_owner() {
    let r = json_of(&movement(3, Kind::Return, |_| {}));
    assert_eq!(
        (r["bizStep"].as_str(), r["disposition"].as_str()),
        (Some("receiving"), Some("returned"))
    );
    let out = json_of(&movement(4, Kind::TransferOut, |b| {
        b.counterparty.gln = Some("9506000000022".into());
    }));
    assert_eq!(out["bizStep"], "shipping");
    let company = "https://id.gs1.org/417/9506000000015";
    assert_eq!(out["sourceList"][0]["source"], company);
    assert_eq!(out["destinationList"][0]["destination"], company);
    assert_eq!(
        out["destinationList"][1]["destination"],
        "https://id.gs1.org/414/9506000000022"
    );
    let inn = json_of(&movement(5, Kind::TransferIn, |b| {
        b.counterparty.gln = Some("9506000000022".into());
    }));
    assert_eq!(
        (inn["bizStep"].as_str(), inn["disposition"].as_str()),
        (Some("receiving"), Some("in_progress"))
    );
    assert_eq!(inn["sourceList"][0]["source"], company);
    assert_eq!(
        inn["sourceList"][1]["source"],
        "https://id.gs1.org/414/9506000000022"
    );
}

#[test]
fn winter_time_has_the_winter_offset() {
    let e = json_of(&movement(6, Kind::Receipt, |b| {
        b.device_time = Utc.with_ymd_and_hms(2026, 1, 15, 8, 30, 0).unwrap();
    }));
    assert_eq!(e["eventTimeZoneOffset"], "+01:00");
}

#[test]
fn a_gln_gs1_refuses_is_kept_as_a_party_uri_not_lost() {
    let e = json_of(&movement(40, Kind::Receipt, |b| {
        b.counterparty.gln = Some("9506000000019".into());
    }));
    assert_eq!(
        e["sourceList"],
        json!([{"type": "owning_party", "source": "https://example.com/party/9506000000019"}])
    );
}

#[test]
fn adjustments_are_not_shared() {
    let s = settings();
    let m = movement(7, Kind::Adjustment, |_| {});
    assert_eq!(Mapper::new(&s).unwrap().object_event(&[m]).unwrap(), None);
}

#[test]
fn a_correction_repeats_the_original_with_did_not_occur() {
    let s = settings();
    let original = movement(8, Kind::Receipt, |b| {
        b.documents.sscc = Some("095060001234567893".into())
    });
    let correction = movement(9, Kind::Correction, |b| {
        b.device_time = Utc.with_ymd_and_hms(2026, 7, 2, 9, 0, 0).unwrap();
    });
    let mut mapper = Mapper::new(&s).unwrap();
    let plain = mapper
        .object_event(std::slice::from_ref(&original))
        .unwrap()
        .unwrap();
    let events = mapper.declared_wrong(&correction, &original).unwrap();
    assert_eq!(events.len(), 2, "the receipt and its pallet's unpacking");
    let e = serde_json::to_value(&events[0]).unwrap();
    assert_eq!(e["eventID"], plain.event_id.as_str());
    assert_eq!(
        e["errorDeclaration"],
        json!({"declarationTime": "2026-07-02T09:00:00.000Z", "reason": "did_not_occur"})
    );
    assert_eq!(e["epcList"], serde_json::to_value(&plain.epc_list).unwrap());
}

#[test]
fn a_pallet_received_is_unpacked_and_one_shipped_is_packed() {
    let s = settings();
    let mut mapper = Mapper::new(&s).unwrap();
    let r = movement(10, Kind::Receipt, |b| {
        b.documents.sscc = Some("095060001234567893".into())
    });
    let a = serde_json::to_value(&mapper.aggregations(&[r]).unwrap()[0]).unwrap();
    assert_eq!(a["type"], "AggregationEvent");
    assert_eq!(
        (a["action"].as_str(), a["bizStep"].as_str()),
        (Some("DELETE"), Some("unpacking"))
    );
    assert_eq!(a["parentID"], "https://id.gs1.org/00/095060001234567893");
    assert_eq!(
        a["childEPCs"],
        json!(["https://id.gs1.org/01/09506000134352/21/S000010"])
    );
    let d = movement(11, Kind::Dispatch, |b| {
        b.documents.sscc = Some("095060001234567893".into());
        b.serial = None;
    });
    let p = serde_json::to_value(&mapper.aggregations(&[d]).unwrap()[0]).unwrap();
    assert_eq!(
        (p["action"].as_str(), p["bizStep"].as_str()),
        (Some("ADD"), Some("packing"))
    );
    assert_eq!(p["childQuantityList"][0]["quantity"], 1);
    let none = movement(12, Kind::Receipt, |b| b.documents.sscc = None);
    assert!(mapper.aggregations(&[none]).unwrap().is_empty());
}

#[test]
fn a_group_sums_quantities_and_lists_each_serial_once() {
    let s = settings();
    let lot = |seq, n| {
        movement(seq, Kind::Receipt, move |b| {
            b.serial = None;
            b.quantity = Quantity::Units(n);
        })
    };
    let group = [lot(20, 3), lot(21, 4), movement(22, Kind::Receipt, |_| {})];
    let e = Mapper::new(&s)
        .unwrap()
        .object_event(&group)
        .unwrap()
        .unwrap();
    let e = serde_json::to_value(e).unwrap();
    assert_eq!(e["quantityList"][0]["quantity"], 7);
    assert_eq!(e["epcList"].as_array().unwrap().len(), 1);
}

#[test]
fn hash_ids_replace_uuids_when_asked() {
    let mut s = settings();
    s.event_ids = EventIds::Hash;
    let m = movement(30, Kind::Receipt, |_| {});
    let e = Mapper::new(&s)
        .unwrap()
        .object_event(&[m])
        .unwrap()
        .unwrap();
    assert!(e.event_id.starts_with("ni:///sha-256;"), "{}", e.event_id);
    assert!(e.event_id.ends_with("?ver=CBV2.0"));
}

#[test]
fn expiry_goes_to_the_header_not_ilmd() {
    let s = settings();
    let m = movement(31, Kind::Receipt, |b| {
        b.expiry = NaiveDate::from_ymd_opt(2027, 1, 31)
    });
    let mut w = super::DocumentWriter::new(
        Vec::new(),
        Utc.with_ymd_and_hms(2026, 7, 3, 0, 0, 0).unwrap(),
    )
    .unwrap();
    let mut mapper = Mapper::new(&s).unwrap();
    w.event(
        &mapper
            .object_event(std::slice::from_ref(&m))
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    w.expiry(
        &mapper.class(&m.body.gtin, m.body.lot.as_deref()).unwrap(),
        m.body.expiry.unwrap(),
    )
    .unwrap();
    let doc: Value = serde_json::from_slice(&w.finish().unwrap()).unwrap();
    assert_eq!(doc["epcisBody"]["eventList"].as_array().unwrap().len(), 1);
    assert!(doc["epcisBody"]["eventList"][0].get("ilmd").is_none());
    let element =
        &doc["epcisHeader"]["epcisMasterData"]["vocabularyList"][0]["vocabularyElementList"][0];
    assert_eq!(
        element["id"],
        "https://id.gs1.org/01/09506000134352/10/LOT42"
    );
    assert_eq!(element["attributes"][0]["attribute"], "2027-01-31");
}

#[test]
fn an_item_written_without_the_gs1_engine_is_what_the_engine_writes() {
    let s = settings();
    let mut mapper = Mapper::new(&s).unwrap();
    let ids = super::identifiers::Identifiers::new(&s);
    let serials = [
        "1",
        "100000",
        "S000001",
        "abc-DEF.ghi_9",
        "12345678901234567890",  // plain
        "123456789012345678901", // too long for AI 21
        "S/1",
        "a b",
        "x~y",
        "x%y",
        "é",
        "",
        "A!B",
        "(21)", // escaped or refused
    ];
    for gtin in [
        "09506000134352",
        "09506000130000",
        "9506000134352",
        "0950600013435x",
    ] {
        for serial in serials {
            assert_eq!(
                mapper.item(gtin, serial).ok(),
                ids.item(gtin, serial).ok(),
                "GTIN {gtin}, serial {serial:?}"
            );
        }
    }
}

#[test]
fn the_direct_writer_writes_the_bytes_of_the_event_it_skips() {
    let s = settings();
    let kinds = [
        Kind::Receipt,
        Kind::Dispatch,
        Kind::Return,
        Kind::TransferOut,
        Kind::TransferIn,
    ];
    let mut seq = 0;
    for kind in kinds {
        for variant in 0..5 {
            seq += 1;
            let m = movement(seq, kind, |b| match variant {
                0 => {
                    b.documents.despatch_advice = Some("95060000000000015".into());
                    b.documents.order = Some("SO 1/2".into());
                }
                1 => {
                    b.serial = None;
                    b.lot = Some("W/7".into());
                    b.quantity = Quantity::Measure {
                        mantissa: 12500,
                        scale: 3,
                        unit: "kg".into(),
                    };
                    b.counterparty = Counterparty {
                        gln: None,
                        name: Some("Corner \"Shop\"".into()),
                    };
                }
                2 => {
                    b.serial = None;
                    b.lot = None;
                    b.quantity = Quantity::Units(6);
                    b.counterparty.gln = Some("9506000000038".into());
                    b.documents = Default::default();
                }
                3 => {
                    b.serial = Some("S/1".into());
                    b.counterparty = Counterparty::default();
                    b.documents.despatch_advice = Some("DA-77".into());
                }
                _ => {
                    b.device_time = Utc.with_ymd_and_hms(2026, 1, 15, 8, 0, 0).unwrap();
                }
            });
            let mut mapper = Mapper::new(&s).unwrap();
            assert!(mapper.writes_direct(std::slice::from_ref(&m)));
            let mut direct = Vec::new();
            assert!(mapper.write_direct(&m, &mut direct).unwrap());
            let event = Mapper::new(&s)
                .unwrap()
                .object_event(std::slice::from_ref(&m))
                .unwrap()
                .unwrap();
            let mut built = Vec::new();
            super::json::write_event(&mut built, &event);
            assert_eq!(
                String::from_utf8(direct).unwrap(),
                String::from_utf8(built).unwrap(),
                "{kind:?} variant {variant}"
            );
        }
    }
    // Not for what it cannot write: pallets, hash IDs, adjustments.
    let mut pallet = movement(99, Kind::Receipt, |_| {});
    pallet.body.documents.sscc = Some("095060001234567893".into());
    assert!(!Mapper::new(&s)
        .unwrap()
        .writes_direct(std::slice::from_ref(&pallet)));
    let mut hashed = settings();
    hashed.event_ids = EventIds::Hash;
    let m = movement(100, Kind::Receipt, |_| {});
    assert!(!Mapper::new(&hashed)
        .unwrap()
        .writes_direct(std::slice::from_ref(&m)));
    let adjustment = movement(101, Kind::Adjustment, |_| {});
    assert!(!Mapper::new(&s)
        .unwrap()
        .write_direct(&adjustment, &mut Vec::new())
        .unwrap());
}
