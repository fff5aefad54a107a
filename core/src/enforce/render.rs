//! Desired rules → the text `ipset restore` and `iptables-restore --noflush` read. Pure, so the
//! exact bytes are unit-tested; only our own chains and sets are ever named.

use std::fmt::Write;

use super::compile::{Action, IpSetDef, Match, PortRange, Rule, Ruleset, SetMember, Side};
use super::{CHAIN_PREFIX, ENTRY_CHAIN};

/// A comment or prefix as one quoted iptables word (iptables allows 256 characters).
fn quote(s: &str) -> String {
    format!(
        "\"{}\"",
        s.replace('"', "'").chars().take(250).collect::<String>()
    )
}

fn ports_args(range: &PortRange) -> String {
    let p = range.protocol.as_str().to_ascii_lowercase();
    match range.ports {
        None => format!("-p {p}"),
        Some((a, b)) if a == b => format!("-p {p} -m {p} --dport {a}"),
        Some((a, b)) => format!("-p {p} -m {p} --dport {a}:{b}"),
    }
}

fn match_args(m: &Match) -> String {
    match m {
        Match::Established => "-m conntrack --ctstate RELATED,ESTABLISHED".into(),
        Match::InSet { set, side, negated } => {
            let not = if *negated { "! " } else { "" };
            let flag = match side {
                Side::Source => "src",
                Side::Destination => "dst",
            };
            format!("-m set {not}--match-set {set} {flag}")
        }
        Match::Ports(range) => ports_args(range),
        Match::Limit { per_second, burst } => {
            format!("-m limit --limit {per_second}/second --limit-burst {burst}")
        }
    }
}

fn action_args(a: &Action) -> String {
    match a {
        Action::Return => "-j RETURN".into(),
        Action::Drop => "-j DROP".into(),
        Action::Jump(chain) => format!("-j {chain}"),
        Action::Goto(chain) => format!("-g {chain}"),
        Action::Log { group, prefix } => format!(
            "-j NFLOG --nflog-group {group} --nflog-prefix {} --nflog-size 128",
            quote(prefix)
        ),
    }
}

/// One rule as the arguments after `-A CHAIN`: its matches in order, the comment, the target.
pub fn rule_args(rule: &Rule) -> String {
    let mut words: Vec<String> = rule.matches.iter().map(match_args).collect();
    if let Some(c) = &rule.comment {
        words.push(format!("-m comment --comment {}", quote(c)));
    }
    words.push(action_args(&rule.action));
    words.join(" ")
}

/// Temporary name for the atomic swap (ipset names are at most 31 characters).
pub fn temp_set_name(name: &str) -> String {
    format!("{name}-t")
}

fn member_line(set: &str, m: &super::compile::SetMember) -> String {
    // hash:ip takes a bare address; hash:net a CIDR.
    let net = if m.net.prefix_len() == m.net.max_prefix_len() {
        m.net.addr().to_string()
    } else {
        m.net.to_string()
    };
    if m.nomatch {
        format!("add {set} {net} nomatch")
    } else {
        format!("add {set} {net}")
    }
}

/// `create` without `-exist`, for a set that is known not to exist.
fn create_new_line(name: &str, s: &IpSetDef) -> String {
    format!(
        "create {name} {} family {} hashsize 1024 maxelem 1048576",
        s.kind.name(),
        s.family.ipset_family()
    )
}

/// Writes a set that no rule references (so it may be destroyed and refilled at leisure): the
/// first step of an atomic apply, where the rules switch to it in one iptables transaction.
pub fn ipset_write_unreferenced(name: &str, set: &IpSetDef, exists: bool) -> String {
    let mut out = String::new();
    if exists {
        let _ = writeln!(out, "destroy {name}");
    }
    let _ = writeln!(out, "{}", create_new_line(name, set));
    for m in &set.members {
        let _ = writeln!(out, "{}", member_line(name, m));
    }
    out
}

/// Replaces the members of a set in use: fill a temporary set, swap (atomic), destroy it.
pub fn ipset_swap(name: &str, set: &IpSetDef) -> String {
    let mut out = String::new();
    let tmp = temp_set_name(name);
    let _ = writeln!(out, "{}", create_line(name, set));
    let _ = writeln!(out, "{}", create_line(&tmp, set));
    let _ = writeln!(out, "flush {tmp}");
    for m in &set.members {
        let _ = writeln!(out, "{}", member_line(&tmp, m));
    }
    let _ = writeln!(out, "swap {tmp} {name}");
    let _ = writeln!(out, "destroy {tmp}");
    out
}

