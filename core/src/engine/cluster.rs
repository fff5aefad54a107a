//! Cluster-scoped policy (ClusterNetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy):
//! which policies apply to a pod, which of their rules match one connection, and what a tier
//! decides. Within a tier, policies go by ascending priority and rules in written order; the
//! first matching rule decides. Policies of equal priority are in no defined order: when more
//! than one of them matches, each could decide, and the trace keeps them all.

use std::net::IpAddr;

use super::{ip_block_contains, Endpoint, Engine, Traffic};
use crate::model::{
    Action, ClusterPeer, ClusterPort, ClusterSubject, ClusterTier, Direction, Probe,
};

/// A rule of a cluster policy (index into `Snapshot::cluster_policies`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClusterRuleRef {
    pub policy: usize,
    pub direction: Direction,
    pub rule: usize,
}

/// What one cluster tier does with one direction of one connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterTrace {
    /// The first matching rule in the tool's order (equal priorities ordered by kind and name),
    /// with its action; None: no rule of the tier matches, the next tier decides.
    pub decided: Option<(ClusterRuleRef, Action)>,
    /// The first matching rules of the other policies of the same priority: any of them could
    /// decide instead (the order of equal priorities is up to the implementation).
    pub tied: Vec<(ClusterRuleRef, Action)>,
}

impl ClusterTrace {
    /// The actions this tier may take, whatever order equal priorities get.
    pub fn possible_actions(&self) -> impl Iterator<Item = Action> + '_ {
        self.decided.iter().chain(&self.tied).map(|(_, a)| *a)
    }

    /// Would some order of equal priorities give a different action?
    pub fn is_tied(&self) -> bool {
        let first = self.decided.map(|(_, a)| a);
        self.tied.iter().any(|(_, a)| Some(*a) != first)
    }
}

