//! `probe` against a real cluster: prober pods made through the API, checks run by exec.
//!
//! - [`plan`] is pure: which prober pods to make and their specs, the exec plans, the expected
//!   side for the probers as they really run, and the assembly of the report.
//! - [`io`] is the narrow trait [`ClusterIo`] over everything that touches the API, and
//!   [`KubeIo`], its implementation with kube.
//! - [`run`] drives a run: create → wait → probe → compare → clean up, with progress, and
//!   clean-up at the end, on error and on Ctrl-C.
//! - `netns` (feature `test-support`: the tests turn it on, the product does not ship it) is a
//!   [`ClusterIo`] over network namespaces on this host (the `probe --local` machinery), so
//!   the whole command path is tested in CI without a cluster.

pub mod io;
#[cfg(feature = "test-support")]
pub mod netns;
pub mod plan;
pub mod run;

pub use io::{ClusterIo, EphemeralState, ExecOutput, IoError, IoErrorKind, KubeIo, LineStream};
pub use plan::{External, RUN_LABEL};
pub use run::{
    cleanup_all, probe_in_place, probe_mirror, probe_mirror_apply, ApplyOutcome, ApplyRun,
    ClusterError, ClusterOptions, Outcome,
};
