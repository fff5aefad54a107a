//! `matrix -o json`, the contract's connectivity document; `probe -o json` is the same with
//! observed verdicts and a summary filled in.

use serde::{Deserialize, Serialize};

use crate::engine::matrix::Matrix;
use crate::model::{Probe, Snapshot};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProbeJson {
    pub protocol: String,
    pub port: u16,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Connection {
    pub from: String,
    pub to: String,
    pub protocol: String,
    pub port: u16,
    pub allowed: bool,
    /// Cluster policies of equal priority decide this connection differently depending on the
    /// order the network plugin gives them: `allowed` is the tool's order, the other is possible.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub ambiguous: bool,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub observed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub verdict: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub agree: Option<bool>,
    /// On a disagreement: what the engine decided the expectation on.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
    /// On a disagreement: the command that shows the rest.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub explain: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProbeSummary {
    pub agree: usize,
    pub disagree: usize,
    pub errors: usize,
}

/// `matrix -o json`, and (with observed fields and a summary) `probe -o json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MatrixDoc {
    pub pods: Vec<String>,
    pub probes: Vec<ProbeJson>,
    pub connections: Vec<Connection>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub summary: Option<ProbeSummary>,
}

impl MatrixDoc {
    pub fn from_matrix(m: &Matrix, snap: &Snapshot) -> MatrixDoc {
        let names: Vec<String> = m.pods.iter().map(|&p| snap.pods[p].key()).collect();
        let mut connections = Vec::with_capacity(names.len() * names.len() * m.probes.len());
        for (i, from) in names.iter().enumerate() {
            for (j, to) in names.iter().enumerate() {
                for (k, probe) in m.probes.iter().enumerate() {
                    connections.push(Connection {
                        from: from.clone(),
                        to: to.clone(),
                        protocol: probe.protocol.as_str().to_string(),
                        port: probe.port,
                        allowed: m.allowed(i, j, k),
                        ambiguous: m.ambiguous(i, j, k),
                        observed: None,
                        verdict: None,
                        agree: None,
                        reason: None,
                        explain: None,
                    });
                }
            }
        }
        MatrixDoc {
            pods: names,
            probes: probes_json(&m.probes),
            connections,
            summary: None,
        }
    }

    /// Connection index for (from position, to position, probe position).
    pub fn index(&self, i: usize, j: usize, k: usize) -> usize {
        (i * self.pods.len() + j) * self.probes.len() + k
    }
}

pub fn probes_json(probes: &[Probe]) -> Vec<ProbeJson> {
    probes
        .iter()
        .map(|p| ProbeJson {
            protocol: p.protocol.as_str().to_string(),
            port: p.port,
        })
        .collect()
}
