//! The verdict pipeline. Each tier looks at one direction of one connection and allows, denies,
//! or passes to the next tier. Today: the namespaced NetworkPolicy tier. Cluster-scoped
//! policy (an admin tier before it, a baseline tier after it) is a new item in the list.

use super::sets::{ClassDecisions, ClassSets};
use super::{Endpoint, Engine, Reason, RuleRef, Traffic};
use crate::model::{Direction, Probe};

pub enum Decision {
    Allow(Reason),
    Deny(Reason),
    /// No opinion: ask the next tier.
    Pass,
}

pub trait Tier: Send + Sync {
    fn name(&self) -> &'static str;
    fn decide(&self, engine: &Engine<'_>, traffic: &Traffic, dir: Direction) -> Decision;

    /// The same decisions for every pair of classes at once, as sets (what the matrix uses).
    /// The default asks `decide` pair by pair; a tier overrides it with set algebra, and must
    /// agree with `decide` (the property test checks).
    fn decide_classes(
        &self,
        sets: &ClassSets<'_, '_>,
        dir: Direction,
        probe: Probe,
    ) -> ClassDecisions {
        sets.pairwise_decisions(&|t, d| self.decide(sets.engine, t, d), dir, probe)
    }
}

/// networking.k8s.io/v1 NetworkPolicy: a pod selected for a direction is isolated, and then
/// only the union of its policies' rules allows traffic.
pub struct NamespacedTier;

impl Tier for NamespacedTier {
    fn name(&self) -> &'static str {
        "namespaced"
    }

    fn decide(&self, engine: &Engine<'_>, t: &Traffic, dir: Direction) -> Decision {
        let subject = match (dir, t.from, t.to) {
            (Direction::Egress, Endpoint::Pod(p), _)
            | (Direction::Ingress, _, Endpoint::Pod(p)) => p,
            _ => return Decision::Pass,
        };
        let policies = engine.isolating(subject, dir);
        if policies.is_empty() {
            return Decision::Pass;
        }
        for &policy in policies {
            let n = engine.snap.policies[policy].rules(dir).len();
            if let Some(rule) = (0..n).find(|&r| engine.rule_allows(policy, dir, r, t)) {
                return Decision::Allow(Reason::AllowedBy(RuleRef {
                    policy,
                    direction: dir,
                    rule,
                }));
            }
        }
        Decision::Deny(Reason::NoRuleAllows)
    }

    fn decide_classes(
        &self,
        sets: &ClassSets<'_, '_>,
        dir: Direction,
        probe: Probe,
    ) -> ClassDecisions {
        sets.namespaced_decisions(dir, probe)
    }
}
