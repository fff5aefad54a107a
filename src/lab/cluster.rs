//! `lab start` and `lab reset` on a real cluster: server-side apply of setup.yaml (field manager
//! `kubectl-netpol`), and deletion of the lab's namespaces and cluster policies. Ownership is the
//! label `kubectl-netpol/lab: <lab>` on every cluster-scoped object (namespaces, cluster
//! policies): start refuses to take over one that exists without it (or with another lab's)
//! unless forced, and reset deletes only objects that carry it. The calls go through [`LabIo`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use k8s_openapi::api::core::v1::Namespace as K8sNamespace;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::{self, ApiCapabilities, ApiResource, Scope};
use kube::error::DiscoveryError;
use kube::Client;
use serde::Deserialize;
use serde_json::Value;

use super::check::LabReport;
use super::sandbox::{lab_probes, record_packets};
use super::spec::Lab;
use super::LabError;
use crate::k8s::live::{self, Scope as LiveScope};
use crate::k8s::{failure_of, retry_transient, ApiError, Failure};
use crate::model::{ClusterKind, Snapshot};
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
    LabError::Cluster(ApiError::new(what, &e).to_string())
}

/// How long `start` keeps retrying transient errors of one object (a fresh namespace's service
/// account not made yet, a busy API server).
const RETRY_FOR: std::time::Duration = std::time::Duration::from_secs(60);

/// The Kubernetes calls of `lab start` and `lab reset`, narrow so that what they decide
/// (ownership, the cluster-scoped objects, a missing CRD) is tested with a double.
// The futures are not required to be Send: the CLI drives them on one thread.
#[allow(async_fn_in_trait)]
pub trait LabIo {
    /// A namespace, as it stands towards `lab`.
    async fn namespace_state(&self, name: &str, lab: &str) -> Result<NamespaceState, LabError>;
    /// A cluster policy, as it stands towards `lab` (its label; Terminating while deleted).
    async fn cluster_policy_state(
        &self,
        kind: ClusterKind,
        name: &str,
        lab: &str,
    ) -> Result<NamespaceState, LabError>;
    /// Whether `kind` of `api_version` is namespaced or cluster-scoped; None when the cluster
    /// does not serve it (its CRD is not installed).
    async fn scope_of(&self, api_version: &str, kind: &str) -> Result<Option<Scope>, LabError>;
    /// Server-side applies one object, in `namespace` for a namespaced kind.
    async fn apply(&self, doc: &Value, namespace: Option<&str>) -> Result<(), LabError>;
    async fn delete_namespace(&self, name: &str) -> Result<(), LabError>;
    /// The names of the cluster policies of `kind` labelled `kubectl-netpol/lab=<lab>`; None
    /// when the cluster does not serve the kind.
    async fn labelled_cluster_policies(
        &self,
        kind: ClusterKind,
        lab: &str,
    ) -> Result<Option<Vec<String>>, LabError>;
    /// Deletes one cluster policy; false when it was already gone.
    async fn delete_cluster_policy(&self, kind: ClusterKind, name: &str) -> Result<bool, LabError>;
}

/// [`LabIo`] on a real cluster.
pub struct KubeLabIo {
    client: Client,
    /// Discovery answers, by `apiVersion/kind`.
    kinds: Mutex<HashMap<String, Option<(ApiResource, ApiCapabilities)>>>,
}

impl KubeLabIo {
    pub fn new(client: Client) -> KubeLabIo {
        KubeLabIo {
            client,
            kinds: Mutex::new(HashMap::new()),
        }
    }

    fn cluster_api(&self, kind: ClusterKind) -> Api<DynamicObject> {
        Api::all_with(self.client.clone(), &cluster_resource(kind))
    }

