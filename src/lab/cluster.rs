//! `lab start` and `lab reset` on a real cluster: server-side apply of setup.yaml (field manager
//! `kubectl-netpol`), and deletion of the lab's namespaces. Ownership is the namespace label
//! `kubectl-netpol/lab: <lab>`: start refuses to take over a namespace that exists without it
//! (or with another lab's) unless forced, and reset deletes only namespaces that carry it.

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::api::core::v1::Namespace as K8sNamespace;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::{self, ApiCapabilities, ApiResource, Scope};
use kube::Client;
use serde::Deserialize;
use serde_json::Value;

use super::check::LabReport;
use super::sandbox::{lab_probes, record_packets};
use super::spec::Lab;
use super::LabError;
use crate::k8s::live::{self, Scope as LiveScope};
use crate::model::Snapshot;
use crate::probe::cluster::plan::{group_pods, DNS_NAMESPACE, RUN_LABEL};
use crate::probe::cluster::{probe_mirror, ClusterError, ClusterIo, ClusterOptions, KubeIo};

/// The ownership label every lab namespace carries.
pub const LAB_LABEL: &str = "kubectl-netpol/lab";
/// Server-side apply field manager.
pub const FIELD_MANAGER: &str = "kubectl-netpol";

/// A lab namespace as the cluster has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamespaceState {
    Missing,
    /// Carries this lab's label.
    Ours,
    /// Carries the label of another lab.
    OtherLab(String),
    /// Exists without the label: not made by a lab.
    Foreign,
    /// Being deleted (a reset moments ago).
    Terminating,
}

fn api_err(what: &str, e: kube::Error) -> LabError {
    match e {
        kube::Error::Api(s) => LabError::Cluster(format!(
            "{what}: {} (HTTP {}{})",
            s.message,
            s.code,
            if s.reason.is_empty() {
                String::new()
            } else {
                format!(", {}", s.reason)
            }
        )),
        other => LabError::Cluster(format!("{what}: {other}")),
    }
}

/// Errors a fresh namespace gives for a moment (its service account or token is not made yet,
/// the API server is busy): worth retrying, as the API server itself suggests.
fn transient(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(s) => {
            let m = s.message.to_ascii_lowercase();
            matches!(s.code, 429 | 500 | 503 | 504)
                || (matches!(s.code, 403 | 404)
                    && (m.contains("serviceaccount") || m.contains("service account")))
        }
        _ => false,
    }
}

/// How long `start` keeps retrying transient errors of one object.
const RETRY_FOR: std::time::Duration = std::time::Duration::from_secs(60);

pub async fn namespace_state(
    client: &Client,
    name: &str,
    lab: &str,
) -> Result<NamespaceState, LabError> {
    let api: Api<K8sNamespace> = Api::all(client.clone());
    let ns = api
        .get_opt(name)
        .await
        .map_err(|e| api_err(&format!("reading namespace {name}"), e))?;
    let Some(ns) = ns else {
        return Ok(NamespaceState::Missing);
    };
    if ns.metadata.deletion_timestamp.is_some()
        || ns
            .status
            .as_ref()
            .and_then(|s| s.phase.as_deref())
            .is_some_and(|p| p == "Terminating")
    {
        return Ok(NamespaceState::Terminating);
    }
    Ok(
        match ns.metadata.labels.as_ref().and_then(|l| l.get(LAB_LABEL)) {
            Some(l) if l == lab => NamespaceState::Ours,
            Some(l) => NamespaceState::OtherLab(l.clone()),
            None => NamespaceState::Foreign,
        },
    )
}

/// One object `start` applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl Applied {
    /// `namespace/netpol-backend`, `deployment.apps/web -n netpol-backend`-like, as kubectl says it.
    pub fn text(&self) -> String {
        match &self.namespace {
            Some(ns) => format!(
                "{}/{} (namespace {ns})",
                self.kind.to_lowercase(),
                self.name
            ),
            None => format!("{}/{}", self.kind.to_lowercase(), self.name),
        }
    }
}

/// What `start` found and did.
#[derive(Debug, Clone, Default)]
pub struct StartOutcome {
    pub applied: Vec<Applied>,
    /// Namespaces that existed from an earlier start of this lab (updated in place).
    pub reused: Vec<String>,
    /// Namespaces taken over with --force.
    pub taken_over: Vec<String>,
}

