//! netpol-enforcer: `run` is the DaemonSet agent; `apply` and `remove` do one step by hand
//! (debugging, tests); `prober` is the netpol-prober command line (the real-packet tests run it
//! from this binary).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use netpol::enforce::{compile_with, Applier, CompileOptions, DropLog};
use netpol::engine::Engine;
use netpol::model::{load_paths, LoadOptions};
use netpol_enforcer::{families, runner, Backend, RunOptions};

#[derive(Parser)]
#[command(
    name = "netpol-enforcer",
    version,
    about = "The kubectl-netpol enforcer agent"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the agent: watch the API, program this node's rules, clean up on SIGTERM.
    Run(Box<RunArgs>),
    /// Compile manifests for a node and apply the rules once (what the agent would do).
    Apply(ApplyArgs),
    /// Remove every chain, rule and set of the enforcer.
    Remove(CommonArgs),
    /// Run the agent's loop on changes read from stdin instead of the API (JSON lines; see
    /// the feed module). `kubectl netpol probe --local --apply` drives it in its sandbox.
    #[command(hide = true)]
    Feed(FeedArgs),
}

#[derive(clap::Args)]
struct FeedArgs {
    /// The node whose pods to enforce (pods name it in spec.nodeName).
    #[arg(long)]
    node: String,
    /// Quiet time after a change before the rules are recompiled, in milliseconds.
    #[arg(long, default_value_t = 100)]
    debounce_ms: u64,
    /// The longest a change waits while changes keep coming, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    max_delay_ms: u64,
    /// Delete the conntrack entries of open connections an update denies.
    #[arg(long)]
    terminate_established: bool,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(clap::Args)]
struct CommonArgs {
    /// Which iptables: auto (what the node uses), nft, legacy, or system (`iptables` on PATH).
    #[arg(long, value_enum, default_value = "auto", env = "NETPOL_IPTABLES")]
    iptables: Backend,
    /// Program this named network namespace (`ip netns`) instead of our own (tests).
    #[arg(long, hide = true)]
    netns: Option<String>,
}

#[derive(clap::Args)]
struct RunArgs {
    /// The node whose pods to enforce (the DaemonSet sets NODE_NAME from spec.nodeName).
    #[arg(long, env = "NODE_NAME")]
    node: String,
    /// Address of the HTTP server (/healthz, /readyz, /metrics, /status, /drops).
    #[arg(long, env = "NETPOL_LISTEN", default_value = "0.0.0.0:9742")]
    listen: SocketAddr,
    /// Quiet time after a change before the rules are recompiled, in milliseconds.
    #[arg(long, default_value_t = 100)]
    debounce_ms: u64,
    /// The longest a change waits while changes keep coming, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    max_delay_ms: u64,
    /// The longest a local pod's new address waits for its rules, in milliseconds.
    #[arg(long, default_value_t = 10)]
    placement_delay_ms: u64,
    /// This node's pod address range (repeatable; default: the Node's spec.podCIDRs). Traffic
    /// of addresses in it that no placed pod holds is dropped until the agent places the pod.
    #[arg(long = "pod-cidr", env = "NETPOL_POD_CIDRS", value_delimiter = ',')]
    pod_cidrs: Vec<ipnet::IpNet>,
    /// The node's CNI configuration directory, as mounted in the agent's container.
    #[arg(
        long,
        env = "NETPOL_CNI_CONF_DIR",
        default_value = "/host/etc/cni/net.d"
    )]
    cni_conf_dir: PathBuf,
    /// The node's CNI plugin directory, as mounted in the agent's container.
    #[arg(long, env = "NETPOL_CNI_BIN_DIR", default_value = "/host/opt/cni/bin")]
    cni_bin_dir: PathBuf,
    /// The socket the CNI plugin asks the agent on (the same path on the node and here).
    #[arg(long, default_value = netpol_enforcer::cni::DEFAULT_SOCKET)]
    cni_socket: PathBuf,
    /// How long a pod's CNI ADD waits for placement before the pod starts held, in seconds.
    #[arg(long, default_value_t = 10)]
    cni_timeout_s: u64,
    /// Do not chain the CNI plugin: new pods start at once and are held until placed.
    #[arg(long)]
    no_cni: bool,
    /// How often to check that nobody removed our rules, in seconds.
    #[arg(long, default_value_t = 30)]
    repair_interval_s: u64,
    /// The NFLOG group dropped packets are logged to.
    #[arg(long, default_value_t = 1742)]
    nflog_group: u16,
    /// Logged drops per second and chain (the rest are dropped silently).
    #[arg(long, default_value_t = 10)]
    drops_per_second: u32,
    /// Do not log drops.
    #[arg(long)]
    no_drop_log: bool,
    /// The host's /proc/sys/net (bridge-nf-call-iptables is set there when pods sit behind a
    /// bridge).
    #[arg(long, env = "NETPOL_PROC_SYS_NET", default_value = "/proc/sys/net")]
    proc_sys_net: PathBuf,
    /// Leave bridge-nf-call-iptables alone.
    #[arg(long)]
    no_bridge_sysctl: bool,
    /// Kubeconfig when running outside the cluster (default: in-cluster, then KUBECONFIG).
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// When an update denies connections that are already open, delete their conntrack
    /// entries so the deny cuts them too (off: open connections keep flowing).
    #[arg(long, env = "NETPOL_TERMINATE_ESTABLISHED")]
    terminate_established: bool,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(clap::Args)]
