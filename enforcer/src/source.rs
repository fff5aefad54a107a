//! The production input of the agent: one kube-runtime watcher per kind (pods, namespaces,
//! networkpolicies, cluster-wide: peers on other nodes matter too), with the default backoff
//! (a broken watch is re-listed, never fatal), each event forwarded as a [`Change`].
//!
//! The cluster-scoped kinds (ClusterNetworkPolicy, AdminNetworkPolicy,
//! BaselineAdminNetworkPolicy) are watched the same way whether or not their CRDs exist: while
//! the API answers 404 (no CRD) or 403 (no permission) the agent is told the kind is absent
//! (so it does not wait for it), and the watcher's backoff keeps trying (at most 30 s apart),
//! so a CRD created later is listed and enforced without a restart.
//!
//! Nodes are watched for the `nodes` peers of cluster policies (which stand for the Nodes'
//! addresses). A 403 (the ClusterRole of an older install grants only `get`) counts as no
//! Nodes, with a warning, so the agent still enforces everything else.
//!
//! Pods are trimmed before they are kept (managed fields, annotations, volumes, env, statuses
//! of containers): the parser needs labels, ports, node, hostNetwork, addresses and phase.
//! Nodes keep only their name, labels and `status.addresses` (their images and conditions are
//! most of their size, and a status heartbeat then parses to the same Node: no recompile).

use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::{Namespace, Node, NodeStatus, Pod};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Client};
use netpol::model::ClusterKind;
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

