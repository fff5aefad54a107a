//! The production input of the agent: one kube-runtime watcher per kind (pods, namespaces,
//! networkpolicies, cluster-wide: peers on other nodes matter too), with the default backoff
//! (a broken watch is re-listed, never fatal), each event forwarded as a [`Change`].
//!
//! Pods are trimmed before they are kept (managed fields, annotations, volumes, env, statuses
//! of containers): the parser needs labels, ports, node, hostNetwork, addresses and phase.

use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::{Namespace, Node, Pod};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Client};
use tokio::sync::mpsc;

use crate::cache::Change;

fn trim_pod(pod: &mut Pod) {
    pod.metadata.managed_fields = None;
    pod.metadata.annotations = None;
    pod.metadata.owner_references = None;
    if let Some(spec) = pod.spec.as_mut() {
        spec.volumes = None;
        spec.affinity = None;
        spec.tolerations = None;
        for c in spec
            .containers
            .iter_mut()
            .chain(spec.init_containers.iter_mut().flatten())
        {
            c.env = None;
            c.env_from = None;
            c.volume_mounts = None;
            c.command = None;
            c.args = None;
            c.liveness_probe = None;
            c.readiness_probe = None;
            c.startup_probe = None;
            c.resources = None;
        }
    }
    if let Some(st) = pod.status.as_mut() {
        st.conditions = None;
        st.container_statuses = None;
        st.init_container_statuses = None;
    }
}

async fn forward<K, S>(
    stream: S,
    tx: mpsc::Sender<Change>,
    wrap: fn(watcher::Event<K>) -> Change,
    kind: &'static str,
) where
    S: Stream<Item = Result<watcher::Event<K>, watcher::Error>>,
{
    let mut stream = std::pin::pin!(stream);
    while let Some(item) = stream.next().await {
        match item {
            Ok(ev) => {
                if tx.send(wrap(ev)).await.is_err() {
                    return;
                }
            }
            // The backoff retries; say why so an RBAC or network problem is visible.
            Err(e) => tracing::warn!("watching {kind} failed (retrying): {e}"),
        }
    }
}

/// The pod address ranges of `node` (`spec.podCIDRs`, else `spec.podCIDR`). Empty when the
/// node has none (some IPAMs ignore them) or cannot be read: the caller warns.
pub async fn node_pod_cidrs(client: &Client, node: &str) -> Vec<ipnet::IpNet> {
    let api = Api::<Node>::all(client.clone());
    let mut delay = std::time::Duration::from_millis(200);
    for attempt in 1..=5 {
        match api.get(node).await {
            Ok(n) => {
                let spec = n.spec.unwrap_or_default();
                let texts = spec
                    .pod_cidrs
                    .filter(|v| !v.is_empty())
                    .or_else(|| spec.pod_cidr.map(|c| vec![c]))
                    .unwrap_or_default();
                return texts
                    .iter()
                    .filter_map(|t| match t.parse::<ipnet::IpNet>() {
                        Ok(n) => Some(n.trunc()),
                        Err(e) => {
                            tracing::warn!("node {node}: pod CIDR {t:?} is not a CIDR: {e}");
                            None
                        }
                    })
                    .collect();
            }
            Err(e) if attempt < 5 => {
                tracing::warn!("reading node {node} failed (attempt {attempt}, retrying): {e}");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(e) => tracing::warn!("reading node {node} failed: {e}"),
        }
    }
    Vec::new()
}

/// Starts the three watches; they run until the receiver is dropped.
pub fn spawn_watches(client: Client, tx: mpsc::Sender<Change>) {
    let cfg = watcher::Config::default;
    let pods = watcher(Api::<Pod>::all(client.clone()), cfg())
        .default_backoff()
        .modify(trim_pod);
    tokio::spawn(forward(pods, tx.clone(), Change::Pod, "pods"));
    let namespaces = watcher(Api::<Namespace>::all(client.clone()), cfg())
        .default_backoff()
        .modify(|n: &mut Namespace| n.metadata.managed_fields = None);
    tokio::spawn(forward(
        namespaces,
        tx.clone(),
        Change::Namespace,
        "namespaces",
    ));
    let policies = watcher(Api::<NetworkPolicy>::all(client), cfg())
        .default_backoff()
        .modify(|p: &mut NetworkPolicy| p.metadata.managed_fields = None);
    tokio::spawn(forward(policies, tx, Change::Policy, "networkpolicies"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trimming_keeps_what_the_parser_reads() {
        let mut pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"namespace": "a", "name": "p", "labels": {"app": "x"},
                         "annotations": {"big": "x"}},
            "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "i",
                     "env": [{"name": "A", "value": "1"}],
                     "ports": [{"name": "http", "containerPort": 80}]}]},
            "status": {"phase": "Running", "podIP": "10.0.0.1",
                       "podIPs": [{"ip": "10.0.0.1"}, {"ip": "fd00::1"}],
                       "conditions": [{"type": "Ready", "status": "True"}]}
        }))
        .unwrap();
        let before = crate::cache::parse_pod_for_test(&pod);
        trim_pod(&mut pod);
        assert!(pod.metadata.annotations.is_none());
        assert_eq!(crate::cache::parse_pod_for_test(&pod), before);
        assert_eq!(before.unwrap().unwrap().ips.len(), 2);
    }
}
