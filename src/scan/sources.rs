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
use super::serial::{spawn, ScannerSpec, SourceHandle, SourceStats};
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

/// A scanner of `[[scanners]]` and its counters (connected or not), as
/// the console and the alerts see it.
#[derive(Clone)]
pub struct ScannerState {
    pub(crate) station: String,
    pub(crate) port: String,
    pub(crate) stats: Arc<SourceStats>,
}

impl ScannerState {
    /// Whether the scanner's port is open now.
    pub fn connected(&self) -> bool {
        self.stats.connected()
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn shipped_config_resolves_its_scanner_profiles() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/scantrail.toml");
        let config = Config::load(&path).unwrap();
        let specs = specs(&config).unwrap();
        assert_eq!(specs[0].port, "/tmp/scantrail-dock-1");
        assert_eq!(specs[0].station, "dock-1");
        assert_eq!(specs[0].profile.name, "generic-aim");
    }

    #[test]
    fn a_bad_profile_stops_start_up_with_its_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("devices")).unwrap();
        std::fs::write(
            dir.path().join("devices/x.toml"),
            "[framing]\nsuffix = \"CR\"\nbaud = 1\n",
        )
        .unwrap();
        let cfg = dir.path().join("site.toml");
        std::fs::write(&cfg, "data_dir = \"d\"\n[site]\nid = \"s\"\n[[stations]]\nid = \"a\"\nmode = \"receive\"\n[[scanners]]\nport = \"/nope\"\nprofile = \"devices/x.toml\"\nstation = \"a\"\n").unwrap();
        let e = specs(&Config::load(&cfg).unwrap()).unwrap_err().to_string();
        assert!(
            e.contains("x.toml") && e.contains("line 3") && e.contains("baud"),
            "{e}"
        );
    }
}