/// The documents of setup.yaml, in order.
fn setup_documents(lab: &Lab) -> Result<Vec<Value>, LabError> {
    let mut docs = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(&lab.setup) {
        let v = Value::deserialize(doc).map_err(|e| {
            LabError::Catalogue(format!("{}/setup.yaml: not valid YAML: {e}", lab.folder))
        })?;
        if !v.is_null() {
            docs.push(v);
        }
    }
    Ok(docs)
}

/// Checks ownership of the lab's namespaces, then server-side applies setup.yaml in order.
pub async fn start(client: &Client, lab: &Lab, force: bool) -> Result<StartOutcome, LabError> {
    let mut outcome = StartOutcome::default();
    let mut refusals = Vec::new();
    for ns in &lab.namespaces {
        match namespace_state(client, ns, &lab.name).await? {
            NamespaceState::Missing => {}
            NamespaceState::Ours => outcome.reused.push(ns.clone()),
            NamespaceState::Terminating => {
                return Err(LabError::Cluster(format!(
                    "namespace {ns} is still being deleted (by a reset?): wait until `kubectl get namespace {ns}` finds nothing, then start again"
                )))
            }
            NamespaceState::OtherLab(other) if !force => refusals.push(format!(
                "namespace {ns} belongs to lab {other}: run `kubectl netpol lab reset {other}` first (or --force to take it over, keeping what is in it)"
            )),
            NamespaceState::Foreign if !force => refusals.push(format!(
                "namespace {ns} exists and was not made by a lab (it has no {LAB_LABEL} label): not touching it; use another cluster, or --force to take it over (reset would then delete it)"
            )),
            NamespaceState::OtherLab(_) | NamespaceState::Foreign => {
                outcome.taken_over.push(ns.clone())
            }
        }
    }
    if !refusals.is_empty() {
        return Err(LabError::Cluster(refusals.join("\n")));
    }

    let mut kinds: HashMap<String, (ApiResource, ApiCapabilities)> = HashMap::new();
    let params = PatchParams::apply(FIELD_MANAGER).force();
    for mut doc in setup_documents(lab)? {
        if let Some(o) = doc.as_object_mut() {
            // A cluster sets status itself (the local-only labs use it for addresses).
            o.remove("status");
            // Ownership: every namespace start makes carries the lab label, whatever the
            // catalogue wrote.
            if o.get("kind").and_then(Value::as_str) == Some("Namespace") {
                let labels = o
                    .entry("metadata")
                    .or_insert_with(|| Value::Object(Default::default()))
                    .as_object_mut()
                    .map(|m| {
                        m.entry("labels")
                            .or_insert_with(|| Value::Object(Default::default()))
                    });
                if let Some(Value::Object(labels)) = labels {
                    labels.insert(LAB_LABEL.into(), Value::String(lab.name.clone()));
                }
            }
        }
        let api_version = doc
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let kind = doc
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let name = doc
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if api_version.is_empty() || kind.is_empty() || name.is_empty() {
            return Err(LabError::Catalogue(format!(
                "{}/setup.yaml: every object needs apiVersion, kind and metadata.name",
                lab.folder
            )));
        }
        let (group, version) = api_version
            .split_once('/')
            .unwrap_or(("", api_version.as_str()));
        let gvk = GroupVersionKind::gvk(group, version, &kind);
        let key = format!("{api_version}/{kind}");
        if !kinds.contains_key(&key) {
            let found = discovery::pinned_kind(client, &gvk)
                .await
                .map_err(|e| api_err(&format!("finding the API of {kind} ({api_version})"), e))?;
            kinds.insert(key.clone(), found);
        }
        let Some((ar, caps)) = kinds.get(&key) else {
            continue;
        };
        let namespace = match caps.scope {
            Scope::Namespaced => Some(
                doc.pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| {
                        LabError::Catalogue(format!(
                            "{}/setup.yaml: {kind} {name} needs metadata.namespace",
                            lab.folder
                        ))
                    })?,
            ),
            Scope::Cluster => None,
        };
        let api: Api<DynamicObject> = match &namespace {
            Some(ns) => Api::namespaced_with(client.clone(), ns, ar),
            None => Api::all_with(client.clone(), ar),
        };
        let started = std::time::Instant::now();
        loop {
            match api.patch(&name, &params, &Patch::Apply(&doc)).await {
                Ok(_) => break,
                Err(e) if transient(&e) && started.elapsed() < RETRY_FOR => {
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                }
                Err(e) => return Err(api_err(&format!("applying {kind} {name}"), e)),
            }
        }
        outcome.applied.push(Applied {
            kind,
            namespace,
            name,
        });
    }
    Ok(outcome)
}

