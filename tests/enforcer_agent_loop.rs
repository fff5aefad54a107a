//! Real packets through the agent's loop, without a cluster: pods are network namespaces on a
//! bridge in a "node" namespace (`netpol::probe::local::LocalLab`), the agent programs that node
//! namespace, and the test feeds it watch events through its change channel. After each step
//! (a pod appears, a label changes, a policy is added, a namespace is relabelled, a policy is
//! deleted) every pair of pods is probed over TCP and UDP, IPv4 and IPv6, and must agree with
//! the engine. Along the way: an established connection survives an unrelated policy change,
//! drops are logged and mapped back to pod and policies, rules someone removed are repaired,
//! and shutdown leaves no chain, rule or set.

// It lives in the kubectl-netpol package, not in netpol-enforcer's, because it builds the pods
// with the CLI's local sandbox (probe::local): the enforcer crate then needs no CLI, even as a
// dev-dependency. The helpers are the enforcer tests' own.
#[path = "../enforcer/tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use k8s_openapi::api::core::v1::{Namespace, Node, Pod};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::DynamicObject;
use kube::runtime::watcher::Event;
use kube::ResourceExt;
use netpol::enforce::{Applier, CompileOptions, DropLog, Family};
use netpol::engine::{Endpoint, Engine, Traffic};
use netpol::model::{
    parse_cluster_policy_object, parse_namespace_object, parse_node_object, parse_pod_object,
    parse_policy_object, ClusterKind, Probe, Protocol, Snapshot, Source,
};
use netpol::probe::local::{LabPodSpec, LocalLab, LocalOptions};
use netpol_enforcer::{nflog, Agent, AgentConfig, Change, Telemetry};
use netpol_prober::plan::Verdict;

const NODE: &str = "lab-node";

/// What the API server would hold: the test's truth, turned into the engine's snapshot with
/// the same parser the agent uses, independently of the agent's cache.
#[derive(Default, Clone)]
struct World {
    namespaces: BTreeMap<String, Namespace>,
    pods: BTreeMap<String, Pod>,
    policies: BTreeMap<String, NetworkPolicy>,
    /// Cluster-scoped policies by name.
    cluster: BTreeMap<String, (ClusterKind, DynamicObject)>,
    nodes: BTreeMap<String, Node>,
}

fn key<K: ResourceExt>(o: &K) -> String {
    match o.namespace() {
        Some(ns) => format!("{ns}/{}", o.name_any()),
        None => o.name_any(),
    }
}

impl World {
    fn snapshot(&self) -> Snapshot {
        let src = || Source::default();
        let mut snap = Snapshot::default();
        for n in self.namespaces.values() {
            let n = parse_namespace_object(&serde_json::to_value(n).unwrap()).unwrap();
            snap.namespaces.insert(n.name.clone(), n);
        }
        for p in self.pods.values() {
            let v = serde_json::to_value(p).unwrap();
            snap.pods
                .extend(parse_pod_object(&v, "Pod", "default", src()).unwrap());
        }
        for p in self.policies.values() {
            let v = serde_json::to_value(p).unwrap();
            snap.policies
                .push(parse_policy_object(&v, "default", src()).unwrap());
        }
        for (kind, o) in self.cluster.values() {
            let v = serde_json::to_value(o).unwrap();
            snap.cluster_policies
                .push(parse_cluster_policy_object(&v, *kind, src()).unwrap());
        }
        for n in self.nodes.values() {
            let v = serde_json::to_value(n).unwrap();
            snap.nodes.push(parse_node_object(&v, src()).unwrap());
        }
        snap.finish();
        snap
    }

    fn initial(&self) -> Vec<Change> {
        let mut out = Change::initial_list(
            self.namespaces.values().cloned().collect(),
            self.pods.values().cloned().collect(),
            self.policies.values().cloned().collect(),
        );
        for kind in ClusterKind::ALL {
            let objects: Vec<DynamicObject> = self
                .cluster
                .values()
                .filter(|(k, _)| *k == kind)
                .map(|(_, o)| o.clone())
                .collect();
            if !objects.is_empty() {
                out.extend(Change::cluster_list(kind, objects));
            }
        }
        if !self.nodes.is_empty() {
            out.extend(Change::node_list(self.nodes.values().cloned().collect()));
        }
        out
    }

    /// Adds or replaces a Node; returns its watch event.
    fn apply_node(&mut self, name: &str, role: &str, addresses: &[&str]) -> Change {
        let addresses: Vec<serde_json::Value> = addresses
            .iter()
            .map(|a| serde_json::json!({"type": "InternalIP", "address": a}))
            .chain([serde_json::json!({"type": "Hostname", "address": name})])
            .collect();
        let n: Node = serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "labels": {"role": role}},
            "status": {"addresses": addresses}
        }))
        .unwrap();
        self.nodes.insert(name.into(), n.clone());
        Change::Node(Event::Apply(n))
    }

    /// Removes a Node; returns its watch event.
    fn delete_node(&mut self, name: &str) -> Change {
        Change::Node(Event::Delete(self.nodes.remove(name).unwrap()))
    }

    /// Adds or replaces a cluster policy; returns its watch event.
    fn apply_cluster(&mut self, yaml: &str) -> Change {
        let o: DynamicObject = serde_yaml::from_str(yaml).unwrap();
        let kind = ClusterKind::parse(&o.types.as_ref().unwrap().kind).unwrap();
        self.cluster.insert(o.name_any(), (kind, o.clone()));
        Change::Cluster(kind, Event::Apply(o))
    }

    /// Removes a cluster policy; returns its watch event.
    fn delete_cluster(&mut self, name: &str) -> Change {
        let (kind, o) = self.cluster.remove(name).unwrap();
        Change::Cluster(kind, Event::Delete(o))
    }

    /// The engine's verdict on one connection (to check that a step tests what it says).
    fn allowed(&self, from: &str, to: &str, probe: Probe) -> bool {
        let snap = self.snapshot();
        Engine::new(&snap)
            .verdict(&Traffic {
                from: Endpoint::Pod(snap.find_pod(from, "").unwrap()),
                to: Endpoint::Pod(snap.find_pod(to, "").unwrap()),
                probe,
            })
            .allowed
    }
}

