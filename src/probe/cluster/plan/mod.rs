//! The pure part of a cluster probe: which prober pods to make and their specs, the exec plans
//! (one per source, every target in it), the expected side computed for the probers as they
//! really run, and the assembly of observed results into the report. No I/O here.
//!
//! - [`grouping`]: the real pods one prober stands for.
//! - [`pods`]: the objects a run creates (owner ConfigMap, prober pods, ephemeral containers).
//! - [`services`]: `--to` externals, the cluster DNS and the Services that DNS rows name.
//! - [`checks`]: the exec plans, the expected side, and the assembly of results.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

pub mod checks;
pub mod grouping;
pub mod pods;
pub mod services;
#[cfg(test)]
mod tests;

pub use checks::{
    assemble, build_plan, mirror_snapshot, parse_results, ready_line, split_plan, PlanOptions,
    ProbePlan, SourceExec,
};
pub use grouping::{group_pods, Group};
pub use pods::{
    deadline, ephemeral_container, owner_config_map, prober_pod, prober_ports, serve_args,
    ProberSettings,
};
pub use services::{
    dns_names, dns_target, not_ready_service_warnings, service_info, DnsTarget, External,
    ServiceInfo,
};

pub use crate::model::RUN_LABEL;
/// Annotation on a prober pod: the real pods it stands for.
pub const MIRRORS_ANNOTATION: &str = "netpol.kubectl.io/mirrors";
/// The readiness gate of prober pods. Nothing ever sets this condition, so a prober is never
/// Ready and no Service sends it traffic.
pub const NEVER_READY: &str = "netpol.kubectl.io/never-ready";
/// The prober's container name in prober pods.
pub const CONTAINER: &str = "prober";
/// The agent inside the image (`prober/Dockerfile`).
pub const AGENT: &str = "/netpol-prober";
/// The default prober image (`prober/Dockerfile`, published with each release).
pub const DEFAULT_IMAGE: &str = concat!(
    "ghcr.io/kubectl-netpol/netpol-prober:",
    env!("CARGO_PKG_VERSION")
);
/// The non-root user the prober runs as (distroless "nonroot").
pub const PROBER_UID: i64 = 65532;
/// The sysctl that lets a non-root process bind ports below 1024 (safe since Kubernetes 1.22).
pub const LOW_PORT_SYSCTL: &str = "net.ipv4.ip_unprivileged_port_start";
pub use crate::model::{DNS_LABEL, DNS_NAMESPACE};
/// The name every source resolves to check the cluster DNS.
pub const CLUSTER_DNS_NAME: &str = "kubernetes.default";
/// A plan larger than this (as JSON) is split into several execs for one source: the plan
/// travels as an argument in the exec URL (API servers before 1.29 cannot close an exec's
/// stdin, so `--plan -` would never see the end of it).
pub const MAX_PLAN_BYTES: usize = 200_000;

/// A short random id for one run: lower-case letters and digits, valid in names and labels.
pub fn new_run_id() -> String {
    let mut h = RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    let mut n = h.finish();
    let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut id = String::with_capacity(8);
    // Start with a letter so the id is also a valid DNS label on its own.
    id.push(alphabet[(n % 26) as usize] as char);
    n /= 26;
    for _ in 0..7 {
        id.push(alphabet[(n % 36) as usize] as char);
        n /= 36;
    }
    id
}

/// The per-run object in each namespace that owns that namespace's prober pods.
pub fn owner_name(run: &str) -> String {
    format!("netpol-probe-{run}")
}

pub fn prober_name(run: &str, index: usize) -> String {
    format!("netpol-probe-{run}-{index}")
}

/// `netpol.kubectl.io/run=<run>`, or every run when `run` is None.
pub fn run_selector(run: Option<&str>) -> String {
    match run {
        Some(r) => format!("{RUN_LABEL}={r}"),
        None => RUN_LABEL.to_string(),
    }
}
