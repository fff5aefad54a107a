//! `probe --apply --new-pod`: how long a pod made after the change could send or receive what
//! its policies deny.

use std::time::{Duration, Instant};

use netpol_prober::plan::StreamResult;

use super::apply::ApplyRun;
use super::mirror::{as_model_pod, Probers};
use super::{io_err, ClusterError, ClusterOptions};
use crate::model::{Probe, Snapshot};
use crate::probe::apply::NewPodWindow;
use crate::probe::cluster::io::ClusterIo;
use crate::probe::cluster::plan::{
    prober_name, prober_pod, run_selector, Group, ProberSettings, AGENT, CONTAINER,
};

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
    use crate::engine::{Endpoint, Engine, Traffic};
    let ns = apply
        .change
        .keys()
        .first()
        .and_then(|k| k.split_once('/').map(|(n, _)| n.to_string()))
        .unwrap_or_default();
    let g = groups
        .iter()
        .position(|g| g.namespace == ns)
        .ok_or_else(|| {
            ClusterError::Input(format!(
                "--new-pod: no pod in scope in namespace {ns} (where the change is) to mirror"
            ))
        })?;
    let timeout_ms = opts.timeout.as_millis() as u64;
    let interval_ms = apply.interval.as_millis() as u64;
    // Out: to every prober, on every probe, from the first instant.
    let mut out_plan = netpol_prober::plan::StreamPlan {
        interval_ms,
        timeout_ms,
        concurrency: opts.concurrency.max(1),
        checks: Vec::new(),
        flows: Vec::new(),
    };
    for (j, &e) in probers.endpoints.iter().enumerate() {
        if let Some(ip) = after.pods[e].ips.first() {
            for (k, p) in probes.iter().enumerate() {
                out_plan
                    .checks
                    .push(crate::probe::connection_check(format!("o{j}:{k}"), *ip, *p));
            }
        }
    }
    let owner = probers
        .owners
        .get(&ns)
        .ok_or_else(|| ClusterError::Cluster(format!("--new-pod: no owner object in {ns}")))?;
    let mut pod = prober_pod(&groups[g], groups.len(), owner, settings, snap);
    let name = prober_name(&settings.run, groups.len());
    if let Some(c) = pod.spec.as_mut().and_then(|s| s.containers.first_mut()) {
        let plan = serde_json::to_string(&out_plan)
            .map_err(|e| ClusterError::Cluster(format!("stream plan: {e}")))?;
        c.args
            .get_or_insert_with(Vec::new)
            .extend(["--stream-plan".to_string(), plan]);
    }
    io.create_pod(&pod).await.map_err(io_err)?;
    // Its address, as soon as the API has it.
    let ready_by = Instant::now() + opts.start_timeout;
    let k8s = loop {
        let found = io
            .list_pods(&ns, &run_selector(Some(&settings.run)))
            .await
            .map_err(io_err)?
            .into_iter()
            .find(|p| p.metadata.name.as_deref() == Some(name.as_str()));
        if let Some(p) = found.filter(|p| {
            p.status
                .as_ref()
                .and_then(|s| s.pod_ip.as_ref())
                .is_some_and(|ip| !ip.is_empty())
        }) {
            break p;
        }
        if Instant::now() > ready_by {
            return Err(ClusterError::Cluster(format!(
                "--new-pod: {ns}/{name} got no address within {} s",
                opts.start_timeout.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let mut model = as_model_pod(&k8s)?;
    model.name = name.clone();
    let ip = model.ips[0];
    let mut nsnap = after.clone();
    nsnap.pods.push(model);
    nsnap.finish();
    let me = nsnap
        .pods
        .iter()
        .position(|p| p.namespace == ns && p.name == name)
        .ok_or_else(|| ClusterError::Cluster("--new-pod: lost the new pod".into()))?;
    // In: from every prober, on every probe, as soon as the address is known.
    let mut streams = Vec::new();
    for (j, &e) in probers.endpoints.iter().enumerate() {
        let plan = netpol_prober::plan::StreamPlan {
            interval_ms,
            timeout_ms,
            concurrency: opts.concurrency.max(1),
            checks: probes
                .iter()
                .enumerate()
                .map(|(k, p)| crate::probe::connection_check(format!("i{j}:{k}"), ip, *p))
                .collect(),
            flows: Vec::new(),
        };
        let (pns, pod) = &probers.exec_target[&e];
        let line = serde_json::to_string(&plan)
            .map_err(|e| ClusterError::Cluster(format!("stream plan: {e}")))?;
        let argv = vec![AGENT.to_string(), "stream".to_string()];
        streams.push(
            io.exec_stream(pns, pod, CONTAINER, &argv, &format!("{line}\n"))
                .await
                .map_err(io_err)?,
        );
    }
    // Watch for a while: the window, if any, is at the start.
    let watch = Duration::from_secs(3) + opts.timeout * 2;
    let mut inbound: Vec<StreamResult> = Vec::new();
    let until = Instant::now() + watch;
    while Instant::now() < until {
        for s in streams.iter_mut() {
            while let Ok(line) = s.lines.try_recv() {
                if let Ok(r) = serde_json::from_str::<StreamResult>(&line) {
                    inbound.push(r);
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(streams);
    let log = io.logs(&ns, &name, CONTAINER).await.map_err(io_err)?;
    let outbound: Vec<StreamResult> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<StreamResult>(l).ok())
        .collect();
    let engine = Engine::new(&nsnap);
    let allowed = |from: usize, to: usize, k: usize| {
        engine
            .verdict(&Traffic {
                from: Endpoint::Pod(from),
                to: Endpoint::Pod(to),
                probe: probes[k],
            })
            .allowed
    };
    let parse = |id: &str, p: char| -> Option<(usize, usize)> {
        let (j, k) = id.strip_prefix(p)?.split_once(':')?;
        Some((j.parse().ok()?, k.parse().ok()?))
    };
    let endpoint_in_nsnap = |j: usize| -> Option<usize> {
        let p = &after.pods[probers.endpoints[j]];
        nsnap
            .pods
            .iter()
            .position(|q| q.namespace == p.namespace && q.name == p.name)
    };
    let first = outbound
        .iter()
        .filter(|r| r.event == netpol_prober::plan::StreamEvent::Check)
        .map(|r| r.sent_unix_ms)
        .fold(f64::INFINITY, f64::min);
    let mut w = NewPodWindow {
        pod: format!("{ns}/{name}"),
        mirrors: groups[g].display(snap),
        first_probe_unix_ms: first.is_finite().then_some(first),
        ..Default::default()
    };
    let mut last_leak = f64::NEG_INFINITY;
    for (r, dir) in outbound
        .iter()
        .map(|r| (r, 'o'))
        .chain(inbound.iter().map(|r| (r, 'i')))
    {
        if r.event != netpol_prober::plan::StreamEvent::Check {
            continue;
        }
        let Some((j, k)) = parse(&r.id, dir) else {
            continue;
        };
        let Some(other) = endpoint_in_nsnap(j) else {
            continue;
        };
        let (from, to) = if dir == 'o' { (me, other) } else { (other, me) };
        let through = r.verdict.and_then(crate::probe::compare::observed_of) == Some(true);
        let denied = !allowed(from, to, k);
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
    if w.first_probe_unix_ms.is_none() {
        return Err(ClusterError::Cluster(format!(
            "--new-pod: {ns}/{name} printed no probe results (its image must have `serve --stream-plan`: this version's prober image)"
        )));
    }
    Ok(w)
}