/// The running agent and its lab.
struct Harness {
    lab: LocalLab,
    cni_socket: std::path::PathBuf,
    _cni_dir: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
    tx: tokio::sync::mpsc::Sender<Change>,
    telemetry: Telemetry,
    sent: u64,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<Result<(), netpol::enforce::apply::ApplyError>>>,
    nflog_stop: Arc<AtomicBool>,
}

const PROBES: [Probe; 3] = [
    Probe {
        protocol: Protocol::Tcp,
        port: 80,
    },
    Probe {
        protocol: Protocol::Tcp,
        port: 5432,
    },
    Probe {
        protocol: Protocol::Udp,
        port: 53,
    },
];

/// The binary the lab's pods run their probers with (`kubectl-netpol prober ...`).
fn prober_exe() -> &'static str {
    env!("CARGO_BIN_EXE_kubectl-netpol")
}

fn opts() -> LocalOptions {
    LocalOptions {
        timeout: Duration::from_millis(700),
        ..Default::default()
    }
}

impl Harness {
    /// A lab with every pod that will ever exist (their network namespaces, as a CNI would
    /// have made them) and an agent that knows none of them yet; `hold`: this node's pod
    /// ranges.
    fn start(all_pods: &[(&str, Vec<&str>)], hold: &[&str]) -> Harness {
        let specs: Vec<LabPodSpec> = all_pods
            .iter()
            .map(|(key, ips)| LabPodSpec {
                key: key.to_string(),
                ips: ips.iter().map(|i| i.parse().unwrap()).collect(),
                serve: PROBES.to_vec(),
                dns_records: Vec::new(),
            })
            .collect();
        Harness::start_with(specs, hold, false)
    }

    /// `cni`: the agent answers a chained CNI plugin on a socket (`cni_socket`).
    fn start_with(specs: Vec<LabPodSpec>, hold: &[&str], cni: bool) -> Harness {
        let lab = LocalLab::build(&specs, prober_exe(), &opts()).expect("building the lab");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let telemetry = Telemetry::new(NODE, "system", &[Family::V4, Family::V6]);
        let nflog_stop = Arc::new(AtomicBool::new(false));
        let group = 1742;
        nflog::spawn(
            group,
            Some(format!("/run/netns/{}", lab.node_netns()).into()),
            telemetry.clone(),
            nflog_stop.clone(),
        )
        .expect("NFLOG listener");
        let config = AgentConfig {
            debounce: Duration::from_millis(50),
            max_delay: Duration::from_millis(300),
            repair_interval: Duration::from_millis(500),
            compile: CompileOptions {
                log_drops: Some(DropLog {
                    nflog_group: group,
                    per_second: 1000,
                }),
                hold: hold.iter().map(|n| n.parse().unwrap()).collect(),
            },
            ..AgentConfig::new(NODE)
        };
        let mut agent = Agent::new(config, Applier::new(lab.node_runner()), telemetry.clone());
        let cni_dir = tempfile::tempdir().unwrap();
        let cni_socket = cni_dir.path().join("cni.sock");
        if cni {
            let (place_tx, place_rx) = tokio::sync::mpsc::channel(64);
            let listener = runtime.block_on(async {
                tokio::net::UnixListener::bind(&cni_socket).expect("binding the CNI socket")
            });
            runtime.spawn(netpol_enforcer::cni::serve(listener, place_tx));
            agent = agent.with_cni(place_rx);
        }
        let (tx, rx) = tokio::sync::mpsc::channel(1024);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let done = runtime.spawn(agent.run(rx, async {
            let _ = stop_rx.await;
        }));
        Harness {
            lab,
            cni_socket,
            _cni_dir: cni_dir,
            runtime,
            tx,
            telemetry,
            sent: 0,
            stop: Some(stop_tx),
            done: Some(done),
            nflog_stop,
        }
    }

