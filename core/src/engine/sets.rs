//! The matrix in set algebra. Instead of a verdict per pair of classes, each direction is a set
//! per subject class: the peer classes its egress (or ingress) admits. A rule's peers are a
//! bitset over classes computed once; a subject's set is the union of the sets of the rules of
//! the policies that isolate it; allowed(s, t) = egress(s) ∋ t ∧ ingress(t) ∋ s, one transpose.
//!
//! Tiers answer per subject class with "allow these, deny those, pass on the rest", so ordered
//! first-match tiers (cluster-scoped policy) fit as masks of the still-undecided peers.

use std::collections::HashMap;

use super::bits::{self, BitMatrix};
use super::{ClassId, Decision, Endpoint, Engine, Traffic};
use crate::model::{
    Action, ClusterPort, ClusterTier, ContainerPort, Direction, PolicyPort, PortSpec, Probe,
};

/// The classes a question is asked about (the pods in scope), numbered locally 0..n, with the
/// classes each peer of each rule matches.
pub struct ClassSets<'e, 's> {
    pub(crate) engine: &'e Engine<'s>,
    /// Local class → engine class.
    classes: Vec<ClassId>,
    /// Row per global peer id: the local classes the peer matches.
    peers: BitMatrix,
}

/// What one tier says about a direction, per subject class.
pub struct ClassDecisions {
    /// The distinct answers (subjects that the tier treats alike share one).
    pub groups: Vec<GroupDecision>,
    /// Per local subject class: its answer, or None when the tier passes on every peer.
    pub subject_group: Vec<Option<usize>>,
}

/// For one subject: the peer classes a tier allows and those it denies; the rest pass on.
#[derive(Clone, Default)]
pub struct GroupDecision {
    pub allow: Vec<u64>,
    pub deny: Denied,
    /// Where policies of equal priority tie: the peers on which some other order would allow,
    /// deny or pass on. None: the answer above is the only one.
    pub alternatives: Option<Box<Alternatives>>,
}

/// Peers on which some order of equal priorities gives each decision.
#[derive(Clone, Default)]
pub struct Alternatives {
    pub allow: Vec<u64>,
    pub deny: Vec<u64>,
    pub pass: Vec<u64>,
}

#[derive(Clone, Default)]
pub enum Denied {
    /// Every peer not allowed is denied (an isolated pod under NetworkPolicy).
    #[default]
    AllOthers,
    Classes(Vec<u64>),
}

/// Which destination classes a rule's `ports` admit for one probe.
enum PortsMask {
    Every,
    Nothing,
    Classes(Vec<u64>),
}

impl<'e, 's> ClassSets<'e, 's> {
    /// The set view of `classes` (engine class ids; one may appear several times, for groups of
    /// pods that are one class here but several elsewhere, as `diff` does).
    pub fn new(engine: &'e Engine<'s>, classes: Vec<ClassId>) -> ClassSets<'e, 's> {
        let list = &engine.classes().list;
        let peers = BitMatrix::transpose_of(classes.len(), engine.classes().peer_count, |c| {
            &list[classes[c]].peer_bits
        });
        ClassSets {
            engine,
            classes,
            peers,
        }
    }

    /// Number of classes (local ids are 0..len).
    pub fn len(&self) -> usize {
        self.classes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
    }

    pub fn words(&self) -> usize {
        bits::words_for(self.len())
    }

    /// A pod standing for local class `c`.
    pub fn representative(&self, c: usize) -> usize {
        self.engine.class_members(self.classes[c])[0]
    }

    /// ORs into `dst` the classes a rule's peers match (every class when it names no peer).
    pub fn or_rule_peers(&self, dst: &mut [u64], policy: usize, dir: Direction, rule: usize) {
        let peers = &self.engine.snap.policies[policy].rules(dir)[rule].peers;
        if peers.is_empty() {
            bits::fill(dst, self.len());
            return;
        }
        let base = self.engine.classes().peer_id(policy, dir, rule, 0);
        for k in 0..peers.len() {
            bits::or_into(dst, self.peers.row(base + k));
        }
    }

