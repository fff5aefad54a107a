//! `probe --apply --new-pod`: how long a pod made after the change could send or receive what
//! its policies deny.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod as K8sPod;
use netpol_prober::plan::{Check, StreamEvent, StreamPlan, StreamResult};

use super::apply::{start_stream, ApplyRun};
use super::mirror::{as_model_pod, Probers};
use super::{io_err, ClusterError, ClusterOptions};
use crate::engine::{Endpoint, Engine, Traffic};
use crate::model::{Probe, Snapshot};
use crate::probe::apply::{NewPodWindow, PolicyRef};
use crate::probe::cluster::io::{ClusterIo, LineStream};
use crate::probe::cluster::plan::{
    prober_name, prober_pod, run_selector, Group, ProberSettings, CONTAINER,
};
use crate::probe::compare::observed_of;
use crate::probe::connection_check;

/// `--new-pod`: one more prober, mirroring the first pod of the namespace the change is in, is
/// created after the change; it probes every other prober from its first instant (a stream plan
/// given at start), and every other prober probes it as soon as its address is known. Its
/// window is how long after its first probe a probe its policies deny still got through.
#[allow(clippy::too_many_arguments)]
pub(super) async fn new_pod_window<I: ClusterIo>(
    io: &I,
    snap: &Snapshot,
    groups: &[Group],
    probes: &[Probe],
    opts: &ClusterOptions,
    settings: &ProberSettings,
    probers: &Probers,
    after: &Snapshot,
    apply: &ApplyRun,
) -> Result<NewPodWindow, ClusterError> {
    let ns = change_namespace(apply);
    let g = groups
        .iter()
        .position(|g| g.namespace == ns)
        .ok_or_else(|| {
            ClusterError::Input(format!(
                "--new-pod: no pod in scope in namespace {ns} (where the change is) to mirror"
            ))
        })?;
    let owner = probers
        .owners
        .get(&ns)
        .ok_or_else(|| ClusterError::Cluster(format!("--new-pod: no owner object in {ns}")))?;
    let name = prober_name(&settings.run, groups.len());
    // Out: to every prober, on every probe, from the first instant.
    let out_plan = stream_plan(opts, apply, outbound_checks(probers, after, probes));
    let pod = with_stream_plan(
        prober_pod(&groups[g], groups.len(), owner, settings, snap),
        &out_plan,
    )?;
    io.create_pod(&pod).await.map_err(io_err)?;
    let k8s = wait_for_address(io, &ns, &name, &settings.run, opts).await?;
    let (nsnap, me, ip) = with_new_pod(after, &k8s, &ns, &name)?;
    // In: from every prober, on every probe, as soon as the address is known.
    let mut streams = Vec::new();
    for (j, &e) in probers.endpoints.iter().enumerate() {
        let checks = probes
            .iter()
            .enumerate()
            .map(|(k, p)| connection_check(format!("i{j}:{k}"), ip, *p))
            .collect();
        let (pns, pod) = &probers.exec_target[&e];
        streams.push(start_stream(io, pns, pod, &stream_plan(opts, apply, checks)).await?);
    }
    // Watch for a while: the window, if any, is at the start.
    let inbound = collect_streams(streams, Duration::from_secs(3) + opts.timeout * 2).await;
    let log = io.logs(&ns, &name, CONTAINER).await.map_err(io_err)?;
    let outbound: Vec<StreamResult> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<StreamResult>(l).ok())
        .collect();
    let first = outbound
        .iter()
        .filter(|r| r.event == StreamEvent::Check)
        .map(|r| r.sent_unix_ms)
        .fold(f64::INFINITY, f64::min);
    let mut w = NewPodWindow {
        pod: format!("{ns}/{name}"),
        mirrors: groups[g].display(snap),
        first_probe_unix_ms: first.is_finite().then_some(first),
        ..Default::default()
    };
    if w.first_probe_unix_ms.is_none() {
        return Err(ClusterError::Cluster(format!(
            "--new-pod: {ns}/{name} printed no probe results (its image must have `serve --stream-plan`: this version's prober image)"
        )));
    }
    let seen = NewPodView {
        nsnap: &nsnap,
        me,
        after,
        probers,
        probes,
    };
    count_leaks(&mut w, &seen, &outbound, &inbound);
    Ok(w)
}

/// The namespace of the change's first policy: where the new pod is made.
fn change_namespace(apply: &ApplyRun) -> String {
    apply
        .change
        .refs()
        .into_iter()
        .find_map(|r| match r {
            PolicyRef::Namespaced { namespace, .. } => Some(namespace),
            PolicyRef::Cluster { .. } => None,
        })
        .unwrap_or_default()
}

/// A stream plan at the run's cadence.
fn stream_plan(opts: &ClusterOptions, apply: &ApplyRun, checks: Vec<Check>) -> StreamPlan {
    StreamPlan {
        interval_ms: apply.interval.as_millis() as u64,
        timeout_ms: opts.timeout.as_millis() as u64,
        concurrency: opts.concurrency.max(1),
        checks,
        flows: Vec::new(),
    }
}

/// The prober pod, told to stream `plan` from its start.
fn with_stream_plan(mut pod: K8sPod, plan: &StreamPlan) -> Result<K8sPod, ClusterError> {
    if let Some(c) = pod.spec.as_mut().and_then(|s| s.containers.first_mut()) {
        let plan = serde_json::to_string(plan)
            .map_err(|e| ClusterError::Cluster(format!("stream plan: {e}")))?;
        c.args
            .get_or_insert_with(Vec::new)
            .extend(["--stream-plan".to_string(), plan]);
    }
    Ok(pod)
}

