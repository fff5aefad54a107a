//! `probe --apply` / `--delete`: what a policy change should flip, and how long the network
//! took to do it. Pure: the change and the snapshots before and after, the pairs whose expected
//! verdict flips (the engine decides), the samples the probers stream, convergence (three
//! matching probes in a row), percentiles, and the `timing` document. The runners (`local`
//! sandbox, cluster) feed it.
//!
//! How a probe's instant is read: a probe that must now be denied matches at the moment it was
//! sent (it got no answer); a probe that must now connect matches at the moment it was sent when
//! its first packet was answered (latency under [`FIRST_PACKET_MS`]), else only when its answer
//! came (a retransmission may have crossed the change).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use netpol_prober::plan::{StreamEvent, StreamPlan, StreamResult};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::engine::matrix::Matrix;
use crate::engine::Engine;
use crate::model::{split_ref, ClusterKind, Direction, Probe, Snapshot, Source};

use super::compare::ProbeReport;

/// A connection answered faster than this was answered on its first packet.
pub const FIRST_PACKET_MS: f64 = 50.0;

/// Matching probes in a row that make a pair converged.
pub const IN_A_ROW: usize = 3;

/// Which policy a change is about: a NetworkPolicy, or a cluster-scoped policy
/// (ClusterNetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PolicyRef {
    Namespaced { namespace: String, name: String },
    Cluster { kind: ClusterKind, name: String },
}

impl PolicyRef {
    pub fn is_cluster(&self) -> bool {
        matches!(self, PolicyRef::Cluster { .. })
    }

    pub fn kind_name(&self) -> &'static str {
        match self {
            PolicyRef::Namespaced { .. } => "NetworkPolicy",
            PolicyRef::Cluster { kind, .. } => kind.kind(),
        }
    }

    /// `KIND NAME` as an error message names the object (`NetworkPolicy x/a`, `ClusterNetworkPolicy b`).
    pub fn described(&self) -> String {
        match self {
            PolicyRef::Namespaced { .. } => format!("NetworkPolicy {self}"),
            PolicyRef::Cluster { kind, name } => format!("{} {name}", kind.kind()),
        }
    }
}

/// `namespace/name`, or `cnp/NAME`, `anp/NAME`, `banp/NAME` as `explain policy` takes them.
impl fmt::Display for PolicyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyRef::Namespaced { namespace, name } => write!(f, "{namespace}/{name}"),
            PolicyRef::Cluster { kind, name } => write!(f, "{}/{name}", kind.short_name()),
        }
    }
}

/// A policy to apply, as written.
#[derive(Debug, Clone, PartialEq)]
pub struct RawPolicy {
    pub id: PolicyRef,
    /// The object, with `metadata.namespace` filled in for a NetworkPolicy.
    pub value: Value,
    pub source: Source,
}

impl RawPolicy {
    pub fn key(&self) -> String {
        self.id.to_string()
    }
}

/// What `--apply` and `--delete` ask for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChangeSet {
    pub applied: Vec<RawPolicy>,
    pub deleted: Vec<PolicyRef>,
}

impl ChangeSet {
    pub fn is_empty(&self) -> bool {
        self.applied.is_empty() && self.deleted.is_empty()
    }

    /// Every policy the change touches.
    pub fn refs(&self) -> Vec<PolicyRef> {
        let mut k: Vec<PolicyRef> = self.applied.iter().map(|r| r.id.clone()).collect();
        k.extend(self.deleted.iter().cloned());
        k.sort();
        k.dedup();
        k
    }

    /// The cluster-scoped policies in the change (the cluster runner applies NetworkPolicies
    /// only).
    pub fn cluster_refs(&self) -> Vec<PolicyRef> {
        self.refs()
            .into_iter()
            .filter(PolicyRef::is_cluster)
            .collect()
    }
}

