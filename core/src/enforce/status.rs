//! What an enforcer agent reports about itself (`GET /status`, `GET /drops` on its HTTP port):
//! the contract between the netpol-enforcer agent, which writes these documents, and
//! `kubectl netpol enforcer status|drops`, which reads them through the API server's pod proxy.

use serde::{Deserialize, Serialize};

/// The agents' HTTP port (hostNetwork: it is a port of the node).
pub const AGENT_PORT: u16 = 9742;

/// One reconcile of the agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncRecord {
    /// When it finished, in milliseconds since the Unix epoch.
    pub unix_ms: u64,
    /// `full` (chains rewritten), `sets` (only set members), `unchanged`, or `repair` (someone
    /// removed or changed our rules and the agent put them back).
    pub kind: String,
    pub duration_ms: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `GET /status`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentStatus {
    pub node: String,
    pub version: String,
    /// The watches have listed everything once and the first sync succeeded.
    pub ready: bool,
    /// `nft`, `legacy` or `system` (whatever `iptables` is on PATH).
    pub backend: String,
    /// `ipv4`, `ipv6`: the families the agent programs.
    pub families: Vec<String>,
    #[serde(default)]
    pub last_sync: Option<SyncRecord>,
    /// The last sync that failed, if any since the last success.
    #[serde(default)]
    pub last_error: Option<SyncRecord>,
    pub syncs: u64,
    pub sync_errors: u64,
    pub repairs: u64,
    pub rules: u64,
    pub chains: u64,
    pub ipsets: u64,
    pub ipset_members: u64,
    /// Pods on this node that some policy isolates (and so have rules here).
    pub isolated_pods: u64,
    pub local_pods: u64,
    /// Isolated pods on this node without an address yet (enforced once they have one).
    #[serde(default)]
    pub pods_without_ip: Vec<String>,
    pub drops: u64,
    /// How new pods are kept from sending or receiving before their rules exist: `hold`
    /// (traffic of local pod addresses not placed yet is dropped until the agent places
    /// them), or `none` (no pod address range known for this node: a new pod is unprotected
    /// until its first sync). Empty from agents older than this field.
    #[serde(default)]
    pub new_pods: String,
    /// The pod address ranges the hold covers.
    #[serde(default)]
    pub pod_cidrs: Vec<String>,
    /// Time from a local pod's address (or its removal) reaching the agent to the node's rules
    /// having it, over the recent placements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<PlacementStats>,
    /// Time from a watch event (a policy, namespace or pod change) reaching the agent to the
    /// rules that include it being in the kernel, over the recent syncs
    /// (`netpol_enforcer_sync_latency_seconds`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_latency: Option<PlacementStats>,
    /// Whether a sync deletes the conntrack entries of open connections it denies
    /// (`--terminate-established`), and how many it deleted.
    #[serde(default)]
    pub terminate_established: bool,
    #[serde(default)]
    pub terminated_flows: u64,
    /// Things an operator should know: br_netfilter missing, IPv6 not available, ...
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// Placement latencies: how long after the agent saw a local pod's address its rules were in
/// the kernel.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlacementStats {
    /// Placements since the agent started.
    pub count: u64,
    /// Over the most recent placements (up to 1,000).
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// One dropped packet, as NFLOG reported it, mapped back to pods and policies (`GET /drops`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DropRecord {
    /// Milliseconds since the Unix epoch.
    pub unix_ms: u64,
    /// `ingress` (the local pod's ingress refused it) or `egress`.
    pub direction: String,
    /// The local pod whose policies dropped the packet (`namespace/name`), when known. A prober
    /// of `kubectl netpol probe` (gone soon after) is followed by the labels it mirrors:
    /// `payments/netpol-probe-x1-0 (probe prober for pods app=api)`.
    #[serde(default)]
    pub pod: Option<String>,
    /// The other side: a pod (named as `pod` is) or an address.
    pub peer: String,
    pub src: String,
    pub dst: String,
    /// `TCP`, `UDP`, `SCTP`, `ICMP`, ... or the protocol number.
    pub protocol: String,
    #[serde(default)]
    pub port: Option<u16>,
    /// The policies that isolate the pod in that direction (none of their rules allowed it).
    pub policies: Vec<String>,
    pub chain: String,
}

