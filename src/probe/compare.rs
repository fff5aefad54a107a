//! Expected (engine) vs observed (packets): the probe document and its one-line verdict.

use crate::doc::matrix::{MatrixDoc, ProbeSummary};
pub use crate::doc::probe::{DnsRow, ProbeReport};
use crate::model::Snapshot;
use netpol_prober::plan::Verdict;

/// Did the network let the packet through? Refused means a reset came back: allowed by the
/// network, nothing listening. Unsupported and error say nothing about policy.
pub fn observed_of(v: Verdict) -> Option<bool> {
    match v {
        Verdict::Connected | Verdict::Refused => Some(true),
        Verdict::Timeout => Some(false),
        Verdict::Unsupported | Verdict::Error => None,
    }
}

/// Fills agreement and the summary; `results[i]` is the observed verdict of connection `i`
/// (None when it was not probed).
pub fn compare(
    mut doc: MatrixDoc,
    results: &[Option<Verdict>],
    mut dns: Vec<DnsRow>,
) -> ProbeReport {
    let mut summary = ProbeSummary {
        agree: 0,
        disagree: 0,
        errors: 0,
    };
    let mut wrongly_allowed = 0usize;
    let mut wrongly_denied = 0usize;
    let mut unsupported = 0usize;
    // Counts one observed row; returns whether it agrees.
    let mut tally = |summary: &mut ProbeSummary, observed: bool, allowed: bool| {
        if observed == allowed {
            summary.agree += 1;
        } else {
            summary.disagree += 1;
            if observed {
                wrongly_allowed += 1;
            } else {
                wrongly_denied += 1;
            }
        }
        observed == allowed
    };
    for (c, r) in doc.connections.iter_mut().zip(results) {
        let Some(v) = r else {
            c.verdict = Some("error".into());
            summary.errors += 1;
            continue;
        };
        c.verdict = Some(v.as_str().into());
        match observed_of(*v) {
            Some(obs) => {
                c.observed = Some(obs);
                c.agree = Some(tally(&mut summary, obs, c.allowed));
            }
            None if *v == Verdict::Unsupported => unsupported += 1,
            None => summary.errors += 1,
        }
    }
    for d in &mut dns {
        if let Some(obs) = d.observed {
            d.agree = Some(tally(&mut summary, obs, d.allowed));
        } else if d.verdict != "unsupported" {
            summary.errors += 1;
        }
    }
    let mut verdict = if summary.disagree == 0 {
        format!("policies are enforced as written: all {} probed connections agree with the expected matrix", summary.agree)
    } else if wrongly_allowed > 0 && wrongly_denied == 0 {
        format!(
            "policies are NOT enforced: {wrongly_allowed} connection{} that should be denied {} allowed — is your CNI enforcing NetworkPolicy? see `kubectl netpol install-enforcer`",
            if wrongly_allowed == 1 { "" } else { "s" },
            if wrongly_allowed == 1 { "was" } else { "were" }
        )
    } else if wrongly_denied > 0 && wrongly_allowed == 0 {
        format!(
            "{wrongly_denied} connection{} that the policies allow {} blocked — something besides NetworkPolicy drops traffic (another firewall, a missing listener route, or a slow start)",
            if wrongly_denied == 1 { "" } else { "s" },
            if wrongly_denied == 1 { "was" } else { "were" }
        )
    } else {
        format!("the network disagrees with the policies both ways: {wrongly_allowed} should-be-denied connections were allowed and {wrongly_denied} should-be-allowed ones were blocked")
    };
    if unsupported > 0 {
        verdict.push_str(&format!(" ({unsupported} probes unsupported here, e.g. SCTP without kernel support: not counted)"));
    }
    if summary.errors > 0 {
        verdict.push_str(&format!(" ({} probes failed with errors)", summary.errors));
    }
    doc.summary = Some(summary);
    ProbeReport {
        matrix: doc,
        dns,
        verdict,
    }
}

