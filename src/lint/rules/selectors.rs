//! Selectors: ones that select nothing, namespaceSelector and podSelector written as two peers
//! (OR) where one peer (AND) was likely meant, and labels that controllers generate.

use std::collections::BTreeSet;

use super::super::{Ctx, Finding, RuleInfo, Severity};
use super::{list_names, peer_path};
use crate::engine::words;
use crate::model::{Direction, LabelSelector, NamespaceScope, Peer, Policy};

pub(crate) const SELECTS_NOTHING: RuleInfo = RuleInfo {
    id: "selects-nothing",
    severity: Severity::Warning,
    title: "a policy or a peer that selects nothing",
    why: "A policy that selects no pod protects nothing, and a peer that matches no pod allows nothing: usually a typo in a label or a namespace label the namespaces do not carry.",
    fix: "Compare the selector with the labels the pods and namespaces really carry (`kubectl get pods --show-labels`, `kubectl get ns --show-labels`).",
};

pub(crate) const SEPARATE_PEERS: RuleInfo = RuleInfo {
    id: "separate-peers-or",
    severity: Severity::Warning,
    title: "namespaceSelector and podSelector as separate peers (OR) where one peer (AND) was likely meant",
    why: "Two list items are ORed: a namespaceSelector item alone admits every pod of those namespaces, and a podSelector item alone means pods of the policy's own namespace. The indentation of one dash changes the meaning entirely.",
    fix: "To require both, write them in one peer (no dash before podSelector):\n- namespaceSelector: {...}\n  podSelector: {...}",
};

pub(crate) const GENERATED_LABEL: RuleInfo = RuleInfo {
    id: "generated-label",
    severity: Severity::Warning,
    title: "a selector on a label that controllers generate (pod-template-hash and the like)",
    why: "Generated labels change on every rollout or differ per pod, so the policy silently stops selecting the pods it was written for.",
    fix: "Select on stable labels you set yourself (app, component, tier, ...).",
};

/// Label keys Kubernetes controllers set on the pods they create.
const GENERATED: &[&str] = &[
    "pod-template-hash",
    "controller-revision-hash",
    "pod-template-generation",
    "statefulset.kubernetes.io/pod-name",
    "apps.kubernetes.io/pod-index",
    "batch.kubernetes.io/controller-uid",
    "controller-uid",
    "batch.kubernetes.io/job-name",
    "job-name",
    "batch.kubernetes.io/job-completion-index",
];

fn direction_word(dir: Direction) -> &'static str {
    match dir {
        Direction::Ingress => "from",
        Direction::Egress => "to",
    }
}

/// What to say about a namespaceSelector (of the peer at `path`) that matches no namespace of
/// the input: a warning when the input holds every namespace (live); from manifests only a
/// note, since a namespace outside them is unknown, not absent (the usual DNS rule names
/// kube-system, which an app's manifests do not declare). Nothing when the input declares no
/// namespace at all. Returns (severity, message, fix).
pub(super) fn no_namespace_matches(
    ctx: &Ctx<'_>,
    sel: &LabelSelector,
    path: &str,
) -> Option<(Severity, String, String)> {
    let text = words::selector(sel);
    if ctx.complete.namespaces {
        return Some((
            Severity::Warning,
            format!("namespaceSelector {text} matches no namespace of the cluster, so {path} matches nothing"),
            "Check the namespace labels (`kubectl get ns --show-labels`); every namespace carries kubernetes.io/metadata.name=<name>.".into(),
        ));
    }
    if !ctx.snap.namespaces.values().any(|n| n.declared) {
        return None;
    }
    let named = sel
        .match_labels
        .get(crate::model::NAMESPACE_NAME_LABEL)
        .filter(|name| !ctx.snap.namespaces.contains_key(*name));
    let message = match named {
        Some(name) => format!(
            "namespaceSelector {text} names namespace {name}, which is not in the input: offline it is unknown, not absent, so whether {path} matches anything depends on the cluster"
        ),
        None => format!(
            "namespaceSelector {text} matches no namespace of the input; a namespace outside the input may carry these labels, so whether {path} matches anything depends on the cluster"
        ),
    };
    Some((
        Severity::Info,
        message,
        "Nothing to do if the namespace exists in the cluster: `kubectl netpol lint live` checks the selector against the cluster's namespaces (or add the Namespace manifest to the input).".into(),
    ))
}

