//! The daemons as a service manager runs them: JSON log lines for a log
//! shipper (`--log-format json`, `[log] format = "json"`). Real child
//! processes.

mod support;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;

use support::daemon::{binary, Api, WAIT};

/// A site with one station and no scanner; `log` is put before `[site]`.
fn site_config(dir: &Path, log: &str) -> PathBuf {
    let path = dir.join("scantrail.toml");
    std::fs::write(
        &path,
        format!("data_dir = \"data\"\n{log}[site]\nid = \"north\"\n[[stations]]\nid = \"dock-1\"\nmode = \"receive\"\n"),
    )
    .unwrap();
    path
}

/// A daemon started by hand (the harness in `support::daemon` reads its
/// stdout for the human listening line); SIGKILLed on drop.
struct Process(Child);

impl Process {
    fn start(args: &[&str], config: &Path) -> Process {
        let mut command = Command::new(binary());
        command
            .args(args)
            .arg("--config")
            .arg(config)
            .args(["--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        Process(command.spawn().unwrap())
    }

    fn terminate(&mut self) -> std::process::ExitStatus {
        kill(Pid::from_raw(self.0.id() as i32), Signal::SIGTERM).unwrap();
        self.0.wait().unwrap()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Every stderr line, as it comes.
fn lines_of(stream: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Reads JSON log lines up to the `listening on` event; every line before
/// it must be a JSON object with a time, a level and a message too.
fn listening_event(lines: &mpsc::Receiver<String>) -> Value {
    loop {
        let line = lines
            .recv_timeout(WAIT)
            .expect("no `listening on` log line within the wait");
        let event: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {line}"));
        for key in ["timestamp", "level", "target", "message"] {
            assert!(event.get(key).is_some(), "no `{key}` in {line}");
        }
        if event["message"] == "listening on" {
            return event;
        }
    }
}

#[test]
fn json_logs_are_one_object_a_line_from_the_flag_or_the_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let by_flag = site_config(&folder(dir.path(), "flag"), "");
    let by_file = site_config(&folder(dir.path(), "file"), "[log]\nformat = \"json\"\n");
    for (args, config) in [
        (&["--log-format", "json", "run"][..], &by_flag),
        (&["run"][..], &by_file),
    ] {
        let mut daemon = Process::start(args, config);
        let lines = lines_of(daemon.0.stderr.take().unwrap());
        let event = listening_event(&lines);
        assert_eq!(event["level"], "INFO", "{event}");
        let url = event["url"]
            .as_str()
            .expect("no url in the event")
            .to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "{event}");
        assert_eq!(Api::new(&url, None).get("/api/v1/health").status, 200);
        assert!(daemon.terminate().success());
        // Nothing but JSON: the human lines on stdout are left out.
        let mut stdout = String::new();
        daemon
            .0
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut stdout)
            .unwrap();
        assert_eq!(stdout, "", "{args:?}");
        for line in lines.try_iter() {
            serde_json::from_str::<Value>(&line)
                .unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {line}"));
        }
    }
}

/// A new folder `name` in `parent`.
fn folder(parent: &Path, name: &str) -> PathBuf {
    let path = parent.join(name);
    std::fs::create_dir_all(&path).unwrap();
    path
}
