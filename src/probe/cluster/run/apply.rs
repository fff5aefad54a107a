//! `probe --apply/--delete` on a cluster.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::networking::v1::NetworkPolicy;
use netpol_prober::plan::{StreamPlan, StreamResult};

use super::cleanup::clean_up_run;
use super::execs::run_execs;
use super::mirror::{start_probers, Probers};
use super::new_pod::new_pod_window;
use super::setup::{run_setup, RunSetup};
use super::{bar, interrupted, io_err, ClusterError, ClusterOptions};
use crate::model::{Probe, Snapshot};
use crate::probe::apply::{
    after_snapshot, flips, pair_timings, stream_plans, ApplyReport, ChangeDoc, ChangeSet, Flip,
    Observed, PolicyRef, TimingDoc,
};
use crate::probe::cluster::io::{ClusterIo, LineStream};
use crate::probe::cluster::plan::{
    self, build_plan, group_pods, Group, PlanOptions, ProberSettings, AGENT, CONTAINER,
};
use crate::probe::ProbeReport;

/// `probe --apply/--delete` on a cluster: what changes and how it is watched.
#[derive(Debug, Clone)]
pub struct ApplyRun {
    pub change: ChangeSet,
    pub interval: Duration,
    pub settle: Duration,
    /// Leave the change in place.
    pub keep: bool,
    /// After the change: start one more prober and measure how long it could send or receive
    /// what its policies deny.
    pub new_pod: bool,
}

