//! `install-enforcer` and `uninstall-enforcer`: flags, progress and messages; the planning is
//! `enforce::install`.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use super::common::{emit, runtime, CliError, CliResult, Global};
use super::probe::parse_duration;
use crate::enforce::install::{self, InstallError, InstallOptions, KubeCluster, Step};

#[derive(Args)]
pub struct InstallArgs {
    /// The agent image (default: this version's release image).
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
    /// Print the objects that would be applied (YAML) and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Install even when a network plugin that enforces NetworkPolicy itself (Calico, Cilium,
    /// kube-router, Antrea, Weave Net, ...) is detected.
    #[arg(long)]
    pub force: bool,
    /// The nodes' CNI configuration directory (where the agent chains its CNI plugin into the
    /// conflist the runtime uses).
    #[arg(long, value_name = "DIR", default_value = "/etc/cni/net.d")]
    pub cni_conf_dir: String,
    /// The nodes' CNI plugin directory (the agent copies its plugin there).
    #[arg(long, value_name = "DIR", default_value = "/opt/cni/bin")]
    pub cni_bin_dir: String,
    /// Do not chain the CNI plugin: pods start without waiting for the agent, and their
    /// traffic is held (dropped) until the agent has placed them.
    #[arg(long)]
    pub no_cni_chain: bool,
    /// When an update denies connections that are already open, the agents delete their
    /// conntrack entries so the deny cuts them too (default: open connections keep flowing
    /// until they close).
    #[arg(long)]
    pub terminate_established: bool,
    /// How long to wait for the agents to be ready on every node.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub timeout: Duration,
}

#[derive(Args)]
pub struct UninstallArgs {
    /// How long to wait for the agents to stop (each removes its rules on the way out).
    #[arg(long, default_value = "3m", value_parser = parse_duration)]
    pub timeout: Duration,
}

pub(super) fn cluster_error(e: InstallError) -> CliError {
    match e {
        InstallError::Usage(m) => CliError::Usage(m),
        InstallError::Manifest(_) => CliError::Environment(e.to_string()),
        InstallError::Refused(m) | InstallError::Api(m) | InstallError::Timeout(m) => {
            CliError::Cluster(m)
        }
    }
}

/// Runs `f` with a client of the cluster the kubeconfig points at.
pub(super) fn with_cluster<T>(
    global: &Global,
    f: impl AsyncFnOnce(KubeCluster) -> Result<T, CliError>,
) -> Result<T, CliError> {
    if global.offline() {
        return Err(CliError::Usage(
            "this command works on a cluster; -f does not apply".into(),
        ));
    }
    runtime()?.block_on(async {
        let (client, _) = crate::k8s::connect(&global.cluster_args()).await?;
        f(KubeCluster { client }).await
    })
}

fn bar(len: u64) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new(len);
    pb.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {msg:<32} [{bar:30}] {pos}/{len} nodes {elapsed}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    pb.enable_steady_tick(Duration::from_millis(100));
    pb
}

pub fn run_install(global: &Global, args: &InstallArgs) -> CliResult {
    let agent = install::AgentSettings {
        image: args.image.clone(),
        cni_conf_dir: Some(args.cni_conf_dir.clone()),
        cni_bin_dir: Some(args.cni_bin_dir.clone()),
        cni_chain: !args.no_cni_chain,
        terminate_established: args.terminate_established,
    };
    if args.dry_run {
        let objects = install::objects(&agent).map_err(cluster_error)?;
        emit(&install::objects_yaml(&objects).map_err(cluster_error)?);
        return Ok(ExitCode::SUCCESS);
    }
    let opts = InstallOptions {
        agent,
        force: args.force,
        timeout: args.timeout,
        ..Default::default()
    };
    let rollout = with_cluster(global, async |cluster| {
        let pb = bar(0);
        pb.set_message("applying the enforcer");
        let result = install::install(&cluster, &opts, &mut |step| match step {
            Step::Forced { cni, evidence } => pb.suspend(|| {
                eprintln!("warning: {cni} is installed ({evidence}) and enforces policies itself; installing anyway (--force)")
            }),
            Step::Applied(what) => pb.suspend(|| eprintln!("applied {what}")),
            Step::Rollout(r) => {
                pb.set_message("waiting for the agents");
                pb.set_length(r.desired as u64);
                pb.set_position(r.available.min(r.desired) as u64);
            }
            Step::Deleted(_) | Step::Terminating(_) => {}
        })
        .await;
        pb.finish_and_clear();
        result.map_err(cluster_error)
    })?;
    emit(&format!(
        "netpol-enforcer is running on {} node{} ({}).\n\
         Check it:  kubectl netpol enforcer status\n\
         Verify it: kubectl netpol probe -n NAMESPACE (real packets against your policies)\n",
        rollout.desired,
        if rollout.desired == 1 { "" } else { "s" },
        args.image.as_deref().unwrap_or(install::DEFAULT_IMAGE)
    ));
    Ok(ExitCode::SUCCESS)
}

pub fn run_uninstall(global: &Global, args: &UninstallArgs) -> CliResult {
    let opts = InstallOptions {
        timeout: args.timeout,
        ..Default::default()
    };
    let removed = with_cluster(global, async |cluster| {
        let pb = indicatif::ProgressBar::new_spinner();
        if !std::io::stderr().is_terminal() {
            pb.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        pb.enable_steady_tick(Duration::from_millis(100));
        let result = install::uninstall(&cluster, &opts, &mut |step| match step {
            Step::Deleted(what) => pb.suspend(|| eprintln!("deleted {what}")),
            Step::Terminating(n) => pb.set_message(format!(
                "{n} agent{} removing their rules",
                if n == 1 { "" } else { "s" }
            )),
            _ => {}
        })
        .await;
        pb.finish_and_clear();
        result.map_err(cluster_error)
    })?;
    emit(if removed == 0 {
        "the enforcer is not installed: nothing to remove\n"
    } else {
        "the enforcer is uninstalled: every agent removed its chains, rules and ipsets before stopping\n"
    });
    Ok(ExitCode::SUCCESS)
}
