//! The clean-up of a run's objects, what is left over, and `kubectl netpol cleanup`.

use std::time::{Duration, Instant};

use super::{bar, io_err, ClusterError, ClusterOptions};
use crate::probe::cluster::io::{ClusterIo, IoError};
use crate::probe::cluster::plan::run_selector;

/// Deletes objects matching `selector` and waits until they are gone: pods get a 1 s grace
/// period; pods still listed 10 s later (kubelets can be slow to confirm, or lose track of a
/// pod deleted while its container starts) are deleted at once; after a minute, what is left is returned.
async fn delete_and_wait<I: ClusterIo>(
    io: &I,
    namespaces: Option<&[String]>,
    selector: &str,
    poll: Duration,
    pb: &indicatif::ProgressBar,
) -> Result<Vec<String>, IoError> {
    let total = io.list_labelled(namespaces, selector).await?.len();
    pb.set_length(total as u64);
    io.delete_labelled(namespaces, selector, false).await?;
    let started = Instant::now();
    let mut forced = false;
    loop {
        let left = io.list_labelled(namespaces, selector).await?;
        pb.set_position(total.saturating_sub(left.len()) as u64);
        if left.is_empty() || started.elapsed() > Duration::from_secs(60) {
            return Ok(left);
        }
        if !forced && started.elapsed() > Duration::from_secs(10) {
            io.delete_labelled(namespaces, selector, true).await?;
            forced = true;
        }
        tokio::time::sleep(poll).await;
    }
}

/// Deletes the run's objects with grace period 0 and does not wait for them to terminate:
/// the prober pods are owned by the run's ConfigMap, never ready (Services never route to
/// them) and stop by themselves (activeDeadlineSeconds), so what terminates after the probe
/// returns is harmless, and `kubectl netpol cleanup` finds anything left. Returns what could not
/// be deleted.
async fn cleanup<I: ClusterIo>(
    io: &I,
    namespaces: Option<&[String]>,
    run: &str,
    opts: &ClusterOptions,
) -> Vec<String> {
    let pb = bar(opts.progress, 1, "cleaning up");
    let selector = run_selector(Some(run));
    let left = match io.delete_labelled(namespaces, &selector, true).await {
        Ok(_) => Vec::new(),
        Err(e) => match io.list_labelled(namespaces, &selector).await {
            Ok(found) if !found.is_empty() => found,
            _ => vec![format!("(clean-up failed: {e})")],
        },
    };
    pb.finish_and_clear();
    left
}

/// What the clean-up at the end of a run left, and how long it took.
pub(super) struct Leftovers {
    pub(super) objects: Vec<String>,
    pub(super) took: Duration,
}

impl Leftovers {
    /// The run's error, naming what is still there (unchanged when nothing is).
    pub(super) fn name_in(&self, e: ClusterError) -> ClusterError {
        if self.objects.is_empty() {
            return e;
        }
        e.with_note(&format!(
            "still there after the clean-up: {} (`kubectl netpol cleanup` removes them)",
            self.objects.join(", ")
        ))
    }
}

/// The clean-up after a run's work (done, failed or interrupted), for `probe` and
/// `probe --apply` alike: what could not be confirmed gone is named in a note.
pub(super) async fn clean_up_run<I: ClusterIo>(
    io: &I,
    namespaces: &[String],
    run: &str,
    opts: &ClusterOptions,
    deadline: Duration,
    notes: &mut Vec<String>,
) -> Leftovers {
    let clock = Instant::now();
    let objects = cleanup(io, Some(namespaces), run, opts).await;
    if !objects.is_empty() {
        notes.push(format!(
            "{} objects of run {run} were still there after the clean-up: {} (they stop within {} s by themselves; `kubectl netpol cleanup` removes them)",
            objects.len(),
            objects.join(", "),
            deadline.as_secs()
        ));
    }
    Leftovers {
        objects,
        took: clock.elapsed(),
    }
}

/// `kubectl netpol cleanup`: removes every object of every run, in every namespace. Returns
/// what was found, and what is still there after waiting.
pub async fn cleanup_all<I: ClusterIo>(
    io: &I,
    progress: bool,
) -> Result<(Vec<String>, Vec<String>), ClusterError> {
    let selector = run_selector(None);
    let found = io.list_labelled(None, &selector).await.map_err(io_err)?;
    if found.is_empty() {
        return Ok((found, Vec::new()));
    }
    let pb = bar(progress, found.len() as u64, "cleaning up");
    let left = delete_and_wait(io, None, &selector, Duration::from_millis(500), &pb)
        .await
        .map_err(io_err)?;
    pb.finish_and_clear();
    Ok((found, left))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_run_names_what_the_clean_up_left() {
        let left = Leftovers {
            objects: vec!["pod/payments/netpol-probe-abc-0".into()],
            took: Duration::ZERO,
        };
        let named = left.name_in(ClusterError::Cluster("exec failed".into()));
        assert_eq!(
            named.to_string(),
            "exec failed; still there after the clean-up: pod/payments/netpol-probe-abc-0 (`kubectl netpol cleanup` removes them)"
        );
        let none = Leftovers {
            objects: Vec::new(),
            took: Duration::ZERO,
        };
        let same = none.name_in(ClusterError::Interrupted("interrupted (Ctrl-C)".into()));
        assert_eq!(same.to_string(), "interrupted (Ctrl-C)");
        assert_eq!(same.exit_code(), 130);
    }
}
