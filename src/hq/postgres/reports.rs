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
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use chrono::NaiveDate;
use tokio::runtime::Handle;

use super::ingest::movement_from;
use super::{Db, DbError};
use crate::model::{Balance, Movement, SerialState};
use crate::report::moved::Moved;
use crate::report::source::{Run, SerialStates, Source};
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
    /// The page of serial states read last (`Pages`).
    last_page: RefCell<Option<Rc<Page>>>,
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
            last_page: RefCell::new(None),
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
        // Sized up front: collecting fallible items grows the vector a
        // doubling at a time, and a movement is hundreds of bytes to copy
        // at each.
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(movement_from(r.get(0))?);
        }
        Ok(out)
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

/// Runs of at least this many serials are read as a key range (a query
/// each, a round trip); shorter ones' serials by `= ANY`, an index
/// descent each.
const LONG_RUN: usize = 32;
/// At most this many key-range queries for one recall: a range whose
/// serials interleave with others' everywhere is read by `= ANY`.
const MAX_RANGES: usize = 16;

/// A stored movement as a recall lists it (`report::moved`).
fn moved_from(entry: &[u8]) -> Result<Moved> {
    Moved::decode(entry).map_err(|e| DbError::Damaged(e.to_string()).into())
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
///
/// A range scan seeks forward past serials it does not want (a numeric
/// range skips the longer serials sharing a prefix: "10100000".."10100099"
/// between "101000" and "101001"). The embedded store seeks in memory; here
/// each seek was a query, a round trip each, hundreds for one recall. So
/// the last page read is kept on the source: a seek that lands inside it
/// goes on from there, one that lands past it reads on with the grown page
/// size, and a page's states are decoded only when taken.
struct Pages<'a> {
    source: &'a PgSource,
    gtin: String,
    page: Option<Rc<Page>>,
    /// The next row of `page` to give.
    at: usize,
    /// Where to read from when `page` is used up (or there is none yet).
    from: String,
    inclusive: bool,
    size: i64,
    done: bool,
}

/// One page of serial states as read: (serial, entry) rows in serial
/// order.
struct Page {
    gtin: String,
    rows: Vec<tokio_postgres::Row>,
    /// Fewer rows than asked for: nothing comes after the last one.
    last: bool,
    /// The size of the page to read after this one.
    next_size: i64,
}

impl Page {
    fn serial(&self, i: usize) -> &str {
        self.rows[i].get(0)
    }
}

const FIRST_PAGE: i64 = 32;
const MAX_PAGE: i64 = 4096;

impl<'a> Pages<'a> {
    fn new(source: &'a PgSource, gtin: &str, from: &str) -> Pages<'a> {
        let mut pages = Pages {
            source,
            gtin: gtin.to_owned(),
            page: None,
            at: 0,
            from: from.to_owned(),
            inclusive: true,
            size: FIRST_PAGE,
            done: false,
        };
        let last = source.last_page.borrow().clone();
        if let Some(page) = last.filter(|p| p.gtin == gtin && !p.rows.is_empty()) {
            let (first, end) = (page.serial(0), page.serial(page.rows.len() - 1));
            if first <= from && from <= end {
                // Inside the page read last: go on from there.
                pages.at = page.rows.partition_point(|r| r.get::<_, &str>(0) < from);
                pages.from = end.to_owned();
                pages.inclusive = false;
                pages.size = page.next_size;
                pages.done = page.last;
                pages.page = Some(page);
            } else if from > end {
                // Past it: read on from `from`, at the grown size.
                pages.size = page.next_size;
                pages.done = page.last;
            }
        }
        pages
    }

    /// Reads the next page; false when there is nothing more to read.
    fn read(&mut self) -> Result<bool> {
        let sql = if self.inclusive {
            "SELECT DISTINCT ON (serial) serial, entry FROM serial_states
             WHERE gtin = $1 AND serial >= $2
             ORDER BY serial, at_ns DESC, site_id DESC, by_seq DESC LIMIT $3"
        } else {
            "SELECT DISTINCT ON (serial) serial, entry FROM serial_states
             WHERE gtin = $1 AND serial > $2
             ORDER BY serial, at_ns DESC, site_id DESC, by_seq DESC LIMIT $3"
        };
        let rows = self
            .source
            .query(sql, &[&self.gtin, &self.from, &self.size])?;
        let page = Rc::new(Page {
            gtin: self.gtin.clone(),
            last: (rows.len() as i64) < self.size,
            next_size: (self.size * 4).min(MAX_PAGE),
            rows,
        });
        self.done = page.last;
        self.size = page.next_size;
        self.at = 0;
        if let Some(r) = page.rows.last() {
            self.from = r.get::<_, &str>(0).to_owned();
            self.inclusive = false;
        }
        let any = !page.rows.is_empty();
        *self.source.last_page.borrow_mut() = Some(page.clone());
        self.page = Some(page);
        Ok(any)
    }
}

impl Iterator for Pages<'_> {
    type Item = Result<(String, String, SerialState)>;