struct ApplyArgs {
    /// Manifests (files or directories).
    #[arg(short = 'f', long = "filename", required = true)]
    files: Vec<PathBuf>,
    /// The node whose pods to compile for.
    #[arg(long)]
    node: String,
    #[command(flatten)]
    common: CommonArgs,
}

fn init_logging() {
    let level = match std::env::var("NETPOL_LOG").unwrap_or_default().as_str() {
        "trace" => tracing::Level::TRACE,
        "debug" => tracing::Level::DEBUG,
        "warn" => tracing::Level::WARN,
        "error" => tracing::Level::ERROR,
        _ => tracing::Level::INFO,
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
}

fn run_agent(a: RunArgs) -> Result<(), String> {
    let opts = RunOptions {
        node: a.node,
        listen: a.listen,
        debounce: Duration::from_millis(a.debounce_ms),
        max_delay: Duration::from_millis(a.max_delay_ms.max(a.debounce_ms)),
        placement_delay: Duration::from_millis(a.placement_delay_ms),
        pod_cidrs: a.pod_cidrs,
        cni: (!a.no_cni).then(|| netpol_enforcer::cni::CniChain {
            conf_dir: a.cni_conf_dir,
            bin_dir: a.cni_bin_dir,
            socket: a.cni_socket,
            timeout: Duration::from_secs(a.cni_timeout_s.max(1)),
        }),
        repair_interval: Duration::from_secs(a.repair_interval_s.max(1)),
        drop_log: (!a.no_drop_log).then_some(DropLog {
            nflog_group: a.nflog_group,
            per_second: a.drops_per_second,
        }),
        backend: a.common.iptables,
        proc_sys_net: (!a.no_bridge_sysctl).then_some(a.proc_sys_net),
        netns: a.common.netns,
        kubeconfig: a.kubeconfig,
        terminate_established: a.terminate_established,
    };
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?
        .block_on(netpol_enforcer::run(opts))
}

fn run_feed(a: FeedArgs) -> Result<(), String> {
    let runner = runner(a.common.netns.clone(), a.common.iptables);
    let (fams, warnings) = families(&runner);
    for w in warnings {
        tracing::warn!("{w}");
    }
    let telemetry = netpol_enforcer::Telemetry::new(&a.node, runner.backend.as_str(), &fams);
    let config = netpol_enforcer::AgentConfig {
        debounce: Duration::from_millis(a.debounce_ms),
        max_delay: Duration::from_millis(a.max_delay_ms.max(a.debounce_ms)),
        terminate_established: a.terminate_established,
        ..netpol_enforcer::AgentConfig::new(&a.node)
    };
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?
        .block_on(netpol_enforcer::feed::feed(
            config,
            Applier::with_families(runner, fams),
            telemetry,
        ))
}

fn apply_once(a: ApplyArgs) -> Result<(), String> {
    let (snap, _) = load_paths(
        &a.files,
        &LoadOptions {
            default_namespace: "default".into(),
            ..Default::default()
        },
    )
    .map_err(|e| e.to_string())?;
    let engine = Engine::new(&snap);
    let rules = compile_with(&engine, Some(&a.node), &CompileOptions::default());
    let runner = runner(a.common.netns, a.common.iptables);
    let (fams, warnings) = families(&runner);
    for w in warnings {
        tracing::warn!("{w}");
    }
    tracing::info!(
        "compiled {} rules and {} sets for node {}: applying",
        rules.rule_count(),
        rules.set_count(),
        a.node
    );
    let stats = Applier::with_families(runner, fams)
        .apply(&rules)
        .map_err(|e| e.to_string())?;
    println!(
        "applied {} rules, {} sets ({} members); {} sets written, {} removed",
        rules.rule_count(),
        rules.set_count(),
        rules.member_count(),
        stats.sets_written,
        stats.sets_destroyed
    );
    Ok(())
}

fn main() -> ExitCode {
    // Run by the container runtime as the chained CNI plugin (copied into the CNI bin dir).
    if netpol_enforcer::cni::invoked_as_plugin() {
        return netpol_enforcer::cni::plugin_main();
    }
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "prober") {
        return ExitCode::from(
            netpol_prober::cli_main(args.into_iter().skip(1)).clamp(0, 255) as u8,
        );
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => 2,
            });
        }
    };
    init_logging();
    let result = match cli.command {
        Command::Run(a) => run_agent(*a),
        Command::Apply(a) => apply_once(a),
        Command::Feed(a) => run_feed(a),
        Command::Remove(c) => {
            let runner = runner(c.netns, c.iptables);
            let (fams, _) = families(&runner);
            Applier::with_families(runner, fams)
                .remove_all()
                .map_err(|e| e.to_string())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(3)
        }
    }
}
