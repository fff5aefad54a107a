//! Real packets: `probe --local --apply/--delete` measures the enforcer agent's own update path
//! (`netpol-enforcer feed` in the sandbox's node namespace). A change that closes traffic (a
//! default deny: every pair flips, established flows survive unless the agent runs with
//! --terminate-established), a change that opens it (--delete of that deny), --require-cut,
//! and a Ctrl-C in the middle (nothing left behind). Needs root, iptables, ipset, conntrack and
//! the netpol-enforcer binary next to kubectl-netpol (`cargo test --workspace` builds it).

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::cli::bin;
use netpol::probe::apply::{ApplyReport, Established};

fn require_root() -> std::sync::MutexGuard<'static, ()> {
    let guard = common::netns::require_root("the real-packet tests");
    let enforcer = bin().parent().map(|d| d.join("netpol-enforcer"));
    assert!(
        enforcer.as_ref().is_some_and(|e| e.is_file()),
        "{:?} is missing: run `cargo test --workspace` (or `cargo build -p netpol-enforcer`) so the sandbox can run the enforcer agent",
        enforcer
    );
    guard
}

/// The network namespaces a run of process `pid` made and left.
fn left_by(pid: u32) -> Vec<String> {
    common::netns::left_by(&[pid])
}

const PODS: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {containers: [{name: c, image: i}]}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop, labels: {app: api}}
spec: {containers: [{name: c, image: i}]}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: shop, labels: {app: db}}
spec: {containers: [{name: c, image: i}]}
"#;

const DENY: &str = r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: shop}
spec: {podSelector: {}, policyTypes: [Ingress]}
"#;

/// Runs the binary; returns (exit code, report, stderr), after checking it left no namespace.
fn run(manifests: &str, extra: &[&str], apply: Option<&str>) -> (i32, Option<ApplyReport>, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cluster.yaml");
    std::fs::write(&path, manifests).unwrap();
    let mut cmd = Command::new(bin());
    cmd.args([
        "probe",
        "--local",
        "-o",
        "json",
        "--ports",
        "tcp/5432,udp/9000",
        "--timeout",
        "300ms",
        "--settle",
        "20s",
        "-f",
    ])
    .arg(&path)
    .args(extra);
    if let Some(policy) = apply {
        let change = dir.path().join("change.yaml");
        std::fs::write(&change, policy).unwrap();
        cmd.arg("--apply").arg(&change);
    }
    let child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    assert!(left_by(pid).is_empty(), "left: {:?}", left_by(pid));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = serde_json::from_slice::<ApplyReport>(&out.stdout)
        .map_err(|e| {
            eprintln!(
                "unreadable report: {e}\n{}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
        .ok();
    (out.status.code().unwrap_or(-1), report, stderr)
}

fn established(r: &ApplyReport, e: Established) -> usize {
    r.timing
        .pairs
        .iter()
        .filter(|p| p.established == Some(e))
        .count()
}

#[test]
fn a_deny_is_enforced_for_new_connections_and_established_flows_survive() {
    let _serial = require_root();
    let (code, r, err) = run(PODS, &[], Some(DENY));
    let r = r.unwrap_or_else(|| panic!("no report (exit {code}): {err}"));
    // 3 pods: 6 ordered pairs, 2 probes.
    let s = &r.timing.summary;
    assert_eq!(s.flipped, 12, "{:#?}", r.timing);
    assert_eq!(s.converged, 12, "{:#?}", r.timing);
    assert!(r
        .timing
        .pairs
        .iter()
        .all(|p| p.allowed_before && !p.allowed_after));
    assert!(r
        .timing
        .pairs
        .iter()
        .all(|p| p.observed_before == Some(true)));
    let p95 = s.p95_s.expect("p95");
    assert!(p95 < 2.0, "p95 {p95} s");
    // The agent's own figure: the change in the kernel within its debounce and an apply.
    let l = s
        .enforcer_sync_latency_ms
        .expect("the agent's sync latency");
    assert!(l > 0.0 && l < 2000.0, "{l} ms");
    // Established/related is accepted first: every flow opened before the deny still flows.
    assert_eq!(
        established(&r, Established::Survived),
        12,
        "{:#?}",
        r.timing
    );
    assert_eq!(code, 0, "{err}");
    // The state after the change agrees with the engine everywhere; then it was put back.
    let summary = r.probe.matrix.summary.clone().unwrap();
    assert_eq!(summary.disagree, 0);
    assert!(r.restored, "{:?}", r.notes);
    assert!(
        r.probe.verdict.starts_with("enforced in "),
        "{}",
        r.probe.verdict
    );
    assert!(
        r.probe.verdict.contains("12 established flows survived"),
        "{}",
        r.probe.verdict
    );

    // --require-cut makes the survivors a failure.
    let (code, r, err) = run(PODS, &["--require-cut"], Some(DENY));
    let r = r.unwrap_or_else(|| panic!("no report (exit {code}): {err}"));
    assert_eq!(established(&r, Established::Survived), 12);
    assert_eq!(code, 1, "{err}");
}

#[test]
fn terminate_established_cuts_exactly_the_denied_flows() {
    let _serial = require_root();
    // Only db is isolated, and api may still reach it on TCP 5432: the flow api -> db tcp/5432
    // must survive, every other flow into db must be cut.
    let allow_api = r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {app: api}}}], ports: [{port: 5432}]}]
