use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::common::{check_format, emit, CliResult, Global};
use super::install::{cluster_error, with_cluster};
use crate::enforce::compile;
use crate::enforce::install;
use crate::enforce::status::select_drops;
use crate::engine::Engine;
use crate::report::enforcer::{drops_doc, drops_text, now_ms, rules_text, status_doc, status_text};
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

pub fn run(global: &Global, args: &EnforcerArgs) -> CliResult {
    match &args.what {
        EnforcerWhat::Rules { node } => {
            let (snap, _) = global.snapshot(&[])?;
            let engine = Engine::new(&snap);
            emit(&rules_text(&compile(&engine, node.as_deref())));
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
            emit(&match output {
                Format::Json => {
                    report::structured(&status_doc(rollout.as_ref(), &agents), Format::Json)
                }
                _ => status_text(rollout.as_ref(), &agents, now_ms()),
            });
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
            let docs = docs
                .into_iter()
                .map(|(agent, doc)| (agent.node.unwrap_or(agent.name), doc));
            let (shown, errors) = select_drops(docs, pod.as_deref(), *limit);
            if *output == Format::Json {
                emit(&report::structured(&drops_doc(&shown), Format::Json));
                for e in &errors {
                    eprintln!("warning: {e}");
                }
            } else {
                emit(&drops_text(&shown, &errors, now_ms()));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
