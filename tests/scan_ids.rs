//! The `scan_id` contract through the real daemon: a retry gets the first
//! answer and records nothing new; an id is scoped to the handheld that
//! sent it; an id reused for a different scan is refused with 409
//! `scan_id_reused` and that scan is not silently swallowed.

#[allow(dead_code)]
mod support;

use serde_json::{json, Value};
use support::daemon::{serial_item, Api, Daemon};

fn start(dir: &std::path::Path) -> Daemon {
    let config = dir.join("site.toml");
    std::fs::write(
        &config,
        "data_dir = \"data\"\n\
         [site]\nid = \"ids-site\"\n\
         [http]\nadmin_token = \"admin-token-ids\"\n\
         [[stations]]\nid = \"dock-1\"\nmode = \"receive\"\nlocation = \"DOCK-1\"\n\
         [[handhelds]]\nid = \"hh-1\"\ntoken = \"handheld-token-1\"\nstation = \"dock-1\"\n\
         [[handhelds]]\nid = \"hh-2\"\ntoken = \"handheld-token-2\"\nstation = \"dock-1\"\n",
    )
    .unwrap();
    Daemon::start(&config)
}

/// The journal's movements, through the API.
fn journal(admin: &Api) -> Vec<Value> {
    let r = admin.get("/api/v1/journal");
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body.as_array().unwrap().clone()
}

