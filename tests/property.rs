//! Property test: the matrix computed over equivalence classes in set algebra equals the
//! pair-by-pair verdicts and a naive evaluation written straight from the specification, on
//! thousands of random clusters and policies (with and without an ordered first-match tier).

mod common;

use std::collections::BTreeMap;
use std::net::IpAddr;

use netpol::engine::matrix::Matrix;
use netpol::engine::Engine;
use netpol::model::*;
use proptest::prelude::*;

/// A tiny deterministic generator, so one u64 seed describes a whole cluster.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const KEYS: [&str; 3] = ["app", "tier", "team"];
const VALUES: [&str; 3] = ["a", "b", "c"];
const PORT_NAMES: [&str; 3] = ["http", "metrics", "dns"];
const PORTS: [u16; 4] = [53, 80, 81, 8080];

fn labels(g: &mut Gen) -> Labels {
    let mut l = Labels::new();
    for k in KEYS {
        if g.chance(60) {
            l.insert(k.to_string(), g.pick(&VALUES).to_string());
        }
    }
    l
}

fn selector(g: &mut Gen) -> LabelSelector {
    let mut s = LabelSelector::default();
    if g.chance(30) {
        return s;
    }
    if g.chance(60) {
        s.match_labels
            .insert(g.pick(&KEYS).to_string(), g.pick(&VALUES).to_string());
    }
    if g.chance(40) {
        let operator = [
            Operator::In,
            Operator::NotIn,
            Operator::Exists,
            Operator::DoesNotExist,
        ][g.below(4) as usize];
        let values = match operator {
            Operator::In | Operator::NotIn => (0..1 + g.below(2))
                .map(|_| g.pick(&VALUES).to_string())
                .collect(),
            _ => vec![],
        };
        s.match_expressions.push(Requirement {
            key: g.pick(&KEYS).to_string(),
            operator,
            values,
        });
    }
    s
}

fn ip(g: &mut Gen) -> IpAddr {
    if g.chance(15) {
        format!("fd00::{}", g.below(8) + 1).parse().unwrap()
    } else {
        format!("10.0.{}.{}", g.below(2), g.below(8))
            .parse()
            .unwrap()
    }
}

fn ip_block(g: &mut Gen) -> IpBlock {
    let v6 = g.chance(15);
    let (cidr, except): (ipnet::IpNet, Vec<ipnet::IpNet>) = if v6 {
        (
            "fd00::/120".parse().unwrap(),
            if g.chance(50) {
                vec![format!("fd00::{}/128", g.below(8) + 1).parse().unwrap()]
            } else {
                vec![]
            },
        )
    } else {
        let len = [16u8, 24, 29][g.below(3) as usize];
        let base: ipnet::IpNet = format!("10.0.{}.0/{len}", g.below(2))
            .parse::<ipnet::IpNet>()
            .unwrap()
            .trunc();
        let except = if g.chance(50) && len < 30 {
            vec![format!("10.0.0.{}/31", 2 * g.below(4))
                .parse::<ipnet::IpNet>()
                .unwrap()
                .trunc()]
            .into_iter()
            .filter(|e| base.contains(e))
            .collect()
        } else {
            vec![]
        };
        (base, except)
    };
    IpBlock {
        cidr_text: cidr.to_string(),
        cidr,
        except,
    }
}

fn peer(g: &mut Gen) -> Peer {
    match g.below(4) {
        0 => Peer::IpBlock(ip_block(g)),
        1 => Peer::Pods {
            namespaces: NamespaceScope::PolicyNamespace,
            pods: selector(g),
        },
        _ => Peer::Pods {
            namespaces: NamespaceScope::Selector(selector(g)),
            pods: selector(g),
        },
    }
}

fn policy_port(g: &mut Gen) -> PolicyPort {
    let protocol = [Protocol::Tcp, Protocol::Udp, Protocol::Sctp][g.below(3) as usize];
    match g.below(4) {
        0 => PolicyPort {
            protocol,
            port: None,
            end_port: None,
        },
        1 => PolicyPort {
            protocol,
            port: Some(PortSpec::Name(g.pick(&PORT_NAMES).to_string())),
            end_port: None,
        },
        2 => PolicyPort {
            protocol,
            port: Some(PortSpec::Number(80)),
            end_port: Some(81 + g.below(8000) as u16),
        },
        _ => PolicyPort {
            protocol,
            port: Some(PortSpec::Number(PORTS[g.below(4) as usize])),
            end_port: None,
        },
    }
}

fn rules(g: &mut Gen) -> Vec<Rule> {
    (0..g.below(3))
        .map(|_| Rule {
            peers: (0..g.below(3)).map(|_| peer(g)).collect(),
            ports: (0..g.below(3)).map(|_| policy_port(g)).collect(),
        })
        .collect()
}

