//! Advice for a failing check: facts that name the likely mistake, each read off the engine's
//! own answers (which rule allowed, which policies isolate, which peer matched, what a policy
//! selects). Nothing here decides a verdict.
//!
//! `Advisor` is the place for more sources of advice: an advisor built on `lint` findings (the
//! AND/OR rule, the DNS rule, policyTypes defaulting) can be passed to `check::evaluate` next to
//! the built-in `EngineFacts`, filtering the findings to `CheckContext::involved_policies`.

use super::spec::{CheckSpec, Target};
use crate::engine::{words, Endpoint, Engine, HalfVerdict, Reason, RuleRef, Traffic, Verdict};
use crate::model::{Direction, NamespaceScope, Peer, Policy, Probe, Protocol};

/// Everything an advisor may look at for one failing check.
pub struct CheckContext<'a, 's> {
    pub engine: &'a Engine<'s>,
    pub check: &'a CheckSpec,
    pub traffic: Traffic,
    pub verdict: Verdict,
}

impl CheckContext<'_, '_> {
    /// The pod whose policies decide a direction (the source for egress, the destination for
    /// ingress).
    pub fn subject(&self, dir: Direction) -> Option<usize> {
        match (dir, self.traffic.from, self.traffic.to) {
            (Direction::Egress, Endpoint::Pod(p), _)
            | (Direction::Ingress, _, Endpoint::Pod(p)) => Some(p),
            _ => None,
        }
    }

