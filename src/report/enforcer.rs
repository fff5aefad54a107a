//! `kubectl netpol enforcer rules|status|drops` for people and scripts: the compiler's dry run
//! as restore text, each agent's status, and the drops the agents recorded.

use std::fmt::Write;

use serde::Serialize;

use super::table::table;
use super::{green, red, yellow};
use crate::enforce::install::{self, NodeAgent, Rollout};
use crate::enforce::status::{AgentStatus, DropRecord};
use crate::enforce::{render, Family, NodeRules};

/// "3s ago", "5m ago", ... counted from `now_ms` (milliseconds since the Unix epoch).
fn ago(unix_ms: u64, now_ms: u64) -> String {
    let s = now_ms.saturating_sub(unix_ms) / 1000;
    match s {
        0..=119 => format!("{s}s ago"),
        120..=7199 => format!("{}m ago", s / 60),
        _ => format!("{}h ago", s / 3600),
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// `enforcer rules`: per family that has rules, a summary line, the `ipset restore` text and
/// the `iptables-restore --noflush` text.
pub fn rules_text(rules: &NodeRules) -> String {
    let mut out = String::new();
    for f in [Family::V4, Family::V6] {
        let r = rules.family(f);
        if r.chains.values().all(|c| c.len() <= 1) && r.sets.is_empty() {
            continue;
        }
        let (label, restore) = match f {
            Family::V4 => ("IPv4", "iptables"),
            Family::V6 => ("IPv6", "ip6tables"),
        };
        let _ = writeln!(
            out,
            "# {label}: {} rules in {} chains, {} sets with {} members",
            r.rule_count(),
            r.chains.len(),
            r.sets.len(),
            r.member_count()
        );
        out.push_str("# --- ipset restore ---\n");
        for (name, s) in &r.sets {
            let _ = writeln!(out, "# {name}: {}", s.comment);
        }
        out.push_str(&render::ipset_restore(r));
        let _ = writeln!(out, "# --- {restore}-restore --noflush ---");
        out.push_str(&render::iptables_restore(r, &[]));
    }
    if !rules.pods_without_ip.is_empty() {
        let _ = writeln!(
            out,
            "# not enforceable yet (no IP): {}",
            rules.pods_without_ip.join(", ")
        );
    }
    for note in &rules.notes {
        let _ = writeln!(out, "# not enforced: {note}");
    }
    out
}

/// `enforcer status -o json`.
#[derive(Serialize)]
pub struct StatusDoc<'a> {
    daemonset: Option<RolloutJson>,
    agents: Vec<AgentJson<'a>>,
}

#[derive(Serialize)]
struct RolloutJson {
    desired: u32,
    updated: u32,
    available: u32,
}

#[derive(Serialize)]
struct AgentJson<'a> {
    pod: &'a str,
    node: Option<&'a str>,
    pod_ready: bool,
    restarts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'a AgentStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

pub fn status_doc<'a>(rollout: Option<&Rollout>, agents: &'a [NodeAgent]) -> StatusDoc<'a> {
    StatusDoc {
        daemonset: rollout.map(|r| RolloutJson {
            desired: r.desired,
            updated: r.updated,
            available: r.available,
        }),
        agents: agents
            .iter()
            .map(|a| AgentJson {
                pod: &a.pod.name,
                node: a.pod.node.as_deref(),
                pod_ready: a.pod.ready,
                restarts: a.pod.restarts,
                status: a.status.as_ref(),
                error: a.error.as_deref(),
            })
            .collect(),
    }
}

/// How the agent keeps new pods from sending before their rules exist (`hold`, `cni+hold`),
/// in red when it does not (`none`, or an agent too old to say).
fn new_pods_mode(s: &AgentStatus) -> String {
    match s.new_pods.as_str() {
        "" => red("unknown"),
        "none" => red("none"),
        m => m.to_string(),
    }
}

/// The columns of `enforcer status`.
pub const STATUS_HEADER: [&str; 11] = [
    "NODE",
    "READY",
    "LAST SYNC",
    "TOOK",
    "RULES",
    "SETS",
    "MEMBERS",
    "ISOLATED PODS",
    "NEW PODS",
    "DROPS",
    "ERRORS",
];

/// One agent's row of the status table.
fn status_row(node: &str, pod_ready: bool, s: &AgentStatus, now_ms: u64) -> Vec<String> {
    let ready = if s.ready && pod_ready {
        green("yes")
    } else {
        red("no")
    };
    let (last, took) = match &s.last_sync {
        Some(l) => (
            format!("{} ({})", ago(l.unix_ms, now_ms), l.kind),
            format!("{:.0}ms", l.duration_ms),
        ),
        None => ("never".into(), "-".into()),
    };
    vec![
        node.to_string(),
        ready,
        last,
        took,
        s.rules.to_string(),
        s.ipsets.to_string(),
        s.ipset_members.to_string(),
        format!("{}/{}", s.isolated_pods, s.local_pods),
        new_pods_mode(s),
        s.drops.to_string(),
        s.sync_errors.to_string(),
    ]
}

