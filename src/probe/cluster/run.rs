//! One cluster probe run: create → wait → probe → compare → clean up. The clean-up runs at the
//! end, on error and on Ctrl-C (SIGINT/SIGTERM); a run that is killed outright leaves pods that
//! stop by themselves (activeDeadlineSeconds) and objects that `kubectl netpol cleanup` removes.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use k8s_openapi::api::core::v1::Pod as K8sPod;
use netpol_prober::plan::{CheckResult, Plan};

use super::io::{ClusterIo, EphemeralState, IoError, IoErrorKind, LineStream};
use super::plan::{
    self, build_plan, dns_names, dns_target, ephemeral_container, group_pods, mirror_snapshot,
    not_ready_service_warnings, owner_config_map, parse_results, prober_name, prober_pod,
    ready_line, run_selector, service_info, External, Group, PlanOptions, ProbePlan,
    ProberSettings, ServiceInfo, AGENT, CONTAINER,
};
use crate::model::{parse_pod_object, Pod, Probe, Snapshot, Source};
use crate::probe::apply::{
    after_snapshot, flips, pair_timings, stream_plans, ApplyReport, ChangeDoc, ChangeSet,
    NewPodWindow, Observed, PolicyRef, TimingDoc,
};
use crate::probe::ProbeReport;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use netpol_prober::plan::StreamResult;

/// How a cluster run behaves.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    pub image: String,
    /// One attempt of one check.
    pub timeout: Duration,
    /// Checks in flight inside one source.
    pub concurrency: usize,
    /// Sources probing at the same time (execs in flight).
    pub parallel_sources: usize,
    /// Re-runs of checks that ended in `error`.
    pub retries: u32,
    /// How long probers (or ephemeral containers) may take to start.
    pub start_timeout: Duration,
    pub externals: Vec<External>,
    /// Resolve the cluster DNS and the targets' Service names from every source.
    pub dns: bool,
    /// Progress bars on stderr.
    pub progress: bool,
    /// How often to look at the pods while waiting (the shortest interval; see `poll_interval`).
    pub poll: Duration,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            image: plan::DEFAULT_IMAGE.to_string(),
            timeout: Duration::from_secs(1),
            concurrency: 256,
            parallel_sources: 8,
            retries: 2,
            start_timeout: Duration::from_secs(180),
            externals: Vec::new(),
            dns: true,
            progress: false,
            poll: Duration::from_millis(100),
        }
    }
}

/// What a run found, and what the user should know about it.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub report: ProbeReport,
    pub run: String,
    /// Row legends and warnings (printed after the table, or on stderr).
    pub notes: Vec<String>,
    /// Objects the clean-up could not confirm gone (`kubectl netpol cleanup` removes them).
    pub leftovers: Vec<String>,
    /// How long each phase took (create, wait, probe, clean up), for `-v`.
    pub timings: Vec<(&'static str, Duration)>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// Nothing to probe, or the scope cannot be probed: exit 2.
    #[error("{0}")]
    Input(String),
    /// The API refused or failed, or the probers never started: exit 3.
    #[error("{0}")]
    Cluster(String),
    /// Ctrl-C or SIGTERM; the run's objects were cleaned up: exit 130.
    #[error("{0}")]
    Interrupted(String),
}

impl ClusterError {
    fn with_note(self, note: &str) -> ClusterError {
        match self {
            ClusterError::Input(m) => ClusterError::Input(format!("{m}; {note}")),
            ClusterError::Cluster(m) => ClusterError::Cluster(format!("{m}; {note}")),
            ClusterError::Interrupted(m) => ClusterError::Interrupted(format!("{m}; {note}")),
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            ClusterError::Input(_) => 2,
            ClusterError::Cluster(_) => 3,
            ClusterError::Interrupted(_) => 130,
        }
    }
}

const RBAC_HINT: &str = "the permissions `probe` needs are in manifests/rbac/probe-role.yaml";

