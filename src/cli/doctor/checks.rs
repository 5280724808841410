//! The doctor's checks, pure: each turns the facts gathered about an
//! installed site (an [`Environment`], see `gather.rs`) into findings, one
//! line each, with the fix in words. Nothing here touches the system, so
//! every outcome is tested over hand-made environments.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::disk::size;

/// Below this much free space in the data directory the site is about to
/// stop taking scans: a failure.
pub const FREE_FAIL_BYTES: u64 = 256 << 20;
/// Below this much free space: a warning, with time to act.
pub const FREE_WARN_BYTES: u64 = 1 << 30;
/// A clock further than this from head office's is a failure: movement
/// times would disagree with head office's, and certificates can look
/// expired or not yet valid.
pub const SKEW_FAIL_SECS: i64 = 30;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// ✔ as it should be.
    Pass,
    /// ⚠ works, but something is missing or will not work as meant; does
    /// not fail the doctor.
    Warn,
    /// ✗ broken: the doctor exits non-zero.
    Fail,
}

impl Status {
    /// The mark printed at the start of the line.
    pub fn mark(self) -> &'static str {
        match self {
            Status::Pass => "✔",
            Status::Warn => "⚠",
            Status::Fail => "✗",
        }
    }
}

/// One line of the doctor's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Pass, warn or fail.
    pub status: Status,
    /// What was checked and what was found.
    pub what: String,
    /// What to do, in words (none when it passes).
    pub fix: Option<String>,
}

impl Finding {
    fn pass(what: impl Into<String>) -> Finding {
        Finding {
            status: Status::Pass,
            what: what.into(),
            fix: None,
        }
    }

    fn warn(what: impl Into<String>, fix: impl Into<String>) -> Finding {
        Finding {
            status: Status::Warn,
            what: what.into(),
            fix: Some(fix.into()),
        }
    }

    fn fail(what: impl Into<String>, fix: impl Into<String>) -> Finding {
        Finding {
            status: Status::Fail,
            what: what.into(),
            fix: Some(fix.into()),
        }
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.mark(), self.what)?;
        match &self.fix {
            Some(fix) => write!(f, " — {fix}"),
            None => Ok(()),
        }
    }
}

/// Everything the doctor found out about the site.
#[derive(Debug, Clone)]
pub struct Environment {
    /// The configuration file checked.
    pub config_path: PathBuf,
    /// The configuration's facts, or why it does not load (every other
    /// check needs it).
    pub config: Result<Site, String>,
}

/// The facts of a site whose configuration loads.
#[derive(Debug, Clone)]
pub struct Site {
    /// `check-config`'s one-line summary.
    pub summary: String,
    /// `check-config`'s warnings (no tokens, no console users, ...).
    pub warnings: Vec<String>,
    /// The data directory.
    pub data: DataDir,
    /// The store in it.
    pub store: StoreState,
    /// Each `[[scanners]]` entry's port.
    pub ports: Vec<Port>,
    /// Whether ModemManager runs and which devices it holds open.
    pub modem_manager: ModemManager,
    /// Head office, when the site has `[sync]`.
    pub hq: Option<Hq>,
    /// The doctor runs as root, whom no permission stops.
    pub as_root: bool,
    /// `[backup]` and the daemon's record of its last backup; `None`
    /// without `[backup]`.
    pub backup: Option<Backups>,
}

/// Scheduled backups: what `[backup]` asks for and what the daemon last
/// did (its `last-backup.json` in the data directory).
#[derive(Debug, Clone)]
pub struct Backups {
    /// `[backup] dir`.
    pub dir: PathBuf,
    /// `[backup] every`.
    pub every: std::time::Duration,
    /// The last backup's outcome; `None` before the first, or why the
    /// record cannot be read.
    pub last: Result<Option<LastBackup>, String>,
    /// This machine's clock now, to tell how old the last backup is.
    pub now: DateTime<Utc>,
}

/// The last scheduled backup's outcome, as the daemon records it.
pub use crate::site::backups::LastBackup;

/// The data directory (`data_dir`).
#[derive(Debug, Clone)]
pub struct DataDir {
    /// Its path.
    pub path: PathBuf,
    /// Missing, not writable, or writable with its free space.
    pub state: DirState,
}

/// What the data directory is like.
#[derive(Debug, Clone)]
pub enum DirState {
    /// There is nothing at the path.
    Missing,
    /// A file could not be created in it (the error's words).
    NotWritable(String),
    /// A file was created in it (and removed); `free` bytes are left for an
    /// unprivileged user.
    Writable {
        /// Bytes available.
        free: u64,
    },
}

