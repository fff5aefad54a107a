//! Questions a dataplane compiler (the enforcer's) asks about cluster-scoped policy, answered
//! from the same classes and matchers that decide every verdict: which classes a peer
//! matches, which Node addresses a `nodes` peer stands for, what a port entry admits.

use std::net::IpAddr;

use super::ports::PortRange;
use super::{ClassId, Endpoint, Engine};
use crate::model::{ClusterPort, ClusterTier, Direction};

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
