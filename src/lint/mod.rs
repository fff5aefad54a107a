//! `lint`: policy sets that are probably not what their author meant. Each rule is a small
//! function from the snapshot (and the engine's answers about it) to findings; the rules never
//! match selectors, peers or ports themselves — they ask the engine.
//!
//! Many policy repositories hold policies without pods; rules that need pods then reason about
//! a *representative* pod of each policy (labels its podSelector matches) and, for DNS, a
//! virtual kube-dns pod, both added to a copy of the snapshot (see `context`).

mod context;
pub mod locate;
mod rules;

use serde::Serialize;

use crate::engine::Engine;
use crate::model::{ClusterPolicy, Policy, Snapshot, Source};

pub use context::DNS_LABEL;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    clap::ValueEnum,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The object a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ObjectRef {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {}", self.kind, self.name)
        } else {
            write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub object: ObjectRef,
    /// A field path like `spec.egress[0].to[1]`, when the finding is about one field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
    /// Why it matters.
    pub why: String,
    /// How to fix it.
    pub fix: String,
    /// The manifest file the object came from (`cluster` for live objects).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The document of a multi-document file (1-based).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<usize>,
    /// The line of the object in its file (filled by the CLI, which reads files).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

/// A rule's identity and the words SARIF and `--help` show for it.
#[derive(Debug, Clone, Copy)]
pub struct RuleInfo {
    pub id: &'static str,
    pub severity: Severity,
    /// One line: what the rule finds.
    pub title: &'static str,
    /// Why it matters, in general.
    pub why: &'static str,
    /// The usual fix.
    pub fix: &'static str,
}

/// What the input holds completely. Manifests hold part of a cluster: a namespace or pod
/// they do not declare is unknown, not absent, so a selector that matches none of theirs may
/// still match in the cluster. The live cluster knows its namespaces (and, read with -A, its
/// pods).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Completeness {
    /// Every namespace of the cluster is in the input.
    pub namespaces: bool,
    /// Every pod of the cluster is in the input.
    pub pods: bool,
}

impl Completeness {
    /// Manifests: nothing is known to be complete.
    pub const MANIFESTS: Completeness = Completeness {
        namespaces: false,
        pods: false,
    };

    /// A live snapshot: namespaces are complete when they could be listed (they are then
    /// declared), pods when every namespace was read.
    pub fn live(snap: &Snapshot, all_namespaces: bool) -> Completeness {
        Completeness {
            namespaces: snap.namespaces.values().any(|n| n.declared),
            pods: all_namespaces,
        }
    }
}

/// Everything a rule may look at.
pub(crate) struct Ctx<'a> {
    /// The input as given.
    pub snap: &'a Snapshot,
    pub complete: Completeness,
    pub engine: &'a Engine<'a>,
    /// The input plus representative pods and a kube-dns pod (see `context`).
    pub aug: &'a context::Augmented,
    pub aug_engine: &'a Engine<'a>,
}

impl Ctx<'_> {
    /// Does the input hold any pod (real or workload template) in this namespace?
    pub fn has_pods_in(&self, namespace: &str) -> bool {
        self.snap
            .endpoint_pods()
            .any(|(_, p)| p.namespace == namespace)
    }
}

impl Finding {
    /// A finding about a policy, with the rule's default severity, why and fix.
    pub(crate) fn policy(
        info: &RuleInfo,
        pol: &Policy,
        field: Option<String>,
        message: String,
    ) -> Finding {
        Finding {
            rule: info.id,
            severity: info.severity,
            object: ObjectRef {
                kind: "NetworkPolicy".into(),
                namespace: pol.namespace.clone(),
                name: pol.name.clone(),
            },
            field,
            message,
            why: info.why.to_string(),
            fix: info.fix.to_string(),
            file: source_file(&pol.source),
            document: source_document(&pol.source),
            line: None,
        }
    }

    /// A finding about a cluster policy (ClusterNetworkPolicy, AdminNetworkPolicy or
    /// BaselineAdminNetworkPolicy: cluster-scoped, so no namespace).
    pub(crate) fn cluster_policy(
        info: &RuleInfo,
        cp: &ClusterPolicy,
        field: Option<String>,
        message: String,
    ) -> Finding {
        Finding {
            rule: info.id,
            severity: info.severity,
            object: ObjectRef {
                kind: cp.kind.kind().into(),
                namespace: String::new(),
                name: cp.name.clone(),
            },
            field,
            message,
            why: info.why.to_string(),
            fix: info.fix.to_string(),
            file: source_file(&cp.source),
            document: source_document(&cp.source),
            line: None,
        }
    }

    pub(crate) fn severity(mut self, s: Severity) -> Finding {
        self.severity = s;
        self
    }

    pub(crate) fn fix(mut self, fix: impl Into<String>) -> Finding {
        self.fix = fix.into();
        self
    }
}

pub(crate) fn source_file(s: &Source) -> Option<String> {
    (!s.file.is_empty()).then(|| s.file.clone())
}

pub(crate) fn source_document(s: &Source) -> Option<usize> {
    (s.document > 0).then_some(s.document)
}

/// Every rule, in the order findings are reported.
pub fn rules() -> &'static [RuleInfo] {
    rules::INFOS
}

pub fn rule_info(id: &str) -> Option<&'static RuleInfo> {
    rules::INFOS.iter().find(|r| r.id == id)
}

/// Runs every rule over manifests (see `lint_with`).
pub fn lint(snap: &Snapshot) -> Vec<Finding> {
    lint_with(snap, Completeness::MANIFESTS)
}

/// Runs every rule over the snapshot, knowing what it holds completely. Findings are sorted by
/// file, document, rule and object.
pub fn lint_with(snap: &Snapshot, complete: Completeness) -> Vec<Finding> {
    let engine = Engine::new(snap);
    let aug = context::Augmented::build(snap);
    let aug_engine = Engine::new(&aug.snap);
    let ctx = Ctx {
        snap,
        complete,
        engine: &engine,
        aug: &aug,
        aug_engine: &aug_engine,
    };
    let mut out = Vec::new();
    for check in rules::CHECKS {
        check(&ctx, &mut out);
    }
    let order = |id: &str| {
        rules::INFOS
            .iter()
            .position(|r| r.id == id)
            .unwrap_or(usize::MAX)
    };
    out.sort_by(|a, b| {
        (&a.file, a.document, order(a.rule), &a.object, &a.field).cmp(&(
            &b.file,
            b.document,
            order(b.rule),
            &b.object,
            &b.field,
        ))
    });
    out.dedup();
    out
}

/// Counts per severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub error: usize,
    pub warning: usize,
    pub info: usize,
}

pub fn counts(findings: &[Finding]) -> Counts {
    let mut c = Counts::default();
    for f in findings {
        match f.severity {
            Severity::Error => c.error += 1,
            Severity::Warning => c.warning += 1,
            Severity::Info => c.info += 1,
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::Severity;
    use clap::ValueEnum;

    #[test]
    fn severity_names_are_the_json_and_flag_names() {
        for s in Severity::value_variants() {
            assert_eq!(
                serde_json::to_string(s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
            assert_eq!(s.to_possible_value().unwrap().get_name(), s.as_str());
        }
    }
}
