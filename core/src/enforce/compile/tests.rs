use super::*;
use crate::model::{load_str, LoadOptions, Protocol, Snapshot};

fn load(yaml: &str) -> Snapshot {
    load_str("test.yaml", yaml, &LoadOptions::default())
        .unwrap()
        .0
}

fn pod(ns: &str, name: &str, node: &str, ip: &str, labels: &str, ports: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{namespace: {ns}, name: {name}, labels: {{{labels}}}}}\n\
         spec: {{nodeName: {node}, containers: [{{name: c, image: i, ports: [{ports}]}}]}}\n\
         status: {{phase: Running, podIP: {ip}, podIPs: [{{ip: {ip}}}]}}\n---\n"
    )
}

fn two_pods() -> Snapshot {
    load(
        &[
            pod("a", "here", "n1", "10.1.0.5", "", ""),
            pod("a", "there", "n2", "10.1.1.5", "", ""),
        ]
        .concat(),
    )
}

fn range(protocol: Protocol, first: u16, last: u16) -> Match {
    Match::Ports(PortRange {
        protocol,
        ports: Some((first, last)),
    })
}

/// The single class chain of a direction (there must be exactly one).
fn only_chain(rules: &NodeRules, dir: Direction) -> &Vec<Rule> {
    let mut chains = rules
        .chain_info
        .iter()
        .filter(|(_, i)| i.direction == dir)
        .map(|(name, _)| &rules.v4.chains[name]);
    let chain = chains.next().expect("a chain");
    assert!(chains.next().is_none());
    chain
}

#[test]
fn unplaced_local_addresses_are_held_after_established_traffic() {
    let snap = two_pods();
    let opts = CompileOptions {
        hold: vec!["10.1.0.0/24".parse().unwrap()],
        ..Default::default()
    };
    let rules = compile_with(&Engine::new(&snap), Some("n1"), &opts);
    let entry = &rules.v4.chains[ENTRY_CHAIN];
    assert_eq!(entry[0].matches, [Match::Established]);
    let placed_set = rules
        .set_origins
        .iter()
        .find(|(_, o)| **o == SetOrigin::Placed)
        .map(|(n, _)| n.clone())
        .unwrap();
    assert_eq!(
        rules.v4.sets[&placed_set].members,
        [SetMember::host("10.1.0.5".parse().unwrap())],
        "only this node's pods are placed"
    );
    for (rule, side) in entry[1..3].iter().zip([Side::Source, Side::Destination]) {
        assert!(rule.matches.contains(&Match::InSet {
            set: placed_set.clone(),
            side,
            negated: true
        }));
        assert_eq!(rule.action, Action::Jump(HOLD_CHAIN.into()));
    }
    assert_eq!(
        rules.v4.chains[HOLD_CHAIN].last().unwrap().action,
        Action::Drop
    );
    // No IPv6 range: nothing held there.
    assert!(!rules.v6.chains.contains_key(HOLD_CHAIN));
    // Without ranges, no hold at all.
    let plain = compile(&Engine::new(&snap), Some("n1"));
    assert!(!plain.v4.chains.contains_key(HOLD_CHAIN));
    assert_eq!(plain.v4.chains[ENTRY_CHAIN].len(), 1);
}

const SERVER_POLICY: &str = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {namespace: a, name: web}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: client}}}, {ipBlock: {cidr: 192.168.0.0/16, except: [192.168.1.0/24]}}]
    ports: [{port: 80}, {protocol: UDP, port: 5000, endPort: 5010}, {port: http}]
";

