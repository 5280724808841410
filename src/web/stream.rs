//! A response body written by blocking code (a journal read from sled)
//! as it goes: the producer runs on a blocking thread and writes into an
//! `io::Write` whose chunks go through a small bounded channel to the
//! connection, so a slow client slows the producer instead of the server
//! buffering the whole answer, and a client that hangs up stops it.

use std::io::{self, Write};

use axum::body::Body;
use bytes::Bytes;
use tokio::sync::mpsc;

/// Bytes gathered before a chunk is sent.
const CHUNK: usize = 64 * 1024;
/// Chunks in flight between producer and connection: the body's memory
/// is at most this many chunks.
const IN_FLIGHT: usize = 8;

/// The producer's side: an `io::Write` into the response.
pub struct ChannelWriter {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// A body that `produce` writes on a blocking thread. When it fails
/// midway the body ends with an error, so the client sees a broken
/// transfer, never a short answer that looks whole.
pub fn blocking_body<F, E>(produce: F) -> Body
where
    F: FnOnce(&mut ChannelWriter) -> Result<(), E> + Send + 'static,
    E: std::fmt::Display,
{
    let (tx, rx) = mpsc::channel(IN_FLIGHT);
    tokio::task::spawn_blocking(move || {
        let mut w = ChannelWriter {
            tx,
            buf: Vec::with_capacity(CHUNK),
        };
        let outcome = produce(&mut w).map_err(|e| e.to_string());
        let outcome = outcome.and_then(|()| w.flush().map_err(|e| e.to_string()));
        if let Err(e) = outcome {
            tracing::warn!(error = %e, "a streamed answer failed midway");
            let _ = w.tx.blocking_send(Err(io::Error::other(e)));
        }
    });
    Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }))
}
