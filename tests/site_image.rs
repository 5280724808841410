//! A photo of a label sent to the real daemon (`POST /api/v1/scans/image`)
//! is received or refused exactly like the same data from a scanner.

#[path = "support/images.rs"]
mod images;
#[allow(dead_code)]
mod support;

use std::path::PathBuf;

use serde_json::{json, Value};
use support::daemon::{Api, Daemon};

const TOKEN: &str = "handheld-token-1";
/// The pharma pack's data, with an expiry still ahead: GTIN, expiry, lot,
/// serial, GS before the serial.
const PACK: &str = "01095060001343521730123110ABC123\u{1d}21XYZ987";

fn site() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("scantrail.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"data\"\n[site]\nid = \"image-site\"\n\
             [[stations]]\nid = \"dock-1\"\nmode = \"receive\"\nlocation = \"DOCK-1\"\n\
             [[handhelds]]\nid = \"camera-1\"\ntoken = \"{TOKEN}\"\nstation = \"dock-1\"\n"
        ),
    )
    .unwrap();
    (dir, config)
}

/// A multipart form with a `station` and an `image` field.
fn post_image(daemon: &Daemon, png: &[u8]) -> (u16, Value) {
    let boundary = "scantrail-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"station\"\r\n\r\ndock-1\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"label.png\"\r\n\
         Content-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(png);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let response = ureq::post(&daemon.url("/api/v1/scans/image"))
        .set("Authorization", &format!("Bearer {TOKEN}"))
        .set(
            "Content-Type",
            &format!("multipart/form-data; boundary={boundary}"),
        )
        .send_bytes(&body);
    let response = match response {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{e}"),
    };
    let status = response.status();
    (
        status,
        serde_json::from_str(&response.into_string().unwrap()).unwrap(),
    )
}

#[test]
fn a_photo_of_a_pharma_pack_is_decided_like_the_scanned_barcode() {
    let (_dir, config) = site();
    let daemon = Daemon::start(&config);
    let png = images::png(&images::render_2d(&images::gs1_datamatrix(PACK), 6));

    let (status, first) = post_image(&daemon, &png);
    assert_eq!(status, 200, "{first:?}");
    let barcodes = first["barcodes"].as_array().unwrap();
    assert_eq!(barcodes.len(), 1, "{first:?}");
    let answer = &barcodes[0]["answer"];
    assert_eq!(answer["accepted"], true, "{answer:?}");
    let movement = &answer["movement"]["body"];
    assert_eq!(movement["gtin"], "09506000134352");
    assert_eq!(
        (&movement["lot"], &movement["serial"]),
        (&json!("ABC123"), &json!("XYZ987"))
    );
    assert_eq!(movement["scan"]["symbology"], "]d2");
    assert_eq!(movement["scan"]["device_profile"], "image");

    // The same pack again, photographed or scanned, is the same duplicate.
    let (_, second) = post_image(&daemon, &png);
    let photo = &second["barcodes"][0]["answer"];
    let api = Api::new(daemon.base_url(), Some(TOKEN));
    let scanned = api
        .post_json(
            "/api/v1/scans",
            &json!({ "station": "dock-1", "data": format!("]d2{PACK}") }),
        )
        .body;
    assert_eq!(photo["code"], "duplicate_serial", "{photo:?}");
    assert_eq!(photo, &scanned);

    // Not an image: a clear error, and the daemon keeps serving.
    let (status, error) = post_image(&daemon, b"not a picture");
    assert_eq!(status, 422);
    assert!(
        error["error"].as_str().unwrap().contains("PNG or JPEG"),
        "{error:?}"
    );
    assert_eq!(api.get("/api/v1/health").status, 200);
    assert!(daemon.stop().success());
}
