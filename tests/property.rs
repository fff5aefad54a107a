//! Property tests: the matrix computed over equivalence classes in set algebra equals the
//! pair-by-pair verdicts and a naive evaluation written straight from the specification, on
//! thousands of random clusters and policies (with and without an ordered first-match tier);
//! the enforcer's pod-only updates equal a full compile; diff lists exactly the changed
//! connections. The clusters are drawn from proptest strategies, so a failure shrinks to a
//! small cluster before it is shown.

mod common;

use std::collections::BTreeMap;
use std::net::IpAddr;

use netpol::engine::matrix::Matrix;
use netpol::engine::Engine;
use netpol::model::*;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{RngAlgorithm, TestRng, TestRunner};

// ---- Strategies: every part of a cluster is a proptest strategy, so a failing case shrinks
// (fewer pods, policies, rules, peers, labels; simpler selectors and ports) before it is shown.

const KEYS: [&str; 3] = ["app", "tier", "team"];
const VALUES: [&str; 3] = ["a", "b", "c"];
const PORT_NAMES: [&str; 3] = ["http", "metrics", "dns"];
const PORTS: [u16; 4] = [53, 80, 81, 8080];
const PROTOCOLS: [Protocol; 3] = [Protocol::Tcp, Protocol::Udp, Protocol::Sctp];

fn value() -> impl Strategy<Value = String> {
    prop::sample::select(&VALUES[..]).prop_map(String::from)
}

fn key() -> impl Strategy<Value = String> {
    prop::sample::select(&KEYS[..]).prop_map(String::from)
}

fn protocol() -> impl Strategy<Value = Protocol> {
    prop::sample::select(&PROTOCOLS[..])
}

fn port_number() -> impl Strategy<Value = u16> {
    prop::sample::select(&PORTS[..])
}

/// Each of the three keys, 60% of the time.
fn labels() -> impl Strategy<Value = Labels> {
    [
        prop::option::weighted(0.6, value()),
        prop::option::weighted(0.6, value()),
        prop::option::weighted(0.6, value()),
    ]
    .prop_map(|values| {
        KEYS.iter()
            .zip(values)
            .filter_map(|(k, v)| Some((k.to_string(), v?)))
            .collect()
    })
}

fn requirement() -> impl Strategy<Value = Requirement> {
    let values = || prop::collection::vec(value(), 1..=2);
    (
        key(),
        prop_oneof![
            Just((Operator::Exists, vec![])),
            Just((Operator::DoesNotExist, vec![])),
            values().prop_map(|v| (Operator::In, v)),
            values().prop_map(|v| (Operator::NotIn, v)),
        ],
    )
        .prop_map(|(key, (operator, values))| Requirement {
            key,
            operator,
            values,
        })
}

/// Empty 30% of the time; else a matchLabels entry (60%) and a matchExpression (40%).
fn selector() -> impl Strategy<Value = LabelSelector> {
    prop_oneof![
        3 => Just(LabelSelector::default()),
        7 => (
            prop::option::weighted(0.6, (key(), value())),
            prop::option::weighted(0.4, requirement()),
        )
            .prop_map(|(label, requirement)| LabelSelector {
                match_labels: label.into_iter().collect(),
                match_expressions: requirement.into_iter().collect(),
            }),
    ]
}

/// 10.0.{0,1}.{0..7}, or fd00::{1..8} 15% of the time.
fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        85 => (0..2u8, 0..8u8).prop_map(|(c, d)| IpAddr::from([10, 0, c, d])),
        15 => (1..=8u16).prop_map(|h| IpAddr::from([0xfd00, 0, 0, 0, 0, 0, 0, h])),
    ]
}

fn net(text: String) -> ipnet::IpNet {
    text.parse::<ipnet::IpNet>().unwrap().trunc()
}

fn ip_block() -> impl Strategy<Value = IpBlock> {
    let v4 = (
        prop::sample::select(&[16u8, 24, 29][..]),
        0..2u8,
        prop::option::of(0..4u8),
    )
        .prop_map(|(len, c, except)| {
            let cidr = net(format!("10.0.{c}.0/{len}"));
            let except = except
                .map(|e| net(format!("10.0.0.{}/31", 2 * e)))
                .filter(|e| cidr.contains(e))
                .into_iter()
                .collect();
            (cidr, except)
        });
    let v6 = prop::option::of(1..=8u8).prop_map(|except| {
        let except = except
            .map(|h| net(format!("fd00::{h}/128")))
            .into_iter()
            .collect();
        (net("fd00::/120".into()), except)
    });
    prop_oneof![85 => v4, 15 => v6].prop_map(|(cidr, except)| IpBlock {
        cidr_text: cidr.to_string(),
        cidr,
        except,
    })
}

