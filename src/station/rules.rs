//! The station's decision for one scan: accept it as a movement, refuse it
//! with a reason, or take it as a context, command or badge barcode.
//!
//! Pure: everything the rules may know comes in through `View`, so every
//! rule is tested without a disk.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::context::{Command, Context, Fefo, Mode, Policies, ReturnsTo, Strictness, QUARANTINE};
use super::reference::Product;
use super::view::{View, ViewError};
use crate::gs1::{self, Content, ElementString};
use crate::model::RefusalCode;
use crate::model::{Counterparty, Documents, Kind, NewMovement, Quantity, ScanSource, SerialState};

/// What the rules need to know about the station itself.
#[derive(Debug, Clone, Copy)]
pub struct Station<'a> {
    /// The station's id (`[[stations]] id`).
    pub id: &'a str,
    /// What its scans are (receive, dispatch, return): its configured mode,
    /// unless a command switched it.
    pub mode: Mode,
    /// The location it books goods to or from, unless its context names
    /// another.
    pub location: &'a str,
    /// How strictly it applies the rules that allow a choice.
    pub policies: &'a Policies,
    /// GLNs of the company's other sites: shipping to one is a transfer.
    pub own_sites: &'a [String],
}

/// One scan as it reached the station.
#[derive(Debug, Clone, Copy)]
pub struct ScanInput<'a> {
    /// The frame exactly as the device sent it: the journal keeps it.
    pub raw: &'a [u8],
    /// What the parser reads: `raw` with a vendor label ID replaced by its
    /// AIM identifier (the same bytes for most scanners).
    pub frame: &'a [u8],
    /// The device profile's stand-in byte for GS, if any.
    pub substitute: Option<u8>,
    /// The device profile that framed the scan (`http` for a handheld).
    pub device_profile: &'a str,
    /// Given with the scan (handheld API); else the signed-in operator.
    pub operator: Option<&'a str>,
    /// Who sent it, as authenticated: the handheld's token name or the
    /// scanner's port (`NewMovement::author`).
    pub author: &'a str,
    /// When the device made the scan.
    pub time: DateTime<Utc>,
}

/// A refusal: a stable code for machines and words for the screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// Stable code for machines: an API contract.
    pub code: RefusalCode,
    /// Words for the operator's screen: what was wrong and, where it helps,
    /// what to do.
    pub reason: String,
}

/// A policy that chose to warn rather than refuse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// Which policy warned (e.g. `unknown_gtin`, `fefo`, `expired`).
    pub code: RefusalCode,
    /// Words for the operator's screen.
    pub message: String,
}

/// What a station makes of one scan.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Record this movement.
    Accept {
        /// The movement to commit.
        movement: Box<NewMovement>,
        /// What policies that warn instead of refusing found; the scan is still
        /// accepted.
        warnings: Vec<Warning>,
    },
    /// Refuse the scan with a bad read; the refusal goes to the rejected-scan
    /// log.
    Reject(Refusal),
    /// A context, command or badge barcode: the station's new context.
    SetContext {
        /// The station's context after the barcode.
        context: Context,
        /// What to tell the operator (e.g. `order O-1`, `operator alice`).
        message: String,
    },
    /// `CMD:VOID`: correct `context.last_movement`, then use `context`.
    Void {
        /// The station's context once the void is recorded.
        context: Context,
    },
}

fn refuse(code: RefusalCode, reason: impl Into<String>) -> Decision {
    Decision::Reject(Refusal {
        code,
        reason: reason.into(),
    })
}

/// The parser version recorded with every movement, so an auditor can
/// re-read the raw bytes with the same rules.
pub const PARSER_VERSION: &str = concat!("scantrail ", env!("CARGO_PKG_VERSION"));

