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
    assert_eq!(held(&db, "north"), want, "every entry once, in order");
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
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("seed {seed}");
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
    let site = SiteDir::new(
        &tmp.path().join("north"),
        "north",
        &proxy.url(),
        &hq.pki.ca,
        "batch_max = 40",
    );
    site.dev_append(600);
    let site_proc = site.start();
    let mut kills = 0;
    let mut accepted = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(12);
    let mut serial = 0;
    while std::time::Instant::now() < deadline {
        match rng.below(8) {
            0 => {
                // SIGKILL a node (mid-batch, as likely as not) and start
                // another in its place.
                let i = rng.below(2) as usize;
                if let Some(n) = nodes[i].take() {
                    n.kill();
                    kills += 1;
                }
                nodes[i] = Some(hq.start());
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
    let done = wait_for(Duration::from_secs(120), || {
        site.sync_status()
            .is_some_and(|s| s["backlog"] == 0 && s["link"]["state"] == "online")
    });
    assert!(done.is_some(), "{:?}", site.sync_status());
    site_proc.stop();
    let local = Store::open(&site.data(), OpenOptions::existing(Some("north".into())))
        .unwrap()
        .journal_range("north", 1, usize::MAX)
        .unwrap();
    let want: Vec<(u64, String)> = local.iter().map(|m| (m.seq, m.hash.hex())).collect();
    assert_eq!(
        held(&db, "north"),
        want,
        "lost or duplicated at head office"
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
    let site = SiteDir::new(
        &tmp.path().join("north"),
        "north",
        a.base_url(),
        &hq.pki.ca,
        "",
    );
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
        s.outbox_position().unwrap().unwrap()
    };
    std::fs::remove_dir_all(site.data()).unwrap();
    site.dev_append(7);
    site.dev_append(5);
    {
        let s = Store::open(&site.data(), OpenOptions::existing(Some("north".into()))).unwrap();
        s.set_outbox_position(acked).unwrap();
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
    let north = SiteDir::new(
        &tmp.path().join("north"),
        "north",
        a.base_url(),
        &hq.pki.ca,
        "",
    );
    let south = SiteDir::new(
        &tmp.path().join("south"),
        "south",
        b.base_url(),
        &hq.pki.ca,
        "",
    );
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
    let out = hq.hq_cli(&[
        "recall",
        "add",
        "--id",
        "R-9",
        "--gtin",
        "09506000134352",
        "--lot",
        "LOT7",
        "--reason",
        "contamination",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
