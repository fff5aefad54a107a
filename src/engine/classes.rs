//! Equivalence classes of pods: two pods are in one class when every policy selects both or
//! neither, every peer matches both or neither, and they declare the same container ports (for
//! named ports). Any question about a pod is then a question about its class, so the cost of the
//! matrix follows the number of distinct label sets, not pods squared.

use std::collections::HashMap;

use crate::model::{ContainerPort, Direction, LabelSelector, NamespaceScope, Peer, Snapshot};

use super::{dir_index, ip_block_contains};

pub type ClassId = usize;

pub(crate) struct Class {
    pub members: Vec<usize>,
    /// Per direction (ingress, egress): policies that isolate the class, in snapshot order.
    pub selected_by: [Vec<usize>; 2],
    /// Bit per global peer id: does the peer match pods of this class?
    pub peer_bits: Vec<u64>,
}

pub(crate) struct Classes {
    pub list: Vec<Class>,
    pub pod_class: Vec<Option<ClassId>>,
    /// Global id of the first peer of each rule: `[policy][dir][rule]`.
    rule_base: Vec<[Vec<usize>; 2]>,
    /// Number of global peer ids (bits in `Class::peer_bits`).
    pub peer_count: usize,
}

/// What a (namespace, labels) shape decides: policies selecting it per direction, peer bits.
type ShapeFacts = ([Vec<usize>; 2], Vec<u64>);
/// A namespace and the labels that some selector mentions.
type ShapeKey<'a> = (&'a str, Vec<(&'a str, &'a str)>);

#[derive(PartialEq, Eq, Hash)]
struct Signature {
    selected_by: [Vec<usize>; 2],
    peer_bits: Vec<u64>,
    ports: Vec<ContainerPort>,
}

fn set_bit(bits: &mut [u64], i: usize) {
    bits[i / 64] |= 1 << (i % 64);
}

fn bit(bits: &[u64], i: usize) -> bool {
    bits[i / 64] & (1 << (i % 64)) != 0
}

