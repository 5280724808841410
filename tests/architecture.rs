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

/// A module of the graph the cycle check walks: a top-level module
/// (`store`, `config`) or a module one folder down (`store::chain`,
/// `sync::link`). Deeper files count as the second-level module they sit
/// in.
fn node_of(relative: &Path) -> String {
    let parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    match parts.as_slice() {
        [file] => file.clone(),
        [top, rest @ ..] if rest.first().is_some_and(|m| m != "mod") => {
            format!("{top}::{}", rest[0])
        }
        [top, ..] => top.clone(),
        [] => String::new(),
    }
}

/// The modules that exist: every node of every file under src/ (the
/// library's; the binaries have their own `crate`).
fn modules(root: &Path) -> std::collections::BTreeSet<String> {
    sources(root)
        .iter()
        .filter_map(|f| f.strip_prefix(root).ok().map(node_of))
        .collect()
}

/// The node `path` (segments after `crate::`) names: `a::b` when that
/// module exists, else `a`.
fn target(path: &[&str], known: &std::collections::BTreeSet<String>) -> Option<String> {
    let first = path.first()?;
    if let Some(second) = path.get(1) {
        let deep = format!("{first}::{second}");
        if known.contains(&deep) {
            return Some(deep);
        }
    }
    known.contains(*first).then(|| first.to_string())
}

/// The module paths a line of code names: `crate::a::b`, `super::b` and,
/// in a folder's `mod.rs`, `use child::...`.
fn named_paths(code: &str, node: &str, is_folder_root: bool) -> Vec<Vec<String>> {
    let ident = |s: &str| -> Vec<String> {
        s.split("::")
            .map(|seg| {
                seg.chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect::<String>()
            })
            .take_while(|seg| !seg.is_empty())
            .collect()
    };
    let mut out = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        let before = code[..i].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        out.push(ident(&code[i + "crate::".len()..]));
    }
    // `super::x` from `a/b.rs` names `a::x`; from a top-level file or a
    // folder root it names the crate root's `x`.
    let parent: Vec<String> = match node.split_once("::") {
        Some((top, _)) if !is_folder_root => vec![top.to_owned()],
        _ => Vec::new(),
    };
    for (i, _) in code.match_indices("super::") {
        let before = code[..i].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let mut path = parent.clone();
        path.extend(ident(&code[i + "super::".len()..]));
        out.push(path);
    }
    if is_folder_root {
        let trimmed = code.trim_start();
        let rest = trimmed
            .strip_prefix("pub use ")
            .or_else(|| trimmed.strip_prefix("pub(crate) use "))
            .or_else(|| trimmed.strip_prefix("use "));
        if let Some(rest) = rest {
            let mut path = vec![node.to_owned()];
            path.extend(ident(rest));
            if path.len() > 1 {
                out.push(path);
            }
        }
    }
    out
}

/// Every edge `from -> to` between modules, with the first place that
/// makes it.
fn module_graph() -> std::collections::BTreeMap<(String, String), String> {
    let root = src("");
    let mut known = modules(&root);
    // The GS1 engine is a crate of its own, reached as `crate::gs1` (lib.rs
    // re-exports it) or by its name: a module of the graph all the same, so
    // the table says who may parse GS1 (scan may not).
    known.insert("gs1".to_owned());
    let mut edges = std::collections::BTreeMap::new();
    for file in sources(&root) {
        let relative = file.strip_prefix(&root).expect("under src").to_owned();
        if relative.starts_with("bin") || relative == Path::new("main.rs") {
            continue;
        }
        let node = node_of(&relative);
        let is_folder_root = relative.file_name().is_some_and(|n| n == "mod.rs")
            && relative.components().count() == 2;
        let text = std::fs::read_to_string(&file).expect("a readable source file");
        let mut in_tests = false;
        for (n, line) in text.lines().enumerate() {
            // A module's unit tests may reach across (they are not part of
            // the build's graph).
            if line.trim_start().starts_with("#[cfg(test)]") {
                in_tests = true;
            }
            if in_tests {
                continue;
            }
            let code = line.split("//").next().unwrap_or("");
            let mut paths = named_paths(code, &node, is_folder_root);
            if code.contains("scantrail_gs1") && relative != Path::new("lib.rs") {
                paths.push(vec!["gs1".to_owned()]);
            }
            for path in paths {
                let segments: Vec<&str> = path.iter().map(String::as_str).collect();
                if let Some(to) = target(&segments, &known) {
                    if to != node && !to.starts_with(&format!("{node}::")) {
                        edges
                            .entry((node.clone(), to))
                            .or_insert_with(|| format!("{}:{}", relative.display(), n + 1));
                    }
                }
            }
        }
    }
    edges
}

