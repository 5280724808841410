//! `scantrail verify`: checks the hash chains and the derived trees; exits
//! 1 naming the first bad seq of each origin on any mismatch. A store that
//! is intact but holds history breaking the rules (a unit dispatched after
//! its receipt was voided, a movement corrected twice, a lot below zero)
//! exits 2 listing each with its seq: to be explained, not restored.

use std::process::ExitCode;

use super::store_args::StoreArgs;
use crate::site::last_verify::{incremental_summary, save_verify, VerifyRun};
use crate::store::verify::Since;

/// The exit code when the store is intact but its history breaks the rules.
pub const HISTORY_VIOLATIONS: u8 = 2;

/// Arguments of `scantrail verify`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Which store: `--data`, or `data_dir` of `--config`.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Check only what was committed since: `last` (the point the last
    /// intact verify reached, which the store remembers; the daemon runs
    /// this at start) or a seq. Chains and index entries only, while
    /// commits go on; the whole verify also checks the derived totals and
    /// the history rules.
    #[arg(long, value_name = "last|SEQ", value_parser = parse_since)]
    pub since: Option<Since>,
}

fn parse_since(text: &str) -> Result<Since, std::num::ParseIntError> {
    if text == "last" {
        return Ok(Since::Checkpoint);
    }
    text.parse().map(Since::Seq)
}

/// A progress bar on stderr (drawn only on a terminal) for a walk of
/// `total` movements (verify, reindex).
pub(super) fn progress_bar(total: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{bar:40} {human_pos}/{human_len} movements, {elapsed} so far, {eta} left",
    ) {
        bar.set_style(style);
    }
    bar
}

/// Verifies the store and prints each origin's extent; exit 0 intact, 1
/// damaged, [`HISTORY_VIOLATIONS`] intact but breaking the rules.
pub fn run(args: Args) -> super::Outcome {
    let store = args
        .store
        .open_existing_with_cache(crate::store::ONE_PASS_CACHE_BYTES)?;
    let bar = progress_bar(store.journal().movements_held()?);
    let report = match args.since {
        None => {
            let shown = bar.clone();
            store.verify_showing(std::sync::Arc::new(move |n| shown.set_position(n)))
        }
        Some(since) => store.verify_since(since, &|n| bar.set_position(n)),
    };
    bar.finish_and_clear();
    // Kept like the console's run: the daemon's `verify_failed` alert, the
    // doctor and the Journal page read the last one.
    let by =
        std::env::var("USER").map_or("command line".to_owned(), |u| format!("{u} (command line)"));
    let outcome = report.as_ref().map_err(|e| e as &dyn std::fmt::Display);
    let run = match args.since {
        None => VerifyRun::of(outcome, by),
        Some(since) => VerifyRun::of_incremental(outcome, since, by),
    };
    if let Err(e) = save_verify(&store, &run) {
        eprintln!("warning: the outcome of this verify is not recorded for the console and the alerts: {e}");
    }
    let report = report?;
    for (origin, count, last) in &report.origins {
        match args.since {
            None => println!("origin {origin}: {count} movements, seq 1..={last}"),
            Some(_) if *count == 0 => println!("origin {origin}: nothing new up to seq {last}"),
            Some(_) => println!(
                "origin {origin}: {count} movements checked, seq {}..={last}",
                last + 1 - count
            ),
        }
    }
    let intact = match args.since {
        None => "ok: every hash chain and derived tree matches the journal",
        Some(_) => "ok: every chain links and every index entry is there up to its head",
    };
    match args.since {
        None => println!(
            "{} movements, {} index entries, {} rejected scans checked",
            report.movements, report.index_entries, report.rejections
        ),
        Some(since) => println!("{}", incremental_summary(since, &report)),
    }
    if report.truncated_rejections > 0 {
        println!(
            "{} rejected scans were longer than {} bytes: only their first {} bytes are stored, with their whole length and SHA-256",
            report.truncated_rejections,
            crate::model::REJECTED_RAW_KEPT,
            crate::model::REJECTED_RAW_KEPT
        );
    }
    let synced = crate::sync::audit::check_acknowledged(&store)?;
    for p in &synced {
        println!("problem: {p}");
    }
    for v in &report.violations {
        println!("history: {v}");
    }
    if report.violation_count > report.violations.len() {
        println!(
            "... and {} more history violations",
            report.violation_count - report.violations.len()
        );
    }
    if report.is_clean() && synced.is_empty() {
        println!("{intact}");
        return Ok(ExitCode::SUCCESS);
    }
    if report.is_ok() && synced.is_empty() {
        println!("{intact}");
        eprintln!(
            "error: {} movements break the history rules (listed above as `history:`): the record is intact; explain each, and correct it where the rules allow",
            report.violation_count
        );
        return Ok(ExitCode::from(HISTORY_VIOLATIONS));
    }
    if report.is_ok() {
        eprintln!(
            "error: the store at {} no longer holds what head office acknowledged: restore from a backup taken after the last sync, or ask head office for its copy",
            store.path().display()
        );
        return Ok(ExitCode::from(super::REJECTED));
    }
    for p in &report.problems {
        println!("problem: {p}");
    }
    if report.problem_count > report.problems.len() {
        println!(
            "... and {} more problems",
            report.problem_count - report.problems.len()
        );
    }
    for (origin, seq) in report.first_bad() {
        println!("first bad: origin {origin} seq {seq}");
    }
    eprintln!(
        "error: the store at {} failed verification ({} problems): if only derived trees are wrong run `scantrail reindex`; if a chain is broken restore from a backup",
        store.path().display(),
        report.problem_count
    );
    Ok(ExitCode::from(super::REJECTED))
}
