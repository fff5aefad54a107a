//! NetworkPolicy semantics (networking.k8s.io/v1). The only place in the project that knows
//! what a policy means: explain, matrix, probe's expected side, lint, diff, labs and the
//! enforcer's compiler all ask this module.
//!
//! Policies are compiled once: every pod gets an equivalence class (pods that every selector,
//! peer and named port treats alike), and every question is answered on classes. The verdict is
//! a pipeline of tiers so that cluster-scoped tiers (AdminNetworkPolicy / BaselineAdminNetworkPolicy)
//! can slot in before and after the namespaced tier.

mod bits;
mod classes;
pub mod cluster;
pub mod cluster_facts;
mod dataplane;
pub mod explain;
pub mod explain_cluster;
mod lint_facts;
pub mod matrix;
mod near_miss;
pub mod ports;
mod selector;
pub mod sets;
mod tier;
pub mod words;

use std::net::IpAddr;

use crate::model::{Direction, NamespaceScope, Peer, PolicyPort, PortSpec, Probe, Rule, Snapshot};

use ports::PortTarget;

pub use classes::ClassId;
pub use cluster::{ClusterRuleRef, ClusterTrace};
pub use dataplane::{cluster_port_target, ClusterPortTarget};
pub use near_miss::NearMiss;
pub use tier::{ClusterPolicyTier, Decision, NamespacedTier, Possible, Tier, TierOutcome};

/// One side of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// A pod of the snapshot (index into `Snapshot::pods`).
    Pod(usize),
    /// An address outside the cluster (or not known as a pod).
    Ip(IpAddr),
}

/// One connection attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Traffic {
    pub from: Endpoint,
    pub to: Endpoint,
    pub probe: Probe,
}

/// A rule of a policy: where a verdict came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleRef {
    pub policy: usize,
    pub direction: Direction,
    pub rule: usize,
}

/// Why one direction (egress of the source, or ingress of the destination) decided as it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// A pod talking to itself is never filtered.
    SelfTraffic,
    /// This side is not a pod of the cluster, so no policy applies to it.
    OutsideCluster,
    /// hostNetwork pods are not selected by NetworkPolicy.
    HostNetwork,
    /// No policy selects the pod for this direction: everything is allowed.
    NotIsolated,
    /// The rule that allowed it (the first one, in policy order).
    AllowedBy(RuleRef),
    /// Policies isolate the pod and no rule allows this; see `Engine::isolating` and
    /// `Engine::near_miss` for the words.
    NoRuleAllows,
    /// A cluster policy rule decided (its action: Accept allows, Deny denies).
    ClusterRule(ClusterRuleRef),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HalfVerdict {
    pub direction: Direction,
    pub allowed: bool,
    /// Which tier decided (`admin`, `namespaced`, `baseline`, or `default` when no tier had an
    /// opinion).
    pub tier: &'static str,
    pub reason: Reason,
    /// The cluster rules whose `Pass` led here: `[admin, baseline]`.
    pub passed: [Option<ClusterRuleRef>; 2],
    /// Some order of equal-priority cluster policies gives this direction the other answer.
    pub order_dependent: bool,
}