/// What opening the store found.
#[derive(Debug, Clone)]
pub enum StoreState {
    /// There is no store at the data directory.
    Missing,
    /// Another process holds the store's lock: normally the running daemon.
    InUse,
    /// It opened (and was closed again at once).
    Opened {
        /// Movements in the site's own journal.
        movements: u64,
        /// The console's last verify, if one was recorded (or why its
        /// record cannot be read).
        last_verify: Result<Option<LastVerify>, String>,
    },
    /// It did not open (the store's own message).
    Failed(String),
}

/// The console's last `verify` run, as the journal page shows it.
#[derive(Debug, Clone)]
pub struct LastVerify {
    /// When it ran.
    pub at: DateTime<Utc>,
    /// Every chain and derived tree matched.
    pub ok: bool,
    /// And the history keeps the rules (no unit dispatched after its
    /// receipt was voided, ...).
    pub clean: bool,
    /// Its summary line.
    pub summary: String,
}

/// One configured scanner's port.
#[derive(Debug, Clone)]
pub struct Port {
    /// The port as configured (a path or a by-id glob).
    pub port: String,
    /// The station whose scans these are.
    pub station: String,
    /// The device profile's name.
    pub profile: String,
    /// The device it resolves to now, if present.
    pub device: Option<PathBuf>,
    /// The `/dev/serial/by-id` names of that device.
    pub by_id: Vec<String>,
    /// Whether this user may read and write it.
    pub access: bool,
    /// The device's group, by name when known.
    pub group: Option<String>,
}

/// ModemManager, which probes new serial devices as modems and can hold a
/// scanner's port open.
#[derive(Debug, Clone)]
pub enum ModemManager {
    /// No process named ModemManager.
    NotRunning,
    /// It runs; `open` is every device it holds open, or `None` when its
    /// descriptors cannot be read (not root).
    Running {
        /// Its process id.
        pid: u32,
        /// The devices it holds open.
        open: Option<Vec<PathBuf>>,
    },
}

/// Head office as the site reaches it.
#[derive(Debug, Clone)]
pub struct Hq {
    /// `[sync] url`.
    pub url: String,
    /// What `GET /api/v1/limits` with the site's credential found.
    pub probe: HqProbe,
}

/// The outcome of asking head office.
#[derive(Debug, Clone)]
pub enum HqProbe {
    /// `[sync] ca` cannot be used (its error's words).
    BadCa(String),
    /// The TLS handshake refused head office's certificate.
    Certificate(String),
    /// No connection (DNS, refused, timeout).
    Unreachable(String),
    /// Head office answered with an error status.
    Status {
        /// The HTTP status.
        code: u16,
        /// The body's first words.
        text: String,
    },
    /// Head office accepted the credential.
    Answered {
        /// Its `Date` header.
        date: Option<DateTime<Utc>>,
        /// This machine's clock when the answer came.
        local: DateTime<Utc>,
        /// Its certificate's end of validity, from `/api/v1/health`.
        not_after: Option<DateTime<Utc>>,
        /// Head office's own warning about its certificate (expiring soon).
        certificate_warning: Option<String>,
    },
}

/// Every check, in the order a person reads them.
pub fn findings(env: &Environment) -> Vec<Finding> {
    let site = match &env.config {
        Ok(site) => site,
        Err(error) => return vec![config_invalid(env, error)],
    };
    let mut out = vec![Finding::pass(format!(
        "{}: {}",
        env.config_path.display(),
        site.summary
    ))];
    out.extend(site.warnings.iter().map(|w| config_warning(w)));
    out.push(data_dir(&site.data));
    out.extend(store(&site.store));
    for port in &site.ports {
        out.push(port_present(port, env));
        if port.device.is_some() {
            out.push(port_access(port));
        }
    }
    out.push(modem_manager(&site.modem_manager, &site.ports));
    out.push(backup(site.backup.as_ref()));
    match &site.hq {
        Some(hq) => out.extend(head_office(hq)),
        None => out.push(Finding::pass(
            "head office: none ([sync] is not configured; this site does not sync)",
        )),
    }
    if site.as_root {
        out.push(Finding::warn(
            "run as root: the data directory and port permissions were checked as root, whom nothing stops",
            "run `sudo -u scantrail scantrail doctor --config FILE` to check them as the service's user",
        ));
    }
    out
}

/// Whether the doctor passes: no ✗ (warnings do not fail it).
pub fn passed(findings: &[Finding]) -> bool {
    findings.iter().all(|f| f.status != Status::Fail)
}

fn config_invalid(env: &Environment, error: &str) -> Finding {
    Finding::fail(
        format!(
            "configuration {} is not valid: {error}",
            env.config_path.display()
        ),
        format!(
            "fix it and run `scantrail check-config {}`, then `scantrail doctor` again",
            env.config_path.display()
        ),
    )
}

