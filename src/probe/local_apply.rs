//! `probe --local --apply FILE` / `--delete KIND/NAME`: the time to enforce of the enforcer
//! itself, measured with real packets in the `probe --local` sandbox.
//!
//! The sandbox's rules are not applied by this process: the enforcer agent's own loop runs in
//! the node namespace (`netpol-enforcer feed`, the agent fed with the objects instead of the
//! watches; see `enforcer/src/feed.rs`), so a change goes through the same cache, debounce,
//! compile, least-work plan and `ipset`/`iptables-restore` as on a node. It is a separate
//! process because the kubectl-netpol binary cannot link the enforcer crate (that crate depends
//! on this library, and Cargo forbids the cycle): the line protocol of `feed` is the seam.
//!
//! The run: the lab and the agent with the policies of `-f`; streaming probers
//! (`prober stream`) in every source of a flipped pair, firing NEW connections every interval
//! and keeping one established flow per pair the change denies; the change is fed to the
//! agent (its acceptance is t0); the pairs are watched until each matched its new expectation
//! three times in a row or the settle time ends; the flows are checked; every pair is probed
//! once more (the `probe` document of the new state); the previous policies are fed back and
//! checked (unless --keep); the agent removes its rules and the lab is deleted. Ctrl-C kills
//! the agent and the probers and deletes the lab, as every local probe does.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use netpol_prober::plan::{StreamPlan, StreamResult};
use serde_json::{json, Value};

use super::apply::{
    after_snapshot, flips, pair_timings, stream_plans, ApplyReport, ChangeDoc, ChangeSet, Flip,
    Observed, PolicyRef, RawPolicy, TimingDoc,
};
use super::compare::observed_of;
use super::local::{
    lab_specs, preflight, probe_every_pair, progress, self_exe, track_child, untrack_child,
    LocalError, LocalLab, LocalOptions,
};
use crate::engine::matrix::Matrix;
use crate::engine::Engine;
use crate::model::{Pod, Probe, Snapshot};

/// The node every sandbox pod runs on, as the agent sees it.
pub const LAB_NODE: &str = "lab-node";

#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub local: LocalOptions,
    /// Between two rounds of new connections.
    pub interval: Duration,
    /// The longest the pairs are watched after the change.
    pub settle: Duration,
    /// Leave the change in place (in the sandbox: no restore round).
    pub keep: bool,
    /// Run the agent with --terminate-established.
    pub terminate_established: bool,
    /// The netpol-enforcer binary (None: NETPOL_ENFORCER, next to this program, or PATH).
    pub enforcer: Option<PathBuf>,
    /// Appended to the `explain traffic` command named on a disagreement (` -f DIR`).
    pub explain_args: String,
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

fn env_err(m: impl Into<String>) -> LocalError {
    LocalError::Environment(m.into())
}

/// Where the netpol-enforcer binary is: `explicit`, `$NETPOL_ENFORCER`, next to this program,
/// or on PATH.
pub fn find_enforcer(explicit: Option<&Path>) -> Result<PathBuf, LocalError> {
    let mut tried = Vec::new();
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = explicit {
        candidates.push(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("NETPOL_ENFORCER") {
        candidates.push(PathBuf::from(p));
    }
    if let Ok(me) = std::env::current_exe() {
        if let Some(dir) = me.parent() {
            candidates.push(dir.join("netpol-enforcer"));
            // Integration tests run from target/<profile>/deps.
            if let Some(up) = dir.parent() {
                candidates.push(up.join("netpol-enforcer"));
            }
        }
    }
    if let Some(paths) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&paths).map(|p| p.join("netpol-enforcer")));
    }
    for c in candidates {
        if c.is_file() {
            return Ok(c);
        }
        tried.push(c.display().to_string());
    }
    Err(env_err(format!(
        "probe --local --apply runs the enforcer agent (netpol-enforcer) in the sandbox, and it is not installed: put it next to kubectl-netpol or on PATH, or set NETPOL_ENFORCER (build it with `cargo build -p netpol-enforcer`); tried {}",
        tried.first().cloned().unwrap_or_default()
    )))
}

