//! The verdict pipeline. Each tier looks at one direction of one connection and allows, denies,
//! or passes to the next tier: the Admin tier of cluster policies, the namespaced NetworkPolicy
//! tier, the Baseline tier of cluster policies; when all pass, traffic is allowed.

use super::cluster::ClusterRuleRef;
use super::sets::{ClassDecisions, ClassSets};
use super::{Endpoint, Engine, Reason, RuleRef, Traffic};
use crate::model::{Action, ClusterTier, Direction, Probe};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow(Reason),
    Deny(Reason),
    /// No opinion: ask the next tier.
    Pass,
}

/// Which decisions a tier could take, over every order it may give equal priorities.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Possible {
    pub allow: bool,
    pub deny: bool,
    pub pass: bool,
}

impl Possible {
    pub fn of(d: &Decision) -> Possible {
        Possible {
            allow: matches!(d, Decision::Allow(_)),
            deny: matches!(d, Decision::Deny(_)),
            pass: matches!(d, Decision::Pass),
        }
    }
}

/// A tier's answer with what the explanation needs beyond the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierOutcome {
    pub decision: Decision,
    /// The rule whose `Pass` sent the connection on to the next tier.
    pub passed_by: Option<ClusterRuleRef>,
    /// Every decision some order of equal priorities would give (includes `decision`).
    pub possible: Possible,
}

pub trait Tier: Send + Sync {
    fn name(&self) -> &'static str;
    fn decide(&self, engine: &Engine<'_>, traffic: &Traffic, dir: Direction) -> Decision;

    /// `decide`, with the Pass that led on and the other possible decisions; tiers whose
    /// answer is always unique need not override it.
    fn outcome(&self, engine: &Engine<'_>, traffic: &Traffic, dir: Direction) -> TierOutcome {
        let decision = self.decide(engine, traffic, dir);
        TierOutcome {
            decision,
            passed_by: None,
            possible: Possible::of(&decision),
        }
    }

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

/// A tier of cluster policies (ClusterNetworkPolicy, and AdminNetworkPolicy in Admin /
/// BaselineAdminNetworkPolicy in Baseline): first match by priority and rule order; Accept and
/// Deny decide, Pass (or no match) goes on to the next tier.
pub struct ClusterPolicyTier(pub ClusterTier);

impl ClusterPolicyTier {
    fn decision(action: Action, rule: ClusterRuleRef) -> Decision {
        match action {
            Action::Accept => Decision::Allow(Reason::ClusterRule(rule)),
            Action::Deny => Decision::Deny(Reason::ClusterRule(rule)),
            Action::Pass => Decision::Pass,
        }
    }
}

impl Tier for ClusterPolicyTier {
    fn name(&self) -> &'static str {
        self.0.as_str()
    }

    fn decide(&self, engine: &Engine<'_>, t: &Traffic, dir: Direction) -> Decision {
        self.outcome(engine, t, dir).decision
    }

    fn outcome(&self, engine: &Engine<'_>, t: &Traffic, dir: Direction) -> TierOutcome {
        let trace = engine.cluster_trace(self.0, t, dir);
        let Some((rule, action)) = trace.decided else {
            return TierOutcome {
                decision: Decision::Pass,
                passed_by: None,
                possible: Possible {
                    pass: true,
                    ..Possible::default()
                },
            };
        };
        let mut possible = Possible::default();
        for a in trace.possible_actions() {
            match a {
                Action::Accept => possible.allow = true,
                Action::Deny => possible.deny = true,
                Action::Pass => possible.pass = true,
            }
        }
        TierOutcome {
            decision: Self::decision(action, rule),
            passed_by: (action == Action::Pass).then_some(rule),
            possible,
        }
    }

    fn decide_classes(
        &self,
        sets: &ClassSets<'_, '_>,
        dir: Direction,
        probe: Probe,
    ) -> ClassDecisions {
        sets.cluster_decisions(self.0, dir, probe)
    }
}