fn serials(admin: &Api) -> Vec<String> {
    journal(admin)
        .iter()
        .map(|m| m["body"]["serial"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// A handheld's scan of `data` under `id`: the status and the answer.
fn send(api: &Api, data: &str, id: &str) -> (u16, Value) {
    let r = api.post_json("/api/v1/scans", &json!({ "data": data, "scan_id": id }));
    (r.status, r.body)
}

fn post(api: &Api, serial: &str, id: &str) -> (u16, Value) {
    send(api, &serial_item(serial), id)
}

#[test]
fn a_scan_id_reused_for_another_scan_is_refused_not_swallowed() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = start(dir.path());
    let hh1 = Api::new(daemon.base_url(), Some("handheld-token-1"));
    let admin = Api::new(daemon.base_url(), Some("admin-token-ids"));

    let (status, first) = post(&hh1, "S1", "0001");
    assert_eq!((status, &first["accepted"]), (200, &json!(true)), "{first}");
    let (status, again) = post(&hh1, "S1", "0001");
    assert_eq!(
        (status, &again),
        (200, &first),
        "a retry gets the first answer"
    );

    let (status, reused) = post(&hh1, "S2", "0001");
    assert_eq!(status, 409, "{reused}");
    assert_eq!(reused["code"], "scan_id_reused", "{reused}");
    let words = reused["error"].as_str().unwrap();
    assert!(
        words.contains("\"0001\"") && words.contains("hh-1"),
        "{words}"
    );
    assert!(words.contains("not recorded"), "{words}");
    // The handheld then sends it under its own id, and it is recorded.
    let (status, own) = post(&hh1, "S2", "0002");
    assert_eq!((status, &own["accepted"]), (200, &json!(true)), "{own}");
    assert_eq!(serials(&admin), ["S1", "S2"]);
}

#[test]
fn two_handhelds_numbering_their_scans_alike_do_not_swallow_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = start(dir.path());
    let hh1 = Api::new(daemon.base_url(), Some("handheld-token-1"));
    let hh2 = Api::new(daemon.base_url(), Some("handheld-token-2"));
    let admin = Api::new(daemon.base_url(), Some("admin-token-ids"));
    // Racing, with the same ids: each handheld's scans are its own.
    std::thread::scope(|s| {
        for (api, prefix) in [(&hh1, "A"), (&hh2, "B")] {
            s.spawn(move || {
                for n in 0..20 {
                    let (status, answer) = post(api, &format!("{prefix}{n}"), &n.to_string());
                    assert_eq!(status, 200, "{answer}");
                    assert_eq!(answer["accepted"], true, "{answer}");
                    let serial = &answer["movement"]["body"]["serial"];
                    assert_eq!(serial, &json!(format!("{prefix}{n}")), "{answer}");
                }
            });
        }
    });
    let mut got = serials(&admin);
    got.sort();
    let mut want: Vec<String> = (0..20)
        .flat_map(|n| [format!("A{n}"), format!("B{n}")])
        .collect();
    want.sort();
    assert_eq!(got, want);
}

/// A lot-level item (no serial): deciding it twice would count it twice.
fn lot_item(lot: &str) -> String {
    format!("]d201095060001343521730123110{lot}")
}

/// Each movement's lot and seq.
fn quantities(admin: &Api) -> Vec<(String, u64)> {
    journal(admin)
        .iter()
        .map(|m| {
            (
                m["body"]["lot"].as_str().unwrap_or_default().to_owned(),
                m["seq"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The daemon is killed right after it answered; the handheld, which did
/// not hear the answer, retries with the same scan_id once the daemon is
/// back: it gets the first answer (the same movement, or the same
/// refusal), nothing is recorded twice, and an id reused for another scan
/// is still refused.
#[test]
fn a_retry_after_a_restart_gets_the_first_answer() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = start(dir.path());
    let hh1 = Api::new(daemon.base_url(), Some("handheld-token-1"));
    let (status, first) = send(&hh1, &lot_item("L7"), "a-1");
    assert_eq!((status, &first["accepted"]), (200, &json!(true)), "{first}");
    // Refused: not GS1 at all.
    let (status, refused) = send(&hh1, "garbage", "a-2");
    assert_eq!(
        (status, &refused["accepted"]),
        (200, &json!(false)),
        "{refused}"
    );
    daemon.kill();

    let daemon = start(dir.path());
    let hh1 = Api::new(daemon.base_url(), Some("handheld-token-1"));
    let admin = Api::new(daemon.base_url(), Some("admin-token-ids"));
    let (status, again) = send(&hh1, &lot_item("L7"), "a-1");
    assert_eq!(
        (status, &again),
        (200, &first),
        "a retry after the restart gets the first answer"
    );
    let (status, again) = send(&hh1, "garbage", "a-2");
    assert_eq!((status, &again), (200, &refused), "the first refusal");
    let (status, reused) = send(&hh1, &lot_item("L8"), "a-1");
    assert_eq!(status, 409, "{reused}");
    assert_eq!(reused["code"], "scan_id_reused", "{reused}");
    // One receipt of lot L7, recorded once.
    assert_eq!(quantities(&admin), [("L7".to_owned(), 1)]);
    // The same id from another handheld is its own scan.
    let hh2 = Api::new(daemon.base_url(), Some("handheld-token-2"));
    let (status, other) = send(&hh2, &lot_item("L7"), "a-1");
    assert_eq!((status, &other["accepted"]), (200, &json!(true)), "{other}");
    assert_eq!(
        quantities(&admin),
        [("L7".to_owned(), 1), ("L7".to_owned(), 2)]
    );
}

/// The daemon keeps the answers of its last 4,096 scans in memory
/// (`site::retries`); a retry of an older one, with no restart between, is
/// answered from the scan's receipt in the store: the first answer, and
/// nothing recorded twice; another scan under the id is still refused.
#[test]
fn a_retry_of_a_scan_answered_thousands_of_scans_ago_gets_the_first_answer() {
    const LATER_SCANS: usize = 4_200;
    let dir = tempfile::tempdir().unwrap();
    let daemon = start(dir.path());
    let hh1 = Api::new(daemon.base_url(), Some("handheld-token-1"));
    let (status, first) = send(&hh1, &lot_item("OLD"), "old-1");
    assert_eq!((status, &first["accepted"]), (200, &json!(true)), "{first}");
    let threads = 8;
    std::thread::scope(|s| {
        for t in 0..threads {
            let api = Api::new(daemon.base_url(), Some("handheld-token-1"));
            s.spawn(move || {
                for n in (t..LATER_SCANS).step_by(threads) {
                    let (status, answer) = send(&api, &lot_item("NEW"), &format!("new-{n}"));
                    assert_eq!(
                        (status, &answer["accepted"]),
                        (200, &json!(true)),
                        "{answer}"
                    );
                }
            });
        }
    });
    let (status, again) = send(&hh1, &lot_item("OLD"), "old-1");
    assert_eq!(
        (status, &again),
        (200, &first),
        "a retry {LATER_SCANS} scans later gets the first answer"
    );
    let (status, reused) = send(&hh1, &lot_item("OTHER"), "old-1");
    assert_eq!(status, 409, "{reused}");
    assert_eq!(reused["code"], "scan_id_reused", "{reused}");
    let text = ureq::get(&format!("{}/api/v1/metrics", daemon.base_url()))
        .call()
        .expect("GET /api/v1/metrics")
        .into_string()
        .unwrap();
    assert!(
        text.lines()
            .any(|l| l == format!("scantrail_store_movements {}", LATER_SCANS + 1)),
        "one movement for the first scan and one for each later one:\n{text}"
    );
}