/// What a `probe --apply` run found.
#[derive(Debug, Clone)]
pub struct ApplyOutcome {
    pub report: ApplyReport,
    pub run: String,
    pub notes: Vec<String>,
    pub leftovers: Vec<String>,
    pub timings: Vec<(&'static str, Duration)>,
}

fn now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

/// On a cluster the change is NetworkPolicies only: a cluster-scoped policy in it is refused.
fn refuse_cluster_policies(apply: &ApplyRun) -> Result<(), ClusterError> {
    match apply.change.cluster_refs().first() {
        Some(c) => Err(ClusterError::Input(format!(
            "{}: probe --apply/--delete on a cluster changes NetworkPolicies only; a cluster-scoped policy's time to enforce is measured with probe --local --apply",
            c.described()
        ))),
        None => Ok(()),
    }
}

/// Mirror mode with a change: probers as `probe` makes them, then streaming probers in the
/// sources of the pairs the change flips (new connections every interval, one established flow
/// per pair it denies), the change applied server-side (its acceptance is t0), every flipped
/// pair watched until it matched three times in a row or the settle time ends, the flows
/// checked, every pair probed once more, and the previous objects put back (unless `keep`;
/// also on error and on Ctrl-C once the change went in). Then the usual clean-up.
pub async fn probe_mirror_apply<I: ClusterIo>(
    io: &I,
    snap: &Snapshot,
    scope: &[usize],
    probes: &[Probe],
    opts: &ClusterOptions,
    apply: &ApplyRun,
) -> Result<ApplyOutcome, ClusterError> {
    let groups = group_pods(snap, scope);
    if groups.is_empty() {
        return Err(ClusterError::Input(
            "no pods in scope to probe (hostNetwork pods are not probed)".into(),
        ));
    }
    refuse_cluster_policies(apply)?;
    let applied_objects = applied_objects(apply)?;
    let previous = previous_policies(io, apply).await?;

    // DNS rows are not what a change is about.
    let RunSetup {
        run,
        ns_list,
        mut notes,
        plan_opts,
        mut settings,
    } = run_setup(io, snap, &groups, probes, opts, false).await;
    // The probers must outlive the watch and the probe after it.
    settings.deadline = settings.deadline * 2 + apply.settle + Duration::from_secs(60);
    let changed = std::cell::Cell::new(false);
    let mut timings = Vec::new();
    let work = apply_work(
        io,
        snap,
        &groups,
        probes,
        opts,
        &settings,
        &plan_opts,
        apply,
        &applied_objects,
        &changed,
        &mut notes,
        &mut timings,
    );
    let result = tokio::select! {
        r = work => r,
        why = interrupted() => Err(ClusterError::Interrupted(format!(
            "{why}: removed the objects of run {run}{}",
            if changed.get() && !apply.keep { " and put the previous policies back" } else { "" }
        ))),
    };
    // Put the previous objects back (also after an error or Ctrl-C), then clean up.
    let mut restored = false;
    if changed.get() && !apply.keep {
        let clock = Instant::now();
        restored = restore(io, &previous, &mut notes).await;
        timings.push(("restore", clock.elapsed()));
    }
    let leftovers = clean_up_run(io, &ns_list, &run, opts, settings.deadline, &mut notes).await;
    timings.push(("clean up", leftovers.took));
    let mut report = match result {
        Err(e) if !restored && changed.get() && !apply.keep => {
            return Err(e.with_note(&notes.join("; ")))
        }
        other => other.map_err(|e| leftovers.name_in(e))?,
    };
    let leftovers = leftovers.objects;
    report.restored = restored;
    Ok(ApplyOutcome {
        report,
        run,
        notes,
        leftovers,
        timings,
    })
}

/// The NetworkPolicies the change applies, typed for the API.
fn applied_objects(apply: &ApplyRun) -> Result<Vec<NetworkPolicy>, ClusterError> {
    apply
        .change
        .applied
        .iter()
        .map(|raw| {
            serde_json::from_value(raw.value.clone()).map_err(|e| {
                ClusterError::Input(format!("{}: NetworkPolicy {}: {e}", raw.source, raw.key()))
            })
        })
        .collect()
}

/// What each key of the change holds now (to put back); a `--delete` of a policy that is not
/// there is refused.
async fn previous_policies<I: ClusterIo>(
    io: &I,
    apply: &ApplyRun,
) -> Result<Vec<(String, Option<NetworkPolicy>)>, ClusterError> {
    let mut previous = Vec::new();
    for id in apply.change.refs() {
        let PolicyRef::Namespaced { namespace, name } = &id else {
            continue;
        };
        let key = id.to_string();
        let current = io.get_policy(namespace, name).await.map_err(io_err)?;
        if current.is_none() && apply.change.deleted.contains(&id) {
            return Err(ClusterError::Input(format!(
                "--delete networkpolicy/{key}: there is no such NetworkPolicy in the cluster"
            )));
        }
        previous.push((key, current));
    }
    Ok(previous)
}

/// Puts the previous objects back; true when all of them are. What failed goes to the notes.
async fn restore<I: ClusterIo>(
    io: &I,
    previous: &[(String, Option<NetworkPolicy>)],
    notes: &mut Vec<String>,
) -> bool {
    let mut failed = Vec::new();
    for (key, before) in previous {
        let (ns, name) = key.split_once('/').unwrap_or(("", key.as_str()));
        let r = match before {
            Some(p) => io.apply_policy(p).await,
            None => io.delete_policy(ns, name).await,
        };
        if let Err(e) = r {
            failed.push(format!("{key}: {e}"));
        }
    }
    if !failed.is_empty() {
        notes.push(format!(
            "putting the previous policies back failed: {}",
            failed.join("; ")
        ));
    }
    failed.is_empty()
}

/// Reads every line the streams have for up to `wait`.
async fn drain_streams(streams: &mut [LineStream], seen: &mut Observed, wait: Duration) {
    let until = Instant::now() + wait;
    loop {
        let mut any = false;
        for s in streams.iter_mut() {
            while let Ok(line) = s.lines.try_recv() {
                any = true;
                if let Ok(r) = serde_json::from_str::<StreamResult>(&line) {
                    seen.take(r);
                }
            }
        }
        if Instant::now() >= until {
            return;
        }
        if !any {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// A streaming prober: `prober stream` by exec in `namespace/pod`, the plan on its stdin.
pub(super) async fn start_stream<I: ClusterIo>(
    io: &I,
    namespace: &str,
    pod: &str,
    plan: &StreamPlan,
) -> Result<LineStream, ClusterError> {
    let line = serde_json::to_string(plan)
        .map_err(|e| ClusterError::Cluster(format!("stream plan: {e}")))?;
    let argv = vec![AGENT.to_string(), "stream".to_string()];
    io.exec_stream(namespace, pod, CONTAINER, &argv, &format!("{line}\n"))
        .await
        .map_err(io_err)
}

/// Starts a streaming prober in every source of a flipped pair and waits (up to 60 s) until
/// each says it started; then reads a few rounds of the state before the change.
async fn start_streams<I: ClusterIo>(
    io: &I,
    probers: &Probers,
    plans: &BTreeMap<usize, StreamPlan>,
    opts: &ClusterOptions,
    apply: &ApplyRun,
    seen: &mut Observed,
) -> Result<Vec<LineStream>, ClusterError> {
    let mut streams = Vec::new();
    for (from, plan) in plans {
        let (ns, pod) = &probers.exec_target[from];
        streams.push(start_stream(io, ns, pod, plan).await?);
    }
    let ready_by = Instant::now() + Duration::from_secs(60);
    while seen.started < plans.len() && Instant::now() < ready_by {
        drain_streams(&mut streams, seen, Duration::from_millis(20)).await;
    }
    if seen.started < plans.len() {
        return Err(ClusterError::Cluster(format!(
            "{} of {} streaming probers did not start within 60 s (the prober image must have `stream`: this version's image)",
            plans.len() - seen.started,
            plans.len()
        )));
    }
    drain_streams(&mut streams, seen, opts.timeout + apply.interval * 2).await;
    Ok(streams)
}

/// The change, server-side applied and deleted; the API server's acceptance is t0 (returned).
async fn apply_change<I: ClusterIo>(
    io: &I,
    applied_objects: &[NetworkPolicy],
    apply: &ApplyRun,
) -> Result<f64, ClusterError> {
    for p in applied_objects {
        io.apply_policy(p).await.map_err(io_err)?;
    }
    for id in &apply.change.deleted {
        if let PolicyRef::Namespaced { namespace, name } = id {
            io.delete_policy(namespace, name).await.map_err(io_err)?;
        }
    }
    Ok(now_ms())
}

/// Watches the flipped pairs until each matched the change or the settle time ended, then
/// reads the last rounds; returns the horizon the timings are judged up to.
async fn watch_until_settled(
    mut streams: Vec<LineStream>,
    seen: &mut Observed,
    flipped: &[Flip],
    t0: f64,
    opts: &ClusterOptions,
    apply: &ApplyRun,
) -> f64 {
    let pb = bar(
        opts.progress,
        flipped.len() as u64,
        "waiting for the change",
    );
    let settle_end = t0 + apply.settle.as_secs_f64() * 1000.0;
    let slack = opts.timeout.as_secs_f64() * 1000.0 + 300.0;
    loop {
        drain_streams(&mut streams, seen, Duration::from_millis(50)).await;
        let horizon = (now_ms() - slack).min(settle_end);
        let done = seen.converged(flipped, t0, horizon);
        pb.set_position(done as u64);
        if done == flipped.len() || horizon >= settle_end {
            break;
        }
    }
    pb.finish_and_clear();
    let final_horizon = (now_ms() - slack).min(settle_end);
    drain_streams(&mut streams, seen, opts.timeout + apply.interval * 3).await;
    final_horizon
}

/// Every pair probed on `snap` (the state after the change), compared and explained.
async fn probe_every_pair<I: ClusterIo>(
    io: &I,
    snap: &Snapshot,
    probers: &Probers,
    probes: &[Probe],
    opts: &ClusterOptions,
    plan_opts: &PlanOptions,
    notes: &mut Vec<String>,
) -> Result<ProbeReport, ClusterError> {
    let probe_plan = build_plan(snap, &probers.endpoints, probes, plan_opts);
    let results = run_execs(io, &probe_plan, &probers.exec_target, opts, notes).await?;
    let mut probe = plan::assemble(probe_plan, &results);
    crate::probe::compare::explain_disagreements(&mut probe, snap, "");
    Ok(probe)
}

#[allow(clippy::too_many_arguments)]
async fn apply_work<I: ClusterIo>(
    io: &I,
    snap: &Snapshot,
    groups: &[Group],
    probes: &[Probe],
    opts: &ClusterOptions,
    settings: &ProberSettings,
    plan_opts: &PlanOptions,
    apply: &ApplyRun,
    applied_objects: &[NetworkPolicy],
    changed: &std::cell::Cell<bool>,
    notes: &mut Vec<String>,
    timings: &mut Vec<(&'static str, Duration)>,
) -> Result<ApplyReport, ClusterError> {
    let probers = start_probers(io, snap, groups, opts, settings, notes, timings).await?;
    let clock = Instant::now();
    let before = &probers.snap;
    let after = after_snapshot(before, &apply.change).map_err(ClusterError::Input)?;
    let (flipped, unflipped) = flips(before, &after, &probers.endpoints, probes, &apply.change);

    // Streaming probers in the sources of flipped pairs.
    let plans = stream_plans(
        before,
        &flipped,
        apply.interval.as_millis() as u64,
        opts.timeout.as_millis() as u64,
        opts.concurrency,
    );
    let mut seen = Observed::default();
    let streams = start_streams(io, &probers, &plans, opts, apply, &mut seen).await?;
    changed.set(true);
    let t0 = apply_change(io, applied_objects, apply).await?;
    let final_horizon = watch_until_settled(streams, &mut seen, &flipped, t0, opts, apply).await;
    timings.push(("watch", clock.elapsed()));

    let (pairs, pair_notes) = pair_timings(before, &flipped, &seen, t0, final_horizon);
    notes.extend(pair_notes);
    let interval_ms = apply.interval.as_millis() as u64;
    let settle_s = apply.settle.as_secs_f64();
    let timing = TimingDoc::new(t0, interval_ms, settle_s, pairs, unflipped.len(), None);

    let new_pod = if apply.new_pod {
        let clock = Instant::now();
        let w = new_pod_window(
            io, snap, groups, probes, opts, settings, &probers, &after, apply,
        )
        .await?;
        timings.push(("new pod", clock.elapsed()));
        Some(w)
    } else {
        None
    };

    // The new state, every pair.
    let clock = Instant::now();
    let mut probe = probe_every_pair(io, &after, &probers, probes, opts, plan_opts, notes).await?;
    let new_pod_text = new_pod
        .as_ref()
        .map(|w| format!("; {}", w.verdict()))
        .unwrap_or_default();
    probe.verdict = format!(
        "{}{new_pod_text}; after the change: {}",
        timing.verdict(),
        probe.verdict
    );
    timings.push(("probe", clock.elapsed()));
    Ok(ApplyReport {
        new_pod,
        probe,
        change: change_doc(apply),
        timing,
        unflipped,
        restored: false,
        notes: Vec::new(),
    })
}

/// The change as the report names it: applied objects' and deleted policies' keys.
fn change_doc(apply: &ApplyRun) -> ChangeDoc {
    ChangeDoc {
        applied: apply.change.applied.iter().map(|r| r.key()).collect(),
        deleted: apply
            .change
            .deleted
            .iter()
            .map(PolicyRef::to_string)
            .collect(),
    }
}
