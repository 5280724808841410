//! The floor page under load, in a real headless Chromium: handhelds
//! offer 2,500 scans a second for 60 seconds (`scantrail-dev loadtest`
//! over HTTP) while the page shows the live feed, and no task on the
//! page's main thread may take over 200 ms (Chrome's performance log;
//! the page's own long-task observer agrees).
//!
//! A test binary of its own, so the load does not slow the other tests.
//! The store is on tmpfs (`/dev/shm`) when there is one: what is measured
//! is the page, not the disk. The rate the daemon reached is printed; a
//! debug build on a busy machine may reach less than the offered rate (the
//! coalescing that keeps the page light at any rate is tested at 2,500
//! events/s in `site::console::floor`'s unit tests).
//! `SCANTRAIL_FEED_RATE` and `SCANTRAIL_FEED_SECONDS` change the load.

#[path = "support/browser.rs"]
mod browser;
mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use browser::Browser;
use support::daemon::Daemon;

const PASSWORD: &str = "load-password-1234";
const TOKEN: &str = "load-supervisor-token";
const HANDHELDS: u32 = 50;

fn env_or(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_floor_page_stays_responsive_under_thousands_of_scans_a_second() {
    let rate = env_or("SCANTRAIL_FEED_RATE", 2500.0);
    let seconds = env_or("SCANTRAIL_FEED_SECONDS", 60.0);
    let shm = std::path::Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm).unwrap()
    } else {
        tempfile::tempdir().unwrap()
    };
    let config = dir.path().join("site.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"data\"\n[site]\nid = \"load-site\"\n\
             [[stations]]\nid = \"dock-1\"\nmode = \"receive\"\nlocation = \"DOCK-1\"\n\
             [[tokens]]\nname = \"load\"\nrole = \"supervisor\"\ntoken = \"{TOKEN}\"\n\
             [[users]]\nname = \"sue\"\nrole = \"supervisor\"\npassword_hash = \"{}\"\n",
            scantrail::console::users::hash_password(PASSWORD).unwrap()
        ),
    )
    .unwrap();
    let daemon = Daemon::start_with(&config, |c| {
        c.env("RUST_LOG", "warn");
    });
    let b = Browser::start_traced(daemon.base_url()).await;
    b.sign_in("sue", PASSWORD).await;
    b.wait_for_text("#feed-rate", "connected", Duration::from_secs(10))
        .await;
    b.eval(
        "window.__long = []; new PerformanceObserver(function (list) { \
           for (const e of list.getEntries()) window.__long.push(e.duration); \
         }).observe({ type: 'longtask', buffered: true }); return true;",
    )
    .await;
    let mut main_threads = Vec::new();
    b.longest_main_thread_task(&mut main_threads).await;

    let mut load = Command::new(support::daemon::dev_binary())
        .args(["loadtest", "--url", daemon.base_url(), "--token", TOKEN])
        .args(["--station", "dock-1", "--scanners", "0"])
        .args(["--handhelds", &HANDHELDS.to_string()])
        .args(["--rate", &(rate / HANDHELDS as f64).to_string()])
        .args(["--duration", &seconds.to_string()])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start scantrail-dev loadtest");
    let started = Instant::now();
    let (mut longest, mut tasks) = (Duration::ZERO, 0);
    let mut rates = Vec::new();
    while load.try_wait().unwrap().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs_f64(seconds + 120.0),
            "the load test did not finish"
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (l, n) = b.longest_main_thread_task(&mut main_threads).await;
        longest = longest.max(l);
        tasks += n;
        rates.push(b.text("#feed-rate").await);
    }
    let out = load.wait_with_output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "loadtest failed:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (l, n) = b.longest_main_thread_task(&mut main_threads).await;
    longest = longest.max(l);
    tasks += n;
    let long_tasks: Vec<f64> =
        serde_json::from_value(b.eval("return window.__long;").await).unwrap_or_default();
    let feed_rows = b
        .eval("return document.querySelectorAll('#feed li').length;")
        .await;
    b.screenshot("floor-under-load").await;
    eprintln!("loadtest:\n{report}");
    eprintln!(
        "page: {tasks} main-thread tasks traced, longest {longest:?}; long tasks (>50 ms) seen by the page: {long_tasks:?}; feed rows {feed_rows}; rate shown: {:?}",
        rates.iter().rev().take(3).collect::<Vec<_>>()
    );
    assert!(
        !main_threads.is_empty() && tasks > 0,
        "the performance log recorded no renderer task"
    );
    assert!(
        longest < Duration::from_millis(200),
        "a main-thread task took {longest:?}"
    );
    assert!(
        long_tasks.iter().all(|d| *d < 200.0),
        "the page saw long tasks {long_tasks:?}"
    );
    assert!(
        rates.iter().any(|r| r.contains("scans/s")),
        "the page never showed the rate: {rates:?}"
    );
    b.close().await;
    daemon.stop();
}