#[test]
fn an_ingress_chain_returns_for_each_peer_and_port_then_drops() {
    let snap = load(
        &[
            pod(
                "a",
                "web",
                "n1",
                "10.1.0.5",
                "app: web",
                "{name: http, containerPort: 8080}",
            ),
            pod("a", "client", "n1", "10.1.0.6", "app: client", ""),
            SERVER_POLICY.to_string(),
        ]
        .concat(),
    );
    let rules = compile(&Engine::new(&snap), None);
    let chain = only_chain(&rules, Direction::Ingress);
    // Two peers × three ports, then the DROP.
    assert_eq!(chain.len(), 7, "{chain:#?}");
    let (pods_set, block_set) = (
        chain[0].sets().next().unwrap(),
        chain[3].sets().next().unwrap(),
    );
    assert_eq!(
        rules.v4.sets[pods_set].members,
        [SetMember::host("10.1.0.6".parse().unwrap())]
    );
    let block = &rules.v4.sets[block_set];
    assert_eq!(block.kind, SetKind::HashNet);
    assert!(block
        .members
        .iter()
        .any(|m| m.nomatch && m.net.to_string() == "192.168.1.0/24"));
    let ports: Vec<&Match> = chain[..3].iter().map(|r| &r.matches[1]).collect();
    // The named port means the checked pod's own port.
    assert_eq!(
        ports,
        [
            &range(Protocol::Tcp, 80, 80),
            &range(Protocol::Udp, 5000, 5010),
            &range(Protocol::Tcp, 8080, 8080)
        ]
    );
    assert!(chain[..6].iter().all(
        |r| r.action == Action::Return && r.comment.as_deref() == Some("a/web ingress rule 0")
    ));
    assert_eq!(chain[6].action, Action::Drop);
    assert_eq!(
        rules.chain_info.values().next().unwrap().policies,
        ["a/web"]
    );
}

#[test]
fn an_egress_named_port_splits_destinations_by_the_number_it_means_there() {
    let snap = load(
        &[
            pod("a", "client", "n1", "10.1.0.6", "app: client", ""),
            pod(
                "a",
                "old",
                "n1",
                "10.1.0.7",
                "app: api",
                "{name: api, containerPort: 8080}",
            ),
            pod(
                "a",
                "new",
                "n1",
                "10.1.0.8",
                "app: api",
                "{name: api, containerPort: 9090}",
            ),
            "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {namespace: a, name: out}
spec:
  podSelector: {matchLabels: {app: client}}
  policyTypes: [Egress]
  egress: [{ports: [{port: api}]}]
"
            .to_string(),
        ]
        .concat(),
    );
    let rules = compile(&Engine::new(&snap), None);
    let chain = only_chain(&rules, Direction::Egress);
    let split: Vec<(Vec<SetMember>, &Match)> = chain[..2]
        .iter()
        .map(|r| {
            (
                rules.v4.sets[r.sets().next().unwrap()].members.clone(),
                &r.matches[1],
            )
        })
        .collect();
    let host = |ip: &str| vec![SetMember::host(ip.parse().unwrap())];
    assert_eq!(
        split,
        [
            (host("10.1.0.7"), &range(Protocol::Tcp, 8080, 8080)),
            (host("10.1.0.8"), &range(Protocol::Tcp, 9090, 9090))
        ]
    );
    // Only IPv4 has local pods, so only IPv4 has the chain and the group.
    let group = rules.named_port_groups.iter().next().unwrap();
    assert_eq!(
        (rules.named_port_groups.len(), group.family),
        (1, Family::V4)
    );
    assert_eq!(group.set_name(9090), chain[1].sets().next().unwrap());
}

#[test]
fn equal_peers_of_different_policies_share_one_set() {
    let policy = |name: &str| {
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{namespace: a, name: {name}}}\n\
             spec: {{podSelector: {{}}, ingress: [{{from: [{{podSelector: {{matchLabels: {{app: client}}}}}}]}}]}}\n---\n"
        )
    };
    let snap = load(
        &[
            pod("a", "client", "n1", "10.1.0.6", "app: client", ""),
            policy("one"),
            policy("two"),
        ]
        .concat(),
    );
    let rules = compile(&Engine::new(&snap), None);
    let chain = only_chain(&rules, Direction::Ingress);
    assert_eq!(
        chain[0].sets().collect::<Vec<_>>(),
        chain[1].sets().collect::<Vec<_>>()
    );
    assert_eq!(chain[0].comment.as_deref(), Some("a/one ingress rule 0"));
    assert_eq!(chain[1].comment.as_deref(), Some("a/two ingress rule 0"));
}

