//! `diff`: a single changed selector, port or except shows exactly the connections it opens
//! and closes, grouped; pods on one side only are named and not compared; the CLI's formats
//! and --exit-code.

mod common;

use std::path::PathBuf;

use common::cli::{self, root};
use netpol::diff::{diff, Change, Diff, Side};
use netpol::model::{load_str, Probe, Snapshot};

/// The upstream e2e cluster: namespaces x, y, z with pods a, b, c (IPs 10.244.{1,2,3}.{10,11,12}).
fn base() -> String {
    std::fs::read_to_string(root().join("tests/cases/base/upstream.yaml")).unwrap()
}

fn snapshot(policies: &str) -> Snapshot {
    load_str(
        "m.yaml",
        &format!("{}\n---\n{policies}", base()),
        &Default::default(),
    )
    .unwrap()
    .0
}

fn run(old: &str, new: &str, probes: &str) -> Diff {
    let (o, n) = (snapshot(old), snapshot(new));
    let all = |s: &Snapshot| (0..s.pods.len()).collect::<Vec<_>>();
    let (op, np) = (all(&o), all(&n));
    diff(
        &Side {
            name: "old",
            snap: &o,
            pods: &op,
        },
        &Side {
            name: "new",
            snap: &n,
            pods: &np,
        },
        &Probe::parse_list(probes).unwrap(),
    )
}

/// "x/b -> x/a tcp/80" for each changed connection.
fn lines(d: &Diff, change: Change) -> Vec<String> {
    let list = match change {
        Change::Allowed => &d.allowed,
        Change::Denied => &d.denied,
    };
    list.iter()
        .map(|c| {
            format!(
                "{} -> {} {}/{}",
                c.from,
                c.to,
                c.protocol.to_lowercase(),
                c.port
            )
        })
        .collect()
}

fn policy(spec: &str) -> String {
    format!("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p, namespace: x}}\nspec:\n{spec}")
}

#[test]
fn a_changed_pod_selector() {
    let old = policy("  podSelector: {matchLabels: {pod: a}}\n  policyTypes: [Ingress]\n  ingress:\n  - from: [{podSelector: {matchLabels: {pod: b}}}]\n");
    let new = policy("  podSelector: {matchLabels: {pod: a}}\n  policyTypes: [Ingress]\n  ingress:\n  - from: [{podSelector: {matchLabels: {pod: c}}}]\n");
    let d = run(&old, &new, "tcp/80");
    assert_eq!(lines(&d, Change::Allowed), vec!["x/c -> x/a tcp/80"]);
    assert_eq!(lines(&d, Change::Denied), vec!["x/b -> x/a tcp/80"]);
    assert_eq!(d.policies.changed, vec!["x/p"]);
    assert_eq!(d.groups.len(), 2);
}

#[test]
fn a_changed_port() {
    let old = policy("  podSelector: {matchLabels: {pod: a}}\n  policyTypes: [Ingress]\n  ingress:\n  - ports: [{port: 80}]\n");
    let new = policy("  podSelector: {matchLabels: {pod: a}}\n  policyTypes: [Ingress]\n  ingress:\n  - ports: [{port: 81}]\n");
    let d = run(&old, &new, "tcp/80,tcp/81");
    let others = ["x/b", "x/c", "y/a", "y/b", "y/c", "z/a", "z/b", "z/c"];
    let want = |port: u16| -> Vec<String> {
        others
            .iter()
            .map(|p| format!("{p} -> x/a tcp/{port}"))
            .collect()
    };
    assert_eq!(lines(&d, Change::Allowed), want(81));
    assert_eq!(lines(&d, Change::Denied), want(80));
    // One group each way: the eight other pods -> x/a.
    assert_eq!(d.groups.len(), 2, "{:#?}", d.groups);
    for g in &d.groups {
        assert_eq!(g.from, others.map(String::from).to_vec());
        assert_eq!(g.to, vec!["x/a"]);
        assert_eq!(g.connections, 8);
        assert_eq!(
            g.probes,
            vec![if g.change == Change::Allowed {
                "tcp/81"
            } else {
                "tcp/80"
            }]
        );
    }
}

#[test]
fn a_changed_except() {
    let spec = |except: &str| {
        policy(&format!("  podSelector: {{matchLabels: {{pod: a}}}}\n  policyTypes: [Egress]\n  egress:\n  - to: [{{ipBlock: {{cidr: 10.244.0.0/16, except: [{except}]}}}}]\n"))
    };
    let d = run(&spec("10.244.2.0/24"), &spec("10.244.3.0/24"), "tcp/80");
    assert_eq!(
        lines(&d, Change::Allowed),
        vec![
            "x/a -> y/a tcp/80",
            "x/a -> y/b tcp/80",
            "x/a -> y/c tcp/80"
        ]
    );
    assert_eq!(
        lines(&d, Change::Denied),
        vec![
            "x/a -> z/a tcp/80",
            "x/a -> z/b tcp/80",
            "x/a -> z/c tcp/80"
        ]
    );
    assert_eq!(d.groups.len(), 2);
    assert_eq!(d.groups[0].to, vec!["y/a", "y/b", "y/c"]);
}

