//! Ingest into PostgreSQL: one transaction per upload. It locks the site's
//! chain-head row (`SELECT ... FOR UPDATE`), checks the batch against it
//! with the embedded store's own rules (`store::ingest::check_links`:
//! hashes recomputed by `store::chain`, resends absorbed, rewritten
//! history refused), writes the new entries with binary COPY, updates the
//! derived tables by the domain's rules (`model::balance`,
//! `model::serial_state`) and moves the head, then commits. A node that
//! gets the same batch at the same moment waits on the lock and then finds
//! every entry held: it is absorbed, never applied twice.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

use super::{text, Db, DbError, DbResult};
use crate::model::{balance, serial_state, Balance, Entries, Hash, Kind, Log, Movement};
use crate::model::{MovementId, Rejection, SerialState};
use crate::store::envelope::{Head, Stored};
use crate::store::ingest::{check_links, links, Incoming, Ingested, Refusal};

/// The `log` column of `chain_heads`.
pub fn log_name(log: Log) -> &'static str {
    match log {
        Log::Movements => "movements",
        Log::Rejections => "rejections",
    }
}

/// The table holding a log's entries.
pub(super) fn table(log: Log) -> &'static str {
    match log {
        Log::Movements => "movements",
        Log::Rejections => "rejections",
    }
}

fn hash_of(bytes: &[u8]) -> DbResult<Hash> {
    <[u8; 32]>::try_from(bytes)
        .map(Hash)
        .map_err(|_| DbError::Damaged(format!("a stored hash has {} bytes", bytes.len())))
}

