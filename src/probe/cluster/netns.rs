//! A [`ClusterIo`] over network namespaces on this host: the test double that lets the whole
//! cluster probe (create → wait → exec → compare → clean up) run in CI without a cluster.
//!
//! It is built from the `probe --local` machinery: every pod is a network namespace with a veth
//! into a bridge in a "node" namespace, where the enforcer's compiled rules are applied (or not,
//! to act like a CNI that ignores NetworkPolicy) and re-applied whenever a pod comes or goes,
//! as the enforcer DaemonSet would. The manifests' pods run a prober `serve` on their declared
//! ports (standing in for the applications; the cluster DNS pod also answers DNS), pods created
//! through the trait run the command of their spec, exec runs the command in the pod's
//! namespace, and each pod gets a resolv.conf that points at the DNS pod, as the kubelet does.
//! Everything is in namespaces named `netpol-<id>-*` and goes away on drop.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::IpAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use k8s_openapi::api::core::v1::{
    ConfigMap, ContainerState, ContainerStateRunning, ContainerStateWaiting, ContainerStatus,
    EphemeralContainer, Pod, PodIP, PodStatus, Service,
};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::io::{ClusterIo, EphemeralState, ExecOutput, IoError, IoErrorKind, LineStream};
use super::plan::{AGENT, DNS_LABEL, DNS_NAMESPACE};
use crate::enforce::{compile, Applier, CommandRunner, Runner};
use crate::engine::Engine;
use crate::model::{parse_pod_object, parse_selector_text, Protocol, Snapshot, Source};
use crate::probe::local;

const BRIDGE: &str = "npbr0";

struct FakePod {
    object: Pod,
    netns: String,
    mac: String,
    /// Created through the trait (a prober), not one of the manifests' pods.
    created: bool,
    server: Option<Child>,
    /// What the server printed: its ready line, then anything else (a --stream-plan's results).
    log: Arc<Mutex<String>>,
    ephemeral: BTreeMap<String, Arc<Mutex<Option<std::process::Output>>>>,
}

struct Inner {
    base: Snapshot,
    /// NetworkPolicies as the API would store them (`get_policy`); the base snapshot's policies
    /// are seeded with [`NetnsCluster::set_policy_objects`].
    policy_objects: BTreeMap<String, NetworkPolicy>,
    pods: Vec<FakePod>,
    config_maps: Vec<ConfigMap>,
    next_index: usize,
    next_ip: u32,
    uid: u64,
    dns_ip: Option<IpAddr>,
}

/// The double. Dropping it removes every namespace it made.
pub struct NetnsCluster {
    id: String,
    node: String,
    agent: Vec<String>,
    enforce: bool,
    version: (u32, u32),
    services: Vec<Service>,
    applier: Applier<CommandRunner>,
    inner: Mutex<Inner>,
}

fn io_other(e: impl std::fmt::Display) -> IoError {
    IoError::other(e.to_string())
}

fn sh(args: &[&str], stdin: Option<&str>) -> Result<String, IoError> {
    CommandRunner::default()
        .run(args[0], &args[1..], stdin)
        .map_err(io_other)
}

fn mac(i: usize) -> String {
    format!(
        "02:4e:51:{:02x}:{:02x}:{:02x}",
        (i >> 16) & 0xff,
        (i >> 8) & 0xff,
        i & 0xff
    )
}

fn model_pod(p: &Pod) -> Option<crate::model::Pod> {
    let v = serde_json::to_value(p).ok()?;
    parse_pod_object(&v, "Pod", "default", Source::default())
        .ok()
        .flatten()
}

fn labels_of(p: &Pod) -> BTreeMap<String, String> {
    p.metadata.labels.clone().unwrap_or_default()
}

fn running_status(ip: IpAddr, containers: &[String]) -> PodStatus {
    PodStatus {
        phase: Some("Running".into()),
        pod_ip: Some(ip.to_string()),
        pod_ips: Some(vec![PodIP { ip: ip.to_string() }]),
        container_statuses: Some(
            containers
                .iter()
                .map(|c| ContainerStatus {
                    name: c.clone(),
                    ready: false,
                    state: Some(ContainerState {
                        running: Some(ContainerStateRunning::default()),
                        ..Default::default()
                    }),
                    ..Default::default()
                })
                .collect(),
        ),
        ..Default::default()
    }
}

