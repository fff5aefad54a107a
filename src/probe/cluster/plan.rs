//! The pure part of a cluster probe: which prober pods to make and their specs, the exec plans
//! (one per source, every target in it), the expected side computed for the probers as they
//! really run, and the assembly of observed results into the report. No I/O here.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{BuildHasher, Hasher};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, Container, ContainerPort as K8sPort, EphemeralContainer,
    Pod as K8sPod, PodReadinessGate, PodSecurityContext, PodSpec, ResourceRequirements,
    SeccompProfile, SecurityContext, Service, Sysctl,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use netpol_prober::plan::{Check, CheckKind, CheckResult, Plan, Verdict};

use crate::doc::matrix::{Connection, MatrixDoc};
use crate::engine::matrix::Matrix;
use crate::engine::{Endpoint, Engine, Traffic};
use crate::model::{ContainerPort, Labels, Pod, Probe, Protocol, Snapshot};
use crate::probe::compare::{compare, observed_of, DnsRow, ProbeReport};
use crate::probe::connection_check;

pub use crate::model::RUN_LABEL;
/// Annotation on a prober pod: the real pods it stands for.
pub const MIRRORS_ANNOTATION: &str = "netpol.kubectl.io/mirrors";
/// The readiness gate of prober pods. Nothing ever sets this condition, so a prober is never
/// Ready and no Service sends it traffic.
pub const NEVER_READY: &str = "netpol.kubectl.io/never-ready";
/// The prober's container name in prober pods.
pub const CONTAINER: &str = "prober";
/// The agent inside the image (`prober/Dockerfile`).
pub const AGENT: &str = "/netpol-prober";
/// The default prober image (`prober/Dockerfile`, published with each release).
pub const DEFAULT_IMAGE: &str = concat!(
    "ghcr.io/kubectl-netpol/netpol-prober:",
    env!("CARGO_PKG_VERSION")
);
/// The non-root user the prober runs as (distroless "nonroot").
pub const PROBER_UID: i64 = 65532;
/// The sysctl that lets a non-root process bind ports below 1024 (safe since Kubernetes 1.22).
pub const LOW_PORT_SYSCTL: &str = "net.ipv4.ip_unprivileged_port_start";
pub use crate::model::{DNS_LABEL, DNS_NAMESPACE};
/// The name every source resolves to check the cluster DNS.
pub const CLUSTER_DNS_NAME: &str = "kubernetes.default";
/// A plan larger than this (as JSON) is split into several execs for one source: the plan
/// travels as an argument in the exec URL (API servers before 1.29 cannot close an exec's
/// stdin, so `--plan -` would never see the end of it).
pub const MAX_PLAN_BYTES: usize = 200_000;

/// A short random id for one run: lower-case letters and digits, valid in names and labels.
pub fn new_run_id() -> String {
    let mut h = RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    let mut n = h.finish();
    let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut id = String::with_capacity(8);
    // Start with a letter so the id is also a valid DNS label on its own.
    id.push(alphabet[(n % 26) as usize] as char);
    n /= 26;
    for _ in 0..7 {
        id.push(alphabet[(n % 36) as usize] as char);
        n /= 36;
    }
    id
}

/// The per-run object in each namespace that owns that namespace's prober pods.
pub fn owner_name(run: &str) -> String {
    format!("netpol-probe-{run}")
}

pub fn prober_name(run: &str, index: usize) -> String {
    format!("netpol-probe-{run}-{index}")
}

/// `netpol.kubectl.io/run=<run>`, or every run when `run` is None.
pub fn run_selector(run: Option<&str>) -> String {
    match run {
        Some(r) => format!("{RUN_LABEL}={r}"),
        None => RUN_LABEL.to_string(),
    }
}

/// Real pods that policies cannot tell apart: same namespace, labels and declared container
/// ports. One prober stands for all of them (twenty replicas need one prober).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub namespace: String,
    pub labels: Labels,
    /// Sorted, without repeats.
    pub ports: Vec<ContainerPort>,
    /// Snapshot indices of the pods, sorted by name.
    pub members: Vec<usize>,
}

impl Group {
    /// The row name of the group: its first pod.
    pub fn display(&self, snap: &Snapshot) -> String {
        snap.pods[self.members[0]].key()
    }
}

/// Groups the pods in scope (hostNetwork pods are not endpoints and are left out).
pub fn group_pods(snap: &Snapshot, pods: &[usize]) -> Vec<Group> {
    let mut groups: BTreeMap<(String, Labels, Vec<ContainerPort>), Vec<usize>> = BTreeMap::new();
    for &i in pods {
        let p = &snap.pods[i];
        if p.host_network {
            continue;
        }
        let mut ports = p.ports.clone();
        ports.sort();
        ports.dedup();
        groups
            .entry((p.namespace.clone(), p.labels.clone(), ports))
            .or_default()
            .push(i);
    }
    let mut out: Vec<Group> = groups
        .into_iter()
        .map(|((namespace, labels, ports), mut members)| {
            members.sort_by(|a, b| snap.pods[*a].name.cmp(&snap.pods[*b].name));
            members.dedup();
            Group {
                namespace,
                labels,
                ports,
                members,
            }
        })
        .collect();
    out.sort_by_key(|g| g.display(snap));
    out
}

/// What every prober pod of a run shares.
#[derive(Debug, Clone)]
pub struct ProberSettings {
    pub run: String,
    pub image: String,
    /// What the probers listen on: every probed port.
    pub probes: Vec<Probe>,
    /// activeDeadlineSeconds: the pods stop by themselves after this, even if the CLI died.
    pub deadline: Duration,
}

/// The per-namespace owner of a run's prober pods. Deleting it deletes them (garbage
/// collection of a namespaced owner and dependents in the same namespace).
pub fn owner_config_map(run: &str, namespace: &str) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(owner_name(run)),
            namespace: Some(namespace.to_string()),
            labels: Some(BTreeMap::from([(RUN_LABEL.to_string(), run.to_string())])),
            ..Default::default()
        },
        data: Some(BTreeMap::from([(
            "purpose".to_string(),
            "owner of the prober pods of one `kubectl netpol probe` run; deleting it deletes them; `kubectl netpol cleanup` removes it".to_string(),
        )])),
        ..Default::default()
    }
}

