//! Running the rendered text: `ipset restore`, `iptables-restore --noflush` and the hook from
//! FORWARD. Commands go through a `Runner`, so they can run on the host, inside a network
//! namespace (`ip netns exec`), or in a test double.

use std::io::Write;
use std::process::{Command, Stdio};

use super::compile::{Family, NodeRules, Ruleset};
use super::{render, CHAIN_PREFIX, ENTRY_CHAIN, SET_PREFIX};

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

/// Applies desired rules and removes them again, touching only our own chains and sets.
pub struct Applier<R: Runner> {
    pub runner: R,
}

fn tools(f: Family) -> (&'static str, &'static str, &'static str) {
    match f {
        Family::V4 => ("iptables", "iptables-save", "iptables-restore"),
        Family::V6 => ("ip6tables", "ip6tables-save", "ip6tables-restore"),
    }
}

impl<R: Runner> Applier<R> {
    pub fn new(runner: R) -> Self {
        Applier { runner }
    }

    /// Our chains in the filter table now.
    pub fn existing_chains(&self, family: Family) -> Result<Vec<String>, ApplyError> {
        let (_, save, _) = tools(family);
        let text = self.runner.run(save, &["-t", "filter"], None)?;
        Ok(text
            .lines()
            .filter_map(|l| l.strip_prefix(':'))
            .filter_map(|l| l.split_whitespace().next())
            .filter(|c| c.starts_with(CHAIN_PREFIX))
            .map(str::to_string)
            .collect())
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

    /// Makes the node's rules equal the desired ones. Order keeps every moment consistent:
    /// sets first (new ones appear, existing ones are swapped atomically), then one
    /// iptables-restore transaction per family, then the hook, then unused sets go.
    pub fn apply(&self, rules: &NodeRules) -> Result<(), ApplyError> {
        let mut all_sets = String::new();
        for f in [Family::V4, Family::V6] {
            all_sets.push_str(&render::ipset_restore(rules.family(f)));
        }
        if !all_sets.is_empty() {
            self.runner.run("ipset", &["restore"], Some(&all_sets))?;
        }
        for f in [Family::V4, Family::V6] {
            self.apply_family(f, rules.family(f))?;
        }
        let wanted: Vec<&String> = rules.v4.sets.keys().chain(rules.v6.sets.keys()).collect();
        for set in self.existing_sets()? {
            if !wanted.contains(&&set) {
                self.runner.run("ipset", &["destroy", &set], None)?;
            }
        }
        Ok(())
    }

    fn apply_family(&self, family: Family, rules: &Ruleset) -> Result<(), ApplyError> {
        let (iptables, _, restore) = tools(family);
        let existing = self.existing_chains(family)?;
        self.runner.run(
            restore,
            &["--noflush"],
            Some(&render::iptables_restore(rules, &existing)),
        )?;
        // The hook: inserted once at the top of FORWARD (checked first, like kube-proxy does).
        if self
            .runner
            .run(
                iptables,
                &["-t", "filter", "-C", "FORWARD", "-j", ENTRY_CHAIN],
                None,
            )
            .is_err()
        {
            self.runner.run(
                iptables,
                &["-t", "filter", "-I", "FORWARD", "1", "-j", ENTRY_CHAIN],
                None,
            )?;
        }
        Ok(())
    }

    /// Refills only the named sets: a pod-membership change needs nothing else.
    pub fn refill_sets(&self, rules: &NodeRules, changed: &[&str]) -> Result<(), ApplyError> {
        let mut text = String::new();
        for f in [Family::V4, Family::V6] {
            text.push_str(&render::ipset_refill(rules.family(f), changed));
        }
        if !text.is_empty() {
            self.runner.run("ipset", &["restore"], Some(&text))?;
        }
        Ok(())
    }

    /// Removes the hook, every chain and every set of ours. Safe to run when none exist.
    pub fn remove_all(&self) -> Result<(), ApplyError> {
        for f in [Family::V4, Family::V6] {
            let (iptables, _, restore) = tools(f);
            while self
                .runner
                .run(
                    iptables,
                    &["-t", "filter", "-D", "FORWARD", "-j", ENTRY_CHAIN],
                    None,
                )
                .is_ok()
            {}
            let existing = self.existing_chains(f)?;
            if !existing.is_empty() {
                self.runner.run(
                    restore,
                    &["--noflush"],
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
