//! The EPCIS document, written as its events come: the opening and the
//! body's list first, each event as soon as it is mapped, and the header
//! with the lots' expiry dates last (JSON objects have no member order,
//! and the header can only be known once every event is). Memory stays
//! at one event and a bounded set of recent lots, however many events
//! (the lots' master data waits in a temporary file, `master_data`).

use std::io::Write;

use chrono::{DateTime, NaiveDate, Utc};

use super::event::Event;
use super::master_data::Expiries;

/// The JSON-LD context of EPCIS 2.0, as GS1 publishes it.
pub const CONTEXT: &str = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";

/// The media type of the document.
pub const MEDIA_TYPE: &str = "application/ld+json";

/// An EPCIS 2.0 document being written to `out`.
pub struct DocumentWriter<W: Write> {
    out: W,
    /// Events written here first and handed to `out` in large pieces:
    /// one buffer for the whole export, never one per event.
    buf: Vec<u8>,
    events: u64,
    expiries: Expiries,
}

/// How much of the document `buf` gathers before handing it to `out`.
const CHUNK: usize = 64 * 1024;

impl<W: Write> DocumentWriter<W> {
    /// Starts the document, created at `now`.
    pub fn new(mut out: W, now: DateTime<Utc>) -> std::io::Result<DocumentWriter<W>> {
        write!(
            out,
            "{{\"@context\":[\"{CONTEXT}\"],\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\",\"creationDate\":\"{}\",\"epcisBody\":{{\"eventList\":[",
            super::time::event_time(now)
        )?;
        Ok(DocumentWriter {
            out,
            buf: Vec::with_capacity(CHUNK + 4096),
            events: 0,
            expiries: Expiries::default(),
        })
    }

    /// Writes one event.
    pub fn event(&mut self, event: &Event) -> std::io::Result<()> {
        if self.events > 0 {
            self.buf.push(b',');
        }
        self.buf.push(b'\n');
        super::json::write_event(&mut self.buf, event);
        self.events += 1;
        if self.buf.len() >= CHUNK {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Writes one event with `write`, which appends its JSON to the
    /// buffer and says whether it wrote one.
    pub fn event_with<E>(
        &mut self,
        write: impl FnOnce(&mut Vec<u8>) -> Result<bool, E>,
    ) -> Result<(), E>
    where
        E: From<std::io::Error>,
    {
        let mark = self.buf.len();
        if self.events > 0 {
            self.buf.push(b',');
        }
        self.buf.push(b'\n');
        match write(&mut self.buf) {
            Ok(true) => {}
            Ok(false) => {
                self.buf.truncate(mark);
                return Ok(());
            }
            Err(e) => {
                self.buf.truncate(mark);
                return Err(e);
            }
        }
        self.events += 1;
        if self.buf.len() >= CHUNK {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Notes a lot's expiry for the header.
    pub fn expiry(&mut self, class: &str, date: NaiveDate) -> std::io::Result<()> {
        self.expiries.note(class, date)
    }

    /// Events written so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Closes the body, writes the header and hands back the output.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.out.write_all(&self.buf)?;
        self.out.write_all(b"\n]}")?;
        if !self.expiries.is_empty() {
            self.out.write_all(b",\"epcisHeader\":")?;
            self.expiries.write_header(&mut self.out)?;
        }
        self.out.write_all(b"}\n")?;
        self.out.flush()?;
        Ok(self.out)
    }
}
