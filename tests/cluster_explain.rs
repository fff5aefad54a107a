//! explain and matrix on cluster policies, through the binary: the Pass chain, the deciding tier
//! and rule, equal priorities that disagree, cluster policies named cnp/anp/banp, and the notes
//! about skipped kinds and a v1alpha1/v1alpha2 mix.

use std::process::Command;

use serde_json::Value;

const TENANCY: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: payments, labels: {tenant: pay, env: prod}}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {tenant: pay}}
---
apiVersion: v1
kind: Namespace
metadata: {name: other, labels: {tenant: other}}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: payments, labels: {app: api}}
spec: {containers: [{name: c, ports: [{containerPort: 8080, name: http}]}]}
status: {podIP: 10.0.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {containers: [{name: c}]}
status: {podIP: 10.0.1.1}
---
apiVersion: v1
kind: Pod
metadata: {name: x, namespace: other, labels: {app: x}}
spec: {containers: [{name: c}]}
status: {podIP: 10.0.2.1}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: payments}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-api, namespace: payments}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress: [{from: [{namespaceSelector: {matchLabels: {tenant: pay}}}], ports: [{port: http}]}]
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: tenancy}
spec:
  tier: Admin
  priority: 10
  subject: {namespaces: {matchLabels: {tenant: pay}}}
  ingress:
  - {name: pass-same-tenant, action: Pass, from: [{namespaces: {matchLabels: {tenant: pay}}}]}
  - {name: deny-others, action: Deny, from: [{namespaces: {}}]}
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: audit}
spec:
  tier: Admin
  priority: 10
  subject: {namespaces: {matchLabels: {tenant: pay}}}
  ingress:
  - {name: accept-other, action: Accept, from: [{namespaces: {matchLabels: {tenant: other}}}], protocols: [{tcp: {destinationPort: {number: 8080}}}]}
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {}}
  egress:
  - {name: deny-internet, action: Deny, to: [{networks: [0.0.0.0/0]}]}
"#;

