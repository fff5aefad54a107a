//! The rules: each file holds one concern, each rule is an `INFO` (identity and words) and a
//! `check` function. A new rule is a new pair here.

mod cluster;
mod coverage;
mod egress;
mod ip_block;
mod policy_types;
mod ports;
mod selectors;

use super::{Ctx, Finding, RuleInfo};
use crate::model::Direction;

pub(super) type Check = fn(&Ctx<'_>, &mut Vec<Finding>);

/// Every rule, in report order.
pub(super) static INFOS: &[RuleInfo] = &[
    policy_types::IGNORED,
    policy_types::EGRESS_NOT_ISOLATED,
    selectors::SELECTS_NOTHING,
    selectors::SEPARATE_PEERS,
    selectors::GENERATED_LABEL,
    ports::NAMED_PORT,
    coverage::SHADOWED,
    coverage::NO_DEFAULT_DENY,
    coverage::KUBE_SYSTEM,
    egress::NO_DNS,
    egress::METADATA,
    ip_block::COVERS_PODS,
    ip_block::HOST_BITS,
    cluster::UNREACHABLE,
    cluster::PRIORITY_TIE,
    cluster::ADMIN_DNS,
    cluster::PASS_ALLOWS,
];

pub(super) static CHECKS: &[Check] = &[
    policy_types::ignored,
    policy_types::egress_not_isolated,
    selectors::selects_nothing,
    selectors::separate_peers,
    selectors::generated_label,
    ports::named_port,
    coverage::shadowed,
    coverage::no_default_deny,
    coverage::kube_system,
    egress::no_dns,
    egress::metadata,
    ip_block::covers_pods,
    ip_block::host_bits,
    cluster::selects_nothing,
    cluster::unreachable,
    cluster::priority_tie,
    cluster::admin_dns,
    cluster::pass_allows,
];

/// `spec.ingress[2]`
pub(super) fn rule_path(dir: Direction, rule: usize) -> String {
    format!("spec.{dir}[{rule}]")
}

/// `spec.ingress[2].from[1]`, `spec.egress[0].to[3]`
pub(super) fn peer_path(dir: Direction, rule: usize, peer: usize) -> String {
    let list = match dir {
        Direction::Ingress => "from",
        Direction::Egress => "to",
    };
    format!("spec.{dir}[{rule}].{list}[{peer}]")
}

/// Up to `max` names, then "and N more".
pub(super) fn list_names(names: &[String], max: usize) -> String {
    if names.len() <= max {
        names.join(", ")
    } else {
        format!("{} and {} more", names[..max].join(", "), names.len() - max)
    }
}
