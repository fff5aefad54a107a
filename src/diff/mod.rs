//! `diff`: what a change to the policies (or pods) opens and closes. Pure: two snapshots in,
//! the connections that become allowed and become denied out, grouped for a reviewer.
//!
//! Pods the two sides share are grouped by their pair of equivalence classes (old, new): pods in
//! one group behave alike on both sides, so the engine compares the two sides per group pair
//! (in set algebra) and changes are only expanded to pods for the lists.

use std::collections::{BTreeMap, BTreeSet, HashMap};

pub use crate::doc::diff::{Change, ConnectionChange, Diff, Group, PodChanges, PolicyChanges};
use crate::doc::matrix::probes_json;
use crate::engine::matrix::{changed_pairs, ChangedPair, Matrix};
use crate::engine::{ClassId, Engine};
use crate::model::{Policy, Probe, Snapshot};

/// One side: a snapshot, the pods in scope (indices into it) and a name for messages.
pub struct Side<'a> {
    pub name: &'a str,
    pub snap: &'a Snapshot,
    pub pods: &'a [usize],
}

fn same_policy(a: &Policy, b: &Policy) -> bool {
    a.pod_selector == b.pod_selector
        && a.ingress == b.ingress
        && a.egress == b.egress
        && a.types_ingress == b.types_ingress
        && a.types_egress == b.types_egress
}

fn policy_changes(old: &Snapshot, new: &Snapshot) -> PolicyChanges {
    let o: BTreeMap<String, &Policy> = old.policies.iter().map(|p| (p.key(), p)).collect();
    let n: BTreeMap<String, &Policy> = new.policies.iter().map(|p| (p.key(), p)).collect();
    PolicyChanges {
        added: n.keys().filter(|k| !o.contains_key(*k)).cloned().collect(),
        removed: o.keys().filter(|k| !n.contains_key(*k)).cloned().collect(),
        changed: o
            .iter()
            .filter(|(k, p)| n.get(*k).is_some_and(|q| !same_policy(p, q)))
            .map(|(k, _)| k.clone())
            .collect(),
    }
}

/// Computes the diff of `new` against `old` on `probes`.
pub fn diff(old: &Side<'_>, new: &Side<'_>, probes: &[Probe]) -> Diff {
    let old_engine = Engine::new(old.snap);
    let new_engine = Engine::new(new.snap);
    let keyed = |side: &Side<'_>, engine: &Engine<'_>| -> BTreeMap<String, usize> {
        side.pods
            .iter()
            .copied()
            .filter(|&p| engine.class_of(p).is_some())
            .map(|p| (side.snap.pods[p].key(), p))
            .collect()
    };
    let old_keys = keyed(old, &old_engine);
    let new_keys = keyed(new, &new_engine);
    let mut pods = pod_changes(&old_keys, &new_keys);
    let common_old: Vec<usize> = old_keys
        .iter()
        .filter(|(k, _)| new_keys.contains_key(*k))
        .map(|(_, &p)| p)
        .collect();
    // Only the pod order of these (no probes): the verdicts come per group below.
    let mo = Matrix::compute(&old_engine, &common_old, &[]);
    // The new side in the old matrix's order (both sort by namespace, then name).
    let common_new: Vec<usize> = mo
        .pods
        .iter()
        .filter_map(|&p| new_keys.get(&old.snap.pods[p].key()).copied())
        .collect();
    let mn = Matrix::compute(&new_engine, &common_new, &[]);
    let names: Vec<String> = mo.pods.iter().map(|&p| old.snap.pods[p].key()).collect();
    pods.common = names.len();
    pods.changed = mo
        .pods
        .iter()
        .zip(&mn.pods)
        .filter(|(&a, &b)| {
            let (pa, pb) = (&old.snap.pods[a], &new.snap.pods[b]);
            pa.labels != pb.labels || pa.ports != pb.ports
        })
        .map(|(&a, _)| old.snap.pods[a].key())
        .collect();

    let members = joint_classes(&old_engine, &mo, &new_engine, &mn);
    // Changes per (from group, to group): which probes flipped, and which way. Every pod of
    // a group is in one class on each side, so the class matrices answer for the groups.
    let class_of = |engine: &Engine<'_>, m: &Matrix| -> Vec<ClassId> {
        members
            .iter()
            .map(|g| engine.class_of(m.pods[g[0]]).unwrap_or_default())
            .collect()
    };
    let changed = changed_pairs(
        &old_engine,
        class_of(&old_engine, &mo),
        &new_engine,
        class_of(&new_engine, &mn),
        probes,
    );
    let flips = flips_of(&changed, &members);
    let (allowed, denied) = connection_changes(&flips, &members, &names, probes);
    let groups = groups_of(&flips, &members, &names, probes);
    Diff {
        old: old.name.to_string(),
        new: new.name.to_string(),
        probes: probes_json(probes),
        pods,
        policies: policy_changes(old.snap, new.snap),
        allowed,
        denied,
        groups,
    }
}

