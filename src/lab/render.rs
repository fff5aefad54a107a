//! Text for `lab list|start|check|hint`, coloured on terminals (NO_COLOR and --no-color are
//! respected by the helpers in `report`).

use std::fmt::Write;

use serde::Serialize;

use super::check::{half_text, CheckResult, LabReport, DNS_NAMESPACE, DNS_POD};
use super::spec::{Lab, Level};
use crate::engine::explain::HalfJson;
use crate::report::table::table_aligned;
use crate::report::{bold, cyan, dim, green, red, yellow};

/// `lab list -o json`: one entry per lab.
#[derive(Debug, Clone, Serialize)]
pub struct LabSummary {
    pub number: u32,
    pub name: String,
    pub level: Level,
    pub title: String,
    pub source: String,
    pub namespaces: Vec<String>,
    #[serde(rename = "localOnly")]
    pub local_only: bool,
    pub hints: usize,
    pub checks: usize,
}

impl LabSummary {
    pub fn of(lab: &Lab) -> LabSummary {
        LabSummary {
            number: lab.number,
            name: lab.name.clone(),
            level: lab.level,
            title: lab.title.clone(),
            source: lab.source.clone(),
            namespaces: lab.namespaces.clone(),
            local_only: lab.local_only,
            hints: lab.hints.len(),
            checks: lab.checks.len(),
        }
    }
}

/// The catalogue as a table.
pub fn list(labs: &[Lab]) -> String {
    let rows = labs.iter().map(|l| {
        let level = match l.level {
            Level::Beginner => green(l.level.as_str()),
            Level::Intermediate => yellow(l.level.as_str()),
            Level::Advanced => red(l.level.as_str()),
        };
        let title = if l.local_only {
            format!("{}{}", l.title, dim(" (local only)"))
        } else {
            l.title.clone()
        };
        vec![l.number.to_string(), l.name.clone(), level, title]
    });
    let mut out = table_aligned(&["#", "NAME", "LEVEL", "TITLE"], &[0], rows);
    let _ = writeln!(
        out,
        "\n{}",
        dim("start one: kubectl netpol lab start NAME   (no cluster: add --local)")
    );
    out
}

/// The task as `lab start` prints it.
pub fn task(lab: &Lab, local: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {}",
        bold(&format!("Lab {:02} {}:", lab.number, lab.name)),
        lab.title
    );
    let _ = writeln!(
        out,
        "{}",
        dim(&format!(
            "level {} · from {}",
            lab.level.as_str(),
            lab.source
        ))
    );
    let _ = writeln!(out);
    for line in lab.task.trim_end().lines() {
        if line.trim().is_empty() {
            let _ = writeln!(out);
        } else {
            let _ = writeln!(out, "  {line}");
        }
    }
    let _ = writeln!(out);
    let hints = match lab.hints.len() {
        0 => "no hints".to_string(),
        1 => "1 hint".to_string(),
        n => format!("{n} hints"),
    };
    let _ = writeln!(
        out,
        "{} required connections are checked; {hints} available: kubectl netpol lab hint {}",
        lab.checks.len(),
        lab.name
    );
    if local {
        let _ = writeln!(
            out,
            "write your policies to a folder, then: kubectl netpol lab check {} --local -f DIR   (add --probe for real packets, as root)",
            lab.name
        );
        let _ = writeln!(
            out,
            "{}",
            dim(&format!(
                "the lab's namespaces and pods are modelled from its setup; see them with: kubectl netpol lab setup {}",
                lab.name
            ))
        );
    } else {
        let _ = writeln!(
            out,
            "apply your policies with kubectl, then: kubectl netpol lab check {}",
            lab.name
        );
        let _ = writeln!(
            out,
            "{}",
            dim(&format!(
                "when done: kubectl netpol lab reset {}   (deletes namespace {})",
                lab.name,
                lab.namespaces.join(", ")
            ))
        );
    }
    out
}

fn check_title(c: &CheckResult) -> String {
    match (&c.to, &c.port) {
        (Some(to), Some(port)) => format!("{} → {to} {port}", c.from),
        _ => format!("{} → DNS ({DNS_NAMESPACE}/{DNS_POD} udp/53)", c.from),
    }
}

fn word(allowed: bool) -> &'static str {
    if allowed {
        "allowed"
    } else {
        "denied"
    }
}

fn half_lines(out: &mut String, name: &str, h: &HalfJson) {
    let state = if h.allowed {
        green("ALLOWED")
    } else {
        red("DENIED ")
    };
    let text = half_text(h);
    let text = text.split("; closest:").next().unwrap_or(&text);
    let _ = writeln!(out, "    {name} {state} {text}");
    if let Some(nm) = &h.near_miss {
        if let Some(rule) = nm.miss.rule {
            let _ = writeln!(
                out,
                "                    {} {}/{} {} rule {rule}: {}",
                yellow("nearest miss:"),
                nm.policy.namespace,
                nm.policy.name,
                if name.trim() == "egress" {
                    "egress"
                } else {
                    "ingress"
                },
                nm.miss.rule_text
            );
            for m in &nm.miss.matched {
                let _ = writeln!(out, "                      {} {m}", green("✓"));
            }
            for f in &nm.miss.failed {
                let _ = writeln!(out, "                      {} {f}", red("✗"));
            }
        }
    }
}

