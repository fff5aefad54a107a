//! Opt-in end to end test of `kubectl netpol probe` against a real cluster (the one KUBECONFIG
//! points at): the seeds' payments / monitoring / frontend scenario with its policies and a
//! cluster DNS pod, probed with real prober pods. Run it with
//!
//! ```sh
//! export KUBECONFIG=/var/lib/netpol-e2e/admin.kubeconfig      # or a kind cluster
//! NETPOL_E2E_PROBER_IMAGE=localhost/netpol-prober:dev \
//!   cargo test --test probe_e2e -- --ignored --nocapture
//! ```
//!
//! - `NETPOL_E2E_PROBER_IMAGE` (default `localhost/netpol-prober:dev`): the prober image, loaded
//!   into the cluster (`tests/e2e/cluster/pack-image --import`, or `kind load docker-image`).
//! - `NETPOL_E2E_APP_IMAGE` (default `localhost/netpol-e2e/busybox:1.35`): any image with
//!   `sleep`, for the scenario's application pods (`busybox:1.36` on kind).
//! - `NETPOL_E2E_ENFORCED=1`: the cluster enforces NetworkPolicy (kind + Calico, or the
//!   enforcer installed): every row must agree and probe must exit 0. Without it the CNI is
//!   expected to ignore policies (the e2e cluster's bridge CNI): probe must exit 1 and say
//!   "policies are NOT enforced".
//! - `NETPOL_E2E_DNS=0`: do not create the cluster DNS pod (a cluster that has its own: kind).
//!
//! Either way: Services never list a prober while the probe runs, and nothing the probe made is
//! left afterwards. The test removes its namespaces at the end.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::cli::run as netpol;
use k8s_openapi::api::core::v1::{
    ConfigMap, Container, ContainerPort, Endpoints, Namespace, Pod, PodSecurityContext, PodSpec,
    Service, ServicePort, ServiceSpec,
};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::Client;
use netpol::probe::ProbeReport;

const MARK: &str = "netpol.kubectl.io/e2e";
const RUN_LABEL: &str = "netpol.kubectl.io/run";
const NAMESPACES: [&str; 3] = ["payments", "monitoring", "frontend"];

