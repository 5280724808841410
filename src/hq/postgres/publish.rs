//! Published reference data in the database: the same four operations as
//! the embedded store's `store::published` (a kind's version, publishing
//! a new version, the changes between two versions, one record), so a
//! recall issued on any node is in every node's next delta.

use super::{Db, DbResult};

/// A version as the database holds it (bigint) as the protocol's u64.
fn version_of(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl Db {
    /// The current version of `kind` (0 before anything was published).
    pub async fn published_version(&self, kind: &str) -> DbResult<u64> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT version FROM published_versions WHERE kind = $1",
                &[&kind],
            )
            .await?;
        Ok(row.map(|r| version_of(r.get(0))).unwrap_or(0))
    }

    /// Publishes upserts and removals as one new version, committed before
    /// this returns. The version row is locked by the update, so two nodes
    /// publishing at once get consecutive versions.
    pub async fn publish(
        &self,
        kind: &str,
        upserts: Vec<(Vec<u8>, Vec<u8>)>,
        removals: Vec<Vec<u8>>,
    ) -> DbResult<u64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute(
            "INSERT INTO published_versions (kind, version) VALUES ($1, 0) ON CONFLICT DO NOTHING",
            &[&kind],
        )
        .await?;
        let row = tx
            .query_one(
                "UPDATE published_versions SET version = version + 1 WHERE kind = $1 RETURNING version",
                &[&kind],
            )
            .await?;
        let version: i64 = row.get(0);
        let mut keys: Vec<Vec<u8>> = Vec::with_capacity(upserts.len() + removals.len());
        let mut records: Vec<Option<Vec<u8>>> = Vec::with_capacity(keys.capacity());
        for (k, v) in upserts {
            keys.push(k);
            records.push(Some(v));
        }
        for k in removals {
            keys.push(k);
            records.push(None);
        }
        tx.execute(
            "INSERT INTO published (kind, key, version, record)
             SELECT $1, k, $2, r FROM unnest($3::bytea[], $4::bytea[]) AS t(k, r)
             ON CONFLICT (kind, key) DO UPDATE SET version = excluded.version, record = excluded.record",
            &[&kind, &version, &keys, &records],
        )
        .await?;
        tx.commit().await?;
        Ok(version_of(version))
    }

    /// Every record changed after `since` up to `version`, in key order,
    /// in its latest state (`None`: removed).
    pub async fn published_changes(
        &self,
        kind: &str,
        since: u64,
        version: u64,
    ) -> DbResult<Vec<(Vec<u8>, Option<Vec<u8>>)>> {
        let client = self.client().await?;
        let since = i64::try_from(since).unwrap_or(i64::MAX);
        let version = i64::try_from(version).unwrap_or(i64::MAX);
        let rows = client
            .query(
                "SELECT key, record FROM published
                 WHERE kind = $1 AND version > $2 AND version <= $3 ORDER BY key",
                &[&kind, &since, &version],
            )
            .await?;
        Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// One published record's bytes; `None` when never published or removed.
    pub async fn published_record(&self, kind: &str, key: &[u8]) -> DbResult<Option<Vec<u8>>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT record FROM published WHERE kind = $1 AND key = $2",
                &[&kind, &key],
            )
            .await?;
        Ok(row.and_then(|r| r.get(0)))
    }
}

impl Db {
    /// Writes a published kind as the embedded head office holds it
    /// (`scantrail hq migrate`): each record with the version that last
    /// changed it, and the kind's version, so sites' watermarks stay valid.
    pub async fn restore_published(
        &self,
        kind: &str,
        version: u64,
        records: Vec<(Vec<u8>, u64, Option<Vec<u8>>)>,
    ) -> DbResult<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let mut keys = Vec::with_capacity(records.len());
        let mut versions = Vec::with_capacity(records.len());
        let mut values = Vec::with_capacity(records.len());
        for (k, v, r) in records {
            keys.push(k);
            versions.push(i64::try_from(v).unwrap_or(i64::MAX));
            values.push(r);
        }
        tx.execute(
            "INSERT INTO published (kind, key, version, record)
             SELECT $1, k, v, r FROM unnest($2::bytea[], $3::int8[], $4::bytea[]) AS t(k, v, r)
             ON CONFLICT (kind, key) DO UPDATE SET version = excluded.version, record = excluded.record",
            &[&kind, &keys, &versions, &values],
        )
        .await?;
        tx.execute(
            "INSERT INTO published_versions (kind, version) VALUES ($1, $2)
             ON CONFLICT (kind) DO UPDATE SET version = excluded.version",
            &[&kind, &i64::try_from(version).unwrap_or(i64::MAX)],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
