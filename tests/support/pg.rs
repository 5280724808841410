//! PostgreSQL for tests: a database of its own for each test on the
//! machine's PostgreSQL (127.0.0.1:5432, trust auth, database `test`;
//! `SCANTRAIL_TEST_PG` overrides the URL), dropped when the test ends; and
//! a private instance (`initdb`/`pg_ctl` from /usr/lib/postgresql/15/bin in
//! a temp dir, on a free port) for a test that stops and starts its
//! server. A test that cannot reach PostgreSQL fails and says so.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// The shared server's maintenance database.
pub fn admin_url() -> String {
    std::env::var("SCANTRAIL_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// Runs `sql` on `url` (simple protocol) and returns every row as text.
pub fn query(url: &str, sql: &str) -> Vec<Vec<Option<String>>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "PostgreSQL at {url} cannot be reached ({e}): these tests need PostgreSQL 15 on 127.0.0.1:5432 with trust auth and a database `test` (or SCANTRAIL_TEST_PG)"
                )
            });
        tokio::spawn(connection);
        let mut rows = Vec::new();
        for m in client
            .simple_query(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
        {
            if let tokio_postgres::SimpleQueryMessage::Row(r) = m {
                rows.push((0..r.len()).map(|i| r.get(i).map(str::to_owned)).collect());
            }
        }
        rows
    })
}

/// One value of a one-row, one-column query.
pub fn scalar(url: &str, sql: &str) -> String {
    query(url, sql)
        .first()
        .and_then(|r| r.first().cloned().flatten())
        .unwrap_or_default()
}

/// A database of this test's own, dropped on drop.
pub struct TestDb {
    admin: String,
    pub name: String,
    pub url: String,
}

impl TestDb {
    /// A fresh database on the shared server, named after `tag`.
    pub fn create(tag: &str) -> TestDb {
        TestDb::on(&admin_url(), tag)
    }

    /// A fresh database on the server of `admin` (a maintenance URL).
    pub fn on(admin: &str, tag: &str) -> TestDb {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "scantrail_{tag}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        query(admin, &format!("CREATE DATABASE {name}"));
        let url = match admin.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{name}"),
            None => panic!("{admin} names no database"),
        };
        TestDb {
            admin: admin.to_owned(),
            name,
            url,
        }
    }

    pub fn query(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        query(&self.url, sql)
    }

    pub fn scalar(&self, sql: &str) -> String {
        scalar(&self.url, sql)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let name = self.name.clone();
        // Never panic in drop (the test may be unwinding already).
        let _ = std::panic::catch_unwind(move || {
            query(
                &admin,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            )
        });
    }
}

const BIN: &str = "/usr/lib/postgresql/15/bin";

/// A PostgreSQL server of the test's own, in a temp dir on a free port;
/// stopped (immediately) on drop. Run as the `postgres` user when the
/// test runs as root (initdb refuses root).
pub struct PrivatePg {
    pub dir: PathBuf,
    pub port: u16,
    _tmp: tempfile::TempDir,
}

/// Whether the test runs as root (the owner of its own /proc entry).
fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

fn as_postgres(program: &str) -> Command {
    let path = Path::new(BIN).join(program);
    assert!(
        path.exists(),
        "{} is missing: the PostgreSQL restart test needs the postgresql-15 server binaries",
        path.display()
    );
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(path);
        c
    } else {
        Command::new(path)
    }
}

fn run(mut c: Command, what: &str) {
    let out = c
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl PrivatePg {
    /// initdb (trust auth) and start on a free port.
    pub fn start() -> PrivatePg {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("pgdata");
        if is_root() {
            run(
                {
                    let mut c = Command::new("chown");
                    c.args(["postgres:postgres"]).arg(tmp.path());
                    c
                },
                "chown of the private PostgreSQL's dir",
            );
        }
        let mut init = as_postgres("initdb");
        init.args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
            .arg(&dir);
        run(init, "initdb");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = PrivatePg {
            dir,
            port,
            _tmp: tmp,
        };
        pg.pg_ctl_start();
        pg
    }

    fn pg_ctl_start(&self) {
        let mut c = as_postgres("pg_ctl");
        c.arg("-D").arg(&self.dir).args(["-w", "-t", "30", "-l"]);
        c.arg(self.dir.join("server.log")).arg("-o").arg(format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=on",
            self.port,
            self.dir.display()
        ));
        c.arg("start");
        run(c, "pg_ctl start");
    }

    /// The maintenance URL (`postgres` database).
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server at once (as a crash would: no checkpoint).
    pub fn stop_immediately(&self) {
        let mut c = as_postgres("pg_ctl");
        c.arg("-D")
            .arg(&self.dir)
            .args(["-m", "immediate", "-w", "-t", "30", "stop"]);
        run(c, "pg_ctl stop");
    }

    /// Starts it again on the same port.
    pub fn restart(&self) {
        self.pg_ctl_start();
    }

    pub fn wait_ready(&self) {
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "the private PostgreSQL did not come back on port {}",
            self.port
        );
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        let mut c = as_postgres("pg_ctl");
        c.arg("-D")
            .arg(&self.dir)
            .args(["-m", "immediate", "-w", "stop"]);
        let _ = c.output();
    }
}
