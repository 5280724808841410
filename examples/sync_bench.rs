//! Sync benchmarks on loopback (issue 7), against the real release binary:
//!
//! - `ingest --sites N --per-site M`: N concurrent sites (one batch in
//!   flight each, as the uploader does) post pre-built hash chains to
//!   `scantrail hq` over HTTPS; head office ingest movements/s. Also the
//!   store's own rate for the same movements through `Ingest::many`
//!   with no HTTP (`--direct`).
//! - `catchup --movements M`: a site store with a backlog of M movements
//!   (`scantrail-dev dev-append`), opened and checked once by a daemon
//!   started while head office is unreachable, then `scantrail run` with
//!   `[sync]`: time until head office holds the last one.
//!
//! - `reports --data SITE_STORE [--runs R] [--batch B]`: head office's
//!   reports at scale. Every movement of a `scantrail-dev gen-data` site
//!   store goes through head office's ingest (`hq::storage::Storage::
//!   ingest`, what `POST /api/v1/batches` calls, in batches of B), the
//!   synthetic product master is published, then each report is timed
//!   through `Storage::report` (what `GET /api/v1/reports/{kind}` calls:
//!   the query, the report's code and its JSON, without TLS and HTTP):
//!   median of R warm calls after one warm-up.
//!
//! - `fleet --sites N --per-site M [--embedded-sites E]`: a company's
//!   head office at scale, filled through ingest: N sites upload at once
//!   over HTTPS to the real `scantrail hq`, each site's movements made on
//!   the fly by `gen::Generator::for_site` (the gen-data site's mix,
//!   corrections included; the landmarks at the first site only), then
//!   the same reports as `reports` are timed on what head office holds.
//!   With `--postgres`, the embedded head office runs the first E sites
//!   (default N) in the same run: at 10 million a sled store is larger
//!   than this machine's memory allows (see "Reports (issue 6)").
//!   `--database URL` skips the upload and times the reports on a
//!   database a `--keep` run left (for EXPLAIN and index work); with
//!   `--embedded-sites E` the embedded head office is filled and timed
//!   again in the same run.
//!
//! - `--postgres ADMIN_URL` (all four): the same run twice, side by side:
//!   head office on its embedded store, then on PostgreSQL (a fresh
//!   database made through `ADMIN_URL`, e.g.
//!   postgres://postgres@127.0.0.1/test, dropped after unless `--keep`).
//!
//! `cargo run --release --example sync_bench -- ingest --sites 50 --per-site 4000`

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use scantrail::dev::gen;
use scantrail::dev::synthetic::synthetic_movement;
use scantrail::hq::ingester::Ingester;
use scantrail::hq::postgres::Db;
use scantrail::hq::publish::Published;
use scantrail::hq::sites::Sites;
use scantrail::hq::storage::Storage;
use scantrail::model::Reference;
use scantrail::model::{Entries, Hash, Movement, NewMovement};
use scantrail::station::catalog::{self, Author};
use scantrail::store::chain;
use scantrail::store::ingest::Incoming;
use scantrail::store::{OpenOptions, Store};
use scantrail::sync::protocol::{Ack, Batch, ReferenceVersions, PROTOCOL_VERSION};

/// The allocator of `scantrail hq` (src/main.rs), whose reports and
/// ingest this times in-process.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// `scantrail`, or with `name` another binary of the package, beside the
/// examples folder: target/release/examples/sync_bench -> target/release/NAME.
/// Build them first: `cargo build --release --bins`.
fn bin_named(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().join(name)
}

fn bin() -> PathBuf {
    bin_named("scantrail")
}

fn pki(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "bench CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&key, &ca, &ca_key)
        .unwrap();
    let paths = (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    );
    std::fs::write(&paths.0, ca.pem()).unwrap();
    std::fs::write(&paths.1, cert.pem()).unwrap();
    std::fs::write(&paths.2, key.serialize_pem()).unwrap();
    paths
}

