//! `netpol-enforcer feed`: the agent's own loop ([`Agent`]), fed with API objects read from
//! stdin instead of the kube watches. `kubectl netpol probe --local --apply` runs it in the
//! sandbox's node namespace, so the time to enforce it measures is the enforcer's: the same
//! cache, debounce, compile, least-work plan and `ipset`/`iptables-restore` as the DaemonSet.
//!
//! Why a process: the kubectl-netpol binary cannot link this crate (this crate depends on the
//! kubectl-netpol library; Cargo forbids the cycle), so the seam between them is this line
//! protocol.
//!
//! stdin, one JSON object a line:
//! - `{"init": {"namespaces": [...], "pods": [...], "policies": [...], "clusterPolicies": [...],
//!   "nodes": [...]}}` the initial listing (`clusterPolicies`: ClusterNetworkPolicy,
//!   AdminNetworkPolicy and BaselineAdminNetworkPolicy objects; a kind with none counts as not
//!   installed)
//! - `{"apply": OBJECT}` / `{"delete": OBJECT}` a watch event (Namespace, Pod, NetworkPolicy,
//!   Node, or one of the cluster-scoped kinds)
//!
//! stdout, one JSON object a line:
//! - `{"accepted": N}` after each input line: N events are now in the agent's queue
//! - `{"synced_events": N, "sync_latency_ms": X}` each time a sync puts more events in the
//!   kernel (X: from the oldest of them reaching the agent to the rules being in the kernel)
//!
//! The agent stops (and removes every chain and set) when stdin closes or on SIGTERM/SIGINT.

use std::io::{BufRead, Write};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, Node, Pod};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::DynamicObject;
use kube::runtime::watcher::Event;
use netpol::enforce::{Applier, Runner};
use netpol::model::ClusterKind;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

use crate::{Agent, AgentConfig, Change, Telemetry};

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Init {
    #[serde(default)]
    namespaces: Vec<Namespace>,
    #[serde(default)]
    pods: Vec<Pod>,
    #[serde(default)]
    policies: Vec<NetworkPolicy>,
    #[serde(default, rename = "clusterPolicies")]
    cluster_policies: Vec<DynamicObject>,
    #[serde(default)]
    nodes: Vec<Node>,
}

