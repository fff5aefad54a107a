//! `enforcer status` and `enforcer drops`: what every agent reports about itself.

use super::{AgentPod, EnforcerCluster, InstallError, Rollout};
use crate::enforce::status::{AgentStatus, DropsDoc};

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