fn env_or(key: &str, default: &str) -> String {
    std::env::var(key)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn meta(ns: Option<&str>, name: &str, labels: &[(&str, &str)]) -> ObjectMeta {
    let mut l: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    l.insert(MARK.into(), "probe".into());
    ObjectMeta {
        name: Some(name.into()),
        namespace: ns.map(str::to_string),
        labels: Some(l),
        ..Default::default()
    }
}

fn port(name: Option<&str>, n: i32, proto: &str) -> ContainerPort {
    ContainerPort {
        name: name.map(str::to_string),
        container_port: n,
        protocol: Some(proto.into()),
        ..Default::default()
    }
}

fn app_pod(ns: &str, name: &str, app: &str, ports: Vec<ContainerPort>, image: &str) -> Pod {
    Pod {
        metadata: meta(Some(ns), name, &[("app", app)]),
        spec: Some(PodSpec {
            containers: vec![Container {
                name: name.into(),
                image: Some(image.into()),
                image_pull_policy: Some("IfNotPresent".into()),
                command: Some(vec!["sleep".into(), "3600".into()]),
                ports: Some(ports),
                ..Default::default()
            }],
            termination_grace_period_seconds: Some(0),
            ..Default::default()
        }),
        status: None,
    }
}

fn service(ns: &str, name: &str, app: &str, p: i32) -> Service {
    Service {
        metadata: meta(Some(ns), name, &[]),
        spec: Some(ServiceSpec {
            selector: Some(BTreeMap::from([("app".to_string(), app.to_string())])),
            ports: Some(vec![ServicePort {
                port: p,
                target_port: Some(IntOrString::Int(p)),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        status: None,
    }
}

/// The DNS pod of the scenario ("coredns" in kube-system): the prober's DNS responder, behind
/// the cluster's kube-dns Service.
fn dns_pod(image: &str, api_ip: &str, web_ip: &str) -> Pod {
    let mut labels = meta(
        Some("kube-system"),
        "netpol-e2e-coredns",
        &[("k8s-app", "kube-dns")],
    );
    labels.name = Some("netpol-e2e-coredns".into());
    Pod {
        metadata: labels,
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "coredns".into(),
                image: Some(image.into()),
                image_pull_policy: Some("IfNotPresent".into()),
                command: Some(vec!["/netpol-prober".into()]),
                args: Some(vec![
                    "serve".into(),
                    "--dns-record".into(),
                    "kubernetes.default.svc.cluster.local=10.96.0.1".into(),
                    "--dns-record".into(),
                    format!("api.payments.svc.cluster.local={api_ip}"),
                    "--dns-record".into(),
                    format!("web.frontend.svc.cluster.local={web_ip}"),
                ]),
                ports: Some(vec![
                    port(Some("dns"), 53, "UDP"),
                    port(Some("dns-tcp"), 53, "TCP"),
                ]),
                ..Default::default()
            }],
            // A fixture, not the product: root binds port 53 on any kubelet.
            security_context: Some(PodSecurityContext {
                run_as_user: Some(0),
                ..Default::default()
            }),
            termination_grace_period_seconds: Some(0),
            ..Default::default()
        }),
        status: None,
    }
}

/// This run added kubernetes.io/metadata.name to kube-system (Kubernetes < 1.21).
static KUBE_SYSTEM_LABELLED: AtomicBool = AtomicBool::new(false);

/// Removes the scenario (namespaces, the DNS pod, the kube-system label it added), also when
/// the test fails.
struct Scenario;

impl Drop for Scenario {
    fn drop(&mut self) {
        rt().block_on(async move {
            let Ok(client) = Client::try_default().await else {
                return;
            };
            let dp = DeleteParams {
                grace_period_seconds: Some(0),
                ..Default::default()
            };
            for ns in NAMESPACES {
                let _ = Api::<Namespace>::all(client.clone()).delete(ns, &dp).await;
            }
            let _ = Api::<Pod>::namespaced(client.clone(), "kube-system")
                .delete("netpol-e2e-coredns", &dp)
                .await;
            if KUBE_SYSTEM_LABELLED.swap(false, Ordering::SeqCst) {
                let _ = Api::<Namespace>::all(client.clone())
                    .patch(
                        "kube-system",
                        &kube::api::PatchParams::default(),
                        &kube::api::Patch::Merge(serde_json::json!({
                            "metadata": {"labels": {"kubernetes.io/metadata.name": null}}
                        })),
                    )
                    .await;
            }
            // Wait for the namespaces to go, so a rerun can create them again.
            for _ in 0..120 {
                let mut any = false;
                for ns in NAMESPACES {
                    if Api::<Namespace>::all(client.clone()).get(ns).await.is_ok() {
                        any = true;
                    }
                }
                if !any {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        });
    }
}

async fn create_scenario(client: &Client, app_image: &str, prober_image: &str, dns: bool) {
    let pp = PostParams::default();
    for ns in NAMESPACES {
        // Kubernetes < 1.21 does not add the name label by itself; the policies use it.
        let obj = Namespace {
            metadata: meta(None, ns, &[("kubernetes.io/metadata.name", ns)]),
            ..Default::default()
        };
        Api::<Namespace>::all(client.clone())
            .create(&pp, &obj)
            .await
            .unwrap_or_else(|e| {
                panic!("creating namespace {ns}: {e} (left over from a previous run? delete it)")
            });
    }
    // The policies allow DNS to kube-system by its name label, which 1.21+ adds by itself; the
    // label is removed again at the end when this test added it.
    let labelled = Api::<Namespace>::all(client.clone())
        .get("kube-system")
        .await
        .unwrap()
        .metadata
        .labels
        .is_some_and(|l| l.contains_key("kubernetes.io/metadata.name"));
    KUBE_SYSTEM_LABELLED.store(!labelled, Ordering::SeqCst);
    Api::<Namespace>::all(client.clone())
        .patch(
            "kube-system",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(serde_json::json!({
                "metadata": {"labels": {"kubernetes.io/metadata.name": "kube-system"}}
            })),
        )
        .await
        .unwrap();
    // Wait for the default ServiceAccounts (pods are refused before they exist).
    for ns in NAMESPACES {
        let sa: Api<k8s_openapi::api::core::v1::ServiceAccount> =
            Api::namespaced(client.clone(), ns);
        let started = Instant::now();
        while sa.get("default").await.is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "no default ServiceAccount in {ns}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let pods = [
        app_pod(
            "payments",
            "api",
            "api",
            vec![
                port(Some("http"), 8080, "TCP"),
                port(Some("metrics"), 9090, "TCP"),
            ],
            app_image,
        ),
        app_pod(
            "payments",
            "db",
            "db",
            vec![port(Some("postgres"), 5432, "TCP")],
            app_image,
        ),
        app_pod(
            "monitoring",
            "prometheus",
            "prometheus",
            vec![port(None, 9090, "TCP")],
            app_image,
        ),
        app_pod(
            "frontend",
            "web",
            "web",
            vec![port(None, 80, "TCP")],
            app_image,
        ),
    ];
    for p in &pods {
        let ns = p.metadata.namespace.clone().unwrap();
        Api::<Pod>::namespaced(client.clone(), &ns)
            .create(&pp, p)
            .await
            .unwrap();
    }
    let mut ips = BTreeMap::new();
    for s in [
        service("payments", "api", "api", 8080),
        service("frontend", "web", "web", 80),
    ] {
        let ns = s.metadata.namespace.clone().unwrap();
        let created = Api::<Service>::namespaced(client.clone(), &ns)
            .create(&pp, &s)
            .await
            .unwrap();
        ips.insert(
            s.metadata.name.clone().unwrap(),
            created.spec.unwrap().cluster_ip.unwrap(),
        );
    }
    if dns {
        Api::<Pod>::namespaced(client.clone(), "kube-system")
            .create(&pp, &dns_pod(prober_image, &ips["api"], &ips["web"]))
            .await
            .unwrap();
    }
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("manifests/examples/payments/policies.yaml"),
    )
    .unwrap();
    for doc in serde_yaml::Deserializer::from_str(&text) {
        let value = serde_yaml::Value::deserialize(doc).unwrap();
        if value.is_null() {
            continue;
        }
        let pol: NetworkPolicy = serde_yaml::from_value(value).unwrap();
        let ns = pol.metadata.namespace.clone().unwrap();
        Api::<NetworkPolicy>::namespaced(client.clone(), &ns)
            .create(&pp, &pol)
            .await
            .unwrap();
    }
    // Every pod running.
    let started = Instant::now();
    loop {
        let mut waiting = Vec::new();
        let mut check = Vec::new();
        for ns in NAMESPACES {
            check.push((ns, format!("{MARK}=probe")));
        }
        if dns {
            check.push(("kube-system", format!("{MARK}=probe")));
        }
        for (ns, sel) in check {
            for p in Api::<Pod>::namespaced(client.clone(), ns)
                .list(&ListParams::default().labels(&sel))
                .await
                .unwrap()
                .items
            {
                let phase = p
                    .status
                    .as_ref()
                    .and_then(|s| s.phase.clone())
                    .unwrap_or_default();
                if phase != "Running" {
                    waiting.push(format!(
                        "{ns}/{}: {phase}",
                        p.metadata.name.unwrap_or_default()
                    ));
                }
            }
        }
        if waiting.is_empty() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "scenario pods not running: {waiting:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

use serde::Deserialize;

async fn leftovers(client: &Client) -> Vec<String> {
    let lp = ListParams::default().labels(RUN_LABEL);
    let mut out: Vec<String> = Api::<Pod>::all(client.clone())
        .list(&lp)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|p| format!("Pod {}", p.metadata.name.unwrap_or_default()))
        .collect();
    out.extend(
        Api::<ConfigMap>::all(client.clone())
            .list(&lp)
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|c| format!("ConfigMap {}", c.metadata.name.unwrap_or_default())),
    );
    out
}

/// Watches the Services' endpoints while the probe runs: no prober may ever be listed.
fn watch_endpoints(stop: Arc<AtomicBool>) -> std::thread::JoinHandle<(usize, Vec<String>)> {
    std::thread::spawn(move || {
        rt().block_on(async move {
            let client = Client::try_default().await.unwrap();
            let mut looks = 0;
            let mut bad = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let mut prober_ips = Vec::new();
                for ns in NAMESPACES {
                    for p in Api::<Pod>::namespaced(client.clone(), ns)
                        .list(&ListParams::default().labels(RUN_LABEL))
                        .await
                        .map(|l| l.items)
                        .unwrap_or_default()
                    {
                        if let Some(ip) = p.status.and_then(|s| s.pod_ip) {
                            prober_ips.push(ip);
                        }
                    }
                }
                for (ns, name) in [("payments", "api"), ("frontend", "web")] {
                    if let Ok(ep) = Api::<Endpoints>::namespaced(client.clone(), ns)
                        .get(name)
                        .await
                    {
                        for subset in ep.subsets.unwrap_or_default() {
                            for a in subset.addresses.unwrap_or_default() {
                                if prober_ips.contains(&a.ip) {
                                    bad.push(format!("{ns}/{name} lists prober {}", a.ip));
                                }
                            }
                        }
                    }
                }
                if !prober_ips.is_empty() {
                    looks += 1;
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            (looks, bad)
        })
    })
}

#[test]
#[ignore = "needs a cluster: KUBECONFIG and a loaded prober image (see the file's header)"]
fn probe_the_payments_scenario_on_a_real_cluster() {
    assert!(
        std::env::var_os("KUBECONFIG").is_some(),
        "set KUBECONFIG to the cluster to probe (e.g. /var/lib/netpol-e2e/admin.kubeconfig)"
    );
    let prober_image = env_or("NETPOL_E2E_PROBER_IMAGE", "localhost/netpol-prober:dev");
    let app_image = env_or("NETPOL_E2E_APP_IMAGE", "localhost/netpol-e2e/busybox:1.35");
    let enforced = std::env::var("NETPOL_E2E_ENFORCED").is_ok_and(|v| v == "1");
    let dns = std::env::var("NETPOL_E2E_DNS").map_or(true, |v| v != "0");
    let rt = rt();
    let client = rt.block_on(Client::try_default()).unwrap();
    let _scenario = Scenario;
    rt.block_on(create_scenario(&client, &app_image, &prober_image, dns));
    assert!(
        rt.block_on(leftovers(&client)).is_empty(),
        "leftovers of another run"
    );

    let stop = Arc::new(AtomicBool::new(false));
    let watcher = watch_endpoints(stop.clone());
    let started = Instant::now();
    let (code, stdout, stderr) = netpol(&[
        "probe",
        "-n",
        "payments",
        "-n",
        "monitoring",
        "-n",
        "frontend",
        "--image",
        &prober_image,
        "-o",
        "json",
        "-v",
    ]);
    let took = started.elapsed();
    stop.store(true, Ordering::SeqCst);
    let (looks, bad) = watcher.join().unwrap();
    eprintln!("probe took {took:?}; exit {code}\n{stderr}");
    let report: ProbeReport = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!("no JSON report ({e}); exit {code}\nstdout: {stdout}\nstderr: {stderr}")
    });
    let s = report.matrix.summary.clone().unwrap();
    eprintln!(
        "{} rows + {} DNS rows: {} agree, {} disagree, {} errors: {}",
        report.matrix.connections.len(),
        report.dns.len(),
        s.agree,
        s.disagree,
        s.errors,
        report.verdict
    );
    assert_eq!(
        report.matrix.pods,
        [
            "frontend/web",
            "monitoring/prometheus",
            "payments/api",
            "payments/db"
        ]
    );
    assert_eq!(s.errors, 0, "{stderr}\n{stdout}");
    if dns {
        assert_eq!(report.dns.len(), 4 * 3, "{:#?}", report.dns);
        assert!(report
            .dns
            .iter()
            .all(|d| d.verdict == "connected" || d.verdict == "timeout"));
    }
    if enforced {
        assert_eq!(code, 0, "{}", report.verdict);
        assert_eq!(s.disagree, 0);
    } else {
        assert_eq!(code, 1, "{stderr}");
        assert!(s.disagree > 0);
        assert!(
            report.verdict.contains("policies are NOT enforced")
                && report.verdict.contains("install-enforcer"),
            "{}",
            report.verdict
        );
        // Allowed connections really connected: the probers listened.
        let web_api = report
            .matrix
            .connections
            .iter()
            .find(|c| c.from == "frontend/web" && c.to == "payments/api" && c.port == 8080)
            .unwrap();
        assert_eq!(web_api.verdict.as_deref(), Some("connected"));
    }
    assert!(looks > 0, "the endpoint watcher never saw a prober running");
    assert!(bad.is_empty(), "Services routed to probers: {bad:?}");
    // Nothing left behind.
    let left = rt.block_on(leftovers(&client));
    assert!(left.is_empty(), "left behind: {left:?}");
    let (code, out, err) = netpol(&["cleanup"]);
    assert_eq!((code, out.as_str()), (0, "nothing to clean up\n"), "{err}");

    // --in-place: before 1.23 it must refuse clearly, and make nothing.
    let version = rt.block_on(client.apiserver_version()).unwrap();
    let minor: u32 = version.minor.trim_end_matches('+').parse().unwrap_or(0);
    if minor < 23 {
        let (code, _, err) = netpol(&[
            "probe",
            "--in-place",
            "-n",
            "payments",
            "--image",
            &prober_image,
        ]);
        assert_eq!(code, 3, "{err}");
        assert!(err.contains("--in-place is unavailable"), "{err}");
    }
}
