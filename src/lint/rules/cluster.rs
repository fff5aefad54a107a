//! Cluster-scoped policy (ClusterNetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy):
//! rules that can never decide, equal priorities that decide one connection differently, an
//! Admin Deny that cuts cluster DNS, subjects and peers that select nothing, and a Pass that
//! nothing below decides. The facts come from the engine (`engine::cluster_facts`).

use std::collections::BTreeMap;

use super::super::context::is_dns_pod;
use super::super::{Ctx, Finding, RuleInfo, Severity};
use super::selectors::{no_namespace_matches, SELECTS_NOTHING};
use super::{list_names, peer_path, rule_path};
use crate::engine::explain::default_probes;
use crate::engine::{words, ClusterRuleRef, Endpoint, Reason, Traffic};
use crate::model::{
    Action, ClusterPeer, ClusterPolicy, ClusterSubject, ClusterTier, Direction, LabelSelector,
    Probe, Protocol, Snapshot,
};

pub(crate) const UNREACHABLE: RuleInfo = RuleInfo {
    id: "cluster-rule-unreachable",
    severity: Severity::Warning,
    title: "a cluster policy rule that can never decide (an earlier rule always matches first)",
    why: "Within a tier the first matching rule decides: rules of a policy in written order, policies by ascending priority. A rule whose every connection an earlier rule (of the same policy, or of a policy with a lower priority number that applies to the same pods) already matches never takes effect, whatever its action.",
    fix: "Remove the rule, or move it before the rule that covers it (a lower priority number for its policy, or an earlier position in the same policy), or narrow that rule.",
};

pub(crate) const PRIORITY_TIE: RuleInfo = RuleInfo {
    id: "cluster-priority-tie",
    severity: Severity::Warning,
    title: "cluster policies of equal priority whose rules decide the same connection differently",
    why: "The order of cluster policies with the same priority in one tier is implementation-defined: one network plugin applies the Deny, another the Accept, and the answer can change on an upgrade.",
    fix: "Give the policies different priorities (lower number first), so the order is defined.",
};

pub(crate) const ADMIN_DNS: RuleInfo = RuleInfo {
    id: "admin-deny-dns",
    severity: Severity::Error,
    title: "an Admin-tier Deny that blocks cluster DNS (UDP 53 to kube-system k8s-app=kube-dns)",
    why: "An Admin Deny is final: no NetworkPolicy can allow the traffic back, so every name lookup of the pods it selects fails and nothing that uses Service names works.",
    fix: "Put a rule for DNS before the Deny (in the same policy, or in a policy with a lower priority number):\n- name: allow-dns\n  action: Accept\n  to:\n  - pods:\n      namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}\n      podSelector: {matchLabels: {k8s-app: kube-dns}}\n  protocols:\n  - udp: {destinationPort: {number: 53}}\n  - tcp: {destinationPort: {number: 53}}",
};

pub(crate) const PASS_ALLOWS: RuleInfo = RuleInfo {
    id: "pass-allows",
    severity: Severity::Warning,
    title: "a Pass that nothing below decides: it allows, as Accept would",
    why: "Pass hands the connection to the next tier; when no NetworkPolicy isolates the pods in that direction and no Baseline rule matches (or the Pass is in the Baseline tier), the default allows it. Readers take Pass for \"the team decides\", but here it means allowed.",
    fix: "If allowing is meant, write Accept so the rule reads as it acts. If the namespaces' own policies should decide, give those pods a NetworkPolicy that isolates them (a default deny) or add a Baseline rule that decides.",
};

/// `rule 'name' (spec.egress[1])`, or `rule 1 (spec.egress[1])` for a rule without a name.
fn rule_words(cp: &ClusterPolicy, dir: Direction, rule: usize) -> String {
    format!(
        "rule {} ({})",
        words::cluster_rule_label(&cp.rules(dir)[rule], rule),
        rule_path(dir, rule)
    )
}