/// `serve --tcp 80,8080 --udp 53 --sctp 9000` for the probed ports.
pub fn serve_args(probes: &[Probe]) -> Vec<String> {
    let mut args = vec!["serve".to_string()];
    for (flag, proto) in [
        ("--tcp", Protocol::Tcp),
        ("--udp", Protocol::Udp),
        ("--sctp", Protocol::Sctp),
    ] {
        let ports: BTreeSet<u16> = probes
            .iter()
            .filter(|p| p.protocol == proto)
            .map(|p| p.port)
            .collect();
        if !ports.is_empty() {
            args.push(flag.to_string());
            args.push(
                ports
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
            );
        }
    }
    args
}

/// The declared ports of a prober: the group's, made valid for one container (port names are
/// unique per container, and so are port/protocol pairs).
pub fn prober_ports(group: &Group) -> Vec<K8sPort> {
    let mut names = BTreeSet::new();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for p in &group.ports {
        if !seen.insert((p.port, p.protocol)) {
            continue;
        }
        let name = p.name.clone().filter(|n| names.insert(n.clone()));
        out.push(K8sPort {
            name,
            container_port: i32::from(p.port),
            protocol: Some(p.protocol.as_str().to_string()),
            ..Default::default()
        });
    }
    out
}

fn mirrors_text(group: &Group, snap: &Snapshot) -> String {
    const MAX: usize = 10;
    let mut names: Vec<String> = group
        .members
        .iter()
        .take(MAX)
        .map(|&m| snap.pods[m].name.clone())
        .collect();
    if group.members.len() > MAX {
        names.push(format!("(+{} more)", group.members.len() - MAX));
    }
    names.join(",")
}

fn restricted_security_context() -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".to_string()]),
            ..Default::default()
        }),
        read_only_root_filesystem: Some(true),
        run_as_non_root: Some(true),
        run_as_user: Some(PROBER_UID),
        run_as_group: Some(PROBER_UID),
        ..Default::default()
    }
}

/// The prober pod that stands for `group`: same namespace, labels (plus the run label) and
/// declared ports; owned (as controller) by the run's ConfigMap so no ReplicaSet adopts it;
/// never Ready (readiness gate) so no Service routes to it; non-root, with the safe sysctl for
/// ports below 1024; stopped by activeDeadlineSeconds if nobody cleans up.
pub fn prober_pod(
    group: &Group,
    index: usize,
    owner: &ConfigMap,
    settings: &ProberSettings,
    snap: &Snapshot,
) -> K8sPod {
    let mut labels = group.labels.clone();
    labels.insert(RUN_LABEL.to_string(), settings.run.clone());
    let low_ports = settings.probes.iter().any(|p| p.port < 1024);
    let owner_ref = OwnerReference {
        api_version: "v1".to_string(),
        kind: "ConfigMap".to_string(),
        name: owner.metadata.name.clone().unwrap_or_default(),
        uid: owner.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: None,
    };
    let mut args = serve_args(&settings.probes);
    args.remove(0);
    K8sPod {
        metadata: ObjectMeta {
            name: Some(prober_name(&settings.run, index)),
            namespace: Some(group.namespace.clone()),
            labels: Some(labels),
            annotations: Some(BTreeMap::from([
                (MIRRORS_ANNOTATION.to_string(), mirrors_text(group, snap)),
                // No mesh sidecar: the probe is about the network's L3/L4 policy, and a proxy
                // would answer (or hold) connections in the prober's place.
                ("sidecar.istio.io/inject".to_string(), "false".to_string()),
                ("linkerd.io/inject".to_string(), "disabled".to_string()),
            ])),
            owner_references: Some(vec![owner_ref]),
            ..Default::default()
        },
        spec: Some(PodSpec {
            containers: vec![Container {
                name: CONTAINER.to_string(),
                image: Some(settings.image.clone()),
                image_pull_policy: Some("IfNotPresent".to_string()),
                command: Some(vec![AGENT.to_string(), "serve".to_string()]),
                args: Some(args),
                ports: Some(prober_ports(group)).filter(|p| !p.is_empty()),
                security_context: Some(restricted_security_context()),
                resources: Some(ResourceRequirements {
                    requests: Some(BTreeMap::from([
                        ("cpu".to_string(), Quantity("10m".to_string())),
                        ("memory".to_string(), Quantity("16Mi".to_string())),
                    ])),
                    limits: Some(BTreeMap::from([
                        ("cpu".to_string(), Quantity("200m".to_string())),
                        ("memory".to_string(), Quantity("64Mi".to_string())),
                    ])),
                    ..Default::default()
                }),
                termination_message_policy: Some("FallbackToLogsOnError".to_string()),
                ..Default::default()
            }],
            readiness_gates: Some(vec![PodReadinessGate {
                condition_type: NEVER_READY.to_string(),
            }]),
            active_deadline_seconds: Some(settings.deadline.as_secs().max(1) as i64),
            restart_policy: Some("Never".to_string()),
            termination_grace_period_seconds: Some(1),
            automount_service_account_token: Some(false),
            enable_service_links: Some(false),
            node_selector: Some(BTreeMap::from([(
                "kubernetes.io/os".to_string(),
                "linux".to_string(),
            )])),
            security_context: Some(PodSecurityContext {
                run_as_non_root: Some(true),
                run_as_user: Some(PROBER_UID),
                run_as_group: Some(PROBER_UID),
                seccomp_profile: Some(SeccompProfile {
                    type_: "RuntimeDefault".to_string(),
                    ..Default::default()
                }),
                sysctls: low_ports.then(|| {
                    vec![Sysctl {
                        name: LOW_PORT_SYSCTL.to_string(),
                        value: "0".to_string(),
                    }]
                }),
                ..Default::default()
            }),
            ..Default::default()
        }),
        status: None,
    }
}