    /// Sends changes and waits until a sync has included all of them.
    fn send(&mut self, changes: Vec<Change>) {
        for c in changes {
            self.runtime.block_on(self.tx.send(c)).unwrap();
            self.sent += 1;
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.telemetry.progress().1 < self.sent {
            assert!(
                Instant::now() < deadline,
                "the agent did not sync: {:?}",
                self.telemetry.status()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn last_kind(&self) -> String {
        self.telemetry
            .status()
            .last_sync
            .map(|s| s.kind)
            .unwrap_or_default()
    }

    /// Probes every pair of pods the world has (on this node) and returns disagreements; at
    /// least `min_denied` connections must be denied (so a step cannot pass vacuously).
    fn disagreements(&self, world: &World, min_denied: usize) -> Vec<String> {
        self.disagreements_on(world, &PROBES, min_denied)
    }

    fn disagreements_on(&self, world: &World, probes: &[Probe], min_denied: usize) -> Vec<String> {
        let local: Vec<String> = world
            .snapshot()
            .pods
            .iter()
            .filter(|p| p.node.as_deref() == Some(NODE))
            .map(|p| p.key())
            .collect();
        self.disagreements_between(world, &local, &local, probes, min_denied)
    }

    /// As `disagreements_on`, from each of `sources` to each of `targets`.
    fn disagreements_between(
        &self,
        world: &World,
        sources: &[String],
        targets: &[String],
        probes: &[Probe],
        min_denied: usize,
    ) -> Vec<String> {
        let snap = world.snapshot();
        let engine = Engine::new(&snap);
        let results = self
            .lab
            .probe_pairs(sources, targets, probes, &opts())
            .expect("probing");
        let mut bad = Vec::new();
        let mut denied = 0;
        for r in &results {
            let from = snap.find_pod(&r.from, "").unwrap();
            let to = snap.find_pod(&r.to, "").unwrap();
            let want = engine
                .verdict(&Traffic {
                    from: Endpoint::Pod(from),
                    to: Endpoint::Pod(to),
                    probe: r.probe,
                })
                .allowed;
            denied += usize::from(!want);
            // Strict: every probed port listens (dual stack), so allowed means connected and
            // denied means no answer at all.
            let expected = if want {
                Verdict::Connected
            } else {
                Verdict::Timeout
            };
            if r.verdict != expected {
                bad.push(format!(
                    "{} -> {} {}: engine {}, packets {:?}",
                    r.from, r.to, r.probe, want, r.verdict
                ));
            }
        }
        assert_eq!(results.len(), sources.len() * targets.len() * probes.len());
        assert!(
            denied >= min_denied,
            "only {denied} denied connections: the step tests too little"
        );
        bad
    }

    fn shutdown(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(d) = self.done.take() {
            self.runtime
                .block_on(d)
                .expect("agent task")
                .expect("remove_all");
        }
        self.nflog_stop.store(true, Ordering::Relaxed);
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Runs `f` in a thread that entered the network namespace `netns` (sockets stay there).
fn in_netns<T: Send + 'static>(netns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = format!("/run/netns/{netns}");
    std::thread::spawn(move || {
        let file = std::fs::File::open(path).unwrap();
        nix::sched::setns(file.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        f()
    })
    .join()
    .unwrap()
}

/// An echo server on `port` in a namespace, serving one connection line by line.
fn echo_server(netns: &str, port: u16) {
    let listener = in_netns(netns, move || TcpListener::bind(("0.0.0.0", port)).unwrap());
    std::thread::spawn(move || {
        if let Ok((sock, _)) = listener.accept() {
            let mut w = sock.try_clone().unwrap();
            for line in BufReader::new(sock).lines() {
                let Ok(line) = line else { break };
                if writeln!(w, "{line}").is_err() {
                    break;
                }
            }
        }
    });
}

fn roundtrip(stream: &mut (BufReader<TcpStream>, TcpStream), text: &str) -> std::io::Result<()> {
    writeln!(stream.1, "{text}")?;
    let mut line = String::new();
    stream.0.read_line(&mut line)?;
    if line.trim() == text {
        Ok(())
    } else {
        Err(std::io::Error::other(format!("echoed {line:?}")))
    }
}

#[test]
fn agent_loop_agrees_with_the_engine_through_every_kind_of_change() {
    let _serial = require_root();
    // Every pod that will ever exist on this node. All are dual-stack; two are probed over
    // IPv6 (their IPv6 address comes first).
    let all: Vec<(&str, Vec<&str>)> = vec![
        ("x/web-1", vec!["10.77.0.1", "fd77::1"]),
        ("x/db-1", vec!["fd77::2", "10.77.0.2"]),
        ("y/client-1", vec!["10.77.0.3", "fd77::3"]),
        ("y/client-2", vec!["fd77::4", "10.77.0.4"]),
        ("y/other-1", vec!["10.77.0.5", "fd77::5"]),
    ];
    let ips = |k: &str| all.iter().find(|(p, _)| *p == k).unwrap().1.clone();
    let mut h = Harness::start(&all, &["10.77.0.0/24", "fd77::/121"]);

    let mut world = World::default();
    for (n, team) in [("x", "a"), ("y", "b")] {
        world
            .namespaces
            .insert(n.into(), namespace(n, &[("team", team)]));
    }
    for (k, app) in [
        ("x/web-1", "web"),
        ("x/db-1", "db"),
        ("y/client-1", "client"),
        ("y/other-1", "other"),
    ] {
        world
            .pods
            .insert(k.into(), pod(k, &[("app", app)], &ips(k), NODE));
    }
    // A pod on another node: only a member of the peer sets here.
    world.pods.insert(
        "y/client-remote".into(),
        pod(
            "y/client-remote",
            &[("app", "client")],
            &["10.77.9.9", "fd77::99"],
            "other-node",
        ),
    );
    let web_ingress = policy(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {namespace: x, name: web-from-team-b-clients}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {team: b}}
      podSelector: {matchLabels: {app: client}}
    ports: [{port: http}]
"#,
    );
    let db_ingress = policy(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {namespace: x, name: db-from-web}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{protocol: TCP, port: 5432}]
"#,
    );
    for p in [&web_ingress, &db_ingress] {
        world.policies.insert(key(p), p.clone());
    }

    // Start: reconcile from a complete listing.
    h.send(world.initial());
    assert_eq!(h.last_kind(), "full");
    let bad = h.disagreements(&world, 4);
    assert!(bad.is_empty(), "start:\n{}", bad.join("\n"));

    // 1. A pod appears (a client: its addresses join the peer sets, nothing else changes).
    let client2 = pod("y/client-2", &[("app", "client")], &ips("y/client-2"), NODE);
    world.pods.insert("y/client-2".into(), client2.clone());
    h.send(vec![Change::Pod(Event::Apply(client2))]);
    assert_eq!(h.last_kind(), "sets", "a new pod only changes set members");
    let bad = h.disagreements(&world, 4);
    assert!(bad.is_empty(), "pod appears:\n{}", bad.join("\n"));

    // 2. A label changes: other-1 becomes a client.
    let relabelled = pod("y/other-1", &[("app", "client")], &ips("y/other-1"), NODE);
    world.pods.insert("y/other-1".into(), relabelled.clone());
    h.send(vec![Change::Pod(Event::Apply(relabelled))]);
    assert_eq!(
        h.last_kind(),
        "sets",
        "a client more only changes set members"
    );
    let bad = h.disagreements(&world, 3);
    assert!(bad.is_empty(), "label changes:\n{}", bad.join("\n"));

    // An established connection (web-1 -> client-1:7000, neither side isolated that way).
    echo_server(h.lab.pod_netns("y/client-1").unwrap(), 7000);
    let target = ips("y/client-1")[0].to_string();
    let stream = in_netns(h.lab.pod_netns("x/web-1").unwrap(), move || {
        TcpStream::connect_timeout(
            &format!("{target}:7000").parse().unwrap(),
            Duration::from_secs(2),
        )
        .unwrap()
    });
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut conn = (BufReader::new(stream.try_clone().unwrap()), stream);
    roundtrip(&mut conn, "before").unwrap();

    // 3. A policy is added (unrelated to that connection): db may not initiate anything.
    let db_egress = policy(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {namespace: x, name: db-no-egress}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Egress]
"#,
    );
    world.policies.insert(key(&db_egress), db_egress.clone());
    h.send(vec![Change::Policy(Event::Apply(db_egress))]);
    assert_eq!(h.last_kind(), "full", "a new policy means new chains");
    roundtrip(&mut conn, "after an unrelated policy change")
        .expect("the established connection survives a full apply");
    let bad = h.disagreements(&world, 10);
    assert!(bad.is_empty(), "policy added:\n{}", bad.join("\n"));
    // db-1's denied egress was logged and mapped back.
    let drops = h.telemetry.drops();
    let d = drops
        .drops
        .iter()
        .find(|d| d.pod.as_deref() == Some("x/db-1") && d.direction == "egress")
        .unwrap_or_else(|| panic!("no egress drop of x/db-1 logged: {drops:?}"));
    assert_eq!(d.policies, ["x/db-no-egress"]);
    assert!(d.chain.starts_with("NETPOL-E-"));
    let ingress_drop = drops
        .drops
        .iter()
        .find(|d| d.pod.as_deref() == Some("x/web-1") && d.direction == "ingress")
        .unwrap_or_else(|| panic!("no ingress drop of x/web-1 logged: {drops:?}"));
    assert_eq!(ingress_drop.policies, ["x/web-from-team-b-clients"]);
    assert!(h.telemetry.metrics().lines().any(|l| l
        .starts_with("netpol_enforcer_drops_total{direction=\"egress\"} ")
        && !l.ends_with(" 0")));

    // 4. A namespace is relabelled: y is no longer team b, so its clients lose web.
    let y = namespace("y", &[("team", "c")]);
    world.namespaces.insert("y".into(), y.clone());
    h.send(vec![Change::Namespace(Event::Apply(y))]);
    assert_eq!(h.last_kind(), "sets");
    let bad = h.disagreements(&world, 10);
    assert!(bad.is_empty(), "namespace relabelled:\n{}", bad.join("\n"));

    // 5. A policy is deleted: web is open again.
    world.policies.remove(&key(&web_ingress));
    h.send(vec![Change::Policy(Event::Delete(web_ingress))]);
    let bad = h.disagreements(&world, 8);
    assert!(bad.is_empty(), "policy deleted:\n{}", bad.join("\n"));
    roundtrip(&mut conn, "still there").unwrap();

    // Someone flushes our chain and removes our hook: the agent puts them back.
    let node = h.lab.node_netns().to_string();
    let before = firewall_state(&node);
    run(
        &node,
        &["iptables", "-D", "FORWARD", "-j", "NETPOL-FORWARD"],
    );
    run(&node, &["ip6tables", "-F", "NETPOL-FORWARD"]);
    assert_ne!(firewall_state(&node), before);
    let deadline = Instant::now() + Duration::from_secs(10);
    while firewall_state(&node) != before {
        assert!(Instant::now() < deadline, "not repaired");
        std::thread::sleep(Duration::from_millis(100));
    }
    // The counter follows the apply (the rules can be back a moment before it counts).
    while h.telemetry.status().repairs < 1 {
        assert!(Instant::now() < deadline, "repaired but not counted");
        std::thread::sleep(Duration::from_millis(20));
    }
    let bad = h.disagreements(&world, 8);
    assert!(bad.is_empty(), "after repair:\n{}", bad.join("\n"));

    // Shutdown (SIGTERM in the DaemonSet) leaves nothing behind.
    h.shutdown();
    let left = leftovers(&node);
    assert!(left.is_empty(), "left behind:\n{}", left.join("\n"));
}

/// What a burst of new pods managed while the agent was placing them.
#[derive(Debug, Default)]
struct BurstOutcome {
    /// Connection attempts that policies deny (new pod → server:80, server → new pod:80).
    denied_tries: usize,
    /// Of those, the ones that connected: must be none under the hold.
    got_through: Vec<String>,
    /// Per new pod: time from its event being sent to its first allowed connection
    /// (new pod → server:81); None when it never connected.
    usable_after: Vec<Option<Duration>>,
}

/// Tries `addr` from inside `netns` until `until`, every `every`: (tries, connected).
fn keep_trying(netns: &str, addr: std::net::SocketAddr, until: Instant) -> (usize, usize) {
    in_netns(netns, move || {
        let (mut tries, mut connected) = (0, 0);
        while Instant::now() < until {
            tries += 1;
            if TcpStream::connect_timeout(&addr, Duration::from_millis(60)).is_ok() {
                connected += 1;
            }
            std::thread::sleep(Duration::from_millis(15));
        }
        (tries, connected)
    })
}

/// Starts trying denied connections from and to each of `new` (pods the agent has not heard
/// of yet) from their first instant, then tells the agent about all of them at once (each
/// first without an address, then with it, as the API server reports a starting pod), and
/// keeps trying until well after they are placed.
fn burst(h: &Harness, world: &mut World, new: &[(&str, &str)], server_ip: &str) -> BurstOutcome {
    let until = Instant::now() + Duration::from_millis(1500);
    let server_ns = h.lab.pod_netns("srv/server").unwrap().to_string();
    let mut tries = Vec::new();
    for (key, ip) in new {
        let netns = h.lab.pod_netns(key).unwrap().to_string();
        let to_server: std::net::SocketAddr = format!("{server_ip}:80").parse().unwrap();
        let ns = netns.clone();
        tries.push((
            format!("{key} -> srv/server:80"),
            std::thread::spawn(move || keep_trying(&ns, to_server, until)),
        ));
        let to_pod: std::net::SocketAddr = format!("{ip}:80").parse().unwrap();
        let ns = server_ns.clone();
        tries.push((
            format!("srv/server -> {key}:80"),
            std::thread::spawn(move || keep_trying(&ns, to_pod, until)),
        ));
    }
    let usable: Vec<_> = new
        .iter()
        .map(|(key, _)| {
            let netns = h.lab.pod_netns(key).unwrap().to_string();
            let allowed: std::net::SocketAddr = format!("{server_ip}:81").parse().unwrap();
            std::thread::spawn(move || {
                in_netns(&netns, move || {
                    while Instant::now() < until {
                        if TcpStream::connect_timeout(&allowed, Duration::from_millis(60)).is_ok() {
                            return Some(Instant::now());
                        }
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    None
                })
            })
        })
        .collect();
    // The pods run (their namespaces answer) before the agent hears of them.
    std::thread::sleep(Duration::from_millis(200));
    let sent = Instant::now();
    let mut events = Vec::new();
    for (key, ip) in new {
        let mut p = pod(key, &[("app", "new")], &[ip], NODE);
        let running = p.clone();
        world.pods.insert(key.to_string(), running.clone());
        p.status = None;
        events.push(Change::Pod(Event::Apply(p)));
        events.push(Change::Pod(Event::Apply(running)));
    }
    for e in events {
        h.runtime.block_on(h.tx.send(e)).unwrap();
    }
    let mut out = BurstOutcome::default();
    for (what, t) in tries {
        let (n, connected) = t.join().unwrap();
        out.denied_tries += n;
        if connected > 0 {
            out.got_through
                .push(format!("{what}: {connected} of {n} connected"));
        }
    }
    out.usable_after = usable
        .into_iter()
        .map(|t| {
            t.join()
                .unwrap()
                .map(|at| at.saturating_duration_since(sent))
        })
        .collect();
    out
}

/// The scene of the new-pod tests: a server in `srv`, and namespace `app` under a default deny
/// both ways that lets its pods reach the server on port 81 only.
fn new_pod_world(server_ip: &str) -> World {
    let mut world = World::default();
    for n in ["srv", "app"] {
        world
            .namespaces
            .insert(n.into(), namespace(n, &[("name", n)]));
    }
    world.pods.insert(
        "srv/server".into(),
        pod("srv/server", &[("app", "server")], &[server_ip], NODE),
    );
    let deny = policy(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {namespace: app, name: default-deny-but-81}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
  egress:
  - to: [{namespaceSelector: {matchLabels: {name: srv}}}]
    ports: [{protocol: TCP, port: 81}]
"#,
    );
    world.policies.insert(key(&deny), deny);
    world
}

/// What the new-pod tests serve and probe: 80 (denied to new pods), 81 (allowed).
const TCP_80_81: [Probe; 2] = [
    Probe {
        protocol: Protocol::Tcp,
        port: 80,
    },
    Probe {
        protocol: Protocol::Tcp,
        port: 81,
    },
];

fn new_pod_lab(count: usize, hold: &[&str], cni: bool) -> (Harness, World, Vec<(String, String)>) {
    let server_ip = "10.78.0.1";
    let new: Vec<(String, String)> = (0..count)
        .map(|i| (format!("app/new-{i}"), format!("10.78.0.{}", 10 + i)))
        .collect();
    let mut all: Vec<(&str, Vec<&str>)> = vec![("srv/server", vec![server_ip])];
    all.extend(new.iter().map(|(k, ip)| (k.as_str(), vec![ip.as_str()])));
    let specs: Vec<LabPodSpec> = all
        .iter()
        .map(|(key, ips)| LabPodSpec {
            key: key.to_string(),
            ips: ips.iter().map(|i| i.parse().unwrap()).collect(),
            serve: TCP_80_81.to_vec(),
            dns_records: Vec::new(),
        })
        .collect();
    let mut h = Harness::start_with(specs, hold, cni);
    let world = new_pod_world(server_ip);
    h.send(world.initial());
    (h, world, new)
}

#[test]
fn new_pods_never_send_or_receive_before_they_are_placed() {
    let _serial = require_root();
    let (mut h, mut world, new) = new_pod_lab(40, &["10.78.0.0/24"], false);
    let pairs: Vec<(&str, &str)> = new.iter().map(|(k, i)| (k.as_str(), i.as_str())).collect();
    // Ten pods started together, then thirty in one burst (a Deployment scaling up).
    for (round, pods) in [&pairs[..10], &pairs[10..]].into_iter().enumerate() {
        let out = burst(&h, &mut world, pods, "10.78.0.1");
        assert!(
            out.denied_tries >= 100,
            "round {round}: only {} tries",
            out.denied_tries
        );
        assert!(
            out.got_through.is_empty(),
            "round {round}: denied traffic of new pods got through before they were placed:\n{}",
            out.got_through.join("\n")
        );
        // Placed, not held for ever: each reaches what its policy allows.
        let never: Vec<&str> = pods
            .iter()
            .zip(&out.usable_after)
            .filter(|(_, u)| u.is_none())
            .map(|((k, _), _)| *k)
            .collect();
        assert!(never.is_empty(), "round {round}: never placed: {never:?}");
        let mut usable: Vec<Duration> = out.usable_after.iter().flatten().copied().collect();
        usable.sort();
        eprintln!(
            "round {round}: {} pods, {} denied tries, none through; usable after median {:?}, max {:?}",
            pods.len(),
            out.denied_tries,
            usable[usable.len() / 2],
            usable[usable.len() - 1]
        );
    }
    let placement = h.telemetry.status().placement.expect("placements recorded");
    assert!(placement.count >= 40, "{placement:?}");
    eprintln!(
        "placement latency over {} placements: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        placement.count, placement.p50_ms, placement.p99_ms, placement.max_ms
    );
    // Every pair agrees with the engine once placed.
    let bad = h.disagreements_on(&world, &TCP_80_81, 40);
    assert!(bad.is_empty(), "after placement:\n{}", bad.join("\n"));
    h.shutdown();
    let left = leftovers(h.lab.node_netns());
    assert!(left.is_empty(), "left behind:\n{}", left.join("\n"));
}

/// The same burst without the hold: the window the hold closes exists (so the test above can
/// fail).
#[test]
fn without_the_hold_new_pods_send_before_they_are_placed() {
    let _serial = require_root();
    let (h, mut world, new) = new_pod_lab(5, &[], false);
    let pairs: Vec<(&str, &str)> = new.iter().map(|(k, i)| (k.as_str(), i.as_str())).collect();
    let out = burst(&h, &mut world, &pairs, "10.78.0.1");
    assert!(
        !out.got_through.is_empty(),
        "without the hold, nothing got through: the burst test cannot see the window"
    );
}

/// With the CNI plugin chained, pod start waits for placement: once the ADD returns, the pod
/// reaches what its policy allows at the first try and never what it denies; an ADD that
/// comes before the watch has the pod is answered once the pod shows up.
#[test]
fn a_cni_add_returns_once_the_pod_is_placed() {
    use netpol_enforcer::cni::{ask_agent, PlaceMessage};
    let _serial = require_root();
    let (h, mut world, new) = new_pod_lab(12, &["10.78.0.0/24"], true);
    let server: std::net::SocketAddr = "10.78.0.1:81".parse().unwrap();
    let denied: std::net::SocketAddr = "10.78.0.1:80".parse().unwrap();
    let mut add_times = Vec::new();
    for (i, (key, ip)) in new.iter().enumerate() {
        let (ns, name) = key.split_once('/').unwrap();
        let running = pod(key, &[("app", "new")], &[ip], NODE);
        let mut pending = running.clone();
        pending.status = None;
        world.pods.insert(key.clone(), running);
        let msg = PlaceMessage {
            namespace: ns.into(),
            name: name.into(),
            ips: vec![ip.parse().unwrap()],
        };
        let sock = h.cni_socket.clone();
        let started = Instant::now();
        let add = std::thread::spawn(move || ask_agent(&sock, &msg, Duration::from_secs(10)));
        // Every third ADD comes before the scheduler's pod event reaches the agent.
        if i % 3 == 0 {
            std::thread::sleep(Duration::from_millis(50));
            assert!(
                !add.is_finished(),
                "{key}: ADD answered before the pod was known"
            );
        }
        h.runtime
            .block_on(h.tx.send(Change::Pod(Event::Apply(pending))))
            .unwrap();
        add.join().unwrap().unwrap_or_else(|e| panic!("{key}: {e}"));
        add_times.push(started.elapsed());
        // The container starts now: its network is ready at once.
        let netns = h.lab.pod_netns(key).unwrap().to_string();
        let (first_try, leaked) = in_netns(&netns, move || {
            let ok = TcpStream::connect_timeout(&server, Duration::from_millis(500)).is_ok();
            let leak = TcpStream::connect_timeout(&denied, Duration::from_millis(100)).is_ok();
            (ok, leak)
        });
        assert!(
            first_try,
            "{key}: the allowed connection failed right after the ADD"
        );
        assert!(!leaked, "{key}: denied traffic got through");
    }
    let direct: Vec<Duration> = add_times
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 3 != 0)
        .map(|(_, t)| *t)
        .collect();
    let mut sorted = direct.clone();
    sorted.sort();
    eprintln!(
        "CNI ADD wait (pod known to the agent): median {:?}, max {:?}",
        sorted[sorted.len() / 2],
        sorted[sorted.len() - 1]
    );
}

const TCP_80: Probe = PROBES[0];
const TCP_5432: Probe = PROBES[1];
const UDP_53: Probe = PROBES[2];

/// Admin and Baseline cluster policies through the agent's loop: added, changed, deleted, and
/// a pod change while they exist, each step probed with real packets against the engine.
#[test]
fn cluster_policies_through_the_agent_loop_agree_with_the_engine() {
    let _serial = require_root();
    let all: Vec<(&str, Vec<&str>)> = vec![
        ("x/web-1", vec!["10.78.0.1", "fd78::1"]),
        ("x/db-1", vec!["10.78.0.2", "fd78::2"]),
        ("y/client-1", vec!["10.78.0.3", "fd78::3"]),
        ("y/other-1", vec!["fd78::4", "10.78.0.4"]),
    ];
    let ips = |k: &str| all.iter().find(|(p, _)| *p == k).unwrap().1.clone();
    let mut h = Harness::start(&all, &["10.78.0.0/24", "fd78::/121"]);
    let mut world = World::default();
    for n in ["x", "y"] {
        world.namespaces.insert(n.into(), namespace(n, &[]));
    }
    for (k, app) in [
        ("x/web-1", "web"),
        ("x/db-1", "db"),
        ("y/client-1", "client"),
        ("y/other-1", "other"),
    ] {
        world
            .pods
            .insert(k.into(), pod(k, &[("app", app)], &ips(k), NODE));
    }
    let web_ingress = policy(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {namespace: x, name: web-from-clients}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{namespaceSelector: {}, podSelector: {matchLabels: {app: client}}}]
    ports: [{port: 80}]
"#,
    );
    world.policies.insert(key(&web_ingress), web_ingress);
    h.send(world.initial());
    let bad = h.disagreements(&world, 4);
    assert!(bad.is_empty(), "start:\n{}", bad.join("\n"));

    // 1. An Admin guard on namespace x (other pods of y: Accept; the rest of y: Pass to the
    //    NetworkPolicy; everyone else: Deny) and a Baseline that denies y's egress on UDP 53
    //    to x: an ingress Accept does not open the source's egress.
    let guard = r#"
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: guard}
spec:
  tier: Admin
  priority: 10
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: x}}}
  ingress:
  - {name: other, action: Accept, from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: other}}}}]}
  - {name: tenants, action: Pass, from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: y}}}]}
  - {name: rest, action: Deny, from: [{namespaces: {}}]}
