//! The lab catalogue and `kubectl netpol lab`: every reference solution passes its own checks,
//! every typical wrong answer fails exactly the checks its header lists with an explanation
//! that names the mistake, the embedded catalogue is the one in manifests/labs, and the CLI
//! keeps its contracts (exit codes, JSON). The last test sends real packets for every lab's
//! solution in the local sandbox (root only; it fails, not skips, without root).

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Output};

use common::cli::{bin, offline};
use common::netns::left_by;
use netpol::lab::{
    answer_of, check_answer, check_offline, missing_mentions, policies_of, verify, Catalogue, Lab,
    LabReport,
};

fn catalogue() -> Catalogue {
    Catalogue::embedded().unwrap_or_else(|e| panic!("the embedded catalogue does not load: {e}"))
}

fn labs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("manifests/labs")
}

fn judge(lab: &Lab, name: &str, manifests: &str) -> LabReport {
    let answer = answer_of(name, manifests).unwrap_or_else(|e| panic!("{}: {name}: {e}", lab.name));
    check_answer(lab, &answer, &[]).unwrap_or_else(|e| panic!("{}: {name}: {e}", lab.name))
}

fn failing(r: &LabReport) -> BTreeSet<String> {
    r.checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.id.clone())
        .collect()
}

fn run(args: &[&str]) -> Output {
    offline().args(args).output().expect("run kubectl-netpol")
}

#[test]
fn the_embedded_catalogue_is_manifests_labs() {
    let embedded = catalogue();
    let on_disk = Catalogue::from_dir(&labs_dir()).expect("manifests/labs loads");
    assert_eq!(
        embedded.labs, on_disk.labs,
        "rebuild: the binary's labs differ from manifests/labs"
    );
    assert_eq!(embedded.labs.len(), 14);
    let numbers: Vec<u32> = embedded.labs.iter().map(|l| l.number).collect();
    assert_eq!(numbers, (1..=14).collect::<Vec<_>>());
    for lab in &embedded.labs {
        assert_eq!(lab.folder, format!("{:02}-{}", lab.number, lab.name));
        assert!(
            !lab.checks.is_empty() && !lab.hints.is_empty() && !lab.wrong.is_empty(),
            "{}",
            lab.name
        );
    }
}

#[test]
fn every_solution_passes_its_own_checks_statically() {
    for lab in &catalogue().labs {
        let r = judge(lab, "solution.yaml", &lab.solution);
        let bad: Vec<String> = r
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| format!("{}: {}", c.id, c.reason))
            .collect();
        assert!(
            r.passed && bad.is_empty(),
            "{}: the solution fails {bad:#?}",
            lab.name
        );
    }
}

#[test]
fn setup_alone_fails_at_least_one_check() {
    for lab in &catalogue().labs {
        let r = check_offline(lab, &[], &[]).unwrap();
        assert!(!r.passed, "{}: setup alone passes, nothing to do", lab.name);
    }
}

