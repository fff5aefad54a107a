//! Running the rendered text: `ipset restore`, `iptables-restore --noflush` and the hook from
//! FORWARD. Commands go through a `Runner`, so they can run on the host, inside a network
//! namespace (`ip netns exec`), or in a test double.
//!
//! A full apply is atomic per address family, whenever the process is killed: sets whose
//! contents change are written under their other name (`NAME` ↔ `NAME-b`), which no rule
//! references yet; then one `iptables-restore` transaction replaces our chains, switches them to
//! those sets and fixes the hook; only then are the sets no rule references any more destroyed.
//! Killed before the commit, the node keeps the old rules (plus unreferenced sets that the next
//! apply removes); after it, the new ones. A pod-membership change (`refill_sets`) edits the
//! sets in place, one `add`/`del` per changed member.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Mutex;

use super::compile::{Family, IpSetDef, NodeRules, Ruleset, SetMember, SetOrigin};
use super::render::{self, HookFix};
use super::{CHAIN_PREFIX, ENTRY_CHAIN, SET_PREFIX};

#[derive(Debug, thiserror::Error)]
#[error("{program} {args}: {message}")]
pub struct ApplyError {
    pub program: String,
    pub args: String,
    pub message: String,
}

/// Runs a program with arguments and optional standard input, returning its standard output.
pub trait Runner: Send + Sync {
    fn run(&self, program: &str, args: &[&str], stdin: Option<&str>) -> Result<String, ApplyError>;
}

/// Runs commands for real, on the host or (with `netns`) inside a named network namespace.
#[derive(Debug, Clone, Default)]
pub struct CommandRunner {
    pub netns: Option<String>,
}

impl Runner for CommandRunner {
    fn run(&self, program: &str, args: &[&str], stdin: Option<&str>) -> Result<String, ApplyError> {
        let mut cmd = match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, program]);
                c
            }
            None => Command::new(program),
        };
        cmd.args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let err = |message: String| ApplyError {
            program: program.to_string(),
            args: args.join(" "),
            message,
        };
        let mut child = cmd.spawn().map_err(|e| err(format!("cannot run: {e}")))?;
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(text.as_bytes())
                .map_err(|e| err(format!("cannot write input: {e}")))?;
        }
        let out = child.wait_with_output().map_err(|e| err(e.to_string()))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(err(format!(
                "failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )))
        }
    }
}

/// What the filter table of one family holds of ours, read from `iptables-save`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableState {
    /// Our chains and their rule counts.
    pub chains: BTreeMap<String, usize>,
    /// Positions (0-based) of `-j NETPOL-FORWARD` among the rules of FORWARD.
    pub hooks: Vec<usize>,
    /// Sets our chains reference.
    pub referenced_sets: BTreeSet<String>,
}

impl TableState {
    /// Parses `iptables-save -t filter` output.
    pub fn parse(save: &str) -> TableState {
        let mut st = TableState::default();
        let mut forward_rules = 0usize;
        for line in save.lines() {
            if let Some(decl) = line.strip_prefix(':') {
                if let Some(name) = decl.split_whitespace().next() {
                    if name.starts_with(CHAIN_PREFIX) {
                        st.chains.entry(name.to_string()).or_insert(0);
                    }
                }
                continue;
            }
            let Some(rule) = line.strip_prefix("-A ") else {
                continue;
            };
            let mut words = rule.split_whitespace();
            let chain = words.next().unwrap_or_default();
            if chain == "FORWARD" {
                let rest: Vec<&str> = words.collect();
                if rest == ["-j", ENTRY_CHAIN] {
                    st.hooks.push(forward_rules);
                }
                forward_rules += 1;
            } else if chain.starts_with(CHAIN_PREFIX) {
                *st.chains.entry(chain.to_string()).or_insert(0) += 1;
                let rest: Vec<&str> = words.collect();
                for w in rest.windows(2) {
                    if w[0] == "--match-set" {
                        st.referenced_sets.insert(w[1].to_string());
                    }
                }
            }
        }
        st
    }

    fn hook_fix(&self) -> HookFix {
        if self.hooks == [0] {
            HookFix::Keep
        } else {
            HookFix::Reinsert {
                existing: self.hooks.len(),
            }
        }
    }
}

