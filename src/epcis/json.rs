//! An event as JSON, written byte by byte into a reused buffer: the
//! export's hot path writes a million of these, and serde's generic
//! serialiser (a visitor per field, every string scanned for escapes
//! through a formatter) was a large share of its time. The bytes are
//! exactly what `serde_json::to_writer` makes of the same `Event` (field
//! order, omitted empty lists, escaping, numbers); a test holds the two
//! together.

use super::event::{Amount, ErrorDeclaration, Event, EventType, Id, QuantityElement};

/// Appends `event` as one JSON object to `out`.
pub fn write_event(out: &mut Vec<u8>, e: &Event) {
    out.extend_from_slice(match e.event_type {
        EventType::ObjectEvent => b"{\"type\":\"ObjectEvent\",\"eventTime\":",
        EventType::AggregationEvent => b"{\"type\":\"AggregationEvent\",\"eventTime\":",
    });
    string(out, &e.event_time);
    out.extend_from_slice(b",\"eventTimeZoneOffset\":");
    string(out, &e.event_time_zone_offset);
    out.extend_from_slice(b",\"eventID\":");
    string(out, &e.event_id);
    if let Some(d) = &e.error_declaration {
        out.extend_from_slice(b",\"errorDeclaration\":");
        error_declaration(out, d);
    }
    if let Some(p) = &e.parent_id {
        out.extend_from_slice(b",\"parentID\":");
        string(out, p);
    }
    strings(out, b",\"epcList\":", &e.epc_list);
    strings(out, b",\"childEPCs\":", &e.child_epcs);
    quantities(out, b",\"quantityList\":", &e.quantity_list);
    quantities(out, b",\"childQuantityList\":", &e.child_quantity_list);
    out.extend_from_slice(b",\"action\":");
    string(out, e.action);
    out.extend_from_slice(b",\"bizStep\":");
    string(out, e.biz_step);
    out.extend_from_slice(b",\"disposition\":");
    string(out, e.disposition);
    out.extend_from_slice(b",\"readPoint\":");
    id(out, &e.read_point);
    if let Some(l) = &e.biz_location {
        out.extend_from_slice(b",\"bizLocation\":");
        id(out, l);
    }
    typed_list(
        out,
        b",\"bizTransactionList\":[",
        b"bizTransaction",
        e.biz_transaction_list
            .iter()
            .map(|t| (t.kind, t.biz_transaction.as_str())),
    );
    typed_list(
        out,
        b",\"sourceList\":[",
        b"source",
        e.source_list.iter().map(|s| (s.kind, s.source.as_str())),
    );
    typed_list(
        out,
        b",\"destinationList\":[",
        b"destination",
        e.destination_list
            .iter()
            .map(|d| (d.kind, d.destination.as_str())),
    );
    out.push(b'}');
}

fn comma(out: &mut Vec<u8>, i: usize) {
    if i > 0 {
        out.push(b',');
    }
}

fn id(out: &mut Vec<u8>, i: &Id) {
    out.extend_from_slice(b"{\"id\":");
    string(out, &i.id);
    out.push(b'}');
}

/// `key` and a list of `{"type":kind,"<name>":value}`, when not empty.
fn typed_list<'a>(
    out: &mut Vec<u8>,
    key: &[u8],
    name: &[u8],
    members: impl Iterator<Item = (&'a str, &'a str)>,
) {
    let mut n = 0;
    for (kind, value) in members {
        if n == 0 {
            out.extend_from_slice(key);
        }
        comma(out, n);
        typed(out, kind, name, value);
        n += 1;
    }
    if n > 0 {
        out.push(b']');
    }
}

/// `{"type":kind,"<name>":value}`.
pub(super) fn typed(out: &mut Vec<u8>, kind: &str, name: &[u8], value: &str) {
    out.extend_from_slice(b"{\"type\":");
    string(out, kind);
    out.extend_from_slice(b",\"");
    out.extend_from_slice(name);
    out.extend_from_slice(b"\":");
    string(out, value);
    out.push(b'}');
}

fn error_declaration(out: &mut Vec<u8>, d: &ErrorDeclaration) {
    out.extend_from_slice(b"{\"declarationTime\":");
    string(out, &d.declaration_time);
    out.extend_from_slice(b",\"reason\":");
    string(out, d.reason);
    strings(out, b",\"correctiveEventIDs\":", &d.corrective_event_ids);
    out.push(b'}');
}

/// `key` and the list, when it is not empty (as `skip_serializing_if`).
fn strings(out: &mut Vec<u8>, key: &[u8], list: &[String]) {
    if list.is_empty() {
        return;
    }
    out.extend_from_slice(key);
    out.push(b'[');
    for (i, s) in list.iter().enumerate() {
        comma(out, i);
        string(out, s);
    }
    out.push(b']');
}

