//! A station's current context (who works there, which supplier, order or
//! customer the scans belong to) and its policies, and how context barcodes,
//! command barcodes and operator badges change it.

use serde::{Deserialize, Serialize};

use crate::config::StationMode;
use crate::gs1::ElementString;
use crate::model::{Counterparty, MovementId};

/// How strictly a station applies the rules that allow a choice.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policies {
    /// A GTIN missing from the product master: accept and flag, or refuse.
    pub unknown_gtin: Strictness,
    /// An expired item: refuse, or accept with a warning.
    pub expired: Strictness,
    /// Picking a later-expiring lot while an earlier one is in stock.
    pub fefo: Fefo,
    /// Receiving a serial that the supplier's captured despatch advice
    /// (EPCIS capture) does not list: accept with a warning (the goods are
    /// here and the advice may be what is wrong), or refuse it.
    pub not_on_despatch_advice: Strictness,
    /// Where returned goods go.
    pub returns_to: ReturnsTo,
    /// Data of a non-GS1 barcode starting with this is a station command
    /// (`CMD:CLOSE`, `CMD:VOID`, `CMD:MODE:RECEIVE`).
    pub command_prefix: String,
    /// ... and with this, an operator badge (`OP:alice`).
    pub badge_prefix: String,
    /// The return reasons a `CMD:REASON:<code>` barcode may set at a
    /// return station (a return needs one); matched without regard to
    /// case, recorded as written here.
    pub return_reasons: Vec<String>,
}

impl Default for Policies {
    fn default() -> Policies {
        Policies {
            unknown_gtin: Strictness::Warn,
            expired: Strictness::Refuse,
            fefo: Fefo::Warn,
            not_on_despatch_advice: Strictness::Warn,
            returns_to: ReturnsTo::Quarantine,
            command_prefix: "CMD:".to_owned(),
            badge_prefix: "OP:".to_owned(),
            return_reasons: [
                "damaged",
                "expired",
                "wrong_item",
                "not_ordered",
                "recalled",
            ]
            .map(str::to_owned)
            .to_vec(),
        }
    }
}

/// Whether a rule with a choice refuses the scan or accepts it with a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strictness {
    /// Refuse the scan with a bad read.
    Refuse,
    /// Accept the scan and add a warning to its answer.
    Warn,
}

/// What a pick of a later-expiring lot does while an earlier-expiring lot is in
/// stock (first expired, first out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fefo {
    /// Refuse the pick.
    Refuse,
    /// Accept it with a `fefo` warning.
    Warn,
    /// Do not check.
    Off,
}

/// Where a return puts the goods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReturnsTo {
    /// In the `QUARANTINE` location, not pickable until quality releases them.
    Quarantine,
    /// Back at the station's location, pickable at once.
    Stock,
}

/// The location returned goods wait in until quality releases them; stock
/// there is not pickable.
pub const QUARANTINE: &str = "QUARANTINE";

/// What the scans at a station currently belong to. Every field can be set
/// from the handheld API; most also by scanning a GS1 context barcode.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Context {
    /// Overrides the configured mode after a `CMD:MODE:...` barcode.
    pub mode: Option<Mode>,
    /// Overrides the configured location after a (414) barcode.
    pub location: Option<String>,
    /// The operator signed in by a badge (`OP:alice`) or the handheld; recorded
    /// in each movement.
    pub operator: Option<String>,
    /// Receiving: who the goods come from (412 sets the GLN).
    pub supplier: Counterparty,
    /// Receiving: the purchase order the goods arrive against (set from a
    /// handheld).
    pub purchase_order: Option<String>,
    /// Receiving: the despatch advice / GSIN (402).
    pub despatch_advice: Option<String>,
    /// The pallet being unpacked (00).
    pub sscc: Option<String>,
    /// Dispatching: the order being picked (400).
    pub order: Option<String>,
    /// Dispatching or returning: the customer (410 sets the GLN).
    pub customer: Counterparty,
    /// Returning: why the goods came back; a return is refused until one is
    /// set.
    pub return_reason: Option<String>,
    /// The last movement this station recorded, for `CMD:VOID`.
    pub last_movement: Option<MovementId>,
}

