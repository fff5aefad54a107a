//! `matrix -o mermaid` and `-o dot`: the allowed flows between pods as a graph, pods grouped in
//! one box per namespace, like a trust-model diagram.
//!
//! What is drawn:
//! - an allowed edge A -> B, labelled with the probes it is allowed on, when policies govern the
//!   pair (A is isolated for egress or B for ingress) and at least one probe is allowed;
//! - a dashed "blocked" edge A -> B when A reaches some X and X reaches B by allowed edges but
//!   every probe from A to B is denied: the shortcut the policies close (web -> db when web may
//!   reach api and api may reach db);
//! - nothing for pairs that no policy governs: they are open, and the pods whose ingress is open
//!   get a dashed border instead, so a cluster without policies is not drawn as n² arrows.
//!
//! Pods of one namespace with the same labels and the same equivalence class (replicas) are one
//! node.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use crate::engine::matrix::Matrix;
use crate::engine::Engine;
use crate::model::Direction;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub namespace: String,
    pub label: String,
    pub pods: Vec<String>,
    /// No policy isolates these pods for ingress: anyone may connect.
    pub open_ingress: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EdgeKind {
    /// Allowed on these probes (`tcp/8080`).
    Allowed(Vec<String>),
    Blocked,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    pub kind: EdgeKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowGraph {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

/// Pods that make one node: namespace, labels, equivalence class.
type NodeKey<'a> = (&'a str, Vec<(&'a str, &'a str)>, usize);

/// "web-5d8f-*" for replicas named web-5d8f-abc, web-5d8f-def; else the first name and a count.
fn group_label(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_string(),
        [first, rest @ ..] => {
            let mut prefix: &str = first;
            for n in rest {
                let common = prefix
                    .char_indices()
                    .zip(n.chars())
                    .find(|((_, a), b)| a != b)
                    .map(|((i, _), _)| i)
                    .unwrap_or(prefix.len().min(n.len()));
                prefix = &prefix[..common];
            }
            let cut = prefix.rfind(['-', '.']).map(|i| i + 1).unwrap_or(0);
            if cut > 0 {
                format!("{}* ({} pods)", &prefix[..cut], names.len())
            } else {
                format!("{} +{} more", first, names.len() - 1)
            }
        }
    }
}

fn probes_label(probes: &[String]) -> String {
    if probes.len() <= 4 {
        probes.join(", ")
    } else {
        format!("{} +{} more", probes[..3].join(", "), probes.len() - 3)
    }
}

/// The graph's nodes: matrix positions grouped by namespace, labels and class.
fn node_groups(engine: &Engine<'_>, m: &Matrix) -> Vec<Vec<usize>> {
    let snap = engine.snap;
    // Nodes: (namespace, labels, class) -> positions in the matrix.
    let mut keyed: BTreeMap<NodeKey<'_>, Vec<usize>> = BTreeMap::new();
    for (i, &p) in m.pods.iter().enumerate() {
        let pod = &snap.pods[p];
        let labels = pod
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        keyed
            .entry((
                pod.namespace.as_str(),
                labels,
                engine.class_of(p).unwrap_or(usize::MAX),
            ))
            .or_default()
            .push(i);
    }
    let mut groups: Vec<Vec<usize>> = keyed.into_values().collect();
    // Namespace order, then the first pod's name: as the matrix lists them.
    groups.sort_by_key(|v| v[0]);
    groups
}

/// Group pairs with an allowed edge, and the probes it allows.
type AllowedEdges = BTreeMap<(usize, usize), Vec<String>>;

