//! The cluster probe end to end without a cluster: the Kubernetes I/O is the netns double
//! (`probe::cluster::netns`), so prober pods become network namespaces with the enforcer's rules
//! (or without them, like a CNI that ignores NetworkPolicy), execs run the real agent in them,
//! and DNS goes to a real DNS responder in the "kube-system" pod. Everything after connecting to
//! the API is the code `kubectl netpol probe` runs: grouping, pod specs, waiting, exec plans,
//! the expected side, comparison, reports and clean-up. Needs root (like tests/probe_local.rs).

mod common;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use common::cli::{bin, offline, outcome};
use k8s_openapi::api::core::v1::{Service, ServiceSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use netpol::engine::explain::default_probes;
use netpol::model::{load_paths, LoadOptions, Protocol, Snapshot};
use netpol::probe::cluster::netns::NetnsCluster;
use netpol::probe::cluster::plan::{self as cplan, owner_config_map, run_selector, RUN_LABEL};
use netpol::probe::cluster::{
    cleanup_all, probe_in_place, probe_mirror, ClusterError, ClusterIo, ClusterOptions, External,
    Outcome,
};
use netpol::probe::ProbeReport;
use netpol::report;

fn require_root() -> std::sync::MutexGuard<'static, ()> {
    common::netns::require_root("the cluster-probe tests")
}

fn agent() -> Vec<String> {
    vec![bin().display().to_string(), "prober".to_string()]
}

/// The seeds' payments / monitoring / frontend scenario, with `replicas` more web pods.
fn payments(replicas: usize) -> Snapshot {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let (mut snap, _) = load_paths(
        &[root.join("manifests/examples/payments")],
        &LoadOptions {
            default_namespace: "default".into(),
            ..Default::default()
        },
    )
    .unwrap();
    let web = snap.pods.iter().find(|p| p.name == "web").unwrap().clone();
    for i in 0..replicas {
        let mut p = web.clone();
        p.name = format!("web-{i}");
        p.ips = vec![IpAddr::from([10, 244, 3, 20 + i as u8])];
        snap.pods.push(p);
    }
    snap.finish();
    snap
}

fn service(ns: &str, name: &str, app: &str, ip: &str) -> Service {
    Service {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some(ns.into()),
            ..Default::default()
        },
        spec: Some(ServiceSpec {
            selector: Some(BTreeMap::from([("app".to_string(), app.to_string())])),
            cluster_ip: Some(ip.into()),
            ..Default::default()
        }),
        status: None,
    }
}

fn services() -> Vec<Service> {
    vec![
        service("payments", "api", "api", "10.96.100.10"),
        service("frontend", "web", "web", "10.96.100.20"),
    ]
}

fn scope(snap: &Snapshot, namespaces: &[&str]) -> Vec<usize> {
    snap.endpoint_pods()
        .filter(|(_, p)| namespaces.contains(&p.namespace.as_str()))
        .map(|(i, _)| i)
        .collect()
}

