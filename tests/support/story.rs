//! Hash-chained movements for head-office tests, built the way a site
//! stamps them (`store::chain`): a multi-site story with receipts,
//! dispatches, returns, corrections, transfers between sites, measured
//! quantities and numeric serials, and a generator of many movements for
//! benchmarks.
#![allow(dead_code)]

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use scantrail::model::{
    Counterparty, Documents, Hash, Kind, Movement, MovementId, NewMovement, Quantity, ScanSource,
};
use scantrail::store::chain;

pub const GTIN: &str = "09506000134352";
pub const GTIN2: &str = "09506000134369";

/// One site's chain being written.
pub struct Chain {
    pub origin: String,
    pub movements: Vec<Movement>,
    prev: Hash,
}

impl Chain {
    pub fn new(origin: &str) -> Chain {
        Chain {
            origin: origin.to_owned(),
            movements: Vec::new(),
            prev: Hash::GENESIS,
        }
    }

    /// Stamps `body` as this site's next movement; returns its id.
    pub fn push(&mut self, body: NewMovement) -> MovementId {
        let seq = self.movements.len() as u64 + 1;
        let hash = chain::movement_hash(&self.origin, seq, &self.prev, &body);
        self.movements.push(Movement {
            origin: self.origin.clone(),
            seq,
            prev_hash: self.prev,
            body,
            hash,
        });
        self.prev = hash;
        MovementId {
            origin: self.origin.clone(),
            seq,
        }
    }
}

/// A time in March 2026, `minutes` after the start, with nanoseconds (a
/// timestamptz keeps microseconds: the stores must not lose them).
pub fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap()
        + Duration::minutes(minutes)
        + Duration::nanoseconds(123_456_789 + minutes)
}

pub struct Item<'a> {
    pub gtin: &'a str,
    pub lot: Option<&'a str>,
    pub serial: Option<&'a str>,
    pub expiry: Option<NaiveDate>,
}

pub fn body(
    kind: Kind,
    item: &Item,
    location: &str,
    quantity: Quantity,
    minutes: i64,
) -> NewMovement {
    let raw = format!(
        "]d201{}{}{}",
        item.gtin,
        item.lot.map(|l| format!("10{l}\u{1d}")).unwrap_or_default(),
        item.serial.map(|s| format!("21{s}")).unwrap_or_default()
    );
    NewMovement {
        kind,
        station: "dock-1".into(),
        operator: "op1".into(),
        device_time: at(minutes),
        location: location.into(),
        gtin: item.gtin.into(),
        lot: item.lot.map(str::to_owned),
        serial: item.serial.map(str::to_owned),
        expiry: item.expiry,
        quantity,
        counterparty: Counterparty::default(),
        documents: Documents::default(),
        scan: ScanSource {
            raw: raw.into_bytes(),
            symbology: "]d2".into(),
            device_profile: "generic".into(),
            parser_version: "0.1.0".into(),
        },
        reason: None,
        corrects: None,
        author: "hh-1".into(),
    }
}

fn customer(name: &str, gln: Option<&str>) -> Counterparty {
    Counterparty {
        gln: gln.map(str::to_owned),
        name: Some(name.to_owned()),
    }
}