fn rule_ref_words(cp: &ClusterPolicy, r: ClusterRuleRef) -> String {
    rule_words(cp, r.direction, r.rule)
}

fn traffic_words(t: &Traffic, describe: &dyn Fn(usize) -> String) -> String {
    let ep = |e: Endpoint| match e {
        Endpoint::Pod(p) => describe(p),
        Endpoint::Ip(ip) => ip.to_string(),
    };
    format!(
        "{} -> {} {} {}",
        ep(t.from),
        ep(t.to),
        t.probe.protocol,
        t.probe.port
    )
}

pub(crate) fn unreachable(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let cps = &ctx.snap.cluster_policies;
    for u in ctx.engine.unreachable_cluster_rules() {
        let cp = &cps[u.rule.policy];
        let by_cp = &cps[u.by.policy];
        let action = by_cp.rules(u.by.direction)[u.by.rule].action;
        let message = if u.by.policy == u.rule.policy {
            format!(
                "{} can never decide: {} of the same policy comes first and matches every connection it matches ({action})",
                rule_ref_words(cp, u.rule),
                rule_ref_words(cp, u.by)
            )
        } else {
            format!(
                "{} can never decide: {} {} of {} (priority {}, before this policy's {}) applies to every pod this policy selects and matches every connection the rule matches, so it always decides first ({action})",
                rule_ref_words(cp, u.rule),
                by_cp.tier,
                rule_ref_words(by_cp, u.by),
                by_cp.key(),
                by_cp.priority,
                cp.priority
            )
        };
        out.push(Finding::cluster_policy(
            &UNREACHABLE,
            cp,
            Some(rule_path(u.rule.direction, u.rule.rule)),
            message,
        ));
    }
}

/// Every (protocol, port) the policies and pods name.
fn lint_probes(snap: &Snapshot, pods: &[usize]) -> Vec<Probe> {
    let mut probes = default_probes(snap, pods);
    if probes.is_empty() {
        // Rules without ports match any probe: one stands for all.
        probes.push(Probe::new(Protocol::Tcp, 80));
    }
    probes
}

pub(crate) fn priority_tie(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let aug = ctx.aug;
    let pods: Vec<usize> = aug.snap.endpoint_pods().map(|(i, _)| i).collect();
    let probes = lint_probes(&ctx.aug.snap, &pods);
    let describe = |p: usize| aug.describe(p);
    for tie in ctx.aug_engine.cluster_priority_ties(&pods, &probes) {
        let cps = &ctx.snap.cluster_policies;
        let (a, b) = (tie.first.0, tie.second.0);
        let (pa, pb) = (&cps[a.policy], &cps[b.policy]);
        let dir = a.direction;
        out.push(Finding::cluster_policy(
            &PRIORITY_TIE,
            pa,
            Some(rule_path(dir, a.rule)),
            format!(
                "{} and {} have the same priority {} in the {} tier and decide {} ({dir}) differently: {} of {} would {}, {} of {} would {}; which one applies is up to the network plugin",
                pa.key(),
                pb.key(),
                pa.priority,
                pa.tier,
                traffic_words(&tie.example, &describe),
                rule_ref_words(pa, a),
                pa.key(),
                tie.first.1,
                rule_ref_words(pb, b),
                pb.key(),
                tie.second.1,
            ),
        ).fix(format!(
            "Give {} and {} different priorities (lower number first), so the order is defined.",
            pa.key(),
            pb.key()
        )));
    }
}

