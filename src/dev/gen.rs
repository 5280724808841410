//! A synthetic site for benchmarks and demos (`scantrail-dev gen-data`):
//! products with mixed tracking (lot, serial, lot and serial, none; a few
//! sold by weight), suppliers, customers, lots with expiry, numeric and
//! alphanumeric serials, receipts, dispatches, returns and corrections,
//! committed through the same path as real scans (`Journal::commit_async`,
//! many in flight, so the committer's group commit batches them).
//!
//! Deterministic for a seed. Fixed landmarks for the benchmarks:
//! [`HOT_LOT`] of the first product has about 1,000 movements, and the
//! serial product [`serial_gtin`] gets numeric serials from 100000 upwards
//! (tens of thousands of them at a million movements).

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use futures_util::stream::{FuturesUnordered, StreamExt};

use crate::model::Reference;
use crate::model::{Counterparty, Documents, Kind, Movement, NewMovement, Quantity, ScanSource};
use crate::station::correction;
use crate::station::records::encode;
use crate::station::reference::{Change, Owner, Product, Tracking};
use crate::store::Store;

/// Products of the synthetic site.
pub const PRODUCTS: u64 = 200;
/// Suppliers receipts come from (GLNs `950600…` from 100).
const SUPPLIERS: u64 = 20;
/// Customers dispatches go to (GLNs `950601…` from 1,000).
const CUSTOMERS: u64 = 500;
/// The lot with about 1,000 movements (of `gtin(0)`).
pub const HOT_LOT: &str = "HOT0001";
const HOT_MOVEMENTS: u64 = 1_000;
/// Commits in flight at once.
const WINDOW: usize = 2_048;

/// A GTIN-14 with a valid check digit: `0950600` + 6 digits of `i`.
pub fn gtin(i: u64) -> String {
    with_check_digit(&format!("0950600{:06}", i % 1_000_000))
}

/// A GLN (13 digits) with a valid check digit.
fn gln(prefix: &str, i: u64) -> String {
    with_check_digit(&format!("{prefix}{:06}", i))
}

