//! The snapshot lint reasons on: the input, plus pods the input does not hold but the rules
//! need to ask about — a representative pod for each policy in a namespace without pods (labels
//! its podSelector matches), and a kube-dns pod when the input has none.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{
    dns_ports, ClusterSubject, ContainerPort, LabelSelector, Labels, Namespace, Pod, PodOrigin,
    Snapshot, Source, NAMESPACE_NAME_LABEL,
};

pub use crate::model::{DNS_LABEL, DNS_NAMESPACE};

/// Marks the pods lint added; never a valid Kubernetes name, so it cannot collide.
const VIRTUAL_PREFIX: &str = "<";

pub(crate) struct Augmented {
    pub snap: Snapshot,
    /// Indices (into `snap.pods`) of the cluster DNS pods.
    pub dns: Vec<usize>,
    /// Whether the DNS pod is virtual (the input had none).
    pub dns_virtual: bool,
    /// Representative pods: index into `snap.pods` -> the policy (index into the input's
    /// policies, which `snap` keeps in the same order) whose selector it was made from.
    pub representatives: BTreeMap<usize, usize>,
    /// Representative pods of cluster policy subjects: index into `snap.pods` -> the cluster
    /// policy (index into `snap.cluster_policies`, the input's order).
    pub cluster_representatives: BTreeMap<usize, usize>,
}

pub(crate) fn is_dns_pod(p: &Pod) -> bool {
    p.labels.get(DNS_LABEL.0).map(String::as_str) == Some(DNS_LABEL.1)
}

/// The namespace a made-up pod of a cluster policy goes in: one of the input its namespace
/// selector matches, else a made-up one (added to `snap`); None when none can match.
fn subject_namespace(snap: &mut Snapshot, ns_sel: &LabelSelector, key: &str) -> Option<String> {
    if let Some(n) = snap.namespaces.values().find(|n| ns_sel.matches(&n.labels)) {
        return Some(n.name.clone());
    }
    let mut labels = ns_sel.example()?;
    let name = labels
        .get(NAMESPACE_NAME_LABEL)
        .cloned()
        .unwrap_or_else(|| format!("{VIRTUAL_PREFIX}namespace of {key}>"));
    labels.insert(NAMESPACE_NAME_LABEL.to_string(), name.clone());
    if !ns_sel.matches(&labels) || snap.namespaces.contains_key(&name) {
        return None;
    }
    snap.namespaces.insert(
        name.clone(),
        Namespace {
            name: name.clone(),
            labels,
            declared: false,
        },
    );
    Some(name)
}

/// (pod key, policy) pairs as (index in `snap.pods`, policy), for the pods that are there.
fn pod_indices(snap: &Snapshot, named: Vec<(String, usize)>) -> BTreeMap<usize, usize> {
    named
        .into_iter()
        .filter_map(|(key, policy)| {
            snap.pods
                .iter()
                .position(|p| p.key() == key)
                .map(|i| (i, policy))
        })
        .collect()
}

impl Augmented {
    pub fn build(input: &Snapshot) -> Augmented {
        let mut snap = input.clone();
        let with_pods: BTreeSet<&str> = input
            .endpoint_pods()
            .map(|(_, p)| p.namespace.as_str())
            .collect();
        let mut rep_names: Vec<(String, usize)> = Vec::new();
        for (i, pol) in input.policies.iter().enumerate() {
            if with_pods.contains(pol.namespace.as_str()) {
                continue;
            }
            let Some(labels) = pol.pod_selector.example() else {
                continue;
            };
            let name = format!("{VIRTUAL_PREFIX}pods selected by {}>", pol.name);
            rep_names.push((format!("{}/{name}", pol.namespace), i));
            snap.pods
                .push(virtual_pod(&pol.namespace, &name, labels, Vec::new()));
        }
        let dns_virtual = !input.endpoint_pods().any(|(_, p)| is_dns_pod(p));
        if dns_virtual {
            snap.pods.push(virtual_pod(
                DNS_NAMESPACE,
                &format!("{VIRTUAL_PREFIX}kube-dns>"),
                Labels::from([(DNS_LABEL.0.to_string(), DNS_LABEL.1.to_string())]),
                dns_ports(),
            ));
        }
        snap.finish();
        // A cluster policy whose subject selects no pod (of the input, the representatives or
        // the DNS pods) gets one pod it selects,
        // in a namespace of the input its namespace selector matches, or a made-up one.
        let selected: BTreeSet<usize> = {
            let engine = crate::engine::Engine::new(&snap);
            snap.endpoint_pods()
                .flat_map(|(pod, _)| engine.cluster_selecting_pod(pod))
                .collect()
        };
        let mut cluster_rep_names: Vec<(String, usize)> = Vec::new();
        for (i, cp) in input.cluster_policies.iter().enumerate() {
            if selected.contains(&i) {
                continue;
            }
            let (ns_sel, pod_labels) = match &cp.subject {
                ClusterSubject::Namespaces(ns) => (ns, Some(Labels::new())),
                ClusterSubject::Pods(sel) => (&sel.namespaces, sel.pods.example()),
            };
            let Some(pod_labels) = pod_labels else {
                continue;
            };
            let Some(namespace) = subject_namespace(&mut snap, ns_sel, &cp.key()) else {
                continue;
            };
            let name = format!("{VIRTUAL_PREFIX}pods selected by {}>", cp.key());
            cluster_rep_names.push((format!("{namespace}/{name}"), i));
            snap.pods
                .push(virtual_pod(&namespace, &name, pod_labels, Vec::new()));
        }
        // Policies keep their order: finish() sorts by (namespace, name) and they already are.
        snap.finish();
        let dns = snap
            .endpoint_pods()
            .filter(|(_, p)| is_dns_pod(p))
            .map(|(i, _)| i)
            .collect();
        let representatives = pod_indices(&snap, rep_names);
        let cluster_representatives = pod_indices(&snap, cluster_rep_names);
        Augmented {
            snap,
            dns,
            dns_virtual,
            representatives,
            cluster_representatives,
        }
    }

    /// Is this pod (index into `snap.pods`) one lint made up?
    pub fn is_virtual(&self, pod: usize) -> bool {
        self.snap.pods[pod].name.starts_with(VIRTUAL_PREFIX)
    }

    /// How to name a pod in a message: `ns/name`, or "pods selected by ns/policy".
    pub fn describe(&self, pod: usize) -> String {
        let p = &self.snap.pods[pod];
        match self.representatives.get(&pod) {
            Some(&pol) => format!("pods selected by {}", self.snap.policies[pol].key()),
            None if self.cluster_representatives.contains_key(&pod) => format!(
                "pods selected by {}",
                self.snap.cluster_policies[self.cluster_representatives[&pod]].key()
            ),
            None if self.is_virtual(pod) => format!(
                "the cluster DNS ({} {}={})",
                p.namespace, DNS_LABEL.0, DNS_LABEL.1
            ),
            None => p.key(),
        }
    }
}

fn virtual_pod(namespace: &str, name: &str, labels: Labels, ports: Vec<ContainerPort>) -> Pod {
    Pod {
        namespace: namespace.to_string(),
        name: name.to_string(),
        labels,
        ports,
        ips: Vec::new(),
        host_network: false,
        node: None,
        origin: PodOrigin::Workload {
            kind: "lint".into(),
            name: name.to_string(),
        },
        source: Source::default(),
    }
}
