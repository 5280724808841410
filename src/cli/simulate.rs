//! `scantrail simulate`: a virtual scanner on a pseudo-terminal, so the
//! whole path (framing, reconnects, beeps) can be tried without hardware.
//! It sends scans framed exactly as the profile's scanner would and prints
//! what the host writes back.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::mpsc;

use crate::scan::pty::{frame_line, VirtualScanner};
use crate::scan::{escape, Profile};

/// Arguments of `scantrail simulate`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The device profile of the scanner to imitate.
    #[arg(long)]
    pub profile: PathBuf,
    /// Scans per second (default: as fast as the profile's framing allows).
    #[arg(long, value_name = "N")]
    pub rate: Option<f64>,
    /// Make PATH a symlink to the virtual device (for a fixed `port`).
    #[arg(long, value_name = "PATH")]
    pub link: Option<PathBuf>,
    /// Exit once everything is sent (after a short wait for the beeps).
    #[arg(long)]
    pub exit_after_send: bool,
    /// Scans, one per line (`^` = FNC1/GS); `-` for stdin. None: send nothing.
    #[arg(value_name = "FILE")]
    pub input: Option<PathBuf>,
}

/// Opens the pseudo-terminal, prints its path, sends the scans and prints
/// what the host writes back, until Ctrl-C (or `--exit-after-send`).
pub fn run(args: Args) -> super::Outcome {
    let profile = Profile::load(&args.profile)?;
    if let Some(rate) = args.rate {
        anyhow::ensure!(
            rate > 0.0 && rate.is_finite(),
            "--rate must be a positive number of scans per second"
        );
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(simulate(args, profile))
}

async fn simulate(args: Args, profile: Profile) -> super::Outcome {
    let scanner = Arc::new(
        VirtualScanner::open(args.link.as_deref()).context("cannot create a pseudo-terminal")?,
    );
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", scanner.path().display())
            .and_then(|()| out.flush())
            .context("cannot write to stdout")?;
    }
    tokio::spawn(print_feedback(scanner.clone(), profile.clone()));

    let gap = match (args.rate, profile.framing.suffix.is_empty()) {
        (Some(rate), _) => Some(Duration::from_secs_f64(1.0 / rate)),
        // Without a suffix only a pause ends a frame.
        (None, true) => profile.framing.inter_byte_timeout.map(|t| t * 2),
        (None, false) => None,
    };
    let mut lines = read_lines(args.input.clone());
    let shutdown = crate::shutdown::signal();
    tokio::pin!(shutdown);
    let mut first = true;
    loop {
        let line = tokio::select! {
            line = lines.recv() => line,
            _ = &mut shutdown => return Ok(ExitCode::SUCCESS),
        };
        let Some(line) = line else { break };
        let line = line?;
        if line.is_empty() {
            continue;
        }
        if let (Some(gap), false) = (gap, first) {
            tokio::time::sleep(gap).await;
        }
        first = false;
        scanner
            .write_all(&frame_line(&profile, &line))
            .await
            .context("writing to the pseudo-terminal failed")?;
    }
    if args.exit_after_send {
        tokio::time::sleep(Duration::from_millis(500)).await;
        return Ok(ExitCode::SUCCESS);
    }
    shutdown.await;
    Ok(ExitCode::SUCCESS)
}

/// Lines of the input file or stdin, read on a thread (stdin blocks).
fn read_lines(input: Option<PathBuf>) -> mpsc::Receiver<anyhow::Result<String>> {
    let (tx, rx) = mpsc::channel(64);
    let Some(input) = input else {
        // Nothing to send: keep the channel open until shutdown.
        tokio::spawn(async move {
            let _tx = tx;
            std::future::pending::<()>().await
        });
        return rx;
    };
    std::thread::spawn(move || {
        let reader: Box<dyn BufRead> = if input.as_os_str() == "-" {
            Box::new(std::io::stdin().lock())
        } else {
            match std::fs::File::open(&input) {
                Ok(f) => Box::new(std::io::BufReader::new(f)),
                Err(e) => {
                    let _ = tx.blocking_send(Err(anyhow::anyhow!(
                        "cannot read {}: {e}",
                        input.display()
                    )));
                    return;
                }
            }
        };
        for line in reader.lines() {
            let line = line
                .map(|l| l.trim_end_matches('\r').to_owned())
                .map_err(anyhow::Error::from);
            if tx.blocking_send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// Prints what the host writes to the scanner, naming the profile's beeps.
async fn print_feedback(scanner: Arc<VirtualScanner>, profile: Profile) {
    let named = [
        ("good-read", profile.feedback.good_read.clone()),
        ("bad-read", profile.feedback.bad_read.clone()),
        ("init", profile.feedback.init.clone()),
    ];
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = [0u8; 256];
    loop {
        let n = match scanner.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        pending.extend_from_slice(&buf[..n]);
        while !pending.is_empty() {
            if let Some((name, bytes)) = named
                .iter()
                .find(|(_, b)| !b.is_empty() && pending.starts_with(b))
            {
                eprintln!("scanner got {name}: {}", escape(bytes));
                pending.drain(..bytes.len());
            } else if named.iter().any(|(_, b)| b.starts_with(&pending)) {
                break; // wait for the rest of a beep
            } else {
                eprintln!("scanner got: {}", escape(&pending));
                pending.clear();
            }
        }
    }
}
