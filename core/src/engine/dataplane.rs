//! Questions a dataplane compiler (the enforcer's) asks about cluster-scoped policy, answered
//! from the same classes and matchers that decide every verdict: which classes a peer
//! matches, which Node addresses a `nodes` peer stands for, what a port entry admits.

use std::net::IpAddr;

use super::ports::PortRange;
use super::{ClassId, Endpoint, Engine};
use crate::model::{ClusterPeer, ClusterPort, ClusterTier, Direction};

impl Engine<'_> {
    /// Classes whose pods a peer of a cluster rule matches (`namespaces`, `pods`, and
    /// `networks` by the pods' addresses).
    pub fn cluster_peer_classes(
        &self,
        policy: usize,
        dir: Direction,
        rule: usize,
        peer: usize,
    ) -> Vec<ClassId> {
        (0..self.class_count())
            .filter(|&c| {
                self.classes()
                    .cluster_peer_match(c, policy, dir, rule, peer)
            })
            .collect()
    }

    /// The addresses of the Node objects a peer matches (a `nodes` peer; none for the others).
    pub fn cluster_peer_node_addresses(
        &self,
        policy: usize,
        dir: Direction,
        rule: usize,
        peer: usize,
    ) -> Vec<IpAddr> {
        let mut out: Vec<IpAddr> = self
            .snap
            .nodes
            .iter()
            .flat_map(|n| n.addresses.iter().copied())
            .filter(|ip| self.cluster_peer_matches(policy, dir, rule, peer, Endpoint::Ip(*ip)))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The cluster policies of `tier` whose subject selects the class and that have rules in
    /// `dir`, in evaluation order (ascending priority; equal priorities by kind, then name:
    /// the order `cluster_trace` reports as deciding).
    pub fn class_cluster_policies(
        &self,
        class: ClassId,
        tier: ClusterTier,
        dir: Direction,
    ) -> Vec<usize> {
        self.class_cluster_subject_of(class)
            .iter()
            .copied()
            .filter(|&p| {
                let pol = &self.snap.cluster_policies[p];
                pol.tier == tier && !pol.rules(dir).is_empty()
            })
            .collect()
    }

    /// As `class_cluster_policies`, worked out for one pod alone (no classes: the enforcer's
    /// pod-by-pod update).
    pub fn pod_cluster_policies(
        &self,
        pod: usize,
        tier: ClusterTier,
        dir: Direction,
    ) -> Vec<usize> {
        self.cluster_selecting_pod(pod)
            .into_iter()
            .filter(|&p| {
                let pol = &self.snap.cluster_policies[p];
                pol.tier == tier && !pol.rules(dir).is_empty()
            })
            .collect()
    }

    /// Does a peer of a cluster rule match endpoint pod `pod`? The classes' answer
    /// (`cluster_peer_classes`), worked out for this pod alone: `namespaces`/`pods` by labels
    /// (hostNetwork pods never), `networks` by the pod's addresses; `nodes` and `domainNames`
    /// never match a pod of the pod network.
    pub fn cluster_peer_matches_pod(
        &self,
        policy: usize,
        dir: Direction,
        rule: usize,
        peer: usize,
        pod: usize,
    ) -> bool {
        let p = &self.snap.pods[pod];
        if p.host_network {
            return false;
        }
        let ns = || self.snap.namespace_labels(&p.namespace);
        match &self.snap.cluster_policies[policy].rules(dir)[rule].peers[peer] {
            ClusterPeer::Namespaces(sel) => ns().is_some_and(|l| sel.matches(l)),
            ClusterPeer::Pods(sel) => {
                ns().is_some_and(|l| sel.namespaces.matches(l)) && sel.pods.matches(&p.labels)
            }
            ClusterPeer::Networks(blocks) => p
                .ips
                .iter()
                .any(|ip| blocks.iter().any(|b| super::ip_block_contains(b, *ip))),
            ClusterPeer::Nodes(_) | ClusterPeer::DomainNames(_) => false,
        }
    }
}

/// What one port entry of a cluster rule admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterPortTarget<'p> {
    /// The same protocol and range whatever the destination.
    Fixed(PortRange),
    /// `destinationNamedPort`: every container port of that name on the destination pod, with
    /// its own protocol and number (see [`super::ports::named_ports_any_protocol`]).
    Named(&'p str),
}

pub fn cluster_port_target(port: &ClusterPort) -> ClusterPortTarget<'_> {
    match port {
        ClusterPort::Range {
            protocol,
            start,
            end,
        } => ClusterPortTarget::Fixed(PortRange {
            protocol: *protocol,
            ports: Some((*start, *end)),
        }),
        ClusterPort::Named(name) => ClusterPortTarget::Named(name),
    }
}