fn cluster(seed: u64) -> Snapshot {
    let mut g = Gen(seed | 1);
    let mut snap = Snapshot::default();
    let ns_names: Vec<String> = (0..1 + g.below(3)).map(|i| format!("ns{i}")).collect();
    for n in &ns_names {
        snap.namespaces.insert(
            n.clone(),
            Namespace {
                name: n.clone(),
                labels: labels(&mut g),
                declared: true,
            },
        );
    }
    for i in 0..2 + g.below(9) {
        let ports = (0..g.below(3))
            .map(|_| ContainerPort {
                name: if g.chance(70) {
                    Some(g.pick(&PORT_NAMES).to_string())
                } else {
                    None
                },
                port: PORTS[g.below(4) as usize],
                protocol: [Protocol::Tcp, Protocol::Udp, Protocol::Sctp][g.below(3) as usize],
            })
            .collect();
        let ips = if g.chance(85) {
            vec![ip(&mut g)]
        } else {
            vec![]
        };
        snap.pods.push(Pod {
            namespace: ns_names[g.below(ns_names.len() as u64) as usize].clone(),
            name: format!("p{i}"),
            labels: labels(&mut g),
            ports,
            ips,
            host_network: g.chance(5),
            node: None,
            origin: PodOrigin::Pod,
            source: Source::default(),
        });
    }
    for i in 0..g.below(6) {
        let ingress = rules(&mut g);
        let egress = rules(&mut g);
        let (ti, te) = match g.below(4) {
            0 => (true, !egress.is_empty()),
            1 => (true, false),
            2 => (false, true),
            _ => (true, true),
        };
        snap.policies.push(Policy {
            namespace: ns_names[g.below(ns_names.len() as u64) as usize].clone(),
            name: format!("pol{i}"),
            pod_selector: selector(&mut g),
            ingress,
            egress,
            types_ingress: ti,
            types_egress: te,
            types_explicit: true,
            egress_written: true,
            source: Source::default(),
        });
    }
    snap.finish();
    snap
}

// ---- The naive oracle: the specification, pair by pair, no classes, no caches. ----

fn sel_matches(s: &LabelSelector, l: &BTreeMap<String, String>) -> bool {
    s.match_labels.iter().all(|(k, v)| l.get(k) == Some(v))
        && s.match_expressions.iter().all(|r| match r.operator {
            Operator::In => l.get(&r.key).is_some_and(|v| r.values.contains(v)),
            Operator::NotIn => !l.get(&r.key).is_some_and(|v| r.values.contains(v)),
            Operator::Exists => l.contains_key(&r.key),
            Operator::DoesNotExist => !l.contains_key(&r.key),
        })
}

fn naive_peer(snap: &Snapshot, pol: &Policy, peer: &Peer, other: &Pod) -> bool {
    match peer {
        Peer::IpBlock(b) => other
            .ips
            .iter()
            .any(|ip| b.cidr.contains(ip) && !b.except.iter().any(|e| e.contains(ip))),
        Peer::Pods { namespaces, pods } => {
            if other.host_network {
                return false;
            }
            let ns_ok = match namespaces {
                NamespaceScope::PolicyNamespace => other.namespace == pol.namespace,
                NamespaceScope::Selector(s) => {
                    sel_matches(s, &snap.namespaces[&other.namespace].labels)
                }
            };
            ns_ok && sel_matches(pods, &other.labels)
        }
    }
}

fn naive_port(pp: &PolicyPort, probe: Probe, dest: &Pod) -> bool {
    pp.protocol == probe.protocol
        && match &pp.port {
            None => true,
            Some(PortSpec::Number(n)) => match pp.end_port {
                Some(e) => *n <= probe.port && probe.port <= e,
                None => *n == probe.port,
            },
            Some(PortSpec::Name(name)) => dest.ports.iter().any(|c| {
                c.name.as_ref() == Some(name)
                    && c.protocol == probe.protocol
                    && c.port == probe.port
            }),
        }
}

fn naive_direction(
    snap: &Snapshot,
    subject: &Pod,
    other: &Pod,
    dest: &Pod,
    probe: Probe,
    dir: Direction,
) -> bool {
    let pols: Vec<&Policy> = snap
        .policies
        .iter()
        .filter(|p| {
            p.namespace == subject.namespace
                && sel_matches(&p.pod_selector, &subject.labels)
                && p.affects(dir)
        })
        .collect();
    pols.is_empty()
        || pols.iter().any(|pol| {
            pol.rules(dir).iter().any(|r| {
                (r.ports.is_empty() || r.ports.iter().any(|pp| naive_port(pp, probe, dest)))
                    && (r.peers.is_empty()
                        || r.peers.iter().any(|x| naive_peer(snap, pol, x, other)))
            })
        })
}

fn naive(snap: &Snapshot, a: &Pod, b: &Pod, same: bool, probe: Probe) -> bool {
    same || (naive_direction(snap, a, b, b, probe, Direction::Egress)
        && naive_direction(snap, b, a, b, probe, Direction::Ingress))
}

