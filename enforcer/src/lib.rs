//! netpol-enforcer: the DaemonSet agent of kubectl-netpol. It watches pods, namespaces and
//! NetworkPolicies, compiles the rules for the pods of its node with the kubectl-netpol engine
//! (`netpol::enforce`, the same compiler `probe --local` tests with real packets) and applies
//! them with `ipset restore` and `iptables-restore --noflush` into its own `NETPOL-*` chains.
//!
//! - [`cache`]: the parsed objects, fed by [`cache::Change`]s (watch events)
//! - [`agent`]: debounce → compile → apply the least that changed; repair; clean up on exit
//! - [`source`]: the kube watches that produce the changes
//! - [`feed`]: the same loop fed from stdin (`probe --local --apply` measures it)
//! - [`nflog`]: dropped packets, mapped back to pods and policies
//! - [`http`], [`telemetry`]: /healthz, /readyz, /metrics, /status, /drops
//! - [`backend`], [`bridge`]: iptables-nft or -legacy; bridge-nf-call-iptables

pub mod agent;
pub mod backend;
pub mod bridge;
pub mod cache;
pub mod cni;
pub mod conntrack;
pub mod feed;
pub mod http;
pub mod nflog;
pub mod source;
pub mod telemetry;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use netpol::enforce::{Applier, CommandRunner, CompileOptions, DropLog, Family, Runner};

pub use agent::{Agent, AgentConfig};
pub use backend::{Backend, BackendRunner};
pub use cache::Change;
pub use telemetry::Telemetry;

/// Everything `netpol-enforcer run` needs.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub node: String,
    pub listen: SocketAddr,
    pub debounce: Duration,
    pub max_delay: Duration,
    pub placement_delay: Duration,
    pub repair_interval: Duration,
    /// The node's pod address ranges for the hold (empty: read them from the Node object).
    pub pod_cidrs: Vec<ipnet::IpNet>,
    /// Chain the CNI plugin into the node's conflist (None: do not; the hold alone).
    pub cni: Option<cni::CniChain>,
    /// None: drops are not logged.
    pub drop_log: Option<DropLog>,
    pub backend: Backend,
    /// Where to check and set bridge-nf-call-iptables (None: leave it alone).
    pub proc_sys_net: Option<PathBuf>,
    /// Run the rules in this named network namespace (`ip netns`), not the agent's own.
    pub netns: Option<String>,
    pub kubeconfig: Option<PathBuf>,
    /// Delete the conntrack entries of open connections an update denies.
    pub terminate_established: bool,
}

/// The runner for iptables and ipset: in `netns` if given, with the chosen iptables variant.
pub fn runner(netns: Option<String>, backend: Backend) -> BackendRunner<CommandRunner> {
    let inner = CommandRunner { netns };
    let backend = match backend {
        Backend::Auto => backend::detect(&inner),
        b => b,
    };
    BackendRunner { inner, backend }
}

/// IPv6 is programmed when ip6tables works on this node.
pub fn families<R: Runner>(runner: &R) -> (Vec<Family>, Vec<String>) {
    match runner.run("ip6tables-save", &["-t", "filter"], None) {
        Ok(_) => (vec![Family::V4, Family::V6], Vec::new()),
        Err(e) => (
            vec![Family::V4],
            vec![format!(
                "IPv6 is not programmed (ip6tables does not work here: {}); IPv6 pod traffic is not filtered",
                e.message
            )],
        ),
    }
}

/// Listens on the plugin's socket and chains the plugin into the node's conflist.
async fn start_cni(
    chain: &cni::CniChain,
) -> Result<(cni::Chained, tokio::sync::mpsc::Receiver<cni::PlaceRequest>), String> {
    if let Some(dir) = chain.socket.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    // A socket file left by a killed agent would make bind fail.
    let _ = std::fs::remove_file(&chain.socket);
    let listener = tokio::net::UnixListener::bind(&chain.socket)
        .map_err(|e| format!("cannot listen on {}: {e}", chain.socket.display()))?;
    let (tx, rx) = tokio::sync::mpsc::channel(1024);
    tokio::spawn(cni::serve(listener, tx));
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
    match chain.install(&exe) {
        Ok(chained) => Ok((chained, rx)),
        Err(e) => {
            let _ = std::fs::remove_file(&chain.socket);
            Err(e)
        }
    }
}

pub(crate) async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        // Without signal handlers the agent could never clean up: fail loudly instead.
        tracing::error!("cannot install the SIGTERM handler");
        return;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM"),
        _ = int.recv() => tracing::info!("SIGINT"),
    }
}

