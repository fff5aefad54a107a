//! When a direction is denied: which rule came closest, and which part of it failed.

use serde::Serialize;

use super::{words, Endpoint, Engine, Traffic};
use crate::model::{Direction, NamespaceScope, Peer, PortSpec};

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
        let mut matched = Vec::new();
        let mut failed = Vec::new();
        let mut score = 0.0;

        // Ports.
        if rule.ports.is_empty() {
            matched.push("any port".to_string());
            score += 1.0;
        } else if let Some(p) = rule
            .ports
            .iter()
            .find(|p| self.port_matches(p, t.probe, t.to))
        {
            matched.push(format!(
                "port {} {} matches {}",
                t.probe.protocol,
                t.probe.port,
                words::port(p)
            ));
            score += 1.0;
        } else {
            let mut why = format!(
                "port {} {} is not among {}",
                t.probe.protocol,
                t.probe.port,
                words::ports(&rule.ports)
            );
            for p in &rule.ports {
                if let (Some(PortSpec::Name(name)), true) =
                    (&p.port, p.protocol == t.probe.protocol)
                {
                    match t.to {
                        Endpoint::Pod(d) => {
                            let dest = &self.snap.pods[d];
                            match dest.ports.iter().find(|cp| {
                                cp.name.as_deref() == Some(name.as_str())
                                    && cp.protocol == p.protocol
                            }) {
                                Some(cp) => why.push_str(&format!(
                                    "; on {} the port named {name} is {} {}",
                                    dest.key(),
                                    cp.protocol,
                                    cp.port
                                )),
                                None => why.push_str(&format!(
                                    "; {} declares no {} container port named {name}",
                                    dest.key(),
                                    p.protocol
                                )),
                            }
                        }
                        Endpoint::Ip(_) => why.push_str(&format!(
                            "; a named port ({name}) only resolves on pods, not on an IP address"
                        )),
                    }
                }
            }
            failed.push(why);
        }

        // Peers: the best-matching peer of the rule.
        let other = match dir {
            Direction::Ingress => t.from,
            Direction::Egress => t.to,
        };
        if rule.peers.is_empty() {
            matched.push("any peer".to_string());
            score += 1.0;
        } else if let Some(i) =
            (0..rule.peers.len()).find(|&i| self.peer_matches(policy, dir, ri, i, other))
        {
            matched.push(format!(
                "{} matches {}",
                self.endpoint_name(other),
                words::peer(&rule.peers[i], &pol.namespace)
            ));
            score += 1.0;
        } else {
            let mut best: Option<(f64, Vec<String>, Vec<String>)> = None;
            for peer in &rule.peers {
                let (s, m, f) = self.peer_parts(peer, &pol.namespace, other);
                if best.as_ref().is_none_or(|b| s > b.0) {
                    best = Some((s, m, f));
                }
            }
            if let Some((s, m, f)) = best {
                score += s;
                matched.extend(m);
                failed.extend(f);
            }
        }
        NearMiss {
            policy,
            rule: Some(ri),
            rule_text: words::rule(rule, &pol.namespace, dir),
            matched,
            failed,
            score,
        }
    }

    /// How much of one peer matches an endpoint: (share matched, matched parts, failed parts).
    fn peer_parts(
        &self,
        peer: &Peer,
        policy_ns: &str,
        ep: Endpoint,
    ) -> (f64, Vec<String>, Vec<String>) {
        let name = self.endpoint_name(ep);
        match (peer, ep) {
            (Peer::IpBlock(b), Endpoint::Ip(ip)) => {
                if !b.cidr.contains(&ip) {
                    (0.0, vec![], vec![format!("{ip} is outside {}", b.cidr)])
                } else {
                    let e = b
                        .except
                        .iter()
                        .find(|e| e.contains(&ip))
                        .map(|e| e.to_string())
                        .unwrap_or_default();
                    (
                        0.5,
                        vec![format!("{ip} is inside {}", b.cidr)],
                        vec![format!("{ip} is removed by except {e}")],
                    )
                }
            }
            (Peer::IpBlock(b), Endpoint::Pod(p)) => {
                let addresses = self.pod_addresses(p);
                if addresses.is_empty() {
                    return (0.0, vec![], vec![format!("{name} has no known IP, so {} cannot be judged for it (ipBlock matches pod IPs in the upstream tests; some CNIs only apply it to traffic leaving the cluster)", words::ip_block(b))]);
                }
                let ips = addresses
                    .iter()
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                if addresses.iter().any(|ip| b.cidr.contains(ip)) {
                    (
                        0.5,
                        vec![format!("{name} ({ips}) is inside {}", b.cidr)],
                        vec![format!(
                            "{name} ({ips}) is removed by except {}",
                            b.except
                                .iter()
                                .map(|e| e.to_string())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )],
                    )
                } else {
                    (
                        0.0,
                        vec![],
                        vec![format!("{name} ({ips}) is outside {}", b.cidr)],
                    )
                }
            }
            (Peer::Pods { .. }, Endpoint::Ip(ip)) => (
                0.0,
                vec![],
                vec![format!(
                    "{ip} is not a pod of the cluster, so {} cannot match it",
                    words::peer(peer, policy_ns)
                )],
            ),
            (Peer::Pods { namespaces, pods }, Endpoint::Pod(p)) => {
                let pod = &self.snap.pods[p];
                let mut matched = Vec::new();
                let mut failed = Vec::new();
                let ns_ok = match namespaces {
                    NamespaceScope::PolicyNamespace => {
                        if pod.namespace == policy_ns {
                            matched
                                .push(format!("{name} is in the policy's namespace {policy_ns}"));
                            true
                        } else {
                            failed.push(format!(
                                "a podSelector alone only looks in the policy's own namespace {policy_ns}, but {name} is in {}; add a namespaceSelector to the same peer to reach other namespaces",
                                pod.namespace
                            ));
                            false
                        }
                    }
                    NamespaceScope::Selector(sel) => {
                        let labels = self
                            .snap
                            .namespace_labels(&pod.namespace)
                            .cloned()
                            .unwrap_or_default();
                        if sel.matches(&labels) {
                            if !sel.is_empty() {
                                matched.push(format!(
                                    "namespace {} matches namespaceSelector {}",
                                    pod.namespace,
                                    words::selector(sel)
                                ));
                            }
                            true
                        } else {
                            failed.push(format!(
                                "namespace {} does not match namespaceSelector {}: it lacks {}",
                                pod.namespace,
                                words::selector(sel),
                                sel.failures(&labels).join(", ")
                            ));
                            false
                        }
                    }
                };
                let pod_ok = if pods.matches(&pod.labels) {
                    if !pods.is_empty() {
                        matched.push(format!(
                            "pod {name} matches podSelector {}",
                            words::selector(pods)
                        ));
                    }
                    true
                } else {
                    failed.push(format!(
                        "pod {name} does not match podSelector {}: it lacks {}",
                        words::selector(pods),
                        pods.failures(&pod.labels).join(", ")
                    ));
                    false
                };
                let share = (ns_ok as u8 + pod_ok as u8) as f64 / 2.0;
                (share, matched, failed)
            }
        }
    }
}
