//! The serial scanners the daemon reads, as a set that can change while it
//! runs: a reloaded configuration (SIGHUP) adds a scanner by starting its
//! reader and removes one by stopping its reader, which closes the port.
//! Every reader sends into the one channel the desk's bridge reads, so
//! scans of the other scanners never notice.

use std::sync::{Arc, RwLock};

use tokio::sync::mpsc;

use crate::config;
use crate::scan::serial::{self, ScannerSpec, SourceHandle};
use crate::scan::sources::ScannerState;
use crate::scan::ScanEvent;

/// The scanners running now, as the console's floor and the alerts see
/// them.
pub type Shown = Arc<RwLock<Vec<ScannerState>>>;

/// The running readers, each with the `[[scanners]]` entry it was started
/// from.
pub struct Scanners {
    events: mpsc::Sender<ScanEvent>,
    running: Vec<(config::Scanner, SourceHandle)>,
    shown: Shown,
}

impl Scanners {
    /// Starts a reader for each entry (`specs` are the entries' resolved
    /// profiles, in the same order); their events arrive on the receiver.
    /// Must be called inside a tokio runtime.
    pub fn start(
        entries: &[config::Scanner],
        specs: Vec<ScannerSpec>,
        capacity: usize,
    ) -> (Scanners, mpsc::Receiver<ScanEvent>) {
        let (events, scans) = mpsc::channel(capacity.max(1));
        let mut scanners = Scanners {
            events,
            running: Vec::new(),
            shown: Shown::default(),
        };
        for (entry, spec) in entries.iter().zip(specs) {
            scanners.add(entry.clone(), spec);
        }
        (scanners, scans)
    }

    /// The list the console shows, kept up to date.
    pub fn shown(&self) -> Shown {
        self.shown.clone()
    }

    /// How many readers run.
    pub fn len(&self) -> usize {
        self.running.len()
    }

    /// Whether no reader runs.
    pub fn is_empty(&self) -> bool {
        self.running.is_empty()
    }

    /// The entries running now.
    pub fn entries(&self) -> Vec<config::Scanner> {
        self.running.iter().map(|(e, _)| e.clone()).collect()
    }

    /// Starts the reader of `entry`.
    pub fn add(&mut self, entry: config::Scanner, spec: ScannerSpec) {
        let handle = serial::spawn(spec, self.events.clone());
        self.running.push((entry, handle));
        self.show();
    }

    /// Stops the reader of `entry` (its task is aborted between reads, so a
    /// scan it already handed on is still decided and recorded) and waits
    /// until it has let go of the port. `false` if none runs.
    pub async fn remove(&mut self, entry: &config::Scanner) -> bool {
        let Some(i) = self.running.iter().position(|(e, _)| e == entry) else {
            return false;
        };
        let (_, mut handle) = self.running.remove(i);
        self.show();
        handle.task.abort();
        // The port closes when the aborted task's future is dropped.
        let _ = (&mut handle.task).await;
        true
    }

    fn show(&self) {
        let now = self
            .running
            .iter()
            .map(|(entry, handle)| ScannerState {
                station: entry.station.clone(),
                port: entry.port.clone(),
                stats: handle.stats.clone(),
            })
            .collect();
        *self.shown.write().unwrap_or_else(|p| p.into_inner()) = now;
    }
}