/// Decides what one scan means at `station` in `context`.
pub fn decide(
    station: &Station<'_>,
    context: &Context,
    scan: &ScanInput<'_>,
    view: &dyn View,
) -> Decision {
    // The station's own barcodes are recognised by their prefix first,
    // whatever the symbology identifier says, or without one (a handheld
    // sending `CMD:MODE:RETURN` as plain data): read as GS1 they would be
    // refused as "no GS1 AI starts with CMD:". No GS1 data starts with a
    // letter, so a prefix cannot take a GS1 scan.
    let data = without_symbology(scan.frame);
    let own = |prefix: &str| !prefix.is_empty() && data.starts_with(prefix.as_bytes());
    if own(&station.policies.command_prefix) || own(&station.policies.badge_prefix) {
        return station_barcode(station, context, data);
    }
    let parsed = match gs1::parse_scan(scan.frame, scan.substitute) {
        Ok(parsed) => parsed,
        Err(error) => return refuse(RefusalCode::Unreadable, error.to_string()),
    };
    let elements = match &parsed.content {
        Content::Gs1(elements) => elements,
        Content::Other(data) => return station_barcode(station, context, data),
    };
    let Some(gtin) = elements.gtin().or_else(|| elements.content_gtin()) else {
        let mut next = context.clone();
        return match next.apply_context_barcode(elements) {
            Some(message) => Decision::SetContext {
                context: next,
                message,
            },
            None => refuse(
                RefusalCode::NoGtin,
                "this barcode has no GTIN and sets nothing at this station",
            ),
        };
    };
    let item = Item {
        gtin,
        lot: elements.lot(),
        serial: elements.serial(),
        expiry: elements.expiry(scan.time.date_naive()),
    };
    match rules(station, context, scan, view, elements, &item) {
        Ok(decision) => decision,
        Err(store_error) => refuse(
            RefusalCode::StoreUnavailable,
            format!("the site's records could not be read ({store_error}); scan again"),
        ),
    }
}

/// What the rules look at in an item barcode.
struct Item<'a> {
    gtin: &'a str,
    lot: Option<&'a str>,
    serial: Option<&'a str>,
    expiry: Option<NaiveDate>,
}

impl Item<'_> {
    /// `GTIN 09506000134352 lot L1 serial S1`, for messages.
    fn describe(&self) -> String {
        let mut s = format!("GTIN {}", self.gtin);
        if let Some(lot) = self.lot {
            s.push_str(&format!(" lot {lot}"));
        }
        if let Some(serial) = self.serial {
            s.push_str(&format!(" serial {serial}"));
        }
        s
    }
}

