//! The address sets of one family: their names (stable hashes of what they stand for, so
//! equal peers across policies share one set and names survive restarts), their members, and
//! what decides the members ([`SetOrigin`]) so the agent can re-check one pod against them.

use std::collections::{BTreeMap, HashMap};

use ipnet::IpNet;

use super::rules::{Family, IpSetDef, SetKind, SetMember};
use crate::enforce::SET_PREFIX;
use crate::engine::{ports, Engine};
use crate::model::{Direction, Protocol};

/// A stable short hash for names (FNV-1a, so names survive upgrades of the toolchain).
pub(super) fn short_hash(text: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in text.as_bytes() {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{:012x}", h & 0xffff_ffff_ffff)
}

/// `NP<tag>[6]-<hash of key>`: at most 31 characters with the `-b`/`-t` suffixes.
pub(super) fn set_name(tag: &str, family: Family, key: &str) -> String {
    let fam = if family == Family::V6 { "6" } else { "" };
    format!("{SET_PREFIX}{tag}{fam}-{}", short_hash(key))
}

/// The tag of the set of local pods whose `dir` a chain checks.
pub(super) fn members_tag(dir: Direction) -> &'static str {
    if dir == Direction::Ingress {
        "MI"
    } else {
        "ME"
    }
}

/// The name of the member set of the chain with this key (see `chain_key`).
pub(super) fn members_set_name(dir: Direction, family: Family, key: &str) -> String {
    set_name(members_tag(dir), family, &members_key(key))
}

pub(super) fn members_key(chain_key: &str) -> String {
    format!("members {chain_key}")
}

/// A network as hash:net members: hash:net has no /0, so it is covered with two halves.
pub(super) fn net_members(net: IpNet) -> Vec<IpNet> {
    if net.prefix_len() > 0 {
        return vec![net];
    }
    let halves = match net {
        IpNet::V4(_) => ["0.0.0.0/1", "128.0.0.0/1"],
        IpNet::V6(_) => ["::/1", "8000::/1"],
    };
    halves.map(|h| h.parse().unwrap_or(net)).to_vec()
}

/// An egress rule with a named port, compiled in one family: its destination pods are split
/// into one set per port number the name resolves to (see `SetOrigin::NamedPort`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NamedPortGroup {
    pub family: Family,
    pub policy: usize,
    pub rule: usize,
    /// The rule's peer; None when the rule has no peers (every pod).
    pub peer: Option<usize>,
    pub name: String,
    pub protocol: Protocol,
    /// The peer's key (or "all pods"), from which the sets are named.
    pub(super) base: String,
}

impl NamedPortGroup {
    /// The set holding the group's pods whose port `name` is `port`.
    pub fn set_name(&self, port: u16) -> String {
        set_name("N", self.family, &self.set_key(port))
    }

    /// The number the name resolves to on pod `pod` of the snapshot when the rule's peer
    /// matches it (the engine decides both).
    pub(super) fn resolves(&self, engine: &Engine<'_>, pod: usize) -> Option<u16> {
        let matched = self.peer.is_none_or(|peer| {
            engine.peer_matches_pod(self.policy, Direction::Egress, self.rule, peer, pod)
        });
        matched
            .then(|| engine.resolve_named_port(pod, &self.name, self.protocol))
            .flatten()
    }

    /// The number the name resolves to on a pod with these container ports, whatever the peer.
    pub(super) fn number_on(&self, ports: &[crate::model::ContainerPort]) -> Option<u16> {
        ports::named_port(ports, &self.name, self.protocol)
    }

    pub(super) fn set_key(&self, port: u16) -> String {
        format!("{} port {}/{}={port}", self.base, self.protocol, self.name)
    }
}