fn token(site: &str) -> String {
    format!("{site}-bench-token")
}

fn start_hq(dir: &Path, sites: &[String], database: Option<&str>) -> (Child, String, PathBuf) {
    let (ca, _, _) = pki(dir);
    let mut text =
        "data_dir = \"hq-data\"\n[hq]\nlisten = \"127.0.0.1:0\"\ncert = \"cert.pem\"\nkey = \"key.pem\"\nrequests_per_second = 100000\n".to_owned();
    if let Some(url) = database {
        text.push_str(&format!("database = \"{url}\"\n"));
    }
    for s in sites {
        text.push_str(&format!(
            "[[sites]]\nid = \"{s}\"\ntoken_sha256 = \"{}\"\n",
            scantrail::hq::config::hash_token(&token(s))
        ));
    }
    std::fs::write(dir.join("hq.toml"), text).unwrap();
    let mut child = Command::new(bin())
        .args(["hq", "--listen", "127.0.0.1:0", "--config"])
        .arg(dir.join("hq.toml"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let url = listening(&mut child);
    (child, url, ca)
}

/// The URL of the `listening on URL` line a server started on port 0 prints
/// first (the port comes from the OS).
fn listening(child: &mut Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    line.strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("not a listening line: {line:?}"))
        .trim()
        .to_owned()
}

/// A chain of `n` movements. `spread`: every movement on another of 1,000
/// lots, 40 locations, 300 counterparties (index inserts all over the key
/// space); otherwise the distribution `scantrail-dev dev-append` makes (one lot
/// and location per writer, serials and days ascending), so the figure
/// compares with the store's own commit rate measured with dev-append.
fn chain_of(site: &str, n: u64, spread: bool, salt: u64) -> Vec<Movement> {
    let mut prev = Hash::GENESIS;
    (1..=n)
        .map(|seq| {
            let body = if spread {
                synthetic_movement(seq * 7 + salt)
            } else {
                synthetic_movement(salt + seq * 1_000_000)
            };
            let hash = chain::movement_hash(site, seq, &prev, &body);
            let m = Movement {
                origin: site.to_owned(),
                seq,
                prev_hash: prev,
                body,
                hash,
            };
            prev = hash;
            m
        })
        .collect()
}

/// The first column of the first row of `sql` on `url`, as text.
fn sql_value(url: &str, sql: &str) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {url}: {e}"));
        tokio::spawn(connection);
        for m in client.simple_query(sql).await.unwrap() {
            if let tokio_postgres::SimpleQueryMessage::Row(r) = m {
                return r.get(0).unwrap_or_default().to_owned();
            }
        }
        String::new()
    })
}

/// Runs `sql` on `url` (simple protocol).
fn sql(url: &str, sql: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {url}: {e}"));
        tokio::spawn(connection);
        client
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e} {:?}", e.as_db_error().map(|d| d.message())));
    });
}

/// The backends to run: the embedded store, and with `--postgres
/// ADMIN_URL` also a fresh database: (name, database URL), and the
/// database to drop after.
fn backends(args: &[String]) -> Vec<(&'static str, Option<String>)> {
    let mut out = vec![("embedded", None)];
    if let Some(admin) = args
        .iter()
        .position(|a| a == "--postgres")
        .and_then(|i| args.get(i + 1))
    {
        let name = format!("scantrail_bench_{}", std::process::id());
        // Two statements: CREATE DATABASE cannot run in the implicit
        // transaction of a multi-statement query.
        sql(admin, &format!("DROP DATABASE IF EXISTS {name}"));
        sql(admin, &format!("CREATE DATABASE {name}"));
        let (base, _) = admin
            .rsplit_once('/')
            .expect("the admin URL names a database");
        out.push(("postgres", Some(format!("{base}/{name}"))));
    }
    out
}

