//! When a direction is denied: which rule came closest, and which part of it failed.

use serde::Serialize;

use super::{words, Endpoint, Engine, Traffic};
use crate::model::{
    Direction, IpBlock, LabelSelector, NamespaceScope, Peer, PortSpec, Protocol, Rule,
};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NearMiss {
    #[serde(skip)]
    pub policy: usize,
    /// None when the policy has no rules in this direction (it only isolates).
    pub rule: Option<usize>,
    pub rule_text: String,
    pub matched: Vec<String>,
    pub failed: Vec<String>,
    #[serde(skip)]
    pub score: f64,
}

impl Engine<'_> {
    fn endpoint_name(&self, ep: Endpoint) -> String {
        match ep {
            Endpoint::Pod(p) => self.snap.pods[p].key(),
            Endpoint::Ip(ip) => ip.to_string(),
        }
    }

    /// The rule of the isolating policies that came closest to allowing `t` in `dir`.
    pub fn near_miss(&self, t: &Traffic, dir: Direction) -> Option<NearMiss> {
        let subject = match dir {
            Direction::Egress => t.from,
            Direction::Ingress => t.to,
        };
        let Endpoint::Pod(subject) = subject else {
            return None;
        };
        let mut best: Option<NearMiss> = None;
        for &policy in self.isolating(subject, dir) {
            let pol = &self.snap.policies[policy];
            let rules = pol.rules(dir);
            if rules.is_empty() {
                let nm = NearMiss {
                    policy,
                    rule: None,
                    rule_text: format!("no {dir} rules: denies all {dir}"),
                    matched: vec![],
                    failed: vec![format!(
                        "{} has no {dir} rules, so it allows no {dir} at all",
                        pol.key()
                    )],
                    score: 0.0,
                };
                if best.is_none() {
                    best = Some(nm);
                }
                continue;
            }
            for (ri, _) in rules.iter().enumerate() {
                let nm = self.rule_miss(policy, dir, ri, t);
                if best.as_ref().is_none_or(|b| nm.score > b.score) {
                    best = Some(nm);
                }
            }
        }
        best
    }

    fn rule_miss(&self, policy: usize, dir: Direction, ri: usize, t: &Traffic) -> NearMiss {
        let pol = &self.snap.policies[policy];
        let rule = &pol.rules(dir)[ri];
        let mut parts = self.port_parts(rule, t);
        parts.add(self.peer_side_parts(policy, dir, ri, t));
        NearMiss {
            policy,
            rule: Some(ri),
            rule_text: words::rule(rule, &pol.namespace, dir),
            matched: parts.matched,
            failed: parts.failed,
            score: parts.score,
        }
    }

    /// The ports of a rule against the probe: one point when they match.
    fn port_parts(&self, rule: &Rule, t: &Traffic) -> Parts {
        if rule.ports.is_empty() {
            return Parts::matched(1.0, "any port".to_string());
        }
        if let Some(p) = rule
            .ports
            .iter()
            .find(|p| self.port_matches(p, t.probe, t.to))
        {
            return Parts::matched(
                1.0,
                format!(
                    "port {} {} matches {}",
                    t.probe.protocol,
                    t.probe.port,
                    words::port(p)
                ),
            );
        }
        let mut why = format!(
            "port {} {} is not among {}",
            t.probe.protocol,
            t.probe.port,
            words::ports(&rule.ports)
        );
        for p in &rule.ports {
            if let (Some(PortSpec::Name(name)), true) = (&p.port, p.protocol == t.probe.protocol) {
                why.push_str(&self.named_port_hint(name, p.protocol, t.to));
            }
        }
        Parts::failed(why)
    }

    /// Why a named port did not resolve to the probed one on this destination.
    fn named_port_hint(&self, name: &str, protocol: Protocol, to: Endpoint) -> String {
        let Endpoint::Pod(d) = to else {
            return format!("; a named port ({name}) only resolves on pods, not on an IP address");
        };
        let dest = &self.snap.pods[d];
        match dest
            .ports
            .iter()
            .find(|cp| cp.name.as_deref() == Some(name) && cp.protocol == protocol)
        {
            Some(cp) => format!(
                "; on {} the port named {name} is {} {}",
                dest.key(),
                cp.protocol,
                cp.port
            ),
            None => format!(
                "; {} declares no {protocol} container port named {name}",
                dest.key()
            ),
        }
    }

    /// The peers of a rule against the other end: the best-matching peer.
    fn peer_side_parts(&self, policy: usize, dir: Direction, ri: usize, t: &Traffic) -> Parts {
        let pol = &self.snap.policies[policy];
        let rule = &pol.rules(dir)[ri];
        let other = match dir {
            Direction::Ingress => t.from,
            Direction::Egress => t.to,
        };
        if rule.peers.is_empty() {
            return Parts::matched(1.0, "any peer".to_string());
        }
        if let Some(i) =
            (0..rule.peers.len()).find(|&i| self.peer_matches(policy, dir, ri, i, other))
        {
            return Parts::matched(
                1.0,
                format!(
                    "{} matches {}",
                    self.endpoint_name(other),
                    words::peer(&rule.peers[i], &pol.namespace)
                ),
            );
        }
        let mut best: Option<Parts> = None;
        for peer in &rule.peers {
            let parts = self.peer_parts(peer, &pol.namespace, other);
            if best.as_ref().is_none_or(|b| parts.score > b.score) {
                best = Some(parts);
            }
        }
        best.unwrap_or_default()
    }

    /// How much of one peer matches an endpoint.
    fn peer_parts(&self, peer: &Peer, policy_ns: &str, ep: Endpoint) -> Parts {
        match (peer, ep) {
            (Peer::IpBlock(b), Endpoint::Ip(ip)) => {
                if !b.cidr.contains(&ip) {
                    return Parts::failed(format!("{ip} is outside {}", b.cidr));
                }
                let e = b
                    .except
                    .iter()
                    .find(|e| e.contains(&ip))
                    .map(|e| e.to_string())
                    .unwrap_or_default();
                Parts {
                    score: 0.5,
                    matched: vec![format!("{ip} is inside {}", b.cidr)],
                    failed: vec![format!("{ip} is removed by except {e}")],
                }
            }
            (Peer::IpBlock(b), Endpoint::Pod(p)) => self.ip_block_pod_parts(b, p),
            (Peer::Pods { .. }, Endpoint::Ip(ip)) => Parts::failed(format!(
                "{ip} is not a pod of the cluster, so {} cannot match it",
                words::peer(peer, policy_ns)
            )),
            (Peer::Pods { namespaces, pods }, Endpoint::Pod(p)) => {
                let mut parts = self.namespace_parts(namespaces, policy_ns, p);
                parts.add(self.pod_selector_parts(pods, p));
                parts.score /= 2.0;
                parts
            }
        }
    }

    /// An ipBlock against a pod, by the pod's addresses.
    fn ip_block_pod_parts(&self, b: &IpBlock, p: usize) -> Parts {
        let name = self.snap.pods[p].key();
        let addresses = self.pod_addresses(p);
        if addresses.is_empty() {
            return Parts::failed(format!("{name} has no known IP, so {} cannot be judged for it (ipBlock matches pod IPs in the upstream tests; some CNIs only apply it to traffic leaving the cluster)", words::ip_block(b)));
        }
        let ips = addresses
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        if !addresses.iter().any(|ip| b.cidr.contains(ip)) {
            return Parts::failed(format!("{name} ({ips}) is outside {}", b.cidr));
        }
        let excepts = b
            .except
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        Parts {
            score: 0.5,
            matched: vec![format!("{name} ({ips}) is inside {}", b.cidr)],
            failed: vec![format!("{name} ({ips}) is removed by except {excepts}")],
        }
    }

    /// The namespace half of a pods peer: one point when the pod's namespace is in scope.
    fn namespace_parts(&self, namespaces: &NamespaceScope, policy_ns: &str, p: usize) -> Parts {
        let pod = &self.snap.pods[p];
        let name = pod.key();
        match namespaces {
            NamespaceScope::PolicyNamespace if pod.namespace == policy_ns => Parts::matched(
                1.0,
                format!("{name} is in the policy's namespace {policy_ns}"),
            ),
            NamespaceScope::PolicyNamespace => Parts::failed(format!(
                "a podSelector alone only looks in the policy's own namespace {policy_ns}, but {name} is in {}; add a namespaceSelector to the same peer to reach other namespaces",
                pod.namespace
            )),
            NamespaceScope::Selector(sel) => {
                let labels = self
                    .snap
                    .namespace_labels(&pod.namespace)
                    .cloned()
                    .unwrap_or_default();
                if !sel.matches(&labels) {
                    return Parts::failed(format!(
                        "namespace {} does not match namespaceSelector {}: it lacks {}",
                        pod.namespace,
                        words::selector(sel),
                        sel.failures(&labels).join(", ")
                    ));
                }
                let mut parts = Parts::point();
                if !sel.is_empty() {
                    parts.matched.push(format!(
                        "namespace {} matches namespaceSelector {}",
                        pod.namespace,
                        words::selector(sel)
                    ));
                }
                parts
            }
        }
    }

    /// The pod half of a pods peer: one point when the pod's labels match.
    fn pod_selector_parts(&self, pods: &LabelSelector, p: usize) -> Parts {
        let pod = &self.snap.pods[p];
        let name = pod.key();
        if !pods.matches(&pod.labels) {
            return Parts::failed(format!(
                "pod {name} does not match podSelector {}: it lacks {}",
                words::selector(pods),
                pods.failures(&pod.labels).join(", ")
            ));
        }
        let mut parts = Parts::point();
        if !pods.is_empty() {
            parts.matched.push(format!(
                "pod {name} matches podSelector {}",
                words::selector(pods)
            ));
        }
        parts
    }
}

/// What part of a rule matched: a score (the rule with the highest is the nearest miss), and
/// the parts that matched and failed, in words.
#[derive(Debug, Default)]
struct Parts {
    score: f64,
    matched: Vec<String>,
    failed: Vec<String>,
}

impl Parts {
    /// A match not worth saying (an empty selector matches everything).
    fn point() -> Parts {
        Parts {
            score: 1.0,
            ..Parts::default()
        }
    }

    fn matched(score: f64, what: String) -> Parts {
        Parts {
            score,
            matched: vec![what],
            failed: Vec::new(),
        }
    }

    fn failed(why: String) -> Parts {
        Parts {
            score: 0.0,
            matched: Vec::new(),
            failed: vec![why],
        }
    }

    fn add(&mut self, other: Parts) {
        self.score += other.score;
        self.matched.extend(other.matched);
        self.failed.extend(other.failed);
    }
}