#[test]
fn a_relabelled_pod_moves_between_sets_without_a_compile() {
    let yaml = |label: &str| {
        [
            pod(
                "a",
                "web",
                "n1",
                "10.1.0.5",
                "app: web",
                "{name: http, containerPort: 8080}",
            ),
            pod("a", "client", "n1", "10.1.0.6", label, ""),
            SERVER_POLICY.to_string(),
        ]
        .concat()
    };
    let (before, after) = (load(&yaml("app: client")), load(&yaml("app: other")));
    let prev = compile(&Engine::new(&before), Some("n1"));
    let old = before.pods.iter().find(|p| p.name == "client").unwrap();
    let new = after.pods.iter().find(|p| p.name == "client").unwrap();
    let updated = update_for_pods(&prev, &after, Some("n1"), &[old, new]).expect("a set update");
    assert_eq!(updated, compile(&Engine::new(&after), Some("n1")));
    assert_eq!(prev.changed_sets(&updated).len(), 1);
}

#[test]
fn drop_logging_precedes_each_drop_rate_limited() {
    let snap = load(
        &[
            pod("a", "web", "n1", "10.1.0.5", "app: web", ""),
            SERVER_POLICY.to_string(),
        ]
        .concat(),
    );
    let opts = CompileOptions {
        log_drops: Some(DropLog {
            nflog_group: 3,
            per_second: 0,
        }),
        ..Default::default()
    };
    let rules = compile_with(&Engine::new(&snap), None, &opts);
    let (name, _) = rules.chain_info.iter().next().unwrap();
    let chain = &rules.v4.chains[name];
    let log = &chain[chain.len() - 2];
    assert_eq!(
        log.matches,
        [Match::Limit {
            per_second: 1,
            burst: 2
        }]
    );
    assert_eq!(
        log.action,
        Action::Log {
            group: 3,
            prefix: format!("NPDROP {name}")
        }
    );
}

const TIERED: &str = "apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: admin}
spec:
  tier: Admin
  priority: 10
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: a}}}
  ingress:
  - {name: monitoring, action: Accept, from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: mon}}}]}
  - {name: tenants, action: Pass, from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: a}}}]}
  - {name: others, action: Deny, from: [{namespaces: {}}]}
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: baseline}
spec:
  tier: Baseline
  priority: 10
  subject: {namespaces: {}}
  ingress:
  - {name: web-only, action: Accept, from: [{namespaces: {}}], protocols: [{destinationNamedPort: http}]}
  - {name: rest, action: Deny, from: [{pods: {namespaceSelector: {}, podSelector: {}}}]}
---
";

