//! One scanner's life: open its port, read frames, write beeps, and when it
//! is unplugged, wait for it with backoff and open it again.
//!
//! One tokio task per scanner (no thread), so hundreds of scanners cost a
//! few kilobytes each. A scanner's trouble never touches another's task.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_serial::SerialPortBuilderExt;
use tokio_util::codec::Decoder;

use super::framing::{FrameDecoder, Framed, RejectReason};
use super::profile::{FlowControl, Parity, Profile};
use super::raw_scan::{escape, Feedback, FeedbackSender, RawScan, RejectedFrame, ScanEvent};

/// One configured scanner.
#[derive(Debug, Clone)]
pub struct ScannerSpec {
    /// A device path or a glob (e.g. `/dev/serial/by-id/usb-Honeywell*`).
    pub port: String,
    /// The station (`[[stations]] id`) whose scans these are.
    pub station: String,
    /// The device profile, loaded and validated once at start.
    pub profile: Arc<Profile>,
}

/// Counters of one source, readable while it runs.
#[derive(Debug, Default)]
pub struct SourceStats {
    /// Frames accepted as scans since the source started.
    pub scans: AtomicU64,
    pub(super) rejected: [AtomicU64; RejectReason::ALL.len()],
    /// Times the port was opened (the first connect included).
    pub connects: AtomicU64,
    /// Times the scanner went away (unplugged, read error).
    pub disconnects: AtomicU64,
    /// Beeps dropped because the decider answered after a replug or the
    /// write failed.
    pub feedback_lost: AtomicU64,
}

impl SourceStats {
    /// Frames refused for `reason` since the source started.
    pub fn rejected(&self, reason: RejectReason) -> u64 {
        self.rejected[reason.index()].load(Ordering::Relaxed)
    }

    /// Whether the scanner's port is open now.
    pub fn connected(&self) -> bool {
        self.connects.load(Ordering::Relaxed) > self.disconnects.load(Ordering::Relaxed)
    }
}

/// A running source.
#[derive(Debug)]
pub struct SourceHandle {
    /// The source's counters, shared with the task.
    pub stats: Arc<SourceStats>,
    /// The task reading the scanner; aborted when the handle is dropped.
    pub task: JoinHandle<()>,
}

impl Drop for SourceHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the task that reads `spec`'s scanner and sends its events to
/// `events`. It runs until aborted (drop the handle) or `events` closes.
pub fn spawn(spec: ScannerSpec, events: mpsc::Sender<ScanEvent>) -> SourceHandle {
    let stats = Arc::new(SourceStats::default());
    let task = tokio::spawn(run(spec, events, stats.clone()));
    SourceHandle { stats, task }
}

/// Where the port is now: globs are resolved at every attempt, since a
/// by-id link only exists while the scanner is plugged in.
pub fn resolve_port(port: &str) -> Option<PathBuf> {
    if !port.contains(['*', '?', '[']) {
        let path = PathBuf::from(port);
        return path.exists().then_some(path);
    }
    let mut found: Vec<PathBuf> = glob::glob(port).ok()?.filter_map(Result::ok).collect();
    found.sort();
    found.into_iter().next()
}

fn open(spec: &ScannerSpec) -> Result<(PathBuf, tokio_serial::SerialStream), String> {
    let path = resolve_port(&spec.port).ok_or_else(|| "no such device".to_owned())?;
    let s = spec.profile.serial;
    let stream = tokio_serial::new(path.to_string_lossy(), s.baud)
        .data_bits(match s.data_bits {
            5 => tokio_serial::DataBits::Five,
            6 => tokio_serial::DataBits::Six,
            7 => tokio_serial::DataBits::Seven,
            _ => tokio_serial::DataBits::Eight,
        })
        .parity(match s.parity {
            Parity::None => tokio_serial::Parity::None,
            Parity::Odd => tokio_serial::Parity::Odd,
            Parity::Even => tokio_serial::Parity::Even,
        })
        .stop_bits(match s.stop_bits {
            2 => tokio_serial::StopBits::Two,
            _ => tokio_serial::StopBits::One,
        })
        .flow_control(match s.flow_control {
            FlowControl::None => tokio_serial::FlowControl::None,
            FlowControl::Software => tokio_serial::FlowControl::Software,
            FlowControl::Hardware => tokio_serial::FlowControl::Hardware,
        })
        .open_native_async()
        .map_err(|e| e.to_string())?;
    Ok((path, stream))
}

/// A connection shorter than this does not reset the backoff.
const FLAPPING: std::time::Duration = std::time::Duration::from_secs(2);

struct Source {
    spec: ScannerSpec,
    source: Arc<str>,
    station: Arc<str>,
    profile: Arc<str>,
    events: mpsc::Sender<ScanEvent>,
    stats: Arc<SourceStats>,
    feedback: FeedbackSender,
}