/// Every NetworkPolicy and cluster-scoped policy in `paths` (files or directories, like `-f`),
/// as written; other kinds are an error when `only_policies` (for `--apply`), skipped otherwise
/// (the `-f` manifests).
pub fn read_policies(
    paths: &[PathBuf],
    default_ns: &str,
    only_policies: bool,
) -> Result<Vec<RawPolicy>, String> {
    let mut out = Vec::new();
    for path in paths {
        let files = crate::model::collect_files(path).map_err(|e| e.to_string())?;
        for file in files {
            let name = file.display().to_string();
            let text =
                std::fs::read_to_string(&file).map_err(|e| format!("{name}: cannot read: {e}"))?;
            for (i, doc) in serde_yaml::Deserializer::from_str(&text).enumerate() {
                let document = i + 1;
                let value = Value::deserialize(doc).map_err(|e| {
                    format!("{name} (document {document}): not valid YAML or JSON: {e}")
                })?;
                let items = match value.get("kind").and_then(Value::as_str) {
                    Some("List") => value
                        .get("items")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default(),
                    _ if value.is_null() => Vec::new(),
                    _ => vec![value],
                };
                for item in items {
                    let at = Source {
                        file: name.clone(),
                        document,
                    };
                    out.extend(raw_policy(item, at, default_ns, only_policies)?);
                }
            }
        }
    }
    Ok(out)
}

/// One object of a `-f`/`--apply` file as a policy to apply: None for another kind (an error
/// when `only_policies`); a NetworkPolicy gets its namespace written in.
fn raw_policy(
    mut item: Value,
    at: Source,
    default_ns: &str,
    only_policies: bool,
) -> Result<Option<RawPolicy>, String> {
    let (name, document) = (&at.file, at.document);
    let kind = item
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let obj_name = item
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    // Only the exact kind names, as the API (and the loader) takes them.
    let cluster_kind = ClusterKind::parse(&kind).filter(|c| c.kind() == kind);
    if kind != "NetworkPolicy" && cluster_kind.is_none() {
        if only_policies {
            return Err(format!(
                "{name} (document {document}): {} {obj_name}: --apply takes NetworkPolicy, ClusterNetworkPolicy, AdminNetworkPolicy and BaselineAdminNetworkPolicy objects only (field kind)",
                if kind.is_empty() { "an object without kind" } else { &kind }
            ));
        }
        return Ok(None);
    }
    if obj_name.is_empty() {
        return Err(format!(
            "{name} (document {document}): {kind} without metadata.name"
        ));
    }
    let id = match cluster_kind {
        Some(kind) => PolicyRef::Cluster {
            kind,
            name: obj_name,
        },
        None => {
            let ns = item
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or(default_ns)
                .to_string();
            if let Some(meta) = item.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.insert("namespace".into(), Value::String(ns.clone()));
            }
            PolicyRef::Namespaced {
                namespace: ns,
                name: obj_name,
            }
        }
    };
    Ok(Some(RawPolicy {
        id,
        value: item,
        source: at,
    }))
}

/// `--delete KIND/NAME`: a NetworkPolicy (NAME is `name` in `default_ns`, or
/// `namespace/name`), or a cluster-scoped policy (`cnp/NAME`, `anp/NAME`, `banp/default`, or
/// the kind or plural name).
pub fn parse_delete(spec: &str, default_ns: &str) -> Result<PolicyRef, String> {
    let (kind, rest) = spec.split_once('/').ok_or_else(|| {
        format!("--delete {spec:?}: write KIND/NAME, e.g. networkpolicy/deny-all or cnp/tenancy")
    })?;
    // `clusternetworkpolicy.policy.networking.k8s.io` as kubectl writes it.
    let short = kind
        .strip_suffix(".policy.networking.k8s.io")
        .unwrap_or(kind);
    if let Some(cluster) = ClusterKind::parse(short) {
        if rest.is_empty() || rest.contains('/') {
            return Err(format!(
                "--delete {spec:?}: a {} is cluster-scoped: write {}/NAME",
                cluster.kind(),
                cluster.short_name()
            ));
        }
        return Ok(PolicyRef::Cluster {
            kind: cluster,
            name: rest.to_string(),
        });
    }
    if !matches!(
        kind.to_ascii_lowercase().as_str(),
        "networkpolicy" | "networkpolicies" | "netpol" | "networkpolicy.networking.k8s.io"
    ) {
        return Err(format!(
            "--delete {spec:?}: kind {kind:?} is not supported (networkpolicy, or cnp, anp, banp)"
        ));
    }
    let (ns, name) = split_ref(rest, default_ns);
    if name.is_empty() || name.contains('/') {
        return Err(format!("--delete {spec:?}: no policy name"));
    }
    Ok(PolicyRef::Namespaced {
        namespace: ns.to_string(),
        name: name.to_string(),
    })
}

