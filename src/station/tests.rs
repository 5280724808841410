//! The station rules over an in-memory view: every rule, refused with its
//! reason, and the context, command and badge barcodes.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use super::context::{Fefo, Strictness, QUARANTINE};
use super::reference::{
    Change, Hold, HoldKind, HoldScope, Owner, PickLine, PickList, Product, SerialRange, Tracking,
};
use super::*;
use crate::model::{Counterparty, Kind, MovementId, Quantity, RefusalCode, SerialState};

const GTIN_SERIAL: &str = "09506000134352";
const GTIN_LOT: &str = "09506000134369";

#[derive(Default)]
struct Memory {
    products: HashMap<String, Product>,
    serials: HashMap<(String, String), SerialState>,
    lots: HashMap<String, Vec<LotStock>>,
    holds: Vec<Hold>,
    pick_lists: HashMap<String, PickList>,
    picked: HashMap<(String, String), i128>,
    /// Captured despatch advices, by the id a context names.
    despatches: HashMap<String, view::ExpectedDespatch>,
    /// Set: every read of products fails with it, as an unreadable store.
    broken: Option<ViewError>,
}

impl View for Memory {
    fn product(&self, gtin: &str) -> ViewResult<Option<Product>> {
        if let Some(e) = &self.broken {
            return Err(e.clone());
        }
        Ok(self.products.get(gtin).cloned())
    }
    fn serial_state(&self, gtin: &str, serial: &str) -> ViewResult<Option<SerialState>> {
        Ok(self
            .serials
            .get(&(gtin.to_owned(), serial.to_owned()))
            .cloned())
    }
    fn lots_on_hand(&self, gtin: &str) -> ViewResult<Vec<LotStock>> {
        Ok(self.lots.get(gtin).cloned().unwrap_or_default())
    }
    fn active_holds(&self, gtin: &str) -> ViewResult<Vec<Hold>> {
        Ok(self
            .holds
            .iter()
            .filter(|h| h.gtin == gtin && h.is_active())
            .cloned()
            .collect())
    }
    fn pick_list(&self, order: &str) -> ViewResult<Option<PickList>> {
        Ok(self.pick_lists.get(order).cloned())
    }
    fn expected_despatch(&self, advice: &str) -> ViewResult<Option<view::ExpectedDespatch>> {
        Ok(self.despatches.get(advice).cloned())
    }
    fn picked_units(&self, order: &str, gtin: &str) -> ViewResult<i128> {
        Ok(self
            .picked
            .get(&(order.to_owned(), gtin.to_owned()))
            .copied()
            .unwrap_or(0))
    }
}

fn change() -> Change {
    Change {
        by: "test".into(),
        at: now(),
        why: "setup".into(),
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 10, 0, 0).unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn site() -> Memory {
    let mut m = Memory::default();
    for (gtin, description, tracking) in [
        (GTIN_SERIAL, "Insulin pen", Tracking::LotAndSerial),
        (GTIN_LOT, "Saline 500 ml", Tracking::Lot),
    ] {
        m.products.insert(
            gtin.into(),
            Product {
                gtin: gtin.into(),
                description: description.into(),
                tracking,
                warranty_months: Some(24),
                shelf_life_days: None,
                owner: Owner::HeadOffice,
                change: change(),
            },
        );
    }
    m
}

fn in_stock(m: &mut Memory, gtin: &str, serial: &str) {
    m.serials.insert(
        (gtin.into(), serial.into()),
        SerialState::InStock {
            location: "DOCK-1".into(),
            since: now(),
            by: MovementId {
                origin: "s".into(),
                seq: 1,
            },
        },
    );
}

/// Serial S1 of the serial-tracked GTIN dispatched to City Pharmacy at `at`.
fn dispatched(m: &mut Memory, at: DateTime<Utc>) {
    m.serials.insert(
        (GTIN_SERIAL.into(), "S1".into()),
        SerialState::Dispatched {
            to: Counterparty {
                gln: None,
                name: Some("City Pharmacy".into()),
            },
            at,
            by: MovementId {
                origin: "s".into(),
                seq: 2,
            },
        },
    );
}

fn lot(m: &mut Memory, gtin: &str, lot: &str, expiry: NaiveDate, units: i128) {
    m.lots.entry(gtin.into()).or_default().push(LotStock {
        lot: lot.into(),
        expiry: Some(expiry),
        units,
        locations: vec![("STORE-A".into(), units)],
    });
}

struct Setup {
    mode: Mode,
    policies: Policies,
    own_sites: Vec<String>,
}

impl Setup {
    fn new(mode: Mode) -> Setup {
        Setup {
            mode,
            policies: Policies::default(),
            own_sites: vec!["9506000000026".into()],
        }
    }

    fn station(&self) -> Station<'_> {
        Station {
            id: "st-1",
            mode: self.mode,
            location: "DOCK-1",
            policies: &self.policies,
            own_sites: &self.own_sites,
        }
    }

    fn decide(&self, context: &Context, view: &Memory, raw: &str) -> Decision {
        let raw = raw.replace('^', "\u{1d}");
        let scan = ScanInput {
            raw: raw.as_bytes(),
            frame: raw.as_bytes(),
            substitute: None,
            device_profile: "test",
            operator: None,
            author: "hh-1",
            time: now(),
        };
        decide(&self.station(), context, &scan, view)
    }
}

