//! Reading the snapshot from a live cluster, with the kubeconfig rules kubectl uses
//! (`KUBECONFIG`, `--kubeconfig`, `--context`, in-cluster config). The objects are turned into
//! JSON and go through the same parser as manifests, so both paths mean the same.

use k8s_openapi::api::core::v1::{Namespace as K8sNamespace, Pod as K8sPod};
use k8s_openapi::api::networking::v1::NetworkPolicy as K8sPolicy;
use kube::api::{Api, ListParams};
use kube::Client;

use super::{list_paged, ApiError, ListError, Progress};
use crate::model::{
    parse_cluster_policy_object, parse_namespace_object, parse_node_object, parse_pod_object,
    parse_policy_object,
};
use crate::model::{ClusterKind, ClusterPeer, FieldError, Snapshot, Source};

/// Which pods and policies to read.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Empty: the context's namespace (or `default`), unless `all_namespaces`.
    pub namespaces: Vec<String>,
    pub all_namespaces: bool,
    /// A label selector for pods, as `kubectl get pods -l` takes it.
    pub selector: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error(transparent)]
    Config(#[from] super::ConfigError),
    #[error("cannot talk to the cluster: {0}")]
    Api(String),
    #[error("the cluster returned an object this tool cannot read: {0}")]
    Object(String),
}

/// An object the API server returned that the parser refuses: which object, which field, why.
fn object_err((object, e): (Option<String>, FieldError)) -> LiveError {
    LiveError::Object(format!(
        "{}: {}: {}",
        object.unwrap_or_default(),
        e.field,
        e.message
    ))
}

fn api_err(what: &str, e: kube::Error) -> LiveError {
    LiveError::Api(ApiError::new(format!("listing {what}"), &e).to_string())
}

fn into_live(e: ListError<LiveError>, what: &str) -> LiveError {
    match e {
        ListError::Api(e) => api_err(what, e),
        ListError::Item(e) => e,
    }
}

/// A snapshot read from the cluster, with what the caller should tell the user: `warnings`
/// (the answer is weaker than it looks: a list was refused, a field was dropped by the server)
/// and `notes` (normal but worth saying with -v: no such CRD). This module never prints.
#[derive(Debug, Default)]
pub struct LiveSnapshot {
    pub snapshot: Snapshot,
    pub warnings: Vec<String>,
    pub notes: Vec<String>,
}

/// Reads namespaces (all of them, for namespaceSelectors), and the pods and policies in scope.
pub async fn load_live(
    client: &Client,
    default_ns: &str,
    scope: &Scope,
) -> Result<LiveSnapshot, LiveError> {
    load_live_with_progress(client, default_ns, scope, &|_, _| {}).await
}

/// As `load_live`, telling `progress` how far long lists have got. The namespaces (-n), the
/// label selector (-l) and the pages are the server's work, as with kubectl.
pub async fn load_live_with_progress(
    client: &Client,
    default_ns: &str,
    scope: &Scope,
    progress: Progress<'_>,
) -> Result<LiveSnapshot, LiveError> {
    let mut read = Reader {
        client,
        default_ns,
        progress,
        out: LiveSnapshot::default(),
    };
    let unlabelled = read.namespaces().await?;
    let namespaces: Vec<Option<String>> = if scope.all_namespaces {
        vec![None]
    } else if scope.namespaces.is_empty() {
        vec![Some(default_ns.to_string())]
    } else {
        scope.namespaces.iter().cloned().map(Some).collect()
    };
    for ns in &namespaces {
        read.pods(ns.as_deref(), scope.selector.as_deref()).await?;
        read.policies(ns.as_deref()).await?;
    }
    for kind in ClusterKind::ALL {
        read.cluster_policies(kind).await?;
    }
    let nodes_needed = read.out.snapshot.cluster_policies.iter().any(|p| {
        p.egress
            .iter()
            .any(|r| r.peers.iter().any(|x| matches!(x, ClusterPeer::Nodes(_))))
    });
    if nodes_needed {
        read.nodes().await?;
    }
    read.out.snapshot.finish();
    read.unlabel(&unlabelled);
    Ok(read.out)
}

/// One read of the cluster in progress: what it has got so far, and what it has to say.
struct Reader<'a> {
    client: &'a Client,
    default_ns: &'a str,
    progress: Progress<'a>,
    out: LiveSnapshot,
}