/// A `check-config` warning: the site starts, but something will not
/// work as meant (each warning says what to do).
fn config_warning(warning: &str) -> Finding {
    Finding {
        status: Status::Warn,
        what: format!("config: {warning}"),
        fix: None,
    }
}

fn data_dir(data: &DataDir) -> Finding {
    let path = data.path.display();
    match &data.state {
        DirState::Missing => Finding::fail(
            format!("data directory {path} does not exist"),
            format!("create it for the service's user: `sudo install -d -o scantrail -g scantrail {path}` (the package creates /var/lib/scantrail), or fix `data_dir`"),
        ),
        DirState::NotWritable(error) => Finding::fail(
            format!("data directory {path} is not writable: {error}"),
            format!("give it to the service's user: `sudo chown -R scantrail:scantrail {path}`"),
        ),
        DirState::Writable { free } if *free < FREE_FAIL_BYTES => Finding::fail(
            format!("data directory {path} is writable but only {} free", size(*free)),
            "free space on that disk now: the store needs room for every scan (or move `data_dir` to a larger disk)",
        ),
        DirState::Writable { free } if *free < FREE_WARN_BYTES => Finding::warn(
            format!("data directory {path} is writable, {} free", size(*free)),
            format!("free space soon: under {} the site is near to refusing scans", size(FREE_FAIL_BYTES)),
        ),
        DirState::Writable { free } => {
            Finding::pass(format!("data directory {path} is writable, {} free", size(*free)))
        }
    }
}

/// The store line, and for a store that opened, its last verify.
fn store(store: &StoreState) -> Vec<Finding> {
    match store {
        StoreState::Missing => vec![Finding::fail(
            "store: there is none in the data directory yet",
            "start the service (`sudo systemctl start scantrail`): the daemon creates the store when it first starts",
        )],
        StoreState::InUse => vec![Finding::pass(
            "store in use by the running daemon — that is fine (its last verify shows on the console's Journal page)",
        )],
        StoreState::Failed(error) => vec![Finding::fail(
            format!("store does not open: {error}"),
            "do what the message says; if the store is damaged, restore the latest backup (`scantrail verify` names what is wrong)",
        )],
        StoreState::Opened {
            movements,
            last_verify,
        } => vec![
            Finding::pass(format!("store opens: {movements} movements in the journal")),
            verify(last_verify),
        ],
    }
}

fn verify(last: &Result<Option<LastVerify>, String>) -> Finding {
    match last {
        Err(error) => Finding::warn(
            format!("last verify: {error}"),
            "run verify again from the console's Journal page",
        ),
        Ok(None) => Finding::warn(
            "last verify: none recorded",
            "run verify from the console's Journal page (or `scantrail verify` while the daemon is stopped)",
        ),
        Ok(Some(run)) if run.ok && !run.clean => Finding::warn(
            format!(
                "last verify {}: intact, but history breaks the rules: {}",
                run.at.format("%Y-%m-%d %H:%M UTC"),
                run.summary
            ),
            "explain each movement it lists on the console's Journal page, and correct it where the rules allow",
        ),
        Ok(Some(run)) if run.ok => Finding::pass(format!(
            "last verify {}: {}",
            run.at.format("%Y-%m-%d %H:%M UTC"),
            run.summary
        )),
        Ok(Some(run)) => Finding::fail(
            format!(
                "last verify {} failed: {}",
                run.at.format("%Y-%m-%d %H:%M UTC"),
                run.summary
            ),
            "see its problems on the console's Journal page: if only derived trees are wrong run `scantrail reindex`; if a chain is broken restore from a backup",
        ),
    }
}

/// Last backup ok and recent: within twice `[backup] every`.
fn backup(backups: Option<&Backups>) -> Finding {
    let Some(b) = backups else {
        return Finding::warn(
            "backups: none scheduled ([backup] is not configured)",
            "add a [backup] section (dir, every, keep; README.md, \"Scheduled backups\") so the daemon keeps recent copies of the store",
        );
    };
    let dir = b.dir.display();
    let every = crate::duration::age_std(b.every);
    let last = match &b.last {
        Err(error) => {
            return Finding::warn(
                format!("backups into {dir}: the last one's record cannot be read: {error}"),
                "delete that file: the daemon writes it again after its next backup",
            )
        }
        Ok(None) => {
            return Finding::warn(
                format!("backups into {dir}: none made yet"),
                format!("the running daemon makes the first at start and then every {every}: start it (`sudo systemctl start scantrail`) and run the doctor again"),
            )
        }
        Ok(Some(last)) => last,
    };
    if let Some(trouble) = crate::site::backups::Trouble::of(last, b.every, b.now) {
        let fix = trouble.fix(&b.dir, b.every);
        return Finding::fail(trouble.to_string(), fix);
    }
    let when = last.at.format("%Y-%m-%d %H:%M UTC");
    Finding::pass(format!(
        "last backup {when}: {} ({} entries in {:.1} s)",
        last.path.display(),
        last.entries,
        last.seconds
    ))
}

