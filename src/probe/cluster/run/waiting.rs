//! Waiting until every prober runs, has an address and says its listeners are bound; and why
//! one never will.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod as K8sPod;

use super::{bar, io_err, ClusterError, ClusterOptions};
use crate::probe::cluster::io::{ClusterIo, IoErrorKind};
use crate::probe::cluster::plan::{self, prober_name, ready_line, run_selector, Group, CONTAINER};

/// Why a pod will never run, if it won't (image, sysctl, config errors, a stopped container).
fn fatal_reason(pod: &K8sPod) -> Option<String> {
    const FATAL_WAITING: [&str; 6] = [
        "ErrImagePull",
        "ImagePullBackOff",
        "InvalidImageName",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
    ];
    let status = pod.status.as_ref()?;
    if matches!(status.phase.as_deref(), Some("Failed") | Some("Succeeded")) {
        return Some(format!(
            "the pod {} ({})",
            status.phase.as_deref().unwrap_or_default().to_lowercase(),
            [status.reason.clone(), status.message.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(": ")
        ));
    }
    for cs in status.container_statuses.iter().flatten() {
        let Some(state) = &cs.state else { continue };
        if let Some(w) = &state.waiting {
            let reason = w.reason.clone().unwrap_or_default();
            if FATAL_WAITING.contains(&reason.as_str()) {
                return Some(format!(
                    "{reason}: {}",
                    w.message.clone().unwrap_or_default()
                ));
            }
        }
        if let Some(t) = &state.terminated {
            return Some(format!(
                "the prober exited ({}, code {}): {}",
                t.reason.clone().unwrap_or_default(),
                t.exit_code,
                t.message.clone().unwrap_or_default().trim()
            ));
        }
    }
    None
}

/// Why a pod is not running yet (for the timeout message).
fn pending_reason(pod: &K8sPod) -> String {
    let Some(status) = &pod.status else {
        return "no status yet".into();
    };
    for c in status.conditions.iter().flatten() {
        if c.type_ == "PodScheduled" && c.status == "False" {
            return format!(
                "not scheduled: {}",
                c.message
                    .clone()
                    .unwrap_or_else(|| c.reason.clone().unwrap_or_default())
            );
        }
    }
    for cs in status.container_statuses.iter().flatten() {
        if let Some(w) = cs.state.as_ref().and_then(|s| s.waiting.as_ref()) {
            return format!(
                "waiting: {} {}",
                w.reason.clone().unwrap_or_default(),
                w.message.clone().unwrap_or_default()
            )
            .trim()
            .to_string();
        }
    }
    format!("phase {}", status.phase.clone().unwrap_or_default())
}

fn is_running(pod: &K8sPod) -> bool {
    let Some(status) = &pod.status else {
        return false;
    };
    status.phase.as_deref() == Some("Running")
        && status.pod_ip.as_deref().is_some_and(|ip| !ip.is_empty())
        && status.container_statuses.iter().flatten().any(|cs| {
            cs.name == CONTAINER && cs.state.as_ref().is_some_and(|s| s.running.is_some())
        })
}

pub(super) async fn wait_for_probers<I: ClusterIo>(
    io: &I,
    groups: &[Group],
    run: &str,
    opts: &ClusterOptions,
    notes: &mut Vec<String>,
) -> Result<HashMap<(String, String), K8sPod>, ClusterError> {
    let want: BTreeSet<(String, String)> = groups
        .iter()
        .enumerate()
        .map(|(i, g)| (g.namespace.clone(), prober_name(run, i)))
        .collect();
    let namespaces: BTreeSet<&str> = groups.iter().map(|g| g.namespace.as_str()).collect();
    let selector = run_selector(Some(run));
    let pb = bar(opts.progress, want.len() as u64, "waiting for probers");
    let started = Instant::now();
    let mut ready: BTreeSet<(String, String)> = BTreeSet::new();
    let mut logs_readable = true;
    loop {
        let seen = list_probers(io, &namespaces, &selector, &want).await?;
        let mut waiting = Vec::new();
        for key in &want {
            let Some(p) = seen.get(key) else {
                waiting.push(format!("{}/{}: not found", key.0, key.1));
                continue;
            };
            if let Some(e) = cannot_start(key, p) {
                return Err(e);
            }
            if !is_running(p) {
                waiting.push(format!("{}/{}: {}", key.0, key.1, pending_reason(p)));
                continue;
            }
            if ready.contains(key) {
                continue;
            }
            if !logs_readable {
                ready.insert(key.clone());
                continue;
            }
            match io.logs(&key.0, &key.1, CONTAINER).await {
                Ok(log) if ready_line(&log).is_some() => {
                    ready.insert(key.clone());
                }
                Ok(_) => waiting.push(format!("{}/{}: listeners not bound yet", key.0, key.1)),
                Err(e) if e.kind == IoErrorKind::Forbidden => {
                    notes.push(format!(
                        "cannot read prober logs ({e}): did not wait for the listeners; early checks may see `refused`"
                    ));
                    logs_readable = false;
                    ready.insert(key.clone());
                }
                Err(e) => waiting.push(format!("{}/{}: {e}", key.0, key.1)),
            }
        }
        pb.set_position(ready.len() as u64);
        if ready.len() == want.len() {
            pb.finish_and_clear();
            return Ok(seen);
        }
        if started.elapsed() > opts.start_timeout {
            pb.finish_and_clear();
            return Err(ClusterError::Cluster(format!(
                "{} of {} prober pods did not start within {} s: {}",
                want.len() - ready.len(),
                want.len(),
                opts.start_timeout.as_secs(),
                waiting.join("; ")
            )));
        }
        tokio::time::sleep(poll_interval(
            opts.poll,
            namespaces.len(),
            started.elapsed(),
        ))
        .await;
    }
}

/// The run's pods among `want` (namespace, name), as listed now.
async fn list_probers<I: ClusterIo>(
    io: &I,
    namespaces: &BTreeSet<&str>,
    selector: &str,
    want: &BTreeSet<(String, String)>,
) -> Result<HashMap<(String, String), K8sPod>, ClusterError> {
    let mut seen = HashMap::new();
    for ns in namespaces {
        for p in io.list_pods(ns, selector).await.map_err(io_err)? {
            let key = (ns.to_string(), p.metadata.name.clone().unwrap_or_default());
            if want.contains(&key) {
                seen.insert(key, p);
            }
        }
    }
    Ok(seen)
}

/// The error for a prober that will never run, with a hint for an image or sysctl problem.
fn cannot_start(key: &(String, String), p: &K8sPod) -> Option<ClusterError> {
    let why = fatal_reason(p)?;
    let hint = if why.contains("Image") || why.contains("image") {
        format!(" — is the image {} available to the nodes? Build it and load it (README: \"The prober image\"), or pass --image", image_of(p))
    } else if why.to_lowercase().contains("sysctl") {
        format!(" — the cluster does not allow the sysctl {} (safe from Kubernetes 1.22; older kubelets need --allowed-unsafe-sysctls), or probe only ports >= 1024 with --ports", plan::LOW_PORT_SYSCTL)
    } else {
        String::new()
    };
    Some(ClusterError::Cluster(format!(
        "prober {}/{} cannot start: {why}{hint}",
        key.0, key.1
    )))
}

/// Probers usually start within seconds, and the user waits for the last one, so look often at
/// first; but every look is one list per namespace, so back off with many namespaces (about 30
/// requests a second at most) and once the start is slow (image pulls) anyway.
fn poll_interval(fastest: Duration, namespaces: usize, waited: Duration) -> Duration {
    let per_namespace = fastest * (namespaces.div_ceil(3).max(1) as u32);
    let slow = if waited > Duration::from_secs(10) {
        Duration::from_millis(500)
    } else {
        Duration::ZERO
    };
    per_namespace
        .max(slow)
        .min(Duration::from_secs(1))
        .max(fastest)
}

fn image_of(pod: &K8sPod) -> String {
    pod.spec
        .as_ref()
        .and_then(|s| s.containers.first())
        .and_then(|c| c.image.clone())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_looks_often_for_a_few_namespaces_and_backs_off_for_many_or_slow_starts() {
        let ms = Duration::from_millis;
        let fast = ms(100);
        assert_eq!(poll_interval(fast, 3, ms(0)), ms(100));
        assert_eq!(poll_interval(fast, 0, ms(0)), ms(100));
        assert_eq!(poll_interval(fast, 9, ms(0)), ms(300));
        assert_eq!(poll_interval(fast, 200, ms(0)), ms(1000));
        assert_eq!(poll_interval(fast, 3, Duration::from_secs(11)), ms(500));
        // A caller's shorter interval (tests) is honoured.
        assert_eq!(poll_interval(ms(20), 1, ms(0)), ms(20));
    }
}
