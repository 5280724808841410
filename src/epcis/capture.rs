//! Capture, EPCIS 2.0's receiving side: a trading partner's document
//! checked whole and turned into **expected receipts**, what the partner
//! says it shipped to this site per despatch advice. Pure (document in,
//! receipts or every error out) so the rules are in one place and the
//! site's route only stores the result.
//!
//! Only what the site needs is captured: ObjectEvents with bizStep
//! `shipping` whose source (owning party) is the partner's own party and
//! whose destination names this site, with a despatch advice (`desadv`)
//! in bizTransactionList and items as GS1 Digital Link URIs (`epcList`
//! serials `/01/…/21/…`, `quantityList` lots `/01/…/10/…`). Anything else
//! is an error with its JSON path, so nothing is half-imported.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The Digital Link prefix of every identifier captured.
const DL: &str = "https://id.gs1.org/";

/// CBV 2.0's business steps, bare as JSON-LD writes them: a bizStep
/// outside this list (and not a URI of another vocabulary) is misspelt.
const BIZ_STEPS: &[&str] = &[
    "accepting",
    "arriving",
    "assembling",
    "collecting",
    "commissioning",
    "consigning",
    "creating_class_instance",
    "cycle_counting",
    "decommissioning",
    "departing",
    "destroying",
    "disassembling",
    "dispensing",
    "encoding",
    "entering_exiting",
    "holding",
    "inspecting",
    "installing",
    "killing",
    "loading",
    "other",
    "packing",
    "picking",
    "receiving",
    "removing",
    "repackaging",
    "repairing",
    "replacing",
    "reserving",
    "retail_selling",
    "sampling",
    "sensor_reporting",
    "shipping",
    "staging_outbound",
    "stock_taking",
    "stocking",
    "storing",
    "transporting",
    "unloading",
    "unpacking",
    "void_shipping",
];

/// Why a part of a document is refused; the kind decides the status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Not a document this site can capture (400).
    Invalid,
    /// An event whose source is not the partner's own party (403).
    NotYourParty,
    /// An event not addressed to this site (422).
    NotForThisSite,
}

/// One error of a refused document: where (a JSON pointer) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaptureError {
    /// JSON pointer into the document, e.g.
    /// `/epcisBody/eventList/2/sourceList/0/source`.
    pub path: String,
    /// What is wrong and what to send instead.
    pub message: String,
    /// Which kind of refusal.
    pub kind: ErrorKind,
}

/// A serialised item the partner shipped.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ExpectedSerial {
    /// The item's GTIN-14.
    pub gtin: String,
    /// Its serial (AI 21), as the URI writes it.
    pub serial: String,
}

/// A lot-level quantity the partner shipped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpectedLot {
    /// The GTIN-14.
    pub gtin: String,
    /// The lot (AI 10).
    pub lot: String,
    /// How many, in the event's unit (pieces when none).
    pub quantity: f64,
}

/// What a partner says it shipped to this site under one despatch advice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpectedReceipt {
    /// The despatch advice as bizTransactionList gives it (the key).
    pub despatch_advice: String,
    /// Its short form for people: the part after the last `:` or `/`.
    pub document: String,
    /// The sending party's PGLN.
    pub from_party: String,
    /// Every GTIN on it.
    pub gtins: Vec<String>,
    /// Serialised items.
    pub serials: Vec<ExpectedSerial>,
    /// Lot quantities.
    pub lots: Vec<ExpectedLot>,
    /// The captured events' IDs.
    pub event_ids: Vec<String>,
}

impl ExpectedReceipt {
    /// Adds what `other` (the same despatch advice, captured later)
    /// expects, without repeating an item.
    pub fn merge(&mut self, other: ExpectedReceipt) {
        for s in other.serials {
            if !self.serials.contains(&s) {
                self.serials.push(s);
            }
        }
        self.lots.extend(other.lots);
        for g in other.gtins {
            if !self.gtins.contains(&g) {
                self.gtins.push(g);
            }
        }
        self.event_ids.extend(other.event_ids);
    }