#[test]
fn admin_rules_come_first_and_pass_goes_on_to_the_rest_of_the_chain() {
    let snap = load(
        &[
            pod(
                "a",
                "web",
                "n1",
                "10.1.0.5",
                "app: web",
                "{name: http, containerPort: 8080}",
            ),
            pod("mon", "prom", "n1", "10.1.0.6", "app: prom", ""),
            TIERED.to_string(),
        ]
        .concat(),
    );
    let rules = compile(&Engine::new(&snap), None);
    let (name, info) = rules
        .chain_info
        .iter()
        .find(|(n, i)| {
            i.direction == Direction::Ingress
                && !n.ends_with("-R")
                && i.policies.contains(&"cnp/admin".to_string())
        })
        .expect("a/web's ingress chain");
    assert_eq!(
        info.policies,
        ["cnp/admin", "cnp/baseline"],
        "evaluation order"
    );
    let main = &rules.v4.chains[name];
    let rest = format!("{name}-R");
    let actions: Vec<&Action> = main.iter().map(|r| &r.action).collect();
    assert_eq!(
        actions,
        [
            &Action::Return,
            &Action::Goto(rest.clone()),
            &Action::Drop,
            &Action::Goto(rest.clone())
        ]
    );
    // Not isolated by a NetworkPolicy: the rest is the Baseline tier; its named port means
    // the checked pod's own port, and Accept returns.
    let after = &rules.v4.chains[&rest];
    assert_eq!(after[0].matches[1], range(Protocol::Tcp, 8080, 8080));
    assert_eq!(
        (&after[0].action, &after[1].action),
        (&Action::Return, &Action::Drop)
    );
    let everyone = after[1].sets().next().unwrap();
    assert_eq!(rules.v4.sets[everyone].members.len(), 2);
    // mon/prom is a subject of the Baseline policy only: no Admin part, no goto.
    let prom = rules
        .chain_info
        .iter()
        .find(|(_, i)| i.policies == ["cnp/baseline"])
        .map(|(n, _)| &rules.v4.chains[n])
        .unwrap();
    assert!(prom.iter().all(|r| !matches!(r.action, Action::Goto(_))));
    // A pod event that changes nothing, with cluster policies present: the same rules, without
    // a compile (tests/property.rs checks real changes against full compiles).
    let p = &snap.pods[0];
    assert_eq!(
        update_for_pods(&rules, &snap, None, &[p]).as_ref(),
        Some(&rules)
    );
}

#[test]
fn without_rest_a_pass_returns_and_domain_names_are_noted() {
    let snap = load(
        &[
            pod("a", "web", "n1", "10.1.0.5", "app: web", ""),
            "apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: out}
spec:
  tier: Admin
  priority: 1
  subject: {namespaces: {}}
  egress:
  - {name: same, action: Pass, to: [{namespaces: {}}]}
  - {name: dns, action: Accept, to: [{domainNames: [example.com]}]}
"
            .to_string(),
        ]
        .concat(),
    );
    let rules = compile(&Engine::new(&snap), None);
    let chain = only_chain(&rules, Direction::Egress);
    assert_eq!(chain.len(), 1);
    assert_eq!(chain[0].action, Action::Return);
    assert_eq!(rules.notes.len(), 1);
    assert!(rules.notes[0].contains("domainNames"), "{:?}", rules.notes);
}

#[test]
fn a_nodes_peer_without_node_objects_is_noted_not_silently_empty() {
    let policy = "apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: to-nodes}
spec:
  tier: Admin
  priority: 1
  subject: {namespaces: {}}
  egress:
  - {name: kubelets, action: Deny, to: [{nodes: {matchLabels: {role: worker}}}]}
";
    let snap = load(
        &[
            pod("a", "web", "n1", "10.1.0.5", "app: web", ""),
            policy.to_string(),
        ]
        .concat(),
    );
    let rules = compile(&Engine::new(&snap), None);
    assert_eq!(rules.notes.len(), 1, "{:?}", rules.notes);
    assert!(
        rules.notes[0].contains("cnp/to-nodes")
            && rules.notes[0].contains("no Node objects")
            && !rules.notes[0].contains("does not read"),
        "{:?}",
        rules.notes
    );
    // With the Node in the input, the peer is its addresses and nothing is noted.
    let node = "---\napiVersion: v1\nkind: Node\nmetadata: {name: n1, labels: {role: worker}}\nstatus: {addresses: [{type: InternalIP, address: 10.0.0.1}]}\n";
    let snap = load(
        &[
            pod("a", "web", "n1", "10.1.0.5", "app: web", ""),
            policy.to_string(),
            node.to_string(),
        ]
        .concat(),
    );
    let rules = compile(&Engine::new(&snap), None);
    assert!(rules.notes.is_empty(), "{:?}", rules.notes);
}