pub(crate) fn selects_nothing(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (pi, pol) in ctx.snap.policies.iter().enumerate() {
        subject_selects_nothing(ctx, pi, pol, out);
        for dir in Direction::BOTH {
            if !pol.affects(dir) {
                continue;
            }
            for (ri, rule) in pol.rules(dir).iter().enumerate() {
                for (k, peer) in rule.peers.iter().enumerate() {
                    peer_selects_nothing(ctx, (pi, dir, ri, k), peer, out);
                }
            }
        }
    }
}

/// The policy's own podSelector: contradictory, or matching none of its namespace's pods.
fn subject_selects_nothing(ctx: &Ctx<'_>, pi: usize, pol: &Policy, out: &mut Vec<Finding>) {
    if !pol.pod_selector.satisfiable() {
        out.push(
            Finding::policy(
                &SELECTS_NOTHING,
                pol,
                Some("spec.podSelector".into()),
                format!(
                    "spec.podSelector ({}) contradicts itself: no pod can ever match it",
                    words::selector(&pol.pod_selector)
                ),
            )
            .severity(Severity::Error),
        );
    } else if ctx.has_pods_in(&pol.namespace) && ctx.engine.selected_pods(pi).is_empty() {
        let seen: Vec<String> = ctx
            .snap
            .endpoint_pods()
            .filter(|(_, p)| p.namespace == pol.namespace)
            .map(|(_, p)| format!("{} ({})", p.name, labels_text(&p.labels)))
            .collect();
        out.push(Finding::policy(
            &SELECTS_NOTHING,
            pol,
            Some("spec.podSelector".into()),
            format!(
                "spec.podSelector ({}) selects no pod in namespace {}; its pods are: {}",
                words::selector(&pol.pod_selector),
                pol.namespace,
                list_names(&seen, 5)
            ),
        ));
    }
}

/// One pods peer (`k` of rule `ri` in direction `dir` of policy `pi`): contradictory, in no
/// namespace that exists, or matching no pod (with the near miss: the same labels elsewhere).
fn peer_selects_nothing(
    ctx: &Ctx<'_>,
    (pi, dir, ri, k): (usize, Direction, usize, usize),
    peer: &Peer,
    out: &mut Vec<Finding>,
) {
    let pol = &ctx.snap.policies[pi];
    let Peer::Pods { namespaces, pods } = peer else {
        return;
    };
    let path = peer_path(dir, ri, k);
    let ns_sel = match namespaces {
        NamespaceScope::Selector(s) => Some(s),
        NamespaceScope::PolicyNamespace => None,
    };
    let impossible = !pods.satisfiable() || ns_sel.is_some_and(|s| !s.satisfiable());
    if impossible {
        out.push(
            Finding::policy(
                &SELECTS_NOTHING,
                pol,
                Some(path),
                format!(
                    "{} contradicts itself: the peer can never match, so this rule allows nothing {}",
                    words::peer(peer, &pol.namespace),
                    direction_word(dir)
                ),
            )
            .severity(Severity::Error),
        );
        return;
    }
    let ns_matches: Vec<&str> = match ns_sel {
        None => vec![pol.namespace.as_str()],
        Some(s) => ctx
            .snap
            .namespaces
            .values()
            .filter(|n| s.matches(&n.labels))
            .map(|n| n.name.as_str())
            .collect(),
    };
    if let (Some(s), true) = (ns_sel, ns_matches.is_empty()) {
        let field = format!("{path}.namespaceSelector");
        if let Some((severity, message, fix)) = no_namespace_matches(ctx, s, &path) {
            out.push(
                Finding::policy(&SELECTS_NOTHING, pol, Some(field), message)
                    .severity(severity)
                    .fix(fix),
            );
        }
        return;
    }
    let pods_known = ns_matches.iter().any(|n| ctx.has_pods_in(n));
    if pods_known && ctx.engine.peer_classes(pi, dir, ri, k).is_empty() {
        let mut message = format!(
            "{path} ({}) matches no pod of the input, so it allows nothing",
            words::peer(peer, &pol.namespace)
        );
        if ns_sel.is_none() {
            message.push_str(&same_labels_elsewhere(ctx, pods, &ns_matches));
        }
        out.push(Finding::policy(
            &SELECTS_NOTHING,
            pol,
            Some(path.clone()),
            message,
        ));
    }
}

