//! The entry chain and what hangs off it: established traffic first, then the hold of local
//! addresses no placed pod holds, then per direction a jump (by a set of local pod addresses)
//! to the chain of each distinct set of isolating policies.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use ipnet::IpNet;

use super::rules::{Action, Family, Match, Rule, SetKind, SetMember, Side};
use super::sets::{members_key, members_tag, net_members, short_hash, SetOrigin, SetSpec};
use super::{nflog_rule, ChainInfo, FamilyCompiler, HOLD_CHAIN};
use crate::engine::{ClassId, Engine};
use crate::model::{ClusterTier, ContainerPort, Direction, Snapshot};

/// The local pods' chains of one family: (direction, chain key) → a class of those pods (the
/// chain's rules follow from any of them) and their addresses.
pub(super) type LocalChains = BTreeMap<(Direction, String), (ClassId, BTreeSet<IpAddr>)>;

/// What a chain of a class in a direction is named after: the isolating policies, the
/// cluster policies whose subject it is (when any), and for ingress the container ports named
/// ports resolve against. None when no policy decides anything for it.
pub(super) fn chain_key(engine: &Engine<'_>, class: ClassId, dir: Direction) -> Option<String> {
    let tiers = [ClusterTier::Admin, ClusterTier::Baseline]
        .map(|tier| engine.class_cluster_policies(class, tier, dir));
    let ports = engine.class_ports(class);
    chain_key_with_tiers(
        engine.snap,
        engine.class_isolating(class, dir),
        &tiers,
        dir,
        ports,
    )
}

/// The chain key from its parts: the isolating NetworkPolicies, the Admin and the Baseline
/// cluster policies (in evaluation order) and the checked pods' container ports.
pub(super) fn chain_key_with_tiers(
    snap: &Snapshot,
    isolating: &[usize],
    [admin, baseline]: &[Vec<usize>; 2],
    dir: Direction,
    ports: &[ContainerPort],
) -> Option<String> {
    let cluster = |policies: &[usize]| {
        let keys: Vec<String> = policies
            .iter()
            .map(|&p| snap.cluster_policies[p].key())
            .collect();
        keys.join(",")
    };
    let (admin, baseline) = (cluster(admin), cluster(baseline));
    if admin.is_empty() && baseline.is_empty() {
        // Only NetworkPolicy: the key (and so every name) it always had.
        return chain_key_of(snap, isolating, dir, ports);
    }
    let names: Vec<String> = isolating.iter().map(|&p| snap.policies[p].key()).collect();
    let mut key = format!(
        "{dir}:{} admin={admin} baseline={baseline}",
        names.join(",")
    );
    if dir == Direction::Ingress {
        key.push_str(&format!(" ports={ports:?}"));
    }
    Some(key)
}

pub(super) fn chain_key_of(
    snap: &Snapshot,
    pols: &[usize],
    dir: Direction,
    ports: &[ContainerPort],
) -> Option<String> {
    if pols.is_empty() {
        return None;
    }
    let names: Vec<String> = pols.iter().map(|&p| snap.policies[p].key()).collect();
    let mut key = format!("{dir}:{}", names.join(","));
    if dir == Direction::Ingress {
        key.push_str(&format!(" ports={ports:?}"));
    }
    Some(key)
}

fn chain_name(dir: Direction, key: &str) -> String {
    let tag = if dir == Direction::Ingress { "I" } else { "E" };
    format!("NETPOL-{tag}-{}", short_hash(key))
}

/// The chains the local pods (on `node`; every pod when None) need in `family`. Isolated
/// local pods without an address are added to `without_ip` (once, while compiling IPv4).
pub(super) fn local_chains(
    engine: &Engine<'_>,
    node: Option<&str>,
    family: Family,
    without_ip: &mut Vec<String>,
) -> LocalChains {
    let mut chains = LocalChains::new();
    for (pi, pod) in engine.snap.endpoint_pods() {
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
            let ips = pod.ips.iter().filter(|ip| Family::of(ip) == family);
            entry.1.extend(ips);
            if pod.ips.is_empty() && family == Family::V4 && !without_ip.contains(&pod.key()) {
                without_ip.push(pod.key());
            }
        }
    }
    chains
}

