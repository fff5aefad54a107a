//! Equivalence classes of pods: two pods are in one class when every policy selects both or
//! neither, every peer matches both or neither, and they declare the same container ports (for
//! named ports). Any question about a pod is then a question about its class, so the cost of the
//! matrix follows the number of distinct label sets, not pods squared.

use std::collections::HashMap;

use crate::model::{
    ClusterPeer, ClusterSubject, ContainerPort, Direction, LabelSelector, Labels, NamespaceScope,
    Peer, Snapshot,
};

use super::dir_index;

pub type ClassId = usize;

pub(crate) struct Class {
    pub members: Vec<usize>,
    /// Per direction (ingress, egress): policies that isolate the class, in snapshot order.
    pub selected_by: [Vec<usize>; 2],
    /// Bit per global peer id: does the peer match pods of this class?
    pub peer_bits: Vec<u64>,
    /// Cluster policies whose subject selects the class, in evaluation order.
    pub cluster_subject_of: Vec<usize>,
}

pub(crate) struct Classes {
    pub list: Vec<Class>,
    pub pod_class: Vec<Option<ClassId>>,
    /// Global id of the first peer of each rule: `[policy][dir][rule]`.
    rule_base: Vec<[Vec<usize>; 2]>,
    /// The same for the rules of cluster policies: `[cluster policy][dir][rule]`.
    cluster_rule_base: Vec<[Vec<usize>; 2]>,
    /// Number of global peer ids (bits in `Class::peer_bits`).
    pub peer_count: usize,
}

/// What a (namespace, labels) shape decides: policies selecting it per direction, peer bits,
/// cluster policies selecting it.
type ShapeFacts = ([Vec<usize>; 2], Vec<u64>, Vec<usize>);

/// The selector that matches everything (a `namespaces` peer selects every pod there).
static EVERYTHING: LabelSelector = LabelSelector {
    match_labels: Labels::new(),
    match_expressions: Vec::new(),
};
/// A namespace and the labels that some selector mentions.
type ShapeKey<'a> = (&'a str, Vec<(&'a str, &'a str)>);

/// What makes two pods one class: the facts of their shape, the ipBlock peers their addresses
/// fall in (a bitset over `ip_peers` positions), their container ports (for named ports).
#[derive(PartialEq, Eq, Hash)]
struct Signature<'a> {
    facts: usize,
    ip_peers: &'a [u64],
    ports: &'a [ContainerPort],
}

/// An address as (is IPv4, value): cheap to mask, for millions of ipBlock checks.
fn numeric(ip: std::net::IpAddr) -> (bool, u128) {
    match ip {
        std::net::IpAddr::V4(a) => (true, u32::from(a) as u128),
        std::net::IpAddr::V6(a) => (false, u128::from(a)),
    }
}

/// A network as (is IPv4, network, mask).
fn numeric_net(net: &ipnet::IpNet) -> (bool, u128, u128) {
    match net {
        ipnet::IpNet::V4(n) => (
            true,
            u32::from(n.network()) as u128,
            u32::from(n.netmask()) as u128,
        ),
        ipnet::IpNet::V6(n) => (false, u128::from(n.network()), u128::from(n.netmask())),
    }
}

/// An ipBlock in numbers: the same answer as `ip_block_contains`, without the enum matching.
struct NumericBlock {
    cidr: (bool, u128, u128),
    except: Vec<(bool, u128, u128)>,
}

impl NumericBlock {
    fn of(b: &crate::model::IpBlock) -> NumericBlock {
        NumericBlock {
            cidr: numeric_net(&b.cidr),
            except: b.except.iter().map(numeric_net).collect(),
        }
    }

    fn contains(&self, (v4, ip): (bool, u128)) -> bool {
        let inside = |&(net_v4, net, mask): &(bool, u128, u128)| net_v4 == v4 && ip & mask == net;
        inside(&self.cidr) && !self.except.iter().any(inside)
    }
}

/// A pod peer: its global id, the policy namespace or a namespace selector, its pod selector.
struct PodPeer<'a> {
    id: usize,
    ns_scope: Result<&'a str, &'a LabelSelector>,
    pod_sel: usize,
}

