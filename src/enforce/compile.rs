//! Snapshot + node name → the chains and ipsets that enforce the policies of the pods on that
//! node. Every decision comes from the engine: which policies isolate a pod, which pods a peer
//! matches, what a named port resolves to. This module only translates them to iptables terms.
//!
//! Shape (per address family):
//! - `NETPOL-FORWARD`, hooked at the top of FORWARD: established/related traffic returns at
//!   once; then each isolated local pod's traffic jumps to its class's egress chain (matched by
//!   source address, through a member set) and ingress chain (by destination address).
//! - `NETPOL-E-*` / `NETPOL-I-*`: one chain per distinct set of isolating policies; a rule that
//!   allows RETURNs (so the other direction is still checked), the chain ends in DROP.
//! - Peers are ipsets (hash:ip of pod addresses; hash:net with `nomatch` entries for
//!   ipBlock + except), so the cost per packet does not grow with the number of pods.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use ipnet::IpNet;

use crate::engine::{ip_block_contains, ClassId, Engine};
use crate::model::{
    ContainerPort, Direction, NamespaceScope, Peer, Pod, PolicyPort, PortSpec, Protocol, Snapshot,
};

use super::{ENTRY_CHAIN, SET_PREFIX};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub fn of(ip: &IpAddr) -> Family {
        if ip.is_ipv4() {
            Family::V4
        } else {
            Family::V6
        }
    }

    pub fn ipset_family(self) -> &'static str {
        match self {
            Family::V4 => "inet",
            Family::V6 => "inet6",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetKind {
    /// Pod addresses.
    HashIp,
    /// ipBlock CIDRs, with `except` as nomatch entries.
    HashNet,
}

impl SetKind {
    pub fn name(self) -> &'static str {
        match self {
            SetKind::HashIp => "hash:ip",
            SetKind::HashNet => "hash:net",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SetMember {
    pub net: IpNet,
    pub nomatch: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpSetDef {
    pub name: String,
    pub kind: SetKind,
    pub family: Family,
    /// Sorted and unique.
    pub members: Vec<SetMember>,
    /// What the set stands for, in words.
    pub comment: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ruleset {
    /// Chain name → rules (iptables arguments after `-A CHAIN`), entry chain included.
    pub chains: BTreeMap<String, Vec<String>>,
    pub sets: BTreeMap<String, IpSetDef>,
}

impl Ruleset {
    pub fn rule_count(&self) -> usize {
        self.chains.values().map(Vec::len).sum()
    }

    pub fn member_count(&self) -> usize {
        self.sets.values().map(|s| s.members.len()).sum()
    }

    /// The same chains with the set contents left out: when two rulesets differ only here, a
    /// pod-membership change needs only the sets updated.
    pub fn same_rules(&self, other: &Ruleset) -> bool {
        self.chains == other.chains && self.sets.keys().eq(other.sets.keys())
    }
}

/// What one class chain checks: for mapping a logged drop back to its direction and policies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainInfo {
    pub direction: Direction,
    /// The isolating policies, `namespace/name`.
    pub policies: Vec<String>,
}

/// Drop logging: each class chain sends the packets it is about to drop to an NFLOG group
/// (rate-limited), with the prefix [`DROP_LOG_PREFIX`] and the chain name, which identifies the
/// direction (`NETPOL-I-*` ingress, `NETPOL-E-*` egress) and, through [`NodeRules::chain_info`],
/// the policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DropLog {
    pub nflog_group: u16,
    /// Logged packets per second and chain (bursts of twice that); the rest are dropped silently.
    pub per_second: u32,
}

/// The prefix of every NFLOG message the rules emit: `"NPDROP NETPOL-I-0123456789ab"`.
pub const DROP_LOG_PREFIX: &str = "NPDROP";

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompileOptions {
    pub log_drops: Option<DropLog>,
    /// This node's pod address ranges. Traffic from or to an address in them that no placed
    /// pod holds is dropped ([`HOLD_CHAIN`]) until the agent has placed that pod under its
    /// policies: a new pod never sends or receives before its rules exist. Empty: no hold.
    pub hold: Vec<IpNet>,
}

/// Where traffic of local pod addresses that are not placed yet goes (and is dropped).
pub const HOLD_CHAIN: &str = "NETPOL-HOLD";

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
    base: String,
}

impl NamedPortGroup {
    /// The set holding the group's pods whose port `name` is `port`.
    pub fn set_name(&self, port: u16) -> String {
        set_name("N", self.family, &self.set_key(port))
    }

    /// The number the name resolves to on `pod` when the rule's peer matches it.
    fn resolves(&self, snap: &Snapshot, pod: &Pod) -> Option<u16> {
        let matched = match self.peer {
            None => true,
            Some(peer) => {
                pod_matches_peer(snap, self.policy, Direction::Egress, self.rule, peer, pod)
            }
        };
        if matched {
            resolve_named_port(pod, &self.name, self.protocol)
        } else {
            None
        }
    }

    fn set_key(&self, port: u16) -> String {
        format!("{} port {}/{}={port}", self.base, self.protocol, self.name)
    }
}

/// What decides a set's members, so that one pod can be checked against it again
/// ([`update_for_pods`]) without compiling the whole cluster.
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
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeRules {
    pub v4: Ruleset,
    pub v6: Ruleset,
    /// Set name → what decides its members.
    pub set_origins: BTreeMap<String, SetOrigin>,
    /// Every egress named-port rule of the chains, per family (even those no pod resolves).
    pub named_port_groups: BTreeSet<NamedPortGroup>,
    /// Class chain name → what it checks (the same names in both families).
    pub chain_info: BTreeMap<String, ChainInfo>,
    /// Local pods that policies isolate but that have no address yet (cannot be enforced yet).
    pub pods_without_ip: Vec<String>,
    /// Protocol/port rules left out because iptables cannot express them (none today).
    pub notes: Vec<String>,
}

impl NodeRules {
    pub fn family(&self, f: Family) -> &Ruleset {
        match f {
            Family::V4 => &self.v4,
            Family::V6 => &self.v6,
        }
    }

    /// The same chains and set names in both families (see [`Ruleset::same_rules`]).
    pub fn same_rules(&self, other: &NodeRules) -> bool {
        self.v4.same_rules(&other.v4) && self.v6.same_rules(&other.v6)
    }

    /// The same chains and the same set contents: nothing to do on the node.
    pub fn same_state(&self, other: &NodeRules) -> bool {
        self.v4 == other.v4 && self.v6 == other.v6
    }

    /// Names of the sets whose members differ from `other`'s (or that `other` lacks).
    pub fn changed_sets(&self, other: &NodeRules) -> Vec<String> {
        let mut out = Vec::new();
        for f in [Family::V4, Family::V6] {
            let theirs = &other.family(f).sets;
            for (name, set) in &self.family(f).sets {
                if theirs.get(name).is_none_or(|o| o.members != set.members) {
                    out.push(name.clone());
                }
            }
        }
        out
    }

    /// Finds a set of either family by name.
    pub fn set(&self, name: &str) -> Option<&IpSetDef> {
        self.v4.sets.get(name).or_else(|| self.v6.sets.get(name))
    }

    pub fn rule_count(&self) -> usize {
        self.v4.rule_count() + self.v6.rule_count()
    }

    pub fn member_count(&self) -> usize {
        self.v4.member_count() + self.v6.member_count()
    }

    pub fn set_count(&self) -> usize {
        self.v4.sets.len() + self.v6.sets.len()
    }
}

/// A stable short hash for names (FNV-1a, so names survive upgrades of the toolchain).
fn short_hash(text: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in text.as_bytes() {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{:012x}", h & 0xffff_ffff_ffff)
}

fn set_name(tag: &str, family: Family, key: &str) -> String {
    let fam = if family == Family::V6 { "6" } else { "" };
    format!("{SET_PREFIX}{tag}{fam}-{}", short_hash(key))
}

fn quote(s: &str) -> String {
    format!(
        "\"{}\"",
        s.replace('"', "'").chars().take(250).collect::<String>()
    )
}

fn host_net(ip: IpAddr) -> IpNet {
    IpNet::from(ip)
}

/// hash:net has no /0: cover it with two halves.
fn net_members(net: IpNet) -> Vec<IpNet> {
    if net.prefix_len() > 0 {
        return vec![net];
    }
    match net {
        IpNet::V4(_) => vec![
            "0.0.0.0/1".parse().unwrap_or(net),
            "128.0.0.0/1".parse().unwrap_or(net),
        ],
        IpNet::V6(_) => vec![
            "::/1".parse().unwrap_or(net),
            "8000::/1".parse().unwrap_or(net),
        ],
    }
}

/// One way to match the far side of a rule.
#[derive(Clone)]
enum PeerMatch {
    Any,
    Set(String),
}

struct Compiler<'e, 's> {
    engine: &'e Engine<'s>,
    log_drops: Option<DropLog>,
    family: Family,
    rules: Ruleset,
    /// Peer key → set name, so equal peers across policies share one set.
    peer_sets: HashMap<String, String>,
    origins: BTreeMap<String, SetOrigin>,
    groups: BTreeSet<NamedPortGroup>,
}

impl Compiler<'_, '_> {
    fn class_ips(&self, classes: impl IntoIterator<Item = ClassId>) -> Vec<SetMember> {
        let mut out: BTreeSet<SetMember> = BTreeSet::new();
        for c in classes {
            for &p in self.engine.class_members(c) {
                for ip in &self.engine.snap.pods[p].ips {
                    if Family::of(ip) == self.family {
                        out.insert(SetMember {
                            net: host_net(*ip),
                            nomatch: false,
                        });
                    }
                }
            }
        }
        out.into_iter().collect()
    }

    fn add_set(
        &mut self,
        key: &str,
        tag: &str,
        kind: SetKind,
        members: impl FnOnce(&Self) -> Vec<SetMember>,
        comment: String,
        origin: SetOrigin,
    ) -> String {
        if let Some(name) = self.peer_sets.get(key) {
            return name.clone();
        }
        let members = members(self);
        let name = set_name(tag, self.family, key);
        self.origins.insert(name.clone(), origin);
        self.rules.sets.insert(
            name.clone(),
            IpSetDef {
                name: name.clone(),
                kind,
                family: self.family,
                members,
                comment,
            },
        );
        self.peer_sets.insert(key.to_string(), name.clone());
        name
    }

    /// A stable description of what a peer selects (equal peers give equal keys).
    fn peer_key(&self, policy: usize, peer: &Peer) -> String {
        match peer {
            Peer::Pods {
                namespaces: NamespaceScope::PolicyNamespace,
                pods,
            } => {
                format!(
                    "pods ns={} sel={pods:?}",
                    self.engine.snap.policies[policy].namespace
                )
            }
            Peer::Pods {
                namespaces: NamespaceScope::Selector(ns),
                pods,
            } => format!("pods nssel={ns:?} sel={pods:?}"),
            Peer::IpBlock(b) => format!("block {} except {:?}", b.cidr, b.except),
        }
    }

    /// The set matching a peer; None when the peer cannot match anything of this family.
    fn peer_match(
        &mut self,
        policy: usize,
        dir: Direction,
        rule: usize,
        idx: usize,
    ) -> Option<PeerMatch> {
        let pol = &self.engine.snap.policies[policy];
        let peer = &pol.rules(dir)[rule].peers[idx];
        let key = self.peer_key(policy, peer);
        let text = crate::engine::words::peer(peer, &pol.namespace);
        match peer {
            Peer::IpBlock(b) => {
                let fam = if b.cidr.addr().is_ipv4() {
                    Family::V4
                } else {
                    Family::V6
                };
                if fam != self.family {
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
                Some(PeerMatch::Set(self.add_set(
                    &key,
                    "B",
                    SetKind::HashNet,
                    |_| members,
                    text,
                    SetOrigin::Block,
                )))
            }
            Peer::Pods { .. } => Some(PeerMatch::Set(self.add_set(
                &key,
                "P",
                SetKind::HashIp,
                |c: &Self| c.class_ips(c.engine.peer_classes(policy, dir, rule, idx)),
                text,
                SetOrigin::Peer {
                    policy,
                    dir,
                    rule,
                    peer: idx,
                },
            ))),
        }
    }

    fn port_args(protocol: Protocol, range: Option<(u16, u16)>) -> String {
        let p = protocol.as_str().to_ascii_lowercase();
        match range {
            None => format!("-p {p}"),
            Some((a, b)) if a == b => format!("-p {p} -m {p} --dport {a}"),
            Some((a, b)) => format!("-p {p} -m {p} --dport {a}:{b}"),
        }
    }

    /// The rules of one class chain: every (peer, port) combination of every rule of every
    /// isolating policy, each RETURNing, then DROP.
    fn class_chain(&mut self, chain: &str, class: ClassId, dir: Direction) -> Vec<String> {
        let mut out = Vec::new();
        let dir_flag = if dir == Direction::Ingress {
            "src"
        } else {
            "dst"
        };
        let policies = self.engine.class_isolating(class, dir).to_vec();
        for &policy in &policies {
            let pol = &self.engine.snap.policies[policy];
            for (ri, rule) in pol.rules(dir).iter().enumerate() {
                let comment = format!(
                    "-m comment --comment {}",
                    quote(&format!("{} {dir} rule {ri}", pol.key()))
                );
                let peers: Vec<Option<(usize, PeerMatch)>> = if rule.peers.is_empty() {
                    vec![Some((usize::MAX, PeerMatch::Any))]
                } else {
                    (0..rule.peers.len())
                        .map(|i| self.peer_match(policy, dir, ri, i).map(|m| (i, m)))
                        .collect()
                };
                let ports: Vec<Option<&PolicyPort>> = if rule.ports.is_empty() {
                    vec![None]
                } else {
                    rule.ports.iter().map(Some).collect()
                };
                for (peer_idx, peer) in peers.into_iter().flatten() {
                    for port in &ports {
                        let peer_arg = |m: &PeerMatch| match m {
                            PeerMatch::Any => String::new(),
                            PeerMatch::Set(name) => {
                                format!("-m set --match-set {name} {dir_flag} ")
                            }
                        };
                        match port {
                            None => out.push(format!("{}{comment} -j RETURN", peer_arg(&peer))),
                            Some(pp) => match &pp.port {
                                None => out.push(format!(
                                    "{}{} {comment} -j RETURN",
                                    peer_arg(&peer),
                                    Self::port_args(pp.protocol, None)
                                )),
                                Some(PortSpec::Number(n)) => {
                                    let range = (*n, pp.end_port.unwrap_or(*n));
                                    out.push(format!(
                                        "{}{} {comment} -j RETURN",
                                        peer_arg(&peer),
                                        Self::port_args(pp.protocol, Some(range))
                                    ))
                                }
                                Some(PortSpec::Name(name)) => match dir {
                                    // Ingress: the name means the port of the isolated pod itself.
                                    Direction::Ingress => {
                                        let rep = self.engine.class_members(class)[0];
                                        if let Some(n) =
                                            self.engine.resolve_named_port(rep, name, pp.protocol)
                                        {
                                            out.push(format!(
                                                "{}{} {comment} -j RETURN",
                                                peer_arg(&peer),
                                                Self::port_args(pp.protocol, Some((n, n)))
                                            ));
                                        }
                                    }
                                    // Egress: it means each destination pod's own port, so split
                                    // the peer's pods by the number the name resolves to there.
                                    Direction::Egress => {
                                        for (n, set) in self.named_port_sets(
                                            policy,
                                            ri,
                                            peer_idx,
                                            name,
                                            pp.protocol,
                                        ) {
                                            out.push(format!("-m set --match-set {set} dst {} {comment} -j RETURN", Self::port_args(pp.protocol, Some((n, n)))));
                                        }
                                    }
                                },
                            },
                        }
                    }
                }
            }
        }
        let names: Vec<String> = policies
            .iter()
            .map(|&p| self.engine.snap.policies[p].key())
            .collect();
        if let Some(log) = self.log_drops {
            out.push(nflog_rule(log, chain));
        }
        out.push(format!(
            "-m comment --comment {} -j DROP",
            quote(&format!("{dir} isolated by {}", names.join(",")))
        ));
        out
    }

    /// The entry rules that send traffic of unplaced local pod addresses to [`HOLD_CHAIN`]
    /// (and that chain), when `hold` has ranges of this family.
    fn hold_rules(&mut self, node: Option<&str>, hold: &[IpNet]) -> Vec<String> {
        let ranges: Vec<SetMember> = hold
            .iter()
            .filter(|n| Family::of(&n.addr()) == self.family)
            .flat_map(|n| net_members(n.trunc()))
            .map(|net| SetMember {
                net,
                nomatch: false,
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if ranges.is_empty() {
            return Vec::new();
        }
        let range_set = self.add_set(
            "hold: this node's pod ranges",
            "H",
            SetKind::HashNet,
            |_| ranges,
            "this node's pod addresses".into(),
            SetOrigin::Block,
        );
        let placed_set = self.add_set(
            "hold: placed pods",
            "PL",
            SetKind::HashIp,
            |c: &Self| c.placed_ips(node),
            "local pods the enforcer has placed under their policies".into(),
            SetOrigin::Placed,
        );
        let mut chain = Vec::new();
        if let Some(log) = self.log_drops {
            chain.push(nflog_rule(log, HOLD_CHAIN));
        }
        chain.push(format!(
            "-m comment --comment {} -j DROP",
            quote("held: a local pod the enforcer has not placed yet")
        ));
        self.rules.chains.insert(HOLD_CHAIN.to_string(), chain);
        ["src", "dst"]
            .iter()
            .map(|flag| {
                format!(
                    "-m set --match-set {range_set} {flag} -m set ! --match-set {placed_set} {flag} -m comment --comment {} -j {HOLD_CHAIN}",
                    quote("not placed yet")
                )
            })
            .collect()
    }

    /// The addresses of this family of the pods on `node` (every pod when None).
    fn placed_ips(&self, node: Option<&str>) -> Vec<SetMember> {
        let snap = self.engine.snap;
        let ips: BTreeSet<SetMember> = snap
            .endpoint_pods()
            .filter(|(_, p)| node.is_none_or(|n| p.node.as_deref() == Some(n)))
            .flat_map(|(_, p)| p.ips.iter())
            .filter(|ip| Family::of(ip) == self.family)
            .map(|ip| SetMember {
                net: host_net(*ip),
                nomatch: false,
            })
            .collect();
        ips.into_iter().collect()
    }

    /// For an egress named port: sets of destination pods, one per port number the name
    /// resolves to on them (restricted to the rule's peer; `usize::MAX` = every pod).
    fn named_port_sets(
        &mut self,
        policy: usize,
        rule: usize,
        peer_idx: usize,
        name: &str,
        protocol: Protocol,
    ) -> Vec<(u16, String)> {
        let classes: Vec<ClassId> = if peer_idx == usize::MAX {
            (0..self.engine.class_count()).collect()
        } else {
            self.engine
                .peer_classes(policy, Direction::Egress, rule, peer_idx)
        };
        let mut by_port: BTreeMap<u16, Vec<ClassId>> = BTreeMap::new();
        for c in classes {
            let rep = self.engine.class_members(c)[0];
            if let Some(n) = self.engine.resolve_named_port(rep, name, protocol) {
                by_port.entry(n).or_default().push(c);
            }
        }
        let base = if peer_idx == usize::MAX {
            "all pods".to_string()
        } else {
            let pol = &self.engine.snap.policies[policy];
            self.peer_key(policy, &pol.egress[rule].peers[peer_idx])
        };
        let group = NamedPortGroup {
            family: self.family,
            policy,
            rule,
            peer: (peer_idx != usize::MAX).then_some(peer_idx),
            name: name.to_string(),
            protocol,
            base: base.clone(),
        };
        self.groups.insert(group.clone());
        by_port
            .into_iter()
            .map(|(n, classes)| {
                let key = group.set_key(n);
                (
                    n,
                    self.add_set(
                        &key,
                        "N",
                        SetKind::HashIp,
                        |c: &Self| c.class_ips(classes),
                        format!("pods of {base} whose {protocol} port {name} is {n}"),
                        SetOrigin::NamedPort {
                            group: group.clone(),
                            port: n,
                        },
                    ),
                )
            })
            .collect()
    }
}

/// Sends a packet about to be dropped in `chain` to the drop log (rate-limited).
fn nflog_rule(log: DropLog, chain: &str) -> String {
    format!(
        "-m limit --limit {}/second --limit-burst {} -j NFLOG --nflog-group {} --nflog-prefix {} --nflog-size 128",
        log.per_second.max(1),
        log.per_second.max(1) * 2,
        log.nflog_group,
        quote(&format!("{DROP_LOG_PREFIX} {chain}"))
    )
}

/// What a chain of a class in a direction is named after: the isolating policies (and, for
/// ingress, the container ports named ports resolve against). None when nothing isolates it.
fn chain_key(engine: &Engine<'_>, class: ClassId, dir: Direction) -> Option<String> {
    chain_key_of(
        engine.snap,
        engine.class_isolating(class, dir),
        dir,
        engine.class_ports(class),
    )
}

fn chain_key_of(
    snap: &Snapshot,
    pols: &[usize],
    dir: Direction,
    ports: &[ContainerPort],
) -> Option<String> {
    if pols.is_empty() {
        return None;
    }
    let mut key = format!(
        "{dir}:{}",
        pols.iter()
            .map(|&p| snap.policies[p].key())
            .collect::<Vec<_>>()
            .join(",")
    );
    if dir == Direction::Ingress {
        key.push_str(&format!(" ports={ports:?}"));
    }
    Some(key)
}

/// The policies isolating one pod in a direction, in snapshot order: those of its namespace
/// whose podSelector selects it and whose policyTypes include `dir` (what the engine's class
/// of the pod holds, without building the classes). Empty for hostNetwork pods.
pub fn isolating_policies(snap: &Snapshot, pod: &Pod, dir: Direction) -> Vec<usize> {
    if pod.host_network {
        return Vec::new();
    }
    snap.policies
        .iter()
        .enumerate()
        .filter(|(_, pol)| {
            pol.namespace == pod.namespace
                && pol.affects(dir)
                && pol.pod_selector.matches(&pod.labels)
        })
        .map(|(i, _)| i)
        .collect()
}

/// Whether a peer of a rule matches `pod`, as the engine's classes decide it: an ipBlock when
/// it holds one of the pod's addresses; pods when the pod's namespace is known and both the
/// namespace side and the pod selector match.
fn pod_matches_peer(
    snap: &Snapshot,
    policy: usize,
    dir: Direction,
    rule: usize,
    peer: usize,
    pod: &Pod,
) -> bool {
    let pol = &snap.policies[policy];
    match &pol.rules(dir)[rule].peers[peer] {
        Peer::Pods { namespaces, pods } => {
            let Some(ns) = snap.namespaces.get(&pod.namespace) else {
                return false;
            };
            let ns_ok = match namespaces {
                NamespaceScope::PolicyNamespace => pod.namespace == pol.namespace,
                NamespaceScope::Selector(sel) => sel.matches(&ns.labels),
            };
            ns_ok && pods.matches(&pod.labels)
        }
        Peer::IpBlock(b) => pod.ips.iter().any(|ip| ip_block_contains(b, *ip)),
    }
}

fn resolve_named_port(pod: &Pod, name: &str, protocol: Protocol) -> Option<u16> {
    pod.ports
        .iter()
        .find(|cp| cp.name.as_deref() == Some(name) && cp.protocol == protocol)
        .map(|cp| cp.port)
}

fn members_tag(dir: Direction) -> &'static str {
    if dir == Direction::Ingress {
        "MI"
    } else {
        "ME"
    }
}

/// The rules for `snap` when only pods changed since `prev` was compiled for the same node
/// (the same namespaces and policies, in the same order): each address a changed pod had or
/// has is checked again against what decides each set ([`SetOrigin`]), instead of compiling
/// the cluster. `changed` holds every version of the changed pods, before and after (a new pod
/// only after, a deleted one only before). The result equals [`compile`]'s on `snap`.
///
/// None when the change may add or remove chains, rules or sets: a local pod needs a chain no
/// pod needed, a named port resolves to a number no rule has, or a set that decides a chain or
/// a named-port rule may have lost its last pod. The caller compiles then.
pub fn update_for_pods(
    prev: &NodeRules,
    snap: &Snapshot,
    node: Option<&str>,
    changed: &[&Pod],
) -> Option<NodeRules> {
    let is_local = |p: &Pod| node.is_none_or(|n| p.node.as_deref() == Some(n));
    let touched: BTreeSet<IpAddr> = changed.iter().flat_map(|p| p.ips.iter().copied()).collect();
    let changed_keys: std::collections::HashSet<(&str, &str)> = changed
        .iter()
        .map(|p| (p.namespace.as_str(), p.name.as_str()))
        .collect();
    // The pods that hold a touched address now (with their chain keys when local), and the
    // changed pods as they are now.
    let mut at: HashMap<IpAddr, Vec<usize>> = HashMap::new();
    let mut now: Vec<usize> = Vec::new();
    for (i, p) in snap.endpoint_pods() {
        for ip in &p.ips {
            if touched.contains(ip) {
                at.entry(*ip).or_default().push(i);
            }
        }
        if changed_keys.contains(&(p.namespace.as_str(), p.name.as_str())) {
            now.push(i);
        }
    }
    let mut keys: HashMap<usize, [Option<String>; 2]> = HashMap::new();
    for &i in at.values().flatten().chain(&now) {
        let pod = &snap.pods[i];
        keys.entry(i).or_insert_with(|| {
            Direction::BOTH.map(|dir| match is_local(pod) {
                true => chain_key_of(snap, &isolating_policies(snap, pod, dir), dir, &pod.ports),
                false => None,
            })
        });
    }
    let dir_slot = |dir: Direction| usize::from(dir == Direction::Egress);

    // 1. Nothing new: every chain a changed local pod needs exists (in the families of its
    //    addresses), every number a named port resolves to on it has its set.
    for &i in &now {
        let pod = &snap.pods[i];
        for dir in Direction::BOTH {
            if let Some(key) = &keys[&i][dir_slot(dir)] {
                for ip in &pod.ips {
                    let f = Family::of(ip);
                    let name = set_name(members_tag(dir), f, &format!("members {key}"));
                    if !prev.family(f).sets.contains_key(&name) {
                        return None;
                    }
                }
            }
        }
        for g in &prev.named_port_groups {
            if let Some(n) = g.resolves(snap, pod) {
                if !prev.family(g.family).sets.contains_key(&g.set_name(n)) {
                    return None;
                }
            }
        }
    }

    // 2. Each touched address, in each set: a member when some pod holding it now matches
    //    the set's origin.
    let matches = |origin: &SetOrigin, i: usize| -> bool {
        let pod = &snap.pods[i];
        match origin {
            SetOrigin::Peer {
                policy,
                dir,
                rule,
                peer,
            } => pod_matches_peer(snap, *policy, *dir, *rule, *peer, pod),
            SetOrigin::Block => false,
            SetOrigin::NamedPort { group, port } => group.resolves(snap, pod) == Some(*port),
            SetOrigin::Members { dir, key } => {
                keys[&i][dir_slot(*dir)].as_deref() == Some(key.as_str())
            }
            SetOrigin::Placed => is_local(pod),
        }
    };
    let mut out = prev.clone();
    for f in [Family::V4, Family::V6] {
        let rules = match f {
            Family::V4 => &mut out.v4,
            Family::V6 => &mut out.v6,
        };
        for (name, set) in rules.sets.iter_mut() {
            let origin = prev.set_origins.get(name)?;
            if *origin == SetOrigin::Block {
                continue;
            }
            let mut edited = false;
            for ip in touched.iter().filter(|ip| Family::of(ip) == f) {
                let want = at
                    .get(ip)
                    .is_some_and(|pods| pods.iter().any(|&i| matches(origin, i)));
                let member = SetMember {
                    net: host_net(*ip),
                    nomatch: false,
                };
                match (set.members.binary_search(&member), want) {
                    (Ok(pos), false) => {
                        set.members.remove(pos);
                        edited = true;
                    }
                    (Err(pos), true) => {
                        set.members.insert(pos, member);
                        edited = true;
                    }
                    _ => {}
                }
            }
            // A chain without local pods goes away.
            if edited && set.members.is_empty() && matches!(origin, SetOrigin::Members { .. }) {
                return None;
            }
        }
    }
    // 3. A named-port set whose pods all left may go away with its rule (an empty set can
    //    still be needed by pods of the other family or without an address: compile decides).
    for pod in changed {
        for g in &prev.named_port_groups {
            if let Some(n) = resolve_named_port(pod, &g.name, g.protocol) {
                if out
                    .family(g.family)
                    .sets
                    .get(&g.set_name(n))
                    .is_some_and(|s| s.members.is_empty())
                {
                    return None;
                }
            }
        }
    }
    out.pods_without_ip = snap
        .endpoint_pods()
        .filter(|(_, p)| is_local(p) && p.ips.is_empty())
        .filter(|(_, p)| {
            Direction::BOTH
                .iter()
                .any(|d| !isolating_policies(snap, p, *d).is_empty())
        })
        .map(|(_, p)| p.key())
        .collect();
    Some(out)
}

/// The desired rules for the pods on `node` (None: every pod, as on a one-host `probe --local`).
pub fn compile(engine: &Engine<'_>, node: Option<&str>) -> NodeRules {
    compile_with(engine, node, &CompileOptions::default())
}

/// [`compile`] with options (drop logging, for the enforcer agent).
pub fn compile_with(engine: &Engine<'_>, node: Option<&str>, opts: &CompileOptions) -> NodeRules {
    let snap = engine.snap;
    let mut result = NodeRules::default();
    for family in [Family::V4, Family::V6] {
        let mut c = Compiler {
            engine,
            log_drops: opts.log_drops,
            family,
            rules: Ruleset::default(),
            peer_sets: HashMap::new(),
            origins: BTreeMap::new(),
            groups: BTreeSet::new(),
        };
        // Local pods of this family, grouped by the chain their class needs per direction.
        // A chain is named after what decides its content: the isolating policies (and, for
        // ingress, the container ports named ports resolve against).
        let mut chains: BTreeMap<(Direction, String), (ClassId, BTreeSet<IpAddr>)> =
            BTreeMap::new();
        for (pi, pod) in snap.endpoint_pods() {
            if node.is_some_and(|n| pod.node.as_deref() != Some(n)) {
                continue;
            }
            let Some(class) = engine.class_of(pi) else {
                continue;
            };
            for dir in Direction::BOTH {
                let Some(key) = chain_key(engine, class, dir) else {
                    continue;
                };
                let entry = chains
                    .entry((dir, key))
                    .or_insert_with(|| (class, BTreeSet::new()));
                let ips: Vec<IpAddr> = pod
                    .ips
                    .iter()
                    .copied()
                    .filter(|ip| Family::of(ip) == family)
                    .collect();
                if pod.ips.is_empty()
                    && family == Family::V4
                    && !result.pods_without_ip.contains(&pod.key())
                {
                    result.pods_without_ip.push(pod.key());
                }
                entry.1.extend(ips);
            }
        }
        let mut entry = vec![format!(
            "-m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment {} -j RETURN",
            quote("replies and established connections are not re-checked")
        )];
        entry.extend(c.hold_rules(node, &opts.hold));
        let mut ingress_jumps = Vec::new();
        for ((dir, key), (class, ips)) in &chains {
            if ips.is_empty() {
                continue;
            }
            let hash = short_hash(key);
            let chain = format!(
                "NETPOL-{}-{hash}",
                if *dir == Direction::Ingress { "I" } else { "E" }
            );
            let members: Vec<SetMember> = ips
                .iter()
                .map(|ip| SetMember {
                    net: host_net(*ip),
                    nomatch: false,
                })
                .collect();
            let member_set = c.add_set(
                &format!("members {key}"),
                members_tag(*dir),
                SetKind::HashIp,
                |_| members,
                format!("local pods whose {dir} is checked by {chain}"),
                SetOrigin::Members {
                    dir: *dir,
                    key: key.clone(),
                },
            );
            let rules = c.class_chain(&chain, *class, *dir);
            result
                .chain_info
                .entry(chain.clone())
                .or_insert_with(|| ChainInfo {
                    direction: *dir,
                    policies: engine
                        .class_isolating(*class, *dir)
                        .iter()
                        .map(|&p| snap.policies[p].key())
                        .collect(),
                });
            c.rules.chains.insert(chain.clone(), rules);
            let flag = if *dir == Direction::Ingress {
                "dst"
            } else {
                "src"
            };
            let jump = format!("-m set --match-set {member_set} {flag} -j {chain}");
            // Egress of the source first, then ingress of the destination: both must RETURN.
            if *dir == Direction::Egress {
                entry.push(jump);
            } else {
                ingress_jumps.push(jump);
            }
        }
        entry.extend(ingress_jumps);
        c.rules.chains.insert(ENTRY_CHAIN.to_string(), entry);
        result.set_origins.append(&mut c.origins);
        result.named_port_groups.append(&mut c.groups);
        match family {
            Family::V4 => result.v4 = c.rules,
            Family::V6 => result.v6 = c.rules,
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{load_str, LoadOptions};

    fn snapshot() -> Snapshot {
        load_str(
            "hold.yaml",
            r#"
apiVersion: v1
kind: Pod
metadata: {namespace: a, name: here}
spec: {nodeName: n1, containers: [{name: c, image: i}]}
status: {phase: Running, podIP: 10.1.0.5, podIPs: [{ip: 10.1.0.5}]}
---
apiVersion: v1
kind: Pod
metadata: {namespace: a, name: there}
spec: {nodeName: n2, containers: [{name: c, image: i}]}
status: {phase: Running, podIP: 10.1.1.5, podIPs: [{ip: 10.1.1.5}]}
"#,
            &LoadOptions::default(),
        )
        .unwrap()
        .0
    }

    #[test]
    fn unplaced_local_addresses_are_held_after_established_traffic() {
        let snap = snapshot();
        let opts = CompileOptions {
            hold: vec!["10.1.0.0/24".parse().unwrap()],
            ..Default::default()
        };
        let rules = compile_with(&Engine::new(&snap), Some("n1"), &opts);
        let entry = &rules.v4.chains[ENTRY_CHAIN];
        assert!(entry[0].contains("RELATED,ESTABLISHED"));
        let (range, placed) = (&rules.v4.sets, &rules.set_origins);
        let placed_set = placed
            .iter()
            .find(|(_, o)| **o == SetOrigin::Placed)
            .map(|(n, _)| n.clone())
            .unwrap();
        assert_eq!(
            range[&placed_set].members,
            [SetMember {
                net: "10.1.0.5/32".parse().unwrap(),
                nomatch: false
            }],
            "only this node's pods are placed"
        );
        for (rule, flag) in entry[1..3].iter().zip(["src", "dst"]) {
            assert!(
                rule.contains(&format!("! --match-set {placed_set} {flag}"))
                    && rule.ends_with(&format!("-j {HOLD_CHAIN}")),
                "{rule}"
            );
        }
        assert!(rules.v4.chains[HOLD_CHAIN]
            .last()
            .unwrap()
            .ends_with("-j DROP"));
        // No IPv6 range: nothing held there.
        assert!(!rules.v6.chains.contains_key(HOLD_CHAIN));
        // Without ranges, no hold at all.
        let plain = compile(&Engine::new(&snap), Some("n1"));
        assert!(!plain.v4.chains.contains_key(HOLD_CHAIN));
        assert_eq!(plain.v4.chains[ENTRY_CHAIN].len(), 1);
    }
}