#[test]
fn every_wrong_answer_fails_exactly_its_expected_checks() {
    let mut problems = Vec::new();
    let mut count = 0;
    for lab in &catalogue().labs {
        for w in &lab.wrong {
            count += 1;
            let r = judge(lab, &w.file, &w.manifests);
            let expected: BTreeSet<String> = w.expect_failing.iter().cloned().collect();
            assert!(!expected.is_empty(), "{}: no expect-failing lines", w.file);
            if failing(&r) != expected {
                problems.push(format!(
                    "{}: fails {:?}, expected {:?}",
                    w.file,
                    failing(&r),
                    expected
                ));
            }
        }
    }
    assert!(count >= 12, "wrong answers missing: {count}");
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn every_wrong_answer_explanation_names_the_mistake() {
    let mut problems = Vec::new();
    for lab in &catalogue().labs {
        for w in &lab.wrong {
            assert!(
                !w.message_mentions.is_empty(),
                "{}: no message-mentions",
                w.file
            );
            let r = judge(lab, &w.file, &w.manifests);
            let missing = missing_mentions(&r, &w.message_mentions);
            if !missing.is_empty() {
                problems.push(format!(
                    "{}: the explanation lacks {missing:?}:\n{}",
                    w.file,
                    netpol::lab::failing_text(&r)
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn the_traps_are_named_by_the_checker_itself() {
    // Words the catalogue README expects from lint; here the checker says them from engine facts.
    let cat = catalogue();
    let text_of = |lab: &str, mistake: &str| {
        let lab = cat.find(lab).unwrap();
        let w = lab.wrong.iter().find(|w| w.mistake == mistake).unwrap();
        netpol::lab::failing_text(&judge(lab, &w.file, &w.manifests))
    };
    let and_or = text_of("allow-client-ingress", "and-or-swapped");
    assert!(
        and_or.contains("separate peers (OR)") && and_or.contains("means AND"),
        "{and_or}"
    );
    let dns = text_of("restrict-egress", "forgot-dns");
    assert!(
        dns.contains("egress is isolated") && dns.contains("DNS (UDP 53)"),
        "{dns}"
    );
    let tcp_only = text_of("egress-dns-https", "dns-protocol-omitted");
    assert!(
        tcp_only.contains("TCP 53 to the cluster DNS is allowed but UDP 53 is not"),
        "{tcp_only}"
    );
    let types = text_of("default-deny-all", "policytypes-omitted");
    assert!(types.contains("omits policyTypes"), "{types}");
    let ignored = text_of("egress-dns-https", "policytypes-ingress");
    assert!(ignored.contains("egress rules are ignored"), "{ignored}");
    let merged = text_of("zero-trust-three-tier", "dns-merged-into-tier-rule");
    assert!(merged.contains("allows UDP 53 only to"), "{merged}");
    let as_ingress = text_of("forgot-dns", "dns-as-ingress");
    assert!(
        as_ingress.contains("allows UDP 53 as ingress"),
        "{as_ingress}"
    );
    let elsewhere = text_of("team-a-to-team-b", "policy-in-source-namespace");
    assert!(
        elsewhere.contains("only selects pods of its own namespace"),
        "{elsewhere}"
    );
    let by_name = text_of("allow-port-only", "selector-uses-pod-name");
    assert!(by_name.contains("selects no pod at all"), "{by_name}");
    let half = text_of("payments-trust-model", "ingress-without-egress");
    assert!(
        half.contains("needs both the source's egress and the destination's ingress"),
        "{half}"
    );
    let name_label = text_of("allow-client-ingress", "namespace-name-label");
    assert!(
        name_label.contains("no namespace has the labels name=netpol-frontend"),
        "{name_label}"
    );
}

#[test]
fn every_lab_keeps_the_catalogue_invariants() {
    let problems: Vec<String> = catalogue().labs.iter().flat_map(verify).collect();
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn cli_list_solution_hint_and_start_local() {
    let out = run(&["lab", "list"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("and-not-or") && text.contains("intermediate"),
        "{text}"
    );

    let out = run(&["lab", "list", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().map(Vec::len), Some(catalogue().labs.len()));
    assert_eq!(v[0]["name"], "default-deny-ingress");
    assert_eq!(v[0]["level"], "beginner");
    assert_eq!(v[9]["localOnly"], true);

    let cat = catalogue();
    let lab = cat.find("and-not-or").unwrap();
    let out = run(&["lab", "solution", "and-not-or"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim_end(),
        lab.solution.trim_end()
    );

    let out = run(&["lab", "hint", "12", "2"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&lab.hints[1]));
    assert_eq!(
        run(&["lab", "hint", "and-not-or", "9"]).status.code(),
        Some(2)
    );
    assert_eq!(
        run(&["lab", "check", "no-such-lab", "-f", "x"])
            .status
            .code(),
        Some(2)
    );

    let out = run(&["lab", "start", "and-not-or", "--local"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("allow-prometheus-scrape"));
    // A local-only lab refuses a cluster, before connecting to one.
    let out = run(&["lab", "start", "external-egress-ipblock"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn cli_check_exit_codes_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let cat = catalogue();
    let lab = cat.find("allow-client-ingress").unwrap();
    let good = dir.path().join("good.yaml");
    std::fs::write(&good, &lab.solution).unwrap();
    let w = lab
        .wrong
        .iter()
        .find(|w| w.mistake == "and-or-swapped")
        .unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, &w.manifests).unwrap();

    let out = run(&[
        "lab",
        "check",
        "allow-client-ingress",
        "-f",
        good.to_str().unwrap(),
        "-o",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["lab"], "allow-client-ingress");
    assert_eq!(v["passed"], true);
    let checks = v["checks"].as_array().unwrap();
    assert_eq!(checks.len(), lab.checks.len());
    for c in checks {
        for key in ["from", "required", "actual", "passed", "reason", "hint"] {
            assert!(c.get(key).is_some(), "missing {key} in {c}");
        }
        assert!(
            c.get("to").is_some() && c.get("port").is_some() || c["dns"] == true,
            "{c}"
        );
        assert!(c["hint"].is_null());
    }

    let out = run(&[
        "lab",
        "check",
        "allow-client-ingress",
        "-f",
        bad.to_str().unwrap(),
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["passed"], false);
    let failed: Vec<&serde_json::Value> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["passed"] == false)
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["from"], "netpol-frontend/rogue");
    assert_eq!(failed[0]["port"], "tcp/80");
    assert_eq!(failed[0]["required"], false);
    assert_eq!(failed[0]["actual"], true);
    assert_eq!(failed[0]["hint"], lab.hints[0].as_str());

    let out = run(&[
        "lab",
        "check",
        "allow-client-ingress",
        "--local",
        "-f",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("✗ netpol-frontend/rogue → netpol-backend/web tcp/80")
            && text.contains("hint 1:"),
        "{text}"
    );

    // --local needs files; --probe on a cluster needs a cluster (exit 3); --probe with -f
    // needs --local (exit 2).
    assert_eq!(
        run(&["lab", "check", "allow-client-ingress", "--local"])
            .status
            .code(),
        Some(2)
    );
    let out = run(&["lab", "check", "allow-client-ingress", "--probe"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("/nonexistent/kubeconfig"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        run(&[
            "lab",
            "check",
            "allow-client-ingress",
            "--probe",
            "-f",
            good.to_str().unwrap()
        ])
        .status
        .code(),
        Some(2)
    );
    // A broken file is bad input.
    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, "kind: NetworkPolicy\napiVersion: networking.k8s.io/v1\nmetadata: {name: x}\nspec: {podSelector: 3}\n").unwrap();
    assert_eq!(
        run(&[
            "lab",
            "check",
            "allow-client-ingress",
            "-f",
            broken.to_str().unwrap()
        ])
        .status
        .code(),
        Some(2)
    );
}

/// Does the lab's setup or solution hold cluster-scoped policies (Admin / Baseline tiers)?
fn has_cluster_policies(lab: &Lab) -> bool {
    !netpol::lab::check::setup_snapshot(lab)
        .unwrap()
        .cluster_policies
        .is_empty()
        || !answer_of("solution.yaml", &lab.solution)
            .unwrap()
            .cluster_policies
            .is_empty()
}

#[test]
fn cluster_policy_labs_teach_the_tiers() {
    let cat = catalogue();
    let labs: Vec<&str> = cat
        .labs
        .iter()
        .filter(|l| has_cluster_policies(l))
        .map(|l| l.name.as_str())
        .collect();
    assert_eq!(labs, vec!["baseline-default-deny", "admin-guardrail"]);
    // They run on a cluster too: start applies (and reset deletes) their cluster policies.
    for name in labs {
        let lab = cat.find(name).unwrap();
        assert!(!lab.local_only, "{name}");
    }
    // The Baseline decides only what no NetworkPolicy decides: the checker names its rule.
    let lab = cat.find("baseline-default-deny").unwrap();
    let w = lab
        .wrong
        .iter()
        .find(|w| w.mistake == "ingress-only")
        .unwrap();
    let text = netpol::lab::failing_text(&judge(lab, &w.file, &w.manifests));
    assert!(
        text.contains("baseline cnp/baseline-default-deny rule 'deny-all-egress' denies (egress)"),
        "{text}"
    );
    // The learner writes the guardrail: Accept is final, Pass lets the team decide, and the
    // first match by priority decides.
    let lab = cat.find("admin-guardrail").unwrap();
    let text_of = |mistake: &str| {
        let w = lab.wrong.iter().find(|w| w.mistake == mistake).unwrap();
        netpol::lab::failing_text(&judge(lab, &w.file, &w.manifests))
    };
    let accept = text_of("accept-same-tenant");
    assert!(
        accept.contains("admin cnp/tenant-a-isolation rule 'accept-same-tenant' accepts (ingress)"),
        "{accept}"
    );
    let late = text_of("monitoring-after-deny");
    assert!(
        late.contains("admin cnp/tenant-a-isolation rule 'deny-other-tenants' denies (ingress)"),
        "{late}"
    );
    let solution = answer_of("solution.yaml", &lab.solution).unwrap();
    assert_eq!(solution.cluster_policies.len(), 3);
    assert!(solution.policies.is_empty());
}

#[test]
fn every_solution_passes_with_real_packets_in_the_local_sandbox() {
    assert!(
        netpol::probe::local::has_cap_net_admin(),
        "the real-packet lab test needs root (CAP_NET_ADMIN)"
    );
    let dir = tempfile::tempdir().unwrap();
    let mut pids = Vec::new();
    let mut failures = Vec::new();
    let mut run_check =
        |lab: &Lab, file: &std::path::Path| -> (Option<i32>, serde_json::Value, String) {
            let child = Command::new(bin())
                .args([
                    "lab", "check", &lab.name, "--local", "--probe", "-o", "json", "-f",
                ])
                .arg(file)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            pids.push(child.id());
            let out = child.wait_with_output().unwrap();
            let v = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
            (
                out.status.code(),
                v,
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        };
    let cat = catalogue();
    for lab in &cat.labs {
        let file = dir.path().join(format!("{}.yaml", lab.name));
        std::fs::write(&file, &lab.solution).unwrap();
        let (code, v, stderr) = run_check(lab, &file);
        let probe_passed = v["probe"]["passed"] == true;
        let observed_all = v["checks"]
            .as_array()
            .is_some_and(|cs| cs.iter().all(|c| c["observed"] == c["required"]));
        if code != Some(0) || !probe_passed || !observed_all {
            failures.push(format!(
                "{}: exit {code:?}, report {v:#}, stderr {stderr}",
                lab.name
            ));
        }
    }
    // And packets catch a wrong answer: the AND/OR trap really lets grafana in.
    let lab = cat.find("and-not-or").unwrap();
    let w = lab
        .wrong
        .iter()
        .find(|w| w.mistake == "and-or-swapped")
        .unwrap();
    let file = dir.path().join("wrong.yaml");
    std::fs::write(&file, &w.manifests).unwrap();
    let (code, v, stderr) = run_check(lab, &file);
    let grafana = v["checks"]
        .as_array()
        .and_then(|cs| {
            cs.iter()
                .find(|c| c["from"] == "shop-monitoring/grafana")
                .cloned()
        })
        .unwrap_or_default();
    if code != Some(1) || grafana["observed"] != true || v["probe"]["passed"] != false {
        failures.push(format!(
            "and-or-swapped through packets: exit {code:?}, {v:#}, {stderr}"
        ));
    }
    let left = left_by(&pids);
    assert!(left.is_empty(), "network namespaces left behind: {left:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn live_pods_are_bound_by_name_and_by_workload_template_labels() {
    use netpol::lab::check::{bind_live, evaluate, setup_snapshot};
    use netpol::model::{load_str, LoadOptions};
    let cat = catalogue();
    let lab = cat.find("allow-client-ingress").unwrap();
    let setup = setup_snapshot(lab).unwrap();
    // What a cluster returns: the Deployment's pod has a generated name and an extra label; a
    // second app=web pod without the workload's name prefix comes later in the list.
    let live_text = format!(
        "{}\n---\n{}",
        lab.setup.replace("kind: Deployment", "kind: Ignored"),
        r#"apiVersion: v1
kind: Pod
metadata: {name: web-7d9c5-abcde, namespace: netpol-backend, labels: {app: web, pod-template-hash: 7d9c5}}
spec: {containers: [{name: nginx, image: nginx, ports: [{name: http, containerPort: 80}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: zz-debug, namespace: netpol-backend, labels: {app: web}}
spec: {containers: [{name: c, image: busybox}]}
"#
    );
    let (live, _) = load_str("live", &live_text, &LoadOptions::default()).unwrap();
    let mut with_solution = live.clone();
    with_solution
        .policies
        .extend(policies_of("solution.yaml", &lab.solution).unwrap());
    let (snap, b) = bind_live(lab, &setup, with_solution).unwrap();
    assert_eq!(
        snap.pods[b.pods["netpol-backend/web"]].name,
        "web-7d9c5-abcde"
    );
    assert_eq!(
        snap.pods[b.pods["netpol-frontend/client"]].key(),
        "netpol-frontend/client"
    );
    assert_eq!(snap.pods[b.dns].key(), "kube-system/coredns");
    let r = evaluate(lab, &snap, &b, "cluster", &[]).unwrap();
    assert!(r.passed, "{r:#?}");

    // A lab pod that is not running, and a namespace that does not exist: exit 3 material.
    let (no_client, _) = load_str(
        "live",
        &live_text.replace(
            "name: client\n  namespace: netpol-frontend",
            "name: other\n  namespace: netpol-frontend",
        ),
        &LoadOptions::default(),
    )
    .unwrap();
    let e = bind_live(lab, &setup, no_client).unwrap_err();
    assert!(
        matches!(e, netpol::lab::LabError::Cluster(_))
            && e.to_string().contains("netpol-frontend/client"),
        "{e}"
    );
    let (empty, _) = load_str("live", "", &LoadOptions::default()).unwrap();
    let e = bind_live(lab, &setup, empty).unwrap_err();
    assert!(
        e.to_string().contains("lab start allow-client-ingress"),
        "{e}"
    );
}