/// Everything needed to work out a shape's facts from one of its pods.
struct ShapeEval<'a> {
    snap: &'a Snapshot,
    /// Distinct selectors (policy targets and pod peers).
    distinct: &'a [&'a LabelSelector],
    /// Per policy: its podSelector's index in `distinct`.
    target_sel: &'a [usize],
    policies_by_ns: &'a HashMap<&'a str, Vec<usize>>,
    pod_peers: &'a [PodPeer<'a>],
    /// Per pod peer, per namespace (in `ns_index` order): does its namespace side match?
    peer_ns_ok: &'a [Vec<bool>],
    /// Cluster policy subjects (id = cluster policy index), and their namespace sides.
    subjects: &'a [PodPeer<'a>],
    subject_ns_ok: &'a [Vec<bool>],
    ns_index: &'a HashMap<&'a str, usize>,
    words: usize,
}

impl ShapeEval<'_> {
    /// The policies selecting the pod per direction, and the pod peers matching it.
    fn facts(&self, pod: &crate::model::Pod) -> ShapeFacts {
        let sel_results: Vec<bool> = self
            .distinct
            .iter()
            .map(|s| s.matches(&pod.labels))
            .collect();
        let mut selected_by: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
        let own = self.policies_by_ns.get(pod.namespace.as_str());
        for &p in own.map(Vec::as_slice).unwrap_or(&[]) {
            if sel_results[self.target_sel[p]] {
                for dir in Direction::BOTH {
                    if self.snap.policies[p].affects(dir) {
                        selected_by[dir_index(dir)].push(p);
                    }
                }
            }
        }
        let mut bits = vec![0u64; self.words];
        let ns_i = self.ns_index.get(pod.namespace.as_str()).copied();
        for (k, pp) in self.pod_peers.iter().enumerate() {
            if ns_i.is_some_and(|n| self.peer_ns_ok[k][n]) && sel_results[pp.pod_sel] {
                set_bit(&mut bits, pp.id);
            }
        }
        let cluster: Vec<usize> = self
            .subjects
            .iter()
            .enumerate()
            .filter(|(k, sp)| {
                ns_i.is_some_and(|n| self.subject_ns_ok[*k][n]) && sel_results[sp.pod_sel]
            })
            .map(|(_, sp)| sp.id)
            .collect();
        (selected_by, bits, cluster)
    }
}

fn set_bit(bits: &mut [u64], i: usize) {
    bits[i / 64] |= 1 << (i % 64);
}

fn bit(bits: &[u64], i: usize) -> bool {
    bits[i / 64] & (1 << (i % 64)) != 0
}

impl Classes {
    /// The global id of a cluster policy rule's `peer`-th peer.
    pub fn cluster_peer_id(
        &self,
        policy: usize,
        dir: Direction,
        rule: usize,
        peer: usize,
    ) -> usize {
        self.cluster_rule_base[policy][dir_index(dir)][rule] + peer
    }

    pub fn cluster_peer_match(
        &self,
        class: ClassId,
        policy: usize,
        dir: Direction,
        rule: usize,
        peer: usize,
    ) -> bool {
        self.has_peer(class, self.cluster_peer_id(policy, dir, rule, peer))
    }

    /// The global id of a rule's `peer`-th peer.
    pub fn peer_id(&self, policy: usize, dir: Direction, rule: usize, peer: usize) -> usize {
        self.rule_base[policy][dir_index(dir)][rule] + peer
    }

    pub fn peer_match(
        &self,
        class: ClassId,
        policy: usize,
        dir: Direction,
        rule: usize,
        peer: usize,
    ) -> bool {
        self.has_peer(class, self.peer_id(policy, dir, rule, peer))
    }

    /// Does the peer with this global id (NetworkPolicy and cluster peers share the numbering)
    /// match the class's pods?
    fn has_peer(&self, class: ClassId, peer_id: usize) -> bool {
        bit(&self.list[class].peer_bits, peer_id)
    }

    pub fn build(snap: &Snapshot) -> Classes {
        let peers = PeerIndex::of(snap);
        let endpoints: Vec<usize> = snap.endpoint_pods().map(|(i, _)| i).collect();
        let shapes = Shapes::of(snap, &peers, &endpoints);
        let ip_bits = ip_memberships(snap, &peers.ip_peers, &endpoints);
        let (list, pod_class) = group(snap, &endpoints, &shapes, &peers.ip_peers, &ip_bits);
        Classes {
            list,
            pod_class,
            rule_base: peers.rule_base,
            cluster_rule_base: peers.cluster_rule_base,
            peer_count: peers.peer_count,
        }
    }
}

