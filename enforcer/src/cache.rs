//! The agent's view of the cluster: a reflector store whose entries are the parsed model
//! objects (`netpol::model`) rather than the API objects. Each watch event is parsed once, with
//! the same parser `kubectl netpol` uses for live objects and manifests, so a reconcile only
//! clones small structs (10,000 pods in a few milliseconds) and never re-reads JSON.
//!
//! It follows `kube::runtime::watcher::Event` exactly as `reflector::store::Writer` does:
//! `Init` starts a buffer, `InitApply` fills it, `InitDone` replaces the contents (objects not
//! listed again are gone), `Apply`/`Delete` edit in place.
//!
//! Nodes are kept (name, labels, addresses) for the `nodes` peers of cluster policies: a Node
//! change recompiles only while some cluster policy has a `nodes` peer; otherwise the rules
//! cannot depend on it and the next pod change stays incremental.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Namespace as K8sNamespace, Node as K8sNode, Pod as K8sPod};
use k8s_openapi::api::networking::v1::NetworkPolicy as K8sPolicy;
use kube::api::DynamicObject;
use kube::runtime::watcher::Event;
use kube::ResourceExt;
use netpol::model::{
    parse_cluster_policy_object, parse_namespace_object, parse_node_object, parse_pod_object,
    parse_policy_object, ClusterKind, ClusterPeer, ClusterPolicy, Namespace, Node, Pod, Policy,
    Snapshot, Source,
};

/// One change of the cluster, as the watches report it: the agent's only input.
// A Pod is large, but each change is built once and moved through the channel once; boxing
// would only add an allocation per event.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Change {
    Namespace(Event<K8sNamespace>),
    Pod(Event<K8sPod>),
    Policy(Event<K8sPolicy>),
    /// ClusterNetworkPolicy, AdminNetworkPolicy or BaselineAdminNetworkPolicy.
    Cluster(ClusterKind, Event<DynamicObject>),
    /// The kind's CRD is not installed (or not readable): there are none of them, until a
    /// watch lists them.
    ClusterAbsent(ClusterKind),
    Node(Event<K8sNode>),
    /// The API refuses to list Nodes (403: the RBAC of an older install): there are none, and
    /// nothing to wait for, until a watch lists them.
    NodesForbidden,
}

impl Change {
    /// The kind, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Change::Namespace(_) => "namespace",
            Change::Pod(_) => "pod",
            Change::Policy(_) => "networkpolicy",
            Change::Cluster(kind, _) | Change::ClusterAbsent(kind) => kind.plural(),
            Change::Node(_) | Change::NodesForbidden => "node",
        }
    }

    /// The `namespace/name` of the pod an `Apply` or `Delete` of a pod is about.
    pub fn pod_key(&self) -> Option<String> {
        match self {
            Change::Pod(Event::Apply(o) | Event::Delete(o)) => Some(store_key(o)),
            _ => None,
        }
    }

    /// A complete listing of namespaces, pods and NetworkPolicies, as the watches start with
    /// (for tests and tools that feed the agent without a cluster), in a cluster without the
    /// cluster-scoped kinds (see [`Change::cluster_list`] for those) and without Node objects
    /// (see [`Change::node_list`]).
    pub fn initial_list(
        namespaces: Vec<K8sNamespace>,
        pods: Vec<K8sPod>,
        policies: Vec<K8sPolicy>,
    ) -> Vec<Change> {
        let mut out = vec![Change::Namespace(Event::Init)];
        out.extend(
            namespaces
                .into_iter()
                .map(|o| Change::Namespace(Event::InitApply(o))),
        );
        out.push(Change::Namespace(Event::InitDone));
        out.push(Change::Pod(Event::Init));
        out.extend(pods.into_iter().map(|o| Change::Pod(Event::InitApply(o))));
        out.push(Change::Pod(Event::InitDone));
        out.push(Change::Policy(Event::Init));
        out.extend(
            policies
                .into_iter()
                .map(|o| Change::Policy(Event::InitApply(o))),
        );
        out.push(Change::Policy(Event::InitDone));
        out.extend(ClusterKind::ALL.map(Change::ClusterAbsent));
        out.extend(Change::node_list(Vec::new()));
        out
    }

    /// A complete listing of the Nodes.
    pub fn node_list(nodes: Vec<K8sNode>) -> Vec<Change> {
        let mut out = vec![Change::Node(Event::Init)];
        out.extend(nodes.into_iter().map(|o| Change::Node(Event::InitApply(o))));
        out.push(Change::Node(Event::InitDone));
        out
    }

    /// A complete listing of one cluster-scoped kind.
    pub fn cluster_list(kind: ClusterKind, objects: Vec<DynamicObject>) -> Vec<Change> {
        let mut out = vec![Change::Cluster(kind, Event::Init)];
        out.extend(
            objects
                .into_iter()
                .map(|o| Change::Cluster(kind, Event::InitApply(o))),
        );
        out.push(Change::Cluster(kind, Event::InitDone));
        out
    }
}

