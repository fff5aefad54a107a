//! ipBlock: ranges that cover pod IPs, and CIDRs written with host bits set.

use super::super::{Ctx, Finding, RuleInfo, Severity};
use super::{list_names, peer_path};
use crate::engine::ip_block_contains;
use crate::model::{Direction, IpBlock, Peer, Policy};

pub(crate) const COVERS_PODS: RuleInfo = RuleInfo {
    id: "ipblock-covers-pods",
    severity: Severity::Warning,
    title: "an ipBlock range that covers pod IPs",
    why: "ipBlock is meant for addresses outside the cluster. Pod IPs change whenever pods are rescheduled, and CNIs disagree whether ipBlock applies to pod-to-pod traffic at all (the upstream conformance tests say it does; some CNIs apply it only to traffic leaving the cluster), so the same policy behaves differently from cluster to cluster.",
    fix: "Select pods with podSelector/namespaceSelector, and keep the pod network out of the ipBlock with except (e.g. except: [10.244.0.0/16]).",
};

pub(crate) const HOST_BITS: RuleInfo = RuleInfo {
    id: "cidr-host-bits",
    severity: Severity::Warning,
    title: "an ipBlock CIDR written with host bits set",
    why: "The API server accepts a CIDR with host bits set and uses only the network part: 10.0.1.1/4 means 0.0.0.0/4, a far wider range than it looks.",
    fix: "Write the network address the range really starts at, or a /32 (/128) for a single host.",
};

/// Default pod networks of common distributions, for inputs without pod IPs.
const COMMON_POD_CIDRS: &[(&str, &str)] = &[
    ("10.244.0.0/16", "kubeadm with flannel, kind"),
    ("10.42.0.0/16", "k3s, RKE2"),
    ("192.168.0.0/16", "Calico's default pool"),
];

/// Every ipBlock peer of a policy's rules: (field path, block, whether the direction is enforced).
fn ip_blocks(pol: &Policy) -> Vec<(String, &IpBlock, bool)> {
    let mut out = Vec::new();
    for dir in Direction::BOTH {
        for (ri, rule) in pol.rules(dir).iter().enumerate() {
            for (k, peer) in rule.peers.iter().enumerate() {
                if let Peer::IpBlock(b) = peer {
                    out.push((peer_path(dir, ri, k), b, pol.affects(dir)));
                }
            }
        }
    }
    out
}

pub(crate) fn covers_pods(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let with_ips: Vec<usize> = ctx
        .snap
        .endpoint_pods()
        .filter(|(_, p)| !p.ips.is_empty())
        .map(|(i, _)| i)
        .collect();
    let common: Vec<(ipnet::IpNet, &str)> = COMMON_POD_CIDRS
        .iter()
        .filter_map(|(c, who)| c.parse().ok().map(|n| (n, *who)))
        .collect();
    for pol in &ctx.snap.policies {
        for (path, block, enforced) in ip_blocks(pol) {
            // A /0 means "everywhere" on purpose; pods are part of everywhere.
            if !enforced || block.cidr.prefix_len() == 0 {
                continue;
            }
            if !with_ips.is_empty() {
                let covered: Vec<String> = with_ips
                    .iter()
                    .filter(|&&p| {
                        ctx.snap.pods[p]
                            .ips
                            .iter()
                            .any(|ip| ip_block_contains(block, *ip))
                    })
                    .map(|&p| ctx.snap.pods[p].key())
                    .collect();
                if !covered.is_empty() {
                    out.push(Finding::policy(
                        &COVERS_PODS,
                        pol,
                        Some(format!("{path}.ipBlock")),
                        format!(
                            "{path} (ipBlock {}) also matches the pod IPs of {}",
                            block.cidr,
                            list_names(&covered, 5)
                        ),
                    ));
                }
                continue;
            }
            let overlaps: Vec<String> = common
                .iter()
                .filter(|(net, _)| {
                    (block.cidr.contains(net) || net.contains(&block.cidr))
                        && !block.except.iter().any(|e| e.contains(net))
                })
                .map(|(net, who)| format!("{net} ({who})"))
                .collect();
            if !overlaps.is_empty() {
                out.push(
                    Finding::policy(
                        &COVERS_PODS,
                        pol,
                        Some(format!("{path}.ipBlock")),
                        format!(
                            "{path} (ipBlock {}) overlaps {}, a common default pod network: if the cluster's pods live there, this rule matches pod traffic by address",
                            block.cidr,
                            overlaps.join(", ")
                        ),
                    )
                    .severity(Severity::Info),
                );
            }
        }
    }
}

pub(crate) fn host_bits(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for pol in &ctx.snap.policies {
        for (path, block, _) in ip_blocks(pol) {
            let Ok(written) = block.cidr_text.trim().parse::<ipnet::IpNet>() else {
                continue;
            };
            if written.addr() != written.network() {
                out.push(
                    Finding::policy(
                        &HOST_BITS,
                        pol,
                        Some(format!("{path}.ipBlock.cidr")),
                        format!(
                            "cidr {} has host bits set: it means {}, which spans {}",
                            block.cidr_text.trim(),
                            block.cidr,
                            span(&block.cidr)
                        ),
                    )
                    .fix(format!(
                        "Write {} if that range is meant, or {}/{} for the single address",
                        block.cidr,
                        written.addr(),
                        written.max_prefix_len()
                    )),
                );
            }
        }
    }
}

/// "268435456 addresses (0.0.0.0 - 15.255.255.255)"
fn span(net: &ipnet::IpNet) -> String {
    let bits = u32::from(net.max_prefix_len() - net.prefix_len());
    let count = if bits >= 64 {
        format!("2^{bits}")
    } else {
        (1u128 << bits).to_string()
    };
    format!(
        "{count} addresses ({} - {})",
        net.network(),
        net.broadcast()
    )
}