/// `port (station S, profile P)`.
fn describe(port: &Port) -> String {
    format!(
        "scanner port {} (station {}, profile {})",
        port.port, port.station, port.profile
    )
}

fn port_present(port: &Port, env: &Environment) -> Finding {
    match &port.device {
        None => Finding::fail(
            format!("{} is not present", describe(port)),
            format!(
                "plug the scanner in (and check `ls /dev/serial/by-id/`), or correct its `port` in {}",
                env.config_path.display()
            ),
        ),
        Some(device) => {
            let by_id = if port.by_id.is_empty() {
                "no /dev/serial/by-id name".to_owned()
            } else {
                format!("by-id {}", port.by_id.join(", "))
            };
            let mut finding = Finding::pass(format!(
                "{} is present: {} ({by_id})",
                describe(port),
                device.display()
            ));
            if port.by_id.is_empty() && port.port.starts_with("/dev/tty") {
                // The name can change when scanners are plugged in another
                // order; a by-id name or the udev rule's link cannot.
                finding.status = Status::Warn;
                finding.fix = Some("name the port by a stable link (`/dev/serial/by-id/...` or the package's udev rule) so it does not change when scanners are replugged".to_owned());
            }
            finding
        }
    }
}

fn port_access(port: &Port) -> Finding {
    let device = port
        .device
        .as_deref()
        .unwrap_or(std::path::Path::new(&port.port));
    let group = port.group.as_deref().unwrap_or("its group");
    if port.access {
        Finding::pass(format!(
            "permissions on {}: readable and writable (group {group})",
            device.display()
        ))
    } else {
        Finding::fail(
            format!("permissions on {}: this user cannot read and write it (group {group})", device.display()),
            format!("add the service's user to group {group} (`sudo usermod -aG {group} scantrail`; the packaged unit has `SupplementaryGroups=dialout`), and run the doctor as that user"),
        )
    }
}

fn modem_manager(mm: &ModemManager, ports: &[Port]) -> Finding {
    match mm {
        ModemManager::NotRunning => Finding::pass("ModemManager is not running: it cannot grab a scanner"),
        ModemManager::Running { pid, open: None } => Finding::warn(
            format!("ModemManager runs (pid {pid}); which ports it holds cannot be read as this user"),
            "run the doctor as root to see, or make sure the package's udev rule (ID_MM_DEVICE_IGNORE) is installed, or `sudo systemctl disable --now ModemManager` on a PC without a modem",
        ),
        ModemManager::Running { pid, open: Some(open) } => {
            let grabbed: Vec<String> = ports
                .iter()
                .filter_map(|p| p.device.as_ref())
                .filter(|d| open.contains(d))
                .map(|d| d.display().to_string())
                .collect();
            if grabbed.is_empty() {
                Finding::pass(format!("ModemManager runs (pid {pid}) but holds no scanner port"))
            } else {
                Finding::fail(
                    format!("ModemManager (pid {pid}) holds scanner port {} open", grabbed.join(", ")),
                    "install the package's udev rule (it sets ID_MM_DEVICE_IGNORE) and replug the scanner, or `sudo systemctl disable --now ModemManager` on a PC without a modem",
                )
            }
        }
    }
}

