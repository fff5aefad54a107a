//! The checker: builds the snapshot a lab is judged on (the lab's namespaces and pods, the user's
//! policies, the modelled cluster DNS), binds the lab's pod names to pods of that snapshot, and
//! asks the engine about every check. No NetworkPolicy semantics here: verdicts, reasons and
//! near misses all come from `engine`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::advice::{Advisor, CheckContext, EngineFacts};
use super::spec::{Lab, Target};
use super::LabError;
use crate::engine::explain::{HalfJson, TrafficExplanation};
use crate::engine::{Endpoint, Engine, Traffic};
use crate::model::{
    dns_ports, load_str, ClusterPolicy, Labels, LoadOptions, Namespace, Pod, PodOrigin, Policy,
    Probe, Protocol, Snapshot, Source, DNS_LABEL, NAMESPACE_NAME_LABEL,
};

/// The cluster DNS the labs assume (manifests/labs/README.md, "Checks"): never created by a lab.
pub use crate::model::DNS_NAMESPACE;
pub const DNS_POD: &str = "coredns";
/// A DNS check asks whether the pod may reach the DNS pod on this probe.
pub const DNS_PROBE: Probe = Probe {
    protocol: Protocol::Udp,
    port: 53,
};

/// The modelled CoreDNS pod: kube-system/coredns, k8s-app=kube-dns, ports dns UDP 53 and
/// dns-tcp TCP 53.
pub fn dns_pod() -> Pod {
    Pod {
        namespace: DNS_NAMESPACE.into(),
        name: DNS_POD.into(),
        labels: Labels::from([(DNS_LABEL.0.to_string(), DNS_LABEL.1.to_string())]),
        ports: dns_ports(),
        ips: Vec::new(),
        host_network: false,
        node: None,
        origin: PodOrigin::Pod,
        source: Source {
            file: "the cluster DNS the labs assume".into(),
            document: 0,
        },
    }
}

/// Adds namespace kube-system (if missing) and the modelled DNS pod, then finishes the snapshot.
pub fn add_cluster_dns(snap: &mut Snapshot) {
    snap.namespaces
        .entry(DNS_NAMESPACE.to_string())
        .or_insert_with(|| Namespace {
            name: DNS_NAMESPACE.into(),
            labels: Labels::from([(NAMESPACE_NAME_LABEL.to_string(), DNS_NAMESPACE.to_string())]),
            declared: true,
        });
    if !snap
        .pods
        .iter()
        .any(|p| p.namespace == DNS_NAMESPACE && p.name == DNS_POD)
    {
        snap.pods.push(dns_pod());
    }
    snap.finish();
}

/// setup.yaml as the offline loader reads it.
pub fn setup_snapshot(lab: &Lab) -> Result<Snapshot, LabError> {
    load_str(
        &format!("{}/setup.yaml", lab.folder),
        &lab.setup,
        &LoadOptions::default(),
    )
    .map(|(snap, _)| snap)
    .map_err(|e| LabError::Catalogue(e.to_string()))
}

/// A learner's answer: NetworkPolicies, and cluster policies (ClusterNetworkPolicy,
/// AdminNetworkPolicy, BaselineAdminNetworkPolicy) for the labs about the cluster tiers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    pub policies: Vec<Policy>,
    pub cluster_policies: Vec<ClusterPolicy>,
}

impl Answer {
    pub fn of_policies(policies: &[Policy]) -> Answer {
        Answer {
            policies: policies.to_vec(),
            cluster_policies: Vec::new(),
        }
    }

    /// The policies of a snapshot (the learner's -f manifests).
    pub fn of_snapshot(snap: &Snapshot) -> Answer {
        Answer {
            policies: snap.policies.clone(),
            cluster_policies: snap.cluster_policies.clone(),
        }
    }