async fn run(spec: ScannerSpec, events: mpsc::Sender<ScanEvent>, stats: Arc<SourceStats>) {
    let (fb_tx, mut fb_rx) = mpsc::channel::<Feedback>(64);
    let src = Source {
        source: spec.port.as_str().into(),
        station: spec.station.as_str().into(),
        profile: spec.profile.name.as_str().into(),
        spec,
        events,
        stats,
        feedback: FeedbackSender::new(fb_tx),
    };
    let (port, station) = (src.spec.port.as_str(), src.spec.station.as_str());
    let mut delays = src.spec.profile.reconnect.delays();
    let mut waiting_logged = false;
    loop {
        let (path, stream) = match open(&src.spec) {
            Ok(opened) => opened,
            Err(reason) => {
                if !waiting_logged {
                    tracing::warn!(port, station, %reason, "scanner not available; waiting for it");
                    waiting_logged = true;
                }
                tokio::time::sleep(delays.next_delay()).await;
                if src.events.is_closed() {
                    return;
                }
                continue;
            }
        };
        src.stats.connects.fetch_add(1, Ordering::Relaxed);
        let device = std::fs::canonicalize(&path).unwrap_or(path);
        tracing::info!(port, station, device = %device.display(), profile = %src.profile, "scanner connected");
        // Beeps decided while the scanner was away are stale.
        while fb_rx.try_recv().is_ok() {
            src.stats.feedback_lost.fetch_add(1, Ordering::Relaxed);
        }
        let connected_at = Instant::now();
        let reason = match src.connected(stream, &mut fb_rx).await {
            Ok(()) => return, // the consumer went away: shut down
            Err(reason) => reason,
        };
        src.stats.disconnects.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(port, station, %reason, "scanner disconnected; waiting for it");
        waiting_logged = true;
        // A device that opens and drops at once (a flapping cable) keeps
        // backing off instead of reconnecting ten times a second.
        if connected_at.elapsed() >= FLAPPING {
            delays = src.spec.profile.reconnect.delays();
        }
        tokio::time::sleep(delays.next_delay()).await;
    }
}

impl Source {
    /// Serves a connected scanner until it goes away (`Err(why)`) or the
    /// consumer does (`Ok`).
    async fn connected(
        &self,
        mut stream: tokio_serial::SerialStream,
        fb_rx: &mut mpsc::Receiver<Feedback>,
    ) -> Result<(), String> {
        let profile = &self.spec.profile;
        if !profile.feedback.init.is_empty() {
            stream
                .write_all(&profile.feedback.init)
                .await
                .map_err(|e| format!("writing the init bytes failed: {e}"))?;
        }
        let mut decoder = FrameDecoder::new(profile);
        // The read buffer is this task's alone: frames are found in it and
        // copied out, each into memory of its own that the desk then keeps
        // (`FrameRef::into_owned`). A frame sliced out of it instead would
        // be held until its commit is durable and keep the buffer from being
        // reused, so it would allocate anew every few frames anyway.
        let mut buf = BytesMut::with_capacity(256);
        let idle = profile.framing.inter_byte_timeout;
        let mut last_byte = Instant::now();
        loop {
            while let Some(item) = decoder.decode_in_place(&mut buf) {
                if !self.emit(item.into_owned()).await {
                    return Ok(());
                }
            }
            let deadline = idle.filter(|_| !buf.is_empty()).map(|t| last_byte + t);
            tokio::select! {
                read = stream.read_buf(&mut buf) => match read {
                    Ok(0) => return self.unplugged(&mut decoder, &mut buf, "end of stream".into()).await,
                    Ok(_) => last_byte = Instant::now(),
                    Err(e) => return self.unplugged(&mut decoder, &mut buf, e.to_string()).await,
                },
                _ = sleep_until(deadline) => {
                    if let Some(item) = decoder.on_idle_in_place(&mut buf) {
                        if !self.emit(item.into_owned()).await {
                            return Ok(());
                        }
                    }
                }
                Some(fb) = fb_rx.recv() => {
                    let bytes = if fb.good { &profile.feedback.good_read } else { &profile.feedback.bad_read };
                    if !bytes.is_empty() {
                        if let Err(e) = stream.write_all(bytes).await {
                            self.stats.feedback_lost.fetch_add(1, Ordering::Relaxed);
                            return self.unplugged(&mut decoder, &mut buf, format!("writing feedback failed: {e}")).await;
                        }
                    }
                }
            }
        }
    }

    async fn unplugged(
        &self,
        decoder: &mut FrameDecoder,
        buf: &mut BytesMut,
        why: String,
    ) -> Result<(), String> {
        // The complete frames first, copied out as above; then what is
        // left, a fragment.
        while let Some(item) = decoder.decode_in_place(buf) {
            if !self.emit(item.into_owned()).await {
                return Ok(());
            }
        }
        while let Some(item) = decoder.decode_eof(buf).map_err(|e| e.to_string())? {
            if !self.emit(item).await {
                return Ok(());
            }
        }
        Err(why)
    }

    /// Hands one decoded item on; false when nobody listens any more.
    async fn emit(&self, item: Framed) -> bool {
        let event = match item {
            Framed::Frame(frame) => {
                self.stats.scans.fetch_add(1, Ordering::Relaxed);
                ScanEvent::Scan(RawScan {
                    source: self.source.clone(),
                    station: self.station.clone(),
                    profile: self.profile.clone(),
                    bytes: frame.bytes,
                    symbology: frame.id.aim,
                    id_len: frame.id.id_len,
                    substitute: self.spec.profile.fnc1_substitute,
                    feedback: self.feedback.clone(),
                })
            }
            Framed::Rejected(r) => {
                self.stats.rejected[r.reason.index()].fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    port = %self.source,
                    station = %self.station,
                    reason = r.reason.as_str(),
                    bytes = %escape(&r.bytes),
                    "frame rejected: {}",
                    r.reason.hint()
                );
                if matches!(
                    r.reason,
                    RejectReason::TooLong
                        | RejectReason::Binary
                        | RejectReason::BadPrefix
                        | RejectReason::NoSymbology
                ) {
                    // Someone scanned something: tell them it did not take.
                    self.feedback.send(Feedback { good: false });
                }
                ScanEvent::Rejected(RejectedFrame {
                    source: self.source.clone(),
                    station: self.station.clone(),
                    reason: r.reason,
                    bytes: r.bytes,
                })
            }
        };
        self.events.send(event).await.is_ok()
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
