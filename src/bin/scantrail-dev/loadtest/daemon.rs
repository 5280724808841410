//! The site daemon `loadtest` starts when no `--url` is given: the real
//! `scantrail run` (the binary beside this one, or `--scantrail PATH`) on
//! a fresh configuration that binds one `[[scanners]]` entry to each pty,
//! on a port from the OS, stopped with SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::{BAD, GOOD, INIT, STATIONS};

/// How long the daemon may take to print its listening line, or to exit
/// after SIGTERM.
const WAIT: Duration = Duration::from_secs(30);

/// The daemon this command started; SIGKILLed on drop unless stopped.
pub struct Daemon {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`
    pub url: String,
}

/// `scantrail` beside this executable (`target/release/scantrail-dev` ->
/// `target/release/scantrail`), unless `explicit` names one.
pub fn scantrail_binary(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    let path = match explicit {
        Some(p) => p.to_owned(),
        None => std::env::current_exe()
            .context("cannot find this executable")?
            .with_file_name("scantrail"),
    };
    if !path.is_file() {
        bail!(
            "no scantrail binary at {}: build it (`cargo build --release --bin scantrail`) or give --scantrail PATH",
            path.display()
        );
    }
    Ok(path)
}

impl Daemon {
    /// `scantrail run --config CONFIG --listen 127.0.0.1:0`, its log in
    /// `log`; waits for the `listening on` line.
    pub fn start(binary: &Path, config: &Path, log: &Path, level: &str) -> anyhow::Result<Daemon> {
        let log_file = std::fs::File::create(log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let mut child = Command::new(binary)
            .arg("run")
            .arg("--config")
            .arg(config)
            .args(["--listen", "127.0.0.1:0"])
            .env("RUST_LOG", level)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            for line in lines.by_ref() {
                let Ok(line) = line else { return };
                if let Some(url) = line.strip_prefix("listening on ") {
                    let _ = tx.send(url.trim().to_owned());
                    break;
                }
            }
            // Keep draining so the daemon never blocks on a full pipe.
            for _ in lines {}
        });
        let mut daemon = Daemon {
            child: Some(child),
            url: String::new(),
        };
        match rx.recv_timeout(WAIT) {
            Ok(url) => {
                daemon.url = url;
                Ok(daemon)
            }
            Err(_) => bail!(
                "the daemon did not start within {WAIT:?}; its log {}:\n{}",
                log.display(),
                std::fs::read_to_string(log).unwrap_or_default()
            ),
        }
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGTERM, then waits (SIGKILL after `WAIT`).
    pub fn stop(mut self) -> anyhow::Result<ExitStatus> {
        let mut child = self.child.take().context("the daemon was stopped")?;
        kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM)
            .context("cannot signal the daemon")?;
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok(status);
            }
            if Instant::now() > deadline {
                child.kill()?;
                return Ok(child.wait()?);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The daemon's configuration: ten receiving stations, a scanner on each
/// pty link, an admin token (to import the product and read metrics) and
/// a handheld token `TOKEN-h` for the handhelds' scans.
pub fn write_config(folder: &Path, scanners: usize, token: &str) -> anyhow::Result<PathBuf> {
    let profile = folder.join("loadtest-scanner.toml");
    std::fs::write(
        &profile,
        format!(
            "description = \"scantrail loadtest virtual scanner\"\n\
             [framing]\nsuffix = \"CR\"\ninter_byte_timeout_ms = 500\n\
             [symbology]\naim = \"expected\"\n\
             [feedback]\ninit = [{INIT}]\ngood_read = [{GOOD}]\nbad_read = [{BAD}]\n\
             [reconnect]\ninitial_ms = 50\nmax_ms = 500\n"
        ),
    )?;
    let stations: Vec<String> = (0..STATIONS).map(|s| format!("\"dock-{s}\"")).collect();
    let mut text = format!(
        "data_dir = \"data\"\n[site]\nid = \"loadtest\"\n\
         [[tokens]]\nname = \"loadtest-admin\"\nrole = \"admin\"\ntoken = \"{token}\"\n\
         [[tokens]]\nname = \"loadtest\"\nrole = \"handheld\"\nstations = [{}]\ntoken = \"{token}-h\"\n",
        stations.join(", ")
    );
    for s in 0..STATIONS {
        text.push_str(&format!(
            "[[stations]]\nid = \"dock-{s}\"\nmode = \"receive\"\nlocation = \"DOCK-{s}\"\n"
        ));
    }
    for i in 0..scanners {
        text.push_str(&format!(
            "[[scanners]]\nport = \"{}\"\nprofile = \"{}\"\nstation = \"dock-{}\"\n",
            folder.join(format!("pty-{i}")).display(),
            profile.display(),
            i % STATIONS
        ));
    }
    let config = folder.join("site.toml");
    std::fs::write(&config, text)?;
    Ok(config)
}