pub(crate) fn admin_dns(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let aug = ctx.aug;
    let engine = ctx.aug_engine;
    let probe = Probe::new(Protocol::Udp, 53);
    let mut denied: BTreeMap<ClusterRuleRef, Vec<usize>> = BTreeMap::new();
    for (pod, p) in aug.snap.endpoint_pods() {
        if is_dns_pod(p) {
            continue;
        }
        for &dns in &aug.dns {
            let v = engine.verdict(&Traffic {
                from: Endpoint::Pod(pod),
                to: Endpoint::Pod(dns),
                probe,
            });
            for half in [v.egress, v.ingress] {
                if let (false, "admin", Reason::ClusterRule(r)) =
                    (half.allowed, half.tier, half.reason)
                {
                    let pods = denied.entry(r).or_default();
                    if !pods.contains(&pod) {
                        pods.push(pod);
                    }
                }
            }
        }
    }
    let dns_name = if aug.dns_virtual {
        "the cluster DNS (kube-system pods k8s-app=kube-dns)".to_string()
    } else {
        let names: Vec<String> = aug.dns.iter().map(|&p| aug.describe(p)).collect();
        list_names(&names, 3)
    };
    for (r, pods) in denied {
        let cp = &ctx.snap.cluster_policies[r.policy];
        let who: Vec<String> = pods.iter().map(|&p| aug.describe(p)).collect();
        let how = match r.direction {
            Direction::Egress => format!("UDP 53 from {} to {dns_name}", list_names(&who, 4)),
            Direction::Ingress => format!("UDP 53 into {dns_name} from {}", list_names(&who, 4)),
        };
        out.push(Finding::cluster_policy(
            &ADMIN_DNS,
            cp,
            Some(rule_path(r.direction, r.rule)),
            format!(
                "admin {} {} denies {how}: name lookups fail, and no NetworkPolicy can allow it back",
                cp.key(),
                rule_ref_words(cp, r)
            ),
        ));
    }
}

pub(crate) fn pass_allows(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let cps = &ctx.snap.cluster_policies;
    // A Baseline Pass has only the default after it.
    for cp in cps.iter().filter(|c| c.tier == ClusterTier::Baseline) {
        for dir in Direction::BOTH {
            for (ri, rule) in cp.rules(dir).iter().enumerate() {
                if rule.action == Action::Pass {
                    out.push(Finding::cluster_policy(
                        &PASS_ALLOWS,
                        cp,
                        Some(rule_path(dir, ri)),
                        format!(
                            "{} is a Pass in the Baseline tier: only the default comes after Baseline, so it allows exactly as Accept would",
                            rule_words(cp, dir, ri)
                        ),
                    ));
                }
            }
        }
    }
    // An Admin Pass: judged on the input's own pods (made-up pods have no team policies).
    let pods: Vec<usize> = ctx.snap.endpoint_pods().map(|(i, _)| i).collect();
    let probes = lint_probes(ctx.snap, &pods);
    let describe = |p: usize| ctx.snap.pods[p].key();
    for (r, o) in ctx.engine.pass_outcomes(&pods, &probes) {
        let cp = &cps[r.policy];
        if cp.tier != ClusterTier::Admin || o.decided_below > 0 {
            continue;
        }
        let Some(example) = o.example else {
            continue;
        };
        let subject = match r.direction {
            Direction::Egress => example.from,
            Direction::Ingress => example.to,
        };
        let subject = match subject {
            Endpoint::Pod(p) => describe(p),
            Endpoint::Ip(ip) => ip.to_string(),
        };
        out.push(Finding::cluster_policy(
            &PASS_ALLOWS,
            cp,
            Some(rule_path(r.direction, r.rule)),
            format!(
                "{} passes to NetworkPolicy, but nothing below decides any connection it passes: no NetworkPolicy isolates {subject} (or the other pods it passes) for {} and no Baseline rule matches, so the Pass allows, as Accept would (e.g. {})",
                rule_ref_words(cp, r),
                r.direction,
                traffic_words(&example, &describe)
            ),
        ));
    }
}

/// The selector a subject or peer puts on namespaces and pods (None for addresses and names).
fn selectors(subject: &ClusterSubject) -> (&LabelSelector, Option<&LabelSelector>) {
    match subject {
        ClusterSubject::Namespaces(ns) => (ns, None),
        ClusterSubject::Pods(p) => (&p.namespaces, Some(&p.pods)),
    }
}

