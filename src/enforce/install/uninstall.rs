//! uninstall-enforcer: the DaemonSet first (each agent removes its rules as it stops), then the
//! rest in the reverse order.

use super::{objects, AgentSettings, EnforcerCluster, InstallError, InstallOptions, Object, Step};

/// Deletes the DaemonSet, waits until its pods are gone (on SIGTERM each removes its chains
/// and sets), then deletes the rest. Returns how many objects existed.
pub async fn uninstall<C: EnforcerCluster>(
    cluster: &C,
    opts: &InstallOptions,
    on_step: &mut dyn FnMut(Step),
) -> Result<usize, InstallError> {
    let objects = objects(&AgentSettings::default())?;
    let mut existed = 0;
    let (ds, rest): (Vec<&Object>, Vec<&Object>) = objects
        .iter()
        .partition(|o| matches!(o, Object::DaemonSet(_)));
    for o in &ds {
        if cluster.delete(o).await? {
            existed += 1;
            on_step(Step::Deleted(o.describe()));
        }
    }
    let polls = (opts.timeout.as_millis() / opts.poll.as_millis().max(1)).max(1);
    let mut gone = false;
    for _ in 0..polls {
        let pods = cluster.agent_pods().await?;
        if pods.is_empty() {
            gone = true;
            break;
        }
        on_step(Step::Terminating(pods.len()));
        cluster.sleep(opts.poll).await;
    }
    if !gone {
        return Err(InstallError::Timeout(format!(
            "enforcer pods are still terminating after {}s; their rules are removed when they \
             stop (run uninstall-enforcer again to finish)",
            opts.timeout.as_secs()
        )));
    }
    // The reverse of the apply order: the binding before the role, the namespace last.
    for o in rest.iter().rev() {
        if cluster.delete(o).await? {
            existed += 1;
            on_step(Step::Deleted(o.describe()));
        }
    }
    Ok(existed)
}