fn source() -> Source {
    Source {
        file: "cluster".into(),
        document: 0,
    }
}

fn to_json<T: serde::Serialize>(object: &T) -> Result<serde_json::Value, LiveError> {
    serde_json::to_value(object).map_err(|e| LiveError::Object(e.to_string()))
}

fn in_scope<K>(client: &Client, ns: Option<&str>) -> Api<K>
where
    K: kube::Resource<Scope = kube::core::NamespaceResourceScope>,
    K::DynamicType: Default,
{
    match ns {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

impl Reader<'_> {
    /// Every namespace, to judge namespaceSelectors; without permission to list them, name
    /// labels only, and a warning. Returns those without the automatic name label.
    async fn namespaces(&mut self) -> Result<Vec<String>, LiveError> {
        let mut unlabelled = Vec::new();
        let snap = &mut self.out.snapshot;
        let listed = list_paged(
            &Api::<K8sNamespace>::all(self.client.clone()),
            &ListParams::default(),
            "namespaces",
            self.progress,
            |ns| {
                let ns = parse_namespace_object(&to_json(&ns)?).map_err(|(_, e)| {
                    LiveError::Object(format!("Namespace: {}: {}", e.field, e.message))
                })?;
                if !ns.labels.contains_key(crate::model::NAMESPACE_NAME_LABEL) {
                    unlabelled.push(ns.name.clone());
                }
                snap.namespaces.insert(ns.name.clone(), ns);
                Ok(())
            },
        )
        .await;
        match listed {
            Ok(()) => {}
            Err(ListError::Api(kube::Error::Api(s))) if s.code == 403 => {
                self.out.warnings.push(format!(
                    "cannot list namespaces ({}); namespaceSelectors are judged on the name label only",
                    s.message
                ));
            }
            Err(e) => return Err(into_live(e, "namespaces")),
        }
        Ok(unlabelled)
    }

    /// The pods of one namespace (None: all), filtered by the server with `-l`. Pods still
    /// being scheduled have no IP yet but are selected all the same.
    async fn pods(&mut self, ns: Option<&str>, selector: Option<&str>) -> Result<(), LiveError> {
        let mut params = ListParams::default();
        if let Some(sel) = selector {
            params = params.labels(sel);
        }
        let (snap, default_ns) = (&mut self.out.snapshot, self.default_ns);
        let api: Api<K8sPod> = in_scope(self.client, ns);
        list_paged(&api, &params, "pods", self.progress, |pod| {
            let parsed = parse_pod_object(&to_json(&pod)?, "Pod", default_ns, source())
                .map_err(object_err)?;
            snap.pods.extend(parsed);
            Ok(())
        })
        .await
        .map_err(|e| into_live(e, "pods"))
    }

    /// The NetworkPolicies of one namespace (None: all), with a warning for each endPort the
    /// server dropped.
    async fn policies(&mut self, ns: Option<&str>) -> Result<(), LiveError> {
        let (out, default_ns) = (&mut self.out, self.default_ns);
        let api: Api<K8sPolicy> = in_scope(self.client, ns);
        list_paged(
            &api,
            &ListParams::default(),
            "networkpolicies",
            self.progress,
            |pol| {
                let mut v = to_json(&pol)?;
                if let Some(o) = v.as_object_mut() {
                    o.remove("status");
                }
                out.warnings.extend(dropped_end_ports(&v));
                let parsed = parse_policy_object(&v, default_ns, source()).map_err(object_err)?;
                out.snapshot.policies.push(parsed);
                Ok(())
            },
        )
        .await
        .map_err(|e| into_live(e, "networkpolicies"))
    }

    /// One cluster-scoped kind where its CRD exists. Most clusters have none: that is normal,
    /// a note (shown with -v), and so is no right to read them.
    async fn cluster_policies(&mut self, kind: ClusterKind) -> Result<(), LiveError> {
        use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
        let (group, version) = kind
            .api_version()
            .split_once('/')
            .unwrap_or(("", kind.api_version()));
        let gvk = GroupVersionKind::gvk(group, version, kind.kind());
        let resource = ApiResource::from_gvk_with_plural(&gvk, kind.plural());
        let api: Api<DynamicObject> = Api::all_with(self.client.clone(), &resource);
        let snap = &mut self.out.snapshot;
        let listed = list_paged(
            &api,
            &ListParams::default(),
            kind.plural(),
            self.progress,
            |obj| {
                let mut v = to_json(&obj)?;
                if let Some(o) = v.as_object_mut() {
                    o.remove("status");
                }
                let parsed = parse_cluster_policy_object(&v, kind, source()).map_err(object_err)?;
                snap.cluster_policies.push(parsed);
                Ok(())
            },
        )
        .await;
        match listed {
            Ok(()) => Ok(()),
            Err(ListError::Api(kube::Error::Api(s))) if s.code == 404 || s.code == 403 => {
                let why = if s.code == 404 {
                    "the cluster has no such CRD"
                } else {
                    "no permission to list them"
                };
                self.out
                    .notes
                    .push(format!("{} not read ({why}): {}", kind.plural(), s.message));
                Ok(())
            }
            Err(e) => Err(into_live(e, kind.plural())),
        }
    }

    /// The Nodes, which `nodes` peers of cluster policies select.
    async fn nodes(&mut self) -> Result<(), LiveError> {
        let api: Api<k8s_openapi::api::core::v1::Node> = Api::all(self.client.clone());
        let out = &mut self.out;
        let listed = list_paged(
            &api,
            &ListParams::default(),
            "nodes",
            self.progress,
            |node| {
                // A Node the parser refuses (an address that is not an IP) must not stop every
                // answer about the cluster: it is skipped, and said.
                match parse_node_object(&to_json(&node)?, source()) {
                    Ok(node) => out.snapshot.nodes.push(node),
                    Err((object, e)) => out.warnings.push(format!(
                        "{}: {}: {}; it is left out, so `nodes` peers do not match it",
                        object.unwrap_or_else(|| "a Node".into()),
                        e.field,
                        e.message
                    )),
                }
                Ok(())
            },
        )
        .await;
        match listed {
            Ok(()) => Ok(()),
            Err(ListError::Api(kube::Error::Api(s))) if s.code == 403 => {
                self.out.warnings.push(format!(
                    "cannot list nodes ({}); `nodes` peers of cluster policies match no address",
                    s.message
                ));
                Ok(())
            }
            Err(e) => Err(into_live(e, "nodes")),
        }
    }

    /// Judges selectors on what the cluster really has: a server older than 1.21 does not add
    /// kubernetes.io/metadata.name, so a namespaceSelector on it matches nothing there.
    fn unlabel(&mut self, unlabelled: &[String]) {
        if unlabelled.is_empty() {
            return;
        }
        for name in unlabelled {
            if let Some(ns) = self.out.snapshot.namespaces.get_mut(name) {
                ns.labels.remove(crate::model::NAMESPACE_NAME_LABEL);
            }
        }
        let mut names: Vec<&str> = unlabelled.iter().map(String::as_str).collect();
        names.sort_unstable();
        let shown = if names.len() > 5 {
            format!("{}, ...", names[..5].join(", "))
        } else {
            names.join(", ")
        };
        self.out.warnings.push(format!(
            "{} namespaces ({shown}) lack the label {} (Kubernetes before 1.21 does not add it): selectors on it match nothing there; label them (kubectl label ns NAME {}=NAME) or use other labels",
            names.len(),
            crate::model::NAMESPACE_NAME_LABEL,
            crate::model::NAMESPACE_NAME_LABEL
        ));
    }
}

/// The annotation `kubectl apply` keeps with the object as the user wrote it.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Ports whose `endPort` the user applied but the API server did not keep: Kubernetes before
/// 1.21 (and 1.21 without the NetworkPolicyEndPort feature gate) drops the field silently on
/// create, so the cluster enforces the single port only. The snapshot (and so every answer of
/// this tool) follows the stored object; this says where it differs from what was applied.
pub fn dropped_end_ports(policy: &serde_json::Value) -> Vec<String> {
    let meta = &policy["metadata"];
    let Some(applied) = meta["annotations"][LAST_APPLIED]
        .as_str()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
    else {
        return Vec::new();
    };
    let name = format!(
        "{}/{}",
        meta["namespace"].as_str().unwrap_or_default(),
        meta["name"].as_str().unwrap_or_default()
    );
    let mut out = Vec::new();
    for dir in ["ingress", "egress"] {
        let rules = applied["spec"][dir].as_array().cloned().unwrap_or_default();
        for (r, rule) in rules.iter().enumerate() {
            let ports = rule["ports"].as_array().cloned().unwrap_or_default();
            for (i, port) in ports.iter().enumerate() {
                let Some(end) = port.get("endPort").filter(|e| !e.is_null()) else {
                    continue;
                };
                let stored = &policy["spec"][dir][r]["ports"][i];
                if stored.get("endPort").is_some_and(|e| !e.is_null()) {
                    continue;
                }
                let start = match &port["port"] {
                    serde_json::Value::Number(n) => n.to_string(),
                    serde_json::Value::String(s) => s.clone(),
                    _ => "?".into(),
                };
                out.push(format!(
                    "NetworkPolicy {name} {dir} rule {r}: endPort {end} was applied but the API server did not keep it (Kubernetes before 1.22 drops the field unless the NetworkPolicyEndPort feature gate is on): the cluster allows port {start} only, and so does this tool's answer"
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod paging_tests {
    //! A small fake API server that serves pods in pages of at most `limit`, as the real one.
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    use super::{load_live, Scope};
    use crate::k8s::PAGE_SIZE;

    const PODS: usize = 1203;

    fn pod(i: usize) -> serde_json::Value {
        serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": format!("p{i}"), "namespace": "big", "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c"}]},
            "status": {"podIP": format!("10.1.{}.{}", i / 250, i % 250)}
        })
    }

    fn query<'a>(target: &'a str, key: &str) -> Option<&'a str> {
        let q = target.split_once('?')?.1;
        q.split('&')
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
    }

    /// What the fake server answers to one request line target: a ClusterNetworkPolicy CRD and
    /// one Node exist, the v1alpha1 CRDs do not (404).
    fn answer(target: &str) -> (u16, serde_json::Value) {
        let path = target.split('?').next().unwrap_or_default();
        if path == "/apis/policy.networking.k8s.io/v1alpha2/clusternetworkpolicies" {
            return (
                200,
                serde_json::json!({"apiVersion": "policy.networking.k8s.io/v1alpha2",
                "kind": "ClusterNetworkPolicyList", "metadata": {},
                "items": [{"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy",
                    "metadata": {"name": "guard"},
                    "spec": {"tier": "Admin", "priority": 5, "subject": {"namespaces": {}},
                        "egress": [{"action": "Deny", "to": [{"nodes": {}}]}]},
                    "status": {"conditions": []}}]}),
            );
        }
        if path.starts_with("/apis/policy.networking.k8s.io/") {
            return (
                404,
                serde_json::json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
                "status": "Failure", "message": "the server could not find the requested resource",
                "reason": "NotFound", "code": 404}),
            );
        }
        if path == "/api/v1/nodes" {
            return (
                200,
                serde_json::json!({"apiVersion": "v1", "kind": "NodeList", "metadata": {},
                "items": [{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
                    "status": {"addresses": [{"type": "InternalIP", "address": "192.168.1.7"}]}},
                    {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "bad"},
                    "status": {"addresses": [{"type": "InternalIP", "address": "not-an-ip"}]}}]}),
            );
        }
        (200, answer_core(target))
    }

    fn answer_core(target: &str) -> serde_json::Value {
        let path = target.split('?').next().unwrap_or_default();
        if path == "/api/v1/namespaces" {
            return serde_json::json!({"apiVersion": "v1", "kind": "NamespaceList", "metadata": {},
                "items": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "big"}}]});
        }
        if path.ends_with("/pods") {
            let limit: usize = query(target, "limit")
                .and_then(|l| l.parse().ok())
                .unwrap_or(PODS);
            let start: usize = query(target, "continue")
                .and_then(|c| c.strip_prefix("from-")?.parse().ok())
                .unwrap_or(0);
            let end = (start + limit).min(PODS);
            let mut meta = serde_json::json!({"resourceVersion": "7"});
            if end < PODS {
                meta["continue"] = format!("from-{end}").into();
            }
            return serde_json::json!({"apiVersion": "v1", "kind": "PodList", "metadata": meta,
                "items": (start..end).map(pod).collect::<Vec<_>>()});
        }
        serde_json::json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicyList",
            "metadata": {}, "items": []})
    }

    /// Serves forever on a free port; returns its URL and the request targets seen.
    fn fake_api_server() -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream);
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                let mut header = String::new();
                while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                    header.clear();
                }
                let target = request_line
                    .split(' ')
                    .nth(1)
                    .unwrap_or_default()
                    .to_string();
                let (status, body) = answer(&target);
                let body = body.to_string();
                log.lock().unwrap().push(target);
                let mut stream = reader.into_inner();
                let _ = write!(stream, "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
            }
        });
        (url, seen)
    }

    #[test]
    fn a_list_longer_than_a_page_is_read_completely_page_by_page() {
        let (url, seen) = fake_api_server();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let read = runtime
            .block_on(async {
                let config = kube::Config::new(url.parse().unwrap());
                let client = kube::Client::try_from(config).unwrap();
                let scope = Scope {
                    namespaces: vec!["big".into()],
                    all_namespaces: false,
                    selector: Some("app=web".into()),
                };
                load_live(&client, "default", &scope).await
            })
            .unwrap();
        let snap = &read.snapshot;
        assert_eq!(snap.pods.len(), PODS);
        let names: std::collections::BTreeSet<&str> =
            snap.pods.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names.len(), PODS, "every pod once");
        let seen = seen.lock().unwrap();
        let pod_requests: Vec<&String> = seen.iter().filter(|t| t.contains("/pods")).collect();
        assert_eq!(
            pod_requests.len(),
            PODS.div_ceil(PAGE_SIZE as usize),
            "{seen:?}"
        );
        for t in &pod_requests {
            assert!(t.starts_with("/api/v1/namespaces/big/pods?"), "{t}");
            assert_eq!(query(t, "limit"), Some("500"), "{t}");
            assert_eq!(query(t, "labelSelector"), Some("app%3Dweb"), "{t}");
        }
        assert_eq!(query(pod_requests[1], "continue"), Some("from-500"));
        assert_eq!(query(pod_requests[2], "continue"), Some("from-1000"));
        // Cluster policies where the CRD exists; missing v1alpha1 CRDs are no error; the
        // nodes peer made the Nodes be listed.
        let keys: Vec<String> = snap.cluster_policies.iter().map(|p| p.key()).collect();
        assert_eq!(keys, ["cnp/guard"]);
        assert!(
            seen.iter()
                .any(|t| t
                    .starts_with("/apis/policy.networking.k8s.io/v1alpha1/adminnetworkpolicies?")),
            "{seen:?}"
        );
        assert_eq!(snap.nodes.len(), 1);
        assert_eq!(
            read.notes.len(),
            2,
            "the two missing CRDs: {:?}",
            read.notes
        );
        // The fake server's namespace lacks the automatic name label, as before Kubernetes 1.21.
        // A Node with an address that is not an IP is left out with a warning, not an error.
        assert_eq!(read.warnings.len(), 2, "{:?}", read.warnings);
        assert!(read.warnings.iter().any(|w| w.starts_with("Node bad: ")
            && w.contains("status.addresses")
            && w.contains("left out")));
        assert!(read
            .warnings
            .iter()
            .any(|w| w.starts_with("1 namespaces (big) lack the label")));
        assert_eq!(
            snap.nodes[0].addresses,
            vec!["192.168.1.7".parse::<std::net::IpAddr>().unwrap()]
        );
    }
}

