use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::common::{check_format, emit, CliResult, Global};
use super::install::{cluster_error, with_cluster};
use crate::enforce::install::{self, NodeAgent, Rollout};
use crate::enforce::status::DropRecord;
use crate::enforce::{compile, render, Family};
use crate::engine::Engine;
use crate::report::{self, Format};

#[derive(Args)]
pub struct EnforcerArgs {
    #[command(subcommand)]
    pub what: EnforcerWhat,
}

#[derive(Subcommand)]
pub enum EnforcerWhat {
    /// Print the ipsets and iptables rules the enforcer would install on a node (a dry run of
    /// its compiler: `ipset restore` text, then `iptables-restore --noflush` text per family).
    Rules {
        /// The node whose pods to compile for (default: every pod, as `probe --local` does).
        #[arg(long)]
        node: Option<String>,
    },
    /// Per node: is the agent ready, when did it last sync, how many rules and set members it
    /// installed, how many drops it saw, and any warnings (exit 1 when an agent is not ready).
    Status {
        /// table or json.
        #[arg(short = 'o', long = "output", value_enum, default_value = "table")]
        output: Format,
    },
    /// Recent packets the enforcer dropped, mapped back to the pod, the direction and the
    /// policies that isolate it (newest last).
    Drops {
        /// Only the agent on this node.
        #[arg(long)]
        node: Option<String>,
        /// Only drops involving this pod (`namespace/name`), as the isolated pod or the peer.
        #[arg(long, value_name = "NS/NAME")]
        pod: Option<String>,
        /// At most this many (the newest).
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// table or json.
        #[arg(short = 'o', long = "output", value_enum, default_value = "table")]
        output: Format,
    },
}

/// "3s ago", "5m ago", ...
fn ago(unix_ms: u64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let s = now.saturating_sub(unix_ms) / 1000;
    match s {
        0..=119 => format!("{s}s ago"),
        120..=7199 => format!("{}m ago", s / 60),
        _ => format!("{}h ago", s / 3600),
    }
}

/// Columns padded to their widest cell.
fn table(rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = Vec::new();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if widths.len() <= i {
                widths.push(0);
            }
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[derive(serde::Serialize)]
struct StatusDoc<'a> {
    daemonset: Option<RolloutJson>,
    agents: Vec<AgentJson<'a>>,
}

#[derive(serde::Serialize)]
struct RolloutJson {
    desired: u32,
    updated: u32,
    available: u32,
}

#[derive(serde::Serialize)]
struct AgentJson<'a> {
    pod: &'a str,
    node: Option<&'a str>,
    pod_ready: bool,
    restarts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'a crate::enforce::status::AgentStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

/// How the agent keeps new pods from sending before their rules exist (`hold`, `cni+hold`),
/// in red when it does not (`none`, or an agent too old to say).
fn new_pods_mode(s: &crate::enforce::status::AgentStatus) -> String {
    match s.new_pods.as_str() {
        "" => report::red("unknown"),
        "none" => report::red("none"),
        m => m.to_string(),
    }
}

