//! The kubernetes-sigs/network-policy-api conformance scenarios (tests/fixtures/cluster-policy),
//! through `matrix -o json`: every connection an upstream subtest checks must come out as it
//! expects. One test per upstream test, named after it.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cluster-policy")
}

/// Runs every scenario of one upstream test and returns the disagreements.
fn check(short_name: &str) {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&format!("{short_name}--")))
        })
        .collect();
    dirs.sort();
    assert!(
        !dirs.is_empty(),
        "no scenario of {short_name} in {}",
        fixtures().display()
    );
    let mut failures = Vec::new();
    for dir in &dirs {
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap())
                .unwrap();
        let subtest = expected["upstream"]["subtest"]
            .as_str()
            .unwrap()
            .to_string();
        let checks = expected["connections"].as_array().unwrap();
        assert!(!checks.is_empty(), "{subtest}: no checks");
        let ports: Vec<String> = checks
            .iter()
            .map(|c| {
                format!(
                    "{}/{}",
                    c["protocol"].as_str().unwrap().to_lowercase(),
                    c["port"]
                )
            })
            .collect();
        let out = Command::new(env!("CARGO_BIN_EXE_kubectl-netpol"))
            .args(["matrix", "-o", "json", "--ports", &ports.join(",")])
            .arg("-f")
            .arg(fixtures().join("base"))
            .arg("-f")
            .arg(dir.join("manifests"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{short_name} {subtest}: matrix failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        for c in checks {
            let found = doc["connections"].as_array().unwrap().iter().find(|m| {
                ["from", "to", "protocol", "port"]
                    .iter()
                    .all(|k| m[*k] == c[*k])
            });
            match found {
                None => failures.push(format!("{short_name} \"{subtest}\": {c} not in the matrix")),
                Some(m) if m["allowed"] != c["allowed"] || m.get("ambiguous").is_some() => {
                    failures.push(format!(
                        "{short_name} \"{subtest}\": {} -> {} {}/{}: upstream expects allowed={}, matrix says {m}",
                        c["from"], c["to"], c["protocol"], c["port"], c["allowed"]
                    ))
                }
                Some(_) => {}
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

macro_rules! conformance {
    ($($test:ident => $short:literal,)*) => {
        $(
            #[test]
            fn $test() {
                check($short);
            }
        )*
    };
}

conformance! {
    cnp_admin_tier_ingress_tcp => "CNPAdminTierIngressTCP",
    cnp_admin_tier_ingress_udp => "CNPAdminTierIngressUDP",
    cnp_admin_tier_ingress_sctp => "CNPAdminTierIngressSCTP",
    cnp_admin_tier_egress_tcp => "CNPAdminTierEgressTCP",
    cnp_admin_tier_egress_udp => "CNPAdminTierEgressUDP",
    cnp_admin_tier_egress_sctp => "CNPAdminTierEgressSCTP",
    cnp_admin_tier_gress => "CNPAdminTierGress",
    cnp_admin_tier_priority_field => "CNPAdminTierPriorityField",
    cnp_admin_tier_integration => "CNPAdminTierIntegration",
    cnp_admin_tier_ingress_named_port => "CNPAdminTierIngressNamedPort",
    cnp_admin_tier_egress_named_port => "CNPAdminTierEgressNamedPort",
    cnp_baseline_tier_ingress_tcp => "CNPBaselineTierIngressTCP",
    cnp_baseline_tier_ingress_udp => "CNPBaselineTierIngressUDP",
    cnp_baseline_tier_ingress_sctp => "CNPBaselineTierIngressSCTP",
    cnp_baseline_tier_egress_tcp => "CNPBaselineTierEgressTCP",
    cnp_baseline_tier_egress_udp => "CNPBaselineTierEgressUDP",
    cnp_baseline_tier_egress_sctp => "CNPBaselineTierEgressSCTP",
    cnp_baseline_tier_gress => "CNPBaselineTierGress",
    cnp_baseline_tier_ingress_named_port => "CNPBaselineTierIngressNamedPort",
    cnp_baseline_tier_egress_named_port => "CNPBaselineTierEgressNamedPort",
}

/// Every scenario directory belongs to one of the tests above (none is silently unchecked).
#[test]
fn every_fixture_is_checked() {
    let known = include_str!("cluster_conformance.rs");
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if let Some((short, _)) = name.split_once("--") {
            assert!(
                known.contains(&format!("\"{short}\"")),
                "{name}: no test checks {short}"
            );
        }
    }
}
