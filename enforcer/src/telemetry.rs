//! What the agent knows about itself, shared by the reconcile loop (writes), the drop listener
//! (writes drops) and the HTTP server (reads): the status document, the metrics, the recent
//! drops, and the context that maps a dropped packet back to pods and policies.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt::Write;
use std::net::IpAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use netpol::enforce::status::{AgentStatus, DropRecord, DropsDoc, PlacementStats, SyncRecord};
use netpol::enforce::{ChainInfo, Family, NodeRules};
use netpol::model::RUN_LABEL;
use netpol::model::{Pod, Snapshot};
use prometheus_client::encoding::{EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family as MetricFamily;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

/// How many drops `/drops` keeps.
pub const DROP_HISTORY: usize = 1000;

/// How many placement latencies the status summary is computed over.
const PLACEMENT_HISTORY: usize = 1000;

/// Upper bounds of the sync duration histogram, in seconds.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The kinds of sync, as counted in metrics and written in `SyncRecord::kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SyncKind {
    /// Chains (and changed sets) rewritten.
    Full,
    /// Only set members changed.
    Sets,
    /// Nothing to do.
    Unchanged,
    /// Someone changed our rules; they were put back.
    Repair,
}

impl SyncKind {
    const ALL: [SyncKind; 4] = [
        SyncKind::Full,
        SyncKind::Sets,
        SyncKind::Unchanged,
        SyncKind::Repair,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SyncKind::Full => "full",
            SyncKind::Sets => "sets",
            SyncKind::Unchanged => "unchanged",
            SyncKind::Repair => "repair",
        }
    }
}

/// One successful sync.
#[derive(Debug, Clone, Copy)]
pub struct SyncOutcome {
    pub kind: SyncKind,
    pub took: Duration,
    /// It included the first `events` watch events.
    pub events: u64,
    pub isolated_pods: usize,
    pub local_pods: usize,
}

/// Maps a dropped packet back: chain → direction and policies, address → pod.
#[derive(Debug, Default)]
pub struct DropContext {
    pub chains: BTreeMap<String, ChainInfo>,
    pub pods_by_ip: HashMap<IpAddr, String>,
    /// Addresses in `pods_by_ip` whose pod is deleted, and since when: a drop read a moment
    /// after its pod went away still names it, for [`REMEMBER_GONE`].
    gone_since: HashMap<IpAddr, Instant>,
}

/// How long a deleted pod's address keeps naming it in drops.
pub const REMEMBER_GONE: Duration = Duration::from_secs(120);

impl DropContext {
    pub fn new(snap: &Snapshot, rules: &NodeRules) -> DropContext {
        let mut pods_by_ip = HashMap::new();
        for (_, pod) in snap.endpoint_pods() {
            let name = drop_name(pod);
            for ip in &pod.ips {
                pods_by_ip.insert(*ip, name.clone());
            }
        }
        DropContext {
            chains: rules.chain_info.clone(),
            pods_by_ip,
            gone_since: HashMap::new(),
        }
    }

    /// Keeps the pods of `previous` that are gone now (their addresses not reused), until they
    /// have been gone for [`REMEMBER_GONE`].
    pub fn keep_gone(&mut self, previous: &DropContext, now: Instant) {
        for (ip, name) in &previous.pods_by_ip {
            if self.pods_by_ip.contains_key(ip) {
                continue;
            }
            let since = previous.gone_since.get(ip).copied().unwrap_or(now);
            if now.saturating_duration_since(since) < REMEMBER_GONE {
                self.pods_by_ip.insert(*ip, name.clone());
                self.gone_since.insert(*ip, since);
            }
        }
    }
}

/// How a drop names a pod. A `kubectl netpol probe` prober is gone soon after its drops, so
/// its name says what it stood for: the labels it mirrors.
fn drop_name(pod: &Pod) -> String {
    if !pod.labels.contains_key(RUN_LABEL) {
        return pod.key();
    }
    let mirrored: Vec<String> = pod
        .labels
        .iter()
        .filter(|(k, _)| k.as_str() != RUN_LABEL)
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!(
        "{} (probe prober for pods {})",
        pod.key(),
        if mirrored.is_empty() {
            "without labels".to_string()
        } else {
            mirrored.join(",")
        }
    )
}

