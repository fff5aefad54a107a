//! `probe` (without --local) and `cleanup` (without --local): the live cluster. Parsing and
//! delegation only: the run is `probe::cluster::run`.

use std::io::IsTerminal;
use std::process::ExitCode;

use super::common::{emit, runtime, spinner, tell_live, CliError, CliResult, Global};
use super::probe::{render, ProbeArgs};
use crate::engine::explain::default_probes;
use crate::k8s::live::{self, LiveSnapshot, Scope};
use crate::model::{Probe, Snapshot};
use crate::probe::cluster::plan::{DNS_NAMESPACE, RUN_LABEL};
use crate::probe::cluster::{
    cleanup_all, probe_in_place, probe_mirror, probe_mirror_apply, ApplyOutcome, ApplyRun,
    ClusterError, ClusterOptions, External, KubeIo, Outcome,
};
use crate::report::Format;

/// Reads the scope plus the cluster DNS namespace (its pods and policies decide whether DNS may
/// work); without permission on the DNS namespace, the scope alone.
async fn load(
    global: &Global,
    client: &kube::Client,
    context_ns: &str,
    notes: &mut Vec<String>,
) -> Result<Snapshot, CliError> {
    let mut namespaces = if global.namespaces.is_empty() {
        vec![context_ns.to_string()]
    } else {
        global.namespaces.clone()
    };
    let scope = |namespaces: Vec<String>| Scope {
        namespaces,
        all_namespaces: global.all_namespaces,
        selector: None,
    };
    let told = |read: LiveSnapshot| {
        tell_live(&read, global.verbose > 0);
        read.snapshot
    };
    if global.all_namespaces || namespaces.iter().any(|n| n == DNS_NAMESPACE) {
        return Ok(told(
            live::load_live(client, context_ns, &scope(namespaces)).await?,
        ));
    }
    let plain = namespaces.clone();
    namespaces.push(DNS_NAMESPACE.to_string());
    match live::load_live(client, context_ns, &scope(namespaces)).await {
        Ok(read) => Ok(told(read)),
        Err(e) if e.to_string().to_lowercase().contains("forbidden") => {
            notes.push(format!(
                "cannot read {DNS_NAMESPACE} ({e}): DNS rows are skipped"
            ));
            Ok(told(
                live::load_live(client, context_ns, &scope(plain)).await?,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

pub fn run(global: &Global, args: &ProbeArgs) -> CliResult {
    if global.offline() {
        return Err(CliError::Usage(
            "probe reads the live cluster; to probe manifests (-f) on this host with real packets, add --local".into(),
        ));
    }
    if args.no_enforce {
        return Err(CliError::Usage(
            "--no-enforce only applies to --local (on a cluster, the CNI decides)".into(),
        ));
    }
    let externals = args
        .to
        .iter()
        .map(|t| External::parse(t).map_err(|e| CliError::Usage(format!("--to: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let explicit = args
        .ports
        .as_deref()
        .map(|p| Probe::parse_list(p).map_err(|e| CliError::Usage(format!("--ports: {e}"))))
        .transpose()?;
    let progress = std::io::stderr().is_terminal();
    let rt = runtime()?;
    let result = rt.block_on(async {
        let reading = spinner("reading the cluster");
        let (client, context_ns) = crate::k8s::connect(&global.cluster_args()).await?;
        let mut notes = Vec::new();
        let snap = load(global, &client, &context_ns, &mut notes).await?;
        reading.finish_and_clear();
        let default_ns = global.default_namespace(&context_ns);
        // Probers of other runs are not part of anything.
        let scope: Vec<usize> = global
            .pods_in_scope(&snap, &default_ns)?
            .into_iter()
            .filter(|&i| !snap.pods[i].labels.contains_key(RUN_LABEL))
            .collect();
        if scope.is_empty() {
            return Err(no_pods_in_scope(global, &default_ns));
        }
        let probes = explicit.unwrap_or_else(|| ports_of_scope(&snap, &scope));
        if probes.is_empty() {
            return Err(CliError::Usage(
                "no ports to probe: pass --ports, e.g. --ports tcp/80".into(),
            ));
        }
        let opts = cluster_options(args, externals, progress);
        let io = KubeIo::new(client);
        if !args.apply.is_empty() || !args.delete.is_empty() {
            let apply = apply_run(args, &default_ns)?;
            let outcome = probe_mirror_apply(&io, &snap, &scope, &probes, &opts, &apply).await;
            return Ok(Done::Apply(Box::new(outcome), notes));
        }
        let outcome = if args.in_place {
            probe_in_place(&io, &snap, &scope, &probes, &opts).await
        } else {
            probe_mirror(&io, &snap, &scope, &probes, &opts).await
        };
        Ok(Done::Probe(Box::new(outcome), notes))
    });
    let (outcome, mut notes) = match result? {
        Done::Probe(o, n) => (*o, n),
        Done::Apply(o, n) => return finish_apply(global, args, *o, n),
    };
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => return cluster_failure(e),
    };
    notes.extend(outcome.notes.iter().cloned());
    finish_probe(global, args, &outcome, &notes)
}

/// The probe document, its notes (and timings with -v); exit 1 when a pair disagrees or fails.
fn finish_probe(
    global: &Global,
    args: &ProbeArgs,
    outcome: &Outcome,
    notes: &[String],
) -> CliResult {
    emit(&render(&outcome.report, args.output));
    for n in notes {
        eprintln!("note: {n}");
    }
    if global.verbose > 0 {
        print_timings(&outcome.run, &outcome.timings);
    }
    let s = outcome.report.matrix.summary.clone();
    let bad = s.is_none_or(|s| s.disagree > 0 || s.errors > 0);
    Ok(if bad {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn cluster_options(args: &ProbeArgs, externals: Vec<External>, progress: bool) -> ClusterOptions {
    ClusterOptions {
        image: args.image.clone(),
        timeout: args.timeout,
        concurrency: args.concurrency.max(1),
        start_timeout: args.start_timeout,
        externals,
        dns: !args.no_dns,
        progress,
        ..ClusterOptions::default()
    }
}

fn no_pods_in_scope(global: &Global, default_ns: &str) -> CliError {
    CliError::Usage(format!(
        "no pods in scope to probe (namespaces: {}{})",
        if global.all_namespaces {
            "all".to_string()
        } else if global.namespaces.is_empty() {
            default_ns.to_string()
        } else {
            global.namespaces.join(", ")
        },
        global
            .selector
            .as_ref()
            .map(|s| format!(", selector {s}"))
            .unwrap_or_default()
    ))
}

/// The ports of the policies in scope (not those of the DNS namespace, read only to judge DNS),
/// as `matrix` would pick them.
fn ports_of_scope(snap: &Snapshot, scope: &[usize]) -> Vec<Probe> {
    let namespaces: Vec<&str> = scope
        .iter()
        .map(|&i| snap.pods[i].namespace.as_str())
        .collect();
    let mut scoped = snap.clone();
    scoped
        .policies
        .retain(|p| namespaces.contains(&p.namespace.as_str()));
    default_probes(&scoped, scope)
}

enum Done {
    Probe(Box<Result<Outcome, ClusterError>>, Vec<String>),
    Apply(Box<Result<ApplyOutcome, ClusterError>>, Vec<String>),
}

/// `--apply FILE` / `--delete KIND/NAME`, read.
fn apply_run(args: &ProbeArgs, default_ns: &str) -> Result<ApplyRun, CliError> {
    use crate::probe::apply::{parse_delete, read_policies, ChangeSet};
    if args.in_place {
        return Err(CliError::Usage(
            "--apply/--delete run with prober pods (mirror mode), not --in-place".into(),
        ));
    }
    if !matches!(args.output, Format::Table | Format::Json | Format::Yaml) {
        return Err(CliError::Usage(
            "probe --apply/--delete prints table, json or yaml".into(),
        ));
    }
    let mut change = ChangeSet {
        applied: read_policies(&args.apply, default_ns, true).map_err(CliError::Usage)?,
        deleted: Vec::new(),
    };
    for d in &args.delete {
        change
            .deleted
            .push(parse_delete(d, default_ns).map_err(CliError::Usage)?);
    }
    Ok(ApplyRun {
        change,
        interval: args.interval,
        settle: args.settle,
        keep: args.keep,
        new_pod: args.new_pod,
    })
}

/// How a run that did not finish ends: Ctrl-C exits 130, bad input 2, the cluster 3.
fn cluster_failure(e: ClusterError) -> CliResult {
    match e {
        ClusterError::Interrupted(m) => {
            eprintln!("{m}");
            Ok(ExitCode::from(130))
        }
        ClusterError::Input(m) => Err(CliError::Usage(m)),
        ClusterError::Cluster(m) => Err(CliError::Cluster(m)),
    }
}

/// `-v`: how long each phase of the run took.
fn print_timings(run: &str, timings: &[(&'static str, std::time::Duration)]) {
    eprintln!(
        "run {run}: {}",
        timings
            .iter()
            .map(|(phase, d)| format!("{phase} {:.1} s", d.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

fn finish_apply(
    global: &Global,
    args: &ProbeArgs,
    outcome: Result<ApplyOutcome, ClusterError>,
    mut notes: Vec<String>,
) -> CliResult {
    let mut outcome = match outcome {
        Ok(o) => o,
        Err(e) => return cluster_failure(e),
    };
    notes.extend(outcome.notes.iter().cloned());
    outcome.report.notes = notes.clone();
    emit(&match args.output {
        Format::Table => crate::report::probe::apply_table(&outcome.report),
        other => crate::report::structured(&outcome.report, other),
    });
    if args.output != Format::Table {
        for n in &notes {
            eprintln!("note: {n}");
        }
    }
    if global.verbose > 0 {
        print_timings(&outcome.run, &outcome.timings);
    }
    Ok(if outcome.report.failed(args.require_cut) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `kubectl netpol cleanup` on the cluster: every object of every run, in every namespace.
pub fn cleanup(global: &Global) -> CliResult {
    let rt = runtime()?;
    let progress = std::io::stderr().is_terminal();
    let (found, left) = rt.block_on(async {
        let (client, _) = crate::k8s::connect(&global.cluster_args()).await?;
        cleanup_all(&KubeIo::new(client), progress)
            .await
            .map_err(|e| CliError::Cluster(e.to_string()))
    })?;
    if found.is_empty() {
        emit("nothing to clean up\n");
        return Ok(ExitCode::SUCCESS);
    }
    emit(&format!(
        "removed {} objects labelled {RUN_LABEL}: {}\n",
        found.len() - left.len(),
        found
            .iter()
            .filter(|f| !left.contains(f))
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    ));
    if !left.is_empty() {
        return Err(CliError::Cluster(format!(
            "still there after 60 s (terminating?): {}; run cleanup again later",
            left.join(", ")
        )));
    }
    Ok(ExitCode::SUCCESS)
}
