use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use netpol_prober::plan::{Check, CheckKind, CheckResult, Plan, Verdict};

use super::*;
use crate::model::{load_str, ContainerPort, Labels, LoadOptions, Pod, Probe, Protocol, Snapshot};

const PAYMENTS: &str = include_str!("../../../../manifests/examples/payments/cluster.yaml");
const POLICIES: &str = include_str!("../../../../manifests/examples/payments/policies.yaml");

fn payments() -> Snapshot {
    let text = format!("{PAYMENTS}\n---\n{POLICIES}");
    load_str(
        "payments.yaml",
        &text,
        &LoadOptions {
            default_namespace: "default".into(),
            ..Default::default()
        },
    )
    .unwrap()
    .0
}

fn in_namespaces(snap: &Snapshot, ns: &[&str]) -> Vec<usize> {
    snap.endpoint_pods()
        .filter(|(_, p)| ns.contains(&p.namespace.as_str()))
        .map(|(i, _)| i)
        .collect()
}

/// Twenty replicas of web in frontend: the same labels and ports as `web`.
fn with_replicas(mut snap: Snapshot, n: usize) -> Snapshot {
    let web = snap.pods.iter().find(|p| p.name == "web").unwrap().clone();
    for i in 0..n {
        let mut p = web.clone();
        p.name = format!("web-{i:02}");
        p.ips = vec![IpAddr::from([10, 244, 3, 20 + i as u8])];
        snap.pods.push(p);
    }
    snap.finish();
    snap
}

fn settings(probes: Vec<Probe>) -> ProberSettings {
    ProberSettings {
        run: "abc12345".into(),
        image: "localhost/netpol-prober:dev".into(),
        probes,
        deadline: Duration::from_secs(900),
    }
}

fn owner_with_uid(ns: &str) -> ConfigMap {
    let mut cm = owner_config_map("abc12345", ns);
    cm.metadata.uid = Some(format!("uid-{ns}"));
    cm
}

