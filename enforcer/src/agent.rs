//! The reconcile loop: changes in, debounced, one compile for this node (or, when only pods
//! changed, those pods checked again against the sets), and the least work that makes the node
//! match (nothing, a set refill, or a full atomic apply); a periodic check
//! that puts our rules back when someone removed them; everything removed on shutdown.
//!
//! Its input is a channel of [`Change`]s: the kube watches in production (`source`), a test or
//! a tool otherwise, so the whole loop runs without a cluster.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use netpol::enforce::apply::ApplyError;
use netpol::enforce::compile::update_for_pods;
use netpol::enforce::{compile_with, Applier, CompileOptions, NodeRules, Runner};
use netpol::engine::Engine;
use netpol::model::{Direction, Pod};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::bridge::BridgeCheck;
use crate::cache::{Cache, Change};
use crate::cni::PlaceRequest;
use crate::telemetry::{DropContext, SyncKind, SyncOutcome, Telemetry};

#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// The node whose pods this agent enforces (NODE_NAME from the downward API).
    pub node: String,
    /// Quiet time after the last change before a reconcile.
    pub debounce: Duration,
    /// The longest a change waits while changes keep coming.
    pub max_delay: Duration,
    /// The longest a local pod's new (or removed) address waits, however many other changes
    /// keep coming: a burst of pod starts must not delay any one pod's placement.
    pub placement_delay: Duration,
    /// How often the node is checked for rules someone else removed.
    pub repair_interval: Duration,
    pub compile: CompileOptions,
    /// Checks (and sets) bridge-nf-call-iptables on each repair round; None leaves it alone.
    pub bridge: Option<BridgeCheck>,
    /// After a sync that changed the rules, delete the conntrack entries of open connections
    /// the policies now deny (see [`crate::conntrack`]).
    pub terminate_established: bool,
}

impl AgentConfig {
    pub fn new(node: &str) -> AgentConfig {
        AgentConfig {
            node: node.to_string(),
            debounce: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            placement_delay: Duration::from_millis(10),
            repair_interval: Duration::from_secs(30),
            compile: CompileOptions::default(),
            bridge: None,
            terminate_established: false,
        }
    }
}

/// The longest a CNI ADD is kept waiting for its pod to appear in the watch (the plugin itself
/// gives up sooner, letting the pod start held).
const CNI_WAIT_LIMIT: Duration = Duration::from_secs(30);

/// What a reconcile does on the node.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Plan {
    Unchanged,
    Sets(Vec<String>),
    Full,
}

pub struct Agent<R: Runner + 'static> {
    config: AgentConfig,
    applier: Arc<Applier<R>>,
    telemetry: Telemetry,
    cache: Cache,
    /// What the node holds (None: unknown, so the next reconcile is a full apply).
    applied: Option<Arc<NodeRules>>,
    failures: u32,
    /// Local pods whose addresses changed and are not on the node yet, with when the agent
    /// saw the change.
    unplaced: Vec<(String, Instant)>,
    /// CNI ADDs from the chained plugin (None: not chained).
    placements: Option<mpsc::Receiver<PlaceRequest>>,
    /// ADDs waiting for their pod to be placed, with when they came.
    waiting: Vec<(PlaceRequest, Instant)>,
    bridge_warnings: Vec<String>,
    static_warnings: Vec<String>,
    /// When the oldest change not yet in the kernel reached the agent.
    oldest_unsynced: Option<Instant>,
}

