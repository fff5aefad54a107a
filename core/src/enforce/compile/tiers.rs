//! The cluster-scoped tiers (ClusterNetworkPolicy, AdminNetworkPolicy,
//! BaselineAdminNetworkPolicy) in a class chain. Per direction the chain of a class is:
//!
//! ```text
//! NETPOL-E-x   Admin rules in evaluation order: Accept → RETURN, Deny → DROP,
//!              Pass → goto NETPOL-ER-x; then goto NETPOL-ER-x
//! NETPOL-ER-x  isolated by NetworkPolicy: its allow rules RETURN, then DROP;
//!              else Baseline rules: Accept → RETURN, Deny → DROP, Pass → RETURN
//! ```
//!
//! RETURN leaves the direction allowed: the entry chain goes on to the other direction, so an
//! Accept on egress never skips the destination's ingress. A goto (`-g`) makes a RETURN in
//! NETPOL-ER-x return to the entry chain directly. Without Admin policies NETPOL-E-x holds what
//! NETPOL-ER-x would, so a cluster without cluster policies gets exactly the chains it had.
//! Policies come in the engine's evaluation order (ascending priority; equal priorities by
//! kind, then name, the order `explain` reports as deciding), rules in written order: iptables
//! takes the first match, as the tiers do.

use super::rules::{Action, Match, PortRange, Rule, SetKind, SetMember, Side};
use super::sets::{net_members, SetOrigin, SetSpec};
use super::{nflog_rule, FamilyCompiler};
use crate::engine::ports::named_ports_any_protocol;
use crate::engine::{cluster_port_target, ClassId, ClusterPortTarget, ClusterRuleRef};
use crate::model::{Action as Verdict, ClusterPeer, Direction};

/// Where a rule's peer is, as seen from the pod the chain checks.
pub(super) fn peer_side(dir: Direction) -> Side {
    match dir {
        Direction::Ingress => Side::Source,
        Direction::Egress => Side::Destination,
    }
}

/// Where cluster rules go: the chain (named in drop logs), the checked pods' class, the
/// direction, and what Pass does there.
pub(super) struct Section<'a> {
    pub chain: &'a str,
    pub class: ClassId,
    pub dir: Direction,
    pub pass: Action,
}

/// One peer of a cluster rule as matches on the packet.
enum ClusterPeerMatch {
    /// Addresses in this set.
    Set(String),
    /// Pods (named ports split them by number on egress), in this set.
    Pods(String),
}

impl FamilyCompiler<'_, '_> {
    /// The rules of one cluster policy for the checked pods of `section`.
    pub(super) fn cluster_policy_rules(
        &mut self,
        out: &mut Vec<Rule>,
        section: &Section,
        policy: usize,
    ) {
        let rules = self.engine.snap.cluster_policies[policy]
            .rules(section.dir)
            .len();
        for rule in 0..rules {
            let at = ClusterRuleRef {
                policy,
                direction: section.dir,
                rule,
            };
            self.cluster_rule(out, section, at);
        }
    }

    fn cluster_rule(&mut self, out: &mut Vec<Rule>, section: &Section, at: ClusterRuleRef) {
        let pol = &self.engine.snap.cluster_policies[at.policy];
        let written = &pol.rules(at.direction)[at.rule];
        let label = crate::engine::words::cluster_rule_label(written, at.rule);
        let comment = format!("{} {} {label} {}", pol.key(), at.direction, written.action);
        let side = peer_side(at.direction);
        for peer in 0..written.peers.len() {
            let Some(m) = self.cluster_peer_match(at, peer) else {
                continue;
            };
            let set = match &m {
                ClusterPeerMatch::Set(s) | ClusterPeerMatch::Pods(s) => s.clone(),
            };
            let base = vec![Match::in_set(&set, side)];
            let mut matches: Vec<Vec<Match>> = Vec::new();
            if written.ports.is_empty() {
                matches.push(base.clone());
            }
            for port in &written.ports {
                match cluster_port_target(port) {
                    ClusterPortTarget::Fixed(range) => {
                        matches.push([base.clone(), vec![Match::Ports(range)]].concat())
                    }
                    ClusterPortTarget::Named(name) => {
                        matches.extend(self.cluster_named_port(section.class, at, peer, &m, name))
                    }
                }
            }
            for m in matches {
                self.decide(out, section, m, &comment, written.action);
            }
        }
    }

