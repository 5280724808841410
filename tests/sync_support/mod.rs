//! Helpers for the sync tests: a throwaway PKI (rcgen), head office and
//! sites in temp dirs, started as child processes through the one harness
//! (`tests/support/daemon.rs`: ports from the OS). Head office is started
//! before the sites' configurations are written, which name its URL; a
//! test that restarts head office while sites sync puts the proxy
//! (`proxy.rs`) between them, so the sites keep one address.
//! Needs `mod support;` beside `mod sync_support;` in the test file.

#![allow(dead_code)]

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::daemon::binary;
pub use crate::support::daemon::Daemon;

/// Head office's admin, in the older `[hq] admin_token` form.
pub const HQ_ADMIN: &str = "hq-admin-token-for-tests";
/// Head office's supervisor `quality`, a `[[tokens]]` entry.
pub const HQ_SUPERVISOR: &str = "hq-supervisor-token-for-tests";

/// A CA and a server certificate for 127.0.0.1 and localhost, as PEM files.
pub struct Pki {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Pki {
    pub fn new(dir: &Path) -> Pki {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
        std::fs::create_dir_all(dir).unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "scantrail test CA");
        let ca_key = KeyPair::generate().unwrap();
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &ca_cert, &ca_key).unwrap();
        let pki = Pki {
            ca: dir.join("ca.pem"),
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        };
        std::fs::write(&pki.ca, ca_cert.pem()).unwrap();
        std::fs::write(&pki.cert, cert.pem()).unwrap();
        std::fs::write(&pki.key, key.serialize_pem()).unwrap();
        pki
    }
}

pub fn site_token(site: &str) -> String {
    format!("{site}-sync-token-for-tests")
}

/// Head office in a temp dir.
pub struct HqDir {
    pub dir: PathBuf,
    pub config: PathBuf,
    pub pki: Pki,
    /// Where the last start listens (`https://127.0.0.1:PORT`).
    url: RefCell<Option<String>>,
}

impl HqDir {
    pub fn new(dir: &Path, sites: &[&str], extra: &str) -> HqDir {
        let pki = Pki::new(&dir.join("tls"));
        let mut text = format!(
            "data_dir = \"data\"\n[hq]\nlisten = \"127.0.0.1:0\"\ncert = \"tls/cert.pem\"\nkey = \"tls/key.pem\"\nca = \"tls/ca.pem\"\nadmin_token = \"{HQ_ADMIN}\"\n{extra}\n"
        );
        for s in sites {
            text.push_str(&format!(
                "[[sites]]\nid = \"{s}\"\ntoken_sha256 = \"{}\"\n",
                scantrail::hq::config::hash_token(&site_token(s))
            ));
        }
        text.push_str(&format!(
            "[[tokens]]\nname = \"quality\"\nrole = \"supervisor\"\ntoken = \"{HQ_SUPERVISOR}\"\n"
        ));
        let config = dir.join("hq.toml");
        std::fs::write(&config, text).unwrap();
        HqDir {
            dir: dir.to_owned(),
            config,
            pki,
            url: RefCell::new(None),
        }
    }

    /// Head office's URL since its last start.
    pub fn url(&self) -> String {
        self.url
            .borrow()
            .clone()
            .expect("head office has not been started")
    }

    pub fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// `scantrail hq` on a port from the OS, logging to `hq.log`; the
    /// configuration's `listen` then names that port, for `hq_cli`.
    pub fn start(&self) -> Daemon {
        let daemon = Daemon::start_hq(&self.config);
        daemon.point_config_here(&self.config);
        *self.url.borrow_mut() = Some(daemon.base_url().to_owned());
        daemon
    }

    /// `start` for a head office that may fail to start (its disk's power
    /// cut while it opens its store): `spawned` is told its pid at once.
    pub fn try_start(&self, spawned: impl FnOnce(u32)) -> Result<Daemon, String> {
        let daemon = Daemon::try_start_hq(&self.config, |_| {}, spawned)?;
        daemon.point_config_here(&self.config);
        *self.url.borrow_mut() = Some(daemon.base_url().to_owned());
        Ok(daemon)
    }

    /// `GET /api/v1/sites` as head office's admin.
    pub fn sites(&self) -> Option<Vec<Value>> {
        let agent =
            scantrail::sync::tls::agent(Some(&self.pki.ca), Duration::from_secs(5)).unwrap();
        agent
            .get(&format!("{}/api/v1/sites", self.url()))
            .set("Authorization", &format!("Bearer {HQ_ADMIN}"))
            .call()
            .ok()?
            .into_json()
            .ok()
    }

    /// A compliance report over every site's movements, as JSON.
    pub fn report(&self, query: &str) -> Value {
        let agent =
            scantrail::sync::tls::agent(Some(&self.pki.ca), Duration::from_secs(5)).unwrap();
        agent
            .get(&format!("{}/api/v1/reports/{query}", self.url()))
            .set("Authorization", &format!("Bearer {HQ_ADMIN}"))
            .call()
            .unwrap()
            .into_json()
            .unwrap()
    }