"#;
    let (code, r, err) = run(
        PODS,
        &["--terminate-established", "--require-cut"],
        Some(allow_api),
    );
    let r = r.unwrap_or_else(|| panic!("no report (exit {code}): {err}"));
    // Into db: from web (tcp, udp) and from api (udp) flip; api -> db tcp/5432 does not.
    assert_eq!(r.timing.summary.flipped, 3, "{:#?}", r.timing);
    assert_eq!(established(&r, Established::Cut), 3, "{:#?}", r.timing);
    assert_eq!(established(&r, Established::Survived), 0);
    assert_eq!(r.unflipped.len(), 1, "{:?}", r.unflipped);
    assert_eq!(r.unflipped[0].from, "shop/api");
    assert_eq!(code, 0, "{err}");
    assert!(r.restored);
}

#[test]
fn deleting_a_deny_opens_traffic() {
    let _serial = require_root();
    let manifests = format!("{PODS}---{DENY}");
    let (code, r, err) = run(
        &manifests,
        &["--delete", "networkpolicy/shop/deny-all"],
        None,
    );
    let r = r.unwrap_or_else(|| panic!("no report (exit {code}): {err}"));
    let s = &r.timing.summary;
    assert_eq!(s.flipped, 12);
    assert_eq!(s.converged, 12, "{:#?}", r.timing);
    assert!(r
        .timing
        .pairs
        .iter()
        .all(|p| !p.allowed_before && p.allowed_after && p.observed_before == Some(false)));
    // Nothing was open before: no established flows to speak of.
    assert!(r.timing.pairs.iter().all(|p| p.established.is_none()));
    assert_eq!(r.change.deleted, ["shop/deny-all"]);
    assert!(r.restored);
    assert_eq!(code, 0, "{err}");

    // A policy that is not there is bad input.
    let (code, _, err) = run(&manifests, &["--delete", "networkpolicy/shop/nope"], None);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("shop/nope"), "{err}");
}

/// The direct children of a process.
fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for t in tasks.flatten() {
            if let Ok(c) = std::fs::read_to_string(t.path().join("children")) {
                out.extend(c.split_whitespace().filter_map(|p| p.parse::<u32>().ok()));
            }
        }
    }
    out
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            // State is the field after the parenthesised name; Z is dead, only not reaped.
            s.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .is_some_and(|st| st != "Z" && st != "X")
        })
        .unwrap_or(false)
}

fn cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

#[test]
fn ctrl_c_in_the_middle_leaves_nothing() {
    let _serial = require_root();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cluster.yaml");
    std::fs::write(&path, PODS).unwrap();
    let change = dir.path().join("change.yaml");
    std::fs::write(&change, DENY).unwrap();
    let child = Command::new(bin())
        .args([
            "probe", "--local", "--ports", "tcp/5432", "--settle", "20s", "-f",
        ])
        .arg(&path)
        .arg("--apply")
        .arg(&change)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the agent and the streaming probers run, then interrupt.
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen: Vec<u32> = Vec::new();
    loop {
        for c in children(pid) {
            if !seen.contains(&c) {
                seen.push(c);
            }
        }
        let running: Vec<String> = seen
            .iter()
            .filter(|p| alive(**p))
            .map(|p| cmdline(*p))
            .collect();
        if running.iter().any(|c| c.contains(" feed "))
            && running.iter().any(|c| c.contains("prober stream"))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the run never got to the change: {running:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    // Every process it started is gone, and every namespace.
    let deadline = Instant::now() + Duration::from_secs(10);
    while seen.iter().any(|p| alive(*p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let left: Vec<String> = seen
        .iter()
        .filter(|p| alive(**p))
        .map(|p| cmdline(*p))
        .collect();
    assert!(left.is_empty(), "still running: {left:?}");
    assert!(left_by(pid).is_empty(), "left: {:?}", left_by(pid));
}

/// Baseline (v1alpha1): shop's pods take ingress from web and from nobody else. NetworkPolicies
/// would override it; there are none, so it decides.
const BASELINE_FROM_WEB: &str = r#"
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: shop}}}
  ingress:
  - {name: allow-web, action: Allow, from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}}]}
  - {name: deny-rest, action: Deny, from: [{namespaces: {}}]}
