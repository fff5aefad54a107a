//! Egress: isolation that forgets DNS, and egress that opens the cloud metadata service.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::super::context::is_dns_pod;
use super::super::{Ctx, Finding, RuleInfo, Severity};
use super::{list_names, peer_path, rule_path};
use crate::engine::{Endpoint, Traffic};
use crate::model::{Direction, Peer, Probe, Protocol};

pub(crate) const NO_DNS: RuleInfo = RuleInfo {
    id: "egress-without-dns",
    severity: Severity::Warning,
    title: "egress isolation without DNS egress (UDP 53 to kube-dns)",
    why: "Once a pod is isolated for egress, DNS is denied like everything else unless a rule allows it: every name lookup times out and nothing that uses Service names works.",
    fix: "Allow DNS to the cluster DNS pods, e.g. add to spec.egress:\n- to:\n  - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}\n    podSelector: {matchLabels: {k8s-app: kube-dns}}\n  ports:\n  - {protocol: UDP, port: 53}\n  - {protocol: TCP, port: 53}",
};

pub(crate) const METADATA: RuleInfo = RuleInfo {
    id: "metadata-egress",
    severity: Severity::Warning,
    title: "egress that also opens the cloud metadata address 169.254.169.254",
    why: "The cloud metadata service hands out the node's credentials and instance data to anyone who asks on 169.254.169.254:80; an egress rule to 0.0.0.0/0 (or to anywhere) lets a compromised pod reach it.",
    fix: "Exclude the address: ipBlock: {cidr: 0.0.0.0/0, except: [169.254.169.254/32]} (and fd00:ec2::254/128 for IPv6 on AWS).",
};

/// The link-local address every major cloud serves instance metadata on, and AWS's IPv6 one.
const METADATA_IPS: &[&str] = &["169.254.169.254", "fd00:ec2::254"];

pub(crate) fn no_dns(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let aug = ctx.aug;
    let engine = ctx.aug_engine;
    let dns_probe = Probe::new(Protocol::Udp, 53);
    // Pods without DNS, grouped by the policies that isolate their egress.
    let mut groups: BTreeMap<Vec<usize>, Vec<usize>> = BTreeMap::new();
    for (pod, p) in aug.snap.endpoint_pods() {
        if is_dns_pod(p) || (aug.is_virtual(pod) && !aug.representatives.contains_key(&pod)) {
            continue;
        }
        let isolating = engine.isolating(pod, Direction::Egress);
        if isolating.is_empty() {
            continue;
        }
        let reaches_dns = aug.dns.iter().any(|&d| {
            engine
                .verdict(&Traffic {
                    from: Endpoint::Pod(pod),
                    to: Endpoint::Pod(d),
                    probe: dns_probe,
                })
                .egress
                .allowed
        });
        if !reaches_dns {
            groups.entry(isolating.to_vec()).or_default().push(pod);
        }
    }
    for (policies, pods) in groups {
        // Report on the broadest isolating policy: the one with an empty podSelector, if any.
        let Some(&primary) = policies
            .iter()
            .find(|&&i| aug.snap.policies[i].pod_selector.is_empty())
            .or(policies.first())
        else {
            continue;
        };
        let pol = &ctx.snap.policies[primary];
        let who: Vec<String> = pods.iter().map(|&p| aug.describe(p)).collect();
        let by: Vec<String> = policies
            .iter()
            .map(|&i| aug.snap.policies[i].key())
            .collect();
        let dns_name = if aug.dns_virtual {
            "the cluster DNS (kube-system pods k8s-app=kube-dns)".to_string()
        } else {
            let names: Vec<String> = aug.dns.iter().map(|&p| aug.describe(p)).collect();
            list_names(&names, 3)
        };
        let mut message = format!(
            "egress of {} is isolated (by {}) and no rule allows DNS: UDP 53 to {dns_name} is denied, so name lookups fail",
            list_names(&who, 4),
            list_names(&by, 4)
        );
        // An ipBlock rule open on port 53 looks like it covers DNS: say why it does not.
        let uses_ip_block = policies.iter().any(|&i| {
            aug.snap.policies[i].egress.iter().any(|r| {
                r.peers.iter().any(|x| matches!(x, Peer::IpBlock(_)))
                    && (r.ports.is_empty()
                        || r.ports.iter().any(|p| {
                            aug.dns
                                .iter()
                                .any(|&d| engine.port_matches(p, dns_probe, Endpoint::Pod(d)))
                        }))
            })
        });
        if uses_ip_block && aug.dns_virtual {
            message.push_str("; an ipBlock does not reach the DNS pods by selector, and the DNS Service IP does not count (policies see the pod address behind the Service)");
        }
        let field = if pol.types_explicit {
            "spec.policyTypes"
        } else {
            "spec.egress"
        };
        out.push(Finding::policy(&NO_DNS, pol, Some(field.into()), message));
    }
}

pub(crate) fn metadata(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let engine = ctx.engine;
    let ips: Vec<IpAddr> = METADATA_IPS.iter().filter_map(|s| s.parse().ok()).collect();
    for (pi, pol) in ctx.snap.policies.iter().enumerate() {
        if !pol.types_egress {
            continue;
        }
        for (ri, rule) in pol.egress.iter().enumerate() {
            let open: Vec<IpAddr> = ips
                .iter()
                .copied()
                .filter(|&ip| {
                    engine.rule_allows(
                        pi,
                        Direction::Egress,
                        ri,
                        &Traffic {
                            from: Endpoint::Ip(ip),
                            to: Endpoint::Ip(ip),
                            probe: Probe::new(Protocol::Tcp, 80),
                        },
                    )
                })
                .collect();
            let Some(&ip) = open.first() else {
                continue;
            };
            let (field, what) = if rule.peers.is_empty() {
                (
                    rule_path(Direction::Egress, ri),
                    "allows egress to anywhere".to_string(),
                )
            } else {
                let k = (0..rule.peers.len())
                    .find(|&k| engine.peer_matches(pi, Direction::Egress, ri, k, Endpoint::Ip(ip)))
                    .unwrap_or(0);
                let cidr = match &rule.peers[k] {
                    Peer::IpBlock(b) => b.cidr.to_string(),
                    Peer::Pods { .. } => String::new(),
                };
                (
                    peer_path(Direction::Egress, ri, k),
                    format!("allows egress to {cidr}"),
                )
            };
            let addrs = open
                .iter()
                .map(|ip| ip.to_string())
                .collect::<Vec<_>>()
                .join(" and ");
            out.push(Finding::policy(
                &METADATA,
                pol,
                Some(field.clone()),
                format!("{} {what}, which includes the cloud metadata address {addrs} (TCP 80): pods it selects can read the node's cloud credentials", rule_path(Direction::Egress, ri)),
            ));
        }
    }
}