fn options() -> ClusterOptions {
    ClusterOptions {
        image: "localhost/netpol-prober:test".into(),
        timeout: Duration::from_millis(1000),
        poll: Duration::from_millis(50),
        start_timeout: Duration::from_secs(30),
        ..ClusterOptions::default()
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn assert_nothing_left(cluster: &NetnsCluster, base_namespaces: usize, outcome: &Outcome) {
    assert!(outcome.leftovers.is_empty(), "{:?}", outcome.leftovers);
    let left = block_on(cluster.list_labelled(None, &run_selector(None))).unwrap();
    assert!(left.is_empty(), "objects left behind: {left:?}");
    assert_eq!(
        cluster.namespaces().len(),
        base_namespaces,
        "prober namespaces left behind: {:?}",
        cluster.namespaces()
    );
}

fn disagreements(r: &ProbeReport) -> Vec<String> {
    r.matrix
        .connections
        .iter()
        .filter(|c| c.agree != Some(true))
        .map(|c| {
            format!(
                "{} -> {} {}/{}: expected {}, {:?}",
                c.from, c.to, c.protocol, c.port, c.allowed, c.verdict
            )
        })
        .chain(r.dns.iter().filter(|d| d.agree != Some(true)).map(|d| {
            format!(
                "{} resolving {}: expected {}, {} {:?}",
                d.from, d.name, d.allowed, d.verdict, d.addresses
            )
        }))
        .collect()
}

#[test]
fn mirror_mode_agrees_where_the_policies_are_enforced() {
    let _serial = require_root();
    let snap = payments(3);
    let cluster = NetnsCluster::start(snap.clone(), services(), agent(), true, (1, 20)).unwrap();
    let base = cluster.namespaces().len();
    let pods = scope(&snap, &["payments", "monitoring", "frontend"]);
    assert_eq!(pods.len(), 7);
    let probes = default_probes(&snap, &pods);
    let outcome = block_on(probe_mirror(&cluster, &snap, &pods, &probes, &options())).unwrap();
    let r = &outcome.report;
    // Four replicas of web, one prober: four rows.
    assert_eq!(
        r.matrix.pods,
        [
            "frontend/web",
            "monitoring/prometheus",
            "payments/api",
            "payments/db"
        ]
    );
    assert!(
        outcome
            .notes
            .iter()
            .any(|n| n.contains("frontend/web stands for 4 pods")),
        "{:?}",
        outcome.notes
    );
    let s = r.matrix.summary.clone().unwrap();
    assert_eq!(
        (s.disagree, s.errors),
        (0, 0),
        "{:#?}\n{}",
        disagreements(r),
        r.verdict
    );
    assert!(r.verdict.contains("enforced as written"), "{}", r.verdict);
    // Allowed and denied both occur, or the check proves nothing.
    let api_from_web = r
        .matrix
        .connections
        .iter()
        .find(|c| c.from == "frontend/web" && c.to == "payments/api" && c.port == 8080)
        .unwrap();
    assert_eq!(
        (api_from_web.allowed, api_from_web.verdict.as_deref()),
        (true, Some("connected"))
    );
    let db_from_web = r
        .matrix
        .connections
        .iter()
        .find(|c| c.from == "frontend/web" && c.to == "payments/db" && c.port == 5432)
        .unwrap();
    assert_eq!(
        (db_from_web.allowed, db_from_web.verdict.as_deref()),
        (false, Some("timeout"))
    );
    // DNS: every source resolves the cluster name and the targets' Services, as its own rows.
    assert_eq!(r.dns.len(), 4 * 3, "{:#?}", r.dns);
    for d in &r.dns {
        assert_eq!(d.agree, Some(true), "{d:?}");
        assert_eq!(d.verdict, "connected", "{d:?}");
    }
    let api_name = r
        .dns
        .iter()
        .find(|d| d.from == "frontend/web" && d.name == "api.payments")
        .unwrap();
    assert_eq!(api_name.addresses, ["10.96.100.10"]);
    // Every output format takes the report.
    let json = report::structured(r, report::Format::Json);
    let back: ProbeReport = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, r);
    assert!(report::probe::table(r).contains("0 disagree"));
    assert!(report::junit::junit(r).contains("<testsuites"));
    assert_nothing_left(&cluster, base, &outcome);
}

#[test]
fn mirror_mode_names_a_cni_that_ignores_policies() {
    let _serial = require_root();
    let snap = payments(0);
    let cluster = NetnsCluster::start(snap.clone(), services(), agent(), false, (1, 20)).unwrap();
    let base = cluster.namespaces().len();
    let pods = scope(&snap, &["payments", "monitoring", "frontend"]);
    let probes = vec![
        netpol::model::Probe::new(Protocol::Tcp, 8080),
        netpol::model::Probe::new(Protocol::Tcp, 5432),
        netpol::model::Probe::new(Protocol::Udp, 53),
    ];
    let outcome = block_on(probe_mirror(&cluster, &snap, &pods, &probes, &options())).unwrap();
    let r = &outcome.report;
    let should_be_denied = r.matrix.connections.iter().filter(|c| !c.allowed).count();
    assert!(should_be_denied > 10);
    let s = r.matrix.summary.clone().unwrap();
    assert_eq!(
        (s.disagree, s.errors),
        (should_be_denied, 0),
        "{}",
        r.verdict
    );
    assert!(
        r.verdict.contains(&format!(
            "policies are NOT enforced: {should_be_denied} connections that should be denied were allowed"
        )) && r.verdict.contains("install-enforcer"),
        "{}",
        r.verdict
    );
    let table = report::probe::table(r);
    assert!(table.contains("Disagreements"), "{table}");
    assert_nothing_left(&cluster, base, &outcome);
}

#[test]
fn to_rows_probe_endpoints_outside_the_scope() {
    let _serial = require_root();
    let snap = payments(0);
    let cluster = NetnsCluster::start(snap.clone(), services(), agent(), true, (1, 20)).unwrap();
    let base = cluster.namespaces().len();
    // Only payments in scope; the web pod of frontend stands in for an outside endpoint.
    let pods = scope(&snap, &["payments"]);
    let mut opts = options();
    opts.externals = vec![External::parse("10.244.3.10:80").unwrap()];
    let probes = vec![netpol::model::Probe::new(Protocol::Tcp, 5432)];
    let outcome = block_on(probe_mirror(&cluster, &snap, &pods, &probes, &opts)).unwrap();
    let ext: Vec<_> = outcome
        .report
        .matrix
        .connections
        .iter()
        .filter(|c| c.to == "10.244.3.10")
        .collect();
    assert_eq!(ext.len(), 2);
    for c in ext {
        // default-deny-all isolates payments' egress; nothing allows 10.244.3.10:80.
        assert!(!c.allowed);
        assert_eq!(c.verdict.as_deref(), Some("timeout"), "{c:?}");
        assert_eq!(c.agree, Some(true));
    }
    assert_nothing_left(&cluster, base, &outcome);
}

#[test]
fn in_place_mode_probes_the_real_pods() {
    let _serial = require_root();
    let snap = payments(1);
    let cluster = NetnsCluster::start(snap.clone(), services(), agent(), true, (1, 30)).unwrap();
    let base = cluster.namespaces().len();
    let pods = scope(&snap, &["payments", "monitoring", "frontend"]);
    let probes = vec![
        netpol::model::Probe::new(Protocol::Tcp, 8080),
        netpol::model::Probe::new(Protocol::Tcp, 9090),
        netpol::model::Probe::new(Protocol::Tcp, 5432),
    ];
    let outcome = block_on(probe_in_place(&cluster, &snap, &pods, &probes, &options())).unwrap();
    let r = &outcome.report;
    // Exact identity: every real pod is its own row, replicas included.
    assert_eq!(r.matrix.pods.len(), 5);
    assert!(r.matrix.pods.contains(&"frontend/web-0".to_string()));
    let s = r.matrix.summary.clone().unwrap();
    assert_eq!((s.disagree, s.errors), (0, 0), "{:#?}", disagreements(r));
    assert!(
        outcome.notes.iter().any(
            |n| n.contains("terminated ephemeral container") && n.contains("cannot be removed")
        ),
        "{:?}",
        outcome.notes
    );
    assert_eq!(cluster.namespaces().len(), base, "in place creates no pods");
}

#[test]
fn in_place_mode_is_unavailable_before_1_23() {
    let _serial = require_root();
    let snap = payments(0);
    let cluster = NetnsCluster::start(snap.clone(), services(), agent(), true, (1, 20)).unwrap();
    let pods = scope(&snap, &["payments"]);
    let probes = vec![netpol::model::Probe::new(Protocol::Tcp, 8080)];
    let err = block_on(probe_in_place(&cluster, &snap, &pods, &probes, &options())).unwrap_err();
    assert!(matches!(err, ClusterError::Cluster(_)));
    let text = err.to_string();
    assert!(
        text.contains("--in-place is unavailable")
            && text.contains("1.20")
            && text.contains("1.23"),
        "{text}"
    );
}

#[test]
fn a_prober_that_cannot_start_fails_the_run_and_is_cleaned_up() {
    let _serial = require_root();
    let snap = payments(0);
    let cluster = NetnsCluster::start(snap.clone(), services(), agent(), true, (1, 20)).unwrap();
    let base = cluster.namespaces().len();
    let pods = scope(&snap, &["payments"]);
    let probes = vec![netpol::model::Probe::new(Protocol::Tcp, 8080)];
    let mut opts = options();
    // The double cannot "pull" images under missing/: ErrImagePull, as on a node without it.
    opts.image = "missing/netpol-prober:nope".into();
    let err = block_on(probe_mirror(&cluster, &snap, &pods, &probes, &opts)).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ClusterError::Cluster(_)), "{text}");
    assert!(
        text.contains("cannot start: ErrImagePull")
            && text.contains("missing/netpol-prober:nope")
            && text.contains("--image"),
        "{text}"
    );
    let left = block_on(cluster.list_labelled(None, &run_selector(None))).unwrap();
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(cluster.namespaces().len(), base);
}