/// The Pod object the agent is fed for a sandbox pod: on the lab node, running, with the
/// sandbox address.
fn pod_object(pod: &Pod) -> Value {
    let ports: Vec<Value> = pod
        .ports
        .iter()
        .map(|p| {
            let mut v = json!({"containerPort": p.port, "protocol": p.protocol.as_str()});
            if let Some(n) = &p.name {
                v["name"] = json!(n);
            }
            v
        })
        .collect();
    let ips: Vec<Value> = pod
        .ips
        .iter()
        .map(|ip| json!({"ip": ip.to_string()}))
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": pod.name, "namespace": pod.namespace, "labels": pod.labels},
        "spec": {"nodeName": LAB_NODE, "containers": [{"name": "c", "image": "prober", "ports": ports}]},
        "status": {"phase": "Running", "podIP": pod.ips.first().map(|i| i.to_string()), "podIPs": ips}
    })
}

/// The agent (`netpol-enforcer feed`) and what it has said.
struct Enforcer {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<Value>,
    stderr: Arc<Mutex<Vec<String>>>,
    accepted: u64,
    synced: u64,
    latency_ms: Option<f64>,
}

impl Enforcer {
    fn start(bin: &Path, netns: &str, terminate: bool) -> Result<Enforcer, LocalError> {
        let mut cmd = Command::new(bin);
        cmd.args([
            "feed",
            "--node",
            LAB_NODE,
            "--netns",
            netns,
            "--iptables",
            "system",
        ]);
        if terminate {
            cmd.arg("--terminate-established");
        }
        let mut child = cmd
            .env("NETPOL_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| env_err(format!("cannot start {}: {e}", bin.display())))?;
        track_child(child.id());
        let (tx, rx) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    if let Ok(v) = serde_json::from_str::<Value>(&line) {
                        if tx.send(v).is_err() {
                            return;
                        }
                    }
                }
            });
        }
        let stderr = Arc::new(Mutex::new(Vec::new()));
        if let Some(err) = child.stderr.take() {
            let keep = stderr.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(err).lines().map_while(Result::ok) {
                    if let Ok(mut k) = keep.lock() {
                        k.push(line);
                        let n = k.len();
                        if n > 20 {
                            k.drain(..n - 20);
                        }
                    }
                }
            });
        }
        Ok(Enforcer {
            stdin: child.stdin.take(),
            child,
            lines: rx,
            stderr,
            accepted: 0,
            synced: 0,
            latency_ms: None,
        })
    }

    fn died(&self, what: &str) -> LocalError {
        let err = self.stderr.lock().map(|e| e.join("\n")).unwrap_or_default();
        env_err(format!("the enforcer agent {what}: {}", err.trim()))
    }

    fn send(&mut self, line: &Value) -> Result<(), LocalError> {
        let text = format!("{line}\n");
        let ok = self
            .stdin
            .as_mut()
            .is_some_and(|s| s.write_all(text.as_bytes()).and_then(|_| s.flush()).is_ok());
        if ok {
            Ok(())
        } else {
            Err(self.died("stopped taking changes"))
        }
    }

    /// Reads what the agent said until `until`, or until `done` holds.
    fn pump(&mut self, until: Instant, done: impl Fn(&Enforcer) -> bool) -> bool {
        loop {
            if done(self) {
                return true;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            match self.lines.recv_timeout(left.min(Duration::from_millis(20))) {
                Ok(v) => {
                    if let Some(n) = v.get("accepted").and_then(Value::as_u64) {
                        self.accepted = self.accepted.max(n);
                    }
                    if let Some(n) = v.get("synced_events").and_then(Value::as_u64) {
                        self.synced = self.synced.max(n);
                        self.latency_ms = v.get("sync_latency_ms").and_then(Value::as_f64);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return done(self),
            }
        }
    }

    /// Sends the lines and waits until the agent has them in the kernel; returns its own
    /// latency for them.
    fn apply(&mut self, lines: &[Value], timeout: Duration) -> Result<Option<f64>, LocalError> {
        let before = self.accepted;
        for l in lines {
            self.send(l)?;
        }
        let until = Instant::now() + timeout;
        let want = lines.len() as u64;
        // Every line is acknowledged with the running count of events it queued.
        let mut acks = 0;
        let mut last = before;
        while acks < want {
            if !self.pump(until, |e| e.accepted > last) {
                return Err(self.died("did not take the change"));
            }
            last = self.accepted;
            acks += 1;
        }
        let target = self.accepted;
        if !self.pump(until, |e| e.synced >= target) {
            return Err(self.died(&format!(
                "did not program the change within {} s",
                timeout.as_secs()
            )));
        }
        Ok(self.latency_ms)
    }

    /// Closes stdin: the agent removes every chain and set and exits.
    fn stop(mut self) -> Result<(), LocalError> {
        self.stdin = None;
        let deadline = Instant::now() + Duration::from_secs(15);
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(s)) => break Some(s),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break None;
                }
            }
        };
        untrack_child(self.child.id());
        match status {
            Some(s) if s.success() => Ok(()),
            _ => Err(self.died("did not remove its rules")),
        }
    }
}

