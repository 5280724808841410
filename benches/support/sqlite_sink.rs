//! SQLite as a `Sink` for the journal benchmarks: the very same committer,
//! batches and (key, value) entries as the sled store — journal, derived
//! index entries, balances, serial states, seq counter — in one
//! `WITHOUT ROWID` table keyed like sled's tree, committed per batch in one
//! transaction with WAL and `synchronous=FULL` (fsync at every commit).

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};
use scantrail::store::committer::Sink;
use scantrail::store::{Result, StoreError};

pub struct SqliteSink {
    conn: Connection,
    path: std::path::PathBuf,
}

impl SqliteSink {
    pub fn open(path: &Path) -> SqliteSink {
        let conn = Connection::open(path).expect("open sqlite");
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.pragma_update(None, "synchronous", "FULL").unwrap();
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID;",
        )
        .unwrap();
        SqliteSink {
            conn,
            path: path.to_owned(),
        }
    }

    fn err(&self, e: rusqlite::Error) -> StoreError {
        StoreError::Damaged {
            path: self.path.clone(),
            detail: e.to_string(),
        }
    }
}

impl Sink for SqliteSink {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT v FROM kv WHERE k = ?1")
            .map_err(|e| self.err(e))?;
        stmt.query_row(params![key], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    fn last_under(&self, run: &[u8]) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        // Every key under `run` is `run` and an 8-byte seq: the last one
        // sorts before `run` followed by nine 0xFF bytes.
        let mut end = run.to_vec();
        end.extend_from_slice(&[0xFF; 9]);
        let mut stmt = self
            .conn
            .prepare_cached("SELECT k, v FROM kv WHERE k >= ?1 AND k < ?2 ORDER BY k DESC LIMIT 1")
            .map_err(|e| self.err(e))?;
        stmt.query_row(params![run, end], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(|e| self.err(e))
    }

    fn last_between(&self, low: &[u8], high: &[u8]) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT k, v FROM kv WHERE k >= ?1 AND k <= ?2 ORDER BY k DESC LIMIT 1")
            .map_err(|e| self.err(e))?;
        stmt.query_row(params![low, high], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(|e| self.err(e))
    }

    fn write_durably(&mut self, writes: Vec<(Vec<u8>, Vec<u8>)>) -> Result<()> {
        let tx = self.conn.transaction().map_err(|e| StoreError::Damaged {
            path: self.path.clone(),
            detail: e.to_string(),
        })?;
        {
            let mut stmt = tx
                .prepare_cached("INSERT OR REPLACE INTO kv (k, v) VALUES (?1, ?2)")
                .map_err(|e| StoreError::Damaged {
                    path: self.path.clone(),
                    detail: e.to_string(),
                })?;
            for (k, v) in &writes {
                stmt.execute(params![k, v])
                    .map_err(|e| StoreError::Damaged {
                        path: self.path.clone(),
                        detail: e.to_string(),
                    })?;
            }
        }
        tx.commit().map_err(|e| StoreError::Damaged {
            path: self.path.clone(),
            detail: e.to_string(),
        })
    }
}

/// Index look-ups as the store does them: a prefix range scan.
pub fn ids_under(conn_path: &Path, prefix: &[u8]) -> usize {
    let conn = Connection::open(conn_path).unwrap();
    let mut end = prefix.to_vec();
    // The prefix ends with a string terminator (00 01); bump its last byte
    // for the exclusive upper bound.
    if let Some(last) = end.last_mut() {
        *last += 1;
    }
    let mut stmt = conn
        .prepare_cached("SELECT count(*) FROM kv WHERE k >= ?1 AND k < ?2")
        .unwrap();
    stmt.query_row(params![prefix, end], |r| r.get::<_, i64>(0))
        .unwrap() as usize
}