    pub fn last_seq(&self, site: &str) -> Option<u64> {
        self.sites()?
            .into_iter()
            .find(|s| s["site"] == site)
            .and_then(|s| s["last_seq"].as_u64())
    }

    pub fn hq_cli(&self, args: &[&str]) -> std::process::Output {
        Command::new(binary())
            .arg("hq")
            .args(args)
            .arg("--config")
            .arg(&self.config)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    }
}

/// A site in a temp dir, syncing to `hq_url` and trusting `ca`.
pub struct SiteDir {
    pub id: String,
    pub dir: PathBuf,
    pub config: PathBuf,
    /// Where the last start listens (`http://127.0.0.1:PORT`).
    url: RefCell<Option<String>>,
}

pub const HANDHELD: &str = "handheld-token-for-tests";
pub const SITE_ADMIN: &str = "site-admin-token-for-tests";

impl SiteDir {
    /// Site `north` in `tmp/north`, syncing straight to `hq` (most tests'
    /// pair); `sync_extra` as for `new`.
    pub fn north(tmp: &Path, hq: &HqDir, sync_extra: &str) -> SiteDir {
        SiteDir::new(
            &tmp.join("north"),
            "north",
            &hq.url(),
            &hq.pki.ca,
            sync_extra,
        )
    }

    pub fn new(dir: &Path, id: &str, hq_url: &str, ca: &Path, sync_extra: &str) -> SiteDir {
        std::fs::create_dir_all(dir).unwrap();
        let config = dir.join("site.toml");
        std::fs::write(
            &config,
            format!(
                r#"data_dir = "data"
[site]
id = "{id}"
[http]
listen = "127.0.0.1:0"
[[stations]]
id = "dock-1"
mode = "receive"
location = "DOCK-1"
[[stations]]
id = "dispatch-1"
mode = "dispatch"
location = "DOCK-1"
[[tokens]]
name = "hh-1"
role = "handheld"
stations = ["dock-1", "dispatch-1"]
token = "{HANDHELD}"
[[tokens]]
name = "site-admin"
role = "admin"
token = "{SITE_ADMIN}"
[sync]
url = "{hq_url}"
credential = "{token}"
ca = "{ca}"
{defaults}
{sync_extra}
"#,
                token = site_token(id),
                ca = ca.display(),
                defaults = [
                    "interval_ms = 200",
                    "reference_poll_ms = 1000",
                    "backoff_max_ms = 1000"
                ]
                .iter()
                .filter(|d| !sync_extra.contains(d.split(' ').next().unwrap_or("")))
                .copied()
                .collect::<Vec<_>>()
                .join("\n"),
            ),
        )
        .unwrap();
        SiteDir {
            id: id.to_owned(),
            dir: dir.to_owned(),
            config,
            url: RefCell::new(None),
        }
    }

    pub fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Replaces the site's store by another history of the same site that
    /// keeps head office's acknowledgement of the first (as an edited copy
    /// or a doctored backup would). The daemon must be stopped.
    pub fn rewrite_history(&self) {
        use scantrail::store::{OpenOptions, Store};
        let site = Some(self.id.clone());
        let acked = {
            let s = Store::open(&self.data(), OpenOptions::existing(site.clone())).unwrap();
            s.outbox().position().unwrap().unwrap()
        };
        std::fs::remove_dir_all(self.data()).unwrap();
        self.dev_append(7);
        self.dev_append(5);
        let s = Store::open(&self.data(), OpenOptions::existing(site)).unwrap();
        s.outbox().set_position(acked).unwrap();
    }

    /// The site daemon's URL since its last start.
    pub fn url(&self) -> String {
        self.url
            .borrow()
            .clone()
            .expect("the site daemon has not been started")
    }

    /// `scantrail run` on a port from the OS, logging to `site.log`; the
    /// configuration's `listen` then names that port, for `cli`.
    pub fn start(&self) -> Daemon {
        let daemon = Daemon::start(&self.config);
        daemon.point_config_here(&self.config);
        *self.url.borrow_mut() = Some(daemon.base_url().to_owned());
        daemon
    }

    /// `scantrail-dev dev-append` into the store (the daemon must not run).
    pub fn dev_append(&self, count: u64) {
        crate::support::daemon::dev_append(&self.config, count);
    }

    /// A scan through the handheld API.
    pub fn scan(&self, station: &str, data: &str) -> Value {
        ureq::post(&format!("{}/api/v1/scans", self.url()))
            .set("Authorization", &format!("Bearer {HANDHELD}"))
            .send_json(json!({ "station": station, "data": data }))
            .unwrap()
            .into_json()
            .unwrap()
    }