fn status_text(rollout: Option<Rollout>, agents: &[NodeAgent]) -> String {
    let mut out = String::new();
    match rollout {
        Some(r) => out.push_str(&format!(
            "DaemonSet {}/{}: {} of {} agents available, {} up to date\n\n",
            install::NAMESPACE,
            install::NAME,
            r.available,
            r.desired,
            r.updated
        )),
        None => return "the enforcer is not installed (kubectl netpol install-enforcer)\n".into(),
    }
    let mut rows = vec![[
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
    ]
    .iter()
    .map(|s| report::bold(s))
    .collect::<Vec<_>>()];
    let mut notes = Vec::new();
    for a in agents {
        let node = a.pod.node.clone().unwrap_or_else(|| a.pod.name.clone());
        match &a.status {
            Some(s) => {
                let ready = if s.ready && a.pod.ready {
                    report::green("yes")
                } else {
                    report::red("no")
                };
                let (last, took) = match &s.last_sync {
                    Some(l) => (
                        format!("{} ({})", ago(l.unix_ms), l.kind),
                        format!("{:.0}ms", l.duration_ms),
                    ),
                    None => ("never".into(), "-".into()),
                };
                rows.push(vec![
                    node.clone(),
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
                ]);
                if let Some(e) = &s.last_error {
                    notes.push(format!(
                        "{node}: last sync failed {}: {}",
                        ago(e.unix_ms),
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
            }
            None => {
                rows.push(vec![
                    node.clone(),
                    report::red("no"),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                ]);
                notes.push(format!(
                    "{node} ({}): {}",
                    a.pod.name,
                    a.error.as_deref().unwrap_or("no status")
                ));
            }
        }
    }
    out.push_str(&table(&rows));
    if !notes.is_empty() {
        out.push('\n');
        for n in notes {
            out.push_str(&format!("{} {n}\n", report::yellow("!")));
        }
    }
    out
}

fn drops_text(drops: &[(String, DropRecord)], errors: &[String]) -> String {
    let mut out = String::new();
    if drops.is_empty() {
        out.push_str("no drops recorded\n");
    } else {
        let mut rows = vec![[
            "WHEN",
            "NODE",
            "DIRECTION",
            "POD",
            "PEER",
            "PORT",
            "ISOLATED BY",
        ]
        .iter()
        .map(|s| report::bold(s))
        .collect::<Vec<_>>()];
        for (node, d) in drops {
            rows.push(vec![
                ago(d.unix_ms),
                node.clone(),
                d.direction.clone(),
                d.pod.clone().unwrap_or_else(|| "?".into()),
                d.peer.clone(),
                match d.port {
                    Some(p) => format!("{}/{p}", d.protocol.to_lowercase()),
                    None => d.protocol.to_lowercase(),
                },
                d.policies.join(", "),
            ]);
        }
        out.push_str(&table(&rows));
    }
    for e in errors {
        out.push_str(&format!("{} {e}\n", report::yellow("!")));
    }
    out
}

pub fn run(global: &Global, args: &EnforcerArgs) -> CliResult {
    match &args.what {
        EnforcerWhat::Rules { node } => {
            let (snap, _) = global.snapshot(&[])?;
            let engine = Engine::new(&snap);
            let rules = compile(&engine, node.as_deref());
            let mut out = String::new();
            for f in [Family::V4, Family::V6] {
                let r = rules.family(f);
                if r.chains.values().all(|c| c.len() <= 1) && r.sets.is_empty() {
                    continue;
                }
                let label = if f == Family::V4 { "IPv4" } else { "IPv6" };
                out.push_str(&format!(
                    "# {label}: {} rules in {} chains, {} sets with {} members\n",
                    r.rule_count(),
                    r.chains.len(),
                    r.sets.len(),
                    r.member_count()
                ));
                out.push_str("# --- ipset restore ---\n");
                for (name, s) in &r.sets {
                    out.push_str(&format!("# {name}: {}\n", s.comment));
                }
                out.push_str(&render::ipset_restore(r));
                out.push_str(&format!(
                    "# --- {}-restore --noflush ---\n",
                    if f == Family::V4 {
                        "iptables"
                    } else {
                        "ip6tables"
                    }
                ));
                out.push_str(&render::iptables_restore(r, &[]));
            }
            if !rules.pods_without_ip.is_empty() {
                out.push_str(&format!(
                    "# not enforceable yet (no IP): {}\n",
                    rules.pods_without_ip.join(", ")
                ));
            }
            for note in &rules.notes {
                out.push_str(&format!("# not enforced: {note}\n"));
            }
            emit(&out);
            Ok(ExitCode::SUCCESS)
        }
        EnforcerWhat::Status { output } => {
            check_format(*output, &[Format::Table, Format::Json], "enforcer status")?;
            let (rollout, agents) = with_cluster(global, async |c| {
                install::status(&c).await.map_err(cluster_error)
            })?;
            let healthy = rollout.is_some()
                && agents
                    .iter()
                    .all(|a| a.pod.ready && a.status.as_ref().is_some_and(|s| s.ready));
            if *output == Format::Json {
                let doc = StatusDoc {
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
                };
                emit(&report::structured(&doc, Format::Json));
            } else {
                emit(&status_text(rollout, &agents));
            }
            Ok(if healthy {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        EnforcerWhat::Drops {
            node,
            pod,
            limit,
            output,
        } => {
            check_format(*output, &[Format::Table, Format::Json], "enforcer drops")?;
            let docs = with_cluster(global, async |c| {
                install::drops(&c, node.as_deref())
                    .await
                    .map_err(cluster_error)
            })?;
            let mut all: Vec<(String, DropRecord)> = Vec::new();
            let mut errors = Vec::new();
            for (agent, doc) in docs {
                let node = agent.node.unwrap_or(agent.name);
                match doc {
                    Ok(d) => all.extend(d.drops.into_iter().map(|r| (node.clone(), r))),
                    Err(e) => errors.push(format!("{node}: {e}")),
                }
            }
            if let Some(p) = pod {
                all.retain(|(_, d)| d.involves(p));
            }
            all.sort_by_key(|(_, d)| d.unix_ms);
            let skip = all.len().saturating_sub(*limit);
            let all: Vec<(String, DropRecord)> = all.into_iter().skip(skip).collect();
            if *output == Format::Json {
                #[derive(serde::Serialize)]
                struct Row<'a> {
                    node: &'a str,
                    #[serde(flatten)]
                    drop: &'a DropRecord,
                }
                let rows: Vec<Row> = all.iter().map(|(n, d)| Row { node: n, drop: d }).collect();
                emit(&report::structured(&rows, Format::Json));
                for e in &errors {
                    eprintln!("warning: {e}");
                }
            } else {
                emit(&drops_text(&all, &errors));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
