//! Capture, EPCIS 2.0's receiving side: a trading partner's document
//! checked whole and turned into **expected receipts**, what the partner
//! says it shipped to this site per despatch advice. Pure (document in,
//! what to add, withdraw and ignore or every error out) so the rules are
//! in one place and the site's route only stores the result.
//!
//! What each event becomes (README "Capture" says the same for partners):
//! - an ObjectEvent with bizStep `shipping` whose source (owning party) is
//!   the partner's own party, whose destination names this site and whose
//!   bizTransactionList has a despatch advice (`desadv`) adds its items to
//!   that despatch advice's expected receipt: serials from `epcList`, lots
//!   with their quantity and unit from `quantityList`, pallets (SSCCs) in
//!   `epcList` through the packing AggregationEvents of the same document;
//! - an AggregationEvent `ADD` (packing) ties its childEPCs and
//!   childQuantityList to the pallet: counted with the pallet where a
//!   shipment names it, or where a shipment names the children;
//! - an event with an `errorDeclaration` withdraws what the event with its
//!   eventID added (the site applies it; one not captured here is ignored
//!   with that reason);
//! - every other well-formed event (receiving, commissioning, unpacking,
//!   TransactionEvents, TransformationEvents, AssociationEvents) is
//!   accepted and ignored, with its path and the reason in the job's
//!   result, so a partner can send its whole document;
//! - anything malformed (a time, a misspelt bizStep, an identifier that is
//!   neither Digital Link nor EPC URN) or not the partner's to send refuses
//!   the whole document, each error with its JSON path: nothing is
//!   half-imported.
//!
//! Identifiers may be GS1 Digital Link URIs or EPC URNs (`epcis::epc`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::epc::{self, Epc};
use super::error::EpcisError;
use super::expected::{
    CapturedEvent, ExpectedLot, ExpectedPallet, ExpectedReceipt, ExpectedSerial,
};
use super::settings::EpcisConfig;

/// The Digital Link prefix of the URIs error messages suggest.
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

/// The event types of EPCIS 2.0.
const EVENT_TYPES: &[&str] = &[
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
];

/// What one capture may carry (EPCIS 2.0 REST binding: `OPTIONS
/// /capture` announces them as `GS1-EPCIS-Capture-Limit`, events, and
/// `GS1-EPCIS-Capture-File-Size-Limit`, bytes; more is refused with 413).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Events per document.
    pub events: usize,
    /// Bytes per request body.
    pub bytes: usize,
}

impl Limits {
    /// Events per document unless `[epcis] capture_limit` says otherwise.
    pub const DEFAULT_EVENTS: usize = 10_000;
    /// Bytes unless `[epcis] capture_file_size_limit` says otherwise.
    pub const DEFAULT_BYTES: usize = 8 << 20;
    /// The most bytes a site's HTTP server reads of any request.
    pub const MAX_BYTES: usize = 16 << 20;

    /// The limits `[epcis]` configures, checked.
    pub fn new(config: &EpcisConfig) -> Result<Limits, EpcisError> {
        let events = config.capture_limit.unwrap_or(Limits::DEFAULT_EVENTS);
        if events == 0 {
            return Err(EpcisError::Setting {
                key: "epcis.capture_limit",
                reason: "a capture of no events takes nothing; give at least 1".into(),
            });
        }
        let bytes = config
            .capture_file_size_limit
            .unwrap_or(Limits::DEFAULT_BYTES);
        if !(1024..=Limits::MAX_BYTES).contains(&bytes) {
            return Err(EpcisError::Setting {
                key: "epcis.capture_file_size_limit",
                reason: format!(
                    "{bytes} bytes is outside 1024 to {} (16 MiB, what the server reads of any request)",
                    Limits::MAX_BYTES
                ),
            });
        }
        Ok(Limits { events, bytes })
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            events: Limits::DEFAULT_EVENTS,
            bytes: Limits::DEFAULT_BYTES,
        }
    }
}

/// Why a part of a document is refused; the kind decides the status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Not a document this site can capture (400).
    Invalid,
    /// An event whose source is not the partner's own party, or a
    /// despatch advice or event another party sent (403).
    NotYourParty,
    /// An event not addressed to this site (422).
    NotForThisSite,
    /// More events than the capture limit (413).
    TooLarge,
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

