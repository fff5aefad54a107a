//! `lint`: every rule fires on a manifest written to trigger it and stays quiet on the fixed
//! version; the seeds' examples give the findings a reviewer would expect; the CLI's exit
//! codes, severities and formats.

mod common;

use std::path::{Path, PathBuf};

use common::cli::{root, run};
use netpol::lint::{lint, lint_with, rules, Completeness, Finding, Severity};
use netpol::model::{load_paths, load_str, LoadOptions};

fn findings(manifest: &str) -> Vec<Finding> {
    let (snap, _) = load_str("test.yaml", manifest, &LoadOptions::default())
        .unwrap_or_else(|e| panic!("fixture does not load: {e}"));
    lint(&snap)
}

fn np(ns: &str, name: &str, spec: &str) -> String {
    format!("---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n{spec}\n")
}

fn pod(ns: &str, name: &str, labels: &str, extra: &str) -> String {
    format!("---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {ns}, labels: {{{labels}}}}}\nspec:\n  containers:\n  - name: c\n    image: x\n{extra}\n")
}

fn cnp(name: &str, tier: &str, priority: u32, spec: &str) -> String {
    format!("---\napiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {{name: {name}}}\nspec:\n  tier: {tier}\n  priority: {priority}\n{spec}\n")
}

const ALL_NAMESPACES: &str = "  subject: {namespaces: {}}\n";

/// An Admin rule ahead of a lockdown that keeps DNS open.
const CNP_DNS_RULE: &str = "  - name: allow-dns\n    action: Accept\n    to:\n    - pods:\n        namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}\n        podSelector: {matchLabels: {k8s-app: kube-dns}}\n    protocols:\n    - udp: {destinationPort: {number: 53}}\n    - tcp: {destinationPort: {number: 53}}\n";

const DNS_RULE: &str = "  - to:\n    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}\n      podSelector: {matchLabels: {k8s-app: kube-dns}}\n    ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]\n";

