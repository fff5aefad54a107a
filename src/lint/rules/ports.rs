//! Named ports that no destination pod declares.

use std::collections::BTreeSet;

use super::super::{Ctx, Finding, RuleInfo, Severity};
use super::list_names;
use crate::model::{Direction, PortSpec};

pub(crate) const NAMED_PORT: RuleInfo = RuleInfo {
    id: "named-port-undeclared",
    severity: Severity::Warning,
    title: "a named port that none of the destination pods declares",
    why: "A named port resolves against the destination pod's container ports (name and protocol); where no container declares it, the port matches nothing and the rule allows nothing there.",
    fix: "Use the name a container port really has (spec.containers[].ports[].name, with the same protocol), or a port number.",
};

pub(crate) fn named_port(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let engine = ctx.engine;
    for (pi, pol) in ctx.snap.policies.iter().enumerate() {
        for dir in Direction::BOTH {
            if !pol.affects(dir) {
                continue;
            }
            for (ri, rule) in pol.rules(dir).iter().enumerate() {
                let named: Vec<(usize, &String, crate::model::Protocol)> = rule
                    .ports
                    .iter()
                    .enumerate()
                    .filter_map(|(q, p)| match &p.port {
                        Some(PortSpec::Name(n)) => Some((q, n, p.protocol)),
                        _ => None,
                    })
                    .collect();
                if named.is_empty() {
                    continue;
                }
                let dests = rule_destinations(ctx, pi, dir, ri);
                if dests.is_empty() {
                    continue;
                }
                for (q, name, proto) in named {
                    let field = format!("spec.{dir}[{ri}].ports[{q}]");
                    let (declaring, missing): (Vec<usize>, Vec<usize>) = dests
                        .iter()
                        .partition(|&&p| engine.resolve_named_port(p, name, proto).is_some());
                    let names = |v: &[usize]| -> Vec<String> {
                        v.iter().map(|&p| ctx.snap.pods[p].key()).collect()
                    };
                    let whose = match dir {
                        Direction::Ingress => "the pods this policy selects",
                        Direction::Egress => "the destination pods of this rule",
                    };
                    if declaring.is_empty() {
                        let other_proto = other_protocol(ctx, &missing, name);
                        let mut msg = format!(
                            "named port {name} ({proto}) is declared by none of {whose} ({}): this port matches nothing",
                            list_names(&names(&missing), 5)
                        );
                        if !other_proto.is_empty() {
                            msg.push_str(&format!(
                                "; {name} is declared with another protocol by {}",
                                list_names(&other_proto, 3)
                            ));
                        }
                        out.push(Finding::policy(&NAMED_PORT, pol, Some(field), msg));
                    } else if !missing.is_empty() {
                        out.push(
                            Finding::policy(
                                &NAMED_PORT,
                                pol,
                                Some(field),
                                format!(
                                    "named port {name} ({proto}) is declared by {} but not by {}: this port matches nothing on those",
                                    list_names(&names(&declaring), 3),
                                    list_names(&names(&missing), 5)
                                ),
                            )
                            .severity(Severity::Info),
                        );
                    }
                }
            }
        }
    }
}

/// The destinations of rule `ri`: the selected pods for ingress, the peers' pods for egress
/// (every pod for an egress rule without peers).
fn rule_destinations(ctx: &Ctx<'_>, pi: usize, dir: Direction, ri: usize) -> BTreeSet<usize> {
    let engine = ctx.engine;
    let peers = ctx.snap.policies[pi].rules(dir)[ri].peers.len();
    match dir {
        Direction::Ingress => engine.selected_pods(pi).into_iter().collect(),
        Direction::Egress if peers == 0 => ctx.snap.endpoint_pods().map(|(i, _)| i).collect(),
        Direction::Egress => (0..peers)
            .flat_map(|k| engine.peer_classes(pi, dir, ri, k))
            .flat_map(|c| engine.class_members(c).iter().copied())
            .collect(),
    }
}

/// Of `pods`, those that declare `name` with another protocol: `ns/pod (PROTOCOL)`.
fn other_protocol(ctx: &Ctx<'_>, pods: &[usize], name: &str) -> Vec<String> {
    pods.iter()
        .filter_map(|&p| {
            ctx.snap.pods[p]
                .ports
                .iter()
                .find(|cp| cp.name.as_deref() == Some(name))
                .map(|cp| format!("{} ({})", ctx.snap.pods[p].key(), cp.protocol))
        })
        .collect()
}