/// What `reset` did with one namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResetAction {
    Deleted,
    NotFound,
    AlreadyDeleting,
    /// Kept: it does not carry this lab's label.
    Kept(String),
}

/// Deletes the lab's namespaces that carry its label; leaves every other one alone.
pub async fn reset(client: &Client, lab: &Lab) -> Result<Vec<(String, ResetAction)>, LabError> {
    let api: Api<K8sNamespace> = Api::all(client.clone());
    let mut out = Vec::new();
    for ns in &lab.namespaces {
        let action = match namespace_state(client, ns, &lab.name).await? {
            NamespaceState::Missing => ResetAction::NotFound,
            NamespaceState::Terminating => ResetAction::AlreadyDeleting,
            NamespaceState::Foreign => {
                ResetAction::Kept(format!("it has no {LAB_LABEL} label: not made by a lab"))
            }
            NamespaceState::OtherLab(other) => {
                ResetAction::Kept(format!("it belongs to lab {other}"))
            }
            NamespaceState::Ours => {
                api.delete(ns, &DeleteParams::background())
                    .await
                    .map_err(|e| api_err(&format!("deleting namespace {ns}"), e))?;
                ResetAction::Deleted
            }
        };
        out.push((ns.clone(), action));
    }
    Ok(out)
}

/// `lab check --probe` on a cluster: reads the lab's namespaces and the cluster DNS, then
/// [`probe_with`].
pub async fn probe(
    client: &Client,
    context_ns: &str,
    lab: &Lab,
    rows: &BTreeMap<String, String>,
    report: &mut LabReport,
    opts: &ClusterOptions,
) -> Result<Vec<String>, LabError> {
    let mut namespaces = lab.namespaces.clone();
    if !namespaces.iter().any(|n| n == DNS_NAMESPACE) {
        namespaces.push(DNS_NAMESPACE.to_string());
    }
    let scope = LiveScope {
        namespaces,
        all_namespaces: false,
        selector: None,
    };
    let read = live::load_live(client, context_ns, &scope)
        .await
        .map_err(|e| LabError::Cluster(e.to_string()))?;
    let mut notes = read.warnings;
    notes.extend(
        probe_with(
            &KubeIo::new(client.clone()),
            &read.snapshot,
            lab,
            rows,
            report,
            opts,
        )
        .await?,
    );
    Ok(notes)
}

/// Mirror prober pods for the lab's pods (same namespace, labels and ports, so the user's
/// policies treat them as the pods themselves), real packets for every check, recorded in
/// `report`. `rows` maps each lab pod (as setup.yaml names it) to the pod of `snap` (`ns/name`)
/// it was bound to. Returns the probe's notes.
pub async fn probe_with<I: ClusterIo>(
    io: &I,
    snap: &Snapshot,
    lab: &Lab,
    rows: &BTreeMap<String, String>,
    report: &mut LabReport,
    opts: &ClusterOptions,
) -> Result<Vec<String>, LabError> {
    let index: BTreeMap<String, usize> = snap
        .pods
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.labels.contains_key(RUN_LABEL))
        .map(|(i, p)| (p.key(), i))
        .collect();
    let mut pods: Vec<usize> = rows
        .values()
        .filter_map(|k| index.get(k).copied())
        .collect();
    pods.sort_unstable();
    pods.dedup();
    // The probe names its rows after the first pod of each prober group.
    let mut row_name: BTreeMap<String, String> = BTreeMap::new();
    for g in group_pods(snap, &pods) {
        let first = snap.pods[g.members[0]].key();
        for &m in &g.members {
            row_name.insert(snap.pods[m].key(), first.clone());
        }
    }
    let outcome = probe_mirror(io, snap, &pods, &lab_probes(lab), opts)
        .await
        .map_err(|e| match e {
            ClusterError::Input(m) => LabError::Usage(m),
            ClusterError::Cluster(m) | ClusterError::Interrupted(m) => LabError::Cluster(m),
        })?;
    let row_of = |lab_pod: &str| {
        rows.get(lab_pod)
            .and_then(|k| row_name.get(k))
            .cloned()
            .unwrap_or_default()
    };
    record_packets(
        lab,
        report,
        &outcome.report,
        &row_of,
        "real packets in the cluster",
    );
    let mut notes = outcome.notes;
    notes.extend(
        outcome
            .leftovers
            .iter()
            .map(|l| format!("not confirmed gone: {l} (kubectl netpol cleanup removes it)")),
    );
    Ok(notes)
}
