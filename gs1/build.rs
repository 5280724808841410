//! Generates the AI table from the GS1 Barcode Syntax Dictionary that the
//! crate ships in `dictionary/`, so the table can never drift from the data.
//!
//! Output: `$OUT_DIR/ai_table.rs`, included by `src/dictionary.rs`. It
//! holds one `AiEntry` per AI (ranges such as `3100-3105` expanded), sorted
//! by AI, plus two lookup arrays: the AI length for each two-digit prefix
//! (GS1 guarantees it is the same for all AIs sharing a prefix) and the
//! entry index for each AI padded to four digits.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

const DICTIONARY: &str = "dictionary/gs1-syntax-dictionary.txt";

fn main() {
    println!("cargo:rerun-if-changed={DICTIONARY}");
    println!("cargo:rerun-if-changed=build.rs");
    let text = std::fs::read_to_string(DICTIONARY).expect("read the GS1 syntax dictionary");
    let entries = parse_dictionary(&text);
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("ai_table.rs");
    std::fs::write(out, generate(&entries)).expect("write ai_table.rs");
}

struct Component {
    cset: &'static str,
    min: usize,
    max: usize,
    optional: bool,
    linters: Vec<String>,
}

struct Entry {
    ai: String,
    fnc1_required: bool,
    dl_attribute: bool,
    components: Vec<Component>,
    req: Vec<Vec<Vec<String>>>,
    ex: Vec<String>,
    dl_pkey: Option<Vec<Vec<String>>>,
    title: String,
}

fn parse_dictionary(text: &str) -> Vec<Entry> {
    let mut entries = BTreeMap::new();
    for (number, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (spec, title) = match line.split_once('#') {
            Some((spec, title)) => (spec, title.trim().to_owned()),
            None => (line, String::new()),
        };
        let mut tokens = spec.split_whitespace().peekable();
        let ais = tokens.next().unwrap();
        let (first, last) = match ais.split_once('-') {
            Some((a, b)) => (a, b),
            None => (ais, ais),
        };
        let mut flags = "";
        if let Some(t) = tokens.peek() {
            if t.chars().all(|c| !c.is_ascii_alphanumeric() && c != '[') {
                flags = tokens.next().unwrap();
            }
        }
        let mut components = Vec::new();
        let mut req = Vec::new();
        let mut ex = Vec::new();
        let mut dl_pkey = None;
        for token in tokens {
            if let Some(list) = token.strip_prefix("req=") {
                req.push(
                    list.split(',')
                        .map(|alt| alt.split('+').map(str::to_owned).collect())
                        .collect(),
                );
            } else if let Some(list) = token.strip_prefix("ex=") {
                ex.extend(list.split(',').map(str::to_owned));
            } else if token == "dlpkey" {
                dl_pkey = Some(vec![]);
            } else if let Some(list) = token.strip_prefix("dlpkey=") {
                dl_pkey = Some(
                    list.split('|')
                        .map(|seq| seq.split(',').map(str::to_owned).collect())
                        .collect(),
                );
            } else {
                components.push(parse_component(token, number + 1));
            }
        }
        assert!(!components.is_empty(), "line {}: no components", number + 1);
        let width = first.len();
        let (from, to): (u32, u32) = (first.parse().unwrap(), last.parse().unwrap());
        for n in from..=to {
            let ai = format!("{n:0width$}");
            let entry = Entry {
                ai: ai.clone(),
                fnc1_required: !flags.contains('*'),
                dl_attribute: flags.contains('?'),
                components: components
                    .iter()
                    .map(|c| Component {
                        cset: c.cset,
                        min: c.min,
                        max: c.max,
                        optional: c.optional,
                        linters: c.linters.clone(),
                    })
                    .collect(),
                req: req.clone(),
                ex: ex.clone(),
                dl_pkey: dl_pkey.clone(),
                title: title.clone(),
            };
            assert!(entries.insert(ai.clone(), entry).is_none(), "AI {ai} twice");
        }
    }
    entries.into_values().collect()
}

