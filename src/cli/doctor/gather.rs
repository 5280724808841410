//! The doctor's thin layer over the real system: it gathers the facts the
//! checks (`checks.rs`) judge — the configuration, the data directory, the
//! store (opened and closed again at once), the serial ports, ModemManager,
//! the daemon's record of its last backup, and head office — and judges
//! nothing itself.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::checks::{
    Backups, DataDir, DirState, Environment, Hq, HqProbe, LastVerify, ModemManager, Port, Site,
    StoreState,
};
use crate::config::Config;
use crate::store::{OpenOptions, Store, StoreError};

/// Where udev puts the stable names of serial devices.
const BY_ID: &str = "/dev/serial/by-id";
/// How long head office may take to answer the doctor.
const HQ_TIMEOUT: Duration = Duration::from_secs(10);

/// Gathers every fact about the site configured in `path`.
pub fn environment(path: &Path) -> Environment {
    Environment {
        config_path: path.to_owned(),
        config: site(path),
    }
}

fn site(path: &Path) -> Result<Site, String> {
    let report = crate::cli::check_config::check_site(path).map_err(|e| words(&e))?;
    // check_site loaded it already; loading again cannot fail differently.
    let config = Config::load(path).map_err(|e| e.to_string())?;
    let specs = crate::scan::sources::specs(&config).map_err(|e| e.to_string())?;
    let ports: Vec<Port> = specs
        .iter()
        .map(|s| port(&s.port, &s.station, &s.profile.name))
        .collect();
    let store = store(&config);
    Ok(Site {
        summary: report.summary,
        warnings: report.warnings,
        data: data_dir(&config.data_dir),
        store,
        ports,
        modem_manager: modem_manager(),
        hq: config.sync.as_ref().map(hq),
        // /proc/self belongs to the process's effective user.
        as_root: std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0),
        backup: crate::site::backups::Schedule::of(&config).map(|schedule| Backups {
            dir: schedule.dir,
            every: schedule.every,
            // The doctor's facts are words, as for the last verify.
            last: crate::site::backups::read_record(&config.data_dir).map_err(|e| e.to_string()),
            now: Utc::now(),
        }),
    })
}

/// An error and its causes in one line, leaving out a cause whose words
/// the line already holds (the configuration's errors repeat theirs).
fn words(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
    }
    line
}

fn data_dir(path: &Path) -> DataDir {
    let state = if !path.exists() {
        DirState::Missing
    } else {
        // Create a file rather than look at modes: ACLs, read-only mounts
        // and the unit's ProtectSystem all show only in the attempt.
        let probe = path.join(format!(".scantrail-doctor-{}", std::process::id()));
        match std::fs::write(&probe, b"") {
            Err(e) => DirState::NotWritable(e.to_string()),
            Ok(()) => {
                let _ = std::fs::remove_file(&probe);
                match crate::disk::space(path) {
                    Ok(s) => DirState::Writable { free: s.free },
                    Err(e) => DirState::NotWritable(format!("its free space cannot be read: {e}")),
                }
            }
        }
    };
    DataDir {
        path: path.to_owned(),
        state,
    }
}

/// Opens the store, reads what the checks need and closes it again: the
/// lock is held only for this.
fn store(config: &Config) -> StoreState {
    let store = match Store::open(
        &config.data_dir,
        OpenOptions::existing(Some(config.site.id.clone())),
    ) {
        Ok(store) => store,
        Err(StoreError::NoStore { .. }) => return StoreState::Missing,
        Err(StoreError::InUse { .. }) => return StoreState::InUse,
        Err(e) => return StoreState::Failed(e.to_string()),
    };
    let movements = match store.journal().head(store.site()) {
        Ok(head) => head.seq,
        Err(e) => return StoreState::Failed(e.to_string()),
    };
    let last_verify = crate::site::last_verify::last_verify(&store)
        .map(|run| {
            run.map(|r| LastVerify {
                at: r.at,
                ok: r.ok,
                clean: r.clean,
                summary: r.summary,
            })
        })
        .map_err(|e| e.to_string());
    drop(store);
    StoreState::Opened {
        movements,
        last_verify,
    }
}

