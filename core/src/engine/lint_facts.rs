//! Facts about selectors and rules that `lint` asks: whether a selector can match anything, a
//! label set it matches, whether one selector matches everything another does, and whether a
//! rule allows everything. Semantics, so they live in the engine.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{
    ClusterPeer, ClusterPort, ClusterRule, ClusterSubject, LabelSelector, Labels, NamespacedPods,
    Operator, Rule,
};

/// What a selector requires of one label key, gathered from matchLabels and matchExpressions.
#[derive(Default, Debug)]
struct KeyConstraint {
    /// The value must be one of each of these sets (matchLabels and In).
    one_of: Vec<BTreeSet<String>>,
    /// The value must not be any of these (NotIn); a missing key satisfies NotIn.
    none_of: BTreeSet<String>,
    exists: bool,
    absent: bool,
}

impl KeyConstraint {
    /// The values allowed by every `one_of` set (None: no set constrains the value).
    fn allowed(&self) -> Option<BTreeSet<String>> {
        let mut sets = self.one_of.iter();
        let first = sets.next()?.clone();
        Some(sets.fold(first, |acc, s| acc.intersection(s).cloned().collect()))
    }

    /// Does the key have to be present?
    fn requires_key(&self) -> bool {
        self.exists || !self.one_of.is_empty()
    }
}

fn constraints(s: &LabelSelector) -> BTreeMap<&str, KeyConstraint> {
    let mut out: BTreeMap<&str, KeyConstraint> = BTreeMap::new();
    for (k, v) in &s.match_labels {
        out.entry(k.as_str())
            .or_default()
            .one_of
            .push(BTreeSet::from([v.clone()]));
    }
    for r in &s.match_expressions {
        let c = out.entry(r.key.as_str()).or_default();
        match r.operator {
            Operator::In => c.one_of.push(r.values.iter().cloned().collect()),
            Operator::NotIn => c.none_of.extend(r.values.iter().cloned()),
            Operator::Exists => c.exists = true,
            Operator::DoesNotExist => c.absent = true,
        }
    }
    out
}

impl LabelSelector {
    /// Labels of some object this selector matches; None when no label set can satisfy it
    /// (e.g. `app=a` together with `app in (b)`, or `tier` Exists and DoesNotExist).
    pub fn example(&self) -> Option<Labels> {
        let mut labels = Labels::new();
        for (key, c) in constraints(self) {
            if c.absent {
                if c.requires_key() {
                    return None;
                }
                continue;
            }
            let value = match c.allowed() {
                Some(values) => values.into_iter().find(|v| !c.none_of.contains(v))?,
                None if c.exists => (0..=c.none_of.len())
                    .map(|i| format!("x{i}"))
                    .find(|v| !c.none_of.contains(v))?,
                // Only NotIn: leaving the key out satisfies it.
                None => continue,
            };
            labels.insert(key.to_string(), value);
        }
        self.matches(&labels).then_some(labels)
    }

    /// Can any label set satisfy the selector?
    pub fn satisfiable(&self) -> bool {
        self.example().is_some()
    }

    /// True only when every label set `other` matches is matched by `self` too (conservative:
    /// false when unsure). The empty selector covers everything.
    pub fn covers(&self, other: &LabelSelector) -> bool {
        if !other.satisfiable() {
            return true;
        }
        let theirs = constraints(other);
        constraints(self).into_iter().all(|(key, mine)| {
            let Some(t) = theirs.get(key) else {
                // `other` says nothing about the key: only a constraint that a missing key
                // satisfies (NotIn, DoesNotExist) could still hold, and not for every value.
                return false;
            };
            let t_allowed = t.allowed();
            let t_values_within = |set: &BTreeSet<String>| {
                t_allowed
                    .as_ref()
                    .is_some_and(|a| a.iter().all(|v| set.contains(v) && !t.none_of.contains(v)))
            };
            if mine.absent {
                return t.absent;
            }
            if let Some(my_allowed) = mine.allowed() {
                if !t_values_within(&my_allowed) {
                    return false;
                }
            } else if mine.exists && !t.requires_key() {
                return false;
            }
            // Every value `other` admits must avoid my NotIn values.
            mine.none_of.is_empty()
                || t.absent
                || t_allowed
                    .as_ref()
                    .is_some_and(|a| a.iter().all(|v| !mine.none_of.contains(v)))
                || mine.none_of.is_subset(&t.none_of)
        })
    }
}