/// Every peer of every rule numbered globally, and the distinct selectors (interned by content:
/// policy targets and pod peers that write the same selector share one evaluation per shape).
struct PeerIndex<'a> {
    /// Global id of the first peer of each rule: `[policy][dir][rule]`.
    rule_base: Vec<[Vec<usize>; 2]>,
    cluster_rule_base: Vec<[Vec<usize>; 2]>,
    peer_count: usize,
    distinct: Vec<&'a LabelSelector>,
    /// Per policy: its podSelector's index in `distinct`.
    target_sel: Vec<usize>,
    pod_peers: Vec<PodPeer<'a>>,
    /// (global id, block) of every ipBlock peer; a `networks` peer has one entry per CIDR.
    ip_peers: Vec<(usize, &'a crate::model::IpBlock)>,
    /// Per cluster policy, its subject (id = the policy's index).
    subjects: Vec<PodPeer<'a>>,
}

impl<'a> PeerIndex<'a> {
    fn of(snap: &'a Snapshot) -> PeerIndex<'a> {
        let mut index = PeerIndex {
            rule_base: Vec::with_capacity(snap.policies.len()),
            cluster_rule_base: Vec::with_capacity(snap.cluster_policies.len()),
            peer_count: 0,
            distinct: Vec::new(),
            target_sel: Vec::with_capacity(snap.policies.len()),
            pod_peers: Vec::new(),
            ip_peers: Vec::new(),
            subjects: Vec::with_capacity(snap.cluster_policies.len()),
        };
        let mut selectors = HashMap::new();
        for pol in &snap.policies {
            index.add_policy(pol, &mut selectors);
        }
        for (id, cp) in snap.cluster_policies.iter().enumerate() {
            index.add_cluster_policy(id, cp, &mut selectors);
        }
        index
    }

    /// The id of a selector in `distinct` (equal selectors, one id).
    fn intern(
        &mut self,
        selectors: &mut HashMap<&'a LabelSelector, usize>,
        sel: &'a LabelSelector,
    ) -> usize {
        *selectors.entry(sel).or_insert_with(|| {
            self.distinct.push(sel);
            self.distinct.len() - 1
        })
    }

    /// A NetworkPolicy's podSelector and peers: pod peers by global id, ipBlock peers apart.
    fn add_policy(
        &mut self,
        pol: &'a crate::model::Policy,
        selectors: &mut HashMap<&'a LabelSelector, usize>,
    ) {
        let id = self.intern(selectors, &pol.pod_selector);
        self.target_sel.push(id);
        let mut per_dir: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
        for dir in Direction::BOTH {
            for rule in pol.rules(dir) {
                per_dir[dir_index(dir)].push(self.peer_count);
                for peer in &rule.peers {
                    match peer {
                        Peer::Pods { namespaces, pods } => {
                            let pod_sel = self.intern(selectors, pods);
                            let ns_scope = match namespaces {
                                NamespaceScope::PolicyNamespace => Ok(pol.namespace.as_str()),
                                NamespaceScope::Selector(s) => Err(s),
                            };
                            self.pod_peers.push(PodPeer {
                                id: self.peer_count,
                                ns_scope,
                                pod_sel,
                            });
                        }
                        Peer::IpBlock(b) => self.ip_peers.push((self.peer_count, b)),
                    }
                    self.peer_count += 1;
                }
            }
        }
        self.rule_base.push(per_dir);
    }

    /// A cluster policy's subject and peers (`networks` by CIDR; node addresses and DNS names
    /// are never pods of a class).
    fn add_cluster_policy(
        &mut self,
        id: usize,
        cp: &'a crate::model::ClusterPolicy,
        selectors: &mut HashMap<&'a LabelSelector, usize>,
    ) {
        let (ns, pods) = match &cp.subject {
            ClusterSubject::Namespaces(ns) => (ns, &EVERYTHING),
            ClusterSubject::Pods(p) => (&p.namespaces, &p.pods),
        };
        let pod_sel = self.intern(selectors, pods);
        self.subjects.push(PodPeer {
            id,
            ns_scope: Err(ns),
            pod_sel,
        });
        let mut per_dir: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
        for dir in Direction::BOTH {
            for rule in cp.rules(dir) {
                per_dir[dir_index(dir)].push(self.peer_count);
                for peer in &rule.peers {
                    let (ns_scope, pods) = match peer {
                        ClusterPeer::Namespaces(ns) => (ns, &EVERYTHING),
                        ClusterPeer::Pods(p) => (&p.namespaces, &p.pods),
                        ClusterPeer::Networks(blocks) => {
                            let id = self.peer_count;
                            self.ip_peers.extend(blocks.iter().map(|b| (id, b)));
                            self.peer_count += 1;
                            continue;
                        }
                        ClusterPeer::Nodes(_) | ClusterPeer::DomainNames(_) => {
                            self.peer_count += 1;
                            continue;
                        }
                    };
                    let pod_sel = self.intern(selectors, pods);
                    self.pod_peers.push(PodPeer {
                        id: self.peer_count,
                        ns_scope: Err(ns_scope),
                        pod_sel,
                    });
                    self.peer_count += 1;
                }
            }
        }
        self.cluster_rule_base.push(per_dir);
    }
}

/// Pods that agree on namespace and relevant labels share a shape; shapes with the same facts
/// share a fact id.
struct Shapes {
    /// Per endpoint (position in `endpoints`): its shape.
    pod_shape: Vec<usize>,
    /// Per shape: the policies selecting it and the pod peers matching it.
    facts: Vec<ShapeFacts>,
    /// Per shape: the id of its facts (equal facts, equal id).
    fact_id: Vec<usize>,
}

impl Shapes {
    fn of(snap: &Snapshot, peers: &PeerIndex<'_>, endpoints: &[usize]) -> Shapes {
        let (distinct, target_sel, pod_peers) =
            (&peers.distinct, &peers.target_sel, &peers.pod_peers);
        // Namespace-side matches, once per (peer, namespace).
        let ns_names: Vec<&str> = snap.namespaces.keys().map(String::as_str).collect();
        let ns_index: HashMap<&str, usize> =
            ns_names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        let peer_ns_ok = namespace_sides(snap, &ns_names, pod_peers);
        let subject_ns_ok = namespace_sides(snap, &ns_names, &peers.subjects);
        let mut policies_by_ns: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, pol) in snap.policies.iter().enumerate() {
            policies_by_ns
                .entry(pol.namespace.as_str())
                .or_default()
                .push(i);
        }

