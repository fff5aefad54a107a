//! `--in-place`: ephemeral prober containers in the real pods.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use netpol_prober::plan::CheckResult;

use super::execs::plan_budget;
use super::setup::{plan_options, services};
use super::{bar, interrupted, io_err, ClusterError, ClusterOptions, Outcome};
use crate::model::{Pod, Probe, Snapshot};
use crate::probe::cluster::io::{ClusterIo, EphemeralState, IoError, IoErrorKind};
use crate::probe::cluster::plan::{
    self, build_plan, ephemeral_container, group_pods, parse_results, ProbePlan, SourceExec,
};

/// `--in-place`: an ephemeral prober container in each real pod (exact identity: the pod's own
/// labels, address and listeners). Needs ephemeral containers (on by default from Kubernetes
/// 1.23, GA in 1.25). Each container runs its plan and exits; it stays in the pod spec.
pub async fn probe_in_place<I: ClusterIo>(
    io: &I,
    snap: &Snapshot,
    scope: &[usize],
    probes: &[Probe],
    opts: &ClusterOptions,
) -> Result<Outcome, ClusterError> {
    let (major, minor) = io.server_version().await.map_err(io_err)?;
    if (major, minor) < (1, 23) {
        return Err(ClusterError::Cluster(format!(
            "--in-place is unavailable on this cluster: it needs ephemeral containers, which Kubernetes enables by default from 1.23 (GA in 1.25); this server is {major}.{minor}. Probe without --in-place (mirror mode: prober pods with the same labels and ports)"
        )));
    }
    let mut notes = Vec::new();
    let endpoints = running_endpoints(snap, scope, &mut notes);
    if endpoints.is_empty() {
        return Err(ClusterError::Input(
            "no running pods with an address in scope to probe".into(),
        ));
    }
    let run = plan::new_run_id();
    let groups = group_pods(snap, &endpoints);
    let namespaces: BTreeSet<String> = groups.iter().map(|g| g.namespace.clone()).collect();
    let services = services(io, &namespaces, &mut notes).await;
    let plan_opts = plan_options(opts, snap, &services, &groups, &mut notes);
    let probe_plan = build_plan(snap, &endpoints, probes, &plan_opts);
    notes.push(format!(
        "--in-place left a terminated ephemeral container `netpol-probe-{run}` (image {}, its plan in the command) in the spec of each of the {} probed pods; ephemeral containers cannot be removed: they go when the pod is replaced",
        opts.image,
        probe_plan.execs.len()
    ));
    if probes
        .iter()
        .any(|p| p.protocol != crate::model::Protocol::Tcp)
    {
        notes.push("--in-place probes the applications' own listeners: a UDP or SCTP port whose application does not answer a probe datagram shows `timeout` even when the network allows it".into());
    }

    let clock = Instant::now();
    let pb = bar(
        opts.progress,
        probe_plan.execs.len() as u64,
        "probing in place",
    );
    let (results, failed) = tokio::select! {
        r = run_in_place(io, snap, &probe_plan, &run, opts, &pb) => r?,
        why = interrupted() => return Err(ClusterError::Interrupted(format!(
            "{why}: the ephemeral probers already added finish their plans by themselves"
        ))),
    };
    pb.finish_and_clear();
    for e in failed {
        notes.push(format!(
            "a pod could not be probed in place, its rows are errors: {e}"
        ));
    }
    let mut report = plan::assemble(probe_plan, &results);
    crate::probe::compare::explain_disagreements(&mut report, snap, "");
    Ok(Outcome {
        report,
        run,
        notes,
        leftovers: Vec::new(),
        timings: vec![("probe", clock.elapsed())],
    })
}

/// The pods of the scope that can be probed in place: not hostNetwork, with an address (the
/// others are named in a note).
fn running_endpoints(snap: &Snapshot, scope: &[usize], notes: &mut Vec<String>) -> Vec<usize> {
    let mut endpoints = Vec::new();
    for &i in scope {
        let p = &snap.pods[i];
        if p.host_network {
            continue;
        }
        if p.ips.is_empty() {
            notes.push(format!(
                "{} has no address (not running): not probed",
                p.key()
            ));
        } else {
            endpoints.push(i);
        }
    }
    endpoints
}