    pub fn sync_status(&self) -> Option<Value> {
        ureq::get(&format!("{}/api/v1/sync", self.url()))
            .set("Authorization", &format!("Bearer {SITE_ADMIN}"))
            .call()
            .ok()?
            .into_json()
            .ok()
    }

    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        Command::new(binary())
            .args(args)
            .arg("--config")
            .arg(&self.config)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    }
}

/// `hq status` keeps a site's backlog apart from how long it has been
/// quiet: while a site with 1,000 movements sends them at head office's
/// rate limit, its backlog shows with the lag; once it has sent everything
/// the backlog is 0 and there is no lag, and its reference polls keep its
/// last contact fresh although no batch comes. `hq` limits each site to
/// four requests a second (`requests_per_second = 4`) and is started.
pub fn backlog_apart_from_quiet(tmp: &Path, hq: &HqDir) {
    let site = SiteDir::new(
        &tmp.join("north"),
        "north",
        &hq.url(),
        &hq.pki.ca,
        "batch_max = 20",
    );
    site.dev_append(1_000);
    let _site_proc = site.start();
    let north = |sites: Option<Vec<Value>>| {
        sites.and_then(|v| v.into_iter().find(|s| s["site"] == "north"))
    };
    let mut behind = None;
    wait_for(Duration::from_secs(60), || {
        let s = north(hq.sites());
        if let Some(s) = &s {
            let held = s["last_seq"].as_u64().unwrap_or(0);
            // Past the first batch (20): head office notes a batch's newest
            // device time just after writing it, so a status read between
            // the two shows the first batch held with no lag yet.
            if held > 20 && held < 1_000 && behind.is_none() {
                behind = Some(s.clone());
            }
        }
        s.is_some_and(|s| s["last_seq"] == 1_000)
    })
    .unwrap_or_else(|| {
        panic!(
            "head office did not get the 1,000 movements: {:?}; the site: {:?}",
            north(hq.sites()),
            site.sync_status()
        )
    });
    let behind = behind.expect("head office never held part of the backlog");
    let held = behind["last_seq"].as_u64().unwrap();
    assert_eq!(
        behind["backlog"].as_u64(),
        Some(1_000 - held),
        "while it sends, the backlog is what the site holds past head office: {behind}"
    );
    assert!(behind["lag_seconds"].is_i64(), "{behind}");
    // Caught up: no backlog, no lag.
    let caught_up = wait_for(Duration::from_secs(10), || {
        north(hq.sites()).is_some_and(|s| s["backlog"] == 0)
    });
    assert!(caught_up.is_some(), "{:?}", north(hq.sites()));
    let first = north(hq.sites()).unwrap();
    assert!(first["lag_seconds"].is_null(), "{first}");
    // Quiet: reference polls (every second) are contacts. (A batch whose
    // answer was late on a loaded machine may still be sent again, and is
    // acknowledged as a duplicate: the last batch is not the last contact.
    // On a loaded machine the polls come late too: wait for them.)
    let time = |v: &Value, field: &str| {
        chrono::DateTime::parse_from_rfc3339(v[field].as_str().unwrap_or_default())
            .unwrap_or_else(|e| panic!("{field} of {v}: {e}"))
    };
    let fresh =
        |v: &Value| time(v, "last_contact") - time(v, "last_seen") >= chrono::Duration::seconds(1);
    wait_for(Duration::from_secs(20), || {
        north(hq.sites()).is_some_and(|s| fresh(&s))
    });
    let later = north(hq.sites()).unwrap();
    assert!(
        fresh(&later),
        "a quiet site's contact is fresh without a batch: {first} then {later}"
    );
    assert_eq!(later["backlog"], 0, "{later}");
    assert!(later["lag_seconds"].is_null(), "{later}");
    let out = hq.hq_cli(&["status"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let row = text
        .lines()
        .find(|l| l.starts_with("north"))
        .unwrap_or_else(|| panic!("no row for north: {text}"));
    let cells: Vec<&str> = row.split_whitespace().collect();
    // site, last seq, rejected, backlog, lag, last contact (date time), ...
    assert_eq!(&cells[..5], ["north", "1000", "0", "0", "-"], "{text}");
}

/// Polls `f` until it is true or `limit` passes; returns the time taken.
pub fn wait_for(limit: Duration, mut f: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}
pub mod proxy;

/// Replaces head office's CA and certificate by ones whose certificate
/// ends `days` days from now (negative: in the past).
pub fn certificate_ending_in(hq: &HqDir, days: i64) {
    use chrono::Datelike;
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let end = chrono::Utc::now() + chrono::Duration::days(days);
    let mut params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(end.year(), end.month() as u8, end.day() as u8);
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    std::fs::write(&hq.pki.ca, ca.pem()).unwrap();
    std::fs::write(&hq.pki.cert, cert.pem()).unwrap();
    std::fs::write(&hq.pki.key, key.serialize_pem()).unwrap();
}
