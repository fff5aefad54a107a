//! `install-enforcer`, `uninstall-enforcer`, `enforcer status` and `enforcer drops`: the objects
//! (the embedded `manifests/enforcer/`), when to refuse (a CNI that enforces policies itself),
//! the order of applying and deleting, and the waiting. Every Kubernetes call goes through
//! [`EnforcerCluster`], so all of this is unit-tested with a test double; [`KubeCluster`] is
//! the real one.

use std::time::Duration;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Namespace, Pod, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use kube::Client;

use super::status::{AgentStatus, DropsDoc, AGENT_PORT};

pub const NAMESPACE: &str = "netpol-system";
pub const NAME: &str = "netpol-enforcer";
/// The label selector of the agent pods.
pub const SELECTOR: &str = "app.kubernetes.io/name=netpol-enforcer";
pub const FIELD_MANAGER: &str = "kubectl-netpol";
pub const DEFAULT_IMAGE: &str = concat!(
    "ghcr.io/kubectl-netpol/netpol-enforcer:",
    env!("CARGO_PKG_VERSION")
);

/// The manifests, in the order they are applied.
pub const MANIFESTS: [(&str, &str); 3] = [
    (
        "manifests/enforcer/00-namespace.yaml",
        include_str!("../../manifests/enforcer/00-namespace.yaml"),
    ),
    (
        "manifests/enforcer/10-rbac.yaml",
        include_str!("../../manifests/enforcer/10-rbac.yaml"),
    ),
    (
        "manifests/enforcer/20-daemonset.yaml",
        include_str!("../../manifests/enforcer/20-daemonset.yaml"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// A CNI that enforces NetworkPolicy itself is installed (exit 3; --force overrides).
    #[error("{0}")]
    Refused(String),
    /// The API said no or could not be reached (exit 3).
    #[error("{0}")]
    Api(String),
    /// The rollout or the removal did not finish in time (exit 3).
    #[error("{0}")]
    Timeout(String),
    /// The embedded manifests are broken (a bug of this build).
    #[error("the embedded enforcer manifests are invalid: {0}")]
    Manifest(String),
    /// Bad flags (exit 2).
    #[error("{0}")]
    Usage(String),
}

/// One object of the enforcer, typed.
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    Namespace(Namespace),
    ServiceAccount(ServiceAccount),
    ClusterRole(ClusterRole),
    ClusterRoleBinding(ClusterRoleBinding),
    DaemonSet(Box<DaemonSet>),
}

impl Object {
    pub fn kind(&self) -> &'static str {
        match self {
            Object::Namespace(_) => "Namespace",
            Object::ServiceAccount(_) => "ServiceAccount",
            Object::ClusterRole(_) => "ClusterRole",
            Object::ClusterRoleBinding(_) => "ClusterRoleBinding",
            Object::DaemonSet(_) => "DaemonSet",
        }
    }

    fn meta(&self) -> &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
        match self {
            Object::Namespace(o) => &o.metadata,
            Object::ServiceAccount(o) => &o.metadata,
            Object::ClusterRole(o) => &o.metadata,
            Object::ClusterRoleBinding(o) => &o.metadata,
            Object::DaemonSet(o) => &o.metadata,
        }
    }

    pub fn name(&self) -> String {
        self.meta().name.clone().unwrap_or_default()
    }

    pub fn namespace(&self) -> Option<String> {
        self.meta().namespace.clone()
    }

    /// `kind/name` (and the namespace), as kubectl prints it.
    pub fn describe(&self) -> String {
        match self.namespace() {
            Some(ns) => format!("{}/{} in {ns}", self.kind().to_lowercase(), self.name()),
            None => format!("{}/{}", self.kind().to_lowercase(), self.name()),
        }
    }

    fn to_yaml(&self) -> Result<String, serde_yaml::Error> {
        match self {
            Object::Namespace(o) => serde_yaml::to_string(o),
            Object::ServiceAccount(o) => serde_yaml::to_string(o),
            Object::ClusterRole(o) => serde_yaml::to_string(o),
            Object::ClusterRoleBinding(o) => serde_yaml::to_string(o),
            Object::DaemonSet(o) => serde_yaml::to_string(o),
        }
    }
}

/// How the agents are set up on the nodes (install-enforcer's flags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSettings {
    /// The agent image (None: this version's release image).
    pub image: Option<String>,
    /// The nodes' CNI configuration directory (None: /etc/cni/net.d).
    pub cni_conf_dir: Option<String>,
    /// The nodes' CNI plugin directory (None: /opt/cni/bin).
    pub cni_bin_dir: Option<String>,
    /// Chain the agent's CNI plugin so pod start waits for placement (else: the hold alone).
    pub cni_chain: bool,
    /// The agents delete the conntrack entries of open connections an update denies.
    pub terminate_established: bool,
}

impl Default for AgentSettings {
    fn default() -> Self {
        AgentSettings {
            image: None,
            cni_conf_dir: None,
            cni_bin_dir: None,
            cni_chain: true,
            terminate_established: false,
        }
    }
}

