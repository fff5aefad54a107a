//! Real pods that policies cannot tell apart share one prober.

use std::collections::BTreeMap;

use crate::model::{ContainerPort, Labels, Snapshot};

/// Real pods that policies cannot tell apart: same namespace, labels and declared container
/// ports. One prober stands for all of them (twenty replicas need one prober).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub namespace: String,
    pub labels: Labels,
    /// Sorted, without repeats.
    pub ports: Vec<ContainerPort>,
    /// Snapshot indices of the pods, sorted by name.
    pub members: Vec<usize>,
}

impl Group {
    /// The row name of the group: its first pod.
    pub fn display(&self, snap: &Snapshot) -> String {
        snap.pods[self.members[0]].key()
    }
}

/// Groups the pods in scope (hostNetwork pods are not endpoints and are left out).
pub fn group_pods(snap: &Snapshot, pods: &[usize]) -> Vec<Group> {
    let mut groups: BTreeMap<(String, Labels, Vec<ContainerPort>), Vec<usize>> = BTreeMap::new();
    for &i in pods {
        let p = &snap.pods[i];
        if p.host_network {
            continue;
        }
        let mut ports = p.ports.clone();
        ports.sort();
        ports.dedup();
        groups
            .entry((p.namespace.clone(), p.labels.clone(), ports))
            .or_default()
            .push(i);
    }
    let mut out: Vec<Group> = groups
        .into_iter()
        .map(|((namespace, labels, ports), mut members)| {
            members.sort_by(|a, b| snap.pods[*a].name.cmp(&snap.pods[*b].name));
            members.dedup();
            Group {
                namespace,
                labels,
                ports,
                members,
            }
        })
        .collect();
    out.sort_by_key(|g| g.display(snap));
    out
}
