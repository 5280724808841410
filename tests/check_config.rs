//! `scantrail check-config`, run as the real binary: the shipped site
//! configuration passes, and each kind of mistake an installer makes exits
//! non-zero naming the file, the line and the key, and what to do. The
//! daemon itself refuses the same mistakes at start.

mod support;
mod sync_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::daemon::{binary, Daemon};

/// A site configuration with one station and one scanner of a shipped
/// device profile, with `site_extra` appended to `[site]` and `extra` at
/// the end.
fn site_config(dir: &Path, site_extra: &str, extra: &str) -> PathBuf {
    let profile = Path::new(env!("CARGO_MANIFEST_DIR")).join("devices/generic-aim.toml");
    let path = dir.join("scantrail.toml");
    std::fs::write(
        &path,
        format!(
            "data_dir = \"data\"\n\
             [site]\nid = \"north\"\n{site_extra}\
             [[stations]]\nid = \"dock-1\"\nmode = \"receive\"\n\
             [[scanners]]\nport = \"/dev/scantrail/none\"\nprofile = \"{}\"\nstation = \"dock-1\"\n\
             {extra}",
            profile.display()
        ),
    )
    .unwrap();
    path
}

fn check(file: &Path) -> Output {
    Command::new(binary())
        .arg("check-config")
        .arg(file)
        .output()
        .unwrap()
}

/// Exit code 0 and stdout; panics if the check failed.
fn passed(file: &Path) -> String {
    let out = check(file);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    stdout
}

/// Exit code 1 and stderr; panics if the check passed.
fn refused(file: &Path) -> String {
    let out = check(file);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout {}; stderr {stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(stderr.contains(&file.display().to_string()), "{stderr}");
    assert!(
        stderr.contains("fix it and run `scantrail check-config"),
        "{stderr}"
    );
    stderr
}

#[test]
fn the_shipped_site_configuration_passes() {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/scantrail.toml");
    let stdout = passed(&shipped);
    assert!(
        stdout.contains(
            "site configuration of `demo-site`: 2 stations, 1 scanner (profiles generic-aim)"
        ),
        "{stdout}"
    );
}

#[test]
fn a_good_site_configuration_passes_and_says_what_it_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let file = site_config(dir.path(), "gln = \"9506000000015\"\n", "");
    let stdout = passed(&file);
    assert!(stdout.contains("site configuration of `north`"), "{stdout}");
    assert!(stdout.contains("warning: no [[tokens]]"), "{stdout}");
    // A second scanner of the same profile: the profile is named once.
    let profile = Path::new(env!("CARGO_MANIFEST_DIR")).join("devices/generic-aim.toml");
    let second = format!(
        "[[scanners]]\nport = \"/dev/scantrail/other\"\nprofile = \"{}\"\nstation = \"dock-1\"\n",
        profile.display()
    );
    let file = site_config(dir.path(), "", &second);
    let stdout = passed(&file);
    assert!(
        stdout.contains("2 scanners (profiles generic-aim),"),
        "{stdout}"
    );
}

#[test]
fn a_gln_with_a_wrong_check_digit_is_refused_by_the_check_and_the_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let file = site_config(dir.path(), "gln = \"9506000000019\"\n", "");
    let stderr = refused(&file);
    assert!(
        stderr.contains("line 4: key `site.gln`: \"9506000000019\" is not a valid GLN")
            && stderr.contains("expected 5, found 9"),
        "{stderr}"
    );
    // The daemon refuses it too, instead of starting without a word.
    let (code, log) = Daemon::start_refused(&file);
    assert_eq!(code, Some(1), "{log}");
    assert!(log.contains("key `site.gln`"), "{log}");
}

#[test]
fn the_backup_section_is_checked_and_summarised() {
    let dir = tempfile::tempdir().unwrap();
    let file = site_config(
        dir.path(),
        "",
        "[backup]\ndir = \"backups\"\nevery = \"6h\"\nkeep = 4\n",
    );
    let stdout = passed(&file);
    let backups = dir.path().join("backups");
    assert!(
        stdout.contains(&format!(
            "; backs up every 21600 s to {} (keeps 4)",
            backups.display()
        )),
        "{stdout}"
    );
    let file = site_config(
        dir.path(),
        "",
        "[backup]\ndir = \"backups\"\nevery = \"6 hours\"\n",
    );
    let stderr = refused(&file);
    assert!(
        stderr.contains("line 13 (`every = \"6 hours\"`): \"6 hours\" is not a duration"),
        "{stderr}"
    );
}

#[test]
fn an_unknown_key_is_refused_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = site_config(dir.path(), "colour = \"blue\"\n", "");
    let stderr = refused(&file);
    assert!(
        stderr.contains("line 4 (`colour = \"blue\"`): unknown field `colour`"),
        "{stderr}"
    );
}

#[test]
fn a_missing_device_profile_is_refused_naming_where_it_looked() {
    let dir = tempfile::tempdir().unwrap();
    let file = site_config(
        dir.path(),
        "",
        "[[scanners]]\nport = \"/dev/x\"\nprofile = \"devices/no-such-scanner.toml\"\nstation = \"dock-1\"\n",
    );
    let stderr = refused(&file);
    assert!(
        stderr.contains(
            "line 13: key `scanners[1].profile`: no device profile `devices/no-such-scanner.toml`"
        ) && stderr.contains(&dir.path().display().to_string()),
        "{stderr}"
    );
}

#[test]
fn head_office_s_configuration_is_told_apart_by_its_tables() {
    let dir = tempfile::tempdir().unwrap();
    let hq = sync_support::HqDir::new(dir.path(), &["north"], "");
    let stdout = passed(&hq.config);
    assert!(
        stdout.contains("head-office configuration: 1 site, 1 token"),
        "{stdout}"
    );
    // Its certificate is loaded as `scantrail hq` would: a missing one is named.
    std::fs::remove_file(&hq.pki.key).unwrap();
    let stderr = refused(&hq.config);
    assert!(
        stderr.contains("not a valid head-office configuration") && stderr.contains("key.pem"),
        "{stderr}"
    );
    // `--hq` forces it: a site's file then lacks the `[hq]` table.
    let site = site_config(dir.path(), "", "");
    let out = Command::new(binary())
        .args(["check-config", "--hq"])
        .arg(&site)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("hq"), "{stderr}");
}

#[test]
fn alerts_are_summed_up_and_a_bad_alerts_key_is_refused_with_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let good = site_config(
        tmp.path(),
        "",
        "[alerts]\nwebhook = \"https://hooks.example.com/st\"\nevery = \"30s\"\nscanner_gone_after = \"5m\"\n",
    );
    let stdout = passed(&good);
    assert!(
        stdout.contains("; alerts posted to https://hooks.example.com/st"),
        "{stdout}"
    );
    let bad = site_config(
        tmp.path(),
        "",
        "[alerts]\nwebhook = \"http://hooks.example.com/st\"\n",
    );
    let stderr = refused(&bad);
    assert!(
        stderr.contains("line 12: key `alerts.webhook`") && stderr.contains("use https://"),
        "{stderr}"
    );
    let bad = site_config(tmp.path(), "", "[alerts]\nscanner_gone_after = \"10\"\n");
    let stderr = refused(&bad);
    assert!(
        stderr.contains("line 12") && stderr.contains("write a whole number and a unit"),
        "{stderr}"
    );
}
