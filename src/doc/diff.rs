//! `diff -o json`: the connections a change opens and closes, grouped, and what changed besides.

use serde::Serialize;

use super::matrix::ProbeJson;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// Denied before, allowed after.
    Allowed,
    /// Allowed before, denied after.
    Denied,
}

/// One connection whose verdict changed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ConnectionChange {
    pub from: String,
    pub to: String,
    pub protocol: String,
    pub port: u16,
}

/// Connections with the same change, between a set of sources and a set of destinations, on
/// the same probes: every (from, to, probe) of the product changed that way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    pub change: Change,
    pub from: Vec<String>,
    pub to: Vec<String>,
    /// `tcp/80`, `udp/53`
    pub probes: Vec<String>,
    /// Connections in the group (self pairs excluded).
    pub connections: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PodChanges {
    /// Pods on both sides (their connections are compared).
    pub common: usize,
    #[serde(rename = "onlyOld")]
    pub only_old: Vec<String>,
    #[serde(rename = "onlyNew")]
    pub only_new: Vec<String>,
    /// Pods on both sides whose labels or declared ports differ.
    pub changed: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PolicyChanges {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diff {
    pub old: String,
    pub new: String,
    pub probes: Vec<ProbeJson>,
    pub pods: PodChanges,
    pub policies: PolicyChanges,
    /// Connections that become allowed.
    pub allowed: Vec<ConnectionChange>,
    /// Connections that become denied.
    pub denied: Vec<ConnectionChange>,
    pub groups: Vec<Group>,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.allowed.is_empty() && self.denied.is_empty()
    }
}