fn probes() -> Vec<Probe> {
    let mut v = Vec::new();
    for proto in [Protocol::Tcp, Protocol::Udp, Protocol::Sctp] {
        for port in [53u16, 80, 81, 8080, 9999] {
            v.push(Probe::new(proto, port));
        }
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn grouped_matrix_equals_naive_evaluation(seed in any::<u64>()) {
        let snap = cluster(seed);
        let engine = Engine::new(&snap);
        let all: Vec<usize> = (0..snap.pods.len()).collect();
        let probes = probes();
        let m = Matrix::compute(&engine, &all, &probes);
        // The set algebra says exactly what the verdict of every pair of classes says.
        prop_assert!(m.same_verdicts(&Matrix::compute_pairwise(&engine, &all, &probes)), "seed {}", seed);
        let endpoint_count = snap.pods.iter().filter(|p| !p.host_network).count();
        prop_assert_eq!(m.pods.len(), endpoint_count);
        for (i, &a) in m.pods.iter().enumerate() {
            for (j, &b) in m.pods.iter().enumerate() {
                for (k, probe) in probes.iter().enumerate() {
                    let expected = naive(&snap, &snap.pods[a], &snap.pods[b], a == b, *probe);
                    prop_assert_eq!(m.allowed(i, j, k), expected, "seed {} {} -> {} {}", seed, snap.pods[a].key(), snap.pods[b].key(), probe);
                    // The explained verdict must say the same as the matrix.
                    let t = netpol::engine::Traffic { from: netpol::engine::Endpoint::Pod(a), to: netpol::engine::Endpoint::Pod(b), probe: *probe };
                    prop_assert_eq!(engine.verdict(&t).allowed, expected);
                }
            }
        }
        // The summary counts agree with the expanded matrix.
        let summary = m.summary();
        prop_assert_eq!(&Matrix::count_only(&engine, &all, &probes).probes, &summary);
        for (k, count) in summary.iter().enumerate() {
            let allowed = (0..m.pods.len()).flat_map(|i| (0..m.pods.len()).map(move |j| (i, j))).filter(|&(i, j)| m.allowed(i, j, k)).count() as u64;
            prop_assert_eq!(count.allowed, allowed);
            prop_assert_eq!(count.allowed + count.denied, (m.pods.len() * m.pods.len()) as u64);
        }
    }
}

// ---- Enough classes that the set algebra runs on several threads. ----

/// A random cluster grown to hundreds of pods with their own addresses, and egress policies
/// whose ipBlocks cut those addresses into ranges, so there are hundreds of classes.
fn big_cluster(seed: u64) -> Snapshot {
    let mut snap = cluster(seed);
    let mut g = Gen(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let namespaces: Vec<String> = snap.namespaces.keys().cloned().collect();
    for i in 0..900u64 {
        snap.pods.push(Pod {
            namespace: namespaces[g.below(namespaces.len() as u64) as usize].clone(),
            name: format!("big{i}"),
            labels: labels(&mut g),
            ports: container_ports(&mut g),
            ips: vec![format!("10.0.{}.{}", 4 + i / 250, i % 250).parse().unwrap()],
            host_network: false,
            node: None,
            origin: PodOrigin::Pod,
            source: Source::default(),
        });
    }
    for k in 0..24u64 {
        let base = g.below(900);
        let net = |b: u64, len: u8| -> ipnet::IpNet {
            format!("10.0.{}.{}/{len}", 4 + b / 250, b % 250)
                .parse::<ipnet::IpNet>()
                .unwrap()
                .trunc()
        };
        let cidr = net(base, 25);
        let except: Vec<ipnet::IpNet> = vec![net(base, 28)]
            .into_iter()
            .filter(|e| cidr.contains(e) && *e != cidr)
            .collect();
        snap.policies.push(Policy {
            namespace: namespaces[g.below(namespaces.len() as u64) as usize].clone(),
            name: format!("cut{k}"),
            pod_selector: selector(&mut g),
            ingress: rules(&mut g),
            egress: vec![Rule {
                peers: vec![Peer::IpBlock(IpBlock {
                    cidr_text: cidr.to_string(),
                    cidr,
                    except,
                })],
                ports: (0..g.below(2)).map(|_| policy_port(&mut g)).collect(),
            }],
            types_ingress: g.chance(50),
            types_egress: true,
            types_explicit: true,
            egress_written: true,
            source: Source::default(),
        });
    }
    snap.finish();
    snap
}

#[test]
fn set_algebra_on_hundreds_of_classes_equals_pair_by_pair() {
    let mut biggest = 0;
    for seed in 1..=4u64 {
        let snap = big_cluster(seed);
        let engine = Engine::new(&snap);
        let all: Vec<usize> = (0..snap.pods.len()).collect();
        let probes = [Probe::new(Protocol::Tcp, 80), Probe::new(Protocol::Udp, 53)];
        let m = Matrix::compute(&engine, &all, &probes);
        biggest = biggest.max(m.class_count());
        let pairwise = Matrix::compute_pairwise(&engine, &all, &probes);
        assert!(m.same_verdicts(&pairwise), "seed {seed}");
        assert_eq!(
            Matrix::count_only(&engine, &all, &probes),
            pairwise.counts(),
            "seed {seed}"
        );
    }
    // Enough classes that rows, transposes and counts were split over threads.
    assert!(biggest > 600, "only {biggest} classes");
}

// ---- Ordered first-match tiers (the shape of cluster-scoped policy) around NetworkPolicy. ----

#[derive(Clone, Copy, Debug)]
enum Action {
    Accept,
    Deny,
    Pass,
}

/// A peer of some policy in the snapshot: (policy, direction, rule, peer).
type PeerRef = (usize, Direction, usize, usize);

/// Rules in written order; the first whose subject, peer and probe match decides. Subjects and
/// peers are written as peers of the snapshot's policies (None: any pod), so that the engine's
/// equivalence classes, which know only those selectors, tell pods apart as the tier does.
struct OrderedTier {
    name: &'static str,
    rules: Vec<OrderedRule>,
}

/// Subject, peer (None: any pod), probe (None: any), action.
type OrderedRule = (Option<PeerRef>, Option<PeerRef>, Option<Probe>, Action);

fn peer_refs(snap: &Snapshot) -> Vec<PeerRef> {
    let mut out = Vec::new();
    for (p, pol) in snap.policies.iter().enumerate() {
        for dir in Direction::BOTH {
            for (r, rule) in pol.rules(dir).iter().enumerate() {
                out.extend((0..rule.peers.len()).map(|k| (p, dir, r, k)));
            }
        }
    }
    out
}

fn naive_ref_matches(snap: &Snapshot, r: Option<PeerRef>, pod: &Pod) -> bool {
    r.is_none_or(|(p, dir, rule, k)| {
        let pol = &snap.policies[p];
        naive_peer(snap, pol, &pol.rules(dir)[rule].peers[k], pod)
    })
}

impl OrderedTier {
    fn random(g: &mut Gen, snap: &Snapshot, name: &'static str) -> OrderedTier {
        let probes = probes();
        let refs = peer_refs(snap);
        let pick = |g: &mut Gen| {
            (!refs.is_empty() && g.chance(70)).then(|| refs[g.below(refs.len() as u64) as usize])
        };
        let rules = (0..g.below(4))
            .map(|_| {
                let probe = g
                    .chance(50)
                    .then(|| probes[g.below(probes.len() as u64) as usize]);
                let action = [Action::Accept, Action::Deny, Action::Pass][g.below(3) as usize];
                (pick(g), pick(g), probe, action)
            })
            .collect();
        OrderedTier { name, rules }
    }

    /// Some(allowed) when a rule decides; None when none matches or one passes.
    fn first_match(
        &self,
        matches: impl Fn(Option<PeerRef>, bool) -> bool,
        probe: Probe,
    ) -> Option<bool> {
        let (_, _, _, action) = self.rules.iter().find(|(s, o, p, _)| {
            matches(*s, true) && matches(*o, false) && p.is_none_or(|p| p == probe)
        })?;
        match action {
            Action::Accept => Some(true),
            Action::Deny => Some(false),
            Action::Pass => None,
        }
    }
}

impl netpol::engine::Tier for OrderedTier {
    fn name(&self) -> &'static str {
        self.name
    }

    fn decide(
        &self,
        engine: &Engine<'_>,
        t: &netpol::engine::Traffic,
        dir: Direction,
    ) -> netpol::engine::Decision {
        use netpol::engine::{Decision, Reason};
        let (subject, other) = match dir {
            Direction::Egress => (t.from, t.to),
            Direction::Ingress => (t.to, t.from),
        };
        let matches = |r: Option<PeerRef>, is_subject: bool| {
            r.is_none_or(|(p, d, rule, k)| {
                engine.peer_matches(p, d, rule, k, if is_subject { subject } else { other })
            })
        };
        match self.first_match(matches, t.probe) {
            Some(true) => Decision::Allow(Reason::NotIsolated),
            Some(false) => Decision::Deny(Reason::NoRuleAllows),
            None => Decision::Pass,
        }
    }
}

fn naive_tiered_direction(
    snap: &Snapshot,
    tiers: (&OrderedTier, &OrderedTier),
    (subject, other, dest): (&Pod, &Pod, &Pod),
    probe: Probe,
    dir: Direction,
) -> bool {
    let matches = |r: Option<PeerRef>, is_subject: bool| {
        naive_ref_matches(snap, r, if is_subject { subject } else { other })
    };
    if let Some(v) = tiers.0.first_match(matches, probe) {
        return v;
    }
    let isolated = snap.policies.iter().any(|p| {
        p.namespace == subject.namespace
            && sel_matches(&p.pod_selector, &subject.labels)
            && p.affects(dir)
    });
    if isolated {
        return naive_direction(snap, subject, other, dest, probe, dir);
    }
    tiers.1.first_match(matches, probe).unwrap_or(true)
}

#[test]
fn set_algebra_with_ordered_tiers_equals_naive_evaluation() {
    use netpol::engine::{NamespacedTier, Tier};
    for seed in 1..=1500u64 {
        let snap = cluster(seed);
        let mut g = Gen(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) | 1);
        let admin = OrderedTier::random(&mut g, &snap, "admin");
        let baseline = OrderedTier::random(&mut g, &snap, "baseline");
        let tiers: Vec<Box<dyn Tier>> = vec![
            Box::new(OrderedTier {
                name: "admin",
                rules: admin.rules.clone(),
            }),
            Box::new(NamespacedTier),
            Box::new(OrderedTier {
                name: "baseline",
                rules: baseline.rules.clone(),
            }),
        ];
        let engine = Engine::with_tiers(&snap, tiers);
        let all: Vec<usize> = (0..snap.pods.len()).collect();
        let probes = probes();
        let m = Matrix::compute(&engine, &all, &probes);
        assert!(
            m.same_verdicts(&Matrix::compute_pairwise(&engine, &all, &probes)),
            "seed {seed}"
        );
        for (i, &a) in m.pods.iter().enumerate() {
            for (j, &b) in m.pods.iter().enumerate() {
                for (k, &probe) in probes.iter().enumerate() {
                    let (pa, pb) = (&snap.pods[a], &snap.pods[b]);
                    let expected = a == b
                        || (naive_tiered_direction(
                            &snap,
                            (&admin, &baseline),
                            (pa, pb, pb),
                            probe,
                            Direction::Egress,
                        ) && naive_tiered_direction(
                            &snap,
                            (&admin, &baseline),
                            (pb, pa, pb),
                            probe,
                            Direction::Ingress,
                        ));
                    assert_eq!(
                        m.allowed(i, j, k),
                        expected,
                        "seed {seed} {} -> {} {probe}",
                        pa.key(),
                        pb.key()
                    );
                }
            }
        }
    }
}