/// activeDeadlineSeconds for the probers: time to start, the probing itself (sources in waves
/// of `parallel_sources`, each with its checks in waves of `concurrency`, every attempt up to
/// `timeout`), and a margin; at least 10 minutes, at most 6 hours.
pub fn deadline(
    start_timeout: Duration,
    sources: usize,
    checks_per_source: usize,
    timeout: Duration,
    concurrency: usize,
    retries: u32,
    parallel_sources: usize,
) -> Duration {
    let waves = sources.div_ceil(parallel_sources.max(1)) as u64;
    let rounds = checks_per_source.div_ceil(concurrency.max(1)).max(1) as u64;
    let per_source =
        timeout.saturating_mul((rounds * u64::from(retries + 1)) as u32) + Duration::from_secs(10);
    let total = start_timeout + per_source.saturating_mul(waves as u32) + Duration::from_secs(300);
    total.clamp(Duration::from_secs(600), Duration::from_secs(6 * 3600))
}

/// An endpoint outside the cluster: `--to IP:PORT` (TCP), `--to udp/IP:PORT`, `[IPv6]:PORT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct External {
    pub probe: Probe,
    pub ip: IpAddr,
}

impl External {
    pub fn parse(text: &str) -> Result<External, String> {
        let t = text.trim();
        let (protocol, rest) = match t.split_once('/') {
            Some((p, rest)) if !p.contains(':') && !p.contains('.') => (
                Protocol::parse(p).ok_or_else(|| {
                    format!("unknown protocol {p:?} in {t:?}: use tcp, udp or sctp, e.g. udp/10.0.0.1:53")
                })?,
                rest,
            ),
            _ => (Protocol::Tcp, t),
        };
        let addr: SocketAddr = rest.parse().map_err(|_| {
            format!(
                "{t:?} is not IP:PORT (e.g. 169.254.169.254:80, udp/8.8.8.8:53, [2001:db8::1]:443)"
            )
        })?;
        if addr.port() == 0 {
            return Err(format!("{t:?}: the port must be between 1 and 65535"));
        }
        Ok(External {
            probe: Probe::new(protocol, addr.port()),
            ip: addr.ip(),
        })
    }
}

/// The cluster DNS: the pods behind it (for the expected side) and how rows name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsTarget {
    pub server: String,
    /// Snapshot indices of the DNS pods.
    pub pods: Vec<usize>,
}

/// The cluster DNS pods of the snapshot (kube-system, k8s-app=kube-dns), if any are known.
pub fn dns_target(snap: &Snapshot) -> Option<DnsTarget> {
    let pods: Vec<usize> = snap
        .pods
        .iter()
        .enumerate()
        .filter(|(_, p)| {
            p.namespace == DNS_NAMESPACE
                && p.labels.get(DNS_LABEL.0).map(String::as_str) == Some(DNS_LABEL.1)
                && !p.labels.contains_key(RUN_LABEL)
        })
        .map(|(i, _)| i)
        .collect();
    (!pods.is_empty()).then(|| DnsTarget {
        server: format!("{DNS_NAMESPACE}/kube-dns"),
        pods,
    })
}

/// What a Service needs to be for DNS rows and for the "would it route to probers" warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceInfo {
    pub namespace: String,
    pub name: String,
    /// Empty: the Service has no selector (its endpoints are managed by hand).
    pub selector: BTreeMap<String, String>,
    pub publish_not_ready: bool,
}

pub fn service_info(s: &Service) -> ServiceInfo {
    let spec = s.spec.clone().unwrap_or_default();
    ServiceInfo {
        namespace: s.metadata.namespace.clone().unwrap_or_default(),
        name: s.metadata.name.clone().unwrap_or_default(),
        selector: spec.selector.unwrap_or_default(),
        publish_not_ready: spec.publish_not_ready_addresses == Some(true),
    }
}

fn service_selects(s: &ServiceInfo, namespace: &str, labels: &Labels) -> bool {
    s.namespace == namespace
        && !s.selector.is_empty()
        && s.selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// The names each source resolves: the cluster DNS check, then `svc.ns` for every Service that
/// selects a probed pod.
pub fn dns_names(services: &[ServiceInfo], groups: &[Group]) -> Vec<String> {
    let mut names = vec![CLUSTER_DNS_NAME.to_string()];
    let mut svc: BTreeSet<String> = BTreeSet::new();
    for s in services {
        if groups
            .iter()
            .any(|g| service_selects(s, &g.namespace, &g.labels))
        {
            svc.insert(format!("{}.{}", s.name, s.namespace));
        }
    }
    names.extend(svc);
    names
}

/// Services that publish not-ready addresses send traffic to probers despite the readiness
/// gate: say so before making them.
pub fn not_ready_service_warnings(services: &[ServiceInfo], groups: &[Group]) -> Vec<String> {
    services
        .iter()
        .filter(|s| s.publish_not_ready)
        .filter(|s| {
            groups
                .iter()
                .any(|g| service_selects(s, &g.namespace, &g.labels))
        })
        .map(|s| {
            format!(
                "Service {}/{} publishes not-ready addresses: while the probe runs it also lists the prober pods that mirror its pods (they accept TCP and echo it, and echo UDP)",
                s.namespace, s.name
            )
        })
        .collect()
}

/// The snapshot the expected side is judged on: the real pods that probers stand for are
/// replaced by the probers as they really run (their labels, declared ports and IPs), each named
/// after the first pod of its group. `probers[i]` is the running prober of `groups[i]`.
/// Returns the snapshot and the probers' indices in it, in group order.
pub fn mirror_snapshot(
    base: &Snapshot,
    groups: &[Group],
    probers: &[Pod],
) -> (Snapshot, Vec<usize>) {
    let replaced: BTreeSet<usize> = groups.iter().flat_map(|g| g.members.clone()).collect();
    let mut snap = base.clone();
    snap.pods = base
        .pods
        .iter()
        .enumerate()
        .filter(|(i, _)| !replaced.contains(i))
        .map(|(_, p)| p.clone())
        .collect();
    let names: Vec<String> = groups
        .iter()
        .map(|g| base.pods[g.members[0]].name.clone())
        .collect();
    for (p, name) in probers.iter().zip(&names) {
        let mut p = p.clone();
        p.name = name.clone();
        snap.pods.push(p);
    }
    snap.finish();
    let endpoints = groups
        .iter()
        .zip(&names)
        .filter_map(|(g, name)| {
            snap.pods
                .iter()
                .position(|p| p.namespace == g.namespace && &p.name == name)
        })
        .collect();
    (snap, endpoints)
}

/// How the checks are run.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    pub timeout: Duration,
    pub concurrency: usize,
    /// Re-runs of a check that ended in `error` (a prober still starting).
    pub retries: u32,
    pub externals: Vec<External>,
    /// Names each source resolves through the cluster DNS (empty: no DNS rows). The DNS pods
    /// are found in the snapshot the plan is built on ([`dns_target`]).
    pub dns_names: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Connection(usize),
    Dns(usize),
}

