//! Structured explanations (serialisable for `-o json|yaml`, printed as text by `report`).

use serde::Serialize;

use super::explain_cluster::{ClusterPolicyJson, TierTraceJson};
use super::{words, Endpoint, Engine, HalfVerdict, NearMiss, Reason, Traffic};
use crate::model::{Direction, NamespaceScope, Peer, Policy, PolicyPort, PortSpec, Probe};

#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct PolicyName {
    pub namespace: String,
    pub name: String,
}

impl PolicyName {
    fn of(p: &Policy) -> PolicyName {
        PolicyName {
            namespace: p.namespace.clone(),
            name: p.name.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum PeerJson {
    Pods {
        /// `null` = the policy's own namespace; `""` = all namespaces; else a selector.
        #[serde(rename = "namespaceSelector")]
        namespace_selector: Option<String>,
        #[serde(rename = "podSelector")]
        pod_selector: String,
        text: String,
    },
    IpBlock {
        cidr: String,
        except: Vec<String>,
        text: String,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct PortJson {
    pub protocol: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<serde_json::Value>,
    #[serde(rename = "endPort", skip_serializing_if = "Option::is_none")]
    pub end_port: Option<u16>,
    /// For a named port on `explain pod` ingress: the number it means on this pod.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved: Option<u16>,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleJson {
    pub index: usize,
    pub text: String,
    /// Empty = every peer.
    pub peers: Vec<PeerJson>,
    /// Empty = every port.
    pub ports: Vec<PortJson>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PolicyJson {
    pub namespace: String,
    pub name: String,
    #[serde(rename = "podSelector")]
    pub pod_selector: String,
    #[serde(rename = "policyTypes")]
    pub policy_types: Vec<&'static str>,
    /// Rules of the direction being explained (for `explain pod`), or of both (`explain policy`).
    pub rules: Vec<RuleJson>,
    pub summary: String,
    pub source: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DirectionJson {
    pub isolated: bool,
    pub summary: String,
    pub policies: Vec<PolicyJson>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PodExplanation {
    pub pod: String,
    pub labels: std::collections::BTreeMap<String, String>,
    pub ingress: DirectionJson,
    pub egress: DirectionJson,
    /// Cluster policies whose subject selects the pod, in evaluation order (Admin by priority,
    /// then Baseline); they apply before (Admin) and after (Baseline) the NetworkPolicies above.
    #[serde(rename = "clusterPolicies")]
    pub cluster_policies: Vec<ClusterPolicyJson>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DirectionRulesJson {
    pub affected: bool,
    pub rules: Vec<RuleJson>,
    pub summary: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PolicyExplanation {
    pub policy: String,
    pub namespace: String,
    pub name: String,
    #[serde(rename = "podSelector")]
    pub pod_selector: String,
    pub selects: Vec<String>,
    pub ingress: DirectionRulesJson,
    pub egress: DirectionRulesJson,
    pub notes: Vec<String>,
    pub source: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct HalfJson {
    pub allowed: bool,
    /// The pod whose policies decide this half (or the address, outside the cluster).
    pub subject: String,
    pub tier: &'static str,
    /// self | outside-cluster | host-network | not-isolated | allowed-by-rule | no-rule-allows |
    /// cluster-rule
    pub reason: &'static str,
    /// With reason cluster-rule: the deciding cluster policy (`cnp/NAME`, `anp/NAME`, `banp/default`).
    #[serde(rename = "clusterPolicy", skip_serializing_if = "Option::is_none")]
    pub cluster_policy: Option<String>,
    /// The cluster rules whose Pass handed this direction on, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub passed: Vec<String>,
    /// What each cluster tier that has policies for the subject did, in evaluation order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cluster: Vec<TierTraceJson>,
    /// Some order of equal-priority cluster policies gives this direction the other answer.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ambiguous: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<usize>,
    #[serde(rename = "ruleText", skip_serializing_if = "Option::is_none")]
    pub rule_text: Option<String>,
    pub isolating: Vec<PolicyName>,
    #[serde(rename = "nearMiss", skip_serializing_if = "Option::is_none")]
    pub near_miss: Option<NearMissJson>,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct NearMissJson {
    pub policy: PolicyName,
    #[serde(flatten)]
    pub miss: NearMiss,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrafficExplanation {
    pub from: String,
    pub to: String,
    pub protocol: String,
    pub port: u16,
    pub allowed: bool,
    /// The answer depends on how the network plugin orders cluster policies of equal priority.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ambiguous: bool,
    pub egress: HalfJson,
    pub ingress: HalfJson,
    pub notes: Vec<String>,
}

fn policy_types(p: &Policy) -> Vec<&'static str> {
    let mut v = Vec::new();
    if p.types_ingress {
        v.push("Ingress");
    }
    if p.types_egress {
        v.push("Egress");
    }
    v
}

fn peer_json(p: &Peer, ns: &str) -> PeerJson {
    match p {
        Peer::Pods { namespaces, pods } => PeerJson::Pods {
            namespace_selector: match namespaces {
                NamespaceScope::PolicyNamespace => None,
                NamespaceScope::Selector(s) => Some(words::selector(s)),
            },
            pod_selector: words::selector(pods),
            text: words::peer(p, ns),
        },
        Peer::IpBlock(b) => PeerJson::IpBlock {
            cidr: b.cidr_text.clone(),
            except: b.except.iter().map(|e| e.to_string()).collect(),
            text: words::ip_block(b),
        },
    }
}

fn port_json(p: &PolicyPort, on_pod: Option<&crate::model::Pod>) -> PortJson {
    let (port, resolved) = match &p.port {
        None => (None, None),
        Some(PortSpec::Number(n)) => (Some(serde_json::json!(n)), None),
        Some(PortSpec::Name(name)) => (
            Some(serde_json::json!(name)),
            on_pod.and_then(|pod| {
                pod.ports
                    .iter()
                    .find(|cp| {
                        cp.name.as_deref() == Some(name.as_str()) && cp.protocol == p.protocol
                    })
                    .map(|cp| cp.port)
            }),
        ),
    };
    let mut text = words::port(p);
    if let (Some(PortSpec::Name(_)), Some(pod)) = (&p.port, on_pod) {
        match resolved {
            Some(n) => text.push_str(&format!(" (= {n} on {})", pod.name)),
            None => text.push_str(&format!(
                " (not declared by {}: matches nothing there)",
                pod.name
            )),
        }
    }
    PortJson {
        protocol: p.protocol.as_str().to_string(),
        port,
        end_port: p.end_port,
        resolved,
        text,
    }
}

fn rules_json(p: &Policy, dir: Direction, on_pod: Option<&crate::model::Pod>) -> Vec<RuleJson> {
    p.rules(dir)
        .iter()
        .enumerate()
        .map(|(i, r)| RuleJson {
            index: i,
            text: words::rule(r, &p.namespace, dir),
            peers: r.peers.iter().map(|x| peer_json(x, &p.namespace)).collect(),
            ports: r.ports.iter().map(|x| port_json(x, on_pod)).collect(),
        })
        .collect()
}

fn direction_summary(p: &Policy, dir: Direction) -> String {
    if !p.affects(dir) {
        return format!("does not affect {dir}");
    }
    let rules = p.rules(dir);
    if rules.is_empty() {
        return format!("denies all {dir} (isolates, with no {dir} rules)");
    }
    rules
        .iter()
        .map(|r| words::rule(r, &p.namespace, dir))
        .collect::<Vec<_>>()
        .join("; ")
}

impl Engine<'_> {
    fn policy_json(
        &self,
        policy: usize,
        dir: Direction,
        on_pod: Option<&crate::model::Pod>,
    ) -> PolicyJson {
        let p = &self.snap.policies[policy];
        PolicyJson {
            namespace: p.namespace.clone(),
            name: p.name.clone(),
            pod_selector: words::selector(&p.pod_selector),
            policy_types: policy_types(p),
            rules: rules_json(p, dir, on_pod),
            summary: direction_summary(p, dir),
            source: p.source.to_string(),
        }
    }

    /// Which policies select the pod, and what they let in and out.
    pub fn explain_pod(&self, pod: usize) -> PodExplanation {
        let p = &self.snap.pods[pod];
        let mut notes = Vec::new();
        if p.host_network {
            notes.push("hostNetwork pod: neither NetworkPolicy nor cluster policies apply to it and pod or namespace selectors never match it; peers see it as its node's address (ipBlock, networks, nodes)".into());
        }
        if let crate::model::PodOrigin::Workload { kind, name } = &p.origin {
            notes.push(format!("virtual pod: the pod template of {kind} {name}"));
        }
        notes.push("traffic from the pod's own node (kubelet probes) and from the pod to itself is always allowed".into());
        let dir_json = |dir: Direction| {
            let pols = self.isolating_pod(pod, dir);
            let summary = if p.host_network {
                "not subject to NetworkPolicy (hostNetwork)".to_string()
            } else if pols.is_empty() {
                format!("not isolated: all {dir} is allowed (no policy selects this pod for {dir})")
            } else {
                let allows: Vec<String> = pols
                    .iter()
                    .flat_map(|&i| {
                        let pol = &self.snap.policies[i];
                        pol.rules(dir)
                            .iter()
                            .map(move |r| words::rule(r, &pol.namespace, dir))
                    })
                    .collect();
                if allows.is_empty() {
                    format!(
                        "isolated: all {dir} is denied ({} with no {dir} rules)",
                        pols.iter()
                            .map(|&i| self.snap.policies[i].key())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                } else {
                    format!(
                        "isolated: only what these rules allow: {}",
                        allows.join("; ")
                    )
                }
            };
            DirectionJson {
                isolated: !pols.is_empty(),
                summary,
                policies: pols
                    .iter()
                    .map(|&i| {
                        self.policy_json(
                            i,
                            dir,
                            if dir == Direction::Ingress {
                                Some(p)
                            } else {
                                None
                            },
                        )
                    })
                    .collect(),
            }
        };
        let cluster_policies: Vec<ClusterPolicyJson> = self
            .cluster_selecting_pod(pod)
            .into_iter()
            .map(|i| self.cluster_policy_json(i))
            .collect();
        if !cluster_policies.is_empty() {
            notes.push("cluster policies decide first (Admin tier) and last (Baseline tier): a connection their rules do not match goes on as if they were absent".into());
        }
        PodExplanation {
            pod: p.key(),
            labels: p.labels.clone(),
            ingress: dir_json(Direction::Ingress),
            egress: dir_json(Direction::Egress),
            cluster_policies,
            notes,
        }
    }

    /// What a policy selects and allows.
    pub fn explain_policy(&self, policy: usize) -> PolicyExplanation {
        let p = &self.snap.policies[policy];
        let mut notes = Vec::new();
        if !p.types_explicit {
            notes.push(format!(
                "policyTypes omitted: the API server sets Ingress{}",
                if p.types_egress {
                    " and Egress (spec.egress has rules)"
                } else {
                    " only (spec.egress has no rules, so egress is not isolated)"
                }
            ));
        }
        if p.types_ingress && p.ingress.is_empty() {
            notes.push("Ingress is listed with no ingress rules: selected pods accept no ingress (default deny)".into());
        }
        if p.types_egress && p.egress.is_empty() {
            notes.push("Egress is listed with no egress rules: selected pods may send nothing, not even DNS".into());
        }
        if !p.types_ingress && !p.ingress.is_empty() {
            notes.push(
                "spec.ingress has rules but policyTypes does not list Ingress: they are ignored"
                    .into(),
            );
        }
        if !p.types_egress && !p.egress.is_empty() {
            notes.push(
                "spec.egress has rules but policyTypes does not list Egress: they are ignored"
                    .into(),
            );
        }
        let has_ip_block = Direction::BOTH.iter().any(|d| {
            p.rules(*d)
                .iter()
                .any(|r| r.peers.iter().any(|x| matches!(x, Peer::IpBlock(_))))
        });
        if has_ip_block {
            notes.push("ipBlock is judged against pod IPs too (as the upstream e2e tests expect); some CNIs apply it only to traffic leaving the cluster".into());
        }
        let dir_rules = |dir: Direction| DirectionRulesJson {
            affected: p.affects(dir),
            rules: rules_json(p, dir, None),
            summary: direction_summary(p, dir),
        };
        PolicyExplanation {
            policy: p.key(),
            namespace: p.namespace.clone(),
            name: p.name.clone(),
            pod_selector: words::selector(&p.pod_selector),
            selects: self
                .selected_pods(policy)
                .into_iter()
                .map(|i| self.snap.pods[i].key())
                .collect(),
            ingress: dir_rules(Direction::Ingress),
            egress: dir_rules(Direction::Egress),
            notes,
            source: p.source.to_string(),
        }
    }

    fn ep_name(&self, ep: Endpoint) -> String {
        match ep {
            Endpoint::Pod(p) => self.snap.pods[p].key(),
            Endpoint::Ip(ip) => ip.to_string(),
        }
    }

    fn half_json(&self, t: &Traffic, h: &HalfVerdict) -> HalfJson {
        let dir = h.direction;
        let subject_ep = if dir == Direction::Egress {
            t.from
        } else {
            t.to
        };
        let subject = self.ep_name(subject_ep);
        let isolating: Vec<PolicyName> = match subject_ep {
            Endpoint::Pod(p) => self
                .isolating(p, dir)
                .iter()
                .map(|&i| PolicyName::of(&self.snap.policies[i]))
                .collect(),
            Endpoint::Ip(_) => vec![],
        };
        let mut out = HalfJson {
            allowed: h.allowed,
            subject: subject.clone(),
            tier: h.tier,
            reason: "",
            cluster_policy: None,
            passed: h
                .passed
                .iter()
                .flatten()
                .map(|r| self.cluster_rule_title(*r))
                .collect(),
            cluster: self.cluster_tier_traces(t, dir),
            ambiguous: h.order_dependent,
            policy: None,
            rule: None,
            rule_text: None,
            isolating,
            near_miss: None,
            text: String::new(),
        };
        self.describe_reason(&mut out, t, h, &subject);
        // The Pass chain first: "admin cnp/t rule 'p' passes to NetworkPolicy; ... allows".
        if !out.passed.is_empty() {
            out.text = self.pass_chain(h, &out.text);
        }
        if h.reason == Reason::NotIsolated && !out.cluster.is_empty() {
            out.text = format!("{}; no cluster rule decides it either", out.text);
        }
        out
    }

    /// The reason, in the JSON's terms and in words.
    fn describe_reason(&self, out: &mut HalfJson, t: &Traffic, h: &HalfVerdict, subject: &str) {
        let dir = h.direction;
        let verb = if dir == Direction::Egress {
            "send"
        } else {
            "receive"
        };
        match h.reason {
            Reason::SelfTraffic => {
                out.reason = "self";
                out.text = "a pod's traffic to itself is always allowed".into();
            }
            Reason::OutsideCluster => {
                out.reason = "outside-cluster";
                out.text = format!(
                    "{subject} is not a pod of the cluster: no NetworkPolicy applies to its {dir}"
                );
            }
            Reason::HostNetwork => {
                out.reason = "host-network";
                out.text = format!(
                    "{subject} uses the host network: neither NetworkPolicy nor cluster policies apply to it"
                );
            }
            Reason::NotIsolated => {
                out.reason = "not-isolated";
                out.text =
                    format!("no policy selects {subject} for {dir}, so it may {verb} anything");
            }
            Reason::AllowedBy(r) => {
                let pol = &self.snap.policies[r.policy];
                let rule = &pol.rules(dir)[r.rule];
                out.reason = "allowed-by-rule";
                out.policy = Some(PolicyName::of(pol));
                out.rule = Some(r.rule);
                let text = words::rule(rule, &pol.namespace, dir);
                out.text = format!("allowed by {} {dir} rule {}: {text}", pol.key(), r.rule);
                out.rule_text = Some(text);
            }
            Reason::ClusterRule(r) => {
                let cp = &self.snap.cluster_policies[r.policy];
                let rule = &cp.rules(dir)[r.rule];
                out.reason = "cluster-rule";
                out.rule = Some(r.rule);
                out.cluster_policy = Some(cp.key());
                let text = words::cluster_rule(rule, dir);
                let verb = match rule.action {
                    crate::model::Action::Accept => "accepts",
                    crate::model::Action::Deny => "denies",
                    crate::model::Action::Pass => "passes",
                };
                out.text = format!("{} {verb} ({dir}): {text}", self.cluster_rule_title(r));
                out.rule_text = Some(text);
            }
            Reason::NoRuleAllows => self.describe_no_rule(out, t, dir, subject),
        }
    }

    /// Denied because no rule of the isolating policies allows it: which ones, and the rule that
    /// came closest.
    fn describe_no_rule(&self, out: &mut HalfJson, t: &Traffic, dir: Direction, subject: &str) {
        out.reason = "no-rule-allows";
        let names: Vec<String> = out
            .isolating
            .iter()
            .map(|p| format!("{}/{}", p.namespace, p.name))
            .collect();
        out.text = format!(
            "{subject} is isolated for {dir} by {} and no rule allows this",
            names.join(", ")
        );
        if let Some(nm) = self.near_miss(t, dir) {
            let pol = &self.snap.policies[nm.policy];
            if let Some(ri) = nm.rule {
                out.text.push_str(&format!(
                    "; closest: {} {dir} rule {ri} ({}), but {}",
                    pol.key(),
                    nm.rule_text,
                    nm.failed.join("; ")
                ));
            }
            out.near_miss = Some(NearMissJson {
                policy: PolicyName::of(pol),
                miss: nm,
            });
        }
    }

    /// "admin cnp/t rule 'p' passes to NetworkPolicy; ...; <text>".
    fn pass_chain(&self, h: &HalfVerdict, text: &str) -> String {
        let mut chain: Vec<String> = h
            .passed
            .iter()
            .flatten()
            .map(|r| {
                let to = match self.snap.cluster_policies[r.policy].tier {
                    crate::model::ClusterTier::Admin => "NetworkPolicy",
                    crate::model::ClusterTier::Baseline => "the default (allowed)",
                };
                format!("{} passes to {to}", self.cluster_rule_title(*r))
            })
            .collect();
        chain.push(text.to_string());
        chain.join("; ")
    }

    /// Why A can or cannot reach B on one port, naming the deciding rule or the near miss.
    pub fn explain_traffic(&self, t: &Traffic) -> TrafficExplanation {
        let v = self.verdict(t);
        let mut notes = Vec::new();
        let uses_ip_block = |ep: Endpoint, dir: Direction| match ep {
            Endpoint::Pod(p) => self.isolating(p, dir).iter().any(|&i| {
                self.snap.policies[i]
                    .rules(dir)
                    .iter()
                    .any(|r| r.peers.iter().any(|x| matches!(x, Peer::IpBlock(_))))
            }),
            Endpoint::Ip(_) => false,
        };
        if uses_ip_block(t.from, Direction::Egress) || uses_ip_block(t.to, Direction::Ingress) {
            notes.push("ipBlock rules are judged against pod IPs too (the upstream e2e tests expect this); some CNIs only apply ipBlock to traffic leaving the cluster".into());
        }
        notes.extend(self.domain_name_notes(t));
        if v.ambiguous {
            notes.push("ambiguous: cluster policies of equal priority disagree on this connection; the answer depends on the order your network plugin gives them (give them different priorities to decide)".into());
        }
        if let (Endpoint::Pod(a), Endpoint::Pod(b)) = (t.from, t.to) {
            for p in [a, b] {
                if self.pod_addresses(p).is_empty()
                    && (uses_ip_block(t.from, Direction::Egress)
                        || uses_ip_block(t.to, Direction::Ingress))
                {
                    notes.push(format!(
                        "{} has no known IP, so ipBlock rules cannot match it",
                        self.snap.pods[p].key()
                    ));
                }
            }
        }
        TrafficExplanation {
            from: self.ep_name(t.from),
            to: self.ep_name(t.to),
            protocol: t.probe.protocol.as_str().to_string(),
            port: t.probe.port,
            allowed: v.allowed,
            ambiguous: v.ambiguous,
            egress: self.half_json(t, &v.egress),
            ingress: self.half_json(t, &v.ingress),
            notes,
        }
    }
}

/// Every (protocol, port) that the policies or the pods' container ports name: the default
/// probe set of `matrix` and `probe`.
pub fn default_probes(snap: &crate::model::Snapshot, pods: &[usize]) -> Vec<Probe> {
    let mut set = std::collections::BTreeSet::new();
    for pol in &snap.policies {
        for dir in Direction::BOTH {
            for rule in pol.rules(dir) {
                for p in &rule.ports {
                    if let Some(PortSpec::Number(n)) = p.port {
                        set.insert(Probe::new(p.protocol, n));
                        if let Some(e) = p.end_port {
                            set.insert(Probe::new(p.protocol, e));
                        }
                    }
                }
            }
        }
    }
    for cp in &snap.cluster_policies {
        for dir in Direction::BOTH {
            for rule in cp.rules(dir) {
                for p in &rule.ports {
                    if let crate::model::ClusterPort::Range {
                        protocol,
                        start,
                        end,
                    } = p
                    {
                        set.insert(Probe::new(*protocol, *start));
                        set.insert(Probe::new(*protocol, *end));
                    }
                }
            }
        }
    }
    for &i in pods {
        for cp in &snap.pods[i].ports {
            set.insert(Probe::new(cp.protocol, cp.port));
        }
    }
    set.into_iter().collect()
}
