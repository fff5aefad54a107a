//! One class chain: what the policies of a class decide in one direction. The cluster tiers
//! around the NetworkPolicy part are laid out in `tiers`. In the NetworkPolicy part, every
//! (peer, port) combination of every rule of every isolating policy RETURNs (so the other
//! direction is still checked); what no rule allows reaches the DROP at the end.

use super::peers::{PeerMatch, PeerScope};
use super::rules::{Action, Match, PortRange, Rule, Side};
use super::tiers::{peer_side, Section};
use super::{nflog_rule, ChainInfo, FamilyCompiler};
use crate::engine::ports::{port_target, PortTarget};
use crate::engine::{ClassId, RuleRef};
use crate::model::{ClusterTier, Direction};

/// The chain a class chain continues in after the Admin tier (see `tiers`).
pub(super) fn after_admin_chain(chain: &str) -> String {
    format!("{chain}-R")
}

fn allow(matches: Vec<Match>, comment: &str) -> Rule {
    Rule::new(matches, Some(comment.to_string()), Action::Return)
}

impl FamilyCompiler<'_, '_> {
    /// The policies that decide a class chain, in evaluation order: Admin, NetworkPolicy,
    /// Baseline (`ns/name`, `cnp/name`, ...).
    pub(super) fn chain_policies(&self, class: ClassId, dir: Direction) -> Vec<String> {
        let snap = self.engine.snap;
        let cluster = |tier| {
            self.engine
                .class_cluster_policies(class, tier, dir)
                .into_iter()
                .map(|p| snap.cluster_policies[p].key())
        };
        let namespaced = self.engine.class_isolating(class, dir).iter();
        cluster(ClusterTier::Admin)
            .chain(namespaced.map(|&p| snap.policies[p].key()))
            .chain(cluster(ClusterTier::Baseline))
            .collect()
    }

    /// The rules of the chain `chain` that checks `class` in `dir`: the Admin tier, then (in
    /// `chain`, or in the chain after it when Admin rules exist) the rest.
    pub(super) fn class_chain(&mut self, chain: &str, class: ClassId, dir: Direction) -> Vec<Rule> {
        let admin = self
            .engine
            .class_cluster_policies(class, ClusterTier::Admin, dir);
        if admin.is_empty() {
            return self.after_admin(chain, class, dir);
        }
        let rest_chain = after_admin_chain(chain);
        let rest = self.after_admin(&rest_chain, class, dir);
        let pass = match rest.is_empty() {
            true => Action::Return,
            false => Action::Goto(rest_chain.clone()),
        };
        let section = Section {
            chain,
            class,
            dir,
            pass: pass.clone(),
        };
        let mut out = Vec::new();
        for policy in admin {
            self.cluster_policy_rules(&mut out, &section, policy);
        }
        if !rest.is_empty() {
            out.push(Rule::new(
                Vec::new(),
                Some("no admin rule decided".into()),
                pass,
            ));
            let info = ChainInfo {
                direction: dir,
                policies: self.chain_policies(class, dir),
            };
            self.chain_info.entry(rest_chain.clone()).or_insert(info);
            self.chains.insert(rest_chain, rest);
        }
        out
    }

    /// What decides after the Admin tier: NetworkPolicy when it isolates the class (final),
    /// else the Baseline tier (Pass and no match: allowed).
    fn after_admin(&mut self, chain: &str, class: ClassId, dir: Direction) -> Vec<Rule> {
        if !self.engine.class_isolating(class, dir).is_empty() {
            return self.namespaced_chain(chain, class, dir);
        }
        let section = Section {
            chain,
            class,
            dir,
            pass: Action::Return,
        };
        let mut out = Vec::new();
        for policy in self
            .engine
            .class_cluster_policies(class, ClusterTier::Baseline, dir)
        {
            self.cluster_policy_rules(&mut out, &section, policy);
        }
        out
    }

    /// The NetworkPolicy part: each allowed (peer, port) RETURNs, the rest is dropped.
    fn namespaced_chain(&mut self, chain: &str, class: ClassId, dir: Direction) -> Vec<Rule> {
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
