//! The reports over every site, read with SQL: the reads of
//! `report::Source` as queries on the tables ingest keeps, so the
//! reports' own code turns them into exactly the JSON the embedded head
//! office gives. Runs on a blocking thread (as every report does) and
//! waits for each query there.
//!
//! Head office's state of a serial is the one of the site states that
//! supersedes the others (`model::serial_state::supersedes`: latest time,
//! then site, then seq): `DISTINCT ON (gtin, serial) ... ORDER BY at_ns
//! DESC, site_id DESC, by_seq DESC`, served by `serial_states_by_serial`.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};

use chrono::NaiveDate;
use tokio::runtime::Handle;

use super::ingest::movement_from;
use super::{Db, DbError};
use crate::model::{Balance, Movement, SerialState};
use crate::report::source::{SerialStates, Source};
use crate::report::{ReportError, Result};
use crate::store::envelope::Stored;
use crate::store::view::LotBalance;

impl From<DbError> for ReportError {
    fn from(e: DbError) -> ReportError {
        match e {
            DbError::Unavailable(_) => ReportError::Unavailable(e.to_string()),
            other => ReportError::Storage(other.to_string()),
        }
    }
}

/// One report's reads, on one pooled connection.
pub struct PgSource {
    client: deadpool_postgres::Object,
    handle: Handle,
    hq_id: String,
    /// Lot expiries read with the balances, so a stock report of many lots
    /// is one query, not one per lot.
    expiries: RefCell<HashMap<(String, String), Option<NaiveDate>>>,
}

impl PgSource {
    /// Takes a connection for a report; call on the blocking thread that
    /// runs it.
    pub fn open(db: &Db, handle: Handle) -> Result<PgSource> {
        let client = handle.block_on(db.client())?;
        Ok(PgSource {
            client,
            handle,
            hq_id: db.hq_id.clone(),
            expiries: RefCell::new(HashMap::new()),
        })
    }

    fn query(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<tokio_postgres::Row>> {
        self.handle
            .block_on(async {
                let statement = self.client.prepare_cached(sql).await?;
                self.client.query(&statement, params).await
            })
            .map_err(|e| DbError::from(e).into())
    }

    fn movements(&self, rows: Vec<tokio_postgres::Row>) -> Result<Vec<Movement>> {
        rows.iter()
            .map(|r| movement_from(r.get(0)).map_err(ReportError::from))
            .collect()
    }

    fn states(&self, rows: Vec<tokio_postgres::Row>) -> Result<Vec<(String, String, SerialState)>> {
        rows.iter()
            .map(|r| {
                let state = SerialState::decode(r.get(2))
                    .map_err(|e| ReportError::from(DbError::Damaged(e.to_string())))?;
                Ok((r.get(0), r.get(1), state))
            })
            .collect()
    }
}

/// A numeric's text (`-3`, `1.250`) as the exact balance it is.
fn balance_of(text: &str) -> Result<Balance> {
    let damaged = || ReportError::from(DbError::Damaged(format!("a lot balance reads {text:?}")));
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = format!("{int}{frac}");
    let mantissa: i128 = digits.parse().map_err(|_| damaged())?;
    let scale = u8::try_from(frac.len()).map_err(|_| damaged())?;
    Ok(Balance { mantissa, scale })
}

/// The serial states of a GTIN from a serial on, a page at a time (the
/// range scan seeks often and reads little after each seek).
struct Pages<'a> {
    source: &'a PgSource,
    gtin: String,
    /// The next page starts at this serial (inclusive the first time).
    from: String,
    inclusive: bool,
    page: i64,
    buffer: VecDeque<(String, String, SerialState)>,
    done: bool,
}

const FIRST_PAGE: i64 = 32;
const MAX_PAGE: i64 = 4096;