/// Allowed edges (with the probes they allow), and the pairs the policies govern but deny on
/// every probe.
fn governed_pairs(
    engine: &Engine<'_>,
    m: &Matrix,
    groups: &[Vec<usize>],
    probe_names: &[String],
) -> (AllowedEdges, BTreeSet<(usize, usize)>) {
    // Allowed edges, and the pairs the policies govern but deny on every probe.
    let mut allowed: BTreeMap<(usize, usize), Vec<String>> = BTreeMap::new();
    let mut denied: BTreeSet<(usize, usize)> = BTreeSet::new();
    for (a, ga) in groups.iter().enumerate() {
        for (b, gb) in groups.iter().enumerate() {
            let Some((i, j)) = ga
                .iter()
                .flat_map(|&i| gb.iter().map(move |&j| (i, j)))
                .find(|(i, j)| i != j)
            else {
                continue;
            };
            let governed = !engine.isolating(m.pods[i], Direction::Egress).is_empty()
                || !engine.isolating(m.pods[j], Direction::Ingress).is_empty();
            if !governed {
                continue;
            }
            let on: Vec<String> = (0..m.probes.len())
                .filter(|&k| m.allowed(i, j, k))
                .map(|k| probe_names[k].clone())
                .collect();
            if on.is_empty() {
                denied.insert((a, b));
            } else {
                allowed.insert((a, b), on);
            }
        }
    }
    (allowed, denied)
}

impl FlowGraph {
    pub fn build(engine: &Engine<'_>, m: &Matrix) -> FlowGraph {
        let snap = engine.snap;
        let groups = node_groups(engine, m);
        let nodes: Vec<Node> = groups
            .iter()
            .map(|g| {
                let pods: Vec<&crate::model::Pod> =
                    g.iter().map(|&i| &snap.pods[m.pods[i]]).collect();
                let names: Vec<&str> = pods.iter().map(|p| p.name.as_str()).collect();
                Node {
                    namespace: pods[0].namespace.clone(),
                    label: group_label(&names),
                    pods: pods.iter().map(|p| p.key()).collect(),
                    open_ingress: engine
                        .isolating(m.pods[g[0]], Direction::Ingress)
                        .is_empty(),
                }
            })
            .collect();
        let probe_names: Vec<String> = m.probes.iter().map(|p| p.to_string()).collect();

        let (allowed, denied) = governed_pairs(engine, m, &groups, &probe_names);
        let mut edges: Vec<Edge> = allowed
            .iter()
            .map(|(&(a, b), on)| Edge {
                from: a,
                to: b,
                kind: EdgeKind::Allowed(on.clone()),
            })
            .collect();
        for &(a, b) in &denied {
            if a == b {
                continue;
            }
            let shortcut = (0..nodes.len()).any(|x| {
                x != a && x != b && allowed.contains_key(&(a, x)) && allowed.contains_key(&(x, b))
            });
            if shortcut {
                edges.push(Edge {
                    from: a,
                    to: b,
                    kind: EdgeKind::Blocked,
                });
            }
        }
        FlowGraph { nodes, edges }
    }

    /// Nodes per namespace, in order.
    fn by_namespace(&self) -> Vec<(&str, Vec<usize>)> {
        let mut out: Vec<(&str, Vec<usize>)> = Vec::new();
        for (i, n) in self.nodes.iter().enumerate() {
            match out.iter_mut().find(|(ns, _)| *ns == n.namespace) {
                Some((_, v)) => v.push(i),
                None => out.push((n.namespace.as_str(), vec![i])),
            }
        }
        out
    }

