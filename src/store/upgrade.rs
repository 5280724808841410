//! In-place upgrades of older stores that need no rebuild of the derived
//! trees. Schema 3 only adds the corrections index (`CORRECTED_BY`), which
//! one pass over the journal can write; asking every site to run a full
//! `reindex` (minutes per million movements) for that would be out of
//! proportion.

use super::derived;
use super::envelope::Stored;
use super::error::{Result, StoreError};
use super::keys::prefix;
use super::movement::{Kind, Movement};
use super::{meta_key, SledSink, SCHEMA_VERSION};

/// Schema 2 → 3: indexes every correction by the movement it corrects,
/// then stamps the new schema, durably, before the store is used.
pub(crate) fn index_corrections(sink: &mut SledSink) -> Result<()> {
    let mut batch = sled::Batch::default();
    let mut count = 0u64;
    for item in sink.journal()?.scan_prefix([prefix::JOURNAL]) {
        let (_, v) = item.map_err(sink.sled_err("read the journal"))?;
        let m = Movement::decode(&v).map_err(|source| StoreError::Value {
            path: sink.path.clone(),
            source,
        })?;
        if m.body.kind != Kind::Correction {
            continue;
        }
        for key in derived::index_keys(&m) {
            if key[0] == prefix::CORRECTED_BY {
                batch.insert(key, Vec::new());
                count += 1;
            }
        }
    }
    sink.journal()?
        .apply_batch(batch)
        .map_err(sink.sled_err("write the corrections index"))?;
    sink.meta()?
        .insert(meta_key::SCHEMA, &SCHEMA_VERSION.to_be_bytes())
        .map_err(sink.sled_err("write the schema version"))?;
    sink.make_durable()?;
    tracing::info!(path = %sink.path.display(), corrections = count, schema = SCHEMA_VERSION, "store upgraded");
    Ok(())
}
