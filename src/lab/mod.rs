//! CKA-style labs (`kubectl netpol lab`): the catalogue of manifests/labs embedded in the
//! binary, the checker that judges a learner's policies against a lab's required connectivity
//! with the engine, and the edges that touch the world (server-side apply on a cluster, the
//! local network-namespace sandbox).
//!
//! - `spec`: one lab (lab.yaml, setup, solution, wrong answers and their headers)
//! - `catalogue`: every lab, embedded by build.rs or read from a folder
//! - `check`: the snapshot a lab is judged on, pod bindings, verdicts per check
//! - `advice`: facts that name the likely mistake of a failing check (`Advisor` for more)
//! - `render`: text output
//! - `cluster`: start/reset on a real cluster; `sandbox`: real packets with `--local --probe`

pub mod advice;
pub mod catalogue;
pub mod check;
pub mod cluster;
pub mod render;
pub mod sandbox;
pub mod spec;

use std::collections::BTreeSet;

pub use advice::{Advisor, CheckContext, EngineFacts};
pub use catalogue::Catalogue;
pub use check::{
    answer_of, check_answer, check_offline, policies_of, Answer, CheckResult, LabReport,
};
pub use spec::{CheckSpec, Lab, Level, Target, WrongAnswer};

use crate::model::{load_str, InputError, LoadOptions, Snapshot, NAMESPACE_NAME_LABEL};

#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// The lab data itself is wrong (a bug of the catalogue, or of a --catalogue folder).
    #[error("lab catalogue: {0}")]
    Catalogue(String),
    #[error("{0}")]
    Usage(String),
    /// The learner's manifests cannot be read.
    #[error("{0}")]
    Input(#[from] InputError),
    #[error("{0}")]
    Cluster(String),
    #[error("{0}")]
    Environment(String),
}

/// Removes ANSI colour sequences (for matching rendered text).
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            for n in chars.by_ref() {
                if n.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The rendered explanation of the failing checks of a report, without colours.
pub fn failing_text(report: &LabReport) -> String {
    strip_ansi(
        &report
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(render::check_block)
            .collect::<String>(),
    )
}

/// `message-mentions` of a wrong answer that the failing checks' text does not contain.
pub fn missing_mentions(report: &LabReport, mentions: &[String]) -> Vec<String> {
    let text = failing_text(report).to_lowercase();
    mentions
        .iter()
        .filter(|m| !text.contains(&m.to_lowercase()))
        .cloned()
        .collect()
}

/// The invariants of manifests/labs/README.md ("Adding a lab"): every problem, in words.
pub fn verify(lab: &Lab) -> Vec<String> {
    let mut problems = match load_str("setup.yaml", &lab.setup, &LoadOptions::default()) {
        Ok((setup, _)) => setup_problems(lab, &setup),
        Err(e) => return vec![format!("{}: setup.yaml does not load: {e}", lab.folder)],
    };
    let mut ids = BTreeSet::new();
    for c in &lab.checks {
        if !ids.insert(c.id()) {
            problems.push(format!("check {} appears twice", c.id()));
        }
    }
    if lab.wrong.is_empty() {
        problems.push("needs at least one wrong/<mistake>.yaml".into());
    }
    match check_offline(lab, &[], &[]) {
        Ok(r) if r.passed => {
            problems.push("setup alone passes every check: there is nothing to do".into())
        }
        Ok(_) => {}
        Err(e) => problems.push(format!("setup cannot be checked: {e}")),
    }
    problems.extend(solution_problems(lab));
    problems.extend(wrong_answer_problems(lab));
    problems
        .into_iter()
        .map(|s| format!("{}: {s}", lab.folder))
        .collect()
}

/// The setup's namespaces are the lab's, labelled as the lab and their name; its pods and
/// policies stay inside them.
fn setup_problems(lab: &Lab, setup: &Snapshot) -> Vec<String> {
    let mut problems = Vec::new();
    let mut p = |s: String| problems.push(s);
    let declared: BTreeSet<&str> = setup
        .namespaces
        .values()
        .filter(|n| n.declared)
        .map(|n| n.name.as_str())
        .collect();
    let listed: BTreeSet<&str> = lab.namespaces.iter().map(String::as_str).collect();
    if declared != listed {
        p(format!(
            "`namespaces` {listed:?} must equal the Namespace objects of setup.yaml {declared:?}"
        ));
    }
    for ns in setup.namespaces.values().filter(|n| n.declared) {
        if ns.labels.get(cluster::LAB_LABEL) != Some(&lab.name) {
            p(format!(
                "namespace {} needs the label {}: {}",
                ns.name,
                cluster::LAB_LABEL,
                lab.name
            ));
        }
        if ns.labels.get(NAMESPACE_NAME_LABEL) != Some(&ns.name) {
            p(format!(
                "namespace {} needs the label {NAMESPACE_NAME_LABEL}: {}",
                ns.name, ns.name
            ));
        }
    }
    for pod in &setup.pods {
        if !listed.contains(pod.namespace.as_str()) {
            p(format!("pod {} is outside the lab's namespaces", pod.key()));
        }
    }
    for pol in &setup.policies {
        if !listed.contains(pol.namespace.as_str()) {
            p(format!(
                "policy {} is outside the lab's namespaces",
                pol.key()
            ));
        }
    }
    problems
}

/// An answer file, judged as `lab check` judges it.
fn judge(lab: &Lab, name: &str, manifests: &str) -> Result<LabReport, String> {
    let answer = answer_of(name, manifests).map_err(|e| e.to_string())?;
    check_answer(lab, &answer, &[]).map_err(|e| e.to_string())
}

/// The solution holds only policies and passes every check.
fn solution_problems(lab: &Lab) -> Vec<String> {
    let mut problems = Vec::new();
    match load_str("solution.yaml", &lab.solution, &LoadOptions::default()) {
        Ok((snap, skipped)) => {
            if !snap.pods.is_empty()
                || snap.namespaces.values().any(|n| n.declared)
                || !skipped.is_empty()
            {
                problems.push("solution.yaml must hold only policies (NetworkPolicies, and cluster policies in the labs about the cluster tiers)".into());
            }
        }
        Err(e) => problems.push(format!("solution.yaml does not load: {e}")),
    }
    match judge(lab, "solution.yaml", &lab.solution) {
        Ok(r) => {
            for c in r.checks.iter().filter(|c| !c.passed) {
                problems.push(format!("the solution fails {}: {}", c.id, c.reason));
            }
        }
        Err(e) => problems.push(format!("solution.yaml cannot be checked: {e}")),
    }
    problems
}

/// Each wrong answer fails exactly the checks its header names, with an explanation that
/// mentions what the header says it must.
fn wrong_answer_problems(lab: &Lab) -> Vec<String> {
    let mut problems = Vec::new();
    for w in &lab.wrong {
        let r = match judge(lab, &w.file, &w.manifests) {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("{} cannot be checked: {e}", w.file));
                continue;
            }
        };
        let failing: BTreeSet<String> = r
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.id.clone())
            .collect();
        let expected: BTreeSet<String> = w.expect_failing.iter().cloned().collect();
        if failing != expected {
            problems.push(format!(
                "{} fails {:?}, but its header expects {:?}",
                w.file, failing, expected
            ));
        }
        let missing = missing_mentions(&r, &w.message_mentions);
        if !missing.is_empty() {
            problems.push(format!(
                "{}: the explanation does not mention {:?}",
                w.file, missing
            ));
        }
    }
    problems
}