impl Rule {
    /// `from`/`to` and `ports` both empty: every peer on every port.
    pub fn allows_everything(&self) -> bool {
        self.peers.is_empty() && self.ports.is_empty()
    }
}

impl LabelSelector {
    /// Does this selector match every object, as an empty one does?
    fn covers_everything(&self) -> bool {
        self.covers(&LabelSelector::default())
    }
}

impl NamespacedPods {
    /// Every pod `other` chooses, `self` chooses too (conservative).
    pub fn covers(&self, other: &NamespacedPods) -> bool {
        self.namespaces.covers(&other.namespaces) && self.pods.covers(&other.pods)
    }

    pub fn satisfiable(&self) -> bool {
        self.namespaces.satisfiable() && self.pods.satisfiable()
    }
}

impl ClusterSubject {
    /// Every pod `other` applies to, `self` applies to too (conservative: false when unsure).
    pub fn covers(&self, other: &ClusterSubject) -> bool {
        match (self, other) {
            (ClusterSubject::Namespaces(a), ClusterSubject::Namespaces(b)) => a.covers(b),
            (ClusterSubject::Namespaces(a), ClusterSubject::Pods(b)) => a.covers(&b.namespaces),
            (ClusterSubject::Pods(a), ClusterSubject::Namespaces(b)) => {
                a.pods.covers_everything() && a.namespaces.covers(b)
            }
            (ClusterSubject::Pods(a), ClusterSubject::Pods(b)) => a.covers(b),
        }
    }
}

impl ClusterPeer {
    /// Every endpoint `other` matches, `self` matches too (conservative). `networks` that
    /// would cover pod addresses are not counted: pod addresses are not known in general.
    pub fn covers(&self, other: &ClusterPeer) -> bool {
        match (self, other) {
            (ClusterPeer::Namespaces(a), ClusterPeer::Namespaces(b)) => a.covers(b),
            (ClusterPeer::Namespaces(a), ClusterPeer::Pods(b)) => a.covers(&b.namespaces),
            (ClusterPeer::Pods(a), ClusterPeer::Namespaces(b)) => {
                a.pods.covers_everything() && a.namespaces.covers(b)
            }
            (ClusterPeer::Pods(a), ClusterPeer::Pods(b)) => a.covers(b),
            (ClusterPeer::Networks(a), ClusterPeer::Networks(b)) => b
                .iter()
                .all(|nb| a.iter().any(|na| na.cidr.contains(&nb.cidr))),
            (ClusterPeer::Nodes(a), ClusterPeer::Nodes(b)) => a.covers(b),
            (ClusterPeer::DomainNames(a), ClusterPeer::DomainNames(b)) => {
                b.iter().all(|n| a.contains(n))
            }
            _ => false,
        }
    }

    /// Can the peer match anything at all? (False for contradictory selectors.)
    pub fn satisfiable(&self) -> bool {
        match self {
            ClusterPeer::Namespaces(s) | ClusterPeer::Nodes(s) => s.satisfiable(),
            ClusterPeer::Pods(p) => p.satisfiable(),
            ClusterPeer::Networks(n) => !n.is_empty(),
            ClusterPeer::DomainNames(d) => !d.is_empty(),
        }
    }
}

