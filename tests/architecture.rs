//! The layering the source tree promises (README, `src/model/mod.rs`),
//! checked on the source text so a change that breaks it fails here with
//! the file and line, instead of slowly tangling the modules again.

use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

fn src(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(sub)
}

/// The lines of code (comments left out) of every file under `dir` that
/// contain any of `needles`, as `path:line: text`.
fn naming(dir: &Path, needles: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for file in sources(dir) {
        let text = std::fs::read_to_string(&file).expect("a readable source file");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if needles.iter().any(|needle| code.contains(needle)) {
                found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    found
}

#[test]
fn the_domain_core_names_no_storage_network_or_runtime() {
    let found = naming(
        &src("model"),
        &[
            "sled",
            "axum",
            "tokio",
            "crate::store",
            "crate::site",
            "crate::hq",
            "crate::sync",
        ],
    );
    assert!(
        found.is_empty(),
        "src/model must stay pure:\n{}",
        found.join("\n")
    );
}

#[test]
fn only_the_store_names_sled() {
    let found: Vec<String> = naming(&src(""), &["sled::", "use sled"])
        .into_iter()
        .filter(|l| !l.contains("/src/store/"))
        .collect();
    assert!(
        found.is_empty(),
        "sled outside src/store:\n{}",
        found.join("\n")
    );
}

#[test]
fn head_office_names_neither_the_site_nor_the_command_line() {
    let found = naming(&src("hq"), &["crate::site", "crate::cli"]);
    assert!(
        found.is_empty(),
        "src/hq reaches into the site or cli:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_cycles_that_were_broken_stay_broken() {
    // (file, what it must not name): the other side names the first
    // (the desk names events, chain names the frozen rejection layout).
    for (file, forbidden) in [
        ("site/events.rs", "desk"),
        ("store/movement.rs", "chain"),
        ("sync/protocol.rs", "store::ingest::Entries"),
    ] {
        let text = std::fs::read_to_string(src(file)).expect("a source file");
        let hits: Vec<&str> = text
            .lines()
            .filter(|l| l.trim_start().starts_with("use ") && l.contains(forbidden))
            .collect();
        assert!(hits.is_empty(), "src/{file} names {forbidden}: {hits:?}");
    }
}
