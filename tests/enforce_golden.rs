//! The enforcer's rules, rendered as the node receives them (ipset and iptables-restore text),
//! for every scenario fixture and the shipped examples, compared byte for byte with
//! tests/golden/enforcer/. A change to the compiler or the renderer that alters what a node
//! gets shows up here; `UPDATE_GOLDEN=1 cargo test --test enforce_golden` rewrites the files
//! (review the diff).

mod common;

use netpol::model::{load_paths, LoadOptions};

#[test]
fn rules_for_every_fixture_equal_the_golden_files() {
    let cases = common::load_cases();
    assert!(cases.len() > 50, "found only {} fixtures", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let snap = case.snapshot();
        // The fixtures place no pod on a node: the agent variant covers every pod, with
        // drop logging and the hold over the upstream model's pod range.
        let text = common::enforcer_text(&snap, None, &["10.244.0.0/16", "fd00::/64"]);
        failures.extend(common::check_golden(
            &format!("enforcer/{}.txt", case.name),
            &text,
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn rules_for_the_examples_equal_the_golden_files() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests/examples");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(!names.is_empty());
    let mut failures = Vec::new();
    for name in names {
        let (snap, _) = load_paths(&[dir.join(&name)], &LoadOptions::default()).unwrap();
        let text = common::enforcer_text(&snap, None, &["10.0.0.0/8"]);
        failures.extend(common::check_golden(
            &format!("enforcer/examples-{name}.txt"),
            &text,
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