/// Keeps what a `nodes` peer needs: name, labels, addresses.
fn trim_node(node: &mut Node) {
    node.metadata.managed_fields = None;
    node.metadata.annotations = None;
    node.metadata.owner_references = None;
    node.spec = None;
    node.status = node.status.take().map(|st| NodeStatus {
        addresses: st.addresses,
        ..NodeStatus::default()
    });
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

/// The HTTP status of a watch error from the API server, if it has one.
fn api_status(e: &watcher::Error) -> Option<u16> {
    match e {
        watcher::Error::InitialListFailed(kube::Error::Api(s))
        | watcher::Error::WatchStartFailed(kube::Error::Api(s))
        | watcher::Error::WatchFailed(kube::Error::Api(s)) => Some(s.code),
        watcher::Error::WatchError(s) => Some(s.code),
        _ => None,
    }
}

/// Forwards one cluster-scoped kind; 404/403 from the API means the kind is absent (said
/// once per absence, and to the cache so it does not wait for a listing).
async fn forward_cluster<S>(stream: S, tx: mpsc::Sender<Change>, kind: ClusterKind)
where
    S: Stream<Item = Result<watcher::Event<DynamicObject>, watcher::Error>>,
{
    let mut stream = std::pin::pin!(stream);
    let mut absent = false;
    while let Some(item) = stream.next().await {
        let change = match item {
            Ok(ev) => {
                absent = false;
                Change::Cluster(kind, ev)
            }
            Err(e) => match api_status(&e) {
                Some(code @ (403 | 404)) => {
                    if absent {
                        continue;
                    }
                    absent = true;
                    if code == 404 {
                        tracing::info!(
                            "no {} CRD in the cluster: none to enforce; watching for it",
                            kind.plural()
                        );
                    } else {
                        tracing::warn!("not allowed to watch {} (403): they are NOT enforced; grant get/list/watch (install-enforcer does)", kind.plural());
                    }
                    Change::ClusterAbsent(kind)
                }
                _ => {
                    tracing::warn!("watching {} failed (retrying): {e}", kind.plural());
                    continue;
                }
            },
        };
        if tx.send(change).await.is_err() {
            return;
        }
    }
}

/// Forwards the Node watch; a 403 (or 404) means no Nodes can be read: the agent is told so
/// (once per refusal) and does not wait for a listing, and the backoff keeps trying.
async fn forward_nodes<S>(stream: S, tx: mpsc::Sender<Change>)
where
    S: Stream<Item = Result<watcher::Event<Node>, watcher::Error>>,
{
    let mut stream = std::pin::pin!(stream);
    let mut refused = false;
    while let Some(item) = stream.next().await {
        let change = match item {
            Ok(ev) => {
                refused = false;
                Change::Node(ev)
            }
            Err(e) => match api_status(&e) {
                Some(code @ (403 | 404)) => {
                    if refused {
                        continue;
                    }
                    refused = true;
                    tracing::warn!("not allowed to list/watch nodes ({code}): `nodes` peers of cluster policies match no node; grant list and watch on nodes (install-enforcer does)");
                    Change::NodesForbidden
                }
                _ => {
                    tracing::warn!("watching nodes failed (retrying): {e}");
                    continue;
                }
            },
        };
        if tx.send(change).await.is_err() {
            return;
        }
    }
}

/// The API resource of a cluster-scoped kind (group/version from its apiVersion).
fn cluster_resource(kind: ClusterKind) -> ApiResource {
    let (group, version) = kind
        .api_version()
        .split_once('/')
        .unwrap_or(("", kind.api_version()));
    let gvk = GroupVersionKind::gvk(group, version, kind.kind());
    ApiResource::from_gvk_with_plural(&gvk, kind.plural())
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

/// Starts the watches (pods, namespaces, NetworkPolicies, the three cluster-scoped kinds and
/// Nodes); they run until the receiver is dropped.
pub fn spawn_watches(client: Client, tx: mpsc::Sender<Change>) {
    let cfg = watcher::Config::default;
    for kind in ClusterKind::ALL {
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &cluster_resource(kind));
        let stream = watcher(api, cfg())
            .default_backoff()
            .modify(|o: &mut DynamicObject| o.metadata.managed_fields = None);
        tokio::spawn(forward_cluster(stream, tx.clone(), kind));
    }
    let nodes = watcher(Api::<Node>::all(client.clone()), cfg())
        .default_backoff()
        .modify(trim_node);
    tokio::spawn(forward_nodes(nodes, tx.clone()));
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

    #[test]
    fn node_trimming_keeps_what_a_nodes_peer_needs() {
        let mut node: Node = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "n1", "labels": {"role": "worker"}, "annotations": {"big": "x"}},
            "spec": {"podCIDR": "10.0.0.0/24"},
            "status": {"addresses": [{"type": "InternalIP", "address": "192.0.2.1"},
                                     {"type": "Hostname", "address": "n1"},
                                     {"type": "InternalIP", "address": "2001:db8::1"}],
                       "images": [{"names": ["a"], "sizeBytes": 1}],
                       "conditions": [{"type": "Ready", "status": "True"}]}
        }))
        .unwrap();
        let before = crate::cache::parse_node_for_test(&node);
        trim_node(&mut node);
        assert!(node.spec.is_none() && node.metadata.annotations.is_none());
        assert!(node.status.as_ref().unwrap().images.is_none());
        let after = crate::cache::parse_node_for_test(&node);
        assert_eq!(after, before);
        let n = after.unwrap().unwrap();
        assert_eq!(
            (n.name.as_str(), n.labels["role"].as_str()),
            ("n1", "worker")
        );
        assert_eq!(n.addresses.len(), 2, "{:?}", n.addresses);
    }

    #[test]
    fn cluster_kinds_are_watched_under_their_group_version_and_plural() {
        let r = cluster_resource(ClusterKind::ClusterNetworkPolicy);
        assert_eq!(
            (r.group.as_str(), r.version.as_str(), r.plural.as_str()),
            (
                "policy.networking.k8s.io",
                "v1alpha2",
                "clusternetworkpolicies"
            )
        );
        let r = cluster_resource(ClusterKind::BaselineAdminNetworkPolicy);
        assert_eq!(r.api_version, "policy.networking.k8s.io/v1alpha1");
        assert_eq!(r.kind, "BaselineAdminNetworkPolicy");
    }
}
