//! The checks of a run: the expected side judged on the probers as they really run, one exec
//! plan per source (every target in it, split when huge), and the assembly of the results.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use netpol_prober::plan::{Check, CheckKind, CheckResult, Plan, Verdict};

use super::{dns_target, DnsTarget, External, Group, MAX_PLAN_BYTES};
use crate::doc::matrix::{Connection, MatrixDoc};
use crate::engine::matrix::Matrix;
use crate::engine::{Endpoint, Engine, Traffic};
use crate::model::{Pod, Probe, Protocol, Snapshot};
use crate::probe::compare::{compare, observed_of, DnsRow, ProbeReport};
use crate::probe::connection_check;

/// The snapshot the expected side is judged on: the real pods that probers stand for are
/// replaced by the probers as they really run (their labels, declared ports and IPs), each named
/// after the first pod of its group. `probers[i]` is the running prober of `groups[i]`.
/// Returns the snapshot and the probers' indices in it, in group order.
pub fn mirror_snapshot(
    base: &Snapshot,
    groups: &[Group],
    probers: &[Pod],
) -> (Snapshot, Vec<usize>) {
    let replaced: BTreeSet<usize> = groups.iter().flat_map(|g| g.members.clone()).collect();
    let mut snap = base.clone();
    snap.pods = base
        .pods
        .iter()
        .enumerate()
        .filter(|(i, _)| !replaced.contains(i))
        .map(|(_, p)| p.clone())
        .collect();
    let names: Vec<String> = groups
        .iter()
        .map(|g| base.pods[g.members[0]].name.clone())
        .collect();
    for (p, name) in probers.iter().zip(&names) {
        let mut p = p.clone();
        p.name = name.clone();
        snap.pods.push(p);
    }
    snap.finish();
    let endpoints = groups
        .iter()
        .zip(&names)
        .filter_map(|(g, name)| {
            snap.pods
                .iter()
                .position(|p| p.namespace == g.namespace && &p.name == name)
        })
        .collect();
    (snap, endpoints)
}

/// How the checks are run.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    pub timeout: Duration,
    pub concurrency: usize,
    /// Re-runs of a check that ended in `error` (a prober still starting).
    pub retries: u32,
    pub externals: Vec<External>,
    /// Names each source resolves through the cluster DNS (empty: no DNS rows). The DNS pods
    /// are found in the snapshot the plan is built on ([`dns_target`]).
    pub dns_names: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Connection(usize),
    Dns(usize),
}

/// The exec of one source: the plans it runs (one, unless it is huge).
#[derive(Debug, Clone, PartialEq)]
pub struct SourceExec {
    /// Snapshot index of the source pod.
    pub pod: usize,
    pub plans: Vec<Plan>,
}

/// Everything a run needs after the probers are up: the expected document, the exec per source,
/// and which check fills which row.
#[derive(Debug, Clone)]
pub struct ProbePlan {
    /// The expected matrix; `--to` rows follow the pod-to-pod connections.
    pub doc: MatrixDoc,
    pub dns: Vec<DnsRow>,
    pub execs: Vec<SourceExec>,
    slots: HashMap<String, Slot>,
}

impl ProbePlan {
    /// Checks over every exec.
    pub fn check_count(&self) -> usize {
        self.execs
            .iter()
            .flat_map(|e| &e.plans)
            .map(|p| p.checks.len())
            .sum()
    }
}

/// DNS works for `from` when it may reach one of the DNS pods on UDP 53.
fn dns_allowed(engine: &Engine<'_>, from: usize, dns: &DnsTarget) -> bool {
    dns.pods.iter().any(|&d| {
        engine
            .verdict(&Traffic {
                from: Endpoint::Pod(from),
                to: Endpoint::Pod(d),
                probe: Probe::new(Protocol::Udp, 53),
            })
            .allowed
    })
}

/// Splits a plan so that each part's JSON stays under `max_bytes` (a single check always fits
/// in one part).
pub fn split_plan(plan: Plan, max_bytes: usize) -> Vec<Plan> {
    let size = |p: &Plan| serde_json::to_string(p).map(|s| s.len()).unwrap_or(0);
    if size(&plan) <= max_bytes || plan.checks.len() <= 1 {
        return vec![plan];
    }
    let empty = Plan {
        checks: Vec::new(),
        ..plan.clone()
    };
    let mut parts = Vec::new();
    let mut current = empty.clone();
    let overhead = size(&current);
    let mut used = overhead;
    for c in plan.checks {
        let c_size = serde_json::to_string(&c).map(|s| s.len() + 1).unwrap_or(0);
        if !current.checks.is_empty() && used + c_size > max_bytes {
            parts.push(std::mem::replace(&mut current, empty.clone()));
            used = overhead;
        }
        used += c_size;
        current.checks.push(c);
    }
    if !current.checks.is_empty() {
        parts.push(current);
    }
    parts
}

