//! Snapshot + node name → the chains and address sets that enforce the policies of the pods on
//! that node, in the typed form of [`rules`] (render.rs writes them as ipset/iptables text).
//! Every decision comes from the engine: which policies isolate a pod, which pods a peer
//! matches, what a port or a named port means. This module only translates them into chains.
//!
//! Shape (per address family):
//! - `NETPOL-FORWARD`, hooked at the top of FORWARD: established/related traffic returns at
//!   once; then each isolated local pod's traffic jumps to its class's egress chain (matched by
//!   source address, through a member set) and ingress chain (by destination address).
//! - `NETPOL-E-*` / `NETPOL-I-*`: one chain per distinct set of isolating policies; a rule that
//!   allows RETURNs (so the other direction is still checked), the chain ends in DROP.
//! - Peers are ipsets (hash:ip of pod addresses; hash:net with `nomatch` entries for
//!   ipBlock + except), so the cost per packet does not grow with the number of pods.
//!
//! Files: `rules` (the typed form), `sets` (set names, members, origins), `peers` (rule peers
//! as sets), `chain` (one class chain), `entry` (the entry chain and the hold), `update` (a
//! pod change applied to earlier rules without compiling the cluster).

mod chain;
mod entry;
mod peers;
pub mod rules;
mod sets;
mod tiers;
mod update;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use ipnet::IpNet;

use crate::engine::{ClusterRuleRef, Engine};
use crate::model::Direction;

use super::ENTRY_CHAIN;

pub use rules::{
    Action, Family, IpSetDef, Match, PortRange, Rule, Ruleset, SetKind, SetMember, Side,
};
pub use sets::{NamedPortGroup, SetOrigin};
pub use update::update_for_pods;

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
    /// What the rules leave out because iptables cannot express it (a cluster policy's
    /// `domainNames`), one line each.
    pub notes: Vec<String>,
}

impl NodeRules {
    pub fn family(&self, f: Family) -> &Ruleset {
        match f {
            Family::V4 => &self.v4,
            Family::V6 => &self.v6,
        }
    }

    fn family_mut(&mut self, f: Family) -> &mut Ruleset {
        match f {
            Family::V4 => &mut self.v4,
            Family::V6 => &mut self.v6,
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

/// Compiles the rules of one address family.
struct FamilyCompiler<'e, 's> {
    engine: &'e Engine<'s>,
    log_drops: Option<DropLog>,
    family: Family,
    chains: BTreeMap<String, Vec<Rule>>,
    sets: sets::SetBook,
    groups: BTreeSet<NamedPortGroup>,
    chain_info: BTreeMap<String, ChainInfo>,
    /// What the rules leave out (see [`NodeRules::notes`]).
    notes: Vec<String>,
    /// An egress named port of a cluster rule's peer → its sets by (protocol, number).
    cluster_named: HashMap<(ClusterRuleRef, usize, String), Vec<(String, PortRange)>>,
}

impl FamilyCompiler<'_, '_> {
    fn in_family(&self, ip: &IpAddr) -> bool {
        Family::of(ip) == self.family
    }
}

/// Sends a packet about to be dropped in `chain` to the drop log (rate-limited).
fn nflog_rule(log: DropLog, chain: &str) -> Rule {
    let per_second = log.per_second.max(1);
    Rule::new(
        vec![Match::Limit {
            per_second,
            burst: per_second * 2,
        }],
        None,
        Action::Log {
            group: log.nflog_group,
            prefix: format!("{DROP_LOG_PREFIX} {chain}"),
        },
    )
}

/// The desired rules for the pods on `node` (None: every pod, as on a one-host `probe --local`).
pub fn compile(engine: &Engine<'_>, node: Option<&str>) -> NodeRules {
    compile_with(engine, node, &CompileOptions::default())
}

/// [`compile`] with options (drop logging, for the enforcer agent).
pub fn compile_with(engine: &Engine<'_>, node: Option<&str>, opts: &CompileOptions) -> NodeRules {
    let mut result = NodeRules::default();
    for family in [Family::V4, Family::V6] {
        let mut c = FamilyCompiler {
            engine,
            log_drops: opts.log_drops,
            family,
            chains: BTreeMap::new(),
            sets: sets::SetBook::new(family),
            groups: BTreeSet::new(),
            chain_info: BTreeMap::new(),
            notes: Vec::new(),
            cluster_named: HashMap::new(),
        };
        let chains = entry::local_chains(engine, node, family, &mut result.pods_without_ip);
        let entry = c.entry_chain(node, &opts.hold, &chains);
        c.chains.insert(ENTRY_CHAIN.to_string(), entry);
        for (chain, info) in c.chain_info {
            result.chain_info.entry(chain).or_insert(info);
        }
        result.set_origins.append(&mut c.sets.origins);
        result.named_port_groups.append(&mut c.groups);
        for note in c.notes {
            if !result.notes.contains(&note) {
                result.notes.push(note);
            }
        }
        *result.family_mut(family) = Ruleset {
            chains: c.chains,
            sets: c.sets.sets,
        };
    }
    result
}

#[cfg(test)]
mod tests;
