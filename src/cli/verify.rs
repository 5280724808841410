//! `scantrail verify`: checks the hash chains and the derived trees; exits
//! 1 naming the first bad seq of each origin on any mismatch.

use std::process::ExitCode;

use super::store_args::StoreArgs;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreArgs,
}

pub fn run(args: Args) -> super::Outcome {
    let store = args.store.open_existing()?;
    let report = store.verify()?;
    for (origin, count, last) in &report.origins {
        println!("origin {origin}: {count} movements, seq 1..={last}");
    }
    println!(
        "{} movements, {} index entries, {} rejected scans checked",
        report.movements, report.index_entries, report.rejections
    );
    if report.truncated_rejections > 0 {
        println!(
            "{} rejected scans were longer than {} bytes: only their first {} bytes are stored, with their whole length and SHA-256",
            report.truncated_rejections,
            crate::store::REJECTED_RAW_KEPT,
            crate::store::REJECTED_RAW_KEPT
        );
    }
    let synced = crate::sync::audit::check_acknowledged(&store)?;
    for p in &synced {
        println!("problem: {p}");
    }
    if report.is_ok() && synced.is_empty() {
        println!("ok: every hash chain and derived tree matches the journal");
        return Ok(ExitCode::SUCCESS);
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
