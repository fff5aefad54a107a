//! Explanations of cluster-scoped policy: the policies that apply to a pod in evaluation order,
//! one policy on its own, and for one connection what each tier did (the deciding rule, the Pass
//! chain, the policies of equal priority that could have decided instead, the nearest miss).

use serde::Serialize;

use super::cluster::{ClusterRuleRef, ClusterTrace};
use super::{words, Endpoint, Engine, Traffic};
use crate::model::{Action, ClusterPeer, ClusterPolicy, ClusterTier, Direction};

#[derive(Debug, Clone, Serialize)]
pub struct ClusterRuleJson {
    pub index: usize,
    /// As written (may be empty).
    pub name: String,
    pub action: Action,
    /// "Deny TCP 5432 to pods in namespaces env=prod"
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClusterPolicyJson {
    /// `cnp/NAME`, `anp/NAME` or `banp/default`: how `explain policy` takes it.
    pub policy: String,
    pub kind: &'static str,
    pub tier: &'static str,
    pub priority: u32,
    pub subject: String,
    pub ingress: Vec<ClusterRuleJson>,
    pub egress: Vec<ClusterRuleJson>,
    pub source: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClusterPolicyExplanation {
    #[serde(flatten)]
    pub policy: ClusterPolicyJson,
    /// Pods its subject selects (hostNetwork pods never).
    pub selects: Vec<String>,
    pub notes: Vec<String>,
}

/// One rule that matched a connection, and what it does.
#[derive(Debug, Clone, Serialize)]
pub struct MatchedRuleJson {
    pub policy: String,
    pub priority: u32,
    pub rule: usize,
    #[serde(rename = "ruleName")]
    pub rule_name: String,
    pub action: Action,
    pub text: String,
}

/// What one cluster tier did with one direction.
#[derive(Debug, Clone, Serialize)]
pub struct TierTraceJson {
    pub tier: &'static str,
    /// The first matching rule (None: no rule of the tier matches; the next tier decides).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided: Option<MatchedRuleJson>,
    /// Rules of other policies of the same priority that match too: any of them may decide,
    /// as the order of equal priorities is the network plugin's choice.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tied: Vec<MatchedRuleJson>,
    /// Where no rule matched: the rule that came closest, and what failed.
    #[serde(rename = "nearestMiss", skip_serializing_if = "Option::is_none")]
    pub nearest_miss: Option<String>,
    pub text: String,
}

fn rule_json(cp: &ClusterPolicy, dir: Direction) -> Vec<ClusterRuleJson> {
    cp.rules(dir)
        .iter()
        .enumerate()
        .map(|(i, r)| ClusterRuleJson {
            index: i,
            name: r.name.clone(),
            action: r.action,
            text: words::cluster_rule(r, dir),
        })
        .collect()
}

/// "admin cnp/tenancy (priority 10)"
pub fn policy_title(cp: &ClusterPolicy) -> String {
    format!("{} {} (priority {})", cp.tier, cp.key(), cp.priority)
}

impl Engine<'_> {
    pub fn cluster_policy_json(&self, policy: usize) -> ClusterPolicyJson {
        let cp = &self.snap.cluster_policies[policy];
        ClusterPolicyJson {
            policy: cp.key(),
            kind: cp.kind.kind(),
            tier: cp.tier.as_str(),
            priority: cp.priority,
            subject: words::cluster_subject(&cp.subject),
            ingress: rule_json(cp, Direction::Ingress),
            egress: rule_json(cp, Direction::Egress),
            source: cp.source.to_string(),
        }
    }

    /// What a cluster policy selects and does.
    pub fn explain_cluster_policy(&self, policy: usize) -> ClusterPolicyExplanation {
        let cp = &self.snap.cluster_policies[policy];
        let mut notes = vec![match cp.tier {
            ClusterTier::Admin => "Admin tier: evaluated before NetworkPolicies; Accept and Deny are final, Pass hands the connection to the NetworkPolicies (then the Baseline tier)".to_string(),
            ClusterTier::Baseline => "Baseline tier: evaluated only for connections no Admin rule decided and no NetworkPolicy isolates; Accept and Deny are final, Pass goes to the default (allowed)".to_string(),
        }];
        notes.push("a rule matches traffic its peers and protocols name and nothing else: the policy isolates nobody by itself".into());
        let peers = || {
            Direction::BOTH
                .into_iter()
                .flat_map(|d| cp.rules(d))
                .flat_map(|r| &r.peers)
        };
        if peers().any(|p| matches!(p, ClusterPeer::Networks(_))) {
            notes.push(
                "networks match pod addresses too, not only addresses outside the cluster".into(),
            );
        }
        if peers().any(|p| matches!(p, ClusterPeer::DomainNames(_))) {
            notes.push("domainNames are resolved by DNS at run time: offline (matrix, -f) they match no pod, so a rule with them decides nothing here".into());
        }
        if peers().any(|p| matches!(p, ClusterPeer::Nodes(_))) {
            notes.push(format!(
                "nodes match the addresses of Node objects ({} known) and hostNetwork pods on them",
                self.snap.nodes.len()
            ));
        }
        let same: Vec<String> = self
            .snap
            .cluster_policies
            .iter()
            .enumerate()
            .filter(|(i, o)| *i != policy && o.tier == cp.tier && o.priority == cp.priority)
            .map(|(_, o)| o.key())
            .collect();
        if !same.is_empty() {
            notes.push(format!(
                "same tier and priority as {}: where both match a connection, which decides is up to the network plugin (matrix marks such connections \"ambiguous\")",
                same.join(", ")
            ));
        }
        if let Some(w) = self.snap.cluster_api_mix_warning() {
            notes.push(w);
        }
        ClusterPolicyExplanation {
            policy: self.cluster_policy_json(policy),
            selects: self
                .cluster_selected_pods(policy)
                .into_iter()
                .map(|i| self.snap.pods[i].key())
                .collect(),
            notes,
        }
    }

    fn matched_json(&self, (r, action): (ClusterRuleRef, Action)) -> MatchedRuleJson {
        let cp = &self.snap.cluster_policies[r.policy];
        let rule = &cp.rules(r.direction)[r.rule];
        MatchedRuleJson {
            policy: cp.key(),
            priority: cp.priority,
            rule: r.rule,
            rule_name: rule.name.clone(),
            action,
            text: words::cluster_rule(rule, r.direction),
        }
    }

    /// "admin cnp/tenancy rule 'pass-same-tenant'"
    pub fn cluster_rule_title(&self, r: ClusterRuleRef) -> String {
        let cp = &self.snap.cluster_policies[r.policy];
        format!(
            "{} {} rule {}",
            cp.tier,
            cp.key(),
            words::cluster_rule_label(&cp.rules(r.direction)[r.rule], r.rule)
        )
    }

    /// The rule of a tier's policies (selecting the subject) that came closest to matching.
    fn cluster_nearest_miss(
        &self,
        tier: ClusterTier,
        t: &Traffic,
        dir: Direction,
    ) -> Option<String> {
        let subject = self.cluster_subject(t, dir)?;
        let other = match dir {
            Direction::Egress => t.to,
            Direction::Ingress => t.from,
        };
        let mut best: Option<(u8, String)> = None;
        for &p in self.cluster_subject_of(subject) {
            let cp = &self.snap.cluster_policies[p];
            if cp.tier != tier {
                continue;
            }
            for (ri, rule) in cp.rules(dir).iter().enumerate() {
                let peer_ok =
                    (0..rule.peers.len()).any(|k| self.cluster_peer_matches(p, dir, ri, k, other));
                let port_ok = self.cluster_ports_admit(&rule.ports, t.probe, t.to);
                let (score, why) = match (peer_ok, port_ok) {
                    (true, false) => (
                        2,
                        format!(
                            "the peer matches but not {} {}",
                            t.probe.protocol, t.probe.port
                        ),
                    ),
                    (false, true) => (1, format!("{} matches no peer of it", self.ep_label(other))),
                    _ => continue,
                };
                if best.as_ref().is_none_or(|(s, _)| score > *s) {
                    let r = ClusterRuleRef {
                        policy: p,
                        direction: dir,
                        rule: ri,
                    };
                    best = Some((
                        score,
                        format!(
                            "{} ({}): {why}",
                            self.cluster_rule_title(r),
                            words::cluster_rule(rule, dir)
                        ),
                    ));
                }
            }
        }
        best.map(|(_, s)| s)
    }

    fn ep_label(&self, ep: Endpoint) -> String {
        match ep {
            Endpoint::Pod(p) => self.snap.pods[p].key(),
            Endpoint::Ip(ip) => ip.to_string(),
        }
    }

    /// What each cluster tier did with one direction, in evaluation order.
    pub fn cluster_tier_traces(&self, t: &Traffic, dir: Direction) -> Vec<TierTraceJson> {
        let Some(subject) = self.cluster_subject(t, dir) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for tier in [ClusterTier::Admin, ClusterTier::Baseline] {
            if !self
                .cluster_subject_of(subject)
                .iter()
                .any(|&p| self.snap.cluster_policies[p].tier == tier)
            {
                continue;
            }
            let trace: ClusterTrace = self.cluster_trace(tier, t, dir);
            let nearest_miss = trace
                .decided
                .is_none()
                .then(|| self.cluster_nearest_miss(tier, t, dir))
                .flatten();
            let text = match trace.decided {
                Some((r, a)) => {
                    let what = match a {
                        Action::Accept => "accepts".to_string(),
                        Action::Deny => "denies".to_string(),
                        Action::Pass => format!(
                            "passes to {}",
                            if tier == ClusterTier::Admin {
                                "NetworkPolicy"
                            } else {
                                "the default (allowed)"
                            }
                        ),
                    };
                    let mut s = format!("{} {what}", self.cluster_rule_title(r));
                    if trace.is_tied() {
                        let others: Vec<String> = trace
                            .tied
                            .iter()
                            .filter(|(_, oa)| *oa != a)
                            .map(|(o, oa)| {
                                format!(
                                    "{} would {}",
                                    self.cluster_rule_title(*o),
                                    oa.as_str().to_lowercase()
                                )
                            })
                            .collect();
                        s.push_str(&format!(
                            "; but {} at the same priority: the order among equal priorities is up to the network plugin (this assumes {} first)",
                            others.join(", "),
                            self.snap.cluster_policies[r.policy].key()
                        ));
                    }
                    s
                }
                None => format!("no {tier} rule matches"),
            };
            out.push(TierTraceJson {
                tier: tier.as_str(),
                decided: trace.decided.map(|d| self.matched_json(d)),
                tied: trace.tied.iter().map(|d| self.matched_json(*d)).collect(),
                nearest_miss,
                text,
            });
        }
        out
    }

    /// Egress rules with domainNames that the source's cluster policies hold: the verdict may
    /// change once DNS says where those names point.
    pub fn domain_name_notes(&self, t: &Traffic) -> Vec<String> {
        let Some(subject) = self.cluster_subject(t, Direction::Egress) else {
            return Vec::new();
        };
        // Names point outside the cluster: a pod destination is never one of them.
        if matches!(t.to, Endpoint::Pod(_)) {
            return Vec::new();
        }
        let mut notes = Vec::new();
        for &p in self.cluster_subject_of(subject) {
            let cp = &self.snap.cluster_policies[p];
            for (ri, rule) in cp.egress.iter().enumerate() {
                let names: Vec<&str> = rule
                    .peers
                    .iter()
                    .filter_map(|x| match x {
                        ClusterPeer::DomainNames(n) => Some(n.iter().map(String::as_str)),
                        _ => None,
                    })
                    .flatten()
                    .collect();
                if !names.is_empty() && self.cluster_ports_admit(&rule.ports, t.probe, t.to) {
                    let r = ClusterRuleRef {
                        policy: p,
                        direction: Direction::Egress,
                        rule: ri,
                    };
                    notes.push(format!(
                        "the verdict depends on DNS at run time: {} names {}; if {} is an address they resolve to, that rule ({}) applies; offline it matches nothing",
                        self.cluster_rule_title(r),
                        names.join(", "),
                        self.ep_label(t.to),
                        rule.action
                    ));
                }
            }
        }
        notes
    }
}
