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

fn cnp(spec: &str) -> String {
    format!("apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {{name: c}}\nspec:\n{spec}")
}

fn anp(spec: &str) -> String {
    format!("apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {{name: a}}\nspec:\n{spec}")
}

/// A valid head for a ClusterNetworkPolicy spec, before its rules.
const CNP_HEAD: &str = "  tier: Admin\n  priority: 10\n  subject: {namespaces: {}}\n";

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
        ("cnp missing tier", cnp("  priority: 1\n  subject: {namespaces: {}}\n"), vec!["ClusterNetworkPolicy c", "spec.tier", "missing", "Admin or Baseline"]),
        ("cnp unknown tier", cnp("  tier: admin\n  priority: 1\n  subject: {namespaces: {}}\n"), vec!["spec.tier", "unknown tier", "case matters"]),
        ("cnp priority 1001", cnp("  tier: Admin\n  priority: 1001\n  subject: {namespaces: {}}\n"), vec!["ClusterNetworkPolicy c", "spec.priority", "1001", "0 (evaluated first) to 1000"]),
        ("cnp missing priority", cnp("  tier: Baseline\n  subject: {namespaces: {}}\n"), vec!["spec.priority", "missing"]),
        ("cnp missing subject", cnp("  tier: Admin\n  priority: 1\n"), vec!["spec.subject", "missing"]),
        ("cnp subject with two fields", cnp("  tier: Admin\n  priority: 1\n  subject: {namespaces: {}, pods: {podSelector: {}}}\n"), vec!["spec.subject", "exactly one of namespaces, pods"]),
        ("cnp pods without podSelector", cnp("  tier: Admin\n  priority: 1\n  subject: {pods: {namespaceSelector: {}}}\n"), vec!["spec.subject.pods.podSelector", "missing"]),
        ("cnp peer with no field", cnp(&format!("{CNP_HEAD}  ingress:\n  - action: Deny\n    from: [{{}}]\n")), vec!["spec.ingress[0].from[0]", "exactly one of namespaces, pods", "has none"]),
        ("cnp ingress networks peer", cnp(&format!("{CNP_HEAD}  ingress:\n  - action: Deny\n    from: [{{networks: [10.0.0.0/8]}}]\n")), vec!["spec.ingress[0].from[0].networks", "unknown field"]),
        ("cnp empty from", cnp(&format!("{CNP_HEAD}  ingress:\n  - action: Deny\n    from: []\n")), vec!["spec.ingress[0].from", "at least 1"]),
        ("cnp missing to", cnp(&format!("{CNP_HEAD}  egress:\n  - action: Deny\n")), vec!["spec.egress[0].to", "missing"]),
        ("cnp unknown action", cnp(&format!("{CNP_HEAD}  egress:\n  - action: Allow\n    to: [{{namespaces: {{}}}}]\n")), vec!["spec.egress[0].action", "unknown action \"Allow\"", "Accept, Deny, Pass", "v1alpha1"]),
        ("cnp tcp without port", cnp(&format!("{CNP_HEAD}  egress:\n  - action: Deny\n    to: [{{namespaces: {{}}}}]\n    protocols: [{{tcp: {{}}}}]\n")), vec!["spec.egress[0].protocols[0].tcp", "destinationPort"]),
        ("cnp range start >= end", cnp(&format!("{CNP_HEAD}  egress:\n  - action: Deny\n    to: [{{namespaces: {{}}}}]\n    protocols: [{{udp: {{destinationPort: {{range: {{start: 90, end: 90}}}}}}}}]\n")), vec!["spec.egress[0].protocols[0].udp.destinationPort.range.end", "greater than start 90"]),
        ("cnp port 0", cnp(&format!("{CNP_HEAD}  egress:\n  - action: Deny\n    to: [{{namespaces: {{}}}}]\n    protocols: [{{tcp: {{destinationPort: {{number: 0}}}}}}]\n")), vec!["protocols[0].tcp.destinationPort.number", "1-65535"]),
        ("cnp bad network", cnp(&format!("{CNP_HEAD}  egress:\n  - action: Deny\n    to: [{{networks: [10.0.0.0/40]}}]\n")), vec!["spec.egress[0].to[0].networks[0]", "invalid CIDR"]),
        ("cnp duplicate network", cnp(&format!("{CNP_HEAD}  egress:\n  - action: Deny\n    to: [{{networks: [10.0.0.0/8, 10.0.0.0/8]}}]\n")), vec!["to[0].networks[1]", "listed twice"]),
        ("cnp named port with networks", cnp(&format!("{CNP_HEAD}  egress:\n  - action: Accept\n    to: [{{networks: [10.0.0.0/8]}}]\n    protocols: [{{destinationNamedPort: http}}]\n")), vec!["spec.egress[0].to[0]", "named port"]),
        ("cnp bad domain name", cnp(&format!("{CNP_HEAD}  egress:\n  - action: Accept\n    to: [{{domainNames: [\"foo.*.com\"]}}]\n")), vec!["to[0].domainNames[0]", "not a domain name"]),
        ("cnp 26 rules", cnp(&format!("{CNP_HEAD}  egress:\n{}", "  - {action: Deny, to: [{namespaces: {}}]}\n".repeat(26))), vec!["spec.egress", "at most 25"]),
        ("cnp wrong apiVersion", "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: ClusterNetworkPolicy\nmetadata: {name: c}\nspec: {}\n".into(), vec!["apiVersion", "v1alpha2"]),
        ("anp Accept", anp("  priority: 5\n  subject: {namespaces: {}}\n  ingress:\n  - action: Accept\n    from: [{namespaces: {}}]\n"), vec!["AdminNetworkPolicy a", "spec.ingress[0].action", "Allow, Deny, Pass"]),
        ("anp tier field", anp("  tier: Admin\n  priority: 5\n  subject: {namespaces: {}}\n"), vec!["spec.tier", "unknown field"]),
        ("anp pods without namespaceSelector", anp("  priority: 5\n  subject: {pods: {podSelector: {}}}\n"), vec!["spec.subject.pods.namespaceSelector", "missing"]),
        ("anp portNumber without port", anp("  priority: 5\n  subject: {namespaces: {}}\n  ingress:\n  - action: Deny\n    from: [{namespaces: {}}]\n    ports: [{portNumber: {protocol: TCP}}]\n"), vec!["ports[0].portNumber.port", "missing"]),
        ("banp not default", "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata: {name: other}\nspec: {subject: {namespaces: {}}}\n".into(), vec!["BaselineAdminNetworkPolicy other", "metadata.name", "\"default\""]),
        ("banp pass", "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata: {name: default}\nspec:\n  subject: {namespaces: {}}\n  egress:\n  - {action: Pass, to: [{namespaces: {}}]}\n".into(), vec!["spec.egress[0].action", "Allow, Deny", "no tier below"]),
        ("node bad address entry", "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nstatus: {addresses: [{type: InternalIP}]}\n".into(), vec!["Node n1", "status.addresses[0].address", "missing"]),
        ("node InternalIP not an IP", "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nstatus: {addresses: [{type: Hostname, address: n1}, {type: InternalIP, address: 10.0.0.300}]}\n".into(), vec!["Node n1", "status.addresses[1].address", "10.0.0.300", "not an IP address"]),
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
