-- Head office's schema in PostgreSQL (issue 19). Applied once, in one
-- transaction, under an advisory lock (src/hq/postgres/migrate.rs); a
-- change is a new numbered file, never an edit of this one.
--
-- Every table holding a site's data has `site_id` first in its primary key
-- and in every unique index: on Citus those tables are distributed by
-- site_id (one site's rows, and so one site's ingest transaction, stay on
-- one worker). The published reference data and the bookkeeping tables are
-- small and read by every node: Citus reference tables.
--
-- Text that is a key or sorted on is COLLATE "C": byte order, the order
-- the embedded store's keys have, whatever the database's default locale.

-- Where each site's two hash-chained logs end. Ingest locks the row
-- (SELECT ... FOR UPDATE): one transaction per site at a time, whichever
-- node it reached.
CREATE TABLE chain_heads (
    site_id text COLLATE "C" NOT NULL,
    log text NOT NULL CHECK (log IN ('movements', 'rejections')),
    seq bigint NOT NULL CHECK (seq >= 0),
    hash bytea NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (site_id, log)
);

-- Every site's movements, as they arrived. `entry` is the movement in the
-- embedded store's versioned envelope (store::envelope): the bytes its
-- hash covers, decoded back exactly; the other columns are for SQL (BI
-- tools, reports, indexes). Partitioned by month of `received_at`, head
-- office's clock when the batch arrived, not the device's: a site back
-- from a week offline still writes into the current month, so old
-- partitions stop changing (vacuum-frozen, backed up once, detached for
-- retention), and a wrong device clock cannot scatter rows into the past
-- or the future. (site_id, seq) is unique by the chain-head lock; a
-- partitioned table's unique index must include the partition key, so the
-- primary key carries received_at too.
CREATE TABLE movements (
    site_id text COLLATE "C" NOT NULL,
    seq bigint NOT NULL,
    received_at timestamptz NOT NULL,
    prev_hash bytea NOT NULL,
    hash bytea NOT NULL,
    kind text NOT NULL,
    device_time timestamptz NOT NULL,
    station text NOT NULL,
    operator text NOT NULL,
    author text NOT NULL,
    location text COLLATE "C" NOT NULL,
    gtin text COLLATE "C" NOT NULL,
    lot text COLLATE "C",
    serial text COLLATE "C",
    expiry date,
    quantity_mantissa bigint NOT NULL,
    quantity_scale smallint NOT NULL,
    unit text NOT NULL,
    counterparty_gln text,
    counterparty_name text,
    purchase_order text,
    order_id text,
    despatch_advice text,
    sscc text,
    reason text,
    corrects_site text COLLATE "C",
    corrects_seq bigint,
    scan_raw bytea NOT NULL,
    symbology text NOT NULL,
    entry bytea NOT NULL,
    PRIMARY KEY (site_id, seq, received_at)
) PARTITION BY RANGE (received_at);
-- Reports: recall by batch, movements and trace of a lot or a serial,
-- warranty.
CREATE INDEX movements_by_lot ON movements (gtin, lot);
CREATE INDEX movements_by_serial ON movements (gtin, serial);
-- "Corrected at most once": the corrections of a movement.
CREATE INDEX movements_by_corrected ON movements (corrects_site, corrects_seq)
    WHERE kind = 'correction';

-- Every site's rejected scans, as they arrived; `raw` is the scan's bytes.
CREATE TABLE rejections (
    site_id text COLLATE "C" NOT NULL,
    seq bigint NOT NULL,
    received_at timestamptz NOT NULL,
    prev_hash bytea NOT NULL,
    hash bytea NOT NULL,
    code text NOT NULL,
    words text NOT NULL,
    station text NOT NULL,
    operator text NOT NULL,
    scanned_at timestamptz NOT NULL,
    raw bytea NOT NULL,
    entry bytea NOT NULL,
    PRIMARY KEY (site_id, seq, received_at)
) PARTITION BY RANGE (received_at);

-- Derived at ingest, in the same transaction, by the rules the embedded
-- store applies (model::balance, model::serial_state): per site, so only
-- that site's ingest (which holds its chain-head lock) writes them.

-- A lot at a location of a site, in a unit ('' = units). `value` keeps the
-- finest scale any movement had, as the embedded balance does.
CREATE TABLE lot_balances (
    site_id text COLLATE "C" NOT NULL,
    gtin text COLLATE "C" NOT NULL,
    lot text COLLATE "C" NOT NULL,
    location text COLLATE "C" NOT NULL,
    unit text COLLATE "C" NOT NULL,
    value numeric NOT NULL,
    PRIMARY KEY (site_id, gtin, lot, location, unit)
);
CREATE INDEX lot_balances_by_lot ON lot_balances (gtin, lot);

-- The earliest expiry a site's movements of a lot carried; head office's
-- is the earliest over every site.
CREATE TABLE lot_expiries (
    site_id text COLLATE "C" NOT NULL,
    gtin text COLLATE "C" NOT NULL,
    lot text COLLATE "C" NOT NULL,
    expiry date NOT NULL,
    PRIMARY KEY (site_id, gtin, lot)
);
CREATE INDEX lot_expiries_by_lot ON lot_expiries (gtin, lot);

-- Where a site last put a serialised item; head office's state is the one
-- that supersedes the others (latest time, then site, then seq: at_ns is
-- the exact time in nanoseconds, which timestamptz would round).
CREATE TABLE serial_states (
    site_id text COLLATE "C" NOT NULL,
    gtin text COLLATE "C" NOT NULL,
    serial text COLLATE "C" NOT NULL,
    state text NOT NULL,
    at_ns bigint NOT NULL,
    by_seq bigint NOT NULL,
    location text,
    entry bytea NOT NULL,
    PRIMARY KEY (site_id, gtin, serial)
);
CREATE INDEX serial_states_by_serial
    ON serial_states (gtin, serial, at_ns DESC, site_id DESC, by_seq DESC);

-- What head office knows of each site beyond its movements.
CREATE TABLE sites (
    site_id text COLLATE "C" NOT NULL,
    products_version bigint NOT NULL DEFAULT 0,
    holds_version bigint NOT NULL DEFAULT 0,
    picklists_version bigint NOT NULL DEFAULT 0,
    last_seen timestamptz,
    newest_device_time timestamptz,
    PRIMARY KEY (site_id)
);

CREATE TABLE alerts (
    site_id text COLLATE "C" NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    at timestamptz NOT NULL,
    code text NOT NULL,
    message text NOT NULL,
    PRIMARY KEY (site_id, id)
);

-- Reference data head office publishes (products, holds, picklists): a
-- version per kind, each record stamped with the version that last changed
-- it (`record` NULL: removed). Records are the bytes sites apply.
CREATE TABLE published_versions (
    kind text COLLATE "C" NOT NULL,
    version bigint NOT NULL,
    PRIMARY KEY (kind)
);
INSERT INTO published_versions (kind, version)
    VALUES ('products', 0), ('holds', 0), ('picklists', 0);

CREATE TABLE published (
    kind text COLLATE "C" NOT NULL,
    key bytea NOT NULL,
    version bigint NOT NULL,
    record bytea,
    PRIMARY KEY (kind, key)
);
CREATE INDEX published_by_version ON published (kind, version);
