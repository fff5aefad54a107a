//! `install-enforcer`, `uninstall-enforcer`, `enforcer status` and `enforcer drops`: the objects
//! (the embedded `manifests/enforcer/`), when to refuse (a CNI that enforces policies itself),
//! the order of applying and deleting, and the waiting. Every Kubernetes call goes through
//! [`EnforcerCluster`], so all of this is unit-tested with a test double; [`KubeCluster`] is
//! the real one.
//!
//! - [`manifests`]: the objects, from the embedded manifests (the RBAC rules are
//!   `manifests/enforcer/10-rbac.yaml` and nowhere else), set up by the flags.
//! - [`cni`]: the network plugins next to which installing is refused.
//! - [`rollout`]: apply in order and wait for every node; [`uninstall`]: the reverse.
//! - [`agents`]: `enforcer status` and `enforcer drops`, asked of every agent.
//! - [`kube_cluster`]: [`EnforcerCluster`] over kube.

use std::time::Duration;

pub mod agents;
pub mod cni;
pub mod kube_cluster;
pub mod manifests;
pub mod rollout;
#[cfg(test)]
mod tests;
pub mod uninstall;

pub use agents::{drops, status, NodeAgent};
pub use cni::{detect_policy_cni, Workload};
pub use kube_cluster::KubeCluster;
pub use manifests::{objects, objects_yaml, AgentSettings, Object, MANIFESTS};
pub use rollout::{install, InstallOptions, Step};
pub use uninstall::uninstall;

pub const NAMESPACE: &str = "netpol-system";
pub const NAME: &str = "netpol-enforcer";
/// The label selector of the agent pods.
pub const SELECTOR: &str = "app.kubernetes.io/name=netpol-enforcer";
pub const FIELD_MANAGER: &str = "kubectl-netpol";
pub const DEFAULT_IMAGE: &str = concat!(
    "ghcr.io/kubectl-netpol/netpol-enforcer:",
    env!("CARGO_PKG_VERSION")
);

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