#[test]
fn cleanup_removes_what_a_crashed_run_left() {
    let _serial = require_root();
    let snap = payments(0);
    let cluster = NetnsCluster::start(snap.clone(), services(), agent(), true, (1, 20)).unwrap();
    let base = cluster.namespaces().len();
    // A run that died after creating its prober: the owner and the pod are there.
    let groups = cplan::group_pods(&snap, &scope(&snap, &["payments"]));
    let settings = cplan::ProberSettings {
        run: "crashed1".into(),
        image: "localhost/netpol-prober:test".into(),
        probes: vec![netpol::model::Probe::new(Protocol::Tcp, 8080)],
        deadline: Duration::from_secs(600),
    };
    block_on(async {
        let owner = cluster
            .create_config_map(&owner_config_map("crashed1", "payments"))
            .await
            .unwrap();
        for (i, g) in groups.iter().enumerate() {
            cluster
                .create_pod(&cplan::prober_pod(g, i, &owner, &settings, &snap))
                .await
                .unwrap();
        }
    });
    assert_eq!(cluster.namespaces().len(), base + 2);
    let (found, left) = block_on(cleanup_all(&cluster, false)).unwrap();
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found.iter().all(|f| f.contains("netpol-probe-crashed1")));
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(cluster.namespaces().len(), base);
    let (found, _) = block_on(cleanup_all(&cluster, false)).unwrap();
    assert!(found.is_empty());
    // The selector cleanup uses is the label key alone: every run.
    assert_eq!(run_selector(None), RUN_LABEL);
}