/// The members that changed, one `del`/`add` each (both sorted and unique): a pod-membership
/// change costs a line per pod, not a line per member.
pub fn ipset_delta(name: &str, old: &[SetMember], new: &[SetMember]) -> String {
    let mut out = String::new();
    for m in old.iter().filter(|m| new.binary_search(m).is_err()) {
        let net = member_line(
            name,
            &SetMember {
                nomatch: false,
                ..m.clone()
            },
        );
        let _ = writeln!(out, "{} -exist", net.replacen("add ", "del ", 1));
    }
    for m in new.iter().filter(|m| old.binary_search(m).is_err()) {
        let _ = writeln!(out, "{} -exist", member_line(name, m));
    }
    out
}

fn create_line(name: &str, s: &IpSetDef) -> String {
    format!(
        "create {name} {} family {} hashsize 1024 maxelem 1048576 -exist",
        s.kind.name(),
        s.family.ipset_family()
    )
}

/// Creates or atomically replaces every desired set (see [`ipset_swap`]).
pub fn ipset_restore(rules: &Ruleset) -> String {
    rules
        .sets
        .iter()
        .map(|(name, set)| ipset_swap(name, set))
        .collect()
}

/// One transaction for the filter table: declares (and so flushes) our chains, fills them, and
/// deletes our chains that are no longer wanted. Other chains are not touched (`--noflush`).
pub fn iptables_restore(rules: &Ruleset, existing_chains: &[String]) -> String {
    let mut out = String::from("*filter\n");
    let stale: Vec<&String> = existing_chains
        .iter()
        .filter(|c| c.starts_with(CHAIN_PREFIX) && !rules.chains.contains_key(*c))
        .collect();
    for chain in rules.chains.keys().chain(stale.iter().copied()) {
        let _ = writeln!(out, ":{chain} - [0:0]");
    }
    // The entry chain first in the text is not required, but keeps diffs readable.
    if let Some(entry) = rules.chains.get(ENTRY_CHAIN) {
        for r in entry {
            let _ = writeln!(out, "-A {ENTRY_CHAIN} {}", rule_args(r));
        }
    }
    for (chain, body) in rules
        .chains
        .iter()
        .filter(|(c, _)| c.as_str() != ENTRY_CHAIN)
    {
        for r in body {
            let _ = writeln!(out, "-A {chain} {}", rule_args(r));
        }
    }
    for chain in stale {
        let _ = writeln!(out, "-X {chain}");
    }
    out.push_str("COMMIT\n");
    out
}

/// How the transaction fixes the hook from FORWARD: it must be there exactly once, first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookFix {
    /// It is (exactly once, at the top).
    Keep,
    /// Delete `existing` occurrences, then insert it at the top.
    Reinsert { existing: usize },
}

/// [`iptables_restore`] plus the hook, so rules and hook change in one atomic commit (a
/// first install is never left with chains but no hook, or a hook to a missing chain).
pub fn iptables_apply(rules: &Ruleset, existing_chains: &[String], hook: HookFix) -> String {
    let mut out = iptables_restore(rules, existing_chains);
    if let HookFix::Reinsert { existing } = hook {
        out.truncate(out.len() - "COMMIT\n".len());
        for _ in 0..existing {
            let _ = writeln!(out, "-D FORWARD -j {ENTRY_CHAIN}");
        }
        let _ = writeln!(out, "-I FORWARD 1 -j {ENTRY_CHAIN}");
        out.push_str("COMMIT\n");
    }
    out
}

