use std::net::IpAddr;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::common::{check_format, emit, namespaces_of, suggestions, CliError, CliResult, Global};
use crate::engine::{Endpoint, Engine, Traffic};
use crate::model::{split_ref, Probe, Snapshot};
use crate::report::{self, Format};

#[derive(Args)]
pub struct ExplainArgs {
    #[command(subcommand)]
    pub what: ExplainWhat,
    /// Output format: table, json or yaml.
    #[arg(
        short = 'o',
        long = "output",
        global = true,
        value_enum,
        default_value = "table"
    )]
    pub output: Format,
}

#[derive(Subcommand)]
pub enum ExplainWhat {
    /// Which policies select this pod, and what they let in and out.
    Pod {
        /// The pod: NAME (with -n) or NAMESPACE/NAME.
        #[arg(add = clap_complete::ArgValueCompleter::new(super::completion::pods))]
        name: String,
    },
    /// What this policy selects and allows (cluster policies: cnp/NAME, anp/NAME, banp/default).
    Policy {
        /// The policy: NAME (with -n) or NAMESPACE/NAME; a cluster policy as cnp/NAME
        /// (ClusterNetworkPolicy), anp/NAME (AdminNetworkPolicy) or banp/default.
        #[arg(add = clap_complete::ArgValueCompleter::new(super::completion::policies))]
        name: String,
    },
    /// Why FROM can or cannot reach TO on a port, naming the deciding rule or the near miss.
    Traffic {
        /// Source: a pod (NAME or NAMESPACE/NAME) or an IP address outside the cluster.
        #[arg(add = clap_complete::ArgValueCompleter::new(super::completion::pods))]
        from: String,
        /// Destination: a pod or an IP address.
        #[arg(add = clap_complete::ArgValueCompleter::new(super::completion::pods))]
        to: String,
        /// The probe, e.g. tcp/8080, udp/53, sctp/9000.
        #[arg(short = 'p', long, default_value = "tcp/80", value_name = "PROTO/PORT")]
        port: String,
    },
}

fn find_pod(snap: &Snapshot, spec: &str, default_ns: &str) -> Result<usize, CliError> {
    snap.find_pod(spec, default_ns).ok_or_else(|| {
        let (ns, name) = split_ref(spec, default_ns);
        CliError::Usage(format!(
            "pod {ns}/{name} not found{}",
            suggestions(name, snap.pods.iter().map(|p| p.name.as_str()))
        ))
    })
}

fn endpoint(snap: &Snapshot, spec: &str, default_ns: &str) -> Result<Endpoint, CliError> {
    if let Ok(ip) = spec.parse::<IpAddr>() {
        // An address that belongs to a known pod is that pod.
        return Ok(match snap.pods.iter().position(|p| p.ips.contains(&ip)) {
            Some(i) => Endpoint::Pod(i),
            None => Endpoint::Ip(ip),
        });
    }
    find_pod(snap, spec, default_ns).map(Endpoint::Pod)
}

/// The snapshot for these endpoints: only their pods when every one is a pod name (an address
/// needs every pod, to find whose it is), and the whole input again when a name is not found,
/// so that the error can suggest the names that do exist.
fn snapshot_for(
    global: &Global,
    specs: &[&str],
    found: impl Fn(&Snapshot, &str) -> bool,
) -> Result<(Snapshot, String), CliError> {
    if specs.iter().all(|s| s.parse::<IpAddr>().is_err()) {
        let (snap, ns) = global.snapshot_for_pods(specs)?;
        if found(&snap, &ns) {
            return Ok((snap, ns));
        }
    }
    global.snapshot(&namespaces_of(specs))
}

pub fn run(global: &Global, args: &ExplainArgs) -> CliResult {
    check_format(
        args.output,
        &[Format::Table, Format::Json, Format::Yaml],
        "explain",
    )?;
    let text = match &args.what {
        ExplainWhat::Pod { name } => {
            let (snap, ns) =
                snapshot_for(global, &[name], |snap, ns| find_pod(snap, name, ns).is_ok())?;
            let engine = Engine::new(&snap);
            let e = engine.explain_pod(find_pod(&snap, name, &ns)?);
            if args.output == Format::Table {
                report::explain::pod(&e)
            } else {
                report::structured(&e, args.output)
            }
        }
        ExplainWhat::Policy { name } => explain_policy(global, name, args.output)?,
        ExplainWhat::Traffic { from, to, port } => {
            explain_traffic(global, from, to, port, args.output)?
        }
    };
    emit(&text);
    Ok(ExitCode::SUCCESS)
}

/// `explain policy NAME`: a NetworkPolicy, or a cluster policy (`cnp/NAME`, `banp/NAME`).
fn explain_policy(global: &Global, name: &str, output: Format) -> Result<String, CliError> {
    let cluster_kind = name
        .split_once('/')
        .and_then(|(k, _)| crate::model::ClusterKind::parse(k));
    let live_namespaces = if cluster_kind.is_some() {
        Vec::new()
    } else {
        namespaces_of(&[name])
    };
    let (snap, ns) = global.snapshot(&live_namespaces)?;
    let engine = Engine::new(&snap);
    // `cnp/NAME` names a cluster policy, unless a namespace called cnp holds NAME.
    if let Some(kind) = cluster_kind.filter(|_| snap.find_policy(name, &ns).is_none()) {
        let idx = snap.find_cluster_policy(name).ok_or_else(|| {
            let (_, cname) = split_ref(name, &ns);
            CliError::Usage(format!(
                "{} {cname} not found{}",
                kind.kind(),
                suggestions(
                    cname,
                    snap.cluster_policies
                        .iter()
                        .filter(|p| p.kind == kind)
                        .map(|p| p.name.as_str())
                )
            ))
        })?;
        let e = engine.explain_cluster_policy(idx);
        let text = if output == Format::Table {
            report::explain::cluster_policy(&e)
        } else {
            report::structured(&e, output)
        };
        return Ok(text);
    }
    let idx = snap.find_policy(name, &ns).ok_or_else(|| {
        let (pns, pname) = split_ref(name, &ns);
        CliError::Usage(format!(
            "NetworkPolicy {pns}/{pname} not found{}",
            suggestions(pname, snap.policies.iter().map(|p| p.name.as_str()))
        ))
    })?;
    let e = engine.explain_policy(idx);
    Ok(if output == Format::Table {
        report::explain::policy(&e)
    } else {
        report::structured(&e, output)
    })
}

/// `explain traffic FROM TO --port P`: one connection, pod or address at either end.
fn explain_traffic(
    global: &Global,
    from: &str,
    to: &str,
    port: &str,
    output: Format,
) -> Result<String, CliError> {
    let probe = Probe::parse(port).map_err(|e| CliError::Usage(format!("--port: {e}")))?;
    let (snap, ns) = snapshot_for(global, &[from, to], |snap, ns| {
        find_pod(snap, from, ns).is_ok() && find_pod(snap, to, ns).is_ok()
    })?;
    let engine = Engine::new(&snap);
    let t = Traffic {
        from: endpoint(&snap, from, &ns)?,
        to: endpoint(&snap, to, &ns)?,
        probe,
    };
    if let (Endpoint::Ip(_), Endpoint::Ip(_)) = (t.from, t.to) {
        return Err(CliError::Usage(
            "at least one of FROM and TO must be a pod of the cluster".into(),
        ));
    }
    let e = engine.explain_traffic(&t);
    Ok(if output == Format::Table {
        report::explain::traffic(&e)
    } else {
        report::structured(&e, output)
    })
}