/// (rule, a manifest that triggers it, the fixed manifest that does not, words the message has)
fn cases() -> Vec<(&'static str, String, String, Vec<&'static str>)> {
    vec![
        (
            "rules-ignored",
            np("x", "p", "  podSelector: {}\n  policyTypes: [Ingress]\n  ingress: [{}]\n  egress:\n  - to: [{podSelector: {}}]\n"),
            np("x", "p", &format!("  podSelector: {{}}\n  policyTypes: [Ingress, Egress]\n  ingress: [{{}}]\n  egress:\n  - to: [{{podSelector: {{}}}}]\n{DNS_RULE}")),
            vec!["spec.egress", "does not list Egress", "ignored"],
        ),
        (
            "egress-not-isolated",
            np("x", "p", "  podSelector: {}\n  ingress: []\n  egress: []\n"),
            np("x", "p", &format!("  podSelector: {{}}\n  policyTypes: [Ingress, Egress]\n  ingress: []\n  egress:\n{DNS_RULE}")),
            vec!["egress: []", "does not isolate egress"],
        ),
        (
            "selects-nothing",
            pod("x", "a", "app: web", "") + &np("x", "p", "  podSelector: {matchLabels: {app: wbe}}\n  policyTypes: [Ingress]\n"),
            pod("x", "a", "app: web", "") + &np("x", "p", "  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Ingress]\n"),
            vec!["selects no pod in namespace x", "a (app=web)"],
        ),
        (
            "selects-nothing",
            np("x", "p", "  podSelector:\n    matchLabels: {app: a}\n    matchExpressions: [{key: app, operator: In, values: [b]}]\n  policyTypes: [Ingress]\n"),
            np("x", "p", "  podSelector:\n    matchLabels: {app: a}\n    matchExpressions: [{key: app, operator: In, values: [a, b]}]\n  policyTypes: [Ingress]\n"),
            vec!["contradicts itself"],
        ),
        (
            "selects-nothing",
            "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n".to_string() + &pod("x", "a", "app: web", "")
                + &np("x", "p", "  podSelector: {}\n  policyTypes: [Ingress]\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {team: a}}}]\n"),
            "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: x, labels: {team: a}}\n".to_string() + &pod("x", "a", "app: web", "")
                + &np("x", "p", "  podSelector: {}\n  policyTypes: [Ingress]\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {team: a}}}]\n"),
            vec!["namespaceSelector team=a matches no namespace"],
        ),
        (
            "separate-peers-or",
            np("prod", "p", "  podSelector: {matchLabels: {app: api}}\n  policyTypes: [Ingress]\n  ingress:\n  - from:\n    - namespaceSelector: {matchLabels: {purpose: monitoring}}\n    - podSelector: {matchLabels: {app: prometheus}}\n"),
            np("prod", "p", "  podSelector: {matchLabels: {app: api}}\n  policyTypes: [Ingress]\n  ingress:\n  - from:\n    - namespaceSelector: {matchLabels: {purpose: monitoring}}\n      podSelector: {matchLabels: {app: prometheus}}\n"),
            vec!["separate peers (OR); did you mean one peer (AND)?", "namespaceSelector purpose=monitoring", "pods app=prometheus in namespace prod"],
        ),
        (
            "generated-label",
            np("x", "p", "  podSelector: {matchLabels: {app: web, pod-template-hash: 5d8f9c}}\n  policyTypes: [Ingress]\n"),
            np("x", "p", "  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Ingress]\n"),
            vec!["pod-template-hash", "spec.podSelector"],
        ),
        (
            "named-port-undeclared",
            pod("x", "a", "app: web", "    ports: [{name: http, containerPort: 8080}]") + &np("x", "p", "  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Ingress]\n  ingress:\n  - ports: [{port: web}]\n"),
            pod("x", "a", "app: web", "    ports: [{name: http, containerPort: 8080}]") + &np("x", "p", "  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Ingress]\n  ingress:\n  - ports: [{port: http}]\n"),
            vec!["named port web (TCP)", "x/a", "spec.ingress[0].ports[0]"],
        ),
        (
            "shadowed-rule",
            np("x", "p", "  podSelector: {}\n  policyTypes: [Ingress]\n  ingress:\n  - {}\n  - from: [{podSelector: {matchLabels: {app: b}}}]\n"),
            np("x", "p", "  podSelector: {}\n  policyTypes: [Ingress]\n  ingress:\n  - from: [{podSelector: {matchLabels: {app: b}}}]\n"),
            vec!["spec.ingress[1] is shadowed by spec.ingress[0]"],
        ),
        (
            "shadowed-rule",
            np("x", "allow-all", "  podSelector: {}\n  policyTypes: [Ingress]\n  ingress: [{}]\n") + &np("x", "deny-web", "  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Ingress]\n"),
            np("x", "allow-all", "  podSelector: {matchLabels: {app: api}}\n  policyTypes: [Ingress]\n  ingress: [{}]\n") + &np("x", "deny-web", "  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Ingress]\n"),
            vec!["denies all ingress", "x/allow-all spec.ingress[0] allows all ingress", "no effect"],
        ),
        (
            "no-default-deny",
            pod("shop", "web", "app: web", "") + &np("shop", "p", "  podSelector: {matchLabels: {app: api}}\n  policyTypes: [Ingress]\n"),
            pod("shop", "web", "app: web", "") + &np("shop", "default-deny", "  podSelector: {}\n  policyTypes: [Ingress]\n"),
            vec!["namespace shop", "no default-deny", "web accepts traffic from anywhere"],
        ),
        (
            "kube-system-policy",
            np("kube-system", "p", "  podSelector: {matchLabels: {app: x}}\n  policyTypes: [Ingress]\n"),
            np("tools", "p", "  podSelector: {matchLabels: {app: x}}\n  policyTypes: [Ingress]\n"),
            vec!["kube-system/p", "kube-system"],
        ),
        (
            "egress-without-dns",
            np("x", "p", "  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n  - to: [{podSelector: {matchLabels: {app: db}}}]\n    ports: [{port: 5432}]\n"),
            np("x", "p", &format!("  podSelector: {{}}\n  policyTypes: [Egress]\n  egress:\n  - to: [{{podSelector: {{matchLabels: {{app: db}}}}}}]\n    ports: [{{port: 5432}}]\n{DNS_RULE}")),
            vec!["pods selected by x/p", "no rule allows DNS", "UDP 53"],
        ),
        (
            "metadata-egress",
            np("x", "p", &format!("  podSelector: {{}}\n  policyTypes: [Egress]\n  egress:\n  - to: [{{ipBlock: {{cidr: 0.0.0.0/0}}}}]\n{DNS_RULE}")),
            np("x", "p", &format!("  podSelector: {{}}\n  policyTypes: [Egress]\n  egress:\n  - to: [{{ipBlock: {{cidr: 0.0.0.0/0, except: [169.254.169.254/32]}}}}]\n{DNS_RULE}")),
            vec!["spec.egress[0]", "0.0.0.0/0", "169.254.169.254"],
        ),
        (
            "ipblock-covers-pods",
            pod("x", "a", "app: a", "status: {podIP: 10.244.1.5}") + &np("x", "p", "  podSelector: {}\n  policyTypes: [Ingress]\n  ingress:\n  - from: [{ipBlock: {cidr: 10.244.0.0/16}}]\n"),
            pod("x", "a", "app: a", "status: {podIP: 10.244.1.5}") + &np("x", "p", "  podSelector: {}\n  policyTypes: [Ingress]\n  ingress:\n  - from: [{ipBlock: {cidr: 203.0.113.0/24}}]\n"),
            vec!["10.244.0.0/16", "x/a"],
        ),
        (
            "cidr-host-bits",
            np("x", "p", "  podSelector: {}\n  policyTypes: [Ingress]\n  ingress:\n  - from: [{ipBlock: {cidr: 10.0.1.1/4}}]\n"),
            np("x", "p", "  podSelector: {}\n  policyTypes: [Ingress]\n  ingress:\n  - from: [{ipBlock: {cidr: 10.0.0.0/8}}]\n"),
            vec!["10.0.1.1/4", "0.0.0.0/4", "spec.ingress[0].from[0].ipBlock.cidr"],
        ),
        (
            // A Deny for all of namespace x, then an Accept for its web pods: too late.
            "cluster-rule-unreachable",
            cnp("tenancy", "Admin", 10, &format!("{ALL_NAMESPACES}  ingress:\n  - name: deny-from-x\n    action: Deny\n    from: [{{namespaces: {{matchLabels: {{kubernetes.io/metadata.name: x}}}}}}]\n  - name: allow-web\n    action: Accept\n    from: [{{pods: {{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: x}}}}, podSelector: {{matchLabels: {{app: web}}}}}}}}]\n    protocols: [{{tcp: {{destinationPort: {{number: 80}}}}}}]")),
            cnp("tenancy", "Admin", 10, &format!("{ALL_NAMESPACES}  ingress:\n  - name: allow-web\n    action: Accept\n    from: [{{pods: {{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: x}}}}, podSelector: {{matchLabels: {{app: web}}}}}}}}]\n    protocols: [{{tcp: {{destinationPort: {{number: 80}}}}}}]\n  - name: deny-from-x\n    action: Deny\n    from: [{{namespaces: {{matchLabels: {{kubernetes.io/metadata.name: x}}}}}}]")),
            vec!["rule 'allow-web' (spec.ingress[1]) can never decide", "rule 'deny-from-x' (spec.ingress[0])", "ClusterNetworkPolicy tenancy"],
        ),
        (
            "cluster-priority-tie",
            pod("x", "a", "app: a", "") + &pod("y", "b", "app: b", "")
                + &cnp("deny-y", "Admin", 10, "  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: x}}}\n  egress:\n  - name: deny-to-y\n    action: Deny\n    to: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: y}}}]")
                + &cnp("allow-b", "Admin", 10, &format!("{ALL_NAMESPACES}  egress:\n  - name: accept-b\n    action: Accept\n    to: [{{pods: {{namespaceSelector: {{}}, podSelector: {{matchLabels: {{app: b}}}}}}}}]")),
            pod("x", "a", "app: a", "") + &pod("y", "b", "app: b", "")
                + &cnp("deny-y", "Admin", 10, "  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: x}}}\n  egress:\n  - name: deny-to-y\n    action: Deny\n    to: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: y}}}]")
                + &cnp("allow-b", "Admin", 20, &format!("{ALL_NAMESPACES}  egress:\n  - name: accept-b\n    action: Accept\n    to: [{{pods: {{namespaceSelector: {{}}, podSelector: {{matchLabels: {{app: b}}}}}}}}]")),
            vec!["same priority 10 in the admin tier", "x/a -> y/b", "rule 'accept-b' (spec.egress[0]) of cnp/allow-b would Accept", "rule 'deny-to-y' (spec.egress[0]) of cnp/deny-y would Deny", "up to the network plugin"],
        ),
        (
            "admin-deny-dns",
            cnp("lockdown", "Admin", 10, "  subject: {namespaces: {matchLabels: {tenant: a}}}\n  egress:\n  - name: deny-all\n    action: Deny\n    to: [{namespaces: {}}]"),
            cnp("lockdown", "Admin", 10, &format!("  subject: {{namespaces: {{matchLabels: {{tenant: a}}}}}}\n  egress:\n{CNP_DNS_RULE}  - name: deny-all\n    action: Deny\n    to: [{{namespaces: {{}}}}]")),
            vec!["admin cnp/lockdown rule 'deny-all' (spec.egress[0]) denies UDP 53 from pods selected by cnp/lockdown to the cluster DNS", "no NetworkPolicy can allow it back"],
        ),
        (
            "pass-allows",
            pod("x", "a", "app: a", "") + &pod("y", "b", "app: b", "")
                + &cnp("delegate", "Admin", 10, &format!("{ALL_NAMESPACES}  ingress:\n  - name: pass-all\n    action: Pass\n    from: [{{namespaces: {{}}}}]")),
            pod("x", "a", "app: a", "") + &pod("y", "b", "app: b", "")
                + &cnp("delegate", "Admin", 10, &format!("{ALL_NAMESPACES}  ingress:\n  - name: pass-all\n    action: Pass\n    from: [{{namespaces: {{}}}}]"))
                + &np("x", "default-deny", "  podSelector: {}\n  policyTypes: [Ingress]\n"),
            vec!["rule 'pass-all' (spec.ingress[0]) passes to NetworkPolicy", "no NetworkPolicy isolates", "as Accept would"],
        ),
    ]
}