impl DropRecord {
    /// Whether `pod` (`namespace/name`) is the isolated pod or the peer of this drop (a prober's
    /// name matches without the labels that follow it).
    pub fn involves(&self, pod: &str) -> bool {
        let named = |s: &str| s.split(' ').next() == Some(pod);
        self.pod.as_deref().is_some_and(named) || named(&self.peer)
    }
}

/// `GET /drops`: the most recent drops, oldest first, and how many were seen in all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DropsDoc {
    pub node: String,
    pub total: u64,
    pub drops: Vec<DropRecord>,
}

/// The drops `enforcer drops` shows: every readable agent's records tagged with its node (an
/// agent that could not be read becomes a line in the second list), only those involving `pod`
/// when given, oldest first, at most the newest `limit`.
pub fn select_drops(
    docs: impl IntoIterator<Item = (String, Result<DropsDoc, String>)>,
    pod: Option<&str>,
    limit: usize,
) -> (Vec<(String, DropRecord)>, Vec<String>) {
    let mut all = Vec::new();
    let mut errors = Vec::new();
    for (node, doc) in docs {
        match doc {
            Ok(d) => all.extend(d.drops.into_iter().map(|r| (node.clone(), r))),
            Err(e) => errors.push(format!("{node}: {e}")),
        }
    }
    if let Some(p) = pod {
        all.retain(|(_, d)| d.involves(p));
    }
    all.sort_by_key(|(_, d)| d.unix_ms);
    let skip = all.len().saturating_sub(limit);
    (all.split_off(skip), errors)
}

#[cfg(test)]
mod tests {
    use super::{select_drops, DropRecord, DropsDoc};

    fn drop_at(unix_ms: u64, pod: &str) -> DropRecord {
        DropRecord {
            unix_ms,
            direction: "ingress".into(),
            pod: Some(pod.into()),
            peer: "10.0.0.9".into(),
            src: "10.0.0.9".into(),
            dst: "10.0.0.2".into(),
            protocol: "TCP".into(),
            port: Some(80),
            policies: vec![],
            chain: "NETPOL-I-0".into(),
        }
    }

    #[test]
    fn drops_are_merged_across_nodes_filtered_and_the_newest_kept() {
        let doc = |node: &str, drops| DropsDoc {
            node: node.into(),
            total: 0,
            drops,
        };
        let docs = vec![
            (
                "n1".to_string(),
                Ok(doc("n1", vec![drop_at(30, "x/a"), drop_at(10, "x/b")])),
            ),
            ("n2".to_string(), Err("connection refused".to_string())),
            ("n3".to_string(), Ok(doc("n3", vec![drop_at(20, "x/a")]))),
        ];
        let (shown, errors) = select_drops(docs.clone(), None, 2);
        let when: Vec<(&str, u64)> = shown.iter().map(|(n, d)| (n.as_str(), d.unix_ms)).collect();
        assert_eq!(when, vec![("n3", 20), ("n1", 30)]);
        assert_eq!(errors, vec!["n2: connection refused"]);
        let (shown, _) = select_drops(docs, Some("x/b"), 50);
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].1.unix_ms, 10);
    }

    #[test]
    fn drops_are_found_by_either_pod_prober_names_included() {
        let d = DropRecord {
            unix_ms: 0,
            direction: "ingress".into(),
            pod: Some("payments/netpol-probe-x1-0 (probe prober for pods app=api)".into()),
            peer: "frontend/web".into(),
            src: "10.0.0.1".into(),
            dst: "10.0.0.2".into(),
            protocol: "TCP".into(),
            port: Some(8080),
            policies: vec![],
            chain: "NETPOL-I-0".into(),
        };
        assert!(d.involves("payments/netpol-probe-x1-0"));
        assert!(d.involves("frontend/web"));
        assert!(!d.involves("payments/netpol-probe-x1"));
        assert!(!d.involves("payments/api"));
    }
}