// ---- The enforcer's pod-only updates equal a full compile. ----

/// A pod as `cluster` makes them, for pods that appear later.
fn new_pod(g: &mut Gen, snap: &Snapshot, name: String) -> Pod {
    let mut ns: Vec<String> = snap.namespaces.keys().cloned().collect();
    // Now and then a namespace without a Namespace object (the snapshot invents it).
    ns.push("ns-undeclared".into());
    Pod {
        namespace: ns[g.below(ns.len() as u64) as usize].clone(),
        name,
        labels: labels(g),
        ports: container_ports(g),
        ips: pod_ips(g),
        host_network: g.chance(5),
        node: node(g),
        origin: PodOrigin::Pod,
        source: Source::default(),
    }
}

fn container_ports(g: &mut Gen) -> Vec<ContainerPort> {
    (0..g.below(3))
        .map(|_| ContainerPort {
            name: g.chance(70).then(|| g.pick(&PORT_NAMES).to_string()),
            port: PORTS[g.below(4) as usize],
            protocol: [Protocol::Tcp, Protocol::Udp, Protocol::Sctp][g.below(3) as usize],
        })
        .collect()
}

fn pod_ips(g: &mut Gen) -> Vec<IpAddr> {
    match g.below(10) {
        0 => vec![],
        1 | 2 => vec![ip(g), ip(g)],
        _ => vec![ip(g)],
    }
}

