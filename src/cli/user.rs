//! `scantrail user add NAME --role ROLE`: gives a person a console account
//! by writing a `[[users]]` entry (an argon2 hash of the password, never
//! the password) into the configuration file. The password is asked twice
//! without echo on a terminal, or read as the first line of stdin
//! (scripts). The file keeps its comments; it is checked whole before it
//! is replaced, and replaced atomically.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _};

use crate::config;
use crate::console::users::hash_password;

/// Arguments of `scantrail user`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// What to do with console users.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands of `scantrail user`.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Add a console user (or with --replace, set a new password and role).
    Add {
        /// The person's name, recorded as the author of their changes
        name: String,
        /// handheld, supervisor or admin (head office: supervisor or admin)
        #[arg(long)]
        role: String,
        /// Replace the user's entry if there is one (a new password)
        #[arg(long)]
        replace: bool,
        /// The configuration file to write (the site's, or head office's
        /// with `--hq`)
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// The file is head office's (`config/hq.toml` by default)
        #[arg(long)]
        hq: bool,
    },
}

/// Reads the password (asked twice on a terminal, else stdin's first
/// line), hashes it and writes the `[[users]]` entry into the file.
pub fn run(args: Args) -> super::Outcome {
    match args.command {
        Command::Add {
            name,
            role,
            replace,
            config,
            hq,
        } => {
            let path = config.unwrap_or_else(|| {
                PathBuf::from(if hq {
                    crate::hq::config::DEFAULT_PATH
                } else {
                    config::DEFAULT_PATH
                })
            });
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let password = read_password(&name)?;
            let hash = hash_password(&password)?;
            let new = with_user(&text, &name, &role, &hash, replace)?;
            check(&new, hq).with_context(|| {
                format!("the user was not added: {} would not load", path.display())
            })?;
            write_atomically(&path, &new)?;
            // The site daemon takes its users on SIGHUP (`site::reload`);
            // head office reads them at start only.
            let apply = if hq {
                "restart head office to use it (`sudo systemctl restart scantrail-hq`)"
            } else {
                "reload the daemon to use it (`sudo systemctl reload scantrail`, or SIGHUP): nothing else restarts"
            };
            println!(
                "user `{name}` ({role}) written to {}; {apply}",
                path.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The file's text as it would load, with its users checked.
fn check(text: &str, hq: bool) -> anyhow::Result<()> {
    if hq {
        crate::hq::config::HqConfig::parse(text).map_err(anyhow::Error::msg)?;
    } else {
        config::Config::parse(text).map_err(anyhow::Error::msg)?;
    }
    Ok(())
}

/// The password, twice without echo on a terminal, else stdin's first line.
fn read_password(name: &str) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from stdin")?;
        let password = line.trim_end_matches(['\r', '\n']).to_owned();
        if password.is_empty() {
            bail!("no password on stdin: give it as the first line");
        }
        return Ok(password);
    }
    let first = prompt(&format!("password for {name}: "))?;
    let second = prompt("again: ")?;
    if first != second {
        bail!("the two passwords differ; nothing was written");
    }
    Ok(first)
}

/// One line from the terminal with echo off.
fn prompt(words: &str) -> anyhow::Result<String> {
    use nix::sys::termios::{tcgetattr, tcsetattr, LocalFlags, SetArg};
    let stdin = std::io::stdin();
    eprint!("{words}");
    std::io::stderr().flush().ok();
    let saved = tcgetattr(&stdin).context("cannot read the terminal's settings")?;
    let mut quiet = saved.clone();
    quiet.local_flags.remove(LocalFlags::ECHO);
    tcsetattr(&stdin, SetArg::TCSANOW, &quiet).context("cannot turn echo off")?;
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    let _ = tcsetattr(&stdin, SetArg::TCSANOW, &saved);
    eprintln!();
    read.context("cannot read the password")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// `text` with a `[[users]]` entry for `name` appended; an existing entry
/// of that name is refused, or removed first with `replace`.
pub fn with_user(
    text: &str,
    name: &str,
    role: &str,
    hash: &str,
    replace: bool,
) -> anyhow::Result<String> {
    // A JSON string is a TOML basic string (the same escapes).
    let quoted = |s: &str| serde_json::Value::String(s.to_owned()).to_string();
    let lines: Vec<&str> = text.lines().collect();
    // Each `[[users]]` block: from its header to the next table header.
    let mut kept: Vec<&str> = Vec::with_capacity(lines.len());
    let mut i = 0;
    let mut found = false;
    while i < lines.len() {
        if lines[i].trim() == "[[users]]" {
            let end = (i + 1..lines.len())
                .find(|&j| lines[j].trim_start().starts_with('['))
                .unwrap_or(lines.len());
            let block = &lines[i..end];
            let names_it = block.iter().any(|l| {
                l.split_once('=').is_some_and(|(k, v)| {
                    k.trim() == "name"
                        && toml::from_str::<toml::Table>(&format!("n = {}", v.trim()))
                            .ok()
                            .and_then(|t| t.get("n").and_then(|n| n.as_str().map(str::to_owned)))
                            .is_some_and(|n| n == name)
                })
            });
            if names_it {
                if !replace {
                    bail!("there is already a user `{name}`: add --replace to give them a new password and role");
                }
                found = true;
                i = end;
                continue;
            }
        }
        kept.push(lines[i]);
        i += 1;
    }
    if replace && !found {
        bail!("there is no user `{name}` to replace: leave out --replace to add one");
    }
    let mut out = kept.join("\n");
    while out.ends_with("\n\n") {
        out.pop();
    }
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!(
        "\n[[users]]\nname = {}\nrole = {}\npassword_hash = {}\n",
        quoted(name),
        quoted(role),
        quoted(hash)
    ));
    Ok(out)
}

/// Writes `text` to a temporary file beside `path`, then renames it over.
fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let dir = dir.unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.new",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("config")
    ));
    let mut file =
        std::fs::File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    // The file holds password hashes: keep the original's permissions and
    // owner (the Debian package's is root:scantrail 0640, which the service
    // must still read after `sudo scantrail user add`).
    if let Ok(meta) = std::fs::metadata(path) {
        use std::os::unix::fs::MetadataExt as _;
        let _ = file.set_permissions(meta.permissions());
        let _ = std::os::unix::fs::fchown(&file, Some(meta.uid()), Some(meta.gid()));
    }
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "data_dir = \"d\"\n[site]\nid = \"x\"\n# people\n[[users]]\nname = \"sue\"\nrole = \"admin\"\npassword_hash = \"h1\"\n\n[[stations]]\nid = \"a\"\nmode = \"receive\"\n";

    #[test]
    fn a_rewrite_keeps_the_file_s_mode_and_group() {
        use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scantrail.toml");
        std::fs::write(&path, "before").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        // As root (`sudo scantrail user add` on an installed site), a group
        // of its own, as the package's root:scantrail; otherwise the
        // caller's own group is all that can be given.
        let group = match std::os::unix::fs::chown(&path, None, Some(4242)) {
            Ok(()) => 4242,
            Err(_) => std::fs::metadata(&path).unwrap().gid(),
        };
        write_atomically(&path, "after").unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "after");
        assert_eq!((meta.mode() & 0o777, meta.gid()), (0o640, group));
    }

    #[test]
    fn a_user_is_appended_and_an_existing_one_replaced_only_when_asked() {
        let added = with_user(BASE, "bob \"b\"", "supervisor", "h2", false).unwrap();
        assert!(added.starts_with(BASE), "{added}");
        assert!(added.ends_with(
            "\n[[users]]\nname = \"bob \\\"b\\\"\"\nrole = \"supervisor\"\npassword_hash = \"h2\"\n"
        ));
        let e = with_user(BASE, "sue", "admin", "h3", false).unwrap_err();
        assert!(e.to_string().contains("--replace"), "{e}");
        let replaced = with_user(BASE, "sue", "supervisor", "h3", true).unwrap();
        assert!(!replaced.contains("h1"), "{replaced}");
        assert!(replaced.contains("# people") && replaced.contains("[[stations]]"));
        assert_eq!(replaced.matches("[[users]]").count(), 1);
        let e = with_user(BASE, "ann", "admin", "h3", true).unwrap_err();
        assert!(e.to_string().contains("no user `ann`"), "{e}");
    }
}
