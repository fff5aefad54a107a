//! The probe result for people: the grid with disagreements highlighted, DNS rows, the verdict.

use std::fmt::Write;

use super::matrix::{grid, Cell};
use super::{bold, dim, green, red, yellow};
use crate::probe::ProbeReport;

pub fn table(r: &ProbeReport) -> String {
    let doc = &r.matrix;
    let mut out = grid(&doc.pods, &doc.probes, |i, j, k| {
        let c = &doc.connections[doc.index(i, j, k)];
        match (c.observed, c.allowed) {
            (None, _) => Cell::Unknown,
            (Some(true), true) => Cell::Allowed,
            (Some(false), false) => Cell::Denied,
            (Some(true), false) => Cell::WronglyAllowed,
            (Some(false), true) => Cell::WronglyDenied,
        }
    });
    let _ = writeln!(
        out,
        "{} {} allowed  {} denied  {} allowed but should be denied  {} denied but should be allowed  {} not probed (unsupported/error)",
        dim("legend:"),
        green("."),
        red("X"),
        yellow("!"),
        yellow("?"),
        dim("~")
    );
    if !r.dns.is_empty() {
        let _ = writeln!(out, "\n{}", bold("DNS"));
        for d in &r.dns {
            let mark = match d.agree {
                Some(true) => green("agree"),
                Some(false) => yellow("DISAGREE"),
                None => dim("n/a"),
            };
            let _ = writeln!(
                out,
                "  {:<40} resolve {} via {}: expected {}, observed {} ({mark})",
                d.from,
                d.name,
                d.server,
                if d.allowed { "ok" } else { "blocked" },
                d.verdict
            );
        }
    }
    let wrong: Vec<_> = doc
        .connections
        .iter()
        .filter(|c| c.agree == Some(false))
        .collect();
    if !wrong.is_empty() {
        let _ = writeln!(out, "\n{}", bold("Disagreements"));
        for c in wrong.iter().take(20) {
            let _ = writeln!(
                out,
                "  {} -> {} {}/{}: expected {}, observed {}",
                c.from,
                c.to,
                c.protocol.to_lowercase(),
                c.port,
                if c.allowed { "allowed" } else { "denied" },
                c.verdict.as_deref().unwrap_or("?")
            );
        }
        if wrong.len() > 20 {
            let _ = writeln!(out, "  ... and {} more (-o json has all)", wrong.len() - 20);
        }
    }
    let s = doc.summary.clone().unwrap_or(super::matrix::ProbeSummary {
        agree: 0,
        disagree: 0,
        errors: 0,
    });
    let line = format!(
        "{} agree, {} disagree, {} errors: {}",
        s.agree, s.disagree, s.errors, r.verdict
    );
    let _ = writeln!(
        out,
        "\n{}",
        if s.disagree == 0 && s.errors == 0 {
            green(&line)
        } else {
            red(&line)
        }
    );
    out
}