/// What a full apply did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyStats {
    /// Sets written (new, or changed and so written under their other name).
    pub sets_written: usize,
    /// Sets destroyed because no rule references them any more.
    pub sets_destroyed: usize,
}

/// The sets as this applier last wrote them: which name each desired set has on the node, and
/// its members. Unknown (None) after a start or `forget`: then every set is written again.
#[derive(Debug, Default)]
struct LiveSets {
    names: HashMap<String, String>,
    members: HashMap<String, Vec<SetMember>>,
}

/// Applies desired rules and removes them again, touching only our own chains and sets.
pub struct Applier<R: Runner> {
    pub runner: R,
    families: Vec<Family>,
    live: Mutex<Option<LiveSets>>,
}

/// `-w 5`: wait up to 5 s for the xtables lock (kube-proxy and the CNI use it too) rather than
/// fail at once; the nft variants accept and ignore it.
fn tools(f: Family) -> (&'static str, &'static str, &'static str) {
    match f {
        Family::V4 => ("iptables", "iptables-save", "iptables-restore"),
        Family::V6 => ("ip6tables", "ip6tables-save", "ip6tables-restore"),
    }
}

/// The other name of a set: rules switch between the two on a full apply.
pub fn alternate_set_name(name: &str) -> String {
    match name.strip_suffix("-b") {
        Some(base) => base.to_string(),
        None => format!("{name}-b"),
    }
}

/// The ruleset with set names replaced as `names` says (desired name → name on the node).
fn renamed(rules: &Ruleset, names: &HashMap<String, String>) -> Ruleset {
    let mut out = Ruleset {
        chains: BTreeMap::new(),
        sets: BTreeMap::new(),
    };
    for (chain, body) in &rules.chains {
        let body = body
            .iter()
            .map(|r| r.with_sets_renamed(|set| names.get(set).cloned()))
            .collect();
        out.chains.insert(chain.clone(), body);
    }
    for (name, set) in &rules.sets {
        let actual = names.get(name).cloned().unwrap_or_else(|| name.clone());
        out.sets.insert(
            actual.clone(),
            IpSetDef {
                name: actual,
                ..set.clone()
            },
        );
    }
    out
}

impl<R: Runner> Applier<R> {
    pub fn new(runner: R) -> Self {
        Self::with_families(runner, vec![Family::V4, Family::V6])
    }

    /// An applier for some families only (e.g. IPv4 alone on a node without ip6tables).
    pub fn with_families(runner: R, families: Vec<Family>) -> Self {
        Applier {
            runner,
            families,
            live: Mutex::new(None),
        }
    }

    pub fn families(&self) -> &[Family] {
        &self.families
    }

    fn live(&self) -> std::sync::MutexGuard<'_, Option<LiveSets>> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Forgets what was written, so the next apply writes every set again (after someone else
    /// changed them).
    pub fn forget(&self) {
        *self.live() = None;
    }

    /// The filter table of one family, as far as it concerns us.
    pub fn table_state(&self, family: Family) -> Result<TableState, ApplyError> {
        let (_, save, _) = tools(family);
        Ok(TableState::parse(&self.runner.run(
            save,
            &["-t", "filter"],
            None,
        )?))
    }

    /// Our chains in the filter table now.
    pub fn existing_chains(&self, family: Family) -> Result<Vec<String>, ApplyError> {
        Ok(self.table_state(family)?.chains.into_keys().collect())
    }

    /// Our ipsets now.
    pub fn existing_sets(&self) -> Result<Vec<String>, ApplyError> {
        let text = self.runner.run("ipset", &["list", "-n"], None)?;
        Ok(text
            .lines()
            .map(str::trim)
            .filter(|s| s.starts_with(SET_PREFIX))
            .map(str::to_string)
            .collect())
    }