impl<R: Runner + 'static> Agent<R> {
    pub fn new(config: AgentConfig, applier: Applier<R>, telemetry: Telemetry) -> Self {
        Agent {
            config,
            applier: Arc::new(applier),
            telemetry,
            cache: Cache::default(),
            applied: None,
            failures: 0,
            unplaced: Vec::new(),
            placements: None,
            waiting: Vec::new(),
            bridge_warnings: Vec::new(),
            static_warnings: Vec::new(),
            oldest_unsynced: None,
        }
    }

    /// Warnings that hold for the agent's whole life (no IPv6, no drop logging, ...).
    pub fn with_static_warnings(mut self, warnings: Vec<String>) -> Self {
        self.static_warnings = warnings;
        self.update_warnings();
        self
    }

    /// Answers the chained CNI plugin's ADDs (see [`crate::cni`]): each is answered once its
    /// pod is placed.
    pub fn with_cni(mut self, placements: mpsc::Receiver<PlaceRequest>) -> Self {
        self.placements = Some(placements);
        self
    }

    pub fn telemetry(&self) -> Telemetry {
        self.telemetry.clone()
    }

    /// Runs until `shutdown` completes, then removes every chain and set of ours. When the
    /// change channel closes the agent keeps enforcing what it knows until shutdown.
    pub async fn run(
        mut self,
        mut changes: mpsc::Receiver<Change>,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), ApplyError> {
        let mut shutdown = std::pin::pin!(shutdown);
        // (first change not yet applied, last change)
        let mut pending: Option<(Instant, Instant)> = None;
        let mut retry_at: Option<Instant> = None;
        let mut repair = tokio::time::interval(self.config.repair_interval);
        repair.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        repair.tick().await;
        if self.config.terminate_established {
            self.telemetry.terminated(true, 0);
        }
        self.check_bridge();
        let mut open = true;
        let mut placements = self.placements.take();
        loop {
            self.telemetry.beat();
            let due = self.next_reconcile(pending, retry_at);
            let timer = async move {
                match due {
                    Some(t) => tokio::time::sleep_until(t).await,
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                biased;
                _ = &mut shutdown => break,
                change = changes.recv(), if open => match change {
                    Some(c) => {
                        self.take_change(&c);
                        let now = Instant::now();
                        self.oldest_unsynced.get_or_insert(now);
                        pending = Some((pending.map_or(now, |p| p.0), now));
                    }
                    None => {
                        tracing::warn!("the watches stopped; enforcing the last known state");
                        open = false;
                    }
                },
                req = async {
                    match placements.as_mut() {
                        Some(rx) => rx.recv().await,
                        None => std::future::pending().await,
                    }
                } => match req {
                    Some(req) => self.place_request(req),
                    None => placements = None,
                },
                _ = timer => {
                    pending = None;
                    retry_at = None;
                    if !self.reconcile(None).await {
                        let backoff = Duration::from_secs(1 << self.failures.min(6));
                        retry_at = Some(Instant::now() + backoff);
                    }
                }
                _ = repair.tick() => {
                    self.answer_waiting();
                    self.check_bridge();
                    self.repair().await;
                }
            }
        }
        tracing::info!("shutting down: removing every chain, rule and set of ours");
        let applier = self.applier.clone();
        match tokio::task::spawn_blocking(move || applier.remove_all()).await {
            Ok(r) => r,
            Err(e) => Err(ApplyError {
                program: "remove_all".into(),
                args: String::new(),
                message: e.to_string(),
            }),
        }
    }

    /// When the next reconcile is due (None: nothing to do, or the watches have not synced):
    /// the debounced changes (at most `max_delay` after the first), a pod waiting to be placed,
    /// or a retry after a failure, whichever comes first.
    fn next_reconcile(
        &self,
        pending: Option<(Instant, Instant)>,
        retry_at: Option<Instant>,
    ) -> Option<Instant> {
        if !self.cache.synced() {
            return None;
        }
        let debounced = pending
            .map(|(first, last)| (last + self.config.debounce).min(first + self.config.max_delay));
        let placement = self
            .unplaced
            .first()
            .map(|(_, seen)| *seen + self.config.placement_delay);
        [debounced, placement, retry_at].into_iter().flatten().min()
    }

    /// One watch event into the cache; a local pod whose addresses it changed waits to be
    /// placed.
    fn take_change(&mut self, c: &Change) {
        let key = c.pod_key();
        let node = self.config.node.as_str();
        let addresses = |cache: &Cache| {
            key.as_ref()
                .and_then(|k| cache.local_addresses(k, node))
                .unwrap_or_default()
        };
        let before = addresses(&self.cache);
        self.cache.apply(c);
        let after = addresses(&self.cache);
        if let (Some(k), true) = (key, before != after) {
            self.unplaced.push((k, Instant::now()));
        }
        self.answer_waiting();
        self.telemetry.event_seen();
    }

    /// A CNI ADD: the pod's addresses as its sandbox has them (the API may not have them yet).
    fn place_request(&mut self, req: PlaceRequest) {
        let node = self.config.node.as_str();
        let before = self
            .cache
            .local_addresses(&req.pod, node)
            .unwrap_or_default();
        self.cache.set_cni_addresses(&req.pod, req.ips.clone());
        let after = self
            .cache
            .local_addresses(&req.pod, node)
            .unwrap_or_default();
        if before != after {
            self.unplaced.push((req.pod.clone(), Instant::now()));
        }
        self.waiting.push((req, Instant::now()));
        self.answer_waiting();
    }

    /// Answers the ADDs whose pods the node's rules now place (nothing is pending and the pod
    /// runs here with those addresses); gives up on those whose pod never showed up.
    fn answer_waiting(&mut self) {
        if self.waiting.is_empty() {
            return;
        }
        let synced = self.applied.is_some() && self.unplaced.is_empty();
        let node = self.config.node.clone();
        for (req, since) in std::mem::take(&mut self.waiting) {
            let here = self.cache.local_addresses(&req.pod, &node);
            let placed = here
                .as_ref()
                .is_some_and(|ips| req.ips.iter().all(|ip| ips.contains(ip)));
            if synced && placed {
                let _ = req.reply.send(Ok(()));
            } else if since.elapsed() > CNI_WAIT_LIMIT {
                let why = match here {
                    None => format!("{} is not known on node {node}", req.pod),
                    Some(_) => format!("{} is not placed yet", req.pod),
                };
                let _ = req.reply.send(Err(why));
            } else {
                self.waiting.push((req, since));
            }
        }
    }

    fn check_bridge(&mut self) {
        if let Some(b) = &self.config.bridge {
            let report = b.ensure();
            for c in &report.changed {
                tracing::info!("{c}");
            }
            for w in &report.warnings {
                if !self.bridge_warnings.contains(w) {
                    tracing::warn!("{w}");
                }
            }
            self.bridge_warnings = report.warnings;
            self.update_warnings();
        }
    }

    fn update_warnings(&self) {
        let mut w = self.static_warnings.clone();
        w.extend(self.bridge_warnings.iter().cloned());
        w.extend(
            self.cache
                .unreadable()
                .into_iter()
                .map(|u| format!("cannot read {u}: it is not enforced")),
        );
        self.telemetry.set_warnings(w);
    }

    /// Puts our rules back when the node no longer has them (someone flushed FORWARD, deleted
    /// a chain or a set, or moved our hook down).
    async fn repair(&mut self) {
        let Some(applied) = self.applied.clone() else {
            return;
        };
        let applier = self.applier.clone();
        let drift = tokio::task::spawn_blocking(move || applier.drift(&applied)).await;
        match drift {
            Ok(Ok(d)) if d.is_empty() => {}
            Ok(Ok(d)) => {
                tracing::warn!("our rules were changed by someone else: {}", d.join("; "));
                self.applier.forget();
                self.applied = None;
                self.reconcile(Some(SyncKind::Repair)).await;
            }
            Ok(Err(e)) => tracing::warn!("cannot check the node's rules: {e}"),
            Err(e) => tracing::warn!("cannot check the node's rules: {e}"),
        }
    }

    /// One compile and the least work that makes the node match. False when it failed.
    async fn reconcile(&mut self, kind: Option<SyncKind>) -> bool {
        let start = Instant::now();
        let (events, _, _) = self.telemetry.progress();
        let oldest = self.oldest_unsynced.take();
        let snap = self.cache.snapshot();
        let snap_after = snap.clone();
        let node = self.config.node.clone();
        let opts = self.config.compile.clone();
        // Only pods changed since the rules on the node were compiled: check those pods again
        // against the sets (milliseconds) rather than compiling the cluster.
        let pod_changes = self.cache.take_pod_changes();
        let prev = self
            .applied
            .clone()
            .filter(|_| kind != Some(SyncKind::Repair));
        let compiled = tokio::task::spawn_blocking(move || {
            compile_for_node(prev.as_deref(), &snap, &node, &opts, pod_changes.as_deref())
        })
        .await;
        let (rules, ctx, isolated, local) = match compiled {
            Ok(c) => c,
            Err(e) => {
                self.oldest_unsynced = oldest;
                self.failed(kind.unwrap_or(SyncKind::Full), start, &e.to_string());
                return false;
            }
        };
        let rules = Arc::new(rules);
        let plan = self.plan_for(&rules, kind);
        let kind = kind.unwrap_or(match plan {
            Plan::Unchanged => SyncKind::Unchanged,
            Plan::Sets(_) => SyncKind::Sets,
            Plan::Full => SyncKind::Full,
        });
        let applier = self.applier.clone();
        let to_apply = rules.clone();
        let plan_copy = plan.clone();
        let result = tokio::task::spawn_blocking(move || match plan_copy {
            Plan::Unchanged => Ok(()),
            Plan::Sets(names) => {
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                applier.refill_sets(&to_apply, &names)
            }
            Plan::Full => applier.apply(&to_apply).map(|_| ()),
        })
        .await;
        // The rules are in the kernel now (cutting open connections below comes after).
        let in_kernel = Instant::now();
        if self.config.terminate_established
            && plan != Plan::Unchanged
            && matches!(result, Ok(Ok(())))
        {
            self.cut_denied_flows(snap_after).await;
        }
        let result = match result {
            Ok(r) => r.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match result {
            Ok(()) => {
                let outcome = SyncOutcome {
                    kind,
                    took: in_kernel - start,
                    events,
                    isolated_pods: isolated,
                    local_pods: local,
                };
                self.synced(outcome, rules, ctx, oldest.map(|o| in_kernel - o));
                true
            }
            Err(e) => {
                self.oldest_unsynced = oldest;
                self.failed(kind, start, &e);
                false
            }
        }
    }

    /// The node has the new rules: say so (log, metrics, status), note what they cannot
    /// express, and answer the pods waiting to be placed. `latency`: from the oldest change
    /// they include to now.
    fn synced(
        &mut self,
        outcome: SyncOutcome,
        rules: Arc<NodeRules>,
        ctx: DropContext,
        latency: Option<Duration>,
    ) {
        if outcome.kind != SyncKind::Unchanged {
            tracing::info!(
                kind = outcome.kind.as_str(),
                ms = outcome.took.as_secs_f64() * 1000.0,
                rules = rules.rule_count(),
                sets = rules.set_count(),
                members = rules.member_count(),
                isolated_pods = outcome.isolated_pods,
                "node programmed"
            );
        }
        if !rules.pods_without_ip.is_empty() {
            tracing::debug!(
                "isolated pods without an address yet: {}",
                rules.pods_without_ip.join(", ")
            );
        }
        self.telemetry.synced(&outcome, &rules, ctx);
        // What the rules cannot express (a cluster policy's domainNames), said once each time
        // it changes.
        if self.applied.as_ref().is_none_or(|a| a.notes != rules.notes) {
            for note in &rules.notes {
                tracing::warn!("not enforced: {note}");
            }
        }
        self.applied = Some(rules);
        self.failures = 0;
        self.record_placed();
        if let Some(latency) = latency {
            self.telemetry.sync_latency(latency);
        }
        self.answer_waiting();
        self.update_warnings();
    }

    /// What the kernel needs to get from the applied rules to `rules`: nothing, some sets'
    /// members, or everything (always after a repair).
    fn plan_for(&self, rules: &NodeRules, kind: Option<SyncKind>) -> Plan {
        match &self.applied {
            _ if kind == Some(SyncKind::Repair) => Plan::Full,
            None => Plan::Full,
            Some(prev) if prev.same_state(rules) => Plan::Unchanged,
            Some(prev) if prev.same_rules(rules) => Plan::Sets(rules.changed_sets(prev)),
            Some(_) => Plan::Full,
        }
    }

    /// Open connections the new rules deny: cut them (conntrack forgets them, so their next
    /// packet meets the rules as NEW).
    async fn cut_denied_flows(&self, snap: Arc<netpol::model::Snapshot>) {
        let applier = self.applier.clone();
        let node = self.config.node.clone();
        let cut = tokio::task::spawn_blocking(move || {
            crate::conntrack::terminate(&applier.runner, &snap, &node)
        })
        .await;
        match cut {
            Ok(Ok(n)) => {
                if n > 0 {
                    tracing::info!(flows = n, "cut open connections the update denies");
                }
                self.telemetry.terminated(true, n);
            }
            Ok(Err(e)) => tracing::warn!("--terminate-established: {e}"),
            Err(e) => tracing::warn!("--terminate-established: {e}"),
        }
    }

    /// The pods waiting to be placed are in the rules now: how long each waited.
    fn record_placed(&mut self) {
        let now = Instant::now();
        let placed: Vec<Duration> = std::mem::take(&mut self.unplaced)
            .into_iter()
            .map(|(pod, seen)| {
                let took = now - seen;
                tracing::debug!(pod, ms = took.as_secs_f64() * 1000.0, "pod placed");
                took
            })
            .collect();
        self.telemetry.placed(&placed);
    }

    fn failed(&mut self, kind: SyncKind, start: Instant, error: &str) {
        tracing::error!(kind = kind.as_str(), "applying the rules failed: {error}");
        self.telemetry.sync_failed(kind, start.elapsed(), error);
        self.applier.forget();
        self.applied = None;
        self.failures += 1;
    }
}

/// The node's rules from the snapshot: only the changed pods checked against the previous rules
/// when that is enough (milliseconds), else a full compile; with the drop context and the
/// counts of isolated and local pods.
fn compile_for_node(
    prev: Option<&NodeRules>,
    snap: &netpol::model::Snapshot,
    node: &str,
    opts: &CompileOptions,
    pod_changes: Option<&[Pod]>,
) -> (NodeRules, DropContext, usize, usize) {
    let incremental = match (prev, pod_changes) {
        (Some(prev), Some(changes)) => {
            let changes: Vec<&Pod> = changes.iter().collect();
            update_for_pods(prev, snap, Some(node), &changes)
        }
        _ => None,
    };
    // Classes are built only when compiling: the counts below ask pod by pod.
    let engine = Engine::new(snap);
    let rules = incremental.unwrap_or_else(|| compile_with(&engine, Some(node), opts));
    let (mut isolated, mut local) = (0, 0);
    for (i, pod) in snap.endpoint_pods() {
        if pod.node.as_deref() == Some(node) {
            local += 1;
            if !engine.cluster_selecting_pod(i).is_empty()
                || Direction::BOTH
                    .iter()
                    .any(|d| !engine.isolating_pod(i, *d).is_empty())
            {
                isolated += 1;
            }
        }
    }
    let ctx = DropContext::new(snap, &rules);
    (rules, ctx, isolated, local)
}