    pub fn len(&self) -> usize {
        self.policies.len() + self.cluster_policies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// setup.yaml with `policies` applied on top, as `kubectl apply` would do it (a policy with the
/// namespace and name of a setup policy replaces it), plus the cluster DNS.
pub fn offline_snapshot(lab: &Lab, policies: &[Policy]) -> Result<Snapshot, LabError> {
    offline_snapshot_of(lab, &Answer::of_policies(policies))
}

/// As `offline_snapshot`, for an answer that may hold cluster policies (one of the same kind
/// and name as a setup one replaces it).
pub fn offline_snapshot_of(lab: &Lab, answer: &Answer) -> Result<Snapshot, LabError> {
    let mut snap = setup_snapshot(lab)?;
    for p in &answer.policies {
        snap.policies
            .retain(|s| !(s.namespace == p.namespace && s.name == p.name));
        snap.policies.push(p.clone());
    }
    for cp in &answer.cluster_policies {
        snap.cluster_policies
            .retain(|s| !(s.kind == cp.kind && s.name == cp.name));
        snap.cluster_policies.push(cp.clone());
    }
    add_cluster_dns(&mut snap);
    Ok(snap)
}

/// Which pod of the snapshot stands for each pod the lab names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bindings {
    /// Lab pod (`ns/name` as setup.yaml names it) → index into `Snapshot::pods`.
    pub pods: BTreeMap<String, usize>,
    /// The DNS pod.
    pub dns: usize,
}

fn lab_pods(lab: &Lab) -> Vec<String> {
    let mut v: Vec<String> = lab
        .checks
        .iter()
        .flat_map(|c| c.pods())
        .map(str::to_string)
        .collect();
    v.sort();
    v.dedup();
    v
}

fn find_dns(snap: &Snapshot) -> Result<usize, LabError> {
    snap.find_pod(&format!("{DNS_NAMESPACE}/{DNS_POD}"), DNS_NAMESPACE)
        .ok_or_else(|| LabError::Catalogue("the modelled cluster DNS pod is missing".into()))
}

/// Offline: the lab's pods are the snapshot's pods of the same name.
pub fn bind_offline(lab: &Lab, snap: &Snapshot) -> Result<Bindings, LabError> {
    let mut pods = BTreeMap::new();
    for key in lab_pods(lab) {
        let i = snap.find_pod(&key, "default").ok_or_else(|| {
            LabError::Catalogue(format!(
                "{}/lab.yaml: a check names pod {key}, which setup.yaml does not define",
                lab.folder
            ))
        })?;
        pods.insert(key, i);
    }
    Ok(Bindings {
        pods,
        dns: find_dns(snap)?,
    })
}

/// On a live cluster: a Pod of setup.yaml is the live pod of that name; a workload's pod is a
/// live pod of its namespace carrying every label of the pod template (a Deployment `web` has
/// pods `web-xxxx`, preferred when several match). Adds the modelled cluster DNS.
pub fn bind_live(
    lab: &Lab,
    setup: &Snapshot,
    mut live: Snapshot,
) -> Result<(Snapshot, Bindings), LabError> {
    let missing_ns: Vec<&str> = lab
        .namespaces
        .iter()
        .filter(|ns| {
            !live.namespaces.get(*ns).is_some_and(|n| n.declared)
                && !live.pods.iter().any(|p| &p.namespace == *ns)
        })
        .map(String::as_str)
        .collect();
    if !missing_ns.is_empty() {
        return Err(LabError::Cluster(format!(
            "namespace {} not found in the cluster: start the lab first (kubectl netpol lab start {}), or check manifests offline with -f DIR",
            missing_ns.join(", "),
            lab.name
        )));
    }
    add_cluster_dns(&mut live);
    let mut pods = BTreeMap::new();
    let mut missing = Vec::new();
    for key in lab_pods(lab) {
        let Some(s) = setup.find_pod(&key, "default").map(|i| &setup.pods[i]) else {
            return Err(LabError::Catalogue(format!(
                "{}/lab.yaml: a check names pod {key}, which setup.yaml does not define",
                lab.folder
            )));
        };
        let found = match &s.origin {
            PodOrigin::Pod => live.find_pod(&key, "default"),
            PodOrigin::Workload { .. } => {
                let candidates: Vec<usize> = live
                    .pods
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| {
                        p.namespace == s.namespace
                            && s.labels.iter().all(|(k, v)| p.labels.get(k) == Some(v))
                    })
                    .map(|(i, _)| i)
                    .collect();
                let prefix = format!("{}-", s.name);
                candidates
                    .iter()
                    .copied()
                    .find(|&i| live.pods[i].name.starts_with(&prefix))
                    .or_else(|| candidates.first().copied())
            }
        };
        match found {
            Some(i) => {
                pods.insert(key, i);
            }
            None => missing.push(match &s.origin {
                PodOrigin::Pod => format!("{key} (Pod)"),
                PodOrigin::Workload { kind, name } => format!(
                    "{key} ({kind} {name}: no pod in {} with labels {})",
                    s.namespace,
                    crate::engine::words::selector(&crate::model::LabelSelector {
                        match_labels: s.labels.clone(),
                        match_expressions: Vec::new(),
                    })
                ),
            }),
        }
    }
    if !missing.is_empty() {
        return Err(LabError::Cluster(format!(
            "the lab's pods are not in the cluster: {}; run `kubectl netpol lab start {}` (pods must keep the lab's labels), or check manifests offline with -f DIR",
            missing.join(", "),
            lab.name
        )));
    }
    let dns = find_dns(&live)?;
    Ok((live, Bindings { pods, dns }))
}