impl NetnsCluster {
    /// Brings up the manifests' pods (those without `status.podIP` get one from 10.250.0.0/16).
    /// `agent` is the prober command line without its subcommand, e.g.
    /// `["/path/kubectl-netpol", "prober"]`; `services` are the Services the DNS pod answers
    /// for; `version` is what `server_version` reports (ephemeral containers from 1.23).
    // long: the test double (feature test-support, not shipped): one setup script, top to bottom
    pub fn start(
        mut snap: Snapshot,
        services: Vec<Service>,
        agent: Vec<String>,
        enforce: bool,
        version: (u32, u32),
    ) -> Result<NetnsCluster, IoError> {
        local::preflight().map_err(io_other)?;
        if agent.is_empty() {
            return Err(IoError::other("the double needs the prober's command line"));
        }
        let endpoints: Vec<usize> = snap.endpoint_pods().map(|(i, _)| i).collect();
        local::assign_addresses(&mut snap, &endpoints).map_err(io_other)?;
        let id = super::plan::new_run_id();
        let node = format!("{}{id}-node", local::NETNS_PREFIX);
        let cluster = NetnsCluster {
            id,
            node: node.clone(),
            agent,
            enforce,
            version,
            services: services.clone(),
            applier: Applier::new(CommandRunner {
                netns: Some(node.clone()),
            }),
            inner: Mutex::new(Inner {
                base: snap.clone(),
                policy_objects: BTreeMap::new(),
                pods: Vec::new(),
                config_maps: Vec::new(),
                next_index: 0,
                next_ip: 1,
                uid: 0,
                dns_ip: None,
            }),
        };
        sh(&["ip", "netns", "add", &node], None)?;
        sh(
            &["ip", "-n", &node, "-batch", "-"],
            Some(&format!(
                "link add {BRIDGE} type bridge\nlink set {BRIDGE} up\nlink set lo up\n"
            )),
        )?;
        for key in [
            "net.bridge.bridge-nf-call-iptables=1",
            "net.bridge.bridge-nf-call-ip6tables=1",
        ] {
            sh(
                &["ip", "netns", "exec", &node, "sysctl", "-q", "-w", key],
                None,
            )?;
        }
        let dns_pod = snap.pods.iter().position(|p| {
            p.namespace == DNS_NAMESPACE
                && p.labels.get(DNS_LABEL.0).map(String::as_str) == Some(DNS_LABEL.1)
        });
        let dns_ip = dns_pod.and_then(|d| snap.pods[d].ips.first().copied());
        cluster.lock().dns_ip = dns_ip;
        for &i in &endpoints {
            let p = &snap.pods[i];
            let Some(&ip) = p.ips.first() else { continue };
            let mut args = vec!["serve".to_string()];
            let is_dns = Some(i) == dns_pod;
            for (flag, proto) in [
                ("--tcp", Protocol::Tcp),
                ("--udp", Protocol::Udp),
                ("--sctp", Protocol::Sctp),
            ] {
                let ports: Vec<String> = p
                    .ports
                    .iter()
                    .filter(|c| c.protocol == proto && !(is_dns && c.port == 53))
                    .map(|c| c.port.to_string())
                    .collect();
                if !ports.is_empty() {
                    args.push(flag.into());
                    args.push(ports.join(","));
                }
            }
            if is_dns {
                args.push("--dns-record".into());
                args.push(format!("kubernetes.default.svc.cluster.local={ip}"));
                for s in &services {
                    let (Some(name), Some(ns)) = (&s.metadata.name, &s.metadata.namespace) else {
                        continue;
                    };
                    let target = s
                        .spec
                        .as_ref()
                        .and_then(|sp| sp.cluster_ip.clone())
                        .filter(|c| c.parse::<IpAddr>().is_ok())
                        .unwrap_or_else(|| ip.to_string());
                    args.push("--dns-record".into());
                    args.push(format!("{name}.{ns}.svc.cluster.local={target}"));
                }
            }
            let object = Pod {
                metadata: ObjectMeta {
                    name: Some(p.name.clone()),
                    namespace: Some(p.namespace.clone()),
                    labels: Some(p.labels.clone()),
                    ..Default::default()
                },
                spec: None,
                status: Some(running_status(ip, &["app".to_string()])),
            };
            cluster.add_pod(object, ip, &args, false)?;
        }
        cluster.reapply()?;
        Ok(cluster)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Names of the network namespaces the double holds now (node included).
    pub fn namespaces(&self) -> Vec<String> {
        let inner = self.lock();
        let mut out = vec![self.node.clone()];
        out.extend(
            inner
                .pods
                .iter()
                .filter(|p| !p.netns.is_empty())
                .map(|p| p.netns.clone()),
        );
        out
    }

    /// The snapshot of the "cluster" as it is: the manifests' pods with their addresses plus
    /// every pod created through the trait.
    pub fn snapshot(&self) -> Snapshot {
        let inner = self.lock();
        let mut snap = inner.base.clone();
        snap.pods.extend(
            inner
                .pods
                .iter()
                .filter(|p| p.created)
                .filter_map(|p| model_pod(&p.object)),
        );
        snap.finish();
        snap
    }

    /// The stored objects of the manifests' NetworkPolicies (what `get_policy` returns).
    pub fn set_policy_objects(&self, policies: Vec<NetworkPolicy>) {
        let mut inner = self.lock();
        for p in policies {
            let key = format!(
                "{}/{}",
                p.metadata.namespace.clone().unwrap_or_default(),
                p.metadata.name.clone().unwrap_or_default()
            );
            inner.policy_objects.insert(key, p);
        }
    }

    /// Applies the enforcer's rules for the pods as they are now (no-op without enforcement).
    fn reapply(&self) -> Result<(), IoError> {
        if !self.enforce {
            return Ok(());
        }
        let snap = self.snapshot();
        let engine = Engine::new(&snap);
        self.applier
            .apply(&compile(&engine, None))
            .map(|_| ())
            .map_err(|e| IoError::other(format!("applying the enforcer's rules: {e}")))
    }

    /// Wires a namespace for the pod, starts `agent + args` in it and records it. On failure
    /// the namespace is removed again.
    // long: the test double (feature test-support, not shipped): one pod's wiring, top to bottom
    fn add_pod(
        &self,
        object: Pod,
        ip: IpAddr,
        args: &[String],
        created: bool,
    ) -> Result<(), IoError> {
        let (index, others, dns) = {
            let mut inner = self.lock();
            let i = inner.next_index;
            inner.next_index += 1;
            let others: Vec<(String, String, String)> = inner
                .pods
                .iter()
                .filter(|p| !p.netns.is_empty())
                .map(|p| {
                    let ip = p
                        .object
                        .status
                        .as_ref()
                        .and_then(|s| s.pod_ip.clone())
                        .unwrap_or_default();
                    (p.netns.clone(), ip, p.mac.clone())
                })
                .collect();
            (i, others, inner.dns_ip)
        };
        let netns = format!("{}{}-{index}", local::NETNS_PREFIX, self.id);
        let my_mac = mac(index);
        let namespace = object.metadata.namespace.clone().unwrap_or_default();
        sh(&["ip", "netns", "add", &netns], None)?;
        let wired = (|| -> Result<(Child, String, Option<BufReader<std::process::ChildStdout>>), IoError> {
            sh(
                &["ip", "-n", &self.node, "-batch", "-"],
                Some(&format!(
                    "link add vq{index} type veth peer name eth0 address {my_mac} netns {netns}\nlink set vq{index} master {BRIDGE} up\n"
                )),
            )?;
            let mut batch = format!(
                "link set lo up\nlink set eth0 up\naddr add {ip}/32 dev eth0\nroute add default dev eth0\n"
            );
            for (_, oip, omac) in &others {
                if !oip.is_empty() {
                    batch.push_str(&format!(
                        "neigh replace {oip} lladdr {omac} dev eth0 nud permanent\n"
                    ));
                }
            }
            sh(&["ip", "-n", &netns, "-batch", "-"], Some(&batch))?;
            for (ons, _, _) in &others {
                let ip = ip.to_string();
                sh(
                    &[
                        "ip",
                        "-n",
                        ons,
                        "neigh",
                        "replace",
                        &ip,
                        "lladdr",
                        &my_mac,
                        "dev",
                        "eth0",
                        "nud",
                        "permanent",
                    ],
                    None,
                )?;
            }
            // Like the kubelet: the pod's resolv.conf points at the cluster DNS.
            if let Some(dns) = dns {
                let dir = format!("/etc/netns/{netns}");
                std::fs::create_dir_all(&dir).map_err(io_other)?;
                std::fs::write(
                    format!("{dir}/resolv.conf"),
                    format!("nameserver {dns}\nsearch {namespace}.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n"),
                )
                .map_err(io_other)?;
            }
            // The safe sysctl prober pods ask for (the double runs as root anyway).
            sh(
                &[
                    "ip",
                    "netns",
                    "exec",
                    &netns,
                    "sysctl",
                    "-q",
                    "-w",
                    "net.ipv4.ip_unprivileged_port_start=0",
                ],
                None,
            )?;
            let mut child = Command::new("ip")
                .args(["netns", "exec", &netns])
                .args(&self.agent)
                .args(args)
                .arg("--exit-on-stdin-eof")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| IoError::other(format!("cannot start the prober: {e}")))?;
            let mut line = String::new();
            let mut rest = None;
            if let Some(out) = child.stdout.take() {
                let mut reader = BufReader::new(out);
                let _ = reader.read_line(&mut line);
                rest = Some(reader);
            }
            if !line.contains("\"ready\":true") {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut err);
                }
                let _ = child.kill();
                let _ = child.wait();
                return Err(IoError::other(format!(
                    "the server in {netns} did not start: {}",
                    err.trim()
                )));
            }
            Ok((child, line, rest))
        })();
        let mut record = FakePod {
            object,
            netns,
            mac: my_mac,
            created,
            server: None,
            log: Arc::new(Mutex::new(String::new())),
            ephemeral: BTreeMap::new(),
        };
        match wired {
            Ok((child, line, rest)) => {
                record.log = Arc::new(Mutex::new(line));
                if let Some(reader) = rest {
                    let log = record.log.clone();
                    std::thread::spawn(move || {
                        for l in reader.lines().map_while(Result::ok) {
                            if let Ok(mut log) = log.lock() {
                                log.push_str(&l);
                                log.push('\n');
                            }
                        }
                    });
                }
                record.server = Some(child);
                self.lock().pods.push(record);
                Ok(())
            }
            Err(e) => {
                self.remove_pod(record);
                Err(e)
            }
        }
    }

    fn find(&self, namespace: &str, pod: &str) -> Result<String, IoError> {
        self.lock()
            .pods
            .iter()
            .find(|p| {
                p.object.metadata.namespace.as_deref() == Some(namespace)
                    && p.object.metadata.name.as_deref() == Some(pod)
            })
            .filter(|p| !p.netns.is_empty())
            .map(|p| p.netns.clone())
            .ok_or_else(|| {
                IoError::new(
                    IoErrorKind::NotFound,
                    format!("pods \"{pod}\" not found in {namespace}"),
                )
            })
    }

    /// The agent's command line for a container command (`/netpol-prober run ...`).
    fn agent_argv(&self, argv: &[String]) -> Result<Vec<String>, IoError> {
        match argv.split_first() {
            Some((first, rest)) if first == AGENT => Ok(self
                .agent
                .iter()
                .cloned()
                .chain(rest.iter().cloned())
                .collect()),
            _ => Err(IoError::other(format!(
                "the double only runs {AGENT}, not {argv:?}"
            ))),
        }
    }

    fn matching(
        selector: &str,
        namespaces: Option<&[String]>,
        ns: Option<&str>,
        labels: &BTreeMap<String, String>,
    ) -> bool {
        let sel = parse_selector_text(selector).unwrap_or_default();
        namespaces.is_none_or(|n| ns.is_some_and(|ns| n.iter().any(|x| x == ns)))
            && sel.matches(labels)
    }

    fn remove_pod(&self, mut p: FakePod) {
        if let Some(mut c) = p.server.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if p.netns.is_empty() {
            return;
        }
        let _ = Command::new("ip")
            .args(["netns", "delete", &p.netns])
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(format!("/etc/netns/{}", p.netns));
    }
}

