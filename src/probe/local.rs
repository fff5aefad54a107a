//! `probe --local`: the whole probe on one Linux host. Every pod becomes a network namespace
//! with a veth into a bridge in a "node" namespace; the enforcer's compiled rules are applied
//! there; a prober serves every probed port in every pod and every source probes every target.
//! Everything lives inside namespaces named `netpol-<run>-*`, so deleting them removes every
//! link, chain and set; that happens at the end, on error, on panic and on Ctrl-C, and
//! `kubectl netpol cleanup --local` removes what a killed run left.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::net::IpAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use netpol_prober::plan::{Check, CheckKind, CheckResult, Plan, Verdict};

use super::compare::{compare, observed_of, DnsRow, ProbeReport};
use super::connection_check;
use crate::doc::matrix::MatrixDoc;
use crate::enforce::{compile, Applier, CommandRunner};
use crate::engine::matrix::Matrix;
use crate::engine::Engine;
use crate::model::{Probe, Protocol, Snapshot};

/// Prefix of every network namespace this backend creates.
pub const NETNS_PREFIX: &str = "netpol-";
const BRIDGE: &str = "npbr0";
/// Addresses for pods whose manifests carry no status.podIP (a private range kube uses rarely).
const ASSIGN_BASE: [u8; 2] = [10, 250];

#[derive(Debug, Clone)]
pub struct LocalOptions {
    pub timeout: Duration,
    /// Checks in flight inside one source pod.
    pub concurrency: usize,
    /// Source pods probing at the same time.
    pub parallel_sources: usize,
    /// Apply the enforcer's rules (false simulates a CNI that ignores NetworkPolicy).
    pub enforce: bool,
    pub progress: bool,
}

impl Default for LocalOptions {
    fn default() -> Self {
        LocalOptions {
            timeout: Duration::from_millis(1000),
            concurrency: 256,
            parallel_sources: 16,
            enforce: true,
            progress: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// Missing privilege or tools: exit 3.
    #[error("{0}")]
    Environment(String),
    /// The manifests cannot be laid out on one host (e.g. two pods share an address): exit 2.
    #[error("{0}")]
    Input(String),
}

pub(crate) fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|p| p.join(tool).is_file()))
}

pub use crate::enforce::has_cap_net_admin;

pub fn preflight() -> Result<(), LocalError> {
    if !has_cap_net_admin() {
        return Err(LocalError::Environment(
            "probe --local needs root or CAP_NET_ADMIN (it creates network namespaces and iptables rules): run it with sudo".into(),
        ));
    }
    let missing: Vec<&str> = [
        "ip",
        "iptables-restore",
        "iptables-save",
        "ip6tables-restore",
        "ipset",
    ]
    .into_iter()
    .filter(|t| !on_path(t))
    .collect();
    if !missing.is_empty() {
        return Err(LocalError::Environment(format!(
            "probe --local needs {} on PATH (Debian/Ubuntu: apt-get install iproute2 iptables ipset)",
            missing.join(", ")
        )));
    }
    Ok(())
}

fn run_cmd(args: &[&str], stdin: Option<&str>) -> Result<String, LocalError> {
    CommandRunner::default()
        .run_checked(args[0], &args[1..], stdin)
        .map_err(|e| LocalError::Environment(format!("setting up the local network failed: {e}")))
}

trait RunChecked {
    fn run_checked(
        &self,
        program: &str,
        args: &[&str],
        stdin: Option<&str>,
    ) -> Result<String, crate::enforce::apply::ApplyError>;
}

impl RunChecked for CommandRunner {
    fn run_checked(
        &self,
        program: &str,
        args: &[&str],
        stdin: Option<&str>,
    ) -> Result<String, crate::enforce::apply::ApplyError> {
        crate::enforce::Runner::run(self, program, args, stdin)
    }
}

/// Namespaces of runs in progress, for the Ctrl-C handler.
fn active() -> &'static Mutex<Vec<String>> {
    static ACTIVE: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    ACTIVE.get_or_init(|| Mutex::new(Vec::new()))
}