/// Points the DaemonSet's hostPath volumes and flags at what `agent` says.
fn set_up_daemonset(ds: &mut DaemonSet, agent: &AgentSettings) {
    let Some(spec) = ds.spec.as_mut().and_then(|s| s.template.spec.as_mut()) else {
        return;
    };
    for c in &mut spec.containers {
        if let Some(img) = &agent.image {
            c.image = Some(img.clone());
        }
        if !agent.cni_chain {
            c.args.get_or_insert_with(Vec::new).push("--no-cni".into());
        }
        if agent.terminate_established {
            c.args
                .get_or_insert_with(Vec::new)
                .push("--terminate-established".into());
        }
    }
    for v in spec.volumes.iter_mut().flatten() {
        let path = match v.name.as_str() {
            "cni-conf" => &agent.cni_conf_dir,
            "cni-bin" => &agent.cni_bin_dir,
            _ => continue,
        };
        if let (Some(p), Some(host)) = (path, v.host_path.as_mut()) {
            host.path = p.clone();
        }
    }
}

/// The enforcer's objects, from the embedded manifests, set up as `agent` says.
pub fn objects(agent: &AgentSettings) -> Result<Vec<Object>, InstallError> {
    for (flag, dir) in [
        ("--cni-conf-dir", &agent.cni_conf_dir),
        ("--cni-bin-dir", &agent.cni_bin_dir),
    ] {
        if let Some(d) = dir {
            if !d.starts_with('/') {
                return Err(InstallError::Usage(format!(
                    "{flag} {d:?} must be an absolute path on the nodes (e.g. /etc/cni/net.d)"
                )));
            }
        }
    }
    let image = agent.image.as_deref();
    if let Some(img) = image {
        if img.trim().is_empty() || img.contains(char::is_whitespace) {
            return Err(InstallError::Usage(format!(
                "--image {img:?} is not an image reference (e.g. ghcr.io/you/netpol-enforcer:1.0)"
            )));
        }
    }
    let mut out = Vec::new();
    for (file, text) in MANIFESTS {
        for doc in serde_yaml::Deserializer::from_str(text) {
            let bad = |e: serde_yaml::Error| InstallError::Manifest(format!("{file}: {e}"));
            let value: serde_yaml::Value = serde::Deserialize::deserialize(doc).map_err(bad)?;
            if value.is_null() {
                continue;
            }
            let kind = value
                .get("kind")
                .and_then(|k| k.as_str())
                .unwrap_or_default()
                .to_string();
            out.push(match kind.as_str() {
                "Namespace" => Object::Namespace(serde_yaml::from_value(value).map_err(bad)?),
                "ServiceAccount" => {
                    Object::ServiceAccount(serde_yaml::from_value(value).map_err(bad)?)
                }
                "ClusterRole" => Object::ClusterRole(serde_yaml::from_value(value).map_err(bad)?),
                "ClusterRoleBinding" => {
                    Object::ClusterRoleBinding(serde_yaml::from_value(value).map_err(bad)?)
                }
                "DaemonSet" => {
                    let mut ds: DaemonSet = serde_yaml::from_value(value).map_err(bad)?;
                    set_up_daemonset(&mut ds, agent);
                    Object::DaemonSet(Box::new(ds))
                }
                other => {
                    return Err(InstallError::Manifest(format!(
                        "{file}: unexpected kind {other:?}"
                    )))
                }
            });
        }
    }
    Ok(out)
}

/// What `--dry-run` prints: the objects exactly as they would be applied.
pub fn objects_yaml(objects: &[Object]) -> Result<String, InstallError> {
    let mut out = String::new();
    for o in objects {
        out.push_str("---\n");
        out.push_str(
            &o.to_yaml()
                .map_err(|e| InstallError::Manifest(e.to_string()))?,
        );
    }
    Ok(out)
}

/// A DaemonSet, Deployment or pod that might be a CNI's, with its container images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workload {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub images: Vec<String>,
}

/// Network plugins that enforce NetworkPolicy themselves: (what to tell, names of their
/// workloads, fragments of their images).
const POLICY_CNIS: &[(&str, &[&str], &[&str])] = &[
    ("Calico", &["calico-node", "canal"], &["calico/node"]),
    ("Cilium", &["cilium", "anetd"], &["cilium/cilium"]),
    ("kube-router", &["kube-router"], &["kube-router"]),
    ("Antrea", &["antrea-agent"], &["antrea/antrea"]),
    ("Weave Net", &["weave-net"], &["weaveworks/weave-kube"]),
    (
        "kube-network-policies",
        &["kube-network-policies"],
        &["kube-network-policies"],
    ),
    ("OVN-Kubernetes", &["ovnkube-node"], &[]),
    (
        "the AWS VPC CNI network policy agent",
        &[],
        &["aws-network-policy-agent"],
    ),
    (
        "Azure Network Policy Manager",
        &["azure-npm"],
        &["azure-npm"],
    ),
];

/// The first policy-enforcing CNI among the workloads: (its name, the workload that shows it).
pub fn detect_policy_cni(workloads: &[Workload]) -> Option<(String, String)> {
    for w in workloads {
        if w.name == NAME {
            continue;
        }
        for (cni, names, images) in POLICY_CNIS {
            let by_name = names
                .iter()
                .any(|n| w.name == *n || w.name.starts_with(&format!("{n}-")));
            let by_image = images
                .iter()
                .any(|i| w.images.iter().any(|img| img.contains(i)));
            if by_name || by_image {
                return Some((
                    cni.to_string(),
                    format!("{} {}/{}", w.kind.to_lowercase(), w.namespace, w.name),
                ));
            }
        }
    }
    None
}