    /// Our ipsets now with their numbers of entries.
    pub fn set_sizes(&self) -> Result<BTreeMap<String, usize>, ApplyError> {
        let text = self.runner.run("ipset", &["list", "-t"], None)?;
        let mut out = BTreeMap::new();
        let mut name: Option<String> = None;
        for line in text.lines() {
            if let Some(n) = line.strip_prefix("Name:") {
                name = Some(n.trim().to_string()).filter(|n| n.starts_with(SET_PREFIX));
            } else if let Some(n) = line.strip_prefix("Number of entries:") {
                if let (Some(set), Ok(count)) = (name.take(), n.trim().parse()) {
                    out.insert(set, count);
                }
            }
        }
        Ok(out)
    }

    /// Makes the node's rules equal the desired ones, atomically per family (see the module
    /// documentation).
    pub fn apply(&self, rules: &NodeRules) -> Result<ApplyStats, ApplyError> {
        let mut live = self.live();
        let known = live.take().unwrap_or_default();
        let mut states = BTreeMap::new();
        for &f in &self.families {
            states.insert(f, self.table_state(f)?);
        }
        let mut stats = ApplyStats::default();

        // 1. Choose each set's name on the node, and write the sets that need it where no rule
        //    looks yet.
        let names = self.write_sets(rules, &states, &known, &mut stats)?;

        // 2. One transaction per family: chains, their set references and the hook.
        for (&f, st) in &states {
            let (_, _, restore) = tools(f);
            let existing_chains: Vec<String> = st.chains.keys().cloned().collect();
            let text = render::iptables_apply(
                &renamed(rules.family(f), &names),
                &existing_chains,
                st.hook_fix(),
            );
            self.runner
                .run(restore, &["-w", "5", "--noflush"], Some(&text))?;
        }

        // 3. Sets that no rule references any more.
        stats.sets_destroyed = self.destroy_unwanted_sets(&names)?;

        let mut now = LiveSets::default();
        for &f in &self.families {
            for (base, set) in &rules.family(f).sets {
                if let Some(actual) = names.get(base) {
                    now.members.insert(actual.clone(), set.members.clone());
                }
            }
        }
        now.names = names;
        *live = Some(now);
        Ok(stats)
    }

    /// Step 1 of `apply`: each desired set's name on the node (the one the rules use when its
    /// members are already right, else the other of its two names, written before any rule
    /// looks at it). Returns desired name → name on the node.
    fn write_sets(
        &self,
        rules: &NodeRules,
        states: &BTreeMap<Family, TableState>,
        known: &LiveSets,
        stats: &mut ApplyStats,
    ) -> Result<HashMap<String, String>, ApplyError> {
        let existing: BTreeSet<String> = self.existing_sets()?.into_iter().collect();
        let mut names: HashMap<String, String> = HashMap::new();
        let mut text = String::new();
        for (&f, st) in states {
            for (base, set) in &rules.family(f).sets {
                let alt = alternate_set_name(base);
                let used: Vec<&String> = [base, &alt]
                    .into_iter()
                    .filter(|n| st.referenced_sets.contains(*n))
                    .collect();
                let actual = match used.as_slice() {
                    [cur] if known.members.get(*cur) == Some(&set.members) => {
                        names.insert(base.clone(), (*cur).clone());
                        continue;
                    }
                    [cur] => alternate_set_name(cur),
                    [] => base.clone(),
                    // Both referenced (only if someone else wrote rules with our names): swap
                    // the base set in place, which at least never fails.
                    _ => {
                        text.push_str(&render::ipset_swap(base, set));
                        names.insert(base.clone(), base.clone());
                        stats.sets_written += 1;
                        continue;
                    }
                };
                text.push_str(&render::ipset_write_unreferenced(
                    &actual,
                    set,
                    existing.contains(&actual),
                ));
                names.insert(base.clone(), actual);
                stats.sets_written += 1;
            }
        }
        if !text.is_empty() {
            self.runner.run("ipset", &["restore"], Some(&text))?;
        }
        Ok(names)
    }

    /// Step 3 of `apply`: destroys our sets that are not among `names` (no rule references
    /// them any more). Returns how many.
    fn destroy_unwanted_sets(&self, names: &HashMap<String, String>) -> Result<usize, ApplyError> {
        let wanted: BTreeSet<&String> = names.values().collect();
        let mut destroy = String::new();
        let mut count = 0;
        for set in self.existing_sets()? {
            if !wanted.contains(&set) {
                destroy.push_str(&format!("destroy {set}\n"));
                count += 1;
            }
        }
        if !destroy.is_empty()
            && self
                .runner
                .run("ipset", &["restore"], Some(&destroy))
                .is_err()
        {
            // One set still in use (by a rule someone else added?) must not stop the rest.
            for line in destroy.lines() {
                if let Some(set) = line.strip_prefix("destroy ") {
                    let _ = self.runner.run("ipset", &["destroy", set], None);
                }
            }
        }
        Ok(count)
    }