/// The snapshot after the change with the new pod in it, its index there and its address.
fn with_new_pod(
    after: &Snapshot,
    k8s: &K8sPod,
    ns: &str,
    name: &str,
) -> Result<(Snapshot, usize, IpAddr), ClusterError> {
    let mut model = as_model_pod(k8s)?;
    model.name = name.to_string();
    let ip = model.ips[0];
    let mut nsnap = after.clone();
    nsnap.pods.push(model);
    nsnap.finish();
    let me = nsnap
        .pods
        .iter()
        .position(|p| p.namespace == ns && p.name == name)
        .ok_or_else(|| ClusterError::Cluster("--new-pod: lost the new pod".into()))?;
    Ok((nsnap, me, ip))
}

/// From the new pod to every prober (`o<prober>:<probe>`), on every probe.
fn outbound_checks(probers: &Probers, after: &Snapshot, probes: &[Probe]) -> Vec<Check> {
    let mut checks = Vec::new();
    for (j, &e) in probers.endpoints.iter().enumerate() {
        if let Some(ip) = after.pods[e].ips.first() {
            for (k, p) in probes.iter().enumerate() {
                checks.push(connection_check(format!("o{j}:{k}"), *ip, *p));
            }
        }
    }
    checks
}

/// The new prober, as soon as the API has its address.
async fn wait_for_address<I: ClusterIo>(
    io: &I,
    ns: &str,
    name: &str,
    run: &str,
    opts: &ClusterOptions,
) -> Result<K8sPod, ClusterError> {
    let ready_by = Instant::now() + opts.start_timeout;
    loop {
        let found = io
            .list_pods(ns, &run_selector(Some(run)))
            .await
            .map_err(io_err)?
            .into_iter()
            .find(|p| p.metadata.name.as_deref() == Some(name));
        if let Some(p) = found.filter(|p| {
            p.status
                .as_ref()
                .and_then(|s| s.pod_ip.as_ref())
                .is_some_and(|ip| !ip.is_empty())
        }) {
            return Ok(p);
        }
        if Instant::now() > ready_by {
            return Err(ClusterError::Cluster(format!(
                "--new-pod: {ns}/{name} got no address within {} s",
                opts.start_timeout.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every result the streams print during `watch`.
async fn collect_streams(mut streams: Vec<LineStream>, watch: Duration) -> Vec<StreamResult> {
    let mut results = Vec::new();
    let until = Instant::now() + watch;
    while Instant::now() < until {
        for s in streams.iter_mut() {
            while let Ok(line) = s.lines.try_recv() {
                if let Ok(r) = serde_json::from_str::<StreamResult>(&line) {
                    results.push(r);
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    results
}

/// What the results are judged on: the snapshot after the change with the new pod in it (at
/// `me`), and the probers the check ids number.
struct NewPodView<'a> {
    nsnap: &'a Snapshot,
    me: usize,
    after: &'a Snapshot,
    probers: &'a Probers,
    probes: &'a [Probe],
}

impl NewPodView<'_> {
    /// Prober `j` of the check ids, in the snapshot with the new pod.
    fn prober(&self, j: usize) -> Option<usize> {
        let p = &self.after.pods[*self.probers.endpoints.get(j)?];
        self.nsnap
            .pods
            .iter()
            .position(|q| q.namespace == p.namespace && q.name == p.name)
    }
}

/// Counts the denied probes from (`o`) and to (`i`) the new pod and those that got through,
/// and the window: from its first probe to the last denied probe that got through.
fn count_leaks(
    w: &mut NewPodWindow,
    seen: &NewPodView<'_>,
    outbound: &[StreamResult],
    inbound: &[StreamResult],
) {
    let engine = Engine::new(seen.nsnap);
    let parse = |id: &str, p: char| -> Option<(usize, usize)> {
        let (j, k) = id.strip_prefix(p)?.split_once(':')?;
        Some((j.parse().ok()?, k.parse().ok()?))
    };
    let mut last_leak = f64::NEG_INFINITY;
    for (r, dir) in outbound
        .iter()
        .map(|r| (r, 'o'))
        .chain(inbound.iter().map(|r| (r, 'i')))
    {
        if r.event != StreamEvent::Check {
            continue;
        }
        let Some((j, k)) = parse(&r.id, dir) else {
            continue;
        };
        let Some(other) = seen.prober(j) else {
            continue;
        };
        let (from, to) = if dir == 'o' {
            (seen.me, other)
        } else {
            (other, seen.me)
        };
        let through = r.verdict.and_then(observed_of) == Some(true);
        let denied = !engine
            .verdict(&Traffic {
                from: Endpoint::Pod(from),
                to: Endpoint::Pod(to),
                probe: seen.probes[k],
            })
            .allowed;
        match (dir, denied) {
            ('o', true) => w.denied_out += 1,
            ('i', true) => w.denied_in += 1,
            _ => {}
        }
        if denied && through {
            if dir == 'o' {
                w.leaked_out += 1;
            } else {
                w.leaked_in += 1;
            }
            last_leak = last_leak.max(r.sent_unix_ms);
        }
    }
    w.window_s = match w.first_probe_unix_ms {
        Some(first) if last_leak.is_finite() => ((last_leak - first) / 1000.0).max(0.0),
        _ => 0.0,
    };
}