/// The DaemonSet's rollout.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rollout {
    pub desired: u32,
    pub updated: u32,
    pub available: u32,
    /// The controller has seen the latest spec (observedGeneration >= generation).
    pub observed: bool,
}

impl Rollout {
    pub fn done(&self) -> bool {
        self.observed && self.updated >= self.desired && self.available >= self.desired
    }
}

/// One agent pod.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentPod {
    pub name: String,
    pub node: Option<String>,
    pub phase: String,
    pub ready: bool,
    pub restarts: u32,
    /// Why the container is not running (CrashLoopBackOff, ErrImagePull, ...).
    pub waiting: Option<String>,
    pub terminating: bool,
}

/// The Kubernetes calls the enforcer's commands make.
// Only used generically (never as `dyn`), so the auto-trait bounds of the futures do not matter.
#[allow(async_fn_in_trait)]
pub trait EnforcerCluster {
    /// DaemonSets of every namespace (kube-system only without permission) and the pods of
    /// kube-system: where a CNI shows itself.
    async fn workloads(&self) -> Result<Vec<Workload>, InstallError>;
    /// Server-side apply, field manager `kubectl-netpol`.
    async fn apply(&self, object: &Object) -> Result<(), InstallError>;
    /// Deletes an object of the enforcer's; false when it did not exist.
    async fn delete(&self, object: &Object) -> Result<bool, InstallError>;
    /// None when the DaemonSet does not exist.
    async fn rollout(&self) -> Result<Option<Rollout>, InstallError>;
    async fn agent_pods(&self) -> Result<Vec<AgentPod>, InstallError>;
    /// GET on an agent's HTTP port (through the API server's pod proxy).
    async fn agent_get(&self, pod: &str, path: &str) -> Result<String, InstallError>;
    async fn sleep(&self, d: Duration);
}

#[derive(Debug, Clone)]
pub struct InstallOptions {
    pub agent: AgentSettings,
    pub force: bool,
    pub timeout: Duration,
    pub poll: Duration,
}

impl Default for InstallOptions {
    fn default() -> Self {
        InstallOptions {
            agent: AgentSettings::default(),
            force: false,
            timeout: Duration::from_secs(300),
            poll: Duration::from_secs(2),
        }
    }
}

/// Progress, for the CLI's messages and bar.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// A policy-enforcing CNI was found and --force overrode the refusal.
    Forced {
        cni: String,
        evidence: String,
    },
    Applied(String),
    Rollout(Rollout),
    Deleted(String),
    /// Agent pods still terminating (removing their rules).
    Terminating(usize),
}

fn describe_pods(pods: &[AgentPod]) -> String {
    let bad: Vec<String> = pods
        .iter()
        .filter(|p| !p.ready)
        .map(|p| {
            format!(
                "{} on {}: {}{}",
                p.name,
                p.node.as_deref().unwrap_or("no node yet"),
                p.waiting.as_deref().unwrap_or(&p.phase),
                if p.restarts > 0 {
                    format!(" ({} restarts)", p.restarts)
                } else {
                    String::new()
                }
            )
        })
        .collect();
    if bad.is_empty() {
        String::new()
    } else {
        format!("; not ready: {}", bad.join(", "))
    }
}

/// Refuses when a policy-enforcing CNI is installed (unless forced), applies every object in
/// order and waits for the DaemonSet to be rolled out on every node.
pub async fn install<C: EnforcerCluster>(
    cluster: &C,
    opts: &InstallOptions,
    on_step: &mut dyn FnMut(Step),
) -> Result<Rollout, InstallError> {
    let objects = objects(&opts.agent)?;
    if let Some((cni, evidence)) = detect_policy_cni(&cluster.workloads().await?) {
        if !opts.force {
            return Err(InstallError::Refused(format!(
                "{cni} is installed ({evidence}) and enforces NetworkPolicy itself: a second \
                 enforcer would only add cost and confusion. Use --force to install anyway."
            )));
        }
        on_step(Step::Forced { cni, evidence });
    }
    for o in &objects {
        cluster.apply(o).await?;
        on_step(Step::Applied(o.describe()));
    }
    let polls = (opts.timeout.as_millis() / opts.poll.as_millis().max(1)).max(1);
    let mut last = Rollout::default();
    for _ in 0..polls {
        if let Some(r) = cluster.rollout().await? {
            last = r;
            on_step(Step::Rollout(r));
            if r.done() {
                return Ok(r);
            }
        }
        cluster.sleep(opts.poll).await;
    }
    let pods = cluster.agent_pods().await.unwrap_or_default();
    Err(InstallError::Timeout(format!(
        "the enforcer is not ready on every node after {}s: {} of {} agents available{}",
        opts.timeout.as_secs(),
        last.available,
        last.desired,
        describe_pods(&pods)
    )))
}