/// `N6,yymmd0`, `[N..12],nozeroprefix`, `X..20`.
fn parse_component(token: &str, line: usize) -> Component {
    let mut parts = token.split(',');
    let mut kind = parts.next().unwrap();
    let optional = kind.starts_with('[');
    if optional {
        kind = kind.trim_start_matches('[').trim_end_matches(']');
    }
    let cset = match &kind[..1] {
        "N" => "Digits",
        "X" => "Cset82",
        "Y" => "Cset39",
        "Z" => "Cset64",
        other => panic!("line {line}: unknown component type {other}"),
    };
    let length = &kind[1..];
    let (min, max) = match length.strip_prefix("..") {
        Some(max) => (1, max.parse().unwrap()),
        None => {
            let n = length.parse().unwrap();
            (n, n)
        }
    };
    Component {
        cset,
        min,
        max,
        optional,
        linters: parts.map(str::to_owned).collect(),
    }
}

fn linter_variant(name: &str) -> String {
    let mut chars = name.chars();
    let first = chars.next().unwrap().to_ascii_uppercase();
    format!("Linter::{first}{}", chars.as_str())
}

fn str_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    format!("&[{}]", quoted.join(", "))
}

fn generate(entries: &[Entry]) -> String {
    let mut out = String::new();
    writeln!(
        out,
        "// Generated by build.rs from {DICTIONARY}. Do not edit."
    )
    .unwrap();
    writeln!(out, "static ENTRIES: [AiEntry; {}] = [", entries.len()).unwrap();
    for e in entries {
        let components: Vec<String> = e
            .components
            .iter()
            .map(|c| {
                let linters: Vec<String> = c.linters.iter().map(|l| linter_variant(l)).collect();
                format!(
                    "Component {{ cset: Linter::{}, min: {}, max: {}, optional: {}, linters: &[{}] }}",
                    c.cset,
                    c.min,
                    c.max,
                    c.optional,
                    linters.join(", ")
                )
            })
            .collect();
        let req: Vec<String> = e
            .req
            .iter()
            .map(|alts| {
                let alts: Vec<String> = alts.iter().map(|all| str_list(all)).collect();
                format!("&[{}]", alts.join(", "))
            })
            .collect();
        let dl_pkey = match &e.dl_pkey {
            None => "None".to_owned(),
            Some(seqs) => {
                let seqs: Vec<String> = seqs.iter().map(|s| str_list(s)).collect();
                format!("Some(&[{}])", seqs.join(", "))
            }
        };
        let fixed_length: usize = if e.fnc1_required {
            0
        } else {
            e.components.iter().map(|c| c.max).sum()
        };
        writeln!(
            out,
            "    AiEntry {{ ai: {:?}, fnc1_required: {}, fixed_length: {}, dl_attribute: {}, components: &[{}], req: &[{}], ex: {}, dl_pkey: {}, title: {:?} }},",
            e.ai,
            e.fnc1_required,
            fixed_length,
            e.dl_attribute,
            components.join(", "),
            req.join(", "),
            str_list(&e.ex),
            dl_pkey,
            e.title
        )
        .unwrap();
    }
    writeln!(out, "];").unwrap();

    let mut prefix_len = [0usize; 100];
    let mut index = vec![u16::MAX; 10_000];
    for (i, e) in entries.iter().enumerate() {
        let prefix: usize = e.ai[..2].parse().unwrap();
        assert!(
            prefix_len[prefix] == 0 || prefix_len[prefix] == e.ai.len(),
            "AIs starting {} have different lengths",
            &e.ai[..2]
        );
        prefix_len[prefix] = e.ai.len();
        let padded: usize = format!("{:0<4}", e.ai).parse().unwrap();
        index[padded] = i as u16;
        if !e.fnc1_required {
            assert!(
                e.components.iter().all(|c| c.min == c.max && !c.optional),
                "AI {} has a predefined length but a variable component",
                e.ai
            );
        }
    }
    writeln!(
        out,
        "static AI_LENGTH_BY_PREFIX: [u8; 100] = {prefix_len:?};"
    )
    .unwrap();
    writeln!(out, "static ENTRY_BY_AI: [u16; 10000] = {index:?};").unwrap();
    out
}
