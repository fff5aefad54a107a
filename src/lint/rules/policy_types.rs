//! policyTypes: rules that policyTypes switches off, and `egress: []` that isolates nothing.

use super::super::{Ctx, Finding, RuleInfo, Severity};
use crate::model::Direction;

pub(crate) const IGNORED: RuleInfo = RuleInfo {
    id: "rules-ignored",
    severity: Severity::Error,
    title: "ingress or egress rules whose direction policyTypes does not list (they are ignored)",
    why: "Only the directions listed in policyTypes are enforced: rules of a direction that is not listed are silently ignored, so the policy does less than it reads.",
    fix: "Add the direction to spec.policyTypes, or delete the rules.",
};

pub(crate) const EGRESS_NOT_ISOLATED: RuleInfo = RuleInfo {
    id: "egress-not-isolated",
    severity: Severity::Warning,
    title: "policyTypes omitted with `egress: []`: egress is not isolated",
    why: "When policyTypes is omitted the API server adds Egress only if spec.egress has at least one rule; `egress: []` therefore denies nothing, although it reads like a default deny.",
    fix: "List the types explicitly: `policyTypes: [Ingress, Egress]` (with `egress: []` that denies all egress).",
};

pub(crate) fn ignored(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for pol in &ctx.snap.policies {
        for dir in Direction::BOTH {
            let n = pol.rules(dir).len();
            if pol.types_explicit && !pol.affects(dir) && n > 0 {
                let ty = match dir {
                    Direction::Ingress => "Ingress",
                    Direction::Egress => "Egress",
                };
                out.push(Finding::policy(
                    &IGNORED,
                    pol,
                    Some(format!("spec.{dir}")),
                    format!(
                        "spec.{dir} has {n} rule{} but spec.policyTypes does not list {ty}: {} ignored",
                        if n == 1 { "" } else { "s" },
                        if n == 1 { "it is" } else { "they are" }
                    ),
                ).fix(format!("Add {ty} to spec.policyTypes (this also isolates the selected pods for {dir}), or delete spec.{dir}.")));
            }
        }
    }
}

pub(crate) fn egress_not_isolated(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for pol in &ctx.snap.policies {
        if !pol.types_explicit && pol.egress_written && pol.egress.is_empty() {
            out.push(Finding::policy(
                &EGRESS_NOT_ISOLATED,
                pol,
                Some("spec.egress".into()),
                "`egress: []` without policyTypes does not isolate egress: the API server sets policyTypes to [Ingress] only, so the selected pods may still send anything".into(),
            ));
        }
    }
}