/// The objects of one kind.
#[derive(Debug)]
struct Store<T> {
    items: BTreeMap<String, T>,
    buffer: Option<BTreeMap<String, T>>,
    /// Listed completely at least once.
    synced: bool,
    /// Objects that could not be read, by key, with the reason.
    unreadable: BTreeMap<String, String>,
    unreadable_buffer: BTreeMap<String, String>,
}

impl<T> Default for Store<T> {
    fn default() -> Self {
        Store {
            items: BTreeMap::new(),
            buffer: None,
            synced: false,
            unreadable: BTreeMap::new(),
            unreadable_buffer: BTreeMap::new(),
        }
    }
}

impl<T> Store<T> {
    /// Applies one event; `parse` turns an API object into its model (None: not an endpoint,
    /// e.g. a finished pod; Err: unreadable).
    fn apply<K: ResourceExt>(
        &mut self,
        event: &Event<K>,
        parse: impl Fn(&K) -> Result<Option<T>, String>,
    ) {
        let key = store_key::<K>;
        match event {
            Event::Init => {
                self.buffer = Some(BTreeMap::new());
                self.unreadable_buffer.clear();
            }
            Event::InitApply(o) | Event::Apply(o) => {
                let k = key(o);
                let parsed = parse(o);
                let (target, unreadable) = match (event, self.buffer.as_mut()) {
                    (Event::InitApply(_), Some(b)) => (b, &mut self.unreadable_buffer),
                    _ => (&mut self.items, &mut self.unreadable),
                };
                match parsed {
                    Ok(Some(model)) => {
                        target.insert(k.clone(), model);
                        unreadable.remove(&k);
                    }
                    Ok(None) => {
                        target.remove(&k);
                        unreadable.remove(&k);
                    }
                    Err(e) => {
                        target.remove(&k);
                        unreadable.insert(k, e);
                    }
                }
            }
            Event::Delete(o) => {
                let k = key(o);
                self.items.remove(&k);
                self.unreadable.remove(&k);
            }
            Event::InitDone => {
                if let Some(b) = self.buffer.take() {
                    self.items = b;
                    self.unreadable = std::mem::take(&mut self.unreadable_buffer);
                }
                self.synced = true;
            }
        }
    }
}

impl<T> Store<T> {
    /// The kind does not exist in the cluster: no objects, and nothing more to wait for. True
    /// when that removed objects.
    fn absent(&mut self) -> bool {
        self.buffer = None;
        self.unreadable.clear();
        self.unreadable_buffer.clear();
        self.synced = true;
        let had = !self.items.is_empty();
        self.items.clear();
        had
    }
}

impl<T: PartialEq + Clone> Store<T> {
    /// [`Store::apply`]; true unless it was an `Apply` or `Delete` that left the parsed object
    /// as it was.
    fn apply_changed<K: ResourceExt>(
        &mut self,
        event: &Event<K>,
        parse: impl Fn(&K) -> Result<Option<T>, String>,
    ) -> bool {
        let (Event::Apply(o) | Event::Delete(o)) = event else {
            self.apply(event, parse);
            return true;
        };
        let k = store_key(o);
        let before = self.items.get(&k).cloned();
        self.apply(event, parse);
        self.items.get(&k) != before.as_ref()
    }
}

/// Every namespace, pod and policy of the cluster, parsed.
#[derive(Debug, Default)]
pub struct Cache {
    namespaces: Store<Namespace>,
    pods: Store<Pod>,
    policies: Store<Policy>,
    /// One store per cluster-scoped kind (each kind has its own watch and listing).
    cluster: BTreeMap<ClusterKind, Store<ClusterPolicy>>,
    nodes: Store<Node>,
    /// The nodes changed since the last snapshot was made (it is patched with them).
    stale_nodes: bool,
    /// Since the last [`Cache::take_pod_changes`]: every version (before and after) of the pods
    /// that changed; None when something else changed too (a namespace, a policy, a relist).
    pod_changes: Option<Vec<Pod>>,
    /// The last snapshot made, and the pods changed since (None: make it again), so that a pod
    /// change costs a patch rather than a copy of every pod.
    last: Option<Arc<Snapshot>>,
    stale_pods: Option<BTreeSet<String>>,
    /// Addresses the CNI plugin reported for pods whose API object has none yet (the kubelet
    /// reports them a moment later), with when: the pod is placed with them meanwhile.
    cni_addresses: BTreeMap<String, (Vec<IpAddr>, std::time::Instant)>,
}

