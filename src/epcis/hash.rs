//! The CBV 2.0 event hash (CBV 2.0 §8.9, "EPCIS Event Hash ID"): a
//! canonical pre-hash string of the event's content, SHA-256,
//! `ni:///sha-256;<hex>?ver=CBV2.0` (RFC 6920). Anyone holding the event
//! can recompute it; eventID, recordTime and errorDeclaration are left
//! out, so a declared-wrong repeat hashes as the original did.
//!
//! Implementations disagree on details; this one follows the reference
//! generator (PyPI `epcis-event-hash-generator` 1.9.3, checked against
//! its output in `tests/epcis.rs`): `destinationList` before `sourceList`
//! (the CBV text and epcis2.js put `sourceList` first, so their IDs of an
//! event with both lists differ from these), members of every list
//! sorted as strings, a bizTransaction's, source's or destination's
//! `type=` before its value, CBV words as their Web URIs.

use sha2::{Digest, Sha256};

use super::event::{Event, EventType, QuantityElement};

/// Where CBV 2.0 bare words live as Web URIs.
const CBV: &str = "https://ref.gs1.org/cbv/";

/// The event's hash ID.
pub fn event_hash(event: &Event) -> String {
    let pre = pre_hash(event);
    format!(
        "ni:///sha-256;{}?ver=CBV2.0",
        hex::encode(Sha256::digest(pre.as_bytes()))
    )
}

/// The pre-hash string: `key=value` pairs in the fixed order, joined with
/// nothing.
pub fn pre_hash(e: &Event) -> String {
    let mut s = String::with_capacity(1024);
    let kind = match e.event_type {
        EventType::ObjectEvent => "ObjectEvent",
        EventType::AggregationEvent => "AggregationEvent",
    };
    push(&mut s, "eventType", kind);
    push(&mut s, "eventTime", &e.event_time);
    push(&mut s, "eventTimeZoneOffset", &e.event_time_zone_offset);
    if let Some(parent) = &e.parent_id {
        push(&mut s, "parentID", parent);
    }
    epcs(&mut s, "epcList", &e.epc_list);
    epcs(&mut s, "childEPCs", &e.child_epcs);
    quantities(&mut s, "quantityList", &e.quantity_list);
    quantities(&mut s, "childQuantityList", &e.child_quantity_list);
    push(&mut s, "action", e.action);
    push(&mut s, "bizStep", &format!("{CBV}BizStep-{}", e.biz_step));
    push(
        &mut s,
        "disposition",
        &format!("{CBV}Disp-{}", e.disposition),
    );
    s.push_str("readPoint");
    push(&mut s, "id", &e.read_point.id);
    if let Some(location) = &e.biz_location {
        s.push_str("bizLocation");
        push(&mut s, "id", &location.id);
    }
    typed(
        &mut s,
        "bizTransactionList",
        e.biz_transaction_list.iter().map(|t| {
            (
                ("BTT", t.kind),
                ("bizTransaction", t.biz_transaction.as_str()),
            )
        }),
    );
    typed(
        &mut s,
        "destinationList",
        e.destination_list
            .iter()
            .map(|d| (("SDT", d.kind), ("destination", d.destination.as_str()))),
    );
    typed(
        &mut s,
        "sourceList",
        e.source_list
            .iter()
            .map(|d| (("SDT", d.kind), ("source", d.source.as_str()))),
    );
    s
}

fn push(s: &mut String, key: &str, value: &str) {
    s.push_str(key);
    s.push('=');
    s.push_str(value.trim());
}

fn sorted(mut parts: Vec<String>) -> String {
    parts.sort();
    parts.concat()
}

fn epcs(s: &mut String, list: &str, epcs: &[String]) {
    if epcs.is_empty() {
        return;
    }
    s.push_str(list);
    s.push_str(&sorted(epcs.iter().map(|e| format!("epc={e}")).collect()));
}

fn quantities(s: &mut String, list: &str, q: &[QuantityElement]) {
    if q.is_empty() {
        return;
    }
    s.push_str(list);
    s.push_str(&sorted(
        q.iter()
            .map(|q| {
                let mut e = format!("quantityElementepcClass={}", q.epc_class);
                if let Some(amount) = q.quantity {
                    e.push_str("quantity=");
                    e.push_str(&amount.text());
                }
                if let Some(uom) = q.uom {
                    e.push_str("uom=");
                    e.push_str(uom);
                }
                e
            })
            .collect(),
    ));
}