/// Pods only on one side (by namespace/name); the counts of common and relabelled pods are
/// filled in by the caller.
fn pod_changes(
    old_keys: &BTreeMap<String, usize>,
    new_keys: &BTreeMap<String, usize>,
) -> PodChanges {
    PodChanges {
        only_old: old_keys
            .keys()
            .filter(|k| !new_keys.contains_key(*k))
            .cloned()
            .collect(),
        only_new: new_keys
            .keys()
            .filter(|k| !old_keys.contains_key(*k))
            .cloned()
            .collect(),
        ..PodChanges::default()
    }
}

/// Joint classes: pods (positions in the common order) that behave alike on both sides.
fn joint_classes(
    old_engine: &Engine<'_>,
    mo: &Matrix,
    new_engine: &Engine<'_>,
    mn: &Matrix,
) -> Vec<Vec<usize>> {
    let mut joint: HashMap<(ClassId, ClassId), usize> = HashMap::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    for (i, (&a, &b)) in mo.pods.iter().zip(&mn.pods).enumerate() {
        let key = (
            old_engine.class_of(a).unwrap_or(usize::MAX),
            new_engine.class_of(b).unwrap_or(usize::MAX),
        );
        let id = *joint.entry(key).or_insert_with(|| {
            members.push(Vec::new());
            members.len() - 1
        });
        members[id].push(i);
    }
    members
}

/// Flips per (change, from joint class, to joint class): the probes (by index) that flipped.
type Flips = BTreeMap<(Change, usize, usize), Vec<usize>>;

fn flips_of(changed: &[Vec<ChangedPair>], members: &[Vec<usize>]) -> Flips {
    let mut flips = Flips::new();
    for (k, pairs) in changed.iter().enumerate() {
        for p in pairs {
            // A group of one pod paired with itself is that pod's traffic to itself: never
            // filtered, never changed.
            if p.from == p.to && members[p.from].len() < 2 {
                continue;
            }
            let change = if p.now_allowed {
                Change::Allowed
            } else {
                Change::Denied
            };
            flips.entry((change, p.from, p.to)).or_default().push(k);
        }
    }
    flips
}

/// Every connection that changed, pod by pod: (now allowed, now denied), sorted.
fn connection_changes(
    flips: &Flips,
    members: &[Vec<usize>],
    names: &[String],
    probes: &[Probe],
) -> (Vec<ConnectionChange>, Vec<ConnectionChange>) {
    let mut allowed = Vec::new();
    let mut denied = Vec::new();
    for ((change, a, b), ks) in flips {
        for &i in &members[*a] {
            for &j in &members[*b] {
                if i == j {
                    continue;
                }
                for &k in ks {
                    let c = ConnectionChange {
                        from: names[i].clone(),
                        to: names[j].clone(),
                        protocol: probes[k].protocol.as_str().to_string(),
                        port: probes[k].port,
                    };
                    match change {
                        Change::Allowed => allowed.push(c),
                        Change::Denied => denied.push(c),
                    }
                }
            }
        }
    }
    allowed.sort();
    denied.sort();
    (allowed, denied)
}

/// The changes as a reviewer reads them: rectangles of sources, destinations and probes.
fn groups_of(
    flips: &Flips,
    members: &[Vec<usize>],
    names: &[String],
    probes: &[Probe],
) -> Vec<Group> {
    let probe_text: Vec<String> = probes.iter().map(|p| p.to_string()).collect();
    group(flips, members)
        .into_iter()
        .map(|(change, from, to, ks)| {
            let connections = from
                .iter()
                .flat_map(|i| to.iter().map(move |j| (i, j)))
                .filter(|(i, j)| i != j)
                .count()
                * ks.len();
            Group {
                change,
                from: from.iter().map(|&i| names[i].clone()).collect(),
                to: to.iter().map(|&j| names[j].clone()).collect(),
                probes: ks.iter().map(|&k| probe_text[k].clone()).collect(),
                connections,
            }
        })
        .filter(|g| g.connections > 0)
        .collect()
}

type Positions = BTreeSet<usize>;

/// Merges class-pair flips into as few rectangles as a reviewer needs: first every destination
/// that a source set reaches with the same change on the same probes, then every source set
/// that reaches the same destinations that way.
fn group(
    flips: &BTreeMap<(Change, usize, usize), Vec<usize>>,
    members: &[Vec<usize>],
) -> Vec<(Change, Positions, Positions, Vec<usize>)> {
    let set = |c: usize| -> Positions { members[c].iter().copied().collect() };
    let mut by_from: BTreeMap<(Change, Positions, Vec<usize>), Positions> = BTreeMap::new();
    for ((change, a, b), ks) in flips {
        by_from
            .entry((*change, set(*a), ks.clone()))
            .or_default()
            .extend(set(*b));
    }
    let mut by_to: BTreeMap<(Change, Positions, Vec<usize>), Positions> = BTreeMap::new();
    for ((change, from, ks), to) in by_from {
        by_to.entry((change, to, ks)).or_default().extend(from);
    }
    let mut out: Vec<(Change, Positions, Positions, Vec<usize>)> = by_to
        .into_iter()
        .map(|((change, to, ks), from)| (change, from, to, ks))
        .collect();
    out.sort_by(|a, b| {
        (a.0, a.1.iter().next(), a.2.iter().next(), &a.3).cmp(&(
            b.0,
            b.1.iter().next(),
            b.2.iter().next(),
            &b.3,
        ))
    });
    out
}
