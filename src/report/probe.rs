//! The probe result for people: the grid with disagreements highlighted, DNS rows, the verdict.

use std::fmt::Write;

use super::matrix::{grid, Cell};
use super::table as columns;
use super::{bold, dim, green, red, yellow};
use crate::doc::matrix::MatrixDoc;
use crate::doc::probe::{DnsRow, ProbeReport};
use crate::probe::apply::PairTiming;

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
    dns_rows(&mut out, &r.dns);
    disagreements(&mut out, doc);
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

/// `probe --apply`: the flipped pairs (before → after, time to enforce, established flow),
/// notes, and the one-line verdict.
pub fn apply_table(r: &crate::probe::apply::ApplyReport) -> String {
    let t = &r.timing;
    let mut out = String::new();
    let mut change: Vec<String> = r
        .change
        .applied
        .iter()
        .map(|k| format!("apply {k}"))
        .collect();
    change.extend(r.change.deleted.iter().map(|k| format!("delete {k}")));
    let _ = writeln!(out, "{} {}", bold("change:"), change.join(", "));
    if !t.pairs.is_empty() {
        out.push_str(&pairs_table(&t.pairs));
    }
    if !r.unflipped.is_empty() {
        let _ = writeln!(
            out,
            "{} {} connections the change selects did not flip (something else already decides them; -o json lists them)",
            dim("note:"),
            r.unflipped.len()
        );
    }
    for n in &r.notes {
        let _ = writeln!(out, "{} {n}", dim("note:"));
    }
    if let Some(l) = t.summary.enforcer_sync_latency_ms {
        let _ = writeln!(
            out,
            "{} the enforcer had the change in the kernel {l:.0} ms after it reached the agent",
            dim("enforcer:")
        );
    }
    let _ = writeln!(
        out,
        "{}",
        if r.restored {
            dim("previous policies restored")
        } else {
            dim("previous policies NOT restored (--keep, or see the notes)")
        }
    );
    let verdict = &r.probe.verdict;
    let failed = t.summary.not_converged > 0
        || r.probe
            .matrix
            .summary
            .as_ref()
            .is_some_and(|s| s.disagree > 0 || s.errors > 0);
    let _ = writeln!(
        out,
        "{}",
        if failed {
            yellow(verdict)
        } else {
            green(verdict)
        }
    );
    out
}

/// The DNS rows: expected and observed resolution from each source.
fn dns_rows(out: &mut String, dns: &[DnsRow]) {
    if !dns.is_empty() {
        let _ = writeln!(out, "\n{}", bold("DNS"));
        for d in dns {
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
}

/// The first 20 disagreements, each with its reason and the command that explains it.
fn disagreements(out: &mut String, doc: &MatrixDoc) {
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
            if let Some(r) = &c.reason {
                let _ = writeln!(out, "    {}", dim(r));
            }
            if let Some(x) = &c.explain {
                let _ = writeln!(out, "    {} {x}", dim("more:"));
            }
        }
        if wrong.len() > 20 {
            let _ = writeln!(out, "  ... and {} more (-o json has all)", wrong.len() - 20);
        }
    }
}

/// One row per flipped pair: the probe, the flip, the time to enforce, the established flow.
fn pairs_table(pairs: &[PairTiming]) -> String {
    use crate::probe::apply::Established;
    let rows = pairs.iter().map(|p| {
        let flip = |b: bool| if b { "allowed" } else { "denied" };
        [
            format!("{} -> {}", p.from, p.to),
            format!("{}/{}", p.protocol.to_ascii_lowercase(), p.port),
            format!("{} -> {}", flip(p.allowed_before), flip(p.allowed_after)),
            match p.time_to_enforce_s {
                Some(s) => format!("{s:.2} s"),
                None => "never".into(),
            },
            match p.established {
                Some(Established::Survived) => "survived".into(),
                Some(Established::Cut) => "cut".into(),
                Some(Established::NotOpen) => "not open".into(),
                None => "-".into(),
            },
        ]
    });
    columns::table(
        &["PAIR", "PROBE", "EXPECTED", "ENFORCED IN", "ESTABLISHED"],
        rows,
    )
}

#[cfg(test)]
mod tests {
    use super::table;
    use crate::doc::matrix::{Connection, MatrixDoc, ProbeJson, ProbeSummary};
    use crate::doc::probe::ProbeReport;

    #[test]
    fn flipped_pairs_are_one_row_each_with_their_time_and_flow() {
        use crate::probe::apply::{Established, PairTiming};
        let pair = |to: &str, s: Option<f64>, established| PairTiming {
            from: "shop/web".into(),
            to: to.into(),
            protocol: "TCP".into(),
            port: 80,
            allowed_before: true,
            allowed_after: false,
            observed_before: Some(true),
            converged: s.is_some(),
            time_to_enforce_s: s,
            probes: 10,
            established,
            established_protocol: None,
        };
        let text = super::pairs_table(&[
            pair("shop/db", Some(0.25), Some(Established::Survived)),
            pair("shop/api", None, None),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].contains("ENFORCED IN"), "{text}");
        assert!(
            lines[1].contains("shop/web -> shop/db")
                && lines[1].contains("tcp/80")
                && lines[1].contains("allowed -> denied")
                && lines[1].contains("0.25 s")
                && lines[1].contains("survived"),
            "{text}"
        );
        assert!(
            lines[2].contains("never") && lines[2].trim_end().ends_with('-'),
            "{text}"
        );
    }

    #[test]
    fn disagreements_show_the_reason_and_the_explain_command() {
        let pods = vec!["frontend/web".to_string(), "payments/db".to_string()];
        let connections = pods
            .iter()
            .flat_map(|from| pods.iter().map(move |to| (from, to)))
            .map(|(from, to)| {
                let wrong = from == "frontend/web" && to == "payments/db";
                Connection {
                    from: from.clone(),
                    to: to.clone(),
                    protocol: "TCP".into(),
                    port: 5432,
                    allowed: !wrong,
                    ambiguous: false,
                    observed: Some(true),
                    verdict: Some("connected".into()),
                    agree: Some(!wrong),
                    reason: wrong.then(|| "expected denied: payments/db is isolated".into()),
                    explain: wrong.then(|| {
                        "kubectl netpol explain traffic frontend/web payments/db --port tcp/5432"
                            .into()
                    }),
                }
            })
            .collect();
        let report = ProbeReport {
            matrix: MatrixDoc {
                pods,
                probes: vec![ProbeJson {
                    protocol: "TCP".into(),
                    port: 5432,
                }],
                connections,
                summary: Some(ProbeSummary {
                    agree: 3,
                    disagree: 1,
                    errors: 0,
                }),
            },
            dns: vec![],
            verdict: "policies are NOT enforced".into(),
        };
        let text = table(&report);
        assert!(
            text.contains(
                "frontend/web -> payments/db tcp/5432: expected denied, observed connected"
            ) && text.contains("expected denied: payments/db is isolated")
                && text.contains("more: kubectl netpol explain traffic frontend/web payments/db"),
            "{text}"
        );
        assert!(text.contains("3 agree, 1 disagree, 0 errors"), "{text}");
    }
}