    /// One rule per match list doing `verdict` (a Deny logged first when drops are logged).
    fn decide(
        &self,
        out: &mut Vec<Rule>,
        section: &Section,
        matches: Vec<Match>,
        comment: &str,
        verdict: Verdict,
    ) {
        let action = match verdict {
            Verdict::Accept => Action::Return,
            Verdict::Pass => section.pass.clone(),
            Verdict::Deny => {
                if let Some(log) = self.log_drops {
                    let mut logged = nflog_rule(log, section.chain);
                    logged.matches = [matches.clone(), logged.matches].concat();
                    out.push(logged);
                }
                Action::Drop
            }
        };
        out.push(Rule::new(matches, Some(comment.to_string()), action));
    }

    /// A named port as match lists: on ingress every (protocol, number) the name means on the
    /// checked pods; on egress each destination's own, so the peer's pods are split into one
    /// set per (protocol, number). Only pod peers can name ports (the API rejects the rest).
    fn cluster_named_port(
        &mut self,
        class: ClassId,
        at: ClusterRuleRef,
        peer: usize,
        m: &ClusterPeerMatch,
        name: &str,
    ) -> Vec<Vec<Match>> {
        let ClusterPeerMatch::Pods(set) = m else {
            return Vec::new();
        };
        match at.direction {
            Direction::Ingress => {
                let rep = self.engine.class_members(class)[0];
                named_ports_any_protocol(&self.engine.snap.pods[rep].ports, name)
                    .into_iter()
                    .map(|range| vec![Match::in_set(set, Side::Source), Match::Ports(range)])
                    .collect()
            }
            Direction::Egress => self
                .cluster_named_port_sets(at, peer, name)
                .into_iter()
                .map(|(set, range)| {
                    vec![Match::in_set(&set, Side::Destination), Match::Ports(range)]
                })
                .collect(),
        }
    }

    /// The destination pods of `classes` split by the (protocol, number) `name` means there.
    fn cluster_named_port_sets(
        &mut self,
        at: ClusterRuleRef,
        peer: usize,
        name: &str,
    ) -> Vec<(String, PortRange)> {
        // Many class chains share a rule: its split is worked out once.
        let cache_key = (at, peer, name.to_string());
        if let Some(done) = self.cluster_named.get(&cache_key) {
            return done.clone();
        }
        let classes = self
            .engine
            .cluster_peer_classes(at.policy, at.direction, at.rule, peer);
        let mut by_port: std::collections::BTreeMap<PortRange, Vec<ClassId>> = Default::default();
        for c in classes {
            let rep = self.engine.class_members(c)[0];
            for range in named_ports_any_protocol(&self.engine.snap.pods[rep].ports, name) {
                by_port.entry(range).or_default().push(c);
            }
        }
        let base = self.cluster_peer_key(at, peer);
        let pol = &self.engine.snap.cluster_policies[at.policy];
        let words =
            crate::engine::words::cluster_peer(&pol.rules(at.direction)[at.rule].peers[peer]);
        let sets = by_port
            .into_iter()
            .map(|(range, classes)| {
                let key = cluster_named_port_key(&base, name, range);
                let (protocol, number) = (range.protocol, range.ports.map_or(0, |p| p.0));
                let spec = || SetSpec {
                    kind: SetKind::HashIp,
                    comment: format!("{words} whose port {name} is {protocol} {number}"),
                    origin: SetOrigin::ClusterNamedPort {
                        policy: at.policy,
                        dir: at.direction,
                        rule: at.rule,
                        peer,
                        name: name.to_string(),
                        range,
                    },
                };
                let members = self.class_ips(classes);
                (self.sets.add(&key, "CN", spec, || members), range)
            })
            .collect::<Vec<_>>();
        self.cluster_named.insert(cache_key, sets.clone());
        sets
    }

    fn cluster_peer_key(&self, at: ClusterRuleRef, peer: usize) -> String {
        cluster_peer_key(self.engine.snap, at, peer)
    }

    /// A `networks` peer's CIDRs of this family, as set members.
    fn network_members(&self, blocks: &[crate::model::IpBlock]) -> Vec<SetMember> {
        let mut members: Vec<SetMember> = blocks
            .iter()
            .filter(|b| self.in_family(&b.cidr.addr()))
            .flat_map(|b| net_members(b.cidr))
            .map(|net| SetMember {
                net,
                nomatch: false,
            })
            .collect();
        members.sort();
        members.dedup();
        members
    }