"#;
    let baseline = r#"
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: no-dns-to-x}
spec:
  tier: Baseline
  priority: 1
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: y}}}
  egress:
  - {name: dns, action: Deny, to: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: x}}}], protocols: [{udp: {destinationPort: {number: 53}}}]}
"#;
    let changes = vec![world.apply_cluster(guard), world.apply_cluster(baseline)];
    h.send(changes);
    assert_eq!(h.last_kind(), "full");
    assert!(
        world.allowed("y/other-1", "x/web-1", TCP_5432),
        "admin Accept beats the NetworkPolicy"
    );
    assert!(
        !world.allowed("y/other-1", "x/web-1", UDP_53),
        "the source's Baseline egress still denies"
    );
    assert!(
        world.allowed("y/client-1", "x/web-1", TCP_80)
            && !world.allowed("y/client-1", "x/web-1", TCP_5432),
        "Pass: the NetworkPolicy decides"
    );
    assert!(!world.allowed("x/db-1", "x/web-1", TCP_80), "admin Deny");
    let bad = h.disagreements(&world, 10);
    assert!(
        bad.is_empty(),
        "cluster policies added:\n{}",
        bad.join("\n")
    );

    // 2. The guard changes: other pods are denied too.
    h.send(vec![world.apply_cluster(
        &guard.replace("action: Accept", "action: Deny"),
    )]);
    assert!(!world.allowed("y/other-1", "x/web-1", TCP_5432));
    let bad = h.disagreements(&world, 12);
    assert!(
        bad.is_empty(),
        "cluster policy changed:\n{}",
        bad.join("\n")
    );

    // 3. A pod change while cluster policies exist (re-checked against the sets without a
    //    compile; only set members change on the node): client-1 becomes an "other" pod.
    let relabelled = pod("y/client-1", &[("app", "other")], &ips("y/client-1"), NODE);
    world.pods.insert("y/client-1".into(), relabelled.clone());
    h.send(vec![Change::Pod(Event::Apply(relabelled))]);
    assert_eq!(h.last_kind(), "sets");
    assert!(
        !world.allowed("y/client-1", "x/web-1", TCP_80),
        "now an other pod: denied"
    );
    let bad = h.disagreements(&world, 12);
    assert!(bad.is_empty(), "pod relabelled:\n{}", bad.join("\n"));

    // 4. Both are deleted: only the NetworkPolicy is left.
    let changes = vec![
        world.delete_cluster("guard"),
        world.delete_cluster("no-dns-to-x"),
    ];
    h.send(changes);
    assert!(
        world.allowed("y/other-1", "x/db-1", TCP_5432)
            && !world.allowed("x/db-1", "x/web-1", TCP_80)
    );
    let bad = h.disagreements(&world, 3);
    assert!(
        bad.is_empty(),
        "cluster policies deleted:\n{}",
        bad.join("\n")
    );

    h.shutdown();
    assert!(leftovers(h.lab.node_netns()).is_empty());
}

