//! kubectl-netpol: the NetworkPolicy engine and the tools around it.
//!
//! The arrows go one way: `model` (what the cluster holds) → `engine` (what NetworkPolicy
//! means; the only place that knows) → `report` (how to show it) → the CLI in `main.rs`/`cli`.

pub mod diff;
pub mod enforce;
pub mod engine;
pub mod lab;
pub mod lint;
pub mod model;
pub mod probe;
pub mod report;

pub mod cli;