/// Names, on every disagreeing connection, what the engine decided its expectation on (the
/// half that denies it, or both halves that allow it) and the `explain traffic` command that
/// shows the rest. `snap` is the snapshot the expectation came from; `args` is appended to the
/// command (e.g. ` -f DIR` for manifests).
pub fn explain_disagreements(report: &mut ProbeReport, snap: &Snapshot, args: &str) {
    use crate::engine::{Endpoint, Engine, Traffic};
    use crate::model::{Probe, Protocol};
    if !report
        .matrix
        .connections
        .iter()
        .any(|c| c.agree == Some(false))
    {
        return;
    }
    let engine = Engine::new(snap);
    let endpoint = |name: &str| -> Option<Endpoint> {
        snap.find_pod(name, "")
            .map(Endpoint::Pod)
            .or_else(|| name.parse().ok().map(Endpoint::Ip))
    };
    for c in report
        .matrix
        .connections
        .iter_mut()
        .filter(|c| c.agree == Some(false))
    {
        let (Some(from), Some(to), Some(protocol)) = (
            endpoint(&c.from),
            endpoint(&c.to),
            Protocol::parse(&c.protocol),
        ) else {
            continue;
        };
        let probe = Probe::new(protocol, c.port);
        let e = engine.explain_traffic(&Traffic { from, to, probe });
        c.reason = Some(if e.allowed {
            format!("expected allowed: {}; {}", e.egress.text, e.ingress.text)
        } else {
            let deny: Vec<&str> = [&e.egress, &e.ingress]
                .into_iter()
                .filter(|h| !h.allowed)
                .map(|h| h.text.as_str())
                .collect();
            format!("expected denied: {}", deny.join("; "))
        });
        c.explain = Some(format!(
            "kubectl netpol explain traffic {} {} --port {}/{}{args}",
            c.from,
            c.to,
            c.protocol.to_ascii_lowercase(),
            c.port
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::matrix::{Connection, ProbeJson};

    fn doc(allowed: &[bool]) -> MatrixDoc {
        MatrixDoc {
            pods: vec!["x/a".into()],
            probes: vec![ProbeJson {
                protocol: "TCP".into(),
                port: 80,
            }],
            connections: allowed
                .iter()
                .map(|&a| Connection {
                    from: "x/a".into(),
                    to: "x/b".into(),
                    protocol: "TCP".into(),
                    port: 80,
                    allowed: a,
                    ambiguous: false,
                    observed: None,
                    verdict: None,
                    agree: None,
                    reason: None,
                    explain: None,
                })
                .collect(),
            summary: None,
        }
    }

    #[test]
    fn not_enforced_is_named() {
        let r = compare(
            doc(&[false, false, true]),
            &[
                Some(Verdict::Connected),
                Some(Verdict::Refused),
                Some(Verdict::Connected),
            ],
            vec![],
        );
        let s = r.matrix.summary.clone().unwrap();
        assert_eq!((s.agree, s.disagree, s.errors), (1, 2, 0));
        assert!(
            r.verdict
                .contains("NOT enforced: 2 connections that should be denied were allowed"),
            "{}",
            r.verdict
        );
        assert_eq!(r.matrix.connections[0].agree, Some(false));
    }

    #[test]
    fn agreement_unsupported_and_errors() {
        let r = compare(
            doc(&[false, true, true, true]),
            &[
                Some(Verdict::Timeout),
                Some(Verdict::Connected),
                Some(Verdict::Unsupported),
                None,
            ],
            vec![],
        );
        let s = r.matrix.summary.clone().unwrap();
        assert_eq!((s.agree, s.disagree, s.errors), (2, 0, 1));
        assert!(
            r.verdict.contains("enforced as written") && r.verdict.contains("1 probes unsupported"),
            "{}",
            r.verdict
        );
        assert_eq!(r.matrix.connections[2].observed, None);
        assert_eq!(
            r.matrix.connections[2].verdict.as_deref(),
            Some("unsupported")
        );
    }

    #[test]
    fn blocked_when_allowed_is_named() {
        let r = compare(doc(&[true]), &[Some(Verdict::Timeout)], vec![]);
        assert!(
            r.verdict
                .contains("1 connection that the policies allow was blocked"),
            "{}",
            r.verdict
        );
    }

    #[test]
    fn disagreements_name_what_decided_and_the_explain_command() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: frontend, labels: {app: web}}\nspec: {containers: [{name: c, image: i}]}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: db, namespace: payments, labels: {app: db}}\nspec: {containers: [{name: c, image: i}]}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: default-deny-all, namespace: payments}\nspec: {podSelector: {}, policyTypes: [Ingress]}\n";
        let (snap, _) = crate::model::load_str("t.yaml", text, &Default::default()).unwrap();
        let mut d = doc(&[false, true]);
        d.connections[0].from = "frontend/web".into();
        d.connections[0].to = "payments/db".into();
        d.connections[0].port = 5432;
        let mut r = compare(
            d,
            &[Some(Verdict::Connected), Some(Verdict::Connected)],
            vec![],
        );
        explain_disagreements(&mut r, &snap, " -f t.yaml");
        let c = &r.matrix.connections[0];
        assert_eq!(c.agree, Some(false));
        let reason = c.reason.as_deref().unwrap();
        assert!(
            reason.starts_with("expected denied: payments/db is isolated for ingress by payments/default-deny-all and no rule allows"),
            "{reason}"
        );
        assert_eq!(
            c.explain.as_deref(),
            Some(
                "kubectl netpol explain traffic frontend/web payments/db --port tcp/5432 -f t.yaml"
            )
        );
        // Agreeing rows say nothing more.
        assert_eq!(r.matrix.connections[1].reason, None);
    }
}