        let eval = ShapeEval {
            snap,
            distinct,
            target_sel,
            policies_by_ns: &policies_by_ns,
            pod_peers,
            peer_ns_ok: &peer_ns_ok,
            subjects: &peers.subjects,
            subject_ns_ok: &subject_ns_ok,
            ns_index: &ns_index,
            words: peers.peer_count.div_ceil(64).max(1),
        };
        // Pods that agree on namespace and relevant labels share a shape: evaluate every
        // selector once per shape, on all cores, then merge shapes with the same facts.
        let (pod_shape, shape_pod) = assign_shapes(snap, distinct, endpoints);
        let facts: Vec<ShapeFacts> =
            super::bits::par_map(shape_pod.len(), |s| eval.facts(&snap.pods[shape_pod[s]]));
        let mut fact_id: HashMap<&ShapeFacts, usize> = HashMap::new();
        let fact_id_of_shape: Vec<usize> = facts
            .iter()
            .map(|f| {
                let next = fact_id.len();
                *fact_id.entry(f).or_insert(next)
            })
            .collect();
        Shapes {
            pod_shape,
            facts,
            fact_id: fact_id_of_shape,
        }
    }
}

/// Per pod peer (or subject), per namespace of `ns_names`: does its namespace side match?
fn namespace_sides(snap: &Snapshot, ns_names: &[&str], list: &[PodPeer<'_>]) -> Vec<Vec<bool>> {
    list.iter()
        .map(|pp| {
            ns_names
                .iter()
                .map(|n| match pp.ns_scope {
                    Ok(own) => own == *n,
                    Err(sel) => snap
                        .namespaces
                        .get(*n)
                        .is_some_and(|ns| sel.matches(&ns.labels)),
                })
                .collect()
        })
        .collect()
}

/// Per endpoint its shape, and per shape one pod that has it. Only label keys some selector
/// mentions can make a difference: pods whose labels agree on those keys (and namespace)
/// share everything but IPs and ports.
fn assign_shapes(
    snap: &Snapshot,
    distinct: &[&LabelSelector],
    endpoints: &[usize],
) -> (Vec<usize>, Vec<usize>) {
    let relevant: std::collections::HashSet<&str> = distinct
        .iter()
        .flat_map(|s| {
            s.match_labels
                .keys()
                .map(String::as_str)
                .chain(s.match_expressions.iter().map(|r| r.key.as_str()))
        })
        .collect();
    let mut shape_of_key: HashMap<ShapeKey<'_>, usize> = HashMap::new();
    let mut shape_pod: Vec<usize> = Vec::new();
    let pod_shape: Vec<usize> = endpoints
        .iter()
        .map(|&pi| {
            let pod = &snap.pods[pi];
            let labels: Vec<(&str, &str)> = pod
                .labels
                .iter()
                .filter(|(k, _)| relevant.contains(k.as_str()))
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            *shape_of_key
                .entry((pod.namespace.as_str(), labels))
                .or_insert_with(|| {
                    shape_pod.push(pi);
                    shape_pod.len() - 1
                })
        })
        .collect();
    (pod_shape, shape_pod)
}

/// Per endpoint: the ipBlock peers its addresses fall in (the costly part for many pods), as a
/// bitset over `ip_peers` positions: with many ipBlocks most pods fall in most of them.
fn ip_memberships(
    snap: &Snapshot,
    ip_peers: &[(usize, &crate::model::IpBlock)],
    endpoints: &[usize],
) -> Vec<Vec<u64>> {
    let ip_words = ip_peers.len().div_ceil(64);
    let blocks: Vec<NumericBlock> = ip_peers.iter().map(|(_, b)| NumericBlock::of(b)).collect();
    super::bits::par_map(endpoints.len(), |e| {
        let ips: Vec<(bool, u128)> = snap.pods[endpoints[e]]
            .ips
            .iter()
            .map(|ip| numeric(*ip))
            .collect();
        let mut in_blocks = vec![0u64; ip_words];
        for (k, block) in blocks.iter().enumerate() {
            if ips.iter().any(|ip| block.contains(*ip)) {
                set_bit(&mut in_blocks, k);
            }
        }
        in_blocks
    })
}

/// Classes in order of their first pod: same facts, same ipBlock peers, same ports.
fn group(
    snap: &Snapshot,
    endpoints: &[usize],
    shapes: &Shapes,
    ip_peers: &[(usize, &crate::model::IpBlock)],
    ip_bits: &[Vec<u64>],
) -> (Vec<Class>, Vec<Option<ClassId>>) {
    let mut signatures: HashMap<Signature<'_>, ClassId> = HashMap::new();
    let mut list: Vec<Class> = Vec::new();
    let mut pod_class = vec![None; snap.pods.len()];
    for (e, &pi) in endpoints.iter().enumerate() {
        let shape = shapes.pod_shape[e];
        let sig = Signature {
            facts: shapes.fact_id[shape],
            ip_peers: &ip_bits[e],
            ports: &snap.pods[pi].ports,
        };
        let class = *signatures.entry(sig).or_insert_with(|| {
            let (selected_by, bits, cluster) = &shapes.facts[shape];
            let mut peer_bits = bits.clone();
            for (k, (id, _)) in ip_peers.iter().enumerate() {
                if bit(&ip_bits[e], k) {
                    set_bit(&mut peer_bits, *id);
                }
            }
            list.push(Class {
                members: Vec::new(),
                selected_by: selected_by.clone(),
                peer_bits,
                cluster_subject_of: cluster.clone(),
            });
            list.len() - 1
        });
        list[class].members.push(pi);
        pod_class[pi] = Some(class);
    }
    (list, pod_class)
}

#[cfg(test)]
mod tests {
    use super::{numeric, NumericBlock};
    use crate::engine::ip_block_contains;
    use crate::model::IpBlock;

    #[test]
    fn numeric_blocks_agree_with_ip_block_contains() {
        let blocks = [
            ("10.0.0.0/8", vec!["10.100.0.0/26", "10.1.2.3/32"]),
            ("0.0.0.0/0", vec![]),
            ("fd00::/120", vec!["fd00::8/125"]),
            ("::/0", vec!["fd00::/16"]),
        ];
        let ips = [
            "10.100.0.5",
            "10.100.0.64",
            "10.1.2.3",
            "10.1.2.4",
            "11.0.0.1",
            "0.0.0.0",
            "fd00::1",
            "fd00::9",
            "fd00::100",
            "fe80::1",
            "::ffff:10.0.0.1",
        ];
        for (cidr, except) in blocks {
            let b = IpBlock {
                cidr_text: cidr.into(),
                cidr: cidr.parse().unwrap(),
                except: except.iter().map(|e| e.parse().unwrap()).collect(),
            };
            let n = NumericBlock::of(&b);
            for ip in ips {
                let ip = ip.parse().unwrap();
                assert_eq!(
                    n.contains(numeric(ip)),
                    ip_block_contains(&b, ip),
                    "{cidr} {ip}"
                );
            }
        }
    }
}