impl Drop for NetnsCluster {
    fn drop(&mut self) {
        let pods: Vec<FakePod> = std::mem::take(&mut self.lock().pods);
        for p in pods {
            self.remove_pod(p);
        }
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.node])
            .stderr(Stdio::null())
            .status();
    }
}

impl ClusterIo for NetnsCluster {
    async fn server_version(&self) -> Result<(u32, u32), IoError> {
        Ok(self.version)
    }

    async fn list_services(&self, namespace: &str) -> Result<Vec<Service>, IoError> {
        Ok(self
            .services
            .iter()
            .filter(|s| s.metadata.namespace.as_deref() == Some(namespace))
            .cloned()
            .collect())
    }

    async fn create_config_map(&self, cm: &ConfigMap) -> Result<ConfigMap, IoError> {
        let mut inner = self.lock();
        if inner.config_maps.iter().any(|c| {
            c.metadata.name == cm.metadata.name && c.metadata.namespace == cm.metadata.namespace
        }) {
            return Err(IoError::new(
                IoErrorKind::Conflict,
                "configmap already exists",
            ));
        }
        inner.uid += 1;
        let mut stored = cm.clone();
        stored.metadata.uid = Some(format!("uid-{}", inner.uid));
        inner.config_maps.push(stored.clone());
        Ok(stored)
    }

