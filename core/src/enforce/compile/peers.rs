//! The far side of a rule as address sets: pods a peer matches (the engine's classes decide),
//! ipBlocks, and for egress named ports the destination pods split by the number the name
//! means on them.

use std::collections::{BTreeMap, BTreeSet};

use super::rules::{SetKind, SetMember};
use super::sets::{net_members, NamedPortGroup, SetOrigin, SetSpec};
use super::FamilyCompiler;
use crate::engine::ClassId;
use crate::model::{Direction, NamespaceScope, Peer, Protocol};

/// One way to match the far side of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum PeerMatch {
    /// The rule has no peers: every address.
    Any,
    /// Addresses in this set.
    Set(String),
}

/// Which peers of a rule an egress named port is resolved on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PeerScope {
    /// The rule has no peers: every pod.
    AllPods,
    Peer(usize),
}

impl FamilyCompiler<'_, '_> {
    /// The addresses of this family of the pods of `classes`.
    pub(super) fn class_ips(&self, classes: impl IntoIterator<Item = ClassId>) -> Vec<SetMember> {
        let snap = self.engine.snap;
        let out: BTreeSet<SetMember> = classes
            .into_iter()
            .flat_map(|c| self.engine.class_members(c))
            .flat_map(|&p| &snap.pods[p].ips)
            .filter(|ip| self.in_family(ip))
            .map(|ip| SetMember::host(*ip))
            .collect();
        out.into_iter().collect()
    }

    /// A stable description of what a peer selects (equal peers give equal keys).
    fn peer_key(&self, policy: usize, peer: &Peer) -> String {
        match peer {
            Peer::Pods {
                namespaces: NamespaceScope::PolicyNamespace,
                pods,
            } => {
                let ns = &self.engine.snap.policies[policy].namespace;
                format!("pods ns={ns} sel={pods:?}")
            }
            Peer::Pods {
                namespaces: NamespaceScope::Selector(ns),
                pods,
            } => format!("pods nssel={ns:?} sel={pods:?}"),
            Peer::IpBlock(b) => format!("block {} except {:?}", b.cidr, b.except),
        }
    }

    /// The set matching a peer; None when the peer cannot match anything of this family.
    pub(super) fn peer_match(
        &mut self,
        policy: usize,
        dir: Direction,
        rule: usize,
        idx: usize,
    ) -> Option<PeerMatch> {
        let snap = self.engine.snap;
        let pol = &snap.policies[policy];
        let peer = &pol.rules(dir)[rule].peers[idx];
        let key = self.peer_key(policy, peer);
        let comment = crate::engine::words::peer(peer, &pol.namespace);
        let name = match peer {
            Peer::IpBlock(b) => {
                if !self.in_family(&b.cidr.addr()) {
                    return None;
                }
                let mut members: Vec<SetMember> = net_members(b.cidr)
                    .into_iter()
                    .map(|net| SetMember {
                        net,
                        nomatch: false,
                    })
                    .collect();
                members.extend(b.except.iter().map(|e| SetMember {
                    net: *e,
                    nomatch: true,
                }));
                members.sort();
                let spec = || SetSpec {
                    kind: SetKind::HashNet,
                    comment,
                    origin: SetOrigin::Block,
                };
                self.sets.add(&key, "B", spec, || members)
            }
            Peer::Pods { .. } => {
                let spec = || SetSpec {
                    kind: SetKind::HashIp,
                    comment,
                    origin: SetOrigin::Peer {
                        policy,
                        dir,
                        rule,
                        peer: idx,
                    },
                };
                // The members cost a pass over the classes: only for a new set.
                let members = match self.sets.named(&key) {
                    Some(_) => Vec::new(),
                    None => self.class_ips(self.engine.peer_classes(policy, dir, rule, idx)),
                };
                self.sets.add(&key, "P", spec, || members)
            }
        };
        Some(PeerMatch::Set(name))
    }

    /// For an egress named port: sets of destination pods, one per port number the name
    /// resolves to on them (restricted to the rule's peer when it has peers).
    pub(super) fn named_port_sets(
        &mut self,
        policy: usize,
        rule: usize,
        scope: PeerScope,
        name: &str,
        protocol: Protocol,
    ) -> Vec<(u16, String)> {
        let engine = self.engine;
        let (classes, base, peer): (Vec<ClassId>, String, Option<usize>) = match scope {
            PeerScope::AllPods => ((0..engine.class_count()).collect(), "all pods".into(), None),
            PeerScope::Peer(i) => {
                let pol = &engine.snap.policies[policy];
                (
                    engine.peer_classes(policy, Direction::Egress, rule, i),
                    self.peer_key(policy, &pol.egress[rule].peers[i]),
                    Some(i),
                )
            }
        };
        let mut by_port: BTreeMap<u16, Vec<ClassId>> = BTreeMap::new();
        for c in classes {
            let rep = engine.class_members(c)[0];
            if let Some(n) = engine.resolve_named_port(rep, name, protocol) {
                by_port.entry(n).or_default().push(c);
            }
        }
        let group = NamedPortGroup {
            family: self.family,
            policy,
            rule,
            peer,
            name: name.to_string(),
            protocol,
            base,
        };
        self.groups.insert(group.clone());
        by_port
            .into_iter()
            .map(|(n, classes)| (n, self.named_port_set(&group, n, classes)))
            .collect()
    }

    fn named_port_set(
        &mut self,
        group: &NamedPortGroup,
        port: u16,
        classes: Vec<ClassId>,
    ) -> String {
        let spec = || SetSpec {
            kind: SetKind::HashIp,
            comment: format!(
                "pods of {} whose {} port {} is {port}",
                group.base, group.protocol, group.name
            ),
            origin: SetOrigin::NamedPort {
                group: group.clone(),
                port,
            },
        };
        let key = group.set_key(port);
        let members = match self.sets.named(&key) {
            Some(_) => Vec::new(),
            None => self.class_ips(classes),
        };
        self.sets.add(&key, "N", spec, || members)
    }
}
