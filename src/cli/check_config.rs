//! `scantrail check-config [FILE]`: everything the daemon checks at start
//! (the file, its stations, tokens, users and GLNs, `[backup]`, the
//! scanners' device profiles, the TLS files), without opening the store or listening, so an
//! installer can check an edit before restarting the service.
//!
//! A site's file and head office's are told apart by their tables (an
//! `[hq]` table is head office's), or by `--hq`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;

use crate::config::{self, Config};
use crate::hq::config::{self as hq_config, HqConfig};

/// Arguments of `scantrail check-config`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The configuration file [default: config/scantrail.toml, or
    /// config/hq.toml with --hq].
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Check it as head office's configuration [default: when it has an
    /// `[hq]` table].
    #[arg(long)]
    pub hq: bool,
}

/// Whose configuration a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A site's (`scantrail run`).
    Site,
    /// Head office's (`scantrail hq`).
    Hq,
}

impl Kind {
    /// Head office's when the file has an `[hq]` table; otherwise (also
    /// when it is not TOML at all) a site's, whose loader then names what
    /// is wrong.
    pub fn of(text: &str) -> Kind {
        match toml::from_str::<toml::Table>(text) {
            Ok(table) if table.contains_key("hq") => Kind::Hq,
            _ => Kind::Site,
        }
    }
}

/// Checks the file; prints one line saying what it configures, and a
/// `warning:` line for each thing that starts but will not work as meant.
pub fn run(args: Args) -> super::Outcome {
    let path = args.file.unwrap_or_else(|| {
        PathBuf::from(if args.hq {
            hq_config::DEFAULT_PATH
        } else {
            config::DEFAULT_PATH
        })
    });
    let kind = if args.hq {
        Kind::Hq
    } else {
        // Unreadable: the loader below says so with the path.
        Kind::of(&std::fs::read_to_string(&path).unwrap_or_default())
    };
    let report = match kind {
        Kind::Site => check_site(&path),
        Kind::Hq => check_hq(&path),
    }
    .with_context(|| {
        format!(
            "{} is not a valid {} configuration; fix it and run `scantrail check-config {}{}` again",
            path.display(),
            if kind == Kind::Hq { "head-office" } else { "site" },
            if args.hq { "--hq " } else { "" },
            path.display()
        )
    })?;
    println!("{}: {}", path.display(), report.summary);
    for warning in &report.warnings {
        println!("warning: {warning}");
    }
    Ok(ExitCode::SUCCESS)
}

/// What a valid file configures, in one line, and what will not work as
/// meant.
#[derive(Debug, Default)]
pub struct Report {
    /// e.g. `site configuration of demo-site: 2 stations, 1 scanner, ...`
    pub summary: String,
    /// Each a sentence with what to do.
    pub warnings: Vec<String>,
}

/// What the daemon would log at start about its served certificate:
/// expired, not yet valid, or expiring soon.
fn certificate_warning(certificate: &crate::web::tls::Certificate) -> Option<String> {
    certificate
        .check(chrono::Utc::now())
        .unwrap_or_else(|invalid| Some(invalid.to_string()))
}

/// `n thing` or `n things`.
fn count(n: usize, thing: &str) -> String {
    format!("{n} {thing}{}", if n == 1 { "" } else { "s" })
}

/// The site daemon's checks at start, in its order, up to opening the store.
pub fn check_site(path: &Path) -> anyhow::Result<Report> {
    let config = Config::load(path)?;
    let specs = crate::scan::sources::specs(&config)?;
    let mut warnings = Vec::new();
    if let (Some(cert), Some(key)) = (&config.http.cert, &config.http.key) {
        let (_, certificate) = crate::web::tls::server_config(cert, key)?;
        warnings.extend(certificate_warning(&certificate));
    }
    if let Some(ca) = config.sync.as_ref().and_then(|s| s.ca.as_deref()) {
        crate::sync::tls::agent(Some(ca), Duration::from_secs(10)).context("key `sync.ca`")?;
    }
    if config.access.is_empty() {
        warnings.push("no [[tokens]]: the API will refuse every request; add one (README.md, \"Roles and tokens\")".to_owned());
    }
    if config.people.is_empty() {
        warnings.push("no [[users]]: nobody can sign in to the console; add one with `scantrail user add NAME --role supervisor`".to_owned());
    }
    let legacy = config.legacy_token_forms();
    if !legacy.is_empty() {
        warnings.push(format!(
            "older token forms ({}): move each to a [[tokens]] entry",
            legacy.join(", ")
        ));
    }
    // Each profile once, however many scanners use it.
    let profiles: Vec<&str> = specs
        .iter()
        .map(|s| s.profile.name.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    Ok(Report {
        summary: format!(
            "site configuration of `{}`: {}, {}{}, {}, {}; store in {}; API on {}{}{}{}{}",
            config.site.id,
            count(config.stations.len(), "station"),
            count(specs.len(), "scanner"),
            if profiles.is_empty() {
                String::new()
            } else {
                format!(" (profiles {})", profiles.join(", "))
            },
            count(config.tokens.len(), "token"),
            count(config.users.len(), "console user"),
            config.data_dir.display(),
            config.http.listen,
            match &config.sync {
                Some(sync) => format!("; syncs to {}", sync.url),
                None => String::new(),
            },
            match crate::site::backups::Schedule::of(&config) {
                Some(b) => format!(
                    "; backs up every {} s to {} (keeps {})",
                    b.every.as_secs(),
                    b.dir.display(),
                    b.keep
                ),
                None => String::new(),
            },
            match &config.alerts.webhook {
                Some(url) => format!("; alerts posted to {url}"),
                None => String::new(),
            },
            match &config.alerts.smtp {
                Some(relay) => format!(
                    "; alerts mailed to {} via {relay}",
                    config.alerts.mail_to.join(", ")
                ),
                None => String::new(),
            }
        ),
        warnings,
    })
}

/// Head office's checks at start, up to opening its storage.
pub fn check_hq(path: &Path) -> anyhow::Result<Report> {
    let config = HqConfig::load(path)?;
    let (_, certificate) = config.server_tls()?;
    let mut warnings: Vec<String> = certificate_warning(&certificate).into_iter().collect();
    if config.people.is_empty() {
        warnings.push("no [[users]]: nobody can sign in to head office's console; add one with `scantrail user add NAME --role supervisor --hq`".to_owned());
    }
    Ok(Report {
        summary: format!(
            "head-office configuration: {}, {}, {}; store in {}; API on https://{}",
            count(config.site_count(), "site"),
            count(config.tokens.len(), "token"),
            count(config.users.len(), "console user"),
            match &config.hq.database {
                Some(_) => "PostgreSQL ([hq] database)".to_owned(),
                None => config.data_dir.display().to_string(),
            },
            config.hq.listen
        ),
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_with_an_hq_table_is_head_office_s() {
        assert_eq!(Kind::of("data_dir = \"d\"\n[hq]\ncert = \"c\"\n"), Kind::Hq);
        assert_eq!(
            Kind::of("data_dir = \"d\"\n[site]\nid = \"x\"\n"),
            Kind::Site
        );
        assert_eq!(Kind::of("not toml ["), Kind::Site);
    }
}