    fn next(&mut self) -> Option<Self::Item> {
        let used_up = self.page.as_ref().is_none_or(|p| self.at >= p.rows.len());
        if used_up {
            if self.done {
                return None;
            }
            match self.read() {
                Ok(true) => {}
                Ok(false) => return None,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        let page = self.page.as_ref()?;
        let row = &page.rows[self.at];
        self.at += 1;
        Some(
            SerialState::decode(row.get(1))
                .map(|state| (self.gtin.clone(), row.get::<_, &str>(0).to_owned(), state))
                .map_err(|e| ReportError::from(DbError::Damaged(e.to_string()))),
        )
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

    fn recall_lot(&self, gtin: &str, lot: &str) -> Result<Vec<Moved>> {
        let rows = self.query(
            "SELECT entry FROM movements WHERE gtin = $1 AND lot = $2",
            &[&gtin, &lot],
        )?;
        rows.iter().map(|r| moved_from(r.get(0))).collect()
    }

    fn recall_serials(&self, gtin: &str, serials: &[String], runs: &[Run]) -> Result<Vec<Moved>> {
        // The longest runs (`range::scan`'s: serials side by side in the
        // serial index, nothing else between them) are read as key ranges
        // of `movements_by_serial`, a query each; the serials of the
        // others with one `serial = ANY($2)`, which descends the index
        // once per serial. A key range holds only the range's serials:
        // one from the first serial to the last would also hold every
        // longer serial sorting inside ("10100000".. between "101000" and
        // "101001"), and their movements were three quarters of what
        // PostgreSQL read (BENCHMARKS, issue 19). Not one statement of
        // all the ranges: a prepared join of them got a generic plan
        // that scanned every movement of the GTIN.
        let mut long: Vec<&Run> = runs.iter().filter(|r| r.len() >= LONG_RUN).collect();
        long.sort_by_key(|r| std::cmp::Reverse(r.len()));
        long.truncate(MAX_RANGES);
        let mut in_range = vec![false; serials.len()];
        for r in &long {
            in_range[(*r).clone()].fill(true);
        }
        let wanted: HashSet<&str> = serials.iter().map(String::as_str).collect();
        let mut out = Vec::new();
        for r in long {
            let rows = self.query(
                "SELECT serial, entry FROM movements
                 WHERE gtin = $1 AND serial >= $2 AND serial <= $3",
                &[&gtin, &serials[r.start], &serials[r.end - 1]],
            )?;
            out.reserve(rows.len());
            // A movement of a serial the serial index did not hold is
            // not the range's.
            for r in rows.iter().filter(|r| wanted.contains(r.get::<_, &str>(0))) {
                out.push(moved_from(r.get(1))?);
            }
        }
        let rest: Vec<&str> = serials
            .iter()
            .zip(&in_range)
            .filter(|(_, taken)| !**taken)
            .map(|(s, _)| s.as_str())
            .collect();
        if !rest.is_empty() {
            let rows = self.query(
                "SELECT entry FROM movements WHERE gtin = $1 AND serial = ANY($2)",
                &[&gtin, &rest],
            )?;
            out.reserve(rows.len());
            for r in &rows {
                out.push(moved_from(r.get(0))?);
            }
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
        Box::new(Pages::new(self, gtin, from))
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