impl HalfVerdict {
    fn fixed(direction: Direction, tier: &'static str, reason: Reason) -> HalfVerdict {
        HalfVerdict {
            direction,
            allowed: true,
            tier,
            reason,
            passed: [None, None],
            order_dependent: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub allowed: bool,
    pub egress: HalfVerdict,
    pub ingress: HalfVerdict,
    /// The answer depends on how the network plugin orders cluster policies of equal priority:
    /// some order allows the connection and some other denies it.
    pub ambiguous: bool,
}

/// The compiled snapshot.
pub struct Engine<'s> {
    pub snap: &'s Snapshot,
    /// Built on first use: `explain pod` never needs them, and they cost more than the
    /// question on a big snapshot.
    classes: std::sync::OnceLock<classes::Classes>,
    tiers: Vec<Box<dyn Tier>>,
}

impl<'s> Engine<'s> {
    /// Compiles the snapshot with the full pipeline: Admin cluster policies, NetworkPolicy v1,
    /// Baseline cluster policies.
    pub fn new(snap: &'s Snapshot) -> Engine<'s> {
        Engine::with_tiers(
            snap,
            vec![
                Box::new(ClusterPolicyTier(crate::model::ClusterTier::Admin)),
                Box::new(NamespacedTier),
                Box::new(ClusterPolicyTier(crate::model::ClusterTier::Baseline)),
            ],
        )
    }

    /// Compiles with an explicit tier pipeline, evaluated in order; the first tier that allows
    /// or denies decides; when every tier passes, traffic is allowed.
    pub fn with_tiers(snap: &'s Snapshot, tiers: Vec<Box<dyn Tier>>) -> Engine<'s> {
        Engine {
            snap,
            classes: std::sync::OnceLock::new(),
            tiers,
        }
    }

    fn classes(&self) -> &classes::Classes {
        self.classes
            .get_or_init(|| classes::Classes::build(self.snap))
    }

    /// The class of a pod; None for hostNetwork pods.
    pub fn class_of(&self, pod: usize) -> Option<ClassId> {
        self.classes().pod_class[pod]
    }

    pub fn class_count(&self) -> usize {
        self.classes().list.len()
    }

    pub fn class_members(&self, class: ClassId) -> &[usize] {
        &self.classes().list[class].members
    }

    /// Policies that select the pod and have `dir` in their policyTypes, in snapshot order.
    pub fn isolating(&self, pod: usize, dir: Direction) -> &[usize] {
        match self.class_of(pod) {
            Some(c) => &self.classes().list[c].selected_by[dir_index(dir)],
            None => &[],
        }
    }

    /// As `isolating`, worked out for this pod alone (no classes needed: `explain pod`).
    pub fn isolating_pod(&self, pod: usize, dir: Direction) -> Vec<usize> {
        self.selecting(pod)
            .into_iter()
            .filter(|&i| self.snap.policies[i].affects(dir))
            .collect()
    }

    /// Every policy whose podSelector selects the pod, whatever its policyTypes.
    pub fn selecting(&self, pod: usize) -> Vec<usize> {
        let p = &self.snap.pods[pod];
        if p.host_network {
            return Vec::new();
        }
        self.snap
            .policies
            .iter()
            .enumerate()
            .filter(|(_, pol)| pol.namespace == p.namespace && pol.pod_selector.matches(&p.labels))
            .map(|(i, _)| i)
            .collect()
    }

    /// Pods (endpoint pods only) that a policy's podSelector selects.
    pub fn selected_pods(&self, policy: usize) -> Vec<usize> {
        let pol = &self.snap.policies[policy];
        self.snap
            .endpoint_pods()
            .filter(|(_, p)| p.namespace == pol.namespace && pol.pod_selector.matches(&p.labels))
            .map(|(i, _)| i)
            .collect()
    }

    /// The full verdict for one connection, with reasons.
    pub fn verdict(&self, t: &Traffic) -> Verdict {
        if let (Endpoint::Pod(a), Endpoint::Pod(b)) = (t.from, t.to) {
            if a == b {
                let half = |direction| HalfVerdict::fixed(direction, "self", Reason::SelfTraffic);
                return Verdict {
                    allowed: true,
                    egress: half(Direction::Egress),
                    ingress: half(Direction::Ingress),
                    ambiguous: false,
                };
            }
        }
        self.verdict_between_distinct(t)
    }

    /// As `verdict`, but never takes the self-traffic shortcut: used on class representatives,
    /// where "the same pod" stands for two different pods of one class.
    pub(crate) fn verdict_between_distinct(&self, t: &Traffic) -> Verdict {
        let egress = self.half(t, Direction::Egress);
        let ingress = self.half(t, Direction::Ingress);
        // Each direction may have either answer when it is order dependent.
        let can = |h: &HalfVerdict, allowed: bool| h.allowed == allowed || h.order_dependent;
        let ambiguous = can(&egress, true)
            && can(&ingress, true)
            && (can(&egress, false) || can(&ingress, false));
        Verdict {
            allowed: egress.allowed && ingress.allowed,
            egress,
            ingress,
            ambiguous,
        }
    }

    fn half(&self, t: &Traffic, dir: Direction) -> HalfVerdict {
        let subject = match dir {
            Direction::Egress => t.from,
            Direction::Ingress => t.to,
        };
        let outside = |reason| HalfVerdict::fixed(dir, "none", reason);
        match subject {
            Endpoint::Ip(_) => return outside(Reason::OutsideCluster),
            Endpoint::Pod(p) if self.snap.pods[p].host_network => {
                return outside(Reason::HostNetwork)
            }
            Endpoint::Pod(_) => {}
        }
        let mut chosen: Option<(bool, &'static str, Reason)> = None;
        let mut passed = [None, None];
        // Whether some order of equal priorities reaches this tier, allows, denies.
        let (mut reach, mut can_allow, mut can_deny) = (true, false, false);
        for tier in &self.tiers {
            if chosen.is_some() && !reach {
                break;
            }
            let o = tier.outcome(self, t, dir);
            if reach {
                can_allow |= o.possible.allow;
                can_deny |= o.possible.deny;
                reach = o.possible.pass;
            }
            if chosen.is_some() {
                continue;
            }
            match o.decision {
                Decision::Allow(reason) => chosen = Some((true, tier.name(), reason)),
                Decision::Deny(reason) => chosen = Some((false, tier.name(), reason)),
                Decision::Pass => {
                    if let Some(r) = o.passed_by {
                        let tier = self.snap.cluster_policies[r.policy].tier;
                        passed[usize::from(tier == crate::model::ClusterTier::Baseline)] = Some(r);
                    }
                }
            }
        }
        can_allow |= reach;
        let (allowed, tier, reason) = chosen.unwrap_or((true, "default", Reason::NotIsolated));
        HalfVerdict {
            direction: dir,
            allowed,
            tier,
            reason,
            passed,
            order_dependent: can_allow && can_deny,
        }
    }

    /// Does a peer of some rule match this endpoint?
    pub fn peer_matches(
        &self,
        policy: usize,
        dir: Direction,
        rule: usize,
        peer: usize,
        ep: Endpoint,
    ) -> bool {
        match ep {
            Endpoint::Pod(p) => match self.class_of(p) {
                Some(c) => self.classes().peer_match(c, policy, dir, rule, peer),
                // A hostNetwork pod is seen as its address.
                None => self
                    .pod_addresses(p)
                    .iter()
                    .any(|ip| self.ip_peer_matches(policy, dir, rule, peer, *ip)),
            },
            Endpoint::Ip(ip) => self.ip_peer_matches(policy, dir, rule, peer, ip),
        }
    }

    /// The addresses peers see for a pod: its IPs; a hostNetwork pod whose manifest gives none
    /// (no status) takes those of its node, as it will when it runs.
    pub fn pod_addresses(&self, pod: usize) -> Vec<IpAddr> {
        let p = &self.snap.pods[pod];
        if !p.ips.is_empty() || !p.host_network {
            return p.ips.clone();
        }
        p.node
            .as_deref()
            .and_then(|name| self.snap.nodes.iter().find(|n| n.name == name))
            .map(|n| n.addresses.clone())
            .unwrap_or_default()
    }

    fn ip_peer_matches(
        &self,
        policy: usize,
        dir: Direction,
        rule: usize,
        peer: usize,
        ip: IpAddr,
    ) -> bool {
        match &self.snap.policies[policy].rules(dir)[rule].peers[peer] {
            Peer::IpBlock(b) => ip_block_contains(b, ip),
            Peer::Pods { .. } => false,
        }
    }

    /// Does one policy port admit the probe towards `dest`? Named ports resolve against the
    /// destination pod's container ports, per protocol.
    pub fn port_matches(&self, port: &PolicyPort, probe: Probe, dest: Endpoint) -> bool {
        match ports::port_target(port) {
            PortTarget::Fixed(range) => {
                range.protocol == probe.protocol
                    && range
                        .ports
                        .is_none_or(|(first, last)| (first..=last).contains(&probe.port))
            }
            PortTarget::Named { name, protocol } => match dest {
                Endpoint::Pod(p) => {
                    protocol == probe.protocol
                        && self.snap.pods[p].ports.iter().any(|cp| {
                            cp.name.as_deref() == Some(name)
                                && cp.protocol == probe.protocol
                                && cp.port == probe.port
                        })
                }
                Endpoint::Ip(_) => false,
            },
        }
    }

    /// The answer of `port_matches` when it is the same for every destination; None when it
    /// depends on the destination's container ports (a named port of the probe's protocol).
    pub fn port_matches_anywhere(&self, port: &PolicyPort, probe: Probe) -> Option<bool> {
        match &port.port {
            Some(PortSpec::Name(_)) if port.protocol == probe.protocol => None,
            _ => Some(self.port_matches(port, probe, Endpoint::Ip(UNSPECIFIED_IP))),
        }
    }

    /// Do a rule's ports admit the probe towards `dest`? (No ports: every port.)
    pub fn rule_ports_admit(&self, ports: &[PolicyPort], probe: Probe, dest: Endpoint) -> bool {
        ports.is_empty() || ports.iter().any(|p| self.port_matches(p, probe, dest))
    }

    /// Does a rule allow the traffic in direction `dir`? The peer is the other side.
    pub fn rule_allows(&self, policy: usize, dir: Direction, rule_idx: usize, t: &Traffic) -> bool {
        let rule: &Rule = &self.snap.policies[policy].rules(dir)[rule_idx];
        let other = match dir {
            Direction::Ingress => t.from,
            Direction::Egress => t.to,
        };
        let ports_ok = self.rule_ports_admit(&rule.ports, t.probe, t.to);
        ports_ok
            && (rule.peers.is_empty()
                || (0..rule.peers.len())
                    .any(|i| self.peer_matches(policy, dir, rule_idx, i, other)))
    }
}

/// Stands for "no pod" where a port's answer cannot depend on the destination.
const UNSPECIFIED_IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);

pub(crate) fn dir_index(dir: Direction) -> usize {
    match dir {
        Direction::Ingress => 0,
        Direction::Egress => 1,
    }
}

pub fn ip_block_contains(b: &crate::model::IpBlock, ip: IpAddr) -> bool {
    b.cidr.contains(&ip) && !b.except.iter().any(|e| e.contains(&ip))
}

impl Engine<'_> {
    /// Classes whose pods a peer matches (for compilers that turn peers into address sets).
    pub fn peer_classes(
        &self,
        policy: usize,
        dir: Direction,
        rule: usize,
        peer: usize,
    ) -> Vec<ClassId> {
        (0..self.classes().list.len())
            .filter(|&c| self.classes().peer_match(c, policy, dir, rule, peer))
            .collect()
    }

    /// The container ports every pod of a class declares (they are part of the class).
    pub fn class_ports(&self, class: ClassId) -> &[crate::model::ContainerPort] {
        &self.snap.pods[self.classes().list[class].members[0]].ports
    }

    /// Policies isolating a class in a direction.
    pub fn class_isolating(&self, class: ClassId, dir: Direction) -> &[usize] {
        &self.classes().list[class].selected_by[dir_index(dir)]
    }

    /// The port number a named port means on a pod, if it declares it for that protocol.
    pub fn resolve_named_port(
        &self,
        pod: usize,
        name: &str,
        protocol: crate::model::Protocol,
    ) -> Option<u16> {
        ports::named_port(&self.snap.pods[pod].ports, name, protocol)
    }

    /// Does a peer of a rule match this pod? The same answer as [`Engine::peer_matches`],
    /// worked out for the pod alone without building the classes: for the enforcer agent,
    /// which re-checks the few pods that changed. A pod peer needs the pod's namespace in the
    /// snapshot; a hostNetwork pod is seen only as its addresses.
    pub fn peer_matches_pod(
        &self,
        policy: usize,
        dir: Direction,
        rule: usize,
        peer: usize,
        pod: usize,
    ) -> bool {
        let pol = &self.snap.policies[policy];
        let p = &self.snap.pods[pod];
        match &pol.rules(dir)[rule].peers[peer] {
            Peer::Pods { namespaces, pods } => {
                let Some(ns) = self.snap.namespaces.get(&p.namespace) else {
                    return false;
                };
                let ns_ok = match namespaces {
                    NamespaceScope::PolicyNamespace => p.namespace == pol.namespace,
                    NamespaceScope::Selector(sel) => sel.matches(&ns.labels),
                };
                !p.host_network && ns_ok && pods.matches(&p.labels)
            }
            Peer::IpBlock(b) => self
                .pod_addresses(pod)
                .iter()
                .any(|ip| ip_block_contains(b, *ip)),
        }
    }
}