fn node(g: &mut Gen) -> Option<String> {
    Some(["n0", "n1"][g.below(2) as usize].to_string())
}

/// The snapshot the agent's cache would make of these objects.
fn resnapshot(snap: &Snapshot, pods: Vec<Pod>) -> Snapshot {
    let mut out = Snapshot {
        namespaces: snap
            .namespaces
            .iter()
            .filter(|(_, n)| n.declared)
            .map(|(k, n)| (k.clone(), n.clone()))
            .collect(),
        pods,
        policies: snap.policies.clone(),
        cluster_policies: snap.cluster_policies.clone(),
        nodes: snap.nodes.clone(),
    };
    out.finish();
    out
}

#[test]
fn pod_only_updates_of_the_enforcer_rules_equal_a_full_compile() {
    pod_only_updates_equal_a_full_compile(cluster, 3000);
}

/// The same with Admin and Baseline cluster policies (ClusterNetworkPolicy and
/// AdminNetworkPolicy; ties, Pass, networks, nodes, named ports) in every cluster.
#[test]
fn pod_only_updates_with_cluster_policies_equal_a_full_compile() {
    pod_only_updates_equal_a_full_compile(
        |seed| {
            let mut snap = cluster_with_tiers(seed);
            if snap.cluster_policies.is_empty() {
                // At least one cluster policy: that is what this test is about.
                snap = cluster_with_tiers(seed.wrapping_add(1_000_003));
            }
            snap
        },
        3000,
    );
}

/// Random pod changes (appear, disappear, relabel, new addresses, new ports, another node) on
/// `seeds` generated clusters: wherever the pod-only update answers, it equals a full compile.
fn pod_only_updates_equal_a_full_compile(make: fn(u64) -> Snapshot, seeds: u64) {
    use netpol::enforce::compile::{compile_with, update_for_pods, CompileOptions};
    let (mut incremental, mut cases, mut with_cluster) = (0, 0, 0);
    for seed in 1..=seeds {
        let mut base = make(seed);
        let mut g = Gen(seed.wrapping_mul(0x9e3779b97f4a7c15) | 1);
        for p in &mut base.pods {
            p.node = node(&mut g);
        }
        let node_name = (seed % 4 != 0).then_some("n0");
        // Half the clusters hold unplaced local addresses (the agent's default).
        let opts = CompileOptions {
            hold: if seed % 2 == 0 {
                vec!["10.0.0.0/8".parse().unwrap(), "fd00::/8".parse().unwrap()]
            } else {
                Vec::new()
            },
            ..Default::default()
        };
        let compile = |snap: &Snapshot| compile_with(&Engine::new(snap), node_name, &opts);
        let before = compile(&base);
        // One to three pod changes: appear, disappear, relabel, new addresses, new ports,
        // another node.
        let mut pods = base.pods.clone();
        let mut changed: Vec<Pod> = Vec::new();
        for step in 0..1 + g.below(3) {
            let i = g.below(pods.len() as u64 + 1) as usize;
            if i == pods.len() || g.chance(15) {
                let p = new_pod(&mut g, &base, format!("new{step}"));
                pods.retain(|o| o.key() != p.key());
                pods.push(p.clone());
                changed.push(p);
                continue;
            }
            let old = pods[i].clone();
            let mut p = old.clone();
            match g.below(6) {
                0 => {
                    pods.remove(i);
                    changed.push(old);
                    continue;
                }
                1 | 2 => p.labels = labels(&mut g),
                3 => p.ips = pod_ips(&mut g),
                4 => p.ports = container_ports(&mut g),
                _ => p.node = node(&mut g),
            }
            pods[i] = p.clone();
            changed.push(old);
            changed.push(p);
        }
        let after = resnapshot(&base, pods);
        let want = compile(&after);
        let refs: Vec<&Pod> = changed.iter().collect();
        cases += 1;
        if let Some(got) = update_for_pods(&before, &after, node_name, &refs) {
            incremental += 1;
            with_cluster += usize::from(!after.cluster_policies.is_empty());
            if got != want {
                let mut diff = Vec::new();
                for (f, a, b) in [("v4", &got.v4, &want.v4), ("v6", &got.v6, &want.v6)] {
                    for (name, set) in &a.sets {
                        if b.sets.get(name) != Some(set) {
                            diff.push(format!(
                                "{f} set {name}: update {:?}, compile {:?}",
                                set.members,
                                b.sets.get(name).map(|s| &s.members)
                            ));
                        }
                    }
                    for name in b.sets.keys().filter(|n| !a.sets.contains_key(*n)) {
                        diff.push(format!("{f} set {name} only in the compile"));
                    }
                    if a.chains != b.chains {
                        diff.push(format!(
                            "{f} chains: update {:#?}\ncompile {:#?}",
                            a.chains, b.chains
                        ));
                    }
                }
                if got.pods_without_ip != want.pods_without_ip {
                    diff.push(format!(
                        "without ip: {:?} vs {:?}",
                        got.pods_without_ip, want.pods_without_ip
                    ));
                }
                if got.set_origins != want.set_origins
                    || got.named_port_groups != want.named_port_groups
                {
                    diff.push("origins or named-port groups differ".into());
                }
                panic!("seed {seed}: the update differs from a full compile\nchanged: {changed:#?}\n{}", diff.join("\n"));
            }
        }
    }
    // Most pod changes must take the fast path, or the test proves little.
    assert!(
        incremental * 2 > cases,
        "only {incremental} of {cases} pod changes were updated without a compile"
    );
    eprintln!(
        "{incremental} of {cases} pod changes updated without a compile ({with_cluster} with cluster policies)"
    );
}

