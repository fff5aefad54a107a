//! The enforcer's numbers (scripts/bench-enforcer.sh runs this in release mode):
//!
//!   enforcer_bench FILE --node NODE              compile + render for the node's pods
//!   enforcer_bench FILE --node NODE --netns NS   also: the agent's first sync into NS, then
//!                                                pod-only changes through the agent's loop
//!
//! Times are the best and the median of several runs. A pod-only change is timed as the agent
//! times its syncs (metrics: netpol_enforcer_sync_duration_seconds): from the start of the
//! reconcile (after the debounce) through snapshot, engine, compile, diff and `ipset restore`.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Namespace, Node, Pod};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::DynamicObject;
use kube::runtime::watcher::Event;
use netpol::enforce::{compile_with, render, Applier, CommandRunner, CompileOptions, Family};
use netpol::engine::Engine;
use netpol::model::{load_str, ClusterKind, LoadOptions};
use netpol_enforcer::{Agent, AgentConfig, Change, Telemetry};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn stats(mut v: Vec<Duration>) -> String {
    v.sort();
    format!(
        "best {:.1} ms, median {:.1} ms, worst {:.1} ms (n={})",
        v[0].as_secs_f64() * 1000.0,
        v[v.len() / 2].as_secs_f64() * 1000.0,
        v[v.len() - 1].as_secs_f64() * 1000.0,
        v.len()
    )
}