impl Classes {
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
        bit(
            &self.list[class].peer_bits,
            self.peer_id(policy, dir, rule, peer),
        )
    }

    pub fn build(snap: &Snapshot) -> Classes {
        // Global peer ids, and the distinct selectors (interned by content: policy targets and
        // pod peers that write the same selector share one evaluation per pod shape).
        let mut rule_base = Vec::with_capacity(snap.policies.len());
        let mut peer_count = 0usize;
        let mut selectors: HashMap<&LabelSelector, usize> = HashMap::new();
        let mut target_sel = Vec::with_capacity(snap.policies.len());
        // Pod peers: (global id, policy namespace or selector, pod selector id); ipBlock peers apart.
        struct PodPeer<'a> {
            id: usize,
            ns_scope: Result<&'a str, &'a LabelSelector>,
            pod_sel: usize,
        }
        let mut pod_peers: Vec<PodPeer<'_>> = Vec::new();
        let mut ip_peers: Vec<(usize, &crate::model::IpBlock)> = Vec::new();
        let mut distinct: Vec<&LabelSelector> = Vec::new();
        for pol in &snap.policies {
            let id = *selectors.entry(&pol.pod_selector).or_insert_with(|| {
                distinct.push(&pol.pod_selector);
                distinct.len() - 1
            });
            target_sel.push(id);
            let mut per_dir: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
            for dir in Direction::BOTH {
                for rule in pol.rules(dir) {
                    per_dir[dir_index(dir)].push(peer_count);
                    for peer in &rule.peers {
                        match peer {
                            Peer::Pods { namespaces, pods } => {
                                let pod_sel = *selectors.entry(pods).or_insert_with(|| {
                                    distinct.push(pods);
                                    distinct.len() - 1
                                });
                                let ns_scope = match namespaces {
                                    NamespaceScope::PolicyNamespace => Ok(pol.namespace.as_str()),
                                    NamespaceScope::Selector(s) => Err(s),
                                };
                                pod_peers.push(PodPeer {
                                    id: peer_count,
                                    ns_scope,
                                    pod_sel,
                                });
                            }
                            Peer::IpBlock(b) => ip_peers.push((peer_count, b)),
                        }
                        peer_count += 1;
                    }
                }
            }
            rule_base.push(per_dir);
        }
        let words = peer_count.div_ceil(64).max(1);

        // Namespace-side matches, once per (peer, namespace).
        let ns_names: Vec<&str> = snap.namespaces.keys().map(String::as_str).collect();
        let ns_index: HashMap<&str, usize> =
            ns_names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        let peer_ns_ok: Vec<Vec<bool>> = pod_peers
            .iter()
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
            .collect();
        let mut policies_by_ns: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, pol) in snap.policies.iter().enumerate() {
            policies_by_ns
                .entry(pol.namespace.as_str())
                .or_default()
                .push(i);
        }

        // Only label keys some selector mentions can make a difference: pods whose labels
        // agree on those keys (and namespace) share everything but IPs and ports.
        let relevant: std::collections::HashSet<&str> = distinct
            .iter()
            .flat_map(|s| {
                s.match_labels
                    .keys()
                    .map(String::as_str)
                    .chain(s.match_expressions.iter().map(|r| r.key.as_str()))
            })
            .collect();
        let mut shapes: HashMap<ShapeKey<'_>, ShapeFacts> = HashMap::new();
        let mut signatures: HashMap<Signature, ClassId> = HashMap::new();
        let mut list: Vec<Class> = Vec::new();
        let mut pod_class = vec![None; snap.pods.len()];
        for (pi, pod) in snap.endpoint_pods() {
            let shape_labels: Vec<(&str, &str)> = pod
                .labels
                .iter()
                .filter(|(k, _)| relevant.contains(k.as_str()))
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let (selected_by, shape_bits) = shapes
                .entry((pod.namespace.as_str(), shape_labels))
                .or_insert_with(|| {
                    let sel_results: Vec<bool> =
                        distinct.iter().map(|s| s.matches(&pod.labels)).collect();
                    let mut selected_by: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
                    for &p in policies_by_ns
                        .get(pod.namespace.as_str())
                        .map(Vec::as_slice)
                        .unwrap_or(&[])
                    {
                        if sel_results[target_sel[p]] {
                            for dir in Direction::BOTH {
                                if snap.policies[p].affects(dir) {
                                    selected_by[dir_index(dir)].push(p);
                                }
                            }
                        }
                    }
                    let mut bits = vec![0u64; words];
                    let ns_i = ns_index.get(pod.namespace.as_str()).copied();
                    for (k, pp) in pod_peers.iter().enumerate() {
                        if ns_i.is_some_and(|n| peer_ns_ok[k][n]) && sel_results[pp.pod_sel] {
                            set_bit(&mut bits, pp.id);
                        }
                    }
                    (selected_by, bits)
                })
                .clone();
            let mut peer_bits = shape_bits;
            for (id, block) in &ip_peers {
                if pod.ips.iter().any(|ip| ip_block_contains(block, *ip)) {
                    set_bit(&mut peer_bits, *id);
                }
            }
            let sig = Signature {
                selected_by,
                peer_bits,
                ports: pod.ports.clone(),
            };
            let class = match signatures.get(&sig) {
                Some(c) => *c,
                None => {
                    let c = list.len();
                    list.push(Class {
                        members: Vec::new(),
                        selected_by: sig.selected_by.clone(),
                        peer_bits: sig.peer_bits.clone(),
                    });
                    signatures.insert(sig, c);
                    c
                }
            };
            list[class].members.push(pi);
            pod_class[pi] = Some(class);
        }
        Classes {
            list,
            pod_class,
            rule_base,
            peer_count,
        }
    }
}