/// The snapshot once the change is in.
pub fn after_snapshot(before: &Snapshot, change: &ChangeSet) -> Result<Snapshot, String> {
    let mut after = before.clone();
    for id in &change.deleted {
        let found = match id {
            PolicyRef::Namespaced { namespace, name } => {
                let n = after.policies.len();
                after
                    .policies
                    .retain(|p| !(&p.namespace == namespace && &p.name == name));
                after.policies.len() != n
            }
            PolicyRef::Cluster { kind, name } => {
                let n = after.cluster_policies.len();
                after
                    .cluster_policies
                    .retain(|p| !(p.kind == *kind && &p.name == name));
                after.cluster_policies.len() != n
            }
        };
        if !found {
            // As --delete takes it: cluster refs already carry their kind.
            let spec = match id {
                PolicyRef::Namespaced { .. } => format!("networkpolicy/{id}"),
                PolicyRef::Cluster { .. } => id.to_string(),
            };
            return Err(format!(
                "--delete {spec}: there is no such {} in the manifests",
                id.kind_name()
            ));
        }
    }
    for raw in &change.applied {
        let field_error = |e: crate::model::FieldError| {
            format!(
                "{}: {}: field {}: {}",
                raw.source,
                raw.id.described(),
                e.field,
                e.message
            )
        };
        match &raw.id {
            PolicyRef::Namespaced { namespace, name } => {
                let policy =
                    crate::model::parse_policy_object(&raw.value, namespace, raw.source.clone())
                        .map_err(|(_, e)| field_error(e))?;
                after
                    .policies
                    .retain(|p| !(&p.namespace == namespace && &p.name == name));
                after.policies.push(policy);
            }
            PolicyRef::Cluster { kind, name } => {
                if raw.value.get("apiVersion").and_then(Value::as_str) != Some(kind.api_version()) {
                    return Err(format!(
                        "{}: {}: field apiVersion: use {}",
                        raw.source,
                        raw.id.described(),
                        kind.api_version()
                    ));
                }
                let policy = crate::model::parse_cluster_policy_object(
                    &raw.value,
                    *kind,
                    raw.source.clone(),
                )
                .map_err(|(_, e)| field_error(e))?;
                after
                    .cluster_policies
                    .retain(|p| !(p.kind == *kind && &p.name == name));
                after.cluster_policies.push(policy);
            }
        }
    }
    after.finish();
    Ok(after)
}

/// A connection whose expected verdict the change flips.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flip {
    /// Pod indices (the same in both snapshots: a change of policies keeps the pods).
    pub from: usize,
    pub to: usize,
    pub probe: Probe,
    pub before: bool,
    pub after: bool,
}

/// A connection the change's policies select but whose verdict does not move.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unflipped {
    pub from: String,
    pub to: String,
    pub protocol: String,
    pub port: u16,
    pub allowed: bool,
    /// What decided it instead.
    pub reason: String,
}

/// The changed policies (`refs`) that select the pod in this direction (cluster policies: whose
/// subject selects it and that have rules for the direction).
fn changed_policies_selecting(
    engine: &Engine<'_>,
    refs: &[PolicyRef],
    pod: usize,
    dir: Direction,
) -> Vec<String> {
    let namespaced = engine.isolating_pod(pod, dir).into_iter().map(|p| {
        let p = &engine.snap.policies[p];
        PolicyRef::Namespaced {
            namespace: p.namespace.clone(),
            name: p.name.clone(),
        }
    });
    let cluster = engine
        .cluster_selecting_pod(pod)
        .into_iter()
        .filter(|&p| !engine.snap.cluster_policies[p].rules(dir).is_empty())
        .map(|p| {
            let p = &engine.snap.cluster_policies[p];
            PolicyRef::Cluster {
                kind: p.kind,
                name: p.name.clone(),
            }
        });
    namespaced
        .chain(cluster)
        .filter(|r| refs.contains(r))
        .map(|r| r.to_string())
        .collect()
}

/// Why a connection the changed policies `by` select keeps its verdict.
fn unflipped_reason(allowed: bool, by: &[String]) -> String {
    if allowed {
        format!(
            "stays allowed: other rules allow it whatever {} say",
            by.join(", ")
        )
    } else {
        format!(
            "stays denied: it was denied before {} changed (another policy already denies it)",
            by.join(", ")
        )
    }
}