/// The near miss of a podSelector alone: pods with those labels in other namespaces.
fn same_labels_elsewhere(ctx: &Ctx<'_>, pods: &LabelSelector, ns_matches: &[&str]) -> String {
    let elsewhere: BTreeSet<&str> = ctx
        .snap
        .endpoint_pods()
        .filter(|(_, p)| !ns_matches.contains(&p.namespace.as_str()) && pods.matches(&p.labels))
        .map(|(_, p)| p.namespace.as_str())
        .collect();
    if pods.is_empty() || elsewhere.is_empty() {
        return String::new();
    }
    let names: Vec<&str> = elsewhere.into_iter().collect();
    format!(
        "; pods {} exist in namespace {}: a podSelector alone means the policy's own namespace, so add a namespaceSelector to the same peer (AND) to select them",
        words::selector(pods),
        names.join(", ")
    )
}

fn labels_text(l: &crate::model::Labels) -> String {
    if l.is_empty() {
        "no labels".into()
    } else {
        l.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    }
}

fn ns_only(peer: &Peer) -> Option<&LabelSelector> {
    match peer {
        Peer::Pods {
            namespaces: NamespaceScope::Selector(ns),
            pods,
        } if pods.is_empty() => Some(ns),
        _ => None,
    }
}

fn pods_only(peer: &Peer) -> Option<&LabelSelector> {
    match peer {
        Peer::Pods {
            namespaces: NamespaceScope::PolicyNamespace,
            pods,
        } if !pods.is_empty() => Some(pods),
        _ => None,
    }
}

pub(crate) fn separate_peers(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for pol in &ctx.snap.policies {
        for dir in Direction::BOTH {
            if !pol.affects(dir) {
                continue;
            }
            let list = direction_word(dir);
            for (ri, rule) in pol.rules(dir).iter().enumerate() {
                let ns = rule
                    .peers
                    .iter()
                    .enumerate()
                    .find_map(|(k, p)| ns_only(p).map(|s| (k, s)));
                let pods = rule
                    .peers
                    .iter()
                    .enumerate()
                    .find_map(|(k, p)| pods_only(p).map(|s| (k, s)));
                let (Some((nk, ns_sel)), Some((pk, pod_sel))) = (ns, pods) else {
                    continue;
                };
                let ns_text = if ns_sel.is_empty() {
                    "{} (all namespaces)".to_string()
                } else {
                    words::selector(ns_sel)
                };
                let pod_text = words::selector(pod_sel);
                out.push(
                    Finding::policy(
                        &SEPARATE_PEERS,
                        pol,
                        Some(format!("spec.{dir}[{ri}].{list}")),
                        format!(
                            "{list}[{nk}] (namespaceSelector {ns_text}) and {list}[{pk}] (podSelector {pod_text}) are separate peers (OR); did you mean one peer (AND)? As written, spec.{dir}[{ri}] allows traffic {list} every pod in namespaces {ns_text}, or {list} pods {pod_text} in namespace {}",
                            pol.namespace
                        ),
                    )
                    .fix(format!(
                        "For pods {pod_text} in namespaces {ns_text}, merge the two items into one peer:\n- namespaceSelector: {{matchLabels: ...}}   # {ns_text}\n  podSelector: {{matchLabels: ...}}         # {pod_text}\nIf OR is intended, this finding can be ignored."
                    )),
                );
            }
        }
    }
}

fn generated_keys(s: &LabelSelector) -> Vec<&str> {
    s.match_labels
        .keys()
        .map(String::as_str)
        .chain(s.match_expressions.iter().map(|r| r.key.as_str()))
        .filter(|k| GENERATED.contains(k))
        .collect()
}

pub(crate) fn generated_label(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for pol in &ctx.snap.policies {
        let mut hits: Vec<(String, &str)> = generated_keys(&pol.pod_selector)
            .into_iter()
            .map(|k| ("spec.podSelector".to_string(), k))
            .collect();
        for dir in Direction::BOTH {
            for (ri, rule) in pol.rules(dir).iter().enumerate() {
                for (k, peer) in rule.peers.iter().enumerate() {
                    if let Peer::Pods { pods, .. } = peer {
                        for key in generated_keys(pods) {
                            hits.push((format!("{}.podSelector", peer_path(dir, ri, k)), key));
                        }
                    }
                }
            }
        }
        for (field, key) in hits {
            out.push(Finding::policy(
                &GENERATED_LABEL,
                pol,
                Some(field.clone()),
                format!("{field} selects on {key}, a label that Kubernetes controllers generate: it changes on rollouts or differs per pod"),
            ));
        }
    }
}
