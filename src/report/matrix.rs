//! The connectivity matrix: the JSON document of the contract, the terminal grid, CSV and the
//! summary. The probe reuses the document and the grid with observed verdicts added.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use super::{bold, dim, green, red, yellow};
use crate::engine::matrix::{Matrix, MatrixCounts, ProbeCount};
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

pub fn csv(doc: &MatrixDoc) -> String {
    let probe_mode = doc
        .connections
        .iter()
        .any(|c| c.observed.is_some() || c.verdict.is_some());
    let mut out = String::from(if probe_mode {
        "from,to,protocol,port,allowed,observed,verdict,agree\n"
    } else {
        "from,to,protocol,port,allowed\n"
    });
    for c in &doc.connections {
        if probe_mode {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{}",
                c.from,
                c.to,
                c.protocol,
                c.port,
                c.allowed,
                c.observed.map(|b| b.to_string()).unwrap_or_default(),
                c.verdict.clone().unwrap_or_default(),
                c.agree.map(|b| b.to_string()).unwrap_or_default()
            );
        } else {
            let _ = writeln!(
                out,
                "{},{},{},{},{}",
                c.from, c.to, c.protocol, c.port, c.allowed
            );
        }
    }
    out
}

#[derive(Serialize)]
struct SummaryDoc<'a> {
    pods: usize,
    classes: usize,
    probes: &'a [ProbeCount],
}

pub fn summary_text(m: &MatrixCounts, json: bool) -> String {
    let counts = &m.probes;
    if json {
        return super::structured(
            &SummaryDoc {
                pods: m.pods,
                classes: m.classes,
                probes: counts,
            },
            super::Format::Json,
        );
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} pods in {} equivalence classes, {} ordered pairs per probe",
        m.pods,
        m.classes,
        (m.pods as u64).pow(2)
    );
    for c in counts {
        let _ = writeln!(
            out,
            "  {:>4}/{:<5}  {} allowed  {} denied",
            c.protocol.to_lowercase(),
            c.port,
            green(&c.allowed.to_string()),
            red(&c.denied.to_string())
        );
    }
    out
}

/// One cell of the grid.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    Allowed,
    Denied,
    /// Probe disagreed with the expectation: observed allowed where denied expected, or the reverse.
    WronglyAllowed,
    WronglyDenied,
    /// Could not be probed (unsupported protocol, error).
    Unknown,
    /// Equal-priority cluster policies disagree: allowed in the tool's order, or denied.
    AmbiguousAllowed,
    AmbiguousDenied,
}

/// A grid per probe: rows are sources, columns destinations, grouped by namespace. Columns are
/// numbered so 50+ pods stay readable; the legend names them.
pub fn grid(
    pods: &[String],
    probes: &[ProbeJson],
    cell: impl Fn(usize, usize, usize) -> Cell,
) -> String {
    let mut out = String::new();
    let n = pods.len();
    let width = n.to_string().len();
    let ns_of = |i: usize| pods[i].split('/').next().unwrap_or("");
    let label_width = pods.iter().map(|p| p.len()).max().unwrap_or(0).min(40);
    for (k, probe) in probes.iter().enumerate() {
        let _ = writeln!(
            out,
            "{}",
            bold(&format!(
                "{} {}  (row = from, column = to)",
                probe.protocol, probe.port
            ))
        );
        // Column numbers, written top to bottom.
        for digit in 0..width {
            let mut line = format!("{:>w$}  ", "", w = label_width + width + 1);
            for j in 0..n {
                if j > 0 && ns_of(j) != ns_of(j - 1) {
                    line.push(' ');
                }
                let s = format!("{:>w$}", j + 1, w = width);
                line.push(s.as_bytes()[digit] as char);
            }
            let _ = writeln!(out, "{}", dim(line.trim_end()));
        }
        for (i, pod) in pods.iter().enumerate() {
            if i > 0 && ns_of(i) != ns_of(i - 1) {
                let _ = writeln!(out);
            }
            let mut name = pod.clone();
            if name.len() > label_width {
                name = format!("…{}", &name[name.len() - label_width + 1..]);
            }
            let mut line = format!("{:>w$} {:<lw$}  ", i + 1, name, w = width, lw = label_width);
            line = dim(&line);
            for j in 0..n {
                if j > 0 && ns_of(j) != ns_of(j - 1) {
                    line.push(' ');
                }
                line.push_str(&match cell(i, j, k) {
                    Cell::Allowed => green("."),
                    Cell::Denied => red("X"),
                    Cell::WronglyAllowed => yellow("!"),
                    Cell::WronglyDenied => yellow("?"),
                    Cell::Unknown => dim("~"),
                    Cell::AmbiguousAllowed => yellow("a"),
                    Cell::AmbiguousDenied => yellow("d"),
                });
            }
            let _ = writeln!(out, "{line}");
        }
        let _ = writeln!(out);
    }
    out
}

pub fn matrix_table(m: &Matrix, snap: &Snapshot) -> String {
    let pods: Vec<String> = m.pods.iter().map(|&p| snap.pods[p].key()).collect();
    let mut any_ambiguous = false;
    let mut out = grid(&pods, &probes_json(&m.probes), |i, j, k| {
        match (m.allowed(i, j, k), m.ambiguous(i, j, k)) {
            (true, false) => Cell::Allowed,
            (false, false) => Cell::Denied,
            (true, true) => Cell::AmbiguousAllowed,
            (false, true) => Cell::AmbiguousDenied,
        }
    });
    for k in 0..m.probes.len() {
        any_ambiguous |= (0..pods.len()).any(|i| (0..pods.len()).any(|j| m.ambiguous(i, j, k)));
    }
    let _ = write!(
        out,
        "{} {} allowed   {} denied",
        dim("legend:"),
        green("."),
        red("X")
    );
    if any_ambiguous {
        let _ = write!(
            out,
            "   {} {} allowed / denied in this tool's order, but cluster policies of equal priority disagree (explain traffic names them)",
            yellow("a"),
            yellow("d")
        );
    }
    let _ = writeln!(out);
    out
}