/// The exec of one source: the plans it runs (one, unless it is huge).
#[derive(Debug, Clone, PartialEq)]
pub struct SourceExec {
    /// Snapshot index of the source pod.
    pub pod: usize,
    pub plans: Vec<Plan>,
}

/// Everything a run needs after the probers are up: the expected document, the exec per source,
/// and which check fills which row.
#[derive(Debug, Clone)]
pub struct ProbePlan {
    /// The expected matrix; `--to` rows follow the pod-to-pod connections.
    pub doc: MatrixDoc,
    pub dns: Vec<DnsRow>,
    pub execs: Vec<SourceExec>,
    slots: HashMap<String, Slot>,
}

impl ProbePlan {
    /// Checks over every exec.
    pub fn check_count(&self) -> usize {
        self.execs
            .iter()
            .flat_map(|e| &e.plans)
            .map(|p| p.checks.len())
            .sum()
    }
}

/// DNS works for `from` when it may reach one of the DNS pods on UDP 53.
fn dns_allowed(engine: &Engine<'_>, from: usize, dns: &DnsTarget) -> bool {
    dns.pods.iter().any(|&d| {
        engine
            .verdict(&Traffic {
                from: Endpoint::Pod(from),
                to: Endpoint::Pod(d),
                probe: Probe::new(Protocol::Udp, 53),
            })
            .allowed
    })
}

/// Splits a plan so that each part's JSON stays under `max_bytes` (a single check always fits
/// in one part).
pub fn split_plan(plan: Plan, max_bytes: usize) -> Vec<Plan> {
    let size = |p: &Plan| serde_json::to_string(p).map(|s| s.len()).unwrap_or(0);
    if size(&plan) <= max_bytes || plan.checks.len() <= 1 {
        return vec![plan];
    }
    let empty = Plan {
        checks: Vec::new(),
        ..plan.clone()
    };
    let mut parts = Vec::new();
    let mut current = empty.clone();
    let overhead = size(&current);
    let mut used = overhead;
    for c in plan.checks {
        let c_size = serde_json::to_string(&c).map(|s| s.len() + 1).unwrap_or(0);
        if !current.checks.is_empty() && used + c_size > max_bytes {
            parts.push(std::mem::replace(&mut current, empty.clone()));
            used = overhead;
        }
        used += c_size;
        current.checks.push(c);
    }
    if !current.checks.is_empty() {
        parts.push(current);
    }
    parts
}

/// The expected side and the exec plans for `endpoints` (snapshot indices that carry IPs): every
/// endpoint probes every endpoint (itself included) on every probe, then the `--to` endpoints,
/// then resolves the DNS names. The expected side comes from the engine on `snap`, so it judges
/// the pods exactly as they are (their own addresses for ipBlock).
pub fn build_plan(
    snap: &Snapshot,
    endpoints: &[usize],
    probes: &[Probe],
    opts: &PlanOptions,
) -> ProbePlan {
    let engine = Engine::new(snap);
    let matrix = Matrix::compute(&engine, endpoints, probes);
    let mut doc = MatrixDoc::from_matrix(&matrix, snap);
    let pods = matrix.pods.clone();
    let mut slots = HashMap::new();
    let mut dns_rows = Vec::new();
    let mut per_source: Vec<Vec<Check>> = vec![Vec::new(); pods.len()];

    for (i, checks) in per_source.iter_mut().enumerate() {
        for (j, &to) in pods.iter().enumerate() {
            let Some(ip) = snap.pods[to].ips.first() else {
                continue;
            };
            for (k, probe) in probes.iter().enumerate() {
                let idx = doc.index(i, j, k);
                let id = format!("c{idx}");
                slots.insert(id.clone(), Slot::Connection(idx));
                checks.push(connection_check(id, *ip, *probe));
            }
        }
    }
    for (i, &from) in pods.iter().enumerate() {
        for ext in &opts.externals {
            let idx = doc.connections.len();
            let verdict = engine.verdict(&Traffic {
                from: Endpoint::Pod(from),
                to: Endpoint::Ip(ext.ip),
                probe: ext.probe,
            });
            doc.connections.push(Connection {
                from: doc.pods[i].clone(),
                to: ext.ip.to_string(),
                protocol: ext.probe.protocol.as_str().to_string(),
                port: ext.probe.port,
                allowed: verdict.allowed,
                ambiguous: verdict.ambiguous,
                observed: None,
                verdict: None,
                agree: None,
                reason: None,
                explain: None,
            });
            let id = format!("c{idx}");
            slots.insert(id.clone(), Slot::Connection(idx));
            per_source[i].push(connection_check(id, ext.ip, ext.probe));
        }
    }
    let dns = dns_target(snap).filter(|_| !opts.dns_names.is_empty());
    if let Some(dns) = &dns {
        for (i, &from) in pods.iter().enumerate() {
            let allowed = dns_allowed(&engine, from, dns);
            for name in &opts.dns_names {
                let idx = dns_rows.len();
                dns_rows.push(DnsRow {
                    from: doc.pods[i].clone(),
                    server: dns.server.clone(),
                    name: name.clone(),
                    allowed,
                    observed: None,
                    verdict: "error".to_string(),
                    agree: None,
                    addresses: Vec::new(),
                });
                let id = format!("d{idx}");
                slots.insert(id.clone(), Slot::Dns(idx));
                // No server: the pod's own resolv.conf (search list included), as the
                // application in the pod would resolve.
                per_source[i].push(Check {
                    id,
                    kind: CheckKind::Dns,
                    host: None,
                    port: None,
                    name: Some(name.clone()),
                    server: None,
                });
            }
        }
    }
    let timeout_ms =
        (opts.timeout.as_millis() as u64).clamp(1, netpol_prober::plan::MAX_TIMEOUT_MS);
    let execs = pods
        .iter()
        .zip(per_source)
        .map(|(&pod, checks)| SourceExec {
            pod,
            plans: split_plan(
                Plan {
                    timeout_ms,
                    concurrency: opts.concurrency.max(1),
                    retries: opts.retries,
                    checks,
                },
                MAX_PLAN_BYTES,
            ),
        })
        .collect();
    ProbePlan {
        doc,
        dns: dns_rows,
        execs,
        slots,
    }
}

