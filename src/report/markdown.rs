//! `-o markdown` for `matrix` and `probe`: one table per probe (rows from, columns to), for pull
//! request comments and docs. The probe's version marks disagreements.

use std::fmt::Write;

use super::matrix::MatrixDoc;
use crate::doc::probe::ProbeReport;

/// Inline code that survives pipes inside a table cell.
pub fn code(s: &str) -> String {
    format!("`{}`", s.replace('|', "\\|").replace('`', "'"))
}

/// Text for a table cell: no pipes or newlines.
pub fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn grid(out: &mut String, doc: &MatrixDoc, mark: impl Fn(usize) -> &'static str) {
    for (k, p) in doc.probes.iter().enumerate() {
        let _ = writeln!(out, "#### {} {}\n", p.protocol, p.port);
        let _ = write!(out, "| from ↓ to → |");
        for to in &doc.pods {
            let _ = write!(out, " {} |", code(to));
        }
        out.push_str("\n|---|");
        for _ in &doc.pods {
            out.push_str(":-:|");
        }
        out.push('\n');
        for (i, from) in doc.pods.iter().enumerate() {
            let _ = write!(out, "| {} |", code(from));
            for j in 0..doc.pods.len() {
                let _ = write!(out, " {} |", mark(doc.index(i, j, k)));
            }
            out.push('\n');
        }
        out.push('\n');
    }
}

/// `matrix -o markdown`.
pub fn matrix(doc: &MatrixDoc) -> String {
    let mut out = String::from("### Connectivity matrix\n\n");
    if doc.pods.is_empty() {
        out.push_str("No pods in scope.\n");
        return out;
    }
    let allowed = doc.connections.iter().filter(|c| c.allowed).count();
    let _ = writeln!(
        out,
        "{} pods, probes {}: {} of {} connections allowed. ✅ allowed, ❌ denied.\n",
        doc.pods.len(),
        probes_text(doc),
        allowed,
        doc.connections.len()
    );
    grid(&mut out, doc, |c| {
        if doc.connections[c].allowed {
            "✅"
        } else {
            "❌"
        }
    });
    out
}

fn probes_text(doc: &MatrixDoc) -> String {
    doc.probes
        .iter()
        .map(|p| format!("{}/{}", p.protocol.to_lowercase(), p.port))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `probe -o markdown`.
pub fn probe(r: &ProbeReport) -> String {
    let doc = &r.matrix;
    let mut out = String::from("### Probe: expected vs observed\n\n");
    let _ = writeln!(out, "**{}**\n", cell(&r.verdict));
    if let Some(s) = &doc.summary {
        let _ = writeln!(
            out,
            "{} agree, {} disagree, {} errors. {} pods, probes {}. ✅ allowed as expected, ❌ denied as expected, ⚠️ open but should be denied, ⛔ blocked but should be allowed, ➖ not probed.\n",
            s.agree,
            s.disagree,
            s.errors,
            doc.pods.len(),
            probes_text(doc)
        );
    }
    grid(&mut out, doc, |c| {
        let c = &doc.connections[c];
        match (c.observed, c.allowed) {
            (None, _) => "➖",
            (Some(true), true) => "✅",
            (Some(false), false) => "❌",
            (Some(true), false) => "⚠️",
            (Some(false), true) => "⛔",
        }
    });
    let wrong: Vec<_> = doc
        .connections
        .iter()
        .filter(|c| c.agree == Some(false))
        .collect();
    if !wrong.is_empty() {
        out.push_str("#### Disagreements\n\n| from | to | probe | expected | observed |\n|---|---|---|---|---|\n");
        for c in wrong {
            let _ = writeln!(
                out,
                "| {} | {} | {}/{} | {} | {} |",
                code(&c.from),
                code(&c.to),
                c.protocol.to_lowercase(),
                c.port,
                if c.allowed { "allowed" } else { "denied" },
                cell(c.verdict.as_deref().unwrap_or("?"))
            );
        }
        out.push('\n');
    }
    if !r.dns.is_empty() {
        out.push_str("#### DNS\n\n| from | name | server | expected | observed | agree |\n|---|---|---|---|---|---|\n");
        for d in &r.dns {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                code(&d.from),
                code(&d.name),
                code(&d.server),
                if d.allowed { "resolves" } else { "blocked" },
                cell(&d.verdict),
                match d.agree {
                    Some(true) => "✅",
                    Some(false) => "⚠️",
                    None => "➖",
                }
            );
        }
        out.push('\n');
    }
    out
}
