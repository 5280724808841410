//! Sync to head office, end to end on the real binary: head office and
//! sites as child processes over real HTTPS (a throwaway CA from rcgen),
//! real sled stores in temp dirs.

mod support;
mod sync_support;

use sync_support::proxy;

use std::process::Command;
use std::time::Duration;

use scantrail::store::{OpenOptions, Store};
use sync_support::*;

/// Both stores closed: every movement of `site` is at head office, once,
/// with the same hashes, and both chains verify.
fn assert_same_history(site: &SiteDir, hq: &HqDir) -> u64 {
    let s = Store::open(&site.data(), OpenOptions::existing(Some(site.id.clone()))).unwrap();
    let h = Store::open(&hq.data(), OpenOptions::existing(None)).unwrap();
    let local = s.journal().range(&site.id, 1, usize::MAX).unwrap();
    let remote = h.journal().range(&site.id, 1, usize::MAX).unwrap();
    assert_eq!(
        local.len(),
        remote.len(),
        "movements at the site vs at head office"
    );
    for (a, b) in local.iter().zip(&remote) {
        assert_eq!(a, b, "seq {}", a.seq);
    }
    let lr = s.journal().rejected_range(&site.id, 1, usize::MAX).unwrap();
    let rr = h.journal().rejected_range(&site.id, 1, usize::MAX).unwrap();
    assert_eq!(lr, rr, "rejected scans");
    let report = h.verify().unwrap();
    assert!(report.is_ok(), "head office verify: {:?}", report.problems);
    assert!(s.verify().unwrap().is_ok());
    local.len() as u64
}

