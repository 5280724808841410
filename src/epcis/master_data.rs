//! Expiry dates as EPCClass master data. `ilmd` (where a lot's expiry
//! usually goes) is only allowed on an `ADD` event, the manufacturer's;
//! scantrail observes goods, so each lot's expiry goes in the document's
//! header instead: `epcisHeader.epcisMasterData.vocabularyList` with one
//! EPCClass element per lot and its `itemExpirationDate`.
//!
//! The header is written after the events (see `writer`), and an export
//! of a million movements can name hundreds of thousands of lots, so the
//! elements are not kept in memory: each is written to an unnamed
//! temporary file when its lot is first seen and copied into the header
//! at the end. A bounded set of recently seen lots keeps repeats out; a
//! lot seen again after `RECENT` other lots is listed again, with the
//! same or another date (both are what the movements said).

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};

use chrono::NaiveDate;

/// Lots remembered to keep repeats out of the header.
pub const RECENT: usize = 16_384;

/// The lots' expiry elements, spilled to a temporary file.
#[derive(Default)]
pub struct Expiries {
    recent: HashSet<(String, NaiveDate)>,
    spill: Option<BufWriter<File>>,
    count: u64,
}

/// An unnamed temporary file: created, then unlinked at once, so nothing
/// is left behind whatever happens to the process.
fn unnamed() -> io::Result<File> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("scantrail-epcis-{}-{n}.tmp", std::process::id()));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)?;
    std::fs::remove_file(&path)?;
    Ok(file)
}

impl Expiries {
    /// Notes `class` (a lot's LGTIN URI) expiring on `date`.
    pub fn note(&mut self, class: &str, date: NaiveDate) -> io::Result<()> {
        if self.recent.contains(&(class.to_owned(), date)) {
            return Ok(());
        }
        if self.recent.len() >= RECENT {
            self.recent.clear();
        }
        self.recent.insert((class.to_owned(), date));
        let spill = match &mut self.spill {
            Some(s) => s,
            None => self.spill.insert(BufWriter::new(unnamed()?)),
        };
        if self.count > 0 {
            spill.write_all(b",")?;
        }
        self.count += 1;
        let element = serde_json::json!({
            "id": class,
            "attributes": [{
                "id": "urn:epcglobal:cbv:mda#itemExpirationDate",
                "attribute": date.format("%Y-%m-%d").to_string(),
            }],
        });
        serde_json::to_writer(spill, &element)?;
        Ok(())
    }

    /// Whether no lot had an expiry.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Writes the `epcisHeader` object to `out`.
    pub fn write_header(self, out: &mut impl Write) -> io::Result<()> {
        out.write_all(
            b"{\"epcisMasterData\":{\"vocabularyList\":[{\"type\":\"urn:epcglobal:epcis:vtype:EPCClass\",\"vocabularyElementList\":[",
        )?;
        if let Some(spill) = self.spill {
            let mut file = spill.into_inner().map_err(|e| e.into_error())?;
            file.seek(SeekFrom::Start(0))?;
            io::copy(&mut file, out)?;
        }
        out.write_all(b"]}]}}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn header(e: Expiries) -> Value {
        let mut out = Vec::new();
        e.write_header(&mut out).unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn one_entry_per_lot_and_date() {
        let mut e = Expiries::default();
        assert!(e.is_empty());
        let d = |m| NaiveDate::from_ymd_opt(2027, m, 1).unwrap();
        let l1 = "https://id.gs1.org/01/09506000134352/10/L1";
        e.note(l1, d(3)).unwrap();
        e.note(l1, d(3)).unwrap();
        e.note("https://id.gs1.org/01/09506000134352/10/L2", d(5))
            .unwrap();
        let h = header(e);
        let list = &h["epcisMasterData"]["vocabularyList"][0]["vocabularyElementList"];
        assert_eq!(list.as_array().unwrap().len(), 2);
        assert_eq!(list[0]["id"], l1);
        assert_eq!(list[0]["attributes"][0]["attribute"], "2027-03-01");
    }

    #[test]
    fn memory_stays_bounded_however_many_lots() {
        let mut e = Expiries::default();
        let d = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        for i in 0..(RECENT as u64 * 3) {
            e.note(&format!("https://id.gs1.org/01/09506000134352/10/L{i}"), d)
                .unwrap();
            assert!(e.recent.len() <= RECENT);
        }
        let h = header(e);
        let list = &h["epcisMasterData"]["vocabularyList"][0]["vocabularyElementList"];
        assert_eq!(list.as_array().unwrap().len(), RECENT * 3);
    }
}