    /// Whether the serial `serial` of `gtin` is on this despatch advice.
    pub fn has_serial(&self, gtin: &str, serial: &str) -> bool {
        self.serials
            .iter()
            .any(|s| s.gtin == gtin && s.serial == serial)
    }
}

/// Checks `doc`, sent by the partner bound to `party` (a PGLN), for the
/// site whose GLN is `site_gln`: its expected receipts, one per despatch
/// advice, or every error found.
pub fn check(
    doc: &Value,
    party: &str,
    site_gln: &str,
) -> Result<Vec<ExpectedReceipt>, Vec<CaptureError>> {
    let mut errors = Vec::new();
    let invalid = |errors: &mut Vec<CaptureError>, path: String, message: String| {
        errors.push(CaptureError {
            path,
            message,
            kind: ErrorKind::Invalid,
        })
    };
    if doc.get("type").and_then(Value::as_str) != Some("EPCISDocument") {
        invalid(
            &mut errors,
            "/type".into(),
            "an EPCIS 2.0 document has \"type\": \"EPCISDocument\"".into(),
        );
    }
    if doc.get("schemaVersion").and_then(Value::as_str) != Some("2.0") {
        invalid(
            &mut errors,
            "/schemaVersion".into(),
            "give \"schemaVersion\": \"2.0\"".into(),
        );
    }
    let events = match doc
        .pointer("/epcisBody/eventList")
        .and_then(Value::as_array)
    {
        Some(list) if !list.is_empty() => list,
        _ => {
            invalid(
                &mut errors,
                "/epcisBody/eventList".into(),
                "give the events as a non-empty array".into(),
            );
            return Err(errors);
        }
    };
    let mut receipts: BTreeMap<String, ExpectedReceipt> = BTreeMap::new();
    for (i, event) in events.iter().enumerate() {
        let at = format!("/epcisBody/eventList/{i}");
        if let Some(r) = check_event(event, &at, party, site_gln, &mut errors) {
            match receipts.get_mut(&r.despatch_advice) {
                Some(known) => known.merge(r),
                None => {
                    receipts.insert(r.despatch_advice.clone(), r);
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(receipts.into_values().collect())
    } else {
        Err(errors)
    }
}

/// One event's errors pushed to `errors`; its expected receipt when it has
/// none.
fn check_event(
    event: &Value,
    at: &str,
    party: &str,
    site_gln: &str,
    errors: &mut Vec<CaptureError>,
) -> Option<ExpectedReceipt> {
    let before = errors.len();
    let mut push = |path: String, message: String, kind: ErrorKind| {
        errors.push(CaptureError {
            path: format!("{at}{path}"),
            message,
            kind,
        })
    };
    let text = |key: &str| event.get(key).and_then(Value::as_str);
    if text("type") != Some("ObjectEvent") {
        push(
            "/type".into(),
            "only ObjectEvents (bizStep shipping) are captured here".into(),
            ErrorKind::Invalid,
        );
    }
    match text("eventTime").map(chrono::DateTime::parse_from_rfc3339) {
        Some(Ok(_)) => {}
        Some(Err(_)) => push(
            "/eventTime".into(),
            "give the time as RFC 3339 with its offset, e.g. 2026-07-02T14:15:30.250Z".into(),
            ErrorKind::Invalid,
        ),
        None => push(
            "/eventTime".into(),
            "every event needs its eventTime".into(),
            ErrorKind::Invalid,
        ),
    }
    let offset_ok = text("eventTimeZoneOffset").is_some_and(|o| {
        let b = o.as_bytes();
        b.len() == 6
            && (b[0] == b'+' || b[0] == b'-')
            && b[3] == b':'
            && [1, 2, 4, 5].iter().all(|&k| b[k].is_ascii_digit())
    });
    if !offset_ok {
        push(
            "/eventTimeZoneOffset".into(),
            "give the offset as ±hh:mm, e.g. +02:00".into(),
            ErrorKind::Invalid,
        );
    }
    if !matches!(text("action"), Some("ADD" | "OBSERVE" | "DELETE")) {
        push(
            "/action".into(),
            "action is ADD, OBSERVE or DELETE".into(),
            ErrorKind::Invalid,
        );
    }
    let step = text("bizStep").map(|s| {
        s.strip_prefix("https://ref.gs1.org/cbv/BizStep-")
            .unwrap_or(s)
    });
    match step {
        Some("shipping") => {}
        Some(s) if BIZ_STEPS.contains(&s) => push(
            "/bizStep".into(),
            format!("only shipping events are captured here, not {s:?}"),
            ErrorKind::Invalid,
        ),
        Some(s) => push(
            "/bizStep".into(),
            format!("{s:?} is not a CBV 2.0 business step; a shipment is \"shipping\""),
            ErrorKind::Invalid,
        ),
        None => push(
            "/bizStep".into(),
            "give the bizStep: \"shipping\"".into(),
            ErrorKind::Invalid,
        ),
    }
    let mut serials = Vec::new();
    let mut lots = Vec::new();
    for (j, epc) in list(event, "epcList").iter().enumerate() {
        match epc.as_str().and_then(|e| item(e, "21")) {
            Some((gtin, serial)) => serials.push(ExpectedSerial { gtin, serial }),
            None => push(
                format!("/epcList/{j}"),
                "give a serialised item as https://id.gs1.org/01/GTIN/21/SERIAL".into(),
                ErrorKind::Invalid,
            ),
        }
    }
    for (j, q) in list(event, "quantityList").iter().enumerate() {
        let class = q.get("epcClass").and_then(Value::as_str);
        let quantity = q.get("quantity").and_then(Value::as_f64);
        match (class.and_then(|c| item(c, "10")), quantity) {
            (Some((gtin, lot)), Some(quantity)) if quantity > 0.0 => lots.push(ExpectedLot {
                gtin,
                lot,
                quantity,
            }),
            _ => push(
                format!("/quantityList/{j}"),
                "give a lot as {\"epcClass\": \"https://id.gs1.org/01/GTIN/10/LOT\", \"quantity\": N > 0}".into(),
                ErrorKind::Invalid,
            ),
        }
    }
    if serials.is_empty() && lots.is_empty() {
        push(
            "/epcList".into(),
            "a shipment names its items in epcList or quantityList".into(),
            ErrorKind::Invalid,
        );
    }
    let desadv = list(event, "bizTransactionList").iter().find_map(|t| {
        (t.get("type").and_then(Value::as_str) == Some("desadv"))
            .then(|| t.get("bizTransaction").and_then(Value::as_str))
            .flatten()
    });
    if desadv.is_none() {
        push(
            "/bizTransactionList".into(),
            "give the despatch advice: {\"type\": \"desadv\", \"bizTransaction\": \"…\"}".into(),
            ErrorKind::Invalid,
        );
    }
    let own = format!("{DL}417/{party}");
    let mut owners = 0;
    for (j, s) in list(event, "sourceList").iter().enumerate() {
        if s.get("type").and_then(Value::as_str) != Some("owning_party") {
            continue;
        }
        owners += 1;
        if s.get("source").and_then(Value::as_str) != Some(own.as_str()) {
            push(
                format!("/sourceList/{j}/source"),
                format!("a partner captures only its own party's events: the source must be {own}"),
                ErrorKind::NotYourParty,
            );
        }
    }
    if owners == 0 {
        push(
            "/sourceList".into(),
            format!(
                "give the sending party: {{\"type\": \"owning_party\", \"source\": \"{own}\"}}"
            ),
            ErrorKind::Invalid,
        );
    }
    let for_site = list(event, "destinationList").iter().any(|d| {
        d.get("destination")
            .and_then(Value::as_str)
            .and_then(gln_of)
            .is_some_and(|g| g == site_gln)
    });
    if !for_site {
        push(
            "/destinationList".into(),
            format!("this site captures only shipments to it: name {DL}417/{site_gln} (or its location 414/{site_gln}) as a destination"),
            ErrorKind::NotForThisSite,
        );
    }
    if errors.len() != before {
        return None;
    }
    let despatch_advice = desadv?.to_owned();
    let mut gtins: Vec<String> = serials
        .iter()
        .map(|s| s.gtin.clone())
        .chain(lots.iter().map(|l| l.gtin.clone()))
        .collect();
    gtins.sort();
    gtins.dedup();
    Some(ExpectedReceipt {
        document: short_document(&despatch_advice).to_owned(),
        despatch_advice,
        from_party: party.to_owned(),
        gtins,
        serials,
        lots,
        event_ids: text("eventID").map(str::to_owned).into_iter().collect(),
    })
}

/// The array at `key`, empty when there is none.
fn list<'a>(event: &'a Value, key: &str) -> &'a [Value] {
    event
        .get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// `https://id.gs1.org/01/GTIN/{ai}/VALUE` as (GTIN, VALUE).
fn item(uri: &str, ai: &str) -> Option<(String, String)> {
    let rest = uri.strip_prefix(DL)?.strip_prefix("01/")?;
    let (gtin, rest) = rest.split_once('/')?;
    let value = rest.strip_prefix(ai)?.strip_prefix('/')?;
    let ok = gtin.len() == 14 && gtin.bytes().all(|b| b.is_ascii_digit()) && !value.is_empty();
    ok.then(|| (gtin.to_owned(), value.to_owned()))
}

/// The GLN of a party (`…/417/GLN`) or location (`…/414/GLN[/254/…]`).
fn gln_of(uri: &str) -> Option<&str> {
    let rest = uri.strip_prefix(DL)?;
    let rest = rest
        .strip_prefix("417/")
        .or_else(|| rest.strip_prefix("414/"))?;
    let gln = rest.split('/').next()?;
    (gln.len() == 13).then_some(gln)
}

/// A despatch advice's short form: what follows its last `:` or `/`.
pub fn short_document(despatch_advice: &str) -> &str {
    despatch_advice
        .rsplit([':', '/'])
        .next()
        .unwrap_or(despatch_advice)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(event: Value) -> Value {
        json!({"type": "EPCISDocument", "schemaVersion": "2.0", "epcisBody": {"eventList": [event]}})
    }

    fn shipping() -> Value {
        json!({
            "type": "ObjectEvent", "eventTime": "2026-07-02T14:15:30.250Z",
            "eventTimeZoneOffset": "+02:00", "action": "OBSERVE",
            "bizStep": "https://ref.gs1.org/cbv/BizStep-shipping",
            "eventID": "urn:uuid:c8f68ff3-377a-5180-94df-877a5f0c4acf",
            "epcList": ["https://id.gs1.org/01/09506000134352/21/S1"],
            "bizTransactionList": [{"type": "desadv", "bizTransaction": "https://id.gs1.org/402/95060000000000015"}],
            "sourceList": [{"type": "owning_party", "source": "https://id.gs1.org/417/9506000000039"}],
            "destinationList": [{"type": "location", "destination": "https://id.gs1.org/414/9506000000022/254/dock-1"}]
        })
    }

    #[test]
    fn a_gsin_despatch_advice_and_a_location_destination_are_captured() {
        let receipts = check(&doc(shipping()), "9506000000039", "9506000000022").unwrap();
        assert_eq!(receipts.len(), 1);
        assert_eq!(receipts[0].document, "95060000000000015");
        assert!(receipts[0].has_serial("09506000134352", "S1"));
        assert!(!receipts[0].has_serial("09506000134352", "S2"));
        assert_eq!(
            short_document("urn:epcglobal:cbv:bt:9506000000039:DA-77"),
            "DA-77"
        );
    }

    #[test]
    fn urn_epcs_and_a_missing_despatch_advice_are_named() {
        let mut event = shipping();
        event["epcList"] = json!(["urn:epc:id:sgtin:9506000.134352.S1"]);
        event["bizTransactionList"] = json!([]);
        let errors = check(&doc(event), "9506000000039", "9506000000022").unwrap_err();
        let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/epcisBody/eventList/0/epcList/0",
                "/epcisBody/eventList/0/epcList",
                "/epcisBody/eventList/0/bizTransactionList"
            ]
        );
        assert!(errors.iter().all(|e| e.kind == ErrorKind::Invalid));
    }
}