#[test]
fn every_rule_fires_on_its_trigger_and_not_on_the_fix() {
    let mut covered = std::collections::BTreeSet::new();
    for (rule, bad, good, words) in cases() {
        covered.insert(rule);
        let got = findings(&bad);
        let hits: Vec<&Finding> = got.iter().filter(|f| f.rule == rule).collect();
        assert!(
            !hits.is_empty(),
            "{rule}: expected a finding on\n{bad}\ngot {:?}",
            got
        );
        let text: String = hits
            .iter()
            .map(|f| {
                format!(
                    "{} {} {}",
                    f.message,
                    f.field.clone().unwrap_or_default(),
                    f.object
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        for w in words {
            assert!(
                text.contains(w),
                "{rule}: finding should mention {w:?}; got: {text}"
            );
        }
        for f in &hits {
            assert!(
                !f.why.is_empty() && !f.fix.is_empty(),
                "{rule}: why and fix must be filled"
            );
            assert_eq!(f.file.as_deref(), Some("test.yaml"));
        }
        let fixed = findings(&good);
        assert!(
            !fixed.iter().any(|f| f.rule == rule),
            "{rule}: the fixed manifest still has findings: {:?}\n{good}",
            fixed.iter().filter(|f| f.rule == rule).collect::<Vec<_>>()
        );
    }
    for r in rules() {
        assert!(covered.contains(r.id), "rule {} has no test case", r.id);
    }
}

#[test]
fn severities_follow_the_rules() {
    let f = findings(&np(
        "x",
        "p",
        "  podSelector: {}\n  policyTypes: [Ingress]\n  egress: [{}]\n",
    ));
    let ignored = f.iter().find(|f| f.rule == "rules-ignored").unwrap();
    assert_eq!(ignored.severity, Severity::Error);
    // A selector that can never match is an error; one that matches no pod of the input a warning.
    let f = findings(&np("x", "p", "  podSelector:\n    matchExpressions: [{key: a, operator: Exists}, {key: a, operator: DoesNotExist}]\n"));
    assert_eq!(
        f.iter()
            .find(|f| f.rule == "selects-nothing")
            .unwrap()
            .severity,
        Severity::Error
    );
}

#[test]
fn policy_only_inputs_do_not_guess_about_missing_pods() {
    // No pods and no namespaces in the input: selectors cannot be judged against them.
    let f = findings(&np("x", "p", &format!("  podSelector: {{matchLabels: {{app: web}}}}\n  policyTypes: [Ingress, Egress]\n  ingress:\n  - from: [{{namespaceSelector: {{matchLabels: {{team: a}}}}}}]\n  egress:\n{DNS_RULE}")));
    assert!(f.is_empty(), "{f:?}");
}

#[test]
fn offline_a_namespace_outside_the_input_is_unknown_not_absent() {
    // An app's manifests: its namespace, a pod, a default deny with the usual DNS rule, which
    // names kube-system (not in the input).
    let app = "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n".to_string()
        + &pod("shop", "web", "app: web", "")
        + &np(
            "shop",
            "default-deny",
            &format!(
                "  podSelector: {{}}\n  policyTypes: [Ingress, Egress]\n  egress:\n{DNS_RULE}"
            ),
        );
    let (snap, _) = load_str("test.yaml", &app, &LoadOptions::default()).unwrap();
    let offline = lint(&snap);
    assert!(
        offline.iter().all(|f| f.severity < Severity::Warning),
        "a clean policy set with the usual DNS rule gets no warning offline: {offline:#?}"
    );
    let note = offline
        .iter()
        .find(|f| f.rule == "selects-nothing")
        .expect("the unknown namespace is noted");
    assert_eq!(note.severity, Severity::Info);
    assert_eq!(
        note.field.as_deref(),
        Some("spec.egress[0].to[0].namespaceSelector")
    );
    assert!(
        note.message
            .contains("names namespace kube-system, which is not in the input")
            && note.message.contains("unknown, not absent"),
        "{}",
        note.message
    );
    assert!(note.fix.contains("lint live"), "{}", note.fix);
    // Live, the namespaces listed are all there are: the same selector matching none is wrong.
    let live = lint_with(
        &snap,
        Completeness {
            namespaces: true,
            pods: false,
        },
    );
    let warning = live
        .iter()
        .find(|f| f.rule == "selects-nothing")
        .expect("live keeps the warning");
    assert_eq!(warning.severity, Severity::Warning);
    assert!(
        warning
            .message
            .contains("matches no namespace of the cluster"),
        "{}",
        warning.message
    );
    // A selector on other labels is unknown offline too, and the note says why.
    let team = "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n".to_string()
        + &np("x", "p", "  podSelector: {}\n  policyTypes: [Ingress]\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {team: a}}}]\n");
    let f = findings(&team);
    let note = f.iter().find(|f| f.rule == "selects-nothing").unwrap();
    assert_eq!(note.severity, Severity::Info);
    assert!(
        note.message
            .contains("a namespace outside the input may carry these labels"),
        "{}",
        note.message
    );
}

#[test]
fn cluster_rules_shadowed_by_an_earlier_policy_and_not_otherwise() {
    // cnp/first (priority 5) denies ingress from every namespace for every pod: the Accept of
    // cnp/later (priority 20, a subset of the pods) never decides.
    let deny_all = cnp("first", "Admin", 5, &format!("{ALL_NAMESPACES}  ingress:\n  - name: deny-all\n    action: Deny\n    from: [{{namespaces: {{}}}}]"));
    let later = |subject: &str, priority: u32| {
        cnp("later", "Admin", priority, &format!("  subject: {subject}\n  ingress:\n  - name: accept-x\n    action: Accept\n    from: [{{pods: {{namespaceSelector: {{}}, podSelector: {{matchLabels: {{app: x}}}}}}}}]"))
    };
    let f = findings(&(deny_all.clone() + &later("{namespaces: {matchLabels: {team: a}}}", 20)));
    let hit = f
        .iter()
        .find(|f| f.rule == "cluster-rule-unreachable")
        .expect("shadowed by cnp/first");
    assert_eq!(hit.object.name, "later");
    assert!(
        hit.message.contains("admin rule 'deny-all' (spec.ingress[0]) of cnp/first (priority 5, before this policy's 20)"),
        "{}",
        hit.message
    );
    // Evaluated first (lower number), or equal (a tie, not a shadow): no finding.
    for priority in [1, 5] {
        let f = findings(
            &(deny_all.clone() + &later("{namespaces: {matchLabels: {team: a}}}", priority)),
        );
        assert!(
            !f.iter().any(|f| f.rule == "cluster-rule-unreachable"),
            "priority {priority}: {f:#?}"
        );
    }
    // The same rule in a Baseline policy is another tier: no finding.
    let baseline = cnp("later", "Baseline", 20, "  subject: {namespaces: {}}\n  ingress:\n  - name: accept-x\n    action: Accept\n    from: [{namespaces: {}}]");
    assert!(!findings(&(deny_all + &baseline))
        .iter()
        .any(|f| f.rule == "cluster-rule-unreachable"));
}

#[test]
fn an_admin_deny_into_the_dns_pods_is_found_too() {
    // Locking down kube-system's ingress cuts every pod's DNS; a Baseline Deny does not (the
    // namespaced tier decides first), and neither does an Admin Deny on another port.
    let lock = |tier: &str, ports: &str| {
        cnp("lock-kube-system", tier, 1, &format!("  subject: {{namespaces: {{matchLabels: {{kubernetes.io/metadata.name: kube-system}}}}}}\n  ingress:\n  - name: deny-all\n    action: Deny\n    from: [{{namespaces: {{}}}}]\n{ports}"))
    };
    let text = pod("shop", "web", "app: web", "") + &lock("Admin", "");
    let f = findings(&text);
    let hit = f
        .iter()
        .find(|f| f.rule == "admin-deny-dns")
        .expect("found");
    assert_eq!(hit.severity, Severity::Error);
    assert_eq!(hit.field.as_deref(), Some("spec.ingress[0]"));
    assert!(
        hit.message.contains(
            "denies UDP 53 into the cluster DNS (kube-system pods k8s-app=kube-dns) from shop/web:"
        ),
        "{}",
        hit.message
    );
    for other in [
        pod("shop", "web", "app: web", "") + &lock("Baseline", ""),
        pod("shop", "web", "app: web", "")
            + &lock(
                "Admin",
                "    protocols: [{tcp: {destinationPort: {number: 9153}}}]\n",
            ),
    ] {
        assert!(
            !findings(&other).iter().any(|f| f.rule == "admin-deny-dns"),
            "{other}"
        );
    }
}

#[test]
fn a_priority_tie_is_what_the_matrix_marks_ambiguous() {
    use netpol::engine::{matrix::Matrix, Engine};
    use netpol::model::{Probe, Protocol};
    let with_priority = |p: u32| {
        pod("x", "a", "app: a", "") + &pod("y", "b", "app: b", "")
            + &cnp("deny-y", "Admin", 10, "  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: x}}}\n  egress:\n  - name: deny-to-y\n    action: Deny\n    to: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: y}}}]")
            + &cnp("allow-b", "Admin", p, &format!("{ALL_NAMESPACES}  egress:\n  - name: accept-b\n    action: Accept\n    to: [{{pods: {{namespaceSelector: {{}}, podSelector: {{matchLabels: {{app: b}}}}}}}}]"))
    };
    for (priority, tied) in [(10, true), (20, false), (5, false)] {
        let (snap, _) = load_str(
            "test.yaml",
            &with_priority(priority),
            &LoadOptions::default(),
        )
        .unwrap();
        let engine = Engine::new(&snap);
        let pods: Vec<usize> = snap.endpoint_pods().map(|(i, _)| i).collect();
        let at = |key: &str| {
            pods.iter()
                .position(|&i| snap.pods[i].key() == key)
                .unwrap()
        };
        let m = Matrix::compute(&engine, &pods, &[Probe::new(Protocol::Tcp, 80)]);
        assert_eq!(
            m.ambiguous(at("x/a"), at("y/b"), 0),
            tied,
            "priority {priority}"
        );
        let found = lint(&snap)
            .iter()
            .any(|f| f.rule == "cluster-priority-tie" && f.message.contains("decide x/a -> y/b "));
        assert_eq!(found, tied, "priority {priority}");
    }
}

#[test]
fn a_baseline_pass_always_allows() {
    let f = findings(&cnp("base", "Baseline", 0, &format!("{ALL_NAMESPACES}  egress:\n  - name: pass-web\n    action: Pass\n    to: [{{namespaces: {{}}}}]")));
    let hit = f.iter().find(|f| f.rule == "pass-allows").expect("flagged");
    assert!(
        hit.message
            .contains("rule 'pass-web' (spec.egress[0]) is a Pass in the Baseline tier"),
        "{}",
        hit.message
    );
}

#[test]
fn cluster_subjects_and_peers_that_select_nothing() {
    // A subject that contradicts itself is an error, whatever the input.
    let f = findings(&cnp("odd", "Admin", 1, "  subject:\n    pods:\n      namespaceSelector: {}\n      podSelector:\n        matchLabels: {app: a}\n        matchExpressions: [{key: app, operator: NotIn, values: [a]}]\n  ingress:\n  - {action: Deny, from: [{namespaces: {}}]}"));
    let hit = f.iter().find(|f| f.rule == "selects-nothing").unwrap();
    assert_eq!(hit.severity, Severity::Error);
    assert_eq!(hit.object.kind, "ClusterNetworkPolicy");
    assert_eq!(hit.field.as_deref(), Some("spec.subject.pods"));
    // Offline: a peer naming a namespace outside the input is unknown (info); live, wrong.
    let text = "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: x, labels: {tenant: a}}\n".to_string()
        + &pod("x", "a", "app: a", "")
        + &cnp("guard", "Admin", 1, "  subject: {namespaces: {matchLabels: {tenant: a}}}\n  egress:\n  - name: to-monitoring\n    action: Accept\n    to: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]\n  - name: to-prometheus\n    action: Accept\n    to: [{pods: {namespaceSelector: {matchLabels: {tenant: a}}, podSelector: {matchLabels: {app: prometheus}}}}]");
    let (snap, _) = load_str("test.yaml", &text, &LoadOptions::default()).unwrap();
    let offline: Vec<Finding> = lint(&snap)
        .into_iter()
        .filter(|f| f.rule == "selects-nothing")
        .collect();
    assert_eq!(offline.len(), 1, "{offline:#?}");
    assert_eq!(offline[0].severity, Severity::Info);
    assert_eq!(offline[0].field.as_deref(), Some("spec.egress[0].to[0]"));
    assert!(offline[0]
        .message
        .contains("names namespace monitoring, which is not in the input"));
    let live: Vec<Finding> = lint_with(
        &snap,
        Completeness {
            namespaces: true,
            pods: true,
        },
    )
    .into_iter()
    .filter(|f| f.rule == "selects-nothing")
    .collect();
    let fields: Vec<(&str, Severity)> = live
        .iter()
        .map(|f| (f.field.as_deref().unwrap(), f.severity))
        .collect();
    assert_eq!(
        fields,
        vec![
            ("spec.egress[0].to[0]", Severity::Warning),
            ("spec.egress[1].to[0]", Severity::Warning)
        ],
        "{live:#?}"
    );
    assert!(live[1]
        .message
        .contains("matches no pod of the cluster, so rule 'to-prometheus' never matches"));
}

// ---- The seeds' examples ----

fn lint_paths(paths: &[&str]) -> Vec<Finding> {
    let paths: Vec<PathBuf> = paths.iter().map(|p| root().join(p)).collect();
    let (snap, _) = load_paths(&paths, &LoadOptions::default()).unwrap();
    lint(&snap)
}

/// Rule ids at warning or above, sorted and deduplicated.
fn warnings(f: &[Finding]) -> Vec<&'static str> {
    let mut v: Vec<&str> = f
        .iter()
        .filter(|f| f.severity >= Severity::Warning)
        .map(|f| f.rule)
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn seeds_give_the_findings_a_reviewer_expects() {
    // (fixtures, rules expected at warning or above, words one of the findings must contain)
    let expectations: Vec<(Vec<&str>, Vec<&str>, Vec<&str>)> = vec![
        // Seed 004, "Pattern 3: allow internal cluster traffic only": egress isolation with
        // only ipBlocks, so DNS to kube-dns is denied.
        (
            vec!["tests/lint/seeds/004-allow-cluster-internal-only.yaml"],
            vec!["egress-without-dns"],
            vec![
                "production/allow-cluster-internal-only",
                "no rule allows DNS",
                "ipBlock",
            ],
        ),
        // Seed 004, "AND vs OR confusion": the OR form.
        (
            vec!["tests/lint/seeds/004-and-vs-or.yaml"],
            vec!["separate-peers-or"],
            vec![
                "did you mean one peer (AND)?",
                "namespaceSelector purpose=monitoring",
            ],
        ),
        // Seed 004 as a whole: default deny, DNS allowed first, specific allows. Clean.
        (vec!["tests/lint/seeds/004-production.yaml"], vec![], vec![]),
        // Seed 004, "Deny All Egress" on its own: nothing resolves any more.
        (
            vec!["tests/lint/seeds/004-default-deny-egress.yaml"],
            vec!["egress-without-dns"],
            vec!["production/default-deny-egress"],
        ),
        // Seed 001: egress to the internet on 443 only, for every pod: no DNS.
        (
            vec!["tests/lint/seeds/001-allow-egress-internet.yaml"],
            vec!["egress-without-dns"],
            vec!["default/allow-egress-internet"],
        ),
        // Seed 001: the frontend -> db policy omits policyTypes (fine: Ingress is defaulted).
        (
            vec!["tests/lint/seeds/001-allow-frontend-db.yaml"],
            vec![],
            vec![],
        ),
        // Seed 003's lab: the backend is closed (default deny, the AND policy, restrict-egress
        // with DNS to anywhere on 53); the frontend namespace is left open.
        (
            vec!["tests/lint/seeds/003-lab.yaml"],
            vec!["no-default-deny"],
            vec![
                "namespace netpol-frontend",
                "client, rogue accept traffic from anywhere",
            ],
        ),
        // Seed 000's policies as the article writes them, with the trust model's pods: the
        // web -> api rule uses podSelector alone, which means pods of payments, but web lives in
        // frontend: the peer matches nothing.
        (
            vec![
                "tests/lint/seeds/000-as-written.yaml",
                "manifests/examples/payments/cluster.yaml",
            ],
            vec!["no-default-deny", "selects-nothing"],
            vec![
                "payments/allow-web-to-api",
                "pods app=web in namespace payments",
                "matches no pod",
            ],
        ),
        // The payments example (the fixed trust model): only the namespaces left open.
        (
            vec!["manifests/examples/payments"],
            vec!["no-default-deny"],
            vec!["namespace frontend", "namespace monitoring"],
        ),
    ];
    for (paths, want, words) in expectations {
        let f = lint_paths(&paths);
        assert_eq!(warnings(&f), want, "{paths:?}: {:#?}", f);
        let text: String = f
            .iter()
            .map(|f| format!("{} {}", f.object, f.message))
            .collect::<Vec<_>>()
            .join("\n");
        for w in words {
            assert!(text.contains(w), "{paths:?}: expected {w:?} in\n{text}");
        }
    }
}

// ---- The command line ----

#[test]
fn exit_codes_follow_the_chosen_severity() {
    let f = "tests/lint/seeds/004-allow-cluster-internal-only.yaml";
    let (code, out, _) = run(&["lint", "-f", f]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("egress-without-dns") && out.contains(&format!("{f}:")),
        "{out}"
    );
    assert!(out.contains("why:") && out.contains("fix:"), "{out}");
    let (code, out, _) = run(&["lint", f, "--severity", "error"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("no findings at or above error"), "{out}");
    let (code, out, _) = run(&["lint", "-f", "tests/lint/seeds/004-production.yaml"]);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = run(&[
        "lint",
        "-f",
        "tests/lint/seeds/004-production.yaml",
        "--severity",
        "info",
        "-o",
        "json",
    ]);
    assert_eq!(code, 1, "info findings count at --severity info: {out}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["severity"], "info");
    assert!(doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["severity"] == "info"));
    let (code, _, err) = run(&["lint", "-f", "no/such/file.yaml"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(&["lint", "-f", f, "-o", "mermaid"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn json_names_object_field_file_and_line() {
    let (code, out, _) = run(&[
        "lint",
        "-f",
        "tests/lint/seeds/004-and-vs-or.yaml",
        "-o",
        "json",
    ]);
    assert_eq!(code, 1);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let f = &doc["findings"][0];
    assert_eq!(f["rule"], "separate-peers-or");
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["object"]["kind"], "NetworkPolicy");
    assert_eq!(f["object"]["namespace"], "production");
    assert_eq!(f["field"], "spec.ingress[0].from");
    assert_eq!(f["file"], "tests/lint/seeds/004-and-vs-or.yaml");
    let text = std::fs::read_to_string(root().join("tests/lint/seeds/004-and-vs-or.yaml")).unwrap();
    let line = f["line"].as_u64().unwrap() as usize;
    assert!(
        text.lines()
            .nth(line - 1)
            .unwrap()
            .contains("name: allow-prometheus-or"),
        "line {line}"
    );
    assert!(
        f["why"].as_str().unwrap().len() > 20 && f["fix"].as_str().unwrap().contains("podSelector")
    );
}

#[test]
fn sarif_is_what_code_scanning_takes() {
    let (code, out, _) = run(&[
        "lint",
        "-f",
        "tests/lint/seeds/004-allow-cluster-internal-only.yaml",
        "-f",
        "tests/lint/seeds/004-and-vs-or.yaml",
        "tests/lint/seeds/001-allow-egress-internet.yaml",
        "-o",
        "sarif",
    ]);
    assert_eq!(code, 1);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["version"], "2.1.0");
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), netpol::lint::rules().len());
    for r in rules {
        assert!(r["id"].is_string() && r["shortDescription"]["text"].is_string());
        assert!(["error", "warning", "note"]
            .contains(&r["defaultConfiguration"]["level"].as_str().unwrap()));
    }
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let id = r["ruleId"].as_str().unwrap();
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], id);
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
        assert!(r["message"]["text"].as_str().unwrap().len() > 10);
        let loc = &r["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        assert!(
            uri.starts_with("tests/lint/seeds/") && uri.ends_with(".yaml"),
            "{uri}"
        );
        assert!(Path::new(env!("CARGO_MANIFEST_DIR")).join(uri).exists());
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
    }
}

// ---- Live: the cluster's namespaces are all there are ----

/// A fake API server with one namespace (shop), one pod and a default deny whose DNS rule names
/// kube-system, which this cluster does not have; no cluster-policy CRDs. Returns its URL.
fn fake_cluster() -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                header.clear();
            }
            let target = request_line.split(' ').nth(1).unwrap_or_default();
            let path = target.split('?').next().unwrap_or_default();
            let list = |kind: &str, items: serde_json::Value| serde_json::json!({"apiVersion": "v1", "kind": kind, "metadata": {}, "items": items});
            let (status, body) = if path.starts_with("/apis/policy.networking.k8s.io/") {
                (
                    404,
                    serde_json::json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
                        "status": "Failure", "reason": "NotFound", "code": 404}),
                )
            } else if path == "/api/v1/namespaces" {
                (
                    200,
                    list(
                        "NamespaceList",
                        serde_json::json!([{"metadata": {"name": "shop",
                            "labels": {"kubernetes.io/metadata.name": "shop"}}}]),
                    ),
                )
            } else if path.ends_with("/pods") {
                (
                    200,
                    list(
                        "PodList",
                        serde_json::json!([{"metadata": {"name": "web", "namespace": "shop",
                            "labels": {"app": "web"}}, "spec": {"containers": [{"name": "c"}]}}]),
                    ),
                )
            } else if path.ends_with("/networkpolicies") {
                (
                    200,
                    list(
                        "NetworkPolicyList",
                        serde_json::json!([{"metadata": {"name": "default-deny", "namespace": "shop"},
                            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"],
                                "egress": [{"to": [{"namespaceSelector": {"matchLabels":
                                    {"kubernetes.io/metadata.name": "kube-system"}}}],
                                    "ports": [{"protocol": "UDP", "port": 53}]}]}}]),
                    ),
                )
            } else {
                (200, list("List", serde_json::json!([])))
            };
            let body = body.to_string();
            let mut stream = reader.into_inner();
            let _ = write!(stream, "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
        }
    });
    url
}

#[test]
fn live_a_namespace_selector_matching_no_namespace_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("config");
    std::fs::write(
        &kubeconfig,
        format!("apiVersion: v1\nkind: Config\nclusters: [{{name: fake, cluster: {{server: '{}'}}}}]\nusers: [{{name: u, user: {{}}}}]\ncontexts: [{{name: fake, context: {{cluster: fake, user: u, namespace: shop}}}}]\ncurrent-context: fake\n", fake_cluster()),
    )
    .unwrap();
    let kubeconfig = kubeconfig.to_str().unwrap();
    let (code, out, err) = run(&["lint", "live", "--kubeconfig", kubeconfig, "-o", "json"]);
    assert_eq!(code, 1, "{out}{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let hit = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "selects-nothing")
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(hit["severity"], "warning");
    assert_eq!(hit["field"], "spec.egress[0].to[0].namespaceSelector");
    assert!(
        hit["message"]
            .as_str()
            .unwrap()
            .contains("matches no namespace of the cluster"),
        "{hit}"
    );
}
