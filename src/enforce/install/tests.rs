use std::cell::RefCell;
use std::time::Duration;

use super::*;
use crate::enforce::status::AgentStatus;

/// Records every call; the rollout and the pods follow scripts.
#[derive(Default)]
struct Fake {
    workloads: Vec<Workload>,
    calls: RefCell<Vec<String>>,
    rollouts: RefCell<Vec<Option<Rollout>>>,
    pods: RefCell<Vec<Vec<AgentPod>>>,
    existing: Vec<&'static str>,
    agent: RefCell<Vec<(String, Result<String, String>)>>,
}

impl EnforcerCluster for Fake {
    async fn workloads(&self) -> Result<Vec<Workload>, InstallError> {
        self.calls.borrow_mut().push("workloads".into());
        Ok(self.workloads.clone())
    }
    async fn apply(&self, o: &Object) -> Result<(), InstallError> {
        self.calls.borrow_mut().push(format!("apply {}", o.kind()));
        Ok(())
    }
    async fn delete(&self, o: &Object) -> Result<bool, InstallError> {
        self.calls.borrow_mut().push(format!("delete {}", o.kind()));
        Ok(self.existing.contains(&o.kind()))
    }
    async fn rollout(&self) -> Result<Option<Rollout>, InstallError> {
        self.calls.borrow_mut().push("rollout".into());
        let mut r = self.rollouts.borrow_mut();
        Ok(if r.len() > 1 {
            r.remove(0)
        } else {
            r.first().copied().flatten()
        })
    }
    async fn agent_pods(&self) -> Result<Vec<AgentPod>, InstallError> {
        self.calls.borrow_mut().push("pods".into());
        let mut p = self.pods.borrow_mut();
        Ok(if p.len() > 1 {
            p.remove(0)
        } else {
            p.first().cloned().unwrap_or_default()
        })
    }
    async fn agent_get(&self, pod: &str, path: &str) -> Result<String, InstallError> {
        self.calls.borrow_mut().push(format!("get {pod}{path}"));
        self.agent
            .borrow()
            .iter()
            .find(|(p, _)| p == pod)
            .map(|(_, r)| r.clone().map_err(InstallError::Api))
            .unwrap_or_else(|| Err(InstallError::Api("no such pod".into())))
    }
    async fn sleep(&self, _: Duration) {
        self.calls.borrow_mut().push("sleep".into());
    }
}

fn run<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn rollout(desired: u32, available: u32) -> Option<Rollout> {
    Some(Rollout {
        desired,
        updated: desired,
        available,
        observed: true,
    })
}

fn pod(name: &str, node: &str, ready: bool) -> AgentPod {
    AgentPod {
        name: name.into(),
        node: Some(node.into()),
        phase: "Running".into(),
        ready,
        ..Default::default()
    }
}

#[test]
fn cni_flags_point_the_volumes_and_the_agent() {
    let agent = AgentSettings {
        cni_conf_dir: Some("/var/lib/e2e/cni/net.d".into()),
        cni_bin_dir: Some("/usr/lib/cni".into()),
        cni_chain: false,
        ..Default::default()
    };
    let objs = objects(&agent).unwrap();
    let Object::DaemonSet(ds) = &objs[4] else {
        panic!()
    };
    let spec = ds.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
    let host = |name: &str| {
        spec.volumes
            .as_ref()
            .unwrap()
            .iter()
            .find(|v| v.name == name)
            .unwrap()
            .host_path
            .as_ref()
            .unwrap()
            .path
            .clone()
    };
    assert_eq!(host("cni-conf"), "/var/lib/e2e/cni/net.d");
    assert_eq!(host("cni-bin"), "/usr/lib/cni");
    assert_eq!(host("run"), "/run/netpol-enforcer");
    assert_eq!(
        spec.containers[0].args.as_ref().unwrap(),
        &["run", "--no-cni"]
    );
    let default = objects(&AgentSettings::default()).unwrap();
    let Object::DaemonSet(ds) = &default[4] else {
        panic!()
    };
    let c = &ds
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap()
        .containers[0];
    assert_eq!(c.args.as_ref().unwrap(), &["run"]);
    // --terminate-established reaches the agent.
    let cut = objects(&AgentSettings {
        terminate_established: true,
        ..Default::default()
    })
    .unwrap();
    let Object::DaemonSet(ds) = &cut[4] else {
        panic!()
    };
    let args = ds
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap()
        .containers[0]
        .args
        .clone()
        .unwrap();
    assert_eq!(args, ["run", "--terminate-established"]);
    let relative = AgentSettings {
        cni_bin_dir: Some("opt/cni".into()),
        ..Default::default()
    };
    assert!(matches!(objects(&relative), Err(InstallError::Usage(_))));
}

