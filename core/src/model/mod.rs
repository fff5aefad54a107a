//! The cluster snapshot: namespaces, pods (real ones and workload templates as virtual pods) and
//! NetworkPolicies, parsed and validated. No semantics live here: matching is the engine's job.

mod cluster;
mod depth;
mod error;
mod load;
mod parse;
mod selector_text;

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

pub use cluster::{
    Action, ClusterKind, ClusterPeer, ClusterPolicy, ClusterPort, ClusterRule, ClusterSubject,
    ClusterTier, NamespacedPods, Node,
};
pub use error::{FieldError, InputError};
pub use load::collect_files;
pub use load::{load_paths, load_str, skipped_summary, LoadOptions, Skipped};
pub use parse::{
    parse_cluster_policy_object, parse_namespace_object, parse_node_object, parse_pod_object,
    parse_policy_object,
};
pub use selector_text::parse_selector_text;

/// Label keys and values, sorted so output is stable.
pub type Labels = BTreeMap<String, String>;

/// The label on every object a kubectl-netpol run makes; its value is the run id. `cleanup`
/// deletes by it, and the enforcer agent tells prober pods by it.
pub const RUN_LABEL: &str = "netpol.kubectl.io/run";

/// The label the API server adds to every namespace (added for manifests too).
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// Where the cluster DNS runs, by convention, and the label its pods carry (CoreDNS and kube-dns
/// both use it).
pub const DNS_NAMESPACE: &str = "kube-system";
pub const DNS_LABEL: (&str, &str) = ("k8s-app", "kube-dns");

