//! `probe` in mirror mode: one prober pod per group, checks by exec from each of them.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod as K8sPod;

use super::cleanup::clean_up_run;
use super::execs::run_execs;
use super::setup::{run_setup, RunSetup};
use super::waiting::wait_for_probers;
use super::{bar, interrupted, io_err, ClusterError, ClusterOptions, Outcome};
use crate::model::{parse_pod_object, Pod, Probe, Snapshot, Source};
use crate::probe::cluster::io::ClusterIo;
use crate::probe::cluster::plan::{
    self, build_plan, group_pods, mirror_snapshot, owner_config_map, prober_name, prober_pod,
    Group, PlanOptions, ProberSettings,
};
use crate::probe::ProbeReport;

/// Mirror mode: one prober pod per group, checks by exec from each of them.
pub async fn probe_mirror<I: ClusterIo>(
    io: &I,
    snap: &Snapshot,
    scope: &[usize],
    probes: &[Probe],
    opts: &ClusterOptions,
) -> Result<Outcome, ClusterError> {
    let groups = group_pods(snap, scope);
    if groups.is_empty() {
        return Err(ClusterError::Input(
            "no pods in scope to probe (hostNetwork pods are not probed)".into(),
        ));
    }
    let RunSetup {
        run,
        ns_list,
        mut notes,
        plan_opts,
        settings,
    } = run_setup(io, snap, &groups, probes, opts, true).await;

    let mut timings = Vec::new();
    let work = mirror_work(
        io,
        snap,
        &groups,
        probes,
        opts,
        &settings,
        &plan_opts,
        &mut notes,
        &mut timings,
    );
    let result = tokio::select! {
        r = work => r,
        why = interrupted() => Err(ClusterError::Interrupted(format!(
            "{why}: removed the objects of run {run}"
        ))),
    };
    let leftovers = clean_up_run(io, &ns_list, &run, opts, settings.deadline, &mut notes).await;
    timings.push(("clean up", leftovers.took));
    let report = result.map_err(|e| leftovers.name_in(e))?;
    let leftovers = leftovers.objects;
    Ok(Outcome {
        report,
        run,
        notes,
        leftovers,
        timings,
    })
}

#[allow(clippy::too_many_arguments)]
async fn mirror_work<I: ClusterIo>(
    io: &I,
    snap: &Snapshot,
    groups: &[Group],
    probes: &[Probe],
    opts: &ClusterOptions,
    settings: &ProberSettings,
    plan_opts: &PlanOptions,
    notes: &mut Vec<String>,
    timings: &mut Vec<(&'static str, Duration)>,
) -> Result<ProbeReport, ClusterError> {
    let probers = start_probers(io, snap, groups, opts, settings, notes, timings).await?;
    let clock = Instant::now();
    let probe_plan = build_plan(&probers.snap, &probers.endpoints, probes, plan_opts);

    // 4. Probe: one exec per source (all its targets in it), a few sources at a time.
    let results = run_execs(io, &probe_plan, &probers.exec_target, opts, notes).await?;
    timings.push(("probe", clock.elapsed()));
    let mut report = plan::assemble(probe_plan, &results);
    crate::probe::compare::explain_disagreements(&mut report, &probers.snap, "");
    Ok(report)
}

/// The probers of a run, running: the snapshot with them standing for their groups, their
/// indices in it, and where to exec for each.
pub(super) struct Probers {
    pub(super) snap: Snapshot,
    pub(super) endpoints: Vec<usize>,
    pub(super) exec_target: HashMap<usize, (String, String)>,
    /// The run's owner ConfigMap per namespace.
    pub(super) owners: HashMap<String, k8s_openapi::api::core::v1::ConfigMap>,
}

pub(super) async fn start_probers<I: ClusterIo>(
    io: &I,
    snap: &Snapshot,
    groups: &[Group],
    opts: &ClusterOptions,
    settings: &ProberSettings,
    notes: &mut Vec<String>,
    timings: &mut Vec<(&'static str, Duration)>,
) -> Result<Probers, ClusterError> {
    // 1. Create: the owners, then one prober per group.
    let mut clock = Instant::now();
    let namespaces: BTreeSet<&str> = groups.iter().map(|g| g.namespace.as_str()).collect();
    let pb = bar(
        opts.progress,
        (namespaces.len() + groups.len()) as u64,
        "creating prober pods",
    );
    let mut owners = HashMap::new();
    for ns in &namespaces {
        let cm = io
            .create_config_map(&owner_config_map(&settings.run, ns))
            .await
            .map_err(io_err)?;
        if cm.metadata.uid.is_none() {
            return Err(ClusterError::Cluster(format!(
                "the API server returned the configmap in {ns} without a uid"
            )));
        }
        owners.insert(ns.to_string(), cm);
        pb.inc(1);
    }
    for (i, g) in groups.iter().enumerate() {
        let pod = prober_pod(g, i, &owners[&g.namespace], settings, snap);
        io.create_pod(&pod).await.map_err(io_err)?;
        pb.inc(1);
    }
    pb.finish_and_clear();
    timings.push(("create", clock.elapsed()));
    clock = Instant::now();

    // 2. Wait until every prober runs, has an address and says its listeners are bound.
    let running = wait_for_probers(io, groups, &settings.run, opts, notes).await?;
    timings.push(("wait", clock.elapsed()));
    let mut probers = Vec::with_capacity(groups.len());
    for (i, g) in groups.iter().enumerate() {
        let name = prober_name(&settings.run, i);
        let k8s = running
            .get(&(g.namespace.clone(), name.clone()))
            .ok_or_else(|| {
                ClusterError::Cluster(format!("prober {}/{name} vanished", g.namespace))
            })?;
        probers.push(as_model_pod(k8s)?);
    }

    // 3. The expected side for the probers as they really run, and where to exec.
    let (msnap, endpoints) = mirror_snapshot(snap, groups, &probers);
    let exec_target: HashMap<usize, (String, String)> = endpoints
        .iter()
        .enumerate()
        .map(|(i, &e)| {
            (
                e,
                (groups[i].namespace.clone(), prober_name(&settings.run, i)),
            )
        })
        .collect();
    Ok(Probers {
        snap: msnap,
        endpoints,
        exec_target,
        owners,
    })
}

/// The model's view of a running prober, parsed like any pod of the cluster.
pub(super) fn as_model_pod(pod: &K8sPod) -> Result<Pod, ClusterError> {
    let v = serde_json::to_value(pod)
        .map_err(|e| ClusterError::Cluster(format!("cannot read a prober pod: {e}")))?;
    let source = Source {
        file: "cluster".into(),
        document: 0,
    };
    match parse_pod_object(&v, "Pod", "default", source) {
        Ok(Some(p)) if !p.ips.is_empty() => Ok(p),
        Ok(_) => Err(ClusterError::Cluster(format!(
            "prober {} stopped or lost its address",
            pod.metadata.name.as_deref().unwrap_or("?")
        ))),
        Err((o, e)) => Err(ClusterError::Cluster(format!(
            "cannot read prober {}: {}: {}",
            o.unwrap_or_default(),
            e.field,
            e.message
        ))),
    }
}