#[test]
fn embedded_manifests_are_the_least_privileged_daemonset() {
    let objs = objects(&AgentSettings {
        image: Some("localhost/netpol-enforcer:dev".into()),
        ..Default::default()
    })
    .unwrap();
    let kinds: Vec<&str> = objs.iter().map(Object::kind).collect();
    assert_eq!(
        kinds,
        [
            "Namespace",
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "DaemonSet"
        ]
    );
    let Object::ClusterRole(role) = &objs[2] else {
        panic!()
    };
    for rule in role.rules.as_ref().unwrap() {
        for r in rule.resources.as_ref().unwrap() {
            // Read-only: nodes too (its node's pod ranges; every Node's labels and addresses
            // for `nodes` peers).
            let verbs: &[&str] = match r.as_str() {
                "nodes"
                | "pods"
                | "namespaces"
                | "networkpolicies"
                | "clusternetworkpolicies"
                | "adminnetworkpolicies"
                | "baselineadminnetworkpolicies" => &["get", "list", "watch"],
                other => panic!("the agent may not read {other}"),
            };
            assert_eq!(rule.verbs, verbs, "{r}");
        }
    }
    // The cluster-scoped policies are read (the agent enforces them when their CRDs exist).
    for kind in crate::model::ClusterKind::ALL {
        assert!(
            role.rules.as_ref().unwrap().iter().any(|rule| {
                rule.api_groups.as_deref() == Some(&["policy.networking.k8s.io".to_string()])
                    && rule
                        .resources
                        .as_ref()
                        .unwrap()
                        .iter()
                        .any(|r| r == kind.plural())
            }),
            "{}",
            kind.plural()
        );
    }
    // Nodes are watched (the `nodes` peers of cluster policies), in the core group.
    assert!(
        role.rules.as_ref().unwrap().iter().any(|rule| {
            rule.api_groups.as_deref() == Some(&[String::new()])
                && rule
                    .resources
                    .as_ref()
                    .unwrap()
                    .iter()
                    .any(|r| r == "nodes")
                && ["list", "watch"]
                    .iter()
                    .all(|v| rule.verbs.iter().any(|have| have == v))
        }),
        "list and watch on nodes"
    );
    let Object::DaemonSet(ds) = &objs[4] else {
        panic!()
    };
    let spec = ds.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
    assert_eq!(spec.host_network, Some(true));
    assert!(spec.termination_grace_period_seconds.unwrap() >= 10);
    assert_eq!(
        spec.tolerations.as_ref().unwrap()[0].operator.as_deref(),
        Some("Exists")
    );
    let c = &spec.containers[0];
    assert_eq!(c.image.as_deref(), Some("localhost/netpol-enforcer:dev"));
    let sc = c.security_context.as_ref().unwrap();
    assert_eq!(sc.privileged, Some(false));
    let caps = sc.capabilities.as_ref().unwrap();
    assert_eq!(caps.add.as_ref().unwrap(), &["NET_ADMIN", "NET_RAW"]);
    assert_eq!(caps.drop.as_ref().unwrap(), &["ALL"]);
    assert!(c.resources.as_ref().unwrap().requests.is_some());
    assert!(c
        .env
        .as_ref()
        .unwrap()
        .iter()
        .any(|e| e.name == "NODE_NAME"));
    assert!(c
        .volume_mounts
        .as_ref()
        .unwrap()
        .iter()
        .any(|m| m.mount_path == "/run/xtables.lock"));
    assert_eq!(
        c.liveness_probe
            .as_ref()
            .unwrap()
            .http_get
            .as_ref()
            .unwrap()
            .path
            .as_deref(),
        Some("/healthz")
    );
    // The default image is this version's.
    let objs = objects(&AgentSettings::default()).unwrap();
    let yaml = objects_yaml(&objs).unwrap();
    assert!(yaml.contains(DEFAULT_IMAGE), "{yaml}");
    let image = |i: &str| AgentSettings {
        image: Some(i.into()),
        ..Default::default()
    };
    assert!(objects(&image("has space")).is_err());
}

