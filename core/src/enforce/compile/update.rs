//! A pod change applied to the rules compiled before it: each address a changed pod had or
//! has is checked again against what decides each set, with the engine's per-pod answers (no
//! classes), instead of compiling the cluster. Cluster-scoped policies too: a pod's chain key
//! names the cluster policies whose subject it is, and their `namespaces`/`pods` peer sets are
//! re-checked like NetworkPolicy peers.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::IpAddr;

use super::entry::chain_key_with_tiers;
use super::rules::PortRange;
use super::rules::{Family, SetMember};
use super::sets::set_name;
use super::sets::{members_set_name, SetOrigin};
use super::tiers::{cluster_named_port_key, cluster_peer_key};
use super::NodeRules;
use crate::engine::ports::named_ports_any_protocol;
use crate::engine::ClusterRuleRef;
use crate::engine::Engine;
use crate::model::{ClusterPeer, ClusterPort, ClusterTier, Direction, Pod, Snapshot};

/// The pods of the new snapshot that a change concerns.
struct Touched<'a> {
    engine: Engine<'a>,
    node: Option<&'a str>,
    /// Every address a changed pod had or has.
    ips: BTreeSet<IpAddr>,
    /// Address → the endpoint pods holding it now.
    at: HashMap<IpAddr, Vec<usize>>,
    /// The changed pods as they are now.
    now: Vec<usize>,
    /// Per pod above: its chain key per direction (ingress, egress) when it is local.
    keys: HashMap<usize, [Option<String>; 2]>,
}

fn dir_slot(dir: Direction) -> usize {
    usize::from(dir == Direction::Egress)
}