    /// Mermaid flowchart text (accepted by mermaid's parser; see tests/node).
    pub fn mermaid(&self) -> String {
        let mut out = String::new();
        out.push_str("%% kubectl netpol matrix -o mermaid: allowed flows between pods, grouped by namespace.\n");
        out.push_str("%% Solid arrows: allowed, labelled with the probes they are allowed on. Dashed \"blocked\":\n");
        out.push_str("%% a shortcut the policies close. Pairs no policy governs are open and not drawn; pods\n");
        out.push_str("%% with a dashed border accept ingress from anywhere.\n");
        out.push_str("flowchart LR\n");
        for (k, (ns, ids)) in self.by_namespace().iter().enumerate() {
            let _ = writeln!(
                out,
                "    subgraph ns{k}[\"{} namespace\"]",
                escape_mermaid(ns)
            );
            for &i in ids {
                let _ = writeln!(
                    out,
                    "        n{i}[\"{}\"]",
                    escape_mermaid(&self.nodes[i].label)
                );
            }
            out.push_str("    end\n");
        }
        let mut blocked = Vec::new();
        for (idx, e) in self.edges.iter().enumerate() {
            match &e.kind {
                EdgeKind::Allowed(p) => {
                    let _ = writeln!(
                        out,
                        "    n{} -->|\"{}\"| n{}",
                        e.from,
                        escape_mermaid(&probes_label(p)),
                        e.to
                    );
                }
                EdgeKind::Blocked => {
                    blocked.push(idx.to_string());
                    let _ = writeln!(out, "    n{} -. \"blocked\" .-> n{}", e.from, e.to);
                }
            }
        }
        let open: Vec<String> = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.open_ingress)
            .map(|(i, _)| format!("n{i}"))
            .collect();
        if !open.is_empty() {
            out.push_str("    classDef open stroke-dasharray: 5 5\n");
            let _ = writeln!(out, "    class {} open", open.join(","));
        }
        if !blocked.is_empty() {
            let _ = writeln!(
                out,
                "    linkStyle {} stroke:#d33,color:#d33",
                blocked.join(",")
            );
        }
        out
    }

    /// Graphviz DOT text.
    pub fn dot(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "// kubectl netpol matrix -o dot: allowed flows between pods, grouped by namespace.\n",
        );
        out.push_str("// Solid: allowed (labelled with probes); dashed red: a shortcut the policies close;\n");
        out.push_str("// pairs no policy governs are open and not drawn; dashed boxes accept ingress from anywhere.\n");
        out.push_str("digraph netpol {\n    rankdir=LR;\n    node [shape=box, style=rounded, fontname=\"Helvetica\"];\n    edge [fontname=\"Helvetica\", fontsize=10];\n");
        for (k, (ns, ids)) in self.by_namespace().iter().enumerate() {
            let _ = writeln!(out, "    subgraph cluster_{k} {{\n        label=\"{} namespace\";\n        style=rounded;", escape_dot(ns));
            for &i in ids {
                let n = &self.nodes[i];
                let style = if n.open_ingress {
                    ", style=\"rounded,dashed\""
                } else {
                    ""
                };
                let _ = writeln!(
                    out,
                    "        n{i} [label=\"{}\", tooltip=\"{}\"{style}];",
                    escape_dot(&n.label),
                    escape_dot(&n.pods.join(", "))
                );
            }
            out.push_str("    }\n");
        }
        for e in &self.edges {
            match &e.kind {
                EdgeKind::Allowed(p) => {
                    let _ = writeln!(
                        out,
                        "    n{} -> n{} [label=\"{}\", color=\"#2a7\"];",
                        e.from,
                        e.to,
                        escape_dot(&probes_label(p))
                    );
                }
                EdgeKind::Blocked => {
                    let _ = writeln!(
                        out,
                        "    n{} -> n{} [label=\"blocked\", style=dashed, color=\"#d33\", fontcolor=\"#d33\"];",
                        e.from, e.to
                    );
                }
            }
        }
        out.push_str("}\n");
        out
    }
}

/// Mermaid quoted strings cannot hold `"`; entity codes can.
fn escape_mermaid(s: &str) -> String {
    s.replace('"', "#quot;")
}

fn escape_dot(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replica_names_collapse_to_their_prefix() {
        assert_eq!(group_label(&["api"]), "api");
        assert_eq!(
            group_label(&["web-5d8f-abc", "web-5d8f-def"]),
            "web-5d8f-* (2 pods)"
        );
        assert_eq!(group_label(&["alpha", "beta", "gamma"]), "alpha +2 more");
    }
}
