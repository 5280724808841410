//! Head office on PostgreSQL, end to end on the real binary: two
//! `scantrail hq --database` nodes on one database of the machine's
//! PostgreSQL, sites (real daemons) reaching either node, through the
//! fault proxy of the sync tests.

mod support;
mod sync_support;

use std::sync::{Arc, Barrier};
use std::time::Duration;

use scantrail::model::{Entries, Movement};
use scantrail::store::{OpenOptions, Store};
use scantrail::sync::protocol::{Batch, ReferenceVersions, PROTOCOL_VERSION};
use support::pg::TestDb;
use support::story::{body, Chain, Item, GTIN};
use sync_support::*;

/// Head office's configuration for `db`, for `sites`.
fn hq_on(dir: &std::path::Path, sites: &[&str], db: &TestDb) -> HqDir {
    HqDir::new(
        dir,
        sites,
        &format!("database = \"{}\"\nrequests_per_second = 10000", db.url),
    )
}

/// A node's base URL and an agent trusting the test CA.
struct Node {
    url: String,
    agent: ureq::Agent,
}

impl Node {
    fn of(daemon: &Daemon, hq: &HqDir) -> Node {
        Node {
            url: daemon.base_url().to_owned(),
            agent: scantrail::sync::tls::agent(Some(&hq.pki.ca), Duration::from_secs(30)).unwrap(),
        }
    }

    /// Uploads `movements` as `site`: (status, body).
    fn upload(&self, site: &str, movements: &[Movement]) -> (u16, serde_json::Value) {
        let batch = Batch {
            protocol: PROTOCOL_VERSION,
            site: site.to_owned(),
            first_seq: movements.first().map_or(1, |m| m.seq),
            last_seq: movements.last().map_or(0, |m| m.seq),
            sent_at: chrono::Utc::now(),
            reference: ReferenceVersions::default(),
            entries: Entries::Movements(movements.to_vec()),
        };
        let r = self
            .agent
            .post(&format!("{}/api/v1/batches", self.url))
            .set("Authorization", &format!("Bearer {}", site_token(site)))
            .set("Content-Type", "application/x-scantrail-postcard")
            .send_bytes(&batch.encode());
        let r = match r {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("upload to {}: {e}", self.url),
        };
        (r.status(), r.into_json().unwrap_or_default())
    }

    fn get(&self, path: &str) -> serde_json::Value {
        self.agent
            .get(&format!("{}{path}", self.url))
            .set("Authorization", &format!("Bearer {HQ_ADMIN}"))
            .call()
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
            .into_json()
            .unwrap()
    }
}

/// `n` receipts of distinct serials, stamped as `chain`'s next movements.
fn receipts(chain: &mut Chain, n: usize) {
    for _ in 0..n {
        let serial = format!("R{:06}", chain.movements.len() + 1);
        chain.push(body(
            scantrail::model::Kind::Receipt,
            &Item {
                gtin: GTIN,
                lot: Some("L1"),
                serial: Some(&serial),
                expiry: None,
            },
            "A-01",
            scantrail::model::Quantity::Units(1),
            chain.movements.len() as i64,
        ));
    }
}

/// Fails naming the first difference between what a site holds and what
/// the database holds (not the whole lists).
#[track_caller]
fn assert_same(held: &[(u64, String)], want: &[(u64, String)], what: &str) {
    if held == want {
        return;
    }
    let first = held
        .iter()
        .zip(want)
        .position(|(a, b)| a != b)
        .unwrap_or(held.len().min(want.len()));
    panic!(
        "{what}: the database holds {} entries, the site {}; first difference at index {first}: database {:?}, site {:?}",
        held.len(),
        want.len(),
        held.get(first),
        want.get(first)
    );
}