/// Processes of runs in progress that outlive a prober run (the enforcer agent, streaming
/// probers), for the Ctrl-C handler.
fn children() -> &'static Mutex<Vec<u32>> {
    static CHILDREN: OnceLock<Mutex<Vec<u32>>> = OnceLock::new();
    CHILDREN.get_or_init(|| Mutex::new(Vec::new()))
}

pub(crate) fn track_child(pid: u32) {
    if let Ok(mut c) = children().lock() {
        c.push(pid);
    }
}

pub(crate) fn untrack_child(pid: u32) {
    if let Ok(mut c) = children().lock() {
        c.retain(|p| *p != pid);
    }
}

pub(crate) fn install_interrupt_handler() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let _ = ctrlc::set_handler(|| {
            let pids = children().lock().map(|v| v.clone()).unwrap_or_default();
            for pid in &pids {
                let _ = Command::new("kill")
                    .args(["-TERM", &pid.to_string()])
                    .stderr(Stdio::null())
                    .status();
            }
            let names = active().lock().map(|v| v.clone()).unwrap_or_default();
            delete_namespaces(&names);
            eprintln!(
                "\ninterrupted: removed {} network namespaces of this run",
                names.len()
            );
            std::process::exit(130);
        });
    });
}

fn delete_namespaces(names: &[String]) {
    for n in names.iter().rev() {
        let _ = Command::new("ip")
            .args(["netns", "delete", n])
            .stderr(Stdio::null())
            .status();
    }
}

/// Removes every namespace a local run left behind (killed runs). Returns their names.
pub fn cleanup_leftovers() -> Result<Vec<String>, LocalError> {
    let out = run_cmd(&["ip", "netns", "list"], None)?;
    let names: Vec<String> = out
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with(NETNS_PREFIX))
        .map(str::to_string)
        .collect();
    delete_namespaces(&names);
    Ok(names)
}

/// One pod of a [`LocalLab`]: its addresses, the ports its prober serves, and DNS records it
/// answers (a non-empty list makes it a DNS server on port 53).
#[derive(Debug, Clone)]
pub struct LabPodSpec {
    /// `namespace/name`, for messages.
    pub key: String,
    pub ips: Vec<IpAddr>,
    pub serve: Vec<Probe>,
    /// `name=address` records.
    pub dns_records: Vec<String>,
}

/// Pods as network namespaces with a veth into a bridge in a "node" namespace, a prober
/// serving in each: built once, then rules can be applied in the node namespace and pods
/// probed as often as needed (`probe --local` does it once; the enforcer's tests many times).
/// Dropping it kills the probers and deletes the namespaces, and with them every link, chain
/// and set inside.
pub struct LocalLab {
    node: String,
    pods: Vec<String>,
    keys: Vec<String>,
    ips: Vec<Vec<IpAddr>>,
    servers: Vec<Child>,
    exe: String,
}