    /// Updates only the named sets (desired names), for a change of pod membership with the
    /// same chains: one `del`/`add` per changed member when the current members are known,
    /// else an atomic swap. Falls back to a full apply when the sets are not known at all.
    pub fn refill_sets(&self, rules: &NodeRules, changed: &[&str]) -> Result<(), ApplyError> {
        let mut guard = self.live();
        let Some(live) = guard.as_mut() else {
            drop(guard);
            return self.apply(rules).map(|_| ());
        };
        if changed.iter().any(|c| !live.names.contains_key(*c)) {
            drop(guard);
            return self.apply(rules).map(|_| ());
        }
        // A pod leaves the placed set before anything else changes and joins it after its
        // other sets are filled: between the lines of one restore, a new pod is held rather
        // than let through unchecked.
        let (mut unplace, mut text, mut place) = (String::new(), String::new(), String::new());
        let mut updates = Vec::new();
        for base in changed {
            let Some(set) = rules.set(base) else { continue };
            let actual = live.names[*base].clone();
            let placed = rules.set_origins.get(*base) == Some(&SetOrigin::Placed);
            let delta = match live.members.get(&actual) {
                Some(old) => render::ipset_delta(&actual, old, &set.members),
                None if placed => {
                    place.push_str(&render::ipset_swap(&actual, set));
                    updates.push((actual, set.members.clone()));
                    continue;
                }
                None => render::ipset_swap(&actual, set),
            };
            if placed {
                for line in delta.lines() {
                    let to = if line.starts_with("add ") {
                        &mut place
                    } else {
                        &mut unplace
                    };
                    to.push_str(line);
                    to.push('\n');
                }
            } else {
                text.push_str(&delta);
            }
            updates.push((actual, set.members.clone()));
        }
        let text = unplace + &text + &place;
        if !text.is_empty() {
            if let Err(e) = self.runner.run("ipset", &["restore"], Some(&text)) {
                // Part of the text may have run: the members are unknown now.
                *guard = None;
                return Err(e);
            }
        }
        for (actual, members) in updates {
            live.members.insert(actual, members);
        }
        Ok(())
    }

    /// What differs between the node and the desired rules, as far as cheap checks tell: the
    /// hook (missing, duplicated or not first), our chains and their rule counts, and the sets
    /// with their sizes. Empty when all is in place.
    pub fn drift(&self, rules: &NodeRules) -> Result<Vec<String>, ApplyError> {
        let mut out = Vec::new();
        let names: HashMap<String, String> = self
            .live()
            .as_ref()
            .map(|l| l.names.clone())
            .unwrap_or_default();
        for &f in &self.families {
            let st = self.table_state(f)?;
            let (iptables, _, _) = tools(f);
            match st.hooks.as_slice() {
                [0] => {}
                [] => out.push(format!(
                    "{iptables}: the jump from FORWARD to {ENTRY_CHAIN} is missing"
                )),
                [p] => out.push(format!(
                    "{iptables}: the jump to {ENTRY_CHAIN} is rule {} of FORWARD, not the first",
                    p + 1
                )),
                many => out.push(format!(
                    "{iptables}: FORWARD jumps to {ENTRY_CHAIN} {} times",
                    many.len()
                )),
            }
            let want = &rules.family(f).chains;
            for (chain, body) in want {
                match st.chains.get(chain) {
                    None => out.push(format!("{iptables}: chain {chain} is missing")),
                    Some(&n) if n != body.len() => out.push(format!(
                        "{iptables}: chain {chain} has {n} rules, not {}",
                        body.len()
                    )),
                    Some(_) => {}
                }
            }
            for chain in st.chains.keys().filter(|c| !want.contains_key(*c)) {
                out.push(format!("{iptables}: unexpected chain {chain}"));
            }
        }
        let sizes = self.set_sizes()?;
        for &f in &self.families {
            for (base, set) in &rules.family(f).sets {
                let actual = names.get(base).unwrap_or(base);
                match sizes.get(actual) {
                    None => out.push(format!("ipset {actual} is missing")),
                    Some(&n) if n != set.members.len() => out.push(format!(
                        "ipset {actual} has {n} entries, not {}",
                        set.members.len()
                    )),
                    Some(_) => {}
                }
            }
        }
        Ok(out)
    }

