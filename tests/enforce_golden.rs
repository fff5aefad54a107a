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

/// `enforcer rules` on cluster-scoped policies: the tiered chain (a Pass is a goto to the
/// chain's second half) and a line for what iptables cannot enforce (`domainNames`).
#[test]
fn enforcer_rules_show_the_tiers_and_what_is_not_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cnp.yaml");
    std::fs::write(
        &path,
        r#"
apiVersion: v1
kind: Pod
metadata: {namespace: a, name: web, labels: {app: web}}
spec: {containers: [{name: c, image: i}]}
status: {podIP: 10.1.0.5}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {namespace: a, name: web}
spec: {podSelector: {}, policyTypes: [Egress], egress: [{ports: [{port: 53, protocol: UDP}]}]}
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: out}
spec:
  tier: Admin
  priority: 3
  subject: {namespaces: {}}
  egress:
  - {name: tenants, action: Pass, to: [{namespaces: {}}]}
  - {name: api, action: Accept, to: [{domainNames: [api.example.com]}]}
  - {name: internet, action: Deny, to: [{networks: [0.0.0.0/0]}]}
"#,
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-netpol"))
        .args(["enforcer", "rules", "-f"])
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = |needle: &str| {
        text.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle:?} in\n{text}"))
    };
    let pass = line("'tenants' Pass");
    let chain = pass.split_whitespace().nth(1).unwrap();
    assert!(pass.ends_with(&format!("-g {chain}-R")), "{pass}");
    assert!(line("'internet' Deny").ends_with("-j DROP"));
    assert!(line(&format!("-A {chain} ")).contains("--match-set"));
    assert!(line(&format!("-A {chain}-R ")).contains("-p udp -m udp --dport 53"));
    assert!(line("# not enforced:").contains("api.example.com"));
}
