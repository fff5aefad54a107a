//! Facts about cluster policies that `lint` asks: rules that can never decide, rules of
//! equal-priority policies that decide the same connection differently, and where a `Pass`
//! really ends. The symbolic ones (coverage) hold for every cluster; the others are answered
//! with the verdict pipeline on the pods given.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use super::cluster::ClusterRuleRef;
use super::{Endpoint, Engine, Traffic};
use crate::model::{Action, ClusterPeer, ClusterTier, Direction, Probe};

/// A cluster rule that can never decide: `by` decides every connection it would match first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unreachable {
    pub rule: ClusterRuleRef,
    pub by: ClusterRuleRef,
}

/// Two rules of equal-priority policies of one tier that both match `example` and would decide
/// it differently: the answer depends on the order the network plugin gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriorityTie {
    pub first: (ClusterRuleRef, Action),
    pub second: (ClusterRuleRef, Action),
    pub example: Traffic,
}

/// Where the connections a `Pass` rule sends on end up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassOutcome {
    /// Connections passed on and then decided by a lower tier (counting stops at the first).
    pub decided_below: usize,
    /// Passed on and decided by no tier: allowed by default, as if the rule said Accept.
    pub allowed_by_default: usize,
    /// One connection that reached the default.
    pub example: Option<Traffic>,
}