    /// Removes the hook, every chain and every set of ours. Safe to run when none exist.
    pub fn remove_all(&self) -> Result<(), ApplyError> {
        *self.live() = None;
        for &f in &self.families {
            let (iptables, _, restore) = tools(f);
            while self
                .runner
                .run(
                    iptables,
                    &[
                        "-w",
                        "5",
                        "-t",
                        "filter",
                        "-D",
                        "FORWARD",
                        "-j",
                        ENTRY_CHAIN,
                    ],
                    None,
                )
                .is_ok()
            {}
            let existing = self.existing_chains(f)?;
            if !existing.is_empty() {
                self.runner.run(
                    restore,
                    &["-w", "5", "--noflush"],
                    Some(&render::iptables_remove(&existing)),
                )?;
            }
        }
        for set in self.existing_sets()? {
            self.runner.run("ipset", &["destroy", &set], None)?;
        }
        Ok(())
    }
}

/// Says clearly what is missing: root or CAP_NET_ADMIN, and ip / iptables / ipset.
/// Whether this process holds CAP_NET_ADMIN (network namespaces, iptables), as root does.
pub fn has_cap_net_admin() -> bool {
    const CAP_NET_ADMIN: u32 = 12;
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapEff:"))
                .and_then(|caps| u64::from_str_radix(caps.trim(), 16).ok())
        })
        .is_some_and(|caps| caps & (1 << CAP_NET_ADMIN) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enforce::compile::{Action, Match, Rule, Side};

    #[test]
    fn save_output_is_read_for_our_chains_hook_and_sets() {
        let save = "# Generated by iptables-save\n*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n\
                    :NETPOL-FORWARD - [0:0]\n:NETPOL-I-1 - [0:0]\n:KUBE-FORWARD - [0:0]\n\
                    -A FORWARD -m comment --comment \"x\" -j KUBE-FORWARD\n-A FORWARD -j NETPOL-FORWARD\n\
                    -A NETPOL-FORWARD -m set --match-set NPMI-1 dst -j NETPOL-I-1\n\
                    -A NETPOL-I-1 -m set --match-set NPP-2-b src -m comment --comment \"a b\" -j RETURN\n\
                    -A NETPOL-I-1 -j DROP\n-A KUBE-FORWARD -j ACCEPT\nCOMMIT\n";
        let st = TableState::parse(save);
        assert_eq!(st.hooks, vec![1]);
        assert_eq!(
            st.chains.into_iter().collect::<Vec<_>>(),
            vec![("NETPOL-FORWARD".into(), 1), ("NETPOL-I-1".into(), 2)]
        );
        assert_eq!(
            st.referenced_sets.into_iter().collect::<Vec<_>>(),
            vec!["NPMI-1".to_string(), "NPP-2-b".to_string()]
        );
    }

    #[test]
    fn set_names_alternate_and_rules_follow() {
        assert_eq!(alternate_set_name("NPP-1"), "NPP-1-b");
        assert_eq!(alternate_set_name("NPP-1-b"), "NPP-1");
        let mut r = Ruleset::default();
        r.chains.insert(
            "NETPOL-I-1".into(),
            vec![Rule::new(
                vec![Match::in_set("NPP-1", Side::Source)],
                Some("NPP-1".into()),
                Action::Return,
            )],
        );
        let names = HashMap::from([("NPP-1".to_string(), "NPP-1-b".to_string())]);
        assert_eq!(
            render::rule_args(&renamed(&r, &names).chains["NETPOL-I-1"][0]),
            "-m set --match-set NPP-1-b src -m comment --comment \"NPP-1\" -j RETURN"
        );
    }
}