    async fn resource(
        &self,
        api_version: &str,
        kind: &str,
    ) -> Result<Option<(ApiResource, ApiCapabilities)>, LabError> {
        let key = format!("{api_version}/{kind}");
        if let Some(found) = self.kinds.lock().ok().and_then(|k| k.get(&key).cloned()) {
            return Ok(found);
        }
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let found = match discovery::pinned_kind(&self.client, &gvk).await {
            Ok(f) => Some(f),
            Err(e) if failure_of(&e) == Failure::NotFound => None,
            Err(kube::Error::Discovery(
                DiscoveryError::MissingKind(_)
                | DiscoveryError::MissingApiGroup(_)
                | DiscoveryError::MissingResource(_)
                | DiscoveryError::EmptyApiGroup(_),
            )) => None,
            Err(e) => {
                return Err(api_err(
                    &format!("finding the API of {kind} ({api_version})"),
                    e,
                ))
            }
        };
        if let Ok(mut k) = self.kinds.lock() {
            k.insert(key, found.clone());
        }
        Ok(found)
    }
}

/// The API resource of a cluster policy kind (fixed by upstream's CRDs).
fn cluster_resource(kind: ClusterKind) -> ApiResource {
    let (group, version) = kind
        .api_version()
        .split_once('/')
        .unwrap_or(("", kind.api_version()));
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(group, version, kind.kind()),
        kind.plural(),
    )
}

/// How an object stands towards `lab`, from its metadata.
fn ownership(meta: &kube::api::ObjectMeta, phase: Option<&str>, lab: &str) -> NamespaceState {
    if meta.deletion_timestamp.is_some() || phase == Some("Terminating") {
        return NamespaceState::Terminating;
    }
    match meta.labels.as_ref().and_then(|l| l.get(LAB_LABEL)) {
        Some(l) if l == lab => NamespaceState::Ours,
        Some(l) => NamespaceState::OtherLab(l.clone()),
        None => NamespaceState::Foreign,
    }
}

impl LabIo for KubeLabIo {
    async fn namespace_state(&self, name: &str, lab: &str) -> Result<NamespaceState, LabError> {
        let api: Api<K8sNamespace> = Api::all(self.client.clone());
        let ns = api
            .get_opt(name)
            .await
            .map_err(|e| api_err(&format!("reading namespace {name}"), e))?;
        Ok(match ns {
            None => NamespaceState::Missing,
            Some(ns) => ownership(
                &ns.metadata,
                ns.status.as_ref().and_then(|s| s.phase.as_deref()),
                lab,
            ),
        })
    }

    async fn cluster_policy_state(
        &self,
        kind: ClusterKind,
        name: &str,
        lab: &str,
    ) -> Result<NamespaceState, LabError> {
        match self.cluster_api(kind).get_opt(name).await {
            Ok(None) => Ok(NamespaceState::Missing),
            Ok(Some(o)) => Ok(ownership(&o.metadata, None, lab)),
            Err(e) => Err(api_err(&format!("reading {} {name}", kind.kind()), e)),
        }
    }

    async fn scope_of(&self, api_version: &str, kind: &str) -> Result<Option<Scope>, LabError> {
        Ok(self
            .resource(api_version, kind)
            .await?
            .map(|(_, caps)| caps.scope))
    }

