//! Head office's reports on PostgreSQL answer exactly what the embedded
//! head office answers: the same multi-site story is ingested into both
//! (the same batches, an overlapping resend, a refused rewrite), the same
//! product master published, and every report compared byte for byte.

mod support;

use std::sync::Arc;

use scantrail::hq::ingester::Ingester;
use scantrail::hq::postgres::Db;
use scantrail::hq::publish;
use scantrail::hq::sites::Sites;
use scantrail::hq::storage::Storage;
use scantrail::model::Reference;
use scantrail::model::{Entries, Movement};
use scantrail::station::catalog::{self, Author};
use scantrail::store::ingest::{Incoming, Refusal};
use scantrail::store::{OpenOptions, Store};
use support::pg::TestDb;
use support::story::{self, two_sites};

fn batch(origin: &str, movements: &[Movement]) -> Incoming {
    Incoming {
        origin: origin.to_owned(),
        entries: Entries::Movements(movements.to_vec()),
        received_at: chrono::Utc::now(),
    }
}

async fn body(r: axum::response::Response) -> (u16, String) {
    let status = r.status().as_u16();
    let bytes = axum::body::to_bytes(r.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

#[test]
fn every_report_over_two_sites_is_byte_identical_to_the_embedded_head_office() {
    let db = TestDb::create("parity");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let pg = rt
        .block_on(Db::open(&db.url, 4, "hq"))
        .unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path(), OpenOptions::create("hq".into())).unwrap());
    let backends = [
        (
            "embedded",
            Storage::Embedded {
                ingester: Ingester::start(store.clone()).unwrap(),
                sites: Arc::new(Sites::open(store.clone()).unwrap()),
                store: store.clone(),
            },
        ),
        ("postgres", Storage::Postgres(pg.clone())),
    ];
    let (north, south) = two_sites();
    let (n, s) = (&north.movements, &south.movements);
    // Interleaved batches of both sites, and a resend overlapping what was
    // taken (its first entries absorbed as duplicates).
    let plan: Vec<(&str, &[Movement])> = vec![
        ("north", &n[..7]),
        ("south", &s[..11]),
        ("north", &n[5..20]),
        ("south", &s[11..60]),
        ("north", &n[20..]),
        ("south", &s[40..]),
    ];
    let author = Author {
        by: "quality".into(),
        why: "product master".into(),
    };
    let mut ingested = Vec::new();
    for (name, storage) in &backends {
        let mut answers = Vec::new();
        for (origin, movements) in &plan {
            let a = rt
                .block_on(storage.ingest(batch(origin, movements)))
                .unwrap()
                .unwrap();
            answers.push((a.head.seq, a.new, a.duplicates, a.corrected_again));
        }
        assert_eq!(answers[2].1, 13, "{name}: {answers:?}");
        assert_eq!(answers[2].2, 2, "{name}: {answers:?}");
        // History rewritten at north: refused, nothing written.
        let mut other = n[3].clone();
        other.body.operator = "mallory".into();
        other.hash = scantrail::store::chain::recompute(&other);
        let refused = rt
            .block_on(storage.ingest(batch("north", &[other])))
            .unwrap()
            .unwrap_err();
        assert!(
            matches!(refused, Refusal::Conflict { seq: 4, .. }),
            "{name}: {refused:?}"
        );
        // A gap: refused with the expected seq.
        let gap = rt
            .block_on(storage.ingest(batch("north", &[n[2].clone(), n[4].clone()])))
            .unwrap()
            .unwrap_err();
        assert_eq!(gap, Refusal::NotConsecutive { seq: 5 }, "{name}");
        let published = publish::Published::new(storage, rt.handle().clone());
        catalog::import(&published, Reference::Products, story::PRODUCTS, &author).unwrap();
        eprintln!("{name}: ingested {answers:?}");
        ingested.push(answers);
    }
    // Each batch answered alike: head, new, duplicates and the movements
    // corrected again (none in the story: each correction is its
    // movement's first, also when it arrives in the batch it corrects).
    assert_eq!(ingested[0], ingested[1], "embedded, then PostgreSQL");
    assert!(
        ingested[1].iter().all(|a| a.3.is_empty()),
        "{:?}",
        ingested[1]
    );
    assert!(store.verify().unwrap().is_ok());
    assert_eq!(
        db.scalar("SELECT count(*) FROM movements"),
        (n.len() + s.len()).to_string()
    );
    // Every report kind head office answers is among the compared ones.
    for kind in scantrail::report::KINDS {
        assert!(
            story::QUERIES.iter().any(|(k, _)| *k == kind),
            "report {kind} is not compared between the backends"
        );
    }
    let mut found = 0;
    for (kind, query) in story::QUERIES {
        let pairs: Vec<(String, String)> = url_pairs(query);
        let mut outs = Vec::new();
        for (_, storage) in &backends {
            outs.push(rt.block_on(async {
                body(storage.report(kind.to_string(), pairs.clone()).await).await
            }));
        }
        assert_eq!(outs[0].0, 200, "{kind}?{query}: {}", outs[0].1);
        assert_eq!(
            outs[0], outs[1],
            "{kind}?{query}: the embedded head office (left) and PostgreSQL (right) differ"
        );
        if outs[0].1.contains("\"found\":true") {
            found += 1;
        }
    }
    // The story is not empty: most queries find something.
    assert!(found >= 20, "only {found} reports found anything");
    // A numeric range read by its key stretches: in it the serials of
    // every length and with leading zeros, out of it the ones the
    // stretches also hold ("1005" between "100" and "151", "10A").
    let (_, r) = rt.block_on(async {
        body(
            backends[1]
                .1
                .report(
                    "recall".into(),
                    url_pairs("gtin=09506000134369&from=9&to=1000"),
                )
                .await,
        )
        .await
    });
    for serial in ["9", "98", "0098", "100", "000100", "151", "1000"] {
        let line = format!("{{\"serial\":\"{serial}\",");
        assert!(r.contains(&line), "{serial} missing: {r}");
    }
    for serial in ["0", "00", "1005", "10A", "AB100"] {
        assert!(
            !r.contains(&format!("\"serial\":\"{serial}\"")),
            "{serial} listed: {r}"
        );
    }
    // Warranty reads head office's published product master.
    let (_, w) = rt.block_on(async {
        body(
            backends[1]
                .1
                .report(
                    "warranty".into(),
                    url_pairs("gtin=09506000134352&serial=S001&today=2027-01-01"),
                )
                .await,
        )
        .await
    });
    assert!(
        w.contains("\"description\":\"Insulin pen\"") && w.contains("\"in_warranty\":true"),
        "{w}"
    );
    // A second correction of a corrected movement: both flag it alike,
    // naming the first correction.
    let mut north = north;
    let first = north
        .movements
        .iter()
        .find(|m| m.body.kind == scantrail::model::Kind::Correction)
        .unwrap()
        .clone();
    let mut again = first.body.clone();
    again.device_time += chrono::Duration::seconds(1);
    north.push(again);
    let last = north.movements.last().unwrap().clone();
    for (name, storage) in &backends {
        let a = rt
            .block_on(storage.ingest(batch("north", std::slice::from_ref(&last))))
            .unwrap()
            .unwrap();
        assert_eq!(
            a.corrected_again.len(),
            1,
            "{name}: {:?}",
            a.corrected_again
        );
        assert!(
            a.corrected_again[0].ends_with(&format!("already corrected by north:{}", first.seq)),
            "{name}: {:?}",
            a.corrected_again
        );
    }
}

fn url_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect()
}