fn peer() -> impl Strategy<Value = Peer> {
    prop_oneof![
        1 => selector().prop_map(|pods| Peer::Pods {
            namespaces: NamespaceScope::PolicyNamespace,
            pods,
        }),
        2 => (selector(), selector()).prop_map(|(ns, pods)| Peer::Pods {
            namespaces: NamespaceScope::Selector(ns),
            pods,
        }),
        1 => ip_block().prop_map(Peer::IpBlock),
    ]
}

fn policy_port() -> impl Strategy<Value = PolicyPort> {
    let port = prop_oneof![
        port_number().prop_map(|n| (Some(PortSpec::Number(n)), None)),
        Just((None, None)),
        prop::sample::select(&PORT_NAMES[..])
            .prop_map(|n| (Some(PortSpec::Name(n.to_string())), None)),
        (81..8081u16).prop_map(|end| (Some(PortSpec::Number(80)), Some(end))),
    ];
    (protocol(), port).prop_map(|(protocol, (port, end_port))| PolicyPort {
        protocol,
        port,
        end_port,
    })
}

fn rules() -> impl Strategy<Value = Vec<Rule>> {
    let rule = (
        prop::collection::vec(peer(), 0..3),
        prop::collection::vec(policy_port(), 0..3),
    )
        .prop_map(|(peers, ports)| Rule { peers, ports });
    prop::collection::vec(rule, 0..3)
}

fn container_ports() -> impl Strategy<Value = Vec<ContainerPort>> {
    let port = (
        prop::option::weighted(0.7, prop::sample::select(&PORT_NAMES[..])),
        port_number(),
        protocol(),
    )
        .prop_map(|(name, port, protocol)| ContainerPort {
            name: name.map(String::from),
            port,
            protocol,
        });
    prop::collection::vec(port, 0..3)
}

/// A pod in one of `namespaces` (named later, by its place in the cluster).
fn pod(namespaces: Vec<String>) -> impl Strategy<Value = Pod> {
    (
        prop::sample::select(namespaces),
        labels(),
        container_ports(),
        prop::option::weighted(0.85, ip()),
        prop::bool::weighted(0.05),
    )
        .prop_map(|(namespace, labels, ports, ip, host_network)| Pod {
            namespace,
            name: String::new(),
            labels,
            ports,
            ips: ip.into_iter().collect(),
            host_network,
            node: None,
            origin: PodOrigin::Pod,
            source: Source::default(),
        })
}

fn policy(namespaces: Vec<String>) -> impl Strategy<Value = Policy> {
    (
        prop::sample::select(namespaces),
        selector(),
        rules(),
        rules(),
        0..4u8,
    )
        .prop_map(|(namespace, pod_selector, ingress, egress, types)| {
            let (types_ingress, types_egress) = match types {
                0 => (true, true),
                1 => (true, !egress.is_empty()),
                2 => (true, false),
                _ => (false, true),
            };
            Policy {
                namespace,
                name: String::new(),
                pod_selector,
                ingress,
                egress,
                types_ingress,
                types_egress,
                types_explicit: true,
                egress_written: true,
                source: Source::default(),
            }
        })
}

/// One to three namespaces, 2 to 10 pods, up to 5 policies (not yet `finish`ed).
fn unfinished_cluster() -> impl Strategy<Value = Snapshot> {
    (1..=3usize)
        .prop_flat_map(|count| {
            let names: Vec<String> = (0..count).map(|i| format!("ns{i}")).collect();
            (
                prop::collection::vec(labels(), count),
                prop::collection::vec(pod(names.clone()), 2..=10),
                prop::collection::vec(policy(names), 0..6),
            )
        })
        .prop_map(|(ns_labels, mut pods, mut policies)| {
            let mut snap = Snapshot::default();
            for (i, labels) in ns_labels.into_iter().enumerate() {
                let name = format!("ns{i}");
                snap.namespaces.insert(
                    name.clone(),
                    Namespace {
                        name,
                        labels,
                        declared: true,
                    },
                );
            }
            for (i, p) in pods.iter_mut().enumerate() {
                p.name = format!("p{i}");
            }
            for (i, p) in policies.iter_mut().enumerate() {
                p.name = format!("pol{i}");
            }
            snap.pods = pods;
            snap.policies = policies;
            snap
        })
}

