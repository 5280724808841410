//! Corrections against racing scans, through the real daemon: a void of a
//! unit's receipt and the unit's dispatch from another station, sent at
//! the same moment, must never both be accepted (the recall would lose the
//! customer), and two corrections of one movement never both recorded.
//! Many rounds, each pair released together by a barrier.

#[allow(dead_code)]
mod support;

use std::path::PathBuf;
use std::sync::{Arc, Barrier};

use serde_json::json;
use support::daemon::{serial_item, verify, Api, Daemon};

const GTIN: &str = "09506000134352";
const ADMIN: &str = "admin-token-race";
const ROUNDS: usize = 60;

struct Site {
    _dir: tempfile::TempDir,
    config: PathBuf,
    data: PathBuf,
}

fn site() -> Site {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("site.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"data\"\n\
             [site]\nid = \"race-site\"\n\
             [http]\nadmin_token = \"{ADMIN}\"\n\
             [[stations]]\nid = \"dock-1\"\nmode = \"receive\"\nlocation = \"DOCK-1\"\n\
             [[stations]]\nid = \"dispatch-1\"\nmode = \"dispatch\"\nlocation = \"DISPATCH-1\"\n"
        ),
    )
    .unwrap();
    Site {
        data: tmp.path().join("data"),
        config,
        _dir: tmp,
    }
}

fn receive(api: &Api, serial: &str) -> u64 {
    let answer = api.scan("dock-1", &serial_item(serial));
    assert_eq!(answer["accepted"], true, "{answer}");
    answer["movement"]["seq"].as_u64().unwrap()
}

/// Runs both at once; returns their results in order.
fn together<A: Send + 'static, B: Send + 'static>(
    a: impl FnOnce() -> A + Send + 'static,
    b: impl FnOnce() -> B + Send + 'static,
) -> (A, B) {
    let barrier = Arc::new(Barrier::new(2));
    let wait = barrier.clone();
    let first = std::thread::spawn(move || {
        wait.wait();
        a()
    });
    barrier.wait();
    let second = b();
    (first.join().unwrap(), second)
}

enum Void {
    Api,
    Command,
}

/// A void of the receipt `seq` of the dock's last scan: through the
/// corrections route or by scanning `CMD:VOID` at the dock. Accepted?
fn void(api: &Api, how: &Void, seq: u64) -> bool {
    match how {
        Void::Api => {
            let r = api.post_json(
                "/api/v1/corrections",
                &json!({ "seq": seq, "reason": "scanned at the wrong dock" }),
            );
            assert!(
                r.status == 200 || r.status == 422,
                "correction: {} {:?}",
                r.status,
                r.body
            );
            r.status == 200
        }
        Void::Command => api.scan("dock-1", "CMD:VOID")["accepted"] == true,
    }
}

fn start(site: &Site) -> (Daemon, Api) {
    let daemon = Daemon::start(&site.config);
    let api = Api::new(daemon.base_url(), Some(ADMIN));
    let r = api.post_text(
        "/api/v1/products",
        &format!("gtin,description,tracking\n{GTIN},Insulin pen,lot_and_serial\n"),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = api.put_json(
        "/api/v1/stations/dispatch-1/context",
        &json!({ "order": "O-FREE", "customer": { "name": "City Pharmacy" } }),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    (daemon, api)
}

#[test]
fn a_void_and_a_dispatch_of_the_same_unit_are_never_both_accepted() {
    let site = site();
    let (daemon, api) = start(&site);
    let mut both = Vec::new();
    let (mut voids, mut dispatches) = (0, 0);
    for round in 0..ROUNDS {
        let how = if round % 2 == 0 {
            Void::Api
        } else {
            Void::Command
        };
        let serial = format!("RV{round}");
        let seq = receive(&api, &serial);
        let (a, b) = (api.clone(), api.clone());
        let (voided, dispatched) = together(
            move || void(&a, &how, seq),
            move || b.scan("dispatch-1", &serial_item(&serial))["accepted"] == true,
        );
        voids += usize::from(voided);
        dispatches += usize::from(dispatched);
        if voided && dispatched {
            both.push(round);
        }
    }
    assert!(
        both.is_empty(),
        "void and dispatch both accepted in {} of {ROUNDS} rounds: {both:?}",
        both.len()
    );
    assert_eq!(voids + dispatches, ROUNDS, "one of each pair is accepted");
    assert_eq!(daemon.stop().code(), Some(0));
    let (code, out) = verify(&site.data);
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn a_movement_is_never_corrected_twice_by_racing_corrections() {
    let site = site();
    let (daemon, api) = start(&site);
    let mut twice = Vec::new();
    for round in 0..ROUNDS / 2 {
        let seq = receive(&api, &format!("RC{round}"));
        let (a, b) = (api.clone(), api.clone());
        let second = if round % 2 == 0 {
            Void::Api
        } else {
            Void::Command
        };
        let (first, second) = together(
            move || void(&a, &Void::Api, seq),
            move || void(&b, &second, seq),
        );
        assert!(
            first || second,
            "round {round}: neither correction recorded"
        );
        if first && second {
            twice.push(round);
        }
    }
    assert!(
        twice.is_empty(),
        "a receipt was corrected twice in {} of {} rounds: {twice:?}",
        twice.len(),
        ROUNDS / 2
    );
    assert_eq!(daemon.stop().code(), Some(0));
    let (code, out) = verify(&site.data);
    assert_eq!(code, Some(0), "{out}");
}
