//! The expected connectivity matrix, computed over equivalence classes in set algebra (see
//! `sets`): one bit per pair of classes and probe, expanded to pods only when asked.

use std::collections::HashMap;

use serde::Serialize;

use super::bits::{self, BitMatrix};
use super::sets::ClassSets;
use super::{ClassId, Endpoint, Engine, Traffic};
use crate::model::Probe;

pub struct Matrix {
    /// Pod indices in scope, sorted by `ns/name`.
    pub pods: Vec<usize>,
    pub probes: Vec<Probe>,
    /// Local class index of each pod position.
    pod_local: Vec<usize>,
    /// Pods per local class, largest first (so equal sizes sit in runs, for weighted counts).
    class_sizes: Vec<usize>,
    /// `allowed[probe]`: row = from class, column = to class, for two *different* pods.
    allowed: Vec<BitMatrix>,
    /// `ambiguous[probe]`, laid out as `allowed`; None where no equal priorities tie.
    ambiguous: Vec<Option<BitMatrix>>,
}

/// The counts of a matrix, without the matrix (what `-o summary` prints).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixCounts {
    pub pods: usize,
    pub classes: usize,
    pub probes: Vec<ProbeCount>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ProbeCount {
    pub protocol: String,
    pub port: u16,
    pub allowed: u64,
    pub denied: u64,
}

/// The pods in scope, sorted, and their classes numbered locally (largest class first).
struct Scope {
    pods: Vec<usize>,
    pod_local: Vec<usize>,
    class_sizes: Vec<usize>,
    classes: Vec<ClassId>,
}

impl Scope {
    fn of(engine: &Engine<'_>, pods: &[usize]) -> Scope {
        // hostNetwork pods are dropped: they are not endpoints.
        let mut pods: Vec<(usize, ClassId)> = pods
            .iter()
            .filter_map(|&p| engine.class_of(p).map(|c| (p, c)))
            .collect();
        pods.sort_by(|a, b| {
            let (pa, pb) = (&engine.snap.pods[a.0], &engine.snap.pods[b.0]);
            (&pa.namespace, &pa.name).cmp(&(&pb.namespace, &pb.name))
        });
        pods.dedup();
        let mut size_of: HashMap<ClassId, usize> = HashMap::new();
        for (_, c) in &pods {
            *size_of.entry(*c).or_default() += 1;
        }
        let mut classes: Vec<(ClassId, usize)> = size_of.into_iter().collect();
        classes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let local: HashMap<ClassId, usize> = classes
            .iter()
            .enumerate()
            .map(|(l, (c, _))| (*c, l))
            .collect();
        Scope {
            pod_local: pods.iter().map(|(_, c)| local[c]).collect(),
            pods: pods.into_iter().map(|(p, _)| p).collect(),
            class_sizes: classes.iter().map(|(_, s)| *s).collect(),
            classes: classes.into_iter().map(|(c, _)| c).collect(),
        }
    }

    fn into_matrix(
        self,
        probes: &[Probe],
        allowed: Vec<BitMatrix>,
        ambiguous: Vec<Option<BitMatrix>>,
    ) -> Matrix {
        Matrix {
            pods: self.pods,
            probes: probes.to_vec(),
            pod_local: self.pod_local,
            class_sizes: self.class_sizes,
            allowed,
            ambiguous,
        }
    }
}

impl Matrix {
    /// Computes the matrix for `pods` (hostNetwork pods are dropped: they are not endpoints).
    pub fn compute(engine: &Engine<'_>, pods: &[usize], probes: &[Probe]) -> Matrix {
        let scope = Scope::of(engine, pods);
        let sets = ClassSets::new(engine, scope.classes.clone());
        let (allowed, ambiguous) = probes
            .iter()
            .map(|&p| sets.allowed_and_ambiguous(p))
            .unzip();
        scope.into_matrix(probes, allowed, ambiguous)
    }

    /// Counts only: each probe's class matrix is counted and dropped, so memory holds one
    /// probe's matrix at a time (100,000 pods can make 70,000 classes: 600 MB per probe).
    pub fn count_only(engine: &Engine<'_>, pods: &[usize], probes: &[Probe]) -> MatrixCounts {
        let scope = Scope::of(engine, pods);
        let sets = ClassSets::new(engine, scope.classes.clone());
        MatrixCounts {
            pods: scope.pods.len(),
            classes: scope.classes.len(),
            probes: probes
                .iter()
                .map(|&p| count(p, &sets.allowed_matrix(p), &scope.class_sizes))
                .collect(),
        }
    }

    /// The previous algorithm, a full verdict per pair of classes on one core: kept only so the
    /// benchmark can measure the set algebra against it, and the property test compare them.
    #[doc(hidden)]
    pub fn compute_pairwise(engine: &Engine<'_>, pods: &[usize], probes: &[Probe]) -> Matrix {
        let scope = Scope::of(engine, pods);
        let reps: Vec<usize> = scope
            .classes
            .iter()
            .map(|&c| engine.class_members(c)[0])
            .collect();
        let n = reps.len();
        let (allowed, ambiguous) = probes
            .iter()
            .map(|&probe| {
                let mut grid = BitMatrix::zeros(n, n);
                let mut tied = BitMatrix::zeros(n, n);
                for (i, &from) in reps.iter().enumerate() {
                    for (j, &to) in reps.iter().enumerate() {
                        let t = Traffic {
                            from: Endpoint::Pod(from),
                            to: Endpoint::Pod(to),
                            probe,
                        };
                        let v = engine.verdict_between_distinct(&t);
                        if v.allowed {
                            grid.set(i, j);
                        }
                        if v.ambiguous {
                            tied.set(i, j);
                        }
                    }
                }
                (grid, Some(tied))
            })
            .unzip();
        scope.into_matrix(probes, allowed, ambiguous)
    }