    /// The classes a rule's peers match.
    pub fn rule_peers(&self, policy: usize, dir: Direction, rule: usize) -> Vec<u64> {
        let mut out = vec![0; self.words()];
        self.or_rule_peers(&mut out, policy, dir, rule);
        out
    }

    /// Destination classes on which a named port admits the probe.
    fn named_port_classes(&self, port: &PolicyPort, probe: Probe) -> Vec<u64> {
        let mut out = vec![0; self.words()];
        for c in 0..self.len() {
            let dest = Endpoint::Pod(self.representative(c));
            if self.engine.port_matches(port, probe, dest) {
                bits::set(&mut out, c);
            }
        }
        out
    }

    /// Which destination classes a rule's ports admit; `named` caches named-port masks.
    fn ports_mask(
        &self,
        ports: &[PolicyPort],
        probe: Probe,
        named: &HashMap<&str, Vec<u64>>,
    ) -> PortsMask {
        if ports.is_empty() {
            return PortsMask::Every;
        }
        let mut mask: Option<Vec<u64>> = None;
        for p in ports {
            match self.engine.port_matches_anywhere(p, probe) {
                Some(true) => return PortsMask::Every,
                Some(false) => {}
                None => {
                    let name_mask = match &p.port {
                        Some(PortSpec::Name(n)) => named.get(n.as_str()),
                        _ => None,
                    };
                    if let Some(m) = name_mask {
                        let acc = mask.get_or_insert_with(|| vec![0; self.words()]);
                        bits::or_into(acc, m);
                    }
                }
            }
        }
        mask.map_or(PortsMask::Nothing, PortsMask::Classes)
    }