/// A part of an accepted document that changes nothing, and why; the
/// job's result lists them so the partner can tell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// JSON pointer to the event.
    pub path: String,
    /// Why it was ignored, or what the site could not tell.
    pub reason: String,
}

/// An error declaration in the document: the event it withdraws.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawal {
    /// The declared event's eventID.
    pub event_id: String,
    /// JSON pointer to the declaring event.
    pub path: String,
}

/// What an accepted document does.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Checked {
    /// Expected receipts to add, one per despatch advice.
    pub receipts: Vec<ExpectedReceipt>,
    /// Events to withdraw, in document order (applied after the
    /// additions, so a document may carry an event and its correction).
    pub withdrawals: Vec<Withdrawal>,
    /// Events accepted and ignored, and what the site could not tell.
    pub notes: Vec<Note>,
    /// How many events the document had.
    pub event_count: usize,
}

/// A capture's job, as `GET /epcis/v2/capture/{id}` answers it (the
/// same on a site and at head office).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    /// The job's id, the last part of its `Location`.
    pub capture_id: String,
    /// Whether every event was captured (a refused document makes no job).
    pub success: bool,
    /// Done: capture is checked and stored before the answer.
    pub running: bool,
    /// How many events added or withdrew something.
    pub event_count: usize,
    /// The despatch advices now expected.
    pub despatch_advices: Vec<String>,
    /// Errors (none for a job: refused documents make none).
    pub errors: Vec<String>,
    /// Events accepted and ignored, each with its path and why.
    #[serde(default)]
    pub ignored: Vec<Note>,
    /// The eventIDs whose error declarations withdrew what they added.
    #[serde(default)]
    pub withdrawn: Vec<String>,
    /// The partner that captured it.
    pub captured_by: String,
    /// When (UTC, RFC 3339).
    pub captured_at: String,
}

/// What an accepted document changes in the stored expected receipts.
#[derive(Debug, Clone)]
pub struct Applied {
    /// Expected receipts to store (new, merged, or with events withdrawn).
    pub changed: Vec<ExpectedReceipt>,
    /// The job to store and answer.
    pub job: Job,
}