fn rules(
    station: &Station<'_>,
    context: &Context,
    scan: &ScanInput<'_>,
    view: &dyn View,
    elements: &ElementString<'_>,
    item: &Item<'_>,
) -> Result<Decision, ViewError> {
    let policies = station.policies;
    let mode = context.mode.unwrap_or(station.mode);
    let today = scan.time.date_naive();
    let mut warnings = Vec::new();

    let product = view.product(item.gtin)?;
    match (&product, policies.unknown_gtin) {
        (Some(_), _) => {}
        (None, Strictness::Refuse) => {
            return Ok(refuse(
                RefusalCode::UnknownGtin,
                format!("GTIN {} is not in the product master", item.gtin),
            ))
        }
        (None, Strictness::Warn) => warnings.push(Warning {
            code: RefusalCode::UnknownGtin,
            message: format!(
                "GTIN {} is not in the product master: recorded and flagged",
                item.gtin
            ),
        }),
    }
    if let Some(refusal) = tracking(product.as_ref(), item) {
        return Ok(Decision::Reject(refusal));
    }
    if let Some(expiry) = item.expiry.filter(|&e| e < today) {
        if mode != Mode::Return {
            let message = format!("{} expired on {expiry}", item.describe());
            match policies.expired {
                Strictness::Refuse => return Ok(refuse(RefusalCode::Expired, message)),
                Strictness::Warn => warnings.push(Warning {
                    code: RefusalCode::Expired,
                    message,
                }),
            }
        }
    }

    let serial_state = match item.serial {
        Some(serial) => view.serial_state(item.gtin, serial)?,
        None => None,
    };
    let mut movement = NewMovement {
        kind: Kind::Receipt,
        station: station.id.to_owned(),
        operator: scan
            .operator
            .or(context.operator.as_deref())
            .unwrap_or("")
            .to_owned(),
        device_time: scan.time,
        location: context
            .location
            .clone()
            .unwrap_or_else(|| station.location.to_owned()),
        gtin: item.gtin.to_owned(),
        lot: item.lot.map(str::to_owned),
        serial: item.serial.map(str::to_owned),
        expiry: item.expiry,
        quantity: quantity(elements),
        counterparty: Counterparty::default(),
        documents: Documents {
            purchase_order: context.purchase_order.clone(),
            order: context.order.clone(),
            despatch_advice: context.despatch_advice.clone(),
            sscc: context.sscc.clone(),
        },
        scan: ScanSource {
            raw: scan.raw.to_vec(),
            symbology: scan
                .frame
                .get(..3)
                .filter(|p| p[0] == b']')
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .unwrap_or_default(),
            device_profile: scan.device_profile.to_owned(),
            parser_version: PARSER_VERSION.to_owned(),
        },
        reason: None,
        corrects: None,
        author: scan.author.to_owned(),
    };

    match mode {
        Mode::Receive => {
            if let (Some(serial), Some(state)) = (item.serial, &serial_state) {
                if let Some(location) = in_stock_at(state) {
                    return Ok(refuse(
                        RefusalCode::DuplicateSerial,
                        format!(
                            "serial {serial} of GTIN {} is already in stock at {location}",
                            item.gtin
                        ),
                    ));
                }
            }
            if let Some(off) = not_on_despatch_advice(item, context, view)? {
                match policies.not_on_despatch_advice {
                    Strictness::Warn => warnings.push(off),
                    Strictness::Refuse => return Ok(refuse(off.code, off.message)),
                }
            }
            movement.counterparty = context.supplier.clone();
            if is_own_site(&context.supplier, station.own_sites) {
                movement.kind = Kind::TransferIn;
            }
        }
        Mode::Dispatch => {
            let Some(order) = context.order.as_deref() else {
                return Ok(refuse(
                    RefusalCode::NoOrder,
                    format!(
                        "no order is open at this station for {}: scan the order barcode (400) or set it on the handheld first",
                        item.describe()
                    ),
                ));
            };
            if let Some(refusal) = dispatchable(item, serial_state.as_ref()) {
                return Ok(Decision::Reject(refusal));
            }
            let lots = view.lots_on_hand(item.gtin)?;
            if let (Some(lot), None) = (item.lot, item.serial) {
                if !lots.iter().any(|l| l.lot == lot && l.units > 0) {
                    return Ok(refuse(
                        RefusalCode::NoLotStock,
                        format!("lot {lot} of GTIN {} has no stock here", item.gtin),
                    ));
                }
            }
            for hold in view.active_holds(item.gtin)? {
                if hold.covers(item.lot, item.serial) {
                    return Ok(refuse(
                        RefusalCode::OnHold,
                        format!(
                            "{} is under {}: {}",
                            item.describe(),
                            hold.label(),
                            hold.reason
                        ),
                    ));
                }
            }
            let pick_list = view.pick_list(order)?;
            let line = match &pick_list {
                Some(list) => match list.lines.iter().find(|l| l.gtin == item.gtin) {
                    Some(line) => Some(line),
                    None => {
                        return Ok(refuse(
                            RefusalCode::NotOnOrder,
                            format!("GTIN {} is not on order {order}", item.gtin),
                        ))
                    }
                },
                None => None,
            };
            if let Some(line) = line {
                if !line.lots.is_empty()
                    && !item.lot.is_some_and(|l| line.lots.iter().any(|a| a == l))
                {
                    return Ok(refuse(
                        RefusalCode::WrongBatch,
                        format!(
                            "expected batch {}, scanned {}",
                            line.lots.join(" or "),
                            item.lot.unwrap_or("(none)")
                        ),
                    ));
                }
                let picked = view.picked_units(order, item.gtin)?;
                let adding = units(&movement.quantity);
                if picked + adding > i128::from(line.quantity) {
                    return Ok(refuse(
                        RefusalCode::QuantityExceeded,
                        format!(
                            "order {order} needs {} of GTIN {}, {picked} already picked",
                            line.quantity, item.gtin
                        ),
                    ));
                }
            }
            let allocated = line.is_some_and(|l| !l.lots.is_empty());
            if !allocated && policies.fefo != Fefo::Off {
                if let (Some(lot), Some(expiry)) = (item.lot, item.expiry) {
                    let earlier = lots
                        .iter()
                        .filter(|l| l.units > 0 && l.lot != lot)
                        .filter_map(|l| l.expiry.map(|e| (e, &l.lot)))
                        .filter(|(e, _)| *e < expiry && *e >= today)
                        .min();
                    if let Some((first_expiry, first_lot)) = earlier {
                        let message = format!(
                            "lot {lot} expires {expiry}, but lot {first_lot} (expires {first_expiry}) is in stock: pick {first_lot} first"
                        );
                        if policies.fefo == Fefo::Refuse {
                            return Ok(refuse(RefusalCode::Fefo, message));
                        }
                        warnings.push(Warning {
                            code: RefusalCode::Fefo,
                            message,
                        });
                    }
                }
            }
            // Book the pick out of where the goods are: the serial's
            // location, else the location holding most of the lot.
            let from = match &serial_state {
                Some(state) => in_stock_at(state).map(str::to_owned),
                None => item.lot.and_then(|lot| {
                    lots.iter()
                        .find(|l| l.lot == lot)
                        .and_then(|l| l.main_location())
                        .map(str::to_owned)
                }),
            };
            if let Some(from) = from {
                movement.location = from;
            }
            movement.kind = Kind::Dispatch;
            movement.counterparty = pick_list
                .as_ref()
                .map(|l| l.customer.clone())
                .filter(|c| !c.is_empty())
                .unwrap_or_else(|| context.customer.clone());
            if is_own_site(&movement.counterparty, station.own_sites) {
                movement.kind = Kind::TransferOut;
            }
        }
        Mode::Return => {
            if let Some(serial) = item.serial {
                match &serial_state {
                    Some(SerialState::Dispatched { to, .. }) => {
                        if movement.counterparty.is_empty() {
                            movement.counterparty = to.clone();
                        }
                    }
                    Some(state @ (SerialState::InStock { .. } | SerialState::Returned { .. })) => {
                        return Ok(refuse(
                            RefusalCode::NotDispatched,
                            format!(
                                "serial {serial} was never dispatched: it is in stock at {}",
                                in_stock_at(state).unwrap_or("?")
                            ),
                        ))
                    }
                    Some(SerialState::Voided { .. }) | None => {
                        return Ok(refuse(
                            RefusalCode::NotDispatched,
                            format!(
                                "serial {serial} of GTIN {} was never received or dispatched here",
                                item.gtin
                            ),
                        ))
                    }
                }
            }
            let Some(reason) = context.return_reason.clone() else {
                return Ok(refuse(
                    RefusalCode::NoReturnReason,
                    "no return reason is set at this station: scan a return-reason barcode (CMD:REASON:damaged, ...) first",
                ));
            };
            movement.kind = Kind::Return;
            movement.reason = Some(reason);
            if !context.customer.is_empty() {
                movement.counterparty = context.customer.clone();
            }
            if policies.returns_to == ReturnsTo::Quarantine {
                movement.location = QUARANTINE.to_owned();
            }
        }
    }
    Ok(Decision::Accept {
        movement: Box::new(movement),
        warnings,
    })
}

