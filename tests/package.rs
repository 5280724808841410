//! The Debian package, built the way CI can afford: the debug binary
//! already built is staged with every file `[package.metadata.deb]` in
//! Cargo.toml lists (what `cargo deb` packages from a release build) and
//! packed with `dpkg-deb --build`; no second build. Then its contents are
//! checked as an installer would meet them: the file list and modes, the
//! conffiles, the maintainer scripts, the units (`systemd-analyze
//! verify`), and the packaged configuration (`scantrail check-config`).
//!
//! Needs `dpkg-deb`, `dpkg` and `systemd-analyze` (`.ci/run` installs
//! systemd): a missing tool fails the test, naming it.

mod support;

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::daemon::binary;

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// A tool on `PATH`, or a failure saying which package has it.
fn tool(name: &str, package: &str) -> Command {
    let found = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).any(|dir| dir.join(name).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "`{name}` is needed to build and check the package: `apt-get install {package}` (.ci/run does)"
    );
    Command::new(name)
}

/// Runs a command that must succeed; its stdout.
fn ok(command: &mut Command) -> String {
    let out: Output = command.output().unwrap();
    assert!(
        out.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `[package.metadata.deb]` of Cargo.toml.
struct Metadata {
    table: toml::Table,
}

impl Metadata {
    fn read() -> Metadata {
        let text = std::fs::read_to_string(Path::new(MANIFEST_DIR).join("Cargo.toml")).unwrap();
        let manifest: toml::Table = toml::from_str(&text).unwrap();
        let table = manifest["package"]["metadata"]["deb"]
            .as_table()
            .expect("Cargo.toml has no [package.metadata.deb]")
            .clone();
        Metadata { table }
    }

    fn text(&self, key: &str) -> &str {
        self.table[key]
            .as_str()
            .unwrap_or_else(|| panic!("[package.metadata.deb] {key}"))
    }

    /// `assets`: `[source (a path or glob in the repository), destination
    /// (a folder when it ends in `/`), mode]`.
    fn assets(&self) -> Vec<[String; 3]> {
        self.table["assets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                let a = a.as_array().unwrap();
                std::array::from_fn(|i| a[i].as_str().unwrap().to_owned())
            })
            .collect()
    }
}

/// The Debian architecture of this machine (`amd64`, `arm64`).
fn architecture() -> String {
    ok(tool("dpkg", "dpkg").arg("--print-architecture"))
        .trim()
        .to_owned()
}

/// Stages the package's tree under `root` and builds it into `out`; the
/// .deb's path. The release binary `cargo deb` would take is replaced by
/// the debug one this test was built with.
fn build_package(root: &Path, out: &Path) -> PathBuf {
    let meta = Metadata::read();
    let mut installed_bytes = 0;
    for [source, destination, mode] in meta.assets() {
        let sources: Vec<PathBuf> = if source == "target/release/scantrail" {
            vec![PathBuf::from(binary())]
        } else {
            let pattern = Path::new(MANIFEST_DIR).join(&source);
            let found: Vec<PathBuf> = glob::glob(pattern.to_str().unwrap())
                .unwrap()
                .map(Result::unwrap)
                .collect();
            assert!(!found.is_empty(), "asset {source} matches no file");
            found
        };
        for from in sources {
            let to = if destination.ends_with('/') {
                let name = if source == "target/release/scantrail" {
                    "scantrail".as_ref()
                } else {
                    from.file_name().unwrap()
                };
                root.join(&destination).join(name)
            } else {
                root.join(&destination)
            };
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            installed_bytes += std::fs::copy(&from, &to).unwrap();
            let mode = u32::from_str_radix(&mode, 8).unwrap();
            std::fs::set_permissions(&to, std::fs::Permissions::from_mode(mode)).unwrap();
        }
    }
    let control = root.join("DEBIAN");
    std::fs::create_dir_all(&control).unwrap();
    let version = format!("{}-1", env!("CARGO_PKG_VERSION"));
    let architecture = architecture();
    let extended: String = meta
        .text("extended-description")
        .lines()
        .map(|l| {
            if l.trim().is_empty() {
                " .\n".to_owned()
            } else {
                format!(" {l}\n")
            }
        })
        .collect();
    std::fs::write(
        control.join("control"),
        format!(
            "Package: scantrail\nVersion: {version}\nArchitecture: {architecture}\n\
             Maintainer: {}\nInstalled-Size: {}\nDepends: {}\nSection: {}\nPriority: {}\n\
             Description: {}\n{extended}",
            meta.text("maintainer"),
            installed_bytes.div_ceil(1024),
            meta.text("depends"),
            meta.text("section"),
            meta.text("priority"),
            env!("CARGO_PKG_DESCRIPTION"),
        ),
    )
    .unwrap();
    let conffiles: Vec<&str> = meta.table["conf-files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    std::fs::write(control.join("conffiles"), conffiles.join("\n") + "\n").unwrap();
    let scripts = Path::new(MANIFEST_DIR).join(meta.text("maintainer-scripts"));
    for script in ["postinst", "prerm", "postrm"] {
        let to = control.join(script);
        std::fs::copy(scripts.join(script), &to).unwrap();
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let deb = out.join(format!("scantrail_{version}_{architecture}.deb"));
    ok(tool("dpkg-deb", "dpkg")
        // gzip at its fastest: a debug binary is large, and this package is
        // only checked, never shipped.
        .args(["--root-owner-group", "-Zgzip", "-z1", "--build"])
        .arg(root)
        .arg(&deb));
    deb
}

#[test]
fn the_debian_package_installs_the_product_its_configuration_units_and_udev_rule() {
    let work = tempfile::tempdir().unwrap();
    let deb = build_package(&work.path().join("stage"), work.path());
    // Kept for trying an installation by hand (target/tmp/): a debug
    // build, not for a site.
    let kept = Path::new(env!("CARGO_TARGET_TMPDIR")).join(deb.file_name().unwrap());
    std::fs::copy(&deb, &kept).unwrap();

    // The file list: the product binary (not the developer tools), the
    // configuration, every device profile, both units, the udev rule.
    let listing = ok(tool("dpkg-deb", "dpkg").arg("--contents").arg(&deb));
    let files: BTreeSet<String> = listing
        .lines()
        .filter(|l| !l.starts_with('d'))
        .map(|l| {
            let fields: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(fields[1], "root/root", "{l}");
            format!("{} {}", fields[0], fields[5])
        })
        .collect();
    let mut expected: BTreeSet<String> = [
        "-rwxr-xr-x ./usr/bin/scantrail",
        "-rw-r----- ./etc/scantrail/scantrail.toml",
        "-rw-r--r-- ./usr/lib/systemd/system/scantrail.service",
        "-rw-r--r-- ./usr/lib/systemd/system/scantrail-hq.service",
        "-rw-r--r-- ./usr/lib/udev/rules.d/60-scantrail.rules",
        "-rw-r--r-- ./usr/share/doc/scantrail/README.md",
    ]
    .map(str::to_owned)
    .into();
    for profile in std::fs::read_dir(Path::new(MANIFEST_DIR).join("devices")).unwrap() {
        let name = profile.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".toml") {
            expected.insert(format!("-rw-r--r-- ./usr/share/scantrail/devices/{name}"));
        }
    }
    assert_eq!(files, expected, "{listing}");

    // Control: the configuration is a conffile (an upgrade keeps the
    // site's edits), the scripts create the user and the data directory.
    let control = work.path().join("control");
    ok(tool("dpkg-deb", "dpkg")
        .arg("--control")
        .arg(&deb)
        .arg(&control));
    assert_eq!(
        std::fs::read_to_string(control.join("conffiles")).unwrap(),
        "/etc/scantrail/scantrail.toml\n"
    );
    let postinst = std::fs::read_to_string(control.join("postinst")).unwrap();
    assert!(
        postinst.contains("useradd --system")
            && postinst.contains("install -d -o scantrail -g scantrail -m 0750 /var/lib/scantrail"),
        "{postinst}"
    );
    for script in ["postinst", "prerm", "postrm"] {
        ok(Command::new("sh").arg("-n").arg(control.join(script)));
    }
    let fields = ok(tool("dpkg-deb", "dpkg")
        .arg("--field")
        .arg(&deb)
        .args(["Package", "Version", "Depends"]));
    assert!(
        fields.contains("Package: scantrail\n")
            && fields.contains(&format!("Version: {}-1\n", env!("CARGO_PKG_VERSION"))),
        "{fields}"
    );

    // The units as installed, with ExecStart's /usr/bin/scantrail pointed
    // at the unpacked binary (`verify` checks that it exists and runs as
    // is; `--root` would need a whole system under it).
    let tree = work.path().join("tree");
    ok(tool("dpkg-deb", "dpkg")
        .arg("--extract")
        .arg(&deb)
        .arg(&tree));
    let units = work.path().join("units");
    std::fs::create_dir(&units).unwrap();
    let installed_binary = tree.join("usr/bin/scantrail");
    let mut unit_paths = Vec::new();
    for unit in ["scantrail.service", "scantrail-hq.service"] {
        let text = std::fs::read_to_string(tree.join("usr/lib/systemd/system").join(unit)).unwrap();
        assert!(
            text.contains("Type=notify") && text.contains("Restart=on-failure"),
            "{unit}"
        );
        let path = units.join(unit);
        std::fs::write(
            &path,
            text.replace("/usr/bin/scantrail", installed_binary.to_str().unwrap()),
        )
        .unwrap();
        unit_paths.push(path);
    }
    let site_unit = std::fs::read_to_string(&unit_paths[0]).unwrap();
    for line in [
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/scantrail",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "NoNewPrivileges=yes",
        "SupplementaryGroups=dialout",
        "User=scantrail",
    ] {
        assert!(
            site_unit.lines().any(|l| l == line),
            "no {line} in the site unit"
        );
    }
    let verify = tool("systemd-analyze", "systemd")
        .arg("verify")
        .args(&unit_paths)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&verify.stderr);
    // `verify` exits 0 on an unknown key, only saying so: both count.
    assert!(
        verify.status.success() && said.trim().is_empty(),
        "systemd-analyze verify: {said}"
    );

    // The udev rule: stable names and ModemManager told to keep off.
    let rule =
        std::fs::read_to_string(tree.join("usr/lib/udev/rules.d/60-scantrail.rules")).unwrap();
    assert!(
        rule.contains("ENV{ID_MM_DEVICE_IGNORE}=\"1\"") && rule.contains("SYMLINK+=\"scantrail/"),
        "{rule}"
    );

    // The packaged configuration passes the packaged binary's check, its
    // device profile found where the package put it (run from elsewhere:
    // a relative profile path is also tried against the working folder,
    // which for a test is the repository, with its own devices/).
    let checked = ok(Command::new(&installed_binary)
        .current_dir(work.path())
        .arg("check-config")
        .arg(tree.join("etc/scantrail/scantrail.toml")));
    assert!(
        checked.contains("site configuration of `site-1`")
            && checked.contains("profiles generic-aim")
            && checked.contains("store in /var/lib/scantrail"),
        "{checked}"
    );
}
