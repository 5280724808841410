//! The site configuration file (`config/scantrail.toml`).
//!
//! One file per site. Each section belongs to the part of scantrail that
//! needs it (see DESIGN.md); this module only loads and validates the file
//! and resolves paths, so that every error names the file, the line and the
//! key before anything starts.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The default location of the configuration, relative to the working
/// directory.
pub const DEFAULT_PATH: &str = "config/scantrail.toml";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub site: Site,
    /// Where the store lives; relative paths resolve against the folder of
    /// the configuration file, so a site can be moved as a whole.
    pub data_dir: PathBuf,
    #[serde(default)]
    pub http: Http,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// Stamped into the store when it is created; a store of another site is
    /// refused.
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// The site's own GLN.
    #[serde(default)]
    pub gln: Option<String>,
    /// GLNs of the company's other sites: a dispatch to one of them is a
    /// transfer, not a sale.
    #[serde(default)]
    pub own_sites: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Http {
    /// Loopback by default: exposing the API to the site network is a
    /// deliberate choice of the installer.
    #[serde(default = "Http::default_listen")]
    pub listen: String,
}

impl Http {
    fn default_listen() -> String {
        "127.0.0.1:8080".to_owned()
    }
}

impl Default for Http {
    fn default() -> Self {
        Http {
            listen: Http::default_listen(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl Config {
    /// Reads and validates the configuration file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config = Config::parse(&text).map_err(|message| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        if config.data_dir.is_relative() {
            config.data_dir = base.join(&config.data_dir);
        }
        Ok(config)
    }

    /// Parses configuration text; the error names the line and the key.
    pub fn parse(text: &str) -> Result<Config, String> {
        let config: Config = toml::from_str(text).map_err(|e| describe_toml_error(text, &e))?;
        if config.site.id.trim().is_empty() {
            return Err("key `site.id` must not be empty: give this site a short, unique name such as `dock-north`".to_owned());
        }
        Ok(config)
    }
}

/// Turns a TOML error into one line with the line number, the key and the
/// reason, e.g. ``line 3 (`id = 7`): invalid type: integer `7`, expected a string``.
fn describe_toml_error(text: &str, error: &toml::de::Error) -> String {
    let reason = error.message().trim();
    match error.span() {
        Some(span) => {
            let start = span.start.min(text.len());
            let line = text[..start].matches('\n').count() + 1;
            let quoted = text.lines().nth(line - 1).unwrap_or("").trim();
            format!("line {line} (`{quoted}`): {reason}")
        }
        None => reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_file_loads_with_defaults() {
        let c = Config::parse("data_dir = \"data\"\n[site]\nid = \"north\"\n").unwrap();
        assert_eq!(c.site.id, "north");
        assert_eq!(c.http.listen, "127.0.0.1:8080");
    }

    #[test]
    fn errors_name_the_line_and_key() {
        let e = Config::parse("data_dir = \"data\"\n[site]\nid = 7\n").unwrap_err();
        assert!(e.starts_with("line 3 (`id = 7`):"), "{e}");
        let e = Config::parse("data_dir = \"data\"\n[site]\nid = \"x\"\ncolour = 1\n").unwrap_err();
        assert!(e.contains("line 4") && e.contains("colour"), "{e}");
    }

    #[test]
    fn empty_site_id_is_refused() {
        let e = Config::parse("data_dir = \"d\"\n[site]\nid = \" \"\n").unwrap_err();
        assert!(e.contains("site.id"), "{e}");
    }
}