/// The agent, until SIGTERM: watches, HTTP server, drop listener, reconcile loop, clean-up.
pub async fn run(opts: RunOptions) -> Result<(), String> {
    let runner = runner(opts.netns.clone(), opts.backend);
    let (families, mut warnings) = families(&runner);
    tracing::info!(
        node = opts.node.as_str(),
        backend = runner.backend.as_str(),
        ipv6 = families.contains(&Family::V6),
        "netpol-enforcer {} starting",
        env!("CARGO_PKG_VERSION")
    );
    let telemetry = Telemetry::new(&opts.node, runner.backend.as_str(), &families);
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", opts.listen))?;
    let liveness = (opts.repair_interval * 3).max(Duration::from_secs(90));
    let server = tokio::spawn(http::serve(listener, telemetry.clone(), liveness));

    let stop = Arc::new(AtomicBool::new(false));
    let drop_log = listen_for_drops(&opts, &telemetry, &stop, &mut warnings);
    for w in &warnings {
        tracing::warn!("{w}");
    }

    let client = kube_client(opts.kubeconfig.as_deref()).await?;
    let pod_cidrs = pod_ranges(&client, &opts, &mut warnings).await;
    let cidr_text: Vec<String> = pod_cidrs.iter().map(|n| n.to_string()).collect();
    let (tx, rx) = tokio::sync::mpsc::channel(4096);
    source::spawn_watches(client, tx);
    let (chained, placements) = match &opts.cni {
        Some(chain) => chain_cni(chain, &mut warnings).await,
        None => (None, None),
    };
    let mode = match (chained.is_some(), pod_cidrs.is_empty()) {
        (true, false) => "cni+hold",
        (true, true) => "cni",
        (false, false) => "hold",
        (false, true) => "none",
    };
    telemetry.set_new_pods(mode, &cidr_text);

    let config = agent_config(&opts, drop_log, pod_cidrs);
    let mut agent = Agent::new(
        config,
        Applier::with_families(runner, families),
        telemetry.clone(),
    )
    .with_static_warnings(warnings);
    if let Some(p) = placements {
        agent = agent.with_cni(p);
    }
    let result = agent.run(rx, shutdown_signal()).await;
    stop.store(true, Ordering::Relaxed);
    if let (Some(chain), Some(chained)) = (&opts.cni, &chained) {
        match chain.uninstall(chained) {
            Ok(()) => tracing::info!("{} is as it was before", chained.conflist.display()),
            Err(e) => tracing::error!("unchaining the CNI plugin failed: {e}"),
        }
        let _ = std::fs::remove_file(&chain.socket);
    }
    server.abort();
    match result {
        Ok(()) => {
            tracing::info!("removed every chain, rule and set; bye");
            Ok(())
        }
        Err(e) => Err(format!("removing the rules failed: {e}")),
    }
}

/// The agent's settings from the command line, the drop log that could be started and the
/// pod ranges to hold.
fn agent_config(
    opts: &RunOptions,
    drop_log: Option<DropLog>,
    pod_cidrs: Vec<ipnet::IpNet>,
) -> AgentConfig {
    AgentConfig {
        node: opts.node.clone(),
        debounce: opts.debounce,
        max_delay: opts.max_delay,
        placement_delay: opts.placement_delay,
        repair_interval: opts.repair_interval,
        compile: CompileOptions {
            log_drops: drop_log,
            hold: pod_cidrs,
        },
        bridge: opts.proc_sys_net.clone().map(|p| bridge::BridgeCheck {
            proc_sys_net: p,
            ..Default::default()
        }),
        terminate_established: opts.terminate_established,
    }
}

/// Starts the NFLOG listener when drops are logged; None (and a warning) when it cannot listen.
fn listen_for_drops(
    opts: &RunOptions,
    telemetry: &Telemetry,
    stop: &Arc<AtomicBool>,
    warnings: &mut Vec<String>,
) -> Option<DropLog> {
    let log = opts.drop_log?;
    let netns = opts
        .netns
        .as_ref()
        .map(|n| PathBuf::from(format!("/run/netns/{n}")));
    match nflog::spawn(log.nflog_group, netns, telemetry.clone(), stop.clone()) {
        Ok(_) => Some(log),
        Err(e) => {
            warnings.push(format!(
                "drops are not logged: cannot listen on NFLOG group {}: {e}",
                log.nflog_group
            ));
            None
        }
    }
}

/// The node's pod address ranges (--pod-cidr, else the Node's spec.podCIDRs): addresses in
/// them that no placed pod holds are held. None known: a warning, and no hold.
async fn pod_ranges(
    client: &kube::Client,
    opts: &RunOptions,
    warnings: &mut Vec<String>,
) -> Vec<ipnet::IpNet> {
    let pod_cidrs = if opts.pod_cidrs.is_empty() {
        source::node_pod_cidrs(client, &opts.node).await
    } else {
        opts.pod_cidrs.clone()
    };
    if pod_cidrs.is_empty() {
        let w = format!(
            "no pod address range known for node {} (its spec.podCIDRs is empty and --pod-cidr is not set): a new pod is not held until the agent places it",
            opts.node
        );
        tracing::warn!("{w}");
        warnings.push(w);
    } else {
        let text: Vec<String> = pod_cidrs.iter().map(|n| n.to_string()).collect();
        tracing::info!(
            "new pods are held until placed: traffic of addresses in {} that no placed pod holds is dropped",
            text.join(", ")
        );
    }
    pod_cidrs
}

/// Chains the CNI plugin so that a pod starts only once placed; when that fails, a warning and
/// the hold alone.
async fn chain_cni(
    chain: &cni::CniChain,
    warnings: &mut Vec<String>,
) -> (
    Option<cni::Chained>,
    Option<tokio::sync::mpsc::Receiver<cni::PlaceRequest>>,
) {
    match start_cni(chain).await {
        Ok((chained, rx)) => {
            tracing::info!(
                "pod start waits for placement: {} chains the netpol-enforcer CNI plugin",
                chained.conflist.display()
            );
            (Some(chained), Some(rx))
        }
        Err(e) => {
            let w = format!("the CNI plugin is not chained ({e}): new pods start held and are let through once placed");
            tracing::warn!("{w}");
            warnings.push(w);
            (None, None)
        }
    }
}

/// The agent's API client: in the cluster, its ServiceAccount; outside (tests, debugging), the
/// kubeconfig given with --kubeconfig or the usual KUBECONFIG / ~/.kube/config.
async fn kube_client(kubeconfig: Option<&std::path::Path>) -> Result<kube::Client, String> {
    let config = match kubeconfig {
        Some(path) => {
            let kc = kube::config::Kubeconfig::read_from(path)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kc, &Default::default())
                .await
                .map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => kube::Config::infer().await.map_err(|e| e.to_string())?,
    };
    kube::Client::try_from(config).map_err(|e| format!("cannot build the API client: {e}"))
}