#[test]
fn scans_and_a_backlog_reach_head_office_once() {
    let tmp = tempfile::tempdir().unwrap();
    let hq = HqDir::new(&tmp.path().join("hq"), &["north"], "");
    let hq_proc = hq.start();
    let site = SiteDir::north(tmp.path(), &hq, "batch_max = 300");
    // A backlog made while the site daemon was not there to send it.
    site.dev_append(1_000);
    let site_proc = site.start();
    let answer = site.scan("dock-1", "]C1010950600013435210LOT1\u{1d}21SN100");
    assert_eq!(answer["accepted"], true, "{answer}");
    let bad = site.scan("dock-1", "]C1019999999999999");
    assert_eq!(bad["accepted"], false, "{bad}");
    let took = wait_for(Duration::from_secs(30), || {
        hq.last_seq("north") == Some(1_001)
    })
    .expect("head office did not get every movement");
    eprintln!("backlog of 1001 synced in {took:?}");
    let status = wait_for(Duration::from_secs(10), || {
        site.sync_status().is_some_and(|s| {
            s["backlog"] == 0 && s["rejected_backlog"] == 0 && s["link"]["state"] == "online"
        })
    });
    assert!(status.is_some(), "{:?}", site.sync_status());
    let out = site.cli(&["status"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("online") && text.contains("seq 1001"),
        "{text}"
    );
    site_proc.stop();
    hq_proc.stop();
    assert_eq!(assert_same_history(&site, &hq), 1_001);
    // verify at the site checks the acknowledged hash too.
    let out = site.cli(&["verify"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// The status's backlog is the store's at the moment it is asked, not the
/// figure of the last upload round: with rounds a minute apart, scans
/// recorded just after a round show in the backlog at once (the link's own
/// copy still said 0), and the acknowledged seq is head office's.
#[test]
fn the_backlog_is_read_when_asked_not_after_the_last_round() {
    let tmp = tempfile::tempdir().unwrap();
    let hq = HqDir::new(&tmp.path().join("hq"), &["north"], "");
    let _hq_proc = hq.start();
    let site = SiteDir::north(
        tmp.path(),
        &hq,
        "interval_ms = 60000\nreference_poll_ms = 60000",
    );
    site.dev_append(5);
    let _site_proc = site.start();
    // The first round at start sends the five and leaves the link idle
    // for a minute.
    wait_for(Duration::from_secs(20), || {
        site.sync_status()
            .is_some_and(|s| s["link"]["state"] == "online" && s["acked_seq"] == 5)
    })
    .unwrap_or_else(|| panic!("no first round: {:?}", site.sync_status()));
    for serial in 0..3 {
        let answer = site.scan(
            "dock-1",
            &format!("]C1010950600013435210LOT1\u{1d}21FRESH{serial}"),
        );
        assert_eq!(answer["accepted"], true, "{answer}");
    }
    let status = site.sync_status().unwrap();
    assert_eq!(status["backlog"], 3, "{status}");
    assert_eq!(status["acked_seq"], 5, "{status}");
    assert_eq!(hq.last_seq("north"), Some(5), "no round ran in between");
    let out = site.cli(&["status"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("backlog:     3 movements"), "{text}");
}

#[test]
fn a_site_refuses_a_head_office_it_does_not_trust() {
    let tmp = tempfile::tempdir().unwrap();
    let hq = HqDir::new(&tmp.path().join("hq"), &["north"], "");
    let _hq_proc = hq.start();
    let other = Pki::new(&tmp.path().join("other-ca"));
    let site = SiteDir::new(&tmp.path().join("north"), "north", &hq.url(), &other.ca, "");
    site.dev_append(10);
    let _site_proc = site.start();
    let offline = wait_for(Duration::from_secs(15), || {
        site.sync_status()
            .is_some_and(|s| s["link"]["state"] == "offline")
    });
    let status = site.sync_status();
    assert!(offline.is_some(), "{status:?}");
    let error = status.unwrap()["link"]["error"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    assert!(
        error.contains("certificate") || error.contains("Certificate"),
        "{error}"
    );
    assert_eq!(hq.last_seq("north"), Some(0));
}

#[test]
fn a_wrong_credential_is_named_and_another_sites_origin_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let hq = HqDir::new(&tmp.path().join("hq"), &["north", "south"], "");
    let _hq_proc = hq.start();
    // A site with a token head office does not know.
    let site = SiteDir::new(&tmp.path().join("west"), "west", &hq.url(), &hq.pki.ca, "");
    site.dev_append(5);
    let _site_proc = site.start();
    let refused = wait_for(Duration::from_secs(15), || {
        site.sync_status()
            .is_some_and(|s| s["link"]["state"] == "credential_refused")
    });
    assert!(refused.is_some(), "{:?}", site.sync_status());
}

/// Head office's errors, its own and the framework's, are RFC 7807
/// problems with the members the sync link reads; and connections that
/// never even start their TLS handshake, more than twice its connection limit,
/// do not keep a site out for longer than the header-read timeout.
#[test]
fn head_office_errors_are_problems_and_idle_connections_do_not_block_sites() {
    let tmp = tempfile::tempdir().unwrap();
    let hq = HqDir::new(
        tmp.path(),
        &["north"],
        "[http]\nheader_read_timeout_ms = 1000\nmax_connections = 5\n",
    );
    let hq_proc = hq.start();
    let agent = scantrail::sync::tls::agent(Some(&hq.pki.ca), Duration::from_secs(20)).unwrap();
    let call = |method: &str, path: &str, token: Option<&str>| {
        let mut request = agent.request(method, &format!("{}{path}", hq.url()));
        if let Some(t) = token {
            request = request.set("Authorization", &format!("Bearer {t}"));
        }
        let response = match request.call() {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: {e}"),
        };
        let status = response.status();
        let content_type = response.content_type().to_owned();
        let body: serde_json::Value =
            serde_json::from_str(&response.into_string().unwrap()).unwrap_or_default();
        (status, content_type, body)
    };
    let site = site_token("north");
    for (method, path, token, status, code) in [
        ("GET", "/api/v1/limits", None, 401, "unauthorized"),
        (
            "GET",
            "/api/v1/sites",
            Some(site.as_str()),
            403,
            "forbidden",
        ),
        (
            "GET",
            "/api/v1/nothing-here",
            Some(HQ_ADMIN),
            404,
            "not_found",
        ),
        (
            "GET",
            "/api/v1/reference/nothing",
            Some(HQ_ADMIN),
            404,
            "not_found",
        ),
        (
            "GET",
            "/api/v1/reference/holds?since=abc",
            Some(site.as_str()),
            400,
            "bad_request",
        ),
        (
            "DELETE",
            "/api/v1/limits",
            Some(HQ_ADMIN),
            405,
            "method_not_allowed",
        ),
    ] {
        let (got, content_type, body) = call(method, path, token);
        assert_eq!(got, status, "{method} {path}: {body}");
        assert_eq!(content_type, "application/problem+json", "{method} {path}");
        assert_eq!(body["code"], code, "{method} {path}: {body}");
        assert_eq!(body["status"], status, "{method} {path}: {body}");
        assert_eq!(body["type"], "about:blank");
        assert!(
            body["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{body}"
        );
        assert_eq!(body["error"], body["detail"], "{body}");
        // What the site's link reads from a refusal.
        let problem: scantrail::sync::protocol::Problem = serde_json::from_value(body).unwrap();
        assert_eq!(problem.code, code);
    }

    let address = hq_proc.address().to_owned();
    let idle: Vec<std::net::TcpStream> = (0..12)
        .map(|_| std::net::TcpStream::connect(&address).unwrap())
        .collect();
    // A new agent: the first one's kept-alive connection would not queue.
    let start = std::time::Instant::now();
    let fresh = scantrail::sync::tls::agent(Some(&hq.pki.ca), Duration::from_secs(20)).unwrap();
    let limits = fresh
        .get(&format!("{}/api/v1/limits", hq.url()))
        .set("Authorization", &format!("Bearer {site}"))
        .call();
    let took = start.elapsed();
    assert_eq!(limits.map(|r| r.status()).ok(), Some(200));
    assert!(
        took < Duration::from_secs(8),
        "a site waited {took:?} behind 12 idle connections (limit 5, header-read timeout 1 s)"
    );
    drop(idle);
}

/// The story of the issue: a lot in stock at a site, a pick of it accepted;
/// head office recalls the lot; the next pick of it at that site is refused
/// within 10 seconds, naming the recall.
#[test]
fn a_recall_at_head_office_stops_the_next_pick_at_the_site() {
    let tmp = tempfile::tempdir().unwrap();
    let hq = HqDir::new(&tmp.path().join("hq"), &["north", "south"], "");
    let _hq_proc = hq.start();
    let north = SiteDir::north(tmp.path(), &hq, "");
    let south = SiteDir::new(
        &tmp.path().join("south"),
        "south",
        &hq.url(),
        &hq.pki.ca,
        "",
    );
    let _n = north.start();
    let _s = south.start();
    for serial in ["SN100", "SN101", "SN102"] {
        let a = north.scan(
            "dock-1",
            &format!("]C1010950600013435210LOT7\u{1d}21{serial}"),
        );
        assert_eq!(a["accepted"], true, "{a}");
    }
    let a = south.scan("dock-1", "]C1010950600013435210LOT9\u{1d}21SN900");
    assert_eq!(a["accepted"], true, "{a}");
    let order = north.scan("dispatch-1", "]C1400O-1");
    assert!(order.get("accepted").is_some(), "{order}");
    let pick = north.scan("dispatch-1", "]C1010950600013435210LOT7\u{1d}21SN100");
    assert_eq!(pick["accepted"], true, "{pick}");

    let out = hq.hq_cli(&[
        "recall",
        "add",
        "--id",
        "R-7",
        "--gtin",
        "09506000134352",
        "--lot",
        "LOT7",
        "--reason",
        "supplier reports contamination",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let started = std::time::Instant::now();
    // The site pulls head office's holds every second here (~2 s by
    // default): wait until the site lists the recall, then pick.
    let arrived = wait_for(Duration::from_secs(10), || {
        ureq::get(&format!("{}/api/v1/holds", north.url()))
            .set("Authorization", &format!("Bearer {SITE_ADMIN}"))
            .call()
            .ok()
            .and_then(|r| r.into_string().ok())
            .is_some_and(|t| t.contains("R-7"))
    });
    assert!(arrived.is_some(), "the recall did not reach the site");
    let pick = north.scan("dispatch-1", "]C1010950600013435210LOT7\u{1d}21SN101");
    assert!(started.elapsed() < Duration::from_secs(10));
    let refused = (pick["accepted"] == false).then_some(pick.clone());
    let refused = refused.unwrap_or_else(|| panic!("the pick was not refused: {pick}"));
    eprintln!("recall effective at the site after {:?}", started.elapsed());
    assert_eq!(refused["code"], "on_hold", "{refused}");
    let reason = refused["reason"].as_str().unwrap();
    assert!(
        reason.contains("recall R-7") && reason.contains("contamination"),
        "{reason}"
    );
    // Scans at both sites are at head office.
    assert!(
        wait_for(Duration::from_secs(15), || {
            hq.last_seq("north").is_some_and(|s| s >= 4) && hq.last_seq("south") == Some(1)
        })
        .is_some(),
        "{:?}",
        hq.sites()
    );
    let out = hq.hq_cli(&["status"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("north") && text.contains("south"), "{text}");
    // Head office's reports see both sites' movements: SN101 received at
    // north, SN900 at south, and the recall's dispatch of SN100 to O-1.
    let stock = hq.report("stock?gtin=09506000134352").to_string();
    for serial in ["SN101", "SN102", "SN900"] {
        assert!(stock.contains(serial), "{serial} missing: {stock}");
    }
    assert!(!stock.contains("SN100"), "SN100 was dispatched: {stock}");
    let south_serial = hq
        .report("movements?gtin=09506000134352&serial=SN900")
        .to_string();
    assert!(south_serial.contains("\"south:1\""), "{south_serial}");
    let recall = hq.report("recall?gtin=09506000134352&lot=LOT7").to_string();
    assert!(recall.contains("O-1"), "{recall}");
    // `scantrail report` with head office's configuration asks head office
    // (its store is the running daemon's), with the same answer.
    let out = support::daemon::succeeded(
        Command::new(support::daemon::binary())
            .args([
                "report",
                "recall",
                "--gtin",
                "09506000134352",
                "--lot",
                "LOT7",
            ])
            .args(["--format", "json", "--config"])
            .arg(&hq.config),
    );
    let cli: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        cli,
        hq.report("recall?gtin=09506000134352&lot=LOT7"),
        "the command line's report is head office's"
    );
}

/// xorshift with a printed seed, so a failing run can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

struct ChaosPlan {
    seconds: u64,
    per_mille: u32,
    batch_max: usize,
    /// Movements appended per site kill (dev-append while the daemon is down).
    append_per_kill: u64,
    initial_backlog: u64,
    /// Head office down this long while scans go on.
    outage_seconds: u64,
    /// Faults (per mille) while the sites catch up at the end.
    heal_per_mille: u32,
    catch_up_seconds: u64,
}

struct ChaosReport {
    faults: u64,
    kills: u64,
    movements: u64,
    lost: u64,
    duplicated: u64,
    detail: String,
}

fn chaos(plan: ChaosPlan) -> ChaosReport {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("chaos seed {seed}");
    let mut rng = Rng(seed);
    let tmp = tempfile::tempdir().unwrap();
    let ids = ["north", "south"];
    let hq = HqDir::new(&tmp.path().join("hq"), &ids, "requests_per_second = 1000");
    let mut hq_proc = Some(hq.start());
    let hq_port = hq_proc.as_ref().map(Daemon::port).unwrap_or_default();
    let proxy = proxy::Proxy::start(&hq.pki, hq_port, plan.per_mille, seed);
    let extra = format!("batch_max = {}", plan.batch_max);
    let sites: Vec<SiteDir> = ids
        .iter()
        .map(|id| SiteDir::new(&tmp.path().join(id), id, &proxy.url(), &hq.pki.ca, &extra))
        .collect();
    for s in &sites {
        s.dev_append(plan.initial_backlog);
    }
    let mut procs: Vec<Option<Daemon>> = sites.iter().map(|s| Some(s.start())).collect();
    let mut accepted: Vec<(usize, u64, String)> = Vec::new();
    let mut serial = 0u64;
    let mut kills = 0u64;
    let scan = |site: &SiteDir, serial: u64| -> Option<(u64, String)> {
        let r = ureq::post(&format!("{}/api/v1/scans", site.url()))
            .set("Authorization", &format!("Bearer {HANDHELD}"))
            .send_json(serde_json::json!({
                "station": "dock-1",
                "data": format!("]C1010950600013435210LOTC\u{1d}21CH{serial}"),
            }))
            .ok()?
            .into_json::<serde_json::Value>()
            .ok()?;
        let m = &r["movement"];
        Some((m["seq"].as_u64()?, m["hash"].as_str()?.to_owned()))
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(plan.seconds);
    while std::time::Instant::now() < deadline {
        let i = rng.below(sites.len() as u64) as usize;
        match rng.below(10) {
            0..=1 => {
                // SIGKILL the site daemon at a random moment, scan on (a
                // fast backlog) while it is down, start it again.
                std::thread::sleep(Duration::from_millis(rng.below(400)));
                if let Some(p) = procs[i].take() {
                    p.kill();
                    kills += 1;
                }
                sites[i].dev_append(1 + rng.below(plan.append_per_kill));
                procs[i] = Some(sites[i].start());
            }
            2 => {
                std::thread::sleep(Duration::from_millis(rng.below(400)));
                if let Some(p) = hq_proc.take() {
                    p.kill();
                    kills += 1;
                }
                std::thread::sleep(Duration::from_millis(rng.below(1_000)));
                let restarted = hq.start();
                proxy.set_upstream(restarted.port());
                hq_proc = Some(restarted);
            }
            _ => {
                for _ in 0..10 {
                    serial += 1;
                    if let Some((seq, hash)) = scan(&sites[i], serial) {
                        accepted.push((i, seq, hash));
                    }
                }
            }
        }
    }
    // Head office down for a long time while scans go on.
    if let Some(p) = hq_proc.take() {
        p.kill();
        kills += 1;
    }
    let outage = std::time::Instant::now() + Duration::from_secs(plan.outage_seconds);
    while std::time::Instant::now() < outage {
        for (i, s) in sites.iter().enumerate() {
            serial += 1;
            if let Some((seq, hash)) = scan(s, serial) {
                accepted.push((i, seq, hash));
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    for s in &sites {
        let st = s.sync_status().unwrap();
        assert_eq!(st["link"]["state"], "offline", "{st}");
        assert!(st["backlog"].as_u64().unwrap() > 0, "{st}");
    }
    // Heal: no more faults, head office back; every site catches up.
    proxy.set_faults(plan.heal_per_mille);
    let hq_final = hq.start();
    proxy.set_upstream(hq_final.port());
    for s in &sites {
        let done = wait_for(Duration::from_secs(plan.catch_up_seconds), || {
            s.sync_status().is_some_and(|st| {
                st["backlog"] == 0 && st["rejected_backlog"] == 0 && st["link"]["state"] == "online"
            })
        });
        assert!(
            done.is_some(),
            "{} did not catch up: {:?}",
            s.id,
            s.sync_status()
        );
    }
    for p in procs.iter_mut() {
        if let Some(p) = p.take() {
            p.stop();
        }
    }
    hq_final.stop();
    // The set check.
    let h = Store::open(&hq.data(), OpenOptions::existing(None)).unwrap();
    let (mut movements, mut lost, mut duplicated) = (0, 0, 0);
    for s in &sites {
        let local = {
            let st = Store::open(&s.data(), OpenOptions::existing(Some(s.id.clone()))).unwrap();
            assert!(st.verify().unwrap().is_ok());
            st.journal().range(&s.id, 1, usize::MAX).unwrap()
        };
        let remote = h.journal().range(&s.id, 1, usize::MAX).unwrap();
        movements += local.len() as u64;
        let held: std::collections::HashMap<u64, _> =
            remote.iter().map(|m| (m.seq, m.hash)).collect();
        lost += local
            .iter()
            .filter(|m| held.get(&m.seq) != Some(&m.hash))
            .count() as u64;
        // A movement counted twice would show as one scan (its serial) at
        // two seqs.
        let mut serials = std::collections::HashSet::new();
        duplicated += remote
            .iter()
            .filter(|m| !serials.insert(m.body.serial.clone()))
            .count() as u64;
        duplicated += remote.len().saturating_sub(local.len()) as u64;
    }
    for (i, seq, hash) in &accepted {
        let m = h.journal().movement(&sites[*i].id, *seq).unwrap();
        assert_eq!(
            m.map(|m| m.hash.hex()),
            Some(hash.clone()),
            "an acknowledged scan is missing at head office"
        );
    }
    let report = h.verify().unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
    ChaosReport {
        faults: proxy.counters.faults() + kills,
        kills,
        movements,
        lost,
        duplicated,
        detail: proxy.counters.summary(),
    }
}

#[test]
fn faults_kills_and_an_outage_lose_and_duplicate_nothing() {
    let r = chaos(ChaosPlan {
        seconds: 12,
        per_mille: 250,
        batch_max: 40,
        append_per_kill: 400,
        initial_backlog: 500,
        outage_seconds: 3,
        heal_per_mille: 0,
        catch_up_seconds: 120,
    });
    eprintln!(
        "faults injected {} (kills {}; {}), movements {}, lost {}, duplicated {}",
        r.faults, r.kills, r.detail, r.movements, r.lost, r.duplicated
    );
    assert!(
        r.faults > 10,
        "too few faults to mean anything: {}",
        r.detail
    );
    assert_eq!((r.lost, r.duplicated), (0, 0));
}

/// The long run for BENCHMARKS.md: `cargo test --release --test sync -- --ignored --nocapture`.
#[test]
#[ignore]
fn long_fault_run() {
    let r = chaos(ChaosPlan {
        seconds: 90,
        per_mille: 300,
        batch_max: 50,
        append_per_kill: 1_500,
        initial_backlog: 30_000,
        outage_seconds: 30,
        // Faults go on while the sites catch up (most requests are then).
        heal_per_mille: 200,
        catch_up_seconds: 900,
    });
    eprintln!(
        "LONG RUN: faults injected {} (kills {}; {}), movements {}, lost {}, duplicated {}",
        r.faults, r.kills, r.detail, r.movements, r.lost, r.duplicated
    );
    assert!(r.movements >= 100_000, "only {} movements", r.movements);
    assert!(r.faults >= 1_000, "only {} faults", r.faults);
    assert_eq!((r.lost, r.duplicated), (0, 0));
}

/// Head office restored from an old (here: empty) copy: the site's next
/// batch starts beyond what head office holds, gets 409 with the expected
/// seq, rewinds and resends everything. The restarted head office gets a
/// new port; the site reaches it through the proxy (no faults).
#[test]
fn a_gap_at_head_office_makes_the_site_rewind() {
    let tmp = tempfile::tempdir().unwrap();
    let hq = HqDir::new(&tmp.path().join("hq"), &["north"], "");
    let hq_proc = hq.start();
    let proxy = proxy::Proxy::start(&hq.pki, hq_proc.port(), 0, 1);
    let site = SiteDir::new(
        &tmp.path().join("north"),
        "north",
        &proxy.url(),
        &hq.pki.ca,
        "",
    );
    site.dev_append(100);
    let site_proc = site.start();
    assert!(wait_for(Duration::from_secs(20), || hq.last_seq("north")
        == Some(100))
    .is_some());
    hq_proc.stop();
    std::fs::remove_dir_all(hq.data()).unwrap();
    let hq_proc = hq.start();
    proxy.set_upstream(hq_proc.port());
    let a = site.scan("dock-1", "]C1010950600013435210LOT1\u{1d}21GAP1");
    assert_eq!(a["accepted"], true);
    assert!(
        wait_for(Duration::from_secs(20), || hq.last_seq("north")
            == Some(101))
        .is_some(),
        "{:?}",
        hq.sites()
    );
    site_proc.stop();
    let log = std::fs::read_to_string(site.dir.join("site.log")).unwrap();
    assert!(log.contains("rewinding"), "{log}");
}

/// History rewritten at the site after head office acknowledged it: `verify`
/// catches it against the acknowledged hash, head office refuses the next
/// batch (422), both sides alert, and the site stops sending until an
/// operator acts.
#[test]
fn rewritten_history_is_caught_and_halts_sync() {
    let tmp = tempfile::tempdir().unwrap();
    let hq = HqDir::new(&tmp.path().join("hq"), &["north"], "");
    let _hq_proc = hq.start();
    let site = SiteDir::north(tmp.path(), &hq, "");
    site.dev_append(10);
    let site_proc = site.start();
    assert!(wait_for(Duration::from_secs(20), || hq.last_seq("north") == Some(10)).is_some());
    site_proc.stop();
    site.rewrite_history();
    let out = site.cli(&["verify"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("history was rewritten after sync"), "{text}");

    let _site_proc = site.start();
    let halted = wait_for(Duration::from_secs(15), || {
        site.sync_status()
            .is_some_and(|s| s["link"]["state"] == "halted")
    });
    assert!(halted.is_some(), "{:?}", site.sync_status());
    let sites = hq.sites().unwrap();
    let alerts = sites[0]["alerts"].to_string();
    assert!(
        alerts.contains("broken_link") || alerts.contains("conflict"),
        "{alerts}"
    );
    assert_eq!(hq.last_seq("north"), Some(10));
    let out = site.cli(&["status"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("HALTED"));
    // The halt holds across a restart until `scantrail sync resume`.
    let out = site.cli(&["sync", "resume"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A pick made before the site had applied a recall head office had already
/// issued is recorded (a scan is a fact) and flagged at head office.
#[test]
fn a_pick_against_a_stale_recall_list_is_flagged() {
    let tmp = tempfile::tempdir().unwrap();
    let hq = HqDir::new(&tmp.path().join("hq"), &["north"], "");
    let _hq_proc = hq.start();
    let site = SiteDir::north(tmp.path(), &hq, "reference_poll_ms = 600000");
    let _site_proc = site.start();
    assert!(wait_for(Duration::from_secs(10), || {
        site.sync_status()
            .is_some_and(|s| s["link"]["state"] == "online")
    })
    .is_some());
    let a = site.scan("dock-1", "]C1010950600013435210LOT5\u{1d}21SN500");
    assert_eq!(a["accepted"], true, "{a}");
    let out = hq.hq_cli(&[
        "recall",
        "add",
        "--id",
        "R-5",
        "--gtin",
        "09506000134352",
        "--lot",
        "LOT5",
        "--reason",
        "label error",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    site.scan("dispatch-1", "]C1400O-5");
    let pick = site.scan("dispatch-1", "]C1010950600013435210LOT5\u{1d}21SN500");
    assert_eq!(
        pick["accepted"], true,
        "the site has not pulled the recall yet: {pick}"
    );
    let flagged = wait_for(Duration::from_secs(15), || {
        hq.sites()
            .is_some_and(|s| s[0]["alerts"].to_string().contains("stale_recall"))
    });
    assert!(flagged.is_some(), "{:?}", hq.sites());
}

/// Head office's roles: a site's credential syncs and reads reference data
/// only; a supervisor issues recalls and publishes, recorded under its own
/// name whatever the request says; a supervisor does not upload batches;
/// the older `[hq] admin_token` still works as `admin`, with a warning.
#[test]
fn head_office_gives_each_role_its_routes_and_records_the_token_as_author() {
    let tmp = tempfile::tempdir().unwrap();
    let hq = HqDir::new(&tmp.path().join("hq"), &["north"], "");
    let _hq_proc = hq.start();
    let agent = scantrail::sync::tls::agent(Some(&hq.pki.ca), Duration::from_secs(5)).unwrap();
    let call = |token: &str, method: &str, path: &str, body: Option<serde_json::Value>| {
        let request = agent
            .request(method, &format!("{}{path}", hq.url()))
            .set("Authorization", &format!("Bearer {token}"));
        let response = match body {
            Some(b) => request.send_json(b),
            None => request.call(),
        };
        match response {
            Ok(r) | Err(ureq::Error::Status(_, r)) => {
                let status = r.status();
                (
                    status,
                    r.into_json::<serde_json::Value>().unwrap_or_default(),
                )
            }
            Err(e) => panic!("{method} {path}: {e}"),
        }
    };
    let hold = serde_json::json!({"id": "R-1", "kind": "recall", "gtin": "09506000134352", "lots": ["LOT7"], "reason": "contamination"});
    let site = site_token("north");

    // A site's credential: reference data yes, recalls and status no.
    let (status, _) = call(&site, "GET", "/api/v1/reference/holds?since=0", None);
    assert_eq!(status, 200);
    for (method, path, body) in [
        ("POST", "/api/v1/holds", Some(hold.clone())),
        ("GET", "/api/v1/holds", None),
        ("GET", "/api/v1/sites", None),
    ] {
        let (status, body) = call(&site, method, path, body);
        assert_eq!(status, 403, "site {method} {path}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains("site north"),
            "{body}"
        );
    }

    // A supervisor: the author is its token's name, never `by`.
    let mut with_by = hold.clone();
    with_by["by"] = serde_json::json!("qa-manager");
    let (status, body) = call(HQ_SUPERVISOR, "POST", "/api/v1/holds", Some(with_by));
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("`quality`"),
        "{body}"
    );
    let (status, body) = call(HQ_SUPERVISOR, "POST", "/api/v1/holds", Some(hold));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["created"]["by"], "quality", "{body}");
    let (status, body) = call(
        HQ_SUPERVISOR,
        "POST",
        "/api/v1/holds/R-1/release",
        Some(serde_json::json!({"why": "false alarm", "by": "x"})),
    );
    assert_eq!(status, 400, "{body}");
    let (status, body) = call(
        HQ_SUPERVISOR,
        "POST",
        "/api/v1/holds/R-1/release",
        Some(serde_json::json!({"why": "false alarm"})),
    );
    assert_eq!(
        (status, &body["released"]["by"]),
        (200, &serde_json::json!("quality")),
        "{body}"
    );
    let (status, _) = call(HQ_SUPERVISOR, "GET", "/api/v1/sites", None);
    assert_eq!(status, 200);
    // Uploading is a site's alone.
    let (status, body) = call(HQ_SUPERVISOR, "POST", "/api/v1/batches", None);
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("only a site uploads"),
        "{body}"
    );

    // The admin of the older form, and the CLI with a supervisor's token.
    let (status, _) = call(HQ_ADMIN, "GET", "/api/v1/holds", None);
    assert_eq!(status, 200);
    let out = hq.hq_cli(&[
        "recall",
        "add",
        "--id",
        "R-2",
        "--gtin",
        "09506000134352",
        "--lot",
        "LOT8",
        "--reason",
        "label",
        "--token",
        HQ_SUPERVISOR,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, holds) = call(HQ_ADMIN, "GET", "/api/v1/holds", None);
    let r2 = holds
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == "R-2")
        .unwrap();
    assert_eq!(r2["created"]["by"], "quality", "{r2}");
    let out = hq.hq_cli(&["recall", "release", "R-2", "--why", "x", "--by", "ann"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--by cannot name the author"));

    // Unknown token: 401.
    let (status, body) = call("not-a-known-token", "GET", "/api/v1/holds", None);
    assert_eq!(status, 401, "{body}");
    let log = std::fs::read_to_string(hq.dir.join("hq.log")).unwrap();
    assert_eq!(
        log.lines()
            .filter(|l| l.contains("older token form"))
            .count(),
        1,
        "{log}"
    );
}

/// Head office for `sites`, started, allowing each `per_second` requests.
fn rate_limited_hq(tmp: &std::path::Path, sites: &[&str], per_second: u32) -> (HqDir, Daemon) {
    let hq = HqDir::new(
        &tmp.join("hq"),
        sites,
        &format!("requests_per_second = {per_second}"),
    );
    let daemon = hq.start();
    (hq, daemon)
}

/// Head office limits each site to `requests_per_second` with bursts of
/// twice that: past the burst a site gets 429 `rate_limited` with a
/// `Retry-After` in whole seconds, while another site and head office's
/// own users go on; once the bucket refills the site is served again.
#[test]
fn a_site_past_its_request_rate_is_told_to_wait_and_others_are_not() {
    let tmp = tempfile::tempdir().unwrap();
    let (hq, _hq_proc) = rate_limited_hq(tmp.path(), &["north", "south"], 2);
    let agent = scantrail::sync::tls::agent(Some(&hq.pki.ca), Duration::from_secs(5)).unwrap();
    let limits = |token: &str| -> (u16, Option<String>, String) {
        let answer = agent
            .get(&format!("{}/api/v1/limits", hq.url()))
            .set("Authorization", &format!("Bearer {token}"))
            .call();
        let response = match answer {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("head office did not answer: {e}"),
        };
        let status = response.status();
        let retry_after = response.header("Retry-After").map(str::to_owned);
        (status, retry_after, response.into_string().unwrap())
    };
    let north = site_token("north");
    for i in 0..4 {
        assert_eq!(limits(&north).0, 200, "request {i} of the burst");
    }
    let (status, retry_after, body) = limits(&north);
    assert_eq!(status, 429, "{body}");
    assert_eq!(retry_after.as_deref(), Some("1"));
    assert!(
        body.contains("rate_limited") && body.contains("north"),
        "{body}"
    );
    assert_eq!(limits(&site_token("south")).0, 200);
    assert_eq!(limits(HQ_ADMIN).0, 200);
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(limits(&north).0, 200);
}

/// `hq status` shows a site's backlog apart from its last contact, and lag
/// only while it is behind (embedded head office).
#[test]
fn a_quiet_site_has_no_lag_and_a_site_behind_shows_its_backlog() {
    let tmp = tempfile::tempdir().unwrap();
    let (hq, _hq_proc) = rate_limited_hq(tmp.path(), &["north"], 4);
    backlog_apart_from_quiet(tmp.path(), &hq);
}

/// At one request a second (a burst of two), a site still gets through:
/// a reference poll refused part-way goes on from the kind it stopped at
/// instead of starting over (which never got past the third request).
#[test]
fn a_site_under_a_tight_rate_limit_still_gets_its_movements_through() {
    let tmp = tempfile::tempdir().unwrap();
    let (hq, _hq_proc) = rate_limited_hq(tmp.path(), &["north"], 1);
    // A poll every 5 s: at 1 request/s a poll of the three kinds each second
    // would leave no room for batches however it is done.
    let site = SiteDir::north(tmp.path(), &hq, "reference_poll_ms = 5000");
    site.dev_append(100);
    let _site_proc = site.start();
    let took = wait_for(Duration::from_secs(40), || {
        hq.last_seq("north") == Some(100)
    });
    assert!(
        took.is_some(),
        "head office holds {:?}; the site: {:?}\n{}",
        hq.last_seq("north"),
        site.sync_status(),
        std::fs::read_to_string(tmp.path().join("north/site.log")).unwrap_or_default()
    );
}
