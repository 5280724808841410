//! All of a site's scanners from `[[scanners]]`: load each profile once,
//! start one source per scanner, and hand back one channel of events.
//!
//! Profiles are validated here, before anything starts, so a typo stops the
//! daemon with the file and line; a missing device never does.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::profile::{Profile, ProfileError};
use super::raw_scan::ScanEvent;
use super::serial::{spawn, ScannerSpec, SourceHandle};
use crate::config::Config;

/// The scanners of a configuration, with their profiles loaded.
pub fn specs(config: &Config) -> Result<Vec<ScannerSpec>, ProfileError> {
    let mut profiles: HashMap<PathBuf, Arc<Profile>> = HashMap::new();
    let mut specs = Vec::with_capacity(config.scanners.len());
    for scanner in &config.scanners {
        let path = config.profile_path(&scanner.profile);
        let profile = match profiles.get(&path) {
            Some(p) => p.clone(),
            None => {
                let p = Arc::new(Profile::load(&path)?);
                profiles.insert(path, p.clone());
                p
            }
        };
        specs.push(ScannerSpec {
            port: scanner.port.clone(),
            station: scanner.station.clone(),
            profile,
        });
    }
    Ok(specs)
}

/// Starts every scanner; events of all of them arrive on the receiver.
/// Must be called inside a tokio runtime.
pub fn start(
    specs: Vec<ScannerSpec>,
    capacity: usize,
) -> (Vec<SourceHandle>, mpsc::Receiver<ScanEvent>) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let handles = specs.into_iter().map(|s| spawn(s, tx.clone())).collect();
    (handles, rx)
}