/// A station mode, as it appears in the API and in command barcodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Receiving: scans are receipts (or transfers in from an own site).
    Receive,
    /// Dispatching: scans are picks against the open order.
    Dispatch,
    /// Returning: scans are returns from a customer.
    Return,
}

impl From<StationMode> for Mode {
    fn from(m: StationMode) -> Mode {
        match m {
            StationMode::Receive => Mode::Receive,
            StationMode::Dispatch => Mode::Dispatch,
            StationMode::Return => Mode::Return,
        }
    }
}

impl Mode {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Mode::Receive => "receive",
            Mode::Dispatch => "dispatch",
            Mode::Return => "return",
        }
    }
}

/// A station command from a command barcode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Close the current order / receipt: clears the document context.
    Close,
    /// Record a correction reversing this station's last movement.
    Void,
    /// `MODE:RECEIVE`, `MODE:DISPATCH` or `MODE:RETURN`: switch the station's
    /// mode.
    SwitchMode(Mode),
    /// `SIGNOUT`: the operator leaves; later scans carry no operator.
    SignOut,
    /// `REASON:<code>`: the return reason for the returns that follow.
    Reason(String),
}

impl Command {
    /// `CLOSE`, `VOID`, `MODE:RECEIVE`, `SIGNOUT`, `REASON:<code>` (after
    /// the prefix).
    pub fn parse(text: &str) -> Option<Command> {
        let text = text.trim();
        if let Some((word, code)) = text.split_once(':') {
            if word.eq_ignore_ascii_case("REASON") {
                return Some(Command::Reason(code.trim().to_owned()));
            }
        }
        match text.to_ascii_uppercase().as_str() {
            "CLOSE" => Some(Command::Close),
            "VOID" => Some(Command::Void),
            "SIGNOUT" => Some(Command::SignOut),
            "MODE:RECEIVE" => Some(Command::SwitchMode(Mode::Receive)),
            "MODE:DISPATCH" => Some(Command::SwitchMode(Mode::Dispatch)),
            "MODE:RETURN" => Some(Command::SwitchMode(Mode::Return)),
            _ => None,
        }
    }
}

impl Context {
    /// Applies the GS1 context AIs of a barcode that carries no item
    /// (no GTIN): SSCC 00, order 400, despatch 402, ship-to 410,
    /// purchased-from 412, location 414. Returns what changed, in words, or
    /// `None` when the barcode has none of them.
    pub fn apply_context_barcode(&mut self, elements: &ElementString<'_>) -> Option<String> {
        let mut changed = Vec::new();
        if let Some(sscc) = elements.sscc() {
            self.sscc = Some(sscc.to_owned());
            changed.push(format!("pallet SSCC {sscc}"));
        }
        if let Some(order) = elements.order_number() {
            self.order = Some(order.to_owned());
            changed.push(format!("order {order}"));
        }
        if let Some(gsin) = elements.shipment_id() {
            self.despatch_advice = Some(gsin.to_owned());
            changed.push(format!("despatch {gsin}"));
        }
        if let Some(gln) = elements.ship_to() {
            self.customer = Counterparty {
                gln: Some(gln.to_owned()),
                name: None,
            };
            changed.push(format!("customer GLN {gln}"));
        }
        if let Some(gln) = elements.purchased_from() {
            self.supplier = Counterparty {
                gln: Some(gln.to_owned()),
                name: None,
            };
            changed.push(format!("supplier GLN {gln}"));
        }
        if let Some(gln) = elements.location() {
            self.location = Some(gln.to_owned());
            changed.push(format!("location {gln}"));
        }
        (!changed.is_empty()).then(|| format!("set {}", changed.join(", ")))
    }

    /// Clears the document context (order, customer, supplier, pallet),
    /// keeping the operator and mode.
    pub fn close(&mut self) {
        *self = Context {
            mode: self.mode,
            location: self.location.take(),
            operator: self.operator.take(),
            last_movement: self.last_movement.take(),
            ..Context::default()
        };
    }
}