// ---- diff: the changed connections are exactly those whose naive verdict changed. ----

#[test]
fn diff_lists_exactly_the_connections_whose_verdict_changed() {
    use netpol::diff::{diff, Side};
    for seed in 1..=600u64 {
        let old = cluster(seed);
        let mut new = old.clone();
        let mut g = Gen(seed.wrapping_mul(0x5851_f42d_4c95_7f2d) | 1);
        // Drop a policy, or relabel a pod, or both.
        if !new.policies.is_empty() && g.chance(70) {
            let i = g.below(new.policies.len() as u64) as usize;
            new.policies.remove(i);
        }
        if g.chance(50) {
            let i = g.below(new.pods.len() as u64) as usize;
            new.pods[i].labels = labels(&mut g);
        }
        let probes = probes();
        let (old_pods, new_pods): (Vec<usize>, Vec<usize>) =
            ((0..old.pods.len()).collect(), (0..new.pods.len()).collect());
        let d = diff(
            &Side {
                name: "old",
                snap: &old,
                pods: &old_pods,
            },
            &Side {
                name: "new",
                snap: &new,
                pods: &new_pods,
            },
            &probes,
        );
        let mut allowed = Vec::new();
        let mut denied = Vec::new();
        let endpoints: Vec<usize> = (0..old.pods.len())
            .filter(|&i| !old.pods[i].host_network)
            .collect();
        for &a in &endpoints {
            for &b in &endpoints {
                for probe in &probes {
                    let before = naive(&old, &old.pods[a], &old.pods[b], a == b, *probe);
                    let after = naive(&new, &new.pods[a], &new.pods[b], a == b, *probe);
                    let key = (
                        old.pods[a].key(),
                        old.pods[b].key(),
                        probe.protocol.as_str().to_string(),
                        probe.port,
                    );
                    match (before, after) {
                        (false, true) => allowed.push(key),
                        (true, false) => denied.push(key),
                        _ => {}
                    }
                }
            }
        }
        let listed = |v: &[netpol::diff::ConnectionChange]| {
            let mut out: Vec<_> = v
                .iter()
                .map(|c| (c.from.clone(), c.to.clone(), c.protocol.clone(), c.port))
                .collect();
            out.sort();
            out
        };
        allowed.sort();
        denied.sort();
        assert_eq!(listed(&d.allowed), allowed, "seed {seed}: became allowed");
        assert_eq!(listed(&d.denied), denied, "seed {seed}: became denied");
    }
}

/// The enforcer's rules for generated clusters (pods on two nodes, IPv4 and IPv6, ipBlocks,
/// named ports, hostNetwork pods), rendered as the node receives them and compared byte for
/// byte with tests/golden/enforcer/generated.txt (see tests/enforce_golden.rs).
#[test]
fn enforcer_rules_of_generated_clusters_equal_the_golden_file() {
    let mut text = String::new();
    for seed in 1..=40u64 {
        let mut snap = cluster(seed);
        let mut g = Gen(seed.wrapping_mul(0x9e3779b97f4a7c15) | 1);
        for p in &mut snap.pods {
            p.node = node(&mut g);
        }
        text.push_str(&format!("### seed {seed}\n"));
        text.push_str(&common::enforcer_text(
            &snap,
            Some("n0"),
            &["10.0.0.0/8", "fd00::/8"],
        ));
    }
    if let Some(diff) = common::check_golden("enforcer/generated.txt", &text) {
        panic!("{diff}");
    }
}

// ---- Cluster-scoped policy: Admin and Baseline tiers with ties, Pass, CIDRs, named ports. ----

use netpol::model::Action as ClusterAction;

fn cluster_selector_pair(g: &mut Gen) -> NamespacedPods {
    NamespacedPods {
        namespaces: selector(g),
        pods: selector(g),
    }
}

fn cluster_peer(g: &mut Gen, egress: bool) -> ClusterPeer {
    match g.below(if egress { 6 } else { 2 }) {
        0 => ClusterPeer::Namespaces(selector(g)),
        1 => ClusterPeer::Pods(cluster_selector_pair(g)),
        2 | 3 => ClusterPeer::Networks(
            (0..1 + g.below(2))
                .map(|_| {
                    let mut b = ip_block(g);
                    b.except.clear();
                    b
                })
                .collect(),
        ),
        4 => ClusterPeer::Nodes(selector(g)),
        _ => ClusterPeer::DomainNames(vec!["example.com".into()]),
    }
}