fn main() {
    let Some(file) = std::env::args().nth(1) else {
        eprintln!("usage: enforcer_bench FILE --node NODE [--netns NS]");
        std::process::exit(2);
    };
    let node = arg("--node").unwrap_or_else(|| "node0".into());
    let text = std::fs::read_to_string(&file).expect("reading the manifests");
    let t = Instant::now();
    let (snap, _) = load_str(
        &file,
        &text,
        &LoadOptions {
            default_namespace: "default".into(),
            ..Default::default()
        },
    )
    .expect("parsing the manifests");
    println!(
        "snapshot: {} pods, {} policies, {} cluster policies, {} namespaces (parsed in {:.0} ms)",
        snap.pods.len(),
        snap.policies.len(),
        snap.cluster_policies.len(),
        snap.namespaces.len(),
        t.elapsed().as_secs_f64() * 1000.0
    );

    let mut compile_times = Vec::new();
    let mut engine_times = Vec::new();
    let mut last = None;
    for _ in 0..7 {
        let t = Instant::now();
        let engine = Engine::new(&snap);
        engine_times.push(t.elapsed());
        let rules = compile_with(&engine, Some(&node), &CompileOptions::default());
        let mut bytes = 0;
        for f in [Family::V4, Family::V6] {
            bytes += render::ipset_restore(rules.family(f)).len();
            bytes += render::iptables_restore(rules.family(f), &[]).len();
        }
        compile_times.push(t.elapsed());
        last = Some((rules, bytes));
    }
    let (rules, bytes) = last.expect("at least one run");
    let local = snap
        .pods
        .iter()
        .filter(|p| p.node.as_deref() == Some(node.as_str()))
        .count();
    println!(
        "node {node}: {local} local pods -> {} rules in {} chains, {} ipsets with {} members ({} KiB of restore text)",
        rules.rule_count(),
        rules.v4.chains.len() + rules.v6.chains.len(),
        rules.set_count(),
        rules.member_count(),
        bytes / 1024
    );
    println!("engine (classes) alone:          {}", stats(engine_times));
    println!("compile + render (engine incl.): {}", stats(compile_times));

    let Some(netns) = arg("--netns") else { return };

    // The agent, fed the same objects as watch events.
    let mut namespaces = Vec::new();
    let mut pods: Vec<Pod> = Vec::new();
    let mut policies = Vec::new();
    let mut cluster: std::collections::BTreeMap<ClusterKind, Vec<DynamicObject>> =
        Default::default();
    let mut nodes: Vec<Node> = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(&text) {
        let v: serde_yaml::Value = serde::Deserialize::deserialize(doc).expect("YAML");
        let kind = v.get("kind").and_then(|k| k.as_str()).unwrap_or_default();
        match kind {
            "Namespace" => namespaces.push(serde_yaml::from_value::<Namespace>(v).unwrap()),
            "Pod" => pods.push(serde_yaml::from_value::<Pod>(v).unwrap()),
            "NetworkPolicy" => policies.push(serde_yaml::from_value::<NetworkPolicy>(v).unwrap()),
            "Node" => nodes.push(serde_yaml::from_value::<Node>(v).unwrap()),
            _ => {
                if let Some(k) = ClusterKind::parse(kind) {
                    let o = serde_yaml::from_value::<DynamicObject>(v).unwrap();
                    cluster.entry(k).or_default().push(o);
                }
            }
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let telemetry = Telemetry::new(&node, "system", &[Family::V4, Family::V6]);
    let config = AgentConfig {
        debounce: Duration::from_millis(1),
        max_delay: Duration::from_millis(1),
        repair_interval: Duration::from_secs(3600),
        ..AgentConfig::new(&node)
    };
    let applier = Applier::new(CommandRunner {
        netns: Some(netns.clone()),
    });
    let agent = Agent::new(config, applier, telemetry.clone());
    let (tx, rx) = tokio::sync::mpsc::channel(100_000);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let done = runtime.spawn(agent.run(rx, async {
        let _ = stop_rx.await;
    }));
    let mut sent = 0u64;
    let mut send = |changes: Vec<Change>| {
        for c in changes {
            runtime.block_on(tx.send(c)).expect("agent alive");
            sent += 1;
        }
        while telemetry.progress().1 < sent {
            if let Some(e) = telemetry.status().last_error {
                panic!("sync failed: {:?}", e.error);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        telemetry.status().last_sync.expect("a sync")
    };
    let mut listing = Change::initial_list(namespaces, pods.clone(), policies);
    for (kind, objects) in cluster {
        listing.extend(Change::cluster_list(kind, objects));
    }
    if !nodes.is_empty() {
        listing.extend(Change::node_list(nodes));
    }
    let first = send(listing);
    println!(
        "agent: first sync ({}) into {netns}: {:.0} ms",
        first.kind, first.duration_ms
    );

    // Pod-only changes: pods of other nodes change their app label (they move between peer
    // sets) and back.
    let mut times = Vec::new();
    let mut kinds = std::collections::BTreeMap::new();
    let remote: Vec<usize> = pods
        .iter()
        .enumerate()
        .filter(|(_, p)| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) != Some(&node))
        .map(|(i, _)| i)
        .take(20)
        .collect();
    for (n, &i) in remote.iter().enumerate() {
        let mut p = pods[i].clone();
        let labels = p.metadata.labels.get_or_insert_with(Default::default);
        let app = labels.get("app").cloned().unwrap_or_default();
        labels.insert("app".into(), format!("{app}x{n}"));
        let s = send(vec![Change::Pod(Event::Apply(p.clone()))]);
        *kinds.entry(s.kind.clone()).or_insert(0) += 1;
        times.push(Duration::from_secs_f64(s.duration_ms / 1000.0));
        // And back.
        let s = send(vec![Change::Pod(Event::Apply(pods[i].clone()))]);
        *kinds.entry(s.kind.clone()).or_insert(0) += 1;
        times.push(Duration::from_secs_f64(s.duration_ms / 1000.0));
    }
    // And pods of this node: a copy of a local pod (same labels, a new address) appears and is
    // deleted again.
    let local: Vec<usize> = pods
        .iter()
        .enumerate()
        .filter(|(_, p)| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(&node))
        .map(|(i, _)| i)
        .take(10)
        .collect();
    for (n, &i) in local.iter().enumerate() {
        let mut p = pods[i].clone();
        p.metadata.name = Some(format!("bench-copy-{n}"));
        let status = p.status.get_or_insert_with(Default::default);
        let ip = format!("10.254.{}.{}", n / 250, n % 250 + 1);
        status.pod_ip = Some(ip.clone());
        status.pod_ips = Some(vec![k8s_openapi::api::core::v1::PodIP { ip }]);
        for c in [
            Change::Pod(Event::Apply(p.clone())),
            Change::Pod(Event::Delete(p)),
        ] {
            let s = send(vec![c]);
            *kinds.entry(s.kind.clone()).or_insert(0) += 1;
            times.push(Duration::from_secs_f64(s.duration_ms / 1000.0));
        }
    }
    println!(
        "agent: pod-only change applied:  {} (sync kinds: {kinds:?})",
        stats(times)
    );
    let _ = stop_tx.send(());
    runtime
        .block_on(done)
        .expect("agent task")
        .expect("remove_all");
}