/// How long a CNI-reported address waits for its pod to show up in the watch.
const CNI_ADDRESS_TTL: std::time::Duration = std::time::Duration::from_secs(300);

/// More changed pods than this since the last reconcile: compiling everything is as cheap.
const MAX_POD_CHANGES: usize = 2000;

fn store_key<K: ResourceExt>(o: &K) -> String {
    format!("{}/{}", o.namespace().unwrap_or_default(), o.name_any())
}

fn source() -> Source {
    Source {
        file: "cluster".into(),
        document: 0,
    }
}

/// "Kind namespace/name: field: what is wrong" (the parser's key names the kind already).
fn field_error(what: &str, key: Option<String>, e: netpol::model::FieldError) -> String {
    let object = key.unwrap_or_else(|| what.to_string());
    format!("{object}: {}: {}", e.field, e.message)
}

fn parse_pod(pod: &K8sPod) -> Result<Option<Pod>, String> {
    let v = serde_json::to_value(pod).map_err(|e| e.to_string())?;
    parse_pod_object(&v, "Pod", "default", source()).map_err(|(k, e)| field_error("Pod", k, e))
}

#[cfg(test)]
pub(crate) fn parse_pod_for_test(pod: &K8sPod) -> Result<Option<Pod>, String> {
    parse_pod(pod)
}

#[cfg(test)]
pub(crate) fn parse_node_for_test(node: &K8sNode) -> Result<Option<Node>, String> {
    parse_node(node)
}

fn parse_namespace(ns: &K8sNamespace) -> Result<Option<Namespace>, String> {
    let v = serde_json::to_value(ns).map_err(|e| e.to_string())?;
    parse_namespace_object(&v)
        .map(Some)
        .map_err(|(k, e)| field_error("Namespace", k, e))
}

fn parse_policy(pol: &K8sPolicy) -> Result<Option<Policy>, String> {
    let mut v = serde_json::to_value(pol).map_err(|e| e.to_string())?;
    if let Some(o) = v.as_object_mut() {
        o.remove("status");
    }
    parse_policy_object(&v, "default", source())
        .map(Some)
        .map_err(|(k, e)| field_error("NetworkPolicy", k, e))
}

fn parse_node(node: &K8sNode) -> Result<Option<Node>, String> {
    let v = serde_json::to_value(node).map_err(|e| e.to_string())?;
    parse_node_object(&v, source())
        .map(Some)
        .map_err(|(k, e)| field_error("Node", k, e))
}

/// Does a rule of the policy have a `nodes` peer (so its rules depend on the Nodes)?
fn has_nodes_peer(policy: &ClusterPolicy) -> bool {
    policy
        .ingress
        .iter()
        .chain(&policy.egress)
        .flat_map(|r| &r.peers)
        .any(|p| matches!(p, ClusterPeer::Nodes(_)))
}

fn parse_cluster_policy(
    kind: ClusterKind,
    obj: &DynamicObject,
) -> Result<Option<ClusterPolicy>, String> {
    let mut v = serde_json::to_value(obj).map_err(|e| e.to_string())?;
    if let Some(o) = v.as_object_mut() {
        o.remove("status");
    }
    parse_cluster_policy_object(&v, kind, source())
        .map(Some)
        .map_err(|(k, e)| field_error(kind.kind(), k, e))
}

impl Cache {
    fn cluster_store(&mut self, kind: ClusterKind) -> &mut Store<ClusterPolicy> {
        self.cluster.entry(kind).or_default()
    }