fn with_check_digit(body: &str) -> String {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

fn tracking(i: u64) -> Tracking {
    match i % 10 {
        0..=4 => Tracking::Lot,
        5 | 6 => Tracking::LotAndSerial,
        7 | 8 => Tracking::Serial,
        _ => Tracking::None,
    }
}

/// The main serial-tracked product: numeric serials 100000, 100001, ...
pub fn serial_gtin() -> String {
    gtin(7)
}

/// Products sold by weight (AI 310n, kg, 3 decimals).
fn by_weight(i: u64) -> bool {
    i % 20 == 3
}

/// The product master of the synthetic site.
pub fn products(site: &str) -> Vec<Product> {
    let change = Change {
        by: "gen-data".into(),
        at: Utc
            .timestamp_opt(1_760_000_000, 0)
            .single()
            .unwrap_or_default(),
        why: "synthetic site".into(),
    };
    (0..PRODUCTS)
        .map(|i| {
            let t = tracking(i);
            Product {
                gtin: gtin(i),
                description: format!("Synthetic product {i}"),
                tracking: t,
                warranty_months: t.needs_serial().then_some([12, 24, 36][(i % 3) as usize]),
                shelf_life_days: t.needs_lot().then_some(180 + (i % 5) as u32 * 90),
                owner: Owner::Site(site.to_owned()),
                change: change.clone(),
            }
        })
        .collect()
}

/// splitmix64: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// A movement to commit; `correct` asks for a correction of it once its
/// id is known.
pub struct Planned {
    /// The movement as a station would record it, time and author set.
    pub movement: NewMovement,
    /// Whether to commit a correction reversing it afterwards (about 1 to
    /// 3 in 100), so reports and verify see corrected history.
    pub correct: bool,
}

/// Produces the site's movements episode by episode: a lot's life (receipt,
/// dispatches, maybe a return and a correction) or a batch of serials'.
pub struct Generator {
    rng: Rng,
    clock: DateTime<Utc>,
    step: Duration,
    serial_next: Vec<u64>,
    lots: u64,
    docs: u64,
    episodes: u64,
    /// Whether the first episode is [`HOT_LOT`]'s.
    hot_first: bool,
}

impl Generator {
    /// Spreads `total` movements over the year before `end`.
    pub fn new(seed: u64, total: u64, end: DateTime<Utc>) -> Generator {
        let span = Duration::days(365);
        Generator {
            rng: Rng(seed ^ 0x5CA7_7EA1),
            clock: end - span,
            step: Duration::milliseconds((span.num_milliseconds() / total.max(1) as i64).max(1)),
            serial_next: vec![100_000; PRODUCTS as usize],
            lots: 0,
            docs: 0,
            episodes: 0,
            hot_first: true,
        }
    }

    /// The generator of the `index`th of many sites of one company (head
    /// office benchmarks): the landmarks stay where a one-site run has
    /// them, at the first site only ([`HOT_LOT`] and serials from 100000),
    /// and each other site numbers its lots and serials from its own
    /// block, so no two sites share a lot or a serial.
    pub fn for_site(seed: u64, total: u64, end: DateTime<Utc>, index: u64) -> Generator {
        let mut g = Generator::new(seed, total, end);
        g.hot_first = index == 0;
        g.lots = index * 10_000_000;
        g.serial_next = vec![100_000 + index * 1_000_000; PRODUCTS as usize];
        g
    }

    fn doc(&mut self, prefix: &str) -> String {
        self.docs += 1;
        format!("{prefix}-{:07}", self.docs)
    }

    fn pick_product(&mut self, serial: bool) -> u64 {
        loop {
            // The main serial product gets 40% of serial episodes.
            if serial && self.rng.chance(40) {
                return 7;
            }
            let i = self.rng.below(PRODUCTS);
            if tracking(i).needs_serial() == serial {
                return i;
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn movement(
        &mut self,
        item: &Item,
        kind: Kind,
        at: DateTime<Utc>,
        amount: i64,
        location: &str,
        party: Counterparty,
        documents: Documents,
    ) -> Planned {
        let Item {
            product,
            lot,
            ref serial,
            expiry,
        } = *item;
        let serial = serial.clone();
        let g = gtin(product);
        let quantity = if by_weight(product) {
            Quantity::Measure {
                mantissa: amount * 1_250,
                scale: 3,
                unit: "kg".into(),
            }
        } else {
            Quantity::Units(amount)
        };
        let mut raw = format!("]d201{g}");
        if let Some(e) = expiry {
            raw.push_str(&format!("17{}", e.format("%y%m%d")));
        }
        if let Some(l) = lot {
            raw.push_str(&format!("10{l}\u{1d}"));
        }
        if let Some(s) = &serial {
            raw.push_str(&format!("21{s}"));
        }
        let (station, reason) = match kind {
            Kind::Receipt => (format!("dock-{}", 1 + self.rng.below(3)), None),
            Kind::Return => ("returns-1".to_owned(), Some("customer return".to_owned())),
            _ => (format!("dispatch-{}", 1 + self.rng.below(3)), None),
        };
        Planned {
            movement: NewMovement {
                kind,
                station,
                operator: format!("op{}", 1 + self.rng.below(40)),
                device_time: at,
                location: location.to_owned(),
                gtin: g,
                lot: lot.map(str::to_owned),
                serial,
                expiry,
                quantity,
                counterparty: party,
                documents,
                scan: ScanSource {
                    raw: raw.into_bytes(),
                    symbology: "]d2".into(),
                    device_profile: "gen-data".into(),
                    parser_version: env!("CARGO_PKG_VERSION").into(),
                },
                reason,
                corrects: None,
                author: "gen-data".into(),
            },
            correct: false,
        }
    }

    fn supplier(&mut self) -> Counterparty {
        let i = self.rng.below(SUPPLIERS);
        Counterparty {
            gln: Some(gln("950600", 100 + i)),
            name: Some(format!("Supplier {i}")),
        }
    }

    fn customer(&mut self) -> Counterparty {
        let i = self.rng.below(CUSTOMERS);
        Counterparty {
            gln: Some(gln("950601", 1_000 + i)),
            name: Some(format!("Customer {i}")),
        }
    }

    fn location(&mut self) -> String {
        format!("A-{:02}-{:02}", self.rng.below(20), self.rng.below(10))
    }

    fn later(&mut self, at: DateTime<Utc>, max_days: u64) -> DateTime<Utc> {
        at + Duration::minutes(60 + self.rng.below(max_days * 24 * 60) as i64)
    }

    /// The next episode's movements, in the order they are committed.
    pub fn episode(&mut self) -> Vec<Planned> {
        self.episodes += 1;
        let hot = self.hot_first && self.episodes == 1;
        let serial = !hot && self.rng.chance(15);
        let product = if hot { 0 } else { self.pick_product(serial) };
        let t = self.clock;
        let out = if serial {
            self.serial_episode(product, t)
        } else {
            self.lot_episode(product, t, hot)
        };
        self.clock += self.step * out.len() as i32;
        out
    }

    fn lot_episode(&mut self, product: u64, t: DateTime<Utc>, hot: bool) -> Vec<Planned> {
        self.lots += 1;
        let lot = if hot {
            Some(HOT_LOT.to_owned())
        } else {
            tracking(product)
                .needs_lot()
                .then(|| format!("L{:07}", self.lots))
        };
        let expiry = lot
            .as_ref()
            .map(|_| t.date_naive() + Duration::days(90 + self.rng.below(630) as i64));
        let location = self.location();
        let item = Item {
            product,
            lot: lot.as_deref(),
            serial: None,
            expiry,
        };
        let mut out = Vec::new();
        let receipts = if !hot && self.rng.chance(20) { 2 } else { 1 };
        let mut on_hand = 0i64;
        // Everything after the first receipt happens after it.
        let t = self.later(t, 1);
        for _ in 0..receipts {
            let qty = if hot {
                100_000
            } else {
                50 + self.rng.below(450) as i64
            };
            on_hand += qty;
            let party = self.supplier();
            let docs = Documents {
                purchase_order: Some(self.doc("PO")),
                despatch_advice: Some(self.doc("ASN")),
                ..Documents::default()
            };
            let at = if on_hand == qty { t } else { self.later(t, 2) };
            out.push(self.movement(&item, Kind::Receipt, at, qty, &location, party, docs));
        }
        let dispatches = if hot {
            HOT_MOVEMENTS - 3
        } else {
            2 + self.rng.below(7)
        };
        let mut last_customer = None;
        for _ in 0..dispatches {
            let qty = (1 + self.rng.below(if hot { 20 } else { 30 }) as i64).min(on_hand);
            if qty <= 0 {
                break;
            }
            on_hand -= qty;
            let party = self.customer();
            last_customer = Some((party.clone(), qty));
            let docs = Documents {
                order: Some(self.doc("SO")),
                despatch_advice: Some(self.doc("DESADV")),
                ..Documents::default()
            };
            let at = self.later(t, if hot { 300 } else { 60 });
            let mut m = self.movement(&item, Kind::Dispatch, at, qty, &location, party, docs);
            m.correct = self.rng.chance(3);
            out.push(m);
        }
        if let Some((party, qty)) = last_customer {
            if hot || self.rng.chance(10) {
                let docs = Documents {
                    order: Some(self.doc("RMA")),
                    ..Documents::default()
                };
                let at = self.later(t, 90);
                out.push(self.movement(
                    &item,
                    Kind::Return,
                    at,
                    qty.min(2),
                    "RETURNS",
                    party,
                    docs,
                ));
            }
        }
        out
    }

    fn serial_episode(&mut self, product: u64, t: DateTime<Utc>) -> Vec<Planned> {
        let count = 5 + self.rng.below(11);
        let lot = tracking(product).needs_lot().then(|| {
            self.lots += 1;
            format!("L{:07}", self.lots)
        });
        let expiry = None;
        let location = self.location();
        let supplier = self.supplier();
        let receipt_docs = Documents {
            purchase_order: Some(self.doc("PO")),
            despatch_advice: Some(self.doc("ASN")),
            ..Documents::default()
        };
        let customer = self.customer();
        let dispatch_docs = Documents {
            order: Some(self.doc("SO")),
            despatch_advice: Some(self.doc("DESADV")),
            ..Documents::default()
        };
        let received = self.later(t, 1);
        let sent = self.later(received, 30);
        let mut out = Vec::new();
        for _ in 0..count {
            let n = self.serial_next[product as usize];
            self.serial_next[product as usize] += 1;
            // Serial-only products get numeric serials; lot-and-serial ones
            // alphanumeric, so both orders of `SerialRange` occur.
            let serial = if lot.is_some() {
                format!("SN{n:08}")
            } else {
                n.to_string()
            };
            let item = Item {
                product,
                lot: lot.as_deref(),
                serial: Some(serial),
                expiry,
            };
            out.push(self.movement(
                &item,
                Kind::Receipt,
                received,
                1,
                &location,
                supplier.clone(),
                receipt_docs.clone(),
            ));
            if self.rng.chance(70) {
                let mut m = self.movement(
                    &item,
                    Kind::Dispatch,
                    sent,
                    1,
                    &location,
                    customer.clone(),
                    dispatch_docs.clone(),
                );
                m.correct = self.rng.chance(1);
                out.push(m);
                if self.rng.chance(3) {
                    let at = self.later(sent, 120);
                    let docs = Documents {
                        order: Some(self.doc("RMA")),
                        ..Documents::default()
                    };
                    out.push(self.movement(
                        &item,
                        Kind::Return,
                        at,
                        1,
                        "RETURNS",
                        customer.clone(),
                        docs,
                    ));
                }
            }
        }
        out
    }
}

/// What a planned movement moves: a product's lot or serial.
struct Item<'a> {
    product: u64,
    lot: Option<&'a str>,
    serial: Option<String>,
    expiry: Option<NaiveDate>,
}

/// sled 0.34 keeps in memory the nodes a long run of writes touched, far
/// beyond its cache capacity (sled #1093, #1309: here ~12 GB of RSS after
/// 3.5 million movements in one process), and frees them when the store is
/// closed. A large run therefore reopens the store every this many
/// movements.
pub const REOPEN_EVERY: u64 = 1_000_000;

/// What `generate` wrote.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Movements committed, corrections included.
    pub movements: u64,
    /// Of those, corrections.
    pub corrections: u64,
    /// Wall-clock seconds of the whole run, product master and reopenings
    /// included.
    pub seconds: f64,
    /// Group commits the committer made: `movements / batches` is how many
    /// movements shared one fsync.
    pub batches: u64,
    /// Committer time in sled's apply, sled's flush and our fsync.
    pub committer: (f64, f64, f64),
}

/// Writes the product master and `total` movements (corrections included)
/// into the store `open` opens, through `commit_async` with up to `WINDOW`
/// in flight, closing and reopening it every `reopen_every` movements.
pub fn generate(
    open: impl Fn() -> anyhow::Result<Store>,
    total: u64,
    seed: u64,
    reopen_every: u64,
) -> anyhow::Result<Summary> {
    let started = std::time::Instant::now();
    let end = Utc
        .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let mut generator = Generator::new(seed, total, end);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut summary = Summary::default();
    let mut queue: VecDeque<Planned> = VecDeque::new();
    let mut corrections: VecDeque<NewMovement> = VecDeque::new();
    for round in 0u64.. {
        let store = Arc::new(open()?);
        if round == 0 {
            let records = products(store.site())
                .iter()
                .map(|p| (p.gtin.clone().into_bytes(), Some(encode(p))))
                .collect();
            store.reference().put(Reference::Products, records)?;
        }
        let part = reopen_every.max(1).min(total - summary.movements);
        let (movements, corrected) = runtime.block_on(write(
            &store,
            &mut generator,
            &mut queue,
            &mut corrections,
            part,
        ))?;
        summary.movements += movements;
        summary.corrections += corrected;
        summary.batches += store.commit_stats().1;
        let (apply, flush, fsync) = store.timing().seconds();
        summary.committer.0 += apply;
        summary.committer.1 += flush;
        summary.committer.2 += fsync;
        if movements == 0 || summary.movements >= total {
            break;
        }
    }
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// Commits `total` movements of `generator` (corrections of earlier ones
/// first), many in flight; returns (movements, corrections) written.
async fn write(
    store: &Arc<Store>,
    generator: &mut Generator,
    queue: &mut VecDeque<Planned>,
    corrections: &mut VecDeque<NewMovement>,
    total: u64,
) -> anyhow::Result<(u64, u64)> {
    let mut inflight = FuturesUnordered::new();
    let (mut submitted, mut done, mut corrected) = (0u64, 0u64, 0u64);
    loop {
        while inflight.len() < WINDOW && submitted < total {
            let (movement, correct) = if let Some(c) = corrections.pop_front() {
                corrected += 1;
                (c, false)
            } else {
                if queue.is_empty() {
                    queue.extend(generator.episode());
                }
                match queue.pop_front() {
                    Some(p) => (p.movement, p.correct),
                    None => break,
                }
            };
            let commit = store.journal().commit_async(movement);
            inflight.push(async move { (commit.await, correct) });
            submitted += 1;
        }
        let Some((result, correct)) = inflight.next().await else {
            break;
        };
        let m: Movement = result?;
        done += 1;
        if correct {
            let at = m.body.device_time + Duration::hours(2);
            corrections.push_back(
                correction(&m, "scanned in error", "supervisor", "gen-data", at)
                    .map_err(anyhow::Error::msg)?,
            );
        }
    }
    Ok((done, corrected))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::station::import::normalise_gtin;

    #[test]
    fn identifiers_have_valid_check_digits_and_runs_are_deterministic() {
        for i in [0, 7, 199] {
            assert_eq!(normalise_gtin(&gtin(i)).unwrap(), gtin(i));
        }
        let end = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        let run = |seed| {
            let mut g = Generator::new(seed, 10_000, end);
            (0..20)
                .flat_map(|_| g.episode())
                .map(|p| p.movement)
                .collect::<Vec<_>>()
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
        let first = run(1);
        let hot = first
            .iter()
            .filter(|m| m.lot.as_deref() == Some(HOT_LOT))
            .count();
        assert_eq!(hot as u64, HOT_MOVEMENTS - 1);
    }

    #[test]
    fn sites_of_a_company_share_no_lot_or_serial_and_only_the_first_has_the_landmarks() {
        let end = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        let run = |index| {
            let mut g = Generator::for_site(index + 1, 10_000, end, index);
            (0..200)
                .flat_map(|_| g.episode())
                .map(|p| p.movement)
                .collect::<Vec<_>>()
        };
        let (first, third) = (run(0), run(2));
        let hot = |ms: &[NewMovement]| {
            ms.iter()
                .filter(|m| m.lot.as_deref() == Some(HOT_LOT))
                .count()
        };
        assert_eq!(hot(&first) as u64, HOT_MOVEMENTS - 1);
        assert_eq!(hot(&third), 0);
        let keys = |ms: &[NewMovement]| {
            ms.iter()
                .flat_map(|m| [m.lot.clone(), m.serial.clone()])
                .flatten()
                .collect::<std::collections::HashSet<_>>()
        };
        let (a, b) = (keys(&first), keys(&third));
        assert!(!a.is_empty() && !b.is_empty());
        assert!(a.is_disjoint(&b), "{:?}", a.intersection(&b).next());
        let numbers = |ms: &[NewMovement]| {
            ms.iter()
                .filter_map(|m| {
                    m.serial
                        .as_deref()?
                        .trim_start_matches("SN")
                        .parse::<u64>()
                        .ok()
                })
                .collect::<Vec<_>>()
        };
        assert!(numbers(&first).contains(&100_000));
        assert!(
            numbers(&third).iter().all(|n| *n >= 2_100_000),
            "{:?}",
            numbers(&third)
        );
    }

    #[test]
    fn a_run_that_reopens_its_store_continues_the_same_journal() {
        let dir = tempfile::tempdir().unwrap();
        let open = || {
            Ok(Store::open(
                dir.path(),
                crate::store::OpenOptions::create("gen-site".into()),
            )?)
        };
        let s = generate(open, 3_000, 1, 1_000).unwrap();
        assert_eq!(s.movements, 3_000);
        assert!(s.corrections > 0);
        let store = open().unwrap();
        assert_eq!(store.journal().head("gen-site").unwrap().seq, 3_000);
        let report = store.verify().unwrap();
        assert!(report.is_ok(), "{:?}", report.problems);
        assert_eq!(report.movements, 3_000);
    }
}