/// Two sites' chains: north receives lot L1 serials S001..S012 and lot L2
/// by weight, dispatches, takes a return, corrects a dispatch and a
/// receipt, transfers S005 to south; south receives lot L1 (S101..S105,
/// an expiry earlier than north's), numeric serials 0098..0151 and 99..151
/// of GTIN2, receives S005, dispatches some.
pub fn two_sites() -> (Chain, Chain) {
    let l1 = NaiveDate::from_ymd_opt(2027, 6, 30);
    let l1_south = NaiveDate::from_ymd_opt(2027, 5, 31);
    let l2 = NaiveDate::from_ymd_opt(2026, 4, 15);
    let mut north = Chain::new("north");
    let mut south = Chain::new("south");
    let mut t = 0;
    let mut tick = || {
        t += 7;
        t
    };
    let serials: Vec<String> = (1..=12).map(|n| format!("S{n:03}")).collect();
    let mut receipts = Vec::new();
    for s in &serials {
        let mut b = body(
            Kind::Receipt,
            &Item {
                gtin: GTIN,
                lot: Some("L1"),
                serial: Some(s),
                expiry: l1,
            },
            "A-01",
            Quantity::Units(1),
            tick(),
        );
        b.counterparty = customer("Pharma Supplier", Some("9506000000022"));
        b.documents.purchase_order = Some("PO-7".into());
        receipts.push(north.push(b));
    }
    for (i, w) in [1250i64, 500, 2005].iter().enumerate() {
        let mut b = body(
            Kind::Receipt,
            &Item {
                gtin: GTIN,
                lot: Some("L2"),
                serial: None,
                expiry: l2,
            },
            if i == 2 { "B-02" } else { "A-01" },
            Quantity::Measure {
                mantissa: *w,
                scale: 3,
                unit: "kg".into(),
            },
            tick(),
        );
        b.counterparty = customer("Bulk Supplier", None);
        north.push(b);
    }
    let mut dispatches = Vec::new();
    for (i, s) in serials[..6].iter().enumerate() {
        let mut b = body(
            Kind::Dispatch,
            &Item {
                gtin: GTIN,
                lot: Some("L1"),
                serial: Some(s),
                expiry: l1,
            },
            "A-01",
            Quantity::Units(1),
            tick(),
        );
        b.counterparty = if i % 2 == 0 {
            customer("City Pharmacy", Some("9506000000026"))
        } else {
            customer("Town Clinic", None)
        };
        b.documents.order = Some(format!("O-{}", 100 + i));
        b.documents.despatch_advice = Some(format!("DA-{}", 100 + i));
        dispatches.push(north.push(b));
    }
    let mut b = body(
        Kind::Dispatch,
        &Item {
            gtin: GTIN,
            lot: Some("L2"),
            serial: None,
            expiry: l2,
        },
        "A-01",
        Quantity::Measure {
            mantissa: 750,
            scale: 3,
            unit: "kg".into(),
        },
        tick(),
    );
    b.counterparty = customer("City Pharmacy", Some("9506000000026"));
    b.documents.order = Some("O-200".into());
    north.push(b);
    // A return of S002 from Town Clinic.
    let mut b = body(
        Kind::Return,
        &Item {
            gtin: GTIN,
            lot: Some("L1"),
            serial: Some("S002"),
            expiry: l1,
        },
        "Q-1",
        Quantity::Units(1),
        tick(),
    );
    b.counterparty = customer("Town Clinic", None);
    b.reason = Some("damaged box".into());
    north.push(b);
    // The dispatch of S003 was a mistake: corrected, back in stock.
    let mut b = body(
        Kind::Correction,
        &Item {
            gtin: GTIN,
            lot: Some("L1"),
            serial: Some("S003"),
            expiry: l1,
        },
        "A-01",
        Quantity::Units(1),
        tick(),
    );
    b.corrects = Some(dispatches[2].clone());
    b.reason = Some("scanned the wrong box".into());
    north.push(b);
    // The receipt of S012 was a mistake: voided.
    let mut b = body(
        Kind::Correction,
        &Item {
            gtin: GTIN,
            lot: Some("L1"),
            serial: Some("S012"),
            expiry: l1,
        },
        "A-01",
        Quantity::Units(-1),
        tick(),
    );
    b.corrects = Some(receipts[11].clone());
    north.push(b);
    // An adjustment of L2 (a count found short).
    north.push(body(
        Kind::Adjustment,
        &Item {
            gtin: GTIN,
            lot: Some("L2"),
            serial: None,
            expiry: l2,
        },
        "B-02",
        Quantity::Measure {
            mantissa: -5,
            scale: 2,
            unit: "kg".into(),
        },
        tick(),
    ));
    // S005 moves from north to south.
    let mut b = body(
        Kind::TransferOut,
        &Item {
            gtin: GTIN,
            lot: Some("L1"),
            serial: Some("S005"),
            expiry: l1,
        },
        "A-01",
        Quantity::Units(1),
        tick(),
    );
    b.counterparty = customer("south", None);
    north.push(b);

    for n in 101..=105 {
        let s = format!("S{n}");
        south.push(body(
            Kind::Receipt,
            &Item {
                gtin: GTIN,
                lot: Some("L1"),
                serial: Some(&s),
                expiry: l1_south,
            },
            "A-01",
            Quantity::Units(1),
            tick(),
        ));
    }
    let mut b = body(
        Kind::TransferIn,
        &Item {
            gtin: GTIN,
            lot: Some("L1"),
            serial: Some("S005"),
            expiry: l1,
        },
        "DOCK-1",
        Quantity::Units(1),
        tick(),
    );
    b.counterparty = customer("north", None);
    south.push(b);
    // Numeric serials with and without leading zeros, unlotted; then
    // serials that sit inside a numeric range's key stretches without
    // being in the range ("1005" and "10A" between "100" and "151" in
    // byte order), zeros only, and letters: what a range read must leave
    // out or take (`report::range::spans`).
    let mut unlotted: Vec<String> = Vec::new();
    for n in 98..=151 {
        for s in [format!("{n:04}"), n.to_string()] {
            if !(n % 3 == 0 && s.starts_with('0')) {
                unlotted.push(s);
            }
        }
    }
    unlotted.extend(
        [
            "9", "0", "00", "1000", "1005", "10A", "000100", "AB100", "AB150", "AB1999", "AB200",
        ]
        .map(str::to_owned),
    );
    // One unlotted unit of GTIN2 at C-03.
    let unit = |kind: Kind, serial: &str, at| {
        let item = Item {
            gtin: GTIN2,
            lot: None,
            serial: Some(serial),
            expiry: None,
        };
        body(kind, &item, "C-03", Quantity::Units(1), at)
    };
    for s in &unlotted {
        south.push(unit(Kind::Receipt, s, tick()));
    }
    for s in ["0100", "120", "0150"] {
        let mut b = unit(Kind::Dispatch, s, tick());
        b.counterparty = customer("Hospital", Some("9506000000033"));
        south.push(b);
    }
    let mut b = body(
        Kind::Dispatch,
        &Item {
            gtin: GTIN,
            lot: Some("L1"),
            serial: Some("S101"),
            expiry: l1_south,
        },
        "A-01",
        Quantity::Units(1),
        tick(),
    );
    b.counterparty = customer("City Pharmacy", Some("9506000000026"));
    south.push(b);
    (north, south)
}

