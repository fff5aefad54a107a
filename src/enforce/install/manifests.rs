//! The enforcer's objects: the embedded `manifests/enforcer/` (the only copy of its RBAC rules),
//! typed, with the DaemonSet set up as install-enforcer's flags say.

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};

use super::InstallError;

/// The manifests, in the order they are applied.
pub const MANIFESTS: [(&str, &str); 3] = [
    (
        "manifests/enforcer/00-namespace.yaml",
        include_str!("../../../manifests/enforcer/00-namespace.yaml"),
    ),
    (
        "manifests/enforcer/10-rbac.yaml",
        include_str!("../../../manifests/enforcer/10-rbac.yaml"),
    ),
    (
        "manifests/enforcer/20-daemonset.yaml",
        include_str!("../../../manifests/enforcer/20-daemonset.yaml"),
    ),
];

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