#[test]
fn dns_rows_show_a_forgotten_dns_rule() {
    let _serial = require_root();
    // The seed's classic mistake: default-deny-all without the DNS egress rule.
    let mut snap = payments(0);
    snap.policies.retain(|p| p.name != "allow-dns-egress");
    let cluster = NetnsCluster::start(snap.clone(), services(), agent(), true, (1, 20)).unwrap();
    let base = cluster.namespaces().len();
    let pods = scope(&snap, &["payments", "frontend"]);
    let probes = vec![netpol::model::Probe::new(Protocol::Tcp, 8080)];
    let outcome = block_on(probe_mirror(&cluster, &snap, &pods, &probes, &options())).unwrap();
    let r = &outcome.report;
    let s = r.matrix.summary.clone().unwrap();
    assert_eq!((s.disagree, s.errors), (0, 0), "{:#?}", disagreements(r));
    for d in &r.dns {
        if d.from.starts_with("payments/") {
            assert_eq!((d.allowed, d.verdict.as_str()), (false, "timeout"), "{d:?}");
        } else {
            assert_eq!(
                (d.allowed, d.verdict.as_str()),
                (true, "connected"),
                "{d:?}"
            );
        }
    }
    assert!(r.dns.iter().any(|d| d.from == "payments/db"));
    assert_nothing_left(&cluster, base, &outcome);
}

