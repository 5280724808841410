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
                let mut e = format!(
                    "quantityElementepcClass={}quantity={}",
                    q.epc_class,
                    q.quantity.text()
                );
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