/// Deletes the DaemonSet, waits until its pods are gone (on SIGTERM each removes its chains
/// and sets), then deletes the rest. Returns how many objects existed.
pub async fn uninstall<C: EnforcerCluster>(
    cluster: &C,
    opts: &InstallOptions,
    on_step: &mut dyn FnMut(Step),
) -> Result<usize, InstallError> {
    let objects = objects(&AgentSettings::default())?;
    let mut existed = 0;
    let (ds, rest): (Vec<&Object>, Vec<&Object>) = objects
        .iter()
        .partition(|o| matches!(o, Object::DaemonSet(_)));
    for o in &ds {
        if cluster.delete(o).await? {
            existed += 1;
            on_step(Step::Deleted(o.describe()));
        }
    }
    let polls = (opts.timeout.as_millis() / opts.poll.as_millis().max(1)).max(1);
    let mut gone = false;
    for _ in 0..polls {
        let pods = cluster.agent_pods().await?;
        if pods.is_empty() {
            gone = true;
            break;
        }
        on_step(Step::Terminating(pods.len()));
        cluster.sleep(opts.poll).await;
    }
    if !gone {
        return Err(InstallError::Timeout(format!(
            "enforcer pods are still terminating after {}s; their rules are removed when they \
             stop (run uninstall-enforcer again to finish)",
            opts.timeout.as_secs()
        )));
    }
    // The reverse of the apply order: the binding before the role, the namespace last.
    for o in rest.iter().rev() {
        if cluster.delete(o).await? {
            existed += 1;
            on_step(Step::Deleted(o.describe()));
        }
    }
    Ok(existed)
}

/// One agent as `enforcer status` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeAgent {
    pub pod: AgentPod,
    pub status: Option<AgentStatus>,
    /// Why the status could not be read.
    pub error: Option<String>,
}

/// The DaemonSet's rollout and every agent's own report.
pub async fn status<C: EnforcerCluster>(
    cluster: &C,
) -> Result<(Option<Rollout>, Vec<NodeAgent>), InstallError> {
    let rollout = cluster.rollout().await?;
    let mut out = Vec::new();
    for pod in cluster.agent_pods().await? {
        let (status, error) = if pod.phase != "Running" {
            (None, Some(format!("pod is {}", pod.phase)))
        } else {
            match cluster.agent_get(&pod.name, "/status").await {
                Ok(text) => match serde_json::from_str::<AgentStatus>(&text) {
                    Ok(s) => (Some(s), None),
                    Err(e) => (None, Some(format!("unreadable status: {e}"))),
                },
                Err(e) => (None, Some(e.to_string())),
            }
        };
        out.push(NodeAgent { pod, status, error });
    }
    out.sort_by(|a, b| a.pod.node.cmp(&b.pod.node));
    Ok((rollout, out))
}

/// Recent drops of every agent (or of the agent on `node`); per agent, the document or why it
/// could not be read.
pub async fn drops<C: EnforcerCluster>(
    cluster: &C,
    node: Option<&str>,
) -> Result<Vec<(AgentPod, Result<DropsDoc, String>)>, InstallError> {
    let mut out = Vec::new();
    let pods = cluster.agent_pods().await?;
    if pods.is_empty() {
        return Err(InstallError::Api(
            "no enforcer agents are running (install them with `kubectl netpol install-enforcer`)"
                .into(),
        ));
    }
    for pod in pods {
        if node.is_some_and(|n| pod.node.as_deref() != Some(n)) {
            continue;
        }
        let doc = match cluster.agent_get(&pod.name, "/drops").await {
            Ok(text) => serde_json::from_str::<DropsDoc>(&text)
                .map_err(|e| format!("unreadable drops: {e}")),
            Err(e) => Err(e.to_string()),
        };
        out.push((pod, doc));
    }
    if out.is_empty() {
        return Err(InstallError::Usage(format!(
            "no enforcer agent runs on node {}",
            node.unwrap_or_default()
        )));
    }
    Ok(out)
}

/// The real cluster, through kube.
pub struct KubeCluster {
    pub client: Client,
}

fn api_error(what: &str, e: kube::Error) -> InstallError {
    match &e {
        kube::Error::Api(s) if s.code == 403 => InstallError::Api(format!(
            "{what}: forbidden ({}); installing the enforcer needs cluster-admin rights",
            s.message
        )),
        _ => InstallError::Api(format!("{what}: {e}")),
    }
}

fn is_not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

fn images_of(spec: Option<&k8s_openapi::api::core::v1::PodSpec>) -> Vec<String> {
    spec.map(|s| {
        s.containers
            .iter()
            .chain(s.init_containers.iter().flatten())
            .filter_map(|c| c.image.clone())
            .collect()
    })
    .unwrap_or_default()
}