fn cluster_port(g: &mut Gen) -> ClusterPort {
    let protocol = [Protocol::Tcp, Protocol::Udp, Protocol::Sctp][g.below(3) as usize];
    match g.below(3) {
        0 => ClusterPort::Named(g.pick(&PORT_NAMES).to_string()),
        1 => {
            let start = PORTS[g.below(4) as usize];
            ClusterPort::Range {
                protocol,
                start,
                end: start + g.below(100) as u16,
            }
        }
        _ => {
            let p = PORTS[g.below(4) as usize];
            ClusterPort::Range {
                protocol,
                start: p,
                end: p,
            }
        }
    }
}

fn cluster_rules(g: &mut Gen, egress: bool, tier: ClusterTier) -> Vec<ClusterRule> {
    (0..g.below(4))
        .map(|k| {
            let peers: Vec<ClusterPeer> = (0..1 + g.below(2))
                .map(|_| cluster_peer(g, egress))
                .collect();
            let mut ports: Vec<ClusterPort> = (0..g.below(3)).map(|_| cluster_port(g)).collect();
            // The CRD refuses named ports next to networks/nodes/domainNames peers.
            if peers.iter().any(|p| {
                matches!(
                    p,
                    ClusterPeer::Networks(_) | ClusterPeer::Nodes(_) | ClusterPeer::DomainNames(_)
                )
            }) {
                ports.retain(|p| !matches!(p, ClusterPort::Named(_)));
            }
            let action = match (g.below(3), tier) {
                (0, _) => ClusterAction::Accept,
                (1, _) | (_, ClusterTier::Baseline) if g.chance(50) => ClusterAction::Deny,
                _ => ClusterAction::Pass,
            };
            ClusterRule {
                name: format!("r{k}"),
                action,
                peers,
                ports,
            }
        })
        .collect()
}

/// A random cluster with NetworkPolicies, plus cluster policies in both tiers (priorities from a
/// small range, so ties are common) and Nodes whose addresses overlap the pods' range.
fn cluster_with_tiers(seed: u64) -> Snapshot {
    let mut snap = cluster(seed);
    let mut g = Gen(seed.wrapping_mul(0xd1b5_4a32_d192_ed03) | 1);
    for i in 0..g.below(3) {
        snap.nodes.push(Node {
            name: format!("node{i}"),
            labels: labels(&mut g),
            addresses: vec![ip(&mut g)],
            source: Source::default(),
        });
    }
    for i in 0..g.below(6) {
        let tier = if g.chance(50) {
            ClusterTier::Admin
        } else {
            ClusterTier::Baseline
        };
        let kind = match (tier, g.chance(20)) {
            (ClusterTier::Admin, true) => ClusterKind::AdminNetworkPolicy,
            _ => ClusterKind::ClusterNetworkPolicy,
        };
        let subject = if g.chance(40) {
            ClusterSubject::Namespaces(selector(&mut g))
        } else {
            ClusterSubject::Pods(cluster_selector_pair(&mut g))
        };
        snap.cluster_policies.push(ClusterPolicy {
            kind,
            name: format!("cp{i}"),
            tier,
            priority: g.below(3) as u32,
            subject,
            ingress: cluster_rules(&mut g, false, tier),
            egress: cluster_rules(&mut g, true, tier),
            source: Source::default(),
        });
    }
    snap.finish();
    snap
}

fn naive_cluster_peer(snap: &Snapshot, peer: &ClusterPeer, other: &Pod) -> bool {
    let ns_labels = &snap.namespaces[&other.namespace].labels;
    match peer {
        ClusterPeer::Namespaces(ns) => !other.host_network && sel_matches(ns, ns_labels),
        ClusterPeer::Pods(p) => {
            !other.host_network
                && sel_matches(&p.namespaces, ns_labels)
                && sel_matches(&p.pods, &other.labels)
        }
        ClusterPeer::Networks(blocks) => other
            .ips
            .iter()
            .any(|ip| blocks.iter().any(|b| b.cidr.contains(ip))),
        // Node addresses: only a host-network pod has one (a pod network address that equals a
        // node's is an artefact of the generator, not a node).
        ClusterPeer::Nodes(sel) => {
            other.host_network
                && snap.nodes.iter().any(|n| {
                    sel_matches(sel, &n.labels)
                        && other.ips.iter().any(|ip| n.addresses.contains(ip))
                })
        }
        ClusterPeer::DomainNames(_) => false,
    }
}

fn naive_cluster_port(port: &ClusterPort, probe: Probe, dest: &Pod) -> bool {
    match port {
        ClusterPort::Range {
            protocol,
            start,
            end,
        } => *protocol == probe.protocol && *start <= probe.port && probe.port <= *end,
        ClusterPort::Named(n) => dest.ports.iter().any(|c| {
            c.name.as_ref() == Some(n) && c.protocol == probe.protocol && c.port == probe.port
        }),
    }
}