/// The outcome of one check.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// `FROM -> TO proto/port` or `FROM -> dns`.
    pub id: String,
    pub from: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dns: bool,
    /// Whether the connection must be allowed (true) or denied (false).
    pub required: bool,
    /// Whether the policies allow it.
    pub actual: bool,
    pub passed: bool,
    /// The engine's explanation: the deciding rule, or the isolating policies and the near miss.
    pub reason: String,
    /// The lab's first hint when the check fails.
    pub hint: Option<String>,
    /// The lab's words on why this connection matters.
    pub why: String,
    /// Facts about the likely mistake (engine facts; lint findings can be added).
    pub advice: Vec<String>,
    /// With --probe: what real packets did (true = got through), null when unobservable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed: Option<bool>,
    /// With --probe: the prober's verdict (connected, refused, timeout, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packets: Option<String>,
    #[serde(skip)]
    pub explanation: Option<TrafficExplanation>,
}

/// Real packets (local sandbox or prober pods in a cluster), summarised.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeOutcome {
    /// Every check's packets did what the check requires.
    pub passed: bool,
    /// Engine vs packets on the checks' connections (a disagreement is a problem of the local
    /// dataplane, not of the learner's policies); errors could not be observed.
    pub agree: usize,
    pub disagree: usize,
    pub errors: usize,
    pub verdict: String,
}

/// `lab check -o json`.
#[derive(Debug, Clone, Serialize)]
pub struct LabReport {
    pub lab: String,
    pub passed: bool,
    /// Where the policies came from: `cluster` or `files`.
    pub source: String,
    pub checks: Vec<CheckResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probe: Option<ProbeOutcome>,
}

impl LabReport {
    pub fn failed(&self) -> usize {
        self.checks.iter().filter(|c| !c.passed).count()
    }
}

/// One half's words: the engine's text, plus the near miss when the policy only isolates.
pub(crate) fn half_text(h: &HalfJson) -> String {
    let mut s = h.text.clone();
    if let Some(nm) = &h.near_miss {
        if nm.miss.rule.is_none() && !nm.miss.failed.is_empty() {
            s.push_str(&format!(" ({})", nm.miss.failed.join("; ")));
        }
    }
    s
}

fn reason(e: &TrafficExplanation, passed: bool) -> String {
    let halves = [("egress", &e.egress), ("ingress", &e.ingress)];
    let shown: Vec<String> = halves
        .iter()
        // A failure shows both halves; a pass shows what decided: both halves when allowed,
        // the denying half (or halves) when denied.
        .filter(|(_, h)| !passed || e.allowed || !h.allowed)
        .map(|(d, h)| format!("{d}: {}", half_text(h)))
        .collect();
    shown.join("; ")
}