/// The connections the change flips, and those it touches without flipping.
pub fn flips(
    before: &Snapshot,
    after: &Snapshot,
    pods: &[usize],
    probes: &[Probe],
    change: &ChangeSet,
) -> (Vec<Flip>, Vec<Unflipped>) {
    let eb = Engine::new(before);
    let ea = Engine::new(after);
    let mb = Matrix::compute(&eb, pods, probes);
    let ma = Matrix::compute(&ea, pods, probes);
    let refs = change.refs();
    let touches = |engine: &Engine<'_>, pod: usize, dir: Direction| {
        changed_policies_selecting(engine, &refs, pod, dir)
    };
    let mut out = Vec::new();
    let mut same = Vec::new();
    for (i, &from) in mb.pods.iter().enumerate() {
        for (j, &to) in mb.pods.iter().enumerate() {
            if from == to {
                continue;
            }
            for (k, probe) in mb.probes.iter().enumerate() {
                let (b, a) = (mb.allowed(i, j, k), ma.allowed(i, j, k));
                if b != a {
                    out.push(Flip {
                        from,
                        to,
                        probe: *probe,
                        before: b,
                        after: a,
                    });
                    continue;
                }
                let mut by: Vec<String> = Vec::new();
                for s in [&eb, &ea] {
                    by.extend(touches(s, to, Direction::Ingress));
                    by.extend(touches(s, from, Direction::Egress));
                }
                by.sort();
                by.dedup();
                if by.is_empty() {
                    continue;
                }
                same.push(Unflipped {
                    from: before.pods[from].key(),
                    to: before.pods[to].key(),
                    protocol: probe.protocol.as_str().to_string(),
                    port: probe.port,
                    allowed: a,
                    reason: unflipped_reason(a, &by),
                });
            }
        }
    }
    (out, same)
}

/// One probe of a flipped pair, as streamed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// When it was sent (ms since the Unix epoch).
    pub sent_ms: f64,
    pub latency_ms: f64,
    /// Did the network let it through (None: error, says nothing).
    pub observed: Option<bool>,
}

impl Sample {
    /// The instant this sample shows the expectation `expected` holding, if it does.
    pub fn matches_at(&self, expected: bool) -> Option<f64> {
        match self.observed {
            Some(o) if o == expected => Some(if !expected || self.latency_ms < FIRST_PACKET_MS {
                self.sent_ms
            } else {
                self.sent_ms + self.latency_ms
            }),
            _ => None,
        }
    }
}

/// The instant (ms since the epoch) of the first of [`IN_A_ROW`] matching probes sent at or
/// after `t0`, judging only probes sent before `horizon` (later ones may still be in flight).
pub fn converged_at(samples: &[Sample], expected: bool, t0: f64, horizon: f64) -> Option<f64> {
    let mut s: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.sent_ms >= t0 && s.sent_ms <= horizon)
        .collect();
    s.sort_by(|a, b| a.sent_ms.total_cmp(&b.sent_ms));
    let mut run: Vec<f64> = Vec::new();
    for x in s {
        match x.matches_at(expected) {
            Some(at) => {
                run.push(at);
                if run.len() == IN_A_ROW {
                    return run.iter().copied().reduce(f64::min);
                }
            }
            None => run.clear(),
        }
    }
    None
}

/// The `q` quantile (nearest rank) of `values`; None when empty.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    Some(v[rank - 1])
}

/// What happened to an established flow of a pair the change denies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Established {
    /// It still carries traffic after the deny.
    Survived,
    /// It stopped carrying traffic.
    Cut,
    /// It could not be opened before the change.
    NotOpen,
}

/// One flipped pair in the `timing` block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairTiming {
    pub from: String,
    pub to: String,
    pub protocol: String,
    pub port: u16,
    pub allowed_before: bool,
    pub allowed_after: bool,
    /// What the network did before the change (None: no answer that says).
    pub observed_before: Option<bool>,
    pub converged: bool,
    /// From the API server (or the sandbox's enforcer) accepting the change to the first of
    /// three matching probes, in seconds.
    pub time_to_enforce_s: Option<f64>,
    /// Probes sent with new connections after the change.
    pub probes: usize,
    /// Pairs the change denies: did a connection opened before the change keep working?
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub established: Option<Established>,
    /// The transport of the established flow (a TCP connection kept open, or UDP on one 5-tuple).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub established_protocol: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimingSummary {
    pub flipped: usize,
    pub converged: usize,
    pub not_converged: usize,
    pub p50_s: Option<f64>,
    pub p95_s: Option<f64>,
    pub max_s: Option<f64>,
    pub established_survived: usize,
    pub established_cut: usize,
    /// Pairs the change's policies select whose verdict did not move.
    pub unflipped: usize,
    /// The enforcer's own figure (sandbox): from the change reaching the agent to its rules
    /// being in the kernel, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub enforcer_sync_latency_ms: Option<f64>,
}