fn run(args: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tenancy.yaml");
    std::fs::write(&path, TENANCY).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-netpol"))
        .args(args)
        .arg("-f")
        .arg(&path)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(args: &[&str]) -> Value {
    let (code, out, err) = run(args);
    assert_eq!(code, 0, "{args:?}: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
}

#[test]
fn explain_traffic_names_the_pass_chain_and_the_deciding_policy() {
    let e = json(&[
        "explain",
        "traffic",
        "shop/web",
        "payments/api",
        "--port",
        "tcp/8080",
        "-o",
        "json",
    ]);
    // Denied on the way out (the baseline below), allowed on the way in.
    assert_eq!(e["allowed"], false);
    let ingress = &e["ingress"];
    assert_eq!(ingress["allowed"], true);
    assert_eq!(ingress["tier"], "namespaced");
    assert_eq!(ingress["reason"], "allowed-by-rule");
    assert_eq!(
        ingress["passed"][0],
        "admin cnp/tenancy rule 'pass-same-tenant'"
    );
    let text = ingress["text"].as_str().unwrap();
    assert!(
        text.starts_with("admin cnp/tenancy rule 'pass-same-tenant' passes to NetworkPolicy; allowed by payments/allow-api"),
        "{text}"
    );
    assert_eq!(ingress["cluster"][0]["tier"], "admin");
    assert_eq!(ingress["cluster"][0]["decided"]["action"], "Pass");
    // The egress of shop/web: the baseline denies only 0.0.0.0/0 networks, which cover pod
    // addresses too, so the baseline decides.
    assert_eq!(e["egress"]["tier"], "baseline");
    assert_eq!(e["egress"]["clusterPolicy"], "banp/default");
    assert_eq!(e["egress"]["allowed"], false);
    assert!(e.get("ambiguous").is_none());
}

#[test]
fn equal_priorities_that_disagree_are_ambiguous_in_explain_and_matrix() {
    let e = json(&[
        "explain",
        "traffic",
        "other/x",
        "payments/api",
        "--port",
        "tcp/8080",
        "-o",
        "json",
    ]);
    let ingress = &e["ingress"];
    assert_eq!(ingress["ambiguous"], true);
    let trace = &ingress["cluster"][0];
    let mut both = vec![
        trace["decided"]["policy"].as_str().unwrap().to_string(),
        trace["tied"][0]["policy"].as_str().unwrap().to_string(),
    ];
    both.sort();
    assert_eq!(both, ["cnp/audit", "cnp/tenancy"]);
    let text = trace["text"].as_str().unwrap();
    assert!(
        text.contains("same priority") && text.contains("would deny"),
        "{text}"
    );
    // The egress side is denied by the baseline anyway (0.0.0.0/0), so the connection itself
    // is not ambiguous; ingress alone is.
    assert!(e.get("ambiguous").is_none(), "{e}");

    // Without the baseline's egress deny the connection becomes ambiguous.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.yaml");
    let text = TENANCY.replace(
        "to: [{networks: [0.0.0.0/0]}]",
        "to: [{networks: [192.0.2.0/24]}]",
    );
    std::fs::write(&path, text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-netpol"))
        .args(["matrix", "-o", "json", "--ports", "tcp/8080", "-f"])
        .arg(&path)
        .output()
        .unwrap();
    let m: Value = serde_json::from_slice(&out.stdout).unwrap();
    let marked: Vec<(String, String)> = m["connections"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ambiguous"] == true)
        .map(|c| {
            (
                c["from"].as_str().unwrap().into(),
                c["to"].as_str().unwrap().into(),
            )
        })
        .collect();
    // The grid marks them too.
    let table = Command::new(env!("CARGO_BIN_EXE_kubectl-netpol"))
        .args(["matrix", "--ports", "tcp/8080", "-f"])
        .arg(&path)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(table.contains("1 other/x       . a a"), "{table}");
    assert!(table.contains("equal priority disagree"), "{table}");
    // Both pods of the tenant: deny-others (cnp/tenancy) and accept-other (cnp/audit) tie.
    assert_eq!(
        marked,
        [
            ("other/x".to_string(), "payments/api".to_string()),
            ("other/x".to_string(), "shop/web".to_string())
        ]
    );
}

#[test]
fn explain_pod_and_policy_show_cluster_policies_in_evaluation_order() {
    let p = json(&["explain", "pod", "payments/api", "-o", "json"]);
    let order: Vec<&str> = p["clusterPolicies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["policy"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["cnp/audit", "cnp/tenancy", "banp/default"]);
    assert_eq!(
        p["clusterPolicies"][1]["ingress"][1]["text"],
        "Deny all traffic from pods in all namespaces"
    );
    let c = json(&["explain", "policy", "cnp/tenancy", "-o", "json"]);
    assert_eq!(c["tier"], "admin");
    assert_eq!(c["priority"], 10);
    assert_eq!(
        c["selects"],
        serde_json::json!(["payments/api", "shop/web"])
    );
    assert!(c["notes"].to_string().contains("cnp/audit"), "{c}");
    let b = json(&["explain", "policy", "banp/default", "-o", "json"]);
    assert_eq!(b["tier"], "baseline");
    let (code, _, err) = run(&["explain", "policy", "cnp/nope"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("ClusterNetworkPolicy nope not found"), "{err}");
}

#[test]
fn skipped_kinds_and_an_api_mix_are_said_on_stderr() {
    let (code, _, err) = run(&["matrix", "-o", "summary"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("skipped 1 Service object"), "{err}");
    assert!(
        err.contains("v1alpha1") && err.contains("v1alpha2"),
        "{err}"
    );
}

/// Pods on the pod network, a hostNetwork pod on its node (the pod's address is the node's),
/// and an Admin policy over every namespace with `nodes`, `namespaces` and `networks` peers.
const HOST_NETWORK: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: app}
---
apiVersion: v1
kind: Namespace
metadata: {name: infra}
---
apiVersion: v1
kind: Node
metadata: {name: worker-1, labels: {role: worker}}
status: {addresses: [{type: InternalIP, address: 192.168.1.10}, {type: Hostname, address: worker-1}]}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: app, labels: {app: a}}
spec: {containers: [{name: c}]}
status: {podIP: 10.0.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: app, labels: {app: b}}
spec: {containers: [{name: c}]}
status: {podIP: 10.0.0.2}
---
apiVersion: v1
kind: Pod
metadata: {name: agent, namespace: infra, labels: {app: agent}}
spec: {hostNetwork: true, nodeName: worker-1, containers: [{name: c}]}
status: {podIP: 192.168.1.10, hostIP: 192.168.1.10}
---
apiVersion: v1
kind: Pod
metadata: {name: agent-manifest, namespace: infra, labels: {app: agent}}
spec: {hostNetwork: true, nodeName: worker-1, containers: [{name: c}]}
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: guard}
spec:
  tier: Admin
  priority: 10
  subject: {namespaces: {}}
  egress:
  - {name: accept-kubelet, action: Accept, to: [{nodes: {matchLabels: {role: worker}}}], protocols: [{tcp: {destinationPort: {number: 10250}}}]}
  - {name: deny-pods, action: Deny, to: [{namespaces: {}}]}
  - {name: deny-node-dns, action: Deny, to: [{networks: [192.168.0.0/16]}], protocols: [{udp: {destinationPort: {number: 53}}}]}
  ingress:
  - {name: deny-from-pods, action: Deny, from: [{namespaces: {}}]}
"#;

fn explain_host_network(from: &str, to: &str, port: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("host-network.yaml");
    std::fs::write(&path, HOST_NETWORK).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-netpol"))
        .args([
            "explain", "traffic", from, to, "-p", port, "-o", "json", "-f",
        ])
        .arg(&path)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Upstream (apis/v1alpha2 ClusterNetworkPolicySubject and peers): hostNetwork pods are never
/// subjects and never match `namespaces`/`pods` peers; `nodes` peers match the addresses of the
/// selected Nodes, and `networks` any address, so both see a hostNetwork pod as its node.
#[test]
fn host_network_pods_are_their_node_to_cluster_policies() {
    // The nodes peer matches the hostNetwork pod through its node's address.
    let e = explain_host_network("app/a", "infra/agent", "tcp/10250");
    assert_eq!(e["allowed"], true);
    assert_eq!(
        e["egress"]["cluster"][0]["decided"]["ruleName"],
        "accept-kubelet"
    );
    // `namespaces: {}` (every namespace) does not match it: nothing decides, allowed.
    let e = explain_host_network("app/a", "infra/agent", "tcp/80");
    assert_eq!(e["allowed"], true);
    assert_eq!(e["egress"]["reason"], "not-isolated");
    assert!(e["egress"]["cluster"][0]["decided"].is_null(), "{e}");
    // `networks` matches its address.
    let e = explain_host_network("app/a", "infra/agent", "udp/53");
    assert_eq!(e["allowed"], false);
    assert_eq!(
        e["egress"]["cluster"][0]["decided"]["ruleName"],
        "deny-node-dns"
    );
    // Never a subject: the policy selects every namespace, but not the hostNetwork pod's
    // egress or ingress; and as a source it matches no `namespaces` peer of the ingress rule.
    assert_eq!(e["ingress"]["reason"], "host-network");
    assert!(e["ingress"]["cluster"].is_null(), "{e}");
    let e = explain_host_network("infra/agent", "app/a", "tcp/80");
    assert_eq!(e["allowed"], true);
    assert_eq!(e["egress"]["reason"], "host-network");
    assert!(e["ingress"]["cluster"][0]["decided"].is_null(), "{e}");
    // A hostNetwork pod whose manifest has no status takes its node's addresses.
    let e = explain_host_network("app/a", "infra/agent-manifest", "tcp/10250");
    assert_eq!(
        e["egress"]["cluster"][0]["decided"]["ruleName"],
        "accept-kubelet"
    );
    let e = explain_host_network("app/a", "infra/agent-manifest", "udp/53");
    assert_eq!(
        e["egress"]["cluster"][0]["decided"]["ruleName"],
        "deny-node-dns"
    );
    // The same rules do match pods on the pod network.
    let e = explain_host_network("app/b", "app/a", "tcp/80");
    assert_eq!(
        e["egress"]["cluster"][0]["decided"]["ruleName"],
        "deny-pods"
    );
    assert_eq!(
        e["ingress"]["cluster"][0]["decided"]["ruleName"],
        "deny-from-pods"
    );
}
