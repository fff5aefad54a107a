use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::common::{emit, CliResult, Global};
use crate::enforce::{compile, render, Family};
use crate::engine::Engine;

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
            emit(&out);
            Ok(ExitCode::SUCCESS)
        }
    }
}
