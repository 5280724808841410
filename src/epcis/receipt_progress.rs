//! What of an expected receipt has arrived: the partner's despatch advice
//! (captured over EPCIS) held against what this site's receiving stations
//! took in under it, so a supervisor sees what is still missing, what came
//! that was not announced, and a lot received beyond its quantity. Pure:
//! the site reads the received items, this compares.
//!
//! Serialised items count by serial; items received without a serial
//! count by (GTIN, lot, unit) against the despatch advice's lot
//! quantities. A serialised item is never counted against a lot, so goods
//! a partner announces both ways are not counted twice.

use serde::Serialize;

use super::expected::{ExpectedReceipt, ExpectedSerial};

/// One item a receiving station took in under the despatch advice.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// The GTIN-14.
    pub gtin: String,
    /// Its serial, when serialised.
    pub serial: Option<String>,
    /// Its lot, when it carried one.
    pub lot: Option<String>,
    /// How much, in `uom`.
    pub quantity: f64,
    /// The UN/ECE unit code of a measured quantity; `None` for pieces.
    pub uom: Option<String>,
}

/// One lot: announced and received.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LotProgress {
    /// The GTIN-14.
    pub gtin: String,
    /// The lot.
    pub lot: String,
    /// The unit (`KGM`); absent for pieces.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uom: Option<String>,
    /// As the despatch advice says (0 when it does not list the lot).
    pub expected: f64,
    /// As received here.
    pub received: f64,
    /// Expected but not (yet) received.
    pub missing: f64,
    /// Received beyond the expected quantity.
    pub over: f64,
}

/// An expected receipt against what arrived.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Progress {
    /// Everything announced arrived, and nothing else.
    pub complete: bool,
    /// Announced serials received.
    pub serials_received: Vec<ExpectedSerial>,
    /// Announced serials not (yet) received.
    pub serials_missing: Vec<ExpectedSerial>,
    /// Serials received under this despatch advice that it does not list.
    pub serials_not_expected: Vec<ExpectedSerial>,
    /// Each announced lot.
    pub lots: Vec<LotProgress>,
    /// Lots received under this despatch advice that it does not list.
    pub lots_not_expected: Vec<LotProgress>,
}

/// `expected` against `received`.
pub fn progress(expected: &ExpectedReceipt, received: &[Received]) -> Progress {
    let mut serials_received = Vec::new();
    let mut serials_not_expected = Vec::new();
    let mut lots: Vec<LotProgress> = expected
        .lots
        .iter()
        .map(|l| LotProgress {
            gtin: l.gtin.clone(),
            lot: l.lot.clone(),
            uom: l.uom.clone(),
            expected: l.quantity,
            received: 0.0,
            missing: 0.0,
            over: 0.0,
        })
        .collect();
    let mut lots_not_expected: Vec<LotProgress> = Vec::new();
    for r in received {
        if let Some(serial) = &r.serial {
            let item = ExpectedSerial {
                gtin: r.gtin.clone(),
                serial: serial.clone(),
            };
            let list = if expected.serials.contains(&item) {
                &mut serials_received
            } else {
                &mut serials_not_expected
            };
            if !list.contains(&item) {
                list.push(item);
            }
            continue;
        }
        let Some(lot) = &r.lot else { continue };
        let same = |l: &&mut LotProgress| l.gtin == r.gtin && &l.lot == lot && l.uom == r.uom;
        match lots.iter_mut().find(same) {
            Some(l) => l.received += r.quantity,
            None => match lots_not_expected.iter_mut().find(same) {
                Some(l) => l.received += r.quantity,
                None => lots_not_expected.push(LotProgress {
                    gtin: r.gtin.clone(),
                    lot: lot.clone(),
                    uom: r.uom.clone(),
                    expected: 0.0,
                    received: r.quantity,
                    missing: 0.0,
                    over: r.quantity,
                }),
            },
        }
    }
    for l in &mut lots {
        l.missing = (l.expected - l.received).max(0.0);
        l.over = (l.received - l.expected).max(0.0);
    }
    let serials_missing: Vec<ExpectedSerial> = expected
        .serials
        .iter()
        .filter(|s| !serials_received.contains(s))
        .cloned()
        .collect();
    let complete = serials_missing.is_empty()
        && serials_not_expected.is_empty()
        && lots_not_expected.is_empty()
        && lots.iter().all(|l| l.missing == 0.0 && l.over == 0.0);
    Progress {
        complete,
        serials_received,
        serials_missing,
        serials_not_expected,
        lots,
        lots_not_expected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::epcis::expected::{CapturedEvent, ExpectedLot};

    fn serial(s: &str) -> ExpectedSerial {
        ExpectedSerial {
            gtin: "09506000134352".into(),
            serial: s.into(),
        }
    }

    fn got(serial: Option<&str>, lot: Option<&str>, quantity: f64) -> Received {
        Received {
            gtin: "09506000134352".into(),
            serial: serial.map(str::to_owned),
            lot: lot.map(str::to_owned),
            quantity,
            uom: None,
        }
    }

    #[test]
    fn missing_serials_extra_items_and_lots_beyond_their_quantity_are_told_apart() {
        let expected = ExpectedReceipt::new(
            "urn:epcglobal:cbv:bt:9506000000039:DA-77",
            "9506000000039",
            vec![CapturedEvent {
                event_id: "e1".into(),
                serials: vec![serial("S1"), serial("S2")],
                lots: vec![ExpectedLot {
                    gtin: "09506000134352".into(),
                    lot: "L1".into(),
                    quantity: 6.0,
                    uom: None,
                }],
                pallets: vec![],
            }],
        );
        let p = progress(&expected, &[]);
        assert!(!p.complete);
        assert_eq!(p.serials_missing, [serial("S1"), serial("S2")]);
        assert_eq!(p.lots[0].missing, 6.0);

        let p = progress(
            &expected,
            &[
                got(Some("S1"), Some("L1"), 1.0),
                got(Some("S9"), None, 1.0),
                got(None, Some("L1"), 4.0),
                got(None, Some("L1"), 3.0),
                got(None, Some("L7"), 2.0),
            ],
        );
        assert_eq!(p.serials_received, [serial("S1")]);
        assert_eq!(p.serials_missing, [serial("S2")]);
        assert_eq!(p.serials_not_expected, [serial("S9")]);
        assert_eq!(
            (p.lots[0].received, p.lots[0].missing, p.lots[0].over),
            (7.0, 0.0, 1.0)
        );
        assert_eq!(p.lots_not_expected[0].lot, "L7");
        assert!(!p.complete);

        let p = progress(
            &expected,
            &[
                got(Some("S1"), None, 1.0),
                got(Some("S2"), None, 1.0),
                got(None, Some("L1"), 6.0),
            ],
        );
        assert!(p.complete, "{p:?}");
    }
}