#[cfg(test)]
mod tests {
    use super::dropped_end_ports;
    use serde_json::json;

    fn policy(applied: serde_json::Value, stored_ports: serde_json::Value) -> serde_json::Value {
        json!({
            "metadata": {
                "name": "range", "namespace": "x",
                "annotations": {super::LAST_APPLIED: applied.to_string()}
            },
            "spec": {"podSelector": {}, "egress": [{"ports": stored_ports}]}
        })
    }

    #[test]
    fn an_end_port_the_server_dropped_is_reported() {
        let applied = json!({"spec": {"egress": [{"ports": [
            {"protocol": "TCP", "port": 32000, "endPort": 32768}, {"port": 53}
        ]}]}});
        let w = dropped_end_ports(&policy(
            applied,
            json!([{"protocol": "TCP", "port": 32000}, {"port": 53}]),
        ));
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].contains("x/range egress rule 0: endPort 32768"),
            "{w:?}"
        );
        assert!(w[0].contains("allows port 32000 only"), "{w:?}");
    }

    #[test]
    fn a_kept_end_port_or_no_annotation_is_silent() {
        let applied = json!({"spec": {"egress": [{"ports": [{"port": 32000, "endPort": 32768}]}]}});
        assert!(
            dropped_end_ports(&policy(applied, json!([{"port": 32000, "endPort": 32768}])))
                .is_empty()
        );
        assert!(dropped_end_ports(&json!({"metadata": {"name": "a"}, "spec": {}})).is_empty());
    }
}
