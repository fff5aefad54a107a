//! Bad input never panics: every case exits 2 and names the file, the object and the field.

mod common;

use common::cli::{netpol, outcome, run};

fn run_on(manifest: &str, args: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(&path, manifest).unwrap();
    outcome(netpol().args(args).arg("-f").arg(&path))
}

fn policy(spec: &str) -> String {
    format!("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p, namespace: x}}\nspec:\n{spec}")
}

/// (description, manifest, words the error must contain)
fn cases() -> Vec<(&'static str, String, Vec<&'static str>)> {
    vec![
        ("malformed YAML", "kind: [unclosed\n".into(), vec!["bad.yaml", "document 1", "not valid YAML"]),
        ("not an object", "- a\n- b\n".into(), vec!["bad.yaml", "expected a Kubernetes object"]),
        ("missing kind", "apiVersion: v1\nmetadata: {name: a}\n".into(), vec!["missing kind"]),
        ("unknown spec field", policy("  podSelector: {}\n  ingres: []\n"), vec!["NetworkPolicy x/p", "spec.ingres", "unknown field", "ingress"]),
        ("unknown peer field", policy("  podSelector: {}\n  ingress:\n  - from:\n    - podSelecter: {}\n"), vec!["spec.ingress[0].from[0].podSelecter", "unknown field"]),
        ("bad operator", policy("  podSelector:\n    matchExpressions: [{key: app, operator: Equals, values: [a]}]\n"), vec!["spec.podSelector.matchExpressions[0].operator", "In, NotIn, Exists or DoesNotExist"]),
        ("In without values", policy("  podSelector:\n    matchExpressions: [{key: app, operator: In}]\n"), vec!["matchExpressions[0].values", "at least one value"]),
        ("Exists with values", policy("  podSelector:\n    matchExpressions: [{key: app, operator: Exists, values: [a]}]\n"), vec!["takes no values"]),
        ("invalid label key", policy("  podSelector:\n    matchLabels: {\"bad key!\": a}\n"), vec!["spec.podSelector.matchLabels", "invalid label key"]),
        ("unquoted number label", policy("  podSelector:\n    matchLabels: {version: 1}\n"), vec!["matchLabels.version", "must be strings", "\"1\""]),
        ("invalid CIDR", policy("  podSelector: {}\n  egress:\n  - to:\n    - ipBlock: {cidr: 10.0.0.0/33}\n"), vec!["spec.egress[0].to[0].ipBlock.cidr", "invalid CIDR", "10.0.0.0/8"]),
        ("except outside cidr", policy("  podSelector: {}\n  egress:\n  - to:\n    - ipBlock: {cidr: 10.0.0.0/8, except: [192.168.0.0/16]}\n"), vec!["ipBlock.except[0]", "strict subset"]),
        ("ipBlock with selector", policy("  podSelector: {}\n  egress:\n  - to:\n    - ipBlock: {cidr: 10.0.0.0/8}\n      podSelector: {}\n"), vec!["spec.egress[0].to[0]", "cannot be combined"]),
        ("empty peer", policy("  podSelector: {}\n  ingress:\n  - from:\n    - {}\n"), vec!["spec.ingress[0].from[0]", "needs podSelector, namespaceSelector or ipBlock"]),
        ("port out of range", policy("  podSelector: {}\n  ingress:\n  - ports: [{port: 70000}]\n"), vec!["spec.ingress[0].ports[0].port", "1-65535"]),
        ("quoted port number", policy("  podSelector: {}\n  ingress:\n  - ports: [{port: \"80\"}]\n"), vec!["ports[0].port", "must not be quoted"]),
        ("bad named port", policy("  podSelector: {}\n  ingress:\n  - ports: [{port: Http_Port}]\n"), vec!["ports[0].port", "valid port name"]),
        ("endPort below port", policy("  podSelector: {}\n  ingress:\n  - ports: [{port: 9000, endPort: 8000}]\n"), vec!["ports[0].endPort", "must be >= port"]),
        ("endPort with name", policy("  podSelector: {}\n  ingress:\n  - ports: [{port: http, endPort: 8000}]\n"), vec!["ports[0].endPort", "numeric port"]),
        ("bad protocol", policy("  podSelector: {}\n  ingress:\n  - ports: [{protocol: tcp, port: 80}]\n"), vec!["ports[0].protocol", "TCP, UDP or SCTP"]),
        ("bad policyType", policy("  podSelector: {}\n  policyTypes: [ingress]\n"), vec!["spec.policyTypes[0]", "Ingress and/or Egress"]),
        ("missing name", "apiVersion: v1\nkind: Pod\nmetadata: {namespace: x}\nspec: {containers: []}\n".into(), vec!["metadata.name", "missing"]),
        ("pod port out of range", "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\nspec:\n  containers:\n  - name: c\n    ports: [{containerPort: 0}]\n".into(), vec!["Pod x/a", "spec.containers[0].ports[0].containerPort", "1-65535"]),
        ("pod bad IP", "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\nspec: {containers: []}\nstatus: {podIP: 10.0.0.300}\n".into(), vec!["status.podIP", "invalid IP"]),
        ("deployment without template", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: x}\nspec: {replicas: 1}\n".into(), vec!["Deployment x/d", "spec.template"]),
        ("duplicate object", format!("{}\n---\n{}", policy("  podSelector: {}\n"), policy("  podSelector: {}\n")), vec!["NetworkPolicy x/p", "defined twice"]),
        ("wrong apiVersion", "apiVersion: extensions/v1beta1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec: {}\n".into(), vec!["apiVersion", "networking.k8s.io/v1"]),
    ]
}