#[test]
fn run_ids_are_short_distinct_and_valid_labels() {
    let ids: BTreeSet<String> = (0..50).map(|_| new_run_id()).collect();
    assert_eq!(ids.len(), 50);
    for id in &ids {
        assert_eq!(id.len(), 8);
        assert!(id.chars().next().unwrap().is_ascii_lowercase());
        assert!(id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
    }
}

#[test]
fn twenty_replicas_need_one_prober() {
    let snap = with_replicas(payments(), 20);
    let scope = in_namespaces(&snap, &["payments", "monitoring", "frontend"]);
    assert_eq!(scope.len(), 24);
    let groups = group_pods(&snap, &scope);
    let names: Vec<String> = groups.iter().map(|g| g.display(&snap)).collect();
    assert_eq!(
        names,
        [
            "frontend/web",
            "monitoring/prometheus",
            "payments/api",
            "payments/db"
        ]
    );
    assert_eq!(groups[0].members.len(), 21);
    // A different port is a different group: a named port could mean another number.
    let mut snap2 = snap.clone();
    let i = snap2.pods.iter().position(|p| p.name == "web-03").unwrap();
    snap2.pods[i].ports[0].port = 8080;
    let groups2 = group_pods(&snap2, &scope);
    assert_eq!(groups2.len(), 5);
    // So is a different label.
    let mut snap3 = snap.clone();
    snap3.pods[i].labels.insert("canary".into(), "true".into());
    assert_eq!(group_pods(&snap3, &scope).len(), 5);
}

#[test]
fn host_network_pods_get_no_prober() {
    let mut snap = payments();
    let i = snap
        .pods
        .iter()
        .position(|p| p.name == "prometheus")
        .unwrap();
    snap.pods[i].host_network = true;
    let all: Vec<usize> = (0..snap.pods.len()).collect();
    let groups = group_pods(&snap, &all);
    assert!(groups
        .iter()
        .all(|g| g.display(&snap) != "monitoring/prometheus"));
}

#[test]
fn prober_pod_mirrors_identity_and_never_takes_traffic() {
    let snap = payments();
    let scope = in_namespaces(&snap, &["payments"]);
    let groups = group_pods(&snap, &scope);
    let api = &groups[0];
    assert_eq!(api.display(&snap), "payments/api");
    let probes = vec![
        Probe::new(Protocol::Tcp, 8080),
        Probe::new(Protocol::Tcp, 9090),
        Probe::new(Protocol::Udp, 53),
        Probe::new(Protocol::Tcp, 5432),
    ];
    let pod = prober_pod(
        api,
        0,
        &owner_with_uid("payments"),
        &settings(probes),
        &snap,
    );
    let meta = &pod.metadata;
    assert_eq!(meta.name.as_deref(), Some("netpol-probe-abc12345-0"));
    assert_eq!(meta.namespace.as_deref(), Some("payments"));
    let labels = meta.labels.clone().unwrap();
    assert_eq!(labels.get("app").map(String::as_str), Some("api"));
    assert_eq!(labels.get(RUN_LABEL).map(String::as_str), Some("abc12345"));
    assert_eq!(labels.len(), 2);
    let annotations = meta.annotations.clone().unwrap();
    assert_eq!(annotations[MIRRORS_ANNOTATION], "api");
    assert_eq!(annotations["sidecar.istio.io/inject"], "false");
    let owner = &meta.owner_references.as_ref().unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str(), owner.uid.as_str()),
        ("ConfigMap", "netpol-probe-abc12345", "uid-payments")
    );
    assert_eq!(
        owner.controller,
        Some(true),
        "a controller ref: no ReplicaSet adopts it"
    );

    let spec = pod.spec.unwrap();
    assert_eq!(
        spec.readiness_gates.unwrap()[0].condition_type,
        NEVER_READY,
        "never Ready: Services never route to it"
    );
    assert_eq!(spec.active_deadline_seconds, Some(900));
    assert_eq!(spec.restart_policy.as_deref(), Some("Never"));
    assert_eq!(spec.automount_service_account_token, Some(false));
    assert_eq!(spec.host_network, None);
    let psc = spec.security_context.unwrap();
    assert_eq!(psc.run_as_non_root, Some(true));
    assert_eq!(psc.run_as_user, Some(65532));
    let sysctls = psc.sysctls.unwrap();
    assert_eq!(sysctls[0].name, LOW_PORT_SYSCTL);
    assert_eq!(sysctls[0].value, "0");

    assert_eq!(spec.containers.len(), 1);
    let c = &spec.containers[0];
    assert_eq!(c.image.as_deref(), Some("localhost/netpol-prober:dev"));
    assert_eq!(c.command.clone().unwrap(), ["/netpol-prober", "serve"]);
    assert_eq!(
        c.args.clone().unwrap(),
        ["--tcp", "5432,8080,9090", "--udp", "53"]
    );
    let ports: Vec<(Option<String>, i32, Option<String>)> = c
        .ports
        .clone()
        .unwrap()
        .into_iter()
        .map(|p| (p.name, p.container_port, p.protocol))
        .collect();
    assert_eq!(
        ports,
        [
            (Some("http".into()), 8080, Some("TCP".into())),
            (Some("metrics".into()), 9090, Some("TCP".into()))
        ]
    );
    let sc = c.security_context.clone().unwrap();
    assert_eq!(sc.allow_privilege_escalation, Some(false));
    assert_eq!(sc.capabilities.unwrap().drop.unwrap(), ["ALL"]);
    assert_eq!(c.readiness_probe, None);
}

#[test]
fn no_sysctl_without_low_ports() {
    let snap = payments();
    let groups = group_pods(&snap, &in_namespaces(&snap, &["payments"]));
    let pod = prober_pod(
        &groups[0],
        0,
        &owner_with_uid("payments"),
        &settings(vec![Probe::new(Protocol::Tcp, 8080)]),
        &snap,
    );
    assert_eq!(
        pod.spec.unwrap().security_context.unwrap().sysctls,
        None,
        "1.20 clusters reject the sysctl unless allowed: only ask when needed"
    );
}

#[test]
fn prober_ports_are_valid_for_one_container() {
    let g = Group {
        namespace: "x".into(),
        labels: Labels::new(),
        ports: vec![
            ContainerPort {
                name: Some("web".into()),
                port: 80,
                protocol: Protocol::Tcp,
            },
            ContainerPort {
                name: Some("web".into()),
                port: 81,
                protocol: Protocol::Tcp,
            },
            ContainerPort {
                name: Some("dup".into()),
                port: 80,
                protocol: Protocol::Tcp,
            },
            ContainerPort {
                name: None,
                port: 80,
                protocol: Protocol::Udp,
            },
        ],
        members: vec![0],
    };
    let ports: Vec<(Option<String>, i32)> = prober_ports(&g)
        .into_iter()
        .map(|p| (p.name, p.container_port))
        .collect();
    assert_eq!(ports, [(Some("web".into()), 80), (None, 81), (None, 80)]);
}