    /// Policies that took part in the verdict: those isolating either side and those whose
    /// rule allowed a side (indices into `Snapshot::policies`).
    pub fn involved_policies(&self) -> Vec<usize> {
        let mut v = Vec::new();
        for h in [self.verdict.egress, self.verdict.ingress] {
            if let Some(p) = self.subject(h.direction) {
                v.extend_from_slice(self.engine.isolating(p, h.direction));
            }
            if let Reason::AllowedBy(r) = h.reason {
                v.push(r.policy);
            }
        }
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// A source of advice for failing checks.
pub trait Advisor {
    /// Lines of advice; called only for checks that fail.
    fn advise(&self, cx: &CheckContext<'_, '_>) -> Vec<String>;
}

/// The built-in advisor: facts from the engine about the usual NetworkPolicy mistakes.
pub struct EngineFacts;

impl Advisor for EngineFacts {
    fn advise(&self, cx: &CheckContext<'_, '_>) -> Vec<String> {
        let mut out = Vec::new();
        let v = cx.verdict;
        if v.allowed == cx.check.allowed {
            return out;
        }
        let halves = [v.egress, v.ingress];
        if v.allowed {
            // Must be denied, but is open.
            for h in &halves {
                if let Reason::AllowedBy(r) = h.reason {
                    out.extend(separate_peers(cx, r));
                    out.extend(broad_rule(cx, r));
                }
                if h.reason == Reason::NotIsolated {
                    out.extend(ignored_rules(cx, h.direction));
                }
            }
            // Nothing restricts the connection at all: say why the policies do not bite.
            if halves.iter().all(|h| h.reason == Reason::NotIsolated) {
                for h in &halves {
                    out.extend(not_isolating(cx, h.direction));
                }
            }
        } else {
            if cx.check.target == Target::Dns {
                out.extend(dns_blocked(cx));
            }
            for h in halves.iter().filter(|h| !h.allowed) {
                out.extend(deny_only(cx, h.direction));
                out.extend(unmatched_namespace_selector(cx, h.direction));
                out.extend(policies_elsewhere(cx, h.direction, true));
            }
            out.extend(one_half_only(cx, &halves));
        }
        out
    }
}

fn pod_key(cx: &CheckContext<'_, '_>, p: usize) -> String {
    cx.engine.snap.pods[p].key()
}

fn types_text(p: &Policy) -> String {
    let mut v = Vec::new();
    if p.types_ingress {
        v.push("Ingress");
    }
    if p.types_egress {
        v.push("Egress");
    }
    format!("[{}]", v.join(", "))
}

fn capital(dir: Direction) -> &'static str {
    match dir {
        Direction::Ingress => "Ingress",
        Direction::Egress => "Egress",
    }
}

/// A rule that let the connection in through a namespaceSelector-only (or podSelector-only)
/// peer while another peer of the same rule has the other selector: the AND/OR mistake.
fn separate_peers(cx: &CheckContext<'_, '_>, r: RuleRef) -> Vec<String> {
    let pol = &cx.engine.snap.policies[r.policy];
    let rule = &pol.rules(r.direction)[r.rule];
    let other = match r.direction {
        Direction::Ingress => cx.traffic.from,
        Direction::Egress => cx.traffic.to,
    };
    let Some(hit) = (0..rule.peers.len()).find(|&i| {
        cx.engine
            .peer_matches(r.policy, r.direction, r.rule, i, other)
    }) else {
        return Vec::new();
    };
    #[derive(PartialEq)]
    enum Kind {
        NamespaceOnly,
        PodOnly,
        Other,
    }
    let kind = |p: &Peer| match p {
        Peer::Pods {
            namespaces: NamespaceScope::Selector(_),
            pods,
        } if pods.is_empty() => Kind::NamespaceOnly,
        Peer::Pods {
            namespaces: NamespaceScope::PolicyNamespace,
            ..
        } => Kind::PodOnly,
        _ => Kind::Other,
    };
    let hit_kind = kind(&rule.peers[hit]);
    let partner = match hit_kind {
        Kind::NamespaceOnly => rule.peers.iter().position(|p| kind(p) == Kind::PodOnly),
        Kind::PodOnly => rule
            .peers
            .iter()
            .position(|p| kind(p) == Kind::NamespaceOnly),
        Kind::Other => None,
    };
    let Some(partner) = partner else {
        return Vec::new();
    };
    let (ns_peer, pod_peer) = if hit_kind == Kind::NamespaceOnly {
        (hit, partner)
    } else {
        (partner, hit)
    };
    let name = match other {
        Endpoint::Pod(p) => pod_key(cx, p),
        Endpoint::Ip(ip) => ip.to_string(),
    };
    vec![format!(
        "in {} {} rule {}, namespaceSelector and podSelector are separate peers (OR): \"{}\" OR \"{}\"; {name} gets in through \"{}\". One peer with both namespaceSelector and podSelector (podSelector under the same dash) means AND: only pods that match both",
        pol.key(),
        r.direction,
        r.rule,
        words::peer(&rule.peers[ns_peer], &pol.namespace),
        words::peer(&rule.peers[pod_peer], &pol.namespace),
        words::peer(&rule.peers[hit], &pol.namespace),
    )]
}

/// A rule that let a forbidden connection through because it leaves out `ports` or peers, or
/// shares its ports among several peers.
fn broad_rule(cx: &CheckContext<'_, '_>, r: RuleRef) -> Vec<String> {
    let pol = &cx.engine.snap.policies[r.policy];
    let rule = &pol.rules(r.direction)[r.rule];
    let at = format!("{} {} rule {}", pol.key(), r.direction, r.rule);
    let (field, sources) = match r.direction {
        Direction::Ingress => (
            "from",
            "from every source, in every namespace and outside the cluster",
        ),
        Direction::Egress => ("to", "to every destination, in the cluster and outside it"),
    };
    let mut out = Vec::new();
    match (rule.peers.is_empty(), rule.ports.is_empty()) {
        (true, true) => out.push(format!(
            "{at} is empty: a rule with neither `{field}` nor `ports` allows all traffic {sources}; to deny all {}, give no rules at all (omit `{}` or write `{}: []`)",
            r.direction, r.direction, r.direction
        )),
        (true, false) => out.push(format!(
            "{at} has no `{field}`: its ports are open {sources}"
        )),
        (false, true) => out.push(format!(
            "{at} has no `ports`: it allows every port and protocol to its peers"
        )),
        (false, false) if rule.peers.len() > 1 && rule.ports.len() > 1 => out.push(format!(
            "{at} has {} peers and {} ports: every peer of a rule gets every port of it; give each source its own rule with only its ports",
            rule.peers.len(),
            rule.ports.len()
        )),
        (false, false) => {}
    }
    out
}

/// Rules of a direction that policyTypes leaves out: written, but ignored.
fn ignored_rules(cx: &CheckContext<'_, '_>, dir: Direction) -> Vec<String> {
    let Some(subject) = cx.subject(dir) else {
        return Vec::new();
    };
    cx.engine
        .selecting(subject)
        .into_iter()
        .map(|i| &cx.engine.snap.policies[i])
        .filter(|p| p.types_explicit && !p.affects(dir) && !p.rules(dir).is_empty())
        .map(|p| {
            format!(
                "{} has {dir} rules, but its policyTypes {} does not list {}: the {dir} rules are ignored and {} is not isolated for {dir}",
                p.key(),
                types_text(p),
                capital(dir),
                pod_key(cx, subject)
            )
        })
        .collect()
}

/// Why no policy isolates the subject in `dir`: policyTypes, namespace or selector.
fn not_isolating(cx: &CheckContext<'_, '_>, dir: Direction) -> Vec<String> {
    let Some(subject) = cx.subject(dir) else {
        return Vec::new();
    };
    let snap = cx.engine.snap;
    let pod = &snap.pods[subject];
    let mut out = Vec::new();
    for i in cx.engine.selecting(subject) {
        let p = &snap.policies[i];
        if p.affects(dir) || !p.rules(dir).is_empty() {
            continue;
        }
        if !p.types_explicit {
            out.push(format!(
                "{} omits policyTypes, so the API server sets it to [Ingress] only (it adds Egress only when spec.egress has at least one rule; `egress: []` has none): {} does not isolate {}'s egress. List both Ingress and Egress in policyTypes",
                p.key(),
                p.key(),
                pod.key()
            ));
        } else {
            out.push(format!(
                "{} selects {} but its policyTypes {} does not list {}: it does not isolate {dir}",
                p.key(),
                pod.key(),
                types_text(p),
                capital(dir)
            ));
        }
    }
    for (i, p) in snap.policies.iter().enumerate() {
        if p.namespace == pod.namespace && p.affects(dir) && cx.engine.selected_pods(i).is_empty() {
            out.push(format!(
                "{} selects no pod at all: no pod of {} has {} ({} has {}); a podSelector matches labels, not pod names",
                p.key(),
                p.namespace,
                words::selector(&p.pod_selector),
                pod.key(),
                labels_text(&pod.labels)
            ));
        }
    }
    out.extend(policies_elsewhere(cx, dir, false));
    out
}

fn labels_text(labels: &crate::model::Labels) -> String {
    if labels.is_empty() {
        return "no labels".into();
    }
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Policies in another namespace whose podSelector would match the subject: a policy only
/// selects pods of its own namespace. With `only_unused`, only those that select no pod where
/// they live (clearly misplaced) and have rules in `dir`.
fn policies_elsewhere(cx: &CheckContext<'_, '_>, dir: Direction, only_unused: bool) -> Vec<String> {
    let Some(subject) = cx.subject(dir) else {
        return Vec::new();
    };
    let snap = cx.engine.snap;
    let pod = &snap.pods[subject];
    snap.policies
        .iter()
        .enumerate()
        .filter(|(_, p)| {
            p.namespace != pod.namespace && p.affects(dir) && p.pod_selector.matches(&pod.labels)
        })
        .filter(|(i, p)| {
            !only_unused || (!p.rules(dir).is_empty() && cx.engine.selected_pods(*i).is_empty())
        })
        .map(|(_, p)| {
            format!(
                "{} would select {} by its labels, but it lives in namespace {}: a NetworkPolicy only selects pods of its own namespace, so it does not apply to {}",
                p.key(),
                pod.key(),
                p.namespace,
                pod.key()
            )
        })
        .collect()
}

/// An isolating policy that lists a direction without rules for it, while it has rules for the
/// other direction: it denies all of `dir`, probably by accident.
fn deny_only(cx: &CheckContext<'_, '_>, dir: Direction) -> Vec<String> {
    let Some(subject) = cx.subject(dir) else {
        return Vec::new();
    };
    let other = match dir {
        Direction::Ingress => Direction::Egress,
        Direction::Egress => Direction::Ingress,
    };
    cx.engine
        .isolating(subject, dir)
        .iter()
        .map(|&i| &cx.engine.snap.policies[i])
        .filter(|p| p.rules(dir).is_empty() && !p.rules(other).is_empty())
        .map(|p| {
            if p.types_explicit {
                format!(
                    "{} lists {} in policyTypes but has no {dir} rules: it denies all {dir} of the pods it selects, {} included",
                    p.key(),
                    capital(dir),
                    pod_key(cx, subject)
                )
            } else {
                format!(
                    "{} omits policyTypes, so the API server adds Ingress, and it has no ingress rules: it denies all ingress of the pods it selects, {} included",
                    p.key(),
                    pod_key(cx, subject)
                )
            }
        })
        .collect()
}

/// The nearest rule's namespaceSelector matches no namespace at all (a guessed label).
fn unmatched_namespace_selector(cx: &CheckContext<'_, '_>, dir: Direction) -> Vec<String> {
    let Some(nm) = cx.engine.near_miss(&cx.traffic, dir) else {
        return Vec::new();
    };
    let Some(ri) = nm.rule else {
        return Vec::new();
    };
    let snap = cx.engine.snap;
    let pol = &snap.policies[nm.policy];
    let mut out = Vec::new();
    for peer in &pol.rules(dir)[ri].peers {
        let Peer::Pods {
            namespaces: NamespaceScope::Selector(sel),
            ..
        } = peer
        else {
            continue;
        };
        if sel.is_empty() || snap.namespaces.values().any(|n| sel.matches(&n.labels)) {
            continue;
        }
        let mut s = format!(
            "no namespace has the labels {} (namespaceSelector of {} {dir} rule {ri}), so that peer matches nothing",
            words::selector(sel),
            pol.key()
        );
        if sel.match_labels.contains_key("name") {
            s.push_str(
                "; namespaces have no `name` label unless someone adds it: every namespace carries kubernetes.io/metadata.name=<its name>",
            );
        }
        out.push(s);
    }
    out
}

/// Exactly one half denies while the other is allowed by a rule: both halves must allow.
fn one_half_only(cx: &CheckContext<'_, '_>, halves: &[HalfVerdict; 2]) -> Vec<String> {
    let [a, b] = halves;
    let (allowing, denying) = match (a.allowed, b.allowed) {
        (true, false) => (a, b),
        (false, true) => (b, a),
        _ => return Vec::new(),
    };
    let Reason::AllowedBy(r) = allowing.reason else {
        return Vec::new();
    };
    let (Some(ok_pod), Some(bad_pod)) = (
        cx.subject(allowing.direction),
        cx.subject(denying.direction),
    ) else {
        return Vec::new();
    };
    vec![format!(
        "{}'s {} allows this ({} {} rule {}), but {}'s {} does not: a connection needs both the source's egress and the destination's ingress",
        pod_key(cx, ok_pod),
        allowing.direction,
        cx.engine.snap.policies[r.policy].key(),
        r.direction,
        r.rule,
        pod_key(cx, bad_pod),
        denying.direction
    )]
}

/// A required DNS lookup is blocked.
fn dns_blocked(cx: &CheckContext<'_, '_>) -> Vec<String> {
    let (Endpoint::Pod(from), Endpoint::Pod(dns)) = (cx.traffic.from, cx.traffic.to) else {
        return Vec::new();
    };
    let engine = cx.engine;
    let snap = engine.snap;
    let mut out = Vec::new();
    if !cx.verdict.egress.allowed {
        let isolating: Vec<String> = engine
            .isolating(from, Direction::Egress)
            .iter()
            .map(|&i| snap.policies[i].key())
            .collect();
        out.push(format!(
            "egress is isolated (by {}) but DNS (UDP 53) to the cluster DNS in kube-system is not allowed: give DNS an egress rule of its own, ports UDP 53 and TCP 53, to namespaceSelector kubernetes.io/metadata.name=kube-system (the DNS pods are labelled k8s-app=kube-dns)",
            isolating.join(", ")
        ));
        let tcp = Traffic {
            probe: Probe::new(Protocol::Tcp, 53),
            ..cx.traffic
        };
        if engine.verdict(&tcp).allowed {
            out.push("TCP 53 to the cluster DNS is allowed but UDP 53 is not: a port written without `protocol` is TCP, and DNS queries go over UDP first".into());
        }
        for &pi in engine.isolating(from, Direction::Egress) {
            let pol = &snap.policies[pi];
            for (ri, rule) in pol.egress.iter().enumerate() {
                let port_ok = !rule.ports.is_empty()
                    && rule
                        .ports
                        .iter()
                        .any(|p| engine.port_matches(p, cx.traffic.probe, cx.traffic.to));
                let peer_ok = (0..rule.peers.len())
                    .any(|i| engine.peer_matches(pi, Direction::Egress, ri, i, cx.traffic.to));
                if port_ok && !rule.peers.is_empty() && !peer_ok {
                    out.push(format!(
                        "{} egress rule {ri} allows UDP 53 only to {}: the cluster DNS ({}, labels k8s-app=kube-dns, namespace kube-system) is not one of them; `to` and `ports` of one rule must both match",
                        pol.key(),
                        words::peers(&rule.peers, &pol.namespace, Direction::Egress),
                        snap.pods[dns].key()
                    ));
                }
            }
        }
    }
    // DNS written as ingress: the reverse direction is allowed into the pod.
    let reverse = Traffic {
        from: cx.traffic.to,
        to: cx.traffic.from,
        probe: cx.traffic.probe,
    };
    for pi in engine.selecting(from) {
        let pol = &snap.policies[pi];
        if !pol.affects(Direction::Ingress)
            || pol.affects(Direction::Egress) && !pol.egress.is_empty()
        {
            continue;
        }
        if (0..pol.ingress.len()).any(|ri| engine.rule_allows(pi, Direction::Ingress, ri, &reverse))
        {
            out.push(format!(
                "{} allows UDP 53 as ingress to {} (from the DNS side): a DNS query is the pod's egress, and the replies need no rule",
                pol.key(),
                snap.pods[from].key()
            ));
        }
    }
    out
}