fn port(port: &str, station: &str, profile: &str) -> Port {
    let device =
        crate::scan::serial::resolve_port(port).map(|p| std::fs::canonicalize(&p).unwrap_or(p));
    let by_id = device.as_deref().map(by_id_names).unwrap_or_default();
    let access = device.as_deref().is_some_and(|d| {
        nix::unistd::access(
            d,
            nix::unistd::AccessFlags::R_OK | nix::unistd::AccessFlags::W_OK,
        )
        .is_ok()
    });
    let group = device
        .as_deref()
        .and_then(|d| std::fs::metadata(d).ok())
        .map(|m| group_name(m.gid()));
    Port {
        port: port.to_owned(),
        station: station.to_owned(),
        profile: profile.to_owned(),
        device,
        by_id,
        access,
        group,
    }
}

/// The `/dev/serial/by-id` links that point at `device`.
fn by_id_names(device: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(BY_ID) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| std::fs::canonicalize(e.path()).is_ok_and(|t| t == device))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The name of group `gid` from /etc/group, else the number.
fn group_name(gid: u32) -> String {
    std::fs::read_to_string("/etc/group")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|line| {
                let mut fields = line.split(':');
                let name = fields.next()?;
                let id = fields.nth(1)?;
                (id.parse::<u32>().ok()? == gid).then(|| name.to_owned())
            })
        })
        .unwrap_or_else(|| gid.to_string())
}

/// A process named ModemManager, and the devices it holds open.
fn modem_manager() -> ModemManager {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return ModemManager::NotRunning;
    };
    for entry in entries.filter_map(Result::ok) {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        if comm.trim_end() != "ModemManager" {
            continue;
        }
        let open = std::fs::read_dir(entry.path().join("fd")).ok().map(|fds| {
            fds.filter_map(Result::ok)
                .filter_map(|fd| std::fs::read_link(fd.path()).ok())
                .filter(|target| target.starts_with("/dev"))
                .collect()
        });
        return ModemManager::Running { pid, open };
    }
    ModemManager::NotRunning
}

/// `GET /api/v1/limits` with the site's credential and CA, then head
/// office's health for its certificate's dates.
fn hq(sync: &crate::config::Sync) -> Hq {
    let url = sync.url.trim_end_matches('/').to_owned();
    let probe = probe(&url, sync);
    Hq { url, probe }
}

fn probe(url: &str, sync: &crate::config::Sync) -> HqProbe {
    let agent = match crate::sync::tls::agent(sync.ca.as_deref(), HQ_TIMEOUT) {
        Ok(agent) => agent,
        Err(e) => return HqProbe::BadCa(e.to_string()),
    };
    let mut request = agent.get(&format!("{url}{}", crate::sync::protocol::path::LIMITS));
    if let Some(credential) = &sync.credential {
        request = request.set("Authorization", &format!("Bearer {credential}"));
    }
    let response = match request.call() {
        Ok(response) => response,
        Err(ureq::Error::Status(code, response)) => {
            let body = response.into_string().unwrap_or_default();
            let text = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_owned))
                .unwrap_or_else(|| body.chars().take(200).collect());
            return HqProbe::Status { code, text };
        }
        Err(ureq::Error::Transport(t)) => {
            let words = format!("{t}");
            // rustls's refusals ("invalid peer certificate: ...") come as
            // the connection's I/O error.
            return if words.contains("certificate") {
                HqProbe::Certificate(words)
            } else {
                HqProbe::Unreachable(words)
            };
        }
    };
    let local = Utc::now();
    let date = response
        .header("Date")
        .and_then(|d| DateTime::parse_from_rfc2822(d).ok())
        .map(|d| d.with_timezone(&Utc));
    let certificate = crate::sync::hq_health::read(&agent, url).unwrap_or_default();
    HqProbe::Answered {
        date,
        local,
        not_after: certificate.not_after,
        certificate_warning: certificate.warning,
    }
}