#[test]
fn owner_is_labelled_for_cleanup() {
    let cm = owner_config_map("r1", "payments");
    assert_eq!(cm.metadata.name.as_deref(), Some("netpol-probe-r1"));
    assert_eq!(
        cm.metadata
            .labels
            .unwrap()
            .get(RUN_LABEL)
            .map(String::as_str),
        Some("r1")
    );
    assert_eq!(run_selector(Some("r1")), "netpol.kubectl.io/run=r1");
    assert_eq!(run_selector(None), "netpol.kubectl.io/run");
}

#[test]
fn deadline_grows_with_work_and_is_bounded() {
    let small = deadline(
        Duration::from_secs(180),
        4,
        20,
        Duration::from_secs(1),
        256,
        2,
        8,
    );
    assert_eq!(small, Duration::from_secs(600));
    let big = deadline(
        Duration::from_secs(180),
        400,
        4000,
        Duration::from_secs(2),
        16,
        2,
        8,
    );
    assert!(big > Duration::from_secs(3600), "{big:?}");
    assert!(big <= Duration::from_secs(6 * 3600));
}

#[test]
fn externals_parse() {
    let e = External::parse("169.254.169.254:80").unwrap();
    assert_eq!(e.probe, Probe::new(Protocol::Tcp, 80));
    assert_eq!(e.ip.to_string(), "169.254.169.254");
    let e = External::parse("udp/8.8.8.8:53").unwrap();
    assert_eq!(e.probe, Probe::new(Protocol::Udp, 53));
    let e = External::parse("[2001:db8::1]:443").unwrap();
    assert!(e.ip.is_ipv6());
    assert!(External::parse("example.com:80").is_err());
    assert!(External::parse("10.0.0.1").is_err());
    assert!(External::parse("10.0.0.1:0").is_err());
    assert!(External::parse("icmp/10.0.0.1:1")
        .unwrap_err()
        .contains("icmp"));
}

fn service(ns: &str, name: &str, sel: &[(&str, &str)], not_ready: bool) -> ServiceInfo {
    ServiceInfo {
        namespace: ns.into(),
        name: name.into(),
        selector: sel
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        publish_not_ready: not_ready,
    }
}

#[test]
fn dns_names_are_the_cluster_and_the_targets_services() {
    let snap = payments();
    let groups = group_pods(&snap, &in_namespaces(&snap, &["payments", "frontend"]));
    let services = vec![
        service("payments", "api", &[("app", "api")], false),
        service("payments", "other", &[("app", "nothing")], false),
        service("frontend", "web", &[("app", "web")], true),
        service("frontend", "manual", &[], false),
        service("monitoring", "prometheus", &[("app", "prometheus")], false),
    ];
    assert_eq!(
        dns_names(&services, &groups),
        ["kubernetes.default", "api.payments", "web.frontend"]
    );
    let warnings = not_ready_service_warnings(&services, &groups);
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].contains("frontend/web"), "{warnings:?}");
}

/// The probers as the API would report them once running: same labels plus the run label,
/// their own IPs.
fn running_probers(snap: &Snapshot, groups: &[Group]) -> Vec<Pod> {
    groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let mut p = snap.pods[g.members[0]].clone();
            p.name = prober_name("abc12345", i);
            p.labels.insert(RUN_LABEL.into(), "abc12345".into());
            p.ips = vec![IpAddr::from([10, 244, 9, 1 + i as u8])];
            p
        })
        .collect()
}

fn plan_options() -> PlanOptions {
    PlanOptions {
        timeout: Duration::from_millis(1500),
        concurrency: 64,
        retries: 2,
        externals: vec![External::parse("10.0.0.1:443").unwrap()],
        dns_names: vec!["kubernetes.default".into(), "api.payments".into()],
    }
}