/// The product master both head offices publish.
pub const PRODUCTS: &str = "gtin,description,tracking,warranty_months,shelf_life_days\n09506000134352,Insulin pen,lot_and_serial,24,\n09506000134369,Glucose meter,serial,12,\n";

/// The report queries a head office answers (kind, query string).
pub const QUERIES: &[(&str, &str)] = &[
    ("stock", ""),
    ("stock", "by=batch"),
    ("stock", "by=serial&gtin=09506000134352"),
    ("stock", "gtin=09506000134352&lot=L1"),
    ("stock", "location=A-01"),
    ("stock", "location=south/A-01"),
    ("stock", "expiring_before=2027-06-01"),
    ("stock", "gtin=09506000134376"),
    ("movements", "gtin=09506000134352&lot=L1"),
    ("movements", "gtin=09506000134352&lot=L2"),
    ("movements", "gtin=09506000134352&serial=S005"),
    ("movements", "gtin=09506000134352&serial=NOPE"),
    ("recall", "gtin=09506000134352&lot=L1"),
    ("recall", "gtin=09506000134352&lot=L1&lot=L2&lot=L9"),
    ("recall", "gtin=09506000134352&lot=L9"),
    ("recall", "gtin=09506000134369&from=0099&to=0150"),
    ("recall", "gtin=09506000134369&from=99&to=120"),
    ("recall", "gtin=09506000134352&from=S001&to=S010"),
    ("recall", "gtin=09506000134352&from=S100&to=S999"),
    ("recall", "gtin=09506000134369&from=9&to=1000"),
    ("recall", "gtin=09506000134369&from=0&to=100"),
    ("recall", "gtin=09506000134369&from=AB100&to=AB199"),
    ("recall", "gtin=09506000134369&from=1A&to=AB150"),
    ("trace", "gtin=09506000134352&serial=S005"),
    ("trace", "gtin=09506000134352&serial=S003"),
    ("trace", "gtin=09506000134352&lot=L2"),
    (
        "warranty",
        "gtin=09506000134352&serial=S001&today=2027-01-01",
    ),
    (
        "warranty",
        "gtin=09506000134352&serial=S002&today=2030-01-01",
    ),
    (
        "warranty",
        "gtin=09506000134369&serial=0100&today=2026-06-01",
    ),
    (
        "warranty",
        "gtin=09506000134352&serial=S012&today=2026-06-01",
    ),
    ("expiry", "days=60&today=2026-03-20"),
    ("expiry", "days=500&today=2026-03-20"),
    ("expiry", "days=500&today=2026-03-20&location=A-01"),
    ("stock", "format=csv"),
    ("recall", "gtin=09506000134352&lot=L1&format=table"),
];
