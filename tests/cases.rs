//! Every scenario in tests/cases/ (the upstream e2e NetworkPolicy suite and the seeds'
//! examples): the engine's matrix must equal the expected truth table.

mod common;

use netpol::engine::matrix::Matrix;
use netpol::engine::{Endpoint, Engine, Traffic};

#[test]
fn engine_agrees_with_every_scenario() {
    let cases = common::load_cases();
    assert!(
        cases.len() >= 10,
        "expected the scenario fixtures in tests/cases, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let snap = case.snapshot();
        let engine = Engine::new(&snap);
        let all: Vec<usize> = (0..snap.pods.len()).collect();
        let probes: Vec<_> = case.expectations.iter().map(|e| e.probe).collect();
        let m = Matrix::compute(&engine, &all, &probes);
        for (k, exp) in case.expectations.iter().enumerate() {
            for (i, &a) in m.pods.iter().enumerate() {
                for (j, &b) in m.pods.iter().enumerate() {
                    let (from, to) = (snap.pods[a].key(), snap.pods[b].key());
                    let want = exp.allowed(&from, &to);
                    if m.allowed(i, j, k) != want {
                        let why = engine.explain_traffic(&Traffic {
                            from: Endpoint::Pod(a),
                            to: Endpoint::Pod(b),
                            probe: exp.probe,
                        });
                        failures.push(format!(
                            "{}: {from} -> {to} {}: expected {}, engine says {} (egress: {}; ingress: {})",
                            case.name, exp.probe, want, !want, why.egress.text, why.ingress.text
                        ));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
