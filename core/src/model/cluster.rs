//! Cluster-scoped policy (group policy.networking.k8s.io): ClusterNetworkPolicy (v1alpha2) and the
//! older AdminNetworkPolicy / BaselineAdminNetworkPolicy (v1alpha1), in one internal form, and
//! Node objects (for `nodes` peers). What they mean is the engine's job.

use std::fmt;
use std::net::IpAddr;

use super::{IpBlock, LabelSelector, Labels, Protocol, Source};

/// Which API object a cluster policy was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum ClusterKind {
    /// policy.networking.k8s.io/v1alpha2 ClusterNetworkPolicy (`cnp/NAME`).
    ClusterNetworkPolicy,
    /// policy.networking.k8s.io/v1alpha1 AdminNetworkPolicy (`anp/NAME`): the Admin tier.
    AdminNetworkPolicy,
    /// policy.networking.k8s.io/v1alpha1 BaselineAdminNetworkPolicy (`banp/default`): the
    /// Baseline tier.
    BaselineAdminNetworkPolicy,
}

impl ClusterKind {
    pub const ALL: [ClusterKind; 3] = [
        ClusterKind::ClusterNetworkPolicy,
        ClusterKind::AdminNetworkPolicy,
        ClusterKind::BaselineAdminNetworkPolicy,
    ];

    /// The kubectl short name, used to write a policy as `cnp/NAME`.
    pub fn short_name(self) -> &'static str {
        match self {
            ClusterKind::ClusterNetworkPolicy => "cnp",
            ClusterKind::AdminNetworkPolicy => "anp",
            ClusterKind::BaselineAdminNetworkPolicy => "banp",
        }
    }

    pub fn kind(self) -> &'static str {
        match self {
            ClusterKind::ClusterNetworkPolicy => "ClusterNetworkPolicy",
            ClusterKind::AdminNetworkPolicy => "AdminNetworkPolicy",
            ClusterKind::BaselineAdminNetworkPolicy => "BaselineAdminNetworkPolicy",
        }
    }

    pub fn api_version(self) -> &'static str {
        match self {
            ClusterKind::ClusterNetworkPolicy => "policy.networking.k8s.io/v1alpha2",
            _ => "policy.networking.k8s.io/v1alpha1",
        }
    }

    /// The resource name in the API (for listing and RBAC).
    pub fn plural(self) -> &'static str {
        match self {
            ClusterKind::ClusterNetworkPolicy => "clusternetworkpolicies",
            ClusterKind::AdminNetworkPolicy => "adminnetworkpolicies",
            ClusterKind::BaselineAdminNetworkPolicy => "baselineadminnetworkpolicies",
        }
    }

    /// `cnp`, `anp`, `banp` or the kind/plural name, any case.
    pub fn parse(s: &str) -> Option<ClusterKind> {
        let s = s.to_ascii_lowercase();
        ClusterKind::ALL
            .into_iter()
            .find(|k| s == k.short_name() || s == k.kind().to_ascii_lowercase() || s == k.plural())
    }

    pub fn is_v1alpha1(self) -> bool {
        self != ClusterKind::ClusterNetworkPolicy
    }
}

/// The tier a cluster policy sits in: Admin before NetworkPolicy, Baseline after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum ClusterTier {
    Admin,
    Baseline,
}

impl ClusterTier {
    pub fn as_str(self) -> &'static str {
        match self {
            ClusterTier::Admin => "admin",
            ClusterTier::Baseline => "baseline",
        }
    }
}

impl fmt::Display for ClusterTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a matching rule does. v1alpha1's `Allow` is read as `Accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Action {
    Accept,
    Deny,
    /// Skip the rest of this tier: the next tier decides.
    Pass,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Accept => "Accept",
            Action::Deny => "Deny",
            Action::Pass => "Pass",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Pods chosen cluster-wide: a namespace selector AND a pod selector (both may be empty = all).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NamespacedPods {
    pub namespaces: LabelSelector,
    pub pods: LabelSelector,
}

/// The pods a cluster policy applies to (host-network pods never).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ClusterSubject {
    /// Every pod in the namespaces the selector matches.
    Namespaces(LabelSelector),
    Pods(NamespacedPods),
}

/// One entry of a rule's `from` / `to`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ClusterPeer {
    Namespaces(LabelSelector),
    Pods(NamespacedPods),
    /// CIDRs (no except), host bits cleared; they also match pod addresses.
    Networks(Vec<IpBlock>),
    /// The addresses of the Node objects the selector matches.
    Nodes(LabelSelector),
    /// Decided by DNS at run time: matches no pod offline.
    DomainNames(Vec<String>),
}

/// One entry of a rule's `protocols` (v1alpha2) or `ports` (v1alpha1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ClusterPort {
    /// A destination port (`start == end`) or an inclusive range of one protocol.
    Range {
        protocol: Protocol,
        start: u16,
        end: u16,
    },
    /// `destinationNamedPort` / `namedPort`: a container port of the destination pod with this
    /// name (its protocol and number).
    Named(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterRule {
    /// As written; may be empty.
    pub name: String,
    pub action: Action,
    /// Never empty (the API requires at least one).
    pub peers: Vec<ClusterPeer>,
    /// Empty: every port and protocol.
    pub ports: Vec<ClusterPort>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterPolicy {
    pub kind: ClusterKind,
    pub name: String,
    pub tier: ClusterTier,
    /// 0..=1000, lower first. A BaselineAdminNetworkPolicy has none and counts as 0.
    pub priority: u32,
    pub subject: ClusterSubject,
    /// In written order: the first matching rule decides.
    pub ingress: Vec<ClusterRule>,
    pub egress: Vec<ClusterRule>,
    pub source: Source,
}

impl ClusterPolicy {
    /// `cnp/NAME`, `anp/NAME`, `banp/NAME`: how the tool writes (and `explain policy` takes) it.
    pub fn key(&self) -> String {
        format!("{}/{}", self.kind.short_name(), self.name)
    }

    pub fn rules(&self, dir: super::Direction) -> &[ClusterRule] {
        match dir {
            super::Direction::Ingress => &self.ingress,
            super::Direction::Egress => &self.egress,
        }
    }

    /// The evaluation order: tier, then priority, then (for a stable answer where priorities tie)
    /// kind and name.
    pub fn order_key(&self) -> (ClusterTier, u32, ClusterKind, &str) {
        (self.tier, self.priority, self.kind, &self.name)
    }
}

/// A Node: what `nodes` peers match (its labels) and stand for (its addresses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    pub labels: Labels,
    /// The IP addresses of `status.addresses` (host names are not addresses).
    pub addresses: Vec<IpAddr>,
    pub source: Source,
}