/// Reachable (with the credential accepted), its certificate, and the
/// clock against head office's.
fn head_office(hq: &Hq) -> Vec<Finding> {
    let url = &hq.url;
    match &hq.probe {
        HqProbe::BadCa(error) => vec![Finding::fail(
            format!("head office {url}: the CA file cannot be used: {error}"),
            "set `[sync] ca` to the PEM certificate of the CA that signed head office's certificate",
        )],
        HqProbe::Certificate(error) => vec![Finding::fail(
            format!("head office {url}: its certificate is not trusted: {error}"),
            "check `[sync] ca` is the CA that signed head office's certificate, that the URL's host name is in it, that it has not expired, and this PC's clock",
        )],
        HqProbe::Unreachable(error) => vec![Finding::fail(
            format!("head office {url} is not reachable: {error}"),
            "check the URL in `[sync] url`, the network and firewall, and that `scantrail hq` runs there; the site keeps scanning and sends its backlog later",
        )],
        HqProbe::Status { code: 401 | 403, text } => vec![Finding::fail(
            format!("head office {url} refused this site's credential: {text}"),
            "set `[sync] credential` to the token head office has for this site (`[[sites]] token_sha256` in its configuration)",
        )],
        HqProbe::Status { code, text } => vec![Finding::fail(
            format!("head office {url} answered {code}: {text}"),
            "look at head office's log for the cause",
        )],
        HqProbe::Answered {
            date,
            local,
            not_after,
            certificate_warning,
        } => {
            let mut out = vec![Finding::pass(format!(
                "head office {url} is reachable and accepts this site's credential"
            ))];
            let until = not_after.map_or(String::new(), |t| format!(", valid until {}", t.format("%Y-%m-%d")));
            out.push(match certificate_warning {
                Some(w) => Finding::warn(
                    format!("head office's certificate is trusted{until}, but {w}"),
                    "renew head office's certificate before it expires, or every site stops syncing",
                ),
                None => Finding::pass(format!("head office's certificate is trusted{until}")),
            });
            out.push(skew(*date, *local));
            out
        }
    }
}