fn io_err(e: IoError) -> ClusterError {
    match e.kind {
        IoErrorKind::Forbidden => ClusterError::Cluster(format!("{e} — {RBAC_HINT}")),
        IoErrorKind::NamespaceTerminating => ClusterError::Cluster(format!(
            "{e} — the namespace is being deleted (Terminating), so no prober can be created in it; this is not a permissions problem: probe once it is gone, or another namespace"
        )),
        _ => ClusterError::Cluster(e.message),
    }
}

fn bar(progress: bool, len: u64, msg: &str) -> indicatif::ProgressBar {
    if !progress {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new(len);
    pb.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {msg:<26} [{bar:30}] {pos}/{len} {elapsed}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    pb.set_message(msg.to_string());
    pb.enable_steady_tick(Duration::from_millis(100));
    pb
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn interrupted() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).ok();
    let terminate = async {
        match term.as_mut() {
            Some(t) => {
                t.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        r = tokio::signal::ctrl_c() => match r {
            Ok(()) => "interrupted (Ctrl-C)",
            Err(_) => std::future::pending().await,
        },
        () = terminate => "terminated (SIGTERM)",
    }
}

/// Services of the namespaces (for DNS rows and the not-ready warning); a namespace whose
/// Services cannot be listed only loses its DNS rows, with a note.
async fn services<I: ClusterIo>(
    io: &I,
    namespaces: &BTreeSet<String>,
    notes: &mut Vec<String>,
) -> Vec<ServiceInfo> {
    let mut out = Vec::new();
    for ns in namespaces {
        match io.list_services(ns).await {
            Ok(list) => out.extend(list.iter().map(service_info)),
            Err(e) => notes.push(format!(
                "cannot list Services in {ns} ({e}): no DNS rows for their names"
            )),
        }
    }
    out
}

fn plan_options(
    opts: &ClusterOptions,
    snap: &Snapshot,
    services: &[ServiceInfo],
    groups: &[Group],
    notes: &mut Vec<String>,
) -> PlanOptions {
    let dns = opts.dns && dns_target(snap).is_some();
    if opts.dns && !dns {
        notes.push(format!(
            "no cluster DNS pods known ({}, label {}={}): DNS rows skipped",
            plan::DNS_NAMESPACE,
            plan::DNS_LABEL.0,
            plan::DNS_LABEL.1
        ));
    }
    PlanOptions {
        timeout: opts.timeout,
        concurrency: opts.concurrency.max(1),
        retries: opts.retries,
        externals: opts.externals.clone(),
        dns_names: if dns {
            dns_names(services, groups)
        } else {
            Vec::new()
        },
    }
}

fn group_notes(groups: &[Group], snap: &Snapshot) -> Vec<String> {
    groups
        .iter()
        .filter(|g| g.members.len() > 1)
        .map(|g| {
            format!(
                "{} stands for {} pods with the same labels and ports (one prober for all of them)",
                g.display(snap),
                g.members.len()
            )
        })
        .collect()
}

/// Mirror mode: one prober pod per group, checks by exec from each of them.
/// What every run on a cluster starts from: its id, namespaces, notes about the groups and
/// their Services, the exec plan options and the probers' settings.
struct RunSetup {
    run: String,
    ns_list: Vec<String>,
    notes: Vec<String>,
    plan_opts: PlanOptions,
    settings: ProberSettings,
}

async fn run_setup<I: ClusterIo>(
    io: &I,
    snap: &Snapshot,
    groups: &[Group],
    probes: &[Probe],
    opts: &ClusterOptions,
    dns_rows: bool,
) -> RunSetup {
    let run = plan::new_run_id();
    let namespaces: BTreeSet<String> = groups.iter().map(|g| g.namespace.clone()).collect();
    let mut notes = group_notes(groups, snap);
    let services = services(io, &namespaces, &mut notes).await;
    notes.extend(not_ready_service_warnings(&services, groups));
    let mut plan_opts = plan_options(opts, snap, &services, groups, &mut notes);
    if !dns_rows {
        plan_opts.dns_names.clear();
    }
    let checks_per_source =
        groups.len() * probes.len() + opts.externals.len() + plan_opts.dns_names.len();
    let settings = ProberSettings {
        run: run.clone(),
        image: opts.image.clone(),
        probes: probes.to_vec(),
        deadline: plan::deadline(
            opts.start_timeout,
            groups.len(),
            checks_per_source,
            opts.timeout,
            opts.concurrency,
            opts.retries,
            opts.parallel_sources,
        ),
    };
    RunSetup {
        run,
        ns_list: namespaces.into_iter().collect(),
        notes,
        plan_opts,
        settings,
    }
}

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
    let clock = Instant::now();
    let leftovers = cleanup(io, Some(&ns_list), &run, opts).await;
    timings.push(("clean up", clock.elapsed()));
    if !leftovers.is_empty() {
        notes.push(format!(
            "{} objects of run {run} were still there after the clean-up: {} (they stop within {} s by themselves; `kubectl netpol cleanup` removes them)",
            leftovers.len(),
            leftovers.join(", "),
            settings.deadline.as_secs()
        ));
    }
    let report = match result {
        Err(e) if !leftovers.is_empty() => {
            return Err(e.with_note(&format!(
                "still there after the clean-up: {} (`kubectl netpol cleanup` removes them)",
                leftovers.join(", ")
            )))
        }
        other => other?,
    };
    Ok(Outcome {
        report,
        run,
        notes,
        leftovers,
        timings,
    })
}

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
    if let Some(c) = apply.change.cluster_refs().first() {
        return Err(ClusterError::Input(format!(
            "{}: probe --apply/--delete on a cluster changes NetworkPolicies only; a cluster-scoped policy's time to enforce is measured with probe --local --apply",
            c.described()
        )));
    }
    // The objects to apply, and what each key holds now (to put back).
    let mut applied_objects = Vec::new();
    for raw in &apply.change.applied {
        let p: NetworkPolicy = serde_json::from_value(raw.value.clone()).map_err(|e| {
            ClusterError::Input(format!("{}: NetworkPolicy {}: {e}", raw.source, raw.key()))
        })?;
        applied_objects.push(p);
    }
    let mut previous: Vec<(String, Option<NetworkPolicy>)> = Vec::new();
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
        let mut failed = Vec::new();
        for (key, before) in &previous {
            let (ns, name) = key.split_once('/').unwrap_or(("", key.as_str()));
            let r = match before {
                Some(p) => io.apply_policy(p).await,
                None => io.delete_policy(ns, name).await,
            };
            if let Err(e) = r {
                failed.push(format!("{key}: {e}"));
            }
        }
        restored = failed.is_empty();
        if !restored {
            notes.push(format!(
                "putting the previous policies back failed: {}",
                failed.join("; ")
            ));
        }
        timings.push(("restore", clock.elapsed()));
    }
    let clock = Instant::now();
    let leftovers = cleanup(io, Some(&ns_list), &run, opts).await;
    timings.push(("clean up", clock.elapsed()));
    let mut report = match result {
        Err(e) if !restored && changed.get() && !apply.keep => {
            return Err(e.with_note(&notes.join("; ")))
        }
        other => other?,
    };
    report.restored = restored;
    Ok(ApplyOutcome {
        report,
        run,
        notes,
        leftovers,
        timings,
    })
}

