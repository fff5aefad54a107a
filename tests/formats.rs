//! The output formats: mermaid (checked with mermaid's own parser, and showing the seed's
//! trust-model flows for the payments example), dot, markdown, junit (checked with an XML
//! parser) and SARIF (checked against the SARIF 2.1.0 schema).
//!
//! The reference parsers are npm packages in tests/node (`npm ci --prefix tests/node`; the
//! check script installs them on first use).

mod common;

use std::process::Command;

use common::cli::{root, run};
use netpol::probe::ProbeReport;
use serde_json::Value;

/// Runs tests/node/check.sh KIND on the text; returns what the reference parser saw.
fn reference_check(kind: &str, text: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("out.{kind}"));
    std::fs::write(&file, text).unwrap();
    let out = Command::new("sh")
        .arg(root().join("tests/node/check.sh"))
        .arg(kind)
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run tests/node/check.sh (needs node and npm): {e}"));
    assert!(
        out.status.success(),
        "the reference {kind} parser rejected the output:\n{}\n--- output ---\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "check.sh printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn probe_report() -> ProbeReport {
    let conn = |from: &str, to: &str, allowed: bool, observed: Option<bool>, verdict: &str| {
        serde_json::json!({
            "from": from, "to": to, "protocol": "TCP", "port": 80, "allowed": allowed,
            "observed": observed, "verdict": verdict,
            "agree": observed.map(|o| o == allowed),
        })
    };
    serde_json::from_value(serde_json::json!({
        "pods": ["x/a", "x/b"],
        "probes": [{"protocol": "TCP", "port": 80}],
        "connections": [
            conn("x/a", "x/a", true, Some(true), "connected"),
            conn("x/a", "x/b", false, Some(true), "connected"),
            conn("x/b", "x/a", true, Some(false), "timeout"),
            conn("x/b", "x/b", true, None, "error"),
        ],
        "summary": {"agree": 1, "disagree": 2, "errors": 1},
        "dns": [{"from": "x/a", "server": "kube-system/coredns", "name": "kubernetes.default",
                 "allowed": true, "observed": true, "verdict": "resolved", "agree": true}],
        "verdict": "policies are NOT enforced: <x/a> & \"friends\" -- see install-enforcer",
    }))
    .unwrap()
}

/// One test, so the parsers are installed once and never concurrently.
#[test]
fn reference_parsers_accept_the_outputs() {
    // Mermaid: the payments example, i.e. the seed's trust model.
    let (code, mermaid, err) = run(&[
        "matrix",
        "-f",
        "manifests/examples/payments",
        "-o",
        "mermaid",
    ]);
    assert_eq!(code, 0, "{err}");
    let seen = reference_check("mermaid", &mermaid);
    assert_eq!(seen["type"], "flowchart-v2");
    let subgraph = |title: &str| -> Vec<String> {
        seen["subgraphs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["title"] == title)
            .unwrap_or_else(|| panic!("no subgraph {title}: {seen}"))["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(subgraph("payments namespace"), vec!["api", "db"]);
    assert_eq!(subgraph("monitoring namespace"), vec!["prometheus"]);
    assert_eq!(subgraph("frontend namespace"), vec!["web"]);
    let edge = |from: &str, to: &str| -> Option<(String, String)> {
        seen["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["from"] == from && e["to"] == to)
            .map(|e| {
                (
                    e["text"].as_str().unwrap_or("").to_string(),
                    e["stroke"].as_str().unwrap_or("").to_string(),
                )
            })
    };
    // The seed's diagram: WEB -->|8080| API, PROM -->|9090| API, API -->|5432| DB, WEB -.blocked.-> DB.
    assert_eq!(
        edge("web", "api"),
        Some(("tcp/8080".into(), "normal".into()))
    );
    assert_eq!(
        edge("prometheus", "api"),
        Some(("tcp/9090".into(), "normal".into()))
    );
    assert_eq!(
        edge("api", "db"),
        Some(("tcp/5432".into(), "normal".into()))
    );
    assert_eq!(edge("web", "db"), Some(("blocked".into(), "dotted".into())));
    // And nothing the policies forbid is drawn as allowed.
    assert_eq!(edge("db", "api"), None);
    assert_eq!(edge("api", "web"), None);

    // SARIF: lint findings against the SARIF 2.1.0 schema.
    let (code, sarif, _) = run(&[
        "lint",
        "-f",
        "tests/lint/seeds/004-allow-cluster-internal-only.yaml",
        "-f",
        "tests/lint/seeds/004-and-vs-or.yaml",
        "--severity",
        "info",
        "-o",
        "sarif",
    ]);
    assert_eq!(code, 1);
    let seen = reference_check("sarif", &sarif);
    assert_eq!(seen["version"], "2.1.0");
    assert_eq!(seen["results"][0], 3);
    // A clean run is valid SARIF too.
    let (code, sarif, _) = run(&[
        "lint",
        "-f",
        "tests/lint/seeds/001-allow-frontend-db.yaml",
        "-o",
        "sarif",
    ]);
    assert_eq!(code, 0);
    assert_eq!(reference_check("sarif", &sarif)["results"][0], 0);

    // JUnit: well-formed XML, one test case per connection and DNS check.
    let junit = netpol::report::junit::junit(&probe_report());
    let seen = reference_check("xml", &junit);
    assert_eq!(seen["root"], "testsuites");
    assert_eq!(seen["testcases"], 5);
    assert_eq!(seen["failures"], 2);
}

#[test]
fn junit_has_a_failure_per_disagreement() {
    let x = netpol::report::junit::junit(&probe_report());
    assert!(x.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"kubectl-netpol probe\" tests=\"5\" failures=\"2\" errors=\"1\">"), "{x}");
    assert!(
        x.contains(
            "<testsuite name=\"tcp/80\" tests=\"4\" disabled=\"0\" errors=\"1\" failures=\"2\" skipped=\"0\">"
        ),
        "{x}"
    );
    assert!(x.contains("<testcase name=\"x/a -&gt; x/b tcp/80 expected denied\" classname=\"x/a\">\n            <failure message=\"expected denied, observed connected\" type=\"disagreement\">"), "{x}");
    assert!(
        x.contains("the policies allow this connection but the packet was dropped (timeout)"),
        "{x}"
    );
    assert!(
        x.contains("<error message=\"could not probe: error\" type=\"probe-error\"/>"),
        "{x}"
    );
    assert!(x.contains("<testsuite name=\"dns\" tests=\"1\""), "{x}");
    assert!(
        x.ends_with(
            "</testsuites>\n<!-- policies are NOT enforced: <x/a> & \"friends\" - - see install-enforcer -->\n"
        ),
        "{x}"
    );
}

#[test]
fn junit_counts_skipped_cases_and_drops_control_characters() {
    let mut report = serde_json::to_value(probe_report()).unwrap();
    report["connections"][0]["protocol"] = "SCTP".into();
    report["connections"][0]["observed"] = Value::Null;
    report["connections"][0]["agree"] = Value::Null;
    report["connections"][0]["verdict"] = "unsupported".into();
    report["probes"] =
        serde_json::json!([{"protocol": "TCP", "port": 80}, {"protocol": "SCTP", "port": 80}]);
    report["dns"][0]["name"] = "bell\u{7}.example".into();
    let x = netpol::report::junit::junit(&serde_json::from_value(report).unwrap());
    assert!(
        x.contains("<testsuite name=\"sctp/80\" tests=\"1\" disabled=\"1\" errors=\"0\" failures=\"0\" skipped=\"1\">"),
        "{x}"
    );
    assert!(
        x.contains("<skipped message=\"SCTP is not supported here\"/>"),
        "{x}"
    );
    assert!(x.contains("resolves bell.example via"), "{x}");
}

#[test]
fn probe_markdown_marks_disagreements() {
    let md = netpol::report::markdown::probe(&probe_report());
    assert!(md.contains("| from ↓ to → | `x/a` | `x/b` |"), "{md}");
    assert!(md.contains("| `x/a` | ✅ | ⚠️ |"), "{md}");
    assert!(md.contains("| `x/b` | ⛔ | ➖ |"), "{md}");
    assert!(md.contains("#### Disagreements"), "{md}");
    assert!(
        md.contains("| `x/a` | `x/b` | tcp/80 | denied | connected |"),
        "{md}"
    );
}

#[test]
fn matrix_markdown_is_a_table_per_probe() {
    let (code, md, err) = run(&[
        "matrix",
        "-f",
        "manifests/examples/payments",
        "--ports",
        "tcp/8080,tcp/5432",
        "-o",
        "markdown",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(md.contains("#### TCP 8080"), "{md}");
    assert!(md.contains("#### TCP 5432"), "{md}");
    let header = "| from ↓ to → | `frontend/web` | `kube-system/coredns` | `monitoring/prometheus` | `payments/api` | `payments/db` |";
    assert!(md.contains(header), "{md}");
    // web -> api on 8080 allowed; web -> db on 5432 denied.
    let row_8080 = md
        .split("#### TCP 8080")
        .nth(1)
        .unwrap()
        .lines()
        .find(|l| l.starts_with("| `frontend/web`"))
        .unwrap();
    assert_eq!(row_8080, "| `frontend/web` | ✅ | ✅ | ✅ | ✅ | ❌ |");
    let row_5432 = md
        .split("#### TCP 5432")
        .nth(1)
        .unwrap()
        .lines()
        .find(|l| l.starts_with("| `payments/api`"))
        .unwrap();
    assert_eq!(row_5432, "| `payments/api` | ❌ | ❌ | ❌ | ✅ | ✅ |");
}

#[test]
fn dot_draws_the_same_graph() {
    let (code, dot, err) = run(&["matrix", "-f", "manifests/examples/payments", "-o", "dot"]);
    assert_eq!(code, 0, "{err}");
    assert!(dot.contains("digraph netpol {") && dot.trim_end().ends_with('}'));
    assert_eq!(dot.matches("subgraph cluster_").count(), 4);
    assert_eq!(dot.matches('{').count(), dot.matches('}').count());
    let id = |name: &str| -> String {
        let line = dot
            .lines()
            .find(|l| l.contains(&format!("[label=\"{name}\"")))
            .unwrap();
        line.trim().split(' ').next().unwrap().to_string()
    };
    let (web, api, db, prom) = (id("web"), id("api"), id("db"), id("prometheus"));
    assert!(
        dot.contains(&format!("{web} -> {api} [label=\"tcp/8080\"")),
        "{dot}"
    );
    assert!(
        dot.contains(&format!("{prom} -> {api} [label=\"tcp/9090\"")),
        "{dot}"
    );
    assert!(
        dot.contains(&format!("{api} -> {db} [label=\"tcp/5432\"")),
        "{dot}"
    );
    assert!(
        dot.contains(&format!("{web} -> {db} [label=\"blocked\", style=dashed")),
        "{dot}"
    );
}

#[test]
fn graphs_collapse_replicas_and_skip_open_pairs() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("m.yaml");
    let pod = |name: &str, app: &str| {
        format!("---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: shop, labels: {{app: {app}}}}}\nspec: {{containers: [{{name: c, image: x, ports: [{{containerPort: 80}}]}}]}}\n")
    };
    let text = [pod("web-7d4-a", "web"), pod("web-7d4-b", "web"), pod("web-7d4-c", "web"), pod("cart", "cart"), pod("free", "free")].concat()
        + "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: cart, namespace: shop}\nspec:\n  podSelector: {matchLabels: {app: cart}}\n  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: 80}]}]\n";
    std::fs::write(&f, text).unwrap();
    let (code, m, err) = run(&["matrix", "-f", f.to_str().unwrap(), "-o", "mermaid"]);
    assert_eq!(code, 0, "{err}");
    assert!(m.contains("[\"web-7d4-* (3 pods)\"]"), "{m}");
    // web -> cart is governed (cart is isolated) and allowed; free's pairs are all open.
    assert_eq!(m.matches("-->").count(), 1, "{m}");
    assert!(m.contains("|\"tcp/80\"|"), "{m}");
    assert!(!m.contains(".->"), "{m}");
}