    pub fn apply(&mut self, change: &Change) {
        match change {
            Change::Pod(e @ (Event::Apply(o) | Event::Delete(o))) => {
                let k = store_key(o);
                let before = self.pods.items.get(&k).cloned();
                self.pods.apply(e, parse_pod);
                if matches!(e, Event::Delete(_)) {
                    self.cni_addresses.remove(&k);
                } else {
                    self.fill_from_cni(&k);
                }
                self.record_pod_change(k, before);
            }
            Change::Pod(e) => {
                self.pods.apply(e, parse_pod);
                let keys: Vec<String> = self.cni_addresses.keys().cloned().collect();
                for k in keys {
                    self.fill_from_cni(&k);
                }
                self.changed_more_than_pods();
            }
            // (Namespaces and policies are compared by content: a resync or a status update that
            // changes nothing keeps the next pod change cheap.)
            Change::Namespace(e) => {
                if self.namespaces.apply_changed(e, parse_namespace) {
                    self.changed_more_than_pods();
                }
            }
            Change::Policy(e) => {
                if self.policies.apply_changed(e, parse_policy) {
                    self.changed_more_than_pods();
                }
            }
            Change::Cluster(kind, e) => {
                let parse = |o: &DynamicObject| parse_cluster_policy(*kind, o);
                if self.cluster_store(*kind).apply_changed(e, parse) {
                    self.changed_more_than_pods();
                }
            }
            Change::ClusterAbsent(kind) => {
                if self.cluster_store(*kind).absent() {
                    self.changed_more_than_pods();
                }
            }
            Change::Node(e) => {
                let unreadable_before = self.nodes.unreadable.clone();
                let changed = self.nodes.apply_changed(e, parse_node);
                // A bad Node is skipped (a `nodes` peer misses its addresses): said once.
                for (k, why) in &self.nodes.unreadable {
                    if unreadable_before.get(k) != Some(why) {
                        tracing::warn!("skipping {why}");
                    }
                }
                if changed {
                    self.nodes_changed();
                }
            }
            Change::NodesForbidden => {
                if self.nodes.absent() {
                    self.nodes_changed();
                }
            }
        }
    }

    /// The rules depend on the Nodes only through `nodes` peers: without one, a Node change
    /// keeps the next pod change incremental.
    fn nodes_changed(&mut self) {
        self.stale_nodes = true;
        let used = self
            .cluster
            .values()
            .flat_map(|s| s.items.values())
            .any(has_nodes_peer);
        if used {
            self.changed_more_than_pods();
        }
    }

    /// Notes that pod `k` changed from `before` (for the incremental update and the patched
    /// snapshot).
    fn record_pod_change(&mut self, k: String, before: Option<Pod>) {
        let after = self.pods.items.get(&k);
        if before.as_ref() == after {
            return;
        }
        let after = after.cloned();
        if let Some(list) = &mut self.pod_changes {
            list.extend(before);
            list.extend(after);
            if list.len() > MAX_POD_CHANGES {
                self.pod_changes = None;
            }
        }
        if let Some(stale) = &mut self.stale_pods {
            stale.insert(k);
        }
    }

    /// Gives pod `k` the addresses the CNI plugin reported while its object has none; forgets
    /// them once the API reports its own.
    fn fill_from_cni(&mut self, k: &str) {
        let Some(pod) = self.pods.items.get_mut(k) else {
            return;
        };
        if !pod.ips.is_empty() {
            self.cni_addresses.remove(k);
        } else if let Some((ips, _)) = self.cni_addresses.get(k) {
            pod.ips = ips.clone();
        }
    }

    /// The CNI plugin reports pod `key`'s addresses before the API server has them: the pod is
    /// placed with these until its object says otherwise.
    pub fn set_cni_addresses(&mut self, key: &str, ips: Vec<IpAddr>) {
        let now = std::time::Instant::now();
        self.cni_addresses
            .retain(|_, (_, at)| now.duration_since(*at) < CNI_ADDRESS_TTL);
        self.cni_addresses.insert(key.to_string(), (ips, now));
        let before = self.pods.items.get(key).cloned();
        self.fill_from_cni(key);
        self.record_pod_change(key.to_string(), before);
    }

    fn changed_more_than_pods(&mut self) {
        self.pod_changes = None;
        self.stale_pods = None;
    }

    /// The pods that changed since the last call (every version, before and after), or None
    /// when a namespace, a policy, a cluster policy or (while a `nodes` peer exists) a Node
    /// changed, the pods were listed again, or too many changed: then only a full compile is
    /// right.
    pub fn take_pod_changes(&mut self) -> Option<Vec<Pod>> {
        self.pod_changes.replace(Vec::new())
    }

    /// Every kind has been listed completely: a snapshot now means the whole cluster.
    pub fn synced(&self) -> bool {
        self.namespaces.synced
            && self.pods.synced
            && self.policies.synced
            && ClusterKind::ALL
                .iter()
                .all(|k| self.cluster.get(k).is_some_and(|s| s.synced))
            && self.nodes.synced
    }

    /// Objects the parser refused, with the reason. An unreadable policy is not enforced, so
    /// these are reported loudly (status warnings and logs).
    pub fn unreadable(&self) -> Vec<String> {
        self.namespaces
            .unreadable
            .values()
            .chain(self.pods.unreadable.values())
            .chain(self.policies.unreadable.values())
            .chain(self.cluster.values().flat_map(|s| s.unreadable.values()))
            .chain(self.nodes.unreadable.values())
            .cloned()
            .collect()
    }