    /// The addresses of this family of the Nodes a `nodes` peer selects.
    fn node_members(&mut self, at: ClusterRuleRef, idx: usize) -> Vec<SetMember> {
        let engine = self.engine;
        if engine.snap.nodes.is_empty() {
            // Every cluster has Nodes: none means they were not given (`-f`) or could not be
            // listed. Say so rather than match nothing in silence (notes are deduplicated).
            self.notes.push(format!(
                "{} {} rule {}: `nodes` peers match no node: there are no Node objects (give them with -f, or let the agent list nodes)",
                engine.snap.cluster_policies[at.policy].key(),
                at.direction,
                at.rule
            ));
        }
        engine
            .cluster_peer_node_addresses(at.policy, at.direction, at.rule, idx)
            .into_iter()
            .filter(|ip| self.in_family(ip))
            .map(SetMember::host)
            .collect()
    }

    /// The set matching a cluster peer in this family; None when it matches nothing here
    /// (`domainNames`: decided by DNS at run time, which iptables cannot see; noted).
    fn cluster_peer_match(&mut self, at: ClusterRuleRef, idx: usize) -> Option<ClusterPeerMatch> {
        let engine = self.engine;
        let pol = &engine.snap.cluster_policies[at.policy];
        let peer = &pol.rules(at.direction)[at.rule].peers[idx];
        let key = self.cluster_peer_key(at, idx);
        let comment = crate::engine::words::cluster_peer(peer);
        let spec = |kind, origin| {
            move || SetSpec {
                kind,
                comment,
                origin,
            }
        };
        let peer_origin = SetOrigin::ClusterPeer {
            policy: at.policy,
            dir: at.direction,
            rule: at.rule,
            peer: idx,
        };
        match peer {
            ClusterPeer::Namespaces(_) | ClusterPeer::Pods(_) => {
                // Many class chains share a peer: its members are worked out once.
                if let Some(set) = self.sets.named(&key) {
                    return Some(ClusterPeerMatch::Pods(set.to_string()));
                }
                let classes = engine.cluster_peer_classes(at.policy, at.direction, at.rule, idx);
                let members = self.class_ips(classes);
                let set = self
                    .sets
                    .add(&key, "C", spec(SetKind::HashIp, peer_origin), || members);
                Some(ClusterPeerMatch::Pods(set))
            }
            ClusterPeer::Networks(blocks) => {
                let members = self.network_members(blocks);
                if members.is_empty() {
                    return None;
                }
                let set = self.sets.add(
                    &key,
                    "CB",
                    spec(SetKind::HashNet, SetOrigin::ClusterAddresses),
                    || members,
                );
                Some(ClusterPeerMatch::Set(set))
            }
            ClusterPeer::Nodes(_) => {
                let members = self.node_members(at, idx);
                let set = self.sets.add(
                    &key,
                    "CH",
                    spec(SetKind::HashIp, SetOrigin::ClusterAddresses),
                    || members,
                );
                Some(ClusterPeerMatch::Set(set))
            }
            ClusterPeer::DomainNames(names) => {
                self.notes.push(format!(
                    "{} {} rule {}: domainNames ({}) are not enforced: they depend on DNS answers at run time",
                    pol.key(),
                    at.direction,
                    at.rule,
                    names.join(", ")
                ));
                None
            }
        }
    }
}

/// A stable description of what a cluster peer selects (equal peers give equal keys).
pub(super) fn cluster_peer_key(
    snap: &crate::model::Snapshot,
    at: ClusterRuleRef,
    peer: usize,
) -> String {
    let pol = &snap.cluster_policies[at.policy];
    match &pol.rules(at.direction)[at.rule].peers[peer] {
        ClusterPeer::Namespaces(ns) => format!("cluster namespaces {ns:?}"),
        ClusterPeer::Pods(p) => {
            format!("cluster pods nssel={:?} sel={:?}", p.namespaces, p.pods)
        }
        ClusterPeer::Networks(blocks) => {
            let cidrs: Vec<String> = blocks.iter().map(|b| b.cidr.to_string()).collect();
            format!("cluster networks {}", cidrs.join(","))
        }
        ClusterPeer::Nodes(sel) => format!("cluster nodes {sel:?}"),
        ClusterPeer::DomainNames(names) => format!("cluster domains {}", names.join(",")),
    }
}

/// The key of the set of a cluster peer's pods whose port `name` is `range`.
pub(super) fn cluster_named_port_key(peer_key: &str, name: &str, range: PortRange) -> String {
    format!("{peer_key} port {name}={range:?}")
}
