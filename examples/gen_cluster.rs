//! Synthetic cluster generator for the benchmarks: namespaces, pods spread over apps with
//! replicas, and a realistic mix of policies (default deny, app-to-app allows with ports and
//! named ports, cross-namespace monitoring, DNS egress, ipBlock egress with except).
//!
//!   cargo run --release --example gen_cluster -- --pods 5000 --namespaces 50 --policies 1000 > big.yaml
//!
//! `--cluster-policies N` adds N ClusterNetworkPolicies (Admin and Baseline, priorities that
//! sometimes tie, namespace and pod subjects, Accept/Deny/Pass rules on selectors, networks and
//! named ports), the mix an administrator writes on top of the teams' NetworkPolicies.
//!
//! `--diverse` makes the hard case for the matrix: 400 apps over the namespaces, 5 tiers,
//! 3 versions, and a tenth of the policies egress to an ipBlock whose `except` cuts the pod
//! addresses into many ranges, so few pods share an equivalence class.

use std::fmt::Write;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn flag(name: &str) -> bool {
    std::env::args().any(|a| a == name)
}

fn main() {
    let pods = arg("--pods", 5000);
    let namespaces = arg("--namespaces", 50).max(1);
    let policies = arg("--policies", 1000);
    let nodes = arg("--nodes", 1).max(1);
    let mut out = if flag("--diverse") {
        diverse(pods, namespaces, policies, nodes)
    } else {
        uniform(pods, namespaces, policies, nodes)
    };
    cluster_policies(&mut out, arg("--cluster-policies", 0), namespaces);
    print!("{out}");
}

fn namespaces_yaml(out: &mut String, namespaces: usize) {
    let teams = ["payments", "search", "checkout", "identity", "platform"];
    for n in 0..namespaces {
        let _ = write!(
            out,
            "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns{n}\n  labels: {{team: {}, env: {}}}\n",
            teams[n % teams.len()],
            if n % 3 == 0 { "prod" } else { "dev" }
        );
    }
}

/// Pod `i`'s address: 10.100.0.0 upwards, one per pod.
fn pod_ip(i: usize) -> String {
    format!("10.{}.{}.{}", 100 + (i >> 16), (i >> 8) & 255, i & 255)
}