    async fn create_pod(&self, pod: &Pod) -> Result<Pod, IoError> {
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        let name = pod.metadata.name.clone().unwrap_or_default();
        if self.find(&ns, &name).is_ok() {
            return Err(IoError::new(IoErrorKind::Conflict, "pod already exists"));
        }
        // As the API server would: the owner must exist (here: to be garbage collected).
        let owner_ok = pod.metadata.owner_references.iter().flatten().all(|o| {
            self.lock().config_maps.iter().any(|c| {
                c.metadata.uid.as_deref() == Some(o.uid.as_str())
                    && c.metadata.namespace.as_deref() == Some(ns.as_str())
            })
        });
        if !owner_ok {
            return Err(IoError::other("the pod's owner is not in its namespace"));
        }
        let container = pod
            .spec
            .as_ref()
            .and_then(|s| s.containers.first())
            .ok_or_else(|| IoError::other("the pod has no container"))?;
        // Images under `missing/` cannot be pulled here: the pod stays Pending with
        // ErrImagePull, as on a node without the image.
        if container
            .image
            .as_deref()
            .is_some_and(|i| i.starts_with("missing/"))
        {
            let mut object = pod.clone();
            object.status = Some(PodStatus {
                phase: Some("Pending".into()),
                container_statuses: Some(vec![ContainerStatus {
                    name: container.name.clone(),
                    state: Some(ContainerState {
                        waiting: Some(ContainerStateWaiting {
                            reason: Some("ErrImagePull".into()),
                            message: Some(format!(
                                "pull access denied for {}",
                                container.image.clone().unwrap_or_default()
                            )),
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                }]),
                ..Default::default()
            });
            self.lock().pods.push(FakePod {
                object: object.clone(),
                netns: String::new(),
                mac: String::new(),
                created: true,
                server: None,
                log: Arc::new(Mutex::new(String::new())),
                ephemeral: BTreeMap::new(),
            });
            return Ok(object);
        }
        let mut argv: Vec<String> = container.command.clone().unwrap_or_default();
        argv.extend(container.args.clone().unwrap_or_default());
        let argv = self.agent_argv(&argv)?;
        let args = argv[self.agent.len()..].to_vec();
        let ip = {
            let mut inner = self.lock();
            let n = inner.next_ip;
            inner.next_ip += 1;
            IpAddr::from([10, 251, (n >> 8) as u8, (n & 0xff) as u8])
        };
        let mut object = pod.clone();
        object.status = Some(running_status(ip, std::slice::from_ref(&container.name)));
        self.add_pod(object.clone(), ip, &args, true)?;
        self.reapply()?;
        Ok(object)
    }

    async fn list_pods(&self, namespace: &str, selector: &str) -> Result<Vec<Pod>, IoError> {
        let ns = [namespace.to_string()];
        Ok(self
            .lock()
            .pods
            .iter()
            .filter(|p| {
                Self::matching(
                    selector,
                    Some(&ns),
                    p.object.metadata.namespace.as_deref(),
                    &labels_of(&p.object),
                )
            })
            .map(|p| p.object.clone())
            .collect())
    }

    async fn logs(&self, namespace: &str, pod: &str, container: &str) -> Result<String, IoError> {
        let inner = self.lock();
        let p = inner
            .pods
            .iter()
            .find(|p| {
                p.object.metadata.namespace.as_deref() == Some(namespace)
                    && p.object.metadata.name.as_deref() == Some(pod)
            })
            .ok_or_else(|| IoError::new(IoErrorKind::NotFound, format!("{namespace}/{pod}")))?;
        if let Some(run) = p.ephemeral.get(container) {
            let out = run.lock().unwrap_or_else(|e| e.into_inner());
            return Ok(out
                .as_ref()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default());
        }
        let log = p.log.lock().map(|l| l.clone()).unwrap_or_default();
        Ok(log)
    }

    async fn exec(
        &self,
        namespace: &str,
        pod: &str,
        _container: &str,
        argv: &[String],
    ) -> Result<ExecOutput, IoError> {
        let netns = self.find(namespace, pod)?;
        let argv = self.agent_argv(argv)?;
        let out = tokio::process::Command::new("ip")
            .args(["netns", "exec", &netns])
            .args(&argv)
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(io_other)?;
        Ok(ExecOutput {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            failure: (!out.status.success())
                .then(|| format!("command terminated with {}", out.status)),
        })
    }

    async fn add_ephemeral_container(
        &self,
        namespace: &str,
        pod: &str,
        container: &EphemeralContainer,
    ) -> Result<(), IoError> {
        if self.version < (1, 23) {
            return Err(IoError::new(
                IoErrorKind::Unsupported,
                "the server could not find the requested resource (404)",
            ));
        }
        let netns = self.find(namespace, pod)?;
        let mut argv = container.command.clone().unwrap_or_default();
        argv.extend(container.args.clone().unwrap_or_default());
        let argv = self.agent_argv(&argv)?;
        let slot = Arc::new(Mutex::new(None));
        {
            let mut inner = self.lock();
            let p = inner
                .pods
                .iter_mut()
                .find(|p| p.netns == netns)
                .ok_or_else(|| IoError::new(IoErrorKind::NotFound, pod.to_string()))?;
            if p.ephemeral.contains_key(&container.name) {
                return Err(IoError::new(
                    IoErrorKind::Conflict,
                    "an ephemeral container of that name exists",
                ));
            }
            p.ephemeral.insert(container.name.clone(), slot.clone());
        }
        let child = Command::new("ip")
            .args(["netns", "exec", &netns])
            .args(&argv)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(io_other)?;
        std::thread::spawn(move || {
            if let Ok(out) = child.wait_with_output() {
                *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(out);
            }
        });
        Ok(())
    }

    async fn ephemeral_state(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
    ) -> Result<EphemeralState, IoError> {
        let netns = self.find(namespace, pod)?;
        let inner = self.lock();
        let Some(run) = inner
            .pods
            .iter()
            .find(|p| p.netns == netns)
            .and_then(|p| p.ephemeral.get(container))
        else {
            return Ok(EphemeralState::Missing);
        };
        let out = run.lock().unwrap_or_else(|e| e.into_inner());
        Ok(match out.as_ref() {
            None => EphemeralState::Running,
            Some(o) => EphemeralState::Terminated {
                exit_code: o.status.code().unwrap_or(-1),
                reason: if o.status.success() {
                    "Completed".into()
                } else {
                    "Error".into()
                },
            },
        })
    }

    async fn delete_labelled(
        &self,
        namespaces: Option<&[String]>,
        selector: &str,
        _force: bool,
    ) -> Result<usize, IoError> {
        let (gone, count) = {
            let mut inner = self.lock();
            let before = inner.config_maps.len();
            inner.config_maps.retain(|c| {
                !Self::matching(
                    selector,
                    namespaces,
                    c.metadata.namespace.as_deref(),
                    &c.metadata.labels.clone().unwrap_or_default(),
                )
            });
            let mut count = before - inner.config_maps.len();
            // Garbage collection: pods whose owner is gone go too.
            let owners: Vec<String> = inner
                .config_maps
                .iter()
                .filter_map(|c| c.metadata.uid.clone())
                .collect();
            let (gone, kept): (Vec<FakePod>, Vec<FakePod>) =
                std::mem::take(&mut inner.pods).into_iter().partition(|p| {
                    p.created
                        && (Self::matching(
                            selector,
                            namespaces,
                            p.object.metadata.namespace.as_deref(),
                            &labels_of(&p.object),
                        ) || p
                            .object
                            .metadata
                            .owner_references
                            .iter()
                            .flatten()
                            .any(|o| !owners.contains(&o.uid)))
                });
            inner.pods = kept;
            count += gone.len();
            (gone, count)
        };
        let any = !gone.is_empty();
        for p in gone {
            self.remove_pod(p);
        }
        if any {
            self.reapply()?;
        }
        Ok(count)
    }

    async fn list_labelled(
        &self,
        namespaces: Option<&[String]>,
        selector: &str,
    ) -> Result<Vec<String>, IoError> {
        let inner = self.lock();
        let mut out: Vec<String> = inner
            .pods
            .iter()
            .filter(|p| p.created)
            .filter(|p| {
                Self::matching(
                    selector,
                    namespaces,
                    p.object.metadata.namespace.as_deref(),
                    &labels_of(&p.object),
                )
            })
            .map(|p| {
                format!(
                    "Pod {}/{}",
                    p.object.metadata.namespace.clone().unwrap_or_default(),
                    p.object.metadata.name.clone().unwrap_or_default()
                )
            })
            .collect();
        out.extend(
            inner
                .config_maps
                .iter()
                .filter(|c| {
                    Self::matching(
                        selector,
                        namespaces,
                        c.metadata.namespace.as_deref(),
                        &c.metadata.labels.clone().unwrap_or_default(),
                    )
                })
                .map(|c| {
                    format!(
                        "ConfigMap {}/{}",
                        c.metadata.namespace.clone().unwrap_or_default(),
                        c.metadata.name.clone().unwrap_or_default()
                    )
                }),
        );
        out.sort();
        Ok(out)
    }

    async fn get_policy(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<NetworkPolicy>, IoError> {
        Ok(self
            .lock()
            .policy_objects
            .get(&format!("{namespace}/{name}"))
            .cloned())
    }

    /// Accepted at once, and the rules are in the node namespace when it returns (a CNI that
    /// programs synchronously).
    async fn apply_policy(&self, policy: &NetworkPolicy) -> Result<(), IoError> {
        let ns = policy.metadata.namespace.clone().unwrap_or_default();
        let value = serde_json::to_value(policy).map_err(io_other)?;
        let model = crate::model::parse_policy_object(&value, &ns, Source::default()).map_err(
            |(_, e)| {
                IoError::other(format!(
                    "NetworkPolicy.networking.k8s.io is invalid: {}: {}",
                    e.field, e.message
                ))
            },
        )?;
        {
            let mut inner = self.lock();
            let key = model.key();
            inner.base.policies.retain(|p| p.key() != key);
            inner.base.policies.push(model);
            inner.base.finish();
            inner.policy_objects.insert(key, policy.clone());
        }
        self.reapply()
    }

    async fn delete_policy(&self, namespace: &str, name: &str) -> Result<(), IoError> {
        {
            let mut inner = self.lock();
            let key = format!("{namespace}/{name}");
            inner.base.policies.retain(|p| p.key() != key);
            inner.policy_objects.remove(&key);
        }
        self.reapply()
    }

    async fn exec_stream(
        &self,
        namespace: &str,
        pod: &str,
        _container: &str,
        argv: &[String],
        input: &str,
    ) -> Result<LineStream, IoError> {
        use tokio::io::AsyncWriteExt;
        let netns = self.find(namespace, pod)?;
        let argv = self.agent_argv(argv)?;
        let mut child = tokio::process::Command::new("ip")
            .args(["netns", "exec", &netns])
            .args(&argv)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(io_other)?;
        let mut stdin = child
            .stdin
            .take()
            .ok_or_else(|| IoError::other("no stdin"))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| IoError::other("no stdout"))?;
        stdin.write_all(input.as_bytes()).await.map_err(io_other)?;
        stdin.flush().await.map_err(io_other)?;
        Ok(LineStream::forward(stdout, async move {
            drop(stdin);
            let _ = child.kill().await;
        }))
    }
}