impl EnforcerCluster for KubeCluster {
    async fn workloads(&self) -> Result<Vec<Workload>, InstallError> {
        let mut out = Vec::new();
        let all: Api<DaemonSet> = Api::all(self.client.clone());
        let list = match all.list(&ListParams::default()).await {
            Ok(l) => l,
            Err(kube::Error::Api(s)) if s.code == 403 => {
                Api::<DaemonSet>::namespaced(self.client.clone(), "kube-system")
                    .list(&ListParams::default())
                    .await
                    .map_err(|e| api_error("listing DaemonSets in kube-system", e))?
            }
            Err(e) => return Err(api_error("listing DaemonSets", e)),
        };
        for ds in list.items {
            out.push(Workload {
                kind: "DaemonSet".into(),
                namespace: ds.metadata.namespace.clone().unwrap_or_default(),
                name: ds.metadata.name.clone().unwrap_or_default(),
                images: images_of(ds.spec.as_ref().and_then(|s| s.template.spec.as_ref())),
            });
        }
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), "kube-system");
        for p in pods
            .list(&ListParams::default())
            .await
            .map_err(|e| api_error("listing pods in kube-system", e))?
            .items
        {
            out.push(Workload {
                kind: "Pod".into(),
                namespace: "kube-system".into(),
                name: p.metadata.name.clone().unwrap_or_default(),
                images: images_of(p.spec.as_ref()),
            });
        }
        Ok(out)
    }

    async fn apply(&self, object: &Object) -> Result<(), InstallError> {
        let pp = PatchParams::apply(FIELD_MANAGER).force();
        let name = object.name();
        let ns = object.namespace().unwrap_or_else(|| NAMESPACE.to_string());
        let what = format!("applying {}", object.describe());
        let c = self.client.clone();
        match object {
            Object::Namespace(o) => Api::<Namespace>::all(c)
                .patch(&name, &pp, &Patch::Apply(o))
                .await
                .map(|_| ()),
            Object::ServiceAccount(o) => Api::<ServiceAccount>::namespaced(c, &ns)
                .patch(&name, &pp, &Patch::Apply(o))
                .await
                .map(|_| ()),
            Object::ClusterRole(o) => Api::<ClusterRole>::all(c)
                .patch(&name, &pp, &Patch::Apply(o))
                .await
                .map(|_| ()),
            Object::ClusterRoleBinding(o) => Api::<ClusterRoleBinding>::all(c)
                .patch(&name, &pp, &Patch::Apply(o))
                .await
                .map(|_| ()),
            Object::DaemonSet(o) => Api::<DaemonSet>::namespaced(c, &ns)
                .patch(&name, &pp, &Patch::Apply(o.as_ref()))
                .await
                .map(|_| ()),
        }
        .map_err(|e| api_error(&what, e))
    }

    async fn delete(&self, object: &Object) -> Result<bool, InstallError> {
        let dp = DeleteParams::background();
        let name = object.name();
        let ns = object.namespace().unwrap_or_else(|| NAMESPACE.to_string());
        let c = self.client.clone();
        let result = match object {
            Object::Namespace(_) => Api::<Namespace>::all(c)
                .delete(&name, &dp)
                .await
                .map(|_| ()),
            Object::ServiceAccount(_) => Api::<ServiceAccount>::namespaced(c, &ns)
                .delete(&name, &dp)
                .await
                .map(|_| ()),
            Object::ClusterRole(_) => Api::<ClusterRole>::all(c)
                .delete(&name, &dp)
                .await
                .map(|_| ()),
            Object::ClusterRoleBinding(_) => Api::<ClusterRoleBinding>::all(c)
                .delete(&name, &dp)
                .await
                .map(|_| ()),
            Object::DaemonSet(_) => Api::<DaemonSet>::namespaced(c, &ns)
                .delete(&name, &dp)
                .await
                .map(|_| ()),
        };
        match result {
            Ok(()) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(api_error(&format!("deleting {}", object.describe()), e)),
        }
    }

    async fn rollout(&self) -> Result<Option<Rollout>, InstallError> {
        let api: Api<DaemonSet> = Api::namespaced(self.client.clone(), NAMESPACE);
        let Some(ds) = api
            .get_opt(NAME)
            .await
            .map_err(|e| api_error("reading the enforcer DaemonSet", e))?
        else {
            return Ok(None);
        };
        let st = ds.status.unwrap_or_default();
        let generation = ds.metadata.generation.unwrap_or(0);
        Ok(Some(Rollout {
            desired: st.desired_number_scheduled.max(0) as u32,
            updated: st.updated_number_scheduled.unwrap_or(0).max(0) as u32,
            available: st.number_available.unwrap_or(0).max(0) as u32,
            observed: st.observed_generation.unwrap_or(0) >= generation,
        }))
    }

    async fn agent_pods(&self) -> Result<Vec<AgentPod>, InstallError> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), NAMESPACE);
        let list = match api.list(&ListParams::default().labels(SELECTOR)).await {
            Ok(l) => l,
            Err(e) if is_not_found(&e) => return Ok(Vec::new()),
            Err(e) => return Err(api_error("listing the enforcer pods", e)),
        };
        Ok(list
            .items
            .into_iter()
            .map(|p| {
                let st = p.status.unwrap_or_default();
                let cs = st.container_statuses.unwrap_or_default();
                AgentPod {
                    name: p.metadata.name.unwrap_or_default(),
                    node: p.spec.and_then(|s| s.node_name),
                    phase: st.phase.unwrap_or_else(|| "Unknown".into()),
                    ready: st
                        .conditions
                        .unwrap_or_default()
                        .iter()
                        .any(|c| c.type_ == "Ready" && c.status == "True"),
                    restarts: cs.iter().map(|c| c.restart_count.max(0) as u32).sum(),
                    waiting: cs
                        .iter()
                        .filter_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone())
                        .next(),
                    terminating: p.metadata.deletion_timestamp.is_some(),
                }
            })
            .collect())
    }

    async fn agent_get(&self, pod: &str, path: &str) -> Result<String, InstallError> {
        let req = kube::core::Request::new(format!("/api/v1/namespaces/{NAMESPACE}/pods"))
            .get_subresource(&format!("proxy{path}"), &format!("{pod}:{AGENT_PORT}"))
            .map_err(|e| InstallError::Api(format!("building a request: {e}")))?;
        self.client
            .request_text(req)
            .await
            .map_err(|e| api_error(&format!("asking {pod} for {path}"), e))
    }

    async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// Records every call; the rollout and the pods follow scripts.
    #[derive(Default)]
    struct Fake {
        workloads: Vec<Workload>,
        calls: RefCell<Vec<String>>,
        rollouts: RefCell<Vec<Option<Rollout>>>,
        pods: RefCell<Vec<Vec<AgentPod>>>,
        existing: Vec<&'static str>,
        agent: RefCell<Vec<(String, Result<String, String>)>>,
    }

    impl EnforcerCluster for Fake {
        async fn workloads(&self) -> Result<Vec<Workload>, InstallError> {
            self.calls.borrow_mut().push("workloads".into());
            Ok(self.workloads.clone())
        }
        async fn apply(&self, o: &Object) -> Result<(), InstallError> {
            self.calls.borrow_mut().push(format!("apply {}", o.kind()));
            Ok(())
        }
        async fn delete(&self, o: &Object) -> Result<bool, InstallError> {
            self.calls.borrow_mut().push(format!("delete {}", o.kind()));
            Ok(self.existing.contains(&o.kind()))
        }
        async fn rollout(&self) -> Result<Option<Rollout>, InstallError> {
            self.calls.borrow_mut().push("rollout".into());
            let mut r = self.rollouts.borrow_mut();
            Ok(if r.len() > 1 {
                r.remove(0)
            } else {
                r.first().copied().flatten()
            })
        }
        async fn agent_pods(&self) -> Result<Vec<AgentPod>, InstallError> {
            self.calls.borrow_mut().push("pods".into());
            let mut p = self.pods.borrow_mut();
            Ok(if p.len() > 1 {
                p.remove(0)
            } else {
                p.first().cloned().unwrap_or_default()
            })
        }
        async fn agent_get(&self, pod: &str, path: &str) -> Result<String, InstallError> {
            self.calls.borrow_mut().push(format!("get {pod}{path}"));
            self.agent
                .borrow()
                .iter()
                .find(|(p, _)| p == pod)
                .map(|(_, r)| r.clone().map_err(InstallError::Api))
                .unwrap_or_else(|| Err(InstallError::Api("no such pod".into())))
        }
        async fn sleep(&self, _: Duration) {
            self.calls.borrow_mut().push("sleep".into());
        }
    }

    fn run<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    fn rollout(desired: u32, available: u32) -> Option<Rollout> {
        Some(Rollout {
            desired,
            updated: desired,
            available,
            observed: true,
        })
    }

    fn pod(name: &str, node: &str, ready: bool) -> AgentPod {
        AgentPod {
            name: name.into(),
            node: Some(node.into()),
            phase: "Running".into(),
            ready,
            ..Default::default()
        }
    }

    #[test]
    fn cni_flags_point_the_volumes_and_the_agent() {
        let agent = AgentSettings {
            cni_conf_dir: Some("/var/lib/e2e/cni/net.d".into()),
            cni_bin_dir: Some("/usr/lib/cni".into()),
            cni_chain: false,
            ..Default::default()
        };
        let objs = objects(&agent).unwrap();
        let Object::DaemonSet(ds) = &objs[4] else {
            panic!()
        };
        let spec = ds.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
        let host = |name: &str| {
            spec.volumes
                .as_ref()
                .unwrap()
                .iter()
                .find(|v| v.name == name)
                .unwrap()
                .host_path
                .as_ref()
                .unwrap()
                .path
                .clone()
        };
        assert_eq!(host("cni-conf"), "/var/lib/e2e/cni/net.d");
        assert_eq!(host("cni-bin"), "/usr/lib/cni");
        assert_eq!(host("run"), "/run/netpol-enforcer");
        assert_eq!(
            spec.containers[0].args.as_ref().unwrap(),
            &["run", "--no-cni"]
        );
        let default = objects(&AgentSettings::default()).unwrap();
        let Object::DaemonSet(ds) = &default[4] else {
            panic!()
        };
        let c = &ds
            .spec
            .as_ref()
            .unwrap()
            .template
            .spec
            .as_ref()
            .unwrap()
            .containers[0];
        assert_eq!(c.args.as_ref().unwrap(), &["run"]);
        // --terminate-established reaches the agent.
        let cut = objects(&AgentSettings {
            terminate_established: true,
            ..Default::default()
        })
        .unwrap();
        let Object::DaemonSet(ds) = &cut[4] else {
            panic!()
        };
        let args = ds
            .spec
            .as_ref()
            .unwrap()
            .template
            .spec
            .as_ref()
            .unwrap()
            .containers[0]
            .args
            .clone()
            .unwrap();
        assert_eq!(args, ["run", "--terminate-established"]);
        let relative = AgentSettings {
            cni_bin_dir: Some("opt/cni".into()),
            ..Default::default()
        };
        assert!(matches!(objects(&relative), Err(InstallError::Usage(_))));
    }

    #[test]
    fn embedded_manifests_are_the_least_privileged_daemonset() {
        let objs = objects(&AgentSettings {
            image: Some("localhost/netpol-enforcer:dev".into()),
            ..Default::default()
        })
        .unwrap();
        let kinds: Vec<&str> = objs.iter().map(Object::kind).collect();
        assert_eq!(
            kinds,
            [
                "Namespace",
                "ServiceAccount",
                "ClusterRole",
                "ClusterRoleBinding",
                "DaemonSet"
            ]
        );
        let Object::ClusterRole(role) = &objs[2] else {
            panic!()
        };
        for rule in role.rules.as_ref().unwrap() {
            for r in rule.resources.as_ref().unwrap() {
                // Read-only: nodes too (its node's pod ranges; every Node's labels and addresses
                // for `nodes` peers).
                let verbs: &[&str] = match r.as_str() {
                    "nodes"
                    | "pods"
                    | "namespaces"
                    | "networkpolicies"
                    | "clusternetworkpolicies"
                    | "adminnetworkpolicies"
                    | "baselineadminnetworkpolicies" => &["get", "list", "watch"],
                    other => panic!("the agent may not read {other}"),
                };
                assert_eq!(rule.verbs, verbs, "{r}");
            }
        }
        // The cluster-scoped policies are read (the agent enforces them when their CRDs exist).
        for kind in crate::model::ClusterKind::ALL {
            assert!(
                role.rules.as_ref().unwrap().iter().any(|rule| {
                    rule.api_groups.as_deref() == Some(&["policy.networking.k8s.io".to_string()])
                        && rule
                            .resources
                            .as_ref()
                            .unwrap()
                            .iter()
                            .any(|r| r == kind.plural())
                }),
                "{}",
                kind.plural()
            );
        }
        // Nodes are watched (the `nodes` peers of cluster policies), in the core group.
        assert!(
            role.rules.as_ref().unwrap().iter().any(|rule| {
                rule.api_groups.as_deref() == Some(&[String::new()])
                    && rule
                        .resources
                        .as_ref()
                        .unwrap()
                        .iter()
                        .any(|r| r == "nodes")
                    && ["list", "watch"]
                        .iter()
                        .all(|v| rule.verbs.iter().any(|have| have == v))
            }),
            "list and watch on nodes"
        );
        let Object::DaemonSet(ds) = &objs[4] else {
            panic!()
        };
        let spec = ds.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
        assert_eq!(spec.host_network, Some(true));
        assert!(spec.termination_grace_period_seconds.unwrap() >= 10);
        assert_eq!(
            spec.tolerations.as_ref().unwrap()[0].operator.as_deref(),
            Some("Exists")
        );
        let c = &spec.containers[0];
        assert_eq!(c.image.as_deref(), Some("localhost/netpol-enforcer:dev"));
        let sc = c.security_context.as_ref().unwrap();
        assert_eq!(sc.privileged, Some(false));
        let caps = sc.capabilities.as_ref().unwrap();
        assert_eq!(caps.add.as_ref().unwrap(), &["NET_ADMIN", "NET_RAW"]);
        assert_eq!(caps.drop.as_ref().unwrap(), &["ALL"]);
        assert!(c.resources.as_ref().unwrap().requests.is_some());
        assert!(c
            .env
            .as_ref()
            .unwrap()
            .iter()
            .any(|e| e.name == "NODE_NAME"));
        assert!(c
            .volume_mounts
            .as_ref()
            .unwrap()
            .iter()
            .any(|m| m.mount_path == "/run/xtables.lock"));
        assert_eq!(
            c.liveness_probe
                .as_ref()
                .unwrap()
                .http_get
                .as_ref()
                .unwrap()
                .path
                .as_deref(),
            Some("/healthz")
        );
        // The default image is this version's.
        let objs = objects(&AgentSettings::default()).unwrap();
        let yaml = objects_yaml(&objs).unwrap();
        assert!(yaml.contains(DEFAULT_IMAGE), "{yaml}");
        let image = |i: &str| AgentSettings {
            image: Some(i.into()),
            ..Default::default()
        };
        assert!(objects(&image("has space")).is_err());
    }

    #[test]
    fn policy_enforcing_cnis_are_recognised() {
        let w = |kind: &str, ns: &str, name: &str, image: &str| Workload {
            kind: kind.into(),
            namespace: ns.into(),
            name: name.into(),
            images: vec![image.into()],
        };
        let found = |ws: &[Workload]| detect_policy_cni(ws).map(|(c, _)| c);
        assert_eq!(
            found(&[w(
                "DaemonSet",
                "calico-system",
                "calico-node",
                "docker.io/calico/node:v3.27"
            )]),
            Some("Calico".into())
        );
        assert_eq!(
            found(&[w(
                "Pod",
                "kube-system",
                "cilium-x7k2p",
                "quay.io/cilium/cilium:v1.15"
            )]),
            Some("Cilium".into())
        );
        assert_eq!(
            found(&[w(
                "DaemonSet",
                "kube-system",
                "kube-router",
                "cloudnativelabs/kube-router"
            )]),
            Some("kube-router".into())
        );
        assert_eq!(
            found(&[w(
                "DaemonSet",
                "kube-system",
                "antrea-agent",
                "antrea/antrea-agent-ubuntu"
            )]),
            Some("Antrea".into())
        );
        assert_eq!(
            found(&[w(
                "DaemonSet",
                "kube-system",
                "weave-net",
                "weaveworks/weave-kube:2.8"
            )]),
            Some("Weave Net".into())
        );
        // Flannel, kindnet and the enforcer itself are not.
        assert_eq!(
            found(&[
                w(
                    "DaemonSet",
                    "kube-flannel",
                    "kube-flannel-ds",
                    "flannel/flannel:v0.24"
                ),
                w(
                    "DaemonSet",
                    "kube-system",
                    "kindnet",
                    "kindest/kindnetd:v20230511"
                ),
                w("DaemonSet", NAMESPACE, NAME, DEFAULT_IMAGE),
                w("Pod", "kube-system", "calicoctl-notes", "busybox"),
            ]),
            None
        );
    }

    #[test]
    fn install_refuses_next_to_calico_unless_forced() {
        let fake = Fake {
            workloads: vec![Workload {
                kind: "DaemonSet".into(),
                namespace: "kube-system".into(),
                name: "calico-node".into(),
                images: vec![],
            }],
            rollouts: RefCell::new(vec![rollout(1, 1)]),
            ..Default::default()
        };
        let err = run(install(&fake, &InstallOptions::default(), &mut |_| {})).unwrap_err();
        assert!(
            matches!(err, InstallError::Refused(ref m) if m.contains("Calico") && m.contains("--force"))
        );
        assert_eq!(*fake.calls.borrow(), ["workloads"]);
        let mut steps = Vec::new();
        let opts = InstallOptions {
            force: true,
            ..Default::default()
        };
        run(install(&fake, &opts, &mut |s| steps.push(s))).unwrap();
        assert!(matches!(&steps[0], Step::Forced { cni, .. } if cni == "Calico"));
    }

    #[test]
    fn install_applies_in_order_and_waits_for_every_node() {
        let fake = Fake {
            rollouts: RefCell::new(vec![None, rollout(3, 0), rollout(3, 2), rollout(3, 3)]),
            ..Default::default()
        };
        let mut steps = Vec::new();
        let r = run(install(&fake, &InstallOptions::default(), &mut |s| {
            steps.push(s)
        }))
        .unwrap();
        assert_eq!(r.available, 3);
        let calls = fake.calls.borrow().clone();
        assert_eq!(
            calls[..6],
            [
                "workloads",
                "apply Namespace",
                "apply ServiceAccount",
                "apply ClusterRole",
                "apply ClusterRoleBinding",
                "apply DaemonSet"
            ]
        );
        assert_eq!(calls.iter().filter(|c| *c == "rollout").count(), 4);
        let progress: Vec<u32> = steps
            .iter()
            .filter_map(|s| match s {
                Step::Rollout(r) => Some(r.available),
                _ => None,
            })
            .collect();
        assert_eq!(progress, [0, 2, 3]);
    }

    #[test]
    fn install_times_out_naming_the_pods_that_are_not_ready() {
        let fake = Fake {
            rollouts: RefCell::new(vec![rollout(2, 1)]),
            pods: RefCell::new(vec![vec![
                pod("netpol-enforcer-a", "n1", true),
                AgentPod {
                    waiting: Some("ErrImagePull".into()),
                    phase: "Pending".into(),
                    ..pod("netpol-enforcer-b", "n2", false)
                },
            ]]),
            ..Default::default()
        };
        let opts = InstallOptions {
            timeout: Duration::from_secs(10),
            poll: Duration::from_secs(2),
            ..Default::default()
        };
        let err = run(install(&fake, &opts, &mut |_| {})).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(err, InstallError::Timeout(_))
                && msg.contains("1 of 2")
                && msg.contains("netpol-enforcer-b on n2: ErrImagePull"),
            "{msg}"
        );
        assert_eq!(
            fake.calls
                .borrow()
                .iter()
                .filter(|c| *c == "rollout")
                .count(),
            5
        );
    }

    #[test]
    fn uninstall_waits_for_the_agents_before_removing_the_rest() {
        let fake = Fake {
            existing: vec![
                "DaemonSet",
                "ClusterRoleBinding",
                "ClusterRole",
                "ServiceAccount",
                "Namespace",
            ],
            pods: RefCell::new(vec![
                vec![pod("a", "n1", true), pod("b", "n2", true)],
                vec![pod("b", "n2", true)],
                vec![],
            ]),
            ..Default::default()
        };
        let n = run(uninstall(&fake, &InstallOptions::default(), &mut |_| {})).unwrap();
        assert_eq!(n, 5);
        assert_eq!(
            *fake.calls.borrow(),
            [
                "delete DaemonSet",
                "pods",
                "sleep",
                "pods",
                "sleep",
                "pods",
                "delete ClusterRoleBinding",
                "delete ClusterRole",
                "delete ServiceAccount",
                "delete Namespace"
            ]
        );
        // Nothing installed: nothing deleted, no error.
        let empty = Fake::default();
        assert_eq!(
            run(uninstall(&empty, &InstallOptions::default(), &mut |_| {})).unwrap(),
            0
        );
    }

    #[test]
    fn status_reads_every_agent_and_reports_the_silent_ones() {
        let st = AgentStatus {
            node: "n1".into(),
            ready: true,
            rules: 12,
            ..Default::default()
        };
        let fake = Fake {
            rollouts: RefCell::new(vec![rollout(2, 1)]),
            pods: RefCell::new(vec![vec![pod("b", "n2", false), pod("a", "n1", true)]]),
            agent: RefCell::new(vec![
                ("a".into(), Ok(serde_json::to_string(&st).unwrap())),
                ("b".into(), Err("connection refused".into())),
            ]),
            ..Default::default()
        };
        let (r, agents) = run(status(&fake)).unwrap();
        assert_eq!(r.unwrap().available, 1);
        assert_eq!(agents.len(), 2);
        assert_eq!(agents[0].status.as_ref().unwrap().rules, 12);
        assert!(agents[1].error.as_ref().unwrap().contains("refused"));
        let d = run(drops(&fake, Some("n9"))).unwrap_err();
        assert!(d.to_string().contains("n9"));
    }
}