/// The ports a cluster DNS pod declares: `dns` UDP 53 and `dns-tcp` TCP 53.
pub fn dns_ports() -> Vec<ContainerPort> {
    vec![
        ContainerPort {
            name: Some("dns".into()),
            port: 53,
            protocol: Protocol::Udp,
        },
        ContainerPort {
            name: Some("dns-tcp".into()),
            port: 53,
            protocol: Protocol::Tcp,
        },
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    pub const ALL: [Protocol; 3] = [Protocol::Tcp, Protocol::Udp, Protocol::Sctp];

    pub fn parse(s: &str) -> Option<Protocol> {
        match s.to_ascii_uppercase().as_str() {
            "TCP" => Some(Protocol::Tcp),
            "UDP" => Some(Protocol::Udp),
            "SCTP" => Some(Protocol::Sctp),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One probed service: a protocol and a port, written `tcp/80` on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Probe {
    pub protocol: Protocol,
    pub port: u16,
}

impl Probe {
    pub fn new(protocol: Protocol, port: u16) -> Probe {
        Probe { protocol, port }
    }

    /// Parses `tcp/80`, `UDP/53`, `sctp/9000`; a bare number means TCP.
    pub fn parse(s: &str) -> Result<Probe, String> {
        let s = s.trim();
        let (proto, port) = match s.split_once('/') {
            Some((p, n)) => (
                Protocol::parse(p).ok_or_else(|| {
                    format!(
                        "unknown protocol {p:?} in probe {s:?}: use tcp, udp or sctp, e.g. tcp/80"
                    )
                })?,
                n,
            ),
            None => (Protocol::Tcp, s),
        };
        let port: u16 = port.parse().ok().filter(|p| *p > 0).ok_or_else(|| {
            format!("invalid port {port:?} in probe {s:?}: use a number 1-65535, e.g. tcp/8080")
        })?;
        Ok(Probe::new(proto, port))
    }

    /// A comma-separated list, as `--ports tcp/80,udp/53` takes.
    pub fn parse_list(s: &str) -> Result<Vec<Probe>, String> {
        s.split(',')
            .filter(|p| !p.trim().is_empty())
            .map(Probe::parse)
            .collect()
    }
}

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}",
            self.protocol.as_str().to_ascii_lowercase(),
            self.port
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    pub name: String,
    pub labels: Labels,
    /// False when the namespace was only referenced (a pod or policy lives there), never declared.
    pub declared: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContainerPort {
    pub name: Option<String>,
    pub port: u16,
    pub protocol: Protocol,
}

/// Where a pod came from: a real Pod object, or the pod template of a workload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PodOrigin {
    Pod,
    Workload { kind: String, name: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pod {
    pub namespace: String,
    pub name: String,
    pub labels: Labels,
    pub ports: Vec<ContainerPort>,
    pub ips: Vec<IpAddr>,
    pub host_network: bool,
    pub node: Option<String>,
    pub origin: PodOrigin,
    pub source: Source,
}

impl Pod {
    /// `namespace/name`, the way pods are written everywhere in the tool.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// Where an object was read from, for messages.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Source {
    pub file: String,
    pub document: usize,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.document > 0 {
            write!(f, "{} (document {})", self.file, self.document)
        } else {
            f.write_str(&self.file)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Requirement {
    pub key: String,
    pub operator: Operator,
    pub values: Vec<String>,
}

/// A metav1.LabelSelector. Empty means "everything".
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct LabelSelector {
    pub match_labels: Labels,
    pub match_expressions: Vec<Requirement>,
}

impl LabelSelector {
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IpBlock {
    /// As written (host bits may be set: the API server accepts that).
    pub cidr_text: String,
    /// Normalised (host bits cleared): what the CIDR really covers.
    pub cidr: ipnet::IpNet,
    pub except: Vec<ipnet::IpNet>,
}

/// Which namespaces a pod peer looks in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NamespaceScope {
    /// `podSelector` alone: the policy's own namespace.
    PolicyNamespace,
    Selector(LabelSelector),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Peer {
    Pods {
        namespaces: NamespaceScope,
        pods: LabelSelector,
    },
    IpBlock(IpBlock),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PortSpec {
    Number(u16),
    Name(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PolicyPort {
    pub protocol: Protocol,
    /// None: every port of the protocol.
    pub port: Option<PortSpec>,
    pub end_port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Empty: every peer (`from`/`to` absent or empty).
    pub peers: Vec<Peer>,
    /// Empty: every port.
    pub ports: Vec<PolicyPort>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    pub const BOTH: [Direction; 2] = [Direction::Ingress, Direction::Egress];

    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub namespace: String,
    pub name: String,
    pub pod_selector: LabelSelector,
    pub ingress: Vec<Rule>,
    pub egress: Vec<Rule>,
    /// Effective policyTypes (defaulted as the API server does when omitted).
    pub types_ingress: bool,
    pub types_egress: bool,
    /// Whether policyTypes was written explicitly (lint and explain mention the defaulting).
    pub types_explicit: bool,
    /// Whether `spec.egress` was written at all, even as `[]` (lint: `egress: []` without
    /// policyTypes isolates nothing for egress).
    pub egress_written: bool,
    pub source: Source,
}

impl Policy {
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    pub fn affects(&self, dir: Direction) -> bool {
        match dir {
            Direction::Ingress => self.types_ingress,
            Direction::Egress => self.types_egress,
        }
    }

    pub fn rules(&self, dir: Direction) -> &[Rule] {
        match dir {
            Direction::Ingress => &self.ingress,
            Direction::Egress => &self.egress,
        }
    }
}

/// Everything the engine needs to know about a cluster at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub namespaces: BTreeMap<String, Namespace>,
    /// Sorted by `namespace/name`.
    pub pods: Vec<Pod>,
    /// Sorted by `namespace/name`.
    pub policies: Vec<Policy>,
    /// Cluster-scoped policies in evaluation order (`ClusterPolicy::order_key`).
    pub cluster_policies: Vec<ClusterPolicy>,
    /// Sorted by name.
    pub nodes: Vec<Node>,
}

impl Snapshot {
    /// Adds namespaces that pods or policies live in but nobody declared, sorts, and fills in
    /// the automatic name label. Call after adding objects by hand.
    pub fn finish(&mut self) {
        let referenced: Vec<String> = self
            .pods
            .iter()
            .map(|p| p.namespace.clone())
            .chain(self.policies.iter().map(|p| p.namespace.clone()))
            .collect();
        for name in referenced {
            self.namespaces
                .entry(name.clone())
                .or_insert_with(|| Namespace {
                    labels: Labels::new(),
                    name,
                    declared: false,
                });
        }
        for ns in self.namespaces.values_mut() {
            ns.labels
                .entry(NAMESPACE_NAME_LABEL.to_string())
                .or_insert_with(|| ns.name.clone());
        }
        self.pods
            .sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        self.policies
            .sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        self.cluster_policies
            .sort_by(|a, b| a.order_key().cmp(&b.order_key()));
        self.nodes.sort_by(|a, b| a.name.cmp(&b.name));
    }

    /// Finds a cluster policy written `cnp/NAME`, `anp/NAME` or `banp/NAME` (any kind name or
    /// plural works as the prefix).
    pub fn find_cluster_policy(&self, spec: &str) -> Option<usize> {
        let (kind, name) = spec.split_once('/')?;
        let kind = ClusterKind::parse(kind)?;
        self.cluster_policies
            .iter()
            .position(|p| p.kind == kind && p.name == name)
    }

    /// The warning for a snapshot that mixes v1alpha1 (AdminNetworkPolicy,
    /// BaselineAdminNetworkPolicy) and v1alpha2 (ClusterNetworkPolicy): upstream defines no
    /// order between them, so the engine's order (by priority, v1alpha2 first on a tie) is a guess.
    pub fn cluster_api_mix_warning(&self) -> Option<String> {
        let count = |old: bool| {
            self.cluster_policies
                .iter()
                .filter(|p| p.kind.is_v1alpha1() == old)
                .count()
        };
        let (old, new) = (count(true), count(false));
        (old > 0 && new > 0).then(|| {
            format!(
                "{new} ClusterNetworkPolicy (v1alpha2) and {old} AdminNetworkPolicy/BaselineAdminNetworkPolicy (v1alpha1) objects: upstream does not define how the two APIs order against each other; this tool orders each tier by priority and puts v1alpha2 first on equal priority, which your network plugin may not do"
            )
        })
    }

    pub fn namespace_labels(&self, namespace: &str) -> Option<&Labels> {
        self.namespaces.get(namespace).map(|n| &n.labels)
    }

    /// Finds a pod by `ns/name`, or by `name` in `default_ns`.
    pub fn find_pod(&self, spec: &str, default_ns: &str) -> Option<usize> {
        let (ns, name) = split_ref(spec, default_ns);
        self.pods
            .iter()
            .position(|p| p.namespace == ns && p.name == name)
    }

    pub fn find_policy(&self, spec: &str, default_ns: &str) -> Option<usize> {
        let (ns, name) = split_ref(spec, default_ns);
        self.policies
            .iter()
            .position(|p| p.namespace == ns && p.name == name)
    }

    /// Pods that policies can select and that can be endpoints (hostNetwork pods are neither).
    pub fn endpoint_pods(&self) -> impl Iterator<Item = (usize, &Pod)> {
        self.pods
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.host_network)
    }
}

/// `ns/name` or `name` (in the default namespace).
pub fn split_ref<'a>(spec: &'a str, default_ns: &'a str) -> (&'a str, &'a str) {
    match spec.split_once('/') {
        Some((ns, name)) => (ns, name),
        None => (default_ns, spec),
    }
}