#[test]
fn exec_plans_one_per_source_with_every_target() {
    let snap = with_replicas(payments(), 3);
    let scope = in_namespaces(&snap, &["payments", "monitoring", "frontend"]);
    let groups = group_pods(&snap, &scope);
    let probers = running_probers(&snap, &groups);
    let (msnap, endpoints) = mirror_snapshot(&snap, &groups, &probers);
    assert_eq!(endpoints.len(), 4);
    // The replaced replicas are gone; the DNS pod (not in scope) stays.
    assert!(msnap.pods.iter().all(|p| !p.name.starts_with("web-")));
    assert!(msnap.pods.iter().any(|p| p.name == "coredns"));
    let opts = plan_options();
    assert_eq!(dns_target(&msnap).unwrap().pods.len(), 1);
    let probes = vec![
        Probe::new(Protocol::Tcp, 8080),
        Probe::new(Protocol::Udp, 53),
    ];
    let plan = build_plan(&msnap, &endpoints, &probes, &opts);
    assert_eq!(
        plan.doc.pods,
        [
            "frontend/web",
            "monitoring/prometheus",
            "payments/api",
            "payments/db"
        ]
    );
    // Pod-to-pod connections first (the contract's layout), then the --to rows.
    assert_eq!(plan.doc.connections.len(), 4 * 4 * 2 + 4);
    assert_eq!(plan.doc.connections[32].to, "10.0.0.1");
    assert_eq!(plan.execs.len(), 4);
    for e in &plan.execs {
        assert_eq!(e.plans.len(), 1);
        let p = &e.plans[0];
        assert_eq!((p.timeout_ms, p.concurrency, p.retries), (1500, 64, 2));
        // 4 targets x 2 probes + 1 external + 2 DNS names.
        assert_eq!(p.checks.len(), 11);
        p.validate().unwrap();
        let hosts: BTreeSet<&str> = p.checks.iter().filter_map(|c| c.host.as_deref()).collect();
        assert!(hosts.contains("10.244.9.1") && hosts.contains("10.0.0.1"));
        assert!(p
            .checks
            .iter()
            .any(|c| c.kind == CheckKind::Dns && c.server.is_none()));
    }
    assert_eq!(plan.dns.len(), 8);
    assert_eq!(plan.check_count(), 44);
    // payments pods may reach kube-system on UDP 53 (allow-dns-egress); the others are
    // not isolated for egress.
    assert!(plan.dns.iter().all(|d| d.allowed));
}

#[test]
fn expected_side_judges_the_probers_own_addresses() {
    // An ipBlock that covers the real pod's address but not the prober's: the expected side
    // must follow the prober (it is the one sending packets).
    let text = format!(
        "{PAYMENTS}\n---\n{}",
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-block, namespace: payments}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
  ingress:
    - from: [{ipBlock: {cidr: 10.244.3.10/32}}]
"#
    );
    let snap = load_str(
        "x.yaml",
        &text,
        &LoadOptions {
            default_namespace: "default".into(),
            ..Default::default()
        },
    )
    .unwrap()
    .0;
    let scope = in_namespaces(&snap, &["payments", "frontend"]);
    let groups = group_pods(&snap, &scope);
    let probers = running_probers(&snap, &groups);
    let (msnap, endpoints) = mirror_snapshot(&snap, &groups, &probers);
    let probes = vec![Probe::new(Protocol::Tcp, 5432)];
    let mut opts = plan_options();
    opts.externals.clear();
    let plan = build_plan(&msnap, &endpoints, &probes, &opts);
    let web_to_db = plan
        .doc
        .connections
        .iter()
        .find(|c| c.from == "frontend/web" && c.to == "payments/db")
        .unwrap();
    assert!(
        !web_to_db.allowed,
        "the real web (10.244.3.10) would be allowed, its prober (10.244.9.1) is not"
    );
}

fn result(id: &str, verdict: Verdict) -> CheckResult {
    CheckResult {
        id: id.into(),
        kind: CheckKind::Tcp,
        host: None,
        port: None,
        name: None,
        verdict,
        latency_ms: 1.0,
        detail: None,
        addresses: vec![],
    }
}