/// Removes every chain of ours in one transaction (after the hook from FORWARD is gone).
pub fn iptables_remove(existing_chains: &[String]) -> String {
    let ours: Vec<&String> = existing_chains
        .iter()
        .filter(|c| c.starts_with(CHAIN_PREFIX))
        .collect();
    let mut out = String::from("*filter\n");
    for c in &ours {
        let _ = writeln!(out, ":{c} - [0:0]");
    }
    for c in &ours {
        let _ = writeln!(out, "-X {c}");
    }
    out.push_str("COMMIT\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enforce::compile::{Family, SetKind, SetMember};
    use crate::model::Protocol;

    fn rules() -> Ruleset {
        let mut r = Ruleset::default();
        r.chains.insert(
            ENTRY_CHAIN.into(),
            vec![Rule::new(
                vec![Match::in_set("NPMI-1", Side::Destination)],
                None,
                Action::Jump("NETPOL-I-1".into()),
            )],
        );
        r.chains.insert(
            "NETPOL-I-1".into(),
            vec![Rule::new(Vec::new(), None, Action::Drop)],
        );
        r.sets.insert(
            "NPB-1".into(),
            IpSetDef {
                name: "NPB-1".into(),
                kind: SetKind::HashNet,
                family: Family::V4,
                members: vec![
                    SetMember {
                        net: "10.0.0.0/8".parse().unwrap(),
                        nomatch: false,
                    },
                    SetMember {
                        net: "10.0.0.5/32".parse().unwrap(),
                        nomatch: true,
                    },
                ],
                comment: String::new(),
            },
        );
        r
    }

    #[test]
    fn each_match_and_action_has_its_iptables_words() {
        let ports = |ports| {
            Match::Ports(PortRange {
                protocol: Protocol::Sctp,
                ports,
            })
        };
        let rule = Rule::new(
            vec![
                Match::Established,
                Match::InSet {
                    set: "NPPL-1".into(),
                    side: Side::Source,
                    negated: true,
                },
                ports(Some((80, 90))),
                Match::Limit {
                    per_second: 5,
                    burst: 10,
                },
            ],
            Some("say \"hi\"".into()),
            Action::Log {
                group: 7,
                prefix: "NPDROP NETPOL-I-1".into(),
            },
        );
        assert_eq!(
            rule_args(&rule),
            "-m conntrack --ctstate RELATED,ESTABLISHED -m set ! --match-set NPPL-1 src \
             -p sctp -m sctp --dport 80:90 -m limit --limit 5/second --limit-burst 10 \
             -m comment --comment \"say 'hi'\" -j NFLOG --nflog-group 7 --nflog-prefix \"NPDROP NETPOL-I-1\" --nflog-size 128"
        );
        let only = |m, action| rule_args(&Rule::new(vec![m], None, action));
        assert_eq!(only(ports(None), Action::Return), "-p sctp -j RETURN");
        assert_eq!(
            only(ports(Some((53, 53))), Action::Drop),
            "-p sctp -m sctp --dport 53 -j DROP"
        );
        assert_eq!(
            only(
                Match::in_set("S", Side::Destination),
                Action::Jump("C".into())
            ),
            "-m set --match-set S dst -j C"
        );
        assert_eq!(
            only(Match::in_set("S", Side::Source), Action::Goto("C".into())),
            "-m set --match-set S src -g C"
        );
        let long = Rule::new(Vec::new(), Some("x".repeat(300)), Action::Return);
        assert_eq!(
            rule_args(&long).len(),
            "-m comment --comment \"\" -j RETURN".len() + 250
        );
    }

    #[test]
    fn hook_is_part_of_the_transaction() {
        let t = iptables_apply(&rules(), &[], HookFix::Reinsert { existing: 1 });
        assert!(t.ends_with(
            "-A NETPOL-I-1 -j DROP\n-D FORWARD -j NETPOL-FORWARD\n-I FORWARD 1 -j NETPOL-FORWARD\nCOMMIT\n"
        ));
        assert_eq!(
            iptables_apply(&rules(), &[], HookFix::Keep),
            iptables_restore(&rules(), &[])
        );
    }

    #[test]
    fn delta_lists_only_changed_members() {
        let m = |s: &str, nomatch| SetMember {
            net: s.parse().unwrap(),
            nomatch,
        };
        let old = vec![m("10.0.0.1/32", false), m("10.0.0.2/32", false)];
        let new = vec![m("10.0.0.2/32", false), m("10.0.0.3/32", false)];
        assert_eq!(
            ipset_delta("S", &old, &new),
            "del S 10.0.0.1 -exist\nadd S 10.0.0.3 -exist\n"
        );
        assert_eq!(ipset_delta("S", &new, &new), "");
        let t = ipset_write_unreferenced("S-b", &rules().sets["NPB-1"], true);
        assert!(t.starts_with("destroy S-b\ncreate S-b hash:net family inet"));
        assert!(t.ends_with("add S-b 10.0.0.5 nomatch\n"));
    }

    #[test]
    fn ipset_text_swaps_atomically() {
        let t = ipset_restore(&rules());
        assert_eq!(
            t,
            "create NPB-1 hash:net family inet hashsize 1024 maxelem 1048576 -exist\n\
             create NPB-1-t hash:net family inet hashsize 1024 maxelem 1048576 -exist\n\
             flush NPB-1-t\nadd NPB-1-t 10.0.0.0/8\nadd NPB-1-t 10.0.0.5 nomatch\nswap NPB-1-t NPB-1\ndestroy NPB-1-t\n"
        );
    }

    #[test]
    fn iptables_text_touches_only_our_chains_and_removes_stale_ones() {
        let existing = vec![
            "NETPOL-E-old".to_string(),
            "KUBE-FORWARD".to_string(),
            "NETPOL-I-1".to_string(),
        ];
        let t = iptables_restore(&rules(), &existing);
        assert_eq!(
            t,
            "*filter\n:NETPOL-FORWARD - [0:0]\n:NETPOL-I-1 - [0:0]\n:NETPOL-E-old - [0:0]\n\
             -A NETPOL-FORWARD -m set --match-set NPMI-1 dst -j NETPOL-I-1\n-A NETPOL-I-1 -j DROP\n-X NETPOL-E-old\nCOMMIT\n"
        );
        assert!(!t.contains("KUBE-FORWARD"));
        let r = iptables_remove(&existing);
        assert!(
            r.contains("-X NETPOL-E-old") && r.contains("-X NETPOL-I-1") && !r.contains("KUBE")
        );
    }
}