/// What the status table cannot hold for one agent: its last failure, warnings, pods without
/// an address, and its measured latencies.
fn status_notes(node: &str, s: &AgentStatus, now_ms: u64) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(e) = &s.last_error {
        notes.push(format!(
            "{node}: last sync failed {}: {}",
            ago(e.unix_ms, now_ms),
            e.error.as_deref().unwrap_or("?")
        ));
    }
    for w in &s.warnings {
        notes.push(format!("{node}: {w}"));
    }
    if !s.pods_without_ip.is_empty() {
        let what = if s.new_pods.is_empty() || s.new_pods == "none" {
            "not enforced until they have an address"
        } else {
            "held (no traffic) until the agent has their address"
        };
        notes.push(format!("{node}: {what}: {}", s.pods_without_ip.join(", ")));
    }
    if let Some(p) = &s.sync_latency {
        notes.push(format!(
            "{node}: changes in the kernel {:.0} ms (p50), {:.0} ms (p99), {:.0} ms (max) after the agent saw them, over the last {} syncs",
            p.p50_ms,
            p.p99_ms,
            p.max_ms,
            p.count.min(1000)
        ));
    }
    if s.terminate_established {
        notes.push(format!(
            "{node}: --terminate-established: {} open connections cut because an update denied them",
            s.terminated_flows
        ));
    }
    if let Some(p) = &s.placement {
        notes.push(format!(
            "{node}: new pods placed in {:.0} ms (p50), {:.0} ms (p99), {:.0} ms (max) over the last {} placements",
            p.p50_ms,
            p.p99_ms,
            p.max_ms,
            p.count.min(1000)
        ));
    }
    notes
}

/// `enforcer status`: the DaemonSet's rollout, a row per agent, then notes.
pub fn status_text(rollout: Option<&Rollout>, agents: &[NodeAgent], now_ms: u64) -> String {
    let Some(r) = rollout else {
        return "the enforcer is not installed (kubectl netpol install-enforcer)\n".into();
    };
    let mut out = format!(
        "DaemonSet {}/{}: {} of {} agents available, {} up to date\n\n",
        install::NAMESPACE,
        install::NAME,
        r.available,
        r.desired,
        r.updated
    );
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for a in agents {
        let node = a.pod.node.clone().unwrap_or_else(|| a.pod.name.clone());
        match &a.status {
            Some(s) => {
                rows.push(status_row(&node, a.pod.ready, s, now_ms));
                notes.extend(status_notes(&node, s, now_ms));
            }
            None => {
                let mut row = vec![node.clone(), red("no")];
                row.resize(STATUS_HEADER.len(), "-".into());
                rows.push(row);
                notes.push(format!(
                    "{node} ({}): {}",
                    a.pod.name,
                    a.error.as_deref().unwrap_or("no status")
                ));
            }
        }
    }
    out.push_str(&table(&STATUS_HEADER, rows));
    if !notes.is_empty() {
        out.push('\n');
        for n in notes {
            let _ = writeln!(out, "{} {n}", yellow("!"));
        }
    }
    out
}

/// `enforcer drops -o json`: one object per drop, with the node whose agent saw it.
#[derive(Serialize)]
pub struct DropJson<'a> {
    node: &'a str,
    #[serde(flatten)]
    drop: &'a DropRecord,
}

pub fn drops_doc(drops: &[(String, DropRecord)]) -> Vec<DropJson<'_>> {
    drops
        .iter()
        .map(|(node, drop)| DropJson { node, drop })
        .collect()
}

/// The columns of `enforcer drops`.
pub const DROPS_HEADER: [&str; 7] = [
    "WHEN",
    "NODE",
    "DIRECTION",
    "POD",
    "PEER",
    "PORT",
    "ISOLATED BY",
];

/// `enforcer drops`: a row per drop (oldest first), then the agents that could not be read.
pub fn drops_text(drops: &[(String, DropRecord)], errors: &[String], now_ms: u64) -> String {
    let mut out = String::new();
    if drops.is_empty() {
        out.push_str("no drops recorded\n");
    } else {
        let rows = drops.iter().map(|(node, d)| {
            vec![
                ago(d.unix_ms, now_ms),
                node.clone(),
                d.direction.clone(),
                d.pod.clone().unwrap_or_else(|| "?".into()),
                d.peer.clone(),
                match d.port {
                    Some(p) => format!("{}/{p}", d.protocol.to_lowercase()),
                    None => d.protocol.to_lowercase(),
                },
                d.policies.join(", "),
            ]
        });
        out.push_str(&table(&DROPS_HEADER, rows));
    }
    for e in errors {
        let _ = writeln!(out, "{} {e}", yellow("!"));
    }
    out
}
