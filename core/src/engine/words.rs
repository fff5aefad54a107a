//! Plain-English wording of selectors, peers, ports and rules, built from the same structures
//! the engine decides with.

use crate::model::Direction;
use crate::model::{
    ClusterPeer, ClusterPort, ClusterRule, ClusterSubject, IpBlock, LabelSelector, NamespaceScope,
    Operator, Peer, PolicyPort, PortSpec, Protocol, Requirement, Rule, NAMESPACE_NAME_LABEL,
};

pub fn requirement(r: &Requirement) -> String {
    match r.operator {
        Operator::In if r.values.len() == 1 => format!("{}={}", r.key, r.values[0]),
        Operator::In => format!("{} in ({})", r.key, r.values.join(",")),
        Operator::NotIn if r.values.len() == 1 => format!("{}!={}", r.key, r.values[0]),
        Operator::NotIn => format!("{} notin ({})", r.key, r.values.join(",")),
        Operator::Exists => r.key.clone(),
        Operator::DoesNotExist => format!("!{}", r.key),
    }
}

/// `app=web,tier in (a,b)` — kubectl's selector syntax; empty for the empty selector.
pub fn selector(s: &LabelSelector) -> String {
    s.match_labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .chain(s.match_expressions.iter().map(requirement))
        .collect::<Vec<_>>()
        .join(",")
}

/// The namespace a selector pins by name, if it is exactly `kubernetes.io/metadata.name=X`.
fn named_namespace(s: &LabelSelector) -> Option<&str> {
    if s.match_expressions.is_empty() && s.match_labels.len() == 1 {
        s.match_labels.get(NAMESPACE_NAME_LABEL).map(String::as_str)
    } else {
        None
    }
}

pub fn peer(p: &Peer, policy_namespace: &str) -> String {
    match p {
        Peer::IpBlock(b) => ip_block(b),
        Peer::Pods { namespaces, pods } => {
            let who = if pods.is_empty() {
                "all pods".to_string()
            } else {
                format!("pods {}", selector(pods))
            };
            let wher = match namespaces {
                NamespaceScope::PolicyNamespace => format!("in namespace {policy_namespace}"),
                NamespaceScope::Selector(s) if s.is_empty() => "in all namespaces".to_string(),
                NamespaceScope::Selector(s) => match named_namespace(s) {
                    Some(n) => format!("in namespace {n}"),
                    None => format!("in namespaces {}", selector(s)),
                },
            };
            format!("{who} {wher}")
        }
    }
}

pub fn ip_block(b: &IpBlock) -> String {
    let mut s = format!("IPs in {}", b.cidr);
    if b.cidr_text.trim() != b.cidr.to_string() {
        s.push_str(&format!(" (written {})", b.cidr_text));
    }
    if !b.except.is_empty() {
        s.push_str(" except ");
        s.push_str(
            &b.except
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    s
}

pub fn port(p: &PolicyPort) -> String {
    match (&p.port, p.end_port) {
        (None, _) => format!("all {} ports", p.protocol),
        (Some(PortSpec::Number(n)), None) => format!("{} {n}", p.protocol),
        (Some(PortSpec::Number(n)), Some(e)) => format!("{} {n}-{e}", p.protocol),
        (Some(PortSpec::Name(name)), _) => format!("{} port named {name}", p.protocol),
    }
}

pub fn ports(ports: &[PolicyPort]) -> String {
    if ports.is_empty() {
        "all ports".to_string()
    } else {
        ports.iter().map(port).collect::<Vec<_>>().join(", ")
    }
}

pub fn peers(peers: &[Peer], policy_namespace: &str, dir: Direction) -> String {
    if peers.is_empty() {
        return match dir {
            Direction::Ingress => "anywhere".into(),
            Direction::Egress => "anywhere".into(),
        };
    }
    peers
        .iter()
        .map(|p| peer(p, policy_namespace))
        .collect::<Vec<_>>()
        .join(", or ")
}

/// "allows TCP 8080 from pods app=web in namespace frontend"
pub fn rule(r: &Rule, policy_namespace: &str, dir: Direction) -> String {
    let what = if r.ports.is_empty() {
        "all traffic".to_string()
    } else {
        ports(&r.ports)
    };
    let prep = match dir {
        Direction::Ingress => "from",
        Direction::Egress => "to",
    };
    format!(
        "allows {what} {prep} {}",
        peers(&r.peers, policy_namespace, dir)
    )
}

pub fn protocol_lower(p: Protocol) -> String {
    p.as_str().to_ascii_lowercase()
}

/// Where a cluster selector pair points: "pods app=db in namespaces env=prod".
fn namespaced_pods(namespaces: &LabelSelector, pods: &LabelSelector) -> String {
    let who = if pods.is_empty() {
        "pods".to_string()
    } else {
        format!("pods {}", selector(pods))
    };
    let wher = if namespaces.is_empty() {
        "in all namespaces".to_string()
    } else {
        match named_namespace(namespaces) {
            Some(n) => format!("in namespace {n}"),
            None => format!("in namespaces {}", selector(namespaces)),
        }
    };
    format!("{who} {wher}")
}

pub fn cluster_subject(s: &ClusterSubject) -> String {
    match s {
        ClusterSubject::Namespaces(ns) => namespaced_pods(ns, &LabelSelector::default()),
        ClusterSubject::Pods(p) => namespaced_pods(&p.namespaces, &p.pods),
    }
}

pub fn cluster_peer(p: &ClusterPeer) -> String {
    match p {
        ClusterPeer::Namespaces(ns) => namespaced_pods(ns, &LabelSelector::default()),
        ClusterPeer::Pods(p) => namespaced_pods(&p.namespaces, &p.pods),
        ClusterPeer::Networks(blocks) => blocks
            .iter()
            .map(ip_block)
            .collect::<Vec<_>>()
            .join(", or "),
        ClusterPeer::Nodes(sel) if sel.is_empty() => "all nodes".to_string(),
        ClusterPeer::Nodes(sel) => format!("nodes {}", selector(sel)),
        ClusterPeer::DomainNames(names) => format!(
            "domain names {} (resolved by DNS at run time)",
            names.join(", ")
        ),
    }
}

pub fn cluster_port(p: &ClusterPort) -> String {
    match p {
        ClusterPort::Range {
            protocol,
            start,
            end,
        } if start == end => format!("{protocol} {start}"),
        ClusterPort::Range {
            protocol,
            start,
            end,
        } => format!("{protocol} {start}-{end}"),
        ClusterPort::Named(name) => format!("the port named {name}"),
    }
}

/// "Deny TCP 5432 to pods in namespaces env=prod"
pub fn cluster_rule(r: &ClusterRule, dir: Direction) -> String {
    let what = if r.ports.is_empty() {
        "all traffic".to_string()
    } else {
        r.ports
            .iter()
            .map(cluster_port)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let prep = match dir {
        Direction::Ingress => "from",
        Direction::Egress => "to",
    };
    let peers = r
        .peers
        .iter()
        .map(cluster_peer)
        .collect::<Vec<_>>()
        .join(", or ");
    format!("{} {what} {prep} {peers}", r.action)
}

/// How a cluster rule is named in text: `'NAME'` when it has one, else its index.
pub fn cluster_rule_label(r: &ClusterRule, index: usize) -> String {
    if r.name.is_empty() {
        format!("{index}")
    } else {
        format!("'{}'", r.name)
    }
}