/// `probe --apply -o json`: `timing`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimingDoc {
    /// When the change was accepted (ms since the Unix epoch).
    pub accepted_unix_ms: f64,
    pub interval_ms: u64,
    pub settle_s: f64,
    pub pairs: Vec<PairTiming>,
    pub summary: TimingSummary,
}

impl TimingDoc {
    pub fn new(
        accepted_unix_ms: f64,
        interval_ms: u64,
        settle_s: f64,
        pairs: Vec<PairTiming>,
        unflipped: usize,
        enforcer_sync_latency_ms: Option<f64>,
    ) -> TimingDoc {
        let times: Vec<f64> = pairs.iter().filter_map(|p| p.time_to_enforce_s).collect();
        let count = |e: Established| pairs.iter().filter(|p| p.established == Some(e)).count();
        let summary = TimingSummary {
            flipped: pairs.len(),
            converged: pairs.iter().filter(|p| p.converged).count(),
            not_converged: pairs.iter().filter(|p| !p.converged).count(),
            p50_s: quantile(&times, 0.5),
            p95_s: quantile(&times, 0.95),
            max_s: quantile(&times, 1.0),
            established_survived: count(Established::Survived),
            established_cut: count(Established::Cut),
            unflipped,
            enforcer_sync_latency_ms,
        };
        TimingDoc {
            accepted_unix_ms,
            interval_ms,
            settle_s,
            pairs,
            summary,
        }
    }

    /// 'enforced in 0.41 s (p95 0.62 s); 3 established flows survived'.
    pub fn verdict(&self) -> String {
        let s = &self.summary;
        let mut out = if s.flipped == 0 {
            "the change flips no probed connection".to_string()
        } else if s.not_converged > 0 {
            format!(
                "{} of {} flipped connections never matched their new expectation within {:.0} s",
                s.not_converged, s.flipped, self.settle_s
            )
        } else {
            format!(
                "enforced in {:.2} s (p95 {:.2} s)",
                s.p50_s.unwrap_or(0.0),
                s.p95_s.unwrap_or(0.0)
            )
        };
        let open = s.established_survived + s.established_cut;
        if open > 0 {
            out.push_str(&format!(
                "; {} established flow{} survived",
                s.established_survived,
                if s.established_survived == 1 { "" } else { "s" }
            ));
            if s.established_cut > 0 {
                out.push_str(&format!(", {} cut", s.established_cut));
            }
        }
        out
    }
}

/// What the change was, for the report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeDoc {
    pub applied: Vec<String>,
    pub deleted: Vec<String>,
}

/// `probe --apply -o json`: the probe document of the state after the change (every pair, so
/// the contract of `probe -o json` holds), plus the change, `timing`, the untouched pairs and
/// whether the previous policies were put back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplyReport {
    #[serde(flatten)]
    pub probe: ProbeReport,
    pub change: ChangeDoc,
    pub timing: TimingDoc,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub unflipped: Vec<Unflipped>,
    /// The previous policies are back (false with --keep, or when putting them back failed).
    pub restored: bool,
    /// Things the reader should know (pairs that disagreed before the change, ...).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub notes: Vec<String>,
    /// `--new-pod`: how long a pod started after the change could talk against its policies.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub new_pod: Option<NewPodWindow>,
}

/// `--new-pod`: one more prober started after the change, probing every other prober from its
/// first instant and probed by them as soon as its address is known.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewPodWindow {
    pub pod: String,
    /// The pod whose labels and ports it carries.
    pub mirrors: String,
    /// Its first probe (ms since the Unix epoch): its first instant, as near as it can tell.
    pub first_probe_unix_ms: Option<f64>,
    /// Probes its policies deny, from it and towards it.
    pub denied_out: usize,
    pub denied_in: usize,
    /// Of those, how many got through.
    pub leaked_out: usize,
    pub leaked_in: usize,
    /// From its first probe to the last denied probe that got through, in seconds (0: none got
    /// through; the goal).
    pub window_s: f64,
}

impl NewPodWindow {
    pub fn verdict(&self) -> String {
        if self.leaked_out + self.leaked_in == 0 {
            format!(
                "a new pod sent and received nothing its policies deny (window 0 s; {} denied probes)",
                self.denied_out + self.denied_in
            )
        } else {
            format!(
                "a new pod could talk against its policies for {:.2} s ({} of {} denied probes got through)",
                self.window_s,
                self.leaked_out + self.leaked_in,
                self.denied_out + self.denied_in
            )
        }
    }
}