    async fn apply(&self, doc: &Value, namespace: Option<&str>) -> Result<(), LabError> {
        let text = |k: &str| doc.get(k).and_then(Value::as_str).unwrap_or_default();
        let (api_version, kind) = (text("apiVersion"), text("kind"));
        let name = doc
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some((ar, _)) = self.resource(api_version, kind).await? else {
            return Err(LabError::Cluster(format!(
                "applying {kind} {name}: the cluster does not serve {kind} ({api_version})"
            )));
        };
        let api: Api<DynamicObject> = match namespace {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, &ar),
            None => Api::all_with(self.client.clone(), &ar),
        };
        let params = PatchParams::apply(FIELD_MANAGER).force();
        let patch = Patch::Apply(doc);
        retry_transient(RETRY_FOR, std::time::Duration::from_millis(500), || {
            api.patch(name, &params, &patch)
        })
        .await
        .map(|_| ())
        .map_err(|e| api_err(&format!("applying {kind} {name}"), e))
    }

    async fn delete_namespace(&self, name: &str) -> Result<(), LabError> {
        let api: Api<K8sNamespace> = Api::all(self.client.clone());
        api.delete(name, &DeleteParams::background())
            .await
            .map(|_| ())
            .map_err(|e| api_err(&format!("deleting namespace {name}"), e))
    }

    async fn labelled_cluster_policies(
        &self,
        kind: ClusterKind,
        lab: &str,
    ) -> Result<Option<Vec<String>>, LabError> {
        let params = ListParams::default().labels(&format!("{LAB_LABEL}={lab}"));
        match self.cluster_api(kind).list_metadata(&params).await {
            Ok(list) => Ok(Some(
                list.items
                    .into_iter()
                    .filter_map(|o| o.metadata.name)
                    .collect(),
            )),
            // No CRD: nothing of this kind can exist.
            Err(e) if failure_of(&e) == Failure::NotFound => Ok(None),
            Err(e) => Err(api_err(&format!("listing {}", kind.plural()), e)),
        }
    }

    async fn delete_cluster_policy(&self, kind: ClusterKind, name: &str) -> Result<bool, LabError> {
        match self
            .cluster_api(kind)
            .delete(name, &DeleteParams::background())
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if failure_of(&e) == Failure::NotFound => Ok(false),
            Err(e) => Err(api_err(&format!("deleting {} {name}", kind.kind()), e)),
        }
    }
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
    /// Namespaces and cluster policies that existed from an earlier start of this lab
    /// (updated in place), as `namespace/NAME` or `clusternetworkpolicy/NAME`.
    pub reused: Vec<String>,
    /// Namespaces and cluster policies taken over with --force, written as `reused`.
    pub taken_over: Vec<String>,
}

/// The documents of a lab file (setup.yaml, solution.yaml), in order.
fn documents(lab: &Lab, file: &str, text: &str) -> Result<Vec<Value>, LabError> {
    let mut docs = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(text) {
        let v = Value::deserialize(doc).map_err(|e| {
            LabError::Catalogue(format!("{}/{file}: not valid YAML: {e}", lab.folder))
        })?;
        if !v.is_null() {
            docs.push(v);
        }
    }
    Ok(docs)
}

/// The cluster policies (kind, name) of a lab file.
fn cluster_policies_of(docs: &[Value]) -> Vec<(ClusterKind, String)> {
    docs.iter()
        .filter_map(|d| {
            let kind = d.get("kind").and_then(Value::as_str)?;
            let kind = ClusterKind::parse(kind).filter(|k| k.kind() == kind)?;
            let name = d.pointer("/metadata/name").and_then(Value::as_str)?;
            Some((kind, name.to_string()))
        })
        .collect()
}

/// The error for a cluster without the CRD of a kind the lab needs: which one, and how to
/// install it. Nothing has been applied when it is returned.
fn missing_crd(lab: &Lab, kind: ClusterKind, file: &str) -> LabError {
    let (group, version) = kind.api_version().split_once('/').unwrap_or(("", ""));
    let upstream_file = format!("policy.networking.k8s.io_{}.yaml", kind.plural());
    LabError::Usage(format!(
        "lab {} needs {} (group {group}, version {version}; its {file} has one), and this cluster does not serve it: the CRD {}.{group} is not installed. Install it from kubernetes-sigs/network-policy-api (kubectl apply -f https://raw.githubusercontent.com/kubernetes-sigs/network-policy-api/main/config/crd/standard/{upstream_file}) or your CNI's copy, then start the lab again; nothing was applied",
        lab.name,
        kind.kind(),
        kind.plural(),
    ))
}

