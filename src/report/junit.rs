//! `probe -o junit`: one test case per connection (and per DNS check), a failure for every
//! disagreement between the policies and the packets, so CI systems show them as failed tests.
//! One test suite per probe (`tcp/80`), plus `dns`.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::matrix::Connection;
use crate::doc::probe::{DnsRow, ProbeReport};

enum Outcome {
    Pass,
    Failure { message: String, detail: String },
    Error(String),
    Skipped(String),
}

/// One test suite's test cases: (classname, name, outcome).
struct Suite {
    name: String,
    cases: Vec<(String, String, Outcome)>,
}

impl Outcome {
    fn status(&self) -> TestCaseStatus {
        let non_success = |kind, message: &str, ty: &str| {
            let mut status = TestCaseStatus::non_success(kind);
            status.set_message(message).set_type(ty);
            status
        };
        match self {
            Outcome::Pass => TestCaseStatus::success(),
            Outcome::Failure { message, detail } => {
                let mut status = non_success(NonSuccessKind::Failure, message, "disagreement");
                status.set_description(detail);
                status
            }
            Outcome::Error(message) => non_success(NonSuccessKind::Error, message, "probe-error"),
            Outcome::Skipped(message) => {
                let mut status = TestCaseStatus::skipped();
                status.set_message(message);
                status
            }
        }
    }
}

impl Suite {
    fn into_test_suite(self) -> TestSuite {
        let skipped = self
            .cases
            .iter()
            .filter(|(_, _, o)| matches!(o, Outcome::Skipped(_)))
            .count();
        let mut suite = TestSuite::new(self.name);
        // quick-junit counts skipped cases as `disabled`; `skipped` is what most CI readers
        // (Jenkins, GitLab, surefire) look for, so it is written too.
        suite
            .extra
            .insert("skipped".into(), skipped.to_string().into());
        for (classname, name, outcome) in self.cases {
            let mut case = TestCase::new(name, outcome.status());
            case.set_classname(classname);
            suite.add_test_case(case);
        }
        suite
    }
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
    let mut report = Report::new("kubectl-netpol probe");
    report.add_test_suites(suites.into_iter().map(Suite::into_test_suite));
    // quick-junit writes into memory here, which cannot fail; were it ever to, the report says
    // so rather than being cut short.
    let mut out = report.to_string().unwrap_or_else(|e| {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"kubectl-netpol probe\" tests=\"0\" failures=\"0\" errors=\"1\"/>\n<!-- could not write the JUnit report: {} -->\n",
            comment_text(&e.to_string())
        )
    });
    // The verdict as a comment after the root element (XML allows it there; quick-junit has no
    // place for it inside).
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!("<!-- {} -->\n", comment_text(&r.verdict)));
    out
}

/// XML comments cannot hold `--`.
fn comment_text(text: &str) -> String {
    text.replace("--", "- -")
}
