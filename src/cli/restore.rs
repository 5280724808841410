//! `scantrail restore --from-hq` and `scantrail restore BACKUP
//! --catch-up-from-hq`: a dead site PC's store rebuilt on a new one from
//! head office's copy of the site's logs (and a backup, if there is one),
//! up to head office's last acknowledgement, so that numbering resumes
//! after it and sync goes on without a refusal.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::config::{self, Config};
use crate::model::Log;
use crate::sync::restore::{self, HeadOffice};

/// Arguments of `scantrail restore`.
#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["from_hq", "catch_up_from_hq"])))]
pub struct Args {
    /// A backup of this site's store (`scantrail backup`) to start from;
    /// only what head office holds past it is fetched. Left untouched.
    #[arg(value_name = "BACKUP", requires = "catch_up_from_hq")]
    pub backup: Option<PathBuf>,
    /// Rebuild the store from head office's copy alone.
    #[arg(long, conflicts_with = "backup")]
    pub from_hq: bool,
    /// Start from BACKUP and fetch from head office what is past it.
    #[arg(long, requires = "backup")]
    pub catch_up_from_hq: bool,
    /// The site configuration file: `[site] id`, `[sync]` (head office and
    /// this site's credential) and `data_dir`
    #[arg(long, value_name = "FILE", default_value = config::DEFAULT_PATH)]
    pub config: PathBuf,
    /// The data directory to restore into, missing or empty [default:
    /// `data_dir` of the configuration]
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
}

/// Restores, verifies, and says where numbering resumes and what cannot
/// come back.
pub fn run(args: Args) -> super::Outcome {
    let config = Config::load(&args.config)?;
    let sync = config.sync.as_ref().with_context(|| {
        format!(
            "{} has no [sync] section: head office (url, credential) is needed to restore from it",
            args.config.display()
        )
    })?;
    let dest = args.data.clone().unwrap_or_else(|| config.data_dir.clone());
    let site = config.site.id.as_str();
    let hq = HeadOffice::new(sync)?;
    let restored =
        restore::restore(&dest, site, args.backup.as_deref(), &hq).with_context(|| {
            format!(
                "restore of site {site} into {} stopped; nothing was written there",
                dest.display()
            )
        })?;
    match &args.backup {
        Some(b) => println!(
            "restored site {site} into {} from the backup {} and head office {}",
            dest.display(),
            b.display(),
            hq.url()
        ),
        None => println!(
            "restored site {site} into {} from head office {}",
            dest.display(),
            hq.url()
        ),
    }
    let mut movements_head = 0;
    for l in &restored.logs {
        let name = match l.log {
            Log::Movements => "movements",
            Log::Rejections => "rejected scans",
        };
        let mut line = format!(
            "{name}: seq 1..={} ({} fetched from head office",
            l.head.seq, l.fetched
        );
        if args.backup.is_some() {
            line.push_str(&format!(", the backup held up to seq {}", l.from_backup));
        }
        line.push_str(&format!(
            "); head office's last acknowledgement: seq {} hash {}",
            l.acknowledged.seq, l.acknowledged.hash
        ));
        println!("{line}");
        if l.head.seq > l.acknowledged.seq {
            println!(
                "  seq {}..={} are in the backup but not at head office: they are sent at the next sync",
                l.acknowledged.seq + 1,
                l.head.seq
            );
        }
        if l.log == Log::Movements {
            movements_head = l.head.seq;
        }
    }
    println!("verify: ok, every hash chain and derived tree matches the journal");
    if restored.violations > 0 {
        println!(
            "{} movements break the history rules, as they do at head office: `scantrail verify` lists them",
            restored.violations
        );
    }
    println!(
        "numbering resumes at seq {}; start the site with `scantrail run`",
        movements_head + 1
    );
    println!(
        "lost with the old PC: whatever it recorded after seq {movements_head} and had not sent to head office (how much cannot be known from here), its handhelds' answered scan ids, and reference data entered at the site itself (its own holds, products, pick lists) unless the backup holds them"
    );
    drop(restored.store);
    Ok(ExitCode::SUCCESS)
}