/// `--new-pod`: one more prober, mirroring the first pod of the namespace the change is in, is
/// created after the change; it probes every other prober from its first instant (a stream plan
/// given at start), and every other prober probes it as soon as its address is known. Its
/// window is how long after its first probe a probe its policies deny still got through.
#[allow(clippy::too_many_arguments)]
async fn new_pod_window<I: ClusterIo>(
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
        .refs()
        .into_iter()
        .find_map(|r| match r {
            PolicyRef::Namespaced { namespace, .. } => Some(namespace),
            PolicyRef::Cluster { .. } => None,
        })
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
    let mut streams = Vec::new();
    for (from, plan) in &plans {
        let (ns, pod) = &probers.exec_target[from];
        let line = serde_json::to_string(plan)
            .map_err(|e| ClusterError::Cluster(format!("stream plan: {e}")))?;
        let argv = vec![AGENT.to_string(), "stream".to_string()];
        streams.push(
            io.exec_stream(ns, pod, CONTAINER, &argv, &format!("{line}\n"))
                .await
                .map_err(io_err)?,
        );
    }
    let mut seen = Observed::default();
    let ready_by = Instant::now() + Duration::from_secs(60);
    while seen.started < plans.len() && Instant::now() < ready_by {
        drain_streams(&mut streams, &mut seen, Duration::from_millis(20)).await;
    }
    if seen.started < plans.len() {
        return Err(ClusterError::Cluster(format!(
            "{} of {} streaming probers did not start within 60 s (the prober image must have `stream`: this version's image)",
            plans.len() - seen.started,
            plans.len()
        )));
    }
    drain_streams(&mut streams, &mut seen, opts.timeout + apply.interval * 2).await;

    // The change, server-side applied; the API server's acceptance is t0.
    changed.set(true);
    for p in applied_objects {
        io.apply_policy(p).await.map_err(io_err)?;
    }
    for id in &apply.change.deleted {
        if let PolicyRef::Namespaced { namespace, name } = id {
            io.delete_policy(namespace, name).await.map_err(io_err)?;
        }
    }
    let t0 = now_ms();

    let pb = bar(
        opts.progress,
        flipped.len() as u64,
        "waiting for the change",
    );
    let settle_end = t0 + apply.settle.as_secs_f64() * 1000.0;
    let slack = opts.timeout.as_secs_f64() * 1000.0 + 300.0;
    loop {
        drain_streams(&mut streams, &mut seen, Duration::from_millis(50)).await;
        let horizon = (now_ms() - slack).min(settle_end);
        let done = seen.converged(&flipped, t0, horizon);
        pb.set_position(done as u64);
        if done == flipped.len() || horizon >= settle_end {
            break;
        }
    }
    pb.finish_and_clear();
    let final_horizon = (now_ms() - slack).min(settle_end);
    drain_streams(&mut streams, &mut seen, opts.timeout + apply.interval * 3).await;
    drop(streams);
    timings.push(("watch", clock.elapsed()));

    let (pairs, pair_notes) = pair_timings(before, &flipped, &seen, t0, final_horizon);
    notes.extend(pair_notes);
    let timing = TimingDoc::new(
        t0,
        apply.interval.as_millis() as u64,
        apply.settle.as_secs_f64(),
        pairs,
        unflipped.len(),
        None,
    );

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
    let probe_plan = build_plan(&after, &probers.endpoints, probes, plan_opts);
    let results = run_execs(io, &probe_plan, &probers.exec_target, opts, notes).await?;
    let mut probe = plan::assemble(probe_plan, &results);
    crate::probe::compare::explain_disagreements(&mut probe, &after, "");
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
        change: ChangeDoc {
            applied: apply.change.applied.iter().map(|r| r.key()).collect(),
            deleted: apply
                .change
                .deleted
                .iter()
                .map(PolicyRef::to_string)
                .collect(),
        },
        timing,
        unflipped,
        restored: false,
        notes: Vec::new(),
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
struct Probers {
    snap: Snapshot,
    endpoints: Vec<usize>,
    exec_target: HashMap<usize, (String, String)>,
    /// The run's owner ConfigMap per namespace.
    owners: HashMap<String, k8s_openapi::api::core::v1::ConfigMap>,
}

async fn start_probers<I: ClusterIo>(
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
fn as_model_pod(pod: &K8sPod) -> Result<Pod, ClusterError> {
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

/// Why a pod will never run, if it won't (image, sysctl, config errors, a stopped container).
fn fatal_reason(pod: &K8sPod) -> Option<String> {
    const FATAL_WAITING: [&str; 6] = [
        "ErrImagePull",
        "ImagePullBackOff",
        "InvalidImageName",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
    ];
    let status = pod.status.as_ref()?;
    if matches!(status.phase.as_deref(), Some("Failed") | Some("Succeeded")) {
        return Some(format!(
            "the pod {} ({})",
            status.phase.as_deref().unwrap_or_default().to_lowercase(),
            [status.reason.clone(), status.message.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(": ")
        ));
    }
    for cs in status.container_statuses.iter().flatten() {
        let Some(state) = &cs.state else { continue };
        if let Some(w) = &state.waiting {
            let reason = w.reason.clone().unwrap_or_default();
            if FATAL_WAITING.contains(&reason.as_str()) {
                return Some(format!(
                    "{reason}: {}",
                    w.message.clone().unwrap_or_default()
                ));
            }
        }
        if let Some(t) = &state.terminated {
            return Some(format!(
                "the prober exited ({}, code {}): {}",
                t.reason.clone().unwrap_or_default(),
                t.exit_code,
                t.message.clone().unwrap_or_default().trim()
            ));
        }
    }
    None
}

/// Why a pod is not running yet (for the timeout message).
fn pending_reason(pod: &K8sPod) -> String {
    let Some(status) = &pod.status else {
        return "no status yet".into();
    };
    for c in status.conditions.iter().flatten() {
        if c.type_ == "PodScheduled" && c.status == "False" {
            return format!(
                "not scheduled: {}",
                c.message
                    .clone()
                    .unwrap_or_else(|| c.reason.clone().unwrap_or_default())
            );
        }
    }
    for cs in status.container_statuses.iter().flatten() {
        if let Some(w) = cs.state.as_ref().and_then(|s| s.waiting.as_ref()) {
            return format!(
                "waiting: {} {}",
                w.reason.clone().unwrap_or_default(),
                w.message.clone().unwrap_or_default()
            )
            .trim()
            .to_string();
        }
    }
    format!("phase {}", status.phase.clone().unwrap_or_default())
}

fn is_running(pod: &K8sPod) -> bool {
    let Some(status) = &pod.status else {
        return false;
    };
    status.phase.as_deref() == Some("Running")
        && status.pod_ip.as_deref().is_some_and(|ip| !ip.is_empty())
        && status.container_statuses.iter().flatten().any(|cs| {
            cs.name == CONTAINER && cs.state.as_ref().is_some_and(|s| s.running.is_some())
        })
}

async fn wait_for_probers<I: ClusterIo>(
    io: &I,
    groups: &[Group],
    run: &str,
    opts: &ClusterOptions,
    notes: &mut Vec<String>,
) -> Result<HashMap<(String, String), K8sPod>, ClusterError> {
    let want: BTreeSet<(String, String)> = groups
        .iter()
        .enumerate()
        .map(|(i, g)| (g.namespace.clone(), prober_name(run, i)))
        .collect();
    let namespaces: BTreeSet<&str> = groups.iter().map(|g| g.namespace.as_str()).collect();
    let selector = run_selector(Some(run));
    let pb = bar(opts.progress, want.len() as u64, "waiting for probers");
    let started = Instant::now();
    let mut ready: BTreeSet<(String, String)> = BTreeSet::new();
    let mut logs_readable = true;
    loop {
        let mut seen: HashMap<(String, String), K8sPod> = HashMap::new();
        for ns in &namespaces {
            for p in io.list_pods(ns, &selector).await.map_err(io_err)? {
                let key = (ns.to_string(), p.metadata.name.clone().unwrap_or_default());
                if want.contains(&key) {
                    seen.insert(key, p);
                }
            }
        }
        let mut waiting = Vec::new();
        for key in &want {
            let Some(p) = seen.get(key) else {
                waiting.push(format!("{}/{}: not found", key.0, key.1));
                continue;
            };
            if let Some(why) = fatal_reason(p) {
                let hint = if why.contains("Image") || why.contains("image") {
                    format!(" — is the image {} available to the nodes? Build it and load it (README: \"The prober image\"), or pass --image", image_of(p))
                } else if why.to_lowercase().contains("sysctl") {
                    format!(" — the cluster does not allow the sysctl {} (safe from Kubernetes 1.22; older kubelets need --allowed-unsafe-sysctls), or probe only ports >= 1024 with --ports", plan::LOW_PORT_SYSCTL)
                } else {
                    String::new()
                };
                return Err(ClusterError::Cluster(format!(
                    "prober {}/{} cannot start: {why}{hint}",
                    key.0, key.1
                )));
            }
            if !is_running(p) {
                waiting.push(format!("{}/{}: {}", key.0, key.1, pending_reason(p)));
                continue;
            }
            if ready.contains(key) {
                continue;
            }
            if !logs_readable {
                ready.insert(key.clone());
                continue;
            }
            match io.logs(&key.0, &key.1, CONTAINER).await {
                Ok(log) if ready_line(&log).is_some() => {
                    ready.insert(key.clone());
                }
                Ok(_) => waiting.push(format!("{}/{}: listeners not bound yet", key.0, key.1)),
                Err(e) if e.kind == IoErrorKind::Forbidden => {
                    notes.push(format!(
                        "cannot read prober logs ({e}): did not wait for the listeners; early checks may see `refused`"
                    ));
                    logs_readable = false;
                    ready.insert(key.clone());
                }
                Err(e) => waiting.push(format!("{}/{}: {e}", key.0, key.1)),
            }
        }
        pb.set_position(ready.len() as u64);
        if ready.len() == want.len() {
            pb.finish_and_clear();
            return Ok(seen);
        }
        if started.elapsed() > opts.start_timeout {
            pb.finish_and_clear();
            return Err(ClusterError::Cluster(format!(
                "{} of {} prober pods did not start within {} s: {}",
                want.len() - ready.len(),
                want.len(),
                opts.start_timeout.as_secs(),
                waiting.join("; ")
            )));
        }
        tokio::time::sleep(poll_interval(
            opts.poll,
            namespaces.len(),
            started.elapsed(),
        ))
        .await;
    }
}

/// Probers usually start within seconds, and the user waits for the last one, so look often at
/// first; but every look is one list per namespace, so back off with many namespaces (about 30
/// requests a second at most) and once the start is slow (image pulls) anyway.
fn poll_interval(fastest: Duration, namespaces: usize, waited: Duration) -> Duration {
    let per_namespace = fastest * (namespaces.div_ceil(3).max(1) as u32);
    let slow = if waited > Duration::from_secs(10) {
        Duration::from_millis(500)
    } else {
        Duration::ZERO
    };
    per_namespace
        .max(slow)
        .min(Duration::from_secs(1))
        .max(fastest)
}

fn image_of(pod: &K8sPod) -> String {
    pod.spec
        .as_ref()
        .and_then(|s| s.containers.first())
        .and_then(|c| c.image.clone())
        .unwrap_or_default()
}

/// How long one plan may take: every round of checks, every attempt, plus slack.
fn plan_budget(p: &Plan) -> Duration {
    let rounds = p.checks.len().div_ceil(p.concurrency.max(1)).max(1) as u32;
    Duration::from_millis(p.timeout_ms) * rounds * (p.retries + 2) + Duration::from_secs(30)
}

/// Runs each source's plans by exec; returns every result. A source whose exec keeps failing
/// leaves its rows as errors (with a note); if every source fails, the run fails.
async fn run_execs<I: ClusterIo>(
    io: &I,
    probe_plan: &ProbePlan,
    target: &HashMap<usize, (String, String)>,
    opts: &ClusterOptions,
    notes: &mut Vec<String>,
) -> Result<Vec<CheckResult>, ClusterError> {
    let pb = bar(opts.progress, probe_plan.execs.len() as u64, "probing");
    let jobs = probe_plan.execs.iter().map(|e| {
        let pb = pb.clone();
        async move {
            let (ns, pod) = &target[&e.pod];
            let mut results = Vec::new();
            let mut errors = Vec::new();
            for p in &e.plans {
                match exec_plan(io, ns, pod, p).await {
                    Ok(mut r) => results.append(&mut r),
                    Err(err) => errors.push(err),
                }
            }
            pb.inc(1);
            (results, errors)
        }
    });
    let outcomes: Vec<(Vec<CheckResult>, Vec<IoError>)> = stream::iter(jobs)
        .buffer_unordered(opts.parallel_sources.max(1))
        .collect()
        .await;
    pb.finish_and_clear();
    let mut all = Vec::new();
    let mut failed = Vec::new();
    for (mut r, errs) in outcomes {
        all.append(&mut r);
        failed.extend(errs);
    }
    if !failed.is_empty() && all.is_empty() {
        let forbidden = failed.iter().any(|e| e.kind == IoErrorKind::Forbidden);
        return Err(ClusterError::Cluster(format!(
            "every exec into the probers failed: {}{}",
            failed[0],
            if forbidden {
                format!(" — {RBAC_HINT}")
            } else {
                String::new()
            }
        )));
    }
    for e in failed {
        notes.push(format!(
            "a source could not be probed, its rows are errors: {e}"
        ));
    }
    Ok(all)
}

/// One plan by exec, with retries for probers that are not quite there yet.
async fn exec_plan<I: ClusterIo>(
    io: &I,
    namespace: &str,
    pod: &str,
    p: &Plan,
) -> Result<Vec<CheckResult>, IoError> {
    let json = serde_json::to_string(p).map_err(|e| IoError::other(e.to_string()))?;
    let argv = vec![
        AGENT.to_string(),
        "run".to_string(),
        "--plan-json".to_string(),
        json,
    ];
    let mut last = IoError::other("not run");
    for attempt in 0..3u32 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(500) * attempt).await;
        }
        let out =
            match tokio::time::timeout(plan_budget(p), io.exec(namespace, pod, CONTAINER, &argv))
                .await
            {
                Ok(Ok(out)) => out,
                Ok(Err(e)) if e.kind == IoErrorKind::Forbidden => return Err(e),
                Ok(Err(e)) => {
                    last = e;
                    continue;
                }
                Err(_) => {
                    last = IoError::other(format!(
                        "exec in {namespace}/{pod} took longer than {} s",
                        plan_budget(p).as_secs()
                    ));
                    continue;
                }
            };
        let (results, _) = parse_results(&out.stdout);
        if results.len() == p.checks.len() || (out.failure.is_none() && !results.is_empty()) {
            return Ok(results);
        }
        last = IoError::other(format!(
            "exec in {namespace}/{pod}: {} of {} results{}{}",
            results.len(),
            p.checks.len(),
            out.failure.map(|f| format!(", {f}")).unwrap_or_default(),
            if out.stderr.trim().is_empty() {
                String::new()
            } else {
                format!(": {}", out.stderr.trim())
            }
        ));
    }
    Err(last)
}

/// Deletes objects matching `selector` and waits until they are gone: pods get a 1 s grace
/// period; pods still listed 10 s later (kubelets can be slow to confirm, or lose track of a
/// pod deleted while its container starts) are deleted at once; after a minute, what is left is returned.
async fn delete_and_wait<I: ClusterIo>(
    io: &I,
    namespaces: Option<&[String]>,
    selector: &str,
    poll: Duration,
    pb: &indicatif::ProgressBar,
) -> Result<Vec<String>, IoError> {
    let total = io.list_labelled(namespaces, selector).await?.len();
    pb.set_length(total as u64);
    io.delete_labelled(namespaces, selector, false).await?;
    let started = Instant::now();
    let mut forced = false;
    loop {
        let left = io.list_labelled(namespaces, selector).await?;
        pb.set_position(total.saturating_sub(left.len()) as u64);
        if left.is_empty() || started.elapsed() > Duration::from_secs(60) {
            return Ok(left);
        }
        if !forced && started.elapsed() > Duration::from_secs(10) {
            io.delete_labelled(namespaces, selector, true).await?;
            forced = true;
        }
        tokio::time::sleep(poll).await;
    }
}

/// Deletes the run's objects with grace period 0 and does not wait for them to terminate:
/// the prober pods are owned by the run's ConfigMap, never ready (Services never route to
/// them) and stop by themselves (activeDeadlineSeconds), so what terminates after the probe
/// returns is harmless, and `kubectl netpol cleanup` finds anything left. Returns what could not
/// be deleted.
async fn cleanup<I: ClusterIo>(
    io: &I,
    namespaces: Option<&[String]>,
    run: &str,
    opts: &ClusterOptions,
) -> Vec<String> {
    let pb = bar(opts.progress, 1, "cleaning up");
    let selector = run_selector(Some(run));
    let left = match io.delete_labelled(namespaces, &selector, true).await {
        Ok(_) => Vec::new(),
        Err(e) => match io.list_labelled(namespaces, &selector).await {
            Ok(found) if !found.is_empty() => found,
            _ => vec![format!("(clean-up failed: {e})")],
        },
    };
    pb.finish_and_clear();
    left
}

/// `kubectl netpol cleanup`: removes every object of every run, in every namespace. Returns
/// what was found, and what is still there after waiting.
pub async fn cleanup_all<I: ClusterIo>(
    io: &I,
    progress: bool,
) -> Result<(Vec<String>, Vec<String>), ClusterError> {
    let selector = run_selector(None);
    let found = io.list_labelled(None, &selector).await.map_err(io_err)?;
    if found.is_empty() {
        return Ok((found, Vec::new()));
    }
    let pb = bar(progress, found.len() as u64, "cleaning up");
    let left = delete_and_wait(io, None, &selector, Duration::from_millis(500), &pb)
        .await
        .map_err(io_err)?;
    pb.finish_and_clear();
    Ok((found, left))
}

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
    let container_name = |parts: usize, c: usize| {
        if parts == 1 {
            format!("netpol-probe-{run}")
        } else {
            format!("netpol-probe-{run}-{c}")
        }
    };
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
    let work = async {
        let jobs = probe_plan.execs.iter().map(|e| {
            let pb = pb.clone();
            let p = &snap.pods[e.pod];
            let container_name = &container_name;
            async move {
                let mut results = Vec::new();
                for (c, part) in e.plans.iter().enumerate() {
                    let name = container_name(e.plans.len(), c);
                    let container =
                        ephemeral_container(&name, &opts.image, part).map_err(IoError::other)?;
                    io.add_ephemeral_container(&p.namespace, &p.name, &container)
                        .await?;
                    wait_ephemeral(io, &p.namespace, &p.name, &name, opts, plan_budget(part))
                        .await?;
                    let log = io.logs(&p.namespace, &p.name, &name).await?;
                    results.extend(parse_results(&log).0);
                }
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
    };
    let (results, failed) = tokio::select! {
        r = work => r?,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_terminating_namespace_is_reported_as_that_not_as_rbac() {
        let msg = |kind| match io_err(IoError::new(
            kind,
            "creating pod payments/p: forbidden (403)",
        )) {
            ClusterError::Cluster(m) => m,
            _ => String::new(),
        };
        let t = msg(IoErrorKind::NamespaceTerminating);
        assert!(t.contains("being deleted") && !t.contains("rbac"), "{t}");
        let f = msg(IoErrorKind::Forbidden);
        assert!(f.contains("manifests/rbac/probe-role.yaml"), "{f}");
    }

    #[test]
    fn waiting_looks_often_for_a_few_namespaces_and_backs_off_for_many_or_slow_starts() {
        let ms = Duration::from_millis;
        let fast = ms(100);
        assert_eq!(poll_interval(fast, 3, ms(0)), ms(100));
        assert_eq!(poll_interval(fast, 0, ms(0)), ms(100));
        assert_eq!(poll_interval(fast, 9, ms(0)), ms(300));
        assert_eq!(poll_interval(fast, 200, ms(0)), ms(1000));
        assert_eq!(poll_interval(fast, 3, Duration::from_secs(11)), ms(500));
        // A caller's shorter interval (tests) is honoured.
        assert_eq!(poll_interval(ms(20), 1, ms(0)), ms(20));
    }
}