/// The expected side and the exec plans for `endpoints` (snapshot indices that carry IPs): every
/// endpoint probes every endpoint (itself included) on every probe, then the `--to` endpoints,
/// then resolves the DNS names. The expected side comes from the engine on `snap`, so it judges
/// the pods exactly as they are (their own addresses for ipBlock).
pub fn build_plan(
    snap: &Snapshot,
    endpoints: &[usize],
    probes: &[Probe],
    opts: &PlanOptions,
) -> ProbePlan {
    let engine = Engine::new(snap);
    let matrix = Matrix::compute(&engine, endpoints, probes);
    let pods = matrix.pods.clone();
    let mut rows = Rows {
        doc: MatrixDoc::from_matrix(&matrix, snap),
        dns: Vec::new(),
        slots: HashMap::new(),
        per_source: vec![Vec::new(); pods.len()],
    };
    rows.pod_to_pod(snap, &pods, probes);
    rows.externals(&engine, &pods, &opts.externals);
    if let Some(dns) = dns_target(snap).filter(|_| !opts.dns_names.is_empty()) {
        rows.dns(&engine, &pods, &dns, &opts.dns_names);
    }
    let timeout_ms =
        (opts.timeout.as_millis() as u64).clamp(1, netpol_prober::plan::MAX_TIMEOUT_MS);
    let execs = pods
        .iter()
        .zip(rows.per_source)
        .map(|(&pod, checks)| SourceExec {
            pod,
            plans: split_plan(
                Plan {
                    timeout_ms,
                    concurrency: opts.concurrency.max(1),
                    retries: opts.retries,
                    checks,
                },
                MAX_PLAN_BYTES,
            ),
        })
        .collect();
    ProbePlan {
        doc: rows.doc,
        dns: rows.dns,
        execs,
        slots: rows.slots,
    }
}

/// The rows of a plan as they are built: the expected side, which check fills which row, and
/// each source's checks (in the order of `doc.pods`).
struct Rows {
    doc: MatrixDoc,
    dns: Vec<DnsRow>,
    slots: HashMap<String, Slot>,
    per_source: Vec<Vec<Check>>,
}

impl Rows {
    /// Every endpoint to every endpoint (itself included) on every probe: the matrix's rows.
    fn pod_to_pod(&mut self, snap: &Snapshot, pods: &[usize], probes: &[Probe]) {
        for (i, checks) in self.per_source.iter_mut().enumerate() {
            for (j, &to) in pods.iter().enumerate() {
                let Some(ip) = snap.pods[to].ips.first() else {
                    continue;
                };
                for (k, probe) in probes.iter().enumerate() {
                    let idx = self.doc.index(i, j, k);
                    let id = format!("c{idx}");
                    self.slots.insert(id.clone(), Slot::Connection(idx));
                    checks.push(connection_check(id, *ip, *probe));
                }
            }
        }
    }

    /// Every endpoint to every `--to` endpoint, after the matrix's rows.
    fn externals(&mut self, engine: &Engine<'_>, pods: &[usize], externals: &[External]) {
        for (i, &from) in pods.iter().enumerate() {
            for ext in externals {
                let idx = self.doc.connections.len();
                let verdict = engine.verdict(&Traffic {
                    from: Endpoint::Pod(from),
                    to: Endpoint::Ip(ext.ip),
                    probe: ext.probe,
                });
                self.doc.connections.push(Connection {
                    from: self.doc.pods[i].clone(),
                    to: ext.ip.to_string(),
                    protocol: ext.probe.protocol.as_str().to_string(),
                    port: ext.probe.port,
                    allowed: verdict.allowed,
                    ambiguous: verdict.ambiguous,
                    observed: None,
                    verdict: None,
                    agree: None,
                    reason: None,
                    explain: None,
                });
                let id = format!("c{idx}");
                self.slots.insert(id.clone(), Slot::Connection(idx));
                self.per_source[i].push(connection_check(id, ext.ip, ext.probe));
            }
        }
    }

    /// Every endpoint resolves every name through the cluster DNS.
    fn dns(&mut self, engine: &Engine<'_>, pods: &[usize], dns: &DnsTarget, names: &[String]) {
        for (i, &from) in pods.iter().enumerate() {
            let allowed = dns_allowed(engine, from, dns);
            for name in names {
                let idx = self.dns.len();
                self.dns.push(DnsRow {
                    from: self.doc.pods[i].clone(),
                    server: dns.server.clone(),
                    name: name.clone(),
                    allowed,
                    observed: None,
                    verdict: "error".to_string(),
                    agree: None,
                    addresses: Vec::new(),
                });
                let id = format!("d{idx}");
                self.slots.insert(id.clone(), Slot::Dns(idx));
                // No server: the pod's own resolv.conf (search list included), as the
                // application in the pod would resolve.
                self.per_source[i].push(Check {
                    id,
                    kind: CheckKind::Dns,
                    host: None,
                    port: None,
                    name: Some(name.clone()),
                    server: None,
                });
            }
        }
    }
}

/// Fills the observed side from the prober's results (any order, any source) and compares.
/// A row without a result (its exec failed) counts as an error.
pub fn assemble(plan: ProbePlan, results: &[CheckResult]) -> ProbeReport {
    let ProbePlan {
        doc,
        mut dns,
        slots,
        ..
    } = plan;
    let mut observed: Vec<Option<Verdict>> = vec![None; doc.connections.len()];
    for r in results {
        match slots.get(&r.id) {
            Some(Slot::Connection(i)) => observed[*i] = Some(r.verdict),
            Some(Slot::Dns(i)) => {
                let row = &mut dns[*i];
                row.observed = observed_of(r.verdict);
                row.verdict = r.verdict.as_str().to_string();
                row.addresses = r.addresses.clone();
            }
            None => {}
        }
    }
    compare(doc, &observed, dns)
}

/// Parses the prober's JSON lines; lines that are not results are skipped and counted.
pub fn parse_results(stdout: &str) -> (Vec<CheckResult>, usize) {
    let mut out = Vec::new();
    let mut bad = 0;
    for line in stdout.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match serde_json::from_str::<CheckResult>(line) {
            Ok(r) => out.push(r),
            Err(_) => bad += 1,
        }
    }
    (out, bad)
}

/// Does a prober's log show that every listener is bound?
pub fn ready_line(log: &str) -> Option<&str> {
    log.lines().find(|l| l.contains("\"ready\":true"))
}