/// `scantrail hq recall add` of a lot of the pen, through the node the
/// configuration names; it must succeed.
fn recall(hq: &HqDir, id: &str, lot: &str, reason: &str) {
    let out = hq.hq_cli(&[
        "recall", "add", "--id", id, "--gtin", GTIN, "--lot", lot, "--reason", reason,
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
}

/// What a stopped site holds of its own movements: (seq, hash hex).
fn journal(site: &SiteDir) -> Vec<(u64, String)> {
    Store::open(&site.data(), OpenOptions::existing(Some(site.id.clone())))
        .unwrap()
        .journal()
        .range(&site.id, 1, usize::MAX)
        .unwrap()
        .iter()
        .map(|m| (m.seq, m.hash.hex()))
        .collect()
}

/// Site `id` in `tmp`, syncing to `url` (a node or the proxy).
fn site_at(tmp: &std::path::Path, id: &str, url: &str, hq: &HqDir, extra: &str) -> SiteDir {
    SiteDir::new(&tmp.join(id), id, url, &hq.pki.ca, extra)
}

/// What the database holds of `site`: (seq, hash hex) in seq order.
fn held(db: &TestDb, site: &str) -> Vec<(u64, String)> {
    db.query(&format!(
        "SELECT seq, encode(hash, 'hex') FROM movements WHERE site_id = '{site}' ORDER BY seq"
    ))
    .into_iter()
    .map(|r| {
        (
            r[0].as_deref().unwrap().parse().unwrap(),
            r[1].clone().unwrap(),
        )
    })
    .collect()
}

#[test]
fn two_nodes_racing_on_one_sites_batches_apply_each_entry_once() {
    let db = TestDb::create("race");
    let tmp = tempfile::tempdir().unwrap();
    let hq = hq_on(&tmp.path().join("hq"), &["north"], &db);
    let a = hq.start();
    let b = hq.start();
    let nodes = Arc::new([Node::of(&a, &hq), Node::of(&b, &hq)]);
    let mut chain = Chain::new("north");
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    };
    let rounds = 80;
    let (mut new_total, mut duplicates_total) = (0u64, 0u64);
    for round in 0..rounds {
        let before = chain.movements.len();
        receipts(&mut chain, 1 + next(40) as usize);
        // Sometimes the batch starts earlier (a resend overlapping what
        // was taken); both nodes get it at the same moment.
        let from = if round % 3 == 0 && before > 5 {
            before - next(5) as usize
        } else {
            before
        };
        let batch = chain.movements[from..].to_vec();
        let barrier = Arc::new(Barrier::new(2));
        let answers: Vec<(u16, serde_json::Value)> = (0..2)
            .map(|i| {
                let (nodes, barrier, batch) = (nodes.clone(), barrier.clone(), batch.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    nodes[i].upload("north", &batch)
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect();
        let fresh = (chain.movements.len() - before) as u64;
        let mut new_here = 0;
        for (status, ack) in &answers {
            assert_eq!(*status, 200, "round {round}: {ack}");
            assert_eq!(
                ack["acked_seq"],
                chain.movements.len() as u64,
                "round {round}: {ack}"
            );
            new_here += ack["new"].as_u64().unwrap();
            duplicates_total += ack["duplicates"].as_u64().unwrap();
        }
        assert_eq!(new_here, fresh, "round {round}: {answers:?}");
        new_total += new_here;
    }
    let want: Vec<(u64, String)> = chain
        .movements
        .iter()
        .map(|m| (m.seq, m.hash.hex()))
        .collect();
    assert_same(&held(&db, "north"), &want, "every entry once, in order");
    assert_eq!(new_total, want.len() as u64);
    assert!(duplicates_total >= want.len() as u64, "{duplicates_total}");
    // A rewritten entry is refused by whichever node gets it.
    let mut other = chain.movements[10].clone();
    other.body.operator = "mallory".into();
    other.hash = scantrail::store::chain::recompute(&other);
    let (status, problem) = nodes[1].upload("north", &[other]);
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["code"], "conflict", "{problem}");
    // Both nodes show the same state and the alert.
    for n in nodes.iter() {
        let sites = n.get("/api/v1/sites");
        assert_eq!(sites[0]["last_seq"], want.len() as u64, "{sites}");
        assert!(
            sites[0]["alerts"].to_string().contains("conflict"),
            "{sites}"
        );
        let health = n.get("/api/v1/health");
        assert_eq!(health["database"], "ok", "{health}");
    }
    eprintln!(
        "{rounds} rounds, {} movements, {duplicates_total} duplicates absorbed",
        want.len()
    );
}

/// xorshift with a printed seed, so a failing run can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

#[test]
fn a_site_through_faults_to_either_node_with_kills_loses_and_duplicates_nothing() {
    let seed = std::env::var("SCANTRAIL_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("seed {seed} (replay with SCANTRAIL_CHAOS_SEED)");
    let mut rng = Rng(seed);
    let db = TestDb::create("chaos");
    let tmp = tempfile::tempdir().unwrap();
    let hq = hq_on(&tmp.path().join("hq"), &["north"], &db);
    let mut nodes = [Some(hq.start()), Some(hq.start())];
    let proxy = proxy::Proxy::start(
        &hq.pki,
        nodes[0].as_ref().map(Daemon::port).unwrap(),
        250,
        seed,
    );
    let site = site_at(tmp.path(), "north", &proxy.url(), &hq, "batch_max = 40");
    site.dev_append(600);
    let site_proc = site.start();
    let mut kills = 0;
    let mut accepted = Vec::new();
    let started = std::time::Instant::now();
    let mut serial = 0;
    // At least 12 s of chaos, and on until more than 10 faults and kills
    // were injected (a seed whose first draws are mild runs longer rather
    // than failing the count below).
    while started.elapsed() < Duration::from_secs(12)
        || (proxy.counters.faults() + kills <= 10 && started.elapsed() < Duration::from_secs(90))
    {
        match rng.below(8) {
            0 => {
                // SIGKILL a node (mid-batch, as likely as not) and start
                // another in its place.
                let i = rng.below(2) as usize;
                if let Some(n) = nodes[i].take() {
                    n.kill();
                    kills += 1;
                }
                let restarted = hq.start();
                // The load balancer routes to the node that is up.
                proxy.set_upstream(restarted.port());
                nodes[i] = Some(restarted);
            }
            _ => {
                // The load balancer sends the site's next requests to
                // either node.
                let i = rng.below(2) as usize;
                if let Some(n) = &nodes[i] {
                    proxy.set_upstream(n.port());
                }
                for _ in 0..5 {
                    serial += 1;
                    let a = site.scan(
                        "dock-1",
                        &format!("]C1010950600013435210LOTC\u{1d}21CH{serial}"),
                    );
                    if a["accepted"] == true {
                        accepted.push(a["movement"]["seq"].as_u64().unwrap());
                    }
                }
                std::thread::sleep(Duration::from_millis(rng.below(300)));
            }
        }
    }
    proxy.set_faults(0);
    // The site's last movement: its status's backlog is refreshed after
    // each upload round, so right after the last scans it can still read 0
    // from the round before; head office must have acknowledged this seq.
    let last = accepted.iter().copied().max().unwrap_or(600).max(600);
    let done = wait_for(Duration::from_secs(120), || {
        site.sync_status().is_some_and(|s| {
            s["backlog"] == 0
                && s["link"]["state"] == "online"
                && s["acked_seq"].as_u64() >= Some(last)
        })
    });
    assert!(done.is_some(), "{:?}", site.sync_status());
    site_proc.stop();
    let want = journal(&site);
    assert_same(
        &held(&db, "north"),
        &want,
        "lost or duplicated at head office",
    );
    assert!(accepted.len() > 10, "{}", accepted.len());
    eprintln!(
        "movements {}, kills {kills}, {}",
        want.len(),
        proxy.counters.summary()
    );
    assert!(
        proxy.counters.faults() + kills > 10,
        "{}",
        proxy.counters.summary()
    );
}

/// History rewritten at a site after head office acknowledged it: refused
/// by either node (422), the site halts, both nodes list the alert.
#[test]
fn rewritten_history_is_caught_by_either_node() {
    let db = TestDb::create("rewrite");
    let tmp = tempfile::tempdir().unwrap();
    let hq = hq_on(&tmp.path().join("hq"), &["north"], &db);
    let a = hq.start();
    let b = hq.start();
    let site = site_at(tmp.path(), "north", a.base_url(), &hq, "");
    site.dev_append(10);
    let site_proc = site.start();
    let node_a = Node::of(&a, &hq);
    let synced = wait_for(Duration::from_secs(20), || {
        node_a.get("/api/v1/sites")[0]["last_seq"] == 10
    });
    assert!(synced.is_some());
    site_proc.stop();
    let acked = {
        let s = Store::open(&site.data(), OpenOptions::existing(Some("north".into()))).unwrap();
        s.outbox().position().unwrap().unwrap()
    };
    std::fs::remove_dir_all(site.data()).unwrap();
    site.dev_append(7);
    site.dev_append(5);
    {
        let s = Store::open(&site.data(), OpenOptions::existing(Some("north".into()))).unwrap();
        s.outbox().set_position(acked).unwrap();
    }
    // The site now reaches node b.
    let text = std::fs::read_to_string(&site.config)
        .unwrap()
        .replace(a.base_url(), b.base_url());
    std::fs::write(&site.config, text).unwrap();
    let _site_proc = site.start();
    let halted = wait_for(Duration::from_secs(15), || {
        site.sync_status()
            .is_some_and(|s| s["link"]["state"] == "halted")
    });
    assert!(halted.is_some(), "{:?}", site.sync_status());
    for node in [&a, &b] {
        let sites = Node::of(node, &hq).get("/api/v1/sites");
        let alerts = sites[0]["alerts"].to_string();
        assert!(
            alerts.contains("broken_link") || alerts.contains("conflict"),
            "{alerts}"
        );
        assert_eq!(sites[0]["last_seq"], 10, "{sites}");
    }
    assert_eq!(db.scalar("SELECT count(*) FROM movements"), "10");
}

/// A recall issued on one node reaches sites syncing with the other; each
/// node's reports cover both sites.
#[test]
fn a_recall_issued_on_one_node_stops_picks_at_sites_on_the_other() {
    let db = TestDb::create("recall");
    let tmp = tempfile::tempdir().unwrap();
    let hq = hq_on(&tmp.path().join("hq"), &["north", "south"], &db);
    let a = hq.start();
    let b = hq.start();
    let north = site_at(tmp.path(), "north", a.base_url(), &hq, "");
    let south = site_at(tmp.path(), "south", b.base_url(), &hq, "");
    let _n = north.start();
    let _s = south.start();
    for serial in ["SN100", "SN101"] {
        let r = north.scan(
            "dock-1",
            &format!("]C1010950600013435210LOT7\u{1d}21{serial}"),
        );
        assert_eq!(r["accepted"], true, "{r}");
    }
    for serial in ["SN900", "SN901"] {
        let r = south.scan(
            "dock-1",
            &format!("]C1010950600013435210LOT7\u{1d}21{serial}"),
        );
        assert_eq!(r["accepted"], true, "{r}");
    }
    // Issued on node a (the CLI reaches the node the config names).
    a.point_config_here(&hq.config);
    recall(&hq, "R-9", "LOT7", "contamination");
    let started = std::time::Instant::now();
    for site in [&north, &south] {
        let arrived = wait_for(Duration::from_secs(15), || {
            ureq::get(&format!("{}/api/v1/holds", site.url()))
                .set("Authorization", &format!("Bearer {SITE_ADMIN}"))
                .call()
                .ok()
                .and_then(|r| r.into_string().ok())
                .is_some_and(|t| t.contains("R-9"))
        });
        assert!(arrived.is_some(), "the recall did not reach {}", site.id);
        let order = site.scan("dispatch-1", "]C1400O-1");
        assert!(order.get("accepted").is_some(), "{order}");
        let serial = if site.id == "north" { "SN100" } else { "SN900" };
        let pick = site.scan(
            "dispatch-1",
            &format!("]C1010950600013435210LOT7\u{1d}21{serial}"),
        );
        assert_eq!(pick["accepted"], false, "{}: {pick}", site.id);
        assert_eq!(pick["code"], "on_hold", "{pick}");
    }
    eprintln!(
        "recall effective at both sites after {:?}",
        started.elapsed()
    );
    // Both nodes' reports see both sites.
    let node_b = Node::of(&b, &hq);
    let caught_up = wait_for(Duration::from_secs(15), || {
        let s = node_b.get("/api/v1/sites").to_string();
        s.contains("\"last_seq\":2") && !s.contains("\"last_seq\":0")
    });
    assert!(caught_up.is_some(), "{}", node_b.get("/api/v1/sites"));
    for node in [&a, &b] {
        let n = Node::of(node, &hq);
        let recall = n
            .get("/api/v1/reports/recall?gtin=09506000134352&lot=LOT7")
            .to_string();
        for needle in ["north/DOCK-1", "south/DOCK-1", "\"in_stock\":\"4\""] {
            assert!(recall.contains(needle), "{needle}: {recall}");
        }
        let holds = n.get("/api/v1/holds").to_string();
        assert!(holds.contains("R-9"), "{holds}");
    }
}

/// PostgreSQL stopped (as a crash) while a site's backlog is being
/// ingested, on a private instance: head office answers 503 with
/// Retry-After and says so in health, the site keeps scanning offline,
/// and once the database is back head office resumes by itself (no
/// restart); nothing is lost or duplicated.
#[test]
fn postgres_restarted_during_ingest_loses_and_duplicates_nothing() {
    let pg = support::pg::PrivatePg::start();
    let db = TestDb::on(&pg.admin_url(), "restart");
    let tmp = tempfile::tempdir().unwrap();
    let hq = hq_on(&tmp.path().join("hq"), &["north"], &db);
    let node = hq.start();
    let n = Node::of(&node, &hq);
    let site = site_at(tmp.path(), "north", node.base_url(), &hq, "batch_max = 100");
    site.dev_append(5_000);
    let site_proc = site.start();
    let started = wait_for(Duration::from_secs(30), || {
        n.get("/api/v1/sites")[0]["last_seq"].as_u64() > Some(0)
    });
    assert!(started.is_some(), "ingest did not start");
    let stopped_at = n.get("/api/v1/sites");
    pg.stop_immediately();
    // While the database is down, what reads it answers 503 too.
    let r = n
        .agent
        .get(&format!("{}/api/v1/sites", n.url))
        .set("Authorization", &format!("Bearer {HQ_ADMIN}"))
        .call();
    assert!(
        matches!(&r, Err(ureq::Error::Status(503, r)) if r.header("retry-after") == Some("5")),
        "{r:?}"
    );
    // Health: 503, the database named.
    let r = n
        .agent
        .get(&format!("{}/api/v1/health", n.url))
        .call()
        .expect_err("health must be 503 while the database is down");
    let ureq::Error::Status(503, r) = r else {
        panic!("{r:?}")
    };
    let health: serde_json::Value = r.into_json().unwrap();
    assert!(
        health["database"]
            .as_str()
            .unwrap()
            .contains("cannot be reached"),
        "{health}"
    );
    // An upload: 503 with Retry-After.
    let mut chain = Chain::new("north");
    receipts(&mut chain, 1);
    let r = n
        .agent
        .post(&format!("{}/api/v1/batches", n.url))
        .set("Authorization", &format!("Bearer {}", site_token("north")))
        .send_bytes(
            &Batch {
                protocol: PROTOCOL_VERSION,
                site: "north".into(),
                first_seq: 1,
                last_seq: 1,
                sent_at: chrono::Utc::now(),
                reference: ReferenceVersions::default(),
                entries: Entries::Movements(chain.movements.clone()),
            }
            .encode(),
        );
    match r {
        Err(ureq::Error::Status(503, r)) => {
            assert_eq!(r.header("retry-after"), Some("5"));
            let p: serde_json::Value = r.into_json().unwrap();
            assert_eq!(p["code"], "unavailable", "{p}");
        }
        other => panic!("expected 503: {other:?}"),
    }
    // The site scans on while head office cannot store.
    for i in 0..20 {
        let a = site.scan("dock-1", &format!("]C1010950600013435210LOTP\u{1d}21PG{i}"));
        assert_eq!(a["accepted"], true, "{a}");
    }
    std::thread::sleep(Duration::from_secs(2));
    pg.restart();
    pg.wait_ready();
    // Every movement acknowledged (the backlog alone may be a round old).
    let done = wait_for(Duration::from_secs(180), || {
        site.sync_status().is_some_and(|s| {
            s["backlog"] == 0 && s["link"]["state"] == "online" && s["acked_seq"] == 5_020
        })
    });
    assert!(done.is_some(), "{:?}", site.sync_status());
    let health = n.get("/api/v1/health");
    assert_eq!(health["database"], "ok", "{health}");
    site_proc.stop();
    let want = journal(&site);
    assert_eq!(want.len(), 5_020);
    assert_same(&held(&db, "north"), &want, "after the database came back");
    eprintln!(
        "stopped at {}, everything there after the restart",
        stopped_at[0]["last_seq"]
    );
    assert!(
        stopped_at[0]["last_seq"].as_u64() < Some(5_000),
        "the database went down after the backlog was in: {stopped_at}"
    );
}

/// `scantrail hq migrate` copies an embedded head office (two sites, a
/// recall) into PostgreSQL; run again it changes nothing; a database that
/// differs from the store is refused; and a node on the database answers
/// what the embedded head office answered.
#[test]
fn an_embedded_head_office_migrates_and_answers_the_same() {
    let db = TestDb::create("migrate");
    let tmp = tempfile::tempdir().unwrap();
    let hq = HqDir::new(&tmp.path().join("hq"), &["north", "south"], "");
    let embedded = hq.start();
    let mut sites = Vec::new();
    for id in ["north", "south"] {
        let s = site_at(tmp.path(), id, embedded.base_url(), &hq, "");
        s.dev_append(300);
        sites.push(s);
    }
    let procs: Vec<Daemon> = sites.iter().map(SiteDir::start).collect();
    let r = sites[0].scan("dock-1", "]C1010950600013435210LOTM\u{1d}21MIG1");
    assert_eq!(r["accepted"], true, "{r}");
    recall(&hq, "R-1", "LOTM", "test");
    let e = Node::of(&embedded, &hq);
    let synced = wait_for(Duration::from_secs(30), || {
        let s = e.get("/api/v1/sites").to_string();
        s.contains("\"last_seq\":301") && s.contains("\"last_seq\":300")
    });
    assert!(synced.is_some(), "{}", e.get("/api/v1/sites"));
    for p in procs {
        p.stop();
    }
    let queries = [
        "/api/v1/reports/stock",
        "/api/v1/reports/recall?gtin=09506000134352&lot=LOTM",
        "/api/v1/holds",
    ];
    let before: Vec<serde_json::Value> = queries.iter().map(|q| e.get(q)).collect();
    let sites_before = e.get("/api/v1/sites");
    embedded.stop();

    // `scantrail hq migrate`, which must succeed: what it printed.
    let migrate = || {
        std::process::Command::new(support::daemon::binary())
            .args(["hq", "migrate", "--from"])
            .arg(hq.data())
            .args(["--to", &db.url])
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let migrated = || {
        let out = migrate();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{text}{err}");
        text
    };
    let text = migrated();
    assert!(
        text.contains("copied 2 sites: 601 movements new, 0 already there"),
        "{text}"
    );
    let text = migrated();
    assert!(
        text.contains("0 movements new, 601 already there"),
        "{text}"
    );
    assert!(text.contains("0 published records"), "{text}");
    assert_eq!(db.scalar("SELECT count(*) FROM movements"), "601");

    // A node on the database answers as the embedded head office did.
    let config = std::fs::read_to_string(&hq.config)
        .unwrap()
        .replace("[hq]\n", &format!("[hq]\ndatabase = \"{}\"\n", db.url));
    std::fs::write(&hq.config, config).unwrap();
    let node = hq.start();
    let p = Node::of(&node, &hq);
    for (q, want) in queries.iter().zip(&before) {
        assert_eq!(&p.get(q), want, "{q}");
    }
    let sites_after = p.get("/api/v1/sites");
    // Alerts keep their code and words; their time to the microsecond
    // (what a timestamptz holds).
    let alerts = |v: &serde_json::Value| -> Vec<(String, String)> {
        v["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["code"].to_string(), a["message"].to_string()))
            .collect()
    };
    for i in 0..2 {
        for key in ["site", "last_seq", "reference"] {
            assert_eq!(sites_after[i][key], sites_before[i][key], "{key}");
        }
        assert_eq!(alerts(&sites_after[i]), alerts(&sites_before[i]));
    }
    node.stop();

    // The database's copy no longer matches the store: refused, by name.
    db.query("UPDATE movements SET hash = sha256(hash) WHERE site_id = 'south' AND seq = 7");
    let out = migrate();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success());
    assert!(
        err.contains("site south's movements differ") && err.contains("seq 7"),
        "{err}"
    );
}

/// `hq status` shows a site's backlog apart from its last contact, and lag
/// only while it is behind (head office on PostgreSQL, migration 2).
#[test]
fn a_quiet_site_has_no_lag_and_a_site_behind_shows_its_backlog() {
    let tmp = tempfile::tempdir().unwrap();
    let db = TestDb::create("backlog");
    let hq = HqDir::new(
        &tmp.path().join("hq"),
        &["north"],
        &format!("database = \"{}\"\nrequests_per_second = 4", db.url),
    );
    let _hq_proc = hq.start();
    backlog_apart_from_quiet(tmp.path(), &hq);
}