/// The agent's Prometheus metrics. prometheus-client keeps the values (atomics, so the loop and
/// the drop listener update them without the status lock) and writes the OpenMetrics text; it
/// appends `_total` to counters, so they are registered without it.
#[derive(Debug)]
struct Metrics {
    registry: Registry,
    ready: Gauge,
    syncs: MetricFamily<[(&'static str, LabelValue); 1], Counter>,
    sync_errors: Counter,
    sync_duration: Histogram,
    placement: Histogram,
    sync_latency: Histogram,
    terminated_flows: Counter,
    last_sync: Gauge<f64, AtomicU64>,
    /// rules, chains, ipsets, ipset members; each by family.
    sizes: [MetricFamily<[(&'static str, LabelValue); 1], Gauge>; 4],
    isolated_pods: Gauge,
    drops: MetricFamily<[(&'static str, LabelValue); 1], Counter>,
    repairs: Counter,
}

/// The directions whose drops are counted in `netpol_enforcer_drops_total` (a held pod's drops
/// are only in `/drops`).
const COUNTED_DROP_DIRECTIONS: [&str; 2] = ["ingress", "egress"];

/// A label value as the exposition formats want it: prometheus-client writes label values as
/// they are, so a quote, backslash or newline would end the value or the line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct LabelValue(String);

impl LabelValue {
    fn of(value: &str) -> LabelValue {
        LabelValue(value.to_string())
    }
}

impl EncodeLabelValue for LabelValue {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> std::fmt::Result {
        for c in self.0.chars() {
            match c {
                '\\' => encoder.write_str("\\\\")?,
                '"' => encoder.write_str("\\\"")?,
                '\n' => encoder.write_str("\\n")?,
                c => encoder.write_char(c)?,
            }
        }
        Ok(())
    }
}

impl Metrics {
    /// The exposition, `# EOF` included.
    fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail; prometheus-client's encoders only pass on the
        // writer's errors.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    fn new(version: &str) -> Metrics {
        let histogram = || Histogram::new(BUCKETS);
        let m = Metrics {
            registry: Registry::default(),
            ready: Gauge::default(),
            syncs: MetricFamily::default(),
            sync_errors: Counter::default(),
            sync_duration: histogram(),
            placement: histogram(),
            sync_latency: histogram(),
            terminated_flows: Counter::default(),
            last_sync: Gauge::default(),
            sizes: Default::default(),
            isolated_pods: Gauge::default(),
            drops: MetricFamily::default(),
            repairs: Counter::default(),
        };
        // Every kind and direction is exposed from the start, at 0.
        for kind in SyncKind::ALL {
            m.syncs
                .get_or_create_owned(&[("kind", LabelValue::of(kind.as_str()))]);
        }
        for direction in COUNTED_DROP_DIRECTIONS {
            m.drops
                .get_or_create_owned(&[("direction", LabelValue::of(direction))]);
        }
        let mut m = m;
        m.register_all(version);
        m
    }

    /// Every metric under its exposed name (prometheus-client ends every help text with a full
    /// stop, and appends `_total` to counters).
    fn register_all(&mut self, version: &str) {
        let m = &*self;
        let mut r = Registry::default();
        r.register(
            "netpol_enforcer_build",
            "The agent's version",
            Info::new([("version", LabelValue::of(version))]),
        );
        r.register(
            "netpol_enforcer_ready",
            "1 once the watches have synced and the first apply succeeded",
            m.ready.clone(),
        );
        r.register(
            "netpol_enforcer_syncs",
            "Reconciles, by what they had to do (full, sets, unchanged, repair)",
            m.syncs.clone(),
        );
        r.register(
            "netpol_enforcer_sync_errors",
            "Reconciles that failed (retried with backoff)",
            m.sync_errors.clone(),
        );
        r.register(
            "netpol_enforcer_sync_duration_seconds",
            "Time from starting a reconcile (compile included) to the node being programmed",
            m.sync_duration.clone(),
        );
        r.register(
            "netpol_enforcer_placement_seconds",
            "Time from a local pod's address (or its removal) reaching the agent to the node's rules having it",
            m.placement.clone(),
        );
        r.register(
            "netpol_enforcer_sync_latency_seconds",
            "Time from a watch event (policy, namespace or pod) reaching the agent to the rules that include it being in the kernel",
            m.sync_latency.clone(),
        );
        r.register(
            "netpol_enforcer_terminated_flows",
            "Conntrack entries of open connections deleted because an update denies them (--terminate-established)",
            m.terminated_flows.clone(),
        );
        r.register(
            "netpol_enforcer_last_sync_timestamp_seconds",
            "When the last successful reconcile finished",
            m.last_sync.clone(),
        );
        for ((name, help), gauge) in [
            ("netpol_enforcer_rules", "iptables rules in our chains"),
            ("netpol_enforcer_chains", "Our iptables chains"),
            ("netpol_enforcer_ipsets", "Our ipsets"),
            ("netpol_enforcer_ipset_members", "Entries in our ipsets"),
        ]
        .into_iter()
        .zip(&m.sizes)
        {
            r.register(name, help, gauge.clone());
        }
        r.register(
            "netpol_enforcer_isolated_pods",
            "Pods on this node that some policy isolates",
            m.isolated_pods.clone(),
        );
        r.register(
            "netpol_enforcer_drops",
            "Dropped packets logged through NFLOG (rate-limited per chain), by direction",
            m.drops.clone(),
        );
        r.register(
            "netpol_enforcer_repairs",
            "Times someone removed or changed our rules and the agent put them back",
            m.repairs.clone(),
        );
        self.registry = r;
    }
}

/// Recent latencies, for the p50/p99/max summary in `/status` (the histogram has them all).
#[derive(Debug, Default)]
struct Latencies {
    count: u64,
    recent: VecDeque<f64>,
}

impl Latencies {
    fn observe(&mut self, secs: f64) {
        self.count += 1;
        if self.recent.len() >= PLACEMENT_HISTORY {
            self.recent.pop_front();
        }
        self.recent.push_back(secs);
    }

    fn summary(&self) -> PlacementStats {
        let mut recent: Vec<f64> = self.recent.iter().copied().collect();
        recent.sort_by(f64::total_cmp);
        let at = |q: f64| {
            recent
                .get(((recent.len().max(1) - 1) as f64 * q).round() as usize)
                .map_or(0.0, |s| s * 1000.0)
        };
        PlacementStats {
            count: self.count,
            p50_ms: at(0.5),
            p99_ms: at(0.99),
            max_ms: at(1.0),
        }
    }
}

#[derive(Debug)]
struct Inner {
    status: AgentStatus,
    placement: Latencies,
    sync_latency: Latencies,
    drops: VecDeque<DropRecord>,
    context: Arc<DropContext>,
    heartbeat: Instant,
    /// Watch events seen, and how many of them the last successful sync included (tests wait
    /// on these).
    events: u64,
    synced_events: u64,
    last_sync_latency: Option<Duration>,
}

/// Shared, cheap to clone.
#[derive(Debug, Clone)]
pub struct Telemetry {
    inner: Arc<Mutex<Inner>>,
    metrics: Arc<Metrics>,
}

impl Telemetry {
    pub fn new(node: &str, backend: &str, families: &[Family]) -> Telemetry {
        let version = env!("CARGO_PKG_VERSION");
        let status = AgentStatus {
            node: node.to_string(),
            version: version.to_string(),
            backend: backend.to_string(),
            families: families
                .iter()
                .map(|f| family_name(*f).to_string())
                .collect(),
            ..Default::default()
        };
        Telemetry {
            inner: Arc::new(Mutex::new(Inner {
                status,
                placement: Latencies::default(),
                sync_latency: Latencies::default(),
                drops: VecDeque::new(),
                context: Arc::new(DropContext::default()),
                heartbeat: Instant::now(),
                events: 0,
                synced_events: 0,
                last_sync_latency: None,
            })),
            metrics: Arc::new(Metrics::new(version)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn beat(&self) {
        self.lock().heartbeat = Instant::now();
    }

    /// The loop ran recently (liveness).
    pub fn alive(&self, within: Duration) -> bool {
        self.lock().heartbeat.elapsed() <= within
    }

    pub fn ready(&self) -> bool {
        self.lock().status.ready
    }

    pub fn event_seen(&self) -> u64 {
        let mut i = self.lock();
        i.events += 1;
        i.events
    }

    /// (events seen, events included in the last successful sync, successful syncs).
    pub fn progress(&self) -> (u64, u64, u64) {
        let i = self.lock();
        (i.events, i.synced_events, i.status.syncs)
    }

    pub fn set_warnings(&self, warnings: Vec<String>) {
        self.lock().status.warnings = warnings;
    }

    pub fn warnings(&self) -> Vec<String> {
        self.lock().status.warnings.clone()
    }

    /// Records a successful sync.
    pub fn synced(&self, outcome: &SyncOutcome, rules: &NodeRules, context: DropContext) {
        let SyncOutcome {
            kind,
            took,
            events,
            isolated_pods,
            local_pods,
        } = *outcome;
        let mut i = self.lock();
        i.synced_events = i.synced_events.max(events);
        let secs = took.as_secs_f64();
        let now_ms = unix_ms();
        self.record_sync_metrics(outcome, rules, now_ms);
        let st = &mut i.status;
        st.ready = true;
        st.syncs += 1;
        if kind == SyncKind::Repair {
            st.repairs += 1;
        }
        st.last_sync = Some(SyncRecord {
            unix_ms: now_ms,
            kind: kind.as_str().into(),
            duration_ms: secs * 1000.0,
            error: None,
        });
        st.last_error = None;
        st.rules = rules.rule_count() as u64;
        st.chains = (rules.v4.chains.len() + rules.v6.chains.len()) as u64;
        st.ipsets = rules.set_count() as u64;
        st.ipset_members = rules.member_count() as u64;
        st.isolated_pods = isolated_pods as u64;
        st.local_pods = local_pods as u64;
        st.pods_without_ip = rules.pods_without_ip.clone();
        let mut context = context;
        context.keep_gone(&i.context, Instant::now());
        i.context = Arc::new(context);
    }

    fn record_sync_metrics(&self, outcome: &SyncOutcome, rules: &NodeRules, now_ms: u64) {
        let m = &self.metrics;
        m.ready.set(1);
        m.syncs
            .get_or_create(&[("kind", LabelValue::of(outcome.kind.as_str()))])
            .inc();
        if outcome.kind == SyncKind::Repair {
            m.repairs.inc();
        }
        m.sync_duration.observe(outcome.took.as_secs_f64());
        m.last_sync.set(now_ms as f64 / 1000.0);
        m.isolated_pods.set(outcome.isolated_pods as i64);
        for family in [Family::V4, Family::V6] {
            let r = rules.family(family);
            let label = [("family", LabelValue::of(family_name(family)))];
            let sizes = [
                r.rule_count(),
                r.chains.len(),
                r.sets.len(),
                r.member_count(),
            ];
            for (gauge, size) in m.sizes.iter().zip(sizes) {
                gauge.get_or_create(&label).set(size as i64);
            }
        }
    }

    /// How new pods are protected (see [`AgentStatus::new_pods`]).
    pub fn set_new_pods(&self, mode: &str, pod_cidrs: &[String]) {
        let mut i = self.lock();
        i.status.new_pods = mode.to_string();
        i.status.pod_cidrs = pod_cidrs.to_vec();
    }

    /// Records placement latencies (a sync that included new, changed or removed local pod
    /// addresses).
    pub fn placed(&self, latencies: &[Duration]) {
        if latencies.is_empty() {
            return;
        }
        let mut i = self.lock();
        for l in latencies {
            self.metrics.placement.observe(l.as_secs_f64());
            i.placement.observe(l.as_secs_f64());
        }
        i.status.placement = Some(i.placement.summary());
    }

    /// Records the time from the oldest watch event a sync included reaching the agent to
    /// that sync's rules being in the kernel.
    pub fn sync_latency(&self, latency: Duration) {
        let mut i = self.lock();
        self.metrics.sync_latency.observe(latency.as_secs_f64());
        i.sync_latency.observe(latency.as_secs_f64());
        i.last_sync_latency = Some(latency);
        i.status.sync_latency = Some(i.sync_latency.summary());
    }

    /// The latency of the last sync that included new events.
    pub fn last_sync_latency(&self) -> Option<Duration> {
        self.lock().last_sync_latency
    }

    /// Records established flows whose conntrack entries a sync deleted.
    pub fn terminated(&self, enabled: bool, flows: u64) {
        let mut i = self.lock();
        i.status.terminate_established = enabled;
        i.status.terminated_flows += flows;
        self.metrics.terminated_flows.inc_by(flows);
    }

    pub fn sync_failed(&self, kind: SyncKind, took: Duration, error: &str) {
        let mut i = self.lock();
        self.metrics.sync_errors.inc();
        i.status.sync_errors += 1;
        i.status.last_error = Some(SyncRecord {
            unix_ms: unix_ms(),
            kind: kind.as_str().into(),
            duration_ms: took.as_secs_f64() * 1000.0,
            error: Some(error.to_string()),
        });
    }

    pub fn drop_context(&self) -> Arc<DropContext> {
        self.lock().context.clone()
    }

    pub fn record_drop(&self, d: DropRecord) {
        let mut i = self.lock();
        i.status.drops += 1;
        if COUNTED_DROP_DIRECTIONS.contains(&d.direction.as_str()) {
            self.metrics
                .drops
                .get_or_create(&[("direction", LabelValue::of(&d.direction))])
                .inc();
        }
        if i.drops.len() >= DROP_HISTORY {
            i.drops.pop_front();
        }
        i.drops.push_back(d);
    }

    pub fn status(&self) -> AgentStatus {
        self.lock().status.clone()
    }

    pub fn drops(&self) -> DropsDoc {
        let i = self.lock();
        DropsDoc {
            node: i.status.node.clone(),
            total: i.status.drops,
            drops: i.drops.iter().cloned().collect(),
        }
    }

    /// The OpenMetrics text format (served as `application/openmetrics-text`).
    pub fn metrics(&self) -> String {
        self.metrics.encode()
    }
}

fn family_name(family: Family) -> &'static str {
    match family {
        Family::V4 => "ipv4",
        Family::V6 => "ipv6",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_of_probers_name_the_pods_they_stand_for() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: netpol-probe-x1-0, namespace: payments, labels: {app: api, netpol.kubectl.io/run: x1}}\nspec: {containers: [{name: p}]}\nstatus: {podIP: 10.0.0.7}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: db, namespace: payments, labels: {app: db}}\nspec: {containers: [{name: d}]}\nstatus: {podIP: 10.0.0.8}\n";
        let (snap, _) = netpol::model::load_str("t.yaml", text, &Default::default()).unwrap();
        let cx = DropContext::new(&snap, &NodeRules::default());
        assert_eq!(
            cx.pods_by_ip[&"10.0.0.7".parse::<IpAddr>().unwrap()],
            "payments/netpol-probe-x1-0 (probe prober for pods app=api)"
        );
        assert_eq!(
            cx.pods_by_ip[&"10.0.0.8".parse::<IpAddr>().unwrap()],
            "payments/db"
        );
    }

    #[test]
    fn metrics_are_prometheus_text() {
        let t = Telemetry::new("n1", "nft", &[Family::V4, Family::V6]);
        t.synced(
            &SyncOutcome {
                kind: SyncKind::Full,
                took: Duration::from_millis(30),
                events: 3,
                isolated_pods: 0,
                local_pods: 0,
            },
            &NodeRules::default(),
            DropContext::default(),
        );
        t.record_drop(DropRecord {
            unix_ms: 1,
            direction: "ingress".into(),
            pod: Some("a/b".into()),
            peer: "10.0.0.1".into(),
            src: "10.0.0.1".into(),
            dst: "10.0.0.2".into(),
            protocol: "TCP".into(),
            port: Some(80),
            policies: vec!["a/deny".into()],
            chain: "NETPOL-I-x".into(),
        });
        let m = t.metrics();
        for line in [
            "# TYPE netpol_enforcer_syncs counter",
            "netpol_enforcer_syncs_total{kind=\"full\"} 1",
            "netpol_enforcer_syncs_total{kind=\"repair\"} 0",
            "netpol_enforcer_drops_total{direction=\"egress\"} 0",
            "netpol_enforcer_sync_errors_total 0",
            "netpol_enforcer_repairs_total 0",
            "netpol_enforcer_isolated_pods 0",
            &format!(
                "netpol_enforcer_build_info{{version=\"{}\"}} 1",
                env!("CARGO_PKG_VERSION")
            ),
            "netpol_enforcer_sync_duration_seconds_bucket{le=\"0.05\"} 1",
            "netpol_enforcer_sync_duration_seconds_bucket{le=\"0.025\"} 0",
            "netpol_enforcer_sync_duration_seconds_count 1",
            "netpol_enforcer_drops_total{direction=\"ingress\"} 1",
            "netpol_enforcer_rules{family=\"ipv6\"} 0",
            "netpol_enforcer_ready 1",
        ] {
            assert!(m.lines().any(|l| l == line), "{line} missing in\n{m}");
        }
        for l in m.lines().filter(|l| !l.starts_with('#')) {
            let (_, value) = l.rsplit_once(' ').unwrap();
            assert!(value.parse::<f64>().is_ok(), "{l}");
        }
        let last_sync: f64 = m
            .lines()
            .find_map(|l| l.strip_prefix("netpol_enforcer_last_sync_timestamp_seconds "))
            .unwrap()
            .parse()
            .unwrap();
        assert!((last_sync - unix_ms() as f64 / 1000.0).abs() < 60.0, "{m}");
        assert!(m.ends_with("# EOF\n"), "{m}");
        assert_eq!(t.progress(), (0, 3, 1));
        assert_eq!(t.drops().total, 1);
    }

    #[test]
    fn label_values_are_escaped() {
        let m = Metrics::new("1.0 \"quoted\" back\\slash\nnew line").encode();
        let line =
            "netpol_enforcer_build_info{version=\"1.0 \\\"quoted\\\" back\\\\slash\\nnew line\"} 1";
        assert!(m.lines().any(|l| l == line), "{line} missing in\n{m}");
    }

    #[test]
    fn sync_latency_is_a_histogram_and_a_status_figure() {
        let t = Telemetry::new("n1", "nft", &[Family::V4]);
        assert_eq!(t.status().sync_latency, None);
        t.sync_latency(Duration::from_millis(120));
        t.sync_latency(Duration::from_millis(40));
        let m = t.metrics();
        for line in [
            "netpol_enforcer_sync_latency_seconds_bucket{le=\"0.05\"} 1",
            "netpol_enforcer_sync_latency_seconds_bucket{le=\"0.1\"} 1",
            "netpol_enforcer_sync_latency_seconds_bucket{le=\"0.25\"} 2",
            "netpol_enforcer_sync_latency_seconds_bucket{le=\"+Inf\"} 2",
            "netpol_enforcer_sync_latency_seconds_count 2",
            "netpol_enforcer_terminated_flows_total 0",
        ] {
            assert!(m.lines().any(|l| l == line), "{line} missing in\n{m}");
        }
        let s = t.status().sync_latency.unwrap();
        assert_eq!(s.count, 2);
        assert_eq!(s.max_ms, 120.0);
        assert_eq!(t.last_sync_latency(), Some(Duration::from_millis(40)));
        t.terminated(true, 3);
        assert!(t.status().terminate_established);
        assert_eq!(t.status().terminated_flows, 3);
    }
}