impl Init {
    fn changes(self) -> Result<Vec<Change>, String> {
        let mut out = Change::initial_list(self.namespaces, self.pods, self.policies);
        let mut by_kind: BTreeMap<ClusterKind, Vec<DynamicObject>> = BTreeMap::new();
        for o in self.cluster_policies {
            let kind = o
                .types
                .as_ref()
                .map(|t| t.kind.as_str())
                .unwrap_or_default();
            let kind = ClusterKind::parse(kind).ok_or_else(|| {
                format!("clusterPolicies: kind {kind:?} is not a cluster-scoped policy kind")
            })?;
            by_kind.entry(kind).or_default().push(o);
        }
        for (kind, objects) in by_kind {
            out.extend(Change::cluster_list(kind, objects));
        }
        // (initial_list holds an empty listing of Nodes: a listing with Nodes replaces it.)
        if !self.nodes.is_empty() {
            out.extend(Change::node_list(self.nodes));
        }
        Ok(out)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
enum Line {
    Init(Init),
    Apply(Value),
    Delete(Value),
}

/// One input line as the agent's changes. The error names the line and the field.
pub fn parse_line(n: usize, text: &str) -> Result<Vec<Change>, String> {
    let line: Line =
        serde_json::from_str(text).map_err(|e| format!("stdin line {n}: not a feed line: {e}"))?;
    let event = |v: Value, apply: bool| -> Result<Change, String> {
        let kind = v
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        macro_rules! ev {
            ($t:ty, $c:path) => {{
                let o: $t = serde_json::from_value(v)
                    .map_err(|e| format!("stdin line {n}: {kind}: {e}"))?;
                Ok($c(if apply {
                    Event::Apply(o)
                } else {
                    Event::Delete(o)
                }))
            }};
        }
        match kind.as_str() {
            "Namespace" => ev!(Namespace, Change::Namespace),
            "Pod" => ev!(Pod, Change::Pod),
            "NetworkPolicy" => ev!(NetworkPolicy, Change::Policy),
            "Node" => ev!(Node, Change::Node),
            other => match ClusterKind::parse(other) {
                Some(cluster) => {
                    let o: DynamicObject = serde_json::from_value(v)
                        .map_err(|e| format!("stdin line {n}: {kind}: {e}"))?;
                    Ok(Change::Cluster(cluster, if apply { Event::Apply(o) } else { Event::Delete(o) }))
                }
                None => Err(format!(
                    "stdin line {n}: kind {other:?} is not fed (Namespace, Pod, NetworkPolicy, Node, ClusterNetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy)"
                )),
            },
        }
    };
    Ok(match line {
        Line::Init(i) => i.changes().map_err(|e| format!("stdin line {n}: {e}"))?,
        Line::Apply(v) => vec![event(v, true)?],
        Line::Delete(v) => vec![event(v, false)?],
    })
}

fn say(value: serde_json::Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{value}");
    let _ = out.flush();
}

/// Runs the agent on stdin's changes until stdin closes (or a signal); removes everything on
/// the way out.
pub async fn feed<R: Runner + 'static>(
    config: AgentConfig,
    applier: Applier<R>,
    telemetry: Telemetry,
) -> Result<(), String> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Change>(4096);
    let (eof_tx, eof_rx) = tokio::sync::oneshot::channel::<Result<(), String>>();
    // stdin on a plain thread: the blocking read must not hold up the runtime.
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        let mut sent = 0u64;
        let mut result = Ok(());
        for (i, line) in stdin.lock().lines().enumerate() {
            let Ok(line) = line else { break };
            if line.trim().is_empty() {
                continue;
            }
            match parse_line(i + 1, &line) {
                Ok(changes) => {
                    for c in changes {
                        if tx.blocking_send(c).is_err() {
                            return;
                        }
                        sent += 1;
                    }
                    say(serde_json::json!({ "accepted": sent }));
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        let _ = eof_tx.send(result);
    });
    let watch = telemetry.clone();
    let reporter = tokio::spawn(async move {
        let mut last = 0;
        loop {
            tokio::time::sleep(Duration::from_millis(2)).await;
            let (_, synced, _) = watch.progress();
            if synced > last {
                last = synced;
                let latency = watch.last_sync_latency().map(|d| d.as_secs_f64() * 1000.0);
                say(serde_json::json!({ "synced_events": synced, "sync_latency_ms": latency }));
            }
        }
    });
    let input = std::sync::Arc::new(std::sync::Mutex::new(None));
    let input_w = input.clone();
    let stop = async move {
        tokio::select! {
            r = eof_rx => {
                if let Ok(Err(e)) = r {
                    *input_w.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
                }
            }
            _ = crate::shutdown_signal() => {}
        }
    };
    let result = Agent::new(config, applier, telemetry).run(rx, stop).await;
    reporter.abort();
    if let Some(e) = input.lock().unwrap_or_else(|e| e.into_inner()).take() {
        return Err(e);
    }
    result.map_err(|e| format!("removing the rules failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_become_changes_and_bad_lines_name_the_problem() {
        let c = parse_line(
            1,
            r#"{"apply": {"kind": "NetworkPolicy", "metadata": {"name": "a", "namespace": "x"}, "spec": {"podSelector": {}}}}"#,
        )
        .unwrap();
        assert!(matches!(&c[..], [Change::Policy(Event::Apply(_))]));
        let c = parse_line(
            2,
            r#"{"init": {"namespaces": [{"metadata": {"name": "x"}}]}}"#,
        )
        .unwrap();
        // Three listings of three kinds, the three cluster-scoped kinds absent, no Nodes.
        assert_eq!(c.len(), 12);
        let c = parse_line(
            7,
            r#"{"init": {"nodes": [{"metadata": {"name": "n1"}, "status": {"addresses": [{"type": "InternalIP", "address": "192.0.2.1"}]}}]}}"#,
        )
        .unwrap();
        assert!(matches!(
            &c[c.len() - 3..],
            [
                Change::Node(Event::Init),
                Change::Node(Event::InitApply(_)),
                Change::Node(Event::InitDone)
            ]
        ));
        let c = parse_line(
            8,
            r#"{"delete": {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}}}"#,
        )
        .unwrap();
        assert!(matches!(&c[..], [Change::Node(Event::Delete(_))]));
        let c = parse_line(
            5,
            r#"{"init": {"clusterPolicies": [{"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy", "metadata": {"name": "a"}}]}}"#,
        )
        .unwrap();
        assert!(matches!(
            &c[c.len() - 3..],
            [
                Change::Cluster(ClusterKind::ClusterNetworkPolicy, Event::Init),
                Change::Cluster(_, Event::InitApply(_)),
                Change::Cluster(_, Event::InitDone)
            ]
        ));
        let c = parse_line(
            6,
            r#"{"delete": {"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy", "metadata": {"name": "a"}}}"#,
        )
        .unwrap();
        assert!(matches!(
            &c[..],
            [Change::Cluster(
                ClusterKind::AdminNetworkPolicy,
                Event::Delete(_)
            )]
        ));
        let e = parse_line(
            3,
            r#"{"apply": {"kind": "Service", "metadata": {"name": "a"}}}"#,
        )
        .unwrap_err();
        assert!(e.contains("line 3") && e.contains("Service"), "{e}");
        let e = parse_line(4, r#"{"upsert": {}}"#).unwrap_err();
        assert!(e.contains("line 4"), "{e}");
    }
}