fn skew(date: Option<DateTime<Utc>>, local: DateTime<Utc>) -> Finding {
    let Some(date) = date else {
        return Finding::warn(
            "clock: head office sent no Date header to compare with",
            "compare `date -u` here and at head office by hand",
        );
    };
    let secs = (local - date).num_seconds();
    let words = match secs {
        0 => "the same as head office's".to_owned(),
        s if s > 0 => format!("{s} s ahead of head office's"),
        s => format!("{} s behind head office's", -s),
    };
    if secs.abs() > SKEW_FAIL_SECS {
        Finding::fail(
            format!("clock: this PC's is {words}"),
            "turn on time sync (`sudo timedatectl set-ntp true`) here and at head office: movement times and certificate checks depend on it",
        )
    } else {
        Finding::pass(format!(
            "clock: within {SKEW_FAIL_SECS} s of head office's ({words})"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn port(port: &str, device: Option<&str>) -> Port {
        Port {
            port: port.to_owned(),
            station: "dock-1".to_owned(),
            profile: "generic-aim".to_owned(),
            device: device.map(PathBuf::from),
            by_id: vec!["usb-Honeywell_1900-if00".to_owned()],
            access: true,
            group: Some("dialout".to_owned()),
        }
    }

    /// A healthy site that syncs: every check passes.
    fn healthy() -> Environment {
        Environment {
            config_path: PathBuf::from("/etc/scantrail/scantrail.toml"),
            config: Ok(Site {
                summary: "site configuration of `north`".to_owned(),
                warnings: Vec::new(),
                data: DataDir {
                    path: PathBuf::from("/var/lib/scantrail"),
                    state: DirState::Writable { free: 40 << 30 },
                },
                store: StoreState::Opened {
                    movements: 12,
                    last_verify: Ok(Some(LastVerify {
                        at: at("2026-11-28T10:00:00Z"),
                        ok: true,
                        clean: true,
                        summary: "12 movements checked".to_owned(),
                    })),
                },
                ports: vec![port(
                    "/dev/serial/by-id/usb-Honeywell*",
                    Some("/dev/ttyACM0"),
                )],
                modem_manager: ModemManager::NotRunning,
                hq: Some(Hq {
                    url: "https://hq.example:8443".to_owned(),
                    probe: HqProbe::Answered {
                        date: Some(at("2026-11-29T12:00:00Z")),
                        local: at("2026-11-29T12:00:01Z"),
                        not_after: Some(at("2027-06-01T00:00:00Z")),
                        certificate_warning: None,
                    },
                }),
                as_root: false,
                backup: Some(Backups {
                    dir: PathBuf::from("/var/backups/scantrail"),
                    every: std::time::Duration::from_secs(86_400),
                    last: Ok(Some(backed_up(true, "2026-11-29T02:00:00Z"))),
                    now: at("2026-11-29T12:00:00Z"),
                }),
            }),
        }
    }

    fn backed_up(ok: bool, when: &str) -> LastBackup {
        LastBackup {
            at: at(when),
            ok,
            path: PathBuf::from("/var/backups/scantrail/20261129T020000.000Z"),
            error: (!ok).then(|| "cannot write to /var/backups/scantrail (create the backup directory: Permission denied (os error 13))".to_owned()),
            seconds: 1.25,
            paused_seconds: 0.05,
            entries: 4000,
        }
    }

    fn site(env: &mut Environment) -> &mut Site {
        env.config.as_mut().unwrap()
    }

    /// The one finding whose words contain `needle`.
    fn finding<'a>(findings: &'a [Finding], needle: &str) -> &'a Finding {
        let found: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.what.contains(needle))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "one finding with {needle:?} in {findings:#?}"
        );
        found[0]
    }

    /// The finding with `needle` has `status`, and its fix holds `fix`.
    fn assert_finding(env: &Environment, needle: &str, status: Status, fix: &str) {
        let all = findings(env);
        let f = finding(&all, needle);
        assert_eq!(f.status, status, "{f}");
        let words = f.fix.as_deref().unwrap_or("");
        assert!(words.contains(fix), "fix of {f} should say {fix:?}");
        assert_eq!(passed(&all), status != Status::Fail, "{all:#?}");
    }

    #[test]
    fn a_healthy_site_passes_every_check_with_one_line_each() {
        let all = findings(&healthy());
        let lines: Vec<String> = all.iter().map(ToString::to_string).collect();
        assert!(all.iter().all(|f| f.status == Status::Pass), "{lines:#?}");
        assert!(passed(&all));
        for needle in [
            "site configuration of `north`",
            "data directory /var/lib/scantrail is writable, 40.0 GiB free",
            "store opens: 12 movements",
            "last verify 2026-11-28 10:00 UTC: 12 movements checked",
            "scanner port /dev/serial/by-id/usb-Honeywell* (station dock-1, profile generic-aim) is present: /dev/ttyACM0 (by-id usb-Honeywell_1900-if00)",
            "permissions on /dev/ttyACM0: readable and writable (group dialout)",
            "ModemManager is not running",
            "head office https://hq.example:8443 is reachable",
            "certificate is trusted, valid until 2027-06-01",
            "clock: within 30 s of head office's (1 s ahead of head office's)",
            "last backup 2026-11-29 02:00 UTC: /var/backups/scantrail/20261129T020000.000Z (4000 entries in 1.2 s)",
        ] {
            finding(&all, needle);
        }
        assert!(lines
            .iter()
            .all(|l| l.starts_with("✔ ") && !l.contains(" — ")));
    }

    #[test]
    fn a_failed_or_stale_last_backup_fails_with_its_fix() {
        // (the record, the finding's words, its status, its fix)
        let cases = [
            (
                Ok(None),
                "backups into /var/backups/scantrail: none made yet",
                Status::Warn,
                "every 24 h",
            ),
            (
                Ok(Some(backed_up(false, "2026-11-29T02:00:00Z"))),
                "last backup 2026-11-29 02:00 UTC failed: cannot write to /var/backups/scantrail",
                Status::Fail,
                "sudo install -d -o scantrail -g scantrail /var/backups/scantrail",
            ),
            // Ok, but 50 h ago with a daily schedule: backups have stopped.
            (
                Ok(Some(backed_up(true, "2026-11-27T10:00:00Z"))),
                "last backup 2026-11-27 10:00 UTC is 50 h old, more than twice `every` (24 h)",
                Status::Fail,
                "systemctl status scantrail",
            ),
            // 47 h is late, but within one missed run.
            (
                Ok(Some(backed_up(true, "2026-11-27T13:00:00Z"))),
                "last backup 2026-11-27 13:00 UTC:",
                Status::Pass,
                "",
            ),
            (
                Err("last-backup.json cannot be read: EOF".to_owned()),
                "record cannot be read",
                Status::Warn,
                "delete that file",
            ),
        ];
        let mut env = healthy();
        for (last, what, status, fix) in cases {
            site(&mut env).backup.as_mut().unwrap().last = last;
            assert_finding(&env, what, status, fix);
        }
        site(&mut env).backup = None;
        assert_finding(
            &env,
            "backups: none scheduled",
            Status::Warn,
            "add a [backup] section",
        );
    }

    #[test]
    fn an_invalid_configuration_is_the_only_line_and_says_to_check_it() {
        let mut env = healthy();
        env.config = Err("line 3, key `gln`: wrong check digit".to_owned());
        let all = findings(&env);
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].status, Status::Fail);
        assert!(all[0].what.contains("wrong check digit"));
        assert!(all[0]
            .fix
            .as_deref()
            .unwrap()
            .contains("scantrail check-config /etc/scantrail/scantrail.toml"));
        assert!(!passed(&all));
    }

    #[test]
    fn a_configuration_warning_such_as_no_users_is_a_warning_that_does_not_fail() {
        let mut env = healthy();
        site(&mut env).warnings = vec!["no [[users]]: nobody can sign in to the console; add one with `scantrail user add NAME --role supervisor`".to_owned()];
        let all = findings(&env);
        let f = finding(&all, "no [[users]]");
        assert_eq!(f.status, Status::Warn);
        assert!(f.to_string().starts_with("⚠ "));
        assert!(f.what.contains("scantrail user add"));
        assert!(passed(&all));
    }

    #[test]
    fn the_data_directory_missing_not_writable_or_full_fails_with_its_fix() {
        let mut env = healthy();
        site(&mut env).data.state = DirState::Missing;
        assert_finding(
            &env,
            "does not exist",
            Status::Fail,
            "sudo install -d -o scantrail",
        );
        site(&mut env).data.state =
            DirState::NotWritable("Permission denied (os error 13)".to_owned());
        assert_finding(
            &env,
            "is not writable: Permission denied",
            Status::Fail,
            "sudo chown -R scantrail:scantrail /var/lib/scantrail",
        );
        site(&mut env).data.state = DirState::Writable { free: 100 << 20 };
        assert_finding(
            &env,
            "only 100 MiB free",
            Status::Fail,
            "free space on that disk now",
        );
        site(&mut env).data.state = DirState::Writable { free: 700 << 20 };
        assert_finding(
            &env,
            "writable, 700 MiB free",
            Status::Warn,
            "free space soon",
        );
    }

    #[test]
    fn the_store_in_use_by_the_daemon_is_fine() {
        let mut env = healthy();
        site(&mut env).store = StoreState::InUse;
        let all = findings(&env);
        let f = finding(&all, "store in use by the running daemon — that is fine");
        assert_eq!(f.status, Status::Pass);
        assert!(passed(&all));
    }

    #[test]
    fn a_missing_or_failing_store_fails_with_its_fix() {
        let mut env = healthy();
        site(&mut env).store = StoreState::Missing;
        assert_finding(
            &env,
            "store: there is none",
            Status::Fail,
            "sudo systemctl start scantrail",
        );
        site(&mut env).store = StoreState::Failed("schema version 9".to_owned());
        assert_finding(
            &env,
            "store does not open: schema version 9",
            Status::Fail,
            "restore the latest backup",
        );
    }

    /// A store that opened with this last verify.
    fn verified(ok: bool, clean: bool, summary: &str) -> StoreState {
        StoreState::Opened {
            movements: 3,
            last_verify: Ok(Some(LastVerify {
                at: at("2026-11-28T10:00:00Z"),
                ok,
                clean,
                summary: summary.to_owned(),
            })),
        }
    }

    #[test]
    fn a_failed_or_missing_last_verify_is_named() {
        let mut env = healthy();
        site(&mut env).store = verified(false, false, "chain broken at seq 2");
        assert_finding(
            &env,
            "failed: chain broken at seq 2",
            Status::Fail,
            "scantrail reindex",
        );
        site(&mut env).store = verified(true, false, "1 movement breaks the rules");
        assert_finding(
            &env,
            "intact, but history breaks the rules: 1 movement",
            Status::Warn,
            "explain each movement",
        );
        site(&mut env).store = StoreState::Opened {
            movements: 3,
            last_verify: Ok(None),
        };
        assert_finding(
            &env,
            "last verify: none recorded",
            Status::Warn,
            "console's Journal page",
        );
        site(&mut env).store = StoreState::Opened {
            movements: 3,
            last_verify: Err("the record cannot be read".to_owned()),
        };
        assert_finding(
            &env,
            "last verify: the record cannot be read",
            Status::Warn,
            "run verify again",
        );
    }

    #[test]
    fn a_missing_port_fails_naming_it_and_its_station_and_profile() {
        let mut env = healthy();
        site(&mut env)
            .ports
            .push(port("/dev/scantrail/dock-2", None));
        let all = findings(&env);
        let f = finding(&all, "/dev/scantrail/dock-2");
        assert_eq!(f.status, Status::Fail);
        assert_eq!(
            f.what,
            "scanner port /dev/scantrail/dock-2 (station dock-1, profile generic-aim) is not present"
        );
        assert!(f.fix.as_deref().unwrap().contains("plug the scanner in"));
        // No permission line for a port that is not there.
        assert_eq!(
            all.iter()
                .filter(|f| f.what.starts_with("permissions"))
                .count(),
            1
        );
        assert!(!passed(&all));
    }

    #[test]
    fn a_bare_tty_name_without_a_by_id_name_is_a_warning() {
        let mut env = healthy();
        let mut p = port("/dev/ttyACM0", Some("/dev/ttyACM0"));
        p.by_id.clear();
        site(&mut env).ports = vec![p];
        assert_finding(
            &env,
            "(no /dev/serial/by-id name)",
            Status::Warn,
            "stable link",
        );
    }

    #[test]
    fn a_port_this_user_cannot_open_fails_naming_dialout() {
        let mut env = healthy();
        site(&mut env).ports[0].access = false;
        assert_finding(
            &env,
            "permissions on /dev/ttyACM0: this user cannot",
            Status::Fail,
            "sudo usermod -aG dialout scantrail",
        );
    }

    #[test]
    fn modem_manager_holding_a_scanner_port_fails() {
        let mut env = healthy();
        site(&mut env).modem_manager = ModemManager::Running {
            pid: 812,
            open: Some(vec![PathBuf::from("/dev/ttyACM0")]),
        };
        assert_finding(
            &env,
            "ModemManager (pid 812) holds scanner port /dev/ttyACM0 open",
            Status::Fail,
            "ID_MM_DEVICE_IGNORE",
        );
        site(&mut env).modem_manager = ModemManager::Running {
            pid: 812,
            open: Some(vec![PathBuf::from("/dev/ttyUSB3")]),
        };
        assert_finding(&env, "holds no scanner port", Status::Pass, "");
        site(&mut env).modem_manager = ModemManager::Running {
            pid: 812,
            open: None,
        };
        assert_finding(
            &env,
            "cannot be read as this user",
            Status::Warn,
            "run the doctor as root",
        );
    }

    #[test]
    fn head_office_failures_each_say_what_to_fix() {
        let mut env = healthy();
        let cases = [
            (
                HqProbe::BadCa("no usable CA".to_owned()),
                "the CA file cannot be used",
                "set `[sync] ca`",
            ),
            (
                HqProbe::Certificate("invalid peer certificate: UnknownIssuer".to_owned()),
                "its certificate is not trusted",
                "signed head office's certificate",
            ),
            (
                HqProbe::Unreachable("Connection refused".to_owned()),
                "is not reachable: Connection refused",
                "`scantrail hq` runs there",
            ),
            (
                HqProbe::Status {
                    code: 401,
                    text: "unknown token".to_owned(),
                },
                "refused this site's credential",
                "set `[sync] credential`",
            ),
            (
                HqProbe::Status {
                    code: 500,
                    text: "boom".to_owned(),
                },
                "answered 500: boom",
                "head office's log",
            ),
        ];
        for (probe, what, fix) in cases {
            site(&mut env).hq.as_mut().unwrap().probe = probe;
            assert_finding(&env, what, Status::Fail, fix);
            // Nothing about the certificate's dates or the clock without an answer.
            assert!(findings(&env).iter().all(|f| !f.what.starts_with("clock")));
        }
    }

    #[test]
    fn a_certificate_head_office_warns_about_is_a_warning() {
        let mut env = healthy();
        site(&mut env).hq.as_mut().unwrap().probe = HqProbe::Answered {
            date: Some(at("2026-11-29T12:00:00Z")),
            local: at("2026-11-29T12:00:00Z"),
            not_after: Some(at("2026-12-10T00:00:00Z")),
            certificate_warning: Some("it expires in 10 days".to_owned()),
        };
        assert_finding(
            &env,
            "but it expires in 10 days",
            Status::Warn,
            "renew head office's certificate",
        );
    }

    #[test]
    fn a_clock_off_by_more_than_the_limit_fails_and_a_missing_date_warns() {
        let mut env = healthy();
        let answered = |date: Option<&str>, local: &str| HqProbe::Answered {
            date: date.map(at),
            local: at(local),
            not_after: None,
            certificate_warning: None,
        };
        site(&mut env).hq.as_mut().unwrap().probe =
            answered(Some("2026-11-29T12:00:00Z"), "2026-11-29T11:58:00Z");
        assert_finding(
            &env,
            "clock: this PC's is 120 s behind head office's",
            Status::Fail,
            "timedatectl set-ntp true",
        );
        site(&mut env).hq.as_mut().unwrap().probe =
            answered(Some("2026-11-29T12:00:00Z"), "2026-11-29T12:00:30Z");
        assert_finding(
            &env,
            "within 30 s of head office's (30 s ahead",
            Status::Pass,
            "",
        );
        site(&mut env).hq.as_mut().unwrap().probe = answered(None, "2026-11-29T12:00:30Z");
        assert_finding(&env, "no Date header", Status::Warn, "date -u");
    }

    #[test]
    fn running_as_root_warns_that_permissions_were_not_really_checked() {
        let mut env = healthy();
        site(&mut env).as_root = true;
        assert_finding(
            &env,
            "run as root",
            Status::Warn,
            "sudo -u scantrail scantrail doctor",
        );
    }

    #[test]
    fn a_site_without_sync_passes_the_head_office_line() {
        let mut env = healthy();
        site(&mut env).hq = None;
        assert_finding(&env, "[sync] is not configured", Status::Pass, "");
    }
}