/// A product's tracking demands a lot and/or a serial in the barcode.
fn tracking(product: Option<&Product>, item: &Item<'_>) -> Option<Refusal> {
    let product = product?;
    if product.tracking.needs_serial() && item.serial.is_none() {
        return Some(Refusal {
            code: RefusalCode::MissingSerial,
            reason: format!(
                "{} ({}) is serial-tracked: the barcode has no serial (21)",
                product.description, item.gtin
            ),
        });
    }
    if product.tracking.needs_lot() && item.lot.is_none() {
        return Some(Refusal {
            code: RefusalCode::MissingLot,
            reason: format!(
                "{} ({}) is lot-tracked: the barcode has no batch/lot (10)",
                product.description, item.gtin
            ),
        });
    }
    None
}

/// Whether a serial can leave: it must be in stock here, not shipped.
fn dispatchable(item: &Item<'_>, state: Option<&SerialState>) -> Option<Refusal> {
    let serial = item.serial?;
    match state {
        Some(SerialState::Dispatched { to, at, .. }) => Some(Refusal {
            code: RefusalCode::AlreadyDispatched,
            reason: format!(
                "serial {serial} was dispatched on {} to {}",
                at.date_naive(),
                customer_name(to)
            ),
        }),
        Some(SerialState::Returned { location, .. }) if location == QUARANTINE => Some(Refusal {
            code: RefusalCode::Quarantined,
            reason: format!(
                "serial {serial} was returned and is in quarantine until quality releases it"
            ),
        }),
        Some(SerialState::InStock { .. } | SerialState::Returned { .. }) => None,
        Some(SerialState::Voided { .. }) | None => Some(Refusal {
            code: RefusalCode::NotInStock,
            reason: format!("serial {serial} of GTIN {} is not in stock here", item.gtin),
        }),
    }
}

