//! The objects a run creates: the owner ConfigMap per namespace, the prober pods that mirror a
//! group, and (`--in-place`) the ephemeral container that runs a plan inside a real pod.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, Container, ContainerPort as K8sPort, EphemeralContainer,
    Pod as K8sPod, PodReadinessGate, PodSecurityContext, PodSpec, ResourceRequirements,
    SeccompProfile, SecurityContext, Sysctl,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use netpol_prober::plan::Plan;

use super::{
    owner_name, prober_name, Group, AGENT, CONTAINER, LOW_PORT_SYSCTL, MIRRORS_ANNOTATION,
    NEVER_READY, PROBER_UID, RUN_LABEL,
};
use crate::model::{Probe, Protocol, Snapshot};

/// What every prober pod of a run shares.
#[derive(Debug, Clone)]
pub struct ProberSettings {
    pub run: String,
    pub image: String,
    /// What the probers listen on: every probed port.
    pub probes: Vec<Probe>,
    /// activeDeadlineSeconds: the pods stop by themselves after this, even if the CLI died.
    pub deadline: Duration,
}

/// The per-namespace owner of a run's prober pods. Deleting it deletes them (garbage
/// collection of a namespaced owner and dependents in the same namespace).
pub fn owner_config_map(run: &str, namespace: &str) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(owner_name(run)),
            namespace: Some(namespace.to_string()),
            labels: Some(BTreeMap::from([(RUN_LABEL.to_string(), run.to_string())])),
            ..Default::default()
        },
        data: Some(BTreeMap::from([(
            "purpose".to_string(),
            "owner of the prober pods of one `kubectl netpol probe` run; deleting it deletes them; `kubectl netpol cleanup` removes it".to_string(),
        )])),
        ..Default::default()
    }
}

/// `serve --tcp 80,8080 --udp 53 --sctp 9000` for the probed ports.
pub fn serve_args(probes: &[Probe]) -> Vec<String> {
    let mut args = vec!["serve".to_string()];
    for (flag, proto) in [
        ("--tcp", Protocol::Tcp),
        ("--udp", Protocol::Udp),
        ("--sctp", Protocol::Sctp),
    ] {
        let ports: BTreeSet<u16> = probes
            .iter()
            .filter(|p| p.protocol == proto)
            .map(|p| p.port)
            .collect();
        if !ports.is_empty() {
            args.push(flag.to_string());
            args.push(
                ports
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
            );
        }
    }
    args
}

/// The declared ports of a prober: the group's, made valid for one container (port names are
/// unique per container, and so are port/protocol pairs).
pub fn prober_ports(group: &Group) -> Vec<K8sPort> {
    let mut names = BTreeSet::new();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for p in &group.ports {
        if !seen.insert((p.port, p.protocol)) {
            continue;
        }
        let name = p.name.clone().filter(|n| names.insert(n.clone()));
        out.push(K8sPort {
            name,
            container_port: i32::from(p.port),
            protocol: Some(p.protocol.as_str().to_string()),
            ..Default::default()
        });
    }
    out
}

fn mirrors_text(group: &Group, snap: &Snapshot) -> String {
    const MAX: usize = 10;
    let mut names: Vec<String> = group
        .members
        .iter()
        .take(MAX)
        .map(|&m| snap.pods[m].name.clone())
        .collect();
    if group.members.len() > MAX {
        names.push(format!("(+{} more)", group.members.len() - MAX));
    }
    names.join(",")
}

fn restricted_security_context() -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".to_string()]),
            ..Default::default()
        }),
        read_only_root_filesystem: Some(true),
        run_as_non_root: Some(true),
        run_as_user: Some(PROBER_UID),
        run_as_group: Some(PROBER_UID),
        ..Default::default()
    }
}