#[test]
fn assembly_compares_and_names_an_unenforcing_cni() {
    let snap = payments();
    let scope = in_namespaces(&snap, &["payments", "monitoring", "frontend"]);
    let groups = group_pods(&snap, &scope);
    let probers = running_probers(&snap, &groups);
    let (msnap, endpoints) = mirror_snapshot(&snap, &groups, &probers);
    let opts = plan_options();
    let probes = vec![
        Probe::new(Protocol::Tcp, 8080),
        Probe::new(Protocol::Tcp, 5432),
    ];
    let plan = build_plan(&msnap, &endpoints, &probes, &opts);
    // A CNI that enforces nothing: every connection gets through; one source's exec failed.
    let failed: BTreeSet<String> = plan.execs[0].plans[0]
        .checks
        .iter()
        .map(|c| c.id.clone())
        .collect();
    let results: Vec<CheckResult> = plan
        .execs
        .iter()
        .flat_map(|e| &e.plans)
        .flat_map(|p| &p.checks)
        .filter(|c| !failed.contains(&c.id))
        .map(|c| {
            let mut r = result(&c.id, Verdict::Connected);
            if c.kind == CheckKind::Dns {
                r.kind = CheckKind::Dns;
                r.addresses = vec!["10.96.0.1".into()];
            }
            r
        })
        .collect();
    let expected_denied = plan
        .doc
        .connections
        .iter()
        .filter(|c| !c.allowed && c.from != "frontend/web")
        .count();
    let report = assemble(plan, &results);
    let s = report.matrix.summary.clone().unwrap();
    assert_eq!(s.disagree, expected_denied);
    assert_eq!(s.errors, failed.len());
    assert!(
        report.verdict.contains("policies are NOT enforced")
            && report.verdict.contains("install-enforcer"),
        "{}",
        report.verdict
    );
    let row = report
        .dns
        .iter()
        .find(|d| d.from == "payments/api" && d.name == "api.payments")
        .unwrap();
    assert_eq!(row.verdict, "connected");
    assert_eq!(row.agree, Some(true));
    assert_eq!(row.addresses, ["10.96.0.1"]);
    let ext = report
        .matrix
        .connections
        .iter()
        .find(|c| c.from == "payments/api" && c.to == "10.0.0.1")
        .unwrap();
    assert!(!ext.allowed, "api's egress allows only db:5432");
    assert_eq!(ext.agree, Some(false));
}

#[test]
fn big_plans_are_split_under_the_limit() {
    let checks: Vec<Check> = (0..1000)
        .map(|i| Check {
            id: format!("c{i}"),
            kind: CheckKind::Tcp,
            host: Some("10.244.200.200".into()),
            port: Some(65000),
            name: None,
            server: None,
        })
        .collect();
    let plan = Plan {
        timeout_ms: 1000,
        concurrency: 8,
        retries: 1,
        checks,
    };
    let parts = split_plan(plan.clone(), 10_000);
    assert!(parts.len() > 1);
    assert_eq!(parts.iter().map(|p| p.checks.len()).sum::<usize>(), 1000);
    for p in &parts {
        assert!(serde_json::to_string(p).unwrap().len() <= 10_000);
        assert_eq!((p.timeout_ms, p.concurrency, p.retries), (1000, 8, 1));
    }
    assert_eq!(split_plan(plan, MAX_PLAN_BYTES).len(), 1);
}

#[test]
fn ephemeral_container_runs_the_plan_and_exits() {
    let plan = Plan {
        timeout_ms: 1000,
        concurrency: 8,
        retries: 0,
        checks: vec![],
    };
    let c = ephemeral_container("netpol-probe-r1", "img:1", &plan).unwrap();
    let cmd = c.command.unwrap();
    assert_eq!(&cmd[..3], ["/netpol-prober", "run", "--plan-json"]);
    assert_eq!(Plan::from_json(&cmd[3]).unwrap(), plan);
    assert_eq!(c.security_context.unwrap().run_as_non_root, Some(true));
}

#[test]
fn prober_output_is_parsed_and_ready_is_seen() {
    let out =
        "{\"id\":\"c1\",\"kind\":\"tcp\",\"verdict\":\"timeout\",\"latency_ms\":1000.0}\nnoise\n\n";
    let (r, bad) = parse_results(out);
    assert_eq!((r.len(), bad), (1, 1));
    assert_eq!(r[0].verdict, Verdict::Timeout);
    assert!(ready_line("{\"ready\":true,\"listening\":[\"tcp/80\"]}\n").is_some());
    assert!(ready_line("netpol-prober: cannot bind tcp/80\n").is_none());
}
