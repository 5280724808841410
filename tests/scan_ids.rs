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

fn serials(admin: &Api) -> Vec<String> {
    let r = admin.get("/api/v1/journal");
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"]["serial"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn post(api: &Api, serial: &str, id: &str) -> (u16, Value) {
    let r = api.post_json(
        "/api/v1/scans",
        &json!({ "data": serial_item(serial), "scan_id": id }),
    );
    (r.status, r.body)
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