"#;

/// Admin (v1alpha1): nothing from web into db, whatever the tiers below say.
const ADMIN_DENY_WEB_TO_DB: &str = r#"
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: db-guard}
spec:
  priority: 5
  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: db}}}}
  ingress:
  - {name: deny-web, action: Deny, from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}}]}
"#;

#[test]
fn an_admin_deny_overrides_a_baseline_allow_and_cuts_its_flows() {
    let _serial = require_root();
    let manifests = format!("{PODS}---{BASELINE_FROM_WEB}");
    let (code, r, err) = run(
        &manifests,
        &["--terminate-established", "--require-cut"],
        Some(ADMIN_DENY_WEB_TO_DB),
    );
    let r = r.unwrap_or_else(|| panic!("no report (exit {code}): {err}"));
    assert_eq!(r.change.applied, ["anp/db-guard"]);
    // web -> db on both probes: allowed by the baseline before, denied by the admin tier after.
    let s = &r.timing.summary;
    assert_eq!(s.flipped, 2, "{:#?}", r.timing);
    assert_eq!(s.converged, 2, "{:#?}", r.timing);
    for p in &r.timing.pairs {
        assert_eq!((p.from.as_str(), p.to.as_str()), ("shop/web", "shop/db"));
        assert!(p.allowed_before && !p.allowed_after, "{p:?}");
        // The baseline was in the agent's rules before the change: the flow really connected.
        assert_eq!(p.observed_before, Some(true), "{p:?}");
        assert!(p.time_to_enforce_s.is_some_and(|t| t < 2.0), "{p:?}");
    }
    // The flows the baseline allowed were open; the agent cut them.
    assert_eq!(established(&r, Established::Cut), 2, "{:#?}", r.timing);
    // api -> db: the admin policy selects db but its rule does not match api; the baseline
    // denied it before and still does.
    assert!(
        r.unflipped.iter().any(|u| u.from == "shop/api"
            && u.to == "shop/db"
            && !u.allowed
            && u.reason.contains("anp/db-guard")),
        "{:?}",
        r.unflipped
    );
    // After the change every pair agrees with the engine (baseline still decides the rest).
    let summary = r.probe.matrix.summary.clone().unwrap();
    assert_eq!(summary.disagree, 0, "{:?}", r.probe.verdict);
    assert!(r.restored, "{:?}", r.notes);
    assert_eq!(code, 0, "{err}");
}

/// v1alpha2: a Baseline ClusterNetworkPolicy allows web -> db, an Admin one denies it; deleting
/// the Admin one gives the Baseline Accept back.
#[test]
fn deleting_an_admin_cluster_policy_gives_the_baseline_back() {
    let _serial = require_root();
    let manifests = format!(
        "{PODS}{}",
        r#"---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: shop-baseline}
spec:
  tier: Baseline
  priority: 10
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: shop}}}
  ingress:
  - {name: accept-web, action: Accept, from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}}]}
  - {name: deny-rest, action: Deny, from: [{namespaces: {}}]}
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: db-guard}
spec:
  tier: Admin
  priority: 5
  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: db}}}}
  ingress:
  - {name: deny-web, action: Deny, from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}}], protocols: [{tcp: {destinationPort: {number: 5432}}}]}
"#
    );
    let (code, r, err) = run(&manifests, &["--delete", "cnp/db-guard"], None);
    let r = r.unwrap_or_else(|| panic!("no report (exit {code}): {err}"));
    assert_eq!(r.change.deleted, ["cnp/db-guard"]);
    // Only web -> db tcp/5432 was denied by the admin rule (udp/9000 was never matched by it).
    let s = &r.timing.summary;
    assert_eq!(s.flipped, 1, "{:#?}", r.timing);
    assert_eq!(s.converged, 1, "{:#?}", r.timing);
    let p = &r.timing.pairs[0];
    assert_eq!(
        (p.from.as_str(), p.to.as_str(), p.port),
        ("shop/web", "shop/db", 5432)
    );
    assert!(!p.allowed_before && p.allowed_after && p.observed_before == Some(false));
    assert_eq!(r.probe.matrix.summary.clone().unwrap().disagree, 0);
    assert!(r.restored, "{:?}", r.notes);
    assert_eq!(code, 0, "{err}");

    // A cluster policy that is not in the manifests is bad input, named.
    let (code, _, err) = run(&manifests, &["--delete", "anp/nope"], None);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("anp/nope"), "{err}");
    // So is an applied one the CRD would refuse: file, object and field.
    let (code, _, err) = run(
        PODS,
        &[],
        Some(&ADMIN_DENY_WEB_TO_DB.replace("priority: 5", "priority: 1001")),
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("change.yaml")
            && err.contains("AdminNetworkPolicy db-guard")
            && err.contains("spec.priority"),
        "{err}"
    );
}
