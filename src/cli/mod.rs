//! The command line: parsing and delegation only. Each subcommand has its own file.

mod cleanup;
mod common;
mod completion;
mod diff;
mod enforcer;
mod explain;
mod install;
mod lab;
mod lint;
mod matrix;
mod probe;
mod probe_cluster;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

pub use common::{CliError, Global};

#[derive(Parser)]
#[command(
    name = "kubectl-netpol",
    bin_name = "kubectl netpol",
    version,
    about = "Explain, verify, probe and enforce Kubernetes NetworkPolicies",
    long_about = "Explain, verify, probe and enforce Kubernetes NetworkPolicies.\n\nReads the live cluster like kubectl does (KUBECONFIG, --context, -n, -A), or manifests with -f.",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Explain which policies select a pod, what a policy does, or why traffic is allowed or denied.
    Explain(explain::ExplainArgs),
    /// The expected connectivity matrix (live, or from manifests with -f).
    Matrix(matrix::MatrixArgs),
    /// Send real packets and compare what the network does with what the policies promise.
    Probe(probe::ProbeArgs),
    /// Remove everything the tool left behind: prober pods and their owners in the cluster (all
    /// namespaces), or with --local the network namespaces of killed runs.
    Cleanup(cleanup::CleanupArgs),
    /// CKA-style labs: list, start, check your policies, hints, solution, reset.
    Lab(lab::LabArgs),
    /// Find policies that are probably not what their author meant (exit 1 on findings).
    Lint(lint::LintArgs),
    /// What a change opens and closes: connections that become allowed or denied, OLD -> NEW.
    Diff(diff::DiffArgs),
    /// The enforcer: `rules` it would install on a node, agents' `status`, recent `drops`.
    Enforcer(enforcer::EnforcerArgs),
    /// Install the enforcer DaemonSet (for CNIs that ignore NetworkPolicy: flannel, old kindnet).
    InstallEnforcer(install::InstallArgs),
    /// Remove the enforcer; every agent removes its chains, rules and ipsets as it stops.
    UninstallEnforcer(install::UninstallArgs),
    /// Print shell completions: bash, zsh, fish or powershell.
    Completion(completion::CompletionArgs),
}

pub fn main() -> ExitCode {
    // The prober agent lives in this binary too, so `probe --local` needs nothing else
    // installed: `kubectl-netpol prober serve|run ...` is the netpol-prober command line.
    #[cfg(target_os = "linux")]
    {
        let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
        if args.get(1).is_some_and(|a| a == "prober") {
            return ExitCode::from(
                netpol_prober::cli_main(args.into_iter().skip(1)).clamp(0, 255) as u8,
            );
        }
    }
    if let Some(code) = completion::intercept(Cli::command) {
        return code;
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => 2,
            });
        }
    };
    cli.global.apply_color();
    let result = match &cli.command {
        Command::Explain(a) => explain::run(&cli.global, a),
        Command::Matrix(a) => matrix::run(&cli.global, a),
        Command::Probe(a) => probe::run(&cli.global, a),
        Command::Cleanup(a) => cleanup::run(&cli.global, a),
        Command::Lab(a) => lab::run(&cli.global, a),
        Command::Lint(a) => lint::run(&cli.global, a),
        Command::Diff(a) => diff::run(&cli.global, a),
        Command::Enforcer(a) => enforcer::run(&cli.global, a),
        Command::InstallEnforcer(a) => install::run_install(&cli.global, a),
        Command::UninstallEnforcer(a) => install::run_uninstall(&cli.global, a),
        Command::Completion(a) => completion::run(a, &mut Cli::command()),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
