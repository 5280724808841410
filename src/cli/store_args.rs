//! Which store a command opens: `--data DIR`, or else `data_dir` of
//! `--config`. Shared by every command that reads or writes the journal.

use std::path::PathBuf;

use anyhow::Context;

use crate::config::{self, Config, ConfigError};
use crate::store::{OpenOptions, Store, Upgrading};

/// The bar of an upgrade at open (on stderr, drawn only on a terminal):
/// `on_upgrade` is a plain function, so the bar lives here.
static UPGRADE_BAR: std::sync::OnceLock<indicatif::ProgressBar> = std::sync::OnceLock::new();

fn upgrade_bar(now: Upgrading) {
    let bar = UPGRADE_BAR.get_or_init(|| {
        let bar = indicatif::ProgressBar::new(now.total);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "upgrading the store: {msg} {bar:30} {human_pos}/{human_len} movements, {elapsed}",
        ) {
            bar.set_style(style);
        }
        bar
    });
    bar.set_message(now.step);
    bar.set_position(now.done);
}

/// `--data` and `--config`: the flags every command that opens the store
/// takes.
#[derive(clap::Args, Debug, Clone)]
pub struct StoreArgs {
    /// The store directory [default: `data_dir` of the configuration]
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// The site configuration file
    #[arg(long, value_name = "FILE", default_value = config::DEFAULT_PATH)]
    pub config: PathBuf,
}

impl StoreArgs {
    /// The store path and the site it must belong to. With `--data` and no
    /// configuration file the store's own site is accepted, so a backup can
    /// be checked anywhere.
    pub fn resolve(&self) -> anyhow::Result<(PathBuf, Option<String>)> {
        match (Config::load(&self.config), &self.data) {
            (Ok(c), Some(data)) => Ok((data.clone(), Some(c.site.id))),
            (Ok(c), None) => Ok((c.data_dir, Some(c.site.id))),
            (Err(ConfigError::Read { source, .. }), Some(data))
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                Ok((data.clone(), None))
            }
            (Err(e), _) => Err(e)
                .context("no store path: give `--data DIR` or a configuration with `data_dir`"),
        }
    }

    /// Opens an existing store; a wrong path is reported, never turned
    /// into a new empty store.
    pub fn open_existing(&self) -> anyhow::Result<Store> {
        self.open_existing_with_cache(crate::store::DEFAULT_CACHE_BYTES)
    }

    /// `open_existing`, with sled's page cache held to `cache_bytes`
    /// (`store::ONE_PASS_CACHE_BYTES` for a command that reads the store
    /// once in order).
    pub fn open_existing_with_cache(&self, cache_bytes: u64) -> anyhow::Result<Store> {
        self.open_with(|site| {
            let mut options = OpenOptions::existing(site);
            options.cache_bytes = cache_bytes;
            Ok(options)
        })
    }

    /// Opens the store with the options `options` makes from the site it
    /// must belong to (for `reindex`, which also opens a store mid-reindex
    /// or of an older schema).
    pub fn open_with(
        &self,
        options: impl FnOnce(Option<String>) -> anyhow::Result<OpenOptions>,
    ) -> anyhow::Result<Store> {
        let (path, site) = self.resolve()?;
        let mut options = options(site)?;
        options.on_upgrade = Some(upgrade_bar);
        let opened = Store::open(&path, options);
        if let Some(bar) = UPGRADE_BAR.get() {
            bar.finish_and_clear();
        }
        Ok(opened?)
    }
}