fn quantities(out: &mut Vec<u8>, key: &[u8], list: &[QuantityElement]) {
    if list.is_empty() {
        return;
    }
    out.extend_from_slice(key);
    out.push(b'[');
    for (i, q) in list.iter().enumerate() {
        comma(out, i);
        out.extend_from_slice(b"{\"epcClass\":");
        string(out, &q.epc_class);
        if let Some(a) = q.quantity {
            out.extend_from_slice(b",\"quantity\":");
            amount(out, a);
        }
        if let Some(uom) = q.uom {
            out.extend_from_slice(b",\"uom\":");
            string(out, uom);
        }
        out.push(b'}');
    }
    out.push(b']');
}

/// A whole amount as an integer; a decimal as `Amount`'s serialiser
/// writes it (the shortest float that reads back as the decimal).
pub(super) fn amount(out: &mut Vec<u8>, a: Amount) {
    if a.scale == 0 {
        if let Ok(n) = i64::try_from(a.mantissa) {
            out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
            return;
        }
    }
    // Decimals are rare (measured goods); serde's float writer keeps
    // them exactly as before.
    let _ = serde_json::to_writer(&mut *out, &a);
}

/// A JSON string: written as it is when nothing in it needs escaping
/// (every identifier scantrail writes), else through serde_json.
pub(super) fn string(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::epcis::event::{BizTransaction, Destination, Source};

    fn event() -> Event {
        Event {
            event_type: EventType::ObjectEvent,
            event_time: "2026-07-01T10:00:00.000Z".into(),
            event_time_zone_offset: "+02:00".into(),
            event_id: "urn:uuid:1".into(),
            error_declaration: None,
            parent_id: None,
            epc_list: Vec::new(),
            child_epcs: Vec::new(),
            quantity_list: Vec::new(),
            child_quantity_list: Vec::new(),
            action: "OBSERVE",
            biz_step: "receiving",
            disposition: "in_progress",
            read_point: Id { id: "rp".into() },
            biz_location: None,
            biz_transaction_list: Vec::new(),
            source_list: Vec::new(),
            destination_list: Vec::new(),
        }
    }

    fn same_as_serde(e: &Event) {
        let mut ours = Vec::new();
        write_event(&mut ours, e);
        let theirs = serde_json::to_vec(e).unwrap();
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            String::from_utf8(theirs).unwrap()
        );
    }

    #[test]
    fn the_bytes_are_serde_s_for_every_field_and_odd_value() {
        same_as_serde(&event());
        let mut e = event();
        e.event_type = EventType::AggregationEvent;
        e.error_declaration = Some(ErrorDeclaration {
            declaration_time: "2026-07-02T00:00:00.000Z".into(),
            reason: "incorrect_data",
            corrective_event_ids: vec!["urn:uuid:2".into(), "urn:uuid:3".into()],
        });
        e.parent_id = Some("https://id.gs1.org/00/095060001234567893".into());
        e.epc_list = vec!["a\"b".into(), "c\\d\n\u{1}é".into()];
        e.child_epcs = vec!["x".into()];
        let q = |mantissa, scale, uom| QuantityElement {
            epc_class: "class".into(),
            quantity: Some(Amount { mantissa, scale }),
            uom,
        };
        e.quantity_list = vec![
            q(12, 0, None),
            q(-3, 0, None),
            q(1250, 3, Some("KGM")),
            q(1, 7, Some("LTR")),
            q(i128::from(i64::MAX) + 1, 0, None),
            q(5000, 3, Some("KGM")),
        ];
        e.child_quantity_list = vec![
            q(7, 0, None),
            QuantityElement {
                epc_class: "lot".into(),
                quantity: None,
                uom: None,
            },
        ];
        e.biz_location = Some(Id { id: "loc".into() });
        e.biz_transaction_list = vec![
            BizTransaction {
                kind: "po",
                biz_transaction: "urn:epcglobal:cbv:bt:1:PO%201".into(),
            },
            BizTransaction {
                kind: "desadv",
                biz_transaction: "d".into(),
            },
        ];
        e.source_list = vec![Source {
            kind: "owning_party",
            source: "s".into(),
        }];
        e.destination_list = vec![
            Destination {
                kind: "owning_party",
                destination: "d1".into(),
            },
            Destination {
                kind: "location",
                destination: "d2\t".into(),
            },
        ];
        same_as_serde(&e);
        e.error_declaration
            .as_mut()
            .unwrap()
            .corrective_event_ids
            .clear();
        same_as_serde(&e);
    }
}