impl Iterator for Pages<'_> {
    type Item = Result<(String, String, SerialState)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.buffer.is_empty() && !self.done {
            let sql = if self.inclusive {
                "SELECT DISTINCT ON (serial) gtin, serial, entry FROM serial_states
                 WHERE gtin = $1 AND serial >= $2
                 ORDER BY serial, at_ns DESC, site_id DESC, by_seq DESC LIMIT $3"
            } else {
                "SELECT DISTINCT ON (serial) gtin, serial, entry FROM serial_states
                 WHERE gtin = $1 AND serial > $2
                 ORDER BY serial, at_ns DESC, site_id DESC, by_seq DESC LIMIT $3"
            };
            let rows = match self
                .source
                .query(sql, &[&self.gtin, &self.from, &self.page])
            {
                Ok(rows) => rows,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            };
            self.done = (rows.len() as i64) < self.page;
            self.page = (self.page * 4).min(MAX_PAGE);
            match self.source.states(rows) {
                Ok(states) => self.buffer.extend(states),
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
            if let Some((_, serial, _)) = self.buffer.back() {
                self.from = serial.clone();
                self.inclusive = false;
            }
        }
        self.buffer.pop_front().map(Ok)
    }
}

const STATES: &str = "SELECT DISTINCT ON (gtin, serial) gtin, serial, entry FROM serial_states";
const STATE_ORDER: &str = "ORDER BY gtin, serial, at_ns DESC, site_id DESC, by_seq DESC";

impl Source for PgSource {
    fn site(&self) -> &str {
        &self.hq_id
    }

    fn movements_of_lot(&self, gtin: &str, lot: &str) -> Result<Vec<Movement>> {
        let rows = self.query(
            "SELECT entry FROM movements WHERE gtin = $1 AND lot = $2",
            &[&gtin, &lot],
        )?;
        self.movements(rows)
    }

    fn movements_of_serial(&self, gtin: &str, serial: &str) -> Result<Vec<Movement>> {
        let rows = self.query(
            "SELECT entry FROM movements WHERE gtin = $1 AND serial = $2",
            &[&gtin, &serial],
        )?;
        self.movements(rows)
    }

    fn movements_of_serials(&self, gtin: &str, serials: &[String]) -> Result<Vec<Movement>> {
        // Read as a few key ranges of `movements_by_serial`, one per
        // stretch of the range (`range::spans`), in one statement: a range
        // recall's serials are neighbours in the index, and `serial =
        // ANY($2)` descends the index once per serial (10,000 descents
        // for a range of 10,000, before PostgreSQL 17). A stretch may hold
        // serials that were not asked for: only those asked for are kept.
        let spans = crate::report::range::spans(serials);
        let lo: Vec<&str> = spans.iter().map(|s| s.lo.as_str()).collect();
        let hi: Vec<&str> = spans.iter().map(|s| s.hi.as_str()).collect();
        let len: Vec<Option<i32>> = spans
            .iter()
            .map(|s| s.len.and_then(|l| i32::try_from(l).ok()))
            .collect();
        let rows = self.query(
            "SELECT m.serial, m.entry
             FROM unnest($2::text[], $3::text[], $4::int[]) AS s(lo, hi, len)
             CROSS JOIN LATERAL (
                 SELECT serial, entry FROM movements
                 WHERE gtin = $1 AND serial >= s.lo AND serial <= s.hi
                   AND (s.len IS NULL OR octet_length(serial) = s.len)
             ) m",
            &[&gtin, &lo, &hi, &len],
        )?;
        let wanted: HashSet<&str> = serials.iter().map(String::as_str).collect();
        let mut out = Vec::with_capacity(rows.len());
        for r in rows.iter().filter(|r| wanted.contains(r.get::<_, &str>(0))) {
            out.push(movement_from(r.get(1))?);
        }
        Ok(out)
    }

    fn movement(&self, origin: &str, seq: u64) -> Result<Option<Movement>> {
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        let rows = self.query(
            "SELECT entry FROM movements WHERE site_id = $1 AND seq = $2",
            &[&origin, &seq],
        )?;
        Ok(self.movements(rows)?.pop())
    }