impl<'a> Touched<'a> {
    fn new(snap: &'a Snapshot, node: Option<&'a str>, changed: &[&Pod]) -> Touched<'a> {
        let ips: BTreeSet<IpAddr> = changed.iter().flat_map(|p| p.ips.iter().copied()).collect();
        let names: HashSet<(&str, &str)> = changed
            .iter()
            .map(|p| (p.namespace.as_str(), p.name.as_str()))
            .collect();
        let mut at: HashMap<IpAddr, Vec<usize>> = HashMap::new();
        let mut now = Vec::new();
        for (i, p) in snap.endpoint_pods() {
            for ip in p.ips.iter().filter(|ip| ips.contains(ip)) {
                at.entry(*ip).or_default().push(i);
            }
            if names.contains(&(p.namespace.as_str(), p.name.as_str())) {
                now.push(i);
            }
        }
        let mut touched = Touched {
            engine: Engine::new(snap),
            node,
            ips,
            at,
            now,
            keys: HashMap::new(),
        };
        let pods: Vec<usize> = touched
            .at
            .values()
            .flatten()
            .chain(&touched.now)
            .copied()
            .collect();
        for i in pods {
            let key = Direction::BOTH.map(|dir| touched.chain_key(i, dir));
            touched.keys.entry(i).or_insert(key);
        }
        touched
    }

    fn is_local(&self, pod: &Pod) -> bool {
        self.node.is_none_or(|n| pod.node.as_deref() == Some(n))
    }

    /// The key of the chain that checks pod `i` in `dir`, when it is local and some policy
    /// (namespaced or cluster-scoped) decides something for it.
    fn chain_key(&self, i: usize, dir: Direction) -> Option<String> {
        let snap = self.engine.snap;
        let pod = &snap.pods[i];
        if !self.is_local(pod) {
            return None;
        }
        let tiers = [ClusterTier::Admin, ClusterTier::Baseline]
            .map(|tier| self.engine.pod_cluster_policies(i, tier, dir));
        let isolating = self.engine.isolating_pod(i, dir);
        chain_key_with_tiers(snap, &isolating, &tiers, dir, &pod.ports)
    }

    /// Every chain a changed local pod needs exists (in the families of its addresses), and
    /// every number a named port resolves to on it has its set.
    fn needs_nothing_new(&self, prev: &NodeRules) -> bool {
        self.now.iter().all(|&i| {
            let pod = &self.engine.snap.pods[i];
            let chains_exist = Direction::BOTH.iter().all(|&dir| {
                let Some(key) = &self.keys[&i][dir_slot(dir)] else {
                    return true;
                };
                pod.ips.iter().all(|ip| {
                    let f = Family::of(ip);
                    prev.family(f)
                        .sets
                        .contains_key(&members_set_name(dir, f, key))
                })
            });
            chains_exist
                && prev.named_port_groups.iter().all(|g| {
                    g.resolves(&self.engine, i)
                        .is_none_or(|n| prev.family(g.family).sets.contains_key(&g.set_name(n)))
                })
        })
    }

    /// Whether pod `i` of the snapshot belongs in a set with this origin.
    fn belongs(&self, origin: &SetOrigin, i: usize) -> bool {
        match origin {
            SetOrigin::Peer {
                policy,
                dir,
                rule,
                peer,
            } => self.engine.peer_matches_pod(*policy, *dir, *rule, *peer, i),
            SetOrigin::NamedPort { group, port } => group.resolves(&self.engine, i) == Some(*port),
            SetOrigin::Members { dir, key } => {
                self.keys[&i][dir_slot(*dir)].as_deref() == Some(key.as_str())
            }
            SetOrigin::Placed => self.is_local(&self.engine.snap.pods[i]),
            SetOrigin::ClusterPeer {
                policy,
                dir,
                rule,
                peer,
            } => self
                .engine
                .cluster_peer_matches_pod(*policy, *dir, *rule, *peer, i),
            SetOrigin::ClusterNamedPort {
                policy,
                dir,
                rule,
                peer,
                name,
                range,
            } => {
                self.engine
                    .cluster_peer_matches_pod(*policy, *dir, *rule, *peer, i)
                    && named_ports_any_protocol(&self.engine.snap.pods[i].ports, name)
                        .contains(range)
            }
            // Not refilled (see `refill`).
            SetOrigin::Block | SetOrigin::ClusterAddresses => false,
        }
    }

    /// Each touched address, in each set of `out`: a member when some pod holding it now
    /// belongs there. None when a member set (a chain) lost its last pod.
    fn refill(&self, prev: &NodeRules, out: &mut NodeRules) -> Option<()> {
        for f in [Family::V4, Family::V6] {
            for (name, set) in out.family_mut(f).sets.iter_mut() {
                let origin = prev.set_origins.get(name)?;
                // Addresses no pod changes.
                if matches!(origin, SetOrigin::Block | SetOrigin::ClusterAddresses) {
                    continue;
                }
                let mut edited = false;
                for ip in self.ips.iter().filter(|ip| Family::of(ip) == f) {
                    let want = self
                        .at
                        .get(ip)
                        .is_some_and(|pods| pods.iter().any(|&i| self.belongs(origin, i)));
                    edited |= set_membership(&mut set.members, SetMember::host(*ip), want);
                }
                // A chain without local pods goes away: only a compile removes it.
                if edited && set.members.is_empty() && matches!(origin, SetOrigin::Members { .. }) {
                    return None;
                }
            }
        }
        Some(())
    }

    /// Local pods with a chain but without an address, as the compile lists them.
    fn pods_without_ip(&self) -> Vec<String> {
        self.engine
            .snap
            .endpoint_pods()
            .filter(|(_, p)| self.is_local(p) && p.ips.is_empty())
            .filter(|(i, _)| {
                Direction::BOTH
                    .iter()
                    .any(|d| self.chain_key(*i, *d).is_some())
            })
            .map(|(_, p)| p.key())
            .collect()
    }
}

/// Adds or removes `member` (members sorted); true when that changed anything.
fn set_membership(members: &mut Vec<SetMember>, member: SetMember, want: bool) -> bool {
    match (members.binary_search(&member), want) {
        (Ok(pos), false) => {
            members.remove(pos);
            true
        }
        (Err(pos), true) => {
            members.insert(pos, member);
            true
        }
        _ => false,
    }
}