fn cluster() -> impl Strategy<Value = Snapshot> {
    unfinished_cluster().prop_map(|mut snap| {
        snap.finish();
        snap
    })
}

fn node() -> impl Strategy<Value = Option<String>> {
    prop::sample::select(&["n0", "n1"][..]).prop_map(|n| Some(n.to_string()))
}

/// A cluster whose pods are on nodes n0 and n1.
fn cluster_on_nodes() -> impl Strategy<Value = Snapshot> {
    on_nodes(cluster())
}

/// The clusters of `clusters` with their pods on nodes n0 and n1.
fn on_nodes(clusters: impl Strategy<Value = Snapshot>) -> impl Strategy<Value = Snapshot> {
    (clusters, prop::collection::vec(node(), 10)).prop_map(|(mut snap, nodes)| {
        for (p, node) in snap.pods.iter_mut().zip(nodes) {
            p.node = node;
        }
        snap
    })
}

/// A runner with the given number of cases (shrinking on failure, as `proptest!` does).
fn runner(cases: u32) -> TestRunner {
    TestRunner::new(ProptestConfig {
        cases,
        ..ProptestConfig::default()
    })
}

/// The value `strategy` draws from a fixed seed: the same on every run and machine, for the
/// golden file and the big clusters (no shrinking there). A proptest upgrade that draws values
/// differently changes these clusters: rewrite the golden file (`UPDATE_GOLDEN=1`) and check
/// that only the inputs moved (the other tests still pass).
fn sample<S: Strategy>(strategy: S, seed: u64) -> S::Value {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
    let mut runner = TestRunner::new_with_rng(ProptestConfig::default(), rng);
    strategy.new_tree(&mut runner).unwrap().current()
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
    fn grouped_matrix_equals_naive_evaluation(snap in cluster()) {
        let engine = Engine::new(&snap);
        let all: Vec<usize> = (0..snap.pods.len()).collect();
        let probes = probes();
        let m = Matrix::compute(&engine, &all, &probes);
        // The set algebra says exactly what the verdict of every pair of classes says.
        prop_assert!(m.same_verdicts(&Matrix::compute_pairwise(&engine, &all, &probes)));
        let endpoint_count = snap.pods.iter().filter(|p| !p.host_network).count();
        prop_assert_eq!(m.pods.len(), endpoint_count);
        for (i, &a) in m.pods.iter().enumerate() {
            for (j, &b) in m.pods.iter().enumerate() {
                for (k, probe) in probes.iter().enumerate() {
                    let expected = naive(&snap, &snap.pods[a], &snap.pods[b], a == b, *probe);
                    prop_assert_eq!(m.allowed(i, j, k), expected, "{} -> {} {}", snap.pods[a].key(), snap.pods[b].key(), probe);
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
fn big_cluster() -> impl Strategy<Value = Snapshot> {
    // Namespaces as places among the cluster's own (one to three).
    let big_pod = (0..3usize, labels(), container_ports());
    let cut = (
        0..3usize,
        selector(),
        rules(),
        0..900u64,
        prop::collection::vec(policy_port(), 0..2),
        any::<bool>(),
    );
    (
        unfinished_cluster(),
        prop::collection::vec(big_pod, 900),
        prop::collection::vec(cut, 24),
    )
        .prop_map(|(mut snap, big_pods, cuts)| {
            let namespaces: Vec<String> = snap.namespaces.keys().cloned().collect();
            let namespace = |i: usize| namespaces[i % namespaces.len()].clone();
            for (i, (ns, labels, ports)) in (0u64..).zip(big_pods) {
                snap.pods.push(Pod {
                    namespace: namespace(ns),
                    name: format!("big{i}"),
                    labels,
                    ports,
                    ips: vec![IpAddr::from([10, 0, 4 + (i / 250) as u8, (i % 250) as u8])],
                    host_network: false,
                    node: None,
                    origin: PodOrigin::Pod,
                    source: Source::default(),
                });
            }
            for (k, (ns, pod_selector, ingress, base, ports, types_ingress)) in
                cuts.into_iter().enumerate()
            {
                let at = |len: u8| net(format!("10.0.{}.{}/{len}", 4 + base / 250, base % 250));
                let cidr = at(25);
                let except: Vec<ipnet::IpNet> = vec![at(28)]
                    .into_iter()
                    .filter(|e| cidr.contains(e) && *e != cidr)
                    .collect();
                snap.policies.push(Policy {
                    namespace: namespace(ns),
                    name: format!("cut{k}"),
                    pod_selector,
                    ingress,
                    egress: vec![Rule {
                        peers: vec![Peer::IpBlock(IpBlock {
                            cidr_text: cidr.to_string(),
                            cidr,
                            except,
                        })],
                        ports,
                    }],
                    types_ingress,
                    types_egress: true,
                    types_explicit: true,
                    egress_written: true,
                    source: Source::default(),
                });
            }
            snap.finish();
            snap
        })
}

#[test]
fn set_algebra_on_hundreds_of_classes_equals_pair_by_pair() {
    let mut biggest = 0;
    for seed in 1..=4u64 {
        let snap = sample(big_cluster(), seed);
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

/// A tier's rules before they meet a snapshot: which of its peers (by place among them, 70% of
/// the time) are subject and peer, which probe (50%), and the action.
type RulePicks = Vec<(
    Option<prop::sample::Index>,
    Option<prop::sample::Index>,
    Option<prop::sample::Index>,
    Action,
)>;

fn rule_picks() -> impl Strategy<Value = RulePicks> {
    let one = (
        prop::option::weighted(0.7, any::<prop::sample::Index>()),
        prop::option::weighted(0.7, any::<prop::sample::Index>()),
        prop::option::of(any::<prop::sample::Index>()),
        prop::sample::select(&[Action::Accept, Action::Deny, Action::Pass][..]),
    );
    prop::collection::vec(one, 0..4)
}

impl OrderedTier {
    fn new(picks: &RulePicks, snap: &Snapshot, name: &'static str) -> OrderedTier {
        let probes = probes();
        let refs = peer_refs(snap);
        let pick = |i: &Option<prop::sample::Index>| {
            i.as_ref()
                .filter(|_| !refs.is_empty())
                .map(|i| *i.get(&refs))
        };
        let rules = picks
            .iter()
            .map(|(subject, peer, probe, action)| {
                (
                    pick(subject),
                    pick(peer),
                    probe.as_ref().map(|i| *i.get(&probes)),
                    *action,
                )
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
    let strategy = (cluster(), rule_picks(), rule_picks());
    let result = runner(1500).run(&strategy, |(snap, admin, baseline)| {
        let admin = OrderedTier::new(&admin, &snap, "admin");
        let baseline = OrderedTier::new(&baseline, &snap, "baseline");
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
        prop_assert!(m.same_verdicts(&Matrix::compute_pairwise(&engine, &all, &probes)));
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
                    prop_assert_eq!(
                        m.allowed(i, j, k),
                        expected,
                        "{} -> {} {}",
                        pa.key(),
                        pb.key(),
                        probe
                    );
                }
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

// ---- The enforcer's pod-only updates equal a full compile. ----

/// What happens to the pods between two compiles (a pod by its place among them).
#[derive(Clone, Debug)]
enum PodChange {
    Add(Pod),
    Remove(prop::sample::Index),
    Edit(prop::sample::Index, PodEdit),
}

#[derive(Clone, Debug)]
enum PodEdit {
    Relabel(Labels),
    Readdress(Vec<IpAddr>),
    Reports(Vec<ContainerPort>),
    Move(Option<String>),
}

impl PodEdit {
    fn apply(self, p: &mut Pod) {
        match self {
            PodEdit::Relabel(labels) => p.labels = labels,
            PodEdit::Readdress(ips) => p.ips = ips,
            PodEdit::Reports(ports) => p.ports = ports,
            PodEdit::Move(node) => p.node = node,
        }
    }
}

/// None, one (70%) or two addresses.
fn pod_ips() -> impl Strategy<Value = Vec<IpAddr>> {
    prop_oneof![
        7 => ip().prop_map(|ip| vec![ip]),
        1 => Just(vec![]),
        2 => (ip(), ip()).prop_map(|(a, b)| vec![a, b]),
    ]
}

/// A pod that appears later; now and then in a namespace without a Namespace object (the
/// snapshot invents it).
fn new_pod() -> impl Strategy<Value = Pod> {
    let namespaces = ["ns0", "ns1", "ns2", "ns-undeclared"].map(String::from);
    (pod(namespaces.to_vec()), pod_ips(), node()).prop_map(|(mut p, ips, node)| {
        p.ips = ips;
        p.node = node;
        p
    })
}

fn pod_change() -> impl Strategy<Value = PodChange> {
    let edit = prop_oneof![
        2 => labels().prop_map(PodEdit::Relabel),
        1 => pod_ips().prop_map(PodEdit::Readdress),
        1 => container_ports().prop_map(PodEdit::Reports),
        1 => node().prop_map(PodEdit::Move),
    ];
    let index = any::<prop::sample::Index>;
    prop_oneof![
        5 => (index(), edit).prop_map(|(i, e)| PodChange::Edit(i, e)),
        2 => new_pod().prop_map(PodChange::Add),
        1 => index().prop_map(PodChange::Remove),
    ]
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

/// Where the update and the full compile differ, in words.
fn rules_diff(got: &netpol::enforce::NodeRules, want: &netpol::enforce::NodeRules) -> String {
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
    if got.set_origins != want.set_origins || got.named_port_groups != want.named_port_groups {
        diff.push("origins or named-port groups differ".into());
    }
    diff.join("\n")
}

#[test]
fn pod_only_updates_of_the_enforcer_rules_equal_a_full_compile() {
    pod_only_updates_equal_a_full_compile(cluster_on_nodes());
}

/// The same with Admin and Baseline cluster policies (ClusterNetworkPolicy and
/// AdminNetworkPolicy; ties, Pass, networks, nodes, named ports) in every cluster.
#[test]
fn pod_only_updates_with_cluster_policies_equal_a_full_compile() {
    pod_only_updates_equal_a_full_compile(on_nodes(
        cluster_with_tiers().prop_filter("at least one cluster policy", |s| {
            !s.cluster_policies.is_empty()
        }),
    ));
}

/// Random pod changes (appear, disappear, relabel, new addresses, new ports, another node) on
/// 3000 generated clusters: wherever the pod-only update answers, it equals a full compile.
fn pod_only_updates_equal_a_full_compile(clusters: impl Strategy<Value = Snapshot>) {
    use netpol::enforce::compile::{compile_with, update_for_pods, CompileOptions};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let (incremental, cases, with_cluster) = (
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    );
    let strategy = (
        clusters,
        // A quarter of the runs compile for every node.
        prop::bool::weighted(0.75),
        // Half the clusters hold unplaced local addresses (the agent's default).
        any::<bool>(),
        prop::collection::vec(pod_change(), 1..=3),
    );
    let result = runner(3000).run(&strategy, |(base, on_n0, hold, steps)| {
        let node_name = on_n0.then_some("n0");
        let opts = CompileOptions {
            hold: if hold {
                vec!["10.0.0.0/8".parse().unwrap(), "fd00::/8".parse().unwrap()]
            } else {
                Vec::new()
            },
            ..Default::default()
        };
        let compile = |snap: &Snapshot| compile_with(&Engine::new(snap), node_name, &opts);
        let before = compile(&base);
        let mut pods = base.pods.clone();
        let mut changed: Vec<Pod> = Vec::new();
        for (step, change) in steps.into_iter().enumerate() {
            match change {
                PodChange::Add(mut p) => {
                    p.name = format!("new{step}");
                    pods.retain(|o| o.key() != p.key());
                    pods.push(p.clone());
                    changed.push(p);
                }
                _ if pods.is_empty() => {}
                PodChange::Remove(i) => changed.push(pods.remove(i.index(pods.len()))),
                PodChange::Edit(i, edit) => {
                    let i = i.index(pods.len());
                    changed.push(pods[i].clone());
                    edit.apply(&mut pods[i]);
                    changed.push(pods[i].clone());
                }
            }
        }
        let after = resnapshot(&base, pods);
        let want = compile(&after);
        let refs: Vec<&Pod> = changed.iter().collect();
        cases.fetch_add(1, Ordering::Relaxed);
        if let Some(got) = update_for_pods(&before, &after, node_name, &refs) {
            incremental.fetch_add(1, Ordering::Relaxed);
            if !after.cluster_policies.is_empty() {
                with_cluster.fetch_add(1, Ordering::Relaxed);
            }
            prop_assert!(
                got == want,
                "the update differs from a full compile\nchanged: {:#?}\n{}",
                changed,
                rules_diff(&got, &want)
            );
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let (incremental, cases) = (incremental.into_inner(), cases.into_inner());
    // Most pod changes must take the fast path, or the test proves little.
    assert!(
        incremental * 2 > cases,
        "only {incremental} of {cases} pod changes were updated without a compile"
    );
    eprintln!(
        "{incremental} of {cases} pod changes updated without a compile ({} with cluster policies)",
        with_cluster.into_inner()
    );
}

// ---- diff: the changed connections are exactly those whose naive verdict changed. ----

#[test]
fn diff_lists_exactly_the_connections_whose_verdict_changed() {
    use netpol::diff::{diff, Side};
    // Drop a policy (70%), or relabel a pod (50%), or both.
    let strategy = (
        cluster(),
        prop::option::weighted(0.7, any::<prop::sample::Index>()),
        prop::option::weighted(0.5, (any::<prop::sample::Index>(), labels())),
    );
    let result = runner(600).run(&strategy, |(old, dropped, relabelled)| {
        let mut new = old.clone();
        if let Some(i) = dropped.filter(|_| !new.policies.is_empty()) {
            let i = i.index(new.policies.len());
            new.policies.remove(i);
        }
        if let Some((i, labels)) = relabelled {
            let i = i.index(new.pods.len());
            new.pods[i].labels = labels;
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
        prop_assert_eq!(listed(&d.allowed), allowed, "became allowed");
        prop_assert_eq!(listed(&d.denied), denied, "became denied");
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// The enforcer's rules for generated clusters (pods on two nodes, IPv4 and IPv6, ipBlocks,
/// named ports, hostNetwork pods), rendered as the node receives them and compared byte for
/// byte with tests/golden/enforcer/generated.txt (see tests/enforce_golden.rs).
#[test]
fn enforcer_rules_of_generated_clusters_equal_the_golden_file() {
    let mut text = String::new();
    for seed in 1..=40u64 {
        let snap = sample(cluster_on_nodes(), seed);
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

fn cluster_selector_pair() -> impl Strategy<Value = NamespacedPods> {
    (selector(), selector()).prop_map(|(namespaces, pods)| NamespacedPods { namespaces, pods })
}

/// Ingress peers are namespaces or pods; egress peers also networks, nodes and domain names.
fn cluster_peer(egress: bool) -> BoxedStrategy<ClusterPeer> {
    let pods = prop_oneof![
        selector().prop_map(ClusterPeer::Namespaces),
        cluster_selector_pair().prop_map(ClusterPeer::Pods),
    ];
    if !egress {
        return pods.boxed();
    }
    let networks = prop::collection::vec(ip_block(), 1..=2).prop_map(|blocks| {
        ClusterPeer::Networks(
            blocks
                .into_iter()
                .map(|mut b| {
                    b.except.clear();
                    b
                })
                .collect(),
        )
    });
    prop_oneof![
        2 => pods,
        2 => networks,
        1 => selector().prop_map(ClusterPeer::Nodes),
        1 => Just(ClusterPeer::DomainNames(vec!["example.com".into()])),
    ]
    .boxed()
}

fn cluster_port() -> impl Strategy<Value = ClusterPort> {
    prop_oneof![
        (protocol(), port_number()).prop_map(|(protocol, p)| ClusterPort::Range {
            protocol,
            start: p,
            end: p,
        }),
        (protocol(), port_number(), 0..100u16).prop_map(|(protocol, start, span)| {
            ClusterPort::Range {
                protocol,
                start,
                end: start + span,
            }
        }),
        prop::sample::select(&PORT_NAMES[..]).prop_map(|n| ClusterPort::Named(n.to_string())),
    ]
}

fn cluster_rules(egress: bool, tier: ClusterTier) -> impl Strategy<Value = Vec<ClusterRule>> {
    // Admin: Accept 1/3, Deny 1/6, Pass 1/2; Baseline: a third each.
    let action = match tier {
        ClusterTier::Admin => prop_oneof![
            2 => Just(ClusterAction::Accept),
            1 => Just(ClusterAction::Deny),
            3 => Just(ClusterAction::Pass),
        ],
        ClusterTier::Baseline => prop_oneof![
            1 => Just(ClusterAction::Accept),
            1 => Just(ClusterAction::Deny),
            1 => Just(ClusterAction::Pass),
        ],
    };
    let rule = (
        prop::collection::vec(cluster_peer(egress), 1..=2),
        prop::collection::vec(cluster_port(), 0..3),
        action,
    );
    prop::collection::vec(rule, 0..4).prop_map(|rules| {
        rules
            .into_iter()
            .enumerate()
            .map(|(k, (peers, mut ports, action))| {
                // The CRD refuses named ports next to networks/nodes/domainNames peers.
                if peers.iter().any(|p| {
                    matches!(
                        p,
                        ClusterPeer::Networks(_)
                            | ClusterPeer::Nodes(_)
                            | ClusterPeer::DomainNames(_)
                    )
                }) {
                    ports.retain(|p| !matches!(p, ClusterPort::Named(_)));
                }
                ClusterRule {
                    name: format!("r{k}"),
                    action,
                    peers,
                    ports,
                }
            })
            .collect()
    })
}

/// An Admin (half of them, a fifth of those AdminNetworkPolicies) or Baseline cluster policy,
/// its priority from a small range so ties are common (named later).
fn cluster_policy() -> impl Strategy<Value = ClusterPolicy> {
    prop::sample::select(&[ClusterTier::Admin, ClusterTier::Baseline][..])
        .prop_flat_map(|tier| {
            let subject = prop_oneof![
                3 => cluster_selector_pair().prop_map(ClusterSubject::Pods),
                2 => selector().prop_map(ClusterSubject::Namespaces),
            ];
            (
                Just(tier),
                prop::bool::weighted(0.2),
                subject,
                0..3u32,
                cluster_rules(false, tier),
                cluster_rules(true, tier),
            )
        })
        .prop_map(
            |(tier, anp, subject, priority, ingress, egress)| ClusterPolicy {
                kind: if anp && tier == ClusterTier::Admin {
                    ClusterKind::AdminNetworkPolicy
                } else {
                    ClusterKind::ClusterNetworkPolicy
                },
                name: String::new(),
                tier,
                priority,
                subject,
                ingress,
                egress,
                source: Source::default(),
            },
        )
}

/// A random cluster with NetworkPolicies, plus up to 5 cluster policies in both tiers and up to
/// 2 Nodes whose addresses overlap the pods' range.
fn cluster_with_tiers() -> impl Strategy<Value = Snapshot> {
    (
        unfinished_cluster(),
        prop::collection::vec((labels(), ip()), 0..3),
        prop::collection::vec(cluster_policy(), 0..6),
    )
        .prop_map(|(mut snap, nodes, policies)| {
            for (i, (labels, address)) in nodes.into_iter().enumerate() {
                snap.nodes.push(Node {
                    name: format!("node{i}"),
                    labels,
                    addresses: vec![address],
                    source: Source::default(),
                });
            }
            for (i, mut p) in policies.into_iter().enumerate() {
                p.name = format!("cp{i}");
                snap.cluster_policies.push(p);
            }
            snap.finish();
            snap
        })
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
    use std::sync::atomic::{AtomicUsize, Ordering};
    let probes = probes();
    let (ambiguous_seen, cluster_decided) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let result = runner(1000).run(&cluster_with_tiers(), |snap| {
        let engine = Engine::new(&snap);
        let all: Vec<usize> = (0..snap.pods.len()).collect();
        let m = Matrix::compute(&engine, &all, &probes);
        prop_assert!(
            m.same_verdicts(&Matrix::compute_pairwise(&engine, &all, &probes)),
            "set algebra and pair-by-pair verdicts differ"
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
                    let what = format!("{} -> {} {probe}", pa.key(), pb.key());
                    prop_assert_eq!(m.allowed(i, j, k), expected, "{}", what);
                    prop_assert_eq!(m.ambiguous(i, j, k), ambiguous, "{}: ambiguity", what);
                    let t = netpol::engine::Traffic {
                        from: netpol::engine::Endpoint::Pod(a),
                        to: netpol::engine::Endpoint::Pod(b),
                        probe,
                    };
                    let v = engine.verdict(&t);
                    prop_assert_eq!(
                        (v.allowed, v.ambiguous),
                        (expected, ambiguous),
                        "{}: verdict",
                        what
                    );
                    ambiguous_seen.fetch_add(usize::from(ambiguous), Ordering::Relaxed);
                    let by_cluster_tier = [v.egress.tier, v.ingress.tier]
                        .iter()
                        .any(|t| *t == "admin" || *t == "baseline");
                    cluster_decided.fetch_add(usize::from(by_cluster_tier), Ordering::Relaxed);
                }
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let (ambiguous_seen, cluster_decided) =
        (ambiguous_seen.into_inner(), cluster_decided.into_inner());
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