#[test]
fn policy_enforcing_cnis_are_recognised() {
    let w = |kind: &str, ns: &str, name: &str, image: &str| Workload {
        kind: kind.into(),
        namespace: ns.into(),
        name: name.into(),
        images: vec![image.into()],
    };
    let found = |ws: &[Workload]| detect_policy_cni(ws).map(|(c, _)| c);
    assert_eq!(
        found(&[w(
            "DaemonSet",
            "calico-system",
            "calico-node",
            "docker.io/calico/node:v3.27"
        )]),
        Some("Calico".into())
    );
    assert_eq!(
        found(&[w(
            "Pod",
            "kube-system",
            "cilium-x7k2p",
            "quay.io/cilium/cilium:v1.15"
        )]),
        Some("Cilium".into())
    );
    assert_eq!(
        found(&[w(
            "DaemonSet",
            "kube-system",
            "kube-router",
            "cloudnativelabs/kube-router"
        )]),
        Some("kube-router".into())
    );
    assert_eq!(
        found(&[w(
            "DaemonSet",
            "kube-system",
            "antrea-agent",
            "antrea/antrea-agent-ubuntu"
        )]),
        Some("Antrea".into())
    );
    assert_eq!(
        found(&[w(
            "DaemonSet",
            "kube-system",
            "weave-net",
            "weaveworks/weave-kube:2.8"
        )]),
        Some("Weave Net".into())
    );
    // Flannel, kindnet and the enforcer itself are not.
    assert_eq!(
        found(&[
            w(
                "DaemonSet",
                "kube-flannel",
                "kube-flannel-ds",
                "flannel/flannel:v0.24"
            ),
            w(
                "DaemonSet",
                "kube-system",
                "kindnet",
                "kindest/kindnetd:v20230511"
            ),
            w("DaemonSet", NAMESPACE, NAME, DEFAULT_IMAGE),
            w("Pod", "kube-system", "calicoctl-notes", "busybox"),
        ]),
        None
    );
}

#[test]
fn install_refuses_next_to_calico_unless_forced() {
    let fake = Fake {
        workloads: vec![Workload {
            kind: "DaemonSet".into(),
            namespace: "kube-system".into(),
            name: "calico-node".into(),
            images: vec![],
        }],
        rollouts: RefCell::new(vec![rollout(1, 1)]),
        ..Default::default()
    };
    let err = run(install(&fake, &InstallOptions::default(), &mut |_| {})).unwrap_err();
    assert!(
        matches!(err, InstallError::Refused(ref m) if m.contains("Calico") && m.contains("--force"))
    );
    assert_eq!(*fake.calls.borrow(), ["workloads"]);
    let mut steps = Vec::new();
    let opts = InstallOptions {
        force: true,
        ..Default::default()
    };
    run(install(&fake, &opts, &mut |s| steps.push(s))).unwrap();
    assert!(matches!(&steps[0], Step::Forced { cni, .. } if cni == "Calico"));
}