impl Drop for LocalLab {
    fn drop(&mut self) {
        if std::env::var_os("NETPOL_LOCAL_KEEP").is_none() {
            for c in &mut self.servers {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
        // Debugging aid: keep the namespaces (and their rules and counters) for inspection;
        // `kubectl netpol cleanup --local` removes them afterwards.
        if std::env::var_os("NETPOL_LOCAL_KEEP").is_some() {
            eprintln!(
                "NETPOL_LOCAL_KEEP: kept {} (node) and {} pod namespaces",
                self.node,
                self.pods.len()
            );
            return;
        }
        let mut all = self.pods.clone();
        all.push(self.node.clone());
        delete_namespaces(&all);
        if let Ok(mut a) = active().lock() {
            a.retain(|n| !all.contains(n));
        }
    }
}

/// Gives every pod without an address one from 10.250.0.0/16, and refuses shared addresses.
pub fn assign_addresses(snap: &mut Snapshot, pods: &[usize]) -> Result<(), LocalError> {
    let mut owner: HashMap<IpAddr, String> = HashMap::new();
    for &p in pods {
        for ip in &snap.pods[p].ips {
            if let Some(other) = owner.insert(*ip, snap.pods[p].key()) {
                return Err(LocalError::Input(format!(
                    "{} and {} both have the address {ip}: give them different status.podIP values",
                    other,
                    snap.pods[p].key()
                )));
            }
        }
    }
    let mut next = 1u32;
    for &p in pods {
        if snap.pods[p].ips.is_empty() {
            let ip = loop {
                let candidate = IpAddr::from([
                    ASSIGN_BASE[0],
                    ASSIGN_BASE[1],
                    (next >> 8) as u8,
                    (next & 0xff) as u8,
                ]);
                next += 1;
                if !owner.contains_key(&candidate) && next & 0xff != 0 {
                    break candidate;
                }
            };
            owner.insert(ip, snap.pods[p].key());
            snap.pods[p].ips.push(ip);
        }
    }
    Ok(())
}

pub(crate) fn self_exe() -> Result<String, LocalError> {
    std::env::current_exe()
        .map(|p| p.display().to_string())
        .map_err(|e| {
            LocalError::Environment(format!(
                "cannot find this program's own path to start probers: {e}"
            ))
        })
}

fn ports_arg(probes: &[Probe], proto: Protocol) -> String {
    probes
        .iter()
        .filter(|p| p.protocol == proto)
        .map(|p| p.port.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// The cluster DNS pod, if the manifests have one (kube-system, k8s-app=kube-dns).
pub(crate) fn dns_pod(snap: &Snapshot, pods: &[usize]) -> Option<usize> {
    pods.iter().copied().find(|&p| {
        snap.pods[p].namespace == "kube-system"
            && snap.pods[p].labels.get("k8s-app").map(String::as_str) == Some("kube-dns")
    })
}

/// A fixed, locally administered MAC per pod, so neighbours can be written in advance.
fn pod_mac(i: usize) -> String {
    format!(
        "02:4e:50:{:02x}:{:02x}:{:02x}",
        (i >> 16) & 0xff,
        (i >> 8) & 0xff,
        i & 0xff
    )
}

pub const DNS_TEST_NAME: &str = "kubernetes.default.svc.cluster.local";

pub(crate) fn progress(opts: &LocalOptions, len: u64, msg: &str) -> indicatif::ProgressBar {
    if !opts.progress {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new(len);
    pb.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {msg:<28} [{bar:30}] {pos}/{len} {elapsed}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    pb.set_message(msg.to_string());
    pb.enable_steady_tick(Duration::from_millis(100));
    pb
}

/// One lab pod per pod of the matrix, serving every probe; the DNS pod (if any) answers the
/// cluster's names on port 53.
pub(crate) fn lab_specs(
    snap: &Snapshot,
    pods: &[usize],
    probes: &[Probe],
    dns: Option<usize>,
) -> Vec<LabPodSpec> {
    pods.iter()
        .map(|&p| {
            let mut dns_records = Vec::new();
            if Some(p) == dns {
                let ip = snap.pods[p].ips[0];
                dns_records.push(format!("{DNS_TEST_NAME}={ip}"));
                for &q in pods {
                    if let Some(qip) = snap.pods[q].ips.first() {
                        dns_records.push(format!(
                            "{}.{}.svc.cluster.local={qip}",
                            snap.pods[q].name, snap.pods[q].namespace
                        ));
                    }
                }
            }
            LabPodSpec {
                key: snap.pods[p].key(),
                ips: snap.pods[p].ips.clone(),
                // The DNS pod's responder owns port 53 (it also echoes non-DNS datagrams for
                // UDP probes).
                serve: probes
                    .iter()
                    .copied()
                    .filter(|pr| {
                        !(Some(p) == dns && pr.port == 53 && pr.protocol != Protocol::Sctp)
                    })
                    .collect(),
                dns_records,
            }
        })
        .collect()
}

/// Runs the probe. `snap` must already carry the addresses (see `assign_addresses`), so the
/// expected side and the rules see the same IPs as the packets.
pub fn run_local(
    snap: &Snapshot,
    pods: &[usize],
    probes: &[Probe],
    opts: &LocalOptions,
) -> Result<ProbeReport, LocalError> {
    preflight()?;
    install_interrupt_handler();
    let exe = self_exe()?;
    let engine = Engine::new(snap);
    let matrix = Matrix::compute(&engine, pods, probes);
    let pods = matrix.pods.clone();

    let dns = dns_pod(snap, &pods);
    let specs = lab_specs(snap, &pods, probes, dns);
    let lab = LocalLab::build(&specs, &exe, opts)?;

    // The enforcer's rules in the node namespace.
    if opts.enforce {
        let rules = compile(&engine, None);
        Applier::new(lab.node_runner()).apply(&rules).map_err(|e| {
            LocalError::Environment(format!("applying the enforcer's rules failed: {e}"))
        })?;
    }

    let report = probe_every_pair(&lab, snap, &engine, &matrix, dns, opts)?;
    drop(lab);
    Ok(report)
}

/// Every pod of the matrix probes every other on every probe (one prober run per source, like
/// one exec per pod), plus the DNS check when the manifests have a DNS pod; compared with the
/// engine's matrix.
pub(crate) fn probe_every_pair(
    lab: &LocalLab,
    snap: &Snapshot,
    engine: &Engine<'_>,
    matrix: &Matrix,
    dns: Option<usize>,
    opts: &LocalOptions,
) -> Result<ProbeReport, LocalError> {
    let doc = MatrixDoc::from_matrix(matrix, snap);
    let pods = matrix.pods.clone();
    let probes = &matrix.probes;
    // 4. Every source probes every target (one prober run per source, like one exec per pod).
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut plans: Vec<Plan> = Vec::new();
    for (i, &from) in pods.iter().enumerate() {
        let mut checks = Vec::new();
        for (j, &to) in pods.iter().enumerate() {
            let Some(ip) = snap.pods[to].ips.first() else {
                continue;
            };
            for (k, probe) in probes.iter().enumerate() {
                let id = format!("{i}:{j}:{k}");
                index.insert(id.clone(), doc.index(i, j, k));
                checks.push(connection_check(id, *ip, *probe));
            }
        }
        if let Some(d) = dns {
            checks.push(Check {
                id: format!("dns:{i}"),
                kind: CheckKind::Dns,
                host: None,
                port: None,
                name: Some(DNS_TEST_NAME.into()),
                server: Some(format!(
                    "{}",
                    std::net::SocketAddr::new(snap.pods[d].ips[0], 53)
                )),
            });
        }
        let _ = from;
        plans.push(Plan {
            timeout_ms: opts.timeout.as_millis() as u64,
            concurrency: opts.concurrency,
            retries: 1,
            checks,
        });
    }
    let results = lab.run_plans(&plans, opts)?;

    // 5. Compare.
    let mut observed: Vec<Option<Verdict>> = vec![None; doc.connections.len()];
    let mut dns_rows = Vec::new();
    for (i, rs) in &results {
        for r in rs {
            if let Some(&idx) = index.get(&r.id) {
                observed[idx] = Some(r.verdict);
            } else if r.id.starts_with("dns:") {
                if let Some(d) = dns {
                    let expected = matrix_allows_dns(engine, pods[*i], d);
                    dns_rows.push(DnsRow {
                        from: snap.pods[pods[*i]].key(),
                        server: snap.pods[d].key(),
                        name: DNS_TEST_NAME.into(),
                        allowed: expected,
                        observed: observed_of(r.verdict),
                        verdict: r.verdict.as_str().into(),
                        agree: None,
                        addresses: r.addresses.clone(),
                    });
                }
            }
        }
    }
    Ok(compare(doc, &observed, dns_rows))
}

/// A short id for one lab: the process id and the clock's nanoseconds.
fn lab_run_id() -> String {
    format!(
        "{:x}",
        (std::process::id() as u64) << 16
            ^ (std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos() as u64)
                .unwrap_or(0)
                & 0xffff)
    )
}

/// The `ip -batch` of pod `i`: its addresses, a default route on-link and every other pod as a
/// permanent neighbour.
fn pod_batch(specs: &[LabPodSpec], i: usize) -> String {
    let spec = &specs[i];
    let mut b = String::from("link set lo up\nlink set eth0 up\n");
    let mut v6 = false;
    for ip in &spec.ips {
        match ip {
            IpAddr::V4(a) => b.push_str(&format!("addr add {a}/32 dev eth0\n")),
            IpAddr::V6(a) => {
                v6 = true;
                b.push_str(&format!("addr add {a}/128 dev eth0 nodad\n"))
            }
        }
    }
    // Every other pod is on the same bridge: route everything on-link, and know every
    // neighbour up front. (Resolving 50 pods at once floods the bridge with ARP, and a
    // lost request is only retried after a second: long enough to look like a dropped
    // packet.)
    b.push_str("route add default dev eth0\n");
    if v6 {
        b.push_str("route add ::/0 dev eth0\n");
    }
    for (j, other) in specs.iter().enumerate() {
        if j != i {
            for ip in &other.ips {
                b.push_str(&format!(
                    "neigh replace {ip} lladdr {} dev eth0 nud permanent\n",
                    pod_mac(j)
                ));
            }
        }
    }
    b
}

/// `ip netns exec <pod> <exe> prober serve …`: the pod's ports, its DNS records, dual stack
/// when it has an IPv6 address.
fn prober_args(netns: &str, exe: &str, spec: &LabPodSpec) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "netns".into(),
        "exec".into(),
        netns.to_string(),
        exe.to_string(),
        "prober".into(),
        "serve".into(),
        "--exit-on-stdin-eof".into(),
    ];
    for (flag, proto) in [
        ("--tcp", Protocol::Tcp),
        ("--udp", Protocol::Udp),
        ("--sctp", Protocol::Sctp),
    ] {
        let list = ports_arg(&spec.serve, proto);
        if !list.is_empty() {
            args.push(flag.into());
            args.push(list);
        }
    }
    for record in &spec.dns_records {
        args.push("--dns-record".into());
        args.push(record.clone());
    }
    // Dual stack when the pod has an IPv6 address (the default is IPv4 only).
    if spec.ips.iter().any(IpAddr::is_ipv6) {
        args.push("--bind".into());
        args.push("::".into());
    }
    args
}

/// One connection a [`LocalLab`] tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairResult {
    pub from: String,
    pub to: String,
    pub probe: Probe,
    pub verdict: Verdict,
}

impl LocalLab {
    /// Creates the namespaces, the bridge (with bridge-nf-call-iptables on, so bridged traffic
    /// crosses FORWARD), the links, addresses and neighbours, and starts a prober in every pod
    /// (`exe prober serve`). Needs root; see [`preflight`].
    pub fn build(
        specs: &[LabPodSpec],
        exe: &str,
        opts: &LocalOptions,
    ) -> Result<LocalLab, LocalError> {
        install_interrupt_handler();
        let run = lab_run_id();
        let node = format!("{NETNS_PREFIX}{run}-node");
        let pod_ns: Vec<String> = (0..specs.len())
            .map(|i| format!("{NETNS_PREFIX}{run}-{i}"))
            .collect();
        let mut lab = LocalLab {
            node: node.clone(),
            pods: Vec::new(),
            keys: specs.iter().map(|s| s.key.clone()).collect(),
            ips: specs.iter().map(|s| s.ips.clone()).collect(),
            servers: Vec::new(),
            exe: exe.to_string(),
        };
        if let Ok(mut a) = active().lock() {
            a.push(node.clone());
            a.extend(pod_ns.iter().cloned());
        }

        // Namespaces, bridge, veths, addresses.
        let pb = progress(opts, specs.len() as u64 + 1, "creating pod namespaces");
        let mut batch = format!("netns add {node}\n");
        for n in &pod_ns {
            batch.push_str(&format!("netns add {n}\n"));
        }
        lab.pods = pod_ns.clone();
        run_cmd(&["ip", "-batch", "-"], Some(&batch))?;
        let mut node_batch =
            format!("link add {BRIDGE} type bridge\nlink set {BRIDGE} up\nlink set lo up\n");
        for (i, n) in pod_ns.iter().enumerate() {
            node_batch.push_str(&format!("link add vp{i} type veth peer name eth0 address {} netns {n}\nlink set vp{i} master {BRIDGE} up\n", pod_mac(i)));
        }
        run_cmd(&["ip", "-n", &node, "-batch", "-"], Some(&node_batch))?;
        for key in [
            "net.bridge.bridge-nf-call-iptables=1",
            "net.bridge.bridge-nf-call-ip6tables=1",
        ] {
            run_cmd(
                &["ip", "netns", "exec", &node, "sysctl", "-q", "-w", key],
                None,
            )?;
        }
        pb.inc(1);
        for (i, n) in pod_ns.iter().enumerate() {
            run_cmd(&["ip", "-n", n, "-batch", "-"], Some(&pod_batch(specs, i)))?;
            pb.inc(1);
        }
        pb.finish_and_clear();

        // A prober serving the ports of each pod; pods with records also answer DNS.
        let pb = progress(opts, specs.len() as u64, "starting listeners");
        let mut readers = Vec::new();
        for (i, spec) in specs.iter().enumerate() {
            let args = prober_args(&pod_ns[i], exe, spec);
            let mut child = Command::new("ip")
                .args(&args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| LocalError::Environment(format!("cannot start a prober: {e}")))?;
            let out = child.stdout.take();
            lab.servers.push(child);
            readers.push(out);
        }
        lab.wait_ready(readers, &pb)?;
        pb.finish_and_clear();
        Ok(lab)
    }