#[test]
fn no_change_is_empty() {
    let p = policy("  podSelector: {}\n  policyTypes: [Ingress]\n");
    let d = run(&p, &p, "tcp/80,udp/81");
    assert!(d.is_empty() && d.groups.is_empty() && d.policies.changed.is_empty());
}

#[test]
fn a_default_deny_groups_into_one_rectangle() {
    let d = run(
        "",
        &policy("  podSelector: {}\n  policyTypes: [Ingress]\n"),
        "tcp/80",
    );
    // Every pod outside x loses x/a, x/b, x/c, and the x pods lose each other.
    assert_eq!(d.denied.len(), 6 * 3 + 6);
    assert!(d.allowed.is_empty());
    assert!(d.groups.len() <= 2, "{:#?}", d.groups);
    assert_eq!(d.groups.iter().map(|g| g.connections).sum::<usize>(), 24);
    assert_eq!(d.policies.added, vec!["x/p"]);
}

#[test]
fn pods_on_one_side_are_named_not_compared() {
    let (o, _) = load_str("old.yaml", &base(), &Default::default()).unwrap();
    let trimmed: String = base()
        .split("\n---\n")
        .filter(|doc| !(doc.contains("name: c\n") && doc.contains("namespace: z")))
        .collect::<Vec<_>>()
        .join("\n---\n");
    let (n, _) = load_str(
        "new.yaml",
        &(trimmed + "\n---\n" + &policy("  podSelector: {}\n  policyTypes: [Ingress]\n")),
        &Default::default(),
    )
    .unwrap();
    let (op, np): (Vec<usize>, Vec<usize>) =
        ((0..o.pods.len()).collect(), (0..n.pods.len()).collect());
    let d = diff(
        &Side {
            name: "old",
            snap: &o,
            pods: &op,
        },
        &Side {
            name: "new",
            snap: &n,
            pods: &np,
        },
        &[Probe::parse("tcp/80").unwrap()],
    );
    assert_eq!(d.pods.only_old, vec!["z/c"]);
    assert!(d.pods.only_new.is_empty());
    assert_eq!(d.pods.common, 8);
    assert!(d.denied.iter().all(|c| c.from != "z/c" && c.to != "z/c"));
    assert_eq!(d.denied.len(), 5 * 3 + 6);
}

// ---- The command line ----

/// The payments example before and after one edit of policies.yaml.
fn payments_change(from: &str, to: &str) -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let src = root().join("manifests/examples/payments");
    let (old, new) = (dir.path().join("old"), dir.path().join("new"));
    for d in [&old, &new] {
        std::fs::create_dir(d).unwrap();
        std::fs::copy(src.join("cluster.yaml"), d.join("cluster.yaml")).unwrap();
    }
    let policies = std::fs::read_to_string(src.join("policies.yaml")).unwrap();
    assert!(policies.contains(from));
    std::fs::write(old.join("policies.yaml"), &policies).unwrap();
    std::fs::write(new.join("policies.yaml"), policies.replace(from, to)).unwrap();
    let s = |p: PathBuf| p.display().to_string();
    (dir, s(old), s(new))
}

#[test]
fn cli_formats_and_exit_code() {
    // Opening the API to every pod of frontend, not only web.
    let (_dir, old, new) = payments_change(
        "        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: frontend}}\n          podSelector: {matchLabels: {app: web}}\n",
        "        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: frontend}}\n        - podSelector: {matchLabels: {app: web}}\n",
    );
    let (code, out, err) = cli::run(&["diff", &old, &new, "--ports", "tcp/8080", "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["policies"]["changed"][0], "payments/allow-web-to-api");
    // The web pod could already; the new frontend-wide peer adds nobody here (web is the only
    // frontend pod), and podSelector app=web in payments matches nobody: no change.
    assert_eq!(doc["allowed"].as_array().unwrap().len(), 0, "{out}");
    let (code, _, _) = cli::run(&["diff", &old, &new, "--exit-code"]);
    assert_eq!(code, 0);

    // Dropping the namespace half: any pod app=web... in payments only; web (frontend) loses 8080.
    let (_dir, old, new) = payments_change(
        "        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: frontend}}\n          podSelector: {matchLabels: {app: web}}\n",
        "        - podSelector: {matchLabels: {app: web}}\n",
    );
    let (code, out, err) = cli::run(&["diff", &old, &new, "--exit-code"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("0 connections become allowed, 1 becomes denied"),
        "{out}"
    );
    assert!(
        out.contains("frontend/web") && out.contains("payments/api") && out.contains("tcp/8080"),
        "{out}"
    );
    let (code, md, _) = cli::run(&["-f", &old, "-f", &new, "diff", "-o", "markdown"]);
    assert_eq!(code, 0);
    assert!(
        md.contains("| ❌ now denied | frontend/web | payments/api | tcp/8080 | 1 |"),
        "{md}"
    );
    assert!(
        md.contains("policies: changed payments/allow-web-to-api"),
        "{md}"
    );

    let (code, _, err) = cli::run(&["diff", &old]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("exactly two sides"), "{err}");
    let (code, _, err) = cli::run(&["diff", &old, "no/such/dir"]);
    assert_eq!(code, 2, "{err}");
}
