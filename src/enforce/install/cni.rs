//! Network plugins that enforce NetworkPolicy themselves: next to one, a second enforcer only
//! adds cost and confusion.

use super::NAME;

/// A DaemonSet, Deployment or pod that might be a CNI's, with its container images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workload {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub images: Vec<String>,
}

/// Network plugins that enforce NetworkPolicy themselves: (what to tell, names of their
/// workloads, fragments of their images).
const POLICY_CNIS: &[(&str, &[&str], &[&str])] = &[
    ("Calico", &["calico-node", "canal"], &["calico/node"]),
    ("Cilium", &["cilium", "anetd"], &["cilium/cilium"]),
    ("kube-router", &["kube-router"], &["kube-router"]),
    ("Antrea", &["antrea-agent"], &["antrea/antrea"]),
    ("Weave Net", &["weave-net"], &["weaveworks/weave-kube"]),
    (
        "kube-network-policies",
        &["kube-network-policies"],
        &["kube-network-policies"],
    ),
    ("OVN-Kubernetes", &["ovnkube-node"], &[]),
    (
        "the AWS VPC CNI network policy agent",
        &[],
        &["aws-network-policy-agent"],
    ),
    (
        "Azure Network Policy Manager",
        &["azure-npm"],
        &["azure-npm"],
    ),
];

/// The first policy-enforcing CNI among the workloads: (its name, the workload that shows it).
pub fn detect_policy_cni(workloads: &[Workload]) -> Option<(String, String)> {
    for w in workloads {
        if w.name == NAME {
            continue;
        }
        for (cni, names, images) in POLICY_CNIS {
            let by_name = names
                .iter()
                .any(|n| w.name == *n || w.name.starts_with(&format!("{n}-")));
            let by_image = images
                .iter()
                .any(|i| w.images.iter().any(|img| img.contains(i)));
            if by_name || by_image {
                return Some((
                    cni.to_string(),
                    format!("{} {}/{}", w.kind.to_lowercase(), w.namespace, w.name),
                ));
            }
        }
    }
    None
}
