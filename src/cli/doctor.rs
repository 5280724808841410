//! `scantrail doctor`: checks an installed site, one line each — the
//! configuration, the data directory and its free space, the store and its
//! last verify, each scanner's port (its by-id name and profile) and
//! permissions, ModemManager, the last scheduled backup (ok and recent),
//! head office (reachable, certificate, clock) —
//! as ✔ pass, ⚠ works but should be fixed, ✗ broken, each with the fix in
//! words. Exits 0 when nothing is ✗ (warnings, such as no console users,
//! do not fail it), 1 otherwise.
//!
//! The checks are pure (`checks.rs`, tested over hand-made environments);
//! `gather.rs` is the thin layer that looks at the real system. The daemon
//! need not run; when it does, the store is in use, which is fine.

use std::path::PathBuf;
use std::process::ExitCode;

pub mod checks;
pub mod gather;

/// Arguments of `scantrail doctor`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The site configuration file
    #[arg(long, value_name = "FILE", default_value = crate::config::DEFAULT_PATH)]
    pub config: PathBuf,
}

/// Gathers the facts, prints one line a check, and exits 1 if any failed.
pub fn run(args: Args) -> super::Outcome {
    let environment = gather::environment(&args.config);
    let findings = checks::findings(&environment);
    for finding in &findings {
        println!("{finding}");
    }
    let failed = findings
        .iter()
        .filter(|f| f.status == checks::Status::Fail)
        .count();
    if checks::passed(&findings) {
        println!("all checks passed");
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "{failed} check{} failed",
            if failed == 1 { "" } else { "s" }
        );
        Ok(ExitCode::from(super::REJECTED))
    }
}
