//! The report benchmark behind BENCHMARKS.md ("Reports (issue 6)"): each
//! report on a synthetic site from `scantrail-dev gen-data`, and side by side
//! the same questions asked of SQLite holding the same movements (one
//! table, the obvious indexes).
//!
//! ```sh
//! cargo build --release
//! target/release/scantrail-dev gen-data --data /tmp/site-1m --movements 1000000 --config /nonexistent.toml
//! cargo run --release --example report_bench -- --data /tmp/site-1m [--runs 20] [--only batch|range|warranty|lookup|trace|stock|expiry]
//! ```
//! The SQLite copy is written next to the store (`DIR.sqlite`) on the
//! first run and reused.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{params, Connection};
use scantrail::dev::gen;
use scantrail::model::Quantity;
use scantrail::report::{self, Report, Request};
use scantrail::store::{derived, OpenOptions, Store};

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_owned())
}

/// Median and fastest of `runs` timed calls, after one untimed warm-up.
fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, Duration, T) {
    let mut out = f();
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        out = f();
        times.push(t.elapsed());
    }
    times.sort();
    (times[times.len() / 2], times[0], out)
}

/// Reads every column of a lot query's row, as a report would.
type Row = (
    i64,
    String,
    i64,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<i64>,
);

fn full_row(r: &rusqlite::Row) -> rusqlite::Result<Row> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
    ))
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e3)
}

fn request(kind: &str, v: &[(&str, &str)]) -> Request {
    let pairs: Vec<(String, String)> = v
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    Request::from_pairs(kind, &pairs).unwrap()
}

fn load_sqlite(store: &Store, path: &Path) -> Connection {
    let fresh = !path.exists();
    let mut conn = Connection::open(path).unwrap();
    if !fresh {
        return conn;
    }
    let t = Instant::now();
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
         CREATE TABLE movements (origin TEXT, seq INTEGER, kind TEXT, time INTEGER,
           station TEXT, operator TEXT, location TEXT, gtin TEXT, lot TEXT, serial TEXT,
           expiry TEXT, delta INTEGER, scale INTEGER, unit TEXT, cp_gln TEXT, cp_name TEXT,
           po TEXT, ord TEXT, desadv TEXT, corrects_origin TEXT, corrects_seq INTEGER,
           PRIMARY KEY (origin, seq));
         CREATE TABLE products (gtin TEXT PRIMARY KEY, warranty_months INTEGER);",
    )
    .unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut ins = tx
            .prepare("INSERT INTO movements VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21)")
            .unwrap();
        for origin in store.journal().origins().unwrap() {
            let mut from = 1;
            loop {
                let page = store.journal().range(&origin, from, 10_000).unwrap();
                for m in &page {
                    let b = &m.body;
                    let (_, delta, scale) = derived::balance_delta(m);
                    let unit = match &b.quantity {
                        Quantity::Units(_) => "",
                        Quantity::Measure { unit, .. } => unit.as_str(),
                    };
                    ins.execute(params![
                        m.origin,
                        m.seq as i64,
                        b.kind.name(),
                        b.device_time.timestamp(),
                        b.station,
                        b.operator,
                        b.location,
                        b.gtin,
                        b.lot,
                        b.serial,
                        b.expiry.map(|e| e.to_string()),
                        delta as i64,
                        scale,
                        unit,
                        b.counterparty.gln,
                        b.counterparty.name,
                        b.documents.purchase_order,
                        b.documents.order,
                        b.documents.despatch_advice,
                        b.corrects.as_ref().map(|c| c.origin.clone()),
                        b.corrects.as_ref().map(|c| c.seq as i64),
                    ])
                    .unwrap();
                }
                match page.last() {
                    Some(l) if page.len() == 10_000 => from = l.seq + 1,
                    _ => break,
                }
            }
        }
        for p in gen::products(store.site()) {
            tx.execute(
                "INSERT INTO products VALUES (?1, ?2)",
                params![p.gtin, p.warranty_months],
            )
            .unwrap();
        }
    }
    tx.commit().unwrap();
    conn.execute_batch(
        "CREATE INDEX by_lot ON movements (gtin, lot);
         CREATE INDEX by_serial ON movements (gtin, serial);
         CREATE INDEX by_expiry ON movements (expiry);
         ANALYZE;",
    )
    .unwrap();
    eprintln!("loaded SQLite in {:.1} s", t.elapsed().as_secs_f64());
    conn
}

