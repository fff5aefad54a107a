//! What a policy set covers: rules an allow-all makes moot, namespaces without a default deny,
//! and policies in kube-system.

use super::super::{source_document, source_file, Ctx, Finding, ObjectRef, RuleInfo, Severity};
use super::{list_names, rule_path};
use crate::model::Direction;

pub(crate) const SHADOWED: RuleInfo = RuleInfo {
    id: "shadowed-rule",
    severity: Severity::Warning,
    title: "rules made moot by an allow-all rule in the same direction",
    why: "Rules are unioned and there is no deny rule: once an allow-all rule (no from/to, no ports) applies to a pod, every other rule of that direction for that pod, and any default deny, changes nothing. The author usually meant the narrower rule to be the limit.",
    fix: "Remove the allow-all rule (an empty `- {}` item, or a rule with neither from/to nor ports), or narrow it with from/to and ports.",
};

pub(crate) const NO_DEFAULT_DENY: RuleInfo = RuleInfo {
    id: "no-default-deny",
    severity: Severity::Warning,
    title: "a namespace with workloads but no default-deny ingress policy",
    why: "Pods that no policy selects accept traffic from anywhere; a default deny (podSelector: {} with Ingress) makes every pod, including future ones, closed unless a rule opens it.",
    fix: "Add a default deny to the namespace and open what is needed with allow rules:\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: default-deny-ingress, namespace: NS}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]",
};

pub(crate) const KUBE_SYSTEM: RuleInfo = RuleInfo {
    id: "kube-system-policy",
    severity: Severity::Warning,
    title: "a policy in kube-system",
    why: "Policies in kube-system can cut off cluster DNS, the CNI, metrics or admission webhooks, with cluster-wide impact; many managed platforms also reconcile or forbid them.",
    fix: "Keep policies out of kube-system unless you have tested every system component they select (DNS from every namespace, webhooks from the API server).",
};

/// Namespaces that hold the cluster's own components: no default deny is expected there.
const SYSTEM_NAMESPACES: &[&str] = &["kube-system", "kube-public", "kube-node-lease"];

pub(crate) fn shadowed(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let pols = &ctx.snap.policies;
    for pol in pols {
        for dir in Direction::BOTH {
            if !pol.affects(dir) {
                continue;
            }
            let rules = pol.rules(dir);
            let Some(r0) = rules.iter().position(|r| r.allows_everything()) else {
                continue;
            };
            for (ri, rule) in rules.iter().enumerate() {
                if ri != r0 && !rule.allows_everything() {
                    out.push(Finding::policy(
                        &SHADOWED,
                        pol,
                        Some(rule_path(dir, ri)),
                        format!("{} is shadowed by {} of the same policy, which allows all {dir}: it changes nothing", rule_path(dir, ri), rule_path(dir, r0)),
                    ));
                }
            }
            for other in pols {
                if std::ptr::eq(other, pol)
                    || other.namespace != pol.namespace
                    || !other.affects(dir)
                    || !pol.pod_selector.covers(&other.pod_selector)
                {
                    continue;
                }
                let moot: Vec<String> = other
                    .rules(dir)
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| !r.allows_everything())
                    .map(|(i, _)| rule_path(dir, i))
                    .collect();
                let by = format!("{} {}", pol.key(), rule_path(dir, r0));
                if other.rules(dir).is_empty() {
                    out.push(Finding::policy(
                        &SHADOWED,
                        other,
                        Some("spec.policyTypes".into()),
                        format!("this policy denies all {dir} of the pods it selects, but {by} allows all {dir} to every one of them: the deny has no effect"),
                    ));
                } else if !moot.is_empty() {
                    out.push(Finding::policy(
                        &SHADOWED,
                        other,
                        Some(format!("spec.{dir}")),
                        format!("{} change{} nothing: {by} allows all {dir} to every pod this policy selects", list_names(&moot, 4), if moot.len() == 1 { "s" } else { "" }),
                    ));
                }
            }
        }
    }
}

pub(crate) fn no_default_deny(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for ns in ctx.snap.namespaces.keys() {
        if SYSTEM_NAMESPACES.contains(&ns.as_str()) {
            continue;
        }
        let pods: Vec<usize> = ctx
            .snap
            .endpoint_pods()
            .filter(|(_, p)| &p.namespace == ns)
            .map(|(i, _)| i)
            .collect();
        let Some(&first) = pods.first() else {
            continue;
        };
        let has_default_deny = ctx
            .snap
            .policies
            .iter()
            .any(|p| &p.namespace == ns && p.pod_selector.is_empty() && p.types_ingress);
        if has_default_deny {
            continue;
        }
        let open: Vec<usize> = pods
            .iter()
            .copied()
            .filter(|&p| ctx.engine.isolating(p, Direction::Ingress).is_empty())
            .collect();
        let names = |v: &[usize]| -> Vec<String> {
            v.iter().map(|&p| ctx.snap.pods[p].name.clone()).collect()
        };
        let (severity, message, at) = if open.is_empty() {
            (
                Severity::Info,
                format!("namespace {ns} has no default-deny ingress policy: every pod is selected by some policy today, but a new workload will accept traffic from anywhere"),
                first,
            )
        } else {
            (
                Severity::Warning,
                format!(
                    "namespace {ns} has workloads but no default-deny ingress policy: {} accept{} traffic from anywhere",
                    list_names(&names(&open), 5),
                    if open.len() == 1 { "s" } else { "" }
                ),
                open[0],
            )
        };
        let src = &ctx.snap.pods[at].source;
        out.push(Finding {
            rule: NO_DEFAULT_DENY.id,
            severity,
            object: ObjectRef {
                kind: "Namespace".into(),
                namespace: String::new(),
                name: ns.clone(),
            },
            field: None,
            message,
            why: NO_DEFAULT_DENY.why.into(),
            fix: NO_DEFAULT_DENY
                .fix
                .replace("namespace: NS", &format!("namespace: {ns}")),
            file: source_file(src),
            document: source_document(src),
            line: None,
        });
    }
}

pub(crate) fn kube_system(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for pol in ctx
        .snap
        .policies
        .iter()
        .filter(|p| p.namespace == "kube-system")
    {
        out.push(Finding::policy(
            &KUBE_SYSTEM,
            pol,
            Some("metadata.namespace".into()),
            format!("{} is a policy in kube-system: a mistake here can break DNS or other system components for the whole cluster", pol.key()),
        ));
    }
}