/// One check: a line when it passes, the whole explanation when it fails.
pub fn check_block(c: &CheckResult) -> String {
    let mut out = String::new();
    let title = check_title(c);
    if c.passed {
        let _ = writeln!(
            out,
            "{} {title}: {}, as required",
            green("✓"),
            word(c.actual)
        );
        if let Some(e) = &c.explanation {
            let short: Vec<String> = [("egress", &e.egress), ("ingress", &e.ingress)]
                .iter()
                .filter(|(_, h)| e.allowed || !h.allowed)
                .filter(|(_, h)| h.reason != "not-isolated" || !e.allowed)
                .map(|(_, h)| {
                    h.text
                        .split("; closest:")
                        .next()
                        .unwrap_or(&h.text)
                        .to_string()
                })
                .collect();
            if !short.is_empty() {
                let _ = writeln!(out, "    {}", dim(&short.join("; ")));
            }
        }
    } else {
        let _ = writeln!(
            out,
            "{} {title}: must be {}, but is {}",
            red("✗"),
            word(c.required),
            bold(&word(c.actual).to_uppercase())
        );
        let _ = writeln!(out, "    {}", cyan(&c.why));
        match &c.explanation {
            Some(e) => {
                half_lines(&mut out, "egress ", &e.egress);
                half_lines(&mut out, "ingress", &e.ingress);
                for n in &e.notes {
                    let _ = writeln!(out, "    {} {n}", dim("note:"));
                }
            }
            None => {
                let _ = writeln!(out, "    {}", c.reason);
            }
        }
        for a in &c.advice {
            let _ = writeln!(out, "    {} {a}", yellow("→"));
        }
    }
    if let Some(obs) = c.observed {
        let ok = obs == c.required;
        let _ = writeln!(
            out,
            "    {} real packets: {} ({})",
            if ok { green("✓") } else { red("✗") },
            if obs { "got through" } else { "blocked" },
            c.packets.as_deref().unwrap_or("")
        );
    } else if let Some(p) = &c.packets {
        let _ = writeln!(
            out,
            "    {} real packets: could not be observed ({p})",
            red("✗")
        );
    }
    out
}

/// `lab check` as text: every check, then the verdict and the next step.
pub fn report(lab: &Lab, r: &LabReport, source_line: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {}",
        bold(&format!("Checking lab {}", lab.name)),
        dim(&format!("({source_line})"))
    );
    let _ = writeln!(out);
    for c in &r.checks {
        out.push_str(&check_block(c));
    }
    let _ = writeln!(out);
    let failed = r.failed();
    let total = r.checks.len();
    if let Some(p) = &r.probe {
        let _ = writeln!(
            out,
            "{} {}",
            if p.passed { green("✓") } else { red("✗") },
            p.verdict
        );
        if p.disagree > 0 || p.errors > 0 {
            let _ = writeln!(
                out,
                "{}",
                yellow(&format!(
                    "note: on {} checks the packets disagree with the policies' verdict and {} could not be observed: that is the local dataplane, not your policies",
                    p.disagree, p.errors
                ))
            );
        }
    }
    if failed == 0 && r.passed {
        let _ = writeln!(
            out,
            "{} all {total} checks pass: lab {} solved",
            green("✓"),
            lab.name
        );
        let _ = writeln!(
            out,
            "{}",
            dim(&format!(
                "compare with the reference answer: kubectl netpol lab solution {}",
                lab.name
            ))
        );
    } else {
        if failed > 0 {
            let _ = writeln!(out, "{} {failed} of {total} checks fail", red("✗"));
        }
        if let Some(h) = lab.hints.first() {
            let _ = writeln!(out, "{} {h}", yellow("hint 1:"));
            if lab.hints.len() > 1 {
                let _ = writeln!(
                    out,
                    "{}",
                    dim(&format!(
                        "more: kubectl netpol lab hint {} 2 · the answer: kubectl netpol lab solution {}",
                        lab.name, lab.name
                    ))
                );
            }
        }
    }
    out
}

/// `lab hint NAME N`.
pub fn hint(lab: &Lab, n: usize) -> String {
    let mut out = String::new();
    let total = lab.hints.len();
    if let Some(h) = n.checked_sub(1).and_then(|i| lab.hints.get(i)) {
        let _ = writeln!(out, "{} {h}", yellow(&format!("hint {n}/{total}:")));
        if n < total {
            let _ = writeln!(
                out,
                "{}",
                dim(&format!(
                    "next: kubectl netpol lab hint {} {}",
                    lab.name,
                    n + 1
                ))
            );
        } else {
            let _ = writeln!(
                out,
                "{}",
                dim(&format!(
                    "that was the last hint; the answer: kubectl netpol lab solution {}",
                    lab.name
                ))
            );
        }
    }
    out
}
