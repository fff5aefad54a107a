//! The kubernetes-sigs/network-policy-api conformance scenarios (tests/fixtures/cluster-policy),
//! through `matrix -o json` (checks towards a hostNetwork pod, which the matrix leaves out,
//! through `explain traffic -o json`): every connection an upstream subtest checks, in every
//! step, must come out as it expects. One test per upstream test, named after it.

mod common;

use common::cli::offline as netpol;
use common::cli::outcome;
use common::cluster_fixtures::{root as fixtures, steps};
use serde_json::Value;

/// `explain traffic -o json` for one check: the matrix leaves hostNetwork pods out (they are
/// not endpoints), so a check towards one is asked pair by pair.
fn explain(step: &common::cluster_fixtures::Step, c: &Value) -> Result<Value, String> {
    let mut cmd = netpol();
    cmd.args(["explain", "traffic", "-o", "json", "-p"])
        .arg(format!(
            "{}/{}",
            c["protocol"].as_str().unwrap().to_lowercase(),
            c["port"]
        ));
    for f in &step.files {
        cmd.arg("-f").arg(f);
    }
    let (code, stdout, stderr) =
        outcome(cmd.args([c["from"].as_str().unwrap(), c["to"].as_str().unwrap()]));
    if code != 0 {
        return Err(format!("explain traffic failed (exit {code}): {stderr}"));
    }
    serde_json::from_str(&stdout).map_err(|e| format!("explain traffic: {e}: {stdout}"))
}

/// Runs every step of every scenario of one upstream test; fails with all the disagreements.
fn check(short_name: &str) {
    let steps = steps(&format!("{short_name}--"));
    assert!(
        !steps.is_empty(),
        "no scenario of {short_name} in {}",
        fixtures().display()
    );
    let mut failures = Vec::new();
    for step in &steps {
        let (name, subtest) = (&step.name, &step.subtest);
        let ports: Vec<String> = step
            .checks
            .iter()
            .map(|c| {
                format!(
                    "{}/{}",
                    c["protocol"].as_str().unwrap().to_lowercase(),
                    c["port"]
                )
            })
            .collect();
        let mut cmd = netpol();
        cmd.args(["matrix", "-o", "json", "--ports", &ports.join(",")]);
        for f in &step.files {
            cmd.arg("-f").arg(f);
        }
        let (code, stdout, stderr) = outcome(&mut cmd);
        assert_eq!(code, 0, "{name} \"{subtest}\": matrix failed: {stderr}");
        let doc: Value = serde_json::from_str(&stdout).unwrap();
        for c in &step.checks {
            let in_matrix = doc["connections"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["to"] == c["to"]);
            if (c["toHostNetwork"] == true) == in_matrix {
                failures.push(format!(
                    "{name}: {c}: toHostNetwork must be true exactly when the destination is no matrix endpoint (a hostNetwork pod)"
                ));
                continue;
            }
            let found = if c["toHostNetwork"] == true {
                match explain(step, c) {
                    Ok(v) => Some(v),
                    Err(e) => {
                        failures.push(format!("{name}: {c}: {e}"));
                        continue;
                    }
                }
            } else {
                doc["connections"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|m| {
                        ["from", "to", "protocol", "port"]
                            .iter()
                            .all(|k| m[*k] == c[*k])
                    })
                    .cloned()
            };
            match found {
                None => failures.push(format!("{name} \"{subtest}\": {c} not in the matrix")),
                Some(m) if m["allowed"] != c["allowed"] || m.get("ambiguous").is_some_and(|a| a != false) => {
                    failures.push(format!(
                        "{name} \"{subtest}\": {} -> {} {}/{}: upstream expects allowed={}, we say {m}",
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
    cnp_admin_tier_egress_inline_cidr_peers => "CNPAdminTierEgressInlineCIDRPeers",
    cnp_admin_tier_egress_node_peers => "CNPAdminTierEgressNodePeers",
    cnp_baseline_tier_ingress_tcp => "CNPBaselineTierIngressTCP",
    cnp_baseline_tier_ingress_udp => "CNPBaselineTierIngressUDP",
    cnp_baseline_tier_ingress_sctp => "CNPBaselineTierIngressSCTP",
    cnp_baseline_tier_egress_tcp => "CNPBaselineTierEgressTCP",
    cnp_baseline_tier_egress_udp => "CNPBaselineTierEgressUDP",
    cnp_baseline_tier_egress_sctp => "CNPBaselineTierEgressSCTP",
    cnp_baseline_tier_gress => "CNPBaselineTierGress",
    cnp_baseline_tier_ingress_named_port => "CNPBaselineTierIngressNamedPort",
    cnp_baseline_tier_egress_named_port => "CNPBaselineTierEgressNamedPort",
    cnp_baseline_tier_egress_inline_cidr_peers => "CNPBaselineTierEgressInlineCIDRPeers",
    cnp_baseline_tier_egress_node_peers => "CNPBaselineTierEgressNodePeers",
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