/// Evaluates every check. `advisors` add advice to failing checks beyond the engine facts
/// (e.g. lint findings about the policies involved).
pub fn evaluate(
    lab: &Lab,
    snap: &Snapshot,
    bindings: &Bindings,
    source: &str,
    advisors: &[&dyn Advisor],
) -> Result<LabReport, LabError> {
    let engine = Engine::new(snap);
    let pod =
        |key: &str| {
            bindings.pods.get(key).copied().ok_or_else(|| {
                LabError::Catalogue(format!("{}: pod {key} is not bound", lab.folder))
            })
        };
    let mut checks = Vec::new();
    for spec in &lab.checks {
        let from = pod(&spec.from)?;
        let (to, probe) = match &spec.target {
            Target::Pod { to, probe } => (pod(to)?, *probe),
            Target::Dns => (bindings.dns, DNS_PROBE),
        };
        let traffic = Traffic {
            from: Endpoint::Pod(from),
            to: Endpoint::Pod(to),
            probe,
        };
        let verdict = engine.verdict(&traffic);
        let explanation = engine.explain_traffic(&traffic);
        let passed = verdict.allowed == spec.allowed;
        let mut advice = Vec::new();
        if !passed {
            let cx = CheckContext {
                engine: &engine,
                check: spec,
                traffic,
                verdict,
            };
            let builtin = EngineFacts;
            for a in std::iter::once(&builtin as &dyn Advisor).chain(advisors.iter().copied()) {
                for line in a.advise(&cx) {
                    if !advice.contains(&line) {
                        advice.push(line);
                    }
                }
            }
        }
        let (to_name, port) = match &spec.target {
            Target::Pod { to, probe } => (Some(to.clone()), Some(probe.to_string())),
            Target::Dns => (None, None),
        };
        checks.push(CheckResult {
            id: spec.id(),
            from: spec.from.clone(),
            to: to_name,
            port,
            dns: spec.target == Target::Dns,
            required: spec.allowed,
            actual: verdict.allowed,
            passed,
            reason: reason(&explanation, passed),
            hint: if passed {
                None
            } else {
                lab.hints.first().cloned()
            },
            why: spec.why.clone(),
            advice,
            observed: None,
            packets: None,
            explanation: Some(explanation),
        });
    }
    Ok(LabReport {
        lab: lab.name.clone(),
        passed: checks.iter().all(|c| c.passed),
        source: source.to_string(),
        checks,
        probe: None,
    })
}

/// Checks policies offline: setup.yaml + `policies` + the cluster DNS.
pub fn check_offline(
    lab: &Lab,
    policies: &[Policy],
    advisors: &[&dyn Advisor],
) -> Result<LabReport, LabError> {
    check_answer(lab, &Answer::of_policies(policies), advisors)
}

/// As `check_offline`, for an answer that may hold cluster policies.
pub fn check_answer(
    lab: &Lab,
    answer: &Answer,
    advisors: &[&dyn Advisor],
) -> Result<LabReport, LabError> {
    let snap = offline_snapshot_of(lab, answer)?;
    let bindings = bind_offline(lab, &snap)?;
    evaluate(lab, &snap, &bindings, "files", advisors)
}

/// Reads manifests (a solution or a wrong answer) and keeps their NetworkPolicies.
pub fn policies_of(name: &str, manifests: &str) -> Result<Vec<Policy>, LabError> {
    answer_of(name, manifests).map(|a| a.policies)
}

/// Reads manifests (a solution or a wrong answer) and keeps their policies, cluster-scoped
/// ones included.
pub fn answer_of(name: &str, manifests: &str) -> Result<Answer, LabError> {
    load_str(name, manifests, &LoadOptions::default())
        .map(|(snap, _)| Answer::of_snapshot(&snap))
        .map_err(LabError::Input)
}