/// The command line of the cluster path, without a cluster: usage errors exit 2, a cluster that
/// cannot be reached exits 3, both with a message that says what to do.
#[test]
fn command_line_errors_are_clear() {
    let run = |args: &[&str]| {
        let (code, _, stderr) = outcome(offline().args(args));
        (code, stderr)
    };
    let (code, err) = run(&["probe", "-f", "manifests/examples/payments"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("add --local"), "{err}");
    let (code, err) = run(&["probe", "--to", "example.com:80"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--to") && err.contains("IP:PORT"), "{err}");
    let (code, err) = run(&["probe", "--local", "--in-place"]);
    assert_eq!(code, 2, "{err}");
    let (code, err) = run(&[
        "probe",
        "--local",
        "--to",
        "10.0.0.1:80",
        "-f",
        "manifests/examples/payments",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--to"), "{err}");
    let (code, err) = run(&["probe", "-n", "payments"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("kubeconfig"), "{err}");
    let (code, err) = run(&["cleanup"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("kubeconfig"), "{err}");
}

#[test]
fn lab_check_probe_sends_real_packets_from_mirror_probers() {
    use netpol::lab::check::{bind_offline, check_offline, offline_snapshot, policies_of};
    use netpol::lab::cluster::probe_with;
    use netpol::lab::Catalogue;

    let _serial = require_root();
    let catalogue = Catalogue::embedded().unwrap();
    let lab = catalogue.find("payments-trust-model").unwrap();
    let solution = policies_of("solution.yaml", &lab.solution).unwrap();
    // Enforced, the reference solution passes with packets too; on a CNI that ignores policies
    // the packets give it away.
    for enforce in [true, false] {
        let cluster = NetnsCluster::start(
            offline_snapshot(lab, &solution).unwrap(),
            Vec::new(),
            agent(),
            enforce,
            (1, 20),
        )
        .unwrap();
        let base = cluster.namespaces().len();
        let snap = cluster.snapshot();
        let bindings = bind_offline(lab, &snap).unwrap();
        let rows: BTreeMap<String, String> = bindings
            .pods
            .iter()
            .map(|(lab_pod, &i)| (lab_pod.clone(), snap.pods[i].key()))
            .collect();
        let mut report = check_offline(lab, &solution, &[]).unwrap();
        assert!(report.passed, "the reference solution passes statically");
        block_on(probe_with(
            &cluster,
            &snap,
            lab,
            &rows,
            &mut report,
            &options(),
        ))
        .unwrap();
        let packets = report.probe.clone().unwrap();
        let observed = report
            .checks
            .iter()
            .filter(|c| c.observed.is_some())
            .count();
        assert_eq!(observed, lab.checks.len(), "every check observed");
        if enforce {
            assert!(packets.passed && report.passed, "{}", packets.verdict);
            assert_eq!((packets.disagree, packets.errors), (0, 0));
        } else {
            let denied = lab.checks.iter().filter(|c| !c.allowed).count();
            assert!(denied > 0);
            assert!(!packets.passed && !report.passed);
            assert_eq!(packets.disagree, denied, "{}", packets.verdict);
            assert!(
                packets.verdict.contains("did not do what"),
                "{}",
                packets.verdict
            );
        }
        let left = block_on(cluster.list_labelled(None, &run_selector(None))).unwrap();
        assert!(left.is_empty(), "objects left behind: {left:?}");
        assert_eq!(cluster.namespaces().len(), base);
    }
}

/// `probe --apply` through the double: the change is applied through the trait (server-side
/// apply on a cluster), the streaming probers run in the prober pods by exec, and the previous
/// objects are put back.
fn apply_run(change: netpol::probe::apply::ChangeSet) -> netpol::probe::cluster::ApplyRun {
    netpol::probe::cluster::ApplyRun {
        change,
        interval: Duration::from_millis(100),
        settle: Duration::from_secs(20),
        keep: false,
        new_pod: false,
    }
}

fn policy_keys(cluster: &NetnsCluster) -> Vec<String> {
    cluster
        .snapshot()
        .policies
        .iter()
        .map(|p| p.key())
        .collect()
}

#[test]
fn apply_measures_time_to_enforce_and_puts_the_previous_policies_back() {
    use netpol::probe::apply::{read_policies, ChangeSet, Established};
    use netpol::probe::cluster::probe_mirror_apply;
    let _serial = require_root();
    let snap = payments(0);
    let cluster = NetnsCluster::start(snap.clone(), services(), agent(), true, (1, 30)).unwrap();
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let existing = read_policies(
        &[root.join("manifests/examples/payments")],
        "default",
        false,
    )
    .unwrap();
    cluster.set_policy_objects(
        existing
            .iter()
            .map(|p| serde_json::from_value(p.value.clone()).unwrap())
            .collect(),
    );
    let base = cluster.namespaces().len();
    let before = policy_keys(&cluster);
    let pods = scope(&snap, &["payments", "monitoring", "frontend"]);
    let probes = [
        netpol::model::Probe::new(Protocol::Tcp, 8080),
        netpol::model::Probe::new(Protocol::Udp, 53),
    ];
    let opts = ClusterOptions {
        timeout: Duration::from_millis(300),
        ..options()
    };

    // Closing: frontend gets a default deny for ingress and egress.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("deny.yaml");
    std::fs::write(
        &file,
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny-all, namespace: frontend}\nspec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n",
    )
    .unwrap();
    let change = ChangeSet {
        applied: read_policies(&[file], "default", true).unwrap(),
        deleted: vec![],
    };
    let outcome = block_on(probe_mirror_apply(
        &cluster,
        &snap,
        &pods,
        &probes,
        &opts,
        &apply_run(change),
    ))
    .unwrap();
    let r = &outcome.report;
    let s = &r.timing.summary;
    assert!(s.flipped >= 4, "{:#?}", r.timing);
    assert_eq!(s.converged, s.flipped, "{:#?}", r.timing);
    assert!(r
        .timing
        .pairs
        .iter()
        .all(|p| p.allowed_before && !p.allowed_after));
    assert!(s.p95_s.unwrap() < 2.0, "{:#?}", s);
    // The double's rules accept established traffic first, like the enforcer without
    // --terminate-established: every flow survives.
    assert!(r
        .timing
        .pairs
        .iter()
        .all(|p| p.established == Some(Established::Survived)));
    assert_eq!(r.probe.matrix.summary.clone().unwrap().disagree, 0);
    assert!(r.restored, "{:?}", outcome.notes);
    assert_eq!(
        policy_keys(&cluster),
        before,
        "the new policy is gone again"
    );
    assert!(outcome.leftovers.is_empty(), "{:?}", outcome.leftovers);
    let left = block_on(cluster.list_labelled(None, &run_selector(None))).unwrap();
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(cluster.namespaces().len(), base);

    // Opening: monitoring may now reach db on 8080.
    let file = dir.path().join("open.yaml");
    std::fs::write(
        &file,
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: scrape-db, namespace: payments}\nspec:\n  podSelector: {matchLabels: {app: db}}\n  ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}], ports: [{port: 8080}]}]\n",
    )
    .unwrap();
    let change = ChangeSet {
        applied: read_policies(&[file], "default", true).unwrap(),
        deleted: vec![],
    };
    let outcome = block_on(probe_mirror_apply(
        &cluster,
        &snap,
        &pods,
        &probes,
        &opts,
        &apply_run(change),
    ))
    .unwrap();
    let r = &outcome.report;
    assert_eq!(r.timing.summary.flipped, 1, "{:#?}", r.timing);
    let p = &r.timing.pairs[0];
    assert_eq!(
        (p.from.as_str(), p.to.as_str()),
        ("monitoring/prometheus", "payments/db")
    );
    assert!(!p.allowed_before && p.allowed_after && p.converged && p.established.is_none());
    assert!(r.restored);
    assert_eq!(policy_keys(&cluster), before);

    // Deleting an existing policy: web loses api; the object is put back as it was.
    let change = ChangeSet {
        applied: vec![],
        deleted: vec![netpol::probe::apply::parse_delete(
            "netpol/payments/allow-web-to-api",
            "default",
        )
        .unwrap()],
    };
    let outcome = block_on(probe_mirror_apply(
        &cluster,
        &snap,
        &pods,
        &probes,
        &opts,
        &apply_run(change),
    ))
    .unwrap();
    let r = &outcome.report;
    assert_eq!(r.timing.summary.flipped, 1, "{:#?}", r.timing);
    assert_eq!(r.timing.summary.converged, 1, "{:#?}", r.timing);
    assert!(r.restored);
    assert_eq!(policy_keys(&cluster), before);
    assert!(block_on(cluster.get_policy("payments", "allow-web-to-api"))
        .unwrap()
        .is_some());
    assert_eq!(cluster.namespaces().len(), base);

    // Deleting what is not there is bad input, before anything is created.
    let change = ChangeSet {
        applied: vec![],
        deleted: vec![
            netpol::probe::apply::parse_delete("netpol/payments/nope", "default").unwrap(),
        ],
    };
    match block_on(probe_mirror_apply(
        &cluster,
        &snap,
        &pods,
        &probes,
        &opts,
        &apply_run(change),
    )) {
        Err(ClusterError::Input(m)) => assert!(m.contains("payments/nope"), "{m}"),
        other => panic!(
            "expected bad input, got {:?}",
            other.map(|o| o.report.timing)
        ),
    }
    assert_eq!(cluster.namespaces().len(), base);

    // A cluster-scoped policy is not changed on a cluster (only in the local sandbox): bad
    // input that names it, before anything is created.
    let change = ChangeSet {
        applied: vec![],
        deleted: vec![netpol::probe::apply::parse_delete("cnp/tenancy", "default").unwrap()],
    };
    match block_on(probe_mirror_apply(
        &cluster,
        &snap,
        &pods,
        &probes,
        &opts,
        &apply_run(change),
    )) {
        Err(ClusterError::Input(m)) => assert!(
            m.contains("ClusterNetworkPolicy tenancy") && m.contains("probe --local --apply"),
            "{m}"
        ),
        other => panic!(
            "expected bad input, got {:?}",
            other.map(|o| o.report.timing)
        ),
    }
    assert_eq!(cluster.namespaces().len(), base);
}

#[test]
fn new_pod_window_is_measured_from_the_first_instant() {
    use netpol::probe::apply::{read_policies, ChangeSet};
    use netpol::probe::cluster::probe_mirror_apply;
    let _serial = require_root();
    let snap = payments(0);
    let pods = scope(&snap, &["payments", "monitoring", "frontend"]);
    let probes = [netpol::model::Probe::new(Protocol::Tcp, 8080)];
    let opts = ClusterOptions {
        timeout: Duration::from_millis(300),
        ..options()
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("deny.yaml");
    std::fs::write(
        &file,
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny-all, namespace: frontend}\nspec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n",
    )
    .unwrap();
    let run = |enforce: bool| {
        let cluster =
            NetnsCluster::start(snap.clone(), services(), agent(), enforce, (1, 30)).unwrap();
        let base = cluster.namespaces().len();
        let change = ChangeSet {
            applied: read_policies(std::slice::from_ref(&file), "default", true).unwrap(),
            deleted: vec![],
        };
        let apply = netpol::probe::cluster::ApplyRun {
            settle: Duration::from_secs(if enforce { 20 } else { 2 }),
            new_pod: true,
            ..apply_run(change)
        };
        let outcome = block_on(probe_mirror_apply(
            &cluster, &snap, &pods, &probes, &opts, &apply,
        ))
        .unwrap();
        assert_eq!(
            cluster.namespaces().len(),
            base,
            "the new pod is cleaned up too"
        );
        outcome.report
    };
    // Nothing enforces: the new frontend pod talks against its policies the whole time.
    let r = run(false);
    let w = r.new_pod.clone().expect("new pod measured");
    assert!(w.pod.starts_with("frontend/"), "{w:?}");
    assert!(w.denied_out > 0 && w.denied_in > 0, "{w:?}");
    assert!(w.leaked_out > 0 && w.leaked_in > 0, "{w:?}");
    assert!(w.window_s > 2.0, "{w:?}");
    assert!(
        r.probe.verdict.contains("could talk against its policies"),
        "{}",
        r.probe.verdict
    );
    // The double programs a new pod right after its prober started: a short window at most.
    let r = run(true);
    let w = r.new_pod.clone().expect("new pod measured");
    assert!(w.denied_out > 0 && w.denied_in > 0, "{w:?}");
    assert!(w.window_s < 1.0, "{w:?}");
}