/// Fills the observed side from the prober's results (any order, any source) and compares.
/// A row without a result (its exec failed) counts as an error.
pub fn assemble(plan: ProbePlan, results: &[CheckResult]) -> ProbeReport {
    let ProbePlan {
        doc,
        mut dns,
        slots,
        ..
    } = plan;
    let mut observed: Vec<Option<Verdict>> = vec![None; doc.connections.len()];
    for r in results {
        match slots.get(&r.id) {
            Some(Slot::Connection(i)) => observed[*i] = Some(r.verdict),
            Some(Slot::Dns(i)) => {
                let row = &mut dns[*i];
                row.observed = observed_of(r.verdict);
                row.verdict = r.verdict.as_str().to_string();
                row.addresses = r.addresses.clone();
            }
            None => {}
        }
    }
    compare(doc, &observed, dns)
}

/// For `--in-place`: the ephemeral container that runs one plan inside a real pod, as
/// `kubectl debug` does. It runs the plan and exits; its output is read from its log. It stays
/// in the pod's spec (terminated) until the pod is replaced: ephemeral containers cannot be
/// removed.
pub fn ephemeral_container(
    name: &str,
    image: &str,
    plan: &Plan,
) -> Result<EphemeralContainer, String> {
    let json = serde_json::to_string(plan).map_err(|e| format!("cannot encode the plan: {e}"))?;
    Ok(EphemeralContainer {
        name: name.to_string(),
        image: Some(image.to_string()),
        image_pull_policy: Some("IfNotPresent".to_string()),
        command: Some(vec![
            AGENT.to_string(),
            "run".to_string(),
            "--plan-json".to_string(),
            json,
        ]),
        security_context: Some(restricted_security_context()),
        termination_message_policy: Some("FallbackToLogsOnError".to_string()),
        ..Default::default()
    })
}

/// Parses the prober's JSON lines; lines that are not results are skipped and counted.
pub fn parse_results(stdout: &str) -> (Vec<CheckResult>, usize) {
    let mut out = Vec::new();
    let mut bad = 0;
    for line in stdout.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match serde_json::from_str::<CheckResult>(line) {
            Ok(r) => out.push(r),
            Err(_) => bad += 1,
        }
    }
    (out, bad)
}

