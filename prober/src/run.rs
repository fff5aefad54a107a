//! Runs a plan: every check concurrently, at most `concurrency` in flight.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::time::Duration;

use tokio::task::JoinSet;

use crate::check::{run_check, Outcome};
use crate::plan::{Check, CheckResult, Plan, Verdict};

/// Runs every check of `plan` and returns the results in plan order.
///
/// Must be called inside a tokio runtime. The plan is expected to be valid
/// ([`Plan::validate`]); an invalid check becomes an `error` result, never a panic.
pub async fn run_plan(plan: &Plan) -> Vec<CheckResult> {
    let mut results: Vec<Option<CheckResult>> = vec![None; plan.checks.len()];
    run_plan_streaming(plan, |index, result| {
        if let Some(slot) = results.get_mut(index) {
            *slot = Some(result);
        }
        ControlFlow::Continue(())
    })
    .await;
    results.into_iter().flatten().collect()
}

/// Runs every check of `plan`, handing each result to `on_result` (with the check's index in
/// the plan) as soon as it is known, so in completion order. `ControlFlow::Break` stops the run
/// and cancels the checks still in flight.
pub async fn run_plan_streaming<F>(plan: &Plan, mut on_result: F)
where
    F: FnMut(usize, CheckResult) -> ControlFlow<()>,
{
    let timeout = plan.timeout();
    let retries = plan.retries;
    let limit = plan.concurrency.max(1);
    let mut pending = plan.checks.iter().enumerate();
    let mut running = JoinSet::new();
    let mut index_of = HashMap::new();

    let mut start_next = |running: &mut JoinSet<CheckResult>, index_of: &mut HashMap<_, _>| {
        if let Some((index, check)) = pending.next() {
            let handle = running.spawn(with_retries(check.clone(), timeout, retries));
            index_of.insert(handle.id(), index);
        }
    };
    for _ in 0..limit.min(plan.checks.len()) {
        start_next(&mut running, &mut index_of);
    }
    while let Some(joined) = running.join_next_with_id().await {
        let id = match &joined {
            Ok((id, _)) => *id,
            Err(err) => err.id(),
        };
        if let Some(index) = index_of.remove(&id) {
            let result = match joined {
                Ok((_, result)) => Some(result),
                // A panicking check is a bug; still, report it on its row.
                Err(err) => plan
                    .checks
                    .get(index)
                    .map(|check| internal_error(check, &err.to_string())),
            };
            if let Some(result) = result {
                if on_result(index, result).is_break() {
                    running.abort_all();
                    return;
                }
            }
        }
        start_next(&mut running, &mut index_of);
    }
}

/// Runs `check`, again while its verdict is `error`, at most `retries` more times.
async fn with_retries(check: Check, timeout: Duration, retries: u32) -> CheckResult {
    let mut retried = 0;
    loop {
        let mut result = run_check(&check, timeout).await;
        if result.verdict != Verdict::Error || retried >= retries {
            if retried > 0 {
                let note = format!("after {retried} retries");
                result.detail = Some(match result.detail.take() {
                    Some(detail) => format!("{detail} ({note})"),
                    None => note,
                });
            }
            return result;
        }
        retried += 1;
        // Give a starting pod a moment: 200 ms, 400 ms, ... up to 1 s.
        let pause = Duration::from_millis(200 * u64::from(retried)).min(Duration::from_secs(1));
        tokio::time::sleep(pause).await;
    }
}

fn internal_error(check: &Check, message: &str) -> CheckResult {
    Outcome::error(format!("internal error: {message}")).into_result(check, Duration::ZERO)
}