fn seq_of(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn sql_seq(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

/// Where `site`'s `log` ends (seq 0 when nothing is held).
pub async fn head(
    client: &impl deadpool_postgres::GenericClient,
    site: &str,
    log: Log,
) -> DbResult<Head> {
    let row = client
        .query_opt(
            "SELECT seq, hash FROM chain_heads WHERE site_id = $1 AND log = $2",
            &[&site, &log_name(log)],
        )
        .await?;
    match row {
        Some(r) => Ok(Head {
            seq: seq_of(r.get(0)),
            hash: hash_of(r.get(1))?,
        }),
        None => Ok(Head {
            seq: 0,
            hash: Hash::GENESIS,
        }),
    }
}

impl Db {
    /// Ingests one site's batch atomically and durably (committed before
    /// this returns). `Ok(Err(_))` is a refusal of the site's data, with
    /// nothing written; `Err` a database failure, with nothing written.
    pub async fn ingest(&self, incoming: &Incoming) -> DbResult<Result<Ingested, Refusal>> {
        let mut client = self.client().await?;
        self.partitions_for(&mut client, incoming.received_at)
            .await?;
        let origin = incoming.origin.as_str();
        let log = incoming.entries.log();
        let tx = client.transaction().await?;
        let lock = "SELECT seq, hash FROM chain_heads WHERE site_id = $1 AND log = $2 FOR UPDATE";
        let mut row = tx.query_opt(lock, &[&origin, &log_name(log)]).await?;
        if row.is_none() {
            tx.execute(
                "INSERT INTO chain_heads (site_id, log, seq, hash) VALUES ($1, $2, 0, $3) ON CONFLICT DO NOTHING",
                &[&origin, &log_name(log), &Hash::GENESIS.0.as_slice()],
            )
            .await?;
            row = tx.query_opt(lock, &[&origin, &log_name(log)]).await?;
        }
        let row = row.ok_or_else(|| DbError::Damaged(format!("no chain head for {origin}")))?;
        let start = Head {
            seq: seq_of(row.get(0)),
            hash: hash_of(row.get(1))?,
        };
        let links = links(&incoming.entries);
        let mut held = HashMap::new();
        if let Some((first, last)) = incoming.entries.span() {
            if first <= start.seq {
                let sql = format!(
                    "SELECT seq, hash FROM {} WHERE site_id = $1 AND seq BETWEEN $2 AND $3",
                    table(log)
                );
                let to = last.min(start.seq);
                for r in tx
                    .query(&sql, &[&origin, &sql_seq(first), &sql_seq(to)])
                    .await?
                {
                    held.insert(seq_of(r.get(0)), hash_of(r.get(1))?);
                }
            }
        }
        let checked = match check_links(origin, &links, start, |seq| {
            held.get(&seq).copied().ok_or_else(|| {
                DbError::Damaged(format!(
                    "site {origin} seq {seq} is below its chain head but missing"
                ))
            })
        })? {
            Ok(c) => c,
            // Nothing written; dropping the transaction rolls it back.
            Err(refusal) => return Ok(Err(refusal)),
        };
        let fresh = checked.fresh.clone();
        let mut corrected_again = Vec::new();
        if !fresh.is_empty() {
            match &incoming.entries {
                Entries::Movements(v) => {
                    let new = &v[fresh];
                    // Derived first: it looks for earlier corrections of
                    // what the batch corrects, and must not find the
                    // batch's own.
                    corrected_again = derive(&tx, origin, new).await?;
                    copy_movements(&tx, new, incoming.received_at).await?;
                }
                Entries::Rejections(v) => {
                    copy_rejections(&tx, &v[fresh], incoming.received_at).await?;
                }
            }
            tx.execute(
                "UPDATE chain_heads SET seq = $3, hash = $4 WHERE site_id = $1 AND log = $2",
                &[
                    &origin,
                    &log_name(log),
                    &sql_seq(checked.head.seq),
                    &checked.head.hash.0.as_slice(),
                ],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(Ok(Ingested {
            head: checked.head,
            new: checked.fresh.len(),
            duplicates: checked.duplicates,
            corrected_again,
        }))
    }

    /// Makes sure the partitions for `at`'s month (and the next) exist,
    /// once per month per node.
    pub(crate) async fn partitions_for(
        &self,
        client: &mut deadpool_postgres::Object,
        at: DateTime<Utc>,
    ) -> DbResult<()> {
        let month = super::schema::month_of(at);
        if self
            .ensured
            .lock()
            .map(|m| m.contains(&month))
            .unwrap_or(false)
        {
            return Ok(());
        }
        super::schema::ensure_partitions(client, at).await?;
        if let Ok(mut m) = self.ensured.lock() {
            m.insert(month);
        }
        Ok(())
    }
}

const MOVEMENT_COLUMNS: &str = "site_id, seq, received_at, prev_hash, hash, kind, device_time, station, operator, author, location, gtin, lot, serial, expiry, quantity_mantissa, quantity_scale, unit, counterparty_gln, counterparty_name, purchase_order, order_id, despatch_advice, sscc, reason, corrects_site, corrects_seq, scan_raw, symbology, entry";

const MOVEMENT_TYPES: [Type; 30] = [
    Type::TEXT,
    Type::INT8,
    Type::TIMESTAMPTZ,
    Type::BYTEA,
    Type::BYTEA,
    Type::TEXT,
    Type::TIMESTAMPTZ,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::DATE,
    Type::INT8,
    Type::INT2,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::INT8,
    Type::BYTEA,
    Type::TEXT,
    Type::BYTEA,
];

fn opt_text(s: &Option<String>) -> Option<String> {
    s.as_deref().map(|s| text(s).into_owned())
}

/// Binary COPY of new movements, each with its envelope (`entry`).
async fn copy_movements(
    tx: &deadpool_postgres::Transaction<'_>,
    movements: &[Movement],
    received_at: DateTime<Utc>,
) -> DbResult<()> {
    let sink = tx
        .copy_in(&format!(
            "COPY movements ({MOVEMENT_COLUMNS}) FROM STDIN (FORMAT binary)"
        ))
        .await?;
    let writer = BinaryCopyInWriter::new(sink, &MOVEMENT_TYPES);
    futures_util::pin_mut!(writer);
    for m in movements {
        let b = &m.body;
        let (mantissa, scale, unit) = match &b.quantity {
            crate::model::Quantity::Units(n) => (*n, 0i16, String::new()),
            crate::model::Quantity::Measure {
                mantissa,
                scale,
                unit,
            } => (*mantissa, i16::from(*scale), text(unit).into_owned()),
        };
        let corrects_site = b.corrects.as_ref().map(|c| text(&c.origin).into_owned());
        let corrects_seq = b.corrects.as_ref().map(|c| sql_seq(c.seq));
        let row: [&(dyn ToSql + Sync); 30] = [
            &text(&m.origin),
            &sql_seq(m.seq),
            &received_at,
            &m.prev_hash.0.as_slice(),
            &m.hash.0.as_slice(),
            &b.kind.name(),
            &b.device_time,
            &text(&b.station),
            &text(&b.operator),
            &text(&b.author),
            &text(&b.location),
            &text(&b.gtin),
            &opt_text(&b.lot),
            &opt_text(&b.serial),
            &b.expiry,
            &mantissa,
            &scale,
            &unit,
            &opt_text(&b.counterparty.gln),
            &opt_text(&b.counterparty.name),
            &opt_text(&b.documents.purchase_order),
            &opt_text(&b.documents.order),
            &opt_text(&b.documents.despatch_advice),
            &opt_text(&b.documents.sscc),
            &opt_text(&b.reason),
            &corrects_site,
            &corrects_seq,
            &b.scan.raw.as_slice(),
            &text(&b.scan.symbology),
            &m.encode(),
        ];
        writer.as_mut().write(&row).await?;
    }
    writer.finish().await?;
    Ok(())
}

/// Binary COPY of new rejected scans.
async fn copy_rejections(
    tx: &deadpool_postgres::Transaction<'_>,
    rejections: &[Rejection],
    received_at: DateTime<Utc>,
) -> DbResult<()> {
    let sink = tx
        .copy_in(
            "COPY rejections (site_id, seq, received_at, prev_hash, hash, code, words, station, operator, scanned_at, raw, entry) FROM STDIN (FORMAT binary)",
        )
        .await?;
    let types = [
        Type::TEXT,
        Type::INT8,
        Type::TIMESTAMPTZ,
        Type::BYTEA,
        Type::BYTEA,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TIMESTAMPTZ,
        Type::BYTEA,
        Type::BYTEA,
    ];
    let writer = BinaryCopyInWriter::new(sink, &types);
    futures_util::pin_mut!(writer);
    for r in rejections {
        let b = &r.body;
        let row: [&(dyn ToSql + Sync); 12] = [
            &text(&r.origin),
            &sql_seq(r.seq),
            &received_at,
            &r.prev_hash.0.as_slice(),
            &r.hash.0.as_slice(),
            &text(&b.code),
            &text(&b.words),
            &text(&b.station),
            &text(&b.operator),
            &b.time,
            &b.raw.as_slice(),
            &r.encode(),
        ];
        writer.as_mut().write(&row).await?;
    }
    writer.finish().await?;
    Ok(())
}

/// A movement decoded from its `entry` column.
pub fn movement_from(entry: &[u8]) -> DbResult<Movement> {
    Movement::decode(entry).map_err(|e| DbError::Damaged(e.to_string()))
}

/// A serial state's time in nanoseconds: the exact order `supersedes`
/// compares (a timestamptz keeps microseconds).
pub fn state_ns(s: &SerialState) -> i64 {
    let at = match s {
        SerialState::InStock { since, .. } => since,
        SerialState::Dispatched { at, .. }
        | SerialState::Returned { at, .. }
        | SerialState::Voided { at, .. } => at,
    };
    at.timestamp_nanos_opt().unwrap_or(i64::MAX)
}

/// A state's name and location for the SQL columns.
pub fn state_columns(s: &SerialState) -> (&'static str, Option<&str>, &MovementId) {
    match s {
        SerialState::InStock { location, by, .. } => ("in_stock", Some(location), by),
        SerialState::Dispatched { by, .. } => ("dispatched", None, by),
        SerialState::Returned { location, by, .. } => ("returned", Some(location), by),
        SerialState::Voided { by, .. } => ("voided", None, by),
    }
}

/// The derived tables for a site's new movements (in seq order): lot
/// balances, lot expiries, serial states, and the corrections of
/// movements already corrected (returned in words, as the embedded
/// ingest names them).
async fn derive(
    tx: &deadpool_postgres::Transaction<'_>,
    origin: &str,
    new: &[Movement],
) -> DbResult<Vec<String>> {
    // What the batch needs from before it: the first correction of each
    // movement it corrects, and the corrected movements themselves.
    let mut targets: Vec<&MovementId> = Vec::new();
    for (i, m) in new.iter().enumerate() {
        if let Some(t) = &m.body.corrects {
            let earlier = new[..i].iter().any(|c| c.body.corrects.as_ref() == Some(t));
            if !earlier && !targets.contains(&t) {
                targets.push(t);
            }
        }
    }
    let mut first_correction: HashMap<(String, u64), (String, u64)> = HashMap::new();
    let mut corrected: HashMap<(String, u64), Movement> = HashMap::new();
    if !targets.is_empty() {
        let sites: Vec<String> = targets
            .iter()
            .map(|t| text(&t.origin).into_owned())
            .collect();
        let seqs: Vec<i64> = targets.iter().map(|t| sql_seq(t.seq)).collect();
        let rows = tx
            .query(
                "SELECT DISTINCT ON (corrects_site, corrects_seq) corrects_site, corrects_seq, site_id, seq
                 FROM movements
                 WHERE kind = 'correction'
                   AND (corrects_site, corrects_seq) IN (SELECT * FROM unnest($1::text[], $2::int8[]))
                 ORDER BY corrects_site, corrects_seq, site_id, seq",
                &[&sites, &seqs],
            )
            .await?;
        for r in rows {
            first_correction.insert((r.get(0), seq_of(r.get(1))), (r.get(2), seq_of(r.get(3))));
        }
    }
    // A correction of a serialised item needs what it undoes.
    let wanted: Vec<&MovementId> = new
        .iter()
        .filter(|m| m.body.kind == Kind::Correction && m.body.serial.is_some())
        .filter_map(|m| m.body.corrects.as_ref())
        .filter(|t| !(t.origin == origin && new.iter().any(|c| c.seq == t.seq)))
        .collect();
    if !wanted.is_empty() {
        let sites: Vec<String> = wanted
            .iter()
            .map(|t| text(&t.origin).into_owned())
            .collect();
        let seqs: Vec<i64> = wanted.iter().map(|t| sql_seq(t.seq)).collect();
        for r in tx
            .query(
                "SELECT entry FROM movements
                 WHERE (site_id, seq) IN (SELECT * FROM unnest($1::text[], $2::int8[]))",
                &[&sites, &seqs],
            )
            .await?
        {
            let m = movement_from(r.get(0))?;
            corrected.insert((m.origin.clone(), m.seq), m);
        }
    }
    let mut corrected_again = Vec::new();
    let mut balances: BTreeMap<(String, String, String, String), Balance> = BTreeMap::new();
    let mut expiries: BTreeMap<(String, String), NaiveDate> = BTreeMap::new();
    let mut states: BTreeMap<(String, String), SerialState> = BTreeMap::new();
    for (i, m) in new.iter().enumerate() {
        let b = &m.body;
        if let Some(t) = &b.corrects {
            let earlier = new[..i]
                .iter()
                .find(|c| c.body.corrects.as_ref() == Some(t))
                .map(|c| (c.origin.clone(), c.seq))
                .or_else(|| {
                    first_correction
                        .get(&(text(&t.origin).into_owned(), t.seq))
                        .cloned()
                });
            if let Some((o, s)) = earlier {
                corrected_again.push(format!(
                    "seq {} corrects {}:{} again, already corrected by {o}:{s}",
                    m.seq, t.origin, t.seq
                ));
            }
        }
        let (mantissa, scale) = balance::delta(b);
        let key = (
            text(&b.gtin).into_owned(),
            text(b.lot.as_deref().unwrap_or("")).into_owned(),
            text(&b.location).into_owned(),
            text(b.quantity.unit()).into_owned(),
        );
        let e = balances.entry(key).or_insert(Balance::ZERO);
        *e = e.add(mantissa, scale);
        if let (Some(lot), Some(expiry)) = (&b.lot, b.expiry) {
            if !lot.is_empty() {
                expiries
                    .entry((text(&b.gtin).into_owned(), text(lot).into_owned()))
                    .and_modify(|e| *e = (*e).min(expiry))
                    .or_insert(expiry);
            }
        }
        let undone = match (&b.kind, &b.corrects, &b.serial) {
            (Kind::Correction, Some(t), Some(_)) => new
                .iter()
                .find(|c| t.origin == origin && c.seq == t.seq)
                .or_else(|| corrected.get(&(t.origin.clone(), t.seq))),
            _ => None,
        };
        if let (Some(serial), Some(state)) = (&b.serial, serial_state::after(m, undone)) {
            let key = (text(&b.gtin).into_owned(), text(serial).into_owned());
            match states.get(&key) {
                Some(old) if !serial_state::supersedes(&state, old) => {}
                _ => {
                    states.insert(key, state);
                }
            }
        }
    }
    write_balances(tx, origin, balances).await?;
    write_expiries(tx, origin, expiries).await?;
    write_states(tx, origin, states).await?;
    Ok(corrected_again)
}

async fn write_balances(
    tx: &deadpool_postgres::Transaction<'_>,
    origin: &str,
    balances: BTreeMap<(String, String, String, String), Balance>,
) -> DbResult<()> {
    if balances.is_empty() {
        return Ok(());
    }
    let mut cols: [Vec<String>; 5] = Default::default();
    for ((gtin, lot, location, unit), b) in balances {
        cols[0].push(gtin);
        cols[1].push(lot);
        cols[2].push(location);
        cols[3].push(unit);
        cols[4].push(crate::report::decimal(b));
    }
    tx.execute(
        "INSERT INTO lot_balances (site_id, gtin, lot, location, unit, value)
         SELECT $1, g, l, loc, u, v::numeric FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS t(g, l, loc, u, v)
         ON CONFLICT (site_id, gtin, lot, location, unit)
         DO UPDATE SET value = lot_balances.value + excluded.value",
        &[&origin, &cols[0], &cols[1], &cols[2], &cols[3], &cols[4]],
    )
    .await?;
    Ok(())
}

async fn write_expiries(
    tx: &deadpool_postgres::Transaction<'_>,
    origin: &str,
    expiries: BTreeMap<(String, String), NaiveDate>,
) -> DbResult<()> {
    if expiries.is_empty() {
        return Ok(());
    }
    let (mut gtins, mut lots, mut dates) = (Vec::new(), Vec::new(), Vec::new());
    for ((gtin, lot), date) in expiries {
        gtins.push(gtin);
        lots.push(lot);
        dates.push(date);
    }
    tx.execute(
        "INSERT INTO lot_expiries (site_id, gtin, lot, expiry)
         SELECT $1, g, l, e FROM unnest($2::text[], $3::text[], $4::date[]) AS t(g, l, e)
         ON CONFLICT (site_id, gtin, lot)
         DO UPDATE SET expiry = LEAST(lot_expiries.expiry, excluded.expiry)
         WHERE excluded.expiry < lot_expiries.expiry",
        &[&origin, &gtins, &lots, &dates],
    )
    .await?;
    Ok(())
}

/// The batch's serial states against what the site's earlier movements
/// set: a stored state that supersedes the batch's stays.
async fn write_states(
    tx: &deadpool_postgres::Transaction<'_>,
    origin: &str,
    mut states: BTreeMap<(String, String), SerialState>,
) -> DbResult<()> {
    if states.is_empty() {
        return Ok(());
    }
    let (gtins, serials): (Vec<&str>, Vec<&str>) =
        states.keys().map(|(g, s)| (g.as_str(), s.as_str())).unzip();
    let rows = tx
        .query(
            "SELECT gtin, serial, entry FROM serial_states
             WHERE site_id = $1 AND (gtin, serial) IN (SELECT * FROM unnest($2::text[], $3::text[]))",
            &[&origin, &gtins, &serials],
        )
        .await?;
    for r in rows {
        let key: (String, String) = (r.get(0), r.get(1));
        let stored = SerialState::decode(r.get(2)).map_err(|e| DbError::Damaged(e.to_string()))?;
        if states
            .get(&key)
            .is_some_and(|new| !serial_state::supersedes(new, &stored))
        {
            states.remove(&key);
        }
    }
    if states.is_empty() {
        return Ok(());
    }
    let mut gtins = Vec::with_capacity(states.len());
    let mut serials = Vec::with_capacity(states.len());
    let mut names = Vec::with_capacity(states.len());
    let mut at = Vec::with_capacity(states.len());
    let mut by = Vec::with_capacity(states.len());
    let mut locations: Vec<Option<String>> = Vec::with_capacity(states.len());
    let mut entries = Vec::with_capacity(states.len());
    for ((gtin, serial), state) in &states {
        let (name, location, by_id) = state_columns(state);
        gtins.push(gtin.as_str());
        serials.push(serial.as_str());
        names.push(name);
        at.push(state_ns(state));
        by.push(sql_seq(by_id.seq));
        locations.push(location.map(|l| text(l).into_owned()));
        entries.push(state.encode());
    }
    tx.execute(
        "INSERT INTO serial_states (site_id, gtin, serial, state, at_ns, by_seq, location, entry)
         SELECT $1, g, s, n, a, b, l, e
         FROM unnest($2::text[], $3::text[], $4::text[], $5::int8[], $6::int8[], $7::text[], $8::bytea[]) AS t(g, s, n, a, b, l, e)
         ON CONFLICT (site_id, gtin, serial)
         DO UPDATE SET state = excluded.state, at_ns = excluded.at_ns, by_seq = excluded.by_seq,
                       location = excluded.location, entry = excluded.entry",
        &[&origin, &gtins, &serials, &names, &at, &by, &locations, &entries],
    )
    .await?;
    Ok(())
}