/// A named-port set whose pods all left may go away with its rule (an empty set can still be
/// needed by pods of the other family or without an address: a compile decides).
fn emptied_named_port_set(out: &NodeRules, changed: &[&Pod]) -> bool {
    changed.iter().any(|pod| {
        out.named_port_groups.iter().any(|g| {
            g.number_on(&pod.ports).is_some_and(|n| {
                out.family(g.family)
                    .sets
                    .get(&g.set_name(n))
                    .is_some_and(|s| s.members.is_empty())
            })
        })
    })
}

/// The cluster egress rules' `destinationNamedPort` sets stay as they are, but for their
/// members: each (protocol, number) a changed pod's name now means has its set, and each set a
/// changed pod was in still has a pod. Otherwise the compile adds or drops a set and its rules
/// (it makes one per (protocol, number) that some peer pod has).
fn cluster_named_ports_stay(touched: &Touched, prev: &NodeRules, changed: &[&Pod]) -> bool {
    let engine = &touched.engine;
    let snap = engine.snap;
    let has_set = |key: &str| {
        [Family::V4, Family::V6]
            .iter()
            .any(|&f| prev.family(f).sets.contains_key(&set_name("CN", f, key)))
    };
    for (policy, cp) in snap.cluster_policies.iter().enumerate() {
        for (rule, r) in cp.egress.iter().enumerate() {
            for port in &r.ports {
                let ClusterPort::Named(name) = port else {
                    continue;
                };
                // Only a changed pod with a port of that name can change the rule's sets.
                let ranges: BTreeSet<PortRange> = changed
                    .iter()
                    .flat_map(|p| named_ports_any_protocol(&p.ports, name))
                    .collect();
                if ranges.is_empty() {
                    continue;
                }
                for (peer, kind) in r.peers.iter().enumerate() {
                    if !matches!(kind, ClusterPeer::Namespaces(_) | ClusterPeer::Pods(_)) {
                        continue;
                    }
                    let at = ClusterRuleRef {
                        policy,
                        direction: Direction::Egress,
                        rule,
                    };
                    let peer_key = cluster_peer_key(snap, at, peer);
                    let holds = |i: usize, range: &PortRange| {
                        engine.cluster_peer_matches_pod(policy, Direction::Egress, rule, peer, i)
                            && named_ports_any_protocol(&snap.pods[i].ports, name).contains(range)
                    };
                    for range in &ranges {
                        let key = cluster_named_port_key(&peer_key, name, *range);
                        let now_needed = touched.now.iter().any(|&i| holds(i, range));
                        let exists = has_set(&key);
                        if now_needed && !exists {
                            return false;
                        }
                        if exists
                            && !now_needed
                            && !snap.endpoint_pods().any(|(i, _)| holds(i, range))
                        {
                            return false;
                        }
                    }
                }
            }
        }
    }
    true
}

/// The rules for `snap` when only pods changed since `prev` was compiled for the same node
/// (the same namespaces, policies, cluster policies and Nodes, in the same order): each address a changed pod had or
/// has is checked again against what decides each set ([`SetOrigin`]), instead of compiling
/// the cluster. `changed` holds every version of the changed pods, before and after (a new pod
/// only after, a deleted one only before). The result equals [`super::compile`]'s on `snap`.
///
/// None when the change may add or remove chains, rules or sets: a local pod needs a chain no
/// pod needed, a named port resolves to a number no rule has, a set that decides a chain or a
/// named-port rule may have lost its last pod. The caller compiles then.
pub fn update_for_pods(
    prev: &NodeRules,
    snap: &Snapshot,
    node: Option<&str>,
    changed: &[&Pod],
) -> Option<NodeRules> {
    let touched = Touched::new(snap, node, changed);
    if !touched.needs_nothing_new(prev) || !cluster_named_ports_stay(&touched, prev, changed) {
        return None;
    }
    let mut out = prev.clone();
    touched.refill(prev, &mut out)?;
    if emptied_named_port_set(&out, changed) {
        return None;
    }
    out.pods_without_ip = touched.pods_without_ip();
    Some(out)
}