impl Drop for Enforcer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stdin = None;
            std::thread::sleep(Duration::from_millis(50));
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        untrack_child(self.child.id());
    }
}

/// Streaming probers, one per source pod; results arrive on one channel.
struct Streams {
    children: Vec<(Child, Option<ChildStdin>)>,
    results: Receiver<StreamResult>,
}

impl Streams {
    fn start(
        lab: &LocalLab,
        exe: &str,
        plans: Vec<(String, StreamPlan)>,
    ) -> Result<Streams, LocalError> {
        let (tx, rx) = mpsc::channel();
        let mut children = Vec::new();
        for (key, plan) in plans {
            let netns = lab
                .pod_netns(&key)
                .ok_or_else(|| env_err(format!("{key} is not a pod of the sandbox")))?;
            let mut child = Command::new("ip")
                .args(["netns", "exec", netns, exe, "prober", "stream"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| env_err(format!("cannot start a streaming prober in {key}: {e}")))?;
            track_child(child.id());
            let mut stdin = child.stdin.take();
            let line = serde_json::to_string(&plan).map_err(|e| env_err(e.to_string()))?;
            if let Some(s) = stdin.as_mut() {
                s.write_all(format!("{line}\n").as_bytes())
                    .and_then(|_| s.flush())
                    .map_err(|e| env_err(format!("cannot send the plan to {key}: {e}")))?;
            }
            if let Some(out) = child.stdout.take() {
                let tx = tx.clone();
                std::thread::spawn(move || {
                    for line in BufReader::new(out).lines().map_while(Result::ok) {
                        if let Ok(r) = serde_json::from_str::<StreamResult>(&line) {
                            if tx.send(r).is_err() {
                                return;
                            }
                        }
                    }
                });
            }
            children.push((child, stdin));
        }
        Ok(Streams {
            children,
            results: rx,
        })
    }
}

impl Drop for Streams {
    fn drop(&mut self) {
        for (child, stdin) in &mut self.children {
            *stdin = None;
            let _ = child.kill();
            let _ = child.wait();
            untrack_child(child.id());
        }
    }
}

/// Reads what the streaming probers said for up to `wait`.
fn drain(seen: &mut Observed, rx: &Receiver<StreamResult>, wait: Duration) {
    if let Ok(r) = rx.recv_timeout(wait) {
        seen.take(r);
        while let Ok(r) = rx.try_recv() {
            seen.take(r);
        }
    }
}

/// The lines that put `change` into the agent, and those that put the previous state back.
fn change_lines(change: &ChangeSet, previous: &[RawPolicy]) -> (Vec<Value>, Vec<Value>) {
    let find = |id: &PolicyRef| previous.iter().find(|p| &p.id == id);
    let mut forward = Vec::new();
    let mut back = Vec::new();
    for id in &change.deleted {
        if let Some(p) = find(id) {
            forward.push(json!({"delete": p.value}));
            back.push(json!({"apply": p.value}));
        }
    }
    for raw in &change.applied {
        forward.push(json!({"apply": raw.value}));
        match find(&raw.id) {
            Some(p) => back.push(json!({"apply": p.value})),
            None => back.push(json!({"delete": raw.value})),
        }
    }
    (forward, back)
}

/// Runs the whole measurement. `before` must carry the sandbox addresses; `previous` are the
/// NetworkPolicies and cluster-scoped policies of `-f` as written (fed to the agent first, and
/// put back at the end).
pub fn run_local_apply(
    before: &Snapshot,
    previous: &[RawPolicy],
    change: &ChangeSet,
    pods: &[usize],
    probes: &[Probe],
    opts: &ApplyOptions,
) -> Result<ApplyReport, LocalError> {
    let (exe, enforcer_bin) = apply_preflight(opts)?;
    let after = after_snapshot(before, change).map_err(LocalError::Input)?;
    let (flipped, unflipped) = flips(before, &after, pods, probes, change);
    let engine_before = Engine::new(before);
    let matrix = Matrix::compute(&engine_before, pods, probes);
    let lab_pods = matrix.pods.clone();
    let specs = lab_specs(before, &lab_pods, probes, None);
    let lab = LocalLab::build(&specs, &exe, &opts.local)?;

    // The agent, with the state of -f.
    let mut enforcer =
        Enforcer::start(&enforcer_bin, lab.node_netns(), opts.terminate_established)?;
    enforcer.apply(
        &[init_line(before, &lab_pods, previous)],
        Duration::from_secs(60),
    )?;
    let (streams, mut seen) = start_streams(&lab, &exe, before, &flipped, opts)?;

    // The change; its acceptance by the agent is t0.
    let (forward, back) = change_lines(change, previous);
    let t0 = now_ms();
    let sync_latency = enforcer.apply(&forward, Duration::from_secs(60))?;

    let final_horizon = watch_until_settled(&mut seen, &streams, &flipped, t0, opts);
    drop(streams);

    let (pairs, mut notes) = pair_timings(before, &flipped, &seen, t0, final_horizon);
    let timing = TimingDoc::new(
        t0,
        opts.interval.as_millis() as u64,
        opts.settle.as_secs_f64(),
        pairs,
        unflipped.len(),
        sync_latency,
    );

    // The new state, every pair: the `probe` document.
    let mut probe = probe_after(&lab, &after, pods, probes, opts)?;
    probe.verdict = format!("{}; after the change: {}", timing.verdict(), probe.verdict);

    // Put the previous policies back and check the flipped pairs are as before.
    let restored = if opts.keep {
        false
    } else {
        enforcer.apply(&back, Duration::from_secs(60))?;
        let bad = not_as_before(&lab, before, &flipped, &opts.local)?;
        if !bad.is_empty() {
            notes.push(format!(
                "after putting the previous policies back, these are not as before: {}",
                bad.join(", ")
            ));
        }
        bad.is_empty()
    };
    enforcer.stop()?;
    drop(lab);
    Ok(ApplyReport {
        probe,
        change: ChangeDoc {
            applied: change.applied.iter().map(RawPolicy::key).collect(),
            deleted: change.deleted.iter().map(PolicyRef::to_string).collect(),
        },
        timing,
        unflipped,
        restored,
        notes,
        new_pod: None,
    })
}

/// What `probe --local --apply` needs before it builds anything: root, this binary (the
/// probers), the enforcer binary, and conntrack for --terminate-established.
fn apply_preflight(opts: &ApplyOptions) -> Result<(String, PathBuf), LocalError> {
    preflight()?;
    super::local::install_interrupt_handler();
    let exe = self_exe()?;
    let enforcer_bin = find_enforcer(opts.enforcer.as_deref())?;
    if opts.terminate_established && !super::local::on_path("conntrack") {
        return Err(env_err(
            "--terminate-established needs conntrack on PATH (Debian/Ubuntu: apt-get install conntrack)",
        ));
    }
    Ok((exe, enforcer_bin))
}

/// The state after the change, every pair probed: the `probe` document.
fn probe_after(
    lab: &LocalLab,
    after: &Snapshot,
    pods: &[usize],
    probes: &[Probe],
    opts: &ApplyOptions,
) -> Result<crate::probe::ProbeReport, LocalError> {
    let engine_after = Engine::new(after);
    let matrix_after = Matrix::compute(&engine_after, pods, probes);
    let mut probe = probe_every_pair(lab, after, &engine_after, &matrix_after, None, &opts.local)?;
    super::compare::explain_disagreements(&mut probe, after, &opts.explain_args);
    Ok(probe)
}

/// The agent's first state: the namespaces, the lab's pods and the policies of `-f`.
fn init_line(before: &Snapshot, lab_pods: &[usize], previous: &[RawPolicy]) -> Value {
    let policies = |cluster: bool| -> Vec<Value> {
        previous
            .iter()
            .filter(|p| p.id.is_cluster() == cluster)
            .map(|p| p.value.clone())
            .collect()
    };
    json!({"init": {
        "namespaces": before.namespaces.values().map(|n| json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": n.name, "labels": n.labels}})).collect::<Vec<_>>(),
        "pods": lab_pods.iter().map(|&p| pod_object(&before.pods[p])).collect::<Vec<_>>(),
        "policies": policies(false),
        "clusterPolicies": policies(true),
    }})
}

/// Streaming probers in the sources of flipped pairs (a flow for each pair the change denies),
/// started, and a full round answered before the change: the 'before' observation.
fn start_streams(
    lab: &LocalLab,
    exe: &str,
    before: &Snapshot,
    flipped: &[Flip],
    opts: &ApplyOptions,
) -> Result<(Streams, Observed), LocalError> {
    let timeout = opts.local.timeout;
    let plans: Vec<(String, StreamPlan)> = stream_plans(
        before,
        flipped,
        opts.interval.as_millis() as u64,
        timeout.as_millis() as u64,
        opts.local.concurrency,
    )
    .into_iter()
    .map(|(from, plan)| (before.pods[from].key(), plan))
    .collect();
    let sources = plans.len();
    let streams = Streams::start(lab, exe, plans)?;
    let mut seen = Observed::default();
    let ready_by = Instant::now() + Duration::from_secs(30);
    while seen.started < sources && Instant::now() < ready_by {
        drain(&mut seen, &streams.results, Duration::from_millis(20));
    }
    if seen.started < sources {
        return Err(env_err("the streaming probers did not start within 30 s"));
    }
    let before_until = Instant::now() + timeout + opts.interval * 2;
    while Instant::now() < before_until {
        drain(&mut seen, &streams.results, Duration::from_millis(20));
    }
    Ok((streams, seen))
}

/// Watches the flipped pairs until each matched its new verdict or the settle time ended, then
/// a few more exchanges for the flows. Returns the horizon up to which samples count.
fn watch_until_settled(
    seen: &mut Observed,
    streams: &Streams,
    flipped: &[Flip],
    t0: f64,
    opts: &ApplyOptions,
) -> f64 {
    let timeout = opts.local.timeout;
    let pb = progress(&opts.local, flipped.len() as u64, "waiting for the change");
    let settle_end = t0 + opts.settle.as_secs_f64() * 1000.0;
    let slack = timeout.as_secs_f64() * 1000.0 + 150.0;
    loop {
        drain(seen, &streams.results, Duration::from_millis(20));
        let horizon = (now_ms() - slack).min(settle_end);
        let done = seen.converged(flipped, t0, horizon);
        pb.set_position(done as u64);
        if done == flipped.len() || horizon >= settle_end {
            break;
        }
    }
    pb.finish_and_clear();
    let final_horizon = (now_ms() - slack).min(settle_end);
    let flows_until = Instant::now() + timeout + opts.interval * 3;
    while Instant::now() < flows_until {
        drain(seen, &streams.results, Duration::from_millis(20));
    }
    final_horizon
}

/// The flipped pairs that, probed once more, are not as they were before the change.
fn not_as_before(
    lab: &LocalLab,
    before: &Snapshot,
    flipped: &[Flip],
    opts: &LocalOptions,
) -> Result<Vec<String>, LocalError> {
    let key = |p: usize| before.pods[p].key();
    let again = check_once(lab, before, flipped, opts)?;
    Ok(flipped
        .iter()
        .zip(&again)
        .filter(|(f, o)| **o != Some(f.before))
        .map(|(f, _)| format!("{} -> {} {}", key(f.from), key(f.to), f.probe))
        .collect())
}

/// One probe of every flipped pair (new connections), observed.
fn check_once(
    lab: &LocalLab,
    snap: &Snapshot,
    flipped: &[Flip],
    opts: &LocalOptions,
) -> Result<Vec<Option<bool>>, LocalError> {
    let from: Vec<String> = {
        let mut v: Vec<String> = flipped.iter().map(|f| snap.pods[f.from].key()).collect();
        v.sort();
        v.dedup();
        v
    };
    let to: Vec<String> = {
        let mut v: Vec<String> = flipped.iter().map(|f| snap.pods[f.to].key()).collect();
        v.sort();
        v.dedup();
        v
    };
    let mut probes: Vec<Probe> = flipped.iter().map(|f| f.probe).collect();
    probes.sort();
    probes.dedup();
    let results = lab.probe_pairs(&from, &to, &probes, opts)?;
    let by: HashMap<(String, String, Probe), Option<bool>> = results
        .into_iter()
        .map(|r| ((r.from, r.to, r.probe), observed_of(r.verdict)))
        .collect();
    Ok(flipped
        .iter()
        .map(|f| {
            by.get(&(snap.pods[f.from].key(), snap.pods[f.to].key(), f.probe))
                .copied()
                .flatten()
        })
        .collect())
}