/// `checked` (from the partner `partner` bound to `party`, document
/// `doc`) applied to the `stored` expected receipts at `now`: the
/// receipts to store and the job, or the errors that refuse it after all
/// (a despatch advice or an event of another party). Receipts are one per
/// (site GLN, despatch advice).
pub fn apply(
    checked: Checked,
    stored: Vec<ExpectedReceipt>,
    doc: &Value,
    partner: &str,
    party: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Applied, Vec<CaptureError>> {
    let mut stored = stored;
    let mut ignored = checked.notes;
    let mut changed: Vec<ExpectedReceipt> = Vec::new();
    let mut refused = Vec::new();
    let mut despatch_advices = Vec::new();
    let mut event_count = 0;
    let same = |a: &ExpectedReceipt, b: &ExpectedReceipt| {
        a.despatch_advice == b.despatch_advice && a.to_gln == b.to_gln
    };
    for receipt in checked.receipts {
        event_count += receipt.events.len();
        despatch_advices.push(receipt.despatch_advice.clone());
        match stored.iter().position(|k| same(k, &receipt)) {
            Some(k) if stored[k].from_party != receipt.from_party => refused.push(CaptureError {
                path: "/epcisBody/eventList".into(),
                message: format!(
                    "despatch advice {} was captured from party {}: a partner adds only to its own despatch advices",
                    receipt.despatch_advice, stored[k].from_party
                ),
                kind: ErrorKind::NotYourParty,
            }),
            Some(k) => {
                let mut known = stored.swap_remove(k);
                known.merge(receipt);
                changed.push(known);
            }
            None => changed.push(receipt),
        }
    }
    let mut withdrawn = Vec::new();
    for w in checked.withdrawals {
        let has = |r: &ExpectedReceipt| r.event_ids.contains(&w.event_id);
        if let Some(k) = stored.iter().position(has) {
            changed.push(stored.swap_remove(k));
        }
        match changed.iter_mut().find(|r| has(r)) {
            Some(r) if r.from_party != party => refused.push(CaptureError {
                path: format!("{}/eventID", w.path),
                message: format!(
                    "event {} was captured from party {}: a partner withdraws only its own events",
                    w.event_id, r.from_party
                ),
                kind: ErrorKind::NotYourParty,
            }),
            Some(r) => {
                r.withdraw(&w.event_id);
                event_count += 1;
                withdrawn.push(w.event_id);
            }
            None => ignored.push(Note {
                path: w.path,
                reason: format!(
                    "the errorDeclaration names event {}, which was not captured here: ignored",
                    w.event_id
                ),
            }),
        }
    }
    if !refused.is_empty() {
        return Err(refused);
    }
    let mut id = Sha256::new();
    id.update(partner.as_bytes());
    id.update(now.timestamp_nanos_opt().unwrap_or_default().to_be_bytes());
    id.update(doc.to_string().as_bytes());
    let job = Job {
        capture_id: hex::encode(&id.finalize()[..8]),
        success: true,
        running: false,
        event_count,
        despatch_advices,
        errors: Vec::new(),
        ignored,
        withdrawn,
        captured_by: partner.to_owned(),
        captured_at: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    };
    Ok(Applied { changed, job })
}

/// How a refused document is answered (the same on a site and at head
/// office): the HTTP status, the problem's `code` and its `detail`.
/// Too many events is 413, a document that cannot be captured 400,
/// another party's events 403, events addressed elsewhere 422.
pub fn refusal(errors: &[CaptureError]) -> (u16, &'static str, String) {
    let any = |kind| errors.iter().any(|e| e.kind == kind);
    let (status, code) = if any(ErrorKind::TooLarge) {
        (413, "capture_limit_exceeded")
    } else if any(ErrorKind::Invalid) {
        (400, "bad_request")
    } else if any(ErrorKind::NotYourParty) {
        (403, "forbidden")
    } else {
        (422, "unprocessable")
    };
    let first = errors
        .first()
        .map(|e| format!(": {} at {}", e.message, e.path))
        .unwrap_or_default();
    let detail = format!(
        "the document is refused whole, nothing is captured ({} error(s)){first}",
        errors.len()
    );
    (status, code, detail)
}

/// The headers of `OPTIONS /epcis/v2/capture` (EPCIS 2.0 REST binding's
/// discovery): the versions served, the capture limits, and that a
/// refused document leaves nothing (`rollback`).
pub fn options_headers(limits: Limits) -> [(&'static str, String); 6] {
    [
        ("allow", "OPTIONS, POST".to_owned()),
        ("gs1-epcis-version", "2.0.0".to_owned()),
        ("gs1-cbv-version", "2.0.0".to_owned()),
        ("gs1-epcis-capture-limit", limits.events.to_string()),
        (
            "gs1-epcis-capture-file-size-limit",
            limits.bytes.to_string(),
        ),
        ("gs1-capture-error-behaviour", "rollback".to_owned()),
    ]
}

/// The 413 detail of a body larger than `limits.bytes`, if it is.
pub fn too_many_bytes(len: usize, limits: Limits) -> Option<String> {
    (len > limits.bytes).then(|| {
        format!(
            "the document is {len} bytes, more than the capture file size limit of {} bytes (GS1-EPCIS-Capture-File-Size-Limit): split it; nothing is captured",
            limits.bytes
        )
    })
}

/// A packing AggregationEvent: its pallet and children.
struct Packing {
    sscc: String,
    serials: Vec<ExpectedSerial>,
    lots: Vec<ExpectedLot>,
    path: String,
}

/// A shipping event, before its pallets are filled.
struct Shipment {
    /// The GLN of the site it is addressed to.
    to_gln: String,
    despatch_advice: String,
    event: CapturedEvent,
    ssccs: Vec<String>,
    path: String,
}

/// Checks `doc`, sent by the partner bound to `party` (a PGLN), for the
/// sites whose GLNs are `sites` (a site: its own; head office: each of its
/// sites'), at most `limits.events` events: what it adds, withdraws and
/// ignores, or every error found.
pub fn check(
    doc: &Value,
    party: &str,
    sites: &[&str],
    limits: Limits,
) -> Result<Checked, Vec<CaptureError>> {
    let mut errors = Vec::new();
    let invalid = |errors: &mut Vec<CaptureError>, path: &str, message: String| {
        errors.push(CaptureError {
            path: path.to_owned(),
            message,
            kind: ErrorKind::Invalid,
        })
    };
    if doc.get("type").and_then(Value::as_str) != Some("EPCISDocument") {
        invalid(
            &mut errors,
            "/type",
            "an EPCIS 2.0 document has \"type\": \"EPCISDocument\"".into(),
        );
    }
    if doc.get("schemaVersion").and_then(Value::as_str) != Some("2.0") {
        invalid(
            &mut errors,
            "/schemaVersion",
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
                "/epcisBody/eventList",
                "give the events as a non-empty array".into(),
            );
            return Err(errors);
        }
    };
    if events.len() > limits.events {
        return Err(vec![CaptureError {
            path: "/epcisBody/eventList".into(),
            message: format!(
                "{} events is more than this site's capture limit of {} (GS1-EPCIS-Capture-Limit): split the document",
                events.len(),
                limits.events
            ),
            kind: ErrorKind::TooLarge,
        }]);
    }
    let mut checked = Checked {
        event_count: events.len(),
        ..Checked::default()
    };
    let mut shipments = Vec::new();
    let mut packings = Vec::new();
    for (i, event) in events.iter().enumerate() {
        let at = format!("/epcisBody/eventList/{i}");
        let before = errors.len();
        let mut errs = Errors {
            at: &at,
            errors: &mut errors,
        };
        let kind = common(event, &mut errs);
        if errs.errors.len() != before {
            continue;
        }
        match kind {
            What::Declaration => match event.get("eventID").and_then(Value::as_str) {
                Some(id) => checked.withdrawals.push(Withdrawal {
                    event_id: id.to_owned(),
                    path: at,
                }),
                None => errs.invalid(
                    "/eventID",
                    "an errorDeclaration names the event it withdraws by that event's eventID"
                        .into(),
                ),
            },
            What::Shipping => {
                if let Some(s) = shipment(event, &at, party, sites, &mut errs) {
                    shipments.push(s);
                }
            }
            What::Packing => {
                if let Some(p) = packing(event, &at, &mut errs) {
                    packings.push(p);
                }
            }
            What::Ignored(reason) => checked.notes.push(Note { path: at, reason }),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut used = vec![false; packings.len()];
    let mut receipts: BTreeMap<(String, String), Vec<CapturedEvent>> = BTreeMap::new();
    for mut s in shipments {
        fill_pallets(&mut s, &packings, &mut used, &mut checked.notes);
        receipts
            .entry((s.to_gln, s.despatch_advice))
            .or_default()
            .push(s.event);
    }
    for (p, used) in packings.iter().zip(used) {
        if !used {
            checked.notes.push(Note {
                path: p.path.clone(),
                reason: format!(
                    "pallet {} is packed but no shipment of this document names it or its contents: ignored",
                    p.sscc
                ),
            });
        }
    }
    checked.receipts = receipts
        .into_iter()
        .map(|((to_gln, advice), events)| {
            let mut r = ExpectedReceipt::new(&advice, party, events);
            r.to_gln = to_gln;
            r
        })
        .collect();
    Ok(checked)
}

/// Pallets of shipment `s` get their packing's children (when it names
/// the SSCC) or are found from them (when it names the children).
fn fill_pallets(s: &mut Shipment, packings: &[Packing], used: &mut [bool], notes: &mut Vec<Note>) {
    for sscc in std::mem::take(&mut s.ssccs) {
        match packings.iter().position(|p| p.sscc == sscc) {
            Some(k) => {
                let p = &packings[k];
                used[k] = true;
                s.event.serials.extend(p.serials.iter().cloned());
                s.event.lots.extend(p.lots.iter().cloned());
                s.event.pallets.push(ExpectedPallet {
                    sscc,
                    children: p.serials.len() + p.lots.len(),
                });
            }
            None => {
                notes.push(Note {
                    path: s.path.clone(),
                    reason: format!(
                        "pallet {sscc} is expected but its content is not known: send its packing AggregationEvent in the same document"
                    ),
                });
                s.event.pallets.push(ExpectedPallet { sscc, children: 0 });
            }
        }
    }
    for (k, p) in packings.iter().enumerate() {
        let holds_ours = p.serials.iter().any(|c| s.event.serials.contains(c))
            || p.lots.iter().any(|c| {
                s.event
                    .lots
                    .iter()
                    .any(|l| l.gtin == c.gtin && l.lot == c.lot)
            });
        if holds_ours && !s.event.pallets.iter().any(|e| e.sscc == p.sscc) {
            used[k] = true;
            s.event.pallets.push(ExpectedPallet {
                sscc: p.sscc.clone(),
                children: p.serials.len() + p.lots.len(),
            });
        }
    }
}

/// The errors of one event, each at a path under the event's.
struct Errors<'a> {
    at: &'a str,
    errors: &'a mut Vec<CaptureError>,
}

impl Errors<'_> {
    fn push(&mut self, path: &str, message: String, kind: ErrorKind) {
        self.errors.push(CaptureError {
            path: format!("{}{path}", self.at),
            message,
            kind,
        });
    }

    fn invalid(&mut self, path: &str, message: String) {
        self.push(path, message, ErrorKind::Invalid);
    }
}

/// What an event is to capture.
enum What {
    /// It declares an earlier event in error.
    Declaration,
    /// A shipment: an expected receipt.
    Shipping,
    /// A pallet packed.
    Packing,
    /// Accepted and ignored, for this reason.
    Ignored(String),
}

/// The checks every event passes (type, time, offset, action, bizStep,
/// a declaration's time), and what it is.
fn common(event: &Value, errs: &mut Errors<'_>) -> What {
    let text = |key: &str| event.get(key).and_then(Value::as_str);
    let kind = text("type").unwrap_or("");
    if !EVENT_TYPES.contains(&kind) {
        errs.invalid(
            "/type",
            format!(
                "{kind:?} is not an EPCIS 2.0 event type: ObjectEvent, AggregationEvent, TransactionEvent, TransformationEvent or AssociationEvent"
            ),
        );
    }
    match text("eventTime").map(chrono::DateTime::parse_from_rfc3339) {
        Some(Ok(_)) => {}
        Some(Err(_)) => errs.invalid(
            "/eventTime",
            "give the time as RFC 3339 with its offset, e.g. 2026-07-02T14:15:30.250Z".into(),
        ),
        None => errs.invalid("/eventTime", "every event needs its eventTime".into()),
    }
    let offset_ok = text("eventTimeZoneOffset").is_some_and(|o| {
        let b = o.as_bytes();
        b.len() == 6
            && (b[0] == b'+' || b[0] == b'-')
            && b[3] == b':'
            && [1, 2, 4, 5].iter().all(|&k| b[k].is_ascii_digit())
    });
    if !offset_ok {
        errs.invalid(
            "/eventTimeZoneOffset",
            "give the offset as ±hh:mm, e.g. +02:00".into(),
        );
    }
    let action = text("action");
    if kind != "TransformationEvent" && !matches!(action, Some("ADD" | "OBSERVE" | "DELETE")) {
        errs.invalid("/action", "action is ADD, OBSERVE or DELETE".into());
    }
    let step = text("bizStep").map(|s| epc::cbv(s, "BizStep", "bizstep"));
    match step {
        None => {}
        Some(s) if BIZ_STEPS.contains(&s) => {}
        // Another vocabulary's step is a URI; a bare word is CBV's or
        // misspelt.
        Some(s) if s.contains(':') => {}
        Some(s) => errs.invalid(
            "/bizStep",
            format!("{s:?} is not a CBV 2.0 business step; a shipment is \"shipping\""),
        ),
    }
    if let Some(declaration) = event.get("errorDeclaration") {
        let time = declaration
            .get("declarationTime")
            .and_then(Value::as_str)
            .map(chrono::DateTime::parse_from_rfc3339);
        if !matches!(time, Some(Ok(_))) {
            errs.invalid(
                "/errorDeclaration/declarationTime",
                "an errorDeclaration needs its declarationTime, RFC 3339 with its offset".into(),
            );
        }
        return What::Declaration;
    }
    match (kind, step, action) {
        ("ObjectEvent", Some("shipping"), _) => What::Shipping,
        ("ObjectEvent", None, _) => {
            What::Ignored("an ObjectEvent without bizStep is not a shipment: ignored".into())
        }
        ("ObjectEvent", Some(s), _) => What::Ignored(format!(
            "bizStep {s}: only shipping events make expected receipts; ignored"
        )),
        ("AggregationEvent", None | Some("packing"), Some("ADD")) => What::Packing,
        ("AggregationEvent", _, _) => What::Ignored(
            "only packing (action ADD) aggregations say what a pallet holds; ignored".into(),
        ),
        (other, _, _) => What::Ignored(format!(
            "a {other} says nothing of what was shipped here; ignored"
        )),
    }
}

/// The items of `list` (`epcList`, `childEPCs`) at `key`: serials and
/// SSCCs; lots are refused there.
fn epcs(event: &Value, key: &str, errs: &mut Errors<'_>) -> (Vec<ExpectedSerial>, Vec<String>) {
    let mut serials = Vec::new();
    let mut ssccs = Vec::new();
    for (j, value) in list(event, key).iter().enumerate() {
        match value.as_str().and_then(epc::epc) {
            Some(Epc::Serial { gtin, serial }) => serials.push(ExpectedSerial { gtin, serial }),
            Some(Epc::Sscc(sscc)) => ssccs.push(sscc),
            Some(Epc::Lot { .. }) => errs.invalid(
                &format!("/{key}/{j}"),
                "a lot is a class: give it in quantityList with its quantity".into(),
            ),
            None => errs.invalid(
                &format!("/{key}/{j}"),
                format!("give a serialised item as {DL}01/GTIN/21/SERIAL or urn:epc:id:sgtin:…, a pallet as {DL}00/SSCC or urn:epc:id:sscc:…"),
            ),
        }
    }
    (serials, ssccs)
}

/// The lots of a quantity list at `key`.
fn lots(event: &Value, key: &str, errs: &mut Errors<'_>) -> Vec<ExpectedLot> {
    let mut out = Vec::new();
    for (j, q) in list(event, key).iter().enumerate() {
        let class = q.get("epcClass").and_then(Value::as_str).and_then(epc::epc);
        let quantity = q.get("quantity").and_then(Value::as_f64);
        let uom = q.get("uom").map(|u| u.as_str().map(str::to_owned));
        match (class, quantity, uom) {
            (Some(Epc::Lot { gtin, lot }), Some(quantity), None | Some(Some(_)))
                if quantity > 0.0 && quantity.is_finite() =>
            {
                out.push(ExpectedLot {
                    gtin,
                    lot,
                    quantity,
                    uom: q.get("uom").and_then(Value::as_str).map(str::to_owned),
                })
            }
            _ => errs.invalid(
                &format!("/{key}/{j}"),
                format!("give a lot as {{\"epcClass\": \"{DL}01/GTIN/10/LOT\" (or urn:epc:class:lgtin:…), \"quantity\": N > 0, \"uom\": \"KGM\" when not pieces}}"),
            ),
        }
    }
    out
}

/// A shipping event's expected part, with its errors pushed.
fn shipment(
    event: &Value,
    at: &str,
    party: &str,
    sites: &[&str],
    errs: &mut Errors<'_>,
) -> Option<Shipment> {
    let before = errs.errors.len();
    let (serials, ssccs) = epcs(event, "epcList", errs);
    let lots = lots(event, "quantityList", errs);
    // (Items given but all malformed have their own errors.)
    if list(event, "epcList").is_empty() && list(event, "quantityList").is_empty() {
        errs.invalid(
            "/epcList",
            "a shipment names its items or pallets in epcList, or its lots in quantityList".into(),
        );
    }
    let desadv = list(event, "bizTransactionList").iter().find_map(|t| {
        let kind = t.get("type").and_then(Value::as_str)?;
        (epc::cbv(kind, "BTT", "btt") == "desadv")
            .then(|| t.get("bizTransaction").and_then(Value::as_str))
            .flatten()
    });
    if desadv.is_none() {
        errs.invalid(
            "/bizTransactionList",
            "give the despatch advice: {\"type\": \"desadv\", \"bizTransaction\": \"…\"}".into(),
        );
    }
    let own = format!("{DL}417/{party}");
    let mut owners = 0;
    for (j, s) in list(event, "sourceList").iter().enumerate() {
        let kind = s.get("type").and_then(Value::as_str).unwrap_or("");
        if epc::cbv(kind, "SDT", "sdt") != "owning_party" {
            continue;
        }
        owners += 1;
        let source = s.get("source").and_then(Value::as_str).and_then(epc::gln);
        if source.as_deref() != Some(party) {
            errs.push(
                &format!("/sourceList/{j}/source"),
                format!("a partner captures only its own party's events: the source must be {own}"),
                ErrorKind::NotYourParty,
            );
        }
    }
    if owners == 0 {
        errs.invalid(
            "/sourceList",
            format!(
                "give the sending party: {{\"type\": \"owning_party\", \"source\": \"{own}\"}}"
            ),
        );
    }
    let to_gln = list(event, "destinationList").iter().find_map(|d| {
        d.get("destination")
            .and_then(Value::as_str)
            .and_then(epc::gln)
            .filter(|g| sites.contains(&g.as_str()))
    });
    if to_gln.is_none() {
        let message = match sites {
            [gln] => format!("this site captures only shipments to it: name {DL}417/{gln} (or its location 414/{gln}) as a destination"),
            _ => format!(
                "head office captures only shipments to its sites: name one of {} as destination party (417/) or location (414/)",
                sites.join(", ")
            ),
        };
        errs.push("/destinationList", message, ErrorKind::NotForThisSite);
    }
    if errs.errors.len() != before {
        return None;
    }
    Some(Shipment {
        to_gln: to_gln?,
        despatch_advice: desadv?.to_owned(),
        event: CapturedEvent {
            event_id: event_id(event),
            serials,
            lots,
            pallets: Vec::new(),
        },
        ssccs,
        path: at.to_owned(),
    })
}

/// A packing AggregationEvent's pallet and children.
fn packing(event: &Value, at: &str, errs: &mut Errors<'_>) -> Option<Packing> {
    let before = errs.errors.len();
    let parent = event.get("parentID").and_then(Value::as_str);
    let sscc = match parent.and_then(epc::epc) {
        Some(Epc::Sscc(sscc)) => Some(sscc),
        _ => {
            errs.invalid(
                "/parentID",
                format!(
                    "a packing aggregation names its pallet as {DL}00/SSCC or urn:epc:id:sscc:…"
                ),
            );
            None
        }
    };
    let (serials, inner) = epcs(event, "childEPCs", errs);
    if !inner.is_empty() {
        errs.invalid(
            "/childEPCs",
            "cases inside a pallet are not captured here: name the items themselves".into(),
        );
    }
    let lots = lots(event, "childQuantityList", errs);
    if errs.errors.len() != before {
        return None;
    }
    Some(Packing {
        sscc: sscc?,
        serials,
        lots,
        path: at.to_owned(),
    })
}

/// The event's eventID, or (EPCIS 2.0 keeps it optional) one made from
/// its content, so the same event sent twice is counted once.
fn event_id(event: &Value) -> String {
    match event.get("eventID").and_then(Value::as_str) {
        Some(id) => id.to_owned(),
        None => format!(
            "urn:uuid:{}",
            uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, event.to_string().as_bytes())
        ),
    }
}