/// Drops the bench's database (see `backends`), unless `--keep`.
fn drop_database(args: &[String], url: &str) {
    if args.iter().any(|a| a == "--keep") {
        println!("kept {url}");
        return;
    }
    if let Some(admin) = args
        .iter()
        .position(|a| a == "--postgres")
        .and_then(|i| args.get(i + 1))
    {
        let name = url.rsplit_once('/').map(|(_, n)| n).unwrap_or_default();
        sql(
            admin,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        );
    }
}

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn ingest(args: &[String]) {
    let sites_n = arg(args, "--sites", 1);
    let per_site = arg(args, "--per-site", 100_000);
    let batch = arg(args, "--batch", 2_000) as usize;
    let tmp = tempfile::tempdir().unwrap();
    let sites: Vec<String> = (0..sites_n).map(|i| format!("site{i:03}")).collect();
    let spread = args.iter().any(|a| a == "--spread");
    let chains: Vec<Vec<Movement>> = sites
        .iter()
        .enumerate()
        .map(|(i, s)| chain_of(s, per_site, spread, i as u64 * 13))
        .collect();
    let total = sites_n * per_site;

    if args.iter().any(|a| a == "--direct") {
        let store =
            Store::open(&tmp.path().join("direct"), OpenOptions::create("hq".into())).unwrap();
        let started = Instant::now();
        // Round-robin, one batch per site per write, as the ingester groups.
        let mut offsets = vec![0usize; chains.len()];
        loop {
            let mut group = Vec::new();
            for (i, c) in chains.iter().enumerate() {
                if offsets[i] < c.len() {
                    let end = (offsets[i] + batch).min(c.len());
                    group.push(Incoming {
                        origin: sites[i].clone(),
                        entries: Entries::Movements(c[offsets[i]..end].to_vec()),
                        received_at: chrono::Utc::now(),
                    });
                    offsets[i] = end;
                }
                if group.len() >= 64 {
                    break;
                }
            }
            if group.is_empty() {
                break;
            }
            for r in store.ingest().many(group).unwrap() {
                r.unwrap();
            }
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "direct Ingest::many: {total} movements from {sites_n} sites in {secs:.2} s = {:.0} movements/s",
            total as f64 / secs
        );
        let (apply, flush, fsync) = store.timing().seconds();
        println!("  of which sled apply {apply:.2} s, sled flush {flush:.2} s, fsync {fsync:.2} s");
        return;
    }

    for (name, database) in backends(args) {
        let dir = tmp.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let (mut hq, url, ca) = start_hq(&dir, &sites, database.as_deref());
        let secs = upload(&chains, &sites, batch, &url, &ca);
        println!(
            "hq ({name}) over HTTPS: {total} movements from {sites_n} sites (batches of {batch}) in {secs:.2} s = {:.0} movements/s",
            total as f64 / secs
        );
        let _ = hq.kill();
        let _ = hq.wait();
        if let Some(url) = database {
            drop_database(args, &url);
        }
    }
}

/// Uploads one batch of `site`'s movements and checks head office's
/// acknowledgement; returns its last seq. A busy head office answers 503
/// (no database connection free within 5 s): back off and resend, as a
/// site does.
fn send(agent: &ureq::Agent, url: &str, site: &str, part: Vec<Movement>) -> u64 {
    let b = Batch {
        protocol: PROTOCOL_VERSION,
        site: site.to_owned(),
        first_seq: part[0].seq,
        last_seq: part[part.len() - 1].seq,
        sent_at: chrono::Utc::now(),
        reference: ReferenceVersions::default(),
        entries: Entries::Movements(part),
    };
    let body = b.encode();
    let ack: Ack = loop {
        match agent
            .post(&format!("{url}/api/v1/batches"))
            .set("Authorization", &format!("Bearer {}", token(site)))
            .send_bytes(&body)
        {
            Ok(r) => break r.into_json().unwrap(),
            Err(ureq::Error::Status(503, _)) => {
                eprintln!("  {site}: 503 at {}, resending in 1 s", b.first_seq);
                std::thread::sleep(Duration::from_secs(1));
            }
            Err(e) => panic!("{site} at {}: {e}", b.first_seq),
        }
    };
    assert_eq!(ack.acked_seq, b.last_seq);
    b.last_seq
}