    pub fn class_count(&self) -> usize {
        self.class_sizes.len()
    }

    /// Is traffic from the pod at position `i` to the pod at position `j` allowed?
    pub fn allowed(&self, i: usize, j: usize, probe: usize) -> bool {
        i == j || self.allowed[probe].get(self.pod_local[i], self.pod_local[j])
    }

    /// Does the answer for this pair depend on the order of equal-priority cluster policies?
    pub fn ambiguous(&self, i: usize, j: usize, probe: usize) -> bool {
        i != j
            && self.ambiguous[probe]
                .as_ref()
                .is_some_and(|m| m.get(self.pod_local[i], self.pod_local[j]))
    }

    /// Do two matrices say the same for every pair of pods (same pods, probes and classes),
    /// ambiguity included?
    #[doc(hidden)]
    pub fn same_verdicts(&self, other: &Matrix) -> bool {
        let n = self.pods.len();
        self.pods == other.pods
            && self.probes == other.probes
            && self.pod_local == other.pod_local
            && self.allowed == other.allowed
            && (0..self.probes.len()).all(|k| {
                (0..n).all(|i| (0..n).all(|j| self.ambiguous(i, j, k) == other.ambiguous(i, j, k)))
            })
    }

    /// Allowed and denied counts per probe, without expanding to pod pairs.
    pub fn summary(&self) -> Vec<ProbeCount> {
        self.probes
            .iter()
            .zip(&self.allowed)
            .map(|(&probe, grid)| count(probe, grid, &self.class_sizes))
            .collect()
    }

    pub fn counts(&self) -> MatrixCounts {
        MatrixCounts {
            pods: self.pods.len(),
            classes: self.class_count(),
            probes: self.summary(),
        }
    }
}

/// Allowed and denied pod pairs of one probe's class matrix: per source class, popcounts of
/// its row over each run of equally sized classes, times the sizes (sizes sorted, largest first).
fn count(probe: Probe, grid: &BitMatrix, class_sizes: &[usize]) -> ProbeCount {
    let runs = size_runs(class_sizes);
    let pods: u64 = class_sizes.iter().map(|&s| s as u64).sum();
    let per_class = bits::par_map(class_sizes.len(), |a| {
        let row = grid.row(a);
        let size = class_sizes[a] as u64;
        let reached: u64 = runs
            .iter()
            .map(|&(lo, hi, s)| s * bits::count_range(row, lo, hi))
            .sum();
        // Pairs of two different pods of this class count size*(size-1), not size²; each pod
        // to itself is always allowed.
        let own = if bits::get(row, a) { size } else { 0 };
        size * reached - own + size
    });
    let allowed: u64 = per_class.iter().sum();
    ProbeCount {
        protocol: probe.protocol.as_str().to_string(),
        port: probe.port,
        allowed,
        denied: pods * pods - allowed,
    }
}

/// One verdict that differs between two snapshots: groups `from` → `to`, and the new verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangedPair {
    pub from: usize,
    pub to: usize,
    pub now_allowed: bool,
}

/// For groups of pods that are one class in each snapshot (`old_classes[g]`, `new_classes[g]`;
/// a class may stand for several groups), the pairs of groups whose verdict differs, per probe:
/// the two snapshots' class matrices in set algebra, XORed. A pair (g, g) means two different
/// pods of group g.
pub fn changed_pairs(
    old: &Engine<'_>,
    old_classes: Vec<ClassId>,
    new: &Engine<'_>,
    new_classes: Vec<ClassId>,
    probes: &[Probe],
) -> Vec<Vec<ChangedPair>> {
    let (before, after) = (
        ClassSets::new(old, old_classes),
        ClassSets::new(new, new_classes),
    );
    probes
        .iter()
        .map(|&probe| {
            let (a, b) = (before.allowed_matrix(probe), after.allowed_matrix(probe));
            let mut out = Vec::new();
            for from in 0..a.rows() {
                for (w, (x, y)) in a.row(from).iter().zip(b.row(from)).enumerate() {
                    let mut differ = x ^ y;
                    while differ != 0 {
                        let to = w * 64 + differ.trailing_zeros() as usize;
                        differ &= differ - 1;
                        out.push(ChangedPair {
                            from,
                            to,
                            now_allowed: b.get(from, to),
                        });
                    }
                }
            }
            out
        })
        .collect()
}

/// Runs of equal sizes in a list sorted by size: (start, end, size).
fn size_runs(sizes: &[usize]) -> Vec<(usize, usize, u64)> {
    let mut runs: Vec<(usize, usize, u64)> = Vec::new();
    for (i, &s) in sizes.iter().enumerate() {
        match runs.last_mut() {
            Some(run) if run.2 == s as u64 => run.1 = i + 1,
            _ => runs.push((i, i + 1, s as u64)),
        }
    }
    runs
}
