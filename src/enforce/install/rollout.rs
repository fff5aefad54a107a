//! install-enforcer: refuse next to a policy-enforcing CNI, apply in order, wait for every node.

use std::time::Duration;

use super::{
    detect_policy_cni, objects, AgentPod, AgentSettings, EnforcerCluster, InstallError, Rollout,
};

#[derive(Debug, Clone)]
pub struct InstallOptions {
    pub agent: AgentSettings,
    pub force: bool,
    pub timeout: Duration,
    pub poll: Duration,
}

impl Default for InstallOptions {
    fn default() -> Self {
        InstallOptions {
            agent: AgentSettings::default(),
            force: false,
            timeout: Duration::from_secs(300),
            poll: Duration::from_secs(2),
        }
    }
}

/// Progress, for the CLI's messages and bar.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// A policy-enforcing CNI was found and --force overrode the refusal.
    Forced {
        cni: String,
        evidence: String,
    },
    Applied(String),
    Rollout(Rollout),
    Deleted(String),
    /// Agent pods still terminating (removing their rules).
    Terminating(usize),
}

fn describe_pods(pods: &[AgentPod]) -> String {
    let bad: Vec<String> = pods
        .iter()
        .filter(|p| !p.ready)
        .map(|p| {
            format!(
                "{} on {}: {}{}",
                p.name,
                p.node.as_deref().unwrap_or("no node yet"),
                p.waiting.as_deref().unwrap_or(&p.phase),
                if p.restarts > 0 {
                    format!(" ({} restarts)", p.restarts)
                } else {
                    String::new()
                }
            )
        })
        .collect();
    if bad.is_empty() {
        String::new()
    } else {
        format!("; not ready: {}", bad.join(", "))
    }
}

/// Refuses when a policy-enforcing CNI is installed (unless forced), applies every object in
/// order and waits for the DaemonSet to be rolled out on every node.
pub async fn install<C: EnforcerCluster>(
    cluster: &C,
    opts: &InstallOptions,
    on_step: &mut dyn FnMut(Step),
) -> Result<Rollout, InstallError> {
    let objects = objects(&opts.agent)?;
    if let Some((cni, evidence)) = detect_policy_cni(&cluster.workloads().await?) {
        if !opts.force {
            return Err(InstallError::Refused(format!(
                "{cni} is installed ({evidence}) and enforces NetworkPolicy itself: a second \
                 enforcer would only add cost and confusion. Use --force to install anyway."
            )));
        }
        on_step(Step::Forced { cni, evidence });
    }
    for o in &objects {
        cluster.apply(o).await?;
        on_step(Step::Applied(o.describe()));
    }
    let polls = (opts.timeout.as_millis() / opts.poll.as_millis().max(1)).max(1);
    let mut last = Rollout::default();
    for _ in 0..polls {
        if let Some(r) = cluster.rollout().await? {
            last = r;
            on_step(Step::Rollout(r));
            if r.done() {
                return Ok(r);
            }
        }
        cluster.sleep(opts.poll).await;
    }
    let pods = cluster.agent_pods().await.unwrap_or_default();
    Err(InstallError::Timeout(format!(
        "the enforcer is not ready on every node after {}s: {} of {} agents available{}",
        opts.timeout.as_secs(),
        last.available,
        last.desired,
        describe_pods(&pods)
    )))
}