#[test]
fn every_bad_manifest_exits_2_with_a_precise_message() {
    for (what, manifest, words) in cases() {
        for cmd in [
            &["matrix", "--ports", "tcp/80"][..],
            &["explain", "policy", "x/p"][..],
        ] {
            let (code, _, stderr) = run_on(&manifest, cmd);
            assert_eq!(
                code, 2,
                "{what}: expected exit 2, got {code}; stderr: {stderr}"
            );
            assert!(!stderr.contains("panicked"), "{what}: panicked: {stderr}");
            for w in &words {
                assert!(
                    stderr.contains(w),
                    "{what}: error should mention {w:?}; got: {stderr}"
                );
            }
        }
    }
}

#[test]
fn missing_file_exits_2() {
    let (code, _, err) = run(&["matrix", "-f", "/nonexistent/dir/x.yaml"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("/nonexistent/dir/x.yaml") && err.contains("cannot open"),
        "{err}"
    );
}

#[test]
fn bad_usage_exits_2() {
    let ok =
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\nspec: {containers: []}\n";
    for (args, words) in [
        (&["matrix", "--ports", "tcp/0"][..], "invalid port"),
        (&["matrix", "--ports", "icmp/8"][..], "unknown protocol"),
        (&["explain", "pod", "x/nope"][..], "not found"),
        (
            &["explain", "traffic", "x/a", "x/a", "--port", "tcp/99999"][..],
            "invalid port",
        ),
        (&["matrix", "-o", "junit"][..], "does not offer"),
        (&["matrix", "-l", "a in b"][..], "invalid selector"),
    ] {
        let (code, _, stderr) = run_on(ok, args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(words), "{args:?}: {stderr}");
    }
}

#[test]
fn host_bits_in_cidr_are_accepted() {
    let m = policy("  podSelector: {}\n  egress:\n  - to:\n    - ipBlock: {cidr: 10.0.1.1/4}\n");
    let (code, stdout, stderr) = run_on(&m, &["explain", "policy", "x/p"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("0.0.0.0/4") && stdout.contains("written 10.0.1.1/4"),
        "{stdout}"
    );
}

#[test]
fn deep_nesting_is_refused_quickly() {
    // 200 KB of `[`: the YAML parser alone spent ~30 s building the nesting before refusing it.
    let bomb = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: deep}}\ndata: {}\n",
        "[".repeat(200_000)
    );
    let started = std::time::Instant::now();
    let (code, _, stderr) = run_on(&bomb, &["matrix", "--ports", "tcp/80"]);
    let took = started.elapsed();
    assert_eq!(code, 2, "{stderr}");
    for w in [
        "bad.yaml",
        "document 1",
        "line 4",
        "nested more than 64 levels",
    ] {
        assert!(stderr.contains(w), "error should mention {w:?}: {stderr}");
    }
    // A guard against a 30x regression, not a speed target (that is well under a second).
    assert!(took.as_secs() < 5, "took {took:?}");
}
