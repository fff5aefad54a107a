//! The connectivity matrix for people and spreadsheets: the terminal grid, CSV and the summary
//! (the JSON document is `doc::matrix`). The probe reuses the grid with observed verdicts added.

use std::fmt::Write;

use serde::Serialize;

use super::{bold, dim, green, red, yellow};
pub use crate::doc::matrix::{probes_json, Connection, MatrixDoc, ProbeJson, ProbeSummary};
use crate::engine::matrix::{Matrix, MatrixCounts, ProbeCount};
use crate::model::Snapshot;

/// `-o csv`: a row per connection, with the observed columns when the document is a probe's.
/// The csv crate quotes a field that needs it.
pub fn csv(doc: &MatrixDoc) -> String {
    let probe_mode = doc
        .connections
        .iter()
        .any(|c| c.observed.is_some() || c.verdict.is_some());
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["from", "to", "protocol", "port", "allowed"];
    if probe_mode {
        header.extend(["observed", "verdict", "agree"]);
    }
    let text = |b: Option<bool>| b.map(|b| b.to_string()).unwrap_or_default();
    // Writing into a Vec cannot fail.
    let _ = out.write_record(&header);
    for c in &doc.connections {
        let mut row = vec![
            c.from.clone(),
            c.to.clone(),
            c.protocol.clone(),
            c.port.to_string(),
            c.allowed.to_string(),
        ];
        if probe_mode {
            row.extend([
                text(c.observed),
                c.verdict.clone().unwrap_or_default(),
                text(c.agree),
            ]);
        }
        let _ = out.write_record(&row);
    }
    String::from_utf8(out.into_inner().unwrap_or_default()).unwrap_or_default()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn connection(from: &str, observed: Option<bool>, verdict: Option<&str>) -> Connection {
        Connection {
            from: from.into(),
            to: "x/b".into(),
            protocol: "TCP".into(),
            port: 80,
            allowed: true,
            ambiguous: false,
            observed,
            verdict: verdict.map(str::to_string),
            agree: observed,
            reason: None,
            explain: None,
        }
    }

    fn doc(connections: Vec<Connection>) -> MatrixDoc {
        MatrixDoc {
            pods: vec!["x/a".into(), "x/b".into()],
            probes: vec![ProbeJson {
                protocol: "TCP".into(),
                port: 80,
            }],
            connections,
            summary: None,
        }
    }

    #[test]
    fn csv_has_the_observed_columns_only_for_a_probe() {
        let matrix = csv(&doc(vec![connection("x/a", None, None)]));
        assert_eq!(
            matrix,
            "from,to,protocol,port,allowed\nx/a,x/b,TCP,80,true\n"
        );
        let probe = csv(&doc(vec![
            connection("x/a", Some(true), Some("connected")),
            connection("x/a", None, Some("unsupported")),
        ]));
        assert_eq!(
            probe,
            "from,to,protocol,port,allowed,observed,verdict,agree\n\
             x/a,x/b,TCP,80,true,true,connected,true\n\
             x/a,x/b,TCP,80,true,,unsupported,\n"
        );
    }

    #[test]
    fn csv_quotes_a_field_that_holds_a_comma_or_a_quote() {
        let text = csv(&doc(vec![connection("x/a,\"b\"", None, None)]));
        assert_eq!(
            text.lines().nth(1),
            Some("\"x/a,\"\"b\"\"\",x/b,TCP,80,true")
        );
    }
}