/// Does a prober's log show that every listener is bound?
pub fn ready_line(log: &str) -> Option<&str> {
    log.lines().find(|l| l.contains("\"ready\":true"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{load_str, LoadOptions};

    const PAYMENTS: &str = include_str!("../../../manifests/examples/payments/cluster.yaml");
    const POLICIES: &str = include_str!("../../../manifests/examples/payments/policies.yaml");

    fn payments() -> Snapshot {
        let text = format!("{PAYMENTS}\n---\n{POLICIES}");
        load_str(
            "payments.yaml",
            &text,
            &LoadOptions {
                default_namespace: "default".into(),
                ..Default::default()
            },
        )
        .unwrap()
        .0
    }

    fn in_namespaces(snap: &Snapshot, ns: &[&str]) -> Vec<usize> {
        snap.endpoint_pods()
            .filter(|(_, p)| ns.contains(&p.namespace.as_str()))
            .map(|(i, _)| i)
            .collect()
    }

    /// Twenty replicas of web in frontend: the same labels and ports as `web`.
    fn with_replicas(mut snap: Snapshot, n: usize) -> Snapshot {
        let web = snap.pods.iter().find(|p| p.name == "web").unwrap().clone();
        for i in 0..n {
            let mut p = web.clone();
            p.name = format!("web-{i:02}");
            p.ips = vec![IpAddr::from([10, 244, 3, 20 + i as u8])];
            snap.pods.push(p);
        }
        snap.finish();
        snap
    }

    fn settings(probes: Vec<Probe>) -> ProberSettings {
        ProberSettings {
            run: "abc12345".into(),
            image: "localhost/netpol-prober:dev".into(),
            probes,
            deadline: Duration::from_secs(900),
        }
    }

    fn owner_with_uid(ns: &str) -> ConfigMap {
        let mut cm = owner_config_map("abc12345", ns);
        cm.metadata.uid = Some(format!("uid-{ns}"));
        cm
    }

    #[test]
    fn run_ids_are_short_distinct_and_valid_labels() {
        let ids: BTreeSet<String> = (0..50).map(|_| new_run_id()).collect();
        assert_eq!(ids.len(), 50);
        for id in &ids {
            assert_eq!(id.len(), 8);
            assert!(id.chars().next().unwrap().is_ascii_lowercase());
            assert!(id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        }
    }

    #[test]
    fn twenty_replicas_need_one_prober() {
        let snap = with_replicas(payments(), 20);
        let scope = in_namespaces(&snap, &["payments", "monitoring", "frontend"]);
        assert_eq!(scope.len(), 24);
        let groups = group_pods(&snap, &scope);
        let names: Vec<String> = groups.iter().map(|g| g.display(&snap)).collect();
        assert_eq!(
            names,
            [
                "frontend/web",
                "monitoring/prometheus",
                "payments/api",
                "payments/db"
            ]
        );
        assert_eq!(groups[0].members.len(), 21);
        // A different port is a different group: a named port could mean another number.
        let mut snap2 = snap.clone();
        let i = snap2.pods.iter().position(|p| p.name == "web-03").unwrap();
        snap2.pods[i].ports[0].port = 8080;
        let groups2 = group_pods(&snap2, &scope);
        assert_eq!(groups2.len(), 5);
        // So is a different label.
        let mut snap3 = snap.clone();
        snap3.pods[i].labels.insert("canary".into(), "true".into());
        assert_eq!(group_pods(&snap3, &scope).len(), 5);
    }

    #[test]
    fn host_network_pods_get_no_prober() {
        let mut snap = payments();
        let i = snap
            .pods
            .iter()
            .position(|p| p.name == "prometheus")
            .unwrap();
        snap.pods[i].host_network = true;
        let all: Vec<usize> = (0..snap.pods.len()).collect();
        let groups = group_pods(&snap, &all);
        assert!(groups
            .iter()
            .all(|g| g.display(&snap) != "monitoring/prometheus"));
    }

    #[test]
    fn prober_pod_mirrors_identity_and_never_takes_traffic() {
        let snap = payments();
        let scope = in_namespaces(&snap, &["payments"]);
        let groups = group_pods(&snap, &scope);
        let api = &groups[0];
        assert_eq!(api.display(&snap), "payments/api");
        let probes = vec![
            Probe::new(Protocol::Tcp, 8080),
            Probe::new(Protocol::Tcp, 9090),
            Probe::new(Protocol::Udp, 53),
            Probe::new(Protocol::Tcp, 5432),
        ];
        let pod = prober_pod(
            api,
            0,
            &owner_with_uid("payments"),
            &settings(probes),
            &snap,
        );
        let meta = &pod.metadata;
        assert_eq!(meta.name.as_deref(), Some("netpol-probe-abc12345-0"));
        assert_eq!(meta.namespace.as_deref(), Some("payments"));
        let labels = meta.labels.clone().unwrap();
        assert_eq!(labels.get("app").map(String::as_str), Some("api"));
        assert_eq!(labels.get(RUN_LABEL).map(String::as_str), Some("abc12345"));
        assert_eq!(labels.len(), 2);
        let annotations = meta.annotations.clone().unwrap();
        assert_eq!(annotations[MIRRORS_ANNOTATION], "api");
        assert_eq!(annotations["sidecar.istio.io/inject"], "false");
        let owner = &meta.owner_references.as_ref().unwrap()[0];
        assert_eq!(
            (owner.kind.as_str(), owner.name.as_str(), owner.uid.as_str()),
            ("ConfigMap", "netpol-probe-abc12345", "uid-payments")
        );
        assert_eq!(
            owner.controller,
            Some(true),
            "a controller ref: no ReplicaSet adopts it"
        );

        let spec = pod.spec.unwrap();
        assert_eq!(
            spec.readiness_gates.unwrap()[0].condition_type,
            NEVER_READY,
            "never Ready: Services never route to it"
        );
        assert_eq!(spec.active_deadline_seconds, Some(900));
        assert_eq!(spec.restart_policy.as_deref(), Some("Never"));
        assert_eq!(spec.automount_service_account_token, Some(false));
        assert_eq!(spec.host_network, None);
        let psc = spec.security_context.unwrap();
        assert_eq!(psc.run_as_non_root, Some(true));
        assert_eq!(psc.run_as_user, Some(65532));
        let sysctls = psc.sysctls.unwrap();
        assert_eq!(sysctls[0].name, LOW_PORT_SYSCTL);
        assert_eq!(sysctls[0].value, "0");

        assert_eq!(spec.containers.len(), 1);
        let c = &spec.containers[0];
        assert_eq!(c.image.as_deref(), Some("localhost/netpol-prober:dev"));
        assert_eq!(c.command.clone().unwrap(), ["/netpol-prober", "serve"]);
        assert_eq!(
            c.args.clone().unwrap(),
            ["--tcp", "5432,8080,9090", "--udp", "53"]
        );
        let ports: Vec<(Option<String>, i32, Option<String>)> = c
            .ports
            .clone()
            .unwrap()
            .into_iter()
            .map(|p| (p.name, p.container_port, p.protocol))
            .collect();
        assert_eq!(
            ports,
            [
                (Some("http".into()), 8080, Some("TCP".into())),
                (Some("metrics".into()), 9090, Some("TCP".into()))
            ]
        );
        let sc = c.security_context.clone().unwrap();
        assert_eq!(sc.allow_privilege_escalation, Some(false));
        assert_eq!(sc.capabilities.unwrap().drop.unwrap(), ["ALL"]);
        assert_eq!(c.readiness_probe, None);
    }

    #[test]
    fn no_sysctl_without_low_ports() {
        let snap = payments();
        let groups = group_pods(&snap, &in_namespaces(&snap, &["payments"]));
        let pod = prober_pod(
            &groups[0],
            0,
            &owner_with_uid("payments"),
            &settings(vec![Probe::new(Protocol::Tcp, 8080)]),
            &snap,
        );
        assert_eq!(
            pod.spec.unwrap().security_context.unwrap().sysctls,
            None,
            "1.20 clusters reject the sysctl unless allowed: only ask when needed"
        );
    }

    #[test]
    fn prober_ports_are_valid_for_one_container() {
        let g = Group {
            namespace: "x".into(),
            labels: Labels::new(),
            ports: vec![
                ContainerPort {
                    name: Some("web".into()),
                    port: 80,
                    protocol: Protocol::Tcp,
                },
                ContainerPort {
                    name: Some("web".into()),
                    port: 81,
                    protocol: Protocol::Tcp,
                },
                ContainerPort {
                    name: Some("dup".into()),
                    port: 80,
                    protocol: Protocol::Tcp,
                },
                ContainerPort {
                    name: None,
                    port: 80,
                    protocol: Protocol::Udp,
                },
            ],
            members: vec![0],
        };
        let ports: Vec<(Option<String>, i32)> = prober_ports(&g)
            .into_iter()
            .map(|p| (p.name, p.container_port))
            .collect();
        assert_eq!(ports, [(Some("web".into()), 80), (None, 81), (None, 80)]);
    }

    #[test]
    fn owner_is_labelled_for_cleanup() {
        let cm = owner_config_map("r1", "payments");
        assert_eq!(cm.metadata.name.as_deref(), Some("netpol-probe-r1"));
        assert_eq!(
            cm.metadata
                .labels
                .unwrap()
                .get(RUN_LABEL)
                .map(String::as_str),
            Some("r1")
        );
        assert_eq!(run_selector(Some("r1")), "netpol.kubectl.io/run=r1");
        assert_eq!(run_selector(None), "netpol.kubectl.io/run");
    }

    #[test]
    fn deadline_grows_with_work_and_is_bounded() {
        let small = deadline(
            Duration::from_secs(180),
            4,
            20,
            Duration::from_secs(1),
            256,
            2,
            8,
        );
        assert_eq!(small, Duration::from_secs(600));
        let big = deadline(
            Duration::from_secs(180),
            400,
            4000,
            Duration::from_secs(2),
            16,
            2,
            8,
        );
        assert!(big > Duration::from_secs(3600), "{big:?}");
        assert!(big <= Duration::from_secs(6 * 3600));
    }

    #[test]
    fn externals_parse() {
        let e = External::parse("169.254.169.254:80").unwrap();
        assert_eq!(e.probe, Probe::new(Protocol::Tcp, 80));
        assert_eq!(e.ip.to_string(), "169.254.169.254");
        let e = External::parse("udp/8.8.8.8:53").unwrap();
        assert_eq!(e.probe, Probe::new(Protocol::Udp, 53));
        let e = External::parse("[2001:db8::1]:443").unwrap();
        assert!(e.ip.is_ipv6());
        assert!(External::parse("example.com:80").is_err());
        assert!(External::parse("10.0.0.1").is_err());
        assert!(External::parse("10.0.0.1:0").is_err());
        assert!(External::parse("icmp/10.0.0.1:1")
            .unwrap_err()
            .contains("icmp"));
    }

    fn service(ns: &str, name: &str, sel: &[(&str, &str)], not_ready: bool) -> ServiceInfo {
        ServiceInfo {
            namespace: ns.into(),
            name: name.into(),
            selector: sel
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            publish_not_ready: not_ready,
        }
    }

    #[test]
    fn dns_names_are_the_cluster_and_the_targets_services() {
        let snap = payments();
        let groups = group_pods(&snap, &in_namespaces(&snap, &["payments", "frontend"]));
        let services = vec![
            service("payments", "api", &[("app", "api")], false),
            service("payments", "other", &[("app", "nothing")], false),
            service("frontend", "web", &[("app", "web")], true),
            service("frontend", "manual", &[], false),
            service("monitoring", "prometheus", &[("app", "prometheus")], false),
        ];
        assert_eq!(
            dns_names(&services, &groups),
            ["kubernetes.default", "api.payments", "web.frontend"]
        );
        let warnings = not_ready_service_warnings(&services, &groups);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("frontend/web"), "{warnings:?}");
    }

    /// The probers as the API would report them once running: same labels plus the run label,
    /// their own IPs.
    fn running_probers(snap: &Snapshot, groups: &[Group]) -> Vec<Pod> {
        groups
            .iter()
            .enumerate()
            .map(|(i, g)| {
                let mut p = snap.pods[g.members[0]].clone();
                p.name = prober_name("abc12345", i);
                p.labels.insert(RUN_LABEL.into(), "abc12345".into());
                p.ips = vec![IpAddr::from([10, 244, 9, 1 + i as u8])];
                p
            })
            .collect()
    }

    fn plan_options() -> PlanOptions {
        PlanOptions {
            timeout: Duration::from_millis(1500),
            concurrency: 64,
            retries: 2,
            externals: vec![External::parse("10.0.0.1:443").unwrap()],
            dns_names: vec!["kubernetes.default".into(), "api.payments".into()],
        }
    }

    #[test]
    fn exec_plans_one_per_source_with_every_target() {
        let snap = with_replicas(payments(), 3);
        let scope = in_namespaces(&snap, &["payments", "monitoring", "frontend"]);
        let groups = group_pods(&snap, &scope);
        let probers = running_probers(&snap, &groups);
        let (msnap, endpoints) = mirror_snapshot(&snap, &groups, &probers);
        assert_eq!(endpoints.len(), 4);
        // The replaced replicas are gone; the DNS pod (not in scope) stays.
        assert!(msnap.pods.iter().all(|p| !p.name.starts_with("web-")));
        assert!(msnap.pods.iter().any(|p| p.name == "coredns"));
        let opts = plan_options();
        assert_eq!(dns_target(&msnap).unwrap().pods.len(), 1);
        let probes = vec![
            Probe::new(Protocol::Tcp, 8080),
            Probe::new(Protocol::Udp, 53),
        ];
        let plan = build_plan(&msnap, &endpoints, &probes, &opts);
        assert_eq!(
            plan.doc.pods,
            [
                "frontend/web",
                "monitoring/prometheus",
                "payments/api",
                "payments/db"
            ]
        );
        // Pod-to-pod connections first (the contract's layout), then the --to rows.
        assert_eq!(plan.doc.connections.len(), 4 * 4 * 2 + 4);
        assert_eq!(plan.doc.connections[32].to, "10.0.0.1");
        assert_eq!(plan.execs.len(), 4);
        for e in &plan.execs {
            assert_eq!(e.plans.len(), 1);
            let p = &e.plans[0];
            assert_eq!((p.timeout_ms, p.concurrency, p.retries), (1500, 64, 2));
            // 4 targets x 2 probes + 1 external + 2 DNS names.
            assert_eq!(p.checks.len(), 11);
            p.validate().unwrap();
            let hosts: BTreeSet<&str> = p.checks.iter().filter_map(|c| c.host.as_deref()).collect();
            assert!(hosts.contains("10.244.9.1") && hosts.contains("10.0.0.1"));
            assert!(p
                .checks
                .iter()
                .any(|c| c.kind == CheckKind::Dns && c.server.is_none()));
        }
        assert_eq!(plan.dns.len(), 8);
        assert_eq!(plan.check_count(), 44);
        // payments pods may reach kube-system on UDP 53 (allow-dns-egress); the others are
        // not isolated for egress.
        assert!(plan.dns.iter().all(|d| d.allowed));
    }

    #[test]
    fn expected_side_judges_the_probers_own_addresses() {
        // An ipBlock that covers the real pod's address but not the prober's: the expected side
        // must follow the prober (it is the one sending packets).
        let text = format!(
            "{PAYMENTS}\n---\n{}",
            r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-block, namespace: payments}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
  ingress:
    - from: [{ipBlock: {cidr: 10.244.3.10/32}}]
"#
        );
        let snap = load_str(
            "x.yaml",
            &text,
            &LoadOptions {
                default_namespace: "default".into(),
                ..Default::default()
            },
        )
        .unwrap()
        .0;
        let scope = in_namespaces(&snap, &["payments", "frontend"]);
        let groups = group_pods(&snap, &scope);
        let probers = running_probers(&snap, &groups);
        let (msnap, endpoints) = mirror_snapshot(&snap, &groups, &probers);
        let probes = vec![Probe::new(Protocol::Tcp, 5432)];
        let mut opts = plan_options();
        opts.externals.clear();
        let plan = build_plan(&msnap, &endpoints, &probes, &opts);
        let web_to_db = plan
            .doc
            .connections
            .iter()
            .find(|c| c.from == "frontend/web" && c.to == "payments/db")
            .unwrap();
        assert!(
            !web_to_db.allowed,
            "the real web (10.244.3.10) would be allowed, its prober (10.244.9.1) is not"
        );
    }

    fn result(id: &str, verdict: Verdict) -> CheckResult {
        CheckResult {
            id: id.into(),
            kind: CheckKind::Tcp,
            host: None,
            port: None,
            name: None,
            verdict,
            latency_ms: 1.0,
            detail: None,
            addresses: vec![],
        }
    }

    #[test]
    fn assembly_compares_and_names_an_unenforcing_cni() {
        let snap = payments();
        let scope = in_namespaces(&snap, &["payments", "monitoring", "frontend"]);
        let groups = group_pods(&snap, &scope);
        let probers = running_probers(&snap, &groups);
        let (msnap, endpoints) = mirror_snapshot(&snap, &groups, &probers);
        let opts = plan_options();
        let probes = vec![
            Probe::new(Protocol::Tcp, 8080),
            Probe::new(Protocol::Tcp, 5432),
        ];
        let plan = build_plan(&msnap, &endpoints, &probes, &opts);
        // A CNI that enforces nothing: every connection gets through; one source's exec failed.
        let failed: BTreeSet<String> = plan.execs[0].plans[0]
            .checks
            .iter()
            .map(|c| c.id.clone())
            .collect();
        let results: Vec<CheckResult> = plan
            .execs
            .iter()
            .flat_map(|e| &e.plans)
            .flat_map(|p| &p.checks)
            .filter(|c| !failed.contains(&c.id))
            .map(|c| {
                let mut r = result(&c.id, Verdict::Connected);
                if c.kind == CheckKind::Dns {
                    r.kind = CheckKind::Dns;
                    r.addresses = vec!["10.96.0.1".into()];
                }
                r
            })
            .collect();
        let expected_denied = plan
            .doc
            .connections
            .iter()
            .filter(|c| !c.allowed && c.from != "frontend/web")
            .count();
        let report = assemble(plan, &results);
        let s = report.matrix.summary.clone().unwrap();
        assert_eq!(s.disagree, expected_denied);
        assert_eq!(s.errors, failed.len());
        assert!(
            report.verdict.contains("policies are NOT enforced")
                && report.verdict.contains("install-enforcer"),
            "{}",
            report.verdict
        );
        let row = report
            .dns
            .iter()
            .find(|d| d.from == "payments/api" && d.name == "api.payments")
            .unwrap();
        assert_eq!(row.verdict, "connected");
        assert_eq!(row.agree, Some(true));
        assert_eq!(row.addresses, ["10.96.0.1"]);
        let ext = report
            .matrix
            .connections
            .iter()
            .find(|c| c.from == "payments/api" && c.to == "10.0.0.1")
            .unwrap();
        assert!(!ext.allowed, "api's egress allows only db:5432");
        assert_eq!(ext.agree, Some(false));
    }

    #[test]
    fn big_plans_are_split_under_the_limit() {
        let checks: Vec<Check> = (0..1000)
            .map(|i| Check {
                id: format!("c{i}"),
                kind: CheckKind::Tcp,
                host: Some("10.244.200.200".into()),
                port: Some(65000),
                name: None,
                server: None,
            })
            .collect();
        let plan = Plan {
            timeout_ms: 1000,
            concurrency: 8,
            retries: 1,
            checks,
        };
        let parts = split_plan(plan.clone(), 10_000);
        assert!(parts.len() > 1);
        assert_eq!(parts.iter().map(|p| p.checks.len()).sum::<usize>(), 1000);
        for p in &parts {
            assert!(serde_json::to_string(p).unwrap().len() <= 10_000);
            assert_eq!((p.timeout_ms, p.concurrency, p.retries), (1000, 8, 1));
        }
        assert_eq!(split_plan(plan, MAX_PLAN_BYTES).len(), 1);
    }

    #[test]
    fn ephemeral_container_runs_the_plan_and_exits() {
        let plan = Plan {
            timeout_ms: 1000,
            concurrency: 8,
            retries: 0,
            checks: vec![],
        };
        let c = ephemeral_container("netpol-probe-r1", "img:1", &plan).unwrap();
        let cmd = c.command.unwrap();
        assert_eq!(&cmd[..3], ["/netpol-prober", "run", "--plan-json"]);
        assert_eq!(Plan::from_json(&cmd[3]).unwrap(), plan);
        assert_eq!(c.security_context.unwrap().run_as_non_root, Some(true));
    }

    #[test]
    fn prober_output_is_parsed_and_ready_is_seen() {
        let out = "{\"id\":\"c1\",\"kind\":\"tcp\",\"verdict\":\"timeout\",\"latency_ms\":1000.0}\nnoise\n\n";
        let (r, bad) = parse_results(out);
        assert_eq!((r.len(), bad), (1, 1));
        assert_eq!(r[0].verdict, Verdict::Timeout);
        assert!(ready_line("{\"ready\":true,\"listening\":[\"tcp/80\"]}\n").is_some());
        assert!(ready_line("netpol-prober: cannot bind tcp/80\n").is_none());
    }
}
