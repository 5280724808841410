//! What a partner says it shipped to a site under one despatch advice,
//! as EPCIS capture (`epcis::capture`) keeps it: the serials, lots and
//! pallets of each captured event, and their sum, so that a later error
//! declaration withdraws exactly what its event added. The site and head
//! office store these records; the station and `receipt_progress` read
//! them.

use serde::{Deserialize, Serialize};

/// A serialised item the partner shipped.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ExpectedSerial {
    /// The item's GTIN-14.
    pub gtin: String,
    /// Its serial (AI 21).
    pub serial: String,
}

/// A lot-level quantity the partner shipped (an LGTIN class).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpectedLot {
    /// The GTIN-14.
    pub gtin: String,
    /// The lot (AI 10).
    pub lot: String,
    /// How many, in `uom` (pieces when there is none).
    pub quantity: f64,
    /// The UN/ECE unit code (`KGM`), as the event gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uom: Option<String>,
}

/// A pallet or case (SSCC) the partner shipped, with how many of its
/// children (items and lots) its packing AggregationEvent named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectedPallet {
    /// The SSCC, 18 digits.
    pub sscc: String,
    /// Children counted with it (0: its content was not sent).
    pub children: usize,
}

/// What one captured event added, kept so an error declaration on it can
/// withdraw exactly that.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapturedEvent {
    /// Its eventID (one the site made when the partner sent none).
    pub event_id: String,
    /// Serialised items.
    pub serials: Vec<ExpectedSerial>,
    /// Lot quantities.
    pub lots: Vec<ExpectedLot>,
    /// Pallets.
    #[serde(default)]
    pub pallets: Vec<ExpectedPallet>,
}

/// What a partner says it shipped to this site under one despatch advice:
/// the sum of its captured events, less those withdrawn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpectedReceipt {
    /// The despatch advice as bizTransactionList gives it (the key).
    pub despatch_advice: String,
    /// Its short form for people: the part after the last `:` or `/`.
    pub document: String,
    /// The sending party's PGLN.
    pub from_party: String,
    /// The GLN of the site it is addressed to.
    #[serde(default)]
    pub to_gln: String,
    /// Every GTIN on it.
    pub gtins: Vec<String>,
    /// Serialised items.
    pub serials: Vec<ExpectedSerial>,
    /// Lot quantities, one per (GTIN, lot, unit), summed over events.
    pub lots: Vec<ExpectedLot>,
    /// Pallets (SSCC).
    #[serde(default)]
    pub pallets: Vec<ExpectedPallet>,
    /// The captured events' IDs.
    pub event_ids: Vec<String>,
    /// Each captured event's part.
    #[serde(default)]
    pub events: Vec<CapturedEvent>,
}

impl ExpectedReceipt {
    /// A receipt of `events` under `despatch_advice` from `from_party`.
    pub fn new(despatch_advice: &str, from_party: &str, events: Vec<CapturedEvent>) -> Self {
        let mut receipt = ExpectedReceipt {
            despatch_advice: despatch_advice.to_owned(),
            document: short_document(despatch_advice).to_owned(),
            from_party: from_party.to_owned(),
            to_gln: String::new(),
            gtins: Vec::new(),
            serials: Vec::new(),
            lots: Vec::new(),
            pallets: Vec::new(),
            event_ids: Vec::new(),
            events,
        };
        receipt.sum();
        receipt
    }

    /// Adds the events of `other` (the same despatch advice, captured
    /// later); an event already captured (same eventID) is not counted
    /// twice.
    pub fn merge(&mut self, other: ExpectedReceipt) {
        for event in other.events {
            if !self.events.iter().any(|e| e.event_id == event.event_id) {
                self.events.push(event);
            }
        }
        self.sum();
    }

    /// Takes out what the event `event_id` added; whether it was here.
    pub fn withdraw(&mut self, event_id: &str) -> bool {
        let before = self.events.len();
        self.events.retain(|e| e.event_id != event_id);
        self.sum();
        self.events.len() != before
    }

    /// Whether the serial `serial` of `gtin` is on this despatch advice.
    pub fn has_serial(&self, gtin: &str, serial: &str) -> bool {
        self.serials
            .iter()
            .any(|s| s.gtin == gtin && s.serial == serial)
    }

    /// The totals over the events.
    fn sum(&mut self) {
        let mut serials: Vec<ExpectedSerial> = Vec::new();
        let mut lots: Vec<ExpectedLot> = Vec::new();
        let mut pallets: Vec<ExpectedPallet> = Vec::new();
        for e in &self.events {
            for s in &e.serials {
                if !serials.contains(s) {
                    serials.push(s.clone());
                }
            }
            for l in &e.lots {
                match lots
                    .iter_mut()
                    .find(|k| k.gtin == l.gtin && k.lot == l.lot && k.uom == l.uom)
                {
                    Some(known) => known.quantity += l.quantity,
                    None => lots.push(l.clone()),
                }
            }
            for p in &e.pallets {
                if !pallets.iter().any(|k| k.sscc == p.sscc) {
                    pallets.push(p.clone());
                }
            }
        }
        let mut gtins: Vec<String> = serials
            .iter()
            .map(|s| s.gtin.clone())
            .chain(lots.iter().map(|l| l.gtin.clone()))
            .collect();
        gtins.sort();
        gtins.dedup();
        self.gtins = gtins;
        self.serials = serials;
        self.lots = lots;
        self.pallets = pallets;
        self.event_ids = self.events.iter().map(|e| e.event_id.clone()).collect();
    }
}

/// A despatch advice's short form: what follows its last `:` or `/`.
pub fn short_document(despatch_advice: &str) -> &str {
    despatch_advice
        .rsplit([':', '/'])
        .next()
        .unwrap_or(despatch_advice)
}