/// What decides a set's members, so that one pod can be checked against it again
/// ([`super::update_for_pods`]) without compiling the whole cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetOrigin {
    /// Pods a peer of a rule matches (policy index in the snapshot).
    Peer {
        policy: usize,
        dir: Direction,
        rule: usize,
        peer: usize,
    },
    /// An ipBlock: pods do not change it.
    Block,
    /// The group's destination pods whose named port resolves to `port`.
    NamedPort { group: NamedPortGroup, port: u16 },
    /// Local pods whose chain in `dir` has this key (see `chain_key`).
    Members { dir: Direction, key: String },
    /// Every local pod address: the pods the hold lets through.
    Placed,
    /// Pods a `namespaces` or `pods` peer of a cluster rule matches (index into
    /// `cluster_policies`).
    ClusterPeer {
        policy: usize,
        dir: Direction,
        rule: usize,
        peer: usize,
    },
    /// The pods of a cluster rule's peer whose `destinationNamedPort` `name` is `range`.
    ClusterNamedPort {
        policy: usize,
        dir: Direction,
        rule: usize,
        peer: usize,
        name: String,
        range: super::rules::PortRange,
    },
    /// Addresses fixed by the policy (`networks`) or the Node objects (`nodes`): pods do not
    /// change them.
    ClusterAddresses,
}

/// What a new set is: its kind, what it stands for, what decides its members.
pub(super) struct SetSpec {
    pub kind: SetKind,
    pub comment: String,
    pub origin: SetOrigin,
}

/// The sets of one family as the compiler creates them, one per distinct key.
pub(super) struct SetBook {
    family: Family,
    pub sets: BTreeMap<String, IpSetDef>,
    pub origins: BTreeMap<String, SetOrigin>,
    /// Key → set name, so equal peers across policies share one set.
    by_key: HashMap<String, String>,
}

impl SetBook {
    pub fn new(family: Family) -> SetBook {
        SetBook {
            family,
            sets: BTreeMap::new(),
            origins: BTreeMap::new(),
            by_key: HashMap::new(),
        }
    }

    /// The name of the set made for `key`, if there is one yet.
    pub fn named(&self, key: &str) -> Option<&str> {
        self.by_key.get(key).map(String::as_str)
    }

    /// The set named after `key` (tagged `tag`); created with `members()` the first time.
    pub fn add(
        &mut self,
        key: &str,
        tag: &str,
        spec: impl FnOnce() -> SetSpec,
        members: impl FnOnce() -> Vec<SetMember>,
    ) -> String {
        if let Some(name) = self.by_key.get(key) {
            return name.clone();
        }
        let spec = spec();
        let name = set_name(tag, self.family, key);
        self.origins.insert(name.clone(), spec.origin);
        let set = IpSetDef {
            name: name.clone(),
            kind: spec.kind,
            family: self.family,
            members: members(),
            comment: spec.comment,
        };
        self.sets.insert(name.clone(), set);
        self.by_key.insert(key.to_string(), name.clone());
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_stable_short_and_per_family() {
        let v4 = set_name("P", Family::V4, "pods ns=x sel=a");
        let v6 = set_name("P", Family::V6, "pods ns=x sel=a");
        assert!(
            v4.starts_with("NPP-") && v6.starts_with("NPP6-"),
            "{v4} {v6}"
        );
        assert_eq!(v4[4..], v6[5..]);
        assert_eq!(v4, set_name("P", Family::V4, "pods ns=x sel=a"));
        assert_ne!(v4, set_name("P", Family::V4, "pods ns=y sel=a"));
        // The longest tag, IPv6 and the `-b` suffix still fit ipset's 31 characters.
        assert!(format!("{}-b", members_set_name(Direction::Egress, Family::V6, "k")).len() <= 31);
    }

    #[test]
    fn slash_zero_becomes_two_halves() {
        let nets = |s: &str| {
            net_members(s.parse().unwrap())
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(nets("0.0.0.0/0"), ["0.0.0.0/1", "128.0.0.0/1"]);
        assert_eq!(nets("::/0"), ["::/1", "8000::/1"]);
        assert_eq!(nets("10.0.0.0/8"), ["10.0.0.0/8"]);
    }

    #[test]
    fn equal_keys_share_one_set_and_keep_the_first_members() {
        let mut book = SetBook::new(Family::V4);
        let spec = || SetSpec {
            kind: SetKind::HashIp,
            comment: "c".into(),
            origin: SetOrigin::Block,
        };
        let one = vec![SetMember::host("10.0.0.1".parse().unwrap())];
        let a = book.add("k", "P", spec, || one.clone());
        let b = book.add("k", "P", spec, || panic!("members computed twice"));
        assert_eq!(a, b);
        assert_eq!(book.sets[&a].members, one);
        assert_eq!(book.origins.len(), 1);
    }
}
