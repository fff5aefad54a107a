//! kubectl-netpol: the NetworkPolicy engine and the tools around it.
//!
//! The arrows go one way. Each folder of `src` uses only the folders before it in this line
//! (tests/layers.rs reads the line and checks every `crate::` path against it):
//!
//! layers: `model` → `engine` → `doc` → `lint` → `diff` → `enforce` → `probe` → `report` → `lab` → `cli`
//!
//! `model` is what the cluster holds; `engine` what NetworkPolicy means (the only place that
//! knows); `doc` the output documents (matrix, probe, diff) that the commands compute and
//! `report` shows; `cli` parses, calls and picks the exit code.

pub mod diff;
pub mod doc;
pub mod enforce;
pub mod engine;
pub mod lab;
pub mod lint;
pub mod model;
pub mod probe;
pub mod report;

pub mod cli;