/// Every source's plans in ephemeral containers, a few pods at a time: the results, and the
/// pods that failed. Fails when ephemeral containers are off or forbidden, or every pod failed.
async fn run_in_place<I: ClusterIo>(
    io: &I,
    snap: &Snapshot,
    probe_plan: &ProbePlan,
    run: &str,
    opts: &ClusterOptions,
    pb: &indicatif::ProgressBar,
) -> Result<(Vec<CheckResult>, Vec<IoError>), ClusterError> {
    let jobs = probe_plan.execs.iter().map(|e| {
        let pb = pb.clone();
        async move {
            let results = probe_pod_in_place(io, &snap.pods[e.pod], e, run, opts).await?;
            pb.inc(1);
            Ok::<_, IoError>(results)
        }
    });
    let outcomes: Vec<Result<Vec<CheckResult>, IoError>> = stream::iter(jobs)
        .buffer_unordered(opts.parallel_sources.max(1))
        .collect()
        .await;
    let mut all = Vec::new();
    let mut failed = Vec::new();
    for o in outcomes {
        match o {
            Ok(mut r) => all.append(&mut r),
            Err(e) => failed.push(e),
        }
    }
    if let Some(e) = failed
        .iter()
        .find(|e| matches!(e.kind, IoErrorKind::Unsupported | IoErrorKind::Forbidden))
    {
        return Err(if e.kind == IoErrorKind::Unsupported {
            ClusterError::Cluster(format!(
                "--in-place is unavailable on this cluster ({e}): ephemeral containers are off; probe without --in-place"
            ))
        } else {
            io_err(e.clone())
        });
    }
    if all.is_empty() {
        if let Some(e) = failed.first() {
            return Err(ClusterError::Cluster(format!(
                "every ephemeral prober failed: {e}"
            )));
        }
    }
    Ok((all, failed))
}

/// One pod's plans, each in its own ephemeral container (`netpol-probe-<run>`, or
/// `netpol-probe-<run>-<part>` when the plan is split), run to the end and read from its log.
async fn probe_pod_in_place<I: ClusterIo>(
    io: &I,
    pod: &Pod,
    exec: &SourceExec,
    run: &str,
    opts: &ClusterOptions,
) -> Result<Vec<CheckResult>, IoError> {
    let mut results = Vec::new();
    for (c, part) in exec.plans.iter().enumerate() {
        let name = if exec.plans.len() == 1 {
            format!("netpol-probe-{run}")
        } else {
            format!("netpol-probe-{run}-{c}")
        };
        let container = ephemeral_container(&name, &opts.image, part).map_err(IoError::other)?;
        io.add_ephemeral_container(&pod.namespace, &pod.name, &container)
            .await?;
        wait_ephemeral(
            io,
            &pod.namespace,
            &pod.name,
            &name,
            opts,
            plan_budget(part),
        )
        .await?;
        let log = io.logs(&pod.namespace, &pod.name, &name).await?;
        results.extend(parse_results(&log).0);
    }
    Ok(results)
}

async fn wait_ephemeral<I: ClusterIo>(
    io: &I,
    namespace: &str,
    pod: &str,
    container: &str,
    opts: &ClusterOptions,
    budget: Duration,
) -> Result<(), IoError> {
    let started = Instant::now();
    let limit = opts.start_timeout + budget;
    loop {
        let last = match io.ephemeral_state(namespace, pod, container).await? {
            EphemeralState::Terminated { exit_code: 0, .. } => return Ok(()),
            EphemeralState::Terminated { exit_code, reason } => {
                return Err(IoError::other(format!(
                    "the ephemeral prober in {namespace}/{pod} exited with code {exit_code} ({reason})"
                )))
            }
            EphemeralState::Waiting(w)
                if ["ErrImagePull", "ImagePullBackOff", "InvalidImageName"]
                    .iter()
                    .any(|r| w.starts_with(r)) =>
            {
                return Err(IoError::other(format!(
                    "the ephemeral prober in {namespace}/{pod} cannot start: {w} — is the image {} available to the nodes? (or pass --image)",
                    opts.image
                )))
            }
            other => format!("{other:?}"),
        };
        if started.elapsed() > limit {
            return Err(IoError::other(format!(
                "the ephemeral prober in {namespace}/{pod} did not finish within {} s ({last})",
                limit.as_secs()
            )));
        }
        tokio::time::sleep(opts.poll).await;
    }
}