impl Engine<'_> {
    /// Cluster policies whose subject selects the pod, in evaluation order (hostNetwork pods:
    /// none). Works without the classes (`explain pod`).
    pub fn cluster_selecting_pod(&self, pod: usize) -> Vec<usize> {
        let p = &self.snap.pods[pod];
        if p.host_network {
            return Vec::new();
        }
        let Some(ns_labels) = self.snap.namespace_labels(&p.namespace) else {
            return Vec::new();
        };
        self.snap
            .cluster_policies
            .iter()
            .enumerate()
            .filter(|(_, cp)| match &cp.subject {
                ClusterSubject::Namespaces(ns) => ns.matches(ns_labels),
                ClusterSubject::Pods(sel) => {
                    sel.namespaces.matches(ns_labels) && sel.pods.matches(&p.labels)
                }
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// As `cluster_selecting_pod`, from the pod's class.
    pub fn cluster_subject_of(&self, pod: usize) -> &[usize] {
        match self.class_of(pod) {
            Some(c) => &self.classes().list[c].cluster_subject_of,
            None => &[],
        }
    }

    /// Cluster policies whose subject selects a class, in evaluation order.
    pub fn class_cluster_subject_of(&self, class: super::ClassId) -> &[usize] {
        &self.classes().list[class].cluster_subject_of
    }

    /// Pods (endpoints only) that a cluster policy's subject selects.
    pub fn cluster_selected_pods(&self, policy: usize) -> Vec<usize> {
        self.snap
            .endpoint_pods()
            .filter(|(i, _)| self.cluster_subject_of(*i).contains(&policy))
            .map(|(i, _)| i)
            .collect()
    }

    /// Does one peer of a cluster rule match this endpoint? Pods by their class (selectors and
    /// `networks` on their addresses); hostNetwork pods and outside addresses by address
    /// (`networks`, and `nodes` by the Node objects' addresses). `domainNames` never match here.
    pub fn cluster_peer_matches(
        &self,
        policy: usize,
        dir: Direction,
        rule: usize,
        peer: usize,
        ep: Endpoint,
    ) -> bool {
        match ep {
            Endpoint::Pod(p) => match self.class_of(p) {
                Some(c) => self
                    .classes()
                    .cluster_peer_match(c, policy, dir, rule, peer),
                None => self
                    .pod_addresses(p)
                    .iter()
                    .any(|ip| self.cluster_ip_peer_matches(policy, dir, rule, peer, *ip)),
            },
            Endpoint::Ip(ip) => self.cluster_ip_peer_matches(policy, dir, rule, peer, ip),
        }
    }

    fn cluster_ip_peer_matches(
        &self,
        policy: usize,
        dir: Direction,
        rule: usize,
        peer: usize,
        ip: IpAddr,
    ) -> bool {
        match &self.snap.cluster_policies[policy].rules(dir)[rule].peers[peer] {
            ClusterPeer::Networks(blocks) => blocks.iter().any(|b| ip_block_contains(b, ip)),
            ClusterPeer::Nodes(sel) => self
                .snap
                .nodes
                .iter()
                .any(|n| n.addresses.contains(&ip) && sel.matches(&n.labels)),
            ClusterPeer::Namespaces(_) | ClusterPeer::Pods(_) | ClusterPeer::DomainNames(_) => {
                false
            }
        }
    }

    /// Does a cluster rule's port entry admit the probe towards `dest`? A named port is the
    /// destination pod's container port of that name, with its protocol and number.
    pub fn cluster_port_matches(&self, port: &ClusterPort, probe: Probe, dest: Endpoint) -> bool {
        match port {
            ClusterPort::Range {
                protocol,
                start,
                end,
            } => *protocol == probe.protocol && (*start..=*end).contains(&probe.port),
            ClusterPort::Named(name) => match dest {
                Endpoint::Pod(p) => self.snap.pods[p].ports.iter().any(|cp| {
                    cp.name.as_deref() == Some(name.as_str())
                        && cp.protocol == probe.protocol
                        && cp.port == probe.port
                }),
                Endpoint::Ip(_) => false,
            },
        }
    }

    /// Do a cluster rule's ports admit the probe? (None listed: every port.)
    pub fn cluster_ports_admit(&self, ports: &[ClusterPort], probe: Probe, dest: Endpoint) -> bool {
        ports.is_empty()
            || ports
                .iter()
                .any(|p| self.cluster_port_matches(p, probe, dest))
    }

    /// Does a cluster rule match the connection in `dir`? The peer is the other side.
    pub fn cluster_rule_matches(
        &self,
        policy: usize,
        dir: Direction,
        rule: usize,
        t: &Traffic,
    ) -> bool {
        let r = &self.snap.cluster_policies[policy].rules(dir)[rule];
        let other = match dir {
            Direction::Ingress => t.from,
            Direction::Egress => t.to,
        };
        self.cluster_ports_admit(&r.ports, t.probe, t.to)
            && (0..r.peers.len()).any(|k| self.cluster_peer_matches(policy, dir, rule, k, other))
    }

    /// The first rule of a policy that matches, with its action.
    pub fn cluster_first_match(
        &self,
        policy: usize,
        dir: Direction,
        t: &Traffic,
    ) -> Option<(ClusterRuleRef, Action)> {
        let rules = self.snap.cluster_policies[policy].rules(dir);
        (0..rules.len())
            .find(|&r| self.cluster_rule_matches(policy, dir, r, t))
            .map(|rule| {
                (
                    ClusterRuleRef {
                        policy,
                        direction: dir,
                        rule,
                    },
                    rules[rule].action,
                )
            })
    }

    /// The subject of a direction: the source for egress, the destination for ingress; None
    /// when it is not a pod that cluster policies can select.
    pub(crate) fn cluster_subject(&self, t: &Traffic, dir: Direction) -> Option<usize> {
        match (dir, t.from, t.to) {
            (Direction::Egress, Endpoint::Pod(p), _)
            | (Direction::Ingress, _, Endpoint::Pod(p))
                if !self.snap.pods[p].host_network =>
            {
                Some(p)
            }
            _ => None,
        }
    }

    /// What a cluster tier does with one direction of a connection.
    pub fn cluster_trace(&self, tier: ClusterTier, t: &Traffic, dir: Direction) -> ClusterTrace {
        let Some(subject) = self.cluster_subject(t, dir) else {
            return ClusterTrace::default();
        };
        let policies: Vec<usize> = self
            .cluster_subject_of(subject)
            .iter()
            .copied()
            .filter(|&p| self.snap.cluster_policies[p].tier == tier)
            .collect();
        let mut i = 0;
        while i < policies.len() {
            let priority = self.snap.cluster_policies[policies[i]].priority;
            let mut matched: Vec<(ClusterRuleRef, Action)> = Vec::new();
            while i < policies.len() && self.snap.cluster_policies[policies[i]].priority == priority
            {
                matched.extend(self.cluster_first_match(policies[i], dir, t));
                i += 1;
            }
            if !matched.is_empty() {
                let decided = matched.remove(0);
                return ClusterTrace {
                    decided: Some(decided),
                    tied: matched,
                };
            }
        }
        ClusterTrace::default()
    }
}