    /// Waits for every prober's ready line; a prober that did not start fails the build with
    /// its stderr.
    fn wait_ready(
        &mut self,
        readers: Vec<Option<std::process::ChildStdout>>,
        pb: &indicatif::ProgressBar,
    ) -> Result<(), LocalError> {
        for (i, out) in readers.into_iter().enumerate() {
            let mut line = String::new();
            if let Some(out) = out {
                let _ = BufReader::new(out).read_line(&mut line);
            }
            if !line.contains("\"ready\":true") {
                let mut err = String::new();
                if let Some(mut e) = self.servers[i].stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut err);
                }
                return Err(LocalError::Environment(format!(
                    "the prober in {} did not start: {}",
                    self.keys[i],
                    err.trim()
                )));
            }
            pb.inc(1);
        }
        Ok(())
    }

    /// The node namespace, where the rules go.
    pub fn node_netns(&self) -> &str {
        &self.node
    }

    /// Runs commands (iptables, ipset) in the node namespace.
    pub fn node_runner(&self) -> CommandRunner {
        CommandRunner {
            netns: Some(self.node.clone()),
        }
    }

    /// The namespace of a pod, by `namespace/name`.
    pub fn pod_netns(&self, key: &str) -> Option<&str> {
        self.keys
            .iter()
            .position(|k| k == key)
            .map(|i| self.pods[i].as_str())
    }

    /// Runs one plan in each of the first `plans.len()` pods (in the order they were built),
    /// `parallel_sources` pods at a time; results by pod position.
    pub fn run_plans(
        &self,
        plans: &[Plan],
        opts: &LocalOptions,
    ) -> Result<BTreeMap<usize, Vec<CheckResult>>, LocalError> {
        let pb = progress(opts, plans.len() as u64, "probing");
        let results: Mutex<BTreeMap<usize, Vec<CheckResult>>> = Mutex::new(BTreeMap::new());
        let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
        let next = Mutex::new(0usize);
        let count = plans.len().min(self.pods.len());
        std::thread::scope(|s| {
            for _ in 0..opts.parallel_sources.max(1) {
                s.spawn(|| loop {
                    let i = {
                        let mut n = next.lock().unwrap_or_else(|e| e.into_inner());
                        let i = *n;
                        *n += 1;
                        i
                    };
                    if i >= count {
                        break;
                    }
                    if plans[i].checks.is_empty() {
                        pb.inc(1);
                        continue;
                    }
                    match run_plan_in(&self.pods[i], &self.exe, &plans[i]) {
                        Ok(r) => {
                            results
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .insert(i, r);
                        }
                        Err(e) => failures
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(format!("{}: {e}", self.keys[i])),
                    }
                    pb.inc(1);
                });
            }
        });
        pb.finish_and_clear();
        let failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
        if !failures.is_empty() {
            return Err(LocalError::Environment(format!(
                "probing failed: {}",
                failures.join("; ")
            )));
        }
        Ok(results.into_inner().unwrap_or_else(|e| e.into_inner()))
    }

    /// Every pod of `from` tries every pod of `to` (by key, at its first address) on every
    /// probe.
    pub fn probe_pairs(
        &self,
        from: &[String],
        to: &[String],
        probes: &[Probe],
        opts: &LocalOptions,
    ) -> Result<Vec<PairResult>, LocalError> {
        let position = |key: &String| {
            self.keys
                .iter()
                .position(|k| k == key)
                .ok_or_else(|| LocalError::Input(format!("{key} is not a pod of this lab")))
        };
        let mut plans: Vec<Plan> = (0..self.pods.len())
            .map(|_| Plan {
                timeout_ms: opts.timeout.as_millis() as u64,
                concurrency: opts.concurrency,
                retries: 1,
                checks: Vec::new(),
            })
            .collect();
        let mut index: HashMap<String, (usize, usize, Probe)> = HashMap::new();
        for f in from {
            let i = position(f)?;
            for t in to {
                let j = position(t)?;
                let Some(ip) = self.ips[j].first() else {
                    continue;
                };
                for probe in probes {
                    let id = format!("{i}:{j}:{probe}");
                    index.insert(id.clone(), (i, j, *probe));
                    plans[i].checks.push(connection_check(id, *ip, *probe));
                }
            }
        }
        let mut out = Vec::new();
        for rs in self.run_plans(&plans, opts)?.into_values() {
            for r in rs {
                if let Some(&(i, j, probe)) = index.get(&r.id) {
                    out.push(PairResult {
                        from: self.keys[i].clone(),
                        to: self.keys[j].clone(),
                        probe,
                        verdict: r.verdict,
                    });
                }
            }
        }
        out.sort_by(|a, b| (&a.from, &a.to, a.probe).cmp(&(&b.from, &b.to, b.probe)));
        Ok(out)
    }
}

/// DNS works when the pod may reach the DNS pod on UDP 53 (a pod always reaches itself).
fn matrix_allows_dns(engine: &Engine<'_>, from: usize, dns: usize) -> bool {
    use crate::engine::{Endpoint, Traffic};
    engine
        .verdict(&Traffic {
            from: Endpoint::Pod(from),
            to: Endpoint::Pod(dns),
            probe: Probe::new(Protocol::Udp, 53),
        })
        .allowed
}

fn run_plan_in(netns: &str, exe: &str, plan: &Plan) -> Result<Vec<CheckResult>, String> {
    let json = serde_json::to_string(plan).map_err(|e| e.to_string())?;
    let mut child = Command::new("ip")
        .args(["netns", "exec", netns, exe, "prober", "run", "--plan", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the prober: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(json.as_bytes())
            .map_err(|e| format!("cannot send the plan: {e}"))?;
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "prober exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str::<CheckResult>(l)
                .map_err(|e| format!("unreadable prober output {l:?}: {e}"))
        })
        .collect()
}