/// Checks ownership of the lab's namespaces and cluster policies, and that the cluster serves
/// every kind of setup.yaml and the cluster policy kinds of solution.yaml (so the learner can
/// apply an answer), then server-side applies setup.yaml in order. Every cluster-scoped object
/// it applies carries the lab label, so that `reset` finds it.
pub async fn start<I: LabIo>(io: &I, lab: &Lab, force: bool) -> Result<StartOutcome, LabError> {
    let setup = documents(lab, "setup.yaml", &lab.setup)?;
    let solution = documents(lab, "solution.yaml", &lab.solution)?;
    // The CRDs first: a lab about cluster policies is no use without them.
    require_crds(io, lab, &setup, &solution).await?;
    let mut outcome = claim(io, lab, &setup, force).await?;
    for doc in setup {
        outcome
            .applied
            .push(apply_setup_object(io, lab, doc).await?);
    }
    Ok(outcome)
}

/// Every cluster-policy kind the lab's setup and solution use must be served.
async fn require_crds<I: LabIo>(
    io: &I,
    lab: &Lab,
    setup: &[Value],
    solution: &[Value],
) -> Result<(), LabError> {
    for (file, docs) in [("setup.yaml", setup), ("solution.yaml", solution)] {
        let mut seen = Vec::new();
        for (kind, _) in cluster_policies_of(docs) {
            if seen.contains(&kind) {
                continue;
            }
            seen.push(kind);
            if io
                .scope_of(kind.api_version(), kind.kind())
                .await?
                .is_none()
            {
                return Err(missing_crd(lab, kind, file));
            }
        }
    }
    Ok(())
}

/// Which of the lab's namespaces and cluster policies exist already, and whether start may
/// use them (its own, or another's with --force); refused otherwise, touching nothing.
async fn claim<I: LabIo>(
    io: &I,
    lab: &Lab,
    setup: &[Value],
    force: bool,
) -> Result<StartOutcome, LabError> {
    let mut outcome = StartOutcome::default();
    let mut refusals = Vec::new();
    let mut owned = |state: NamespaceState, what: String, refusals: &mut Vec<String>| {
        match state {
            NamespaceState::Missing => {}
            NamespaceState::Ours => outcome.reused.push(what),
            NamespaceState::Terminating => refusals.push(format!(
                "{what} is still being deleted (by a reset?): wait until `kubectl get {what}` finds nothing, then start again"
            )),
            NamespaceState::OtherLab(other) if !force => refusals.push(format!(
                "{what} belongs to lab {other}: run `kubectl netpol lab reset {other}` first (or --force to take it over, keeping what is in it)"
            )),
            NamespaceState::Foreign if !force => refusals.push(format!(
                "{what} exists and was not made by a lab (it has no {LAB_LABEL} label): not touching it; use another cluster, or --force to take it over (reset would then delete it)"
            )),
            NamespaceState::OtherLab(_) | NamespaceState::Foreign => outcome.taken_over.push(what),
        }
    };
    for ns in &lab.namespaces {
        let state = io.namespace_state(ns, &lab.name).await?;
        owned(state, format!("namespace/{ns}"), &mut refusals);
    }
    for (kind, name) in cluster_policies_of(setup) {
        let state = io.cluster_policy_state(kind, &name, &lab.name).await?;
        owned(
            state,
            format!("{}/{name}", kind.kind().to_ascii_lowercase()),
            &mut refusals,
        );
    }
    // A terminating namespace is an error on its own (nothing else can go on).
    if let Some(t) = refusals.iter().find(|r| r.contains("still being deleted")) {
        return Err(LabError::Cluster(t.clone()));
    }
    if !refusals.is_empty() {
        return Err(LabError::Cluster(refusals.join("\n")));
    }

    Ok(outcome)
}

