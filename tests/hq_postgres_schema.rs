//! Head office's PostgreSQL schema, on the machine's PostgreSQL: applied
//! once by nodes that start together (advisory lock), shaped for Citus
//! (every primary key and unique index of a distributed table includes
//! `site_id`, read from `pg_catalog`), movements partitioned by month of
//! head office's receive time.

mod support;

use scantrail::hq::postgres::{schema, Db};
use support::pg::TestDb;

fn open(url: &str) -> Db {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(Db::open(url, 2, "hq"))
        .unwrap_or_else(|e| panic!("cannot open head office's database: {e}"))
}

#[test]
fn nodes_starting_together_migrate_once_and_the_schema_can_be_distributed() {
    let db = TestDb::create("schema");
    // Four nodes at once: the advisory lock lets one apply each migration.
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let url = db.url.clone();
            std::thread::spawn(move || drop(open(&url)))
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(
        db.scalar("SELECT count(*) FROM schema_migrations"),
        schema::MIGRATIONS.len().to_string()
    );
    // Again: nothing to do, nothing changes.
    open(&db.url);
    assert_eq!(
        db.scalar("SELECT count(*) FROM schema_migrations"),
        schema::MIGRATIONS.len().to_string()
    );

    // Every table is either distributed by site_id or a reference table.
    let tables: Vec<String> = db
        .query(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition",
        )
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect();
    for t in &tables {
        assert!(
            schema::DISTRIBUTED.contains(&t.as_str()) || schema::REFERENCE.contains(&t.as_str()),
            "table {t} is neither distributed nor a reference table"
        );
    }
    // Every primary key and unique index of a distributed table (and of
    // each of its partitions) includes site_id.
    let mut checked = 0;
    for t in schema::DISTRIBUTED {
        let rows = db.query(&format!(
            "SELECT i.indexrelid::regclass::text,
                    bool_or(a.attname = 'site_id')
             FROM pg_index i
             JOIN pg_class c ON c.oid = i.indrelid
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
             WHERE i.indisunique
               AND (c.relname = '{t}' OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = '{t}'::regclass))
             GROUP BY 1"
        ));
        assert!(!rows.is_empty(), "{t} has no unique index at all");
        for r in rows {
            assert_eq!(
                r[1].as_deref(),
                Some("t"),
                "unique index {} of {t} lacks site_id",
                r[0].as_deref().unwrap_or("?")
            );
            checked += 1;
        }
    }
    assert!(checked >= schema::DISTRIBUTED.len(), "{checked}");
    // Movements and rejections: range-partitioned by received_at, with
    // this month's and next month's partitions there.
    for t in schema::PARTITIONED {
        let key = db.scalar(&format!("SELECT pg_get_partkeydef('{t}'::regclass)"));
        assert_eq!(key, "RANGE (received_at)", "{t}");
        let parts: usize = db
            .scalar(&format!(
                "SELECT count(*) FROM pg_inherits WHERE inhparent = '{t}'::regclass"
            ))
            .parse()
            .unwrap();
        assert!(parts >= 2, "{t} has {parts} partitions");
    }
    // The hash chain and raw scans are bytea, as they arrive.
    for (t, c) in [
        ("movements", "hash"),
        ("movements", "prev_hash"),
        ("movements", "scan_raw"),
        ("movements", "entry"),
        ("rejections", "raw"),
        ("chain_heads", "hash"),
    ] {
        assert_eq!(
            db.scalar(&format!(
                "SELECT data_type FROM information_schema.columns WHERE table_name = '{t}' AND column_name = '{c}'"
            )),
            "bytea",
            "{t}.{c}"
        );
    }
}

#[test]
fn a_database_with_a_newer_or_different_schema_is_refused_by_name() {
    let db = TestDb::create("schema_newer");
    open(&db.url);
    db.query("INSERT INTO schema_migrations (version, name, checksum) VALUES (99, 'future', 'x')");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let e = rt
        .block_on(Db::open(&db.url, 1, "hq"))
        .err()
        .expect("refused");
    assert!(e.to_string().contains("upgrade scantrail"), "{e}");
    db.query("DELETE FROM schema_migrations WHERE version = 99");
    db.query("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1");
    let e = rt
        .block_on(Db::open(&db.url, 1, "hq"))
        .err()
        .expect("refused");
    assert!(e.to_string().contains("different SQL"), "{e}");
}

#[test]
fn an_unreachable_database_is_named() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let e = rt
        .block_on(Db::open(
            &format!("postgres://postgres@127.0.0.1:{port}/none"),
            1,
            "hq",
        ))
        .err()
        .expect("refused");
    assert!(e.is_unavailable(), "{e}");
    assert!(e.to_string().contains("cannot be reached"), "{e}");
    let e = rt
        .block_on(Db::open("mysql://x", 1, "hq"))
        .err()
        .expect("refused");
    assert!(e.to_string().contains("postgres://"), "{e}");
}
