//! The arrows between the folders of `src` (and of netpol-core's `core/src`) go one way: a file
//! in folder F may name `crate::G` only when G comes before F in the `layers:` line of that
//! crate's lib.rs. That also rules out cycles, and a folder missing from the line fails too.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The folders, lowest first, from the `layers:` line of `src/lib.rs`.
fn layers(src: &Path) -> Vec<String> {
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs");
    let line = lib
        .lines()
        .find(|l| l.trim_start_matches("//!").trim().starts_with("layers:"))
        .expect("lib.rs states the order in a `//! layers: ...` line");
    line.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code without `//` comments (doc comments may name other layers freely).
fn code(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn ident(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The top-level modules a file names through `crate::x` or `crate::{x, y::z}`.
fn crate_targets(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        if at > 0 {
            let before = code[..at].chars().next_back().unwrap();
            if before.is_ascii_alphanumeric() || before == '_' || before == '$' {
                continue; // `$crate::` in a macro, or a longer name such as `netpol_crate::`
            }
        }
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => item_start = true,
                    c if item_start && depth == 1 && !c.is_whitespace() => {
                        out.insert(ident(&group[i..]).to_string());
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            out.insert(ident(rest).to_string());
        }
    }
    out
}

#[test]
fn arrows_between_src_folders_go_one_way() {
    check_one_way(&root().join("src"), 5);
}

#[test]
fn arrows_between_core_folders_go_one_way() {
    check_one_way(&root().join("core/src"), 3);
}

fn check_one_way(src: &Path, at_least: usize) {
    let order = layers(src);
    assert!(order.len() >= at_least, "layers line too short: {order:?}");
    let rank = |name: &str| order.iter().position(|l| l == name);
    let mut folders = Vec::new();
    for entry in std::fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            folders.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    let mut problems = Vec::new();
    for folder in &folders {
        let Some(own) = rank(folder) else {
            problems.push(format!(
                "{}/{folder} is not in the layers line of its lib.rs",
                src.display()
            ));
            continue;
        };
        let mut files = Vec::new();
        rust_files(&src.join(folder), &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for target in crate_targets(&code(&text)) {
                match rank(&target) {
                    Some(r) if r > own => problems.push(format!(
                        "{}: names crate::{target}, a layer above {folder}",
                        file.strip_prefix(root()).unwrap().display()
                    )),
                    _ => {}
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "upward arrows:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_checker_sees_grouped_and_inline_paths() {
    let found = crate_targets(&code(
        "use crate::{model::Pod, engine::{Engine, x}};\nfn f() { crate::report::bold(\"a\"); }\n// crate::cli in a comment\nlet s = \"// not a comment\"; crate::lab::x();\n$crate::doc::y",
    ));
    let want: BTreeSet<String> = ["engine", "lab", "model", "report"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(found, want);
}

/// No product function over 80 lines without a `// long: why` next to it (scripts/long-fns.sh,
/// which lists them).
#[test]
fn no_product_function_is_long_without_a_reason() {
    let out = std::process::Command::new("bash")
        .arg(root().join("scripts/long-fns.sh"))
        .output()
        .expect("bash runs scripts/long-fns.sh");
    assert!(
        out.status.success(),
        "functions over 80 lines without a `// long:` reason:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
