//! One class chain: what a set of isolating NetworkPolicies allows in one direction. Every
//! (peer, port) combination of every rule of every isolating policy RETURNs (so the other
//! direction is still checked); what no rule allows reaches the DROP at the end.

use super::peers::{PeerMatch, PeerScope};
use super::rules::{Action, Match, PortRange, Rule, Side};
use super::{nflog_rule, FamilyCompiler};
use crate::engine::ports::{port_target, PortTarget};
use crate::engine::{ClassId, RuleRef};
use crate::model::Direction;

/// Where a rule's peer is, as seen from the pod the chain checks.
fn peer_side(dir: Direction) -> Side {
    match dir {
        Direction::Ingress => Side::Source,
        Direction::Egress => Side::Destination,
    }
}

fn allow(matches: Vec<Match>, comment: &str) -> Rule {
    Rule::new(matches, Some(comment.to_string()), Action::Return)
}

impl FamilyCompiler<'_, '_> {
    /// The rules of the chain `chain` that checks `class` in `dir`.
    pub(super) fn class_chain(&mut self, chain: &str, class: ClassId, dir: Direction) -> Vec<Rule> {
        let snap = self.engine.snap;
        let policies = self.engine.class_isolating(class, dir).to_vec();
        let mut out = Vec::new();
        for &policy in &policies {
            for rule in 0..snap.policies[policy].rules(dir).len() {
                let at = RuleRef {
                    policy,
                    direction: dir,
                    rule,
                };
                self.policy_rule(&mut out, class, at);
            }
        }
        if let Some(log) = self.log_drops {
            out.push(nflog_rule(log, chain));
        }
        let names: Vec<String> = policies.iter().map(|&p| snap.policies[p].key()).collect();
        out.push(Rule::new(
            Vec::new(),
            Some(format!("{dir} isolated by {}", names.join(","))),
            Action::Drop,
        ));
        out
    }

    /// The rules for one rule of a policy: one per (peer, port) it allows.
    fn policy_rule(&mut self, out: &mut Vec<Rule>, class: ClassId, at: RuleRef) {
        let RuleRef {
            policy,
            direction: dir,
            rule,
        } = at;
        let pol = &self.engine.snap.policies[policy];
        let written = &pol.rules(dir)[rule];
        let comment = format!("{} {dir} rule {rule}", pol.key());
        // Every peer's set exists before the ports are looked at (named egress ports use
        // their own sets, but the peer's set is part of the ruleset all the same).
        let peers: Vec<(PeerScope, PeerMatch)> = if written.peers.is_empty() {
            vec![(PeerScope::AllPods, PeerMatch::Any)]
        } else {
            (0..written.peers.len())
                .filter_map(|i| {
                    let m = self.peer_match(policy, dir, rule, i)?;
                    Some((PeerScope::Peer(i), m))
                })
                .collect()
        };
        let ports: Vec<Option<PortTarget>> = if written.ports.is_empty() {
            vec![None]
        } else {
            written.ports.iter().map(|p| Some(port_target(p))).collect()
        };
        for (scope, peer) in &peers {
            let mut base = Vec::new();
            if let PeerMatch::Set(set) = peer {
                base.push(Match::in_set(set, peer_side(dir)));
            }
            for port in &ports {
                let with = |extra: Vec<Match>| [base.clone(), extra].concat();
                match port {
                    None => out.push(allow(base.clone(), &comment)),
                    Some(PortTarget::Fixed(range)) => {
                        out.push(allow(with(vec![Match::Ports(*range)]), &comment))
                    }
                    Some(PortTarget::Named { name, protocol }) => {
                        let named = self.named_port(class, at, *scope, name, *protocol);
                        out.extend(named.into_iter().map(|(set, range)| {
                            let matches = match set {
                                Some(set) => vec![Match::in_set(&set, Side::Destination)],
                                None => base.clone(),
                            };
                            allow([matches, vec![Match::Ports(range)]].concat(), &comment)
                        }));
                    }
                }
            }
        }
    }

    /// A named port as (the set that replaces the peer's, the port): on ingress the name
    /// means the checked pod's own port (one number, the peer's set stays); on egress each
    /// destination's, so the peer's pods are split into one set per number.
    fn named_port(
        &mut self,
        class: ClassId,
        at: RuleRef,
        scope: PeerScope,
        name: &str,
        protocol: crate::model::Protocol,
    ) -> Vec<(Option<String>, PortRange)> {
        let range = |n: u16| PortRange {
            protocol,
            ports: Some((n, n)),
        };
        match at.direction {
            Direction::Ingress => {
                let rep = self.engine.class_members(class)[0];
                let n = self.engine.resolve_named_port(rep, name, protocol);
                n.map(|n| (None, range(n))).into_iter().collect()
            }
            Direction::Egress => self
                .named_port_sets(at.policy, at.rule, scope, name, protocol)
                .into_iter()
                .map(|(n, set)| (Some(set), range(n)))
                .collect(),
        }
    }
}