    /// The addresses of pod `key` when it runs on `node` in the pod network (not hostNetwork).
    pub fn local_addresses(&self, key: &str, node: &str) -> Option<Vec<std::net::IpAddr>> {
        self.pods
            .items
            .get(key)
            .filter(|p| p.node.as_deref() == Some(node) && !p.host_network)
            .map(|p| p.ips.clone())
    }

    pub fn pod_count(&self) -> usize {
        self.pods.items.len()
    }

    /// The cluster now, ready for the engine: the last snapshot with the changed pods patched
    /// in when only pods changed, else made again.
    pub fn snapshot(&mut self) -> Arc<Snapshot> {
        let stale = self.stale_pods.replace(BTreeSet::new());
        let snap = match (self.last.take(), stale) {
            (Some(mut snap), Some(stale)) => {
                if !stale.is_empty() {
                    self.patch(Arc::make_mut(&mut snap), &stale);
                }
                if self.stale_nodes {
                    Arc::make_mut(&mut snap).nodes = self.node_list();
                }
                snap
            }
            _ => Arc::new(self.build()),
        };
        self.stale_nodes = false;
        self.last = Some(snap.clone());
        snap
    }

    fn build(&self) -> Snapshot {
        let mut snap = Snapshot {
            namespaces: self
                .namespaces
                .items
                .values()
                .map(|n| (n.name.clone(), n.clone()))
                .collect(),
            pods: self.pods.items.values().cloned().collect(),
            policies: self.policies.items.values().cloned().collect(),
            cluster_policies: self
                .cluster
                .values()
                .flat_map(|s| s.items.values().cloned())
                .collect(),
            nodes: self.node_list(),
        };
        snap.finish();
        snap
    }

    /// The nodes as `Snapshot::finish` leaves them (sorted by name).
    fn node_list(&self) -> Vec<Node> {
        let mut nodes: Vec<Node> = self.nodes.items.values().cloned().collect();
        nodes.sort_by(|a, b| a.name.cmp(&b.name));
        nodes
    }