impl ApplyReport {
    /// Exit 1: a flipped pair never converged, the state after the change disagrees with the
    /// engine, or (with `require_cut`) an established flow survived a deny.
    pub fn failed(&self, require_cut: bool) -> bool {
        let s = &self.timing.summary;
        let probe = self.probe.matrix.summary.as_ref();
        s.not_converged > 0
            || probe.is_some_and(|p| p.disagree > 0 || p.errors > 0)
            || (require_cut && s.established_survived > 0)
    }
}

/// Per pair: samples by the pair's index in `flips`.
pub type Samples = BTreeMap<usize, Vec<Sample>>;

/// What the streaming probers said, by flipped pair: checks are `c<N>`, flows `f<N>`, N the
/// pair's index in the flips.
#[derive(Debug, Default)]
pub struct Observed {
    pub samples: Samples,
    pub flows: BTreeMap<usize, Vec<Sample>>,
    pub flow_open: BTreeMap<usize, bool>,
    /// Probers that have opened their flows and started their rounds.
    pub started: usize,
}

impl Observed {
    pub fn take(&mut self, r: StreamResult) {
        let index = |id: &str, p: char| id.strip_prefix(p).and_then(|n| n.parse::<usize>().ok());
        let sample = Sample {
            sent_ms: r.sent_unix_ms,
            latency_ms: r.latency_ms,
            observed: r.verdict.and_then(super::compare::observed_of),
        };
        match r.event {
            StreamEvent::Started => self.started += 1,
            StreamEvent::Check => {
                if let Some(i) = index(&r.id, 'c') {
                    self.samples.entry(i).or_default().push(sample);
                }
            }
            StreamEvent::FlowOpen => {
                if let Some(i) = index(&r.id, 'f') {
                    self.flow_open.insert(
                        i,
                        r.verdict == Some(netpol_prober::plan::Verdict::Connected),
                    );
                }
            }
            StreamEvent::Flow => {
                if let Some(i) = index(&r.id, 'f') {
                    self.flows.entry(i).or_default().push(sample);
                }
            }
        }
    }

    /// How many flipped pairs have converged, judging probes sent before `horizon`.
    pub fn converged(&self, flipped: &[Flip], t0: f64, horizon: f64) -> usize {
        flipped
            .iter()
            .enumerate()
            .filter(|(n, f)| {
                converged_at(
                    self.samples.get(n).map_or(&[][..], Vec::as_slice),
                    f.after,
                    t0,
                    horizon,
                )
                .is_some()
            })
            .count()
    }
}

/// The stream plans: for each source pod of a flipped pair, its checks (`c<N>`) and, for the
/// pairs the change denies, an established flow (`f<N>`; TCP and UDP).
pub fn stream_plans(
    snap: &Snapshot,
    flipped: &[Flip],
    interval_ms: u64,
    timeout_ms: u64,
    concurrency: usize,
) -> BTreeMap<usize, StreamPlan> {
    let mut plans: BTreeMap<usize, StreamPlan> = BTreeMap::new();
    for (n, f) in flipped.iter().enumerate() {
        let Some(ip) = snap.pods[f.to].ips.first() else {
            continue;
        };
        let plan = plans.entry(f.from).or_insert_with(|| StreamPlan {
            interval_ms,
            timeout_ms: timeout_ms.max(1),
            concurrency: concurrency.max(1),
            checks: Vec::new(),
            flows: Vec::new(),
        });
        plan.checks
            .push(super::connection_check(format!("c{n}"), *ip, f.probe));
        if f.before && !f.after && f.probe.protocol != crate::model::Protocol::Sctp {
            plan.flows
                .push(super::connection_check(format!("f{n}"), *ip, f.probe));
        }
    }
    plans
}