/// A list of (type, value) members: `type=<CBV URI>` then `key=value`,
/// members sorted.
fn typed<'a>(
    s: &mut String,
    list: &str,
    members: impl Iterator<Item = ((&'a str, &'a str), (&'a str, &'a str))>,
) {
    let parts: Vec<String> = members
        .map(|((vocabulary, kind), (key, value))| {
            format!("type={CBV}{vocabulary}-{kind}{key}={}", value.trim())
        })
        .collect();
    if parts.is_empty() {
        return;
    }
    s.push_str(list);
    s.push_str(&sorted(parts));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::epcis::event::{Amount, BizTransaction, Destination, Id, Source};

    /// A receipt as an earlier export wrote it, with the pre-hash string
    /// and hash the reference generator printed for it
    /// (`python -m epcis_event_hash_generator -p`; the hash without `-j`,
    /// which joins the hashed string too).
    #[test]
    fn the_pre_hash_is_the_reference_generator_s() {
        let e = Event {
            event_type: EventType::ObjectEvent,
            event_time: "2025-11-01T22:02:00.000Z".into(),
            event_time_zone_offset: "+01:00".into(),
            event_id: "urn:uuid:7ab8a4b1-5d06-5a04-8cc7-722c69d0ca42".into(),
            error_declaration: None,
            parent_id: None,
            epc_list: Vec::new(),
            child_epcs: Vec::new(),
            quantity_list: vec![QuantityElement {
                epc_class: "https://id.gs1.org/01/09506000000008/10/HOT0001".into(),
                quantity: Some(Amount {
                    mantissa: 100000,
                    scale: 0,
                }),
                uom: None,
            }],
            child_quantity_list: Vec::new(),
            action: "OBSERVE",
            biz_step: "receiving",
            disposition: "in_progress",
            read_point: Id {
                id: "https://id.gs1.org/414/9506000000015/254/dock-1".into(),
            },
            biz_location: Some(Id {
                id: "https://id.gs1.org/414/9506000000015".into(),
            }),
            biz_transaction_list: vec![
                BizTransaction {
                    kind: "po",
                    biz_transaction: "urn:epcglobal:cbv:bt:9506000000015:PO-0000001".into(),
                },
                BizTransaction {
                    kind: "desadv",
                    biz_transaction: "urn:epcglobal:cbv:bt:9506000000015:ASN-0000002".into(),
                },
            ],
            source_list: vec![
                Source {
                    kind: "owning_party",
                    source: "https://id.gs1.org/417/9506000001074".into(),
                },
                Source {
                    kind: "location",
                    source: "https://id.gs1.org/414/9506000001074".into(),
                },
            ],
            destination_list: vec![
                Destination {
                    kind: "owning_party",
                    destination: "https://id.gs1.org/417/9506000000015".into(),
                },
                Destination {
                    kind: "location",
                    destination: "https://id.gs1.org/414/9506000000015".into(),
                },
            ],
        };
        let expected = [
            "eventType=ObjectEvent",
            "eventTime=2025-11-01T22:02:00.000Z",
            "eventTimeZoneOffset=+01:00",
            "quantityListquantityElementepcClass=https://id.gs1.org/01/09506000000008/10/HOT0001",
            "quantity=100000",
            "action=OBSERVE",
            "bizStep=https://ref.gs1.org/cbv/BizStep-receiving",
            "disposition=https://ref.gs1.org/cbv/Disp-in_progress",
            "readPointid=https://id.gs1.org/414/9506000000015/254/dock-1",
            "bizLocationid=https://id.gs1.org/414/9506000000015",
            "bizTransactionListtype=https://ref.gs1.org/cbv/BTT-desadv",
            "bizTransaction=urn:epcglobal:cbv:bt:9506000000015:ASN-0000002",
            "type=https://ref.gs1.org/cbv/BTT-po",
            "bizTransaction=urn:epcglobal:cbv:bt:9506000000015:PO-0000001",
            "destinationListtype=https://ref.gs1.org/cbv/SDT-location",
            "destination=https://id.gs1.org/414/9506000000015",
            "type=https://ref.gs1.org/cbv/SDT-owning_party",
            "destination=https://id.gs1.org/417/9506000000015",
            "sourceListtype=https://ref.gs1.org/cbv/SDT-location",
            "source=https://id.gs1.org/414/9506000001074",
            "type=https://ref.gs1.org/cbv/SDT-owning_party",
            "source=https://id.gs1.org/417/9506000001074",
        ]
        .concat();
        assert_eq!(pre_hash(&e), expected);
        assert_eq!(
            event_hash(&e),
            "ni:///sha-256;aeb5d2f710dcf228dd2d84881d050f91fdb84994045b46ac81acb6529dcb554b?ver=CBV2.0"
        );
        // errorDeclaration and eventID are not hashed.
        let mut declared = e.clone();
        declared.event_id = "urn:uuid:other".into();
        declared.error_declaration = Some(crate::epcis::event::ErrorDeclaration {
            declaration_time: "2025-11-02T00:00:00.000Z".into(),
            reason: "did_not_occur",
            corrective_event_ids: Vec::new(),
        });
        assert_eq!(event_hash(&declared), event_hash(&e));
    }
}