fn main() {
    let data = PathBuf::from(arg("--data", "/tmp/site-1m"));
    let runs: usize = arg("--runs", "20").parse().unwrap();
    let store = match Store::open(&data, OpenOptions::existing(None)) {
        Ok(store) => store,
        Err(e) => {
            eprintln!(
                "report_bench: cannot open the store at {}: {e}\nmake one with `target/release/scantrail-dev gen-data --data {} --movements 1000000 --config /nonexistent.toml` (BENCHMARKS.md, \"Reports\")",
                data.display(),
                data.display()
            );
            std::process::exit(2);
        }
    };
    let movements: u64 = store
        .journal()
        .origins()
        .unwrap()
        .iter()
        .map(|o| store.journal().head(o).unwrap().seq)
        .sum();
    let sqlite_path = PathBuf::from(format!("{}.sqlite", data.display()));
    let conn = load_sqlite(&store, &sqlite_path);
    conn.execute_batch(
        "CREATE INDEX IF NOT EXISTS by_corrects ON movements (corrects_origin, corrects_seq);",
    )
    .unwrap();

    let hot_gtin = gen::gtin(0);
    let serial_gtin = gen::serial_gtin();
    let mut rows: Vec<(String, Duration, Duration)> = Vec::new();
    let mut note = Vec::new();
    let stock_runs = (runs / 4).max(3);
    let only = arg("--only", "");
    let want = |name: &str| only.is_empty() || only == name;

    if want("batch") {
        // Recall by batch: the lot with ~1,000 movements.
        let q = request("recall", &[("gtin", &hot_gtin), ("lot", gen::HOT_LOT)]);
        let (med, _, r) = time(runs, || report::run(&store, &q).unwrap());
        if let Report::Recall(r) = &r {
            note.push(format!(
                "recall by batch: {} dispatches, {} customers",
                r.dispatched.len(),
                r.customers.len()
            ));
        }
        let mut lot_rows = conn
        .prepare("SELECT seq, kind, time, delta, cp_gln, cp_name, ord, desadv, po, location, corrects_seq FROM movements WHERE gtin=?1 AND lot=?2 ORDER BY time, origin, seq")
        .unwrap();
        let mut lot_customers = conn
        .prepare("SELECT cp_gln, cp_name, COUNT(*), -SUM(delta), MIN(time), MAX(time) FROM movements m WHERE gtin=?1 AND lot=?2 AND kind='dispatch' AND NOT EXISTS (SELECT 1 FROM movements c WHERE c.corrects_origin=m.origin AND c.corrects_seq=m.seq) GROUP BY cp_gln, cp_name")
        .unwrap();
        let mut lot_stock = conn
        .prepare("SELECT location, SUM(delta) FROM movements WHERE gtin=?1 AND lot=?2 GROUP BY location HAVING SUM(delta) != 0")
        .unwrap();
        let (sq, _, n) = time(runs, || {
            let a = lot_rows
                .query_map(params![hot_gtin, gen::HOT_LOT], full_row)
                .unwrap()
                .count();
            let b = lot_customers
                .query_map(params![hot_gtin, gen::HOT_LOT], |r| r.get::<_, i64>(2))
                .unwrap()
                .count();
            let c = lot_stock
                .query_map(params![hot_gtin, gen::HOT_LOT], |r| r.get::<_, i64>(1))
                .unwrap()
                .count();
            (a, b, c)
        });
        note.push(format!(
            "SQLite recall by batch: {} rows, {} customers",
            n.0, n.1
        ));
        rows.push((
            "recall by batch (lot with ~1,000 movements)".into(),
            med,
            sq,
        ));
    }
    if want("range") {
        // Recall by serial range: 10,000 numeric serials.
        let q = request(
            "recall",
            &[("gtin", &serial_gtin), ("from", "100000"), ("to", "109999")],
        );
        let (med, _, r) = time(runs, || report::run(&store, &q).unwrap());
        if let Report::Recall(r) = &r {
            note.push(format!(
                "serial range: {} serials, {} customers",
                r.serials.len(),
                r.customers.len()
            ));
        }
        let mut range = conn
        .prepare("SELECT serial, kind, location, cp_gln, cp_name, MAX(time) FROM movements WHERE gtin=?1 AND serial BETWEEN ?2 AND ?3 AND length(serial)=6 AND kind IN ('receipt','dispatch','return','transfer_in','transfer_out') GROUP BY serial")
        .unwrap();
        let (sq, _, n) = time(runs, || {
            range
                .query_map(params![serial_gtin, "100000", "109999"], |r| {
                    r.get::<_, String>(0)
                })
                .unwrap()
                .count()
        });
        note.push(format!("SQLite serial range: {n} serials"));
        rows.push(("recall by serial range (10,000 serials)".into(), med, sq));
    }
    if want("warranty") {
        // Warranty look-up of one serial.
        let q = request("warranty", &[("gtin", &serial_gtin), ("serial", "100500")]);
        let (med, _, _) = time(runs * 10, || report::run(&store, &q).unwrap());
        let mut warranty = conn
        .prepare("SELECT m.kind, m.time, m.cp_gln, m.cp_name, m.ord, p.warranty_months FROM movements m JOIN products p ON p.gtin = m.gtin WHERE m.gtin=?1 AND m.serial=?2 ORDER BY m.time, m.seq")
        .unwrap();
        let (sq, _, _) = time(runs * 10, || {
            warranty
                .query_map(params![serial_gtin, "100500"], |r| r.get::<_, String>(0))
                .unwrap()
                .count()
        });
        rows.push(("warranty look-up (one serial)".into(), med, sq));
    }
    if want("lookup") {
        // The journal's own look-ups (issue 4): ids of a lot's movements
        // and of a serial's, as the reports start from.
        let (med, _, n) = time(runs * 10, || {
            store.view().by_lot(&hot_gtin, gen::HOT_LOT).unwrap().len()
        });
        let mut by_lot = conn
            .prepare("SELECT origin, seq FROM movements WHERE gtin=?1 AND lot=?2")
            .unwrap();
        let (sq, _, sn) = time(runs * 10, || {
            by_lot
                .query_map(params![hot_gtin, gen::HOT_LOT], |r| r.get::<_, i64>(1))
                .unwrap()
                .count()
        });
        note.push(format!("by-lot look-up: {n} ids (SQLite {sn})"));
        rows.push(("by-lot look-up (ids of the hot lot)".into(), med, sq));
        let (med, _, n) = time(runs * 10, || {
            store
                .view()
                .by_serial(&serial_gtin, "100500")
                .unwrap()
                .len()
        });
        let mut by_serial = conn
            .prepare("SELECT origin, seq FROM movements WHERE gtin=?1 AND serial=?2")
            .unwrap();
        let (sq, _, sn) = time(runs * 10, || {
            by_serial
                .query_map(params![serial_gtin, "100500"], |r| r.get::<_, i64>(1))
                .unwrap()
                .count()
        });
        note.push(format!("by-serial look-up: {n} ids (SQLite {sn})"));
        rows.push(("by-serial look-up (ids of one serial)".into(), med, sq));
    }
    if want("trace") {
        // Movements and trace of the hot lot.
        let q = request("trace", &[("gtin", &hot_gtin), ("lot", gen::HOT_LOT)]);
        let (med, _, _) = time(runs, || report::run(&store, &q).unwrap());
        let mut lot_rows = conn
            .prepare("SELECT seq, kind, time, delta, cp_gln, cp_name, ord, desadv, po, location, corrects_seq FROM movements WHERE gtin=?1 AND lot=?2 ORDER BY time, origin, seq")
            .unwrap();
        let (sq, _, _) = time(runs, || {
            lot_rows
                .query_map(params![hot_gtin, gen::HOT_LOT], full_row)
                .unwrap()
                .count()
        });
        rows.push(("trace of the lot with ~1,000 movements".into(), med, sq));
    }
    if want("stock") {
        // Stock by batch across every lot.
        let q = request("stock", &[("by", "batch")]);
        let (med, _, r) = time(stock_runs, || report::run(&store, &q).unwrap());
        if let Report::Stock(r) = &r {
            let lots: std::collections::HashSet<(&str, &str)> = r
                .lots
                .iter()
                .map(|l| (l.gtin.as_str(), l.lot.as_str()))
                .collect();
            note.push(format!(
                "stock by batch: {} lot balances on hand, {} distinct lots",
                r.lots.len(),
                lots.len()
            ));
        }
        let mut stock = conn
        .prepare("SELECT gtin, lot, location, unit, SUM(delta), MIN(expiry) FROM movements GROUP BY gtin, lot, location, unit HAVING SUM(delta) != 0")
        .unwrap();
        let (sq, _, n) = time(stock_runs, || {
            stock
                .query_map([], |r| r.get::<_, String>(0))
                .unwrap()
                .count()
        });
        note.push(format!("SQLite stock by batch: {n} rows"));
        rows.push(("stock by batch (every lot)".into(), med, sq));
    }
    if want("expiry") {
        // Expiry within 60 days of the generator's end date.
        let q = request("expiry", &[("days", "60"), ("today", "2026-11-01")]);
        let (med, _, r) = time(stock_runs, || report::run(&store, &q).unwrap());
        if let Report::Expiry(r) = &r {
            note.push(format!(
                "expiry within 60 days: {} lot balances",
                r.lots.len()
            ));
        }
        let mut expiry = conn
        .prepare("SELECT gtin, lot, location, SUM(delta), MIN(expiry) AS e FROM movements WHERE lot IS NOT NULL GROUP BY gtin, lot, location, unit HAVING SUM(delta) != 0 AND e <= '2026-12-31' ORDER BY e")
        .unwrap();
        let (sq, _, _) = time(stock_runs, || {
            expiry
                .query_map([], |r| r.get::<_, String>(0))
                .unwrap()
                .count()
        });
        rows.push(("expiry within 60 days (FEFO)".into(), med, sq));
    }
    println!(
        "store: {} ({movements} movements, {:.0} MB sled, {:.0} MB SQLite)",
        data.display(),
        store.size_on_disk().unwrap() as f64 / 1e6,
        std::fs::metadata(&sqlite_path)
            .map(|m| m.len())
            .unwrap_or(0) as f64
            / 1e6
    );
    for n in &note {
        println!("  {n}");
    }
    println!();
    println!("| report | scantrail (sled), median ms | SQLite, median ms | SQLite / sled |");
    println!("| --- | ---: | ---: | ---: |");
    for (name, sled, sqlite) in rows {
        println!(
            "| {name} | {} | {} | {:.2} |",
            ms(sled),
            ms(sqlite),
            sqlite.as_secs_f64() / sled.as_secs_f64()
        );
    }
}