fn serial_scan(serial: &str) -> String {
    format!("]d2{}{GTIN_SERIAL}17271231\x31\x30L1^21{serial}", "01")
}

fn lot_scan(lot: &str, expiry: &str) -> String {
    format!("]d201{GTIN_LOT}17{expiry}10{lot}")
}

fn refused(d: Decision) -> Refusal {
    match d {
        Decision::Reject(r) => r,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn accepted(d: Decision) -> (crate::model::NewMovement, Vec<Warning>) {
    match d {
        Decision::Accept { movement, warnings } => (*movement, warnings),
        other => panic!("expected acceptance, got {other:?}"),
    }
}

fn dispatch_context(order: &str) -> Context {
    Context {
        order: Some(order.into()),
        ..Context::default()
    }
}

#[test]
fn receipt_of_a_serial_tracked_item_records_everything() {
    let s = Setup::new(Mode::Receive);
    let ctx = Context {
        supplier: Counterparty {
            gln: Some("9506000000033".into()),
            name: Some("Pharma AG".into()),
        },
        purchase_order: Some("PO-1".into()),
        operator: Some("alice".into()),
        ..Context::default()
    };
    let (m, warnings) = accepted(s.decide(&ctx, &site(), &serial_scan("S1")));
    assert!(warnings.is_empty());
    assert_eq!(m.kind, Kind::Receipt);
    assert_eq!(
        (m.gtin.as_str(), m.lot.as_deref(), m.serial.as_deref()),
        (GTIN_SERIAL, Some("L1"), Some("S1"))
    );
    assert_eq!(m.expiry, Some(day(2027, 12, 31)));
    assert_eq!(m.quantity, Quantity::Units(1));
    assert_eq!(m.operator, "alice");
    assert_eq!(m.documents.purchase_order.as_deref(), Some("PO-1"));
    assert_eq!(m.counterparty.name.as_deref(), Some("Pharma AG"));
    assert_eq!(m.scan.symbology, "]d2");
    assert!(m.scan.raw.starts_with(b"]d201"));
}

#[test]
fn receipt_refuses_missing_serial_missing_lot_and_duplicates() {
    let s = Setup::new(Mode::Receive);
    let r = refused(s.decide(
        &Context::default(),
        &site(),
        &format!("01{GTIN_SERIAL}10L1"),
    ));
    assert_eq!(r.code, "missing_serial");
    let r = refused(s.decide(
        &Context::default(),
        &site(),
        &format!("01{GTIN_LOT}17271231"),
    ));
    assert_eq!(r.code, "missing_lot");
    let mut view = site();
    in_stock(&mut view, GTIN_SERIAL, "S1");
    let r = refused(s.decide(&Context::default(), &view, &serial_scan("S1")));
    assert_eq!(r.code, "duplicate_serial");
    assert!(
        r.reason.contains("already in stock at DOCK-1"),
        "{}",
        r.reason
    );
}

#[test]
fn expired_items_are_refused_or_warned_per_policy() {
    let mut s = Setup::new(Mode::Receive);
    let r = refused(s.decide(&Context::default(), &site(), &lot_scan("L1", "251231")));
    assert_eq!(r.code, "expired");
    assert!(r.reason.contains("expired on 2025-12-31"), "{}", r.reason);
    s.policies.expired = Strictness::Warn;
    let (_, warnings) = accepted(s.decide(&Context::default(), &site(), &lot_scan("L1", "251231")));
    assert_eq!(warnings[0].code, "expired");
}

#[test]
fn a_serial_not_on_the_captured_despatch_advice_is_warned_or_refused_per_policy() {
    let mut s = Setup::new(Mode::Receive);
    let mut m = site();
    m.despatches.insert(
        "DA-77".into(),
        view::ExpectedDespatch {
            document: "DA-77".into(),
            from_party: "9506000000039".into(),
            serials: vec![(GTIN_SERIAL.into(), "S1".into())],
            lots: vec![(GTIN_LOT.into(), "L1".into())],
        },
    );
    let context = Context {
        despatch_advice: Some("DA-77".into()),
        ..Context::default()
    };
    let (_, warnings) = accepted(s.decide(&context, &m, &serial_scan("S1")));
    assert!(
        warnings.iter().all(|w| w.code != "not_on_despatch_advice"),
        "{warnings:?}"
    );
    let (_, warnings) = accepted(s.decide(&context, &m, &serial_scan("S2")));
    let w = warnings
        .iter()
        .find(|w| w.code == "not_on_despatch_advice")
        .expect("a warning");
    assert_eq!(
        w.message,
        "serial S2 is not on despatch advice DA-77 from 9506000000039"
    );
    s.policies.not_on_despatch_advice = Strictness::Refuse;
    let r = refused(s.decide(&context, &m, &serial_scan("S2")));
    assert_eq!(r.code, "not_on_despatch_advice");
    assert_eq!(
        r.reason,
        "serial S2 is not on despatch advice DA-77 from 9506000000039"
    );
    accepted(s.decide(&context, &m, &serial_scan("S1")));

    // Lots received without serial are checked against its quantityList.
    accepted(s.decide(&context, &m, &lot_scan("L1", "271231")));
    let r = refused(s.decide(&context, &m, &lot_scan("L2", "271231")));
    assert_eq!(
        r.reason,
        format!("lot L2 of GTIN {GTIN_LOT} is not on despatch advice DA-77 from 9506000000039")
    );
}

#[test]
fn unknown_gtins_follow_the_policy() {
    let mut s = Setup::new(Mode::Receive);
    let (_, warnings) = accepted(s.decide(
        &Context::default(),
        &Memory::default(),
        &lot_scan("L1", "271231"),
    ));
    assert_eq!(warnings[0].code, "unknown_gtin");
    s.policies.unknown_gtin = Strictness::Refuse;
    let r = refused(s.decide(
        &Context::default(),
        &Memory::default(),
        &lot_scan("L1", "271231"),
    ));
    assert_eq!(r.code, "unknown_gtin");
}

#[test]
fn dispatch_needs_an_order_and_a_serial_in_stock() {
    let s = Setup::new(Mode::Dispatch);
    let r = refused(s.decide(&Context::default(), &site(), &serial_scan("S1")));
    assert_eq!(r.code, "no_order");
    let r = refused(s.decide(&dispatch_context("O-1"), &site(), &serial_scan("S1")));
    assert_eq!(r.code, "not_in_stock");
    let mut view = site();
    dispatched(
        &mut view,
        Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap(),
    );
    let r = refused(s.decide(&dispatch_context("O-1"), &view, &serial_scan("S1")));
    assert_eq!(r.code, "already_dispatched");
    assert_eq!(
        r.reason,
        "serial S1 was dispatched on 2026-11-20 to City Pharmacy"
    );
}

#[test]
fn dispatch_of_a_serial_in_stock_goes_to_the_pick_list_customer() {
    let s = Setup::new(Mode::Dispatch);
    let mut view = site();
    in_stock(&mut view, GTIN_SERIAL, "S1");
    lot(&mut view, GTIN_SERIAL, "L1", day(2027, 12, 31), 1);
    view.pick_lists.insert(
        "O-1".into(),
        PickList {
            order: "O-1".into(),
            customer: Counterparty {
                gln: Some("9506000000040".into()),
                name: Some("City Pharmacy".into()),
            },
            lines: vec![PickLine {
                gtin: GTIN_SERIAL.into(),
                quantity: 2,
                lots: vec![],
            }],
            owner: Owner::Site("s".into()),
            change: change(),
        },
    );
    let (m, _) = accepted(s.decide(&dispatch_context("O-1"), &view, &serial_scan("S1")));
    assert_eq!(m.kind, Kind::Dispatch);
    assert_eq!(m.counterparty.name.as_deref(), Some("City Pharmacy"));
    assert_eq!(m.documents.order.as_deref(), Some("O-1"));
}

/// Order O-2: 3 of the lot-tracked product, from lot L1.
fn order_o2(view: &mut Memory) {
    view.pick_lists.insert(
        "O-2".into(),
        PickList {
            order: "O-2".into(),
            customer: Counterparty::default(),
            lines: vec![PickLine {
                gtin: GTIN_LOT.into(),
                quantity: 3,
                lots: vec!["L1".into()],
            }],
            owner: Owner::HeadOffice,
            change: change(),
        },
    );
}

#[test]
fn pick_lists_refuse_other_products_wrong_batches_and_extra_quantity() {
    let s = Setup::new(Mode::Dispatch);
    let mut view = site();
    lot(&mut view, GTIN_LOT, "L1", day(2027, 6, 30), 10);
    lot(&mut view, GTIN_LOT, "L2", day(2027, 12, 31), 10);
    order_o2(&mut view);
    let ctx = dispatch_context("O-2");
    let r = refused(s.decide(&ctx, &view, &lot_scan("L2", "271231")));
    assert_eq!(
        (r.code, r.reason.as_str()),
        (RefusalCode::WrongBatch, "expected batch L1, scanned L2")
    );
    let mut serial_in_stock = view;
    in_stock(&mut serial_in_stock, GTIN_SERIAL, "S9");
    let r = refused(s.decide(&ctx, &serial_in_stock, &serial_scan("S9")));
    assert_eq!(r.code, "not_on_order");
    let mut view = serial_in_stock;
    accepted(s.decide(&ctx, &view, &lot_scan("L1", "270630")));
    view.picked.insert(("O-2".into(), GTIN_LOT.into()), 3);
    let r = refused(s.decide(&ctx, &view, &lot_scan("L1", "270630")));
    assert_eq!(r.code, "quantity_exceeded");
}

#[test]
fn pick_progress_counts_each_line_down_from_what_was_picked() {
    let mut view = site();
    order_o2(&mut view);
    assert_eq!(progress::pick_progress(&view, "O-9").unwrap(), None);
    let p = progress::pick_progress(&view, "O-2").unwrap().unwrap();
    assert_eq!((p.lines[0].picked, p.lines[0].remaining), (0, 3));
    view.picked.insert(("O-2".into(), GTIN_LOT.into()), 2);
    let p = progress::pick_progress(&view, "O-2").unwrap().unwrap();
    assert_eq!((p.lines[0].picked, p.lines[0].remaining), (2, 1));
    assert_eq!(p.lines[0].lots, vec!["L1".to_owned()]);
    view.picked.insert(("O-2".into(), GTIN_LOT.into()), 4);
    let p = progress::pick_progress(&view, "O-2").unwrap().unwrap();
    assert_eq!(p.lines[0].remaining, 0);
}

#[test]
fn lots_without_stock_and_lots_under_recall_are_refused() {
    let s = Setup::new(Mode::Dispatch);
    let mut view = site();
    let r = refused(s.decide(&dispatch_context("O-3"), &view, &lot_scan("L1", "271231")));
    assert_eq!(r.code, "no_lot_stock");
    lot(&mut view, GTIN_LOT, "L1", day(2027, 12, 31), 5);
    view.holds.push(Hold {
        id: "R-17".into(),
        kind: HoldKind::Recall,
        gtin: GTIN_LOT.into(),
        scope: HoldScope::Lots(vec!["L1".into()]),
        reason: "particles in solution".into(),
        owner: Owner::HeadOffice,
        created: change(),
        released: None,
    });
    let r = refused(s.decide(&dispatch_context("O-3"), &view, &lot_scan("L1", "271231")));
    assert_eq!(r.code, "on_hold");
    assert!(
        r.reason.contains("recall R-17: particles in solution"),
        "{}",
        r.reason
    );
    view.holds[0].released = Some(change());
    accepted(s.decide(&dispatch_context("O-3"), &view, &lot_scan("L1", "271231")));
}

#[test]
fn serial_range_holds_cover_serials_numerically() {
    let s = Setup::new(Mode::Dispatch);
    let mut view = site();
    in_stock(&mut view, GTIN_SERIAL, "100");
    in_stock(&mut view, GTIN_SERIAL, "1000");
    view.holds.push(Hold {
        id: "H-1".into(),
        kind: HoldKind::Hold,
        gtin: GTIN_SERIAL.into(),
        scope: HoldScope::Serials(SerialRange::new("99", "100").unwrap()),
        reason: "dropped pallet".into(),
        owner: Owner::Site("s".into()),
        created: change(),
        released: None,
    });
    assert_eq!(
        refused(s.decide(&dispatch_context("O"), &view, &serial_scan("100"))).code,
        "on_hold"
    );
    accepted(s.decide(&dispatch_context("O"), &view, &serial_scan("1000")));
}

#[test]
fn fefo_prefers_the_earliest_expiring_lot() {
    let mut s = Setup::new(Mode::Dispatch);
    let mut view = site();
    lot(&mut view, GTIN_LOT, "EARLY", day(2027, 1, 31), 5);
    lot(&mut view, GTIN_LOT, "LATE", day(2027, 12, 31), 5);
    let ctx = dispatch_context("O-4");
    let (_, warnings) = accepted(s.decide(&ctx, &view, &lot_scan("LATE", "271231")));
    assert_eq!(warnings[0].code, "fefo");
    assert!(warnings[0].message.contains("pick EARLY first"));
    s.policies.fefo = Fefo::Refuse;
    assert_eq!(
        refused(s.decide(&ctx, &view, &lot_scan("LATE", "271231"))).code,
        "fefo"
    );
    accepted(s.decide(&ctx, &view, &lot_scan("EARLY", "270131")));
    s.policies.fefo = Fefo::Off;
    accepted(s.decide(&ctx, &view, &lot_scan("LATE", "271231")));
}

#[test]
fn shipping_to_an_own_site_is_a_transfer() {
    let s = Setup::new(Mode::Dispatch);
    let mut view = site();
    lot(&mut view, GTIN_LOT, "L1", day(2027, 12, 31), 5);
    let ctx = Context {
        order: Some("T-1".into()),
        customer: Counterparty {
            gln: Some("9506000000026".into()),
            name: None,
        },
        ..Context::default()
    };
    let (m, _) = accepted(s.decide(&ctx, &view, &lot_scan("L1", "271231")));
    assert_eq!(m.kind, Kind::TransferOut);
    let r = Setup::new(Mode::Receive);
    let ctx = Context {
        supplier: ctx.customer.clone(),
        ..Context::default()
    };
    let (m, _) = accepted(r.decide(&ctx, &view, &lot_scan("L1", "271231")));
    assert_eq!(m.kind, Kind::TransferIn);
}

#[test]
fn returns_need_a_dispatched_serial_and_a_reason() {
    let s = Setup::new(Mode::Return);
    let mut view = site();
    let ctx = Context {
        return_reason: Some("damaged".into()),
        ..Context::default()
    };
    assert_eq!(
        refused(s.decide(&ctx, &view, &serial_scan("S1"))).code,
        "not_dispatched"
    );
    in_stock(&mut view, GTIN_SERIAL, "S1");
    assert_eq!(
        refused(s.decide(&ctx, &view, &serial_scan("S1"))).code,
        "not_dispatched"
    );
    dispatched(&mut view, now());
    assert_eq!(
        refused(s.decide(&Context::default(), &view, &serial_scan("S1"))).code,
        "no_return_reason"
    );
    let (m, _) = accepted(s.decide(&ctx, &view, &serial_scan("S1")));
    assert_eq!(m.kind, Kind::Return);
    assert_eq!(m.location, QUARANTINE);
    assert_eq!(m.reason.as_deref(), Some("damaged"));
    assert_eq!(m.counterparty.name.as_deref(), Some("City Pharmacy"));
}

#[test]
fn a_return_reason_barcode_sets_the_reason_from_the_configured_list() {
    let s = Setup::new(Mode::Return);
    let mut view = site();
    dispatched(&mut view, now());
    let Decision::SetContext { context, message } =
        s.decide(&Context::default(), &view, "]C0CMD:REASON:Wrong_Item")
    else {
        panic!("a reason barcode sets the context")
    };
    assert_eq!(context.return_reason.as_deref(), Some("wrong_item"));
    assert!(message.contains("wrong_item"), "{message}");
    let (m, _) = accepted(s.decide(&context, &view, &serial_scan("S1")));
    assert_eq!(m.reason.as_deref(), Some("wrong_item"));
    let unknown = refused(s.decide(&Context::default(), &view, "CMD:REASON:bored"));
    assert_eq!(unknown.code, "unknown_command");
    assert!(unknown.reason.contains("damaged"), "{}", unknown.reason);
}

#[test]
fn counts_and_measures_are_quantities() {
    let s = Setup::new(Mode::Receive);
    let (m, _) = accepted(s.decide(
        &Context::default(),
        &site(),
        &format!("]C101{GTIN_LOT}17271231\x31\x30L1^3012"),
    ));
    assert_eq!(m.quantity, Quantity::Units(12));
    let (m, _) = accepted(s.decide(
        &Context::default(),
        &site(),
        &format!("]C101{GTIN_LOT}3103001525\x31\x30L1"),
    ));
    assert_eq!(
        m.quantity,
        Quantity::Measure {
            mantissa: 1525,
            scale: 3,
            unit: "kg".into()
        }
    );
}

#[test]
fn context_barcodes_set_order_customer_supplier_and_pallet() {
    let s = Setup::new(Mode::Dispatch);
    let Decision::SetContext { context, message } =
        s.decide(&Context::default(), &site(), "]C1400O-77^4109506000000046")
    else {
        panic!("not a context barcode")
    };
    assert_eq!(context.order.as_deref(), Some("O-77"));
    assert_eq!(context.customer.gln.as_deref(), Some("9506000000046"));
    assert!(message.contains("order O-77"), "{message}");
    let Decision::SetContext { context, .. } =
        s.decide(&Context::default(), &site(), "]C100095060001343528648")
    else {
        panic!("not a context barcode")
    };
    assert_eq!(context.sscc.as_deref(), Some("095060001343528648"));
}

#[test]
fn badges_and_commands_change_the_context() {
    let s = Setup::new(Mode::Dispatch);
    let Decision::SetContext { context, .. } =
        s.decide(&Context::default(), &site(), "]C0OP:alice")
    else {
        panic!("badge")
    };
    assert_eq!(context.operator.as_deref(), Some("alice"));
    let Decision::SetContext { context, .. } = s.decide(&context, &site(), "]C0CMD:MODE:RETURN")
    else {
        panic!("mode")
    };
    assert_eq!(context.mode, Some(Mode::Return));
    let with_order = Context {
        order: Some("O".into()),
        operator: Some("bob".into()),
        ..Context::default()
    };
    let Decision::SetContext { context, .. } = s.decide(&with_order, &site(), "]C0CMD:CLOSE")
    else {
        panic!("close")
    };
    assert_eq!(
        (context.order, context.operator.as_deref()),
        (None, Some("bob"))
    );
    assert_eq!(
        refused(s.decide(&Context::default(), &site(), "]C0CMD:VOID")).code,
        "nothing_to_void"
    );
    let last = Context {
        last_movement: Some(MovementId {
            origin: "s".into(),
            seq: 9,
        }),
        ..Context::default()
    };
    assert!(matches!(
        s.decide(&last, &site(), "]C0CMD:VOID"),
        Decision::Void { .. }
    ));
    assert_eq!(
        refused(s.decide(&Context::default(), &site(), "]C0CMD:DANCE")).code,
        "unknown_command"
    );
    // Without a symbology identifier (a handheld's plain data), or behind
    // a GS1 one, a command or badge is still the station's own barcode.
    let Decision::SetContext { context, .. } =
        s.decide(&Context::default(), &site(), "CMD:MODE:RETURN")
    else {
        panic!("plain command")
    };
    assert_eq!(context.mode, Some(Mode::Return));
    let Decision::SetContext { context, .. } =
        s.decide(&Context::default(), &site(), "]d2OP:carol")
    else {
        panic!("badge behind a GS1 identifier")
    };
    assert_eq!(context.operator.as_deref(), Some("carol"));
    assert_eq!(
        refused(s.decide(&Context::default(), &site(), "CMD:DANCE")).code,
        "unknown_command"
    );
    assert_eq!(
        refused(s.decide(&Context::default(), &site(), "]Q1hello")).code,
        "not_gs1"
    );
    assert_eq!(
        refused(s.decide(&Context::default(), &site(), "]d2019")).code,
        "unreadable"
    );
}

#[test]
fn a_pick_is_booked_out_of_where_the_goods_are() {
    let s = Setup::new(Mode::Dispatch);
    let mut view = site();
    lot(&mut view, GTIN_LOT, "L1", day(2027, 12, 31), 5);
    let (m, _) = accepted(s.decide(&dispatch_context("O-5"), &view, &lot_scan("L1", "271231")));
    assert_eq!(m.location, "STORE-A");
    view.serials.insert(
        (GTIN_SERIAL.into(), "S7".into()),
        SerialState::InStock {
            location: "SHELF-9".into(),
            since: now(),
            by: MovementId {
                origin: "s".into(),
                seq: 1,
            },
        },
    );
    let (m, _) = accepted(s.decide(&dispatch_context("O-5"), &view, &serial_scan("S7")));
    assert_eq!(m.location, "SHELF-9");
}

#[test]
fn corrections_reverse_a_movement_but_not_another_correction() {
    use crate::model::Hash;
    use crate::model::Movement;
    let s = Setup::new(Mode::Receive);
    let (body, _) = accepted(s.decide(&Context::default(), &site(), &serial_scan("S1")));
    let stamp = |seq, body| Movement {
        origin: "s".into(),
        seq,
        prev_hash: Hash::GENESIS,
        body,
        hash: Hash::GENESIS,
    };
    let receipt = stamp(1, body);
    let undo = correction(&receipt, "wrong dock", "ann", "sue", now()).unwrap();
    assert_eq!(undo.kind, Kind::Correction);
    assert_eq!(undo.quantity, Quantity::Units(-1));
    assert_eq!(undo.corrects, Some(receipt.id()));
    assert_eq!(
        correction(&receipt, "  ", "ann", "sue", now()).unwrap_err(),
        CorrectionRefused::NoReason
    );
    let e = correction(&stamp(2, undo), "oops", "ann", "sue", now()).unwrap_err();
    assert!(
        matches!(&e, CorrectionRefused::OfACorrection { id } if id == "s:2"),
        "{e:?}"
    );
    assert!(e.to_string().contains("itself a correction"), "{e}");
}

#[test]
fn an_unreadable_view_refuses_the_scan_with_its_words() {
    let s = Setup::new(Mode::Receive);
    let mut view = site();
    view.broken = Some(ViewError::Store("the store is reopening".into()));
    let r = refused(s.decide(&Context::default(), &view, &serial_scan("S1")));
    assert_eq!(r.code, RefusalCode::StoreUnavailable);
    assert!(r.reason.contains("the store is reopening"), "{}", r.reason);
    assert!(r.reason.contains("scan again"), "{}", r.reason);
}