    /// Named ports that egress rules use with the probe's protocol, with the destination
    /// classes on which they admit the probe.
    fn named_egress_ports(&self, probe: Probe) -> HashMap<&'s str, Vec<u64>> {
        let mut out = HashMap::new();
        for pol in &self.engine.snap.policies {
            for rule in &pol.egress {
                for p in &rule.ports {
                    if let (Some(PortSpec::Name(n)), true) = (&p.port, p.protocol == probe.protocol)
                    {
                        if !out.contains_key(n.as_str()) {
                            out.insert(n.as_str(), self.named_port_classes(p, probe));
                        }
                    }
                }
            }
        }
        out
    }

    /// NetworkPolicy: for each subject class isolated in `dir`, the union of what its policies'
    /// rules admit; every other peer is denied. Subjects with the same isolating policies (and,
    /// for ingress, where named ports resolve on the subject, the same ports) share one set.
    pub(crate) fn namespaced_decisions(&self, dir: Direction, probe: Probe) -> ClassDecisions {
        let engine = self.engine;
        type Key<'a> = (&'a [usize], &'a [ContainerPort]);
        let mut index: HashMap<Key<'_>, usize> = HashMap::new();
        let mut group_rep: Vec<usize> = Vec::new();
        let subject_group: Vec<Option<usize>> = (0..self.len())
            .map(|c| {
                let isolating = engine.class_isolating(self.classes[c], dir);
                if isolating.is_empty() {
                    return None;
                }
                let ports: &[ContainerPort] = match dir {
                    Direction::Ingress => engine.class_ports(self.classes[c]),
                    Direction::Egress => &[],
                };
                Some(*index.entry((isolating, ports)).or_insert_with(|| {
                    group_rep.push(c);
                    group_rep.len() - 1
                }))
            })
            .collect();
        let named = match dir {
            Direction::Egress => self.named_egress_ports(probe),
            Direction::Ingress => HashMap::new(),
        };
        let groups = bits::par_map(group_rep.len(), |g| {
            let subject = group_rep[g];
            GroupDecision {
                allow: self.union_of_isolating_rules(subject, dir, probe, &named),
                deny: Denied::AllOthers,
                alternatives: None,
            }
        });
        ClassDecisions {
            groups,
            subject_group,
        }
    }

    /// The peers that some rule of a policy isolating `subject` admits on `probe`.
    fn union_of_isolating_rules(
        &self,
        subject: usize,
        dir: Direction,
        probe: Probe,
        named: &HashMap<&str, Vec<u64>>,
    ) -> Vec<u64> {
        let engine = self.engine;
        let mut allow = vec![0; self.words()];
        let mut scratch = vec![0; self.words()];
        let rep = Endpoint::Pod(self.representative(subject));
        for &policy in engine.class_isolating(self.classes[subject], dir) {
            let rules = engine.snap.policies[policy].rules(dir);
            for (r, rule) in rules.iter().enumerate() {
                match dir {
                    // Ingress: ports are judged on the subject (the destination) itself.
                    Direction::Ingress => {
                        if engine.rule_ports_admit(&rule.ports, probe, rep) {
                            self.or_rule_peers(&mut allow, policy, dir, r);
                        }
                    }
                    // Egress: ports are judged on each destination peer.
                    Direction::Egress => match self.ports_mask(&rule.ports, probe, named) {
                        PortsMask::Nothing => {}
                        PortsMask::Every => self.or_rule_peers(&mut allow, policy, dir, r),
                        PortsMask::Classes(mask) => {
                            scratch.fill(0);
                            self.or_rule_peers(&mut scratch, policy, dir, r);
                            for ((a, s), m) in allow.iter_mut().zip(&scratch).zip(&mask) {
                                *a |= s & m;
                            }
                        }
                    },
                }
            }
        }
        allow
    }

    /// Any tier, pair by pair on class representatives: what a tier without a set form costs.
    pub(crate) fn pairwise_decisions(
        &self,
        decide: &(dyn Fn(&Traffic, Direction) -> Decision + Sync),
        dir: Direction,
        probe: Probe,
    ) -> ClassDecisions {
        let n = self.len();
        let groups = bits::par_map(n, |s| {
            let mut allow = vec![0; self.words()];
            let mut deny = vec![0; self.words()];
            let me = Endpoint::Pod(self.representative(s));
            for t in 0..n {
                let other = Endpoint::Pod(self.representative(t));
                let (from, to) = match dir {
                    Direction::Egress => (me, other),
                    Direction::Ingress => (other, me),
                };
                match decide(&Traffic { from, to, probe }, dir) {
                    Decision::Allow(_) => bits::set(&mut allow, t),
                    Decision::Deny(_) => bits::set(&mut deny, t),
                    Decision::Pass => {}
                }
            }
            GroupDecision {
                allow,
                deny: Denied::Classes(deny),
                alternatives: None,
            }
        });
        ClassDecisions {
            groups,
            subject_group: (0..n).map(Some).collect(),
        }
    }

    /// Cluster policies of one tier: per subject, its policies by priority and rules in order,
    /// each rule taking the still-undecided peers it matches. Where policies of equal priority
    /// tie, each is tried from the same undecided set: the tool's order decides, the others are
    /// kept as alternatives. Subjects with the same policies (and for ingress, where named ports
    /// resolve on the subject, the same ports) share one answer.
    pub(crate) fn cluster_decisions(
        &self,
        tier: ClusterTier,
        dir: Direction,
        probe: Probe,
    ) -> ClassDecisions {
        let engine = self.engine;
        let cps = &engine.snap.cluster_policies;
        type Key<'a> = (Vec<usize>, &'a [ContainerPort]);
        let mut index: HashMap<Key<'_>, usize> = HashMap::new();
        let mut group_rep: Vec<(usize, Vec<usize>)> = Vec::new();
        let subject_group: Vec<Option<usize>> = (0..self.len())
            .map(|c| {
                let policies: Vec<usize> = engine
                    .class_cluster_subject_of(self.classes[c])
                    .iter()
                    .copied()
                    .filter(|&p| cps[p].tier == tier && !cps[p].rules(dir).is_empty())
                    .collect();
                if policies.is_empty() {
                    return None;
                }
                let ports: &[ContainerPort] = match dir {
                    Direction::Ingress => engine.class_ports(self.classes[c]),
                    Direction::Egress => &[],
                };
                let next = group_rep.len();
                let g = *index.entry((policies.clone(), ports)).or_insert(next);
                if g == next {
                    group_rep.push((c, policies));
                }
                Some(g)
            })
            .collect();
        let mut named: HashMap<&str, Vec<u64>> = HashMap::new();
        if dir == Direction::Egress {
            for (_, policies) in &group_rep {
                for &p in policies {
                    for rule in cps[p].rules(dir) {
                        for port in &rule.ports {
                            if let ClusterPort::Named(n) = port {
                                if !named.contains_key(n.as_str()) {
                                    let as_policy_port = PolicyPort {
                                        protocol: probe.protocol,
                                        port: Some(PortSpec::Name(n.clone())),
                                        end_port: None,
                                    };
                                    named.insert(
                                        n.as_str(),
                                        self.named_port_classes(&as_policy_port, probe),
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
        let groups = bits::par_map(group_rep.len(), |g| {
            let (subject, policies) = &group_rep[g];
            self.cluster_group(*subject, policies, dir, probe, &named)
        });
        ClassDecisions {
            groups,
            subject_group,
        }
    }

    /// One subject's answer from its cluster policies of one tier (in evaluation order).
    fn cluster_group(
        &self,
        subject: usize,
        policies: &[usize],
        dir: Direction,
        probe: Probe,
        named: &HashMap<&str, Vec<u64>>,
    ) -> GroupDecision {
        let cps = &self.engine.snap.cluster_policies;
        let (n, words) = (self.len(), self.words());
        let mut undecided = vec![0; words];
        bits::fill(&mut undecided, n);
        let mut chosen = ActionMasks::new(words);
        let mut alternatives: Option<Box<Alternatives>> = None;
        let mut i = 0;
        while i < policies.len() {
            let priority = cps[policies[i]].priority;
            let end = i + policies[i..]
                .iter()
                .take_while(|&&p| cps[p].priority == priority)
                .count();
            if end - i == 1 {
                self.first_matches(
                    policies[i],
                    subject,
                    dir,
                    probe,
                    named,
                    &mut undecided,
                    &mut chosen,
                );
            } else {
                let start = undecided.clone();
                let alt = alternatives.get_or_insert_with(|| {
                    Box::new(Alternatives {
                        allow: vec![0; words],
                        deny: vec![0; words],
                        pass: vec![0; words],
                    })
                });
                for &p in &policies[i..end] {
                    let mut own = start.clone();
                    let mut acts = ActionMasks::new(words);
                    self.first_matches(p, subject, dir, probe, named, &mut own, &mut acts);
                    bits::or_into(&mut alt.allow, &acts.accept);
                    bits::or_into(&mut alt.deny, &acts.deny);
                    bits::or_into(&mut alt.pass, &acts.pass);
                    // In the tool's order, the first policy that matches a peer decides it.
                    for (c, a) in [
                        (&mut chosen.accept, &acts.accept),
                        (&mut chosen.deny, &acts.deny),
                        (&mut chosen.pass, &acts.pass),
                    ] {
                        for ((c, a), u) in c.iter_mut().zip(a).zip(&undecided) {
                            *c |= a & u;
                        }
                    }
                    for (u, o) in undecided.iter_mut().zip(&own) {
                        *u &= o;
                    }
                }
            }
            i = end;
        }
        GroupDecision {
            allow: chosen.accept,
            deny: Denied::Classes(chosen.deny),
            alternatives,
        }
    }

    /// Applies one cluster policy's rules in order to the `undecided` peers: each rule takes
    /// the undecided peers it matches (into `acts` by its action) and removes them.
    #[allow(clippy::too_many_arguments)]
    fn first_matches(
        &self,
        policy: usize,
        subject: usize,
        dir: Direction,
        probe: Probe,
        named: &HashMap<&str, Vec<u64>>,
        undecided: &mut [u64],
        acts: &mut ActionMasks,
    ) {
        let engine = self.engine;
        let rules = engine.snap.cluster_policies[policy].rules(dir);
        let rep = Endpoint::Pod(self.representative(subject));
        let mut matched = vec![0; self.words()];
        for (r, rule) in rules.iter().enumerate() {
            let ports = match dir {
                // Ingress: the subject is the destination, so its ports decide for every peer.
                Direction::Ingress => {
                    if engine.cluster_ports_admit(&rule.ports, probe, rep) {
                        PortsMask::Every
                    } else {
                        PortsMask::Nothing
                    }
                }
                Direction::Egress => cluster_ports_mask(&rule.ports, probe, named),
            };
            if matches!(ports, PortsMask::Nothing) {
                continue;
            }
            matched.fill(0);
            let base = engine.classes().cluster_peer_id(policy, dir, r, 0);
            for k in 0..rule.peers.len() {
                bits::or_into(&mut matched, self.peers.row(base + k));
            }
            if let PortsMask::Classes(mask) = &ports {
                for (m, p) in matched.iter_mut().zip(mask) {
                    *m &= p;
                }
            }
            let target = match rule.action {
                Action::Accept => &mut acts.accept,
                Action::Deny => &mut acts.deny,
                Action::Pass => &mut acts.pass,
            };
            for ((m, u), t) in matched.iter_mut().zip(undecided.iter_mut()).zip(target) {
                *m &= *u;
                *t |= *m;
                *u &= !*m;
            }
        }
    }

    /// Per subject class, the peer classes it admits in `dir` after every tier. With only
    /// NetworkPolicy, rows are shared by subjects with the same isolation (nothing is copied).
    pub fn direction_rows(&self, dir: Direction, probe: Probe) -> DirectionRows {
        self.direction(dir, probe, false).0
    }

    /// `direction_rows`, and where equal priorities tie, per subject the peers that some order
    /// allows and those that some order denies.
    fn direction(
        &self,
        dir: Direction,
        probe: Probe,
        with_ties: bool,
    ) -> (DirectionRows, Option<PossibleRows>) {
        let mut decisions: Vec<ClassDecisions> = self
            .engine
            .tiers
            .iter()
            .map(|t| t.decide_classes(self, dir, probe))
            // A tier with no opinion on any subject changes nothing.
            .filter(|d| d.subject_group.iter().any(Option::is_some))
            .collect();
        let n = self.len();
        let possible = (with_ties
            && decisions
                .iter()
                .any(|d| d.groups.iter().any(|g| g.alternatives.is_some())))
        .then(|| {
            let mut allow = BitMatrix::zeros(n, n);
            allow.fill_rows(|s, row| possible_row(&decisions, s, n, row, true));
            let mut deny = BitMatrix::zeros(n, n);
            deny.fill_rows(|s, row| possible_row(&decisions, s, n, row, false));
            PossibleRows { allow, deny }
        });
        let mut every = vec![0; self.words()];
        bits::fill(&mut every, n);
        let decides_all =
            |d: &ClassDecisions| d.groups.iter().all(|g| matches!(g.deny, Denied::AllOthers));
        if decisions.is_empty() {
            return (
                DirectionRows::Shared {
                    only: ClassDecisions {
                        groups: Vec::new(),
                        subject_group: vec![None; n],
                    },
                    every,
                },
                None,
            );
        }
        if decisions.len() == 1 && decides_all(&decisions[0]) {
            if let Some(only) = decisions.pop() {
                return (DirectionRows::Shared { only, every }, possible);
            }
        }
        let mut rows = BitMatrix::zeros(n, n);
        rows.fill_rows(|s, row| combine_tiers(&decisions, s, n, row));
        (DirectionRows::Own(rows), possible)
    }

    /// allowed(s, t) for two different pods of classes s and t: egress(s) ∋ t ∧ ingress(t) ∋ s.
    pub fn allowed_matrix(&self, probe: Probe) -> BitMatrix {
        let egress = self.direction_rows(Direction::Egress, probe);
        let ingress = self.direction_rows(Direction::Ingress, probe);
        let n = self.len();
        let mut allowed = BitMatrix::zeros(n, n);
        allowed.fill_rows(|s, row| row.copy_from_slice(egress.row(s)));
        allowed.and_transpose_of(|t| ingress.row(t));
        allowed
    }

    /// `allowed_matrix`, and where equal priorities tie anywhere, the pairs whose answer depends
    /// on the order: some order allows both directions, some order denies one of them.
    pub fn allowed_and_ambiguous(&self, probe: Probe) -> (BitMatrix, Option<BitMatrix>) {
        let (egress, e_possible) = self.direction(Direction::Egress, probe, true);
        let (ingress, i_possible) = self.direction(Direction::Ingress, probe, true);
        let n = self.len();
        let mut allowed = BitMatrix::zeros(n, n);
        allowed.fill_rows(|s, row| row.copy_from_slice(egress.row(s)));
        allowed.and_transpose_of(|t| ingress.row(t));
        if e_possible.is_none() && i_possible.is_none() {
            return (allowed, None);
        }
        // Without ties a direction's possible answers are its one answer.
        let fixed = |rows: &DirectionRows| {
            let mut deny = BitMatrix::zeros(n, n);
            deny.fill_rows(|s, row| {
                let mut all = vec![0; row.len()];
                bits::fill(&mut all, n);
                for ((d, a), r) in row.iter_mut().zip(&all).zip(rows.row(s)) {
                    *d = a & !r;
                }
            });
            let mut allow = BitMatrix::zeros(n, n);
            allow.fill_rows(|s, row| row.copy_from_slice(rows.row(s)));
            PossibleRows { allow, deny }
        };
        let e = e_possible.unwrap_or_else(|| fixed(&egress));
        let i = i_possible.unwrap_or_else(|| fixed(&ingress));
        // can allow: e.allow(s,t) ∧ i.allow(t,s); can deny: e.deny(s,t) ∨ i.deny(t,s), i.e.
        // not (¬e.deny ∧ ¬i.denyᵀ).
        let mut ambiguous = BitMatrix::zeros(n, n);
        ambiguous.fill_rows(|s, row| row.copy_from_slice(e.allow.row(s)));
        ambiguous.and_transpose_of(|t| i.allow.row(t));
        let complement = |m: &BitMatrix| {
            let mut out = BitMatrix::zeros(n, n);
            out.fill_rows(|s, row| {
                bits::fill(row, n);
                for (o, d) in row.iter_mut().zip(m.row(s)) {
                    *o &= !d;
                }
            });
            out
        };
        let mut surely_allowed = complement(&e.deny);
        let i_never_denies = complement(&i.deny);
        surely_allowed.and_transpose_of(|t| i_never_denies.row(t));
        let surely = &surely_allowed;
        ambiguous.fill_rows(|s, row| {
            for (a, x) in row.iter_mut().zip(surely.row(s)) {
                *a &= !x;
            }
        });
        (allowed, Some(ambiguous))
    }
}

/// Per subject row: the peers some order of equal priorities allows, and those it denies.
pub struct PossibleRows {
    pub allow: BitMatrix,
    pub deny: BitMatrix,
}

/// The chosen decisions of a cluster tier for one subject, by action.
struct ActionMasks {
    accept: Vec<u64>,
    deny: Vec<u64>,
    pass: Vec<u64>,
}

impl ActionMasks {
    fn new(words: usize) -> ActionMasks {
        ActionMasks {
            accept: vec![0; words],
            deny: vec![0; words],
            pass: vec![0; words],
        }
    }
}

/// Which destination classes a cluster rule's ports admit on an egress probe.
fn cluster_ports_mask(
    ports: &[ClusterPort],
    probe: Probe,
    named: &HashMap<&str, Vec<u64>>,
) -> PortsMask {
    if ports.is_empty() {
        return PortsMask::Every;
    }
    let mut mask: Option<Vec<u64>> = None;
    for p in ports {
        match p {
            ClusterPort::Range {
                protocol,
                start,
                end,
            } => {
                if *protocol == probe.protocol && (*start..=*end).contains(&probe.port) {
                    return PortsMask::Every;
                }
            }
            ClusterPort::Named(n) => {
                if let Some(m) = named.get(n.as_str()) {
                    match &mut mask {
                        Some(acc) => bits::or_into(acc, m),
                        None => mask = Some(m.clone()),
                    }
                }
            }
        }
    }
    mask.map_or(PortsMask::Nothing, PortsMask::Classes)
}

/// Row `s` of what some order of equal priorities allows (`allow`) or denies (`!allow`): each
/// tier's possible answers on the peers that some order still carries to it.
fn possible_row(decisions: &[ClassDecisions], s: usize, n: usize, row: &mut [u64], allow: bool) {
    let words = row.len();
    let mut reach = vec![0; words];
    bits::fill(&mut reach, n);
    let mut all = vec![0; words];
    bits::fill(&mut all, n);
    for d in decisions {
        let Some(g) = d.subject_group[s].and_then(|g| d.groups.get(g)) else {
            continue;
        };
        for w in 0..words {
            let chosen_allow = g.allow[w];
            let chosen_deny = match &g.deny {
                Denied::AllOthers => all[w] & !chosen_allow,
                Denied::Classes(deny) => deny[w],
            };
            let (alt_allow, alt_deny, alt_pass) = match &g.alternatives {
                Some(a) => (a.allow[w], a.deny[w], a.pass[w]),
                None => (0, 0, 0),
            };
            let can = if allow {
                chosen_allow | alt_allow
            } else {
                chosen_deny | alt_deny
            };
            row[w] |= reach[w] & can;
            reach[w] &= (all[w] & !(chosen_allow | chosen_deny)) | alt_pass;
        }
    }
    if allow {
        bits::or_into(row, &reach);
    }
}

/// The rows of one direction: each subject's admitted peers.
pub enum DirectionRows {
    /// One tier that decides every peer of the subjects it speaks for: their rows are its
    /// groups; the other subjects admit every peer.
    Shared {
        only: ClassDecisions,
        every: Vec<u64>,
    },
    Own(BitMatrix),
}

impl DirectionRows {
    pub fn row(&self, subject: usize) -> &[u64] {
        match self {
            DirectionRows::Shared { only, every } => {
                match only.subject_group[subject].and_then(|g| only.groups.get(g)) {
                    Some(g) => &g.allow,
                    None => every,
                }
            }
            DirectionRows::Own(rows) => rows.row(subject),
        }
    }
}

/// Row `s` after every tier: the first tier with an opinion on a peer decides it; peers no
/// tier decides are allowed. `row` starts empty.
fn combine_tiers(decisions: &[ClassDecisions], s: usize, n: usize, row: &mut [u64]) {
    // None: every peer is still undecided.
    let mut undecided: Option<Vec<u64>> = None;
    for d in decisions {
        let Some(g) = d.subject_group[s].and_then(|g| d.groups.get(g)) else {
            continue;
        };
        match (&mut undecided, &g.deny) {
            (None, Denied::AllOthers) => {
                row.copy_from_slice(&g.allow);
                return;
            }
            (Some(u), Denied::AllOthers) => {
                for ((r, u), a) in row.iter_mut().zip(u.iter()).zip(&g.allow) {
                    *r |= u & a;
                }
                return;
            }
            (None, Denied::Classes(deny)) => {
                bits::or_into(row, &g.allow);
                let mut u = vec![0; row.len()];
                bits::fill(&mut u, n);
                for ((u, a), d) in u.iter_mut().zip(&g.allow).zip(deny) {
                    *u &= !(a | d);
                }
                undecided = Some(u);
            }
            (Some(u), Denied::Classes(deny)) => {
                for (((r, u), a), d) in row.iter_mut().zip(u.iter_mut()).zip(&g.allow).zip(deny) {
                    *r |= *u & a;
                    *u &= !(a | d);
                }
            }
        }
    }
    match undecided {
        None => bits::fill(row, n),
        Some(u) => bits::or_into(row, &u),
    }
}