/// Per flipped pair: its timing and established flow; plus notes on pairs that already behaved
/// as after the change before it.
pub fn pair_timings(
    snap: &Snapshot,
    flipped: &[Flip],
    seen: &Observed,
    t0: f64,
    horizon: f64,
) -> (Vec<PairTiming>, Vec<String>) {
    let key = |p: usize| snap.pods[p].key();
    let mut pairs = Vec::new();
    let mut notes = Vec::new();
    for (n, f) in flipped.iter().enumerate() {
        let samples = seen.samples.get(&n).map_or(&[][..], Vec::as_slice);
        let at = converged_at(samples, f.after, t0, horizon);
        let observed_before = samples
            .iter()
            .filter(|s| s.sent_ms + s.latency_ms < t0)
            .max_by(|a, b| a.sent_ms.total_cmp(&b.sent_ms))
            .and_then(|s| s.observed);
        if observed_before.is_some_and(|o| o != f.before) {
            notes.push(format!(
                "{} -> {} {}: already {} before the change (expected {})",
                key(f.from),
                key(f.to),
                f.probe,
                if f.before { "denied" } else { "allowed" },
                if f.before { "allowed" } else { "denied" }
            ));
        }
        let established = established_of(seen, n, f, at.unwrap_or(t0));
        pairs.push(PairTiming {
            from: key(f.from),
            to: key(f.to),
            protocol: f.probe.protocol.as_str().to_string(),
            port: f.probe.port,
            allowed_before: f.before,
            allowed_after: f.after,
            observed_before,
            converged: at.is_some(),
            time_to_enforce_s: at.map(|a| ((a - t0) / 1000.0).max(0.0)),
            probes: samples.iter().filter(|s| s.sent_ms >= t0).count(),
            established,
            established_protocol: established.map(|_| f.probe.protocol.as_str().to_string()),
        });
    }
    (pairs, notes)
}