fn in_stock_at(state: &SerialState) -> Option<&str> {
    match state {
        SerialState::InStock { location, .. } => Some(location),
        SerialState::Returned { location, .. } if location != QUARANTINE => Some(location),
        _ => None,
    }
}

fn customer_name(c: &Counterparty) -> String {
    match (&c.name, &c.gln) {
        (Some(name), Some(gln)) => format!("{name} (GLN {gln})"),
        (Some(name), None) => name.clone(),
        (None, Some(gln)) => format!("GLN {gln}"),
        (None, None) => "an unnamed customer".to_owned(),
    }
}

fn is_own_site(party: &Counterparty, own_sites: &[String]) -> bool {
    party
        .gln
        .as_ref()
        .is_some_and(|g| own_sites.iter().any(|o| o == g))
}

/// One unit per scan, unless the barcode counts (30, 37) or measures
/// (310n–369n).
fn quantity(elements: &ElementString<'_>) -> Quantity {
    if let Some(count) = elements.count() {
        return Quantity::Units(i64::try_from(count).unwrap_or(i64::MAX));
    }
    if let Some(m) = elements.measure() {
        return Quantity::Measure {
            mantissa: i64::try_from(m.mantissa).unwrap_or(i64::MAX),
            scale: m.decimals,
            unit: m.unit.to_owned(),
        };
    }
    Quantity::Units(1)
}

fn units(q: &Quantity) -> i128 {
    match q {
        Quantity::Units(n) => i128::from(*n),
        Quantity::Measure { .. } => 1,
    }
}

/// The data after a symbology identifier (`]` + two characters), if the
/// frame starts with one.
fn without_symbology(frame: &[u8]) -> &[u8] {
    match frame {
        [b']', _, _, rest @ ..] => rest,
        _ => frame,
    }
}