/// `nodes` peers through the agent's loop: Nodes added, relabelled, re-addressed and deleted
/// change what an Admin egress Deny to `nodes: {role: worker}` drops, probed with real packets
/// from this node's pods to the host network of two other nodes (hostNetwork pods there, whose
/// address is their Node's); a Node change while no policy has a `nodes` peer rewrites nothing.
#[test]
fn nodes_peers_follow_node_events_through_the_agent_loop() {
    let _serial = require_root();
    let all: Vec<(&str, Vec<&str>)> = vec![
        ("x/web-1", vec!["10.78.1.1", "fd78::1:1"]),
        ("x/db-1", vec!["10.78.1.2", "fd78::1:2"]),
        ("hosts/worker-2", vec!["10.79.0.2", "fd79::2"]),
        ("hosts/worker-3", vec!["10.79.0.3", "fd79::3"]),
    ];
    let ips = |k: &str| all.iter().find(|(p, _)| *p == k).unwrap().1.clone();
    let mut h = Harness::start(&all, &["10.78.1.0/24", "fd78::1:0/120"]);
    let mut world = World::default();
    for (k, app) in [("x/web-1", "web"), ("x/db-1", "db")] {
        world
            .pods
            .insert(k.into(), pod(k, &[("app", app)], &ips(k), NODE));
    }
    // The other nodes' host network, as hostNetwork pods there (not selectable, their
    // address is the node's).
    for (k, node) in [
        ("hosts/worker-2", "worker-2"),
        ("hosts/worker-3", "worker-3"),
    ] {
        let mut p = pod(k, &[("app", "host")], &ips(k), node);
        p.spec.as_mut().unwrap().host_network = Some(true);
        world.pods.insert(k.into(), p);
    }
    world.apply_node("worker-2", "worker", &["10.79.0.2", "fd79::2"]);
    world.apply_node("worker-3", "infra", &["10.79.0.3", "fd79::3"]);
    let to_nodes = r#"
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: no-workers}
spec:
  tier: Admin
  priority: 5
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: x}}}
  egress:
  - {name: workers, action: Deny, to: [{nodes: {matchLabels: {role: worker}}}]}