    /// Makes `snap` what [`Cache::build`] would make after the pods `keys` changed.
    fn patch(&self, snap: &mut Snapshot, keys: &BTreeSet<String>) {
        for k in keys {
            let Some((ns, name)) = k.split_once('/') else {
                continue;
            };
            // `Snapshot::finish` sorts pods by namespace and name.
            let pos = snap
                .pods
                .binary_search_by(|p| (p.namespace.as_str(), p.name.as_str()).cmp(&(ns, name)));
            match (self.pods.items.get(k), pos) {
                (Some(p), Ok(i)) => snap.pods[i] = p.clone(),
                (Some(p), Err(i)) => snap.pods.insert(i, p.clone()),
                (None, Ok(i)) => {
                    snap.pods.remove(i);
                }
                (None, Err(_)) => {}
            }
            // A namespace without an object exists while pods or policies refer to it.
            if self.namespaces.items.contains_key(&format!("/{ns}")) {
                continue;
            }
            let in_ns = snap
                .pods
                .binary_search_by(|p| p.namespace.as_str().cmp(ns))
                .ok();
            let referenced = in_ns.is_some() || snap.policies.iter().any(|p| p.namespace == ns);
            match (referenced, snap.namespaces.contains_key(ns)) {
                (false, true) => {
                    snap.namespaces.remove(ns);
                }
                (true, false) => {
                    // Made exactly as `finish` makes it.
                    let mut one = Snapshot {
                        pods: in_ns.map(|i| snap.pods[i].clone()).into_iter().collect(),
                        ..Snapshot::default()
                    };
                    one.finish();
                    if let Some(n) = one.namespaces.remove(ns) {
                        snap.namespaces.insert(ns.to_string(), n);
                    }
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(ns: &str, name: &str, app: &str) -> K8sPod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"namespace": ns, "name": name, "labels": {"app": app}},
            "spec": {"containers": [{"name": "c"}]},
            "status": {"podIP": "10.0.0.1"}
        }))
        .unwrap()
    }

    #[test]
    fn follows_watch_events_like_a_reflector() {
        let mut c = Cache::default();
        c.apply(&Change::Pod(Event::Init));
        c.apply(&Change::Pod(Event::InitApply(pod("a", "p1", "x"))));
        assert_eq!(c.pod_count(), 0, "the listing is buffered until InitDone");
        c.apply(&Change::Pod(Event::InitDone));
        assert_eq!(c.pod_count(), 1);
        assert!(!c.synced());
        c.apply(&Change::Pod(Event::Apply(pod("a", "p2", "y"))));
        c.apply(&Change::Pod(Event::Apply(pod("a", "p1", "z"))));
        assert_eq!(c.snapshot().pods[0].labels["app"], "z");
        c.apply(&Change::Pod(Event::Delete(pod("a", "p2", "y"))));
        assert_eq!(c.pod_count(), 1);
        // A relist replaces everything: p1 is gone, p3 is new.
        c.apply(&Change::Pod(Event::Init));
        c.apply(&Change::Pod(Event::InitApply(pod("b", "p3", "x"))));
        c.apply(&Change::Pod(Event::InitDone));
        let snap = c.snapshot();
        assert_eq!(snap.pods.len(), 1);
        assert_eq!(snap.pods[0].key(), "b/p3");
        // Namespaces referenced by pods exist with their name label.
        assert_eq!(
            snap.namespaces["b"].labels["kubernetes.io/metadata.name"],
            "b"
        );
        for ch in Change::initial_list(vec![], vec![], vec![]) {
            c.apply(&ch);
        }
        assert!(c.synced());
        assert_eq!(c.pod_count(), 0);
    }

    fn cnp(name: &str, priority: u32) -> DynamicObject {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "policy.networking.k8s.io/v1alpha2",
            "kind": "ClusterNetworkPolicy",
            "metadata": {"name": name},
            "spec": {"tier": "Admin", "priority": priority,
                     "subject": {"namespaces": {}},
                     "ingress": [{"action": "Deny", "from": [{"namespaces": {}}]}]}
        }))
        .unwrap()
    }

    #[test]
    fn cluster_kinds_sync_when_listed_or_absent_and_a_crd_can_come_and_go() {
        let mut c = Cache::default();
        for ch in Change::initial_list(vec![], vec![], vec![]) {
            c.apply(&ch);
        }
        assert!(c.synced(), "absent CRDs are nothing to wait for");
        assert!(c.snapshot().cluster_policies.is_empty());
        // The CRD appears: its watch lists one policy.
        for ch in Change::cluster_list(ClusterKind::ClusterNetworkPolicy, vec![cnp("tenancy", 5)]) {
            c.apply(&ch);
        }
        assert!(c.synced());
        let snap = c.snapshot();
        assert_eq!(snap.cluster_policies.len(), 1);
        assert_eq!(snap.cluster_policies[0].key(), "cnp/tenancy");
        // A change to it is a change of more than pods.
        c.take_pod_changes();
        c.apply(&Change::Cluster(
            ClusterKind::ClusterNetworkPolicy,
            Event::Apply(cnp("tenancy", 7)),
        ));
        assert!(c.take_pod_changes().is_none());
        assert_eq!(c.snapshot().cluster_policies[0].priority, 7);
        // The same object again changes nothing.
        c.take_pod_changes();
        c.apply(&Change::Cluster(
            ClusterKind::ClusterNetworkPolicy,
            Event::Apply(cnp("tenancy", 7)),
        ));
        assert_eq!(c.take_pod_changes(), Some(Vec::new()));
        // An invalid one is reported, not enforced.
        let mut bad = cnp("broken", 5);
        bad.data["spec"]["priority"] = serde_json::json!(1001);
        c.apply(&Change::Cluster(
            ClusterKind::ClusterNetworkPolicy,
            Event::Apply(bad),
        ));
        assert!(
            c.unreadable()
                .iter()
                .any(|u| u.contains("broken") && u.contains("priority")),
            "{:?}",
            c.unreadable()
        );
        // The CRD is deleted: its policies are gone.
        c.apply(&Change::ClusterAbsent(ClusterKind::ClusterNetworkPolicy));
        assert!(c.snapshot().cluster_policies.is_empty());
        assert!(c.unreadable().is_empty());
    }

    fn node(name: &str, role: &str, addresses: &[(&str, &str)]) -> K8sNode {
        let addresses: Vec<_> = addresses
            .iter()
            .map(|(t, a)| serde_json::json!({"type": t, "address": a}))
            .collect();
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "labels": {"role": role}},
            "status": {"addresses": addresses}
        }))
        .unwrap()
    }

    fn node_addresses(c: &mut Cache) -> Vec<String> {
        c.snapshot()
            .nodes
            .iter()
            .map(|n| {
                let ips: Vec<String> = n.addresses.iter().map(|a| a.to_string()).collect();
                format!("{} {} {}", n.name, n.labels["role"], ips.join(","))
            })
            .collect()
    }

    #[test]
    fn nodes_follow_their_watch_and_recompile_only_when_a_nodes_peer_exists() {
        let mut c = Cache::default();
        let mut listing = Change::initial_list(vec![], vec![pod("a", "p1", "x")], vec![]);
        // Without a listing of Nodes the cache is not synced.
        let nodes_listing = listing.split_off(listing.len() - 2);
        for ch in &listing {
            c.apply(ch);
        }
        assert!(!c.synced(), "Nodes not listed yet");
        for ch in &nodes_listing {
            c.apply(ch);
        }
        assert!(c.synced());
        for ch in Change::node_list(vec![node("n1", "worker", &[("InternalIP", "192.0.2.1")])]) {
            c.apply(&ch);
        }
        assert_eq!(node_addresses(&mut c), ["n1 worker 192.0.2.1"]);
        c.take_pod_changes();

        // No policy has a `nodes` peer: Node events change the snapshot, not the fast path.
        c.apply(&Change::Node(Event::Apply(node(
            "n2",
            "worker",
            &[("InternalIP", "192.0.2.2"), ("Hostname", "n2")],
        ))));
        c.apply(&Change::Pod(Event::Apply(pod("a", "p1", "y"))));
        assert_eq!(c.take_pod_changes().map(|v| v.len()), Some(2));
        assert_eq!(
            node_addresses(&mut c),
            ["n1 worker 192.0.2.1", "n2 worker 192.0.2.2"]
        );

        // A policy with a `nodes` peer: each kind of Node change needs a compile.
        let mut to_nodes = cnp("to-nodes", 3);
        to_nodes.data["spec"]["egress"] = serde_json::json!([{"action": "Deny", "to": [{"nodes": {"matchLabels": {"role": "worker"}}}]}]);
        c.apply(&Change::Cluster(
            ClusterKind::ClusterNetworkPolicy,
            Event::Apply(to_nodes),
        ));
        assert!(c.take_pod_changes().is_none());
        let steps: Vec<(&str, Change, Vec<&str>)> = vec![
            (
                "relabelled",
                Change::Node(Event::Apply(node(
                    "n2",
                    "infra",
                    &[("InternalIP", "192.0.2.2")],
                ))),
                vec!["n1 worker 192.0.2.1", "n2 infra 192.0.2.2"],
            ),
            (
                "re-addressed",
                Change::Node(Event::Apply(node(
                    "n1",
                    "worker",
                    &[("InternalIP", "192.0.2.9"), ("ExternalIP", "2001:db8::9")],
                ))),
                vec!["n1 worker 192.0.2.9,2001:db8::9", "n2 infra 192.0.2.2"],
            ),
            (
                "added",
                Change::Node(Event::Apply(node(
                    "n0",
                    "worker",
                    &[("InternalIP", "192.0.2.5")],
                ))),
                vec![
                    "n0 worker 192.0.2.5",
                    "n1 worker 192.0.2.9,2001:db8::9",
                    "n2 infra 192.0.2.2",
                ],
            ),
            (
                "deleted",
                Change::Node(Event::Delete(node("n2", "infra", &[]))),
                vec!["n0 worker 192.0.2.5", "n1 worker 192.0.2.9,2001:db8::9"],
            ),
        ];
        for (what, change, want) in steps {
            c.apply(&change);
            assert!(c.take_pod_changes().is_none(), "node {what}: compile");
            assert_eq!(node_addresses(&mut c), want, "node {what}");
            assert_eq!(*c.snapshot(), c.build(), "node {what}");
        }
        // A status update that leaves name, labels and addresses as they were: no compile.
        c.apply(&Change::Node(Event::Apply(node(
            "n0",
            "worker",
            &[("InternalIP", "192.0.2.5"), ("Hostname", "n0")],
        ))));
        assert_eq!(c.take_pod_changes(), Some(Vec::new()));

        // Bad Nodes are skipped and reported, never a panic; the good ones stay.
        c.apply(&Change::Node(Event::Apply(node(
            "bad-ip",
            "worker",
            &[("InternalIP", "192.0.2.300")],
        ))));
        let mut missing = node("no-address", "worker", &[]);
        missing.status.as_mut().unwrap().addresses = Some(vec![serde_json::from_value(
            serde_json::json!({"type": "InternalIP", "address": ""}),
        )
        .unwrap()]);
        c.apply(&Change::Node(Event::Apply(missing)));
        let unreadable = c.unreadable();
        assert!(
            unreadable
                .iter()
                .any(|u| u.starts_with("Node bad-ip: status.addresses[0].address: ")),
            "{unreadable:?}"
        );
        assert!(
            unreadable.iter().any(|u| u.contains("no-address")),
            "{unreadable:?}"
        );
        assert_eq!(node_addresses(&mut c).len(), 2);

        // Not allowed to list Nodes: none, and synced (everything else is still enforced).
        c.apply(&Change::NodesForbidden);
        assert!(c.synced());
        assert!(c.snapshot().nodes.is_empty());
        assert!(c.take_pod_changes().is_none());
    }

    #[test]
    fn pod_changes_are_kept_until_something_else_changes() {
        let ns = |team: &str| -> K8sNamespace {
            serde_json::from_value(serde_json::json!({
                "metadata": {"name": "a", "labels": {"team": team}}
            }))
            .unwrap()
        };
        let mut c = Cache::default();
        for ch in Change::initial_list(vec![ns("x")], vec![pod("a", "p1", "x")], vec![]) {
            c.apply(&ch);
        }
        assert!(c.take_pod_changes().is_none(), "a listing needs a compile");
        assert_eq!(c.take_pod_changes(), Some(vec![]));
        // A relabelled pod: both versions; a new one: only the new; a deleted one: the old.
        c.apply(&Change::Pod(Event::Apply(pod("a", "p1", "y"))));
        c.apply(&Change::Pod(Event::Apply(pod("a", "p2", "z"))));
        c.apply(&Change::Pod(Event::Apply(pod("a", "p2", "z"))));
        c.apply(&Change::Pod(Event::Delete(pod("a", "p2", "z"))));
        let apps: Vec<String> = c
            .take_pod_changes()
            .unwrap()
            .iter()
            .map(|p| format!("{}={}", p.name, p.labels["app"]))
            .collect();
        assert_eq!(apps, ["p1=x", "p1=y", "p2=z", "p2=z"]);
        // A namespace event that changes nothing keeps the fast path; a new label does not.
        c.apply(&Change::Namespace(Event::Apply(ns("x"))));
        c.apply(&Change::Pod(Event::Apply(pod("a", "p1", "x"))));
        assert_eq!(c.take_pod_changes().map(|v| v.len()), Some(2));
        c.apply(&Change::Namespace(Event::Apply(ns("w"))));
        c.apply(&Change::Pod(Event::Apply(pod("a", "p1", "y"))));
        assert!(c.take_pod_changes().is_none());
    }

    #[test]
    fn a_patched_snapshot_equals_one_made_again() {
        let ns: K8sNamespace =
            serde_json::from_value(serde_json::json!({"metadata": {"name": "a"}})).unwrap();
        let mut c = Cache::default();
        let pods = (0..20)
            .map(|i| pod(["a", "b"][i % 2], &format!("p{i}"), "x"))
            .collect();
        for ch in Change::initial_list(vec![ns], pods, vec![]) {
            c.apply(&ch);
        }
        assert_eq!(*c.snapshot(), c.build());
        let steps = [
            Change::Pod(Event::Apply(pod("a", "p3", "y"))),
            Change::Pod(Event::Apply(pod("a", "p00", "new"))),
            Change::Pod(Event::Apply(pod("c", "only", "new"))),
            Change::Pod(Event::Delete(pod("a", "p4", "x"))),
            Change::Pod(Event::Delete(pod("a", "never", "x"))),
            Change::Pod(Event::Delete(pod("c", "only", "new"))),
            Change::Pod(Event::Apply(pod("zz", "last", "new"))),
        ];
        for (n, ch) in steps.iter().enumerate() {
            c.apply(ch);
            if n % 2 == 0 {
                let patched = c.snapshot();
                assert_eq!(*patched, c.build(), "after step {n}");
            }
        }
        for i in (1..20).step_by(2) {
            c.apply(&Change::Pod(Event::Delete(pod("b", &format!("p{i}"), "x"))));
        }
        let snap = c.snapshot();
        assert_eq!(*snap, c.build());
        assert!(!snap.namespaces.contains_key("b") && !snap.namespaces.contains_key("c"));
        assert!(snap.namespaces.contains_key("zz"));
    }

    #[test]
    fn unreadable_objects_are_reported_not_enforced_silently() {
        let mut c = Cache::default();
        let bad: K8sPolicy = serde_json::from_value(serde_json::json!({
            "metadata": {"namespace": "a", "name": "bad"},
            "spec": {"podSelector": {"matchExpressions": [{"key": "k", "operator": "Bogus"}]}}
        }))
        .unwrap();
        c.apply(&Change::Policy(Event::Apply(bad.clone())));
        assert_eq!(c.unreadable().len(), 1, "{:?}", c.unreadable());
        assert!(c.unreadable()[0].contains("a/bad"));
        c.apply(&Change::Policy(Event::Delete(bad)));
        assert!(c.unreadable().is_empty());
    }
}