/// A cycle of `edges`, as the modules in order, if there is one.
fn find_cycle(edges: &std::collections::BTreeMap<(String, String), String>) -> Option<Vec<String>> {
    use std::collections::BTreeMap;
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, to) in edges.keys() {
        next.entry(from).or_default().push(to);
    }
    // 0 unvisited, 1 on the current path, 2 done.
    let mut state: BTreeMap<&str, u8> = BTreeMap::new();
    fn walk<'a>(
        node: &'a str,
        next: &BTreeMap<&'a str, Vec<&'a str>>,
        state: &mut BTreeMap<&'a str, u8>,
        path: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        state.insert(node, 1);
        path.push(node);
        for &to in next.get(node).into_iter().flatten() {
            match state.get(to).copied().unwrap_or(0) {
                1 => {
                    let start = path.iter().position(|&n| n == to).unwrap_or(0);
                    let mut cycle: Vec<String> =
                        path[start..].iter().map(|s| s.to_string()).collect();
                    cycle.push(to.to_owned());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = walk(to, next, state, path) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        path.pop();
        state.insert(node, 2);
        None
    }
    let nodes: Vec<&str> = next.keys().copied().collect();
    for node in nodes {
        if state.get(node).copied().unwrap_or(0) == 0 {
            if let Some(c) = walk(node, &next, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn the_modules_form_no_cycle() {
    let edges = module_graph();
    assert!(
        edges.len() > 50,
        "the module graph looks empty ({} edges): the scan of src/ is broken",
        edges.len()
    );
    // The edges the broken cycles kept (their other halves are gone): the
    // scan sees them, so it would see a returning half too.
    for (from, to) in [
        ("site::desk", "site::events"),
        ("store::chain", "store::movement"),
        ("hq::api", "station::catalog"),
        ("station::rules", "gs1"),
    ] {
        assert!(
            edges.contains_key(&(from.to_owned(), to.to_owned())),
            "the scan of src/ misses {from} -> {to}"
        );
    }
    if let Some(cycle) = find_cycle(&edges) {
        let steps: Vec<String> = cycle
            .windows(2)
            .map(|w| {
                let at = &edges[&(w[0].clone(), w[1].clone())];
                format!("  {} -> {} ({at})", w[0], w[1])
            })
            .collect();
        panic!("module cycle {}:\n{}", cycle.join(" -> "), steps.join("\n"));
    }
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    let mut edges = std::collections::BTreeMap::new();
    for (from, to) in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")] {
        edges.insert((from.to_owned(), to.to_owned()), String::new());
    }
    let cycle = find_cycle(&edges).expect("a cycle");
    assert_eq!(cycle.first(), cycle.last());
    assert_eq!(cycle.len(), 4, "{cycle:?}");
    edges.remove(&("c".to_owned(), "a".to_owned()));
    assert_eq!(find_cycle(&edges), None);
}

#[test]
fn nothing_is_re_exported_by_glob() {
    let found: Vec<String> = naming(&src(""), &["use "])
        .into_iter()
        .filter(|l| {
            let code = l.splitn(3, ':').nth(2).unwrap_or("").trim();
            code.starts_with("pub") && code.contains("::*")
        })
        .collect();
    assert!(
        found.is_empty(),
        "glob re-exports hide where a name comes from; name what is re-exported:\n{}",
        found.join("\n")
    );
}

/// The "may import" column of docs/ARCHITECTURE.md's module table: each
/// top-level module and the top-level modules it may name.
fn allowed_imports() -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ARCHITECTURE.md");
    let text = std::fs::read_to_string(&doc).unwrap_or_else(|e| panic!("{}: {e}", doc.display()));
    let names = |cell: &str| -> Vec<String> {
        cell.split(',')
            .map(|s| {
                s.trim()
                    .trim_matches('`')
                    .trim_end_matches(".rs")
                    .to_owned()
            })
            .filter(|s| !s.is_empty() && s != "—")
            .collect()
    };
    let mut allowed = std::collections::BTreeMap::new();
    let mut in_table = false;
    for line in text.lines() {
        if line.starts_with("| module ") {
            in_table = true;
            continue;
        }
        if in_table && !line.starts_with('|') {
            break;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // "| `store` | what it owns | `model`, `config` |"
        if in_table && cells.len() >= 4 && !cells[1].starts_with("---") {
            for module in names(cells[1]) {
                allowed.insert(module, names(cells[cells.len() - 2]).into_iter().collect());
            }
        }
    }
    allowed
}

#[test]
fn every_module_imports_only_what_the_architecture_document_allows() {
    let allowed = allowed_imports();
    assert!(
        allowed.len() >= 10,
        "docs/ARCHITECTURE.md's module table not found (a table whose header starts with `| module `)"
    );
    let top = |node: &str| node.split("::").next().unwrap_or(node).to_owned();
    let mut wrong = Vec::new();
    for ((from, to), at) in module_graph() {
        let (from, to) = (top(&from), top(&to));
        if from == to || from == "cli" {
            continue;
        }
        match allowed.get(&from) {
            None => wrong.push(format!(
                "  {from}: not in docs/ARCHITECTURE.md's table ({at})"
            )),
            Some(may) if !may.contains(&to) => wrong.push(format!("  {from} -> {to} ({at})")),
            Some(_) => {}
        }
    }
    wrong.dedup();
    assert!(
        wrong.is_empty(),
        "imports that docs/ARCHITECTURE.md does not allow (move the code, or change the document with a reason):\n{}",
        wrong.join("\n")
    );
}