    fn balances(&self, gtin: Option<&str>, lot: Option<&str>) -> Result<Vec<(String, LotBalance)>> {
        // One statement per filter, not `$1 IS NULL OR gtin = $1`: a
        // prepared statement's generic plan cannot use an index on such a
        // condition, so PostgreSQL planned it anew on every call.
        const COLUMNS: &str = "SELECT b.gtin, b.lot, b.site_id, b.location, b.unit, b.value::text,
                    (SELECT min(e.expiry) FROM lot_expiries e WHERE e.gtin = b.gtin AND e.lot = b.lot)
             FROM lot_balances b";
        const ORDER: &str = "ORDER BY b.gtin, b.lot, b.site_id, b.location, b.unit";
        let rows = match (gtin, lot) {
            (Some(g), Some(l)) => self.query(
                &format!("{COLUMNS} WHERE b.gtin = $1 AND b.lot = $2 {ORDER}"),
                &[&g, &l],
            )?,
            (Some(g), None) => {
                self.query(&format!("{COLUMNS} WHERE b.gtin = $1 {ORDER}"), &[&g])?
            }
            (None, Some(l)) => self.query(&format!("{COLUMNS} WHERE b.lot = $1 {ORDER}"), &[&l])?,
            (None, None) => self.query(&format!("{COLUMNS} {ORDER}"), &[])?,
        };
        let mut expiries = self.expiries.borrow_mut();
        rows.iter()
            .map(|r| {
                let gtin: String = r.get(0);
                let lot: String = r.get(1);
                expiries.insert((gtin.clone(), lot.clone()), r.get(6));
                Ok((
                    gtin,
                    LotBalance {
                        lot,
                        origin: r.get(2),
                        location: r.get(3),
                        unit: r.get(4),
                        balance: balance_of(r.get(5))?,
                    },
                ))
            })
            .collect()
    }

    fn lot_expiry(&self, gtin: &str, lot: &str) -> Result<Option<NaiveDate>> {
        let key = (gtin.to_owned(), lot.to_owned());
        if let Some(e) = self.expiries.borrow().get(&key) {
            return Ok(*e);
        }
        let rows = self.query(
            "SELECT min(expiry) FROM lot_expiries WHERE gtin = $1 AND lot = $2",
            &[&gtin, &lot],
        )?;
        let e = rows.first().and_then(|r| r.get(0));
        self.expiries.borrow_mut().insert(key, e);
        Ok(e)
    }

    fn serial_states(&self, gtin: Option<&str>) -> SerialStates<'_> {
        let rows = self.query(
            &format!("{STATES} WHERE ($1::text IS NULL OR gtin = $1) {STATE_ORDER}"),
            &[&gtin],
        );
        match rows.and_then(|rows| self.states(rows)) {
            Ok(states) => Box::new(states.into_iter().map(Ok)),
            Err(e) => Box::new(std::iter::once(Err(e))),
        }
    }

    fn serial_states_from(&self, gtin: &str, from: &str) -> SerialStates<'_> {
        Box::new(Pages {
            source: self,
            gtin: gtin.to_owned(),
            from: from.to_owned(),
            inclusive: true,
            page: FIRST_PAGE,
            buffer: VecDeque::new(),
            done: false,
        })
    }

    fn serial_state(&self, gtin: &str, serial: &str) -> Result<Option<SerialState>> {
        let rows = self.query(
            &format!("{STATES} WHERE gtin = $1 AND serial = $2 {STATE_ORDER}"),
            &[&gtin, &serial],
        )?;
        Ok(self.states(rows)?.pop().map(|(_, _, s)| s))
    }

    /// Head office's product master: what it published.
    fn product(&self, gtin: &str) -> Result<Option<Vec<u8>>> {
        let rows = self.query(
            "SELECT record FROM published WHERE kind = 'products' AND key = $1",
            &[&gtin.as_bytes()],
        )?;
        Ok(rows.first().and_then(|r| r.get(0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_text_reads_back_as_the_exact_balance() {
        for (text, mantissa, scale) in [
            ("0", 0, 0),
            ("-3", -3, 0),
            ("1.250", 1250, 3),
            ("-0.05", -5, 2),
            ("0.000", 0, 3),
        ] {
            assert_eq!(
                balance_of(text).unwrap(),
                Balance { mantissa, scale },
                "{text}"
            );
            assert_eq!(crate::report::decimal(Balance { mantissa, scale }), text);
        }
        assert!(balance_of("1e5").is_err());
    }
}
