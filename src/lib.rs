//! kubectl-netpol: the NetworkPolicy engine and the tools around it.
//!
//! The arrows go one way. Each folder of `src` uses only the folders before it in this line
//! (tests/layers.rs reads the line and checks every `crate::` path against it):
//!
//! layers: `model` → `engine` → `doc` → `k8s` → `lint` → `diff` → `enforce` → `probe` → `report` → `lab` → `cli`
//!
//! `model` is what the cluster holds; `engine` what NetworkPolicy means (the only place that
//! knows); both come from netpol-core (`core/`), with the enforcer's compiler, which the
//! netpol-enforcer agent shares. `doc` the output documents (matrix, probe, diff) that the
//! commands compute and `report` shows; `k8s` the one door to the Kubernetes API; `cli` parses,
//! calls and picks the exit code.

pub use netpol_core::{engine, model};

pub mod diff;
pub mod doc;
pub mod enforce;
pub mod k8s;
pub mod lab;
pub mod lint;
pub mod probe;
pub mod report;

pub mod cli;