"#;
    world.apply_cluster(to_nodes);
    h.send(world.initial());
    let local: Vec<String> = ["x/web-1", "x/db-1"].map(String::from).to_vec();
    let hosts: Vec<String> = ["hosts/worker-2", "hosts/worker-3"]
        .map(String::from)
        .to_vec();
    let denied_to = |world: &World, host: &str| -> Vec<bool> {
        local
            .iter()
            .flat_map(|l| PROBES.map(|p| !world.allowed(l, host, p)))
            .collect()
    };
    let check = |h: &Harness, world: &World, step: &str, min_denied: usize| {
        let bad = h.disagreements_between(world, &local, &hosts, &PROBES, min_denied);
        assert!(bad.is_empty(), "{step}:\n{}", bad.join("\n"));
    };
    assert!(denied_to(&world, "hosts/worker-2").iter().all(|d| *d));
    assert!(denied_to(&world, "hosts/worker-3").iter().all(|d| !*d));
    check(&h, &world, "start", 6);

    // 1. worker-3 becomes a worker: denied too.
    h.send(vec![world.apply_node(
        "worker-3",
        "worker",
        &["10.79.0.3", "fd79::3"],
    )]);
    assert_ne!(h.last_kind(), "unchanged");
    assert!(denied_to(&world, "hosts/worker-3").iter().all(|d| *d));
    check(&h, &world, "node relabelled", 12);

    // 2. worker-2 reports other addresses (its old ones are no node's now): allowed again.
    h.send(vec![world.apply_node(
        "worker-2",
        "worker",
        &["10.79.0.22", "fd79::22"],
    )]);
    assert_ne!(h.last_kind(), "unchanged");
    assert!(denied_to(&world, "hosts/worker-2").iter().all(|d| !*d));
    check(&h, &world, "node re-addressed", 6);

    // 3. worker-3 is deleted: nothing matches the peer any more.
    h.send(vec![world.delete_node("worker-3")]);
    assert_ne!(h.last_kind(), "unchanged");
    assert!(denied_to(&world, "hosts/worker-3").iter().all(|d| !*d));
    let bad = h.disagreements_between(&world, &local, &hosts, &PROBES, 0);
    assert!(bad.is_empty(), "node deleted:\n{}", bad.join("\n"));

    // 4. worker-3 comes back as a worker: denied again.
    h.send(vec![world.apply_node(
        "worker-3",
        "worker",
        &["10.79.0.3", "fd79::3"],
    )]);
    assert_ne!(h.last_kind(), "unchanged");
    check(&h, &world, "node added", 6);

    // 5. The policy no longer names nodes (a `networks` peer instead): Node changes now
    //    rewrite nothing, and the rules stay as they are.
    h.send(vec![world.apply_cluster(&to_nodes.replace(
        "nodes: {matchLabels: {role: worker}}",
        "networks: [10.79.0.3/32, \"fd79::3/128\"]",
    ))]);
    check(&h, &world, "nodes peer replaced", 6);
    let before = firewall_state(h.lab.node_netns());
    h.send(vec![
        world.apply_node("worker-2", "worker", &["10.79.0.2", "fd79::2"]),
        world.delete_node("worker-3"),
    ]);
    assert_eq!(h.last_kind(), "unchanged");
    assert_eq!(firewall_state(h.lab.node_netns()), before);
    check(&h, &world, "nodes changed, no nodes peer", 6);

    h.shutdown();
    assert!(leftovers(h.lab.node_netns()).is_empty());
}