/// Apps with five replicas each, labelled app and tier (the easy case: classes are apps).
fn uniform(pods: usize, namespaces: usize, policies: usize, nodes: usize) -> String {
    let replicas = 5;
    let mut out = String::new();
    let apps_per_ns = (pods / namespaces / replicas).max(1);
    namespaces_yaml(&mut out, namespaces);
    for i in 0..pods {
        let n = i % namespaces;
        let app = (i / namespaces) % apps_per_ns;
        let ip = pod_ip(i);
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
    out
}

const APPS: usize = 400;
const TIERS: [&str; 5] = ["web", "api", "db", "cache", "worker"];
const VERSIONS: [&str; 3] = ["v1", "v2", "v3"];

/// A cheap, fixed scramble so labels do not line up with pod numbers (and so with addresses).
fn mix(x: usize) -> usize {
    let mut h = (x as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    h ^= h >> 29;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    (h ^ (h >> 32)) as usize
}

/// App `a` lives in namespace `a % namespaces`; the `k`-th app of namespace `n`.
fn app_in(n: usize, k: usize, namespaces: usize) -> usize {
    let per_ns = APPS.div_ceil(namespaces).max(1);
    (n + namespaces * (k % per_ns)) % APPS.max(namespaces)
}

/// 400 apps, 5 tiers, 3 versions, addresses cut into ranges by ipBlock excepts: the hard case.
fn diverse(pods: usize, namespaces: usize, policies: usize, nodes: usize) -> String {
    let mut out = String::new();
    namespaces_yaml(&mut out, namespaces);
    for i in 0..pods {
        let h = mix(i);
        let app = h % APPS;
        let n = app % namespaces;
        let tier = TIERS[(h / APPS) % TIERS.len()];
        let version = VERSIONS[(h / (APPS * TIERS.len())) % VERSIONS.len()];
        let t = (h / APPS) % TIERS.len();
        let _ = write!(
            out,
            "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: app{app}-{tier}-{i}\n  namespace: ns{n}\n  labels: {{app: app{app}, tier: {tier}, version: {version}, pod-template-hash: h{i}}}\nspec:\n  nodeName: node{}\n  containers:\n  - name: c\n    ports:\n    - {{name: http, containerPort: {}}}\n    - {{name: metrics, containerPort: 9090}}\nstatus: {{podIP: {}}}\n",
            i % nodes,
            8000 + t,
            pod_ip(i)
        );
    }
    for p in 0..policies {
        let n = p % namespaces;
        let k = p / namespaces;
        let app = app_in(n, k, namespaces);
        let other_ns = (n + 1 + k % 7) % namespaces;
        let peer_app = app_in(other_ns, k + 3, namespaces);
        let tier = TIERS[k % TIERS.len()];
        let peer_tier = TIERS[(k + 1) % TIERS.len()];
        let version = VERSIONS[k % VERSIONS.len()];
        let body = match p % 10 {
            0 => "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n".to_string(),
            1 => "  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n  - to:\n    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}\n    ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]\n".to_string(),
            2 => format!("  podSelector: {{matchLabels: {{app: app{app}}}}}\n  ingress:\n  - from:\n    - namespaceSelector: {{matchLabels: {{team: platform}}}}\n      podSelector: {{matchLabels: {{tier: web}}}}\n    ports: [{{port: metrics}}]\n"),
            3 => {
                // A /26 of the pod range cut out: pods on either side of it differ.
                let cut = mix(p) % pods.max(1);
                let except = format!("10.{}.{}.{}/26", 100 + (cut >> 16), (cut >> 8) & 255, cut & 192);
                format!("  podSelector: {{matchLabels: {{app: app{app}}}}}\n  policyTypes: [Egress]\n  egress:\n  - to:\n    - ipBlock: {{cidr: 10.0.0.0/8, except: [{except}]}}\n    ports: [{{port: 443}}, {{port: 8000, endPort: 8004}}]\n")
            }
            4 => format!("  podSelector: {{matchExpressions: [{{key: tier, operator: In, values: [api, db]}}, {{key: version, operator: NotIn, values: [{version}]}}]}}\n  ingress:\n  - from:\n    - podSelector: {{matchLabels: {{app: app{peer_app}}}}}\n    - namespaceSelector: {{matchLabels: {{env: prod}}}}\n      podSelector: {{matchLabels: {{tier: web}}}}\n    ports: [{{port: http}}]\n"),
            5 => format!("  podSelector: {{matchLabels: {{app: app{app}, version: {version}}}}}\n  policyTypes: [Ingress]\n  ingress:\n  - from:\n    - namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: ns{other_ns}}}}}\n      podSelector: {{matchLabels: {{app: app{peer_app}, tier: {peer_tier}}}}}\n    ports: [{{port: http}}, {{port: metrics}}]\n"),
            6 => format!("  podSelector: {{matchLabels: {{app: app{app}, tier: {tier}}}}}\n  policyTypes: [Egress]\n  egress:\n  - to:\n    - namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: ns{other_ns}}}}}\n      podSelector: {{matchLabels: {{app: app{peer_app}}}}}\n    ports: [{{protocol: TCP, port: {}}}]\n", 8000 + (k % 5)),
            _ => format!("  podSelector: {{matchLabels: {{app: app{app}, tier: {tier}}}}}\n  policyTypes: [Ingress]\n  ingress:\n  - from:\n    - podSelector: {{matchLabels: {{tier: {peer_tier}}}}}\n    - podSelector: {{matchLabels: {{app: app{peer_app}, version: {version}}}}}\n    ports: [{{protocol: TCP, port: {}}}]\n", 8000 + (k % 5)),
        };
        let _ = write!(out, "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: pol{p}\n  namespace: ns{n}\nspec:\n{body}");
    }
    out
}

/// `count` ClusterNetworkPolicies over the namespaces' team/env labels and the pods' app/tier
/// labels: tenant isolation with Pass for the own team, guardrails on databases, monitoring
/// accepted, egress to the internet denied, baseline defaults.
fn cluster_policies(out: &mut String, count: usize, namespaces: usize) {
    let teams = ["payments", "search", "checkout", "identity", "platform"];
    for c in 0..count {
        let team = teams[c % teams.len()];
        let n = c % namespaces.max(1);
        let tier = if c % 4 == 3 { "Baseline" } else { "Admin" };
        // Every tenth priority repeats its neighbour's: ties happen in real clusters too.
        let priority = if c % 10 == 9 { c - 1 } else { c } % 1000;
        let subject = match c % 3 {
            0 => format!("namespaces: {{matchLabels: {{team: {team}}}}}"),
            1 => format!("pods: {{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: ns{n}}}}}, podSelector: {{matchLabels: {{tier: db}}}}}}"),
            _ => format!("pods: {{namespaceSelector: {{matchLabels: {{env: prod}}}}, podSelector: {{matchLabels: {{app: app{}}}}}}}", c % 400),
        };
        let rules = match (tier, c % 5) {
            ("Baseline", _) => format!("  ingress:\n  - name: default-deny-other-teams\n    action: Deny\n    from: [{{namespaces: {{matchExpressions: [{{key: team, operator: NotIn, values: [{team}]}}]}}}}]\n  egress:\n  - name: allow-dns\n    action: Accept\n    to: [{{namespaces: {{matchLabels: {{kubernetes.io/metadata.name: kube-system}}}}}}]\n    protocols: [{{udp: {{destinationPort: {{number: 53}}}}}}]\n"),
            (_, 0) => format!("  ingress:\n  - name: pass-same-team\n    action: Pass\n    from: [{{namespaces: {{matchLabels: {{team: {team}}}}}}}]\n  - name: accept-monitoring\n    action: Accept\n    from: [{{pods: {{namespaceSelector: {{matchLabels: {{team: platform}}}}, podSelector: {{matchLabels: {{tier: web}}}}}}}}]\n    protocols: [{{destinationNamedPort: metrics}}]\n  - name: deny-other-teams\n    action: Deny\n    from: [{{namespaces: {{}}}}]\n"),
            (_, 1) => "  ingress:\n  - name: deny-db-from-dev\n    action: Deny\n    from: [{namespaces: {matchLabels: {env: dev}}}]\n    protocols: [{tcp: {destinationPort: {number: 5432}}}, {tcp: {destinationPort: {range: {start: 8000, end: 8002}}}}]\n".to_string(),
            (_, 2) => format!("  egress:\n  - name: pass-cluster\n    action: Pass\n    to: [{{networks: [10.100.0.0/16]}}]\n  - name: deny-internet\n    action: Deny\n    to: [{{networks: [0.0.0.0/0]}}]\n    protocols: [{{tcp: {{destinationPort: {{number: {}}}}}}}]\n", 8000 + c % 5),
            (_, 3) => format!("  egress:\n  - name: accept-http\n    action: Accept\n    to: [{{pods: {{namespaceSelector: {{matchLabels: {{team: {team}}}}}, podSelector: {{matchLabels: {{tier: api}}}}}}}}]\n    protocols: [{{destinationNamedPort: http}}]\n"),
            _ => "  egress:\n  - name: deny-cache-cross-env\n    action: Deny\n    to: [{pods: {namespaceSelector: {matchLabels: {env: prod}}, podSelector: {matchLabels: {tier: cache}}}}]\n".to_string(),
        };
        let _ = write!(
            out,
            "---\napiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata:\n  name: cnp{c}\nspec:\n  tier: {tier}\n  priority: {priority}\n  subject: {{{subject}}}\n{rules}"
        );
    }
}
