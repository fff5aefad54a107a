//! The typed rule form the compiler emits: chains of rules (matches on address sets,
//! protocols and ports, then a verdict or a jump) and the address sets they name. It says
//! nothing about iptables syntax: `render` turns it into `ipset restore` and
//! `iptables-restore` text, and another backend (nftables) could render the same form.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;

pub use crate::engine::ports::PortRange;

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
    /// An exception inside a wider member (ipBlock `except`): the set does not match it.
    pub nomatch: bool,
}

impl SetMember {
    /// One address.
    pub fn host(ip: IpAddr) -> SetMember {
        SetMember {
            net: IpNet::from(ip),
            nomatch: false,
        }
    }
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

/// Which address of the packet a set match looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Source,
    Destination,
}

/// One condition of a rule; a rule matches when all of its conditions do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// Packets of connections already let through, and packets related to them (ICMP errors).
    Established,
    /// The packet's source or destination address is in the set (or, negated, is not).
    InSet {
        set: String,
        side: Side,
        negated: bool,
    },
    /// The protocol, and the destination port range when it has one.
    Ports(PortRange),
    /// At most this many packets per second, in bursts of at most `burst`.
    Limit { per_second: u32, burst: u32 },
}

impl Match {
    /// The packet's address on `side` is in `set`.
    pub fn in_set(set: &str, side: Side) -> Match {
        Match::InSet {
            set: set.to_string(),
            side,
            negated: false,
        }
    }
}

/// What a rule does with a packet that matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Leave this chain: the calling chain goes on with its next check.
    Return,
    Drop,
    /// Continue in another chain of ours; its RETURN comes back here.
    Jump(String),
    /// Continue in another chain of ours; its RETURN (or its end) returns to the chain that
    /// jumped here, as if this chain had returned.
    Goto(String),
    /// Copy the packet to an NFLOG group, marked with `prefix`, and go on.
    Log {
        group: u16,
        prefix: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub matches: Vec<Match>,
    /// Why the rule is there, in words (shown in `iptables-save`).
    pub comment: Option<String>,
    pub action: Action,
}

impl Rule {
    pub fn new(matches: Vec<Match>, comment: Option<String>, action: Action) -> Rule {
        Rule {
            matches,
            comment,
            action,
        }
    }

    /// The sets the rule names.
    pub fn sets(&self) -> impl Iterator<Item = &str> {
        self.matches.iter().filter_map(|m| match m {
            Match::InSet { set, .. } => Some(set.as_str()),
            _ => None,
        })
    }

    /// The same rule with its set names replaced by `rename` (a name it returns None for stays).
    pub fn with_sets_renamed(&self, rename: impl Fn(&str) -> Option<String>) -> Rule {
        let mut out = self.clone();
        for m in &mut out.matches {
            if let Match::InSet { set, .. } = m {
                if let Some(new) = rename(set) {
                    *set = new;
                }
            }
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ruleset {
    /// Chain name → its rules, the entry chain included.
    pub chains: BTreeMap<String, Vec<Rule>>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Protocol;

    #[test]
    fn renaming_touches_only_set_matches() {
        let rule = Rule::new(
            vec![
                Match::in_set("NPP-1", Side::Source),
                Match::Ports(PortRange {
                    protocol: Protocol::Tcp,
                    ports: Some((80, 80)),
                }),
                Match::in_set("NPN-2", Side::Destination),
            ],
            Some("NPP-1".into()),
            Action::Return,
        );
        let renamed = rule.with_sets_renamed(|s| (s == "NPP-1").then(|| "NPP-1-b".to_string()));
        assert_eq!(renamed.sets().collect::<Vec<_>>(), ["NPP-1-b", "NPN-2"]);
        assert_eq!(renamed.comment.as_deref(), Some("NPP-1"));
        assert_eq!(renamed.matches[1], rule.matches[1]);
    }
}
