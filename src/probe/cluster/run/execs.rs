//! The exec plans, run in the probers a few sources at a time.

use std::collections::HashMap;
use std::time::Duration;

use futures::stream::{self, StreamExt};
use netpol_prober::plan::{CheckResult, Plan};

use super::{bar, ClusterError, ClusterOptions, RBAC_HINT};
use crate::probe::cluster::io::{ClusterIo, IoError, IoErrorKind};
use crate::probe::cluster::plan::{parse_results, ProbePlan, AGENT, CONTAINER};

/// How long one plan may take: every round of checks, every attempt, plus slack.
pub(super) fn plan_budget(p: &Plan) -> Duration {
    let rounds = p.checks.len().div_ceil(p.concurrency.max(1)).max(1) as u32;
    Duration::from_millis(p.timeout_ms) * rounds * (p.retries + 2) + Duration::from_secs(30)
}

/// Runs each source's plans by exec; returns every result. A source whose exec keeps failing
/// leaves its rows as errors (with a note); if every source fails, the run fails.
pub(super) async fn run_execs<I: ClusterIo>(
    io: &I,
    probe_plan: &ProbePlan,
    target: &HashMap<usize, (String, String)>,
    opts: &ClusterOptions,
    notes: &mut Vec<String>,
) -> Result<Vec<CheckResult>, ClusterError> {
    let pb = bar(opts.progress, probe_plan.execs.len() as u64, "probing");
    let jobs = probe_plan.execs.iter().map(|e| {
        let pb = pb.clone();
        async move {
            let (ns, pod) = &target[&e.pod];
            let mut results = Vec::new();
            let mut errors = Vec::new();
            for p in &e.plans {
                match exec_plan(io, ns, pod, p).await {
                    Ok(mut r) => results.append(&mut r),
                    Err(err) => errors.push(err),
                }
            }
            pb.inc(1);
            (results, errors)
        }
    });
    let outcomes: Vec<(Vec<CheckResult>, Vec<IoError>)> = stream::iter(jobs)
        .buffer_unordered(opts.parallel_sources.max(1))
        .collect()
        .await;
    pb.finish_and_clear();
    let mut all = Vec::new();
    let mut failed = Vec::new();
    for (mut r, errs) in outcomes {
        all.append(&mut r);
        failed.extend(errs);
    }
    if !failed.is_empty() && all.is_empty() {
        let forbidden = failed.iter().any(|e| e.kind == IoErrorKind::Forbidden);
        return Err(ClusterError::Cluster(format!(
            "every exec into the probers failed: {}{}",
            failed[0],
            if forbidden {
                format!(" — {RBAC_HINT}")
            } else {
                String::new()
            }
        )));
    }
    for e in failed {
        notes.push(format!(
            "a source could not be probed, its rows are errors: {e}"
        ));
    }
    Ok(all)
}

/// One plan by exec, with retries for probers that are not quite there yet.
async fn exec_plan<I: ClusterIo>(
    io: &I,
    namespace: &str,
    pod: &str,
    p: &Plan,
) -> Result<Vec<CheckResult>, IoError> {
    let json = serde_json::to_string(p).map_err(|e| IoError::other(e.to_string()))?;
    let argv = vec![
        AGENT.to_string(),
        "run".to_string(),
        "--plan-json".to_string(),
        json,
    ];
    let mut last = IoError::other("not run");
    for attempt in 0..3u32 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(500) * attempt).await;
        }
        let out =
            match tokio::time::timeout(plan_budget(p), io.exec(namespace, pod, CONTAINER, &argv))
                .await
            {
                Ok(Ok(out)) => out,
                Ok(Err(e)) if e.kind == IoErrorKind::Forbidden => return Err(e),
                Ok(Err(e)) => {
                    last = e;
                    continue;
                }
                Err(_) => {
                    last = IoError::other(format!(
                        "exec in {namespace}/{pod} took longer than {} s",
                        plan_budget(p).as_secs()
                    ));
                    continue;
                }
            };
        let (results, _) = parse_results(&out.stdout);
        if results.len() == p.checks.len() || (out.failure.is_none() && !results.is_empty()) {
            return Ok(results);
        }
        last = IoError::other(format!(
            "exec in {namespace}/{pod}: {} of {} results{}{}",
            results.len(),
            p.checks.len(),
            out.failure.map(|f| format!(", {f}")).unwrap_or_default(),
            if out.stderr.trim().is_empty() {
                String::new()
            } else {
                format!(": {}", out.stderr.trim())
            }
        ));
    }
    Err(last)
}