impl FamilyCompiler<'_, '_> {
    /// The entry chain: established traffic, the hold, then the jumps to the class chains
    /// (egress of the source first, then ingress of the destination: both must RETURN).
    pub(super) fn entry_chain(
        &mut self,
        node: Option<&str>,
        hold: &[IpNet],
        chains: &LocalChains,
    ) -> Vec<Rule> {
        let mut entry = vec![Rule::new(
            vec![Match::Established],
            Some("replies and established connections are not re-checked".into()),
            Action::Return,
        )];
        entry.extend(self.hold_rules(node, hold));
        let mut ingress_jumps = Vec::new();
        for ((dir, key), (class, ips)) in chains {
            if ips.is_empty() {
                continue;
            }
            let jump = self.class_jump(*dir, key, *class, ips);
            match dir {
                Direction::Egress => entry.push(jump),
                Direction::Ingress => ingress_jumps.push(jump),
            }
        }
        entry.extend(ingress_jumps);
        entry
    }

    /// Makes the chain for one key and its set of local pod addresses; returns the jump.
    fn class_jump(
        &mut self,
        dir: Direction,
        key: &str,
        class: ClassId,
        ips: &BTreeSet<IpAddr>,
    ) -> Rule {
        let chain = chain_name(dir, key);
        let spec = || SetSpec {
            kind: SetKind::HashIp,
            comment: format!("local pods whose {dir} is checked by {chain}"),
            origin: SetOrigin::Members {
                dir,
                key: key.to_string(),
            },
        };
        let members = || ips.iter().map(|ip| SetMember::host(*ip)).collect();
        let member_set = self
            .sets
            .add(&members_key(key), members_tag(dir), spec, members);
        let rules = self.class_chain(&chain, class, dir);
        let info = ChainInfo {
            direction: dir,
            policies: self.chain_policies(class, dir),
        };
        self.chain_info.entry(chain.clone()).or_insert(info);
        self.chains.insert(chain.clone(), rules);
        let side = match dir {
            Direction::Ingress => Side::Destination,
            Direction::Egress => Side::Source,
        };
        Rule::new(
            vec![Match::in_set(&member_set, side)],
            None,
            Action::Jump(chain),
        )
    }

    /// The entry rules that send traffic of unplaced local pod addresses to [`HOLD_CHAIN`]
    /// (and that chain), when `hold` has ranges of this family.
    fn hold_rules(&mut self, node: Option<&str>, hold: &[IpNet]) -> Vec<Rule> {
        let ranges: BTreeSet<SetMember> = hold
            .iter()
            .filter(|n| self.in_family(&n.addr()))
            .flat_map(|n| net_members(n.trunc()))
            .map(|net| SetMember {
                net,
                nomatch: false,
            })
            .collect();
        if ranges.is_empty() {
            return Vec::new();
        }
        let range_set = self.sets.add(
            "hold: this node's pod ranges",
            "H",
            || SetSpec {
                kind: SetKind::HashNet,
                comment: "this node's pod addresses".into(),
                origin: SetOrigin::Block,
            },
            || ranges.into_iter().collect(),
        );
        let placed = self.placed_ips(node);
        let placed_set = self.sets.add(
            "hold: placed pods",
            "PL",
            || SetSpec {
                kind: SetKind::HashIp,
                comment: "local pods the enforcer has placed under their policies".into(),
                origin: SetOrigin::Placed,
            },
            || placed,
        );
        let mut chain: Vec<Rule> = self
            .log_drops
            .map(|log| nflog_rule(log, HOLD_CHAIN))
            .into_iter()
            .collect();
        chain.push(Rule::new(
            Vec::new(),
            Some("held: a local pod the enforcer has not placed yet".into()),
            Action::Drop,
        ));
        self.chains.insert(HOLD_CHAIN.to_string(), chain);
        let held = |side| {
            let not_placed = Match::InSet {
                set: placed_set.clone(),
                side,
                negated: true,
            };
            Rule::new(
                vec![Match::in_set(&range_set, side), not_placed],
                Some("not placed yet".into()),
                Action::Jump(HOLD_CHAIN.into()),
            )
        };
        vec![held(Side::Source), held(Side::Destination)]
    }

    /// The addresses of this family of the pods on `node` (every pod when None).
    fn placed_ips(&self, node: Option<&str>) -> Vec<SetMember> {
        let ips: BTreeSet<SetMember> = self
            .engine
            .snap
            .endpoint_pods()
            .filter(|(_, p)| node.is_none_or(|n| p.node.as_deref() == Some(n)))
            .flat_map(|(_, p)| p.ips.iter())
            .filter(|ip| self.in_family(ip))
            .map(|ip| SetMember::host(*ip))
            .collect();
        ips.into_iter().collect()
    }
}