/// The prober pod that stands for `group`: same namespace, labels (plus the run label) and
/// declared ports; owned (as controller) by the run's ConfigMap so no ReplicaSet adopts it;
/// never Ready (readiness gate) so no Service routes to it; non-root, with the safe sysctl for
/// ports below 1024; stopped by activeDeadlineSeconds if nobody cleans up.
pub fn prober_pod(
    group: &Group,
    index: usize,
    owner: &ConfigMap,
    settings: &ProberSettings,
    snap: &Snapshot,
) -> K8sPod {
    let mut labels = group.labels.clone();
    labels.insert(RUN_LABEL.to_string(), settings.run.clone());
    let low_ports = settings.probes.iter().any(|p| p.port < 1024);
    let owner_ref = OwnerReference {
        api_version: "v1".to_string(),
        kind: "ConfigMap".to_string(),
        name: owner.metadata.name.clone().unwrap_or_default(),
        uid: owner.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: None,
    };
    K8sPod {
        metadata: ObjectMeta {
            name: Some(prober_name(&settings.run, index)),
            namespace: Some(group.namespace.clone()),
            labels: Some(labels),
            annotations: Some(BTreeMap::from([
                (MIRRORS_ANNOTATION.to_string(), mirrors_text(group, snap)),
                // No mesh sidecar: the probe is about the network's L3/L4 policy, and a proxy
                // would answer (or hold) connections in the prober's place.
                ("sidecar.istio.io/inject".to_string(), "false".to_string()),
                ("linkerd.io/inject".to_string(), "disabled".to_string()),
            ])),
            owner_references: Some(vec![owner_ref]),
            ..Default::default()
        },
        spec: Some(PodSpec {
            containers: vec![prober_container(group, settings)],
            readiness_gates: Some(vec![PodReadinessGate {
                condition_type: NEVER_READY.to_string(),
            }]),
            active_deadline_seconds: Some(settings.deadline.as_secs().max(1) as i64),
            restart_policy: Some("Never".to_string()),
            termination_grace_period_seconds: Some(1),
            automount_service_account_token: Some(false),
            enable_service_links: Some(false),
            node_selector: Some(BTreeMap::from([(
                "kubernetes.io/os".to_string(),
                "linux".to_string(),
            )])),
            security_context: Some(pod_security_context(low_ports)),
            ..Default::default()
        }),
        status: None,
    }
}

/// The prober container: `serve` on every probed port, restricted, small.
fn prober_container(group: &Group, settings: &ProberSettings) -> Container {
    let mut args = serve_args(&settings.probes);
    args.remove(0);
    Container {
        name: CONTAINER.to_string(),
        image: Some(settings.image.clone()),
        image_pull_policy: Some("IfNotPresent".to_string()),
        command: Some(vec![AGENT.to_string(), "serve".to_string()]),
        args: Some(args),
        ports: Some(prober_ports(group)).filter(|p| !p.is_empty()),
        security_context: Some(restricted_security_context()),
        resources: Some(ResourceRequirements {
            requests: Some(BTreeMap::from([
                ("cpu".to_string(), Quantity("10m".to_string())),
                ("memory".to_string(), Quantity("16Mi".to_string())),
            ])),
            limits: Some(BTreeMap::from([
                ("cpu".to_string(), Quantity("200m".to_string())),
                ("memory".to_string(), Quantity("64Mi".to_string())),
            ])),
            ..Default::default()
        }),
        termination_message_policy: Some("FallbackToLogsOnError".to_string()),
        ..Default::default()
    }
}

/// Non-root with the default seccomp profile; the sysctl that lets it bind ports below 1024
/// only when it needs them.
fn pod_security_context(low_ports: bool) -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(PROBER_UID),
        run_as_group: Some(PROBER_UID),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".to_string(),
            ..Default::default()
        }),
        sysctls: low_ports.then(|| {
            vec![Sysctl {
                name: LOW_PORT_SYSCTL.to_string(),
                value: "0".to_string(),
            }]
        }),
        ..Default::default()
    }
}

/// activeDeadlineSeconds for the probers: time to start, the probing itself (sources in waves
/// of `parallel_sources`, each with its checks in waves of `concurrency`, every attempt up to
/// `timeout`), and a margin; at least 10 minutes, at most 6 hours.
pub fn deadline(
    start_timeout: Duration,
    sources: usize,
    checks_per_source: usize,
    timeout: Duration,
    concurrency: usize,
    retries: u32,
    parallel_sources: usize,
) -> Duration {
    let waves = sources.div_ceil(parallel_sources.max(1)) as u64;
    let rounds = checks_per_source.div_ceil(concurrency.max(1)).max(1) as u64;
    let per_source =
        timeout.saturating_mul((rounds * u64::from(retries + 1)) as u32) + Duration::from_secs(10);
    let total = start_timeout + per_source.saturating_mul(waves as u32) + Duration::from_secs(300);
    total.clamp(Duration::from_secs(600), Duration::from_secs(6 * 3600))
}

/// For `--in-place`: the ephemeral container that runs one plan inside a real pod, as
/// `kubectl debug` does. It runs the plan and exits; its output is read from its log. It stays
/// in the pod's spec (terminated) until the pod is replaced: ephemeral containers cannot be
/// removed.
pub fn ephemeral_container(
    name: &str,
    image: &str,
    plan: &Plan,
) -> Result<EphemeralContainer, String> {
    let json = serde_json::to_string(plan).map_err(|e| format!("cannot encode the plan: {e}"))?;
    Ok(EphemeralContainer {
        name: name.to_string(),
        image: Some(image.to_string()),
        image_pull_policy: Some("IfNotPresent".to_string()),
        command: Some(vec![
            AGENT.to_string(),
            "run".to_string(),
            "--plan-json".to_string(),
            json,
        ]),
        security_context: Some(restricted_security_context()),
        termination_message_policy: Some("FallbackToLogsOnError".to_string()),
        ..Default::default()
    })
}