/// A non-GS1 barcode at a station: a command, an operator badge, or noise.
fn station_barcode(station: &Station<'_>, context: &Context, data: &[u8]) -> Decision {
    let text = String::from_utf8_lossy(data);
    let policies = station.policies;
    let mut next = context.clone();
    if let Some(name) = text.strip_prefix(policies.badge_prefix.as_str()) {
        let name = name.trim();
        if name.is_empty() {
            return refuse(RefusalCode::BadBadge, "the badge carries no operator name");
        }
        next.operator = Some(name.to_owned());
        return Decision::SetContext {
            context: next,
            message: format!("{name} signed in at {}", station.id),
        };
    }
    let Some(command) = text.strip_prefix(policies.command_prefix.as_str()) else {
        return refuse(
            RefusalCode::NotGs1,
            format!("this is not a GS1 barcode ({text:?}): scan the GS1 label of the item"),
        );
    };
    match Command::parse(command) {
        Some(Command::Close) => {
            next.close();
            Decision::SetContext {
                context: next,
                message: "closed: the order, customer and supplier are cleared".to_owned(),
            }
        }
        Some(Command::SwitchMode(mode)) => {
            next.mode = Some(mode);
            Decision::SetContext {
                context: next,
                message: format!("station now in {} mode", mode.name()),
            }
        }
        Some(Command::SignOut) => {
            next.operator = None;
            Decision::SetContext {
                context: next,
                message: "signed out".to_owned(),
            }
        }
        Some(Command::Reason(code)) => {
            let known = &policies.return_reasons;
            match known.iter().find(|r| r.eq_ignore_ascii_case(&code)) {
                Some(reason) => {
                    next.return_reason = Some(reason.clone());
                    Decision::SetContext {
                        context: next,
                        message: format!("return reason: {reason}"),
                    }
                }
                None => refuse(
                    RefusalCode::UnknownCommand,
                    format!(
                        "unknown return reason {code:?}: scan one of {}",
                        known.join(", ")
                    ),
                ),
            }
        }
        Some(Command::Void) => match context.last_movement {
            Some(_) => {
                next.last_movement = None;
                Decision::Void { context: next }
            }
            None => refuse(RefusalCode::NothingToVoid, "this station has no scan to void"),
        },
        None => refuse(
            RefusalCode::UnknownCommand,
            format!("unknown station command {command:?}: use CLOSE, VOID, SIGNOUT, REASON:<code> or MODE:RECEIVE|DISPATCH|RETURN"),
        ),
    }
}

/// A received serial, or a lot received without serial, that the
/// supplier's captured despatch advice (the station's context's) does not
/// list, in words: a warning or a refusal as the station's
/// `not_on_despatch_advice` policy says. A serialised item is checked by
/// its serial only, so a despatch advice listing serials need not list
/// their lots.
fn not_on_despatch_advice(
    item: &Item<'_>,
    context: &Context,
    view: &dyn View,
) -> Result<Option<Warning>, ViewError> {
    let Some(advice) = context.despatch_advice.as_deref() else {
        return Ok(None);
    };
    let what = match (item.serial, item.lot) {
        (Some(serial), _) => format!("serial {serial}"),
        (None, Some(lot)) => format!("lot {lot} of GTIN {}", item.gtin),
        (None, None) => return Ok(None),
    };
    let Some(expected) = view.expected_despatch(advice)? else {
        return Ok(None);
    };
    let listed = match (item.serial, item.lot) {
        (Some(serial), _) => expected
            .serials
            .iter()
            .any(|(gtin, s)| gtin == item.gtin && s == serial),
        (None, Some(lot)) => expected
            .lots
            .iter()
            .any(|(gtin, l)| gtin == item.gtin && l == lot),
        (None, None) => true,
    };
    if listed {
        return Ok(None);
    }
    // The supplier by the name the station knows it by, when the context's
    // supplier is the sending party.
    let from = match &context.supplier {
        c if c.gln.as_deref() == Some(expected.from_party.as_str()) => c
            .name
            .clone()
            .unwrap_or_else(|| expected.from_party.clone()),
        _ => expected.from_party.clone(),
    };
    Ok(Some(Warning {
        code: RefusalCode::NotOnDespatchAdvice,
        message: format!(
            "{what} is not on despatch advice {} from {from}",
            expected.document
        ),
    }))
}