/// Every site's chain uploaded by its own thread, one batch in flight
/// each: the seconds it took.
fn upload(chains: &[Vec<Movement>], sites: &[String], batch: usize, url: &str, ca: &Path) -> f64 {
    let started = Instant::now();
    let threads: Vec<_> = chains
        .iter()
        .cloned()
        .zip(sites.to_vec())
        .map(|(chain, site)| {
            let url = url.to_owned();
            let ca = ca.to_owned();
            std::thread::spawn(move || {
                let agent =
                    scantrail::sync::tls::agent(Some(&ca), Duration::from_secs(120)).unwrap();
                for part in chain.chunks(batch) {
                    send(&agent, &url, &site, part.to_vec());
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    started.elapsed().as_secs_f64()
}

fn catchup(args: &[String]) {
    for (name, database) in backends(args) {
        let tmp = tempfile::tempdir().unwrap();
        println!("head office on {name}:");
        catchup_on(args, tmp.path(), database.as_deref());
        if let Some(url) = database {
            drop_database(args, &url);
        }
    }
}

fn catchup_on(args: &[String], dir: &Path, database: Option<&str>) {
    let movements = arg(args, "--movements", 1_000_000);
    let site = "backlog-site".to_owned();
    let (mut hq, url, ca) = start_hq(dir, std::slice::from_ref(&site), database);
    let config = dir.join("site.toml");
    let write_config = |url: &str| {
        std::fs::write(
            &config,
            format!(
                "data_dir = \"site-data\"\n[site]\nid = \"{site}\"\n[http]\nlisten = \"127.0.0.1:0\"\n[[tokens]]\nname = \"bench\"\nrole = \"admin\"\ntoken = \"bench-admin-token\"\n[sync]\nurl = \"{url}\"\ncredential = \"{}\"\nca = \"{}\"\nbatch_max = {}\n",
                token(&site),
                ca.display(),
                arg(args, "--batch", 2_000)
            ),
        )
        .unwrap()
    };
    // Port 1 of loopback: nobody there, as when the link is down.
    write_config("https://127.0.0.1:1");
    let t = Instant::now();
    let out = Command::new(bin_named("scantrail-dev"))
        .args(["dev-append", "--config"])
        .arg(&config)
        .args(["--count", &movements.to_string(), "--threads", "8"])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success());
    println!(
        "backlog of {movements} made in {:.1} s ({})",
        t.elapsed().as_secs_f64(),
        String::from_utf8_lossy(&out.stderr).trim()
    );
    // A site with a backlog has been running while its link was down: its
    // store was opened (sled replays the log written since its last
    // opening) and checked at start (`verify --since last`) long before
    // the link comes back. `dev-append` wrote the backlog with no daemon,
    // so a daemon is started once for that, offline, and stopped.
    let site_daemon = |log: &str| {
        let mut command = Command::new(bin());
        command
            .args(["run", "--listen", "127.0.0.1:0", "--config"])
            .arg(&config)
            .env("RUST_LOG", log);
        command
    };
    let t = Instant::now();
    let mut offline = site_daemon("warn,scantrail::site::verify_at_start=info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = BufReader::new(offline.stderr.take().unwrap());
    for line in log.lines() {
        if line.unwrap().contains("verified what was committed") {
            break;
        }
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(offline.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    offline.wait().unwrap();
    println!(
        "  the daemon's start while offline (the store's opening and its verify at start) took {:.1} s",
        t.elapsed().as_secs_f64()
    );
    write_config(&url);
    let started = Instant::now();
    let mut daemon = site_daemon("warn").stdout(Stdio::piped()).spawn().unwrap();
    let status = format!("{}/api/v1/sync", listening(&mut daemon));
    loop {
        std::thread::sleep(Duration::from_millis(200));
        let st: Option<serde_json::Value> = ureq::get(&status)
            .set("Authorization", "Bearer bench-admin-token")
            .call()
            .ok()
            .and_then(|r| r.into_json().ok());
        if let Some(st) = st {
            if st["acked_seq"] == movements && st["backlog"] == 0 {
                break;
            }
        }
        if started.elapsed() > Duration::from_secs(900) {
            panic!("no catch-up after 15 minutes");
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "catch-up of {movements} movements (site start to last ack) in {secs:.1} s = {:.0} movements/s",
        movements as f64 / secs
    );
    // Where the time went: the node was idle while the backlog was made.
    println!(
        "  CPU (user + system) during it: site daemon {:.1} s, head office node {:.1} s",
        cpu_seconds(daemon.id()),
        cpu_seconds(hq.id())
    );
    let _ = daemon.kill();
    let _ = daemon.wait();
    let _ = hq.kill();
    let _ = hq.wait();
}

/// The CPU time a running process has used so far (user + system), from
/// /proc/PID/stat.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name, which is in parentheses.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime: fields 14 and 15 of the line, 11 and 12 after the name.
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100) as f64;
    (ticks(11) + ticks(12)) / hz
}

/// Head office's storage of `name` for the reports bench: the embedded
/// store in `dir`, or the database at `url`.
fn storage_of(rt: &tokio::runtime::Runtime, dir: &Path, database: Option<&str>) -> Storage {
    match database {
        None => {
            let store = Arc::new(Store::open(dir, OpenOptions::create("hq".into())).unwrap());
            Storage::Embedded {
                ingester: Ingester::start(store.clone()).unwrap(),
                sites: Arc::new(Sites::open(store.clone()).unwrap()),
                store,
            }
        }
        Some(url) => Storage::Postgres(rt.block_on(Db::open(url, 16, "hq")).unwrap()),
    }
}

/// The synthetic site's product master as head office's import CSV.
fn products_csv() -> String {
    let mut csv = "gtin,description,tracking,warranty_months,shelf_life_days\n".to_owned();
    for p in gen::products("hq") {
        let tracking = serde_json::to_value(p.tracking).unwrap();
        csv.push_str(&format!(
            "{},{},{},{},{}\n",
            p.gtin,
            p.description,
            tracking.as_str().unwrap(),
            p.warranty_months.map(|m| m.to_string()).unwrap_or_default(),
            p.shelf_life_days.map(|d| d.to_string()).unwrap_or_default(),
        ));
    }
    csv
}

/// Median and fastest of `runs` timed calls after one warm-up, and the
/// last answer's body.
fn time_report(
    rt: &tokio::runtime::Runtime,
    storage: &Storage,
    runs: usize,
    kind: &str,
    query: &[(&str, &str)],
) -> (Duration, Duration, String) {
    let pairs: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let once = || {
        rt.block_on(async {
            let r = storage.report(kind.to_owned(), pairs.clone()).await;
            assert_eq!(r.status().as_u16(), 200, "{kind} {query:?}");
            let body = axum::body::to_bytes(r.into_body(), usize::MAX)
                .await
                .unwrap();
            String::from_utf8(body.to_vec()).unwrap()
        })
    };
    let mut body = once();
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        body = once();
        times.push(t.elapsed());
    }
    times.sort();
    (times[times.len() / 2], times[0], body)
}

/// A timed report: (label, kind, query pairs).
type Question<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>);

/// The reports `reports` and `fleet` time, on the gen-data landmarks.
fn questions<'a>(hot: &'a str, serial_gtin: &'a str) -> Vec<Question<'a>> {
    vec![
        (
            "recall by batch (the hot lot)",
            "recall",
            vec![("gtin", hot), ("lot", gen::HOT_LOT)],
        ),
        (
            "recall by serial range (10,000 serials)",
            "recall",
            vec![("gtin", serial_gtin), ("from", "100000"), ("to", "109999")],
        ),
        (
            "warranty (one serial)",
            "warranty",
            vec![
                ("gtin", serial_gtin),
                ("serial", "100500"),
                ("today", "2026-11-01"),
            ],
        ),
        (
            "trace of the hot lot",
            "trace",
            vec![("gtin", hot), ("lot", gen::HOT_LOT)],
        ),
        (
            "movements of one serial",
            "movements",
            vec![("gtin", serial_gtin), ("serial", "100500")],
        ),
        ("stock by batch (every lot)", "stock", vec![("by", "batch")]),
        (
            "expiry within 60 days",
            "expiry",
            vec![("days", "60"), ("today", "2026-11-01")],
        ),
    ]
}

/// Times each question (stock and expiry with a quarter of the runs) and
/// prints median and fastest; returns the answers.
fn time_questions(
    rt: &tokio::runtime::Runtime,
    storage: &Storage,
    runs: usize,
    questions: &[Question],
) -> Vec<String> {
    let mut bodies = Vec::new();
    for (label, kind, query) in questions {
        let runs = if *kind == "stock" || *kind == "expiry" {
            (runs / 4).max(1)
        } else {
            runs
        };
        let (median, fastest, body) = time_report(rt, storage, runs, kind, query);
        println!(
            "  {label}: median {:.3} ms, fastest {:.3} ms ({} runs, {} bytes of JSON)",
            median.as_secs_f64() * 1e3,
            fastest.as_secs_f64() * 1e3,
            runs,
            body.len()
        );
        bodies.push(body);
    }
    bodies
}

/// What autovacuum does by itself a little after a bulk load, and the
/// database's size.
fn vacuum(url: &str) {
    let t = Instant::now();
    sql(url, "VACUUM ANALYZE");
    println!("  VACUUM ANALYZE {:.1} s", t.elapsed().as_secs_f64());
    let size = sql_value(
        url,
        "SELECT pg_size_pretty(pg_database_size(current_database()))",
    );
    println!("  database size {size}");
}

fn reports(args: &[String]) {
    let data = args
        .iter()
        .position(|a| a == "--data")
        .and_then(|i| args.get(i + 1))
        .expect("reports needs --data SITE_STORE (made by scantrail-dev gen-data)");
    let runs = arg(args, "--runs", 20) as usize;
    let batch = arg(args, "--batch", 2_000) as usize;
    let site = Store::open(Path::new(data), OpenOptions::existing(None)).unwrap();
    let origin = site.site().to_owned();
    let total = site.journal().head(&origin).unwrap().seq;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (hot, serial_gtin) = (gen::gtin(0), gen::serial_gtin());
    let questions = questions(&hot, &serial_gtin);
    let tmp = tempfile::tempdir().unwrap();
    let mut answers: Vec<Vec<String>> = Vec::new();
    for (name, database) in backends(args) {
        let storage = storage_of(&rt, &tmp.path().join(name), database.as_deref());
        let started = Instant::now();
        let mut from = 1;
        while from <= total {
            let page = site.journal().range(&origin, from, batch).unwrap();
            let Some(last) = page.last() else { break };
            from = last.seq + 1;
            rt.block_on(storage.ingest(Incoming {
                origin: origin.clone(),
                entries: Entries::Movements(page),
                received_at: chrono::Utc::now(),
            }))
            .unwrap()
            .unwrap();
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "hq ({name}): ingested {total} movements of {origin} (batches of {batch}, no HTTP) in {secs:.1} s = {:.0} movements/s",
            total as f64 / secs
        );
        publish_products(&rt, &storage);
        if let Some(url) = &database {
            vacuum(url);
        }
        let bodies = time_questions(&rt, &storage, runs, &questions);
        answers.push(bodies);
        drop(storage);
        if let Some(url) = database {
            drop_database(args, &url);
        }
    }
    if answers.len() == 2 {
        for (i, (label, _, _)) in questions.iter().enumerate() {
            let same = answers[0][i] == answers[1][i];
            println!(
                "  {label}: embedded and PostgreSQL answers {}",
                if same { "identical" } else { "DIFFER" }
            );
        }
    }
}

/// Publishes the synthetic site's product master at head office.
fn publish_products(rt: &tokio::runtime::Runtime, storage: &Storage) {
    let published = Published::new(storage, rt.handle().clone());
    let author = Author {
        by: "bench".into(),
        why: "synthetic product master".into(),
    };
    catalog::import(&published, Reference::Products, &products_csv(), &author).unwrap();
}

/// The machine's load average, as `uptime` shows it.
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// One site of `fleet`: its movements made on the fly by the gen-data
/// generator and hash-chained as its store would chain them, corrections
/// of earlier movements included, so 10 million never sit in memory.
struct GenChain {
    site: String,
    generator: gen::Generator,
    queue: VecDeque<gen::Planned>,
    corrections: VecDeque<NewMovement>,
    prev: Hash,
    seq: u64,
}

impl GenChain {
    fn new(site: &str, index: u64, total: u64) -> GenChain {
        let end = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 1, 0, 0, 0).unwrap();
        GenChain {
            site: site.to_owned(),
            generator: gen::Generator::for_site(index + 1, total, end, index),
            queue: VecDeque::new(),
            corrections: VecDeque::new(),
            prev: Hash::GENESIS,
            seq: 0,
        }
    }

    fn next(&mut self) -> Movement {
        let (body, correct) = match self.corrections.pop_front() {
            Some(c) => (c, false),
            None => {
                while self.queue.is_empty() {
                    self.queue.extend(self.generator.episode());
                }
                let p = self.queue.pop_front().unwrap();
                (p.movement, p.correct)
            }
        };
        self.seq += 1;
        let hash = chain::movement_hash(&self.site, self.seq, &self.prev, &body);
        let m = Movement {
            origin: self.site.clone(),
            seq: self.seq,
            prev_hash: self.prev,
            body,
            hash,
        };
        self.prev = hash;
        if correct {
            let at = m.body.device_time + chrono::Duration::hours(2);
            self.corrections.push_back(
                scantrail::station::correction(
                    &m,
                    "scanned in error",
                    "supervisor",
                    "gen-data",
                    at,
                )
                .unwrap(),
            );
        }
        m
    }
}

/// Every site uploads its generated chain from its own thread, one batch
/// in flight each: the seconds it took.
fn upload_generated(sites: &[String], per_site: u64, batch: usize, url: &str, ca: &Path) -> f64 {
    let started = Instant::now();
    let threads: Vec<_> = sites
        .iter()
        .enumerate()
        .map(|(i, site)| {
            let (url, ca, site) = (url.to_owned(), ca.to_owned(), site.clone());
            std::thread::spawn(move || {
                let agent =
                    scantrail::sync::tls::agent(Some(&ca), Duration::from_secs(300)).unwrap();
                let mut chain = GenChain::new(&site, i as u64, per_site);
                while chain.seq < per_site {
                    let n = (per_site - chain.seq).min(batch as u64);
                    let part: Vec<Movement> = (0..n).map(|_| chain.next()).collect();
                    let last_seq = send(&agent, &url, &site, part);
                    if i == 0 && last_seq % 20_000 < batch as u64 {
                        eprintln!(
                            "  {site} at {} after {:.0} s, load {}",
                            last_seq,
                            started.elapsed().as_secs_f64(),
                            load()
                        );
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    started.elapsed().as_secs_f64()
}

fn fleet(args: &[String]) {
    let sites_n = arg(args, "--sites", 50);
    let per_site = arg(args, "--per-site", 200_000);
    let embedded_n = arg(args, "--embedded-sites", sites_n).min(sites_n);
    let batch = arg(args, "--batch", 2_000) as usize;
    let runs = arg(args, "--runs", 50) as usize;
    let whole = args.iter().any(|a| a == "--whole");
    let reuse = args
        .iter()
        .position(|a| a == "--database")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let sites: Vec<String> = (0..sites_n).map(|i| format!("site{i:03}")).collect();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (hot, serial_gtin) = (gen::gtin(0), gen::serial_gtin());
    let mut questions = questions(&hot, &serial_gtin);
    if !whole {
        // Every lot's balance of every site: minutes each at 10 million.
        questions.retain(|(_, kind, _)| *kind != "stock" && *kind != "expiry");
    }
    if let Some(only) = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
    {
        // One report, e.g. under a profiler: `--only recall`.
        questions.retain(|(label, _, _)| label.starts_with(only.as_str()));
    }
    let tmp = tempfile::tempdir().unwrap();
    let runs_on: Vec<(&str, Option<String>, u64)> = match &reuse {
        Some(url) => {
            // The kept database, and the embedded head office again when
            // asked for, so that the two still compare in one run.
            let mut v = vec![("postgres", Some(url.clone()), sites_n)];
            if args.iter().any(|a| a == "--embedded-sites") {
                v.push(("embedded", None, embedded_n));
            }
            v
        }
        None => backends(args)
            .into_iter()
            .rev()
            .map(|(name, db)| {
                let n = if db.is_some() { sites_n } else { embedded_n };
                (name, db, n)
            })
            .collect(),
    };
    let mut answers: Vec<(String, Vec<String>)> = Vec::new();
    for (name, database, n) in runs_on {
        let dir = tmp.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let total = n * per_site;
        let kept = reuse.is_some() && database.is_some();
        if !kept {
            println!(
                "hq ({name}): {n} sites × {per_site} generated movements over HTTPS, load {}",
                load()
            );
            let (mut hq, url, ca) = start_hq(&dir, &sites[..n as usize], database.as_deref());
            let secs = upload_generated(&sites[..n as usize], per_site, batch, &url, &ca);
            println!(
                "hq ({name}) over HTTPS: {total} movements from {n} sites (batches of {batch}) in {secs:.1} s = {:.0} movements/s, load {}",
                total as f64 / secs,
                load()
            );
            let _ = hq.kill();
            let _ = hq.wait();
        }
        let storage = storage_of(&rt, &dir.join("hq-data"), database.as_deref());
        if !kept {
            publish_products(&rt, &storage);
            if let Some(url) = &database {
                vacuum(url);
            }
        }
        println!("hq ({name}), {total} movements: reports, load {}", load());
        let bodies = time_questions(&rt, &storage, runs, &questions);
        println!("  load {}", load());
        answers.push((format!("{name} ({total})"), bodies));
        drop(storage);
        if let Some(url) = database {
            if !kept {
                drop_database(args, &url);
            }
        }
    }
    if answers.len() == 2 {
        // The landmarks are the first site's alone, so these answers agree
        // whatever the number of sites each backend holds.
        for (i, (label, kind, _)) in questions.iter().enumerate() {
            if *kind == "stock" || *kind == "expiry" {
                continue;
            }
            let same = answers[0].1[i] == answers[1].1[i];
            println!(
                "  {label}: {} and {} answers {}",
                answers[0].0,
                answers[1].0,
                if same { "identical" } else { "DIFFER" }
            );
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ingest") => ingest(&args),
        Some("catchup") => catchup(&args),
        Some("reports") => reports(&args),
        Some("fleet") => fleet(&args),
        _ => eprintln!("usage: sync_bench ingest [--sites N] [--per-site M] [--batch B] [--direct] [--postgres ADMIN_URL] | catchup [--movements M] [--postgres ADMIN_URL] | reports --data SITE_STORE [--runs R] [--batch B] [--postgres ADMIN_URL [--keep]] | fleet [--sites N] [--per-site M] [--embedded-sites E] [--runs R] [--whole] [--only LABEL] [--postgres ADMIN_URL [--keep]] [--database URL]"),
    }
}
