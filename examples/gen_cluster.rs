//! Synthetic cluster generator for the benchmarks: namespaces, pods spread over apps with
//! replicas, and a realistic mix of policies (default deny, app-to-app allows with ports and
//! named ports, cross-namespace monitoring, DNS egress, ipBlock egress with except).
//!
//!   cargo run --release --example gen_cluster -- --pods 5000 --namespaces 50 --policies 1000 > big.yaml

use std::fmt::Write;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let pods = arg("--pods", 5000);
    let namespaces = arg("--namespaces", 50).max(1);
    let policies = arg("--policies", 1000);
    let nodes = arg("--nodes", 1).max(1);
    let replicas = 5;
    let mut out = String::new();
    let apps_per_ns = (pods / namespaces / replicas).max(1);
    let teams = ["payments", "search", "checkout", "identity", "platform"];
    for n in 0..namespaces {
        let _ = write!(
            out,
            "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns{n}\n  labels: {{team: {}, env: {}}}\n",
            teams[n % teams.len()],
            if n % 3 == 0 { "prod" } else { "dev" }
        );
    }
    for i in 0..pods {
        let n = i % namespaces;
        let app = (i / namespaces) % apps_per_ns;
        let ip = format!("10.{}.{}.{}", 100 + (i >> 16), (i >> 8) & 255, i & 255);
        let tier = ["web", "api", "db"][app % 3];
        let _ = write!(
            out,
            "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: app{app}-{i}\n  namespace: ns{n}\n  labels: {{app: app{app}, tier: {tier}, pod-template-hash: h{i}}}\nspec:\n  nodeName: node{}\n  containers:\n  - name: c\n    ports:\n    - {{name: http, containerPort: {}}}\n    - {{name: metrics, containerPort: 9090}}\nstatus: {{podIP: {ip}}}\n",
            i % nodes,
            8000 + (app % 4)
        );
    }
    for p in 0..policies {
        let n = p % namespaces;
        let app = (p / namespaces) % apps_per_ns;
        let from = (app + 1) % apps_per_ns;
        let body = match p % 10 {
            0 => "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n".to_string(),
            1 => "  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n  - to:\n    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}\n    ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]\n".to_string(),
            2 => format!("  podSelector: {{matchLabels: {{app: app{app}}}}}\n  ingress:\n  - from:\n    - namespaceSelector: {{matchLabels: {{team: platform}}}}\n      podSelector: {{matchLabels: {{tier: web}}}}\n    ports: [{{port: metrics}}]\n"),
            3 => format!("  podSelector: {{matchLabels: {{app: app{app}}}}}\n  policyTypes: [Egress]\n  egress:\n  - to:\n    - ipBlock: {{cidr: 10.0.0.0/8, except: [10.100.0.0/24]}}\n    ports: [{{port: 443}}, {{port: 8000, endPort: 8003}}]\n"),
            4 => format!("  podSelector: {{matchExpressions: [{{key: tier, operator: In, values: [api, db]}}]}}\n  ingress:\n  - from:\n    - podSelector: {{matchLabels: {{app: app{from}}}}}\n    - namespaceSelector: {{matchLabels: {{env: prod}}}}\n    ports: [{{port: http}}]\n"),
            _ => format!("  podSelector: {{matchLabels: {{app: app{app}}}}}\n  policyTypes: [Ingress]\n  ingress:\n  - from:\n    - podSelector: {{matchLabels: {{app: app{from}}}}}\n    ports: [{{protocol: TCP, port: {}}}]\n", 8000 + (app % 4)),
        };
        let _ = write!(out, "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: pol{p}\n  namespace: ns{n}\nspec:\n{body}");
    }
    print!("{out}");
}