/// The array at `key`, empty when there is none.
fn list<'a>(event: &'a Value, key: &str) -> &'a [Value] {
    event
        .get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::epcis::expected::short_document;
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

    const PARTY: &str = "9506000000039";
    const SITE: &str = "9506000000022";

    fn checked(doc: &Value) -> Checked {
        check(doc, PARTY, &[SITE], Limits::default()).unwrap()
    }

    fn paths(doc: &Value) -> Vec<String> {
        check(doc, PARTY, &[SITE], Limits::default())
            .unwrap_err()
            .into_iter()
            .map(|e| e.path)
            .collect()
    }

    #[test]
    fn a_gsin_despatch_advice_and_a_location_destination_are_captured() {
        let receipts = checked(&doc(shipping())).receipts;
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
    fn urn_epcs_are_captured_and_a_missing_despatch_advice_is_named() {
        let mut event = shipping();
        event["epcList"] = json!(["urn:epc:id:sgtin:9506000.013435.S1"]);
        event["quantityList"] = json!([{"epcClass": "urn:epc:class:lgtin:9506000.013435.L%2F1", "quantity": 2.5, "uom": "KGM"}]);
        event["sourceList"] = json!([{"type": "urn:epcglobal:cbv:sdt:owning_party", "source": "urn:epc:id:pgln:9506000.00003"}]);
        event["destinationList"] =
            json!([{"type": "location", "destination": "urn:epc:id:sgln:9506000.00002.0"}]);
        let r = &checked(&doc(event.clone())).receipts[0];
        assert!(r.has_serial("09506000134352", "S1"));
        assert_eq!(
            r.lots,
            [ExpectedLot {
                gtin: "09506000134352".into(),
                lot: "L/1".into(),
                quantity: 2.5,
                uom: Some("KGM".into())
            }]
        );
        event["epcList"] = json!(["urn:epc:id:sgtin:95.013435.S1"]);
        event["bizTransactionList"] = json!([]);
        assert_eq!(
            paths(&doc(event)),
            [
                "/epcisBody/eventList/0/epcList/0",
                "/epcisBody/eventList/0/bizTransactionList"
            ]
        );
    }

    #[test]
    fn a_pallet_s_packing_fills_it_and_other_events_are_ignored_with_a_reason() {
        let mut ship = shipping();
        ship["epcList"] = json!(["https://id.gs1.org/00/195060000000000012"]);
        let pack = json!({
            "type": "AggregationEvent", "eventTime": "2026-07-02T14:00:00Z",
            "eventTimeZoneOffset": "+02:00", "action": "ADD", "bizStep": "packing",
            "parentID": "urn:epc:id:sscc:9506000.1000000001",
            "childEPCs": ["https://id.gs1.org/01/09506000134352/21/S1", "https://id.gs1.org/01/09506000134352/21/S2"],
            "childQuantityList": [{"epcClass": "https://id.gs1.org/01/09506000134352/10/L1", "quantity": 4}]
        });
        let mut receiving = shipping();
        receiving["bizStep"] = json!("receiving");
        let c = checked(&json!({"type": "EPCISDocument", "schemaVersion": "2.0",
            "epcisBody": {"eventList": [pack, ship, receiving]}}));
        let r = &c.receipts[0];
        assert!(r.has_serial("09506000134352", "S1") && r.has_serial("09506000134352", "S2"));
        assert_eq!(r.lots[0].quantity, 4.0);
        assert_eq!(
            r.pallets,
            [ExpectedPallet {
                sscc: "195060000000000012".into(),
                children: 3
            }]
        );
        assert_eq!(c.notes.len(), 1);
        assert_eq!(c.notes[0].path, "/epcisBody/eventList/2");
        assert!(c.notes[0].reason.contains("receiving"), "{:?}", c.notes);
        assert_eq!(c.event_count, 3);
    }

    #[test]
    fn an_error_declaration_withdraws_and_the_receipt_sums_what_is_left() {
        let mut declared = shipping();
        declared["errorDeclaration"] =
            json!({"declarationTime": "2026-07-03T00:00:00Z", "reason": "incorrect_data"});
        let c = checked(&doc(declared));
        assert!(c.receipts.is_empty());
        assert_eq!(
            c.withdrawals[0].event_id,
            "urn:uuid:c8f68ff3-377a-5180-94df-877a5f0c4acf"
        );

        let lot = |quantity| CapturedEvent {
            event_id: format!("e{quantity}"),
            serials: vec![],
            lots: vec![ExpectedLot {
                gtin: "09506000134352".into(),
                lot: "L1".into(),
                quantity,
                uom: None,
            }],
            pallets: vec![],
        };
        let mut r = ExpectedReceipt::new("DA-1", PARTY, vec![lot(4.0)]);
        r.merge(ExpectedReceipt::new(
            "DA-1",
            PARTY,
            vec![lot(2.0), lot(4.0)],
        ));
        assert_eq!(r.lots[0].quantity, 6.0, "the same event twice counts once");
        assert!(r.withdraw("e4"));
        assert_eq!(r.lots[0].quantity, 2.0);
        assert!(!r.withdraw("e4"));
    }

    #[test]
    fn more_events_than_the_limit_are_refused_as_too_large() {
        let events = vec![shipping(), shipping(), shipping()];
        let doc = json!({"type": "EPCISDocument", "schemaVersion": "2.0", "epcisBody": {"eventList": events}});
        let limits = Limits {
            events: 2,
            bytes: Limits::DEFAULT_BYTES,
        };
        let errors = check(&doc, PARTY, &[SITE], limits).unwrap_err();
        assert_eq!(errors[0].kind, ErrorKind::TooLarge);
        assert!(
            errors[0].message.contains("capture limit of 2"),
            "{errors:?}"
        );
        let config = EpcisConfig {
            capture_file_size_limit: Some(10),
            ..EpcisConfig::default()
        };
        assert!(Limits::new(&config).is_err());
    }
}