/// Did the pair's flow keep carrying traffic once the pair had converged (or the settle time
/// ended)? Only pairs the change denies have a flow.
fn established_of(seen: &Observed, n: usize, f: &Flip, from: f64) -> Option<Established> {
    if !f.before || f.after || f.probe.protocol == crate::model::Protocol::Sctp {
        return None;
    }
    if seen.flow_open.get(&n) != Some(&true) {
        return Some(Established::NotOpen);
    }
    let flow = seen.flows.get(&n).map_or(&[][..], Vec::as_slice);
    let last = flow
        .iter()
        .filter(|s| s.sent_ms >= from)
        .max_by(|a, b| a.sent_ms.total_cmp(&b.sent_ms))
        .or_else(|| flow.iter().max_by(|a, b| a.sent_ms.total_cmp(&b.sent_ms)));
    Some(match last.and_then(|s| s.observed) {
        Some(true) => Established::Survived,
        _ => Established::Cut,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(sent: f64, observed: bool) -> Sample {
        Sample {
            sent_ms: sent,
            latency_ms: 1.0,
            observed: Some(observed),
        }
    }

    #[test]
    fn three_in_a_row_after_the_change() {
        let samples = vec![
            s(900.0, false), // before t0: ignored
            s(1000.0, true),
            s(1100.0, false),
            s(1200.0, false),
            s(1300.0, true), // breaks the run
            s(1400.0, false),
            s(1500.0, false),
            s(1600.0, false),
        ];
        assert_eq!(converged_at(&samples, false, 1000.0, 2000.0), Some(1400.0));
        // Not yet judged: the third is past the horizon.
        assert_eq!(converged_at(&samples, false, 1000.0, 1550.0), None);
        // Arrival order does not matter.
        let mut rev = samples.clone();
        rev.reverse();
        assert_eq!(converged_at(&rev, false, 1000.0, 2000.0), Some(1400.0));
    }

    #[test]
    fn a_slow_connect_counts_when_its_answer_came() {
        let slow = Sample {
            sent_ms: 1000.0,
            latency_ms: 1000.0,
            observed: Some(true),
        };
        assert_eq!(slow.matches_at(true), Some(2000.0));
        assert_eq!(s(1000.0, true).matches_at(true), Some(1000.0));
        assert_eq!(s(1000.0, true).matches_at(false), None);
        let err = Sample {
            observed: None,
            ..slow
        };
        assert_eq!(err.matches_at(false), None);
    }

    #[test]
    fn quantiles_by_nearest_rank() {
        let v = [0.3, 0.1, 0.2, 0.4];
        assert_eq!(quantile(&v, 0.5), Some(0.2));
        assert_eq!(quantile(&v, 0.95), Some(0.4));
        assert_eq!(quantile(&v, 1.0), Some(0.4));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn delete_specs() {
        let shown = |s: &str| parse_delete(s, "x").map(|r| r.to_string());
        assert_eq!(shown("networkpolicy/a").unwrap(), "x/a");
        assert_eq!(shown("netpol/y/a").unwrap(), "y/a");
        assert!(shown("pod/a").unwrap_err().contains("pod"));
        assert!(shown("a").is_err());
        // Cluster-scoped kinds, by short, kind or plural name; no namespace.
        assert_eq!(shown("cnp/tenancy").unwrap(), "cnp/tenancy");
        assert_eq!(
            shown("clusternetworkpolicy.policy.networking.k8s.io/tenancy").unwrap(),
            "cnp/tenancy"
        );
        assert_eq!(shown("AdminNetworkPolicy/guard").unwrap(), "anp/guard");
        assert_eq!(
            shown("baselineadminnetworkpolicies/default").unwrap(),
            "banp/default"
        );
        assert!(shown("cnp/x/tenancy")
            .unwrap_err()
            .contains("cluster-scoped"));
        assert!(parse_delete("cnp/a", "x").unwrap().is_cluster());
        // A namespace called cnp is still a namespace for a NetworkPolicy.
        assert_eq!(
            parse_delete("networkpolicy/cnp/a", "x").unwrap(),
            PolicyRef::Namespaced {
                namespace: "cnp".into(),
                name: "a".into()
            }
        );
    }

    const BASE: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: x, labels: {app: web}}
spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: x, labels: {app: db}}
spec: {containers: [{name: c, image: i, ports: [{containerPort: 5432}]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-only-web, namespace: x}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}]}]
"#;

    fn deny_all() -> RawPolicy {
        let value: Value = serde_yaml::from_str(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny-all, namespace: x}\nspec: {podSelector: {}, policyTypes: [Ingress]}\n",
        )
        .unwrap();
        RawPolicy {
            id: PolicyRef::Namespaced {
                namespace: "x".into(),
                name: "deny-all".into(),
            },
            value,
            source: Source::default(),
        }
    }

    #[test]
    fn the_engine_says_which_pairs_flip_and_which_were_decided_already() {
        let (before, _) = crate::model::load_str("b.yaml", BASE, &Default::default()).unwrap();
        let pods: Vec<usize> = (0..before.pods.len()).collect();
        let probes = [Probe::new(crate::model::Protocol::Tcp, 80)];
        let change = ChangeSet {
            applied: vec![deny_all()],
            deleted: vec![],
        };
        let after = after_snapshot(&before, &change).unwrap();
        let (f, same) = flips(&before, &after, &pods, &probes, &change);
        // db -> web flips (web was not isolated); web -> db was allowed by db-only-web and stays.
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(before.pods[f[0].from].name, "db");
        assert!(f[0].before && !f[0].after);
        assert_eq!(same.len(), 1, "{same:?}");
        assert_eq!(same[0].from, "x/web");
        assert!(same[0].allowed && same[0].reason.contains("x/deny-all"));

        // Deleting it again flips the pair back; deleting what is not there is an error.
        let back = ChangeSet {
            applied: vec![],
            deleted: vec![parse_delete("networkpolicy/x/deny-all", "default").unwrap()],
        };
        let restored = after_snapshot(&after, &back).unwrap();
        let (f2, _) = flips(&after, &restored, &pods, &probes, &back);
        assert_eq!(f2.len(), 1);
        assert!(!f2[0].before && f2[0].after);
        assert!(after_snapshot(&before, &back)
            .unwrap_err()
            .contains("x/deny-all"));
    }

    #[test]
    fn verdict_line() {
        let pair = |t: Option<f64>, e: Option<Established>| PairTiming {
            from: "a".into(),
            to: "b".into(),
            protocol: "TCP".into(),
            port: 80,
            allowed_before: true,
            allowed_after: false,
            observed_before: Some(true),
            converged: t.is_some(),
            time_to_enforce_s: t,
            probes: 10,
            established: e,
            established_protocol: None,
        };
        let doc = TimingDoc::new(
            0.0,
            100,
            30.0,
            vec![
                pair(Some(0.41), Some(Established::Survived)),
                pair(Some(0.62), Some(Established::Survived)),
                pair(Some(0.3), Some(Established::Survived)),
            ],
            0,
            None,
        );
        assert_eq!(
            doc.verdict(),
            "enforced in 0.41 s (p95 0.62 s); 3 established flows survived"
        );
        let doc = TimingDoc::new(0.0, 100, 30.0, vec![pair(None, None)], 0, None);
        assert!(doc.verdict().contains("never matched"), "{}", doc.verdict());
    }
}