impl Engine<'_> {
    /// Cluster rules that can never decide: an earlier rule of the same policy, or a rule of a
    /// policy of the same tier with a lower priority number whose subject covers this policy's,
    /// matches every connection this rule matches (whatever its action: the first match
    /// ends the tier). Judged on the rules themselves, so it holds in every cluster.
    pub fn unreachable_cluster_rules(&self) -> Vec<Unreachable> {
        let cps = &self.snap.cluster_policies;
        let mut out = Vec::new();
        for (p, cp) in cps.iter().enumerate() {
            for dir in Direction::BOTH {
                for (j, rule) in cp.rules(dir).iter().enumerate() {
                    if !rule.peers.iter().any(|x| x.satisfiable()) {
                        continue;
                    }
                    let at = |policy, rule| ClusterRuleRef {
                        policy,
                        direction: dir,
                        rule,
                    };
                    let same_policy = (0..j).find(|&i| cp.rules(dir)[i].covers(rule));
                    let earlier_policy = || {
                        cps.iter().enumerate().find_map(|(q, other)| {
                            (other.tier == cp.tier
                                && other.priority < cp.priority
                                && other.subject.covers(&cp.subject))
                            .then(|| other.rules(dir).iter().position(|r| r.covers(rule)))
                            .flatten()
                            .map(|i| at(q, i))
                        })
                    };
                    let by = same_policy.map(|i| at(p, i)).or_else(earlier_policy);
                    if let Some(by) = by {
                        out.push(Unreachable { rule: at(p, j), by });
                    }
                }
            }
        }
        out
    }

    /// Ordered pairs of distinct pods standing for every pair of classes among `pods` (one
    /// pod per class, and two pods of one class for traffic inside it). hostNetwork pods are
    /// left out: cluster policies neither select nor (by selector) match them.
    pub fn representative_pairs(&self, pods: &[usize]) -> Vec<(usize, usize)> {
        let mut by_class: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for &p in pods {
            if let Some(c) = self.class_of(p) {
                let members = by_class.entry(c).or_default();
                if members.len() < 2 {
                    members.push(p);
                }
            }
        }
        let mut out = Vec::new();
        for (a, ma) in &by_class {
            for (b, mb) in &by_class {
                if a != b {
                    out.push((ma[0], mb[0]));
                } else if ma.len() == 2 {
                    out.push((ma[0], ma[1]));
                }
            }
        }
        out
    }

    /// Addresses inside the `networks` peers of cluster rules: the outside endpoints that
    /// egress rules can match.
    fn cluster_network_samples(&self) -> Vec<IpAddr> {
        let mut set = BTreeSet::new();
        for cp in &self.snap.cluster_policies {
            for rule in &cp.egress {
                for peer in &rule.peers {
                    if let ClusterPeer::Networks(blocks) = peer {
                        set.extend(blocks.iter().map(|b| b.cidr.network()));
                    }
                }
            }
        }
        set.into_iter().collect()
    }

    /// Rules of equal-priority policies that decide some connection among `pods` (and the
    /// addresses of `networks` peers) differently, each pair once with its first example.
    /// Only subjects that two policies of one tier and priority select can tie.
    pub fn cluster_priority_ties(&self, pods: &[usize], probes: &[Probe]) -> Vec<PriorityTie> {
        let mut out: Vec<PriorityTie> = Vec::new();
        let mut seen = BTreeSet::new();
        let cps = &self.snap.cluster_policies;
        let tied_subject = |p: usize| {
            let mut keys = BTreeSet::new();
            !self
                .cluster_subject_of(p)
                .iter()
                .all(|&i| keys.insert((cps[i].tier, cps[i].priority)))
        };
        let pairs = self.representative_pairs(pods);
        let ips = self.cluster_network_samples();
        for dir in Direction::BOTH {
            let mut connections: Vec<(Endpoint, Endpoint)> = Vec::new();
            for &(a, b) in &pairs {
                let subject = match dir {
                    Direction::Egress => a,
                    Direction::Ingress => b,
                };
                if tied_subject(subject) {
                    connections.push((Endpoint::Pod(a), Endpoint::Pod(b)));
                }
            }
            if dir == Direction::Egress {
                for &p in pods.iter().filter(|&&p| tied_subject(p)) {
                    connections.extend(ips.iter().map(|&ip| (Endpoint::Pod(p), Endpoint::Ip(ip))));
                }
            }
            for (from, to) in connections {
                for &probe in probes {
                    let t = Traffic { from, to, probe };
                    for tier in [ClusterTier::Admin, ClusterTier::Baseline] {
                        let trace = self.cluster_trace(tier, &t, dir);
                        let Some(first) = trace.decided else {
                            continue;
                        };
                        for &second in &trace.tied {
                            if second.1 != first.1 && seen.insert((first.0, second.0)) {
                                out.push(PriorityTie {
                                    first,
                                    second,
                                    example: t,
                                });
                            }
                        }
                    }
                }
            }
        }
        out
    }

    /// For every Admin `Pass` rule: where the connections among `pods` that it passes end up
    /// (a lower tier decides, or the default allows). Stops counting a rule once a lower tier
    /// has decided for it: one such connection is enough to say the Pass hands over.
    pub fn pass_outcomes(
        &self,
        pods: &[usize],
        probes: &[Probe],
    ) -> BTreeMap<ClusterRuleRef, PassOutcome> {
        let mut out: BTreeMap<ClusterRuleRef, PassOutcome> = BTreeMap::new();
        let pairs = self.representative_pairs(pods);
        for (policy, cp) in self.snap.cluster_policies.iter().enumerate() {
            if cp.tier != ClusterTier::Admin {
                continue;
            }
            for dir in Direction::BOTH {
                for (rule, r) in cp.rules(dir).iter().enumerate() {
                    if r.action != Action::Pass {
                        continue;
                    }
                    let at = ClusterRuleRef {
                        policy,
                        direction: dir,
                        rule,
                    };
                    let mut o = PassOutcome::default();
                    'pairs: for &(a, b) in &pairs {
                        let subject = match dir {
                            Direction::Egress => a,
                            Direction::Ingress => b,
                        };
                        if !self.cluster_subject_of(subject).contains(&policy) {
                            continue;
                        }
                        for &probe in probes {
                            let t = Traffic {
                                from: Endpoint::Pod(a),
                                to: Endpoint::Pod(b),
                                probe,
                            };
                            if !self.cluster_rule_matches(policy, dir, rule, &t) {
                                continue;
                            }
                            let half = self.half(&t, dir);
                            if half.passed[0] != Some(at) {
                                continue;
                            }
                            if half.tier == "default" {
                                o.allowed_by_default += 1;
                                o.example.get_or_insert(t);
                            } else {
                                o.decided_below += 1;
                                break 'pairs;
                            }
                        }
                    }
                    if o.decided_below + o.allowed_by_default > 0 {
                        out.insert(at, o);
                    }
                }
            }
        }
        out
    }
}
