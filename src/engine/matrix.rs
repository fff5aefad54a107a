//! The expected connectivity matrix, computed over equivalence classes: one verdict per pair of
//! classes and probe, expanded to pods only when asked.

use std::collections::HashMap;

use serde::Serialize;

use super::{ClassId, Endpoint, Engine, Traffic};
use crate::model::Probe;

pub struct Matrix {
    /// Pod indices in scope, sorted by `ns/name`.
    pub pods: Vec<usize>,
    pub probes: Vec<Probe>,
    /// Local class index of each pod position.
    pod_local: Vec<usize>,
    class_sizes: Vec<usize>,
    /// `allowed[probe][from_class * n + to_class]`, for two *different* pods of those classes.
    allowed: Vec<Vec<bool>>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ProbeCount {
    pub protocol: String,
    pub port: u16,
    pub allowed: u64,
    pub denied: u64,
}

impl Matrix {
    /// Computes the matrix for `pods` (hostNetwork pods are dropped: they are not endpoints).
    pub fn compute(engine: &Engine<'_>, pods: &[usize], probes: &[Probe]) -> Matrix {
        let mut pods: Vec<usize> = pods
            .iter()
            .copied()
            .filter(|&p| engine.class_of(p).is_some())
            .collect();
        pods.sort_by(|a, b| {
            let (pa, pb) = (&engine.snap.pods[*a], &engine.snap.pods[*b]);
            (&pa.namespace, &pa.name).cmp(&(&pb.namespace, &pb.name))
        });
        pods.dedup();
        let mut local: HashMap<ClassId, usize> = HashMap::new();
        let mut reps: Vec<usize> = Vec::new();
        let mut class_sizes = Vec::new();
        let pod_local: Vec<usize> = pods
            .iter()
            .map(|&p| {
                let c = engine.class_of(p).expect("filtered above");
                let l = *local.entry(c).or_insert_with(|| {
                    reps.push(p);
                    class_sizes.push(0);
                    reps.len() - 1
                });
                class_sizes[l] += 1;
                l
            })
            .collect();
        let n = reps.len();
        let allowed = probes
            .iter()
            .map(|&probe| {
                let mut grid = vec![false; n * n];
                // Ingress and egress halves are independent: compute each once per class pair.
                for (i, &from) in reps.iter().enumerate() {
                    for (j, &to) in reps.iter().enumerate() {
                        let t = Traffic {
                            from: Endpoint::Pod(from),
                            to: Endpoint::Pod(to),
                            probe,
                        };
                        grid[i * n + j] = engine.verdict_between_distinct(&t).allowed;
                    }
                }
                grid
            })
            .collect();
        Matrix {
            pods,
            probes: probes.to_vec(),
            pod_local,
            class_sizes,
            allowed,
        }
    }

    pub fn class_count(&self) -> usize {
        self.class_sizes.len()
    }

    /// Is traffic from the pod at position `i` to the pod at position `j` allowed?
    pub fn allowed(&self, i: usize, j: usize, probe: usize) -> bool {
        if i == j {
            return true;
        }
        let n = self.class_sizes.len();
        self.allowed[probe][self.pod_local[i] * n + self.pod_local[j]]
    }

    /// Allowed and denied counts per probe, without expanding to pod pairs.
    pub fn summary(&self) -> Vec<ProbeCount> {
        let n = self.class_sizes.len();
        self.probes
            .iter()
            .enumerate()
            .map(|(k, probe)| {
                let mut allowed = 0u64;
                let mut denied = 0u64;
                for a in 0..n {
                    for b in 0..n {
                        let sa = self.class_sizes[a] as u64;
                        let sb = self.class_sizes[b] as u64;
                        // Pairs of distinct pods; self pairs are always allowed.
                        let pairs = if a == b { sa * (sa - 1) } else { sa * sb };
                        if self.allowed[k][a * n + b] {
                            allowed += pairs;
                        } else {
                            denied += pairs;
                        }
                    }
                    allowed += self.class_sizes[a] as u64;
                }
                ProbeCount {
                    protocol: probe.protocol.as_str().to_string(),
                    port: probe.port,
                    allowed,
                    denied,
                }
            })
            .collect()
    }
}