/// Does any namespace of the input match `s`?
fn matches_a_namespace(ctx: &Ctx<'_>, s: &LabelSelector) -> bool {
    ctx.snap.namespaces.values().any(|n| s.matches(&n.labels))
}

/// The cluster policy's subject: contradictory, in no namespace, or (all pods known) on no pod.
fn subject_selects_nothing(ctx: &Ctx<'_>, i: usize, cp: &ClusterPolicy, out: &mut Vec<Finding>) {
    let (ns, pods) = selectors(&cp.subject);
    let field = match &cp.subject {
        ClusterSubject::Namespaces(_) => "spec.subject.namespaces",
        ClusterSubject::Pods(_) => "spec.subject.pods",
    };
    if !ns.satisfiable() || pods.is_some_and(|p| !p.satisfiable()) {
        out.push(
            Finding::cluster_policy(
                &SELECTS_NOTHING,
                cp,
                Some(field.into()),
                format!("{field} contradicts itself: the policy can never apply to any pod"),
            )
            .severity(Severity::Error),
        );
    } else if !matches_a_namespace(ctx, ns) {
        if let Some((severity, message, fix)) = no_namespace_matches(ctx, ns, field) {
            out.push(
                Finding::cluster_policy(&SELECTS_NOTHING, cp, Some(field.into()), message)
                    .severity(severity)
                    .fix(fix),
            );
        }
    } else if ctx.complete.pods && ctx.engine.cluster_selected_pods(i).is_empty() {
        out.push(Finding::cluster_policy(
            &SELECTS_NOTHING,
            cp,
            Some(field.into()),
            format!("{field} selects no pod of the cluster: the policy applies to nothing"),
        ));
    }
}

pub(crate) fn selects_nothing(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let matches_namespace = |s: &LabelSelector| matches_a_namespace(ctx, s);
    for (i, cp) in ctx.snap.cluster_policies.iter().enumerate() {
        subject_selects_nothing(ctx, i, cp, out);
        for dir in Direction::BOTH {
            for (ri, rule) in cp.rules(dir).iter().enumerate() {
                for (k, peer) in rule.peers.iter().enumerate() {
                    let path = peer_path(dir, ri, k);
                    let label = words::cluster_rule_label(rule, ri);
                    let (ns, pods) = match peer {
                        ClusterPeer::Namespaces(ns) => (ns, None),
                        ClusterPeer::Pods(p) => (&p.namespaces, Some(&p.pods)),
                        ClusterPeer::Nodes(n) if !n.satisfiable() => {
                            out.push(Finding::cluster_policy(&SELECTS_NOTHING, cp, Some(path.clone()), format!("{path} (nodes) contradicts itself: rule {label} can never match through it")).severity(Severity::Error));
                            continue;
                        }
                        _ => continue,
                    };
                    if !peer.satisfiable() {
                        out.push(
                            Finding::cluster_policy(
                                &SELECTS_NOTHING,
                                cp,
                                Some(path.clone()),
                                format!("{path} contradicts itself: rule {label} can never match through it"),
                            )
                            .severity(Severity::Error),
                        );
                    } else if !matches_namespace(ns) {
                        if let Some((severity, message, fix)) = no_namespace_matches(ctx, ns, &path)
                        {
                            out.push(
                                Finding::cluster_policy(&SELECTS_NOTHING, cp, Some(path), message)
                                    .severity(severity)
                                    .fix(fix),
                            );
                        }
                    } else if pods.is_some()
                        && ctx.complete.pods
                        && !ctx.snap.endpoint_pods().any(|(p, _)| {
                            ctx.engine
                                .cluster_peer_matches(i, dir, ri, k, Endpoint::Pod(p))
                        })
                    {
                        out.push(Finding::cluster_policy(
                            &SELECTS_NOTHING,
                            cp,
                            Some(path.clone()),
                            format!("{path} matches no pod of the cluster, so rule {label} never matches through it"),
                        ));
                    }
                }
            }
        }
    }
}