#[test]
fn install_applies_in_order_and_waits_for_every_node() {
    let fake = Fake {
        rollouts: RefCell::new(vec![None, rollout(3, 0), rollout(3, 2), rollout(3, 3)]),
        ..Default::default()
    };
    let mut steps = Vec::new();
    let r = run(install(&fake, &InstallOptions::default(), &mut |s| {
        steps.push(s)
    }))
    .unwrap();
    assert_eq!(r.available, 3);
    let calls = fake.calls.borrow().clone();
    assert_eq!(
        calls[..6],
        [
            "workloads",
            "apply Namespace",
            "apply ServiceAccount",
            "apply ClusterRole",
            "apply ClusterRoleBinding",
            "apply DaemonSet"
        ]
    );
    assert_eq!(calls.iter().filter(|c| *c == "rollout").count(), 4);
    let progress: Vec<u32> = steps
        .iter()
        .filter_map(|s| match s {
            Step::Rollout(r) => Some(r.available),
            _ => None,
        })
        .collect();
    assert_eq!(progress, [0, 2, 3]);
}

#[test]
fn install_times_out_naming_the_pods_that_are_not_ready() {
    let fake = Fake {
        rollouts: RefCell::new(vec![rollout(2, 1)]),
        pods: RefCell::new(vec![vec![
            pod("netpol-enforcer-a", "n1", true),
            AgentPod {
                waiting: Some("ErrImagePull".into()),
                phase: "Pending".into(),
                ..pod("netpol-enforcer-b", "n2", false)
            },
        ]]),
        ..Default::default()
    };
    let opts = InstallOptions {
        timeout: Duration::from_secs(10),
        poll: Duration::from_secs(2),
        ..Default::default()
    };
    let err = run(install(&fake, &opts, &mut |_| {})).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, InstallError::Timeout(_))
            && msg.contains("1 of 2")
            && msg.contains("netpol-enforcer-b on n2: ErrImagePull"),
        "{msg}"
    );
    assert_eq!(
        fake.calls
            .borrow()
            .iter()
            .filter(|c| *c == "rollout")
            .count(),
        5
    );
}

#[test]
fn uninstall_waits_for_the_agents_before_removing_the_rest() {
    let fake = Fake {
        existing: vec![
            "DaemonSet",
            "ClusterRoleBinding",
            "ClusterRole",
            "ServiceAccount",
            "Namespace",
        ],
        pods: RefCell::new(vec![
            vec![pod("a", "n1", true), pod("b", "n2", true)],
            vec![pod("b", "n2", true)],
            vec![],
        ]),
        ..Default::default()
    };
    let n = run(uninstall(&fake, &InstallOptions::default(), &mut |_| {})).unwrap();
    assert_eq!(n, 5);
    assert_eq!(
        *fake.calls.borrow(),
        [
            "delete DaemonSet",
            "pods",
            "sleep",
            "pods",
            "sleep",
            "pods",
            "delete ClusterRoleBinding",
            "delete ClusterRole",
            "delete ServiceAccount",
            "delete Namespace"
        ]
    );
    // Nothing installed: nothing deleted, no error.
    let empty = Fake::default();
    assert_eq!(
        run(uninstall(&empty, &InstallOptions::default(), &mut |_| {})).unwrap(),
        0
    );
}

#[test]
fn status_reads_every_agent_and_reports_the_silent_ones() {
    let st = AgentStatus {
        node: "n1".into(),
        ready: true,
        rules: 12,
        ..Default::default()
    };
    let fake = Fake {
        rollouts: RefCell::new(vec![rollout(2, 1)]),
        pods: RefCell::new(vec![vec![pod("b", "n2", false), pod("a", "n1", true)]]),
        agent: RefCell::new(vec![
            ("a".into(), Ok(serde_json::to_string(&st).unwrap())),
            ("b".into(), Err("connection refused".into())),
        ]),
        ..Default::default()
    };
    let (r, agents) = run(status(&fake)).unwrap();
    assert_eq!(r.unwrap().available, 1);
    assert_eq!(agents.len(), 2);
    assert_eq!(agents[0].status.as_ref().unwrap().rules, 12);
    assert!(agents[1].error.as_ref().unwrap().contains("refused"));
    let d = run(drops(&fake, Some("n9"))).unwrap_err();
    assert!(d.to_string().contains("n9"));
}