/// One cluster tier for one direction: the action the tool's order takes (None: no match), and
/// every action some order of equal priorities could take.
fn naive_cluster_tier(
    snap: &Snapshot,
    tier: ClusterTier,
    (subject, other, dest): (&Pod, &Pod, &Pod),
    probe: Probe,
    dir: Direction,
) -> (Option<ClusterAction>, Vec<ClusterAction>) {
    if subject.host_network {
        return (None, vec![]);
    }
    let ns_labels = &snap.namespaces[&subject.namespace].labels;
    let mut policies: Vec<&ClusterPolicy> = snap
        .cluster_policies
        .iter()
        .filter(|p| p.tier == tier)
        .filter(|p| match &p.subject {
            ClusterSubject::Namespaces(ns) => sel_matches(ns, ns_labels),
            ClusterSubject::Pods(s) => {
                sel_matches(&s.namespaces, ns_labels) && sel_matches(&s.pods, &subject.labels)
            }
        })
        .collect();
    policies.sort_by_key(|p| (p.priority, p.kind, p.name.clone()));
    let mut priorities: Vec<u32> = policies.iter().map(|p| p.priority).collect();
    priorities.dedup();
    for priority in priorities {
        let first: Vec<ClusterAction> = policies
            .iter()
            .filter(|p| p.priority == priority)
            .filter_map(|p| {
                p.rules(dir).iter().find(|r| {
                    (r.ports.is_empty()
                        || r.ports.iter().any(|x| naive_cluster_port(x, probe, dest)))
                        && r.peers.iter().any(|x| naive_cluster_peer(snap, x, other))
                })
            })
            .map(|r| r.action)
            .collect();
        if let Some(&chosen) = first.first() {
            return (Some(chosen), first);
        }
    }
    (None, vec![])
}

/// (allowed in the tool's order, can some order allow, can some order deny)
fn naive_full_direction(
    snap: &Snapshot,
    (subject, other, dest): (&Pod, &Pod, &Pod),
    probe: Probe,
    dir: Direction,
) -> (bool, bool, bool) {
    if subject.host_network {
        return (true, true, false);
    }
    let who = (subject, other, dest);
    let (admin, admin_all) = naive_cluster_tier(snap, ClusterTier::Admin, who, probe, dir);
    let (base, base_all) = naive_cluster_tier(snap, ClusterTier::Baseline, who, probe, dir);
    let isolated = snap.policies.iter().any(|p| {
        p.namespace == subject.namespace
            && sel_matches(&p.pod_selector, &subject.labels)
            && p.affects(dir)
    });
    let np = isolated.then(|| naive_direction(snap, subject, other, dest, probe, dir));
    let after_np = |b: Option<ClusterAction>| match (np, b) {
        (Some(v), _) => v,
        (None, Some(ClusterAction::Accept)) | (None, None) | (None, Some(ClusterAction::Pass)) => {
            true
        }
        (None, Some(ClusterAction::Deny)) => false,
    };
    let chosen = match admin {
        Some(ClusterAction::Accept) => true,
        Some(ClusterAction::Deny) => false,
        _ => after_np(base),
    };
    // Every combination of the possible admin and baseline actions.
    let admin_opts: Vec<Option<ClusterAction>> = if admin_all.is_empty() {
        vec![None]
    } else {
        admin_all.into_iter().map(Some).collect()
    };
    let base_opts: Vec<Option<ClusterAction>> = if base_all.is_empty() {
        vec![None]
    } else {
        base_all.into_iter().map(Some).collect()
    };
    let mut outcomes = Vec::new();
    for a in &admin_opts {
        for b in &base_opts {
            outcomes.push(match a {
                Some(ClusterAction::Accept) => true,
                Some(ClusterAction::Deny) => false,
                _ => after_np(*b),
            });
        }
    }
    (chosen, outcomes.contains(&true), outcomes.contains(&false))
}

#[test]
fn cluster_tiers_set_algebra_equals_naive_evaluation() {
    let probes = probes();
    let mut ambiguous_seen = 0;
    let mut cluster_decided = 0;
    for seed in 1..=1000u64 {
        let snap = cluster_with_tiers(seed);
        let engine = Engine::new(&snap);
        let all: Vec<usize> = (0..snap.pods.len()).collect();
        let m = Matrix::compute(&engine, &all, &probes);
        assert!(
            m.same_verdicts(&Matrix::compute_pairwise(&engine, &all, &probes)),
            "seed {seed}: set algebra and pair-by-pair verdicts differ"
        );
        for (i, &a) in m.pods.iter().enumerate() {
            for (j, &b) in m.pods.iter().enumerate() {
                for (k, &probe) in probes.iter().enumerate() {
                    let (pa, pb) = (&snap.pods[a], &snap.pods[b]);
                    let (expected, ambiguous) = if a == b {
                        (true, false)
                    } else {
                        let e = naive_full_direction(&snap, (pa, pb, pb), probe, Direction::Egress);
                        let n =
                            naive_full_direction(&snap, (pb, pa, pb), probe, Direction::Ingress);
                        (e.0 && n.0, (e.1 && n.1) && (e.2 || n.2))
                    };
                    let what = format!("seed {seed} {} -> {} {probe}", pa.key(), pb.key());
                    assert_eq!(m.allowed(i, j, k), expected, "{what}");
                    assert_eq!(m.ambiguous(i, j, k), ambiguous, "{what}: ambiguity");
                    let t = netpol::engine::Traffic {
                        from: netpol::engine::Endpoint::Pod(a),
                        to: netpol::engine::Endpoint::Pod(b),
                        probe,
                    };
                    let v = engine.verdict(&t);
                    assert_eq!(
                        (v.allowed, v.ambiguous),
                        (expected, ambiguous),
                        "{what}: verdict"
                    );
                    ambiguous_seen += usize::from(ambiguous);
                    cluster_decided += usize::from(
                        v.egress.tier == "admin"
                            || v.egress.tier == "baseline"
                            || v.ingress.tier == "admin"
                            || v.ingress.tier == "baseline",
                    );
                }
            }
        }
    }
    // The generator must exercise what it is for.
    assert!(
        ambiguous_seen > 100,
        "only {ambiguous_seen} ambiguous pairs"
    );
    assert!(
        cluster_decided > 1000,
        "only {cluster_decided} pairs decided by a cluster tier"
    );
}
