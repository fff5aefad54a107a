//! One cluster probe run: create → wait → probe → compare → clean up. The clean-up runs at the
//! end, on error and on Ctrl-C (SIGINT/SIGTERM); a run that is killed outright leaves pods that
//! stop by themselves (activeDeadlineSeconds) and objects that `kubectl netpol cleanup` removes.
//!
//! - [`setup`]: what every run starts from (id, namespaces, notes, plan options, settings).
//! - [`mirror`]: `probe` with prober pods that mirror the real ones.
//! - [`waiting`]: until every prober runs and has bound its listeners.
//! - [`execs`]: the exec plans run in the probers.
//! - [`apply`] and [`new_pod`]: `probe --apply/--delete` and its `--new-pod` window.
//! - [`in_place`]: `--in-place`, ephemeral containers in the real pods.
//! - [`cleanup`]: the run's objects removed, what is left over, and `kubectl netpol cleanup`.

use std::time::Duration;

use super::io::{IoError, IoErrorKind};
use super::plan::{self, External};
use crate::probe::ProbeReport;

mod apply;
mod cleanup;
mod execs;
mod in_place;
mod mirror;
mod new_pod;
mod setup;
mod waiting;

pub use apply::{probe_mirror_apply, ApplyOutcome, ApplyRun};
pub use cleanup::cleanup_all;
pub use in_place::probe_in_place;
pub use mirror::probe_mirror;

/// How a cluster run behaves.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    pub image: String,
    /// One attempt of one check.
    pub timeout: Duration,
    /// Checks in flight inside one source.
    pub concurrency: usize,
    /// Sources probing at the same time (execs in flight).
    pub parallel_sources: usize,
    /// Re-runs of checks that ended in `error`.
    pub retries: u32,
    /// How long probers (or ephemeral containers) may take to start.
    pub start_timeout: Duration,
    pub externals: Vec<External>,
    /// Resolve the cluster DNS and the targets' Service names from every source.
    pub dns: bool,
    /// Progress bars on stderr.
    pub progress: bool,
    /// How often to look at the pods while waiting (the shortest interval; see `poll_interval`).
    pub poll: Duration,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            image: plan::DEFAULT_IMAGE.to_string(),
            timeout: Duration::from_secs(1),
            concurrency: 256,
            parallel_sources: 8,
            retries: 2,
            start_timeout: Duration::from_secs(180),
            externals: Vec::new(),
            dns: true,
            progress: false,
            poll: Duration::from_millis(100),
        }
    }
}

/// What a run found, and what the user should know about it.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub report: ProbeReport,
    pub run: String,
    /// Row legends and warnings (printed after the table, or on stderr).
    pub notes: Vec<String>,
    /// Objects the clean-up could not confirm gone (`kubectl netpol cleanup` removes them).
    pub leftovers: Vec<String>,
    /// How long each phase took (create, wait, probe, clean up), for `-v`.
    pub timings: Vec<(&'static str, Duration)>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// Nothing to probe, or the scope cannot be probed: exit 2.
    #[error("{0}")]
    Input(String),
    /// The API refused or failed, or the probers never started: exit 3.
    #[error("{0}")]
    Cluster(String),
    /// Ctrl-C or SIGTERM; the run's objects were cleaned up: exit 130.
    #[error("{0}")]
    Interrupted(String),
}

impl ClusterError {
    fn with_note(self, note: &str) -> ClusterError {
        match self {
            ClusterError::Input(m) => ClusterError::Input(format!("{m}; {note}")),
            ClusterError::Cluster(m) => ClusterError::Cluster(format!("{m}; {note}")),
            ClusterError::Interrupted(m) => ClusterError::Interrupted(format!("{m}; {note}")),
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            ClusterError::Input(_) => 2,
            ClusterError::Cluster(_) => 3,
            ClusterError::Interrupted(_) => 130,
        }
    }
}

const RBAC_HINT: &str = "the permissions `probe` needs are in manifests/rbac/probe-role.yaml";

fn io_err(e: IoError) -> ClusterError {
    match e.kind {
        IoErrorKind::Forbidden => ClusterError::Cluster(format!("{e} — {RBAC_HINT}")),
        IoErrorKind::NamespaceTerminating => ClusterError::Cluster(format!(
            "{e} — the namespace is being deleted (Terminating), so no prober can be created in it; this is not a permissions problem: probe once it is gone, or another namespace"
        )),
        _ => ClusterError::Cluster(e.message),
    }
}

fn bar(progress: bool, len: u64, msg: &str) -> indicatif::ProgressBar {
    if !progress {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new(len);
    pb.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {msg:<26} [{bar:30}] {pos}/{len} {elapsed}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    pb.set_message(msg.to_string());
    pb.enable_steady_tick(Duration::from_millis(100));
    pb
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn interrupted() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).ok();
    let terminate = async {
        match term.as_mut() {
            Some(t) => {
                t.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        r = tokio::signal::ctrl_c() => match r {
            Ok(()) => "interrupted (Ctrl-C)",
            Err(_) => std::future::pending().await,
        },
        () = terminate => "terminated (SIGTERM)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_terminating_namespace_is_reported_as_that_not_as_rbac() {
        let msg = |kind| match io_err(IoError::new(
            kind,
            "creating pod payments/p: forbidden (403)",
        )) {
            ClusterError::Cluster(m) => m,
            _ => String::new(),
        };
        let t = msg(IoErrorKind::NamespaceTerminating);
        assert!(t.contains("being deleted") && !t.contains("rbac"), "{t}");
        let f = msg(IoErrorKind::Forbidden);
        assert!(f.contains("manifests/rbac/probe-role.yaml"), "{f}");
    }
}