impl ClusterPort {
    /// Every (protocol, port) `other` admits on any destination, `self` admits too.
    pub fn covers(&self, other: &ClusterPort) -> bool {
        match (self, other) {
            (
                ClusterPort::Range {
                    protocol: pa,
                    start: sa,
                    end: ea,
                },
                ClusterPort::Range {
                    protocol: pb,
                    start: sb,
                    end: eb,
                },
            ) => pa == pb && sa <= sb && eb <= ea,
            (ClusterPort::Named(a), ClusterPort::Named(b)) => a == b,
            _ => false,
        }
    }
}

impl ClusterRule {
    /// Every connection `other` matches (for the same subject), `self` matches too: each of
    /// its peers is covered by one of ours, and its ports by ours (conservative).
    pub fn covers(&self, other: &ClusterRule) -> bool {
        let ports = self.ports.is_empty()
            || (!other.ports.is_empty()
                && other
                    .ports
                    .iter()
                    .all(|o| self.ports.iter().any(|m| m.covers(o))));
        ports
            && other
                .peers
                .iter()
                .all(|o| !o.satisfiable() || self.peers.iter().any(|m| m.covers(o)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Requirement;

    fn sel(labels: &[(&str, &str)], exprs: &[(&str, Operator, &[&str])]) -> LabelSelector {
        LabelSelector {
            match_labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            match_expressions: exprs
                .iter()
                .map(|(k, op, vals)| Requirement {
                    key: k.to_string(),
                    operator: *op,
                    values: vals.iter().map(|v| v.to_string()).collect(),
                })
                .collect(),
        }
    }

    #[test]
    fn examples_satisfy_the_selector() {
        let s = sel(
            &[("app", "web")],
            &[
                ("tier", Operator::In, &["a", "b"]),
                ("tier", Operator::NotIn, &["a"]),
                ("env", Operator::Exists, &[]),
                ("env", Operator::NotIn, &["x0"]),
                ("canary", Operator::DoesNotExist, &[]),
                ("zone", Operator::NotIn, &["z"]),
            ],
        );
        let l = s.example().expect("satisfiable");
        assert!(s.matches(&l));
        assert_eq!(l.get("tier").map(String::as_str), Some("b"));
        assert!(!l.contains_key("canary") && !l.contains_key("zone"));
    }

    #[test]
    fn contradictions_are_unsatisfiable() {
        assert!(!sel(&[("app", "a")], &[("app", Operator::In, &["b"])]).satisfiable());
        assert!(!sel(
            &[],
            &[
                ("t", Operator::Exists, &[]),
                ("t", Operator::DoesNotExist, &[])
            ]
        )
        .satisfiable());
        assert!(!sel(
            &[],
            &[("t", Operator::In, &["a"]), ("t", Operator::NotIn, &["a"])]
        )
        .satisfiable());
        assert!(sel(&[], &[]).satisfiable());
    }

    #[test]
    fn covers_is_conservative() {
        let all = sel(&[], &[]);
        let web = sel(&[("app", "web")], &[]);
        let web_prod = sel(&[("app", "web"), ("env", "prod")], &[]);
        assert!(all.covers(&web));
        assert!(web.covers(&web_prod));
        assert!(!web_prod.covers(&web));
        assert!(!web.covers(&all));
        let in_ab = sel(&[], &[("app", Operator::In, &["web", "api"])]);
        assert!(in_ab.covers(&web));
        assert!(!web.covers(&in_ab));
        let exists = sel(&[], &[("app", Operator::Exists, &[])]);
        assert!(exists.covers(&web));
        assert!(!exists.covers(&all));
        let not_db = sel(&[], &[("app", Operator::NotIn, &["db"])]);
        assert!(not_db.covers(&web));
        assert!(!not_db.covers(&all));
    }

    fn ns(labels: &[(&str, &str)]) -> ClusterPeer {
        ClusterPeer::Namespaces(sel(labels, &[]))
    }

    fn pods(ns: &[(&str, &str)], pods: &[(&str, &str)]) -> ClusterPeer {
        ClusterPeer::Pods(NamespacedPods {
            namespaces: sel(ns, &[]),
            pods: sel(pods, &[]),
        })
    }

    fn block(cidr: &str) -> crate::model::IpBlock {
        let net: ipnet::IpNet = cidr.parse().unwrap();
        crate::model::IpBlock {
            cidr_text: cidr.into(),
            cidr: net.trunc(),
            except: Vec::new(),
        }
    }

    fn tcp(start: u16, end: u16) -> ClusterPort {
        ClusterPort::Range {
            protocol: crate::model::Protocol::Tcp,
            start,
            end,
        }
    }

    fn rule(peers: Vec<ClusterPeer>, ports: Vec<ClusterPort>) -> ClusterRule {
        ClusterRule {
            name: String::new(),
            action: crate::model::Action::Deny,
            peers,
            ports,
        }
    }

    #[test]
    fn cluster_peers_cover_conservatively() {
        let all = ns(&[]);
        let x = ns(&[("team", "x")]);
        assert!(all.covers(&x) && all.covers(&pods(&[("team", "x")], &[("app", "a")])));
        assert!(x.covers(&pods(&[("team", "x")], &[("app", "a")])));
        assert!(!pods(&[("team", "x")], &[("app", "a")]).covers(&x));
        assert!(
            pods(&[], &[]).covers(&x),
            "empty pod and namespace selectors: every pod"
        );
        assert!(!x.covers(&all));
        let wide = ClusterPeer::Networks(vec![block("10.0.0.0/8")]);
        assert!(wide.covers(&ClusterPeer::Networks(vec![
            block("10.1.0.0/16"),
            block("10.2.3.4/32")
        ])));
        assert!(!wide.covers(&ClusterPeer::Networks(vec![
            block("10.1.0.0/16"),
            block("192.168.0.0/16")
        ])));
        // Pod addresses are not known in general: networks never cover pod peers.
        assert!(!ClusterPeer::Networks(vec![block("0.0.0.0/0")]).covers(&x));
    }

    #[test]
    fn cluster_rules_cover_peers_and_ports() {
        let broad = rule(vec![ns(&[])], vec![]);
        let narrow = rule(vec![ns(&[("team", "x")])], vec![tcp(80, 80)]);
        assert!(broad.covers(&narrow));
        assert!(!narrow.covers(&broad));
        // Ports: a range covers what is inside it, of its protocol only; none listed = all.
        assert!(rule(vec![ns(&[])], vec![tcp(1, 1024)]).covers(&narrow));
        assert!(!rule(vec![ns(&[])], vec![tcp(81, 1024)]).covers(&narrow));
        let udp = ClusterPort::Range {
            protocol: crate::model::Protocol::Udp,
            start: 1,
            end: 65535,
        };
        assert!(!rule(vec![ns(&[])], vec![udp]).covers(&narrow));
        assert!(!rule(vec![ns(&[])], vec![tcp(80, 80)]).covers(&rule(vec![ns(&[])], vec![])));
        // Every peer of the covered rule needs a covering peer.
        let two = rule(vec![ns(&[("team", "x")]), ns(&[("team", "y")])], vec![]);
        assert!(!rule(vec![ns(&[("team", "x")])], vec![]).covers(&two));
        assert!(rule(vec![ns(&[("team", "y")]), ns(&[("team", "x")])], vec![]).covers(&two));
    }

    #[test]
    fn cluster_subjects_cover() {
        let all = ClusterSubject::Namespaces(sel(&[], &[]));
        let x = ClusterSubject::Namespaces(sel(&[("team", "x")], &[]));
        let x_web = ClusterSubject::Pods(NamespacedPods {
            namespaces: sel(&[("team", "x")], &[]),
            pods: sel(&[("app", "web")], &[]),
        });
        assert!(all.covers(&x) && all.covers(&x_web) && x.covers(&x_web));
        assert!(!x_web.covers(&x) && !x.covers(&all));
    }
}
