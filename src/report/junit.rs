//! `probe -o junit`: one test case per connection (and per DNS check), a failure for every
//! disagreement between the policies and the packets, so CI systems show them as failed tests.
//! One test suite per probe (`tcp/80`), plus `dns`.

use std::fmt::Write;

use super::matrix::Connection;
use crate::doc::probe::{DnsRow, ProbeReport};

/// Escapes text for XML attributes and content.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot hold at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

enum Outcome {
    Pass,
    Failure { message: String, detail: String },
    Error(String),
    Skipped(String),
}

#[derive(Default)]
struct Suite {
    name: String,
    cases: Vec<(String, String, Outcome)>,
}

fn word(allowed: bool) -> &'static str {
    if allowed {
        "allowed"
    } else {
        "denied"
    }
}

fn connection_outcome(c: &Connection) -> Outcome {
    let verdict = c.verdict.clone().unwrap_or_else(|| "error".into());
    match (c.observed, c.agree) {
        (Some(obs), Some(false)) => Outcome::Failure {
            message: format!("expected {}, observed {verdict}", word(c.allowed)),
            detail: if obs {
                format!("{} -> {} {}/{}: the policies deny this connection but the packet got through ({verdict}); is NetworkPolicy enforced?", c.from, c.to, c.protocol.to_lowercase(), c.port)
            } else {
                format!("{} -> {} {}/{}: the policies allow this connection but the packet was dropped ({verdict})", c.from, c.to, c.protocol.to_lowercase(), c.port)
            },
        },
        (Some(_), _) => Outcome::Pass,
        (None, _) if verdict == "unsupported" => {
            Outcome::Skipped(format!("{} is not supported here", c.protocol))
        }
        (None, _) => Outcome::Error(format!("could not probe: {verdict}")),
    }
}

fn dns_outcome(d: &DnsRow) -> Outcome {
    match d.agree {
        Some(true) => Outcome::Pass,
        Some(false) => Outcome::Failure {
            message: format!(
                "expected {}, observed {}",
                if d.allowed { "resolves" } else { "blocked" },
                d.verdict
            ),
            detail: format!(
                "{} resolving {} via {}: expected {}, observed {}",
                d.from,
                d.name,
                d.server,
                if d.allowed { "an answer" } else { "no answer" },
                d.verdict
            ),
        },
        None if d.verdict == "unsupported" => Outcome::Skipped("DNS check not supported".into()),
        None => Outcome::Error(format!("could not check: {}", d.verdict)),
    }
}

pub fn junit(r: &ProbeReport) -> String {
    let doc = &r.matrix;
    let mut suites: Vec<Suite> = doc
        .probes
        .iter()
        .map(|p| Suite {
            name: format!("{}/{}", p.protocol.to_lowercase(), p.port),
            cases: Vec::new(),
        })
        .collect();
    for c in &doc.connections {
        let Some(k) = doc
            .probes
            .iter()
            .position(|p| p.protocol == c.protocol && p.port == c.port)
        else {
            continue;
        };
        let name = format!(
            "{} -> {} {}/{} expected {}",
            c.from,
            c.to,
            c.protocol.to_lowercase(),
            c.port,
            word(c.allowed)
        );
        suites[k]
            .cases
            .push((c.from.clone(), name, connection_outcome(c)));
    }
    if !r.dns.is_empty() {
        suites.push(Suite {
            name: "dns".into(),
            cases: r
                .dns
                .iter()
                .map(|d| {
                    (
                        d.from.clone(),
                        format!("{} resolves {} via {}", d.from, d.name, d.server),
                        dns_outcome(d),
                    )
                })
                .collect(),
        });
    }
    let count = |s: &Suite, f: fn(&Outcome) -> bool| s.cases.iter().filter(|c| f(&c.2)).count();
    let is_fail: fn(&Outcome) -> bool = |o| matches!(o, Outcome::Failure { .. });
    let is_err: fn(&Outcome) -> bool = |o| matches!(o, Outcome::Error(_));
    let is_skip: fn(&Outcome) -> bool = |o| matches!(o, Outcome::Skipped(_));
    let total = |f: fn(&Outcome) -> bool| suites.iter().map(|s| count(s, f)).sum::<usize>();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"kubectl-netpol probe\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
        suites.iter().map(|s| s.cases.len()).sum::<usize>(),
        total(is_fail),
        total(is_err),
        total(is_skip)
    );
    for s in &suites {
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
            xml_escape(&s.name),
            s.cases.len(),
            count(s, is_fail),
            count(s, is_err),
            count(s, is_skip)
        );
        for (class, name, outcome) in &s.cases {
            let open = format!(
                "    <testcase classname=\"{}\" name=\"{}\"",
                xml_escape(class),
                xml_escape(name)
            );
            match outcome {
                Outcome::Pass => {
                    let _ = writeln!(out, "{open}/>");
                }
                Outcome::Failure { message, detail } => {
                    let _ = writeln!(
                        out,
                        "{open}>\n      <failure message=\"{}\" type=\"disagreement\">{}</failure>\n    </testcase>",
                        xml_escape(message),
                        xml_escape(detail)
                    );
                }
                Outcome::Error(m) => {
                    let _ = writeln!(
                        out,
                        "{open}>\n      <error message=\"{}\" type=\"probe-error\"/>\n    </testcase>",
                        xml_escape(m)
                    );
                }
                Outcome::Skipped(m) => {
                    let _ = writeln!(
                        out,
                        "{open}>\n      <skipped message=\"{}\"/>\n    </testcase>",
                        xml_escape(m)
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    let _ = writeln!(
        out,
        "  <!-- {} -->\n</testsuites>",
        r.verdict.replace("--", "- -")
    );
    out
}