/// One object of setup.yaml applied, its cluster-scoped objects labelled as the lab's.
async fn apply_setup_object<I: LabIo>(
    io: &I,
    lab: &Lab,
    mut doc: Value,
) -> Result<Applied, LabError> {
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
    let Some(scope) = io.scope_of(&api_version, &kind).await? else {
        return Err(LabError::Cluster(format!(
            "applying {kind} {name}: the cluster does not serve {kind} ({api_version})"
        )));
    };
    let namespace = match scope {
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
    if let Some(o) = doc.as_object_mut() {
        // A cluster sets status itself (the local-only labs use it for addresses).
        o.remove("status");
        // Ownership: every cluster-scoped object start makes (the namespaces, the cluster
        // policies) carries the lab label, whatever the catalogue wrote.
        if scope == Scope::Cluster {
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
    io.apply(&doc, namespace.as_deref()).await?;
    Ok(Applied {
        kind,
        namespace,
        name,
    })
}

/// What `reset` did with one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResetAction {
    Deleted,
    NotFound,
    AlreadyDeleting,
    /// Kept: it does not carry this lab's label.
    Kept(String),
}

/// Deletes the cluster policies that carry the lab's label (those `start` made, and a
/// learner's labelled ones; of every cluster policy kind, in a lab about cluster policies),
/// then the lab's namespaces that carry it; leaves every other object
/// alone, and says so for the lab's cluster policies (of setup or solution) that exist without
/// the label. Objects are written `namespace/NAME`, `clusternetworkpolicy/NAME`.
pub async fn reset<I: LabIo>(io: &I, lab: &Lab) -> Result<Vec<(String, ResetAction)>, LabError> {
    let mut out = Vec::new();
    let mut named: Vec<(ClusterKind, String)> =
        cluster_policies_of(&documents(lab, "setup.yaml", &lab.setup)?);
    named.extend(cluster_policies_of(&documents(
        lab,
        "solution.yaml",
        &lab.solution,
    )?));
    named.sort();
    named.dedup();
    // A lab without cluster policies has none to delete: no calls (the learner may lack the
    // right to list them).
    let kinds: &[ClusterKind] = if named.is_empty() {
        &[]
    } else {
        &ClusterKind::ALL
    };
    for &kind in kinds {
        let text = |name: &str| format!("{}/{name}", kind.kind().to_ascii_lowercase());
        let Some(mut labelled) = io.labelled_cluster_policies(kind, &lab.name).await? else {
            // No CRD: none of the lab's policies of this kind can exist.
            out.extend(
                named
                    .iter()
                    .filter(|(k, _)| *k == kind)
                    .map(|(_, n)| (text(n), ResetAction::NotFound)),
            );
            continue;
        };
        labelled.sort();
        for name in &labelled {
            let action = if io.delete_cluster_policy(kind, name).await? {
                ResetAction::Deleted
            } else {
                ResetAction::NotFound
            };
            out.push((text(name), action));
        }
        for (_, name) in named
            .iter()
            .filter(|(k, n)| *k == kind && !labelled.contains(n))
        {
            let action = match io.cluster_policy_state(kind, name, &lab.name).await? {
                NamespaceState::Missing => ResetAction::NotFound,
                NamespaceState::Terminating => ResetAction::AlreadyDeleting,
                NamespaceState::OtherLab(other) => {
                    ResetAction::Kept(format!("it belongs to lab {other}"))
                }
                // Listed a moment ago without the label: only a race gets here.
                NamespaceState::Ours | NamespaceState::Foreign => ResetAction::Kept(format!(
                    "it has no {LAB_LABEL}={} label, so it may not be the lab's; if you made it for this lab: kubectl delete {} {name}",
                    lab.name,
                    kind.plural()
                )),
            };
            out.push((text(name), action));
        }
    }
    for ns in &lab.namespaces {
        let action = match io.namespace_state(ns, &lab.name).await? {
            NamespaceState::Missing => ResetAction::NotFound,
            NamespaceState::Terminating => ResetAction::AlreadyDeleting,
            NamespaceState::Foreign => {
                ResetAction::Kept(format!("it has no {LAB_LABEL} label: not made by a lab"))
            }
            NamespaceState::OtherLab(other) => {
                ResetAction::Kept(format!("it belongs to lab {other}"))
            }
            NamespaceState::Ours => {
                io.delete_namespace(ns).await?;
                ResetAction::Deleted
            }
        };
        out.push((format!("namespace/{ns}"), action));
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

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    use super::*;
    use crate::lab::Catalogue;

    /// A cluster in memory: cluster-scoped objects by `kind/name` with their labels, the kinds it
    /// serves, and what was applied and deleted, in order.
    #[derive(Default)]
    struct FakeCluster {
        namespaces: RefCell<BTreeMap<String, Labels>>,
        policies: RefCell<BTreeMap<(ClusterKind, String), Labels>>,
        /// The cluster policy kinds whose CRD is installed.
        crds: Vec<ClusterKind>,
        applied: RefCell<Vec<Value>>,
        deleted: RefCell<Vec<String>>,
        /// How often the cluster policies were listed.
        listings: RefCell<usize>,
    }

    type Labels = BTreeMap<String, String>;

    fn state_of(labels: Option<&Labels>, lab: &str) -> NamespaceState {
        match labels {
            None => NamespaceState::Missing,
            Some(l) => match l.get(LAB_LABEL) {
                Some(v) if v == lab => NamespaceState::Ours,
                Some(v) => NamespaceState::OtherLab(v.clone()),
                None => NamespaceState::Foreign,
            },
        }
    }

    impl LabIo for FakeCluster {
        async fn namespace_state(&self, name: &str, lab: &str) -> Result<NamespaceState, LabError> {
            Ok(state_of(self.namespaces.borrow().get(name), lab))
        }
        async fn cluster_policy_state(
            &self,
            kind: ClusterKind,
            name: &str,
            lab: &str,
        ) -> Result<NamespaceState, LabError> {
            Ok(state_of(
                self.policies.borrow().get(&(kind, name.to_string())),
                lab,
            ))
        }
        async fn scope_of(&self, api_version: &str, kind: &str) -> Result<Option<Scope>, LabError> {
            Ok(
                match ClusterKind::parse(kind).filter(|k| k.kind() == kind) {
                    Some(k) if k.api_version() == api_version && self.crds.contains(&k) => {
                        Some(Scope::Cluster)
                    }
                    Some(_) => None,
                    None if kind == "Namespace" => Some(Scope::Cluster),
                    None => Some(Scope::Namespaced),
                },
            )
        }
        async fn apply(&self, doc: &Value, namespace: Option<&str>) -> Result<(), LabError> {
            let kind = doc["kind"].as_str().unwrap_or_default();
            let name = doc["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let labels: Labels =
                serde_json::from_value(doc["metadata"]["labels"].clone()).unwrap_or_default();
            match ClusterKind::parse(kind).filter(|k| k.kind() == kind) {
                Some(k) => {
                    assert!(namespace.is_none(), "a cluster policy has no namespace");
                    self.policies.borrow_mut().insert((k, name), labels);
                }
                None if kind == "Namespace" => {
                    self.namespaces.borrow_mut().insert(name, labels);
                }
                None => assert!(namespace.is_some(), "{kind} {name} needs a namespace"),
            }
            self.applied.borrow_mut().push(doc.clone());
            Ok(())
        }
        async fn delete_namespace(&self, name: &str) -> Result<(), LabError> {
            self.namespaces.borrow_mut().remove(name);
            self.deleted.borrow_mut().push(format!("namespace/{name}"));
            Ok(())
        }
        async fn labelled_cluster_policies(
            &self,
            kind: ClusterKind,
            lab: &str,
        ) -> Result<Option<Vec<String>>, LabError> {
            *self.listings.borrow_mut() += 1;
            if !self.crds.contains(&kind) {
                return Ok(None);
            }
            Ok(Some(
                self.policies
                    .borrow()
                    .iter()
                    .filter(|((k, _), l)| {
                        *k == kind && l.get(LAB_LABEL).map(String::as_str) == Some(lab)
                    })
                    .map(|((_, n), _)| n.clone())
                    .collect(),
            ))
        }
        async fn delete_cluster_policy(
            &self,
            kind: ClusterKind,
            name: &str,
        ) -> Result<bool, LabError> {
            let gone = self
                .policies
                .borrow_mut()
                .remove(&(kind, name.to_string()))
                .is_some();
            if gone {
                self.deleted
                    .borrow_mut()
                    .push(format!("{}/{name}", kind.short_name()));
            }
            Ok(gone)
        }
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    fn with_crd() -> FakeCluster {
        FakeCluster {
            crds: vec![ClusterKind::ClusterNetworkPolicy],
            ..FakeCluster::default()
        }
    }

    fn lab_label(lab: &str) -> Labels {
        [(LAB_LABEL.to_string(), lab.to_string())].into()
    }

    #[test]
    fn start_applies_the_cluster_policy_labelled_and_reset_deletes_it() {
        let cat = Catalogue::embedded().unwrap();
        let lab = cat.find("baseline-default-deny").unwrap();
        let io = with_crd();
        let outcome = block_on(start(&io, lab, false)).unwrap();
        let cnp = (
            ClusterKind::ClusterNetworkPolicy,
            "baseline-default-deny".to_string(),
        );
        // Applied without a namespace, carrying the lab label.
        assert_eq!(
            io.policies.borrow().get(&cnp),
            Some(&lab_label("baseline-default-deny"))
        );
        assert!(outcome
            .applied
            .iter()
            .any(|a| a.kind == "ClusterNetworkPolicy"
                && a.namespace.is_none()
                && a.name == "baseline-default-deny"));
        // Starting again updates it in place.
        let again = block_on(start(&io, lab, false)).unwrap();
        assert!(
            again
                .reused
                .contains(&"clusternetworkpolicy/baseline-default-deny".to_string()),
            "{:?}",
            again.reused
        );

        let actions = block_on(reset(&io, lab)).unwrap();
        assert!(io.policies.borrow().is_empty());
        assert!(io.namespaces.borrow().is_empty());
        // The cluster policy goes first: it acts on the whole cluster.
        assert_eq!(
            io.deleted.borrow().first().map(String::as_str),
            Some("cnp/baseline-default-deny")
        );
        assert!(actions.contains(&(
            "clusternetworkpolicy/baseline-default-deny".to_string(),
            ResetAction::Deleted
        )));
        // A second reset finds nothing and says so.
        let actions = block_on(reset(&io, lab)).unwrap();
        assert!(
            actions.iter().all(|(_, a)| *a == ResetAction::NotFound),
            "{actions:?}"
        );
        assert!(actions
            .iter()
            .any(|(o, _)| o == "clusternetworkpolicy/baseline-default-deny"));
    }

    #[test]
    fn a_missing_crd_stops_start_before_anything_is_applied() {
        let cat = Catalogue::embedded().unwrap();
        // Lab 13 has the cluster policy in its setup, lab 14 only in its solution: both need it.
        for (name, file) in [
            ("baseline-default-deny", "setup.yaml"),
            ("admin-guardrail", "solution.yaml"),
        ] {
            let lab = cat.find(name).unwrap();
            let io = FakeCluster::default();
            let err = block_on(start(&io, lab, false)).unwrap_err();
            let LabError::Usage(m) = &err else {
                panic!("{name}: a usage error (exit 2), not {err:?}");
            };
            for part in [
                "ClusterNetworkPolicy",
                "policy.networking.k8s.io",
                "v1alpha2",
                "clusternetworkpolicies.policy.networking.k8s.io",
                "kubectl apply -f",
                file,
            ] {
                assert!(m.contains(part), "{name}: {part:?} missing in {m}");
            }
            assert!(io.applied.borrow().is_empty(), "{name}");
            // reset on such a cluster has nothing of that kind to delete, and no error.
            let actions = block_on(reset(&io, lab)).unwrap();
            assert!(actions.iter().all(|(_, a)| *a == ResetAction::NotFound));
        }
    }

    #[test]
    fn foreign_cluster_policies_are_refused_by_start_and_kept_by_reset() {
        let cat = Catalogue::embedded().unwrap();
        let lab = cat.find("baseline-default-deny").unwrap();
        let io = with_crd();
        let key = (
            ClusterKind::ClusterNetworkPolicy,
            "baseline-default-deny".to_string(),
        );
        // An administrator's own policy of the same name: not the lab's.
        io.policies.borrow_mut().insert(key.clone(), Labels::new());
        let err = block_on(start(&io, lab, false)).unwrap_err();
        assert!(
            err.to_string().contains(
                "clusternetworkpolicy/baseline-default-deny exists and was not made by a lab"
            ),
            "{err}"
        );
        assert!(io.applied.borrow().is_empty());
        let actions = block_on(reset(&io, lab)).unwrap();
        assert!(io.policies.borrow().contains_key(&key), "kept");
        assert!(actions.iter().any(|(o, a)| o
            == "clusternetworkpolicy/baseline-default-deny"
            && matches!(a, ResetAction::Kept(why) if why.contains("kubectl delete clusternetworkpolicies baseline-default-deny"))));
        // --force takes it over (and labels it, so reset deletes it).
        let outcome = block_on(start(&io, lab, true)).unwrap();
        assert_eq!(
            outcome.taken_over,
            ["clusternetworkpolicy/baseline-default-deny"]
        );
        block_on(reset(&io, lab)).unwrap();
        assert!(io.policies.borrow().is_empty());
    }

    #[test]
    fn a_lab_without_cluster_policies_never_asks_for_them() {
        let cat = Catalogue::embedded().unwrap();
        let lab = cat.find("and-not-or").unwrap();
        let io = with_crd();
        block_on(start(&io, lab, false)).unwrap();
        let actions = block_on(reset(&io, lab)).unwrap();
        assert_eq!(*io.listings.borrow(), 0);
        assert!(
            actions.iter().all(|(o, _)| o.starts_with("namespace/")),
            "{actions:?}"
        );
        assert!(io.namespaces.borrow().is_empty());
    }

    #[test]
    fn reset_deletes_the_learners_labelled_cluster_policies_only() {
        let cat = Catalogue::embedded().unwrap();
        let lab = cat.find("admin-guardrail").unwrap();
        let io = with_crd();
        block_on(start(&io, lab, false)).unwrap();
        // The setup has no cluster policy; the learner applies the solution (labelled), and
        // another lab's policy exists.
        let cnp = |n: &str| (ClusterKind::ClusterNetworkPolicy, n.to_string());
        for n in ["allow-monitoring", "tenant-a-isolation"] {
            io.policies
                .borrow_mut()
                .insert(cnp(n), lab_label("admin-guardrail"));
        }
        io.policies
            .borrow_mut()
            .insert(cnp("other"), lab_label("baseline-default-deny"));
        let actions = block_on(reset(&io, lab)).unwrap();
        let remaining: Vec<String> = io
            .policies
            .borrow()
            .keys()
            .map(|(_, n)| n.clone())
            .collect();
        assert_eq!(remaining, ["other"]);
        // The solution's third policy was never applied: not found, no error.
        assert!(actions.contains(&(
            "clusternetworkpolicy/tenant-b-isolation".to_string(),
            ResetAction::NotFound
        )));
        // The namespaces went too.
        assert!(io.namespaces.borrow().is_empty());
    }
}
